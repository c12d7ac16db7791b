"""save(): whole-item writes whose version moves on atomically; expired items count as absent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pydantic_dynamo import ItemNotFoundError, UpdateCommand, VersionConflictError
from tests.integration.harness import Repository
from tests.integration.support import LONG_EXPIRED, Example, example


def test_save_of_a_new_item_stores_version_1(repo: Repository[Example]) -> None:
    saved = repo.save(example("a", current_version=7))
    assert saved.current_version == 1
    stored = repo.get(["films"], ["a"]).content
    assert stored is not None
    assert stored.current_version == 1
    assert stored.item == example("a").item


def test_save_replaces_the_item_and_moves_the_version_on(repo: Repository[Example]) -> None:
    repo.save(example("a", count=1))
    repo.update(["films"], ["a"], UpdateCommand(set_commands={"review": "fine"}))

    saved = repo.save(example("a", count=5))

    assert saved.current_version == 3
    assert saved.item.count == 5
    assert saved.item.review is None  # the whole item was replaced


def test_save_never_takes_the_version_back(repo: Repository[Example]) -> None:
    repo.put(example("a"))
    for _ in range(3):
        repo.update(["films"], ["a"], UpdateCommand(increment_attrs={"count": 1}))
    assert repo.save(example("a")).current_version == 5


def test_save_with_the_stored_version_succeeds(repo: Repository[Example]) -> None:
    repo.save(example("a"))
    assert repo.save(example("a", count=2), expected_version=1).current_version == 2


def test_save_with_a_stale_version_is_a_conflict(repo: Repository[Example]) -> None:
    repo.save(example("a"))
    repo.save(example("a"))
    with pytest.raises(VersionConflictError) as caught:
        repo.save(example("a", count=9), expected_version=1)
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
    stored = repo.get(["films"], ["a"]).content
    assert stored is not None
    assert stored.item.count == 0


def test_save_expecting_a_version_of_a_missing_item_is_not_found(
    repo: Repository[Example],
) -> None:
    with pytest.raises(ItemNotFoundError):
        repo.save(example("a"), expected_version=1)


def test_save_keeps_or_clears_the_expiry(repo: Repository[Example]) -> None:
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    assert repo.save(example("a").model_copy(update={"expiry": later})).expiry == later
    assert repo.save(example("a")).expiry is None


def test_update_of_an_expired_item_is_not_found(repo: Repository[Example]) -> None:
    repo.put(example("a").model_copy(update={"expiry": LONG_EXPIRED}))
    with pytest.raises(ItemNotFoundError):
        repo.update(["films"], ["a"], UpdateCommand(set_commands={"count": 1}))


def test_delete_item_of_an_expired_item_reports_nothing_deleted(
    repo: Repository[Example],
) -> None:
    repo.put(example("a").model_copy(update={"expiry": LONG_EXPIRED}))
    assert repo.delete_item(["films"], ["a"]) is False
    with pytest.raises(ItemNotFoundError):
        repo.delete_item(["films"], ["b"], current_version=1)

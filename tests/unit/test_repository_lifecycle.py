"""A repository closes the client it created when its ``with`` block ends, and only that one."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from pydantic_dynamo import SyncDynamoRepository, sync_repository


class Actor(BaseModel):
    id: str


class FakeClient:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def _repo(client: Any = None) -> SyncDynamoRepository[Actor]:
    return SyncDynamoRepository[Actor](
        item_class=Actor,
        partition_prefix="p",
        partition_name="n",
        content_type="actor",
        table_name="t",
        partition_key="PK",
        sort_key="SK",
        client=client,
    )


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[FakeClient]:
    made: list[FakeClient] = []

    def make(**kwargs: Any) -> FakeClient:
        made.append(FakeClient())
        return made[-1]

    monkeypatch.setattr(sync_repository, "default_client", make)
    return made


def test_leaving_the_with_block_closes_the_client_the_repository_created(
    created: list[FakeClient],
) -> None:
    with _repo() as repo:
        in_use: Any = repo.client
        assert in_use is created[0]

    assert created[0].closed == 1


def test_a_closed_repository_creates_a_new_client_when_used_again(
    created: list[FakeClient],
) -> None:
    repo = _repo()
    first: Any = repo.client
    repo.close()
    second: Any = repo.client

    assert second is not first
    assert len(created) == 2


def test_a_client_passed_in_is_left_open(created: list[FakeClient]) -> None:
    mine = FakeClient()
    with _repo(client=mine) as repo:
        in_use: Any = repo.client
        assert in_use is mine

    assert mine.closed == 0
    assert created == []


def test_a_repository_that_never_created_a_client_closes_nothing(
    created: list[FakeClient],
) -> None:
    with _repo():
        pass

    assert created == []

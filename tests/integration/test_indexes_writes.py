"""Every write keeps the index key attributes right, read straight from DynamoDB Local.

put, put_batch, save, update, upsert and write-once, sync and async; updates that give every
composing field rewrite the index values directly, the others read the item first and apply
only while the fields read are unchanged (a concurrent writer makes them read again); all of it
through lost answers (the fault proxy) too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    IndexConflictError,
    InvalidAttributeError,
    ItemNotFoundError,
    SyncWriteOnceRepository,
    UpdateCommand,
    VersionConflictError,
)
from pydantic_dynamo.transport import LeanClient, TransportRetries
from tests.integration import index_support
from tests.integration.fault_proxy import Fault, FaultProxy, mixed_plan
from tests.integration.index_support import (
    PK,
    SK,
    Calls,
    Review,
    director_entry,
    film,
    index_values,
    stored,
    sync_repo,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The shared fixtures, by name, for pytest to find here.
calls = index_support.calls
fresh_table = index_support.fresh_table
own_client = index_support.own_client
repo = index_support.repo

LONG_EXPIRED = datetime(2001, 1, 1, tzinfo=UTC)


@pytest.fixture
def table(fresh_table: str) -> str:
    return fresh_table


def values(client: DynamoDBClient, table: str, film_id: str) -> dict[str, str]:
    return index_values(stored(client, table, film_id))


def every_index(film_id: str, director: str, year: int, genre: str, decade: str) -> dict[str, str]:
    title = f"title {film_id}"
    return {
        **director_entry(director, year, film_id),
        "gsi2pk": f"test#integration#film#by_genre#{genre}",
        "gsi2sk": f"film#by_genre#{title}",
        "gsi3pk": f"test#integration#film#by_decade#{decade}",
        "gsi3sk": f"film#by_decade#{year}#{title}",
        "lsi1sk": f"film#by_title#{title}",
    }


# -- whole-item writes ---------------------------------------------------------------------------


def test_put_stores_every_index_value(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010, decade="2010s", genre="scifi"))
    assert values(dynamodb_client, table, "f1") == every_index(
        "f1", "Nolan", 2010, "scifi", "2010s"
    )


def test_put_of_a_sparse_item_leaves_it_out_of_that_index(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010, decade="2010s"))
    repo.put(film("f1", director=None, year=2010, decade="2010s"))
    entries = values(dynamodb_client, table, "f1")
    assert "gsi1pk" not in entries
    assert "gsi1sk" not in entries
    assert entries["gsi3pk"] == "test#integration#film#by_decade#2010s"


def test_put_batch_stores_every_items_index_values(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put_batch([film(f"f{i}", director="Lynch", year=1980 + i) for i in range(30)])
    for i in range(30):
        entries = values(dynamodb_client, table, f"f{i}")
        assert entries["gsi1sk"] == f"film#by_director#{1980 + i}#f{i}"
        assert "gsi3pk" not in entries  # no decade: sparse


def test_save_sets_and_removes_index_values(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.save(film("f1", director="Nolan", year=2010, decade="2010s"))
    assert values(dynamodb_client, table, "f1")["gsi1pk"].endswith("#Nolan")
    repo.save(film("f1", director="Villeneuve", year=2016, decade=None), expected_version=1)
    entries = values(dynamodb_client, table, "f1")
    assert entries["gsi1sk"] == "film#by_director#2016#f1"
    assert entries["gsi1pk"].endswith("#Villeneuve")
    assert "gsi3pk" not in entries
    assert "gsi3sk" not in entries


def test_write_once_stores_index_values(own_client: Any, dynamodb_client: Any, table: str) -> None:
    writer = SyncWriteOnceRepository(sync_repo(own_client, table))
    written = writer.write([film("f1", director="Nolan", year=2010)])
    assert len(written) == 1
    assert values(dynamodb_client, table, "f1") == {
        **director_entry("Nolan", 2010, "f1"),
        "gsi2pk": "test#integration#film#by_genre#drama",
        "gsi2sk": "film#by_genre#title f1",
        "lsi1sk": "film#by_title#title f1",
    }


def test_items_with_index_values_decode_into_a_model_refusing_extras(
    own_client: Any, dynamodb_client: Any, table: str
) -> None:
    reviews = sync_repo(own_client, table, Review)
    created = datetime(2024, 3, 1, 12, tzinfo=UTC)
    review = Review(id="r1", film_id="f1", created=created, text="fine")
    reviews.put(reviews.core.content_class(partition_ids=["f1"], content_ids=["r1"], item=review))
    got = reviews.get(["f1"], ["r1"]).content
    assert got is not None
    assert got.item == review


# -- updates -------------------------------------------------------------------------------------


def test_an_update_giving_every_composing_field_rewrites_the_index_without_reading(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(own_client, table)
    repo.put(film("f1", director="Nolan", year=2010))
    # by_director is composed of director, year and id; year also composes by_decade, which
    # this item is not in (no decade) and which the command takes it out of all the same.
    command = UpdateCommand(
        set_commands={"director": "Villeneuve", "year": 2016, "id": "f1", "decade": None}
    )
    updated = repo.update(["films"], ["f1"], command)
    assert updated.item.director == "Villeneuve"
    assert calls.count("GetItem") == 0
    assert values(dynamodb_client, table, "f1")["gsi1pk"].endswith("#Villeneuve")
    assert values(dynamodb_client, table, "f1")["gsi1sk"] == "film#by_director#2016#f1"


def test_an_update_changing_one_of_two_composing_fields_takes_the_other_from_the_item(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010, decade="2010s"))
    repo.update(["films"], ["f1"], UpdateCommand(set_commands={"year": 2014}))
    entries = values(dynamodb_client, table, "f1")
    assert entries["gsi1pk"].endswith("#Nolan")
    assert entries["gsi1sk"] == "film#by_director#2014#f1"
    assert entries["gsi3sk"] == "film#by_decade#2014#title f1"


def test_an_update_setting_a_composing_field_to_none_takes_the_item_out_of_the_index(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(own_client, table)
    repo.put(film("f1", director="Nolan", year=2010))
    repo.update(["films"], ["f1"], UpdateCommand(remove_attrs={"director"}))
    assert "gsi1pk" not in values(dynamodb_client, table, "f1")
    assert calls.count("GetItem") == 0  # sparse whatever the other fields hold
    repo.update(["films"], ["f1"], UpdateCommand(set_commands={"director": "Nolan"}))
    assert values(dynamodb_client, table, "f1")["gsi1sk"] == "film#by_director#2010#f1"


def test_an_update_of_other_fields_leaves_the_index_values_and_reads_nothing(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(own_client, table)
    repo.put(film("f1", director="Nolan", year=2010))
    before = values(dynamodb_client, table, "f1")
    repo.update(["films"], ["f1"], UpdateCommand(set_commands={"tagline": "dreams"}))
    assert values(dynamodb_client, table, "f1") == before
    assert calls.count("GetItem") == 0


def test_a_concurrent_change_between_the_read_and_the_write_is_read_again(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(own_client, table)
    repo.put(film("f1", director="Nolan", year=2010))
    other = sync_repo(dynamodb_client, table)
    changed: list[bool] = []

    def other_writer(response: dict[str, Any]) -> None:
        if not changed:  # once: right after the update's first read
            changed.append(True)
            other.update(["films"], ["f1"], UpdateCommand(set_commands={"director": "Lynch"}))

    calls.after("GetItem", other_writer)
    updated = repo.update(["films"], ["f1"], UpdateCommand(set_commands={"year": 1977}))
    assert calls.count("GetItem") == 2  # the first read went stale: read again
    assert calls.count("UpdateItem") == 2
    assert updated.item.director == "Lynch"
    assert updated.item.year == 1977
    assert values(dynamodb_client, table, "f1")["gsi1pk"].endswith("#Lynch")
    assert values(dynamodb_client, table, "f1")["gsi1sk"] == "film#by_director#1977#f1"


def test_a_writer_changing_the_fields_every_time_ends_in_index_conflict_error(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(own_client, table)
    repo.put(film("f1", director="Nolan", year=2010))
    other = sync_repo(dynamodb_client, table)
    rounds: list[bool] = []

    def other_writer(response: dict[str, Any]) -> None:
        rounds.append(True)
        command = UpdateCommand(set_commands={"director": f"Director {len(rounds)}"})
        other.update(["films"], ["f1"], command)

    calls.after("GetItem", other_writer)
    with pytest.raises(IndexConflictError) as raised:
        repo.update(["films"], ["f1"], UpdateCommand(set_commands={"year": 1977}))
    assert raised.value.attempts == 5
    item = stored(dynamodb_client, table, "f1")
    assert item["year"] == {"N": "2010"}  # this update applied nothing
    assert index_values(item)["gsi1pk"].endswith(f"#Director {len(rounds)}")


def test_a_version_conflict_on_a_read_update_is_a_version_conflict(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010))
    repo.update(["films"], ["f1"], UpdateCommand(set_commands={"tagline": "x"}))
    with pytest.raises(VersionConflictError):
        repo.update(["films"], ["f1"], UpdateCommand(current_version=1, set_commands={"year": 1}))
    assert values(dynamodb_client, table, "f1")["gsi1sk"] == "film#by_director#2010#f1"


def test_an_update_of_a_missing_item_that_needs_a_read_raises_item_not_found(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    with pytest.raises(ItemNotFoundError):
        repo.update(["films"], ["nothing"], UpdateCommand(set_commands={"year": 1}))
    assert stored(dynamodb_client, table, "nothing") == {}


def test_an_increment_of_a_composing_field_is_refused_naming_field_and_index(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010))
    with pytest.raises(InvalidAttributeError) as raised:
        repo.update(["films"], ["f1"], UpdateCommand(increment_attrs={"year": 1}))
    assert raised.value.field == "year"
    assert "by_director" in str(raised.value)
    assert stored(dynamodb_client, table, "f1")["year"] == {"N": "2010"}


def test_an_increment_of_another_field_is_fine(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010))
    updated = repo.update(["films"], ["f1"], UpdateCommand(increment_attrs={"bucket": 2}))
    assert updated.item.bucket == 2
    assert values(dynamodb_client, table, "f1")["gsi1sk"] == "film#by_director#2010#f1"


# -- upserts -------------------------------------------------------------------------------------


def test_an_upsert_creating_an_item_stores_its_index_values(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    command = UpdateCommand(set_commands={"id": "f1", "title": "title f1", "year": 1999})
    created = repo.update(["films"], ["f1"], command, require_exists=False)
    assert created.current_version == 1
    # No director: not in by_director; genre's default composes by_genre.
    assert values(dynamodb_client, table, "f1") == {
        "gsi2pk": "test#integration#film#by_genre#drama",
        "gsi2sk": "film#by_genre#title f1",
        "lsi1sk": "film#by_title#title f1",
    }


def test_an_upsert_of_an_existing_item_reads_what_the_command_does_not_give(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010))
    command = UpdateCommand(set_commands={"id": "f1", "title": "title f1", "year": 2020})
    updated = repo.update(["films"], ["f1"], command, require_exists=False)
    assert updated.current_version == 2
    assert values(dynamodb_client, table, "f1")["gsi1sk"] == "film#by_director#2020#f1"


def test_an_upsert_over_an_expired_item_keeps_none_of_its_index_values(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo.put(film("f1", director="Nolan", year=2010).model_copy(update={"expiry": LONG_EXPIRED}))
    command = UpdateCommand(set_commands={"id": "f1", "title": "new", "year": 2020})
    created = repo.update(["films"], ["f1"], command, require_exists=False)
    assert created.item.director is None
    assert created.expiry is None
    item = stored(dynamodb_client, table, "f1")
    assert "director" not in item
    assert "_ttl" not in item
    assert "gsi1pk" not in index_values(item)
    assert repo.get(["films"], ["f1"]).content.item.title == "new"


# -- resends -------------------------------------------------------------------------------------

LOST = {Fault.DROP_AFTER: 0.2, Fault.DROP_BEFORE: 0.05, Fault.FAIL_500: 0.05}


@pytest.fixture
def proxy(dynamodb_local: DynamoDBLocal) -> Iterator[FaultProxy]:
    server = FaultProxy(
        dynamodb_local.endpoint_url,
        mixed_plan(20240611, LOST),
        seed=20240611,
        max_faults_per_request=2,
    )
    try:
        yield server
    finally:
        server.close()


def test_index_maintaining_updates_through_lost_answers_apply_once_and_stay_right(
    proxy: FaultProxy, dynamodb_client: DynamoDBClient, table: str
) -> None:
    client = LeanClient(
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=TransportRetries(max_attempts=4, base_delay=0.0, max_delay=0.0),
    )
    repo = sync_repo(client, table)
    repo.put(film("f1", director="Nolan", year=2000))
    for i in range(1, 61):
        # Alternately: one composing field (read first), both (direct), and a plain increment.
        if i % 3 == 0:
            command = UpdateCommand(set_commands={"year": 2000 + i})
        elif i % 3 == 1:
            command = UpdateCommand(set_commands={"director": f"D{i}", "year": 2000 + i})
        else:
            command = UpdateCommand(increment_attrs={"bucket": 1})
        repo.update(["films"], ["f1"], command)
    for i in range(20):
        fields = {"id": f"u{i}", "title": f"t{i}", "director": "U", "year": 1990}
        command = UpdateCommand(set_commands=fields)
        repo.update(["films"], [f"u{i}"], command, require_exists=False)
    assert proxy.faults_met("UpdateItem").get(Fault.DROP_AFTER, 0) > 0
    assert proxy.faults_met("GetItem").get(Fault.DROP_AFTER, 0) > 0
    item = stored(dynamodb_client, table, "f1")
    assert item["bucket"] == {"N": "20"}
    assert item["_object_version"] == {"N": "61"}
    assert index_values(item)["gsi1pk"].endswith("#D58")
    assert index_values(item)["gsi1sk"] == "film#by_director#2060#f1"
    for i in range(20):
        upserted = stored(dynamodb_client, table, f"u{i}")
        assert upserted["_object_version"] == {"N": "1"}
        assert index_values(upserted)["gsi1sk"] == f"film#by_director#1990#u{i}"
    assert {PK, SK} <= set(item)

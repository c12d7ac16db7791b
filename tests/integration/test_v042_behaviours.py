"""What pydantic-dynamo 0.4.2's own v2 tests check, on its test model, against DynamoDB Local.

Ported from 0.4.2's ``tests/test_integration/test_v2/`` (``test_repository.py``,
``test_repository_long_running.py``, ``test_write_once.py``) and the behaviours of its mocked
unit tests that a real table can show (``list``/``list_between``/``delete`` with no
ids). 0.4.2 ran each test twice, async and sync; here ``seed_repo`` runs every test on the
sync, lean and async repositories. Contents are built deterministically instead of by Faker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aioboto3
import pytest

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    FilterCommand,
    GetResponse,
    PartitionedContent,
    RequestObjectStateError,
    SyncDynamoRepository,
    SyncWriteOnceRepository,
    UpdateCommand,
    VersionConflictError,
)
from pydantic_dynamo.v2.repository import DynamoRepository
from pydantic_dynamo.v2.write_once import WriteOnceRepository
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    Repository,
    make_client,
    make_lean_client,
)
from tests.integration.support import CountEnum, FieldModel, SeedExample, contents_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SeedContent = PartitionedContent[SeedExample]
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2023, 1, 31, 12, 0, 0, 250000, tzinfo=UTC)
ENUMS = list(CountEnum)


def seed(partition_ids: list[str], content_ids: list[str], number: int = 0) -> SeedContent:
    """A content of 0.4.2's test model, its fields varied by ``number``."""
    return SeedContent(
        partition_ids=partition_ids,
        content_ids=content_ids,
        item=SeedExample(
            dict_field={"key": f"value {number}", "nested": {"n": number}},
            model_field=FieldModel(test_field=f"field {number}", failures=number),
            list_field=[f"entry {number}", number],
            set_field={f"a{number}", f"b{number}"},
            date_field=date(2023, 1, 1) + timedelta(days=number),
            time_field=time(12, number % 60, 5),
            datetime_field=START + timedelta(minutes=number),
            enum_field=ENUMS[number % len(ENUMS)],
            int_field=number,
        ),
    )


def zero_padded(count: int, partition: str = "p") -> list[SeedContent]:
    """0.4.2's listing data: content ids "000", "001", ... in one partition."""
    return [seed([partition], [str(i).rjust(3, "0")], i) for i in range(count)]


def timestamped(count: int, partition: str = "p") -> list[SeedContent]:
    """0.4.2's list_between data: ISO timestamps one second apart as content ids."""
    return [seed([partition], [stamp(i)], i) for i in range(count)]


def stamp(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def enum_one(contents: list[SeedContent]) -> list[SeedContent]:
    return [c for c in contents if c.item.enum_field == CountEnum.One]


# -- get and get_batch ---------------------------------------------------------------------------


def test_get_of_nothing_stored_equals_an_empty_get_response(
    seed_repo: Repository[SeedExample],
) -> None:
    assert seed_repo.get(None, None) == GetResponse()


def test_put_then_get_returns_the_content(seed_repo: Repository[SeedExample]) -> None:
    content = seed(["p"], ["c"], 7)
    seed_repo.put(content)
    assert seed_repo.get(["p"], ["c"]) == GetResponse(content=content)


def test_put_batch_then_get_batch_over_100_keys_returns_every_content(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = zero_padded(125)
    seed_repo.put_batch(contents)
    keys = [(c.partition_ids, c.content_ids) for c in contents]
    assert sorted(contents_of(seed_repo.get_batch(keys))) == contents


# -- list ----------------------------------------------------------------------------------------


def test_list_by_prefix_returns_the_matching_contents_ascending(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = zero_padded(137)
    seed_repo.put_batch(contents)
    listed = contents_of(seed_repo.list(["p"], content_prefix=["0"], sort_ascending=True))
    assert listed == contents[:100]


def test_list_by_prefix_descending_returns_them_reversed(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = zero_padded(137)
    seed_repo.put_batch(contents)
    listed = contents_of(seed_repo.list(["p"], content_prefix=["0"], sort_ascending=False))
    assert listed == contents[:100][::-1]


def test_list_with_a_limit_returns_the_first_contents(seed_repo: Repository[SeedExample]) -> None:
    contents = zero_padded(10)
    seed_repo.put_batch(contents)
    assert contents_of(seed_repo.list(["p"], content_prefix=None, limit=2)) == contents[:2]


def test_list_filtered_on_an_enum_value_returns_the_matching_contents(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = zero_padded(10)
    seed_repo.put_batch(contents)
    filters = FilterCommand(equals={"enum_field": "one"})
    listed = contents_of(seed_repo.list(["p"], content_prefix=None, filters=filters))
    assert listed == enum_one(contents)
    assert listed


def test_list_with_empty_ids_lists_as_with_no_ids(seed_repo: Repository[SeedExample]) -> None:
    contents = [seed([], [str(i)], i) for i in range(3)]
    seed_repo.put_batch(contents)
    assert contents_of(seed_repo.list([], [])) == contents_of(seed_repo.list(None, None))
    assert contents_of(seed_repo.list(None, None)) == contents


def test_listing_thousands_of_contents_returns_them_all_in_either_order(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = zero_padded(2250)
    seed_repo.put_batch(contents)
    in_key_order = sorted(contents)  # "1000" sorts before "101": ids compare as strings
    assert contents_of(seed_repo.list(["p"], None, sort_ascending=True)) == in_key_order
    assert contents_of(seed_repo.list(["p"], None, sort_ascending=False)) == in_key_order[::-1]


# -- list_between --------------------------------------------------------------------------------


def test_list_between_timestamps_includes_both_bounds_ascending(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = timestamped(10)
    seed_repo.put_batch(contents)
    listed = contents_of(seed_repo.list_between(["p"], [stamp(1)], [stamp(8)]))
    assert listed == contents[1:9]


def test_list_between_descending_returns_the_range_reversed(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = timestamped(10)
    seed_repo.put_batch(contents)
    listed = contents_of(
        seed_repo.list_between(["p"], [stamp(1)], [stamp(8)], sort_ascending=False)
    )
    assert listed == contents[1:9][::-1]


def test_list_between_with_a_limit_takes_the_first_of_the_range(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = timestamped(10)
    seed_repo.put_batch(contents)
    listed = contents_of(seed_repo.list_between(["p"], [stamp(1)], [stamp(8)], limit=5))
    assert listed == contents[1:6]


def test_list_between_descending_with_a_limit_takes_the_last_of_the_range(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = timestamped(10)
    seed_repo.put_batch(contents)
    listed = contents_of(
        seed_repo.list_between(["p"], [stamp(1)], [stamp(8)], sort_ascending=False, limit=5)
    )
    assert listed == contents[4:9][::-1]


def test_list_between_with_a_filter_returns_the_matching_contents_of_the_range(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = timestamped(10)
    seed_repo.put_batch(contents)
    filters = FilterCommand(equals={"enum_field": "one"})
    listed = contents_of(seed_repo.list_between(["p"], [stamp(1)], [stamp(8)], filters=filters))
    assert listed == enum_one(contents[1:9])
    assert listed


def test_list_between_with_no_bounds_lists_the_whole_partition(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = [seed([], [str(i)], i) for i in range(3)]
    seed_repo.put_batch(contents)
    assert contents_of(seed_repo.list_between(None, None, None)) == contents


# -- update --------------------------------------------------------------------------------------


def test_update_applies_sets_increments_appends_and_expiry_and_moves_to_version_2(
    seed_repo: Repository[SeedExample],
) -> None:
    content = seed(["p"], ["c"], 4)
    seed_repo.put(content)
    new_datetime = datetime(2024, 7, 4, 9, 30, 15, 123456, tzinfo=NEW_YORK)
    # The TTL is stored in whole seconds.
    new_expiry = (datetime.now(tz=NEW_YORK) + timedelta(days=99)).replace(microsecond=0)
    seed_repo.update(
        ["p"],
        ["c"],
        UpdateCommand(
            current_version=1,
            set_commands={"datetime_field": new_datetime},
            increment_attrs={"int_field": 2},
            append_attrs={"list_field": ["appended"]},
            expiry=new_expiry,
        ),
    )
    expected = content.model_copy(
        update={
            "item": content.item.model_copy(
                update={
                    "datetime_field": new_datetime,
                    "int_field": content.item.int_field + 2,
                    "list_field": [*content.item.list_field, "appended"],
                }
            ),
            "current_version": 2,
            "expiry": new_expiry,
        }
    )
    assert seed_repo.get(["p"], ["c"]).content == expected


def test_update_of_one_field_of_a_nested_model_keeps_the_others(
    seed_repo: Repository[SeedExample],
) -> None:
    content = seed(["p"], ["c"], 1)
    seed_repo.put(content)
    seed_repo.update(["p"], ["c"], UpdateCommand(set_commands={"model_field": {"failures": 2}}))
    stored = seed_repo.get(["p"], ["c"]).content
    assert stored is not None
    assert stored.item.model_field == FieldModel(test_field="field 1", failures=2)
    assert stored.item.model_copy(update={"model_field": content.item.model_field}) == content.item
    assert stored.current_version == 2


def test_update_of_one_key_of_a_dict_field_keeps_the_others(
    seed_repo: Repository[SeedExample],
) -> None:
    content = seed(["p"], ["c"], 1)
    seed_repo.put(content)
    seed_repo.update(["p"], ["c"], UpdateCommand(set_commands={"dict_field": {"key": "new"}}))
    stored = seed_repo.get(["p"], ["c"]).content
    assert stored is not None
    assert stored.item.dict_field == {"key": "new", "nested": {"n": 1}}
    assert stored.current_version == 2


def test_update_of_a_missing_item_is_refused_naming_its_ids(
    seed_repo: Repository[SeedExample],
) -> None:
    with pytest.raises(RequestObjectStateError) as raised:
        seed_repo.update(["missing-p"], ["missing-c"], UpdateCommand())
    assert "missing-p" in str(raised.value)
    assert "missing-c" in str(raised.value)


def test_update_expecting_a_stale_version_is_refused_naming_its_ids(
    seed_repo: Repository[SeedExample],
) -> None:
    seed_repo.put(seed(["stale-p"], ["stale-c"]))
    expiry = datetime.now(tz=NEW_YORK) + timedelta(days=1)
    seed_repo.update(["stale-p"], ["stale-c"], UpdateCommand(current_version=1, expiry=expiry))
    with pytest.raises(VersionConflictError) as raised:
        seed_repo.update(["stale-p"], ["stale-c"], UpdateCommand(current_version=1, expiry=expiry))
    assert isinstance(raised.value, RequestObjectStateError)
    assert "stale-p" in str(raised.value)
    assert "stale-c" in str(raised.value)


# -- delete --------------------------------------------------------------------------------------


def test_delete_by_prefix_over_batch_limits_leaves_the_rest(
    seed_repo: Repository[SeedExample],
) -> None:
    contents = zero_padded(137)
    seed_repo.put_batch(contents)
    seed_repo.delete(["p"], ["0"])
    assert contents_of(seed_repo.list(["p"], None)) == contents[100:]


def test_delete_with_no_ids_empties_the_partition_of_no_ids(
    seed_repo: Repository[SeedExample],
) -> None:
    elsewhere = seed(["kept"], ["0"])
    seed_repo.put_batch([*[seed([], [str(i)], i) for i in range(11)], elsewhere])
    seed_repo.delete(None, None)
    assert contents_of(seed_repo.list(None, None)) == []
    assert seed_repo.get(["kept"], ["0"]).content == elsewhere


# -- write-once ----------------------------------------------------------------------------------

Write = Callable[[list[SeedContent]], list[SeedContent]]
_CONFIG: dict[str, Any] = {
    "item_class": SeedExample,
    "partition_prefix": PARTITION_PREFIX,
    "partition_name": PARTITION_NAME,
    "content_type": CONTENT_TYPE,
    "partition_key": PARTITION_KEY,
    "sort_key": SORT_KEY,
    "consistent_reads": True,
}


@pytest.fixture(params=["sync", "lean", "async"])
def write_once(
    request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal, table_name: str
) -> Iterator[Write]:
    """``write`` of a write-once wrapper over each flavour of repository (0.4.2's is async)."""
    endpoint = dynamodb_local.endpoint_url
    if request.param != "async":
        client = make_client(endpoint) if request.param == "sync" else make_lean_client(endpoint)
        repo = SyncDynamoRepository[SeedExample](**_CONFIG, table_name=table_name, client=client)
        yield SyncWriteOnceRepository[SeedExample](repo).write
        return

    def write(contents: list[SeedContent]) -> list[SeedContent]:
        async def run() -> list[SeedContent]:
            async with aioboto3.Session().resource(
                "dynamodb", endpoint_url=endpoint, region_name="us-east-1"
            ) as resource:
                repo = DynamoRepository[SeedExample](
                    **_CONFIG,
                    table_name=table_name,
                    table=await resource.Table(table_name),
                    resource=resource,
                )
                return await WriteOnceRepository[SeedExample](async_repo=repo).write(contents)

        return asyncio.run(run())

    yield write


@pytest.fixture
def stored(
    dynamodb_client: DynamoDBClient, table_name: str
) -> Callable[[list[list[str]]], list[SeedContent]]:
    """What is stored under each of the given partitions, read back with a plain repository."""
    reader = SyncDynamoRepository[SeedExample](
        **_CONFIG, table_name=table_name, client=dynamodb_client
    )

    def read(partitions: list[list[str]]) -> list[SeedContent]:
        return [c for p in partitions for c in contents_of(reader.list(p, None))]

    return read


PARTITIONS = [["north", "a"], ["south", "b"]]


def two_partitions() -> list[SeedContent]:
    """0.4.2's write-once data: content ids Z, B, A, D in each of two two-id partitions."""
    keys = [(p, c) for p in PARTITIONS for c in (["Z"], ["B"], ["A"], ["D"])]
    return [seed(p, c, number) for number, (p, c) in enumerate(keys)]


def test_write_once_stores_and_reports_every_new_content(
    write_once: Write, stored: Callable[[list[list[str]]], list[SeedContent]]
) -> None:
    data = two_partitions()
    written = write_once(data)
    assert sorted(stored(PARTITIONS)) == sorted(data)
    assert sorted(written) == sorted(data)


def test_write_once_of_the_same_contents_again_writes_nothing(write_once: Write) -> None:
    data = two_partitions()
    write_once(data)
    assert write_once(data) == []


def test_write_once_of_one_content_stores_and_reports_it_once(
    write_once: Write, stored: Callable[[list[list[str]]], list[SeedContent]]
) -> None:
    data = [seed(PARTITIONS[0], ["A"])]
    assert write_once(data) == data
    assert stored(PARTITIONS[:1]) == data
    assert write_once(data) == []

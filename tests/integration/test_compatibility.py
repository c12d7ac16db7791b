"""Items written by pydantic-dynamo 0.4.2 read correctly; our keys and items are the ones it wrote.

The raw items below are in exactly the shape 0.4.2 stored through the boto3 resource layer:
model fields from ``clean_dict(item.dict())`` (datetimes, dates and times as ISO strings, enums
by value, sets as lists, numbers as N), the keys ``f"{prefix}#{name}#" + "#".join(ids)`` and
``f"{content_type}#" + "#".join(ids)``, ``_object_version``, ``_timestamp`` and maybe ``_ttl``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import pytest

from pydantic_dynamo import PartitionedContent, UpdateCommand
from tests.integration.harness import Repository, WriteRaw
from tests.integration.support import CountEnum, FieldModel, SeedExample, contents_of, legacy_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


SeedContent = PartitionedContent[SeedExample]
Item = dict[str, Any]


def seed_item(number: int = 1) -> SeedExample:
    return SeedExample(
        dict_field={"name": "x", "count": 3, "nested": {"deep": ["a", 2]}},
        model_field=FieldModel(test_field=f"field {number}", failures=None),
        list_field=["a", 1, {"k": "v"}],
        set_field={"b", "a"},
        date_field=date(2023, 1, 31),
        time_field=time(12, 30, 5),
        datetime_field=datetime(2023, 1, 31, 12, 30, 5, 123456, tzinfo=UTC),
        enum_field=CountEnum.Two,
        int_field=number,
        optional_field=None,
    )


def legacy_item(
    partition_ids: list[str],
    content_ids: list[str],
    number: int = 1,
    *,
    version: int | None = 1,
    ttl: int | None = None,
) -> Item:
    """The item 0.4.2 wrote for ``seed_item(number)`` at these ids."""
    item: Item = {
        **legacy_key(partition_ids, content_ids),
        "dict_field": {
            "M": {
                "name": {"S": "x"},
                "count": {"N": "3"},
                "nested": {"M": {"deep": {"L": [{"S": "a"}, {"N": "2"}]}}},
            }
        },
        "model_field": {"M": {"test_field": {"S": f"field {number}"}, "failures": {"NULL": True}}},
        "list_field": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
        "set_field": {"L": [{"S": "b"}, {"S": "a"}]},
        "date_field": {"S": "2023-01-31"},
        "time_field": {"S": "12:30:05"},
        "datetime_field": {"S": "2023-01-31T12:30:05.123456+00:00"},
        "enum_field": {"S": "two"},
        "int_field": {"N": str(number)},
        "optional_field": {"NULL": True},
        "_timestamp": {"S": "2023-02-01T08:00:00.000001+00:00"},
    }
    if version is not None:
        item["_object_version"] = {"N": str(version)}
    if ttl is not None:
        item["_ttl"] = {"N": str(ttl)}
    return item


def test_item_written_by_0_4_2_is_read(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["actor-1"], ["2023-01-31", "review-1"], version=3))
    content = seed_repo.get(["actor-1"], ["2023-01-31", "review-1"]).content
    assert content == SeedContent(
        partition_ids=["actor-1"],
        content_ids=["2023-01-31", "review-1"],
        item=seed_item(),
        current_version=3,
    )


def test_item_without_object_version_reads_as_version_1(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["p"], ["c"], version=None))
    content = seed_repo.get(["p"], ["c"]).content
    assert content is not None
    assert content.current_version == 1


def test_0_4_2_ttl_is_read_as_the_expiry(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["p"], ["c"], ttl=4102444800))
    content = seed_repo.get(["p"], ["c"]).content
    assert content is not None
    assert content.expiry == datetime(2100, 1, 1, tzinfo=UTC)


def test_items_written_by_0_4_2_are_listed_in_order(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(*(legacy_item(["p"], ["2023", f"{n:02d}"], n) for n in (3, 1, 2)))
    listed = contents_of(seed_repo.list(["p"], ["2023"]))
    assert [c.item.int_field for c in listed] == [1, 2, 3]
    between = contents_of(seed_repo.list_between(["p"], ["2023", "02"], ["2023", "03"]))
    assert [c.content_ids for c in between] == [["2023", "02"], ["2023", "03"]]


def test_items_written_by_0_4_2_are_batch_read(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["p"], ["a"], 1), legacy_item(["q"], ["b"], 2, version=None))
    found = contents_of(seed_repo.get_batch([(["p"], ["a"]), (["q"], ["b"])]))
    assert sorted(c.item.int_field for c in found) == [1, 2]


def test_0_4_2_item_under_the_empty_partition_reads_with_no_partition_ids(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    # 0.4.2 itself read these ids back as [""]; we read them as written: [].
    write_raw(legacy_item([], ["c"]))
    content = seed_repo.get(None, ["c"]).content
    assert content is not None
    assert (content.partition_ids, content.content_ids) == ([], ["c"])


def test_0_4_2_item_missing_an_optional_attribute_reads_with_its_default(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    item = legacy_item(["p"], ["c"])
    del item["optional_field"]
    write_raw(item)
    content = seed_repo.get(["p"], ["c"]).content
    assert content is not None
    assert content.item.optional_field is None


def test_update_expecting_version_1_applies_to_an_item_without_a_version(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["p"], ["c"], version=None))
    updated = seed_repo.update(
        ["p"], ["c"], UpdateCommand(set_commands={"int_field": 7}, current_version=1)
    )
    assert updated.item.int_field == 7


def test_update_of_an_item_without_a_version_brings_it_to_version_2(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    # It read as version 1; after one update it must not read as version 1 again, or a second
    # writer expecting version 1 would silently overwrite the first one's change.
    write_raw(legacy_item(["p"], ["c"], version=None))
    updated = seed_repo.update(["p"], ["c"], UpdateCommand(set_commands={"int_field": 7}))
    assert updated.current_version == 2


def test_upsert_of_an_item_without_a_version_brings_it_to_version_2(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["p"], ["c"], version=None))
    updated = seed_repo.update(
        ["p"], ["c"], UpdateCommand(set_commands={"int_field": 7}), require_exists=False
    )
    assert updated.current_version == 2


def test_delete_item_expecting_version_1_deletes_an_item_without_a_version(
    seed_repo: Repository[SeedExample], write_raw: WriteRaw
) -> None:
    write_raw(legacy_item(["p"], ["c"], version=None))
    assert seed_repo.delete_item(["p"], ["c"], current_version=1) is True
    assert seed_repo.get(["p"], ["c"]).content is None


@pytest.mark.parametrize(
    ("partition_ids", "content_ids"),
    [
        ([], []),
        ([], ["a"]),
        (["actor-1"], ["2023-01-31T00:00:00+00:00", "review"]),
        (["usa", "ny"], ["saratoga", "12020"]),
        (["ünï"], ["", "x"]),
    ],
)
def test_our_keys_are_0_4_2_keys_for_ids_without_hash(
    seed_repo: Repository[SeedExample],
    dynamodb_client: DynamoDBClient,
    table_name: str,
    partition_ids: list[str],
    content_ids: list[str],
) -> None:
    seed_repo.put(
        SeedContent(partition_ids=partition_ids, content_ids=content_ids, item=seed_item())
    )
    raw = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(partition_ids, content_ids))
    assert "Item" in raw


def test_our_item_is_the_item_0_4_2_wrote(
    seed_repo: Repository[SeedExample], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    seed_repo.put(SeedContent(partition_ids=["p"], content_ids=["c"], item=seed_item()))
    ours: Item = dict(
        dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["p"], ["c"]))["Item"]
    )
    theirs = legacy_item(["p"], ["c"])
    # One attribute more than 0.4.2 wrote, which 0.4.2 ignores: the write's resend token.
    assert set(ours.pop("_write_token")) == {"S"}
    # Sets are stored as lists in both; their order is not part of the format.
    for item in (ours, theirs):
        item.pop("_timestamp")
        item["set_field"]["L"].sort(key=lambda value: str(value))
    assert ours == theirs

"""PartitionedContent: ordered by ids as 0.4.2 meant; expiry kept to whole seconds in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from pydantic_dynamo import BatchResponse, PartitionedContent, UpdateCommand


class Actor(BaseModel):
    name: str


def content(
    partition_ids: list[str], content_ids: list[str], name: str = "x"
) -> PartitionedContent[Actor]:
    return PartitionedContent[Actor](
        partition_ids=partition_ids, content_ids=content_ids, item=Actor(name=name)
    )


def test_contents_order_by_content_ids() -> None:
    assert content([], ["a"]) < content([], ["b"])
    assert content([], ["b"]) > content([], ["a"])


def test_contents_order_by_partition_ids_first() -> None:
    assert content(["a"], ["z"]) < content(["b"], ["a"])


def test_contents_order_by_ids_not_by_item() -> None:
    assert content([], ["a"], name="zzz") < content([], ["b"], name="aaa")


def test_le_and_ge_hold_for_equal_ids() -> None:
    first, second = content(["p"], ["a"], name="one"), content(["p"], ["a"], name="two")
    assert first <= second
    assert first >= second
    assert not first < second


def test_a_shorter_id_list_sorts_before_its_extensions() -> None:
    assert content([], ["a"]) < content([], ["a", "b"])


def test_sorted_orders_contents_by_ids() -> None:
    contents = [content(["b"], ["1"]), content(["a"], ["2"]), content(["a"], ["1"])]
    ordered = sorted(contents)
    assert [c.partition_ids + c.content_ids for c in ordered] == [
        ["a", "1"],
        ["a", "2"],
        ["b", "1"],
    ]


def test_current_version_defaults_to_1() -> None:
    assert content([], ["a"]).current_version == 1


def test_expiry_defaults_to_none() -> None:
    assert content([], ["a"]).expiry is None


def test_expiry_drops_microseconds() -> None:
    expiry = datetime(2030, 1, 1, 12, 0, 0, 999999, tzinfo=UTC)
    stored = PartitionedContent[Actor](
        partition_ids=[], content_ids=[], item=Actor(name="x"), expiry=expiry
    )
    assert stored.expiry == datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_naive_expiry_is_taken_as_utc() -> None:
    stored = PartitionedContent[Actor](
        partition_ids=[], content_ids=[], item=Actor(name="x"), expiry=datetime(2030, 1, 1)
    )
    assert stored.expiry == datetime(2030, 1, 1, tzinfo=UTC)
    assert stored.expiry is not None
    assert stored.expiry.tzinfo == UTC


def test_aware_expiry_is_converted_to_utc() -> None:
    oslo_noon = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    stored = PartitionedContent[Actor](
        partition_ids=[], content_ids=[], item=Actor(name="x"), expiry=oslo_noon
    )
    assert stored.expiry is not None
    assert stored.expiry.tzinfo == UTC
    assert stored.expiry.hour == 11


def test_expiry_given_as_iso_string_is_normalized() -> None:
    stored = PartitionedContent[Actor].model_validate(
        {
            "partition_ids": [],
            "content_ids": [],
            "item": {"name": "x"},
            "expiry": "2030-01-01T00:00:00.5+02:00",
        }
    )
    assert stored.expiry == datetime(2029, 12, 31, 22, tzinfo=UTC)
    assert stored.expiry is not None
    assert stored.expiry.microsecond == 0


def test_update_command_expiry_is_normalized_like_content_expiry() -> None:
    command = UpdateCommand(expiry=datetime(2030, 1, 1, 0, 0, 0, 123))
    assert command.expiry == datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "expiry",
    [datetime(2030, 1, 1, 0, 0, 0, 1), datetime(2030, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)],
)
def test_expiry_equals_what_ttl_seconds_read_back_as(expiry: datetime) -> None:
    stored = PartitionedContent[Actor](
        partition_ids=[], content_ids=[], item=Actor(name="x"), expiry=expiry
    )
    assert stored.expiry is not None
    assert datetime.fromtimestamp(int(stored.expiry.timestamp()), tz=UTC) == stored.expiry


def test_showing_an_undecoded_page_does_not_decode_it() -> None:
    def refuse(raw: dict[str, Any]) -> PartitionedContent[Any]:
        raise AssertionError("decoded")

    page: BatchResponse[Any] = BatchResponse(raw_items=[{}, {}], decode=refuse, cursor="c")

    assert repr(page) == "BatchResponse(<2 items not decoded>, cursor='c')"

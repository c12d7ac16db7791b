"""The index repair's requests: what each item needs, and the condition that protects writers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from pydantic_dynamo.index_repair import repair_page_flow, repair_request
from pydantic_dynamo.indexes import Index
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.scan import ScanPage
from pydantic_dynamo.table import PhysicalIndex

GSI1 = PhysicalIndex.global_("gsi1")


class Actor(BaseModel):
    id: str
    city: str | None = None


@pytest.fixture
def core() -> RepositoryCore[Actor]:
    return RepositoryCore(
        item_class=Actor,
        partition_prefix="app",
        partition_name="films",
        content_type="actor",
        table_name="t",
        partition_key="pk",
        sort_key="sk",
        indexes=[Index("by_city", on=GSI1, partition=("city",), sort=("id",))],
    )


KEY = {"pk": {"S": "app#films#"}, "sk": {"S": "actor#a1"}}
RIGHT = {"gsi1pk": {"S": "app#films#actor#by_city#Oslo"}, "gsi1sk": {"S": "actor#by_city#a1"}}


def raw(**attributes: Any) -> dict[str, Any]:
    return {**KEY, "id": {"S": "a1"}, **attributes}


def values(request: dict[str, Any]) -> dict[str, Any]:
    """The request's SET values by attribute name."""
    names = request["ExpressionAttributeNames"]
    sets = request["UpdateExpression"].removeprefix("SET ").split(" REMOVE ")[0].split(", ")
    pairs = (assignment.split(" = ") for assignment in sets)
    return {names[name]: request["ExpressionAttributeValues"][value] for name, value in pairs}


def test_an_item_without_index_values_gets_them(core: RepositoryCore[Actor]) -> None:
    request = repair_request(core, raw(city={"S": "Oslo"}))
    assert request is not None
    assert request["Key"] == KEY
    assert values(request) == RIGHT
    assert "REMOVE" not in request["UpdateExpression"]


def test_an_item_with_the_right_values_needs_nothing(core: RepositoryCore[Actor]) -> None:
    assert repair_request(core, raw(city={"S": "Oslo"}, **RIGHT)) is None


def test_a_sparse_item_without_entries_needs_nothing(core: RepositoryCore[Actor]) -> None:
    assert repair_request(core, raw(city={"NULL": True})) is None
    assert repair_request(core, raw()) is None


def test_a_sparse_item_loses_its_stale_entry(core: RepositoryCore[Actor]) -> None:
    request = repair_request(core, raw(city={"NULL": True}, **RIGHT))
    assert request is not None
    assert request["UpdateExpression"] == "REMOVE #n0, #n1"
    assert set(request["ExpressionAttributeNames"].values()) >= {"gsi1pk", "gsi1sk"}


def test_only_the_wrong_attribute_is_set(core: RepositoryCore[Actor]) -> None:
    stale = {**RIGHT, "gsi1pk": {"S": "app#films#actor#by_city#Rome"}}
    request = repair_request(core, raw(city={"S": "Oslo"}, **stale))
    assert request is not None
    assert values(request) == {"gsi1pk": RIGHT["gsi1pk"]}


def test_the_condition_holds_the_composing_attributes_as_read(
    core: RepositoryCore[Actor],
) -> None:
    present = repair_request(core, raw(city={"S": "Oslo"}))
    null = repair_request(core, raw(city={"NULL": True}, **RIGHT))
    absent = repair_request(core, raw(**RIGHT))
    assert present is not None
    assert null is not None
    assert absent is not None
    assert present["ConditionExpression"] == "attribute_exists(#n2) AND #n3 = :v2 AND #n4 = :v3"
    assert null["ConditionExpression"].split(" AND ")[1].startswith("attribute_type(")
    assert absent["ConditionExpression"].split(" AND ")[1].startswith("attribute_not_exists(")


def test_an_undecodable_item_is_counted_not_written(core: RepositoryCore[Actor]) -> None:
    page = ScanPage(0, [{**KEY, "city": {"S": "Oslo"}}], None, 1)  # no id: the model refuses
    flow = repair_page_flow(core, page, retry_policy=RetryPolicy())
    with pytest.raises(StopIteration) as finished:
        next(flow)  # sends nothing
    repaired = finished.value.value
    assert repaired.counts.undecodable == 1
    assert repaired.undecodable[0].key == {"pk": "app#films#", "sk": "actor#a1"}


def test_a_dry_run_counts_the_update_and_sends_nothing(core: RepositoryCore[Actor]) -> None:
    page = ScanPage(0, [raw(city={"S": "Oslo"}), raw(city={"S": "Oslo"}, **RIGHT)], None, 2)
    flow = repair_page_flow(core, page, retry_policy=RetryPolicy(), dry_run=True)
    with pytest.raises(StopIteration) as finished:
        next(flow)
    counts = finished.value.value.counts
    assert (counts.scanned, counts.updated, counts.already_right) == (2, 1, 1)

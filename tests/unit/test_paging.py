"""The query plan, driven with fake pages: exact limits, trimming, cursors, TTL filtering."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from pydantic import BaseModel

from pydantic_dynamo import InvalidCursorError
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import QueryPlan, decode_cursor, encode_cursor, is_expired

PK = "PARTITION_KEY"
SK = "SORT_KEY"
PARTITION = "test#unit#p"  # the partition value of ["p"] in the repository below
NOW = 1_700_000_000
BASE_REQUEST = {"TableName": "records", "KeyConditionExpression": "#n0 = :v0"}
Item = dict[str, Any]


def item(index: int, ttl: int | None = None) -> Item:
    stored: Item = {PK: {"S": PARTITION}, SK: {"S": f"c#{index:04d}"}, "n": {"N": str(index)}}
    if ttl is not None:
        stored["_ttl"] = {"N": str(ttl)}
    return stored


def key_of(stored: Item) -> Item:
    return {PK: stored[PK], SK: stored[SK]}


def page(items: list[Item], more: bool) -> Item:
    response: Item = {"Items": items, "Count": len(items)}
    if more and items:
        response["LastEvaluatedKey"] = key_of(items[-1])
    return response


def plan(
    limit: int | None = None, *, filtered: bool = False, start_after: str | None = None
) -> QueryPlan:
    return QueryPlan(
        dict(BASE_REQUEST),
        partition_value=PARTITION,
        partition_key=PK,
        sort_key=SK,
        limit=limit,
        filtered=filtered,
        start_after=start_after,
        clock=lambda: NOW,
    )


def sort_values(items: list[Item]) -> list[str]:
    return [stored[SK]["S"] for stored in items]


def test_first_request_is_the_query_itself() -> None:
    assert plan().next_request() == BASE_REQUEST


def test_without_limit_the_plan_pages_until_no_last_key() -> None:
    query = plan()
    assert query.next_request() is not None
    first = query.on_response(page([item(0), item(1)], more=True))
    second_request = query.next_request()
    assert second_request is not None
    assert second_request["ExclusiveStartKey"] == key_of(item(1))
    assert "Limit" not in second_request
    last = query.on_response(page([item(2)], more=False))
    assert sort_values(first.items) == ["c#0000", "c#0001"]
    assert sort_values(last.items) == ["c#0002"]
    assert last.cursor is None
    assert query.next_request() is None
    assert query.requests_sent == 2


def test_limit_without_filter_asks_dynamodb_for_what_remains() -> None:
    query = plan(5)
    first = query.next_request()
    assert first is not None
    assert first["Limit"] == 5
    query.on_response(page([item(0), item(1), item(2)], more=True))
    second = query.next_request()
    assert second is not None
    assert second["Limit"] == 2


def test_limit_reached_without_filter_ends_the_listing() -> None:
    query = plan(2)
    query.next_request()
    result = query.on_response(page([item(0), item(1)], more=True))
    assert len(result.items) == 2
    assert query.next_request() is None


def test_limit_reached_on_a_page_with_more_gives_a_cursor_after_its_last_item() -> None:
    query = plan(2)
    query.next_request()
    result = query.on_response(page([item(0), item(1)], more=True))
    assert result.cursor is not None
    assert decode_cursor(result.cursor, PARTITION) == "c#0001"


def test_limit_with_filter_sends_no_dynamodb_limit() -> None:
    query = plan(5, filtered=True)
    request = query.next_request()
    assert request is not None
    assert "Limit" not in request


def test_limit_with_filter_keeps_paging_while_pages_are_short() -> None:
    query = plan(3, filtered=True)
    returned: list[Item] = []
    answers = [
        {"Items": [], "Count": 0, "LastEvaluatedKey": key_of(item(3))},
        page([item(4)], more=True),
        page([item(9)], more=True),
        page([item(12), item(15)], more=True),
    ]
    for answer in answers:
        assert query.next_request() is not None
        returned.extend(query.on_response(answer).items)
    assert sort_values(returned) == ["c#0004", "c#0009", "c#0012"]
    assert query.next_request() is None


def test_empty_filtered_page_with_more_still_continues_after_it() -> None:
    query = plan(3, filtered=True)
    query.next_request()
    response = {"Items": [], "Count": 0, "LastEvaluatedKey": key_of(item(7))}
    result = query.on_response(response)
    assert result.items == []
    request = query.next_request()
    assert request is not None
    assert request["ExclusiveStartKey"] == key_of(item(7))


def test_last_page_is_trimmed_to_the_limit() -> None:
    query = plan(3, filtered=True)
    query.next_request()
    result = query.on_response(page([item(i) for i in range(5)], more=False))
    assert sort_values(result.items) == ["c#0000", "c#0001", "c#0002"]


def test_trimmed_page_cursor_points_after_the_last_returned_item() -> None:
    query = plan(3, filtered=True)
    query.next_request()
    result = query.on_response(page([item(i) for i in range(5)], more=False))
    assert result.cursor is not None
    assert decode_cursor(result.cursor, PARTITION) == "c#0002"


def test_trimmed_page_cursor_is_given_even_when_dynamodb_had_no_more() -> None:
    # Items 3 and 4 were read but not returned: the cursor must lead to them.
    query = plan(3, filtered=True)
    query.next_request()
    assert query.on_response(page([item(i) for i in range(5)], more=False)).cursor is not None


def test_page_without_more_and_under_the_limit_ends_without_a_cursor() -> None:
    query = plan(10, filtered=True)
    query.next_request()
    result = query.on_response(page([item(0)], more=False))
    assert result.cursor is None
    assert query.next_request() is None


def test_start_after_resumes_right_after_that_sort_value() -> None:
    query = plan(start_after="c#0041")
    request = query.next_request()
    assert request is not None
    assert request["ExclusiveStartKey"] == {PK: {"S": PARTITION}, SK: {"S": "c#0041"}}


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        plan(limit)


def test_expired_items_are_dropped() -> None:
    query = plan()
    query.next_request()
    items = [item(0, ttl=NOW - 1), item(1, ttl=NOW + 60), item(2), item(3, ttl=NOW)]
    result = query.on_response(page(items, more=False))
    assert sort_values(result.items) == ["c#0001", "c#0002"]


def test_expired_items_do_not_count_towards_the_limit() -> None:
    query = plan(2)
    query.next_request()
    first = query.on_response(page([item(0, ttl=NOW - 5), item(1)], more=True))
    assert sort_values(first.items) == ["c#0001"]
    request = query.next_request()
    assert request is not None
    assert request["Limit"] == 1


def test_page_of_only_expired_items_keeps_its_cursor() -> None:
    query = plan()
    query.next_request()
    result = query.on_response(page([item(0, ttl=NOW - 5)], more=True))
    assert result.items == []
    assert result.cursor is not None
    assert query.next_request() is not None


def test_ttl_that_is_not_a_number_does_not_expire() -> None:
    assert not is_expired({"_ttl": {"S": "soon"}}, NOW)
    assert not is_expired({"_ttl": {"N": "never"}}, NOW)


def test_item_without_ttl_never_expires() -> None:
    assert not is_expired(item(0), NOW)


def test_cursor_round_trips_its_sort_value() -> None:
    cursor = encode_cursor(PARTITION, "c#a\\#b ünï")
    assert decode_cursor(cursor, PARTITION) == "c#a\\#b ünï"


def test_cursor_is_url_safe() -> None:
    cursor = encode_cursor(PARTITION, "c#" + "\xff\xfe?>" * 20)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_cursor_of_another_partition_is_refused() -> None:
    cursor = encode_cursor("test#unit#other", "c#0001")
    with pytest.raises(InvalidCursorError, match="another partition"):
        decode_cursor(cursor, PARTITION)


def tampered(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "!!!!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        tampered("just a string"),
        tampered(["1", PARTITION]),
        tampered(["2", PARTITION, "c#0001"]),
        tampered(["1", PARTITION, 5]),
        tampered({"v": "1"}),
        encode_cursor(PARTITION, "c#0001")[:-3],
    ],
    ids=[
        "empty",
        "words",
        "punctuation",
        "not_utf8",
        "not_a_list",
        "too_short",
        "other_version",
        "sort_not_a_string",
        "object",
        "truncated",
    ],
)
def test_tampered_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, PARTITION)


def test_invalid_cursor_error_is_a_value_error() -> None:
    assert issubclass(InvalidCursorError, ValueError)


class Actor(BaseModel):
    name: str


def actor_core() -> RepositoryCore[Actor]:
    return RepositoryCore(
        item_class=Actor,
        partition_prefix="test",
        partition_name="unit",
        content_type="c",
        table_name="records",
        partition_key=PK,
        sort_key=SK,
    )


@pytest.fixture
def core() -> RepositoryCore[Actor]:
    return actor_core()


def test_cursor_inside_the_prefix_resumes_the_listing(core: RepositoryCore[Actor]) -> None:
    cursor = encode_cursor(PARTITION, "c#a#0003")
    request = core.query_plan(["p"], prefix=["a"], cursor=cursor).next_request()
    assert request is not None
    assert request["ExclusiveStartKey"][SK] == {"S": "c#a#0003"}


def test_cursor_outside_the_prefix_is_refused(core: RepositoryCore[Actor]) -> None:
    with pytest.raises(InvalidCursorError):
        core.query_plan(["p"], prefix=["a"], cursor=encode_cursor(PARTITION, "c#b#0003"))


@pytest.mark.parametrize("sort_value", ["c#0002", "c#0004", "c#0009"])
def test_cursor_inside_the_range_resumes_the_listing(
    core: RepositoryCore[Actor], sort_value: str
) -> None:
    cursor = encode_cursor(PARTITION, sort_value)
    plan = core.query_plan(["p"], between=(["0002"], ["0009"]), cursor=cursor)
    request = plan.next_request()
    assert request is not None
    assert request["ExclusiveStartKey"][SK] == {"S": sort_value}


@pytest.mark.parametrize("sort_value", ["c#0001", "c#0010", "other#0005"])
def test_cursor_outside_the_range_is_refused(core: RepositoryCore[Actor], sort_value: str) -> None:
    with pytest.raises(InvalidCursorError):
        core.query_plan(
            ["p"], between=(["0002"], ["0009"]), cursor=encode_cursor(PARTITION, sort_value)
        )

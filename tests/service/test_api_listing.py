"""Listing a partition: prefix and range, order, pages and cursors, filters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from records_service.topology import LAMBDA_MAX_RESPONSE_BYTES
from tests.service.helpers import Api, actor, review

DAYS = [f"2023-0{month}-0{day}T12:00:00+00:00" for month in (1, 2, 3) for day in (1, 2)]


@pytest.fixture
def reviews(api: Api) -> Api:
    """Six reviews of actor a1 (two a month, Jan-Mar 2023) and one of a2."""
    contents = [
        review("a1", created, text=f"review {i}", review_id=f"r{i}")
        for i, created in enumerate(DAYS)
    ]
    contents.append(review("a2", DAYS[0], text="other actor", review_id="x"))
    assert api("POST", "/records/review/batch", body={"contents": contents}).status == 200
    return api


def _created(answer_body: dict[str, list[dict[str, list[str]]]]) -> list[str]:
    return [c["content_ids"][0] for c in answer_body["contents"]]


def test_list_returns_the_partition_in_sort_order(reviews: Api) -> None:
    answer = reviews("GET", "/records/review", query={"partition_id": "a1"})

    assert answer.status == 200
    assert _created(answer.body) == DAYS
    assert answer.body["cursor"] is None


def test_list_by_prefix(reviews: Api) -> None:
    answer = reviews("GET", "/records/review", query={"partition_id": "a1", "prefix": "2023-02"})

    assert _created(answer.body) == DAYS[2:4]


def test_list_between_is_inclusive(reviews: Api) -> None:
    answer = reviews(
        "GET",
        "/records/review",
        query={"partition_id": "a1", "start": DAYS[1], "end": DAYS[4]},
    )

    assert _created(answer.body) == DAYS[1:5]


def test_list_descending(reviews: Api) -> None:
    answer = reviews("GET", "/records/review", query={"partition_id": "a1", "order": "desc"})

    assert _created(answer.body) == DAYS[::-1]


def test_pages_follow_the_cursor_to_the_end(reviews: Api) -> None:
    seen: list[str] = []
    query = {"partition_id": "a1", "limit": "4"}
    pages = 0
    while True:
        answer = reviews("GET", "/records/review", query=query)
        pages += 1
        seen.extend(_created(answer.body))
        if answer.body["cursor"] is None:
            break
        query = {**query, "cursor": answer.body["cursor"]}

    assert seen == DAYS
    assert pages == 2


def test_a_page_holds_at_most_limit_contents(reviews: Api) -> None:
    answer = reviews("GET", "/records/review", query={"partition_id": "a1", "limit": "2"})

    assert len(answer.body["contents"]) == 2
    assert answer.body["cursor"] is not None


def test_an_empty_partition_lists_nothing(reviews: Api) -> None:
    answer = reviews("GET", "/records/review", query={"partition_id": "nobody"})

    assert answer.body == {"contents": [], "cursor": None}


def test_a_datetime_filter_compares_as_stored(reviews: Api) -> None:
    answer = reviews(
        "GET",
        "/records/review",
        query={"partition_id": "a1", "filter": "created:ge:2023-02-02T12:00:00Z"},
    )

    assert _created(answer.body) == DAYS[3:]


def test_filters_are_anded(reviews: Api) -> None:
    answer = reviews(
        "GET",
        "/records/review",
        query={
            "partition_id": "a1",
            "filter": ["review:begins_with:review", 'id:in:["r0", "r5", "x"]'],
        },
    )

    assert _created(answer.body) == [DAYS[0], DAYS[5]]


def test_between_filter(reviews: Api) -> None:
    answer = reviews(
        "GET",
        "/records/review",
        query={"partition_id": "a1", "filter": 'id:between:["r1", "r2"]'},
    )

    assert _created(answer.body) == DAYS[1:3]


def test_contains_and_not_equal_filters(reviews: Api) -> None:
    answer = reviews(
        "GET",
        "/records/review",
        query={"partition_id": "a1", "filter": ["review:contains:4", "id:ne:r0"]},
    )

    assert _created(answer.body) == [DAYS[4]]


def test_a_filter_value_may_contain_colons(reviews: Api) -> None:
    answer = reviews(
        "GET",
        "/records/review",
        query={"partition_id": "a1", "filter": f"created:eq:{DAYS[2]}"},
    )

    assert _created(answer.body) == [DAYS[2]]


def test_exists_filters_count_a_null_attribute_as_absent(api: Api) -> None:
    # Optional fields are stored even when None (as NULL), as 0.4.2 did; "has no value" is
    # what a Pydantic user means by not_exists, so NULL counts as absent.
    api("PUT", "/records/actor", body=actor("a1"))
    api("PUT", "/records/actor", body=actor("a2", review="kind"))

    present = api("GET", "/records/actor", query={"filter": "review:exists"})
    absent = api("GET", "/records/actor", query={"filter": "review:not_exists"})

    assert [c["content_ids"] for c in present.body["contents"]] == [["a2"]]
    assert [c["content_ids"] for c in absent.body["contents"]] == [["a1"]]


def test_a_filtered_page_is_exactly_limit_long_with_a_cursor_to_continue(reviews: Api) -> None:
    query = {"partition_id": "a1", "filter": "review:begins_with:review", "limit": "5"}

    first = reviews("GET", "/records/review", query=query)
    rest = reviews("GET", "/records/review", query={**query, "cursor": first.body["cursor"]})

    assert _created(first.body) == DAYS[:5]
    assert _created(rest.body) == DAYS[5:]
    assert rest.body["cursor"] is None


def _payload_bytes(raw_body: str) -> int:
    """What the body weighs in Lambda's response payload (a JSON string inside JSON)."""
    return len(json.dumps(raw_body))


@pytest.fixture
def big_actors(api: Api) -> Api:
    """20 actors of about 390 KB each: 7.8 MB in all, more than one Lambda answer can hold."""
    for i in range(20):
        content = actor(f"big{i:02d}", review="x" * 390_000)
        assert api("PUT", "/records/actor", body=content).status == 200
    return api


@pytest.mark.parametrize("service_env", ["moto"], indirect=True)
def test_a_listing_stops_before_lambdas_response_limit_and_resumes(big_actors: Api) -> None:
    seen: list[str] = []
    cursor: str | None = None
    answers = 0
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        answer = big_actors("GET", "/records/actor", query=query)
        answers += 1
        assert answer.status == 200
        assert _payload_bytes(answer.raw_body) < LAMBDA_MAX_RESPONSE_BYTES
        seen.extend(c["content_ids"][0] for c in answer.body["contents"])
        cursor = answer.body["cursor"]
        if cursor is None:
            break

    assert seen == [f"big{i:02d}" for i in range(20)]
    assert answers >= 2


@pytest.mark.parametrize("service_env", ["moto"], indirect=True)
def test_a_batch_get_stops_before_lambdas_response_limit_and_names_the_keys_left(
    big_actors: Api,
) -> None:
    keys = [{"partition_ids": [], "content_ids": [f"big{i:02d}"]} for i in range(20)]
    keys.append({"partition_ids": [], "content_ids": ["nobody"]})
    found: list[str] = []
    missing: list[Any] = []
    answers = 0
    while keys:
        answer = big_actors("POST", "/records/actor/batch-get", body={"keys": keys})
        answers += 1
        assert answer.status == 200
        assert _payload_bytes(answer.raw_body) < LAMBDA_MAX_RESPONSE_BYTES
        found.extend(c["content_ids"][0] for c in answer.body["contents"])
        missing.extend(answer.body["missing"])
        keys = answer.body["unprocessed"]

    assert sorted(found) == [f"big{i:02d}" for i in range(20)]
    assert missing == [{"partition_ids": [], "content_ids": ["nobody"]}]
    assert answers >= 2

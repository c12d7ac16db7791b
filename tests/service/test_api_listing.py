"""Listing a partition: prefix and range, order, pages and cursors, filters."""

from __future__ import annotations

import pytest

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


def test_exists_filters_count_a_null_attribute_as_present(api: Api) -> None:
    # Optional fields are stored even when None (as NULL), as 0.4.2 did.
    api("PUT", "/records/actor", body=actor("a1"))
    api("PUT", "/records/actor", body=actor("a2", review="kind"))

    present = api("GET", "/records/actor", query={"filter": "review:exists"})
    absent = api("GET", "/records/actor", query={"filter": "review:not_exists"})

    assert [c["content_ids"] for c in present.body["contents"]] == [["a1"], ["a2"]]
    assert absent.body["contents"] == []


def test_a_filtered_page_is_exactly_limit_long_with_a_cursor_to_continue(reviews: Api) -> None:
    query = {"partition_id": "a1", "filter": "review:begins_with:review", "limit": "5"}

    first = reviews("GET", "/records/review", query=query)
    rest = reviews("GET", "/records/review", query={**query, "cursor": first.body["cursor"]})

    assert _created(first.body) == DAYS[:5]
    assert _created(rest.body) == DAYS[5:]
    assert rest.body["cursor"] is None

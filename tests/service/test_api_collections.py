"""The collection read (``GET /collections/cast``) and the counts (``GET /records/{ct}/count``).

The ``cast`` collection holds ``cast-actor`` and ``cast-review``, which share the partition
``film#cast#{actor_id}``.
"""

from __future__ import annotations

from typing import Any

import pytest

from records_service import names
from tests.service.helpers import Api, ServiceEnv, actor, review

CAST = "/collections/cast"
DAYS = [f"2024-03-{day:02}T10:00:00+00:00" for day in range(1, 6)]


def _cast_actor(actor_id: str) -> dict[str, Any]:
    content = actor(actor_id, "Frances McDormand")
    return {**content, "partition_ids": [actor_id], "content_ids": []}


@pytest.fixture
def stored(api: Api, service_env: ServiceEnv) -> Api:
    """Actor a1 with five reviews (the second expired), a2 with one, and an item of a type
    the collection does not declare in a1's partition."""
    reviews = [review("a1", day, text=f"day {day[8:10]}") for day in DAYS]
    reviews[1]["expiry"] = "2001-01-01T00:00:00Z"
    reviews.append(review("a2", DAYS[0]))
    for kind, contents in (
        ("cast-actor", [_cast_actor("a1"), _cast_actor("a2")]),
        ("cast-review", reviews),
    ):
        assert api("POST", f"/records/{kind}/batch", body={"contents": contents}).status == 200
    service_env.dynamodb.put_item(
        TableName=service_env.table_name,
        Item={
            names.PARTITION_KEY: {"S": "film#cast#a1"},
            names.SORT_KEY: {"S": "cast-award#2024"},
            "title": {"S": "best actress"},
        },
    )
    return api


def _keys(body: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (name, content["content_ids"])
        for name, contents in body["contents"].items()
        for content in contents
    ]


def test_a_collection_page_holds_each_type_and_the_unknown_items(stored: Api) -> None:
    answer = stored("GET", CAST, query={"partition_id": "a1"})

    assert answer.status == 200, answer.raw_body
    body = answer.body
    assert [c["item"]["name"] for c in body["contents"]["cast-actor"]] == ["Frances McDormand"]
    assert [c["item"]["review"] for c in body["contents"]["cast-review"]] == [
        "day 01",
        "day 03",
        "day 04",
        "day 05",
    ]
    assert body["unknown"] == [
        {names.PARTITION_KEY: "film#cast#a1", names.SORT_KEY: "cast-award#2024"}
    ]
    assert body["cursor"] is None


def test_pages_follow_the_cursor_with_exact_limits(stored: Api) -> None:
    query: dict[str, Any] = {"partition_id": "a1", "limit": "2"}
    pages = []
    while True:
        answer = stored("GET", CAST, query=query)
        assert answer.status == 200, answer.raw_body
        pages.append(len(_keys(answer.body)) + len(answer.body["unknown"]))
        if answer.body["cursor"] is None:
            break
        query = {**query, "cursor": answer.body["cursor"]}

    assert pages[:3] == [2, 2, 2]
    assert sum(pages) == 6


def test_a_type_and_an_order_choose_what_is_read(stored: Api) -> None:
    answer = stored(
        "GET", CAST, query={"partition_id": "a1", "type": "cast-review", "order": "desc"}
    )

    assert answer.status == 200, answer.raw_body
    assert answer.body["contents"]["cast-actor"] == []
    assert [ids[0][8:10] for _, ids in _keys(answer.body)] == ["05", "04", "03", "01"]
    assert answer.body["unknown"] == []


def test_a_cursor_of_another_read_is_refused(stored: Api) -> None:
    first = stored("GET", CAST, query={"partition_id": "a1", "limit": "1"}).body["cursor"]
    listing = stored(
        "GET", "/records/cast-review", query={"partition_id": "a1", "limit": "1"}
    ).body["cursor"]

    for query in (
        {"partition_id": "a2", "cursor": first},
        {"partition_id": "a1", "cursor": first, "type": "cast-review"},
        {"partition_id": "a1", "cursor": listing},
    ):
        answer = stored("GET", CAST, query=query)
        assert answer.status == 400, answer.raw_body
        assert answer.body["error"] == "invalid_cursor"
    listed = stored("GET", "/records/cast-review", query={"partition_id": "a1", "cursor": first})
    assert listed.status == 400


def test_an_unknown_type_is_a_validation_error(stored: Api) -> None:
    answer = stored("GET", CAST, query={"partition_id": "a1", "type": "actor"})

    assert answer.status == 422
    assert stored("POST", CAST).status == 405


def test_a_count_honours_selection_filters_and_expiry(stored: Api) -> None:
    def count(**query: Any) -> int:
        answer = stored("GET", "/records/cast-review/count", query={"partition_id": "a1", **query})
        assert answer.status == 200, answer.raw_body
        result: int = answer.body["count"]
        return result

    assert count() == 4
    assert count(prefix="2024-03-0") == 4
    assert count(start="2024-03-03", end="2024-03-05") == 2  # as the listing: 03 and 04
    assert count(filter="review:contains:0") == 4
    assert count(filter=["review:ne:day 01", "id:eq:r"]) == 3
    assert stored("GET", "/records/actor/count").body == {"count": 0}


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ({"start": "a"}, 400, "invalid_range"),
        ({"filter": "rating:gt:x"}, 400, "invalid_attribute"),
        ({"filter": "review:between:1"}, 400, "invalid_filter"),
    ],
)
def test_a_bad_count_is_a_4xx(stored: Api, query: dict[str, str], status: int, error: str) -> None:
    answer = stored("GET", "/records/cast-review/count", query={"partition_id": "a1", **query})

    assert answer.status in (status, 422), answer.raw_body
    assert answer.status == 422 or answer.body["error"] == error


def test_the_document_lists_the_new_operations(api: Api) -> None:
    document = api("GET", "/openapi.json").body
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}

    assert {"read_cast", "count_actor", "count_review", "count_cast_review"} <= operations
    page = document["paths"][CAST]["get"]["responses"]["200"]["content"]["application/json"]
    assert page["schema"]["$ref"].endswith("CastPage")

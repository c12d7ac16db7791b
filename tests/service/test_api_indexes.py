"""Index queries: ``GET /records/{type}/by/{index}`` over the seed's two indexes.

``by_name`` (actors, partitioned by ``name``, sorted by ``id``) and ``by_created`` (reviews of
every actor in one index partition, sorted by ``created``): selection, order, exact pages,
filters, cursors from other routes, invalid values and unknown indexes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from pydantic_dynamo.indexes import Index
from pydantic_dynamo.table import PhysicalIndex, TableDescription, create_table
from records_service import names
from records_service.content_types import CONTENT_TYPES, ActorReview, ContentType, FilmActor
from tests.service.helpers import Api, ServiceEnv, actor, review

BUSCEMI = "Steve Buscemi"
BY_NAME = "/records/actor/by/by_name"
BY_CREATED = "/records/review/by/by_created"
BUSCEMI_IDS = ["a1", "a2", "a3", "a4", "a5"]
# Reviews of three actors: two in February, four in March (one late on the 31st), one in April.
CREATED = {
    "2024-02-10T09:00:00+00:00": "a1",
    "2024-02-28T09:00:00+00:00": "f1",
    "2024-03-01T00:00:00+00:00": "a2",
    "2024-03-09T12:00:00+00:00": "f1",
    "2024-03-15T12:00:00+00:00": "a1",
    "2024-03-31T23:30:00+00:00": "a3",
    "2024-04-01T00:00:00+00:00": "a2",
}
MARCH = sorted(created for created in CREATED if created.startswith("2024-03"))


@pytest.fixture
def stored(api: Api) -> Api:
    """Five actors named Steve Buscemi, two others, and the reviews of ``CREATED``."""
    actors = [actor(actor_id, BUSCEMI, review=f"take {actor_id}") for actor_id in BUSCEMI_IDS]
    actors += [actor("f1", "Frances McDormand"), actor("f2", "Steve Buscemi Jr.")]
    reviews = [
        review(actor_id, created, text=f"seen {created[:10]}", review_id=f"r-{created[:10]}")
        for created, actor_id in CREATED.items()
    ]
    for kind, contents in (("actor", actors), ("review", reviews)):
        assert api("POST", f"/records/{kind}/batch", body={"contents": contents}).status == 200
    return api


def _ids(body: dict[str, Any]) -> list[str]:
    """The first content id of each content: an actor's id, a review's ``created`` as sent."""
    return [content["content_ids"][0] for content in body["contents"]]


def _all_pages(api: Api, path: str, query: dict[str, Any]) -> list[list[str]]:
    """The content ids of each page, following the cursor to the end."""
    pages: list[list[str]] = []
    while True:
        answer = api("GET", path, query=query)
        assert answer.status == 200, answer.raw_body
        pages.append(_ids(answer.body))
        if answer.body["cursor"] is None:
            return pages
        query = {**query, "cursor": answer.body["cursor"]}


def _cursor(api: Api, path: str, query: dict[str, Any]) -> str:
    answer = api("GET", path, query={**query, "limit": "1"})
    assert answer.status == 200, answer.raw_body
    cursor: str = answer.body["cursor"]
    assert cursor
    return cursor


# -- by_name: actors by name, in id order ------------------------------------------------------


def test_by_name_answers_the_actors_of_that_name_in_id_order(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"name": BUSCEMI})

    assert answer.status == 200
    assert _ids(answer.body) == BUSCEMI_IDS
    assert {c["item"]["name"] for c in answer.body["contents"]} == {BUSCEMI}
    assert answer.body["cursor"] is None


def test_by_name_answers_whole_contents_as_the_listing_does(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"name": "Frances McDormand"})

    assert answer.body == {
        "contents": [
            {
                "partition_ids": [],
                "content_ids": ["f1"],
                "item": {"id": "f1", "name": "Frances McDormand", "review": None},
                "current_version": 1,
                "expiry": None,
            }
        ],
        "cursor": None,
    }


def test_by_name_matches_the_whole_name_not_a_prefix_of_it(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"name": "Steve"})

    assert answer.status == 200
    assert answer.body == {"contents": [], "cursor": None}


def test_by_name_selects_ids_by_prefix(stored: Api) -> None:
    stored("PUT", "/records/actor", body=actor("a10", BUSCEMI))

    answer = stored("GET", BY_NAME, query={"name": BUSCEMI, "prefix": "a1"})

    assert _ids(answer.body) == ["a1", "a10"]


def test_by_name_selects_an_inclusive_range_in_descending_order(stored: Api) -> None:
    query = {"name": BUSCEMI, "start": "a2", "end": "a4", "order": "desc"}

    answer = stored("GET", BY_NAME, query=query)

    assert _ids(answer.body) == ["a4", "a3", "a2"]


def test_an_update_of_the_name_moves_the_actor_to_its_new_name(stored: Api) -> None:
    patch = {"set_commands": {"name": "Frances McDormand"}}
    assert (
        stored("PATCH", "/records/actor/item", query={"content_id": "a3"}, body=patch).status == 200
    )

    old = stored("GET", BY_NAME, query={"name": BUSCEMI})
    new = stored("GET", BY_NAME, query={"name": "Frances McDormand"})

    assert _ids(old.body) == ["a1", "a2", "a4", "a5"]
    assert _ids(new.body) == ["a3", "f1"]


# -- by_created: every actor's reviews, in time order --------------------------------------------


def test_by_created_prefix_answers_the_reviews_of_march_across_actors(stored: Api) -> None:
    answer = stored("GET", BY_CREATED, query={"prefix": "2024-03"})

    assert answer.status == 200
    assert _ids(answer.body) == MARCH
    assert [c["partition_ids"] for c in answer.body["contents"]] == [
        [CREATED[created]] for created in MARCH
    ]


def test_by_created_range_end_includes_its_whole_last_day(stored: Api) -> None:
    answer = stored("GET", BY_CREATED, query={"start": "2024-03-01", "end": "2024-03-31"})

    assert _ids(answer.body) == MARCH


def test_by_created_without_selection_answers_every_review_and_no_actor(stored: Api) -> None:
    answer = stored("GET", BY_CREATED, query={"order": "desc"})

    assert _ids(answer.body) == sorted(CREATED, reverse=True)
    assert all(
        set(c["item"]) == {"id", "actor_id", "created", "review"} for c in answer.body["contents"]
    )


# -- pages, limits and filters -----------------------------------------------------------------


def test_pages_hold_exactly_limit_contents_until_the_last(stored: Api) -> None:
    pages = _all_pages(stored, BY_NAME, {"name": BUSCEMI, "limit": "2"})

    assert pages == [["a1", "a2"], ["a3", "a4"], ["a5"]]


def test_a_filter_keeps_pages_exact(stored: Api) -> None:
    # Five of the seven reviews: all but f1's, which the filter skips within the pages.
    query = {"start": "2024-01", "end": "2024-12", "filter": "actor_id:ne:f1", "limit": "2"}

    pages = _all_pages(stored, BY_CREATED, query)

    expected = [created for created, actor_id in sorted(CREATED.items()) if actor_id != "f1"]
    assert pages == [expected[0:2], expected[2:4], expected[4:]]


def test_filters_are_anded_and_read_as_the_fields_type(stored: Api) -> None:
    query = {
        "prefix": "2024",
        "filter": ["created:ge:2024-03-09T00:00:00Z", "review:contains:2024-03"],
    }

    answer = stored("GET", BY_CREATED, query=query)

    assert _ids(answer.body) == MARCH[1:]


def test_a_filter_on_another_field_than_the_key_selects_actors(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"name": BUSCEMI, "filter": "review:eq:take a4"})

    assert _ids(answer.body) == ["a4"]


# -- cursors of other routes -------------------------------------------------------------------


def test_the_cursor_of_a_listing_is_refused_by_an_index_query(stored: Api) -> None:
    cursor = _cursor(stored, "/records/actor", {})

    answer = stored("GET", BY_NAME, query={"name": BUSCEMI, "cursor": cursor})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_cursor"


def test_the_cursor_of_an_index_query_is_refused_by_the_listing(stored: Api) -> None:
    cursor = _cursor(stored, BY_NAME, {"name": BUSCEMI})

    answer = stored("GET", "/records/actor", query={"cursor": cursor})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_cursor"


def test_the_cursor_of_another_index_is_refused(stored: Api) -> None:
    cursor = _cursor(stored, BY_CREATED, {})

    answer = stored("GET", BY_NAME, query={"name": BUSCEMI, "cursor": cursor})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_cursor"


def test_the_cursor_of_another_name_is_refused(stored: Api) -> None:
    cursor = _cursor(stored, BY_NAME, {"name": BUSCEMI})

    answer = stored("GET", BY_NAME, query={"name": "Frances McDormand", "cursor": cursor})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_cursor"


def test_the_cursor_of_another_prefix_is_refused(stored: Api) -> None:
    cursor = _cursor(stored, BY_CREATED, {"prefix": "2024-03"})

    answer = stored("GET", BY_CREATED, query={"prefix": "2024-02", "cursor": cursor})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_cursor"


def test_a_cursor_this_api_did_not_issue_is_refused(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"name": BUSCEMI, "cursor": "bm90LWEtY3Vyc29y"})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_cursor"


# -- invalid requests --------------------------------------------------------------------------


def test_a_missing_partition_field_is_422_naming_it(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"prefix": "a"})

    assert answer.status == 422
    assert [d["loc"] for d in answer.body["detail"]] == [["query", "name"]]
    assert "name" in answer.body["message"]


def test_more_sort_values_than_sort_fields_is_422(stored: Api) -> None:
    answer = stored("GET", BY_CREATED, query={"prefix": ["2024", "03"]})

    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["query", "prefix"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"start": "2024-03"}, "invalid_range"),
        ({"start": "2024-03", "end": "2024-04", "prefix": "2024"}, "invalid_range"),
        ({"filter": "created:ge:March"}, "invalid_filter"),
        ({"filter": "stars:gt:3"}, "invalid_attribute"),
    ],
)
def test_a_bad_selection_is_400(stored: Api, query: dict[str, str], error: str) -> None:
    answer = stored("GET", BY_CREATED, query=query)

    assert answer.status == 400, answer.raw_body
    assert answer.body["error"] == error


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
def test_a_limit_outside_the_listings_bounds_is_422(stored: Api, limit: str) -> None:
    answer = stored("GET", BY_NAME, query={"name": BUSCEMI, "limit": limit})

    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["query", "limit"]


def test_a_name_over_the_key_limit_is_400_naming_the_index(stored: Api) -> None:
    answer = stored("GET", BY_NAME, query={"name": "x" * 2100})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_attribute"
    assert "by_name" in answer.body["message"]


def test_a_typed_partition_field_is_read_as_its_type(service_env: ServiceEnv) -> None:
    api = _api_with(service_env, _scored_type())
    api("PUT", "/records/score", body=_score("s1", 7))
    api("PUT", "/records/score", body=_score("s2", 8))

    found = api("GET", "/records/score/by/by_stars", query={"stars": "7"})
    refused = api("GET", "/records/score/by/by_stars", query={"stars": "seven"})

    assert _ids(found.body) == ["s1"]
    assert refused.status == 422
    assert refused.body["detail"][0]["loc"] == ["query", "stars"]


# -- unknown indexes and methods ---------------------------------------------------------------


def test_an_unknown_index_is_404_naming_the_known_ones(stored: Api) -> None:
    answer = stored("GET", "/records/actor/by/by_age", query={"age": "3"})

    assert answer.status == 404
    assert answer.body["error"] == "unknown_index"
    assert answer.body["detail"] == {"known": ["by_name"]}
    assert "by_age" in answer.body["message"]


def test_the_index_of_another_content_type_is_404(stored: Api) -> None:
    answer = stored("GET", "/records/review/by/by_name", query={"name": BUSCEMI})

    assert answer.status == 404
    assert answer.body["detail"] == {"known": ["by_created"]}


def test_by_without_an_index_name_is_404_naming_the_known_ones(stored: Api) -> None:
    answer = stored("GET", "/records/review/by")

    assert answer.status == 404
    assert answer.body["error"] == "unknown_index"
    assert answer.body["detail"] == {"known": ["by_created"]}


def test_an_index_of_an_unknown_content_type_is_404(stored: Api) -> None:
    answer = stored("GET", "/records/film/by/by_name", query={"name": BUSCEMI})

    assert answer.status == 404
    assert answer.body["error"] == "unknown_content_type"


def test_an_index_route_takes_only_get(stored: Api) -> None:
    answer = stored("DELETE", BY_NAME, query={"name": BUSCEMI})

    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, OPTIONS"


# -- the document ------------------------------------------------------------------------------


def test_the_document_lists_each_index_route_with_exactly_its_parameters(api: Api) -> None:
    document = json.loads(api("GET", "/openapi.json").raw_body)

    def parameters(path: str) -> dict[str, dict[str, Any]]:
        operation = document["paths"][path]["get"]
        assert operation["description"]
        return {p["name"]: p for p in operation["parameters"]}

    by_name, by_created = parameters(BY_NAME), parameters(BY_CREATED)
    page = ["limit", "cursor", "order", "filter"]
    assert list(by_name) == ["name", "prefix", "start", "end", *page]
    assert list(by_created) == ["prefix", "start", "end", *page]
    assert by_name["name"]["required"] is True
    assert by_name["name"]["schema"]["type"] == "string"
    assert {by_created[name]["schema"]["maxItems"] for name in ("prefix", "start", "end")} == {1}
    assert by_created["limit"]["schema"] == parameters("/records/review")["limit"]["schema"]


# -- content types sharing a physical index ----------------------------------------------------


def test_a_content_type_never_sees_another_ones_entries(service_env: ServiceEnv) -> None:
    # "critic" shares actor's model, partition prefix and name, index name and physical index.
    critic = ContentType(
        "critic",
        FilmActor,
        partition_prefix="film",
        partition_name="actor",
        indexes=CONTENT_TYPES["actor"].indexes,
    )
    api = _api_with(service_env, critic)
    api("PUT", "/records/actor", body=actor("a1", BUSCEMI))
    api("PUT", "/records/critic", body=actor("c1", BUSCEMI))

    actors = api("GET", BY_NAME, query={"name": BUSCEMI})
    critics = api("GET", "/records/critic/by/by_name", query={"name": BUSCEMI})

    assert _ids(actors.body) == ["a1"]
    assert _ids(critics.body) == ["c1"]


def test_a_local_index_reads_the_partition_given_by_partition_id(
    service_env: ServiceEnv,
) -> None:
    table = TableDescription(
        names.PARTITION_KEY, names.SORT_KEY, names.TTL_ATTRIBUTE, (PhysicalIndex.local("lsi1"),)
    )
    table_name = f"records-lsi-{uuid.uuid4().hex[:12]}"
    create_table(service_env.dynamodb, table_name, table)
    note = ContentType(
        "note",
        ActorReview,
        partition_prefix="test",
        partition_name="note",
        indexes=(Index("by_id", on=table.index("lsi1"), sort=("id",)),),
    )
    try:
        api = _api_with(service_env, note, table_name, table)
        notes = [("a1", "2024-01-01", "n3"), ("a1", "2024-02-01", "n1"), ("a2", "2024-03-01", "n2")]
        batch = [review(actor_id, created, review_id=i) for actor_id, created, i in notes]
        assert api("POST", "/records/note/batch", body={"contents": batch}).status == 200

        answer = api("GET", "/records/note/by/by_id", query={"partition_id": "a1"})
    finally:
        service_env.dynamodb.delete_table(TableName=table_name)

    assert answer.status == 200, answer.raw_body
    assert [c["item"]["id"] for c in answer.body["contents"]] == ["n1", "n3"]


# -- helpers of the tests that serve content types of their own --------------------------------


def _scored_type() -> ContentType[Any]:
    from pydantic import BaseModel

    class Score(BaseModel):
        id: str
        stars: int

    return ContentType(
        "score",
        Score,
        partition_prefix="test",
        partition_name="score",
        indexes=(Index("by_stars", on=names.GSI1, partition=("stars",), sort=("id",)),),
    )


def _score(score_id: str, stars: int) -> dict[str, Any]:
    return {
        "partition_ids": [],
        "content_ids": [score_id],
        "item": {"id": score_id, "stars": stars},
    }


def _api_with(
    env: ServiceEnv,
    extra: ContentType[Any],
    table_name: str | None = None,
    table: TableDescription = names.TABLE,
) -> Api:
    """The API serving the registry and ``extra``, over the test's table (or ``table_name``,
    described by ``table``)."""
    from records_api.app import build_handler
    from records_service.repositories import Repositories
    from records_service.settings import Settings

    settings = Settings.from_env()
    if table_name is not None:
        settings = Settings(table_name=table_name)
    served = [*CONTENT_TYPES.values(), extra]
    handler = build_handler(
        settings, served, repositories=Repositories(settings, env.dynamodb_client, table=table)
    )
    return Api(handler)

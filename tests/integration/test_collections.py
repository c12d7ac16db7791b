"""Collections on DynamoDB Local: content types sharing a partition, read in one Query.

Partition ``a1`` of the ``cast`` partitions holds an actor, 30 reviews (two expired) and three
awards, a type the collection does not declare; ``a2`` holds another actor and two reviews.
Every test runs on the sync and the async collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import Collection, CollectionPage, InvalidCursorError
from tests.integration.collection_support import (
    EXPIRED,
    Actor,
    Award,
    Flavour,
    Note,
    Review,
    actor,
    award,
    flavour_fixture,
    note,
    review,
)
from tests.integration.harness import PARTITION_KEY, PARTITION_PREFIX, SORT_KEY

REVIEWS = 30
GONE = {4, 17}  # the reviews of a1 that have expired
LIVE_REVIEWS = [n for n in range(REVIEWS) if n not in GONE]


@pytest.fixture(params=["sync", "async"])
def flavour(
    request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal, table_name: str
) -> Iterator[Flavour]:
    yield from flavour_fixture(request.param, dynamodb_local.endpoint_url, table_name)


@pytest.fixture
def repos(flavour: Flavour) -> dict[str, Any]:
    """The ``actor`` and ``review`` repositories, with a1 and a2 stored."""
    flavour.writer(Actor, "actor").put_batch([actor("a1", rating=5), actor("a2")])
    flavour.writer(Review, "review").put_batch(
        [review("a1", n, expiry=EXPIRED if n in GONE else None) for n in range(REVIEWS)]
        + [review("a2", n) for n in range(2)]
    )
    flavour.writer(Award, "award").put_batch([award("a1", n) for n in range(3)])
    return {"actor": flavour.repo(Actor, "actor"), "review": flavour.repo(Review, "review")}


@pytest.fixture
def cast(flavour: Flavour, repos: dict[str, Any]) -> Any:
    return flavour.collection(repos)


def _keys(page: CollectionPage, *, descending: bool = False) -> list[str]:
    """The sort keys of a page's items, known and unknown, in the read's order."""
    known = [
        f"{name}#{'#'.join(content.content_ids)}"
        for name, contents in page.contents.items()
        for content in contents
    ]
    return sorted(known + [key[SORT_KEY] for key in page.unknown], reverse=descending)


def _read_all(cast: Any, limit: int, **options: Any) -> list[CollectionPage]:
    """Every page, ``limit`` items a read, each read resumed from the last one's cursor; each
    read but the last returns exactly ``limit`` items."""
    reads: list[list[CollectionPage]] = []
    cursor = None
    while True:
        read = list(cast.read(["a1"], limit=limit, cursor=cursor, **options))
        reads.append(read)
        cursor = read[-1].cursor
        if cursor is None:
            break
    sizes = [sum(len(page) for page in read) for read in reads]
    assert all(size == limit for size in sizes[:-1]), sizes
    assert sizes[-1] <= limit
    return [page for read in reads for page in read]


EVERY_KEY = (
    ["actor#"] + [f"award#{n:03}" for n in range(3)] + [f"review#{n:03}" for n in LIVE_REVIEWS]
)


def test_a_read_decodes_each_type_into_its_model_and_reports_unknown_ones(cast: Any) -> None:
    pages = list(cast.read(["a1"]))

    assert len(pages) == 1
    page = pages[0]
    assert set(page.contents) == {"actor", "review"}
    (profile,) = page.contents["actor"]
    assert profile.item == Actor(id="a1", name="name a1", rating=5)
    assert profile.partition_ids == ["a1"]
    assert [c.content_ids for c in page.contents["review"]] == [[f"{n:03}"] for n in LIVE_REVIEWS]
    assert all(isinstance(c.item, Review) for c in page.contents["review"])
    assert page.unknown == [
        {PARTITION_KEY: f"{PARTITION_PREFIX}#cast#a1", SORT_KEY: f"award#{n:03}"} for n in range(3)
    ]
    assert page.cursor is None


def test_pages_are_typed_by_repository(cast: Any, repos: dict[str, Any]) -> None:
    (page,) = cast.read(["a2"])
    target = getattr(repos["actor"], "target", repos["actor"])

    assert [content.item.id for content in page.of(target)] == ["a2"]
    assert len(page.of(getattr(repos["review"], "target", repos["review"]))) == 2


@pytest.mark.parametrize("limit", [1, 4, 7, 33])
def test_exact_limits_and_cursors_walk_the_whole_partition_in_order(cast: Any, limit: int) -> None:
    pages = _read_all(cast, limit)

    keys = [key for page in pages for key in _keys(page)]
    assert keys == EVERY_KEY


def test_descending_order_walks_the_partition_backwards(cast: Any) -> None:
    pages = _read_all(cast, 5, sort_ascending=False)

    keys = [key for page in pages for key in _keys(page, descending=True)]
    assert keys == EVERY_KEY[::-1]


def test_one_type_is_read_by_its_prefix_alone(cast: Any) -> None:
    pages = _read_all(cast, 6, types=["review"])

    assert all(set(page.contents) == {"review"} and not page.unknown for page in pages)
    assert [key for page in pages for key in _keys(page)] == [
        f"review#{n:03}" for n in LIVE_REVIEWS
    ]


def test_several_types_of_a_larger_collection_are_filtered_with_exact_limits(
    flavour: Flavour, repos: dict[str, Any]
) -> None:
    flavour.writer(Note, "note").put_batch([note("a1", n) for n in range(3)])
    cast = flavour.collection({**repos, "note": flavour.repo(Note, "note")})

    pages = _read_all(cast, 2, types=["actor", "note"])

    keys = [key for page in pages for key in _keys(page)]
    assert keys == ["actor#", "note#000", "note#001", "note#002"]
    assert sum(len(page) for page in pages) == 4
    assert all(not page.unknown for page in pages)


def test_expired_items_are_left_out(cast: Any) -> None:
    (page,) = cast.read(["a1"], types=["review"])

    assert len(page.contents["review"]) == REVIEWS - len(GONE)


def test_another_partition_reads_only_its_own_items(cast: Any) -> None:
    (page,) = cast.read(["a2"])

    assert _keys(page) == ["actor#", "review#000", "review#001"]


def _first_cursor(cast: Any, **options: Any) -> str:
    (page,) = cast.read(["a1"], limit=1, **options)
    assert page.cursor is not None
    return str(page.cursor)


def test_a_cursor_resumes_only_the_read_it_came_from(
    cast: Any, flavour: Flavour, repos: dict[str, Any]
) -> None:
    everything = _first_cursor(cast)
    reviews_only = _first_cursor(cast, types=["review"])
    other = flavour.collection({"review": repos["review"]})

    for reader, partition, cursor, types, message in [
        (cast, "a2", everything, None, "another partition"),
        (cast, "a1", reviews_only, None, "other types"),
        (cast, "a1", everything, ["review"], "other types"),
        (other, "a1", everything, None, "another collection"),
        (cast, "a1", "bm90IGEgY3Vyc29y", None, "not one this library issued"),
    ]:
        with pytest.raises(InvalidCursorError, match=message):
            list(reader.read([partition], cursor=cursor, types=types))


def test_listing_and_collection_cursors_are_not_interchangeable(
    cast: Any, repos: dict[str, Any]
) -> None:
    listing = next(iter(repos["review"].list(["a1"], None, limit=1))).cursor
    assert listing is not None

    with pytest.raises(InvalidCursorError, match="a listing's"):
        list(cast.read(["a1"], cursor=listing))
    with pytest.raises(InvalidCursorError):
        list(repos["review"].list(["a1"], None, cursor=_first_cursor(cast)))


def test_unknown_types_are_refused_before_any_request(cast: Any) -> None:
    with pytest.raises(ValueError, match="actor, review"):
        list(cast.read(["a1"], types=["award"]))


def test_repositories_that_do_not_share_a_partition_are_refused(flavour: Flavour) -> None:
    actors = flavour.writer(Actor, "actor")
    for other, difference in [
        (flavour.writer(Review, "review", partition_name="review"), "partition prefix and name"),
        (flavour.writer(Review, "review", table_name="elsewhere"), "table"),
        (flavour.writer(Review, "review", sort_key="sk"), "sort key attribute"),
    ]:
        with pytest.raises(ValueError, match=difference):
            Collection(repos={"actor": actors, "review": other})
    with pytest.raises(ValueError, match="name it by its content type"):
        Collection(repos={"actor": actors, "reviews": flavour.writer(Review, "review")})
    with pytest.raises(ValueError, match="could not be told apart"):
        Collection(repos={"actor": actors, "actor#x": flavour.writer(Review, "actor#x")})
    with pytest.raises(ValueError, match="at least one"):
        Collection(repos={})

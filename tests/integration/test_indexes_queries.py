"""Querying logical indexes on DynamoDB Local: order, ranges, paging, cursors, consistency,
projections, content types sharing a physical index, sync and async."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from pydantic_dynamo import (
    InvalidAttributeError,
    InvalidCursorError,
    InvalidQueryError,
    PartitionedContent,
    attr,
)
from tests.integration import index_support
from tests.integration.index_support import (
    Calls,
    FilmSummary,
    Review,
    film,
    new_table,
    stored,
    sync_repo,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The shared fixtures, by name, for pytest to find here.
calls = index_support.calls
own_client = index_support.own_client
repo = index_support.repo

# Enough padded films under one director for DynamoDB to answer in several 1 MB pages.
MANY = 700
PADDING = 4500
EXPIRED = datetime(2001, 1, 1, tzinfo=UTC)


def ids(batches: Iterable[Any]) -> list[str]:
    return [content.content_ids[0] for batch in batches for content in batch]


@pytest.fixture(scope="module")
def table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """Films and reviews, written once for the module; nothing here writes to it again."""
    name = new_table(dynamodb_client)
    films = sync_repo(dynamodb_client, name)
    films.put_batch(
        [
            film(
                f"m{i:04d}",
                director="Many",
                year=1900 + i % 100,
                bucket=i % 10,
                tagline="x" * PADDING,
                genre="epic",
                decade=f"{1900 + i % 100 // 10 * 10}s",
            )
            for i in range(MANY)
        ]
    )
    films.put_batch(
        [
            film("n1", director="Nolan", year=2010, decade="2010s", genre="scifi"),
            film("n2", director="Nolan", year=2014, decade="2010s", genre="scifi"),
            film("n3", director="Nolan", year=2000, decade="2000s", genre="thriller"),
            film("n4", director="Nolan", year=2023, decade="2020s", genre="drama"),
            film("x1", director="Nolan", year=2020, genre="scifi").model_copy(
                update={"expiry": EXPIRED}
            ),
            film("s1", director=None, year=2010, decade="2010s", genre="scifi"),
            film("o1", partition="other", director="Nolan", year=1998, genre="scifi"),
        ]
    )
    reviews = sync_repo(dynamodb_client, name, Review)
    for i in range(3):
        review = Review(id=f"r{i}", film_id="Nolan", created=datetime(2024, 3, i + 1, tzinfo=UTC))
        reviews.put(
            reviews.core.content_class(partition_ids=["Nolan"], content_ids=[f"r{i}"], item=review)
        )
    yield name
    with contextlib.suppress(Exception):
        dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def films(own_client: Any, table: str) -> Any:
    """The sync repository, on the client ``calls`` watches."""
    return sync_repo(own_client, table)


# -- what comes back -----------------------------------------------------------------------------


def test_a_global_index_partition_comes_back_in_sort_order_without_sparse_or_expired_items(
    repo: Any,
) -> None:
    assert ids(repo.query_index("by_director", ["Nolan"])) == ["o1", "n3", "n1", "n2", "n4"]
    descending = ids(repo.query_index("by_director", ["Nolan"], sort_ascending=False))
    assert descending == ["n4", "n2", "n1", "n3", "o1"]


def test_entries_decode_into_full_contents(repo: Any) -> None:
    (content,) = [
        c for batch in repo.query_index("by_director", ["Nolan"], prefix=[2014]) for c in batch
    ]
    assert content.partition_ids == ["films"]
    assert content.content_ids == ["n2"]
    assert (
        content.item == film("n2", director="Nolan", year=2014, decade="2010s", genre="scifi").item
    )


def test_prefix_and_between_select_by_sort_fields(repo: Any) -> None:
    assert ids(repo.query_index("by_director", ["Nolan"], prefix=["201"])) == ["n1", "n2"]
    between = repo.query_index("by_director", ["Nolan"], between=([2000], [2014]))
    assert ids(between) == ["n3", "n1", "n2"]
    same = repo.query_index("by_director", ["Nolan"], between=([2010], [2010]))
    assert ids(same) == ["n1"]


def test_a_local_index_reads_within_the_items_partition(repo: Any) -> None:
    titles = ids(repo.query_index("by_title", ["films"], prefix=["title n"]))
    assert titles == ["n1", "n2", "n3", "n4"]
    assert ids(repo.query_index("by_title", ["other"])) == ["o1"]


def test_filters_are_checked_against_the_model_and_applied(repo: Any) -> None:
    recent = repo.query_index("by_director", ["Nolan"], filters=attr("genre") == "scifi")
    assert ids(recent) == ["o1", "n1", "n2"]
    with pytest.raises(InvalidAttributeError):
        list(repo.query_index("by_director", ["Nolan"], filters=attr("genra") == "scifi"))


def test_two_content_types_on_one_physical_index_see_only_their_own(
    own_client: Any, table: str, repo: Any
) -> None:
    reviews = sync_repo(own_client, table, Review)
    got = [c.item.id for batch in reviews.query_index("by_film", ["Nolan"]) for c in batch]
    assert got == ["r0", "r1", "r2"]
    assert ids(repo.query_index("by_director", ["Nolan"], prefix=[2024])) == []
    march_2 = reviews.query_index("by_film", ["Nolan"], prefix=["2024-03-02"])
    assert [c.item.id for batch in march_2 for c in batch] == ["r1"]


def test_an_unknown_index_is_refused_naming_the_known_ones(repo: Any) -> None:
    with pytest.raises(InvalidAttributeError, match="by_director"):
        list(repo.query_index("by_actor", ["Nolan"]))


# -- paging --------------------------------------------------------------------------------------


def test_paging_with_a_filter_spans_many_pages_and_the_limit_is_exact(
    repo: Any, own_client: Any
) -> None:
    wanted = attr("bucket") < 7
    batches = list(repo.query_index("by_director", ["Many"], filters=wanted, limit=450))
    assert len(batches) >= 3  # 3 MB of entries: several DynamoDB pages
    got = ids(batches)
    assert len(got) == 450
    expected = sorted(
        (f"m{i:04d}" for i in range(MANY) if i % 10 < 7), key=lambda f: (int(f[1:]) % 100, f)
    )
    assert got == expected[:450]
    resumed = ids(
        repo.query_index("by_director", ["Many"], filters=wanted, cursor=batches[0].cursor)
    )
    first = len(list(batches[0]))
    assert resumed == expected[first:]


def test_an_exact_limit_without_filters_ends_with_a_cursor_to_the_rest(repo: Any) -> None:
    (batch,) = list(repo.query_index("by_director", ["Nolan"], limit=2))
    assert ids([batch]) == ["o1", "n3"]
    rest = ids(repo.query_index("by_director", ["Nolan"], cursor=batch.cursor))
    assert rest == ["n1", "n2", "n4"]


# -- cursors -------------------------------------------------------------------------------------


@pytest.fixture
def nolan_cursor(films: Any) -> str:
    (batch,) = list(films.query_index("by_director", ["Nolan"], limit=1))
    assert batch.cursor is not None
    cursor: str = batch.cursor
    return cursor


def test_a_cursor_of_another_index_is_refused(films: Any, nolan_cursor: str) -> None:
    with pytest.raises(InvalidCursorError, match="another index"):
        list(films.query_index("by_genre", ["scifi"], cursor=nolan_cursor))


def test_a_cursor_of_another_partition_is_refused(films: Any, nolan_cursor: str) -> None:
    with pytest.raises(InvalidCursorError, match="partition"):
        list(films.query_index("by_director", ["Lynch"], cursor=nolan_cursor))


def test_a_cursor_outside_the_prefix_is_refused(films: Any, nolan_cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        list(films.query_index("by_director", ["Nolan"], prefix=[2014], cursor=nolan_cursor))


def test_list_and_index_cursors_are_not_interchangeable(films: Any, nolan_cursor: str) -> None:
    (listed,) = list(films.list(["films"], None, limit=1))
    with pytest.raises(InvalidCursorError, match="listing"):
        list(films.query_index("by_director", ["Nolan"], cursor=listed.cursor))
    with pytest.raises(InvalidCursorError, match="index"):
        list(films.list(["films"], None, cursor=nolan_cursor))


@pytest.mark.parametrize("cursor", ["", "garbage", "eyJ4IjoxfQ", "WyIyIiwiYnlfZGlyZWN0b3IiXQ"])
def test_a_garbage_cursor_is_refused(films: Any, calls: Calls, cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        list(films.query_index("by_director", ["Nolan"], cursor=cursor))
    assert calls.count("Query") == 0


# -- consistency ---------------------------------------------------------------------------------


def test_a_consistent_read_of_a_global_index_is_refused_before_any_request(
    films: Any, calls: Calls
) -> None:
    with pytest.raises(InvalidQueryError, match="eventually consistent"):
        list(films.query_index("by_director", ["Nolan"], consistent_read=True))
    assert calls.count("Query") == 0
    assert issubclass(InvalidQueryError, ValueError)


def test_a_local_index_honours_consistent_read_and_a_global_one_reads_eventually(
    films: Any, calls: Calls
) -> None:
    list(films.query_index("by_title", ["films"], prefix=["title n1"], consistent_read=False))
    list(films.query_index("by_title", ["films"], prefix=["title n1"]))  # the repository's
    list(films.query_index("by_director", ["Nolan"]))
    assert [p["ConsistentRead"] for p in calls.params("Query")] == [False, True, False]


# -- projections ---------------------------------------------------------------------------------


def test_a_keys_only_index_fetches_the_full_items_in_index_order(
    repo: Any, films: Any, calls: Calls
) -> None:
    got = [c for batch in films.query_index("by_genre", ["scifi"]) for c in batch]
    assert [c.content_ids[0] for c in got] == ["n1", "n2", "o1", "s1"]  # by title
    assert got[0].item.director == "Nolan"
    assert got[0].item.year == 2010
    assert calls.count("BatchGetItem") == 1
    assert ids(repo.query_index("by_genre", ["scifi"])) == ["n1", "n2", "o1", "s1"]


def test_a_fetched_page_drops_items_gone_meanwhile_and_keeps_the_limit_exact(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient, table: str
) -> None:
    name = new_table(dynamodb_client)
    try:
        writer = sync_repo(dynamodb_client, name)
        writer.put_batch([film(f"g{i}", genre="noir") for i in range(6)])
        repo = sync_repo(own_client, name)
        deleted: list[bool] = []

        def delete_one(response: dict[str, Any]) -> None:
            if not deleted:  # the first page's entries are read: one of them goes
                deleted.append(writer.delete_item(["films"], ["g1"]))

        calls.after("Query", delete_one)
        assert ids(repo.query_index("by_genre", ["noir"], limit=3)) == ["g0", "g2", "g3"]
        assert deleted == [True]
        assert calls.count("Query") == 2  # one more entry read in place of the one gone
    finally:
        dynamodb_client.delete_table(TableName=name)


def test_a_fetched_page_drops_items_whose_index_values_changed(
    own_client: Any, calls: Calls, dynamodb_client: DynamoDBClient
) -> None:
    name = new_table(dynamodb_client)
    try:
        writer = sync_repo(dynamodb_client, name)
        writer.put_batch([film(f"g{i}", genre="noir") for i in range(3)])
        repo = sync_repo(own_client, name)
        moved: list[bool] = []

        def retitle(response: dict[str, Any]) -> None:
            if not moved:  # the page's entries are read: g0's entry moves before the fetch
                moved.append(True)
                writer.put(film("g0", genre="noir", title="zzz"))

        calls.after("Query", retitle)
        assert ids(repo.query_index("by_genre", ["noir"])) == ["g1", "g2"]
        assert ids(repo.query_index("by_genre", ["noir"])) == ["g1", "g2", "g0"]
    finally:
        dynamodb_client.delete_table(TableName=name)


def test_an_include_index_without_a_projection_model_fetches_the_full_items(
    repo: Any, films: Any, calls: Calls
) -> None:
    got = [c for batch in films.query_index("by_decade", ["2010s"]) for c in batch]
    assert [c.content_ids[0] for c in got] == ["n1", "s1", "n2"]  # by year, then title
    assert got[0].item.genre == "scifi"  # not held by gsi3: fetched
    assert calls.count("BatchGetItem") == 1
    assert ids(repo.query_index("by_decade", ["2010s"])) == ["n1", "s1", "n2"]


def test_a_projection_model_reads_the_entries_without_fetching(
    repo: Any, films: Any, calls: Calls
) -> None:
    got = [c for b in films.query_index("by_decade", ["2010s"], projection=FilmSummary) for c in b]
    assert got == [
        PartitionedContent[FilmSummary](
            partition_ids=["films"],
            content_ids=[cid],
            item=FilmSummary(title=f"title {cid}", year=year),
        )
        for cid, year in (("n1", 2010), ("s1", 2010), ("n2", 2014))
    ]
    assert calls.count("BatchGetItem") == 0
    summaries = repo.query_index("by_decade", ["2010s"], projection=FilmSummary)
    assert [c.item for batch in summaries for c in batch] == [g.item for g in got]


def test_a_projection_model_needing_a_field_the_index_lacks_is_refused_before_any_request(
    films: Any, calls: Calls
) -> None:
    class WithGenre(FilmSummary):
        genre: str = ""

    with pytest.raises(InvalidAttributeError) as raised:
        list(films.query_index("by_decade", ["2010s"], projection=WithGenre))
    assert raised.value.field == "genre"
    with pytest.raises(InvalidAttributeError) as keys_only:
        list(films.query_index("by_genre", ["scifi"], projection=FilmSummary))
    assert keys_only.value.field == "title"
    assert calls.count("Query") == 0


def test_a_filter_on_a_field_the_index_lacks_is_refused(films: Any, calls: Calls) -> None:
    with pytest.raises(InvalidAttributeError) as raised:
        list(films.query_index("by_decade", ["2010s"], filters=attr("genre") == "scifi"))
    assert raised.value.field == "genre"
    assert calls.count("Query") == 0
    held = films.query_index("by_decade", ["2010s"], filters=attr("year") > 2010)
    assert ids(held) == ["n2"]


def test_an_all_index_reads_into_a_projection_model_too(repo: Any) -> None:
    got = repo.query_index("by_director", ["Nolan"], prefix=[2010], projection=FilmSummary)
    assert [c.item for batch in got for c in batch] == [FilmSummary(title="title n1", year=2010)]


def test_expired_items_are_skipped_in_every_kind_of_read(
    repo: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    assert "_ttl" in stored(dynamodb_client, table, "x1")  # still there, past its TTL
    assert "x1" not in ids(repo.query_index("by_director", ["Nolan"]))
    assert "x1" not in ids(repo.query_index("by_genre", ["scifi"]))
    assert "x1" not in ids(repo.query_index("by_title", ["films"], prefix=["title x"]))

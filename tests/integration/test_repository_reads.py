"""get, get_batch, list and list_between against DynamoDB Local: order, limits, cursors, TTL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from pydantic_dynamo import FilterCommand, InvalidCursorError
from tests.integration.harness import (
    RepoFactory,
    Repository,
    Traffic,
)
from tests.integration.support import (
    LARGE_COUNT,
    Example,
    Genre,
    contents_of,
    every_id,
    example,
    ids_of,
    legacy_key,
    numbered,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# -- get and get_batch ---------------------------------------------------------------------------


def test_get_with_no_ids_reads_the_empty_key(repo: Repository[Example]) -> None:
    content = example("x").model_copy(update={"partition_ids": [], "content_ids": []})
    repo.put(content)
    assert repo.get(None, None).content == content


def test_get_tells_no_ids_from_one_empty_id(repo: Repository[Example]) -> None:
    repo.put(example("none").model_copy(update={"partition_ids": [], "content_ids": []}))
    repo.put(example("one").model_copy(update={"partition_ids": [""], "content_ids": [""]}))
    empty = repo.get([], [])
    single = repo.get([""], [""])
    assert empty.content is not None
    assert single.content is not None
    assert (empty.content.item.id, single.content.item.id) == ("none", "one")
    assert (single.content.partition_ids, single.content.content_ids) == ([""], [""])


def test_ids_with_hash_and_backslash_round_trip(repo: Repository[Example]) -> None:
    content = example("x").model_copy(
        update={"partition_ids": ["a#b", "c\\"], "content_ids": ["#", "d\\#e", ""]}
    )
    repo.put(content)
    assert repo.get(["a#b", "c\\"], ["#", "d\\#e", ""]).content == content
    assert contents_of(repo.list(["a#b", "c\\"], None)) == [content]
    assert contents_of(repo.get_batch([(["a#b", "c\\"], ["#", "d\\#e", ""])])) == [content]


def test_ids_with_hash_do_not_collide_with_split_ids(repo: Repository[Example]) -> None:
    joined = example("joined").model_copy(update={"content_ids": ["a#b"]})
    split = example("split").model_copy(update={"content_ids": ["a", "b"]})
    repo.put_batch([joined, split])
    assert repo.get(["films"], ["a#b"]).content == joined
    assert repo.get(["films"], ["a", "b"]).content == split


def test_floats_and_decimals_round_trip_through_the_server(repo: Repository[Example]) -> None:
    values = [0.1, 1e-7, 1e125, 0.1 + 0.2, 123456789.12345679, 1e-130, -2.5, 3.0]
    contents = [example(f"f{i}", rating=value) for i, value in enumerate(values)]
    contents.append(example("d", budget="1.234567890123456789012345678901234567"))
    contents.append(example("z", budget="1" + "0" * 41))  # 42 digits, 1 significant
    repo.put_batch(contents)
    assert contents_of(repo.list(["films"], None)) == sorted(contents)


def test_get_batch_returns_the_stored_items_and_skips_missing_ones(
    repo: Repository[Example],
) -> None:
    repo.put_batch(numbered(5))
    requested = [(["films"], [i]) for i in ["00001", "missing", "00003"]]
    assert sorted(ids_of(repo.get_batch(requested))) == ["00001", "00003"]


def test_get_batch_reads_a_repeated_key_once(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    assert ids_of(repo.get_batch([(["films"], ["a1"]), (["films"], ["a1"])])) == ["a1"]


def test_get_batch_of_nothing_sends_nothing(repo: Repository[Example], traffic: Traffic) -> None:
    assert ids_of(repo.get_batch([])) == []
    assert traffic.sent["BatchGetItem"] == 0


@pytest.mark.parametrize(("count", "requests"), [(1, 1), (100, 1), (101, 2), (250, 3)])
def test_get_batch_sends_one_request_per_100_keys(
    repo: Repository[Example], traffic: Traffic, count: int, requests: int
) -> None:
    repo.put_batch(numbered(count))
    found = ids_of(repo.get_batch([(["films"], [i]) for i in every_id(count)]))
    assert sorted(found) == every_id(count)
    assert traffic.sent["BatchGetItem"] == requests


def test_get_batch_reads_across_partitions(repo: Repository[Example]) -> None:
    repo.put_batch([example("a", partition_ids=["p1"]), example("b", partition_ids=["p2"])])
    found = contents_of(repo.get_batch([(["p1"], ["a"]), (["p2"], ["b"])]))
    assert sorted((c.partition_ids, c.content_ids) for c in found) == [
        (["p1"], ["a"]),
        (["p2"], ["b"]),
    ]


# -- list and list_between -----------------------------------------------------------------------


def test_list_returns_the_items_under_the_prefix_in_order(repo: Repository[Example]) -> None:
    repo.put_batch(
        [
            example("x").model_copy(update={"content_ids": ids})
            for ids in (["usa", "ny", "2"], ["usa", "ca"], ["usa", "ny", "1"], ["uk", "ldn"])
        ]
    )
    listed = contents_of(repo.list(["films"], ["usa", "ny"]))
    assert [c.content_ids for c in listed] == [["usa", "ny", "1"], ["usa", "ny", "2"]]


def test_list_with_a_partial_id_matches_by_prefix(repo: Repository[Example]) -> None:
    repo.put_batch([example(day) for day in ("2023-01-05", "2023-02-01", "2024-01-01")])
    assert ids_of(repo.list(["films"], ["2023"])) == ["2023-01-05", "2023-02-01"]


def test_list_descending_reverses_the_order(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(5))
    assert ids_of(repo.list(["films"], None, sort_ascending=False)) == every_id(5)[::-1]


def test_list_sees_only_its_content_type_and_partition(repo_factory: RepoFactory) -> None:
    actors, reviews = repo_factory(Example), repo_factory(Example, content_type="review")
    actors.put_batch([example("a1"), example("elsewhere", partition_ids=["other"])])
    reviews.put(example("r1"))
    assert ids_of(actors.list(["films"], None)) == ["a1"]


def test_list_of_an_empty_partition_returns_nothing(repo: Repository[Example]) -> None:
    assert contents_of(repo.list(["nobody"], None)) == []


def test_list_filters_on_attributes(repo: Repository[Example]) -> None:
    repo.put_batch(
        [
            example("a", genre=Genre.COMEDY, count=5),
            example("b", genre=Genre.COMEDY, count=1),
            example("c", genre=Genre.DRAMA, count=9),
        ]
    )
    filters = FilterCommand(equals={"genre": Genre.COMEDY}, gt={"count": 2})
    assert ids_of(repo.list(["films"], None, filters=filters)) == ["a"]


def test_list_filters_on_nested_attributes(repo: Repository[Example]) -> None:
    repo.put_batch([example("a", address={"city": "Rome"}), example("b")])
    filters = FilterCommand(equals={"address.city": "Rome"})
    assert ids_of(repo.list(["films"], None, filters=filters)) == ["a"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (FilterCommand(equals={"genre": Genre.COMEDY}), ["00001", "00003"]),
        (FilterCommand(not_equals={"genre": "drama"}), ["00001", "00003"]),
        (FilterCommand(exists={"scores.views"}), ["00000", "00002"]),
        (FilterCommand(not_exists={"scores.views"}), ["00001", "00003"]),
        (FilterCommand(begins_with={"name": "actor 0000"}), ["00000", "00001", "00002", "00003"]),
        (FilterCommand(contains={"tags": "t1"}), ["00002", "00003"]),
        (FilterCommand(between={"count": (1, 2)}), ["00001", "00002"]),
        (FilterCommand(gt={"rating": 1.5}), ["00002", "00003"]),
        (FilterCommand(ge={"rating": 1.5}), ["00001", "00002", "00003"]),
        (FilterCommand(lt={"budget": "0.2"}), ["00000", "00001"]),
        (FilterCommand(le={"born": datetime(2001, 1, 1, tzinfo=UTC)}), ["00000", "00001"]),
        (FilterCommand(is_in={"count": [0, 3]}), ["00000", "00003"]),
        (FilterCommand(equals={"address.city": "City 2"}), ["00002"]),
        (FilterCommand(equals={"scores.views": 2}), ["00002"]),
    ],
    ids=lambda value: (
        next(k for k, v in value.model_dump().items() if v)
        if isinstance(value, FilterCommand)
        else None
    ),
)
def test_filter_of_each_kind_selects_on_the_server(
    repo: Repository[Example], filters: FilterCommand, expected: list[str]
) -> None:
    repo.put_batch(
        example(
            f"{i:05d}",
            count=i,
            rating=1.0 + i / 2,
            budget=f"0.{i}",
            genre=Genre.COMEDY if i % 2 else Genre.DRAMA,
            tags=[f"t{j}" for j in range(i)],
            born=datetime(2000 + i, 1, 1, tzinfo=UTC),
            address={"city": f"City {i}"},
            scores={"views": i} if i % 2 == 0 else {},
        )
        for i in range(4)
    )
    assert ids_of(repo.list(["films"], None, filters=filters)) == expected


@pytest.fixture
def reviews(
    repo: Repository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> Repository[Example]:
    """00000 has a review, 00001's is None (stored as NULL), 00002 has no review attribute."""
    repo.put_batch([example("00000", review="good"), example("00001"), example("00002")])
    dynamodb_client.update_item(
        TableName=table_name,
        Key=legacy_key(["films"], ["00002"]),
        UpdateExpression="REMOVE review",
    )
    null = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["films"], ["00001"]))
    missing = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["films"], ["00002"]))
    assert null["Item"]["review"] == {"NULL": True}
    assert "review" not in missing["Item"]
    return repo


def test_not_exists_matches_an_attribute_missing_or_stored_as_null(
    reviews: Repository[Example],
) -> None:
    filters = FilterCommand(not_exists={"review"})
    assert ids_of(reviews.list(["films"], None, filters=filters)) == ["00001", "00002"]


def test_exists_matches_only_an_attribute_present_and_not_null(
    reviews: Repository[Example],
) -> None:
    filters = FilterCommand(exists={"review"})
    assert ids_of(reviews.list(["films"], None, filters=filters)) == ["00000"]


def test_not_exists_and_exists_split_a_nested_attribute_by_null(repo: Repository[Example]) -> None:
    repo.put_batch([example("a", address={"city": "Rome", "zip": "00100"}), example("b")])
    missing = FilterCommand(not_exists={"address.zip"})
    present = FilterCommand(exists={"address.zip"})
    assert ids_of(repo.list(["films"], None, filters=missing)) == ["b"]
    assert ids_of(repo.list(["films"], None, filters=present)) == ["a"]


def test_list_between_includes_both_bounds(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(10))
    assert ids_of(repo.list_between(["films"], ["00002"], ["00005"])) == every_id(6)[2:]


def test_list_between_descending(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(10))
    listed = ids_of(repo.list_between(["films"], ["00002"], ["00005"], sort_ascending=False))
    assert listed == every_id(6)[2:][::-1]


def test_list_between_with_partial_ids_covers_the_range(repo: Repository[Example]) -> None:
    repo.put_batch(
        [example(day) for day in ("2022-12-31", "2023-01-15", "2023-03-31", "2023-04-02")]
    )
    listed = ids_of(repo.list_between(["films"], ["2023-01"], ["2023-04"]))
    assert listed == ["2023-01-15", "2023-03-31"]


def test_list_between_equal_bounds_lists_by_prefix(repo: Repository[Example]) -> None:
    repo.put_batch([example(day) for day in ("2023-01-01", "2023-01-31", "2023-02-01")])
    listed = ids_of(repo.list_between(["films"], ["2023-01"], ["2023-01"]))
    assert listed == ["2023-01-01", "2023-01-31"]


def test_list_between_with_filter_and_limit(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(20))
    filters = FilterCommand(is_in={"bucket": [3, 4, 7, 12, 15]})
    listed = ids_of(repo.list_between(["films"], ["00004"], ["00015"], limit=3, filters=filters))
    assert listed == ["00004", "00007", "00012"]


# -- more than a page ----------------------------------------------------------------------------


def test_listing_more_than_1_mb_arrives_in_several_batches_in_order(
    large: Repository[Example], traffic: Traffic
) -> None:
    batches = list(large.list(["films"], None))
    assert len(batches) > 1
    assert ids_of(batches) == every_id(LARGE_COUNT)
    assert traffic.sent["Query"] == len(batches)
    assert all(batch.cursor is not None for batch in batches[:-1])
    assert batches[-1].cursor is None


def test_listing_more_than_1_mb_descending(large: Repository[Example]) -> None:
    batches = list(large.list(["films"], None, sort_ascending=False))
    assert len(batches) > 1
    assert ids_of(batches) == every_id(LARGE_COUNT)[::-1]


def test_batches_are_read_as_they_are_consumed(
    large: Repository[Example], traffic: Traffic
) -> None:
    first = next(iter(large.list(["films"], None)))
    assert len(first) > 0
    assert traffic.sent["Query"] == 1


def test_get_batch_of_a_large_selection_arrives_in_several_batches(
    large: Repository[Example],
) -> None:
    wanted = every_id(LARGE_COUNT)[::3]
    batches = list(large.get_batch([(["films"], [i]) for i in wanted]))
    assert len(batches) > 1
    assert sorted(ids_of(batches)) == wanted


# -- limit ---------------------------------------------------------------------------------------


def test_limit_without_filter_returns_exactly_limit_items(
    repo: Repository[Example], traffic: Traffic
) -> None:
    repo.put_batch(numbered(30))
    assert ids_of(repo.list(["films"], None, limit=7)) == every_id(7)
    assert traffic.sent["Query"] == 1


def test_limit_above_the_item_count_returns_every_item(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(5))
    assert ids_of(repo.list(["films"], None, limit=50)) == every_id(5)


def test_limit_without_filter_spanning_pages_is_exact(large: Repository[Example]) -> None:
    assert ids_of(large.list(["films"], None, limit=500)) == every_id(500)


def test_limit_with_a_filter_keeps_paging_until_it_is_reached(
    large: Repository[Example], traffic: Traffic
) -> None:
    # Half the items match: more than 1 MB of matches, so more than one page is needed.
    filters = FilterCommand(equals={"even": True})
    listed = ids_of(large.list(["films"], None, limit=300, filters=filters))
    assert listed == every_id(600)[::2]
    assert traffic.sent["Query"] > 1


def test_limit_with_a_sparse_filter_is_exact(large: Repository[Example]) -> None:
    # DynamoDB Local cuts pages after filtering (DynamoDB before): these matches come in one.
    filters = FilterCommand(is_in={"bucket": [5, 250, 333, 480, 690]})
    listed = ids_of(large.list(["films"], None, limit=4, filters=filters))
    assert listed == ["00005", "00250", "00333", "00480"]


def test_limit_with_a_filter_matching_fewer_returns_them_all(large: Repository[Example]) -> None:
    filters = FilterCommand(is_in={"bucket": [10, 690]})
    assert ids_of(large.list(["films"], None, limit=5, filters=filters)) == ["00010", "00690"]


def test_limit_with_a_filter_descending(large: Repository[Example]) -> None:
    filters = FilterCommand(between={"bucket": (100, 600)})
    listed = ids_of(large.list(["films"], None, sort_ascending=False, limit=3, filters=filters))
    assert listed == ["00600", "00599", "00598"]


# -- cursors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ascending", [True, False], ids=["ascending", "descending"])
def test_cursor_resumes_right_after_the_last_item_returned(
    repo: Repository[Example], ascending: bool
) -> None:
    repo.put_batch(numbered(20))
    expected = every_id(20) if ascending else every_id(20)[::-1]
    first = list(repo.list(["films"], None, sort_ascending=ascending, limit=6))
    cursor = first[-1].cursor
    assert cursor is not None
    rest = ids_of(repo.list(["films"], None, sort_ascending=ascending, limit=6, cursor=cursor))
    assert ids_of(first) + rest == expected[:12]


@pytest.mark.parametrize("ascending", [True, False], ids=["ascending", "descending"])
def test_paging_with_cursors_visits_every_item_once(
    repo: Repository[Example], ascending: bool
) -> None:
    repo.put_batch(numbered(23))
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        batches = list(repo.list(["films"], None, ascending, limit=5, cursor=cursor))
        seen += ids_of(batches)
        cursor = batches[-1].cursor
        if cursor is None:
            break
    assert seen == (every_id(23) if ascending else every_id(23)[::-1])


@pytest.mark.parametrize("ascending", [True, False], ids=["ascending", "descending"])
def test_cursor_with_a_filter_resumes_after_the_last_match(
    large: Repository[Example], ascending: bool
) -> None:
    matching = [7, 150, 151, 400, 401, 402, 650]
    filters = FilterCommand(is_in={"bucket": matching})
    expected = [f"{i:05d}" for i in (matching if ascending else matching[::-1])]
    first = list(large.list(["films"], None, ascending, limit=3, filters=filters))
    cursor = first[-1].cursor
    assert cursor is not None
    rest = ids_of(large.list(["films"], None, ascending, limit=10, filters=filters, cursor=cursor))
    assert ids_of(first) + rest == expected


@pytest.mark.parametrize("ascending", [True, False], ids=["ascending", "descending"])
def test_cursor_across_pages_of_a_large_listing(
    large: Repository[Example], ascending: bool
) -> None:
    expected = every_id(LARGE_COUNT) if ascending else every_id(LARGE_COUNT)[::-1]
    first = list(large.list(["films"], None, ascending, limit=300))
    cursor = first[-1].cursor
    assert cursor is not None
    rest = ids_of(large.list(["films"], None, ascending, cursor=cursor))
    assert ids_of(first) + rest == expected


def test_cursor_of_list_between_resumes_within_the_range(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(20))
    first = list(repo.list_between(["films"], ["00003"], ["00012"], limit=4))
    cursor = first[-1].cursor
    assert cursor is not None
    rest = ids_of(repo.list_between(["films"], ["00003"], ["00012"], cursor=cursor))
    assert ids_of(first) + rest == every_id(13)[3:]


def test_listing_to_the_end_gives_no_cursor(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(3))
    assert [batch.cursor for batch in repo.list(["films"], None)] == [None]


def test_cursor_of_another_partition_is_refused(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(5))
    repo.put_batch([example(str(i), partition_ids=["other"]) for i in range(5)])
    cursor = list(repo.list(["other"], None, limit=2))[-1].cursor
    with pytest.raises(InvalidCursorError):
        list(repo.list(["films"], None, cursor=cursor))


def test_tampered_cursor_is_refused(repo: Repository[Example]) -> None:
    repo.put_batch(numbered(5))
    cursor = list(repo.list(["films"], None, limit=2))[-1].cursor
    assert cursor is not None
    with pytest.raises(InvalidCursorError):
        list(repo.list(["films"], None, cursor=cursor[:-4] + "AAAA"))


def test_cursor_of_a_listing_of_another_prefix_is_refused(repo: Repository[Example]) -> None:
    repo.put_batch([example(f"b{i}") for i in range(4)] + [example(f"a{i}") for i in range(4)])
    cursor = list(repo.list(["films"], ["b"], limit=2))[-1].cursor
    with pytest.raises(InvalidCursorError):
        list(repo.list(["films"], ["a"], cursor=cursor))


# -- expiry --------------------------------------------------------------------------------------


def test_get_of_an_expired_item_returns_no_content(
    repo: Repository[Example], expired: list[str]
) -> None:
    assert repo.get(["films"], [expired[0]]).content is None


def test_list_skips_expired_items(repo: Repository[Example], expired: list[str]) -> None:
    assert ids_of(repo.list(["films"], None)) == [i for i in every_id(10) if i not in expired]


def test_get_batch_skips_expired_items(repo: Repository[Example], expired: list[str]) -> None:
    found = ids_of(repo.get_batch([(["films"], [i]) for i in every_id(10)]))
    assert sorted(found) == [i for i in every_id(10) if i not in expired]


def test_limit_counts_only_unexpired_items(repo: Repository[Example], expired: list[str]) -> None:
    assert ids_of(repo.list(["films"], None, limit=5)) == [
        "00000",
        "00001",
        "00003",
        "00004",
        "00007",
    ]


def test_item_expiring_later_is_returned_with_its_expiry(repo: Repository[Example]) -> None:
    expiry = datetime(2100, 1, 1, tzinfo=UTC)
    repo.put(example("a1").model_copy(update={"expiry": expiry}))
    content = repo.get(["films"], ["a1"]).content
    assert content is not None
    assert content.expiry == expiry

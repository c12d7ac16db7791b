"""put, put_batch, update, delete and delete_item against DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from pydantic_dynamo import (
    InvalidAttributeError,
    ItemNotFoundError,
    RequestObjectStateError,
    UpdateCommand,
    VersionConflictError,
)
from tests.integration.harness import RepoFactory, Repository, Traffic
from tests.integration.support import (
    Address,
    Example,
    ExampleContent,
    Genre,
    contents_of,
    example,
    ids_of,
    legacy_key,
    numbered,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def stored(repo: Repository[Example], content_id: str) -> ExampleContent:
    content = repo.get(["films"], [content_id]).content
    assert content is not None, f"nothing stored at {content_id!r}"
    return content


# -- put -----------------------------------------------------------------------------------------


def test_put_then_get_returns_the_same_content(repo: Repository[Example]) -> None:
    content = example(
        "a1",
        count=3,
        rating=4.5,
        budget=Decimal("1000000.25"),
        tags=["x", "y"],
        labels={"b", "a"},
        address=Address(city="Bergen", zip="5003"),
        scores={"imdb": 8},
        born=datetime(1957, 4, 29, tzinfo=UTC),
        genre=Genre.COMEDY,
        review="great",
    )
    repo.put(content)
    assert repo.get(["films"], ["a1"]).content == content


def test_get_of_a_missing_item_returns_no_content(repo: Repository[Example]) -> None:
    assert repo.get(["films"], ["missing"]).content is None


def test_put_replaces_the_item_with_the_same_key(repo: Repository[Example]) -> None:
    repo.put(example("a1", review="first"))
    repo.put(example("a1", review="second"))
    assert stored(repo, "a1").item.review == "second"


def test_put_stores_the_given_version(repo: Repository[Example]) -> None:
    repo.put(example("a1").model_copy(update={"current_version": 7}))
    assert stored(repo, "a1").current_version == 7


def test_put_writes_the_0_4_2_item_shape(
    repo: Repository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    repo.put(example("a1", born=datetime(2000, 1, 2, 3, 4, 5), labels={"b", "a"}))
    raw = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a1"]))["Item"]
    assert raw["id"] == {"S": "a1"}
    assert raw["born"] == {"S": "2000-01-02T03:04:05"}
    assert raw["genre"] == {"S": "drama"}
    assert raw["labels"] == {"L": [{"S": "a"}, {"S": "b"}]}
    assert raw["budget"] == {"N": "0"}
    assert raw["address"] == {"M": {"city": {"S": "Oslo"}, "zip": {"NULL": True}}}
    assert raw["_object_version"] == {"N": "1"}
    assert datetime.fromisoformat(raw["_timestamp"]["S"]).tzinfo is not None
    assert "_ttl" not in raw


def test_put_with_expiry_writes_ttl_in_epoch_seconds(
    repo: Repository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    expiry = datetime(2100, 1, 1, tzinfo=UTC)
    repo.put(example("a1").model_copy(update={"expiry": expiry}))
    raw = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a1"]))["Item"]
    assert raw["_ttl"] == {"N": str(int(expiry.timestamp()))}
    assert stored(repo, "a1").expiry == expiry


# -- put_batch -----------------------------------------------------------------------------------


def test_put_batch_writes_every_content(repo: Repository[Example]) -> None:
    contents = numbered(60)
    repo.put_batch(contents)
    assert contents_of(repo.list(["films"], None)) == contents


def test_put_batch_takes_any_iterable(repo: Repository[Example]) -> None:
    repo.put_batch(content for content in numbered(30))
    assert len(ids_of(repo.list(["films"], None))) == 30


def test_put_batch_of_nothing_sends_nothing(repo: Repository[Example], traffic: Traffic) -> None:
    repo.put_batch([])
    assert traffic.sent["BatchWriteItem"] == 0


def test_put_batch_with_one_key_twice_keeps_the_last(repo: Repository[Example]) -> None:
    repo.put_batch([example("a1", review="first"), example("a2"), example("a1", review="last")])
    assert ids_of(repo.list(["films"], None)) == ["a1", "a2"]
    assert stored(repo, "a1").item.review == "last"


@pytest.mark.parametrize(("count", "requests"), [(1, 1), (25, 1), (26, 2), (60, 3), (101, 5)])
def test_put_batch_sends_one_request_per_25_items(
    repo: Repository[Example], traffic: Traffic, count: int, requests: int
) -> None:
    repo.put_batch(numbered(count))
    assert traffic.sent["BatchWriteItem"] == requests


# -- update --------------------------------------------------------------------------------------


def test_update_sets_attributes_and_returns_the_new_state(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    updated = repo.update(
        ["films"], ["a1"], UpdateCommand(set_commands={"review": "Talented", "rating": 9.5})
    )
    assert updated.item.review == "Talented"
    assert updated.item.rating == 9.5
    assert updated == stored(repo, "a1")


def test_update_adds_one_to_the_version(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    first = repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 1}))
    second = repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 2}))
    assert (first.current_version, second.current_version) == (2, 3)


def test_update_refreshes_the_timestamp(
    repo: Repository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    repo.put(example("a1"))
    key = legacy_key(["films"], ["a1"])
    before = dynamodb_client.get_item(TableName=table_name, Key=key)["Item"]["_timestamp"]["S"]
    repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 1}))
    after = dynamodb_client.get_item(TableName=table_name, Key=key)["Item"]["_timestamp"]["S"]
    assert datetime.fromisoformat(after) >= datetime.fromisoformat(before)
    assert after != before


def test_update_sets_a_nested_attribute_and_keeps_its_siblings(repo: Repository[Example]) -> None:
    repo.put(example("a1", address=Address(city="Oslo", zip="0150")))
    updated = repo.update(
        ["films"], ["a1"], UpdateCommand(set_commands={"address": {"city": "Rome"}})
    )
    assert updated.item.address == Address(city="Rome", zip="0150")


def test_update_sets_a_dotted_nested_path(repo: Repository[Example]) -> None:
    repo.put(example("a1", address=Address(city="Oslo", zip="0150")))
    updated = repo.update(["films"], ["a1"], UpdateCommand(set_commands={"address.zip": "0151"}))
    assert updated.item.address == Address(city="Oslo", zip="0151")


def test_update_sets_one_key_of_a_dict_field(repo: Repository[Example]) -> None:
    repo.put(example("a1", scores={"imdb": 7, "rt": 90}))
    updated = repo.update(["films"], ["a1"], UpdateCommand(set_commands={"scores": {"imdb": 8}}))
    assert updated.item.scores == {"imdb": 8, "rt": 90}


def test_update_sets_a_dict_key_holding_a_dot(repo: Repository[Example]) -> None:
    repo.put(example("a1", scores={"v1.0": 1}))
    updated = repo.update(["films"], ["a1"], UpdateCommand(set_commands={"scores": {"v1.0": 2}}))
    assert updated.item.scores == {"v1.0": 2}


def test_update_replaces_a_whole_nested_model(repo: Repository[Example]) -> None:
    repo.put(example("a1", address=Address(city="Oslo", zip="0150")))
    updated = repo.update(
        ["films"], ["a1"], UpdateCommand(set_commands={"address": Address(city="Rome")})
    )
    assert updated.item.address == Address(city="Rome", zip=None)


def test_update_increments_numbers(repo: Repository[Example]) -> None:
    repo.put(example("a1", count=40, rating=1.25))
    updated = repo.update(
        ["films"], ["a1"], UpdateCommand(increment_attrs={"count": 2, "rating": 0.5})
    )
    assert (updated.item.count, updated.item.rating) == (42, 1.75)


def test_update_increments_a_missing_dict_key_from_zero(repo: Repository[Example]) -> None:
    repo.put(example("a1", scores={}))
    updated = repo.update(["films"], ["a1"], UpdateCommand(increment_attrs={"scores.views": 3}))
    assert updated.item.scores == {"views": 3}


def test_update_appends_to_a_list(repo: Repository[Example]) -> None:
    repo.put(example("a1", tags=["a"]))
    updated = repo.update(["films"], ["a1"], UpdateCommand(append_attrs={"tags": ["b", "c"]}))
    assert updated.item.tags == ["a", "b", "c"]


def test_update_removes_an_optional_attribute(
    repo: Repository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    repo.put(example("a1", review="gone soon"))
    updated = repo.update(["films"], ["a1"], UpdateCommand(remove_attrs={"review"}))
    assert updated.item.review is None
    raw = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a1"]))["Item"]
    assert "review" not in raw


def test_update_sets_the_expiry(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    expiry = datetime(2100, 1, 1, 12, tzinfo=UTC)
    updated = repo.update(["films"], ["a1"], UpdateCommand(expiry=expiry))
    assert updated.expiry == expiry
    assert stored(repo, "a1").expiry == expiry


def test_update_combines_every_kind_of_change(repo: Repository[Example]) -> None:
    repo.put(example("a1", tags=["a"], review="x", address=Address(zip="1")))
    updated = repo.update(
        ["films"],
        ["a1"],
        UpdateCommand(
            set_commands={"address": {"city": "Rome"}, "genre": Genre.HORROR},
            increment_attrs={"count": 1},
            append_attrs={"tags": ["b"]},
            remove_attrs={"review"},
            expiry=datetime.now(UTC) + timedelta(days=1),
        ),
    )
    item = updated.item
    assert (item.address, item.genre, item.count) == (
        Address(city="Rome", zip="1"),
        Genre.HORROR,
        1,
    )
    assert (item.tags, item.review) == (["a", "b"], None)


def test_update_with_the_current_version_applies(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    updated = repo.update(
        ["films"], ["a1"], UpdateCommand(set_commands={"count": 5}, current_version=1)
    )
    assert (updated.item.count, updated.current_version) == (5, 2)


def test_update_with_a_stale_version_raises_a_version_conflict(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 1}))
    with pytest.raises(VersionConflictError) as caught:
        repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 9}, current_version=1))
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
    assert caught.value.key == {
        "PARTITION_KEY": "test#integration#films",
        "SORT_KEY": "example#a1",
    }
    assert stored(repo, "a1").item.count == 1


def test_version_conflict_is_a_request_object_state_error(repo: Repository[Example]) -> None:
    repo.put(example("a1").model_copy(update={"current_version": 3}))
    with pytest.raises(RequestObjectStateError):
        repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 9}, current_version=2))


def test_update_of_a_missing_item_raises_item_not_found(repo: Repository[Example]) -> None:
    with pytest.raises(ItemNotFoundError) as caught:
        repo.update(["films"], ["ghost"], UpdateCommand(set_commands={"count": 1}))
    assert caught.value.key == {
        "PARTITION_KEY": "test#integration#films",
        "SORT_KEY": "example#ghost",
    }
    assert isinstance(caught.value, RequestObjectStateError)
    assert repo.get(["films"], ["ghost"]).content is None


def test_update_without_require_exists_creates_the_item(repo: Repository[Example]) -> None:
    created = repo.update(
        ["films"],
        ["new"],
        UpdateCommand(set_commands={"id": "new", "name": "Newcomer"}),
        require_exists=False,
    )
    assert (created.item.name, created.current_version) == ("Newcomer", 1)
    assert stored(repo, "new") == created


def test_update_naming_an_unknown_attribute_sends_nothing(
    repo: Repository[Example], traffic: Traffic
) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        repo.update(["films"], ["a1"], UpdateCommand(set_commands={"reviw": "typo"}))
    assert caught.value.field == "reviw"
    assert sum(traffic.calls.values()) == 0


# -- delete --------------------------------------------------------------------------------------


def test_delete_removes_every_item_under_the_prefix(repo: Repository[Example]) -> None:
    under = [
        example("x", partition_ids=["p"]).model_copy(update={"content_ids": ["a", str(i)]})
        for i in range(3)
    ]
    other = example("x", partition_ids=["p"]).model_copy(update={"content_ids": ["b", "0"]})
    repo.put_batch([*under, other])
    repo.delete(["p"], ["a"])
    assert [c.content_ids for c in contents_of(repo.list(["p"], None))] == [["b", "0"]]


def test_delete_without_prefix_empties_the_partition_of_this_content_type_only(
    repo_factory: RepoFactory,
) -> None:
    actors, reviews = repo_factory(Example), repo_factory(Example, content_type="review")
    actors.put_batch(numbered(3))
    reviews.put_batch(numbered(2))
    actors.put(example("elsewhere", partition_ids=["other"]))
    actors.delete(["films"], None)
    assert ids_of(actors.list(["films"], None)) == []
    assert ids_of(reviews.list(["films"], None)) == ["00000", "00001"]
    assert ids_of(actors.list(["other"], None)) == ["elsewhere"]


def test_delete_removes_more_than_a_batch_of_items(
    repo: Repository[Example], traffic: Traffic
) -> None:
    repo.put_batch(numbered(60))
    repo.delete(["films"], None)
    assert ids_of(repo.list(["films"], None)) == []
    assert traffic.sent["BatchWriteItem"] == 3 + 3  # put 60, then delete 60


def test_delete_of_an_empty_prefix_sends_no_write(
    repo: Repository[Example], traffic: Traffic
) -> None:
    repo.delete(["films"], ["nothing-here"])
    assert traffic.sent["BatchWriteItem"] == 0


# -- delete_item ---------------------------------------------------------------------------------


def test_delete_item_removes_the_item_and_says_so(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    assert repo.delete_item(["films"], ["a1"]) is True
    assert repo.get(["films"], ["a1"]).content is None


def test_delete_item_of_a_missing_item_says_so(repo: Repository[Example]) -> None:
    assert repo.delete_item(["films"], ["ghost"]) is False


def test_delete_item_leaves_items_sharing_its_prefix(repo: Repository[Example]) -> None:
    repo.put_batch(
        [example("a"), example("ab"), example("a").model_copy(update={"content_ids": ["a", "b"]})]
    )
    repo.delete_item(["films"], ["a"])
    assert [c.content_ids for c in contents_of(repo.list(["films"], None))] == [["a", "b"], ["ab"]]


def test_delete_item_with_the_current_version_deletes(repo: Repository[Example]) -> None:
    repo.put(example("a1"))
    repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 1}))
    assert repo.delete_item(["films"], ["a1"], current_version=2) is True
    assert repo.get(["films"], ["a1"]).content is None


def test_delete_item_with_a_stale_version_raises_and_keeps_the_item(
    repo: Repository[Example],
) -> None:
    repo.put(example("a1"))
    repo.update(["films"], ["a1"], UpdateCommand(set_commands={"count": 1}))
    with pytest.raises(VersionConflictError) as caught:
        repo.delete_item(["films"], ["a1"], current_version=1)
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
    assert stored(repo, "a1").item.count == 1

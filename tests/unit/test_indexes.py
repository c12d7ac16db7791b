"""Logical indexes without a database: index values, queries' bounds, update planning, cursors,
the table description, and the requests the core builds for indexed writes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from pydantic_dynamo import (
    STANDARD_TABLE,
    Index,
    InvalidAttributeError,
    InvalidCursorError,
    InvalidQueryError,
    PartitionedContent,
    PhysicalIndex,
    Projection,
    ReservedAttributeError,
    TableDescription,
    UpdateCommand,
    attr,
)
from pydantic_dynamo.condition_rendering import field_names, render
from pydantic_dynamo.index_queries import index_query
from pydantic_dynamo.indexes import IndexSet, IndexUpdate, changed_since, still_as_read
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import decode_index_cursor, encode_cursor, encode_index_cursor
from pydantic_dynamo.placeholders import Placeholders

GSI1 = PhysicalIndex.global_("gsi1")
GSI2 = PhysicalIndex.global_("gsi2", Projection.keys_only())
LSI1 = PhysicalIndex.local("lsi1")


class Kind(Enum):
    SHORT = "short"
    FEATURE = "feature"


class Film(BaseModel):
    id: str
    title: str
    director: str | None = None
    year: int | None = None
    kind: Kind = Kind.FEATURE
    released: datetime | None = None
    count: int = 0


INDEXES = (
    Index("by_director", GSI1, partition=("director",), sort=("year", "id")),
    Index("by_kind", GSI2, partition=("kind",), sort=("released",)),
    Index("by_title", LSI1, sort=("title",)),
)


def indexes() -> IndexSet:
    return IndexSet(INDEXES, Film, "app", "films", "film")


def core() -> RepositoryCore[Film]:
    return RepositoryCore(
        item_class=Film,
        partition_prefix="app",
        partition_name="films",
        content_type="film",
        table_name="t",
        partition_key="pk",
        sort_key="sk",
        consistent_reads=True,
        indexes=INDEXES,
    )


def film_core(model: type[BaseModel] = BaseModel, **kwargs: Any) -> RepositoryCore[Any]:
    arguments: dict[str, Any] = {
        "item_class": model,
        "partition_prefix": "app",
        "partition_name": "films",
        "content_type": "film",
        "table_name": "t",
        "partition_key": "pk",
        "sort_key": "sk",
    }
    return RepositoryCore(**{**arguments, **kwargs})


# -- declaring -----------------------------------------------------------------------------------


def test_a_model_holding_another_physical_index_key_is_refused_given_the_table() -> None:
    class Sneaky(BaseModel):
        id: str
        gsi1pk: str

    film_core(Sneaky)  # without the table's description, gsi1pk is just a field
    with pytest.raises(ReservedAttributeError, match="gsi1pk"):
        film_core(Sneaky, table_description=TableDescription(indexes=(GSI1,)))


def test_an_index_on_a_physical_index_the_table_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="gsi2"):
        film_core(
            Film,
            indexes=(Index("by_kind", GSI2, partition=("kind",)),),
            table_description=TableDescription(indexes=(GSI1,)),
        )


def test_an_extra_attribute_named_like_an_index_key_is_refused_on_write() -> None:
    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")
        id: str
        name: str | None = None

    repository = film_core(Loose, indexes=(Index("by_name", GSI1, partition=("name",)),))
    sneaky = Loose.model_validate({"id": "1", "gsi1pk": "app#films#film#by_name#X"})
    content = PartitionedContent[Loose](partition_ids=[], content_ids=["1"], item=sneaky)
    with pytest.raises(ReservedAttributeError, match="gsi1pk"):
        repository.encode(content, "2024-01-01T00:00:00+00:00")


@pytest.mark.parametrize("label", ["partition_prefix", "partition_name", "content_type"])
def test_a_repository_with_indexes_refuses_names_holding_the_separator(label: str) -> None:
    with pytest.raises(ValueError, match=label):
        film_core(Film, indexes=INDEXES[:1], **{label: "a#b"})
    film_core(Film, **{label: "a#b"})  # without indexes, as in 0.4.2


def test_a_bytes_field_cannot_compose_an_index() -> None:
    class Blob(BaseModel):
        id: str
        blob: bytes | None = None

    with pytest.raises(InvalidAttributeError, match="blob"):
        film_core(Blob, indexes=(Index("by_blob", GSI1, partition=("blob",)),))


def test_numbers_compose_the_text_dynamodb_returns() -> None:
    from decimal import Decimal

    from pydantic_dynamo.indexes import index_text

    assert index_text(Decimal("1.50"), "n") == index_text(Decimal("1.5"), "n") == "1.5"
    assert index_text(Decimal("1E+2"), "n") == "100"
    assert index_text(Decimal("-0.0"), "n") == "0"
    assert index_text(0.1, "n") == "0.1"


# -- index values --------------------------------------------------------------------------------


def test_an_item_gets_the_values_of_every_index_it_is_in() -> None:
    data = Film(id="f1", title="Heat", director="Mann", year=1995).model_dump()
    assert indexes().attributes(data) == {
        "gsi1pk": {"S": "app#films#film#by_director#Mann"},
        "gsi1sk": {"S": "film#by_director#1995#f1"},
        "lsi1sk": {"S": "film#by_title#Heat"},
    }


def test_values_escape_the_separator_so_fields_never_run_together() -> None:
    one = indexes().attributes({"director": "a#b", "year": 1, "id": "c", "title": "t"})
    two = indexes().attributes({"director": "a", "year": 1, "id": "b#c", "title": "t"})
    assert one["gsi1pk"] != two["gsi1pk"]
    assert one["gsi1pk"]["S"].endswith("a\\#b")


def test_enums_and_datetimes_compose_by_their_stored_text() -> None:
    data = Film(id="f", title="t", released=datetime(2024, 3, 1, tzinfo=UTC)).model_dump()
    entry = indexes().attributes(data)
    assert entry["gsi2pk"] == {"S": "app#films#film#by_kind#feature"}
    assert entry["gsi2sk"] == {"S": "film#by_kind#2024-03-01T00:00:00+00:00"}


def test_an_index_whose_field_is_absent_is_listed_as_absent() -> None:
    attributes = indexes().attributes({"id": "f", "title": "t", "year": 3})
    assert indexes().absent(attributes) == ["gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]


texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)


@given(director=texts, year=st.integers(0, 9999), film_id=texts)
def test_a_query_for_an_items_values_finds_its_entry(
    director: str, year: int, film_id: str
) -> None:
    bound = indexes().get("by_director")
    entry = bound.attributes({"director": director, "year": year, "id": film_id})
    assert bound.partition_value([director]) == entry["gsi1pk"]["S"]
    assert entry["gsi1sk"]["S"].startswith(bound.sort_prefix([year]))
    assert bound.sort_prefix([year, film_id]) == entry["gsi1sk"]["S"]
    low, high = bound.sort_range([year], [year])
    assert low <= entry["gsi1sk"]["S"] <= high


@given(first=texts, second=texts)
def test_distinct_partition_values_never_share_an_index_partition(first: str, second: str) -> None:
    bound = indexes().get("by_director")
    assert (bound.partition_value([first]) == bound.partition_value([second])) == (first == second)


def test_two_content_types_on_one_physical_index_never_share_values() -> None:
    class Review(BaseModel):
        director: str

    films = indexes().get("by_director")
    reviews = IndexSet(
        [Index("by_director", GSI1, partition=("director",))], Review, "app", "films", "review"
    ).get("by_director")
    assert films.partition_value(["Mann"]) != reviews.partition_value(["Mann"])


def test_indexes_refuse_what_cannot_compose_a_key() -> None:
    class Tagged(BaseModel):
        tags: list[str] = []

    with pytest.raises(InvalidAttributeError, match="not a scalar"):
        IndexSet([Index("by_tags", GSI1, partition=("tags",))], Tagged, "a", "b", "c")
    with pytest.raises(InvalidAttributeError, match="no field"):
        IndexSet([Index("by_x", GSI1, partition=("x",))], Film, "a", "b", "c")
    with pytest.raises(ValueError, match="both on physical index"):
        IndexSet([INDEXES[0], Index("other", GSI1, sort=("id",))], Film, "a", "b", "c")
    with pytest.raises(ValueError, match="declare only its sort"):
        Index("local", LSI1, partition=("id",))


def test_an_index_cannot_ask_for_more_than_its_physical_index_holds() -> None:
    with pytest.raises(ValueError, match="more than physical index"):
        Index("x", GSI2, partition=("id",), projection=Projection.all())


# -- the table -----------------------------------------------------------------------------------


def test_the_table_description_builds_its_create_table_request() -> None:
    table = TableDescription(indexes=(GSI1, GSI2, LSI1))
    request = table.create_table_request("t")
    assert [g["IndexName"] for g in request["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2"]
    assert request["GlobalSecondaryIndexes"][1]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    (local,) = request["LocalSecondaryIndexes"]
    assert local["KeySchema"][0] == {"AttributeName": "PARTITION_KEY", "KeyType": "HASH"}
    assert table.reserved_attributes >= {"gsi1pk", "gsi2sk", "lsi1sk"}
    assert STANDARD_TABLE.index("gsi1") == GSI1


def test_the_table_description_refuses_what_dynamodb_would() -> None:
    with pytest.raises(ValueError, match="DynamoDB allows 20"):
        TableDescription(indexes=tuple(PhysicalIndex.global_(f"g{i}") for i in range(21)))
    with pytest.raises(ValueError, match="repeat"):
        TableDescription(indexes=(GSI1, GSI1))


def test_a_model_declaring_an_index_key_attribute_is_refused() -> None:
    class Clash(BaseModel):
        gsi1pk: str

    with pytest.raises(InvalidAttributeError, match="gsi1pk"):
        RepositoryCore(
            item_class=Clash,
            partition_prefix="a",
            partition_name="b",
            content_type="c",
            table_name="t",
            partition_key="pk",
            sort_key="sk",
            indexes=[Index("i", GSI1, sort=("gsi1pk",))],
        )


# -- update planning ------------------------------------------------------------------------------


def test_an_update_giving_every_composing_field_needs_no_read() -> None:
    update = IndexUpdate(indexes(), {"director": "Mann", "year": 1995, "id": "f1"}, ())
    assert update.unread == ()
    assert update.write().sets["gsi1sk"] == {"S": "film#by_director#1995#f1"}


def test_an_update_giving_some_composing_fields_reads_the_others() -> None:
    update = IndexUpdate(indexes(), {"year": 2001}, ())
    assert update.unread == ("director", "id")
    write = update.write({"director": "Mann", "year": 1995, "id": "f1"})
    assert write.sets["gsi1sk"] == {"S": "film#by_director#2001#f1"}


def test_an_update_emptying_a_composing_field_removes_the_entry_without_a_read() -> None:
    update = IndexUpdate(indexes(), {}, {"director"})
    assert update.unread == ()
    assert update.write().removes == ("gsi1pk", "gsi1sk")


def test_the_fields_read_condition_holds_values_nulls_and_absence() -> None:
    stored: dict[str, dict[str, Any]] = {"director": {"S": "Mann"}, "year": {"NULL": True}}
    placeholders = Placeholders()
    rendered = render(still_as_read(stored, ["director", "year", "id"]), None, placeholders)
    assert rendered == "#n0 = :v0 AND attribute_type(#n1, :v1) AND attribute_not_exists(#n2)"
    assert changed_since(stored, {**stored, "id": {"S": "x"}}, ["id"])
    assert not changed_since(stored, dict(stored), ["director", "year", "id"])


def test_an_increment_of_a_composing_field_is_refused() -> None:
    with pytest.raises(InvalidAttributeError, match="by_director"):
        core().index_update(UpdateCommand(increment_attrs={"year": 1}))
    assert core().index_update(UpdateCommand(increment_attrs={"count": 1})) is None


def test_an_update_request_sets_the_index_values_and_checks_the_fields_read() -> None:
    repository = core()
    update = repository.index_update(UpdateCommand(set_commands={"year": 2001}))
    assert update is not None
    stored = {"director": {"S": "Mann"}, "id": {"S": "f1"}}
    request = repository.update_request(
        ["p"],
        ["f1"],
        UpdateCommand(set_commands={"year": 2001}),
        "tok",
        index_write=update.write({"director": "Mann", "id": "f1"}),
        unchanged=still_as_read(stored, update.unread),
    )
    names = request["ExpressionAttributeNames"]
    assert {"gsi1pk", "gsi1sk", "director", "id"} <= set(names.values())
    assert "attribute_not_exists" not in request["ConditionExpression"].split("AND")[-1]
    values = request["ExpressionAttributeValues"].values()
    assert {"S": "film#by_director#2001#f1"} in values


def test_save_removes_the_index_values_of_indexes_the_item_left() -> None:
    content = PartitionedContent[Film](
        partition_ids=["p"], content_ids=["f"], item=Film(id="f", title="t")
    )
    request = core().save_request(content, None, "tok")
    removed = request["UpdateExpression"].split(" REMOVE ")[1]
    names = request["ExpressionAttributeNames"]
    assert {names[n.strip()] for n in removed.split(",")} >= {"gsi1pk", "gsi1sk"}


def test_a_created_item_stores_the_composing_fields_it_does_not_give() -> None:
    repository = core()
    command = UpdateCommand(set_commands={"id": "f", "title": "t"})
    state = repository.check_created_item(command)
    write = repository.created_index_write(command, state)
    assert write.sets["lsi1sk"] == {"S": "film#by_title#t"}
    assert "gsi2pk" in write.removes  # released is None: the created item is not in by_kind
    # None defaults are removed (leftovers of an expired item), others stored as computed.
    assert {"director", "year", "released"} <= set(write.removes)
    assert write.sets["kind"] == {"S": Kind.FEATURE.value}
    assert "kind" not in write.removes
    assert "title" not in write.removes


# -- queries and cursors --------------------------------------------------------------------------


def test_a_global_index_query_targets_its_index_and_reads_eventually() -> None:
    query = index_query(core(), "by_director", ["Mann"], prefix=[1995])
    request = query.plan.next_request()
    assert request is not None
    assert request["IndexName"] == "gsi1"
    assert request["ConsistentRead"] is False
    assert {":v0": {"S": "app#films#film#by_director#Mann"}}.items() <= request[
        "ExpressionAttributeValues"
    ].items()
    assert not query.fetch


def test_a_consistent_read_is_refused_on_a_global_index_only() -> None:
    with pytest.raises(InvalidQueryError):
        index_query(core(), "by_director", ["Mann"], consistent_read=True)
    request = index_query(core(), "by_title", ["p"], consistent_read=True).plan.next_request()
    assert request is not None
    assert request["ConsistentRead"] is True


def test_a_keys_only_index_is_fetched_and_refuses_filters_on_fields_it_lacks() -> None:
    assert index_query(core(), "by_kind", ["short"]).fetch
    with pytest.raises(InvalidAttributeError) as raised:
        index_query(core(), "by_kind", ["short"], filters=attr("title") == "x")
    assert raised.value.field == "title"


def test_field_names_are_the_top_level_fields_a_condition_reads() -> None:
    condition = (attr("a.b") == 1) | ~attr("c").exists() & attr("d").size().between(1, 2)
    assert field_names(condition) == {"a", "c", "d"}


def test_index_cursors_round_trip_and_refuse_other_queries() -> None:
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}, "gsi1pk": {"S": "g"}, "gsi1sk": {"S": "x"}}
    cursor = encode_index_cursor("by_director", "g", key)
    assert decode_index_cursor(cursor, "by_director", "g", list(key)) == key
    with pytest.raises(InvalidCursorError, match="another index"):
        decode_index_cursor(cursor, "by_kind", "g", list(key))
    with pytest.raises(InvalidCursorError, match="another partition"):
        decode_index_cursor(cursor, "by_director", "h", list(key))
    with pytest.raises(InvalidCursorError):
        decode_index_cursor(cursor, "by_director", "g", ["pk", "sk", "lsi1sk"])
    with pytest.raises(InvalidCursorError, match="listing"):
        decode_index_cursor(encode_cursor("g", "x"), "by_director", "g", list(key))


def test_a_cursor_outside_the_querys_range_is_refused() -> None:
    bound = indexes().get("by_director")
    key = {
        "pk": {"S": "app#films#p"},
        "sk": {"S": "film#f"},
        "gsi1pk": {"S": bound.partition_value(["Mann"])},
        "gsi1sk": {"S": bound.sort_prefix([2001, "f"])},
    }
    cursor = encode_index_cursor("by_director", bound.partition_value(["Mann"]), key)
    index_query(core(), "by_director", ["Mann"], prefix=[2001], cursor=cursor)
    with pytest.raises(InvalidCursorError, match="another query"):
        index_query(core(), "by_director", ["Mann"], prefix=[1995], cursor=cursor)
    with pytest.raises(InvalidCursorError):
        index_query(core(), "by_director", ["Mann"], between=([1990], [1999]), cursor=cursor)

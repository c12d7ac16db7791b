"""Projected reads and counts on DynamoDB Local, sync and async.

Partition ``a1`` of the ``cast`` partitions holds 12 actors (``content_ids=[nn]``), of which
two have expired; the projection ``Name`` reads their ``name`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    FilterCommand,
    InvalidAttributeError,
    PartitionedContent,
    SyncDynamoRepository,
    attr,
)
from tests.integration import index_support
from tests.integration.collection_support import (
    EXPIRED,
    LATER,
    Actor,
    Flavour,
    Name,
    flavour_fixture,
)
from tests.integration.harness import PARTITION_NAME, Traffic
from tests.integration.index_support import Film, repository_arguments
from tests.integration.support import LARGE_COUNT, Example

# The shared fixture, by name, for pytest to find here.
fresh_table = index_support.fresh_table

COUNT = 12
GONE = {"03", "08"}
LIVE = [f"{n:02}" for n in range(COUNT) if f"{n:02}" not in GONE]


def _actor(number: int) -> PartitionedContent[Actor]:
    ident = f"{number:02}"
    item = Actor(id=ident, name=f"name {ident}", bio="x" * 500, rating=number % 3)
    expiry = EXPIRED if ident in GONE else (LATER if number == 0 else None)
    return PartitionedContent[Actor](
        partition_ids=["a1"], content_ids=[ident], item=item, expiry=expiry, current_version=2
    )


@pytest.fixture(params=["sync", "async"])
def flavour(
    request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal, table_name: str
) -> Iterator[Flavour]:
    yield from flavour_fixture(request.param, dynamodb_local.endpoint_url, table_name)


@pytest.fixture
def actors(flavour: Flavour) -> Any:
    flavour.writer(Actor, "actor").put_batch([_actor(n) for n in range(COUNT)])
    return flavour.repo(Actor, "actor")


@pytest.fixture
def names(actors: Any) -> Any:
    return actors.projected(Name)


def _items(batches: Any) -> list[PartitionedContent[Any]]:
    return [content for batch in batches for content in batch]


# -- projections -------------------------------------------------------------------------------


def test_get_reads_the_projected_fields_with_version_and_expiry(names: Any) -> None:
    content = names.get(["a1"], ["00"]).content

    assert content == PartitionedContent[Name](
        partition_ids=["a1"],
        content_ids=["00"],
        item=Name(name="name 00"),
        current_version=2,
        expiry=LATER,
    )


def test_get_of_an_absent_or_expired_item_is_empty(names: Any) -> None:
    assert names.get(["a1"], ["99"]).content is None
    assert names.get(["a1"], ["03"]).content is None


def test_only_the_projected_attributes_travel(flavour: Flavour, actors: Any) -> None:
    answered: list[dict[str, Any]] = []
    flavour.client.meta.events.register(
        "after-call.dynamodb.GetItem", lambda parsed, **kwargs: answered.append(parsed["Item"])
    )
    writer_view = flavour.writer(Actor, "actor").projected(Name)

    assert writer_view.get(["a1"], ["01"]).content.item == Name(name="name 01")
    assert set(answered[0]) == {"name", "PARTITION_KEY", "SORT_KEY", "_object_version"}


def test_get_batch_reads_projections_of_many_keys(names: Any) -> None:
    keys = [(["a1"], [f"{n:02}"]) for n in range(COUNT)] + [(["a1"], ["zz"])]

    found = _items(names.get_batch(keys))

    assert sorted(content.content_ids[0] for content in found) == LIVE
    assert all(type(content.item) is Name for content in found)


def test_list_pages_projections_with_exact_limits_cursors_and_filters(names: Any) -> None:
    first = list(names.list(["a1"], None, limit=4))
    rest = list(names.list(["a1"], None, cursor=first[-1].cursor))
    assert [c.content_ids[0] for c in _items(first) + _items(rest)] == LIVE

    # The filter names a field the projection leaves out: DynamoDB filters the whole item.
    rated = _items(names.list(["a1"], None, filters=attr("rating") == 1, limit=2))
    assert [c.item.name for c in rated] == ["name 01", "name 04"]


def test_list_between_reads_projections_in_range_and_order(names: Any) -> None:
    found = _items(names.list_between(["a1"], ["02"], ["06"], sort_ascending=False))

    assert [c.item for c in found] == [Name(name=f"name {n}") for n in ("06", "05", "04", "02")]


def test_a_projection_field_the_model_lacks_is_refused_before_any_request(
    flavour: Flavour,
) -> None:
    class Wrong(BaseModel):
        name: str
        age: int

    traffic = Traffic(flavour.client.meta.events)
    with pytest.raises(InvalidAttributeError, match="age") as raised:
        flavour.writer(Actor, "actor").projected(Wrong)
    assert raised.value.field == "age"
    assert not traffic.calls


# -- counts ------------------------------------------------------------------------------------


def test_count_leaves_out_expired_items(actors: Any) -> None:
    assert actors.count(["a1"]) == len(LIVE)
    assert actors.count(["a9"]) == 0


def test_count_honours_prefix_range_and_filters(actors: Any) -> None:
    assert actors.count(["a1"], ["0"]) == len([i for i in LIVE if i.startswith("0")])
    assert actors.count(["a1"], between=(["02"], ["06"])) == 4
    assert actors.count(["a1"], filters=attr("rating") == 0) == 3  # 00, 06, 09
    assert actors.count(["a1"], filters=FilterCommand(equals={"rating": 2})) == 3  # 02, 05, 11
    with pytest.raises(InvalidAttributeError, match="agee"):
        actors.count(["a1"], filters=attr("agee") == 1)


def test_count_reads_every_page_with_select_count(flavour: Flavour, large_table: str) -> None:
    large = flavour.repo(Example, "example", partition_name=PARTITION_NAME, table_name=large_table)
    traffic = Traffic(flavour.client.meta.events)

    assert large.count(["films"]) == LARGE_COUNT
    assert large.count(["films"], filters=attr("id") >= "00690") == 10
    if flavour.kind == "sync":
        assert traffic.calls["Query"] > 2  # more than 1 MB read each time: several pages


@pytest.fixture
def films(fresh_table: str, dynamodb_client: Any) -> Any:
    repo = SyncDynamoRepository[Film](
        **repository_arguments(fresh_table, Film), client=dynamodb_client
    )
    contents = [
        PartitionedContent[Film](
            partition_ids=["films"],
            content_ids=[f"f{n}"],
            item=Film(
                id=f"f{n}", title=f"t{n}", director="ray", decade="1950s", year=1950 + n, bucket=n
            ),
            expiry=EXPIRED if n in (1, 4) else None,
        )
        for n in range(8)
    ]
    repo.put_batch(contents)
    return repo


@pytest.mark.parametrize(
    ("index", "partition", "filters"),
    [
        ("by_director", ["ray"], attr("bucket") >= 5),  # ALL: counted with Select=COUNT
        ("by_decade", ["1950s"], attr("year") >= 1955),  # INCLUDE with _ttl: the same
        ("by_genre", ["drama"], None),  # KEYS_ONLY: entries read and checked against items
    ],
)
def test_count_index_leaves_out_expired_entries_on_every_kind_of_index(
    films: Any, index: str, partition: list[str], filters: Any
) -> None:
    assert films.count_index(index, partition) == 6
    if filters is not None:
        assert films.count_index(index, partition, filters=filters) == 3

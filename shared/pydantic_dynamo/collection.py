"""Collections: content types that share a partition, read together with one Query.

Contents of several types can live in one partition: the same table, partition prefix,
partition name and partition ids, each type under its own sort-key prefix
(``{content_type}#``), such as an actor and its reviews. :class:`Collection` (sync repositories)
and :class:`AsyncCollection` (async ones) read such a partition page by page, in sort-key
order, and decode each item into its own type's model by its sort-key prefix. An item of a
type the collection does not know is reported in :attr:`CollectionPage.unknown` by its keys,
never dropped silently, and never decoded.

``limit`` is exact and counts every item returned, unknown ones included; a page's ``cursor``
resumes after it, for this collection, partition and choice of ``types`` only
(:class:`~pydantic_dynamo.exceptions.InvalidCursorError` otherwise).

``types`` reads some of the types only, each by its sort-key prefix (one Query after the
other, in sort order: a type's items are contiguous), so the other items cost nothing; unknown
items are then left out too.

>>> from pydantic import BaseModel
>>> class Actor(BaseModel):
...     name: str
>>> class Review(BaseModel):
...     text: str
>>> def core(model, content_type):
...     return RepositoryCore(item_class=model, partition_prefix="film", partition_name="cast",
...         content_type=content_type, table_name="t", partition_key="pk", sort_key="sk")
>>> reader = CollectionReader({"actor": core(Actor, "actor"), "review": core(Review, "review")})
>>> request = next(reader.read_flow(["a1"], types=["review"])).request
>>> request["KeyConditionExpression"], request["ExpressionAttributeValues"]
('#n0 = :v0 AND begins_with(#n1, :v1)', {':v0': {'S': 'film#cast#a1'}, ':v1': {'S': 'review#'}})
>>> CollectionReader({"actor": core(Actor, "actor"), "review": core(Review, "critique")})
Traceback (most recent call last):
...
ValueError: collection member 'review' stores content type 'critique': name it by its content type
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.exceptions import InvalidCursorError
from pydantic_dynamo.flows import Call, Emit, Flow
from pydantic_dynamo.keys import SEPARATOR, Ids
from pydantic_dynamo.models import BatchResponse, PartitionedContent
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import QueryPlan, decode_cursor, pack_cursor, unpack_cursor
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.sync_repository import SyncDynamoRepository

if TYPE_CHECKING:
    from pydantic_dynamo.async_repository import DynamoRepository

__all__ = ["AsyncCollection", "Collection", "CollectionPage", "CollectionReader"]

Item = dict[str, Any]
ModelT = TypeVar("ModelT", bound=BaseModel)
_CURSOR_VERSION = "c1"
_EVERY_TYPE = "*"  # the cursor's selection when ``types`` is None (unknown items included)


class _HasCore(Protocol[ModelT]):
    @property
    def core(self) -> RepositoryCore[ModelT]: ...  # pragma: no cover - a protocol


def _content_type(core: RepositoryCore[Any]) -> str:
    return core.keys.sort_bound(())[: -len(SEPARATOR)]


class CollectionPage:
    """One DynamoDB page of a collection read.

    ``contents`` maps each content type read to its contents on this page (in sort-key
    order; an empty list when it has none here), decoded on first access; ``unknown`` lists
    the keys (attribute name -> value) of the items of other types; ``cursor`` resumes after
    this page (``None`` at the end).
    """

    __slots__ = ("__dict__", "_batches", "cursor", "unknown")

    def __init__(
        self,
        batches: dict[str, BatchResponse[Any]],
        unknown: list[dict[str, str]],
        cursor: str | None,
    ) -> None:
        self._batches = batches
        self.unknown = unknown
        self.cursor = cursor

    @cached_property
    def contents(self) -> dict[str, list[PartitionedContent[Any]]]:
        """Each content type's contents on this page."""
        return {name: batch.contents for name, batch in self._batches.items()}

    def of(self, repo: _HasCore[ModelT]) -> list[PartitionedContent[ModelT]]:
        """The contents of ``repo``'s content type on this page, typed as its model's."""
        contents: list[PartitionedContent[ModelT]] = self.contents[_content_type(repo.core)]
        return contents

    def __len__(self) -> int:
        return sum(len(batch) for batch in self._batches.values()) + len(self.unknown)

    def __repr__(self) -> str:
        counts = {name: len(batch) for name, batch in self._batches.items()}
        return f"CollectionPage({counts}, unknown={len(self.unknown)}, cursor={self.cursor!r})"


class CollectionReader:
    """The requests and pages of a collection read (sans-I/O): ``cores`` by content type."""

    def __init__(self, cores: Mapping[str, RepositoryCore[Any]]) -> None:
        if not cores:
            raise ValueError("a collection needs at least one repository")
        (first_name, first), *_ = cores.items()
        for name, core in cores.items():
            if _content_type(core) != name:
                raise ValueError(
                    f"collection member {name!r} stores content type {_content_type(core)!r}: "
                    "name it by its content type"
                )
            for what, mine, theirs in (
                ("table", core.table_name, first.table_name),
                ("partition key attribute", core.partition_key, first.partition_key),
                ("sort key attribute", core.sort_key, first.sort_key),
                (
                    "partition prefix and name",
                    core.keys.partition_value(()),
                    first.keys.partition_value(()),
                ),
            ):
                if mine != theirs:
                    raise ValueError(
                        f"collection members {first_name!r} and {name!r} do not share a "
                        f"partition: {what} {theirs!r} and {mine!r}"
                    )
        heads = {name: core.keys.sort_bound(()) for name, core in cores.items()}
        for name, head in heads.items():
            for other, other_head in heads.items():
                if other != name and other_head.startswith(head):
                    raise ValueError(
                        f"the sort keys of {other!r} begin with {name!r}'s prefix {head!r}: "
                        "their items could not be told apart"
                    )
        self.cores = dict(cores)
        self._heads = heads
        self._first = first
        self._members = sorted(cores)
        self._consistent = any(core.consistent_reads for core in cores.values())

    def _selection(self, types: Sequence[str] | None) -> list[str] | None:
        if types is None:
            return None
        if isinstance(types, str):
            types = [types]
        chosen = sorted(set(types))
        unknown = [name for name in chosen if name not in self.cores]
        if not chosen or unknown:
            raise ValueError(
                f"types must name content types of this collection ({', '.join(self._members)})"
                f", got {list(types)!r}"
            )
        return chosen

    def _segments(self, selection: list[str] | None, ascending: bool) -> list[str]:
        """What a read queries, in order: the whole partition (``*``), or each chosen type by
        its prefix (a type's items are contiguous in sort order: no prefix begins another)."""
        if selection is None:
            return [_EVERY_TYPE]
        return sorted(selection, key=self._heads.__getitem__, reverse=not ascending)

    def _plan(
        self,
        partition_value: str,
        segment: str,
        *,
        limit: int | None,
        start_after: str | None,
        ascending: bool,
    ) -> QueryPlan:
        first = self._first
        key = raw_attr(first.partition_key) == partition_value
        if segment != _EVERY_TYPE:
            key = key & raw_attr(first.sort_key).begins_with(self._heads[segment])
        placeholders = Placeholders()
        request: Item = {
            "TableName": first.table_name,
            "KeyConditionExpression": render(key, None, placeholders),
            "ScanIndexForward": ascending,
            "ConsistentRead": self._consistent,
        }
        return QueryPlan(
            placeholders.add_to(request),
            partition_value=partition_value,
            partition_key=first.partition_key,
            sort_key=first.sort_key,
            limit=limit,
            filtered=False,
            start_after=start_after,
        )

    def _signature(self, selection: list[str] | None) -> list[Any]:
        return [_CURSOR_VERSION, self._members, selection or _EVERY_TYPE]

    def _position(
        self, cursor: str, selection: list[str] | None, partition_value: str, segments: list[str]
    ) -> tuple[int, str | None]:
        """Where ``cursor`` resumes: the index of its segment and the sort value to resume
        after (``None``: from the segment's start)."""
        fields = unpack_cursor(cursor)
        kind = {"1": "a listing's (list)", "2": "an index query's (query_index)"}.get(fields[0])
        if kind is not None:
            raise InvalidCursorError(f"cursor is {kind}, not a collection read's")
        if (
            len(fields) != 6
            or fields[0] != _CURSOR_VERSION
            or not isinstance(fields[5], str | None)
        ):
            raise InvalidCursorError("cursor is not one this library issued")
        if fields[1] != self._members:
            raise InvalidCursorError("cursor belongs to another collection")
        if fields[:3] != self._signature(selection):
            raise InvalidCursorError("cursor belongs to a read of other types of this collection")
        if fields[3] != partition_value:
            raise InvalidCursorError("cursor belongs to another partition")
        segment, after = fields[4], fields[5]
        if segment not in segments:
            raise InvalidCursorError("cursor is not one this library issued")
        inside = after is None or segment == _EVERY_TYPE or after.startswith(self._heads[segment])
        if not inside:
            raise InvalidCursorError("cursor is not one this library issued")
        return segments.index(segment), after

    def read_flow(
        self,
        partition_ids: Ids,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        sort_ascending: bool = True,
        types: Sequence[str] | None = None,
    ) -> Flow:
        """Query the partition; emits a :class:`CollectionPage` per DynamoDB page.

        Several chosen types are read one after the other, each by its prefix, in sort order.
        """
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit}")
        selection = self._selection(types)
        segments = self._segments(selection, sort_ascending)
        partition_value = self._first.keys.partition_value(partition_ids)
        position, after = 0, None
        if cursor is not None:
            position, after = self._position(cursor, selection, partition_value, segments)
        signature = self._signature(selection)
        remaining = limit
        for index in range(position, len(segments)):
            plan = self._plan(
                partition_value,
                segments[index],
                limit=remaining,
                start_after=after,
                ascending=sort_ascending,
            )
            after = None
            while (request := plan.next_request()) is not None:
                response = yield Call("query", request)
                page = plan.on_response(response)
                if remaining is not None:
                    remaining -= len(page.items)
                next_cursor = None
                if page.cursor is not None:
                    after = decode_cursor(page.cursor, partition_value)
                    next_cursor = pack_cursor([*signature, partition_value, segments[index], after])
                elif index + 1 < len(segments):  # the next type, from its start
                    next_cursor = pack_cursor(
                        [*signature, partition_value, segments[index + 1], None]
                    )
                yield Emit(self._page(page.items, selection, next_cursor))
                if remaining == 0:
                    return

    def _page(
        self, items: list[Item], selection: list[str] | None, cursor: str | None
    ) -> CollectionPage:
        sort_key = self._first.sort_key
        grouped: dict[str, list[Item]] = {name: [] for name in selection or self._members}
        unknown: list[dict[str, str]] = []
        for raw in items:
            name = self._type_of(raw[sort_key]["S"])
            if name is None:
                key = {attribute: raw[attribute] for attribute in self._key_attributes}
                unknown.append(self._first.plain_key(key))
            else:
                grouped[name].append(raw)
        batches = {
            name: BatchResponse(raw_items=raw_items, decode=self.cores[name].decode)
            for name, raw_items in grouped.items()
        }
        return CollectionPage(batches, unknown, cursor)

    @property
    def _key_attributes(self) -> tuple[str, str]:
        return self._first.partition_key, self._first.sort_key

    def _type_of(self, sort_value: str) -> str | None:
        for name, head in self._heads.items():
            if sort_value.startswith(head):
                return name
        return None


class _Reads:
    """What both collections share: the reader over the repositories' cores."""

    def __init__(self, repos: Mapping[str, _HasCore[Any]]) -> None:
        self.reader = CollectionReader({name: repo.core for name, repo in repos.items()})
        self.repos = dict(repos)


class Collection(_Reads):
    """Content types of sync repositories that share a partition, read together.

    ``repos`` maps each content type to its repository; they must share the table, the key
    attributes, the partition prefix and the partition name (``ValueError`` otherwise). Reads go
    through the first repository's client.

    Example (``actors`` and ``reviews`` store ``actor`` and ``review`` in one partition)::

        cast = Collection(repos={"actor": actors, "review": reviews})
        for page in cast.read(["a1"], limit=50):
            profile = page.of(actors)          # list[PartitionedContent[FilmActor]]
            latest = page.contents["review"]   # the reviews on this page
            assert not page.unknown
    """

    def __init__(self, repos: Mapping[str, SyncDynamoRepository[Any]]) -> None:
        for name, repo in repos.items():
            if not isinstance(repo, SyncDynamoRepository):
                raise TypeError(f"{name!r}: a Collection takes SyncDynamoRepository objects")
        super().__init__(repos)
        self._client_repo: SyncDynamoRepository[Any] = next(iter(repos.values()))

    def read(
        self,
        partition_ids: Ids,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        sort_ascending: bool = True,
        types: Sequence[str] | None = None,
    ) -> Iterator[CollectionPage]:
        """The partition's items, one :class:`CollectionPage` per DynamoDB page."""
        flow = self.reader.read_flow(
            partition_ids, limit=limit, cursor=cursor, sort_ascending=sort_ascending, types=types
        )
        return self._client_repo.iterate_flow(flow)


class AsyncCollection(_Reads):
    """:class:`Collection` of async repositories (``DynamoRepository``)."""

    def __init__(self, repos: Mapping[str, DynamoRepository[Any]]) -> None:
        from pydantic_dynamo.async_repository import DynamoRepository

        for name, repo in repos.items():
            if not isinstance(repo, DynamoRepository):
                raise TypeError(f"{name!r}: an AsyncCollection takes DynamoRepository objects")
        super().__init__(repos)
        self._client_repo: DynamoRepository[Any] = next(iter(repos.values()))

    def read(
        self,
        partition_ids: Ids,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        sort_ascending: bool = True,
        types: Sequence[str] | None = None,
    ) -> AsyncIterator[CollectionPage]:
        """The partition's items, one :class:`CollectionPage` per DynamoDB page."""
        flow = self.reader.read_flow(
            partition_ids, limit=limit, cursor=cursor, sort_ascending=sort_ascending, types=types
        )
        return self._client_repo.iterate_flow(flow)

"""Projected reads: ``get``, ``get_batch``, ``list`` and ``list_between`` of some fields only.

A projection model is a Pydantic model over a subset of the item model's fields, as an index
query's ``projection=`` takes. ``repo.projected(Summary)`` checks that every field of
``Summary`` is one of the item model's (:class:`~pydantic_dynamo.exceptions.InvalidAttributeError`
naming it otherwise, before any request) and answers the four reads with 0.4.2's signatures,
each request carrying a ``ProjectionExpression`` (names as placeholders): DynamoDB answers
those attributes, the keys, ``_object_version`` and ``_ttl``, so versions and expiries read as
in a full read and expired items are left out as ever. Each item is decoded into
``PartitionedContent[Summary]``.

A projection saves bandwidth and decoding, not read units: DynamoDB counts the whole item.

>>> from pydantic import BaseModel
>>> class Actor(BaseModel):
...     name: str
...     bio: str
>>> class Name(BaseModel):
...     name: str
>>> core = RepositoryCore(item_class=Actor, partition_prefix="app", partition_name="films",
...     content_type="actor", table_name="t", partition_key="pk", sort_key="sk")
>>> projection = FieldProjection(core, Name)
>>> request = projection.call(Call("get_item", core.get_request([], ["a1"]))).request
>>> request["ProjectionExpression"], request["ExpressionAttributeNames"]["#p0"]
('#p0, #p1, #p2, #p3, #p4', 'name')
>>> FieldProjection(core, type("Age", (BaseModel,), {"__annotations__": {"age": int}}))
Traceback (most recent call last):
...
pydantic_dynamo.exceptions.InvalidAttributeError: age: Actor has no field 'age' to project
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from pydantic_dynamo import read_flows
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import InvalidAttributeError
from pydantic_dynamo.flow_rewrite import rewrite
from pydantic_dynamo.flows import Call, Flow
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import BatchResponse, FilterCommand, GetResponse
from pydantic_dynamo.operations import RepositoryCore, RequestIds
from pydantic_dynamo.schema import INTERNAL_OBJECT_VERSION, INTERNAL_TTL, SCHEMA_VERSION

if TYPE_CHECKING:
    from pydantic_dynamo.async_repository import DynamoRepository
    from pydantic_dynamo.sync_repository import SyncDynamoRepository

__all__ = ["AsyncProjectedReads", "FieldProjection", "ProjectedReads"]

Item = dict[str, Any]
ProjT = TypeVar("ProjT", bound=BaseModel)
PagesT = TypeVar("PagesT")


class FieldProjection(Generic[ProjT]):
    """How the items of one repository are read into the projection model ``model``."""

    __slots__ = ("_core", "_expression", "_names", "decode", "model")

    def __init__(self, core: RepositoryCore[Any], model: type[ProjT]) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"a projection is a Pydantic model class, got {model!r}")
        for field in model.model_fields:
            if field not in core.schema.fields:
                raise InvalidAttributeError(
                    field, f"{core.item_class.__name__} has no field {field!r} to project"
                )
        wanted = (
            *model.model_fields,
            core.partition_key,
            core.sort_key,
            INTERNAL_OBJECT_VERSION,
            INTERNAL_TTL,
            *((SCHEMA_VERSION,) if core.versions is not None else ()),
        )
        # Placeholders of their own (#p), beside the #n ones a request already holds.
        self._names = {f"#p{i}": name for i, name in enumerate(dict.fromkeys(wanted))}
        self._expression = ", ".join(self._names)
        self._core = core
        self.model = model
        self.decode = core.decoder(model)

    def _project(self, request: Item) -> Item:
        names = {**request.get("ExpressionAttributeNames", {}), **self._names}
        return {
            **request,
            "ProjectionExpression": self._expression,
            "ExpressionAttributeNames": names,
        }

    def call(self, call: Call) -> Call:
        """``call`` (a GetItem, Query or BatchGetItem) asking for the projected attributes only."""
        if call.operation == "batch_get_item":
            tables = {
                name: self._project(keys) for name, keys in call.request["RequestItems"].items()
            }
            return Call(call.operation, {**call.request, "RequestItems": tables})
        return Call(call.operation, self._project(call.request))

    def page(self, page: BatchResponse[Any]) -> BatchResponse[ProjT]:
        """A page of the flow, decoded into the projection model."""
        return BatchResponse(raw_items=page.raw_items, decode=self.decode, cursor=page.cursor)

    # -- flows ----------------------------------------------------------------------------------

    def get_flow(self, partition_id: Ids, content_id: Ids) -> Flow:
        """GetItem of the projected attributes; returns a ``GetResponse[ProjT]``."""
        request = self._core.get_request(partition_id, content_id)
        response = yield self.call(Call("get_item", request))
        raw = self._core.live_item(response, time.time())
        return GetResponse(content=None if raw is None else self.decode(raw))

    def get_batch_flow(self, request_ids: Sequence[RequestIds]) -> Flow:
        """The batch get's flow, projected."""
        flow = read_flows.get_batch_flow(self._core, request_ids)
        yield from rewrite(flow, request=self.call, emit=self.page)

    def list_flow(
        self,
        partition_id: Ids,
        *,
        prefix: Ids = None,
        between: tuple[Ids, Ids] | None = None,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Flow:
        """The listing's flow, projected (filters may name any field of the item model)."""
        flow = read_flows.list_flow(
            self._core,
            partition_id,
            prefix=prefix,
            between=between,
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        yield from rewrite(flow, request=self.call, emit=self.page)


class _PagedReads(ABC, Generic[ProjT, PagesT]):
    """The projected reads that return pages: the same flows for both repositories, run by the
    repository's ``iterate_flow`` (an iterator of pages, sync or async)."""

    def __init__(self, core: RepositoryCore[Any], model: type[ProjT]) -> None:
        self.projection = FieldProjection(core, model)

    @abstractmethod
    def _pages(self, flow: Flow) -> PagesT:
        """The pages ``flow`` emits, as the repository iterates a reading flow."""

    def get_batch(self, request_ids: Sequence[RequestIds]) -> PagesT:
        """Many items' projected fields, as ``get_batch``."""
        return self._pages(self.projection.get_batch_flow(request_ids))

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> PagesT:
        """Projected items under a content prefix, as ``list`` (exact limit, cursors)."""
        flow = self.projection.list_flow(
            partition_id,
            prefix=content_prefix,
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return self._pages(flow)

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> PagesT:
        """Projected items between two content id bounds, as ``list_between``."""
        flow = self.projection.list_flow(
            partition_id,
            between=(content_start, content_end),
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return self._pages(flow)


class ProjectedReads(_PagedReads[ProjT, Iterator[BatchResponse[ProjT]]]):
    """A sync repository's reads into a projection model (``SyncDynamoRepository.projected``).

    Example (``Name`` is a model of the ``name`` field only)::

        names = repo.projected(Name)
        assert names.get(None, ["a1"]).content.item == Name(name="Steve Buscemi")
        for batch in names.list(None, None, limit=10):
            print([content.item.name for content in batch])
    """

    def __init__(self, repo: SyncDynamoRepository[Any], model: type[ProjT]) -> None:
        super().__init__(repo.core, model)
        self._repo = repo

    def _pages(self, flow: Flow) -> Iterator[BatchResponse[ProjT]]:
        return self._repo.iterate_flow(flow)

    def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[ProjT]:
        """One item's projected fields; ``content`` is ``None`` when absent or expired."""
        result: GetResponse[ProjT] = self._repo.run_flow(
            self.projection.get_flow(partition_id, content_id)
        )
        return result


class AsyncProjectedReads(_PagedReads[ProjT, AsyncIterator[BatchResponse[ProjT]]]):
    """The async repository's projected reads (``DynamoRepository.projected``): those of
    :class:`ProjectedReads`, ``get`` awaited and the pages async iterators."""

    def __init__(self, repo: DynamoRepository[Any], model: type[ProjT]) -> None:
        super().__init__(repo.core, model)
        self._repo = repo

    def _pages(self, flow: Flow) -> AsyncIterator[BatchResponse[ProjT]]:
        return self._repo.iterate_flow(flow)

    async def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[ProjT]:
        """One item's projected fields (see :class:`ProjectedReads`)."""
        result: GetResponse[ProjT] = await self._repo.run_flow(
            self.projection.get_flow(partition_id, content_id)
        )
        return result

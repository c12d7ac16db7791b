"""The async repository (0.4.2's ``DynamoRepository``): the same flows, driven under asyncio.

Which client requests go through:

- ``client=``: that client, as given (aiobotocore's, or the lean
  :class:`~pydantic_dynamo.transport.AsyncLeanClient`); the caller closes it.
- 0.4.2's construction, ``table=await resource.Table(...)`` and ``resource=resource`` (an
  aioboto3 resource): an :class:`~pydantic_dynamo.transport.AsyncLeanClient` reaching the
  resource's own endpoint, region and credentials (refreshable aiobotocore ones are awaited),
  and its retry, timeout, pool and proxy settings. Code written for 0.4.2 so gets the lean
  transport's speed unchanged (docs/lean-transport.md has the figures), as the sync wrapper
  ``SyncDynamoRepository(async_repo=...)`` already reaches the same endpoint through the sync
  lean client. ``PYDANTIC_DYNAMO_TRANSPORT=boto3`` (and an ``https://`` proxy, which the lean
  transport does not tunnel through) keeps sending through the resource's low-level client
  (``resource.meta.client``, without the resource's value conversions): hooks registered on
  it fire only then.
- neither: an :class:`~pydantic_dynamo.transport.AsyncLeanClient` from the environment (region,
  endpoint, credentials, as the sync repository's own), created on first use.

A client the repository created is closed by ``async with`` and :meth:`DynamoRepository.aclose`.
The encoding, keys, expressions, paging and retries are the sync repository's; aioboto3 (the
``async`` extra, ``pip install 'pydantic-dynamo[async]'``) is needed only to pass a resource.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pydantic_dynamo import read_flows, update_flows, write_flows
from pydantic_dynamo.abstract import AbstractRepository
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.flows import CALL_MANY_CONCURRENCY, Call, CallMany, Emit, Flow, Sleep
from pydantic_dynamo.index_queries import index_query
from pydantic_dynamo.indexes import Index
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import (
    BatchResponse,
    FilterCommand,
    GetResponse,
    ObjT,
    PartitionedContent,
    UpdateCommand,
)
from pydantic_dynamo.operations import RepositoryCore, RequestIds
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.schema_versions import SchemaVersions
from pydantic_dynamo.table import TableDescription
from pydantic_dynamo.transaction_flows import AsyncTransaction, transact_get_flow
from pydantic_dynamo.transactions import HasCore, TransactReadPlan

if TYPE_CHECKING:
    from pydantic_dynamo.projections import AsyncProjectedReads, ProjT

__all__ = ["DynamoRepository", "aiterate", "arun", "low_level_view"]


# What boto3's DynamoDB *resource* registers on its client to convert Python values to and from
# AttributeValues. Our requests are AttributeValues already.
_RESOURCE_HANDLERS = (
    ("provide-client-params.dynamodb", "dynamodb-create-params-copy"),
    ("before-parameter-build.dynamodb", "dynamodb-condition-expression"),
    ("before-parameter-build.dynamodb", "dynamodb-attr-value-input"),
    ("after-call.dynamodb", "dynamodb-attr-value-output"),
)


def low_level_view(resource_client: Any) -> Any:
    """The resource's client without the resource's value conversions.

    A shallow copy sharing the connection pool, credentials and endpoint (so hooks on sending,
    like ``before-send``, still fire), with its own copy of the event handlers minus the four
    the resource added.
    """
    events = copy.copy(resource_client.meta.events)
    for event_name, unique_id in _RESOURCE_HANDLERS:
        events.unregister(event_name, unique_id=unique_id)
    view = copy.copy(resource_client)
    view.meta = copy.copy(resource_client.meta)
    view.meta.events = events
    return view


async def _perform(client: Any, step: Any) -> tuple[Any, BaseException | None]:
    """Perform one non-Emit step; (value to send, error to throw)."""
    if type(step) is Call:
        try:
            return await getattr(client, step.operation)(**step.request), None
        except Exception as error:
            return None, error
    if type(step) is Sleep:
        await asyncio.sleep(step.seconds)
        return None, None
    if type(step) is CallMany:
        limit = asyncio.Semaphore(CALL_MANY_CONCURRENCY)

        async def one(call: Call) -> Any:
            async with limit:
                return await getattr(client, call.operation)(**call.request)

        results = await asyncio.gather(*(one(c) for c in step.calls), return_exceptions=True)
        return list(results), None
    raise TypeError(f"unknown step {step!r}")  # pragma: no cover


async def aiterate(client: Any, flow: Flow) -> AsyncIterator[Any]:
    """Run ``flow`` with an async client, yielding what it emits."""
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            step = flow.throw(throw) if throw is not None else flow.send(send)
        except StopIteration:
            return
        if type(step) is Emit:
            send, throw = None, None
            yield step.value
        else:
            send, throw = await _perform(client, step)


async def arun(client: Any, flow: Flow) -> Any:
    """Run ``flow`` with an async client to its end and return its result."""
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            step = flow.throw(throw) if throw is not None else flow.send(send)
        except StopIteration as stop:
            return stop.value
        if type(step) is Emit:
            raise RuntimeError(f"flow emitted {step.value!r} where none was expected")
        send, throw = await _perform(client, step)


class DynamoRepository(AbstractRepository[ObjT]):
    """The async repository, with 0.4.2's constructor and the sync repository's operations.

    ``client`` (aiobotocore's low-level DynamoDB client, or an
    :class:`~pydantic_dynamo.transport.AsyncLeanClient`) may replace ``table``/``resource``,
    and all three may be left out (see the module doc for which client each gives). Reads
    return async iterators of :class:`~pydantic_dynamo.models.BatchResponse`.
    """

    def __init__(
        self,
        *,
        item_class: type[ObjT],
        partition_prefix: str,
        partition_name: str,
        content_type: str,
        table_name: str,
        partition_key: str,
        sort_key: str,
        table: Any = None,
        resource: Any = None,
        consistent_reads: bool = False,
        client: Any = None,
        retry_policy: RetryPolicy | None = None,
        indexes: Sequence[Index] = (),
        table_description: TableDescription | None = None,
        schema_versions: SchemaVersions | None = None,
    ) -> None:
        self._core = RepositoryCore(
            item_class=item_class,
            partition_prefix=partition_prefix,
            partition_name=partition_name,
            content_type=content_type,
            table_name=table_name,
            partition_key=partition_key,
            sort_key=sort_key,
            consistent_reads=consistent_reads,
            retry_policy=retry_policy,
            indexes=indexes,
            table_description=table_description,
            schema_versions=schema_versions,
        )
        self._given_client: Any = client
        self._created_client = False
        owner = resource if resource is not None else table
        if client is None and owner is not None:
            from pydantic_dynamo.boto3_client import lean_kwargs_like
            from pydantic_dynamo.client_choice import default_async_client

            resource_client = owner.meta.client
            lean = default_async_client(**lean_kwargs_like(resource_client))
            self._created_client = lean is not None
            self._given_client = lean or low_level_view(resource_client)
        self._table = table
        self._resource = resource

    @property
    def core(self) -> RepositoryCore[ObjT]:
        """The pure request builder behind this repository."""
        return self._core

    @property
    def client(self) -> Any:
        """The client requests go through (see the module doc), created on first use when
        neither a client nor a resource was given."""
        return self._client

    @property
    def _client(self) -> Any:
        if self._given_client is None:
            from pydantic_dynamo.client_choice import default_async_client

            created = default_async_client()
            if created is None:
                raise TypeError(
                    "PYDANTIC_DYNAMO_TRANSPORT=boto3 (or an https:// proxy): give the "
                    "DynamoRepository an aioboto3 resource= (or table=, or client=)"
                )
            self._given_client = created
            self._created_client = True
        return self._given_client

    async def __aenter__(self) -> DynamoRepository[ObjT]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections of the client this repository created, if it did (one passed
        in is the caller's to close); a later call opens new ones."""
        if self._created_client:
            await self._given_client.close()

    async def run_flow(self, flow: Flow) -> Any:
        """Run a flow of this package with this repository's client."""
        return await arun(self._client, flow)

    async def put(
        self,
        content: PartitionedContent[ObjT],
        *,
        condition: Condition | None = None,
        if_absent: bool = False,
    ) -> None:
        """Write one content, replacing any item with the same key; ``if_absent`` and
        ``condition`` make it conditional (see the sync repository)."""
        flow = write_flows.put_flow(self._core, content, condition=condition, if_absent=if_absent)
        await arun(self._client, flow)

    async def save(
        self, content: PartitionedContent[ObjT], *, expected_version: int | None = None
    ) -> PartitionedContent[ObjT]:
        """Store the whole content with an incremented version (see the sync repository)."""
        flow = update_flows.save_flow(self._core, content, expected_version)
        saved: PartitionedContent[ObjT] = await arun(self._client, flow)
        return saved

    async def put_batch(self, contents: Iterable[PartitionedContent[ObjT]]) -> None:
        """Write many contents with BatchWriteItem (see the sync repository)."""
        await arun(self._client, write_flows.put_batch_flow(self._core, contents))

    async def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
        *,
        condition: Condition | None = None,
    ) -> PartitionedContent[ObjT]:
        """Apply ``command`` to one item and return its new state (``condition``: see the sync
        repository)."""
        flow = update_flows.update_flow(
            self._core, partition_id, content_id, command, require_exists, condition
        )
        result: PartitionedContent[ObjT] = await arun(self._client, flow)
        return result

    async def delete(self, partition_id: Ids, content_prefix: Ids) -> None:
        """Delete every item of this content type under the content prefix."""
        await arun(self._client, write_flows.delete_flow(self._core, partition_id, content_prefix))

    async def delete_item(
        self,
        partition_id: Ids,
        content_id: Ids,
        current_version: int | None = None,
        *,
        condition: Condition | None = None,
    ) -> bool:
        """Delete one item; whether one was there (``condition``: see the sync repository)."""
        flow = write_flows.delete_item_flow(
            self._core, partition_id, content_id, current_version, condition
        )
        return bool(await arun(self._client, flow))

    def transaction(self) -> AsyncTransaction:
        """A transaction on this repository's client, sent when its ``async with`` block ends
        (see :mod:`pydantic_dynamo.transactions`)."""
        return AsyncTransaction(self._client, self._core.retry_policy)

    async def transact_get(
        self, reads: Sequence[tuple[HasCore, Ids, Ids]]
    ) -> list[PartitionedContent[Any] | None]:
        """Up to 100 items of any repositories read as one snapshot (see the sync one)."""
        flow = transact_get_flow(TransactReadPlan(reads), self._core.retry_policy)
        contents: list[PartitionedContent[Any] | None] = await arun(self._client, flow)
        return contents

    async def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[ObjT]:
        """One item by key; ``content`` is ``None`` when absent or expired."""
        flow = read_flows.get_flow(self._core, partition_id, content_id)
        result: GetResponse[ObjT] = await arun(self._client, flow)
        return result

    def get_batch(self, request_ids: Sequence[RequestIds]) -> AsyncIterator[BatchResponse[ObjT]]:
        """Many items by key, 100 keys per request, one batch per response."""
        return aiterate(self._client, read_flows.get_batch_flow(self._core, request_ids))

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> AsyncIterator[BatchResponse[ObjT]]:
        """Items under a content prefix, one batch per DynamoDB page (see the sync one)."""
        flow = read_flows.list_flow(
            self._core,
            partition_id,
            prefix=content_prefix,
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return aiterate(self._client, flow)

    def query_index(
        self,
        index: str,
        partition: Sequence[Any] = (),
        *,
        prefix: Sequence[Any] = (),
        between: tuple[Sequence[Any], Sequence[Any]] | None = None,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
        consistent_read: bool | None = None,
        projection: type[BaseModel] | None = None,
    ) -> AsyncIterator[BatchResponse[Any]]:
        """The entries of a logical index, one batch per DynamoDB page (see the sync one)."""
        query = index_query(
            self._core,
            index,
            partition,
            prefix=prefix,
            between=between,
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
            consistent_read=consistent_read,
            projection=projection,
        )
        return aiterate(self._client, read_flows.query_index_flow(query))

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> AsyncIterator[BatchResponse[ObjT]]:
        """Items between two content id bounds, inclusive (equal bounds: by prefix)."""
        flow = read_flows.list_flow(
            self._core,
            partition_id,
            between=(content_start, content_end),
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return aiterate(self._client, flow)

    def scan(
        self,
        *,
        segments: int = 1,
        filters: FilterCommand | Condition | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[BatchResponse[ObjT]]:
        """Every item of this content type by a parallel Scan (see the sync repository)."""
        from pydantic_dynamo.scan import scan_flow

        flow = scan_flow(self._core, segments=segments, filters=filters, limit=limit)
        return aiterate(self._client, flow)

    def iterate_flow(self, flow: Flow) -> AsyncIterator[Any]:
        """Run a reading flow of this package with this repository's client, yielding what it
        emits (a collection's pages, a projection's batches)."""
        return aiterate(self._client, flow)

    def projected(self, projection: type[ProjT]) -> AsyncProjectedReads[ProjT]:
        """The reads of the fields of ``projection`` only (see the sync repository)."""
        from pydantic_dynamo.projections import AsyncProjectedReads

        return AsyncProjectedReads(self, projection)

    async def count(
        self,
        partition_id: Ids,
        content_prefix: Ids = None,
        *,
        between: tuple[Ids, Ids] | None = None,
        filters: FilterCommand | Condition | None = None,
    ) -> int:
        """How many live items a listing would return (see the sync repository)."""
        from pydantic_dynamo.counts import count_flow

        flow = count_flow(
            self._core, partition_id, content_prefix, between=between, filters=filters
        )
        return int(await arun(self._client, flow))

    async def count_index(
        self,
        index: str,
        partition: Sequence[Any] = (),
        *,
        prefix: Sequence[Any] = (),
        between: tuple[Sequence[Any], Sequence[Any]] | None = None,
        filters: FilterCommand | Condition | None = None,
    ) -> int:
        """How many entries an index query would return (see the sync repository)."""
        from pydantic_dynamo.counts import count_index_flow

        flow = count_index_flow(
            self._core, index, partition, prefix=prefix, between=between, filters=filters
        )
        return int(await arun(self._client, flow))

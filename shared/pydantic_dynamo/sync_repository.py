"""The synchronous repository: the pure core driven by a low-level DynamoDB client.

The client is the lean transport's (:class:`~pydantic_dynamo.transport.LeanClient`) unless the
caller passes a boto3 one; both speak the same methods and shapes, so one driver serves both.
No asyncio anywhere on this path: it is what the Lambda handlers run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast, overload

from pydantic import BaseModel

from pydantic_dynamo import read_flows, update_flows, write_flows
from pydantic_dynamo.abstract import SyncAbstractRepository
from pydantic_dynamo.boto3_client import client_kwargs_like
from pydantic_dynamo.client_choice import default_client
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.drivers import iterate, run
from pydantic_dynamo.flows import Flow
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
from pydantic_dynamo.ports import DynamoDBPort
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.schema_versions import SchemaVersions
from pydantic_dynamo.table import TableDescription
from pydantic_dynamo.transaction_flows import Transaction, transact_get_flow
from pydantic_dynamo.transactions import HasCore, TransactReadPlan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from pydantic_dynamo.async_repository import DynamoRepository
    from pydantic_dynamo.projections import ProjectedReads, ProjT

__all__ = ["SyncDynamoRepository"]


class SyncDynamoRepository(SyncAbstractRepository[ObjT]):
    """A repository of one Pydantic model in one DynamoDB table, over the low-level client.

    Keyword arguments are 0.4.2's (``item_class``, ``partition_prefix``, ``partition_name``,
    ``content_type``, ``table_name``, ``partition_key``, ``sort_key``, ``consistent_reads``),
    plus ``client`` (a boto3 DynamoDB client, or anything with the methods of
    :class:`~pydantic_dynamo.ports.DynamoDBPort`; when omitted, a lean-transport client is created
    lazily from the environment: same credentials, region and endpoint resolution, without
    boto3's per-call overhead), ``retry_policy`` for batch retries, ``indexes`` (the
    content type's secondary indexes: :class:`~pydantic_dynamo.indexes.Index`) and
    ``table_description`` (the table's :class:`~pydantic_dynamo.table.TableDescription`: every
    physical index's key attributes are then reserved, used by this content type or not, and an
    index on a physical index the table lacks is refused), ``schema_versions`` (the model's
    :class:`~pydantic_dynamo.schema_versions.SchemaVersions`: older items are migrated as they
    are read, docs/schema-versions.md). 0.4.2's
    ``SyncDynamoRepository(async_repo=repo)`` also works, inside or outside a running event
    loop: it shares the async repository's model and keys and talks to the same endpoint and
    region with a sync client.

    Example (``client`` points at a table with string keys PARTITION_KEY and SORT_KEY)::

        repo = SyncDynamoRepository[FilmActor](
            item_class=FilmActor, partition_prefix="test", partition_name="integration",
            content_type="actor", table_name="films", partition_key="PARTITION_KEY",
            sort_key="SORT_KEY", client=client,
        )
        repo.put(PartitionedContent[FilmActor](partition_ids=[], content_ids=["a1"],
                                               item=FilmActor(id="a1", name="Steve Buscemi")))
        assert repo.get(None, ["a1"]).content.item.name == "Steve Buscemi"
    """

    @overload
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
        consistent_reads: bool = False,
        client: DynamoDBPort | None = None,
        retry_policy: RetryPolicy | None = None,
        indexes: Sequence[Index] = (),
        table_description: TableDescription | None = None,
        schema_versions: SchemaVersions | None = None,
    ) -> None: ...

    @overload
    def __init__(self, *, async_repo: DynamoRepository[ObjT]) -> None: ...

    def __init__(
        self,
        *,
        item_class: type[ObjT] | None = None,
        partition_prefix: str = "",
        partition_name: str = "",
        content_type: str = "",
        table_name: str = "",
        partition_key: str = "",
        sort_key: str = "",
        consistent_reads: bool = False,
        client: DynamoDBPort | None = None,
        retry_policy: RetryPolicy | None = None,
        indexes: Sequence[Index] = (),
        table_description: TableDescription | None = None,
        schema_versions: SchemaVersions | None = None,
        async_repo: DynamoRepository[ObjT] | None = None,
    ) -> None:
        self._client: DynamoDBPort | None = client
        self._created_client = False
        if async_repo is not None:
            # 0.4.2's form. Its event loop may be running in this very thread, so instead of
            # driving the async client we talk to the same endpoint with a sync one.
            self._core: RepositoryCore[ObjT] = async_repo.core
            self._client_kwargs = client_kwargs_like(async_repo.client)
            return
        if item_class is None:
            raise TypeError("SyncDynamoRepository needs item_class=... (or async_repo=...)")
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
        self._client_kwargs = {}

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client in use (created on first use when none was given).

        A created one is a :class:`~pydantic_dynamo.transport.LeanClient` (the data-plane
        methods are its own, any other method, ``describe_table``..., is boto3's), or a boto3
        client when ``PYDANTIC_DYNAMO_TRANSPORT=boto3``: see
        :func:`~pydantic_dynamo.client_choice.default_client`. It is typed as boto3's client,
        whose every method it offers; one passed in is returned as it was given.
        """
        return cast("DynamoDBClient", self._port)

    @property
    def _port(self) -> DynamoDBPort:
        """The same client, typed as what the drivers call of it."""
        if self._client is None:
            self._client = default_client(**self._client_kwargs)
            self._created_client = True
        return self._client

    @property
    def core(self) -> RepositoryCore[ObjT]:
        """The pure request builder behind this repository."""
        return self._core

    def __enter__(self) -> SyncDynamoRepository[ObjT]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client this repository created, if it did (one passed in is the caller's).

        A later call creates a new one.
        """
        if self._created_client and self._client is not None:
            self._client.close()
            self._client = None
            self._created_client = False

    # -- writes ---------------------------------------------------------------------------------

    def put(
        self,
        content: PartitionedContent[ObjT],
        *,
        condition: Condition | None = None,
        if_absent: bool = False,
    ) -> None:
        """Write one content, replacing any item with the same key.

        ``if_absent=True`` writes only where no live item is stored, else
        :class:`~pydantic_dynamo.exceptions.ItemExistsError` carrying the stored one;
        ``condition`` (on the model: ``attr("year") < 2000``) only over a live item on which it
        holds, else :class:`~pydantic_dynamo.exceptions.ConditionFailedError` carrying it
        (:class:`~pydantic_dynamo.exceptions.ItemNotFoundError` when none is stored); both:
        either. Safe to resend: a put whose answer was lost is reported as done, not as
        "already there".

        Example::

            repo.put(content, if_absent=True)   # create only
            repo.put(content, condition=attr("status") == "draft")
        """
        flow = write_flows.put_flow(self._core, content, condition=condition, if_absent=if_absent)
        run(self._port, flow)

    def save(
        self, content: PartitionedContent[ObjT], *, expected_version: int | None = None
    ) -> PartitionedContent[ObjT]:
        """Store ``content`` as the whole item and return it with its new version.

        Unlike ``put`` (which writes ``content.current_version`` as 0.4.2 did), the version is
        the stored one plus 1, atomically (1 for a new item), so it never goes backwards. With
        ``expected_version``, only if the stored version is that one: else
        :class:`~pydantic_dynamo.exceptions.VersionConflictError` (or
        :class:`~pydantic_dynamo.exceptions.ItemNotFoundError` when nothing is stored).
        """
        flow = update_flows.save_flow(self._core, content, expected_version)
        saved: PartitionedContent[ObjT] = run(self._port, flow)
        return saved

    def put_batch(self, contents: Iterable[PartitionedContent[ObjT]]) -> None:
        """Write many contents with BatchWriteItem, 25 per request.

        Every content is encoded and checked before the first request. Unprocessed items and
        throttling are retried with backoff; what is still unwritten then raises
        :class:`~pydantic_dynamo.exceptions.UnprocessedItemsError` with exactly those contents.
        """
        run(self._port, write_flows.put_batch_flow(self._core, contents))

    def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
        *,
        condition: Condition | None = None,
    ) -> PartitionedContent[ObjT]:
        """Apply ``command`` to one item and return its new state.

        Raises :class:`~pydantic_dynamo.exceptions.ItemNotFoundError` when ``require_exists``
        and the item is missing, :class:`~pydantic_dynamo.exceptions.VersionConflictError` when
        ``command.current_version`` does not match, and with ``condition`` (on the model)
        :class:`~pydantic_dynamo.exceptions.ConditionFailedError` when it does not hold on the
        stored item (all are ``RequestObjectStateError``). An upsert creates an absent item
        without checking ``condition``.
        """
        flow = update_flows.update_flow(
            self._core, partition_id, content_id, command, require_exists, condition
        )
        result: PartitionedContent[ObjT] = run(self._port, flow)
        return result

    def delete(self, partition_id: Ids, content_prefix: Ids) -> None:
        """Delete every item of this content type whose content ids start with the prefix."""
        run(self._port, write_flows.delete_flow(self._core, partition_id, content_prefix))

    def delete_item(
        self,
        partition_id: Ids,
        content_id: Ids,
        current_version: int | None = None,
        *,
        condition: Condition | None = None,
    ) -> bool:
        """Delete one item; whether one was there. With ``current_version``, only that version;
        with ``condition``, only while it holds on the stored item
        (:class:`~pydantic_dynamo.exceptions.ConditionFailedError` otherwise)."""
        flow = write_flows.delete_item_flow(
            self._core, partition_id, content_id, current_version, condition
        )
        return bool(run(self._port, flow))

    def transaction(self) -> Transaction:
        """A transaction on this repository's client, sent when its ``with`` block ends; its
        actions may name any repositories (see :mod:`pydantic_dynamo.transactions`).

        Example::

            with actors.transaction() as tx:
                tx.put(actors, actor, if_absent=True)
                tx.update(reviews, ["r1"], ["a1"], UpdateCommand(increment_attrs={"likes": 1}))
        """
        return Transaction(self._port, self._core.retry_policy)

    def transact_get(
        self, reads: Sequence[tuple[HasCore, Ids, Ids]]
    ) -> list[PartitionedContent[Any] | None]:
        """Up to 100 items of any repositories, ``(repository, partition_ids, content_ids)``
        each, read as one snapshot (TransactGetItems): one content or ``None`` per read."""
        flow = transact_get_flow(TransactReadPlan(reads), self._core.retry_policy)
        contents: list[PartitionedContent[Any] | None] = run(self._port, flow)
        return contents

    # -- reads ----------------------------------------------------------------------------------

    def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[ObjT]:
        """One item by key; ``content`` is ``None`` when absent or expired."""
        result: GetResponse[ObjT] = run(
            self._port, read_flows.get_flow(self._core, partition_id, content_id)
        )
        return result

    def get_batch(self, request_ids: Sequence[RequestIds]) -> Iterator[BatchResponse[ObjT]]:
        """Many items by key with BatchGetItem, 100 keys per request, one batch per response."""
        return iterate(self._port, read_flows.get_batch_flow(self._core, request_ids))

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """Items whose content ids start with ``content_prefix``, one batch per DynamoDB page.

        ``limit`` is exact, filters included. Each batch's ``cursor`` resumes after it.
        """
        flow = read_flows.list_flow(
            self._core,
            partition_id,
            prefix=content_prefix,
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return iterate(self._port, flow)

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """Items whose content ids sort between the bounds, inclusive.

        Equal bounds list by prefix instead, as 0.4.2 did (``between`` would match only the
        bound itself).
        """
        flow = read_flows.list_flow(
            self._core,
            partition_id,
            between=(content_start, content_end),
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return iterate(self._port, flow)

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
    ) -> Iterator[BatchResponse[Any]]:
        """The entries of the logical index ``index`` in one index partition, one batch per
        DynamoDB page, in the index's sort order.

        ``partition`` holds the values of the index's partition fields (a global index), or the
        item's partition ids (a local index). ``prefix`` selects entries whose sort fields
        start with these values (the last one a text prefix: ``["2024-03"]`` on a datetime),
        ``between`` an inclusive range of them. ``limit`` is exact, filters included; each
        batch's ``cursor`` resumes after it, for this index and partition only
        (:class:`~pydantic_dynamo.exceptions.InvalidCursorError` otherwise).

        A global index is read eventually consistently: ``consistent_read=True`` raises
        :class:`~pydantic_dynamo.exceptions.InvalidQueryError`; a local index honours it
        (default: the repository's ``consistent_reads``). An index holding only some of the
        item (``KEYS_ONLY``, ``INCLUDE``) has its full items fetched, one BatchGetItem per page,
        unless ``projection`` names a model of fields the index holds: each entry is then
        decoded into it, as ``PartitionedContent[projection]``. See ``docs/indexes.md``.

        Example (``by_name`` is an index partitioned by ``name``)::

            for batch in repo.query_index("by_name", ["Steve Buscemi"], limit=10):
                for content in batch:
                    print(content.content_ids, content.item)
        """
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
        return iterate(self._port, read_flows.query_index_flow(query))

    def run_flow(self, flow: Flow) -> Any:
        """Run a flow of this package (for example write-once's) with this repository's client."""
        return run(self._port, flow)

    def scan(
        self,
        *,
        segments: int = 1,
        filters: FilterCommand | Condition | None = None,
        limit: int | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """Every item of this content type, in any partition, by a Scan of the whole table in
        ``segments`` parallel segments; one batch per page (see :mod:`pydantic_dynamo.scan`)."""
        from pydantic_dynamo.scan import scan_flow

        flow = scan_flow(self._core, segments=segments, filters=filters, limit=limit)
        return iterate(self._port, flow)

    def iterate_flow(self, flow: Flow) -> Iterator[Any]:
        """Run a reading flow of this package with this repository's client, yielding what it
        emits (a collection's pages, a projection's batches)."""
        return iterate(self._port, flow)

    def projected(self, projection: type[ProjT]) -> ProjectedReads[ProjT]:
        """``get``, ``get_batch``, ``list`` and ``list_between`` reading only the fields of the
        model ``projection`` (each one of the item model's: ``InvalidAttributeError`` naming it
        otherwise), as ``PartitionedContent[projection]``; see :mod:`pydantic_dynamo.projections`.
        """
        from pydantic_dynamo.projections import ProjectedReads

        return ProjectedReads(self, projection)

    def count(
        self,
        partition_id: Ids,
        content_prefix: Ids = None,
        *,
        between: tuple[Ids, Ids] | None = None,
        filters: FilterCommand | Condition | None = None,
    ) -> int:
        """How many live items ``list`` (by ``content_prefix``) or ``list_between`` (by
        ``between=(start, end)``) would return, filters honoured: a Query with
        ``Select=COUNT``, every page read (see :mod:`pydantic_dynamo.counts`)."""
        from pydantic_dynamo.counts import count_flow

        flow = count_flow(
            self._core, partition_id, content_prefix, between=between, filters=filters
        )
        return int(run(self._port, flow))

    def count_index(
        self,
        index: str,
        partition: Sequence[Any] = (),
        *,
        prefix: Sequence[Any] = (),
        between: tuple[Sequence[Any], Sequence[Any]] | None = None,
        filters: FilterCommand | Condition | None = None,
    ) -> int:
        """How many entries ``query_index`` would return, every page read."""
        from pydantic_dynamo.counts import count_index_flow

        flow = count_index_flow(
            self._core, index, partition, prefix=prefix, between=between, filters=filters
        )
        return int(run(self._port, flow))

"""The synchronous repository: the pure core driven by a boto3 low-level DynamoDB client.

No asyncio anywhere on this path: it is what the Lambda handlers run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic

from pydantic_dynamo.batching import BatchGetPlan, BatchWritePlan
from pydantic_dynamo.client import create_client, error_code, error_response
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
from pydantic_dynamo.paging import QueryPlan
from pydantic_dynamo.retry import RetryPolicy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["SyncDynamoRepository"]

Item = dict[str, Any]


class SyncDynamoRepository(Generic[ObjT]):
    """A repository of one Pydantic model in one DynamoDB table, over the low-level client.

    Keyword arguments are 0.4.2's (``item_class``, ``partition_prefix``, ``partition_name``,
    ``content_type``, ``table_name``, ``partition_key``, ``sort_key``, ``consistent_reads``),
    plus ``client`` (a boto3 DynamoDB client; created lazily from the environment when omitted)
    and ``retry_policy`` for batch retries.

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
        client: DynamoDBClient | None = None,
        retry_policy: RetryPolicy | None = None,
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
        )
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client in use (created on first use when none was given)."""
        if self._client is None:
            self._client = create_client()
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
        return None

    # -- writes ---------------------------------------------------------------------------------

    def put(self, content: PartitionedContent[ObjT]) -> None:
        """Write one content, replacing any item with the same key."""
        self.client.put_item(**self._core.put_request(content))

    def put_batch(self, contents: Iterable[PartitionedContent[ObjT]]) -> None:
        """Write many contents with BatchWriteItem, 25 per request.

        Every content is encoded and checked before the first request. Unprocessed items and
        throttling are retried with backoff; what is still unwritten then raises
        :class:`~pydantic_dynamo.exceptions.UnprocessedItemsError` with exactly those contents.
        """
        self._run_write_plan(self._core.write_plan(contents))

    def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> PartitionedContent[ObjT]:
        """Apply ``command`` to one item and return its new state.

        Raises :class:`~pydantic_dynamo.exceptions.ItemNotFoundError` when ``require_exists``
        and the item is missing, :class:`~pydantic_dynamo.exceptions.VersionConflictError` when
        ``command.current_version`` does not match (both are ``RequestObjectStateError``).
        """
        request = self._core.update_request(partition_id, content_id, command, require_exists)
        response = self._conditional("update_item", request, command.current_version)
        return self._core.decode(response["Attributes"])

    def delete(self, partition_id: Ids, content_prefix: Ids) -> None:
        """Delete every item of this content type whose content ids start with the prefix."""
        plan = self._core.query_plan(partition_id, prefix=content_prefix, keys_only=True)
        for page in self._run_query(plan):
            if page.items:
                self._run_write_plan(self._core.delete_plan(page.items))

    def delete_item(
        self, partition_id: Ids, content_id: Ids, current_version: int | None = None
    ) -> bool:
        """Delete one item; whether one was there. With ``current_version``, only that version."""
        request = self._core.delete_item_request(partition_id, content_id, current_version)
        response = self._conditional("delete_item", request, current_version)
        return bool(response.get("Attributes"))

    # -- reads ----------------------------------------------------------------------------------

    def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[ObjT]:
        """One item by key; ``content`` is ``None`` when absent or expired."""
        response = self.client.get_item(**self._core.get_request(partition_id, content_id))
        return self._core.get_response(dict(response), time.time())

    def get_batch(self, request_ids: Sequence[RequestIds]) -> Iterator[BatchResponse[ObjT]]:
        """Many items by key with BatchGetItem, 100 keys per request, one batch per response."""
        plan: BatchGetPlan[RequestIds] = self._core.get_plan(request_ids)
        decode = self._core.decode
        client = self.client
        while (request := plan.next_request()) is not None:
            try:
                response = client.batch_get_item(**request)
            except Exception as error:
                code = error_code(error)
                if code is None:
                    raise
                time.sleep(plan.on_error(code, error))
                continue
            items, delay = plan.on_response(dict(response))
            items = self._core.live_items(items, time.time())
            if items:
                yield BatchResponse(raw_items=items, decode=decode)
            if delay:
                time.sleep(delay)

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """Items whose content ids start with ``content_prefix``, one batch per DynamoDB page.

        ``limit`` is exact, filters included. Each batch's ``cursor`` resumes after it.
        """
        plan = self._core.query_plan(
            partition_id,
            prefix=content_prefix,
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return self._pages(plan)

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """Items whose content ids sort between the bounds, inclusive.

        Equal bounds list by prefix instead, as 0.4.2 did (``between`` would match only the
        bound itself).
        """
        if _same_ids(content_start, content_end):
            return self.list(partition_id, content_start, sort_ascending, limit, filters, cursor)
        plan = self._core.query_plan(
            partition_id,
            between=(content_start, content_end),
            sort_ascending=sort_ascending,
            limit=limit,
            filters=filters,
            cursor=cursor,
        )
        return self._pages(plan)

    # -- driving plans --------------------------------------------------------------------------

    def _pages(self, plan: QueryPlan) -> Iterator[BatchResponse[ObjT]]:
        decode = self._core.decode
        for page in self._run_query(plan):
            if page.items or page.cursor is None:
                yield BatchResponse(raw_items=page.items, decode=decode, cursor=page.cursor)

    def _run_query(self, plan: QueryPlan) -> Iterator[Any]:
        client = self.client
        while (request := plan.next_request()) is not None:
            yield plan.on_response(dict(client.query(**request)))

    def _run_write_plan(self, plan: BatchWritePlan[Any]) -> None:
        client = self.client
        while (request := plan.next_request()) is not None:
            try:
                response = client.batch_write_item(**request)
            except Exception as error:
                code = error_code(error)
                if code is None:
                    raise
                delay = plan.on_error(code, error)
            else:
                delay = plan.on_response(dict(response))
            if delay:
                time.sleep(delay)

    def _conditional(self, operation: str, request: Item, expected_version: int | None) -> Item:
        try:
            response: Item = getattr(self.client, operation)(**request)
        except Exception as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            raise self._core.condition_failure(
                request["Key"], error_response(error), expected_version
            ) from error
        return response


def _same_ids(first: Ids, second: Ids) -> bool:
    def normal(ids: Ids) -> list[str]:
        if ids is None:
            return []
        return [ids] if isinstance(ids, str) else list(ids)

    return normal(first) == normal(second)

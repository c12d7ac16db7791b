"""The integration tests' harness: the repository surface, its flavours, and traffic hooks.

``Repository`` is the surface every repository flavour offers the tests; a ``RepoFactory``
builds them over one client, whose botocore event hooks ``Traffic`` (request counting) and
``Faults`` (unprocessed work, throttling) use. Hooks run the same on botocore and aiobotocore.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar

import boto3
from aiobotocore.config import AioConfig
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.hooks import BaseEventHooks
from pydantic import BaseModel

from pydantic_dynamo import (
    BatchResponse,
    Condition,
    FilterCommand,
    GetResponse,
    PartitionedContent,
    RetryPolicy,
    SyncDynamoRepository,
    UpdateCommand,
)
from pydantic_dynamo.async_repository import DynamoRepository
from pydantic_dynamo.transport import LeanClient, TransportRetries
from pydantic_dynamo.transport.async_client import AsyncLeanClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

Ids = Sequence[str] | None
RequestIds = tuple[Ids, Ids]
Item = dict[str, Any]

PARTITION_PREFIX: Final = "test"
PARTITION_NAME: Final = "integration"
CONTENT_TYPE: Final = "example"
PARTITION_KEY: Final = "PARTITION_KEY"
SORT_KEY: Final = "SORT_KEY"

# One boto3 session for every test's client: it caches the service model between clients.
_SESSION: Final = boto3.session.Session()


class Repository(Protocol[M]):
    """The surface every repository flavour offers the tests (the sync repository's)."""

    def put(self, content: PartitionedContent[M]) -> None: ...

    def put_batch(self, contents: Iterable[PartitionedContent[M]]) -> None: ...

    def save(
        self, content: PartitionedContent[M], *, expected_version: int | None = None
    ) -> PartitionedContent[M]: ...

    def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[M]: ...

    def get_batch(self, request_ids: Sequence[RequestIds]) -> Iterator[BatchResponse[M]]: ...

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[M]]: ...

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[M]]: ...

    def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> PartitionedContent[M]: ...

    def delete(self, partition_id: Ids, content_prefix: Ids) -> None: ...

    def delete_item(
        self, partition_id: Ids, content_id: Ids, current_version: int | None = None
    ) -> bool: ...


class RepoFactory(Protocol):
    """Builds repositories of one flavour over one table, sharing one client."""

    @property
    def events(self) -> BaseEventHooks:
        """The event hooks of the client every repository of this factory uses."""
        ...

    def __call__(
        self,
        item_class: type[M],
        *,
        table_name: str | None = None,
        content_type: str = CONTENT_TYPE,
        retry_policy: RetryPolicy | None = None,
    ) -> Repository[M]: ...


def make_client(endpoint_url: str) -> DynamoDBClient:
    """A client without botocore's own retries, so every request counted is the library's."""
    client: DynamoDBClient = _SESSION.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    return client


def make_lean_client(endpoint_url: str) -> DynamoDBClient:
    """A lean-transport client that tries once, so every request counted is the library's."""
    client: Any = LeanClient(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=TransportRetries(max_attempts=1),
    )
    typed: DynamoDBClient = client  # the same methods and shapes as boto3's, for the data plane
    return typed


class SyncRepoFactory:
    """``SyncDynamoRepository`` over a fresh client (boto3's or the lean transport's)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    @property
    def events(self) -> BaseEventHooks:
        return self._client.meta.events

    def __call__(
        self,
        item_class: type[M],
        *,
        table_name: str | None = None,
        content_type: str = CONTENT_TYPE,
        retry_policy: RetryPolicy | None = None,
    ) -> Repository[M]:
        return SyncDynamoRepository[M](
            item_class=item_class,
            partition_prefix=PARTITION_PREFIX,
            partition_name=PARTITION_NAME,
            content_type=content_type,
            table_name=table_name or self._table_name,
            partition_key=PARTITION_KEY,
            sort_key=SORT_KEY,
            consistent_reads=True,
            client=self._client,
            retry_policy=retry_policy,
        )


class AsyncRepoFactory:
    """The async ``DynamoRepository`` on its own event loop, behind the sync surface.

    Each call runs the coroutine to completion on the factory's loop, and async iterators are
    pulled one batch at a time, so a test body reads the same for both flavours (and stays as
    lazy as the sync one).
    """

    def __init__(self, endpoint_url: str, table_name: str, *, lean: bool = False) -> None:
        """``lean``: the asyncio lean transport's client instead of aiobotocore's."""
        from aiobotocore.session import get_session

        self._loop = asyncio.new_event_loop()
        self._table_name = table_name
        creator: Any
        if lean:
            creator = AsyncLeanClient(
                endpoint_url=endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                retries=TransportRetries(max_attempts=1),
            )
        else:
            creator = get_session().create_client(
                "dynamodb",
                endpoint_url=endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=AioConfig(retries={"mode": "standard", "total_max_attempts": 1}),
            )
        self._creator = creator
        self._client: Any = self._loop.run_until_complete(creator.__aenter__())

    @property
    def events(self) -> BaseEventHooks:
        events: BaseEventHooks = self._client.meta.events
        return events

    def close(self) -> None:
        """Close the client and the loop."""
        self._loop.run_until_complete(self._creator.__aexit__(None, None, None))
        self._loop.close()

    def __call__(
        self,
        item_class: type[M],
        *,
        table_name: str | None = None,
        content_type: str = CONTENT_TYPE,
        retry_policy: RetryPolicy | None = None,
    ) -> Repository[M]:
        repo = DynamoRepository[M](
            item_class=item_class,
            partition_prefix=PARTITION_PREFIX,
            partition_name=PARTITION_NAME,
            content_type=content_type,
            table_name=table_name or self._table_name,
            partition_key=PARTITION_KEY,
            sort_key=SORT_KEY,
            consistent_reads=True,
            client=self._client,
            retry_policy=retry_policy,
        )
        return _SyncView(repo, self._loop)


class _SyncView(Generic[M]):
    """A sync facade over the async repository (for the shared behavioural tests only)."""

    def __init__(self, repo: DynamoRepository[M], loop: asyncio.AbstractEventLoop) -> None:
        self._repo = repo
        self._loop = loop

    def _run(self, awaitable: Awaitable[T]) -> T:
        return self._loop.run_until_complete(awaitable)

    def _pull(self, batches: AsyncIterator[T]) -> Iterator[T]:
        while True:
            try:
                yield self._loop.run_until_complete(anext(batches))
            except StopAsyncIteration:
                return

    def put(self, content: PartitionedContent[M]) -> None:
        self._run(self._repo.put(content))

    def put_batch(self, contents: Iterable[PartitionedContent[M]]) -> None:
        self._run(self._repo.put_batch(contents))

    def save(
        self, content: PartitionedContent[M], *, expected_version: int | None = None
    ) -> PartitionedContent[M]:
        return self._run(self._repo.save(content, expected_version=expected_version))

    def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[M]:
        return self._run(self._repo.get(partition_id, content_id))

    def get_batch(self, request_ids: Sequence[RequestIds]) -> Iterator[BatchResponse[M]]:
        return self._pull(self._repo.get_batch(request_ids))

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[M]]:
        return self._pull(
            self._repo.list(partition_id, content_prefix, sort_ascending, limit, filters, cursor)
        )

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
    ) -> Iterator[BatchResponse[M]]:
        return self._pull(
            self._repo.list_between(
                partition_id, content_start, content_end, sort_ascending, limit, filters, cursor
            )
        )

    def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> PartitionedContent[M]:
        return self._run(self._repo.update(partition_id, content_id, command, require_exists))

    def delete(self, partition_id: Ids, content_prefix: Ids) -> None:
        self._run(self._repo.delete(partition_id, content_prefix))

    def delete_item(
        self, partition_id: Ids, content_id: Ids, current_version: int | None = None
    ) -> bool:
        return self._run(self._repo.delete_item(partition_id, content_id, current_version))


class Traffic:
    """Counts, per operation, the calls the repository makes and the HTTP requests sent."""

    def __init__(self, events: BaseEventHooks) -> None:
        self.calls: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        events.register("before-parameter-build.dynamodb", self._on_call)
        events.register("before-send.dynamodb", self._on_send)

    def _on_call(self, event_name: str, **kwargs: Any) -> None:
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    def _on_send(self, event_name: str, **kwargs: Any) -> None:
        self.sent[event_name.rsplit(".", 1)[-1]] += 1


def injected_response(status: int) -> AWSResponse:
    """The HTTP response of a call answered by a hook instead of DynamoDB."""
    return AWSResponse("http://injected.invalid", status, HTTPHeaders(), None)


# Writes raw items (low-level AttributeValues) straight into the test's table.
WriteRaw = Callable[..., None]


# Chooses, for the n-th call (1-based) of an operation, which of its writes or keys DynamoDB
# "leaves unprocessed".
HoldBack = Callable[[int, list[Item]], list[Item]]


class Faults:
    """Makes DynamoDB look overloaded: unprocessed batch work and throttling errors.

    ``hold_back_writes`` removes the chosen writes from a BatchWriteItem request before it is
    sent and reports them in ``UnprocessedItems``, as DynamoDB does: those items are really not
    written. ``hold_back_reads`` does the same with BatchGetItem keys. ``throttle`` answers the
    chosen calls with a throttling error without sending them.
    """

    def __init__(self, events: BaseEventHooks) -> None:
        self._events = events
        self.calls: Counter[str] = Counter()

    def hold_back_writes(self, choose: HoldBack) -> None:
        self._hold_back("BatchWriteItem", choose)

    def hold_back_reads(self, choose: HoldBack) -> None:
        self._hold_back("BatchGetItem", choose)

    def throttle(
        self,
        operation: str,
        calls: Callable[[int], bool],
        code: str = "ProvisionedThroughputExceededException",
    ) -> None:
        def before_call(**kwargs: Any) -> Any:
            self.calls[f"throttle-{operation}"] += 1
            if not calls(self.calls[f"throttle-{operation}"]):
                return None
            error = {"Error": {"Code": code, "Message": "Injected by the test"}}
            return injected_response(400), {
                **error,
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }

        self._events.register(f"before-call.dynamodb.{operation}", before_call)

    def _hold_back(self, operation: str, choose: HoldBack) -> None:
        reads = operation == "BatchGetItem"

        def before_parameter_build(params: Item, context: Item, **kwargs: Any) -> None:
            self.calls[operation] += 1
            (table, work), *others = params["RequestItems"].items()
            assert not others, "one table per request"
            pending: list[Item] = work["Keys"] if reads else work
            held = choose(self.calls[operation], pending)
            if not held:
                return
            context["held"] = (table, held)
            kept = [entry for entry in pending if not any(entry is h for h in held)]
            if not kept:
                context["held_all"] = True  # nothing left to send: answer without sending
            elif reads:
                params["RequestItems"] = {table: {**work, "Keys": kept}}
            else:
                params["RequestItems"] = {table: kept}

        def before_call(context: Item, **kwargs: Any) -> Any:
            if not context.get("held_all"):
                return None
            parsed: Item = {"ResponseMetadata": {"HTTPStatusCode": 200}}
            if reads:
                parsed["Responses"] = {}
            return injected_response(200), parsed

        def after_call(parsed: Item, context: Item, **kwargs: Any) -> None:
            if "held" not in context:
                return
            table, held = context["held"]
            if reads:
                unprocessed = parsed.setdefault("UnprocessedKeys", {})
                unprocessed.setdefault(table, {"Keys": []})["Keys"].extend(held)
            else:
                parsed.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(held)

        self._events.register(
            f"before-parameter-build.dynamodb.{operation}", before_parameter_build
        )
        self._events.register(f"before-call.dynamodb.{operation}", before_call)
        self._events.register(f"after-call.dynamodb.{operation}", after_call)

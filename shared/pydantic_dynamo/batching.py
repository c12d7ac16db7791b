"""Sans-I/O plans for BatchWriteItem and BatchGetItem: chunking, retries, and what was left.

A driver (sync or async) loops::

    while (request := plan.next_request()) is not None:
        try:
            response = send(request)
        except ClientError as error:
            delay = plan.on_error(error_code(error), error)
        else:
            delay = plan.on_response(response)
        sleep(delay)

The plan chunks (25 writes, 100 keys), retries unprocessed work and throttling with the
:class:`~pydantic_dynamo.retry.RetryPolicy`, and raises
:class:`~pydantic_dynamo.exceptions.UnprocessedItemsError` carrying exactly the work not done.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from pydantic_dynamo.aws_errors import ErrorKind, classify
from pydantic_dynamo.exceptions import UnprocessedItemsError
from pydantic_dynamo.retry import RETRYABLE_ERROR_CODES, RetryPolicy

__all__ = ["BATCH_GET_SIZE", "BATCH_WRITE_SIZE", "BatchGetPlan", "BatchWritePlan", "WriteEntry"]

BATCH_WRITE_SIZE = 25
BATCH_GET_SIZE = 100

Item = dict[str, Any]
KeyTuple = tuple[str, str]
OriginT = TypeVar("OriginT")


class WriteEntry(Generic[OriginT]):
    """One put or delete: its key, its WriteRequest, and the caller's object to report back."""

    __slots__ = ("key", "origin", "request")

    def __init__(self, key: KeyTuple, request: Item, origin: OriginT) -> None:
        self.key = key
        self.request = request
        self.origin = origin


def _key_of(item: Item, partition_key: str, sort_key: str) -> KeyTuple:
    return (item[partition_key]["S"], item[sort_key]["S"])


WorkT = TypeVar("WorkT")


class _ChunkedPlan(Generic[WorkT, OriginT]):
    """What both batch plans share: a queue of work keyed by item key, sent in chunks, with
    unprocessed or throttled work requeued until the retry budget is spent.

    ``work`` maps each key to its piece of work and the caller's object to report if it is
    never done. The first entry of a key is kept (``_unique`` decides which, per plan).
    """

    chunk_size: int

    def __init__(
        self,
        table_name: str,
        partition_key: str,
        sort_key: str,
        work: dict[KeyTuple, tuple[WorkT, OriginT]],
        policy: RetryPolicy,
    ) -> None:
        self._table = table_name
        self._keys = (partition_key, sort_key)
        self._work = work
        self._pending: deque[WorkT] = deque(piece for piece, _ in work.values())
        self._in_flight: list[WorkT] = []
        self._policy = policy
        self._attempt = 0
        self._failure: UnprocessedItemsError | None = None
        self.requests_sent = 0

    def _key_of_work(self, piece: WorkT) -> KeyTuple:
        raise NotImplementedError

    def _request(self, chunk: list[WorkT]) -> Item:
        raise NotImplementedError

    def next_request(self) -> Item | None:
        """The next request, or ``None`` when all work is done.

        Raises the plan's :class:`UnprocessedItemsError` if it gave up after handing over the
        results of its last response.
        """
        if self._failure is not None:
            raise self._failure
        pending = self._pending
        if not pending:
            return None
        chunk = [pending.popleft() for _ in range(min(self.chunk_size, len(pending)))]
        self._in_flight = chunk
        self.requests_sent += 1
        return self._request(chunk)

    def on_error(self, code: str | None, error: Exception) -> float:
        """Take a failed request: the delay before retrying throttling; raises otherwise."""
        chunk, self._in_flight = self._in_flight, []
        if code in RETRYABLE_ERROR_CODES:
            delay = self._failed_try()
            if delay is not None:
                self._pending.extendleft(reversed(chunk))
                return delay
        cause = f"{code or type(error).__name__}: {error}"
        raise self._give_up(chunk, cause, code, classify(error)) from error

    def _settle(self, unprocessed: list[WorkT], what: str) -> float:
        """Requeue unprocessed work; the delay before the next try, or give up."""
        self._in_flight = []
        if not unprocessed:
            self._attempt = 0
            return 0.0
        delay = self._failed_try()
        if delay is None:
            self._failure = self._give_up(
                unprocessed, f"DynamoDB kept returning {what}", None, ErrorKind.THROTTLED
            )
            return 0.0
        self._pending.extendleft(reversed(unprocessed))
        return delay

    def _failed_try(self) -> float | None:
        self._attempt += 1
        if self._policy.exhausted(self._attempt):
            return None
        return self._policy.delay(self._attempt)

    def _give_up(
        self, left: Sequence[WorkT], cause: str, code: str | None, kind: ErrorKind
    ) -> UnprocessedItemsError:
        origins = [self._work[self._key_of_work(piece)][1] for piece in [*left, *self._pending]]
        self._pending.clear()
        return UnprocessedItemsError(origins, max(self._attempt, 1), cause, code=code, kind=kind)


class BatchWritePlan(_ChunkedPlan[WriteEntry[OriginT], OriginT]):
    """Puts and deletes in BatchWriteItem chunks of 25, retried until done or out of attempts.

    Entries with the same key are collapsed (the last wins, as sequential puts would), since
    DynamoDB refuses a batch that names one key twice.
    """

    chunk_size = BATCH_WRITE_SIZE

    def __init__(
        self,
        table_name: str,
        partition_key: str,
        sort_key: str,
        entries: Iterable[WriteEntry[OriginT]],
        policy: RetryPolicy,
    ) -> None:
        work = {entry.key: (entry, entry.origin) for entry in entries}
        super().__init__(table_name, partition_key, sort_key, work, policy)

    def _key_of_work(self, piece: WriteEntry[OriginT]) -> KeyTuple:
        return piece.key

    def _request(self, chunk: list[WriteEntry[OriginT]]) -> Item:
        return {"RequestItems": {self._table: [entry.request for entry in chunk]}}

    def on_response(self, response: Item) -> float:
        """Take a response; the seconds to wait before the next request.

        Raises :class:`UnprocessedItemsError` once DynamoDB has left work undone too often.
        """
        partition_key, sort_key = self._keys
        left = []
        for request in response.get("UnprocessedItems", {}).get(self._table, []):
            put = request.get("PutRequest")
            key_item = put["Item"] if put is not None else request["DeleteRequest"]["Key"]
            left.append(self._work[_key_of(key_item, partition_key, sort_key)][0])
        delay = self._settle(left, "UnprocessedItems")
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure  # nothing to hand over from a write: fail now
        return delay


class BatchGetPlan(_ChunkedPlan[Item, OriginT]):
    """Keys in BatchGetItem chunks of 100 (duplicates read once), unprocessed keys retried.

    ``keys`` pairs each key with the caller's object to report if it cannot be read. When the
    plan gives up, the items of its last response are still handed over: the error comes from
    the next ``next_request``.
    """

    chunk_size = BATCH_GET_SIZE

    def __init__(
        self,
        table_name: str,
        partition_key: str,
        sort_key: str,
        keys: Iterable[tuple[Item, OriginT]],
        consistent_read: bool,
        policy: RetryPolicy,
    ) -> None:
        work: dict[KeyTuple, tuple[Item, OriginT]] = {}
        for key, origin in keys:
            work.setdefault(_key_of(key, partition_key, sort_key), (key, origin))
        super().__init__(table_name, partition_key, sort_key, work, policy)
        self._consistent = consistent_read

    def _key_of_work(self, piece: Item) -> KeyTuple:
        return _key_of(piece, *self._keys)

    def _request(self, chunk: list[Item]) -> Item:
        return {"RequestItems": {self._table: {"Keys": chunk, "ConsistentRead": self._consistent}}}

    def on_response(self, response: Item) -> tuple[list[Item], float]:
        """The items found, and the seconds to wait before the next request."""
        items: list[Item] = response.get("Responses", {}).get(self._table, [])
        unprocessed = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return items, self._settle(unprocessed, "UnprocessedKeys")

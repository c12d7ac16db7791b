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


class _RetryState:
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.attempt = 0
        self.requests = 0

    def failed(self) -> float | None:
        """Count one try that left work undone; the delay, or None once the budget is spent."""
        self.attempt += 1
        if self.policy.exhausted(self.attempt):
            return None
        return self.policy.delay(self.attempt)


class BatchWritePlan(Generic[OriginT]):
    """Puts and deletes in BatchWriteItem chunks of 25, retried until done or out of attempts.

    Entries with the same key are collapsed (the last wins, as sequential puts would), since
    DynamoDB refuses a batch that names one key twice.
    """

    def __init__(
        self,
        table_name: str,
        partition_key: str,
        sort_key: str,
        entries: Iterable[WriteEntry[OriginT]],
        policy: RetryPolicy,
    ) -> None:
        self._table = table_name
        self._keys = (partition_key, sort_key)
        unique: dict[KeyTuple, WriteEntry[OriginT]] = {}
        for entry in entries:
            unique[entry.key] = entry
        self._by_key = unique
        self._pending: deque[WriteEntry[OriginT]] = deque(unique.values())
        self._in_flight: list[WriteEntry[OriginT]] = []
        self._retry = _RetryState(policy)

    @property
    def requests_sent(self) -> int:
        """How many requests the plan has handed out."""
        return self._retry.requests

    def next_request(self) -> Item | None:
        """The next BatchWriteItem request, or ``None`` when everything is written."""
        if not self._pending:
            return None
        pending = self._pending
        chunk = [pending.popleft() for _ in range(min(BATCH_WRITE_SIZE, len(pending)))]
        self._in_flight = chunk
        self._retry.requests += 1
        return {"RequestItems": {self._table: [entry.request for entry in chunk]}}

    def on_response(self, response: Item) -> float:
        """Take a response; returns the seconds to wait before the next request."""
        unprocessed = response.get("UnprocessedItems", {}).get(self._table, [])
        self._in_flight = []
        if not unprocessed:
            self._retry.attempt = 0
            return 0.0
        partition_key, sort_key = self._keys
        left = []
        for request in unprocessed:
            item = request["PutRequest"]["Item"] if "PutRequest" in request else None
            key_item = item if item is not None else request["DeleteRequest"]["Key"]
            left.append(self._by_key[_key_of(key_item, partition_key, sort_key)])
        delay = self._retry.failed()
        if delay is None:
            raise self._give_up(left, "DynamoDB kept returning UnprocessedItems", None)
        self._pending.extendleft(reversed(left))
        return delay

    def on_error(self, code: str | None, error: Exception) -> float:
        """Take a failed request; retries throttling, raises for anything else."""
        chunk, self._in_flight = self._in_flight, []
        if code in RETRYABLE_ERROR_CODES:
            delay = self._retry.failed()
            if delay is not None:
                self._pending.extendleft(reversed(chunk))
                return delay
        raise self._give_up(chunk, f"{code or type(error).__name__}: {error}", code) from error

    def _give_up(
        self, left: Sequence[WriteEntry[OriginT]], cause: str, code: str | None
    ) -> UnprocessedItemsError:
        items = [entry.origin for entry in left] + [entry.origin for entry in self._pending]
        self._pending.clear()
        return UnprocessedItemsError(items, max(self._retry.attempt, 1), cause, code=code)


class BatchGetPlan(Generic[OriginT]):
    """Keys in BatchGetItem chunks of 100 (duplicates dropped), unprocessed keys retried.

    ``keys`` pairs each key with the caller's object to report if it cannot be read.
    """

    def __init__(
        self,
        table_name: str,
        partition_key: str,
        sort_key: str,
        keys: Iterable[tuple[Item, OriginT]],
        consistent_read: bool,
        policy: RetryPolicy,
    ) -> None:
        self._table = table_name
        self._keys = (partition_key, sort_key)
        unique: dict[KeyTuple, Item] = {}
        self._origins: dict[KeyTuple, OriginT] = {}
        for key, origin in keys:
            key_tuple = _key_of(key, partition_key, sort_key)
            if key_tuple not in unique:
                unique[key_tuple] = key
                self._origins[key_tuple] = origin
        self._pending: deque[Item] = deque(unique.values())
        self._in_flight: list[Item] = []
        self._failure: UnprocessedItemsError | None = None
        self._consistent = consistent_read
        self._retry = _RetryState(policy)

    @property
    def requests_sent(self) -> int:
        """How many requests the plan has handed out."""
        return self._retry.requests

    def next_request(self) -> Item | None:
        """The next BatchGetItem request, or ``None`` when every key was read.

        Raises the plan's :class:`UnprocessedItemsError` once it has given up (after the items
        of the last response were handed over).
        """
        if self._failure is not None:
            raise self._failure
        if not self._pending:
            return None
        pending = self._pending
        chunk = [pending.popleft() for _ in range(min(BATCH_GET_SIZE, len(pending)))]
        self._in_flight = chunk
        self._retry.requests += 1
        return {"RequestItems": {self._table: {"Keys": chunk, "ConsistentRead": self._consistent}}}

    def on_response(self, response: Item) -> tuple[list[Item], float]:
        """The items found, and the seconds to wait before the next request."""
        self._in_flight = []
        items: list[Item] = response.get("Responses", {}).get(self._table, [])
        unprocessed = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        if not unprocessed:
            self._retry.attempt = 0
            return items, 0.0
        delay = self._retry.failed()
        if delay is None:
            # The items read are the caller's: hand them over, fail on the next request.
            self._failure = self._give_up(
                unprocessed, "DynamoDB kept returning UnprocessedKeys", None
            )
            return items, 0.0
        self._pending.extendleft(reversed(unprocessed))
        return items, delay

    def on_error(self, code: str | None, error: Exception) -> float:
        """Take a failed request; retries throttling, raises for anything else."""
        chunk, self._in_flight = self._in_flight, []
        if code in RETRYABLE_ERROR_CODES:
            delay = self._retry.failed()
            if delay is not None:
                self._pending.extendleft(reversed(chunk))
                return delay
        raise self._give_up(chunk, f"{code or type(error).__name__}: {error}", code) from error

    def _give_up(self, left: Sequence[Item], cause: str, code: str | None) -> UnprocessedItemsError:
        partition_key, sort_key = self._keys
        origins = [
            self._origins[_key_of(key, partition_key, sort_key)] for key in [*left, *self._pending]
        ]
        self._pending.clear()
        return UnprocessedItemsError(origins, max(self._retry.attempt, 1), cause, code=code)

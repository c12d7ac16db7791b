"""The transactions' sans-I/O flows (TransactWriteItems, TransactGetItems, with their retries)
and the sync and async transactions that send them.

A transaction cancelled by contention or throttling (``TransactionConflict``,
``ThrottlingError``...: :func:`~pydantic_dynamo.aws_errors.classify` calls it ``THROTTLED``)
applied nothing, so it is sent again after the plan's backoff, with a new
``ClientRequestToken``; one whose updates read fields that changed before it applied is read
and sent again (up to five rounds). A resend of the same request by the transport carries the
same token, so DynamoDB answers it without applying it twice.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from pydantic_dynamo.aws_errors import ErrorKind, classify, error_code
from pydantic_dynamo.drivers import run
from pydantic_dynamo.exceptions import IndexConflictError
from pydantic_dynamo.flows import Call, Flow, Sleep
from pydantic_dynamo.ports import DynamoDBPort
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.transactions import TransactionPlan, TransactReadPlan
from pydantic_dynamo.update_flows import UPDATE_ROUNDS
from pydantic_dynamo.write_tokens import new_token

__all__ = ["AsyncTransaction", "Transaction", "transact_get_flow", "transact_write_flow"]

Item = dict[str, Any]


def _cancelled(error: BaseException) -> bool:
    return error_code(error) == "TransactionCanceledException"


def _read(request: Item, policy: RetryPolicy, cancellation: Any) -> Flow:
    """Send a TransactGetItems request, again while contention cancels it; its response."""
    attempt = 0
    while True:
        try:
            response = yield Call("transact_get_items", request)
        except Exception as error:
            if not _cancelled(error):
                raise
            attempt += 1
            if classify(error) is not ErrorKind.THROTTLED or policy.exhausted(attempt):
                raise cancellation(error) from error
            yield Sleep(policy.delay(attempt))
            continue
        return response


def transact_get_flow(plan: TransactReadPlan, policy: RetryPolicy) -> Flow:
    """Read the plan's items as one snapshot; returns one content or ``None`` per read."""
    response = yield from _read(plan.request(), policy, plan.cancellation)
    return plan.contents(response)


def transact_write_flow(plan: TransactionPlan) -> Flow:
    """Send the plan's TransactWriteItems (reading first what its updates need); returns
    ``None``, raises :class:`~pydantic_dynamo.exceptions.TransactionCanceledError`."""
    if not plan.actions:
        return None
    policy = plan.retry_policy
    attempt = 0
    rounds = 0
    while True:
        stored: dict[int, Item | None] = {}
        read = plan.read_request()
        if read is not None:
            stored = plan.read_items((yield from _read(read, policy, plan.cancellation)))
        try:
            yield Call("transact_write_items", plan.request(stored, new_token()))
        except Exception as error:
            if not _cancelled(error):
                raise
            if plan.read_changed(error, stored):
                rounds += 1
                if rounds >= UPDATE_ROUNDS:
                    failed = plan.cancellation(error).failures[0]
                    raise IndexConflictError(failed.key, rounds) from error
                continue
            attempt += 1
            if classify(error) is not ErrorKind.THROTTLED or policy.exhausted(attempt):
                raise plan.cancellation(error) from error
            yield Sleep(policy.delay(attempt))
            continue
        return None


class Transaction(TransactionPlan):
    """A transaction sent with a sync client (``repo.transaction()`` gives one on the
    repository's client): ``with Transaction(client) as tx:`` sends it when the block ends
    without an exception (nothing is sent when it raises), or call :meth:`commit`."""

    def __init__(self, client: DynamoDBPort, retry_policy: RetryPolicy | None = None) -> None:
        super().__init__(retry_policy)
        self._client = client
        self.committed = False

    def commit(self) -> None:
        """Send the transaction (once; an empty one sends nothing)."""
        if not self.committed:
            run(self._client, transact_write_flow(self))
            self.committed = True

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()


class AsyncTransaction(TransactionPlan):
    """A transaction sent with an async client (``repo.transaction()`` of the async
    repository): ``async with`` sends it when the block ends without an exception."""

    def __init__(self, client: Any, retry_policy: RetryPolicy | None = None) -> None:
        super().__init__(retry_policy)
        self._client = client
        self.committed = False

    async def commit(self) -> None:
        """Send the transaction (once; an empty one sends nothing)."""
        from pydantic_dynamo.async_repository import arun  # the async path loads on use

        if not self.committed:
            await arun(self._client, transact_write_flow(self))
            self.committed = True

    async def __aenter__(self) -> AsyncTransaction:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.commit()

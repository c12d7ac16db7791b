"""The lean DynamoDB client under asyncio: boto3's data-plane methods, awaited, without boto3.

:class:`AsyncLeanClient` offers ``put_item``, ``get_item``, ``update_item``, ``delete_item``,
``query``, ``scan``, ``batch_get_item``, ``batch_write_item``, ``transact_get_items`` and
``transact_write_items`` as coroutines, with boto3's keyword arguments and response dicts (as
aiobotocore's client), so the async repository uses it unchanged. A call is the sync
:class:`~pydantic_dynamo.transport.LeanClient`'s, step for step
(:class:`~pydantic_dynamo.transport.json_calls.JsonClientBase`: the same JSON, signing,
credentials, retries and quota, idempotency token, errors, hooks and observers); only its I/O
is asyncio's: :class:`~pydantic_dynamo.transport.async_http.AsyncHttpPool` for the
connections, ``asyncio.sleep`` for the backoff, and credential refreshes that would block (the
chain's first walk, STS, the container or instance endpoint) in a thread, while aiobotocore's
credentials (``credentials=``) are awaited. Neither aioboto3 nor aiobotocore is imported.

Only the data plane is offered: tables are created and described with boto3, aioboto3 or the
sync :class:`~pydantic_dynamo.transport.LeanClient`. ``close()`` is a coroutine, and the client
is an async context manager.

Example (DynamoDB Local)::

    async with AsyncLeanClient(endpoint_url="http://127.0.0.1:8000") as client:
        await client.put_item(TableName="films", Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
        answer = await client.get_item(TableName="films", Key={"PK": {"S": "a"}, "SK": {"S": "b"}})
"""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType
from typing import Any

from pydantic_dynamo.transport.async_http import AsyncHttpPool
from pydantic_dynamo.transport.json_calls import Exchange, Freeze, JsonClientBase, Step, Wait
from pydantic_dynamo.transport.service import DYNAMODB

__all__ = ["AsyncLeanClient"]

Item = dict[str, Any]


class AsyncLeanClient(JsonClientBase):
    """An asyncio DynamoDB data-plane client speaking the JSON protocol (see the module doc).

    Arguments are the sync client's, boto3's
    (:class:`~pydantic_dynamo.transport.json_calls.JsonClientBase`); ``credentials`` may also
    be aiobotocore's.
    """

    SERVICE = DYNAMODB

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._http = AsyncHttpPool(self._url, **self._pool_options)

    async def __aenter__(self) -> AsyncLeanClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._http.close()

    # -- the data plane -------------------------------------------------------------------------

    async def put_item(self, **kwargs: Any) -> Item:
        """PutItem, as aiobotocore's ``put_item``."""
        return await self._call("PutItem", kwargs)

    async def get_item(self, **kwargs: Any) -> Item:
        """GetItem."""
        return await self._call("GetItem", kwargs)

    async def update_item(self, **kwargs: Any) -> Item:
        """UpdateItem."""
        return await self._call("UpdateItem", kwargs)

    async def delete_item(self, **kwargs: Any) -> Item:
        """DeleteItem."""
        return await self._call("DeleteItem", kwargs)

    async def query(self, **kwargs: Any) -> Item:
        """Query (one page)."""
        return await self._call("Query", kwargs)

    async def scan(self, **kwargs: Any) -> Item:
        """Scan (one page)."""
        return await self._call("Scan", kwargs)

    async def batch_get_item(self, **kwargs: Any) -> Item:
        """BatchGetItem."""
        return await self._call("BatchGetItem", kwargs)

    async def batch_write_item(self, **kwargs: Any) -> Item:
        """BatchWriteItem."""
        return await self._call("BatchWriteItem", kwargs)

    async def transact_get_items(self, **kwargs: Any) -> Item:
        """TransactGetItems."""
        return await self._call("TransactGetItems", kwargs)

    async def transact_write_items(self, **kwargs: Any) -> Item:
        """TransactWriteItems, with a ``ClientRequestToken`` when none is given (as the sync
        client and botocore add one: a resent transaction is not applied twice)."""
        kwargs.setdefault("ClientRequestToken", str(uuid.uuid4()))
        return await self._call("TransactWriteItems", kwargs)

    # -- one call -------------------------------------------------------------------------------

    async def _call(self, operation: str, params: Item) -> Item:
        steps = self._call_steps(operation, params)
        reply: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = steps.send(reply) if error is None else steps.throw(error)
            except StopIteration as stop:
                result: Item = stop.value
                return result
            reply, error = None, None
            try:
                reply = await self._perform(step)
            except BaseException as raised:  # the steps decide (observers see it, cancellation too)
                error = raised

    async def _perform(self, step: Step) -> Any:
        if type(step) is Exchange:
            return await self._http.post(step.headers, step.body)
        if type(step) is Freeze:
            return await self._credentials.afrozen()
        if type(step) is Wait:
            await asyncio.sleep(step.seconds)
            return None
        return await self._credentials.aexpire()

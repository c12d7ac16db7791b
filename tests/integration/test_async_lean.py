"""The asyncio lean client against DynamoDB Local, through the fault-injecting proxy.

:class:`OnLoop` gives an :class:`~pydantic_dynamo.transport.AsyncLeanClient` the sync client's
face (each call run to its end on the facade's own event loop), so the resend-safety scenarios
of ``test_resend_safety.py`` run on it unchanged (its ``async-lean`` transport), and the async
repository's own scenarios there run on it too. Here: what only the async transport does
(its deadline, its pool under concurrent tasks) and the storms of ``test_lean_transport.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import DynamoRepository
from pydantic_dynamo.transport import AsyncLeanClient, TransportRetries
from tests.integration.fault_proxy import Fault, FaultProxy
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
)
from tests.integration.support import Example, every_id, numbered
from tests.integration.test_lean_transport import proxy, stored_ids, stormy

__all__ = ["OnLoop", "async_lean_client", "on_loop", "proxy"]

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")


def async_lean_client(
    endpoint_url: str, config: Config | None = None, *, attempts: int = 4
) -> AsyncLeanClient:
    """The asyncio lean transport, ``attempts`` tries without backoff."""
    return AsyncLeanClient(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=TransportRetries(max_attempts=attempts, base_delay=0.0, max_delay=0.0),
        config=config,
    )


class OnLoop:
    """An async client's data plane behind sync methods, each call run on this facade's loop.

    Calls from several threads (the sync driver's ``CallMany``) take turns on the one loop.
    """

    def __init__(self, client: AsyncLeanClient) -> None:
        self.client = client
        self.meta = client.meta
        self.exceptions = client.exceptions
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    def _run(self, awaitable: Awaitable[T]) -> T:
        async def main() -> T:
            return await awaitable

        with self._lock:
            return self._loop.run_until_complete(main())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            return self._run(method(**kwargs))

        return call

    def close(self) -> None:
        self._run(self.client.close())
        self._loop.close()


def on_loop(endpoint_url: str, config: Config | None = None) -> OnLoop:
    """``test_resend_safety``'s client maker for the asyncio lean transport."""
    return OnLoop(async_lean_client(endpoint_url, config))


# -- through the proxy ---------------------------------------------------------------------------


def repository(client: Any, table_name: str) -> DynamoRepository[Example]:
    return DynamoRepository[Example](
        item_class=Example,
        partition_prefix=PARTITION_PREFIX,
        partition_name=PARTITION_NAME,
        content_type=CONTENT_TYPE,
        table_name=table_name,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        consistent_reads=True,
        client=client,
    )


def test_put_batch_get_batch_and_list_of_500_through_faults_are_exact(
    proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        async with async_lean_client(proxy.endpoint_url, attempts=6) as client:
            repo = repository(client, table_name)
            proxy.replan(stormy)
            await repo.put_batch(numbered(500))
            keys = [(["films"], [cid]) for cid in every_id(500)]
            got = [c.content_ids[0] async for batch in repo.get_batch(keys) for c in batch]
            listed = [c.content_ids[0] async for batch in repo.list(["films"], None) for c in batch]
            return got, listed

    got, listed = asyncio.run(scenario())
    assert stored_ids(dynamodb_client, table_name) == every_id(500)
    assert sorted(got) == every_id(500)
    assert listed == every_id(500)
    every_fault = {stormy(number, "", {}) for number in range(1, 8)}
    assert {seen.fault for seen in proxy.seen} == every_fault, "every fault was met"


def test_concurrent_tasks_share_the_pool_and_each_get_their_own_answer(
    proxy: FaultProxy, table_name: str
) -> None:
    async def scenario() -> tuple[list[str], int]:
        async with async_lean_client(proxy.endpoint_url) as client:
            repo = repository(client, table_name)
            await repo.put_batch(numbered(60))
            answers = await asyncio.gather(*(repo.get(["films"], [cid]) for cid in every_id(60)))
            found = [a.content.content_ids[0] for a in answers if a.content is not None]
            return found, len(client._http._idle)

    found, idle = asyncio.run(scenario())
    assert found == every_id(60)
    assert 1 <= idle <= 10


def test_a_trickled_answer_fails_within_the_read_timeout(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    # Four bytes every ~0.1 s for about 5 s: each read is quick, the whole answer is not.
    trickling = FaultProxy(
        dynamodb_local.endpoint_url,
        lambda n, operation, headers: Fault.TRICKLE,
        trickle_seconds=5.0,
        trickle_bytes=4,
    )
    config = Config(read_timeout=1)

    async def scenario() -> None:
        async with async_lean_client(trickling.endpoint_url, config, attempts=1) as client:
            await repository(client, table_name).get(["films"], ["anyone"])

    try:
        began = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            asyncio.run(scenario())
        assert time.monotonic() - began < 2.0
    finally:
        trickling.close()


def test_a_kept_alive_connection_the_server_closed_is_replaced_not_failed(
    proxy: FaultProxy, table_name: str
) -> None:
    proxy.replan(lambda number, operation, headers: Fault.CLOSE_IDLE if number == 1 else Fault.PASS)

    async def scenario() -> None:
        async with async_lean_client(proxy.endpoint_url, attempts=1) as client:
            repo = repository(client, table_name)
            await repo.get(["films"], ["a"])
            await asyncio.sleep(0.2)  # the server's close reaches the idle connection
            await repo.get(["films"], ["a"])

    asyncio.run(scenario())
    assert len(proxy.seen) == 2

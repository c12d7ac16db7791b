"""aiodynamo (asyncio) on the same workload: plain dicts in and out.

aiodynamo converts Python values to AttributeValues and back in Python, signs with its own
SigV4 and sends with its HTTP adapter for aiohttp (variant ``aiohttp``) or httpx (``httpx``);
batches are chunked here (25 writes, 100 keys) as its API expects, with unprocessed work
retried. Updates ask for ``ALL_NEW`` as this library's update returns the new state. Every HTTP
request is counted by wrapping ``Client.send_request``.

``.bench-venv-peers/bin/python -m benchmarks.runner_aiodynamo --endpoint URL --table NAME
[--variant httpx]``
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from importlib.metadata import version
from typing import Any

from aiodynamo.client import Client
from aiodynamo.credentials import Key, StaticCredentials
from aiodynamo.errors import ItemNotFound
from aiodynamo.expressions import F, HashKey, RangeKey
from aiodynamo.http.aiohttp import AIOHTTP
from aiodynamo.http.httpx import HTTPX
from aiodynamo.models import BatchGetRequest, BatchWriteRequest, ReturnValues
from aiohttp import ClientSession
from httpx import AsyncClient
from yarl import URL

from benchmarks import harness
from benchmarks.peer_items import PARTITION_VALUE, SORT_PREFIX, items, key
from benchmarks.workload import OP_SETS, PARTITION_KEY, SORT_KEY, Workload

VARIANTS = ("aiohttp", "httpx")


class AiodynamoRunner:
    def __init__(self, client: Client, table: str, workload: Workload) -> None:
        self.client = client
        self.table = table
        self.items = items(workload)
        self.get_batch_keys = [key(i) for i in workload.get_batch_indices()]
        self.get_keys = [key(i) for i in workload.get_indices()]
        self.updates = [(key(i), value) for i, value in workload.update_values()]
        self.listed: list[dict[str, Any]] = []
        self.updated: list[Any] = []

    async def run(self, op: str) -> int:
        count: int = await getattr(self, f"op_{op}")()
        return count

    async def op_put_batch(self) -> int:
        for start in range(0, len(self.items), 25):
            pending = self.items[start : start + 25]
            attempt = 0
            while pending:
                if attempt:
                    await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                result = await self.client.batch_write(
                    {self.table: BatchWriteRequest(items_to_put=pending)}
                )
                pending = result[self.table].unput_items if self.table in result else []
                attempt += 1
        return len(self.items)

    async def op_list(self) -> int:
        condition = HashKey(PARTITION_KEY, PARTITION_VALUE) & RangeKey(SORT_KEY).begins_with(
            SORT_PREFIX
        )
        self.listed = [item async for item in self.client.query(self.table, condition)]
        return len(self.listed)

    async def op_get_batch(self) -> int:
        found = 0
        for start in range(0, len(self.get_batch_keys), 100):
            pending = self.get_batch_keys[start : start + 100]
            attempt = 0
            while pending:
                if attempt:
                    await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                response = await self.client.batch_get({self.table: BatchGetRequest(keys=pending)})
                found += len(response.items.get(self.table, []))
                pending = response.unprocessed_keys.get(self.table, [])
                attempt += 1
        return found

    async def op_get(self) -> int:
        found = 0
        for item_key in self.get_keys:
            found += bool(await self.client.get_item(self.table, item_key))
        return found

    async def op_update(self) -> int:
        self.updated = []
        for item_key, value in self.updates:
            self.updated.append(
                await self.client.update_item(
                    self.table,
                    item_key,
                    F("int_field").set(value) & F("_object_version").add(1),
                    return_values=ReturnValues.all_new,
                )
            )
        return len(self.updated)


@contextlib.asynccontextmanager
async def _http(variant: str) -> AsyncIterator[AIOHTTP | HTTPX]:
    """aiodynamo's HTTP adapter of the variant, over a session of its library."""
    if variant == "httpx":
        async with AsyncClient() as httpx_client:
            yield HTTPX(httpx_client)
        return
    async with ClientSession() as session:
        yield AIOHTTP(session)


async def amain(args: Any) -> None:
    workload = harness.workload_from(args)
    counter = harness.RequestCounter()
    async with _http(args.variant) as http:
        client = Client(
            http,
            StaticCredentials(Key("bench", "bench")),
            "us-east-1",
            endpoint=URL(args.endpoint),
        )
        send = client.send_request

        async def counted(*, action: str, payload: dict[str, Any]) -> Any:
            counter(event_name=f"before-send.dynamodb.{action}")
            return await send(action=action, payload=payload)

        object.__setattr__(client, "send_request", counted)
        runner = AiodynamoRunner(client, args.table, workload)
        with contextlib.suppress(ItemNotFound):  # warm-up: connection (the table is empty)
            await client.get_item(args.table, key(0))
        ops = OP_SETS[args.op_set]
        results = await harness.measure_async(ops, runner.run, counter, args.profile)
    stored = {item[SORT_KEY] for item in runner.listed}
    checks = {
        "list_keys_match": stored == {key(i)[SORT_KEY] for i in range(workload.n)},
        "update_returns_new_state": all(
            item is not None and item["_object_version"] == 2 for item in runner.updated
        ),
    }
    harness.emit(
        "aiodynamo",
        args.variant,
        results,
        versions={"aiodynamo": version("aiodynamo"), args.variant: version(args.variant)},
        checks=checks,
    )


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(amain(harness.parse_args(argv, VARIANTS)))


if __name__ == "__main__":
    main()

"""The async floor: a raw aioboto3 (aiobotocore) client, no models in the timing.

The ``crud`` set's calls of ``runner_floor`` (the sync floor), awaited: the same items,
serialized to AttributeValue dicts before the clock starts, the same keys and update
expression, nothing read decoded. It is what an asyncio program pays for DynamoDB through
aioboto3 alone, which no async library on top of it can beat while doing more work.

``python -m benchmarks.runner_floor_async --endpoint URL --table NAME``
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import aioboto3

from benchmarks import harness
from benchmarks.runner_floor import FloorRunner, sort_value
from benchmarks.workload import CONTENT_TYPE, OP_SETS, PARTITION_KEY, SORT_KEY, Workload

AttributeMap = dict[str, Any]


class AsyncFloorRunner:
    """``FloorRunner``'s prepared items and keys, sent through an aiobotocore client."""

    def __init__(self, client: Any, table: str, workload: Workload) -> None:
        self.client = client
        self.table = table
        self.prepared = FloorRunner(None, table, workload)
        self.listed: list[AttributeMap] = []

    async def run(self, op: str) -> int:
        count: int = await getattr(self, f"op_{op}")()
        return count

    async def op_put_batch(self) -> int:
        items = self.prepared.items
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {self.table: requests}
            attempt = 0
            while pending:
                if attempt:
                    await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                response = await self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                attempt += 1
        return len(items)

    async def op_list(self) -> int:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": self.prepared.items[0][PARTITION_KEY],
                ":sk": {"S": CONTENT_TYPE + "#"},
            },
        }
        items: list[AttributeMap] = []
        while True:
            response = await self.client.query(**kwargs)
            items.extend(response["Items"])
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            kwargs["ExclusiveStartKey"] = last
        self.listed = items
        return len(items)

    async def op_get_batch(self) -> int:
        keys = self.prepared.get_batch_keys
        found = 0
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {self.table: {"Keys": list(keys[start : start + 100])}}
            attempt = 0
            while pending:
                if attempt:
                    await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
                response = await self.client.batch_get_item(RequestItems=pending)
                found += len(response["Responses"].get(self.table, []))
                pending = response.get("UnprocessedKeys") or {}
                attempt += 1
        return found

    async def op_get(self) -> int:
        found = 0
        for item_key in self.prepared.get_keys:
            response = await self.client.get_item(TableName=self.table, Key=item_key)
            found += "Item" in response
        return found

    async def op_update(self) -> int:
        for item_key, value in self.prepared.updates:
            await self.client.update_item(
                TableName=self.table,
                Key=item_key,
                UpdateExpression="SET #f = :v ADD #ver :one",
                ExpressionAttributeNames={"#f": "int_field", "#ver": "_object_version"},
                ExpressionAttributeValues={":v": {"N": value}, ":one": {"N": "1"}},
            )
        return len(self.prepared.updates)


async def run_async(args: Any) -> None:
    workload = harness.workload_from(args)
    counter = harness.RequestCounter()
    session = aioboto3.Session()
    async with session.client("dynamodb", endpoint_url=args.endpoint) as client:
        client.meta.events.register("before-send.dynamodb", counter)
        runner = AsyncFloorRunner(client, args.table, workload)
        await client.describe_table(TableName=args.table)  # warm-up: connection, loaders
        ops = OP_SETS[args.op_set]
        results = await harness.measure_async(ops, runner.run, counter, args.profile)
        stored = {item[SORT_KEY]["S"] for item in runner.listed}
        harness.emit(
            "raw aioboto3 (async floor)",
            "default",
            results,
            versions={name: version(name) for name in ("aioboto3", "aiobotocore", "botocore")},
            checks={"list_keys_match": stored == {sort_value(i) for i in range(workload.n)}},
            client=client,
        )


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(run_async(harness.parse_args(argv)))


if __name__ == "__main__":
    main()

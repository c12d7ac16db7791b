"""This library's async ``DynamoRepository``, Pydantic v2 models in and out, on each transport.

Variants:
- ``own``: no client, no resource; the repository builds an ``AsyncLeanClient`` from the
  environment (``AWS_ENDPOINT_URL_DYNAMODB``, set by ``benchmarks.run`` to DynamoDB Local);
- ``resource``: 0.4.2's construction (an aioboto3 resource and its table): the repository
  reaches the resource's endpoint through the ``AsyncLeanClient``;
- ``aioboto3``: the same construction with ``PYDANTIC_DYNAMO_TRANSPORT=boto3``, so requests go
  through the aioboto3 resource's client (the async transport 0.4.2 had).

Every read materializes its models. Requests are counted with a ``before-send`` hook on the
client in use. The timed operations are those of ``benchmarks.runner_042`` (whose runner this
reuses: the same calls, awaited), on this library.

``python -m benchmarks.runner_ours_async --endpoint URL --table NAME --variant own``
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from importlib.metadata import version
from typing import Any

from benchmarks import harness
from benchmarks.models import Example
from benchmarks.runner_042 import Runner042
from benchmarks.workload import (
    CONTENT_TYPE,
    OP_SETS,
    PARTITION_IDS,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
)
from pydantic_dynamo import DynamoRepository

VARIANTS = ("own", "resource", "aioboto3")


@contextlib.asynccontextmanager
async def _repository(args: Any) -> AsyncIterator[tuple[DynamoRepository[Example], Any]]:
    """The repository of the variant, and the client whose hooks see its requests (aiobotocore
    fires them on the resource's own client, not on the repository's view of it)."""
    construction: dict[str, Any] = {
        "item_class": Example,
        "partition_prefix": PARTITION_PREFIX,
        "partition_name": PARTITION_NAME,
        "content_type": CONTENT_TYPE,
        "table_name": args.table,
        "partition_key": PARTITION_KEY,
        "sort_key": SORT_KEY,
    }
    if args.variant == "own":
        if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") != args.endpoint:
            raise SystemExit("variant 'own' needs AWS_ENDPOINT_URL_DYNAMODB set to --endpoint")
        async with DynamoRepository[Example](**construction) as repo:
            yield repo, repo.client
        return
    import aioboto3

    if args.variant == "aioboto3":
        os.environ["PYDANTIC_DYNAMO_TRANSPORT"] = "boto3"
    async with aioboto3.Session().resource("dynamodb", endpoint_url=args.endpoint) as resource:
        table = await resource.Table(args.table)
        async with DynamoRepository[Example](
            **construction, table=table, resource=resource
        ) as repo:
            hooked = resource.meta.client if args.variant == "aioboto3" else repo.client
            yield repo, hooked


async def run_async(args: Any) -> None:
    workload = harness.workload_from(args)
    counter = harness.RequestCounter()
    async with _repository(args) as (repo, hooked):
        runner = Runner042(repo, workload)
        await repo.get(list(PARTITION_IDS), ["warm-up"])  # connection, endpoint, loaders
        client = repo.client
        hooked.meta.events.register("before-send.dynamodb", counter)
        results = await harness.measure_async(OP_SETS[args.op_set], runner.run, counter)
        checks = runner.crud_checks()
    harness.emit(
        "pydantic-dynamo (ours, async)",
        args.variant,
        results,
        versions={name: version(name) for name in ("pydantic", "aioboto3", "orjson")},
        checks=checks,
        client=client,
    )


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(run_async(harness.parse_args(argv, VARIANTS)))


if __name__ == "__main__":
    main()

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
reuses: the same calls, awaited), on this library; the ``units`` set's are
``AsyncUnitsRunner``'s.

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
from benchmarks.models import Actor, Example, Review, make_examples
from benchmarks.ours_units import cast_checks, cast_contents, cast_settings
from benchmarks.runner_042 import Runner042
from benchmarks.workload import (
    COLLECTION_IDS,
    COLLECTION_TYPES,
    CONTENT_TYPE,
    COUNTS,
    OP_SETS,
    PARTITION_IDS,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    Workload,
    content_ids,
)
from pydantic_dynamo import AsyncCollection, DynamoRepository, PartitionedContent

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


class AsyncUnitsRunner:
    """The ``units`` set on the async repository: the calls of ``runner_ours.OursRunner``'s
    ``units`` ops, awaited (``async with repo.transaction()``, ``AsyncCollection``)."""

    def __init__(self, repo: DynamoRepository[Example], workload: Workload) -> None:
        self.repo = repo
        self.workload = workload
        shared = cast_settings(repo.core, repo.client)
        actor_type, review_type = COLLECTION_TYPES
        self.actors = DynamoRepository[Actor](item_class=Actor, content_type=actor_type, **shared)
        self.reviews = DynamoRepository[Review](
            item_class=Review, content_type=review_type, **shared
        )
        self.cast = AsyncCollection(repos={actor_type: self.actors, review_type: self.reviews})
        self.actor_contents, self.review_contents = cast_contents(workload.seed)
        examples = make_examples(workload.n, workload.seed)
        pid = list(PARTITION_IDS)
        self.transactions = [
            [
                PartitionedContent[Example](
                    partition_ids=pid, content_ids=content_ids(i), item=examples[i]
                )
                for i in indices
            ]
            for indices in workload.transactions()
        ]
        self.cast_read: list[PartitionedContent[Any]] = []
        self.counts: list[int] = []

    async def run(self, op: str) -> int:
        count: int = await getattr(self, f"op_{op}")()
        return count

    async def op_transact_put_10(self) -> int:
        for contents in self.transactions:
            async with self.repo.transaction() as tx:
                for content in contents:
                    tx.put(self.repo, content)
        return sum(map(len, self.transactions))

    async def op_collection_put(self) -> int:
        await self.actors.put_batch(self.actor_contents)
        await self.reviews.put_batch(self.review_contents)
        return len(self.actor_contents) + len(self.review_contents)

    async def op_collection_read(self) -> int:
        self.cast_read = [
            content
            async for page in self.cast.read(list(COLLECTION_IDS))
            for contents in page.contents.values()
            for content in contents
        ]
        return len(self.cast_read)

    async def op_count(self) -> int:
        self.counts = [await self.reviews.count(list(COLLECTION_IDS)) for _ in range(COUNTS)]
        return sum(self.counts)

    async def units_checks(self) -> dict[str, Any]:
        """After the timed ops: what the transactions stored, what the collection read."""
        transacted = await self.repo.count(list(PARTITION_IDS))
        written = self.actor_contents + self.review_contents
        return cast_checks(self.workload, transacted, self.cast_read, written, self.counts)


async def run_async(args: Any) -> None:
    workload = harness.workload_from(args)
    counter = harness.RequestCounter()
    async with _repository(args) as (repo, hooked):
        units = args.op_set == "units"
        runner: Any = AsyncUnitsRunner(repo, workload) if units else Runner042(repo, workload)
        await repo.get(list(PARTITION_IDS), ["warm-up"])  # connection, endpoint, loaders
        client = repo.client
        hooked.meta.events.register("before-send.dynamodb", counter)
        results = await harness.measure_async(OP_SETS[args.op_set], runner.run, counter)
        checks = await runner.units_checks() if units else runner.crud_checks()
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

"""pydantic-dynamo 0.4.2 (Pydantic v1, aioboto3): its v2 ``DynamoRepository``, as its README shows.

Runs only under the venv that ``benchmarks.venv042`` builds (``benchmarks/requirements-042.txt``).
That venv's ``pydantic_dynamo`` is 0.4.2 and its ``pydantic`` is v1, so the 0.4.2 modules and
aioboto3 are imported with ``importlib``: they are ``Any`` to mypy, which checks this file
against the main venv (where ``pydantic_dynamo`` is this project's library). The model is
``benchmarks/models.py``'s, which Pydantic v1 reads as well as v2.
The ``write_once`` op set runs 0.4.2's ``WriteOnceRepository[Example](async_repo=repo)``
(``pydantic_dynamo.v2.write_once``).

``.bench-venv-042/bin/python -m benchmarks.runner_042 --endpoint URL --table NAME [--n 2000]``
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from benchmarks import harness
from benchmarks.models import Example, make_examples
from benchmarks.workload import (
    CONTENT_TYPE,
    OP_SETS,
    PARTITION_IDS,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    Workload,
    content_ids,
    list_checks,
    write_once_checks,
)


class Runner042:
    def __init__(self, repo: Any, workload: Workload) -> None:
        models = importlib.import_module("pydantic_dynamo.models")
        self.repo = repo
        self.workload = workload
        self.update_command = models.UpdateCommand
        content_class = models.PartitionedContent[Example]
        self.expected = make_examples(workload.n, workload.seed)
        self.contents = [
            content_class(partition_ids=list(PARTITION_IDS), content_ids=content_ids(i), item=item)
            for i, item in enumerate(self.expected)
        ]
        pid = list(PARTITION_IDS)
        self.get_batch_ids = [(pid, content_ids(i)) for i in workload.get_batch_indices()]
        self.get_ids = [content_ids(i) for i in workload.get_indices()]
        self.updates = [(content_ids(i), value) for i, value in workload.update_values()]
        self.listed: list[Any] = []
        write_once = importlib.import_module("pydantic_dynamo.v2.write_once")
        self.write_once = write_once.WriteOnceRepository[Example](async_repo=repo)
        changed = dict(workload.changed_values())
        self.changed_contents = [
            content.copy(update={"item": content.item.copy(update={"int_field": changed[i]})})
            if i in changed
            else content
            for i, content in enumerate(self.contents)
        ]
        self.written: dict[str, list[Any]] = {}

    async def run(self, op: str) -> int:
        count: int = await getattr(self, f"op_{op}")()
        return count

    async def op_put_batch(self) -> int:
        await self.repo.put_batch(self.contents)
        return len(self.contents)

    async def op_list(self) -> int:
        self.listed = [
            content
            async for response in self.repo.list(list(PARTITION_IDS), None)
            for content in response.contents
        ]
        return len(self.listed)

    async def op_get_batch(self) -> int:
        found = [
            content
            async for response in self.repo.get_batch(self.get_batch_ids)
            for content in response.contents
        ]
        return len(found)

    async def op_get(self) -> int:
        found = 0
        for cid in self.get_ids:
            response = await self.repo.get(list(PARTITION_IDS), cid)
            found += response.content is not None and response.content.item is not None
        return found

    async def op_update(self) -> int:
        for cid, value in self.updates:
            command = self.update_command(set_commands={"int_field": value})
            await self.repo.update(list(PARTITION_IDS), cid, command)
        return len(self.updates)

    async def _write_once(self, op: str, contents: list[Any]) -> int:
        self.written[op] = await self.write_once.write(contents)
        return len(self.written[op])

    async def op_all_new(self) -> int:
        return await self._write_once("all_new", self.contents)

    async def op_all_repeated(self) -> int:
        return await self._write_once("all_repeated", self.contents)

    async def op_changed_10pct(self) -> int:
        return await self._write_once("changed_10pct", self.changed_contents)

    async def write_once_checks(self) -> dict[str, Any]:
        """After the timed ops: what each call reported, and what the table holds."""
        stored = [
            content
            async for response in self.repo.list(list(PARTITION_IDS), None)
            for content in response.contents
        ]
        return write_once_checks(
            self.workload, self.written, self.contents, self.changed_contents, stored
        )

    def crud_checks(self) -> dict[str, Any]:
        return list_checks(self.workload, self.listed, self.expected)


async def run_async(args: Any) -> None:
    workload = harness.workload_from(args)
    aioboto3 = importlib.import_module("aioboto3")
    repository = importlib.import_module("pydantic_dynamo.v2.repository")
    counter = harness.RequestCounter()
    capacity = harness.CapacityMeter() if harness.wants_capacity(args) else None
    session = aioboto3.Session()
    async with session.resource("dynamodb", endpoint_url=args.endpoint) as resource:
        client = resource.meta.client
        client.meta.events.register("before-send.dynamodb", counter)
        if capacity is not None:
            capacity.register(client)
        repo = repository.DynamoRepository[Example](
            item_class=Example,
            partition_prefix=PARTITION_PREFIX,
            partition_name=PARTITION_NAME,
            content_type=CONTENT_TYPE,
            table_name=args.table,
            partition_key=PARTITION_KEY,
            sort_key=SORT_KEY,
            table=await resource.Table(args.table),
            resource=resource,
        )
        runner = Runner042(repo, workload)
        await repo.get(list(PARTITION_IDS), ["warm-up"])  # connection, endpoint, loaders
        ops = OP_SETS[args.op_set]
        results = await harness.measure_async(ops, runner.run, counter, args.profile, capacity)
        if args.op_set == "write_once":
            checks = await runner.write_once_checks()
        else:
            checks = runner.crud_checks()
    harness.emit(
        "pydantic-dynamo 0.4.2",
        args.variant,
        results,
        versions={
            name: version(name)
            for name in ("pydantic-dynamo", "pydantic", "aioboto3", "aiobotocore", "boto3")
        },
        checks=checks,
        client=client,
    )


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(run_async(harness.parse_args(argv)))


if __name__ == "__main__":
    main()

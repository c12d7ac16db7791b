"""Write-once against DynamoDB Local: skips what is stored, and races report each content once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import aioboto3
import pytest
from pydantic import BaseModel

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    PartitionedContent,
    RetryPolicy,
    SyncDynamoRepository,
    SyncWriteOnceRepository,
    UnprocessedItemsError,
    UpdateCommand,
)
from pydantic_dynamo.v2.repository import DynamoRepository
from pydantic_dynamo.v2.utils import AIter
from pydantic_dynamo.v2.write_once import WriteOnceRepository
from tests.integration.harness import make_client

COUNT = 1000


class Reading(BaseModel):
    sensor: str
    value: float
    tags: set[str] = set()


Content = PartitionedContent[Reading]


def _contents(count: int = COUNT, value: float = 1.5, partition: str = "p") -> list[Content]:
    return [
        Content(
            partition_ids=[partition],
            content_ids=[f"{i:05d}"],
            item=Reading(sensor=f"s{i}", value=value, tags={"a", "b"}),
        )
        for i in range(count)
    ]


def _config(table_name: str) -> dict[str, Any]:
    return {
        "item_class": Reading,
        "partition_prefix": "test",
        "partition_name": "write-once",
        "content_type": "reading",
        "table_name": table_name,
        "partition_key": "PARTITION_KEY",
        "sort_key": "SORT_KEY",
    }


@pytest.fixture
def repo(dynamodb_local: DynamoDBLocal, table_name: str) -> Iterator[SyncDynamoRepository[Reading]]:
    # A client of its own: the tests register event hooks on it.
    client = make_client(dynamodb_local.endpoint_url)
    with SyncDynamoRepository[Reading](**_config(table_name), client=client) as repo:
        yield repo


def _count_requests(client: Any) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        counts[model.name] = counts.get(model.name, 0) + 1

    client.meta.events.register("before-call.dynamodb", count)
    return counts


def _stored(repo: SyncDynamoRepository[Reading]) -> list[Content]:
    return [c for batch in repo.list(["p"], None) for c in batch.contents]


def test_first_write_writes_everything_and_a_repeat_writes_nothing(
    repo: SyncDynamoRepository[Reading],
) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    contents = _contents()

    assert len(write_once.write(contents)) == COUNT
    assert write_once.write(contents) == []
    assert len(_stored(repo)) == COUNT


def test_a_repeat_costs_one_batch_get_per_hundred_inputs_and_no_write(
    repo: SyncDynamoRepository[Reading],
) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    contents = _contents()
    write_once.write(contents)
    counts = _count_requests(repo.client)

    write_once.write(contents)

    assert counts == {"BatchGetItem": COUNT // 100}


def test_only_the_changed_subset_is_written(repo: SyncDynamoRepository[Reading]) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    contents = _contents()
    write_once.write(contents)
    changed = [
        c.model_copy(update={"item": c.item.model_copy(update={"value": 2.5})})
        for c in contents[::10]
    ]

    written = write_once.write(contents[1:10] + changed)

    assert sorted(c.content_ids[0] for c in written) == sorted(c.content_ids[0] for c in changed)
    stored = {c.content_ids[0]: c.item.value for c in _stored(repo)}
    assert [stored[c.content_ids[0]] for c in changed] == [2.5] * len(changed)


def test_an_item_changed_by_update_is_compared_by_content(
    repo: SyncDynamoRepository[Reading],
) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    contents = _contents(3)
    write_once.write(contents)
    repo.update(["p"], ["00000"], UpdateCommand(set_commands={"value": 9.0}))

    # The stored digest is stale after the update; the original content now differs...
    rewritten = write_once.write(contents[:1])
    assert [(c.content_ids, c.item) for c in rewritten] == [(["00000"], contents[0].item)]
    assert rewritten[0].current_version == 3  # 1 written, 2 updated, 3 rewritten
    # ...and once an update restores it, the content counts as stored again.
    repo.update(["p"], ["00001"], UpdateCommand(set_commands={"value": 1.5}))
    assert write_once.write(contents[1:2]) == []


def test_versions_move_on_from_the_stored_one(repo: SyncDynamoRepository[Reading]) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    first = _contents(1)
    changed = [first[0].model_copy(update={"item": Reading(sensor="s0", value=9.5)})]

    assert [c.current_version for c in write_once.write(first)] == [1]
    assert [c.current_version for c in write_once.write(changed)] == [2]
    stored = repo.get(["p"], ["00000"]).content
    assert stored is not None
    assert stored.current_version == 2


def test_a_failed_read_reports_every_input_as_not_written(
    repo: SyncDynamoRepository[Reading],
) -> None:
    contents = _contents(3)
    stuck_key = repo.core.key(["p"], ["00001"])

    def leave_one_key_unprocessed(parsed: dict[str, Any], **_: Any) -> None:
        parsed["UnprocessedKeys"] = {repo.core.table_name: {"Keys": [stuck_key]}}

    repo.client.meta.events.register("after-call.dynamodb.BatchGetItem", leave_one_key_unprocessed)
    impatient = SyncDynamoRepository[Reading](
        **_config(repo.core.table_name),
        client=repo.client,
        retry_policy=RetryPolicy(max_attempts=2, base_delay=0.001),
    )

    with pytest.raises(UnprocessedItemsError) as caught:
        SyncWriteOnceRepository[Reading](impatient).write(contents)

    assert sorted(c.content_ids[0] for c in caught.value.items) == ["00000", "00001", "00002"]
    assert caught.value.written == []
    assert _stored(repo) == []


def test_duplicate_keys_in_one_call_are_written_once(repo: SyncDynamoRepository[Reading]) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    contents = _contents(5)

    assert len(write_once.write(contents + contents)) == 5


def test_an_empty_input_writes_nothing(repo: SyncDynamoRepository[Reading]) -> None:
    assert SyncWriteOnceRepository[Reading](repo).write([]) == []


def test_four_threads_racing_report_each_content_exactly_once(
    repo: SyncDynamoRepository[Reading],
) -> None:
    write_once = SyncWriteOnceRepository[Reading](repo)
    contents = _contents()
    reports: list[list[Content]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def writer(index: int) -> None:
        start.wait()
        reports[index] = write_once.write(contents)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    reported = [tuple(c.content_ids) for report in reports for c in report]
    assert len(reported) == COUNT
    assert len(set(reported)) == COUNT
    assert len(_stored(repo)) == COUNT


def test_four_async_tasks_racing_report_each_content_exactly_once(
    dynamodb_local: DynamoDBLocal, table_name: str, repo: SyncDynamoRepository[Reading]
) -> None:
    contents = _contents()

    async def race() -> list[list[Content]]:
        session = aioboto3.Session()
        async with session.resource(
            "dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="us-east-1"
        ) as resource:
            async_repo = DynamoRepository[Reading](
                **_config(table_name), table=await resource.Table(table_name), resource=resource
            )
            write_once = WriteOnceRepository[Reading](async_repo=async_repo)
            return list(
                await asyncio.gather(
                    write_once.write(AIter(contents)),
                    *(write_once.write(contents) for _ in range(3)),
                )
            )

    reports = asyncio.run(race())

    reported = [tuple(c.content_ids) for report in reports for c in report]
    assert len(reported) == COUNT
    assert len(set(reported)) == COUNT
    assert len(_stored(repo)) == COUNT

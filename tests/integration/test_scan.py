"""The parallel Scan of one content type against DynamoDB Local: exactly the repository's items,
each once, whatever the segments; filtered, without expired items, resumable per segment."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from aiobotocore.session import get_session

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    FilterCommand,
    PartitionedContent,
    RetryPolicy,
    SyncDynamoRepository,
    attr,
)
from pydantic_dynamo.async_repository import DynamoRepository
from pydantic_dynamo.drivers import iterate
from pydantic_dynamo.ports import DynamoDBPort
from pydantic_dynamo.scan import ScanPage, ScanPlan, segment_flow
from pydantic_dynamo.table import PhysicalIndex, TableDescription, create_table
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    make_client,
    make_lean_client,
)
from tests.integration.support import LONG_EXPIRED, Example, example, ids_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE = TableDescription(indexes=(PhysicalIndex.global_("gsi1"),))
COUNT = 120


@pytest.fixture
def scan_table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh table with the standard keys and a gsi1, deleted afterwards."""
    name = f"test-scan-{uuid.uuid4().hex}"
    create_table(dynamodb_client, name, TABLE)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=name)


def repository(client: Any, table_name: str, **overrides: Any) -> SyncDynamoRepository[Example]:
    settings: dict[str, Any] = {
        "item_class": Example,
        "partition_prefix": PARTITION_PREFIX,
        "partition_name": PARTITION_NAME,
        "content_type": CONTENT_TYPE,
        "table_name": table_name,
        "partition_key": PARTITION_KEY,
        "sort_key": SORT_KEY,
        "client": client,
        **overrides,
    }
    return SyncDynamoRepository[Example](**settings)


@pytest.fixture(params=["boto3", "lean"])
def client(request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A boto3 client or a lean one, each trying once."""
    if request.param == "boto3":
        return make_client(dynamodb_local.endpoint_url)
    return make_lean_client(dynamodb_local.endpoint_url)


def ids(count: int) -> list[str]:
    return [f"{i:05d}" for i in range(count)]


@pytest.fixture
def stored(client: DynamoDBClient, scan_table: str) -> SyncDynamoRepository[Example]:
    """COUNT Examples over three partitions, beside items the repository must never see: another
    content type in the same partitions, and the same content type under another prefix."""
    repo = repository(client, scan_table)
    repo.put_batch(
        example(content_id, partition_ids=[f"p{i % 3}"], bucket=i, even=i % 2 == 0)
        for i, content_id in enumerate(ids(COUNT))
    )
    repository(client, scan_table, content_type="other").put_batch(
        example(f"x{i}", partition_ids=[f"p{i % 3}"]) for i in range(30)
    )
    repository(client, scan_table, partition_name="elsewhere").put_batch(
        example(f"y{i}", partition_ids=["p0"]) for i in range(30)
    )
    return repo


def test_scan_reads_every_item_of_the_content_type_once(
    stored: SyncDynamoRepository[Example],
) -> None:
    assert sorted(ids_of(stored.scan())) == ids(COUNT)


@pytest.mark.parametrize("segments", [2, 5, 16])
def test_scan_in_segments_reads_each_item_once(
    stored: SyncDynamoRepository[Example], segments: int
) -> None:
    assert sorted(ids_of(stored.scan(segments=segments))) == ids(COUNT)


def test_scan_sends_one_request_series_per_segment(
    stored: SyncDynamoRepository[Example], dynamodb_local: DynamoDBLocal
) -> None:
    counted = make_client(dynamodb_local.endpoint_url)
    segments: Counter[int] = Counter()

    def count(params: dict[str, Any], **kwargs: Any) -> None:
        assert params["TotalSegments"] == 4
        segments[params["Segment"]] += 1

    counted.meta.events.register("before-parameter-build.dynamodb.Scan", count)
    repo = repository(counted, stored.core.table_name)
    assert sorted(ids_of(repo.scan(segments=4))) == ids(COUNT)
    assert set(segments) == {0, 1, 2, 3}


def test_scan_keeps_the_partition_ids_of_each_item(
    stored: SyncDynamoRepository[Example],
) -> None:
    partitions = {
        content.content_ids[0]: content.partition_ids
        for batch in stored.scan(segments=3)
        for content in batch
    }
    assert partitions["00004"] == ["p1"]
    assert partitions["00005"] == ["p2"]


def test_scan_applies_a_filter_command(stored: SyncDynamoRepository[Example]) -> None:
    found = ids_of(stored.scan(segments=2, filters=FilterCommand(equals={"even": True})))
    assert sorted(found) == ids(COUNT)[::2]


def test_scan_applies_a_condition(stored: SyncDynamoRepository[Example]) -> None:
    found = ids_of(stored.scan(filters=(attr("bucket") >= 100) & (attr("bucket") < 110)))
    assert sorted(found) == ids(COUNT)[100:110]


def test_scan_skips_expired_items(client: DynamoDBClient, scan_table: str) -> None:
    repo = repository(client, scan_table)
    repo.put_batch([example("live"), example("gone").model_copy(update={"expiry": LONG_EXPIRED})])
    assert ids_of(repo.scan(segments=2)) == ["live"]


@pytest.mark.parametrize("limit", [1, 37, COUNT, COUNT + 5])
def test_scan_limit_is_exact(stored: SyncDynamoRepository[Example], limit: int) -> None:
    found = ids_of(stored.scan(segments=3, limit=limit))
    assert len(found) == min(limit, COUNT)
    assert len(set(found)) == len(found)


def _pages(
    repo: SyncDynamoRepository[Example], plan: ScanPlan, segment: int, start: Any
) -> list[ScanPage]:
    flow = segment_flow(plan, segment, start, RetryPolicy())
    return list(iterate(cast(DynamoDBPort, repo.client), flow))


def test_a_segment_resumes_after_its_last_evaluated_key(
    stored: SyncDynamoRepository[Example],
) -> None:
    plan = ScanPlan(stored.core, segments=2, page_size=15)
    for segment in range(2):
        pages = _pages(stored, plan, segment, None)
        assert len(pages) > 2, "small pages: the segment takes several"
        resumed = _pages(stored, plan, segment, pages[1].last_key)
        assert [p.items for p in resumed] == [p.items for p in pages[2:]]
        assert pages[-1].last_key is None


def test_async_scan_reads_every_item_once(
    stored: SyncDynamoRepository[Example], dynamodb_local: DynamoDBLocal
) -> None:
    async def scan() -> list[str]:
        creator = get_session().create_client(
            "dynamodb",
            endpoint_url=dynamodb_local.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        async with creator as async_client:
            repo = DynamoRepository[Example](
                item_class=Example,
                partition_prefix=PARTITION_PREFIX,
                partition_name=PARTITION_NAME,
                content_type=CONTENT_TYPE,
                table_name=stored.core.table_name,
                partition_key=PARTITION_KEY,
                sort_key=SORT_KEY,
                client=async_client,
            )
            found: list[PartitionedContent[Example]] = []
            async for batch in repo.scan(segments=4):
                found.extend(batch)
            return [content.content_ids[0] for content in found]

    assert sorted(asyncio.run(scan())) == ids(COUNT)

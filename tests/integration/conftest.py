"""Fixtures of the repository's integration tests against DynamoDB Local.

Behavioural tests get their repository from ``repo_factory``, parametrized by flavour (``sync``
on boto3, ``lean`` on the lean transport, ``async`` on aiobotocore and ``async-lean`` on the
asyncio lean transport, the two async ones adapting the async repository to the same
sync-looking surface), so
each test body runs unchanged against every flavour. Each test gets a fresh client, so hooks
registered on ``repo_factory.events`` (request counting, fault injection) never leak.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import RetryPolicy, SyncDynamoRepository
from pydantic_dynamo.table import create_table
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    AsyncRepoFactory,
    Faults,
    Item,
    RepoFactory,
    Repository,
    SyncRepoFactory,
    Traffic,
    WriteRaw,
    make_client,
    make_lean_client,
)
from tests.integration.support import (
    LARGE_COUNT,
    LARGE_PADDING,
    LONG_EXPIRED,
    Example,
    SeedExample,
    legacy_key,
    numbered,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture(params=["sync", "async", "lean", "async-lean"])
def repo_factory(
    request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal, table_name: str
) -> Iterator[RepoFactory]:
    """Repositories of each flavour over the test's fresh table (``lean``: the sync repository
    on the lean transport instead of boto3)."""
    if request.param == "sync":
        yield SyncRepoFactory(make_client(dynamodb_local.endpoint_url), table_name)
        return
    if request.param == "lean":
        yield SyncRepoFactory(make_lean_client(dynamodb_local.endpoint_url), table_name)
        return
    lean = request.param == "async-lean"
    factory = AsyncRepoFactory(dynamodb_local.endpoint_url, table_name, lean=lean)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def repo(repo_factory: RepoFactory) -> Repository[Example]:
    """A repository of ``Example`` over the test's table."""
    return repo_factory(Example)


@pytest.fixture
def fast_retries() -> RetryPolicy:
    """Three tries with millisecond waits: retries are exercised without slowing the suite."""
    return RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005)


@pytest.fixture
def patient(repo_factory: RepoFactory, fast_retries: RetryPolicy) -> Repository[Example]:
    """A repository that tries three times, with millisecond waits."""
    return repo_factory(Example, retry_policy=fast_retries)


@pytest.fixture
def seed_repo(repo_factory: RepoFactory) -> Repository[SeedExample]:
    """A repository of 0.4.2's test model over the test's table."""
    return repo_factory(SeedExample)


@pytest.fixture
def write_raw(dynamodb_client: DynamoDBClient, table_name: str) -> WriteRaw:
    """Writes raw items, as 0.4.2 (or anything else) did, into the test's table."""

    def write(*items: Item) -> None:
        for item in items:
            dynamodb_client.put_item(TableName=table_name, Item=item)

    return write


@pytest.fixture(scope="module")
def large_table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A table holding LARGE_COUNT padded Examples under ["films"], written once per module."""
    name = f"test-large-{uuid.uuid4().hex}"
    create_table(dynamodb_client, name)  # the standard table, as ``table_name`` makes
    writer = SyncDynamoRepository[Example](
        item_class=Example,
        partition_prefix=PARTITION_PREFIX,
        partition_name=PARTITION_NAME,
        content_type=CONTENT_TYPE,
        table_name=name,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        client=dynamodb_client,
    )
    writer.put_batch(numbered(LARGE_COUNT, padding=LARGE_PADDING))
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def large(repo_factory: RepoFactory, large_table: str) -> Repository[Example]:
    """A repository over the large table."""
    return repo_factory(Example, table_name=large_table)


@pytest.fixture
def expired(
    repo: Repository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> list[str]:
    """Items 00000..00009 stored, of which 00002, 00005 and 00006 have expired."""
    ids = ["00002", "00005", "00006"]
    repo.put_batch(
        [
            content.model_copy(update={"expiry": LONG_EXPIRED})
            if content.item.id in ids
            else content
            for content in numbered(10)
        ]
    )
    raw = dynamodb_client.get_item(TableName=table_name, Key=legacy_key(["films"], ["00002"]))
    assert "Item" in raw, "DynamoDB deleted the expired item: the test proves nothing"
    return ids


# -- watching and disturbing the traffic ---------------------------------------------------------


@pytest.fixture
def traffic(repo_factory: RepoFactory) -> Traffic:
    """The requests of the test's repositories, counted."""
    return Traffic(repo_factory.events)


@pytest.fixture
def faults(repo_factory: RepoFactory) -> Faults:
    """Fault injection on the test's repositories' client."""
    return Faults(repo_factory.events)

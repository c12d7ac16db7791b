"""Schema versions on DynamoDB Local: items of three shapes read as the current model, writes
store the current version, updates migrate an older item before applying (once, even when
answers are lost), and a repository without versions behaves as 0.4.2's."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    DynamoRepository,
    PartitionedContent,
    SyncDynamoRepository,
    UpdateCommand,
)
from pydantic_dynamo.exceptions import SchemaVersionError, TransactionCanceledError
from pydantic_dynamo.schema_versions import SchemaVersions
from pydantic_dynamo.table import create_table
from pydantic_dynamo.transport import AsyncLeanClient, LeanClient, TransportRetries
from pydantic_dynamo.write_once_repository import SyncWriteOnceRepository
from records_service.content_types import ContentType
from records_service.repositories import Repositories
from records_service.settings import Settings
from tests.integration.fault_proxy import Fault, FaultProxy, random_plan
from tests.integration.harness import make_client
from tests.versioned_models import BY_LAST, TABLE, VERSIONS, Actor, shaped

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX, NAME, CONTENT_TYPE = "test", "versions", "actor"
PARTITION = f"{PREFIX}#{NAME}#"
Item = dict[str, Any]
Content = PartitionedContent[Actor]


def settings(**extra: Any) -> dict[str, Any]:
    return {
        "item_class": Actor,
        "partition_prefix": PREFIX,
        "partition_name": NAME,
        "content_type": CONTENT_TYPE,
        "partition_key": "PARTITION_KEY",
        "sort_key": "SORT_KEY",
        "consistent_reads": True,
        "indexes": [BY_LAST],
        "table_description": TABLE,
        **extra,
    }


def sync_repo(
    client: Any, table: str, versions: SchemaVersions | None = VERSIONS
) -> SyncDynamoRepository[Actor]:
    return SyncDynamoRepository[Actor](
        **settings(table_name=table, client=client, schema_versions=versions)
    )


def lean(endpoint_url: str, attempts: int = 1) -> LeanClient:
    return LeanClient(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=TransportRetries(max_attempts=attempts, base_delay=0.001, max_delay=0.005),
    )


def async_lean(endpoint_url: str) -> AsyncLeanClient:
    return AsyncLeanClient(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=TransportRetries(max_attempts=1),
    )


@pytest.fixture
def table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    name = f"test-versions-{uuid.uuid4().hex}"
    create_table(dynamodb_client, name, TABLE)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=name)


@pytest.fixture(params=["boto3", "lean"])
def client(request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal) -> Any:
    if request.param == "boto3":
        return make_client(dynamodb_local.endpoint_url)
    return lean(dynamodb_local.endpoint_url)


def write_raw(client: DynamoDBClient, table: str, version: int, actor_id: str, **kw: Any) -> None:
    """An item as a writer of ``version`` stored it (0: as pydantic-dynamo 0.4.2 did)."""
    item = {
        "PARTITION_KEY": {"S": PARTITION},
        "SORT_KEY": {"S": f"{CONTENT_TYPE}#{actor_id}"},
        "_timestamp": {"S": "2020-01-01T00:00:00+00:00"},
        **shaped(version, actor_id, **kw),
    }
    client.put_item(TableName=table, Item=item)


def stored(client: DynamoDBClient, table: str, actor_id: str) -> Item:
    key = {"PARTITION_KEY": {"S": PARTITION}, "SORT_KEY": {"S": f"{CONTENT_TYPE}#{actor_id}"}}
    return client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]


def three_versions(client: DynamoDBClient, table: str) -> None:
    for version in (0, 1, 2):
        write_raw(client, table, version, f"a{version}")


EXPECTED = {f"a{v}": Actor(id=f"a{v}", first="Steve", last="Buscemi", stars=4) for v in (0, 1, 2)}


def actor(actor_id: str, stars: int = 1) -> Content:
    return Content(
        partition_ids=[],
        content_ids=[actor_id],
        item=Actor(id=actor_id, first="Jo", last="Doe", stars=stars),
    )


# -- reads ----------------------------------------------------------------------------------------


def test_items_of_three_versions_read_as_the_current_model(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    three_versions(dynamodb_client, table)
    repo = sync_repo(client, table)
    for actor_id, expected in EXPECTED.items():
        got = repo.get(None, [actor_id]).content
        assert got is not None
        assert got.item == expected
    listed = {c.item.id: c.item for batch in repo.list(None, None) for c in batch.contents}
    assert listed == EXPECTED


def test_items_of_three_versions_read_as_the_current_model_async(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, table: str
) -> None:
    three_versions(dynamodb_client, table)

    async def read() -> tuple[dict[str, Actor], dict[str, Actor]]:
        repo = DynamoRepository[Actor](
            **settings(
                table_name=table,
                client=async_lean(dynamodb_local.endpoint_url),
                schema_versions=VERSIONS,
            )
        )
        got = {}
        for actor_id in EXPECTED:
            response = await repo.get(None, [actor_id])
            assert response.content is not None
            got[actor_id] = response.content.item
        listed = {c.item.id: c.item async for b in repo.list(None, None) for c in b.contents}
        return got, listed

    got, listed = asyncio.run(read())
    assert got == EXPECTED
    assert listed == EXPECTED


def test_a_version_newer_than_current_is_refused(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    write_raw(dynamodb_client, table, 3, "a3")
    with pytest.raises(SchemaVersionError) as raised:
        sync_repo(client, table).get(None, ["a3"])
    assert (raised.value.stored, raised.value.current) == (3, 2)
    assert raised.value.key == {"PARTITION_KEY": PARTITION, "SORT_KEY": "actor#a3"}
    with pytest.raises(SchemaVersionError):
        sync_repo(client, table).update(None, ["a3"], UpdateCommand(set_commands={"stars": 1}))
    assert stored(dynamodb_client, table, "a3")["stars"] == {"N": "4"}  # untouched


def test_a_version_newer_than_current_is_refused_async(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, table: str
) -> None:
    write_raw(dynamodb_client, table, 3, "a3")

    async def read() -> None:
        repo = DynamoRepository[Actor](
            **settings(
                table_name=table,
                client=async_lean(dynamodb_local.endpoint_url),
                schema_versions=VERSIONS,
            )
        )
        await repo.get(None, ["a3"])

    with pytest.raises(SchemaVersionError):
        asyncio.run(read())


# -- writes ---------------------------------------------------------------------------------------


def test_every_write_stores_the_current_version(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(client, table)
    repo.put(actor("put"))
    repo.put_batch([actor("batch1"), actor("batch2")])
    repo.save(actor("save"))
    SyncWriteOnceRepository[Actor](repo).write([actor("once")])
    with repo.transaction() as tx:
        tx.put(repo, actor("tx"), if_absent=True)
    repo.update(
        None,
        ["upsert"],
        UpdateCommand(set_commands={"id": "upsert", "first": "A", "last": "B", "stars": 1}),
        require_exists=False,
    )
    for actor_id in ("put", "batch1", "batch2", "save", "once", "tx", "upsert"):
        assert stored(dynamodb_client, table, actor_id)["_schema_version"] == {"N": "2"}, actor_id


def test_an_update_on_an_old_item_migrates_it_then_applies_once(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    write_raw(dynamodb_client, table, 0, "old", stars=4)
    updated = sync_repo(client, table).update(
        None, ["old"], UpdateCommand(increment_attrs={"stars": 1})
    )
    assert updated.item == Actor(id="old", first="Steve", last="Buscemi", stars=5)
    item = stored(dynamodb_client, table, "old")
    assert "full_name" not in item
    assert item["_schema_version"] == {"N": "2"}
    assert item["stars"] == {"N": "5"}
    assert item["gsi1pk"] == {"S": f"{PARTITION}actor#by_last#Buscemi"}
    assert item["_object_version"] == {"N": "2"}  # 0.4.2's missing version is 1; one update


def test_an_update_on_an_old_item_migrates_it_async(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, table: str
) -> None:
    write_raw(dynamodb_client, table, 1, "old", stars=4)

    async def update() -> Content:
        repo = DynamoRepository[Actor](
            **settings(
                table_name=table,
                client=async_lean(dynamodb_local.endpoint_url),
                schema_versions=VERSIONS,
            )
        )
        return await repo.update(None, ["old"], UpdateCommand(increment_attrs={"stars": 2}))

    assert asyncio.run(update()).item.stars == 6
    assert stored(dynamodb_client, table, "old")["stars"] == {"N": "6"}


def test_a_save_over_an_old_item_leaves_nothing_of_its_old_shape(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    write_raw(dynamodb_client, table, 0, "old")
    repo = sync_repo(client, table)
    repo.save(actor("old", stars=9))
    item = stored(dynamodb_client, table, "old")
    assert "full_name" not in item
    assert repo.get(None, ["old"]).content.item.stars == 9  # type: ignore[union-attr]


def test_updates_of_old_items_apply_once_when_answers_are_lost(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, table: str
) -> None:
    for number in range(12):
        write_raw(dynamodb_client, table, number % 2, f"old{number}", stars=number)
    plan = random_plan(7, 0.5, Fault.DROP_AFTER, {"PutItem", "UpdateItem"})
    proxy = FaultProxy(dynamodb_local.endpoint_url, plan, max_faults_per_request=2)
    try:
        repo = sync_repo(lean(proxy.endpoint_url, attempts=4), table)
        for number in range(12):
            repo.update(None, [f"old{number}"], UpdateCommand(increment_attrs={"stars": 100}))
        lost = proxy.faults_met("UpdateItem").get(Fault.DROP_AFTER, 0)
        lost += proxy.faults_met("PutItem").get(Fault.DROP_AFTER, 0)
    finally:
        proxy.close()
    assert lost > 0
    for number in range(12):
        item = stored(dynamodb_client, table, f"old{number}")
        assert item["stars"] == {"N": str(number + 100)}, number
        assert item["_schema_version"] == {"N": "2"}
        assert "full_name" not in item


# -- without versions: 0.4.2's behaviour ----------------------------------------------------------


def test_a_repository_without_versions_stores_and_requires_nothing(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = sync_repo(client, table, versions=None)
    repo.put(actor("plain"))
    repo.update(None, ["plain"], UpdateCommand(increment_attrs={"stars": 1}))
    repo.save(actor("saved"))
    for actor_id in ("plain", "saved"):
        assert "_schema_version" not in stored(dynamodb_client, table, actor_id)
    assert stored(dynamodb_client, table, "plain")["stars"] == {"N": "2"}


def test_the_service_passes_a_content_types_versions_to_its_repository() -> None:
    kind = ContentType(
        "versioned", Actor, partition_prefix="app", partition_name="v", schema_versions=VERSIONS
    )
    repo = Repositories(Settings(table_name="t"), client=lambda: None).for_type(kind)  # type: ignore[arg-type, return-value]
    assert repo.core.versions is VERSIONS


def test_a_transaction_update_of_an_old_item_is_refused_not_mixed(
    client: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    write_raw(dynamodb_client, table, 1, "old")
    before = stored(dynamodb_client, table, "old")
    repo = sync_repo(client, table)
    refused = pytest.raises(TransactionCanceledError, match="ConditionalCheckFailed")
    with refused, repo.transaction() as tx:
        tx.update(repo, None, ["old"], UpdateCommand(set_commands={"stars": 1}))
    assert stored(dynamodb_client, table, "old") == before

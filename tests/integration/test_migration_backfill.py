"""The migration backfill on DynamoDB Local: every older item rewritten at the current version
(index values included), resumable from its checkpoint, never over a concurrent writer's item,
and a dry run that counts the items per stored version."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pydantic_dynamo import PartitionedContent, RetryPolicy, SyncDynamoRepository
from pydantic_dynamo.migrate import main, migrate_items
from pydantic_dynamo.progress import Snapshot
from pydantic_dynamo.table import create_table
from tests.integration.fault_proxy import Fault, FaultProxy, random_plan
from tests.integration.harness import make_client
from tests.integration.test_schema_versions import lean
from tests.versioned_models import BY_LAST, TABLE, VERSIONS, Actor, shaped

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX, NAME, CONTENT_TYPE = "test", "migrate", "actor"
PARTITION = f"{PREFIX}#{NAME}#"
PER_VERSION = 12
FAST = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01)
Item = dict[str, Any]


def repository(client: Any, table: str, **extra: Any) -> SyncDynamoRepository[Actor]:
    return SyncDynamoRepository[Actor](
        item_class=Actor,
        partition_prefix=PREFIX,
        partition_name=NAME,
        content_type=CONTENT_TYPE,
        table_name=table,
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
        client=client,
        indexes=[BY_LAST],
        table_description=TABLE,
        schema_versions=VERSIONS,
        **extra,
    )


def key(actor_id: str) -> Item:
    return {"PARTITION_KEY": {"S": PARTITION}, "SORT_KEY": {"S": f"{CONTENT_TYPE}#{actor_id}"}}


@pytest.fixture
def table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh table holding PER_VERSION actors of each of the versions 0, 1 and 2."""
    name = f"test-migrate-{uuid.uuid4().hex}"
    create_table(dynamodb_client, name, TABLE)
    for version in (0, 1, 2):
        for number in range(PER_VERSION):
            actor_id = f"v{version}-{number:02d}"
            item = {
                **key(actor_id),
                "_timestamp": {"S": "2020-01-01T00:00:00+00:00"},
                **shaped(version, actor_id, name=f"Al N{number}", stars=number),
            }
            dynamodb_client.put_item(TableName=name, Item=item)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=name)


def every_item(client: DynamoDBClient, table: str) -> dict[str, Item]:
    items: dict[str, Item] = {}
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            items[item["SORT_KEY"]["S"].removeprefix(f"{CONTENT_TYPE}#")] = item
    return items


def versions_stored(client: DynamoDBClient, table: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in every_item(client, table).values():
        version = item.get("_schema_version", {}).get("N", "0")
        counts[version] = counts.get(version, 0) + 1
    return counts


def assert_all_migrated(client: DynamoDBClient, table: str) -> None:
    for actor_id, item in every_item(client, table).items():
        number = int(actor_id.split("-")[1])
        assert item["_schema_version"] == {"N": "2"}, actor_id
        assert "full_name" not in item, actor_id
        assert item["stars"] == {"N": str(number)}, actor_id
        assert item["last"] == {"S": f"N{number}"}, actor_id
        if actor_id.startswith("v2"):
            continue  # written raw at the current version: not the migration's to rewrite
        # The index values are the migrated item's: by_last lists it under its new field.
        assert item["gsi1pk"] == {"S": f"{PARTITION}actor#by_last#N{number}"}, actor_id


def test_a_dry_run_counts_items_per_stored_version_and_writes_nothing(
    dynamodb_client: DynamoDBClient, table: str
) -> None:
    before = every_item(dynamodb_client, table)
    report = migrate_items(repository(dynamodb_client, table), dry_run=True, progress=False)
    assert report.kinds == {"0": PER_VERSION, "1": PER_VERSION, "2": PER_VERSION}
    assert report.counts.updated == 2 * PER_VERSION
    assert report.counts.already_right == PER_VERSION
    assert f"items per stored schema version: 0: {PER_VERSION}" in report.summary()
    assert every_item(dynamodb_client, table) == before


def test_the_migration_rewrites_every_older_item_with_its_index_values(
    dynamodb_client: DynamoDBClient, table: str
) -> None:
    repo = repository(dynamodb_client, table)
    report = migrate_items(repo, segments=3, progress=False)
    assert report.ok, report.summary()
    assert report.counts.updated == 2 * PER_VERSION
    assert versions_stored(dynamodb_client, table) == {"2": 3 * PER_VERSION}
    assert_all_migrated(dynamodb_client, table)
    found = [c.item.id for b in repo.query_index("by_last", ["N3"]) for c in b.contents]
    assert sorted(found) == ["v0-03", "v1-03"]
    again = migrate_items(repo, progress=False)
    assert (again.counts.updated, again.counts.already_right) == (0, 3 * PER_VERSION)


def test_an_interrupted_migration_resumes_from_its_checkpoint(
    dynamodb_client: DynamoDBClient, table: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "migrate.json"
    repo = repository(dynamodb_client, table)

    def stop_after_a_page(snapshot: Snapshot) -> None:
        if snapshot.total.scanned >= 5:
            raise KeyboardInterrupt

    first = migrate_items(
        repo, segments=2, page_size=5, checkpoint=checkpoint, progress=stop_after_a_page
    )
    assert first.interrupted
    assert not first.complete
    assert checkpoint.exists()
    assert versions_stored(dynamodb_client, table) != {"2": 3 * PER_VERSION}
    second = migrate_items(repo, segments=2, page_size=5, checkpoint=checkpoint, progress=False)
    assert second.ok, second.summary()
    # The rerun started where the first stopped: together they scanned each item once.
    assert first.counts.scanned + second.counts.scanned <= 3 * PER_VERSION + 5 * 2
    assert first.counts.updated + second.counts.updated == 2 * PER_VERSION
    assert_all_migrated(dynamodb_client, table)


def test_a_concurrent_writers_newer_item_is_kept(
    dynamodb_local: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    migrating = make_client(dynamodb_local.endpoint_url)
    writer = repository(dynamodb_client, table)
    raced = threading.Event()

    def write_first(params: dict[str, Any], **kwargs: Any) -> None:
        # Just before the migration's first rewrite, a writer stores that item anew.
        if not raced.is_set():
            raced.set()
            actor_id = params["Item"]["id"]["S"]
            writer.put(
                PartitionedContent[Actor](
                    partition_ids=[],
                    content_ids=[actor_id],
                    item=Actor(id=actor_id, first="New", last="Writer", stars=99),
                )
            )
            params_raced.append(actor_id)

    params_raced: list[str] = []
    migrating.meta.events.register("provide-client-params.dynamodb.PutItem", write_first)
    report = migrate_items(repository(migrating, table), segments=1, progress=False)
    assert report.counts.changed_meanwhile == 1
    assert report.counts.updated == 2 * PER_VERSION - 1
    (actor_id,) = params_raced
    item = every_item(dynamodb_client, table)[actor_id]
    assert item["first"] == {"S": "New"}
    assert item["stars"] == {"N": "99"}


def test_throttled_writes_are_waited_out(dynamodb_local: Any, table: str) -> None:
    client = make_client(dynamodb_local.endpoint_url)
    throttled: list[int] = []

    def throttle_every_other(**kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        throttled.append(1)
        if len(throttled) % 2:
            code = "ProvisionedThroughputExceededException"
            raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "PutItem")
        return None

    client.meta.events.register("before-call.dynamodb.PutItem", throttle_every_other)
    report = migrate_items(repository(client, table, retry_policy=FAST), progress=False)
    assert report.ok, report.summary()
    assert len(throttled) == 2 * (2 * PER_VERSION)


def test_lost_answers_are_recognised_as_applied_rewrites(
    dynamodb_local: Any, dynamodb_client: DynamoDBClient, table: str
) -> None:
    plan = random_plan(3, 0.5, Fault.DROP_AFTER, {"PutItem"})
    proxy = FaultProxy(dynamodb_local.endpoint_url, plan, max_faults_per_request=2)
    try:
        client = lean(proxy.endpoint_url, attempts=4)
        report = migrate_items(repository(client, table), segments=2, progress=False)
        lost = proxy.faults_met("PutItem").get(Fault.DROP_AFTER, 0)
    finally:
        proxy.close()
    assert lost > 0
    assert report.ok, report.summary()
    assert (report.counts.updated, report.counts.changed_meanwhile) == (2 * PER_VERSION, 0)
    assert_all_migrated(dynamodb_client, table)


# -- the command ----------------------------------------------------------------------------------


def cli_repository() -> SyncDynamoRepository[Actor]:
    """The repository the command test names (``module:attribute``), from the environment."""
    client = make_client(os.environ["MIGRATE_TEST_ENDPOINT"])
    return repository(client, os.environ["MIGRATE_TEST_TABLE"])


def test_the_command_migrates_and_exits_0(
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_client: DynamoDBClient,
    table: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MIGRATE_TEST_ENDPOINT", dynamodb_client.meta.endpoint_url)
    monkeypatch.setenv("MIGRATE_TEST_TABLE", table)
    argv = ["--repository", f"{__name__}:cli_repository", "--checkpoint", str(tmp_path / "c")]
    assert main([*argv, "--dry-run", "--quiet"]) == 0
    assert "items per stored schema version: 0: 12, 1: 12, 2: 12" in capsys.readouterr().err
    assert versions_stored(dynamodb_client, table) == {"0": 12, "1": 12, "2": 12}
    assert main([*argv, "--segments", "2", "--quiet"]) == 0
    assert "migration complete" in capsys.readouterr().err
    assert_all_migrated(dynamodb_client, table)


def test_the_command_exits_1_on_items_of_a_newer_version(
    monkeypatch: pytest.MonkeyPatch, dynamodb_client: DynamoDBClient, table: str
) -> None:
    monkeypatch.setenv("MIGRATE_TEST_ENDPOINT", dynamodb_client.meta.endpoint_url)
    monkeypatch.setenv("MIGRATE_TEST_TABLE", table)
    item = {**key("v3"), **shaped(3, "v3")}
    dynamodb_client.put_item(TableName=table, Item=item)
    assert main(["--repository", f"{__name__}:cli_repository", "--quiet"]) == 1
    assert every_item(dynamodb_client, table)["v3"] == item


def test_the_service_command_refuses_a_content_type_without_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from records_service.migrate import main as service_main

    monkeypatch.setenv("RECORDS_TABLE_NAME", "records")
    with pytest.raises(ValueError, match="declares no schema versions"):
        service_main(["--content-type", "actor", "--dry-run", "--quiet"])

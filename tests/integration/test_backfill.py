"""The index backfill against DynamoDB Local: items written before their index get exactly the
index entries a write would give them, through interruptions, races, faults and throttling.

Each test writes items with a repository that declares no index (as a table that predates the
index holds them), backfills with one that declares it, and reads the physical index directly
with boto3.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from pydantic import BaseModel

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import PartitionedContent, RetryPolicy, SyncDynamoRepository
from pydantic_dynamo.backfill import backfill_indexes, main
from pydantic_dynamo.indexes import Index
from pydantic_dynamo.progress import Snapshot
from pydantic_dynamo.table import PhysicalIndex, TableDescription, create_table
from pydantic_dynamo.transport import LeanClient, TransportRetries
from records_service import names
from tests.integration.fault_proxy import Fault, FaultProxy, mixed_plan, random_plan
from tests.integration.harness import make_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

GSI1 = PhysicalIndex.global_("gsi1")
TABLE = TableDescription(indexes=(GSI1,))
BY_CITY = Index("by_city", on=GSI1, partition=("city",), sort=("id",))
PREFIX, NAME, CONTENT_TYPE = "test", "backfill", "actor"
COUNT = 60
CITIES = ("Oslo", "Rome", None)  # every third actor has no city: not in the index (sparse)
FAST = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01)


class Actor(BaseModel):
    id: str
    name: str
    city: str | None = None


Content = PartitionedContent[Actor]


def actors(count: int = COUNT) -> list[Content]:
    return [
        Content(
            partition_ids=[f"p{i % 4}"],
            content_ids=[f"{i:05d}"],
            item=Actor(id=f"{i:05d}", name=f"actor {i}", city=CITIES[i % 3]),
        )
        for i in range(count)
    ]


def indexed_count(count: int = COUNT) -> int:
    return sum(1 for i in range(count) if CITIES[i % 3] is not None)


def repository(
    client: Any, table_name: str, indexes: tuple[Index, ...] = (BY_CITY,), **extra: Any
) -> SyncDynamoRepository[Actor]:
    return SyncDynamoRepository[Actor](
        item_class=Actor,
        partition_prefix=PREFIX,
        partition_name=NAME,
        content_type=CONTENT_TYPE,
        table_name=table_name,
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
        client=client,
        indexes=indexes,
        **extra,
    )


@pytest.fixture
def table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh table with gsi1, holding COUNT actors written without index values."""
    name = f"test-backfill-{uuid.uuid4().hex}"
    create_table(dynamodb_client, name, TABLE)
    repository(dynamodb_client, name, indexes=()).put_batch(actors())
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=name)


class Updates:
    """A fresh boto3 client (trying once) whose UpdateItem calls are counted."""

    def __init__(self, endpoint_url: str) -> None:
        self.client = make_client(endpoint_url)
        self.sent = 0
        self._lock = threading.Lock()
        self.client.meta.events.register("before-call.dynamodb.UpdateItem", self._count)

    def _count(self, **kwargs: Any) -> None:
        with self._lock:
            self.sent += 1


@pytest.fixture
def updates(dynamodb_local: DynamoDBLocal) -> Updates:
    return Updates(dynamodb_local.endpoint_url)


def entries(client: DynamoDBClient, table_name: str) -> set[tuple[str, str, str]]:
    """Every (gsi1pk, gsi1sk, sort key) of gsi1, read by scanning the index."""
    found: set[tuple[str, str, str]] = set()
    for page in client.get_paginator("scan").paginate(TableName=table_name, IndexName="gsi1"):
        for item in page["Items"]:
            found.add((item["gsi1pk"]["S"], item["gsi1sk"]["S"], item["SORT_KEY"]["S"]))
    return found


def city_ids(client: DynamoDBClient, table_name: str, city: str) -> list[str]:
    """The actor ids the index lists under ``city``, by querying gsi1."""
    pages = client.get_paginator("query").paginate(
        TableName=table_name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": f"{PREFIX}#{NAME}#{CONTENT_TYPE}#by_city#{city}"}},
    )
    head = f"{CONTENT_TYPE}#by_city#"
    return [item["gsi1sk"]["S"].removeprefix(head) for page in pages for item in page["Items"]]


def expected_entries(count: int = COUNT) -> set[tuple[str, str, str]]:
    return {
        (
            f"{PREFIX}#{NAME}#{CONTENT_TYPE}#by_city#{CITIES[i % 3]}",
            f"{CONTENT_TYPE}#by_city#{i:05d}",
            f"{CONTENT_TYPE}#{i:05d}",
        )
        for i in range(count)
        if CITIES[i % 3] is not None
    }


def test_backfill_gives_every_item_its_exact_index_entry(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str
) -> None:
    assert entries(dynamodb_client, table) == set(), "written before the index: none listed"
    report = backfill_indexes(repository(updates.client, table), segments=4, progress=False)
    assert report.ok
    assert entries(dynamodb_client, table) == expected_entries()
    assert city_ids(dynamodb_client, table, "Oslo") == [f"{i:05d}" for i in range(0, COUNT, 3)]
    counts = report.counts
    assert (counts.scanned, counts.updated, counts.already_right) == (
        COUNT,
        indexed_count(),
        COUNT - indexed_count(),
    )
    assert updates.sent == indexed_count()


def test_backfill_leaves_content_version_and_timestamp_as_they_were(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str
) -> None:
    key = {"PARTITION_KEY": {"S": f"{PREFIX}#{NAME}#p0"}, "SORT_KEY": {"S": "actor#00000"}}
    before = dynamodb_client.get_item(TableName=table, Key=key)["Item"]
    backfill_indexes(repository(updates.client, table), progress=False)
    after = dynamodb_client.get_item(TableName=table, Key=key)["Item"]
    assert {k: v for k, v in after.items() if not k.startswith("gsi1")} == before
    assert repository(dynamodb_client, table).get(["p0"], ["00000"]).content == actors()[0]


def test_a_rerun_from_scratch_writes_nothing(updates: Updates, table: str) -> None:
    backfill_indexes(repository(updates.client, table), progress=False)
    sent = updates.sent
    report = backfill_indexes(repository(updates.client, table), segments=3, progress=False)
    assert updates.sent == sent
    assert (report.counts.updated, report.counts.already_right) == (0, COUNT)


def test_stale_entries_are_corrected_and_removed(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str
) -> None:
    # Index values written for a city the item no longer has (by a writer predating the index).
    stale = {"gsi1pk": {"S": f"{PREFIX}#{NAME}#{CONTENT_TYPE}#by_city#Paris"}}
    for i in (0, 2):  # 00000 lives in Oslo, 00002 in no city
        key = {"PARTITION_KEY": {"S": f"{PREFIX}#{NAME}#p{i}"}, "SORT_KEY": {"S": f"actor#{i:05d}"}}
        dynamodb_client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk",
            ExpressionAttributeValues={
                ":pk": stale["gsi1pk"],
                ":sk": {"S": f"actor#by_city#{i:05d}"},
            },
        )
    assert "Paris" in {pk.rsplit("#", 1)[1] for pk, _, _ in entries(dynamodb_client, table)}
    report = backfill_indexes(repository(updates.client, table), progress=False)
    assert report.ok
    assert entries(dynamodb_client, table) == expected_entries()
    assert report.counts.updated == indexed_count() + 1  # and the sparse one's removal


def test_several_segments_share_the_work(updates: Updates, table: str) -> None:
    seen: list[Snapshot] = []
    report = backfill_indexes(
        repository(updates.client, table), segments=4, page_size=5, progress=seen.append
    )
    last = seen[-1]
    assert report.ok
    assert last.segments_done == 4
    assert all(counts.scanned > 0 for counts in last.per_segment.values())
    assert sum(counts.scanned for counts in last.per_segment.values()) == COUNT


def test_an_interrupted_backfill_resumes_from_its_checkpoint(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "backfill.json"

    def stop_after_20(snapshot: Snapshot) -> None:
        if snapshot.total.scanned >= 20:
            raise KeyboardInterrupt

    repo = repository(updates.client, table)
    first = backfill_indexes(
        repo, segments=2, page_size=5, checkpoint=checkpoint, progress=stop_after_20
    )
    assert first.interrupted
    assert not first.complete
    assert 20 <= first.counts.scanned < COUNT
    saved = json.loads(checkpoint.read_text())
    assert saved["positions"], "the segments' positions are saved"
    second = backfill_indexes(repo, segments=2, page_size=5, checkpoint=checkpoint, progress=False)
    assert second.ok
    assert first.counts.scanned + second.counts.scanned == COUNT, "nothing scanned twice"
    assert updates.sent == indexed_count(), "no item written twice"
    assert entries(dynamodb_client, table) == expected_entries()
    assert json.loads(checkpoint.read_text())["done"] == [0, 1]
    third = backfill_indexes(repo, segments=2, page_size=5, checkpoint=checkpoint, progress=False)
    assert third.ok
    assert third.counts.scanned == 0, "a finished checkpoint has nothing left"


def test_a_fault_stops_the_backfill_and_the_rerun_completes_it(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "backfill.json"
    applied = 0

    def fail_the_eleventh(**kwargs: Any) -> None:
        nonlocal applied
        if applied == 10:
            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "UpdateItem")
        applied += 1

    failing = make_client(dynamodb_client.meta.endpoint_url)
    failing.meta.events.register("before-call.dynamodb.UpdateItem", fail_the_eleventh)
    first = backfill_indexes(
        repository(failing, table), segments=2, page_size=5, checkpoint=checkpoint, progress=False
    )
    assert not first.complete
    assert not first.ok
    assert first.errors
    assert "AccessDeniedException" in first.errors[0]
    second = backfill_indexes(
        repository(updates.client, table),
        segments=2,
        page_size=5,
        checkpoint=checkpoint,
        progress=False,
    )
    assert second.ok
    assert applied + updates.sent == indexed_count(), "each item updated once"
    assert entries(dynamodb_client, table) == expected_entries()


def test_a_concurrent_writer_is_never_overwritten(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str
) -> None:
    raced: list[dict[str, Any]] = []

    def move_to_paris_first(params: dict[str, Any], **kwargs: Any) -> None:
        if not raced:  # between the backfill's read and its write, the item moves
            raced.append(params["Key"])
            dynamodb_client.update_item(
                TableName=table,
                Key=params["Key"],
                UpdateExpression="SET city = :c",
                ExpressionAttributeValues={":c": {"S": "Paris"}},
            )

    updates.client.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem", move_to_paris_first
    )
    report = backfill_indexes(repository(updates.client, table), segments=1, progress=False)
    assert report.counts.changed_meanwhile == 1
    stored = dynamodb_client.get_item(TableName=table, Key=raced[0])["Item"]
    assert stored["city"] == {"S": "Paris"}
    assert "gsi1pk" not in stored, "no index value computed from the old city"
    again = backfill_indexes(repository(dynamodb_client, table), progress=False)
    assert again.ok
    assert again.counts.updated == 1
    moved = dynamodb_client.get_item(TableName=table, Key=raced[0])["Item"]
    assert moved["gsi1pk"]["S"].endswith("#by_city#Paris")


def test_an_item_deleted_meanwhile_is_not_recreated(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str
) -> None:
    # An item without the one composing attribute, holding a stale entry: its removal is due,
    # and "city still absent" holds for the deleted item too; only "still there" protects it.
    by_city_only = Index("by_city_only", on=GSI1, partition=("city",))
    key = {"PARTITION_KEY": {"S": f"{PREFIX}#{NAME}#"}, "SORT_KEY": {"S": "actor#cityless"}}
    stale = {"gsi1pk": {"S": "stale"}, "gsi1sk": {"S": "stale"}}
    item = {**key, "id": {"S": "cityless"}, "name": {"S": "Al"}, **stale}
    dynamodb_client.put_item(TableName=table, Item=item)

    def delete_it_first(params: dict[str, Any], **kwargs: Any) -> None:
        if params["Key"] == key:
            dynamodb_client.delete_item(TableName=table, Key=key)

    updates.client.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem", delete_it_first
    )
    repo = repository(updates.client, table, indexes=(by_city_only,))
    report = backfill_indexes(repo, progress=False)
    assert report.counts.changed_meanwhile == 1
    assert "Item" not in dynamodb_client.get_item(TableName=table, Key=key)


def test_a_dry_run_writes_nothing_and_counts_what_it_would(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "dry.json"
    report = backfill_indexes(
        repository(updates.client, table), dry_run=True, checkpoint=checkpoint, progress=False
    )
    assert report.dry_run
    assert report.ok
    assert report.counts.updated == indexed_count()
    assert updates.sent == 0
    assert entries(dynamodb_client, table) == set()
    assert not checkpoint.exists(), "a dry run never advances the real run's checkpoint"


def test_undecodable_items_are_reported_and_never_written(
    updates: Updates, dynamodb_client: DynamoDBClient, table: str
) -> None:
    broken = {
        "PARTITION_KEY": {"S": f"{PREFIX}#{NAME}#p0"},
        "SORT_KEY": {"S": "actor#broken"},
        "id": {"S": "broken"},
        "city": {"S": "Oslo"},  # no name: the model refuses it
    }
    dynamodb_client.put_item(TableName=table, Item=broken)
    report = backfill_indexes(repository(updates.client, table), progress=False)
    assert report.complete
    assert not report.ok
    assert report.counts.undecodable == 1
    assert report.undecodable[0].key == {
        "PARTITION_KEY": f"{PREFIX}#{NAME}#p0",
        "SORT_KEY": "actor#broken",
    }
    assert "name" in report.undecodable[0].reason
    key = {name: broken[name] for name in ("PARTITION_KEY", "SORT_KEY")}
    assert dynamodb_client.get_item(TableName=table, Key=key)["Item"] == broken
    assert entries(dynamodb_client, table) == expected_entries()


def test_the_rate_limit_paces_the_updates(updates: Updates, table: str) -> None:
    started = time.monotonic()
    report = backfill_indexes(
        repository(updates.client, table), max_writes_per_second=40.0, progress=False
    )
    elapsed = time.monotonic() - started
    # A burst of 40, then 40 a second: the other updates take at least their share of a second.
    assert report.ok
    assert elapsed >= (indexed_count() - 40) / 40 * 0.9


@pytest.fixture
def proxy(dynamodb_local: DynamoDBLocal) -> Iterator[FaultProxy]:
    server = FaultProxy(dynamodb_local.endpoint_url, lambda *_: Fault.PASS, seed=11)
    try:
        yield server
    finally:
        server.close()


def proxied(proxy: FaultProxy, retries: TransportRetries) -> LeanClient:
    """A lean client sending through the proxy, retrying as ``retries`` says."""
    return LeanClient(
        endpoint_url=proxy.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=retries,
    )


def test_throttling_errors_and_lost_answers_still_end_complete(
    proxy: FaultProxy, dynamodb_client: DynamoDBClient, table: str
) -> None:
    proxy.max_faults_per_request = 2
    proxy.replan(
        mixed_plan(
            7,
            {Fault.THROTTLE: 0.2, Fault.FAIL_500: 0.1, Fault.DROP_AFTER: 0.1},
            ["Scan", "UpdateItem"],
        )
    )
    client = proxied(proxy, TransportRetries(max_attempts=4, base_delay=0.001, max_delay=0.005))
    report = backfill_indexes(repository(client, table), segments=3, page_size=7, progress=False)
    assert report.ok
    assert entries(dynamodb_client, table) == expected_entries()
    met = proxy.faults_met()
    assert met.get(Fault.THROTTLE)
    assert met.get(Fault.FAIL_500)
    assert met.get(Fault.DROP_AFTER)


def test_throttling_that_reaches_the_backfill_is_waited_out(
    proxy: FaultProxy, dynamodb_client: DynamoDBClient, table: str
) -> None:
    proxy.max_faults_per_request = 3
    proxy.replan(random_plan(5, 0.4, Fault.THROTTLE, ["Scan", "UpdateItem"]))
    client = proxied(proxy, TransportRetries(max_attempts=1))  # every throttle reaches us
    repo = repository(client, table, retry_policy=FAST)
    report = backfill_indexes(repo, segments=2, page_size=10, progress=False)
    assert report.ok
    assert entries(dynamodb_client, table) == expected_entries()
    assert proxy.faults_met("UpdateItem").get(Fault.THROTTLE)


# -- the commands --------------------------------------------------------------------------------


def cli_repository() -> SyncDynamoRepository[Actor]:
    """The repository the command test names (``module:attribute``), from the environment."""
    client = make_client(os.environ["BACKFILL_TEST_ENDPOINT"])
    return repository(client, os.environ["BACKFILL_TEST_TABLE"])


def test_the_command_backfills_and_exits_0(
    monkeypatch: pytest.MonkeyPatch,
    dynamodb_client: DynamoDBClient,
    table: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BACKFILL_TEST_ENDPOINT", dynamodb_client.meta.endpoint_url)
    monkeypatch.setenv("BACKFILL_TEST_TABLE", table)
    target = f"{__name__}:cli_repository"
    argv = ["--repository", target, "--segments", "2", "--checkpoint", str(tmp_path / "c.json")]
    assert main([*argv, "--dry-run", "--quiet"]) == 0
    assert entries(dynamodb_client, table) == set()
    assert main(argv) == 0
    assert entries(dynamodb_client, table) == expected_entries()
    err = capsys.readouterr().err
    assert f"updated {indexed_count()}" in err
    assert "segments 2/2 done" in err


def test_the_command_exits_1_on_undecodable_items(
    monkeypatch: pytest.MonkeyPatch, dynamodb_client: DynamoDBClient, table: str
) -> None:
    monkeypatch.setenv("BACKFILL_TEST_ENDPOINT", dynamodb_client.meta.endpoint_url)
    monkeypatch.setenv("BACKFILL_TEST_TABLE", table)
    dynamodb_client.put_item(
        TableName=table,
        Item={"PARTITION_KEY": {"S": f"{PREFIX}#{NAME}#"}, "SORT_KEY": {"S": "actor#x"}},
    )
    assert main(["--repository", f"{__name__}:cli_repository", "--quiet"]) == 1


def test_the_command_refuses_what_is_not_a_repository(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--repository", f"{__name__}:COUNT"])
    assert exited.value.code == 2
    assert "not a SyncDynamoRepository" in capsys.readouterr().err


def command_line(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command to its end (two minutes at most), its output captured."""
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_ctrl_c_stops_the_command_after_its_pages_and_a_rerun_finishes(
    dynamodb_client: DynamoDBClient, table: str, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "c.json"
    env = {
        **os.environ,
        "BACKFILL_TEST_ENDPOINT": dynamodb_client.meta.endpoint_url,
        "BACKFILL_TEST_TABLE": table,
    }
    command = [
        *(sys.executable, "-m", "pydantic_dynamo.backfill"),
        *("--repository", f"{__name__}:cli_repository", "--checkpoint", str(checkpoint)),
        *("--segments", "2", "--page-size", "4"),
    ]
    running = subprocess.Popen(
        [*command, "--rate", "10"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert running.stderr is not None
    first_line = running.stderr.readline()  # drawn after the first page
    assert first_line.startswith("scanned"), first_line
    running.send_signal(signal.SIGINT)
    rest = running.communicate(timeout=60)[1]
    assert running.returncode == 130, rest
    assert "backfill interrupted" in rest
    assert json.loads(checkpoint.read_text())["positions"]
    finish = command_line([*command, "--quiet"], env)
    assert finish.returncode == 0, finish.stderr
    assert entries(dynamodb_client, table) == expected_entries()


def test_the_service_command_backfills_a_content_type(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, tmp_path: Path
) -> None:
    from records_service.content_types import content_type

    actor = content_type("actor")
    assert actor.indexes, "the service's actors are indexed"
    name = f"test-service-backfill-{uuid.uuid4().hex}"
    create_table(dynamodb_client, name, names.TABLE)
    try:
        writer = SyncDynamoRepository[Any](
            item_class=actor.model,
            partition_prefix=actor.partition_prefix,
            partition_name=actor.partition_name,
            content_type=actor.name,
            table_name=name,
            partition_key=names.PARTITION_KEY,
            sort_key=names.SORT_KEY,
            client=dynamodb_client,
        )
        writer.put_batch(
            PartitionedContent[Any](
                partition_ids=[], content_ids=[f"a{i}"], item=actor.model(id=f"a{i}", name="Al")
            )
            for i in range(5)
        )
        env = {
            **os.environ,
            names.ENV_TABLE_NAME: name,
            names.ENV_DYNAMODB_ENDPOINT: dynamodb_local.endpoint_url,
        }
        command = [sys.executable, "-m", "records_service.backfill", "--content-type", "actor"]
        done = command_line([*command, "--checkpoint", str(tmp_path / "actor.json")], env)
        assert done.returncode == 0, done.stderr
        assert "updated 5" in done.stderr
        listed = dynamodb_client.scan(TableName=name, IndexName=names.GSI1.name)["Items"]
        assert len(listed) == 5
    finally:
        dynamodb_client.delete_table(TableName=name)

"""Every write applied once and reported truly, even when its answer is lost.

The repositories talk to DynamoDB Local through :class:`~tests.integration.fault_proxy.FaultProxy`,
over each transport whose retries resend a request: the lean client
(:class:`~pydantic_dynamo.transport.LeanClient`, four tries), boto3 with botocore's ``standard``
retries (four tries) and, for the async repository, aiobotocore with the same. Backoff waits are
zero (the tests prove what a resend does, not patience). The faults, seeded:

- ``DROP_AFTER``: the proxy forwards the request, DynamoDB applies it, and the connection is
  closed instead of answered. The client cannot tell this from ``DROP_BEFORE`` (closed before
  forwarding: nothing applied), so its transport sends the very same request again. A resent
  increment, version bump or conditional write meets the item its first send already changed.
- ``DELAY`` past the client's read timeout: the same, the answer comes too late.
- ``THROTTLE``, ``FAIL_500`` and ``DROP_BEFORE``, mixed in: resending after them is safe, and they
  must not disturb anything.
- ``UNPROCESSED``: the proxy forwards part of a BatchWriteItem (BatchGetItem) and answers the rest
  as ``UnprocessedItems`` (``UnprocessedKeys``), as DynamoDB does under load.
- ``TRICKLE``: the answer comes a few bytes at a time, each read quick, the whole slow.

Except where the test is about retries running out, one request meets at most two faults
(``max_faults_per_request``), so every call ends with an answer within its four tries.

What a test asserts is read straight from DynamoDB Local (``dynamodb_client``), never through
the proxy: counters hold exactly the number of increments made, versions exactly the number of
writes, every call reports its own write as done, batch errors name exactly the work not done.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import boto3
import botocore.retries.standard
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    BatchResponse,
    DynamoRepository,
    InvalidAttributeError,
    PydanticDynamoError,
    RetryPolicy,
    SyncDynamoRepository,
    SyncWriteOnceRepository,
    UnprocessedItemsError,
    UpdateCommand,
    WriteOnceRepository,
)
from pydantic_dynamo.transport import LeanClient, TransportRetries
from tests.integration.fault_proxy import (
    Fault,
    FaultProxy,
    Plan,
    fault_after,
    hold_sort_keys,
    mixed_plan,
)
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
)
from tests.integration.support import Example, ExampleContent, every_id, example, numbered
from tests.integration.test_async_lean import async_lean_client, on_loop

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SEED = 20240611
ATTEMPTS = 4
# Lost answers (the resend case) mixed with faults after which a resend is harmless.
LOST_ANSWERS = {
    Fault.DROP_AFTER: 0.15,
    Fault.DROP_BEFORE: 0.05,
    Fault.FAIL_500: 0.05,
    Fault.THROTTLE: 0.05,
}
# Whichever of these the library sends for a write, its answers get lost.
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
# Library-level retries of unprocessed batch work: eight tries, no waiting.
BATCH_RETRIES = RetryPolicy(max_attempts=8, base_delay=0.0, max_delay=0.0)

Item = dict[str, Any]
Repo = SyncDynamoRepository[Example]
ClientMaker = Callable[..., Any]

_SESSION = boto3.session.Session()


def passing(number: int, operation: str, headers: dict[str, str]) -> Fault:
    """Every request reaches DynamoDB Local and its answer comes back."""
    return Fault.PASS


def lost(seed: int = SEED) -> Plan:
    """``LOST_ANSWERS`` on every request, reads too, seeded: whatever the library sends."""
    return mixed_plan(seed, LOST_ANSWERS)


# -- clients, repositories, and the table as it is ----------------------------------------------


def lean_client(endpoint_url: str, config: Config | None = None) -> Any:
    """The lean transport, four tries without backoff (``config`` for timeouts)."""
    return LeanClient(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        retries=TransportRetries(max_attempts=ATTEMPTS, base_delay=0.0, max_delay=0.0),
        config=config,
    )


def boto3_client(endpoint_url: str, config: Config | None = None) -> Any:
    """boto3 with botocore's own standard retries, four tries (backoff zeroed by a fixture)."""
    retries = Config(retries={"mode": "standard", "total_max_attempts": ATTEMPTS})
    return _SESSION.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=retries.merge(config) if config is not None else retries,
    )


@asynccontextmanager
async def aio_client(endpoint_url: str) -> AsyncIterator[Any]:
    """aiobotocore with botocore's standard retries, four tries (backoff zeroed by a fixture)."""
    creator = get_session().create_client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=AioConfig(retries={"mode": "standard", "total_max_attempts": ATTEMPTS}),
    )
    async with creator as client:
        yield client


_REPO_ARGUMENTS: dict[str, Any] = {
    "item_class": Example,
    "partition_prefix": PARTITION_PREFIX,
    "partition_name": PARTITION_NAME,
    "content_type": CONTENT_TYPE,
    "partition_key": PARTITION_KEY,
    "sort_key": SORT_KEY,
    "consistent_reads": True,
}


def sync_repo(client: Any, table_name: str, retry_policy: RetryPolicy | None = None) -> Repo:
    return SyncDynamoRepository[Example](
        **_REPO_ARGUMENTS,
        table_name=table_name,
        client=client,
        retry_policy=retry_policy or BATCH_RETRIES,
    )


def async_repo(client: Any, table_name: str) -> DynamoRepository[Example]:
    return DynamoRepository[Example](
        **_REPO_ARGUMENTS, table_name=table_name, client=client, retry_policy=BATCH_RETRIES
    )


def stored(dynamodb_client: DynamoDBClient, table_name: str) -> dict[str, Item]:
    """Every item in the table, read directly from DynamoDB Local, by content id."""
    items: dict[str, Item] = {}
    for page in dynamodb_client.get_paginator("scan").paginate(
        TableName=table_name, ConsistentRead=True
    ):
        for item in page["Items"]:
            items[item[SORT_KEY]["S"].removeprefix(f"{CONTENT_TYPE}#")] = dict(item)
    return items


def number(item: Item, name: str) -> int:
    return int(item[name]["N"])


def ids(contents: list[ExampleContent]) -> list[str]:
    return sorted(content.content_ids[0] for content in contents)


def drain(batches: Iterable[BatchResponse[Example]], into: list[str]) -> None:
    """Collect the content ids of every batch into ``into`` until the batches end or raise."""
    for batch in batches:
        into.extend(content.content_ids[0] for content in batch)


def met(proxy: FaultProxy, fault: Fault = Fault.DROP_AFTER) -> int:
    """How many write requests met ``fault`` (the test proves nothing if none did)."""
    return sum(proxy.faults_met(operation).get(fault, 0) for operation in WRITES)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's (and aiobotocore's) standard retries resend at once, as the lean client here."""
    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0
    )


@pytest.fixture
def proxy(dynamodb_local: DynamoDBLocal) -> Iterator[FaultProxy]:
    """A proxy to DynamoDB Local, passing everything until replanned; at most two faults for
    any one request."""
    server = FaultProxy(dynamodb_local.endpoint_url, passing, seed=SEED, max_faults_per_request=2)
    try:
        yield server
    finally:
        server.close()


_MAKERS: dict[str, ClientMaker] = {
    "lean": lean_client,
    "boto3": boto3_client,
    "async-lean": on_loop,
}


@pytest.fixture(params=sorted(_MAKERS))
def make_client(request: pytest.FixtureRequest) -> ClientMaker:
    """Builds a client of the test's transport: the lean one, boto3, or the asyncio lean one
    (behind a sync face: :class:`~tests.integration.test_async_lean.OnLoop`)."""
    return _MAKERS[request.param]


@pytest.fixture(params=["aiobotocore", "async-lean"])
def open_async_client(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Opens an async client of the test's transport: aiobotocore, or the asyncio lean one."""
    return aio_client if request.param == "aiobotocore" else async_lean_client


@pytest.fixture
def repo(proxy: FaultProxy, make_client: ClientMaker, table_name: str) -> Repo:
    """The sync repository through the proxy, on the test's transport."""
    return sync_repo(make_client(proxy.endpoint_url), table_name)


# -- update: increments, version checks, upserts -------------------------------------------------

UPDATES = 200


def test_increments_whose_answers_were_lost_are_applied_once(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    repo.put(example("tally"))
    proxy.replan(lost())
    for _ in range(UPDATES):
        repo.update(["films"], ["tally"], UpdateCommand(increment_attrs={"count": 1}))
    assert met(proxy) > 0
    item = stored(dynamodb_client, table_name)["tally"]
    assert number(item, "count") == UPDATES
    assert number(item, "_object_version") == UPDATES + 1


def test_increments_answered_after_the_read_timeout_are_applied_once(
    make_client: ClientMaker,
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    # The proxy answers a fifth of the updates after 1.2 s; the client waits 0.5 s, then resends.
    slow = FaultProxy(
        dynamodb_local.endpoint_url,
        mixed_plan(SEED, {Fault.DELAY: 0.2}, WRITES),
        max_faults_per_request=2,
        delay=1.2,
    )
    try:
        repo = sync_repo(make_client(slow.endpoint_url, Config(read_timeout=0.5)), table_name)
        repo.put(example("tally"))
        for _ in range(30):
            repo.update(["films"], ["tally"], UpdateCommand(increment_attrs={"count": 1}))
        assert met(slow, Fault.DELAY) > 0
    finally:
        slow.close()
    item = stored(dynamodb_client, table_name)["tally"]
    assert number(item, "count") == 30
    assert number(item, "_object_version") == 31


def test_a_version_checked_update_chain_succeeds_through_lost_answers(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    repo.put(example("chain"))
    proxy.replan(lost())
    for version in range(1, 101):
        command = UpdateCommand(current_version=version, increment_attrs={"count": 1})
        updated = repo.update(["films"], ["chain"], command)
        assert updated.current_version == version + 1
    assert met(proxy) > 0
    item = stored(dynamodb_client, table_name)["chain"]
    assert number(item, "_object_version") == 101
    assert number(item, "count") == 100


def test_upserts_creating_items_through_lost_answers_apply_once(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    proxy.replan(lost())
    for content_id in every_id(100):
        command = UpdateCommand(
            set_commands={"id": content_id, "name": f"actor {content_id}"},
            increment_attrs={"count": 1},
        )
        created = repo.update(["films"], [content_id], command, require_exists=False)
        assert created.item.count == 1
    assert met(proxy) > 0
    items = stored(dynamodb_client, table_name)
    assert sorted(items) == every_id(100)
    assert {cid: number(item, "count") for cid, item in items.items()} == dict.fromkeys(
        every_id(100), 1
    )
    assert {number(item, "_object_version") for item in items.values()} == {1}


def test_an_upsert_creating_an_item_invalid_for_the_model_raises_and_stores_nothing(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    # Example requires ``id`` and ``name``: this command creates an item without ``id``.
    command = UpdateCommand(set_commands={"name": "nobody"}, increment_attrs={"count": 1})
    proxy.replan(lost())
    with pytest.raises(InvalidAttributeError) as raised:
        repo.update(["films"], ["ghost"], command, require_exists=False)
    assert isinstance(raised.value, PydanticDynamoError)
    assert raised.value.field == "id"
    assert stored(dynamodb_client, table_name) == {}


# -- delete_item ---------------------------------------------------------------------------------


@pytest.mark.parametrize("checked", [False, True], ids=["unconditional", "version-checked"])
def test_deletes_whose_answers_were_lost_report_the_item_deleted(
    repo: Repo,
    proxy: FaultProxy,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    checked: bool,
) -> None:
    repo.put_batch(numbered(100))
    proxy.replan(lost())
    reported = {
        content_id: repo.delete_item(["films"], [content_id], 1 if checked else None)
        for content_id in every_id(100)
    }
    assert met(proxy) > 0
    assert [cid for cid, deleted in reported.items() if not deleted] == []
    assert stored(dynamodb_client, table_name) == {}


# -- put and save --------------------------------------------------------------------------------


def test_puts_whose_answers_were_lost_store_each_content(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    proxy.replan(lost())
    for content in numbered(100):
        repo.put(content)
    assert met(proxy) > 0
    items = stored(dynamodb_client, table_name)
    assert sorted(items) == every_id(100)
    assert [number(items[cid], "bucket") for cid in every_id(100)] == list(range(100))
    assert {number(item, "_object_version") for item in items.values()} == {1}


def test_saves_whose_answers_were_lost_count_each_save_once(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    proxy.replan(lost())
    for count in range(1, 101):
        saved = repo.save(example("doc", count=count))
        assert saved.current_version == count
    assert met(proxy) > 0
    item = stored(dynamodb_client, table_name)["doc"]
    assert number(item, "_object_version") == 100
    assert number(item, "count") == 100


def test_a_version_checked_save_chain_succeeds_through_lost_answers(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    repo.save(example("doc"))
    proxy.replan(lost())
    for version in range(1, 101):
        saved = repo.save(example("doc", count=version), expected_version=version)
        assert saved.current_version == version + 1
    assert met(proxy) > 0
    item = stored(dynamodb_client, table_name)["doc"]
    assert number(item, "_object_version") == 101
    assert number(item, "count") == 100


# -- write-once ----------------------------------------------------------------------------------


def test_write_once_reports_every_new_content_once_through_lost_answers(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    proxy.replan(lost())
    written = SyncWriteOnceRepository[Example](repo).write(numbered(200))
    assert met(proxy) > 0
    assert ids(written) == every_id(200)  # each once: ids() keeps duplicates
    items = stored(dynamodb_client, table_name)
    assert sorted(items) == every_id(200)
    assert {number(item, "_object_version") for item in items.values()} == {1}


WRITERS = 4
SHARED = 160  # contents 0..159; writer w writes the 120 from 40*w on (cyclically)


def test_concurrent_write_once_writers_report_each_stored_content_exactly_once(
    make_client: ClientMaker, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    contents = numbered(SHARED)
    shares = [[contents[(40 * w + i) % SHARED] for i in range(120)] for w in range(WRITERS)]
    for w, share in enumerate(shares):
        random.Random(SEED + w).shuffle(share)
    writers = [
        SyncWriteOnceRepository[Example](sync_repo(make_client(proxy.endpoint_url), table_name))
        for _ in range(WRITERS)
    ]
    reports: list[list[ExampleContent]] = [[] for _ in range(WRITERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(w: int) -> None:
        try:
            start.wait(timeout=10)
            reports[w] = writers[w].write(shares[w])
        except BaseException as error:  # reported by the test below
            errors.append(error)

    proxy.replan(lost())
    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert met(proxy) > 0
    reported = Counter(cid for report in reports for cid in ids(report))
    assert sorted(stored(dynamodb_client, table_name)) == every_id(SHARED)
    assert {cid: n for cid, n in reported.items() if n > 1} == {}, "reported twice"
    assert sorted(set(every_id(SHARED)) - set(reported)) == [], "stored, reported by nobody"


# -- batches: retries that end on dropped connections, and unprocessed work ----------------------


@pytest.mark.parametrize("fault", [Fault.DROP_BEFORE, Fault.DROP_AFTER], ids=lambda f: f.value)
def test_put_batch_whose_retries_end_on_dropped_connections_reports_the_unconfirmed_contents(
    repo: Repo,
    proxy: FaultProxy,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    fault: Fault,
) -> None:
    # Two requests of 25 are answered; every later one is dropped, on every try.
    proxy.max_faults_per_request = None
    proxy.replan(fault_after(2, fault, {"BatchWriteItem"}))
    contents = numbered(100)
    with pytest.raises(UnprocessedItemsError) as raised:
        repo.put_batch(contents)
    unconfirmed = ids(raised.value.items)
    assert unconfirmed == every_id(100)[50:]
    assert all(any(item is content for content in contents) for item in raised.value.items)
    in_table = sorted(stored(dynamodb_client, table_name))
    assert sorted(set(in_table) | set(unconfirmed)) == every_id(100)
    # Dropped before: nothing more was written; dropped after: the third request was.
    assert in_table == every_id(50 if fault is Fault.DROP_BEFORE else 75)


@pytest.mark.parametrize("fault", [Fault.DROP_BEFORE, Fault.DROP_AFTER], ids=lambda f: f.value)
def test_get_batch_whose_retries_end_on_dropped_connections_reports_the_unread_keys(
    repo: Repo, proxy: FaultProxy, fault: Fault
) -> None:
    repo.put_batch(numbered(250))
    proxy.max_faults_per_request = None
    proxy.replan(fault_after(1, fault, {"BatchGetItem"}))
    read: list[str] = []
    with pytest.raises(UnprocessedItemsError) as raised:
        drain(repo.get_batch([(["films"], [cid]) for cid in every_id(250)]), read)
    unread = sorted(content_ids[0] for _, content_ids in raised.value.items)
    assert sorted(read) == every_id(100)
    assert unread == every_id(250)[100:]


def test_put_batch_reports_exactly_the_writes_left_unprocessed_past_the_retry_policy(
    repo: Repo, proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    stubborn = sorted(random.Random(SEED).sample(every_id(100), 5))
    proxy.max_faults_per_request = None
    proxy.replan(
        lambda n, operation, headers: Fault.UNPROCESSED,
        hold=hold_sort_keys([f"{CONTENT_TYPE}#{cid}" for cid in stubborn]),
    )
    with pytest.raises(UnprocessedItemsError) as raised:
        repo.put_batch(numbered(100))
    assert ids(raised.value.items) == stubborn
    assert sorted(stored(dynamodb_client, table_name)) == sorted(set(every_id(100)) - {*stubborn})
    assert sum(seen.held for seen in proxy.seen) >= len(stubborn)


def test_get_batch_reports_exactly_the_keys_left_unprocessed_past_the_retry_policy(
    repo: Repo, proxy: FaultProxy
) -> None:
    repo.put_batch(numbered(250))
    stubborn = sorted(random.Random(SEED).sample(every_id(250), 7))
    proxy.max_faults_per_request = None
    proxy.replan(
        lambda n, operation, headers: Fault.UNPROCESSED,
        hold=hold_sort_keys([f"{CONTENT_TYPE}#{cid}" for cid in stubborn]),
    )
    read: list[str] = []
    with pytest.raises(UnprocessedItemsError) as raised:
        drain(repo.get_batch([(["films"], [cid]) for cid in every_id(250)]), read)
    assert sorted(content_ids[0] for _, content_ids in raised.value.items) == stubborn
    assert sorted(read) == sorted(set(every_id(250)) - {*stubborn})


# -- a trickled answer ---------------------------------------------------------------------------


def test_a_trickled_answer_fails_within_the_read_timeout(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    # Four bytes every ~0.1 s for about 5 s: each read is quick, the whole answer is not.
    trickling = FaultProxy(
        dynamodb_local.endpoint_url,
        lambda n, operation, headers: Fault.TRICKLE,
        trickle_seconds=5.0,
        trickle_bytes=4,
    )
    try:
        client = LeanClient(
            endpoint_url=trickling.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(read_timeout=1, retries={"total_max_attempts": 1}),
        )
        repo = sync_repo(client, table_name)
        began = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            repo.get(["films"], ["anyone"])
        assert time.monotonic() - began < 2.0
    finally:
        trickling.close()


# -- the async repository ------------------------------------------------------------------------


def test_async_increments_whose_answers_were_lost_are_applied_once(
    open_async_client: Callable[[str], Any],
    proxy: FaultProxy,
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    async def run() -> None:
        async with open_async_client(proxy.endpoint_url) as client:
            repo = async_repo(client, table_name)
            await repo.put(example("tally"))
            proxy.replan(lost())
            for _ in range(UPDATES):
                await repo.update(["films"], ["tally"], UpdateCommand(increment_attrs={"count": 1}))

    asyncio.run(run())
    assert met(proxy) > 0
    item = stored(dynamodb_client, table_name)["tally"]
    assert number(item, "count") == UPDATES
    assert number(item, "_object_version") == UPDATES + 1


def test_async_version_checked_update_chain_succeeds_through_lost_answers(
    open_async_client: Callable[[str], Any],
    proxy: FaultProxy,
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    async def run() -> None:
        async with open_async_client(proxy.endpoint_url) as client:
            repo = async_repo(client, table_name)
            await repo.put(example("chain"))
            proxy.replan(lost())
            for version in range(1, 101):
                command = UpdateCommand(current_version=version, increment_attrs={"count": 1})
                updated = await repo.update(["films"], ["chain"], command)
                assert updated.current_version == version + 1

    asyncio.run(run())
    assert met(proxy) > 0
    assert number(stored(dynamodb_client, table_name)["chain"], "_object_version") == 101


def test_async_write_once_reports_every_new_content_once_through_lost_answers(
    open_async_client: Callable[[str], Any],
    proxy: FaultProxy,
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    async def run() -> list[ExampleContent]:
        async with open_async_client(proxy.endpoint_url) as client:
            write_once = WriteOnceRepository[Example](async_repo(client, table_name))
            proxy.replan(lost())
            return await write_once.write(numbered(200))

    written = asyncio.run(run())
    assert met(proxy) > 0
    assert ids(written) == every_id(200)
    items = stored(dynamodb_client, table_name)
    assert sorted(items) == every_id(200)
    assert {number(item, "_object_version") for item in items.values()} == {1}

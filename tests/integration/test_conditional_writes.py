"""Conditional writes on DynamoDB Local: put-if-absent, and put, update and delete guarded by a
condition on the model, each refused with a typed error carrying the item as stored.

Every condition operator guards each kind of write exactly as its predicate selects the models
(the cases of ``test_conditions_on_dynamodb``). Racing threads (and coroutines) prove that
exactly one put-if-absent wins; the fault proxy proves that a conditional write whose answer was
lost is applied once and reported as done, not as "already there".
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from pydantic import BaseModel

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    ConditionFailedError,
    DynamoRepository,
    InvalidAttributeError,
    ItemExistsError,
    ItemNotFoundError,
    PartitionedContent,
    SyncDynamoRepository,
    UpdateCommand,
    VersionConflictError,
    attr,
)
from tests.integration.fault_proxy import Fault, FaultProxy, fault_after
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    make_client,
    make_lean_client,
)
from tests.integration.support import LONG_EXPIRED, Example, ExampleContent, example
from tests.integration.test_async_lean import on_loop
from tests.integration.test_conditions_on_dynamodb import CASES, CONTENTS
from tests.integration.test_resend_safety import (  # noqa: F401  (fixtures: the proxy, no backoff)
    ClientMaker,
    boto3_client,
    lean_client,
    no_botocore_backoff,
    proxy,
    stored,
    sync_repo,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

M = TypeVar("M", bound=BaseModel)
Item = dict[str, Any]


class Repo(Generic[M]):
    """The sync or the async repository behind one sync face, conditions included."""

    def __init__(self, repo: Any, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.repo = repo
        self.loop = loop

    def run(self, value: Any) -> Any:
        """``value``, awaited on the loop when the repository is async."""
        return self.loop.run_until_complete(value) if self.loop is not None else value

    def put(self, content: PartitionedContent[M], **options: Any) -> None:
        self.run(self.repo.put(content, **options))

    def put_batch(self, contents: list[PartitionedContent[M]]) -> None:
        self.run(self.repo.put_batch(contents))

    def update(self, content_id: str, command: UpdateCommand, **options: Any) -> Any:
        return self.run(self.repo.update(["films"], [content_id], command, **options))

    def delete_item(self, content_id: str, **options: Any) -> bool:
        return bool(self.run(self.repo.delete_item(["films"], [content_id], **options)))

    def get(self, content_id: str) -> PartitionedContent[M] | None:
        content: PartitionedContent[M] | None = self.run(
            self.repo.get(["films"], [content_id])
        ).content
        return content

    def commit(self, build: Callable[[Any], object]) -> None:
        """Build a transaction of this repository's with ``build`` and send it."""
        transaction = self.repo.transaction()
        build(transaction)
        self.run(transaction.commit())

    def transact_get(self, reads: list[tuple[Any, Any, Any]]) -> list[Any]:
        contents: list[Any] = self.run(self.repo.transact_get(reads))
        return contents


def repository(
    item_class: type[M],
    client: Any,
    table_name: str,
    *,
    content_type: str = CONTENT_TYPE,
    **more: Any,
) -> Any:
    """A sync (``client`` sync) or async repository of ``item_class`` over the test's table."""
    arguments = {
        "item_class": item_class,
        "partition_prefix": PARTITION_PREFIX,
        "partition_name": PARTITION_NAME,
        "content_type": content_type,
        "table_name": table_name,
        "partition_key": PARTITION_KEY,
        "sort_key": SORT_KEY,
        "consistent_reads": True,
        "client": client,
        **more,
    }
    if hasattr(client, "__aenter__"):
        return DynamoRepository[M](**arguments)
    return SyncDynamoRepository[M](**arguments)


class Flavour:
    """Builds repositories of one flavour (``sync`` on boto3, ``lean``, ``async``)."""

    def __init__(self, name: str, endpoint_url: str, table_name: str) -> None:
        self.name = name
        self.table_name = table_name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._creator: Any = None
        if name == "sync":
            self.client: Any = make_client(endpoint_url)
        elif name == "lean":
            self.client = make_lean_client(endpoint_url)
        else:
            self.loop = asyncio.new_event_loop()
            self._creator = get_session().create_client(
                "dynamodb",
                endpoint_url=endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=AioConfig(retries={"mode": "standard", "total_max_attempts": 1}),
            )
            self.client = self.loop.run_until_complete(self._creator.__aenter__())

    def __call__(self, item_class: type[M], **more: Any) -> Repo[M]:
        return Repo(repository(item_class, self.client, self.table_name, **more), self.loop)

    def build(self, arguments: dict[str, Any]) -> Repo[Any]:
        """A repository of this flavour from its full keyword ``arguments`` (no client)."""
        kind = SyncDynamoRepository if self.loop is None else DynamoRepository
        return Repo(kind(**arguments, client=self.client), self.loop)

    def close(self) -> None:
        if self.loop is not None:
            self.loop.run_until_complete(self._creator.__aexit__(None, None, None))
            self.loop.close()


@pytest.fixture(params=["sync", "lean", "async"])
def flavour(
    request: pytest.FixtureRequest, dynamodb_local: DynamoDBLocal, table_name: str
) -> Iterator[Flavour]:
    """Repositories of each flavour over the test's fresh table."""
    built = Flavour(request.param, dynamodb_local.endpoint_url, table_name)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def repo(flavour: Flavour) -> Repo[Example]:
    return flavour(Example)


@pytest.fixture
def sync_flavour(dynamodb_local: DynamoDBLocal, table_name: str) -> Flavour:
    """The sync repository on boto3 only (for the operator matrix, which is flavour-blind)."""
    return Flavour("sync", dynamodb_local.endpoint_url, table_name)


# -- every operator, against the model -----------------------------------------------------------


def _write(repo: Repo[Example], operation: str, content: ExampleContent, condition: Any) -> None:
    content_id = content.content_ids[0]
    if operation == "put":
        repo.put(
            content.model_copy(update={"item": content.item.model_copy(update={"name": "new"})}),
            condition=condition,
        )
    elif operation == "update":
        repo.update(content_id, UpdateCommand(set_commands={"name": "new"}), condition=condition)
    else:
        assert repo.delete_item(content_id, condition=condition)


@pytest.mark.parametrize("operation", ["put", "update", "delete"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_conditional_write_applies_exactly_where_its_condition_holds(
    sync_flavour: Flavour, operation: str, case: str
) -> None:
    repo = sync_flavour(Example)
    condition, predicate = CASES[case]
    repo.put_batch(CONTENTS)
    outcomes = {}
    for content in CONTENTS:
        content_id = content.content_ids[0]
        before = repo.get(content_id)
        holds = predicate(content.item)
        if not holds:
            with pytest.raises(ConditionFailedError) as raised:
                _write(repo, operation, content, condition)
            assert raised.value.item == before  # the item as stored, decoded
            assert repo.get(content_id) == before  # nothing written
            continue
        _write(repo, operation, content, condition)
        after = repo.get(content_id)
        if operation == "delete":
            assert after is None
        else:
            assert after is not None
            assert after.item.name == "new"
        outcomes[content_id] = holds
    assert 0 < len(outcomes) < len(CONTENTS)  # the case discriminates


# -- put-if-absent and conditional puts ----------------------------------------------------------


def test_put_if_absent_creates_an_absent_item(repo: Repo[Example]) -> None:
    repo.put(example("a", count=1), if_absent=True)
    stored_item = repo.get("a")
    assert stored_item is not None
    assert stored_item.item.count == 1


def test_put_if_absent_refuses_a_present_item_and_carries_it(repo: Repo[Example]) -> None:
    repo.put(example("a", count=1))
    with pytest.raises(ItemExistsError) as raised:
        repo.put(example("a", count=2), if_absent=True)
    assert isinstance(raised.value, ConditionFailedError)
    assert raised.value.item.item.count == 1
    assert raised.value.raw["count"] == {"N": "1"}
    assert raised.value.key == {
        PARTITION_KEY: f"{PARTITION_PREFIX}#{PARTITION_NAME}#films",
        SORT_KEY: f"{CONTENT_TYPE}#a",
    }
    assert repo.get("a").item.count == 1  # type: ignore[union-attr]


def test_put_if_absent_writes_over_an_expired_item(repo: Repo[Example]) -> None:
    repo.put(example("a", count=1).model_copy(update={"expiry": LONG_EXPIRED}))
    repo.put(example("a", count=2), if_absent=True)
    assert repo.get("a").item.count == 2  # type: ignore[union-attr]


def test_put_if_absent_or_condition_replaces_only_where_it_holds(repo: Repo[Example]) -> None:
    repo.put(example("old", count=1))
    repo.put(example("new", count=5))
    older = attr("count") < 3
    repo.put(example("old", count=3), if_absent=True, condition=older)
    repo.put(example("fresh", count=3), if_absent=True, condition=older)
    with pytest.raises(ItemExistsError):
        repo.put(example("new", count=3), if_absent=True, condition=older)
    assert [repo.get(i).item.count for i in ("old", "new", "fresh")] == [3, 5, 3]  # type: ignore[union-attr]


def test_a_conditional_put_over_nothing_is_item_not_found(repo: Repo[Example]) -> None:
    with pytest.raises(ItemNotFoundError):
        repo.put(example("a"), condition=attr("count") == 0)
    assert repo.get("a") is None


def test_a_condition_naming_no_field_is_refused_before_sending(repo: Repo[Example]) -> None:
    repo.put(example("a"))
    with pytest.raises(InvalidAttributeError, match="nope"):
        repo.put(example("a"), condition=attr("nope") == 1)
    with pytest.raises(InvalidAttributeError, match="count"):
        repo.update("a", UpdateCommand(set_commands={"name": "x"}), condition=attr("count") == "x")


def test_a_stored_item_that_does_not_decode_comes_raw(
    repo: Repo[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    key = {
        PARTITION_KEY: {"S": f"{PARTITION_PREFIX}#{PARTITION_NAME}#films"},
        SORT_KEY: {"S": f"{CONTENT_TYPE}#a"},
    }
    dynamodb_client.put_item(
        TableName=table_name, Item={**key, "id": {"S": "a"}, "count": {"S": "many"}}
    )
    with pytest.raises(ItemExistsError) as raised:
        repo.put(example("a"), if_absent=True)
    assert raised.value.item == raised.value.raw
    assert raised.value.raw["count"] == {"S": "many"}


# -- conditional updates and deletes -------------------------------------------------------------


def test_a_conditional_update_tells_a_version_conflict_from_a_failed_condition(
    repo: Repo[Example],
) -> None:
    repo.put(example("a", count=1))
    with pytest.raises(VersionConflictError):
        repo.update(
            "a",
            UpdateCommand(current_version=7, set_commands={"name": "x"}),
            condition=attr("count") == 1,
        )
    with pytest.raises(ConditionFailedError) as raised:
        repo.update(
            "a",
            UpdateCommand(current_version=1, set_commands={"name": "x"}),
            condition=attr("count") == 2,
        )
    assert not isinstance(raised.value, VersionConflictError)
    assert raised.value.item.current_version == 1
    updated = repo.update(
        "a",
        UpdateCommand(current_version=1, set_commands={"name": "x"}),
        condition=attr("count") == 1,
    )
    assert (updated.item.name, updated.current_version) == ("x", 2)


def test_a_conditional_update_of_nothing_is_item_not_found(repo: Repo[Example]) -> None:
    with pytest.raises(ItemNotFoundError):
        repo.update("a", UpdateCommand(set_commands={"name": "x"}), condition=attr("count") == 0)


def test_a_conditional_upsert_creates_an_absent_item_and_guards_a_present_one(
    repo: Repo[Example],
) -> None:
    command = UpdateCommand(set_commands={"id": "a", "name": "x"}, increment_attrs={"count": 1})
    condition = attr("count") < 1
    assert repo.update("a", command, require_exists=False, condition=condition).item.count == 1
    with pytest.raises(ConditionFailedError):
        repo.update("a", command, require_exists=False, condition=condition)
    assert repo.get("a").item.count == 1  # type: ignore[union-attr]


def test_a_conditional_delete_keeps_an_item_the_condition_refuses(repo: Repo[Example]) -> None:
    repo.put(example("a", count=1))
    with pytest.raises(ConditionFailedError) as raised:
        repo.delete_item("a", condition=attr("count") > 1)
    assert raised.value.item.item.count == 1
    assert repo.get("a") is not None
    assert repo.delete_item("a", condition=attr("count") == 1)
    assert not repo.delete_item("a", condition=attr("count") == 1)  # gone: nothing to delete


# -- races ---------------------------------------------------------------------------------------

RACERS = 8


def test_exactly_one_of_racing_threads_puts_if_absent(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    # One client per thread; every thread waits at the barrier, then puts its own content.
    repos = [
        repository(Example, make_lean_client(dynamodb_local.endpoint_url), table_name)
        for _ in range(RACERS)
    ]
    barrier = threading.Barrier(RACERS)
    outcomes: dict[int, BaseException | None] = {}

    def race(number: int) -> None:
        barrier.wait()
        try:
            repos[number].put(example("prize", count=number), if_absent=True)
        except BaseException as error:
            outcomes[number] = error
        else:
            outcomes[number] = None

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [n for n, error in outcomes.items() if error is None]
    assert len(outcomes) == RACERS
    assert len(winners) == 1
    assert repos[0].get(["films"], ["prize"]).content.item.count == winners[0]
    for number, error in outcomes.items():
        if number != winners[0]:
            assert isinstance(error, ItemExistsError)
            assert error.item.item.count == winners[0]  # the winner's item


def test_exactly_one_of_racing_coroutines_puts_if_absent(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    flavour = Flavour("async", dynamodb_local.endpoint_url, table_name)
    try:
        repo = repository(Example, flavour.client, table_name)

        async def race() -> list[BaseException | None]:
            puts = [repo.put(example("prize", count=n), if_absent=True) for n in range(RACERS)]
            return list(await asyncio.gather(*puts, return_exceptions=True))

        assert flavour.loop is not None
        outcomes = flavour.loop.run_until_complete(race())
        winner = flavour.loop.run_until_complete(repo.get(["films"], ["prize"])).content
    finally:
        flavour.close()
    assert outcomes.count(None) == 1
    assert winner.item.count == outcomes.index(None)
    for error in outcomes:
        if error is not None:
            assert isinstance(error, ItemExistsError)
            assert error.item == winner


# -- resends of conditional writes whose answers were lost ---------------------------------------

RESENDING = {"lean": lean_client, "boto3": boto3_client, "async-lean": on_loop}


@pytest.fixture(params=sorted(RESENDING))
def make_resend_client(request: pytest.FixtureRequest) -> ClientMaker:
    """A client maker of each transport that resends a request whose answer was lost."""
    return RESENDING[request.param]


def test_a_put_if_absent_whose_answer_was_lost_reports_success(
    proxy: FaultProxy,  # noqa: F811
    make_resend_client: ClientMaker,
    table_name: str,
) -> None:
    repo = sync_repo(make_resend_client(proxy.endpoint_url), table_name)
    proxy.replan(fault_after(0, Fault.DROP_AFTER, {"PutItem"}))
    repo.put(example("a", count=1), if_absent=True)  # applied, lost, resent: not "already there"
    assert proxy.faults_met("PutItem").get(Fault.DROP_AFTER, 0) > 0
    proxy.replan(fault_after(0, Fault.PASS, set()))
    with pytest.raises(ItemExistsError):
        repo.put(example("a", count=2), if_absent=True)  # a second put is refused
    assert repo.get(["films"], ["a"]).content.item.count == 1  # type: ignore[union-attr]


def test_a_conditional_update_whose_answer_was_lost_is_applied_once(
    proxy: FaultProxy,  # noqa: F811
    make_resend_client: ClientMaker,
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    repo = sync_repo(make_resend_client(proxy.endpoint_url), table_name)
    repo.put(example("a"))
    proxy.replan(fault_after(0, Fault.DROP_AFTER, {"UpdateItem"}))
    command = UpdateCommand(increment_attrs={"count": 1})
    for expected in range(1, 6):
        updated = repo.update(["films"], ["a"], command, condition=attr("count") == expected - 1)
        assert updated.item.count == expected
    assert proxy.faults_met("UpdateItem").get(Fault.DROP_AFTER, 0) >= 5
    assert stored(dynamodb_client, table_name)["a"]["count"] == {"N": "5"}


def test_a_conditional_delete_whose_answer_was_lost_reports_the_deletion(
    proxy: FaultProxy,  # noqa: F811
    make_resend_client: ClientMaker,
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    repo = sync_repo(make_resend_client(proxy.endpoint_url), table_name)
    repo.put(example("a", count=1))
    proxy.replan(fault_after(0, Fault.DROP_AFTER, {"TransactWriteItems"}))
    assert repo.delete_item(["films"], ["a"], condition=attr("count") == 1)
    assert proxy.faults_met("TransactWriteItems").get(Fault.DROP_AFTER, 0) > 0
    assert "a" not in stored(dynamodb_client, table_name)

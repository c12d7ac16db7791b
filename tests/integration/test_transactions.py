"""Transactions on DynamoDB Local: all actions applied or none, typed cancellations naming each
failed action, DynamoDB's limits refused before sending, index values kept, transactional
reads, and a transaction whose answer was lost applied once (the fault proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    ConditionFailedError,
    ItemExistsError,
    ItemNotFoundError,
    PartitionedContent,
    RetryPolicy,
    Transaction,
    TransactionCanceledError,
    TransactionLimitError,
    UpdateCommand,
    VersionConflictError,
    attr,
)
from pydantic_dynamo.aws_errors import ErrorKind
from pydantic_dynamo.drivers import run
from pydantic_dynamo.flows import Call, Sleep
from pydantic_dynamo.transaction_flows import transact_write_flow
from pydantic_dynamo.transactions import TransactionPlan
from tests.integration import index_support
from tests.integration.fault_proxy import Fault, FaultProxy, fault_after
from tests.integration.index_support import Film, Review, director_entry, film, index_values
from tests.integration.support import LONG_EXPIRED, Example, FieldModel, example
from tests.integration.test_conditional_writes import (  # noqa: F401  (fixtures)
    Flavour,
    Repo,
    flavour,
    make_resend_client,
    repo,
)
from tests.integration.test_resend_safety import (  # noqa: F401  (fixtures)
    ClientMaker,
    no_botocore_backoff,
    proxy,
    stored,
    sync_repo,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]


@pytest.fixture
def other(flavour: Flavour) -> Repo[FieldModel]:  # noqa: F811
    """A repository of another content type (and model) on the same table."""
    return flavour(FieldModel, content_type="other")


def field(content_id: str, failures: int = 0) -> PartitionedContent[FieldModel]:
    return PartitionedContent[FieldModel](
        partition_ids=["films"],
        content_ids=[content_id],
        item=FieldModel(test_field=content_id, failures=failures),
    )


# -- all or nothing ------------------------------------------------------------------------------


def test_a_transaction_applies_every_action_across_content_types(
    repo: Repo[Example],  # noqa: F811
    other: Repo[FieldModel],
) -> None:
    repo.put_batch([example("a"), example("b"), example("c", count=4)])
    other.put(field("f", failures=1))

    def build(tx: TransactionPlan) -> None:
        tx.put(repo.repo, example("new"), if_absent=True)
        tx.update(repo.repo, ["films"], ["a"], UpdateCommand(increment_attrs={"count": 2}))
        tx.delete(repo.repo, ["films"], ["b"], condition=attr("count") == 0)
        tx.check(repo.repo, ["films"], ["c"], attr("count") > 3)
        tx.update(
            other.repo,
            ["films"],
            ["f"],
            UpdateCommand(current_version=1, set_commands={"failures": 2}),
        )

    repo.commit(build)
    assert repo.get("new") is not None
    assert repo.get("a").item.count == 2  # type: ignore[union-attr]
    assert repo.get("b") is None
    assert other.get("f").item.failures == 2  # type: ignore[union-attr]
    assert other.get("f").current_version == 2  # type: ignore[union-attr]


def test_a_failed_condition_cancels_every_action_and_names_the_one_that_failed(
    repo: Repo[Example],  # noqa: F811
) -> None:
    repo.put_batch([example("a"), example("taken", count=7)])

    def build(tx: TransactionPlan) -> None:
        tx.update(repo.repo, ["films"], ["a"], UpdateCommand(increment_attrs={"count": 1}))
        tx.put(repo.repo, example("taken"), if_absent=True)

    with pytest.raises(TransactionCanceledError) as raised:
        repo.commit(build)
    error = raised.value
    assert error.codes == ["None", "ConditionalCheckFailed"]
    assert error.kind is ErrorKind.REFUSED
    (failure,) = error.failures
    assert (failure.index, failure.operation, failure.content_type) == (1, "Put", "example")
    assert failure.key["SORT_KEY"] == "example#taken"
    assert failure.item.item.count == 7  # the stored item, decoded
    assert isinstance(failure.error, ItemExistsError)
    assert repo.get("a").item.count == 0  # type: ignore[union-attr]  # nothing applied


def test_each_failed_condition_is_told_by_its_kind(repo: Repo[Example]) -> None:  # noqa: F811
    repo.put_batch([example("a", count=1), example("b", count=1)])

    def build(tx: TransactionPlan) -> None:
        tx.update(
            repo.repo,
            ["films"],
            ["a"],
            UpdateCommand(current_version=5, set_commands={"name": "x"}),
        )
        tx.delete(repo.repo, ["films"], ["b"], condition=attr("count") == 2)
        tx.check(repo.repo, ["films"], ["missing"], attr("count") == 1)

    with pytest.raises(TransactionCanceledError) as raised:
        repo.commit(build)
    errors = [failure.error for failure in raised.value.failures]
    assert [type(e) for e in errors] == [
        VersionConflictError,
        ConditionFailedError,
        ItemNotFoundError,
    ]
    assert [f.index for f in raised.value.failures] == [0, 1, 2]
    assert raised.value.failures[2].item is None


def test_an_update_growing_an_item_past_400_kb_is_a_validation_error(
    repo: Repo[Example],  # noqa: F811
) -> None:
    repo.put(example("a", padding=300_000))

    def build(tx: TransactionPlan) -> None:
        tx.update(
            repo.repo, ["films"], ["a"], UpdateCommand(append_attrs={"tags": ["y" * 200_000]})
        )

    with pytest.raises(TransactionCanceledError) as raised:
        repo.commit(build)
    assert [f.code for f in raised.value.failures] == ["ValidationError"]


def test_the_with_block_sends_at_its_end_and_nothing_when_it_raises(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    writer = sync_repo(dynamodb_client, table_name)

    def abandon() -> None:
        with writer.transaction() as tx:
            tx.put(writer, example("a"))
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        abandon()
    assert writer.get(["films"], ["a"]).content is None
    with writer.transaction() as tx:
        tx.put(writer, example("a"))
        assert writer.get(["films"], ["a"]).content is None  # not yet
    assert writer.get(["films"], ["a"]).content is not None
    with Transaction(dynamodb_client) as standalone:
        standalone.delete(writer, ["films"], ["a"])
    assert writer.get(["films"], ["a"]).content is None


def test_async_with_sends_at_its_end(dynamodb_local: DynamoDBLocal, table_name: str) -> None:
    async_flavour = Flavour("async", dynamodb_local.endpoint_url, table_name)
    try:
        writer = async_flavour(Example)

        async def go() -> None:
            async with writer.repo.transaction() as tx:
                tx.put(writer.repo, example("a"))
                tx.put(writer.repo, example("b"))

        assert async_flavour.loop is not None
        async_flavour.loop.run_until_complete(go())
        assert writer.get("a") is not None
        assert writer.get("b") is not None
    finally:
        async_flavour.close()


# -- DynamoDB's limits, before sending -----------------------------------------------------------


def test_two_actions_on_one_item_are_refused_before_sending(repo: Repo[Example]) -> None:  # noqa: F811
    tx = repo.repo.transaction()
    tx.put(repo.repo, example("a"))
    with pytest.raises(TransactionLimitError) as raised:
        tx.update(repo.repo, ["films"], ["a"], UpdateCommand(increment_attrs={"count": 1}))
    assert (raised.value.index, raised.value.other) == (1, 0)
    repo.run(tx.commit())
    assert repo.get("a").item.count == 0  # type: ignore[union-attr]


def test_a_101st_action_is_refused(repo: Repo[Example]) -> None:  # noqa: F811
    tx = repo.repo.transaction()
    for number in range(100):
        tx.put(repo.repo, example(f"{number:03}"))
    with pytest.raises(TransactionLimitError) as raised:
        tx.put(repo.repo, example("one too many"))
    assert raised.value.index == 100


def test_a_transaction_over_4_mb_is_refused_naming_the_action_past_it(
    repo: Repo[Example],  # noqa: F811
) -> None:
    tx = repo.repo.transaction()
    for number in range(11):  # 11 items of 390 KB: 4.2 MB
        tx.put(repo.repo, example(f"{number:02}", padding=390_000))
    with pytest.raises(TransactionLimitError) as raised:
        repo.run(tx.commit())
    assert raised.value.index == 10
    assert repo.get("00") is None


def test_a_transactional_read_of_more_than_100_items_is_refused(repo: Repo[Example]) -> None:  # noqa: F811
    with pytest.raises(TransactionLimitError):
        repo.transact_get([(repo.repo, ["films"], [str(n)]) for n in range(101)])


# -- transactional reads -------------------------------------------------------------------------


def test_a_transactional_read_answers_each_repositorys_contents_in_order(
    repo: Repo[Example],  # noqa: F811
    other: Repo[FieldModel],
) -> None:
    repo.put(example("a", count=3))
    repo.put(example("old").model_copy(update={"expiry": LONG_EXPIRED}))
    other.put(field("f"))
    read = repo.transact_get(
        [
            (repo.repo, ["films"], ["a"]),
            (other.repo, ["films"], ["f"]),
            (repo.repo, ["films"], ["missing"]),
            (repo.repo, ["films"], ["old"]),
        ]
    )
    assert read[0].item == Example(id="a", name="actor a", count=3)
    assert read[1].item == FieldModel(test_field="f", failures=0)
    assert read[2:] == [None, None]


# -- index values --------------------------------------------------------------------------------


@pytest.fixture
def films(
    flavour: Flavour,  # noqa: F811
    dynamodb_client: DynamoDBClient,
) -> Iterator[tuple[Repo[Film], Repo[Review], str]]:
    table = index_support.new_table(dynamodb_client)
    yield (
        flavour.build(index_support.repository_arguments(table, Film)),
        flavour.build(index_support.repository_arguments(table, Review)),
        table,
    )
    dynamodb_client.delete_table(TableName=table)


def test_transactional_puts_and_updates_keep_index_values(
    films: tuple[Repo[Film], Repo[Review], str], dynamodb_client: DynamoDBClient
) -> None:
    film_repo, review_repo, table = films
    film_repo.put(film("f1", director="Nolan", year=2010))
    created = datetime(2024, 3, 1, tzinfo=UTC)

    def build(tx: TransactionPlan) -> None:
        tx.put(film_repo.repo, film("f2", director="Mann", year=1995))
        # year alone: the director is read first, the write checks it is still as read
        tx.update(film_repo.repo, ["films"], ["f1"], UpdateCommand(set_commands={"year": 2014}))
        tx.put(review_repo.repo, _review("r1", "f1", created))

    film_repo.commit(build)
    f1 = index_values(index_support.stored(dynamodb_client, table, "f1"))
    assert {k: f1[k] for k in ("gsi1pk", "gsi1sk")} == director_entry("Nolan", 2014, "f1")
    f2 = index_values(index_support.stored(dynamodb_client, table, "f2"))
    assert {k: f2[k] for k in ("gsi1pk", "gsi1sk")} == director_entry("Mann", 1995, "f2")
    (entry,) = [
        c for batch in film_repo.run(_drain(film_repo, "by_director", ["Nolan"])) for c in batch
    ]
    assert entry.item.year == 2014
    review = index_values(_raw_review(dynamodb_client, table))
    assert review["gsi1pk"] == f"{index_support.PREFIX}#{index_support.NAME}#review#by_film#f1"


def _raw_review(client: DynamoDBClient, table: str) -> Item:
    key = {
        index_support.PK: {"S": f"{index_support.PREFIX}#{index_support.NAME}#films"},
        index_support.SK: {"S": "review#r1"},
    }
    item: Item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return item


def _review(review_id: str, film_id: str, created: datetime) -> PartitionedContent[Review]:
    return PartitionedContent[Review](
        partition_ids=["films"],
        content_ids=[review_id],
        item=Review(id=review_id, film_id=film_id, created=created),
    )


def _drain(reader: Repo[Film], index: str, partition: list[str]) -> Any:
    batches = reader.repo.query_index(index, partition)
    if reader.loop is None:
        return list(batches)

    async def pull() -> list[Any]:
        return [batch async for batch in batches]

    return pull()


# -- lost answers --------------------------------------------------------------------------------


def test_a_transaction_whose_answer_was_lost_is_applied_once(
    proxy: FaultProxy,  # noqa: F811
    make_resend_client: ClientMaker,  # noqa: F811
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    writer = sync_repo(make_resend_client(proxy.endpoint_url), table_name)
    writer.put(example("tally"))
    proxy.replan(fault_after(0, Fault.DROP_AFTER, {"TransactWriteItems"}))
    for number in range(5):
        with writer.transaction() as tx:
            tx.update(writer, ["films"], ["tally"], UpdateCommand(increment_attrs={"count": 1}))
            tx.put(writer, example(f"new{number}"), if_absent=True)  # reported done, not "there"
    assert proxy.faults_met("TransactWriteItems").get(Fault.DROP_AFTER, 0) >= 5
    items = stored(dynamodb_client, table_name)
    assert items["tally"]["count"] == {"N": "5"}
    assert {f"new{n}" for n in range(5)} <= set(items)


# -- retries of contended transactions (DynamoDB Local serialises them: driven step by step) ----


def _cancelled(*codes: str) -> ClientError:
    reasons: list[Any] = [{"Code": code} for code in codes]
    return ClientError(
        {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
        "TransactWriteItems",
    )


def test_a_transaction_cancelled_by_a_conflict_is_sent_again_with_a_new_token(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    writer = sync_repo(dynamodb_client, table_name)
    plan = TransactionPlan(RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0))
    plan.put(writer, example("a"))
    flow = transact_write_flow(plan)
    first = next(flow)
    assert isinstance(first, Call)
    assert isinstance(flow.throw(_cancelled("TransactionConflict")), Sleep)
    second = next(flow)
    assert isinstance(second, Call)
    assert second.request["ClientRequestToken"] != first.request["ClientRequestToken"]
    with pytest.raises(StopIteration):
        flow.send({})


def test_a_transaction_conflicting_past_its_retries_raises_a_throttled_cancellation(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    writer = sync_repo(dynamodb_client, table_name)
    plan = TransactionPlan(RetryPolicy(max_attempts=1))
    plan.put(writer, example("a"))
    flow = transact_write_flow(plan)
    next(flow)
    with pytest.raises(TransactionCanceledError) as raised:
        flow.throw(_cancelled("TransactionConflict"))
    assert raised.value.kind is ErrorKind.THROTTLED
    assert raised.value.failures[0].code == "TransactionConflict"


def test_an_empty_transaction_sends_nothing(table_name: str) -> None:
    class NoClient:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} called")

    assert run(NoClient(), transact_write_flow(TransactionPlan())) is None

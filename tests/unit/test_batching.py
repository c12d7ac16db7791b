"""Batch plans driven with fake DynamoDB answers: chunks, retries, and exactly what was left."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pydantic_dynamo import RetryPolicy, UnprocessedItemsError
from pydantic_dynamo.batching import BatchGetPlan, BatchWritePlan, WriteEntry

TABLE = "records"
PK = "PARTITION_KEY"
SK = "SORT_KEY"
Item = dict[str, Any]


class CeilingRandom(random.Random):
    """Jitter that always picks the longest wait, so the backoff ceiling is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=0.5, rng=CeilingRandom())


def key(index: int) -> Item:
    return {PK: {"S": "p"}, SK: {"S": f"c#{index:04d}"}}


def put_entry(index: int, origin: str | None = None) -> WriteEntry[str]:
    item = {**key(index), "value": {"N": str(index)}}
    return WriteEntry(
        ("p", f"c#{index:04d}"), {"PutRequest": {"Item": item}}, origin or f"content-{index}"
    )


def delete_entry(index: int) -> WriteEntry[str]:
    return WriteEntry(
        ("p", f"c#{index:04d}"), {"DeleteRequest": {"Key": key(index)}}, f"key-{index}"
    )


def write_plan(entries: list[WriteEntry[str]], policy: RetryPolicy) -> BatchWritePlan[str]:
    return BatchWritePlan(TABLE, PK, SK, entries, policy)


def get_plan(count: int, policy: RetryPolicy, consistent: bool = False) -> BatchGetPlan[int]:
    return BatchGetPlan(TABLE, PK, SK, [(key(i), i) for i in range(count)], consistent, policy)


def throttled(code: str = "ProvisionedThroughputExceededException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "slow down"}}, "BatchWriteItem")


def writes_of(request: Item) -> list[Item]:
    writes: list[Item] = request["RequestItems"][TABLE]
    return writes


def sort_values_of_writes(request: Item) -> list[str]:
    result = []
    for write in writes_of(request):
        body = (
            write["PutRequest"]["Item"] if "PutRequest" in write else write["DeleteRequest"]["Key"]
        )
        result.append(body[SK]["S"])
    return result


def unprocessed(writes: list[Item]) -> Item:
    return {"UnprocessedItems": {TABLE: writes}}


class FakeTable:
    """Answers BatchWriteItem requests with a rule choosing which writes go unprocessed."""

    def __init__(self, leave: Callable[[int, list[Item]], list[Item]]) -> None:
        self.leave = leave
        self.written: set[str] = set()
        self.requests = 0

    def answer(self, request: Item) -> Item:
        self.requests += 1
        writes = writes_of(request)
        left = self.leave(self.requests, writes)
        left_ids = {id(w) for w in left}
        for write in writes:
            if id(write) not in left_ids:
                self.written.add(write["PutRequest"]["Item"][SK]["S"])
        return unprocessed(left) if left else {}


def drive_writes(plan: BatchWritePlan[str], table: FakeTable) -> list[float]:
    delays = []
    while (request := plan.next_request()) is not None:
        delays.append(plan.on_response(table.answer(request)))
    return delays


# -- BatchWritePlan ------------------------------------------------------------------------------


def test_writes_go_in_chunks_of_25(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(i) for i in range(60)], policy)
    sizes = []
    while (request := plan.next_request()) is not None:
        sizes.append(len(writes_of(request)))
        assert plan.on_response({}) == 0.0
    assert sizes == [25, 25, 10]
    assert plan.requests_sent == 3


def test_write_request_names_the_table_and_keeps_the_order(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(i) for i in range(3)], policy)
    request = plan.next_request()
    assert request is not None
    assert list(request) == ["RequestItems"]
    assert sort_values_of_writes(request) == ["c#0000", "c#0001", "c#0002"]


def test_no_entries_means_no_request(policy: RetryPolicy) -> None:
    assert write_plan([], policy).next_request() is None


def test_exactly_25_entries_take_one_request(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(i) for i in range(25)], policy)
    assert plan.next_request() is not None
    plan.on_response({})
    assert plan.next_request() is None


def test_entries_with_one_key_are_written_once_the_last_winning(policy: RetryPolicy) -> None:
    entries = [put_entry(1, "first"), put_entry(2), put_entry(1, "last")]
    plan = write_plan(entries, policy)
    request = plan.next_request()
    assert request is not None
    assert sorted(sort_values_of_writes(request)) == ["c#0001", "c#0002"]
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_error("ValidationException", throttled("ValidationException"))
    assert sorted(caught.value.items) == ["content-2", "last"]


def test_unprocessed_writes_are_sent_again_first(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(i) for i in range(30)], policy)
    first = plan.next_request()
    assert first is not None
    left = writes_of(first)[3:5]
    plan.on_response(unprocessed(left))
    second = plan.next_request()
    assert second is not None
    assert sort_values_of_writes(second) == ["c#0003", "c#0004"] + [
        f"c#{i:04d}" for i in range(25, 30)
    ]


def test_unprocessed_writes_wait_with_exponential_backoff(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(0)], policy)
    delays = []
    for _ in range(3):
        request = plan.next_request()
        assert request is not None
        delays.append(plan.on_response(unprocessed(writes_of(request))))
    assert delays == [0.1, 0.2, 0.4]


def test_backoff_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=0.1, max_delay=0.3, rng=CeilingRandom())
    plan = write_plan([put_entry(0)], policy)
    delays = []
    for _ in range(5):
        request = plan.next_request()
        assert request is not None
        delays.append(plan.on_response(unprocessed(writes_of(request))))
    assert delays == [0.1, 0.2, 0.3, 0.3, 0.3]


def test_backoff_is_jittered_below_the_ceiling() -> None:
    policy = RetryPolicy(max_attempts=50, base_delay=0.1, max_delay=1.0, rng=random.Random(7))
    plan = write_plan([put_entry(0)], policy)
    delays = []
    for attempt in range(1, 30):
        request = plan.next_request()
        assert request is not None
        delay = plan.on_response(unprocessed(writes_of(request)))
        assert 0.0 <= delay <= min(1.0, 0.1 * 2 ** (attempt - 1))
        delays.append(delay)
    assert len(set(delays)) > 1


def test_a_fully_processed_response_resets_the_attempts(policy: RetryPolicy) -> None:
    # max_attempts=4: three failures, a success, three more failures never give up.
    plan = write_plan([put_entry(i) for i in range(60)], policy)
    answers = ["fail", "fail", "fail", "ok", "fail", "fail", "fail", "ok", "ok"]
    for answer in answers:
        request = plan.next_request()
        assert request is not None
        plan.on_response(unprocessed(writes_of(request)) if answer == "fail" else {})
    assert plan.next_request() is None


def test_no_write_is_lost_when_some_are_left_unprocessed(policy: RetryPolicy) -> None:
    # Every other request leaves its last three writes unprocessed.
    table = FakeTable(lambda n, writes: writes[-3:] if n % 2 else [])
    plan = write_plan([put_entry(i) for i in range(100)], policy)
    delays = drive_writes(plan, table)
    assert table.written == {f"c#{i:04d}" for i in range(100)}
    assert sum(1 for d in delays if d > 0) == sum(1 for n in range(1, table.requests + 1) if n % 2)


def test_giving_up_reports_exactly_the_writes_not_made(policy: RetryPolicy) -> None:
    # The table never takes the first write of a request: the plan runs out of attempts.
    table = FakeTable(lambda n, writes: writes[:1])
    plan = write_plan([put_entry(i) for i in range(60)], policy)
    with pytest.raises(UnprocessedItemsError) as caught:
        drive_writes(plan, table)
    not_written = {f"content-{i}" for i in range(60)} - {
        f"content-{int(sk.removeprefix('c#'))}" for sk in table.written
    }
    assert sorted(caught.value.items) == sorted(not_written)
    assert caught.value.attempts == 4
    assert plan.next_request() is None


def test_giving_up_reports_the_writes_never_sent(policy: RetryPolicy) -> None:
    table = FakeTable(lambda n, writes: list(writes))
    plan = write_plan([put_entry(i) for i in range(60)], policy)
    with pytest.raises(UnprocessedItemsError) as caught:
        drive_writes(plan, table)
    assert table.written == set()
    assert sorted(caught.value.items) == sorted(f"content-{i}" for i in range(60))


def test_unprocessed_deletes_are_sent_again(policy: RetryPolicy) -> None:
    plan = write_plan([delete_entry(i) for i in range(3)], policy)
    first = plan.next_request()
    assert first is not None
    plan.on_response(unprocessed(writes_of(first)[1:2]))
    second = plan.next_request()
    assert second is not None
    assert writes_of(second) == [{"DeleteRequest": {"Key": key(1)}}]


def test_giving_up_on_deletes_reports_their_keys() -> None:
    plan = write_plan([delete_entry(i) for i in range(2)], RetryPolicy(max_attempts=1))
    request = plan.next_request()
    assert request is not None
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_response(unprocessed(writes_of(request)[1:]))
    assert caught.value.items == ["key-1"]


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    ],
)
def test_throttled_write_chunk_is_sent_again_after_a_wait(policy: RetryPolicy, code: str) -> None:
    plan = write_plan([put_entry(i) for i in range(30)], policy)
    first = plan.next_request()
    assert first is not None
    assert plan.on_error(code, throttled(code)) == 0.1
    again = plan.next_request()
    assert again == first


def test_throttling_until_out_of_attempts_reports_every_unwritten_entry(
    policy: RetryPolicy,
) -> None:
    plan = write_plan([put_entry(i) for i in range(30)], policy)
    first = plan.next_request()
    assert first is not None
    plan.on_response({})  # the first 25 are written
    error = throttled()
    for _ in range(3):
        assert plan.next_request() is not None
        plan.on_error("ThrottlingException", error)
    assert plan.next_request() is not None
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_error("ThrottlingException", error)
    assert sorted(caught.value.items) == sorted(f"content-{i}" for i in range(25, 30))
    assert caught.value.__cause__ is error
    assert plan.requests_sent == 1 + 4


def test_non_retryable_error_raises_with_the_chunk_and_the_pending(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(i) for i in range(60)], policy)
    assert plan.next_request() is not None
    plan.on_response({})  # 0..24 written
    assert plan.next_request() is not None
    error = throttled("ValidationException")
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_error("ValidationException", error)
    assert sorted(caught.value.items) == sorted(f"content-{i}" for i in range(25, 60))
    assert caught.value.__cause__ is error
    assert "ValidationException" in str(caught.value)
    assert plan.next_request() is None


def test_error_without_a_code_raises_with_everything_unwritten(policy: RetryPolicy) -> None:
    plan = write_plan([put_entry(i) for i in range(2)], policy)
    assert plan.next_request() is not None
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_error(None, ConnectionError("reset"))
    assert sorted(caught.value.items) == ["content-0", "content-1"]


# -- BatchGetPlan --------------------------------------------------------------------------------


def keys_of(request: Item) -> list[Item]:
    keys: list[Item] = request["RequestItems"][TABLE]["Keys"]
    return keys


def test_reads_go_in_chunks_of_100(policy: RetryPolicy) -> None:
    plan = get_plan(250, policy)
    sizes = []
    while (request := plan.next_request()) is not None:
        sizes.append(len(keys_of(request)))
        _, delay = plan.on_response({"Responses": {TABLE: []}})
        assert delay == 0.0
    assert sizes == [100, 100, 50]
    assert plan.requests_sent == 3


def test_read_request_carries_the_consistency(policy: RetryPolicy) -> None:
    request = get_plan(1, policy, consistent=True).next_request()
    assert request is not None
    assert request["RequestItems"][TABLE]["ConsistentRead"] is True


def test_duplicate_keys_are_read_once(policy: RetryPolicy) -> None:
    keys = [(key(1), 1), (key(2), 2), (key(1), 3)]
    plan = BatchGetPlan(TABLE, PK, SK, keys, False, policy)
    request = plan.next_request()
    assert request is not None
    assert keys_of(request) == [key(1), key(2)]


def test_found_items_are_returned(policy: RetryPolicy) -> None:
    plan = get_plan(2, policy)
    assert plan.next_request() is not None
    found = [{**key(0), "v": {"N": "1"}}]
    items, delay = plan.on_response({"Responses": {TABLE: found}})
    assert items == found
    assert delay == 0.0


def test_unprocessed_keys_are_read_again_after_a_wait(policy: RetryPolicy) -> None:
    plan = get_plan(150, policy)
    first = plan.next_request()
    assert first is not None
    left = keys_of(first)[10:12]
    _, delay = plan.on_response(
        {"Responses": {TABLE: []}, "UnprocessedKeys": {TABLE: {"Keys": left}}}
    )
    assert delay == 0.1
    second = plan.next_request()
    assert second is not None
    assert keys_of(second)[:2] == left
    assert len(keys_of(second)) == 52


def leave_unread(plan: BatchGetPlan[int], count: int | None) -> None:
    """Answer every request of ``plan``, leaving its first ``count`` keys (None: all) unread."""
    while (request := plan.next_request()) is not None:
        keys = keys_of(request)
        left = keys if count is None else keys[:count]
        plan.on_response({"Responses": {TABLE: []}, "UnprocessedKeys": {TABLE: {"Keys": left}}})


def test_giving_up_on_reads_reports_the_keys_not_read(policy: RetryPolicy) -> None:
    plan = get_plan(150, policy)
    with pytest.raises(UnprocessedItemsError) as caught:
        leave_unread(plan, 5)
    # Keys 0..4 stay unread through four tries; 5..149 were read along the way.
    assert sorted(caught.value.items) == [0, 1, 2, 3, 4]
    assert caught.value.attempts == 4


def test_giving_up_on_reads_reports_the_keys_never_sent(policy: RetryPolicy) -> None:
    plan = get_plan(250, policy)
    with pytest.raises(UnprocessedItemsError) as caught:
        leave_unread(plan, None)
    assert sorted(caught.value.items) == list(range(250))
    assert plan.requests_sent == 4


def test_giving_up_on_reads_hands_over_the_items_of_the_last_response_first() -> None:
    plan = get_plan(3, RetryPolicy(max_attempts=1))
    request = plan.next_request()
    assert request is not None
    found = [{**key(0), "v": {"N": "1"}}]
    unread = {TABLE: {"Keys": keys_of(request)[1:]}}
    items, _ = plan.on_response({"Responses": {TABLE: found}, "UnprocessedKeys": unread})
    assert items == found
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.next_request()
    assert sorted(caught.value.items) == [1, 2]


def test_throttled_read_is_sent_again(policy: RetryPolicy) -> None:
    plan = get_plan(3, policy)
    first = plan.next_request()
    assert plan.on_error("ThrottlingException", throttled("ThrottlingException")) == 0.1
    assert plan.next_request() == first


def test_non_retryable_read_error_raises_with_the_keys_not_read(policy: RetryPolicy) -> None:
    plan = get_plan(120, policy)
    assert plan.next_request() is not None
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_error("ResourceNotFoundException", throttled("ResourceNotFoundException"))
    assert sorted(caught.value.items) == list(range(120))


# -- RetryPolicy ---------------------------------------------------------------------------------


def test_retry_policy_refuses_zero_attempts() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_retry_policy_refuses_negative_delays() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base_delay=-1)

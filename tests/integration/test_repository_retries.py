"""Unprocessed batch work and throttling, injected with botocore hooks: nothing is ever lost."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from botocore.exceptions import ClientError

from pydantic_dynamo import BatchResponse, RetryPolicy, UnprocessedItemsError
from tests.integration.harness import Faults, Item, RepoFactory, Repository, Traffic
from tests.integration.support import (
    Example,
    ExampleContent,
    contents_of,
    every_id,
    ids_of,
    numbered,
)


def sort_value(entry: Item) -> str:
    """The sort key value of a write request or of a key."""
    body = entry.get("PutRequest", {}).get("Item") or entry.get("DeleteRequest", {}).get("Key")
    value: str = (body or entry)["SORT_KEY"]["S"]
    return value


def content_ids(contents: list[ExampleContent]) -> list[str]:
    return sorted(content.content_ids[0] for content in contents)


def drain(batches: Iterable[BatchResponse[Example]], into: list[str]) -> None:
    """Collect the ids of every batch into ``into`` until the batches end or raise."""
    for batch in batches:
        into.extend(ids_of([batch]))


# -- writes --------------------------------------------------------------------------------------


def test_unprocessed_writes_are_retried_until_written(
    patient: Repository[Example], faults: Faults, traffic: Traffic
) -> None:
    # The first two requests each leave their last five writes unprocessed.
    faults.hold_back_writes(lambda call, writes: writes[-5:] if call <= 2 else [])
    patient.put_batch(numbered(60))
    assert ids_of(patient.list(["films"], None)) == every_id(60)
    # Held-back writes go first in the next request: 25 + 25 + (5 + 15).
    assert traffic.sent["BatchWriteItem"] == 3


def test_a_fully_unprocessed_request_costs_exactly_one_more(
    patient: Repository[Example], faults: Faults, traffic: Traffic
) -> None:
    faults.hold_back_writes(lambda call, writes: writes if call == 1 else [])
    patient.put_batch(numbered(60))
    assert ids_of(patient.list(["films"], None)) == every_id(60)
    assert traffic.calls["BatchWriteItem"] == 4
    assert traffic.sent["BatchWriteItem"] == 3  # the held-back call never reached DynamoDB


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_throttled_batch_writes_are_retried(
    patient: Repository[Example], faults: Faults, traffic: Traffic, code: str
) -> None:
    faults.throttle("BatchWriteItem", lambda call: call in (1, 3), code)
    patient.put_batch(numbered(60))
    assert ids_of(patient.list(["films"], None)) == every_id(60)
    assert traffic.calls["BatchWriteItem"] == 3 + 2
    assert traffic.sent["BatchWriteItem"] == 3


def test_giving_up_on_writes_reports_exactly_the_contents_not_written(
    patient: Repository[Example], faults: Faults
) -> None:
    stubborn = {"example#00003", "example#00030", "example#00047"}
    faults.hold_back_writes(lambda call, writes: [w for w in writes if sort_value(w) in stubborn])
    contents = numbered(100)
    with pytest.raises(UnprocessedItemsError) as caught:
        patient.put_batch(contents)
    written = ids_of(patient.list(["films"], None))
    assert sorted(content_ids(caught.value.items) + written) == every_id(100)
    assert set(content_ids(caught.value.items)).isdisjoint(written)
    assert {"00003", "00030", "00047"} <= set(content_ids(caught.value.items))
    # Some contents were never sent at all: they are reported too.
    assert len(caught.value.items) > 3
    assert all(item in contents for item in caught.value.items)


def test_giving_up_after_throttling_reports_every_content_not_written(
    patient: Repository[Example], faults: Faults
) -> None:
    faults.throttle("BatchWriteItem", lambda call: call >= 2)
    with pytest.raises(UnprocessedItemsError) as caught:
        patient.put_batch(numbered(60))
    assert content_ids(caught.value.items) == every_id(60)[25:]
    assert ids_of(patient.list(["films"], None)) == every_id(25)
    assert isinstance(caught.value.__cause__, ClientError)


def test_non_retryable_error_reports_every_content_not_written(
    patient: Repository[Example], faults: Faults, traffic: Traffic
) -> None:
    faults.throttle("BatchWriteItem", lambda call: call == 2, "ValidationException")
    with pytest.raises(UnprocessedItemsError) as caught:
        patient.put_batch(numbered(60))
    assert content_ids(caught.value.items) == every_id(60)[25:]
    assert traffic.calls["BatchWriteItem"] == 2


def test_delete_by_prefix_retries_unprocessed_deletes(
    patient: Repository[Example], faults: Faults
) -> None:
    patient.put_batch(numbered(40))
    faults.hold_back_writes(lambda call, writes: writes[:3] if call == 1 else [])
    patient.delete(["films"], None)
    assert ids_of(patient.list(["films"], None)) == []


# -- reads ---------------------------------------------------------------------------------------


def test_unprocessed_keys_are_read_again(
    patient: Repository[Example], faults: Faults, traffic: Traffic
) -> None:
    patient.put_batch(numbered(150))
    faults.hold_back_reads(lambda call, keys: keys[:10] if call == 1 else [])
    found = ids_of(patient.get_batch([(["films"], [i]) for i in every_id(150)]))
    assert sorted(found) == every_id(150)
    assert traffic.sent["BatchGetItem"] == 2  # 10 held back fit with the last 50 keys


def test_a_fully_unprocessed_read_is_sent_again(
    patient: Repository[Example], faults: Faults, traffic: Traffic
) -> None:
    patient.put_batch(numbered(30))
    faults.hold_back_reads(lambda call, keys: keys if call == 1 else [])
    found = ids_of(patient.get_batch([(["films"], [i]) for i in every_id(30)]))
    assert sorted(found) == every_id(30)
    assert traffic.calls["BatchGetItem"] == 2


def test_throttled_batch_reads_are_retried(
    patient: Repository[Example], faults: Faults, traffic: Traffic
) -> None:
    patient.put_batch(numbered(150))
    faults.throttle("BatchGetItem", lambda call: call == 1)
    found = ids_of(patient.get_batch([(["films"], [i]) for i in every_id(150)]))
    assert sorted(found) == every_id(150)
    assert traffic.calls["BatchGetItem"] == 3


def test_giving_up_on_reads_reports_exactly_the_keys_not_returned(
    repo_factory: RepoFactory, faults: Faults
) -> None:
    repo = repo_factory(Example, retry_policy=RetryPolicy(max_attempts=2, base_delay=0.001))
    repo.put_batch(numbered(150))
    faults.hold_back_reads(lambda call, keys: [k for k in keys if sort_value(k) == "example#00007"])
    returned: list[str] = []
    with pytest.raises(UnprocessedItemsError) as caught:
        drain(repo.get_batch([(["films"], [i]) for i in every_id(150)]), returned)
    not_read = sorted(ids[0] for _, ids in caught.value.items)
    assert not_read == ["00007"]
    assert sorted(returned + not_read) == every_id(150)


def test_put_batch_contents_survive_retries_unchanged(
    patient: Repository[Example], faults: Faults
) -> None:
    faults.hold_back_writes(lambda call, writes: writes[::2] if call <= 2 else [])
    contents = numbered(30, padding=10)
    patient.put_batch(contents)
    assert contents_of(patient.list(["films"], None)) == contents

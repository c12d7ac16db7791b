"""Write-once end to end: offered contents are written once and announced exactly once.

A capture queue behind an extra rule on the bus (``RecordsWritten`` from the service's source)
receives every announcement, as a downstream consumer would.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from records_service import names
from tests.e2e.conftest import ApiClient, drain, put_events, wait_for
from tests.e2e.stack_process import RunningStack

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

ANNOUNCE_TIMEOUT_SECONDS = 60.0
# After the expected announcements, wait this long for any unexpected extra one.
QUIET_SECONDS = 4.0


class Capture:
    """Collects ``RecordsWritten`` announcements from a capture queue."""

    def __init__(self, sqs: SQSClient, url: str) -> None:
        self._sqs = sqs
        self._url = url
        self.announced: list[tuple[str, str]] = []  # (content id, item name) per announcement

    def poll(self, quiet_seconds: float = 0.5) -> None:
        """Receive what has arrived so far."""
        for body in drain(self._sqs, self._url, quiet_seconds=quiet_seconds):
            event = json.loads(body)
            assert event["detail-type"] == names.DETAIL_TYPE_WRITTEN
            detail = event["detail"]
            assert "references" not in detail, "small contents are announced in full"
            for content in detail["contents"]:
                self.announced.append((content["content_ids"][0], content["item"]["name"]))

    def of(self, ids: set[str]) -> Counter[tuple[str, str]]:
        """How often each (id, name) among ``ids`` was announced."""
        return Counter(entry for entry in self.announced if entry[0] in ids)


@pytest.fixture(scope="module")
def capture(
    local_stack: RunningStack, sqs: SQSClient, events: EventBridgeClient
) -> Iterator[Capture]:
    """A queue receiving every RecordsWritten event of the bus."""
    name = f"written-capture-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": [names.EVENT_SOURCE], "detail-type": [names.DETAIL_TYPE_WRITTEN]}
    events.put_rule(Name=name, EventBusName=local_stack.bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=name, EventBusName=local_stack.bus_name, Targets=[{"Id": "capture", "Arn": arn}]
    )
    yield Capture(sqs, url)
    events.remove_targets(Rule=name, EventBusName=local_stack.bus_name, Ids=["capture"])
    events.delete_rule(Name=name, EventBusName=local_stack.bus_name)


def _actor(actor_id: str, name: str) -> dict[str, Any]:
    return {
        "partition_ids": [],
        "content_ids": [actor_id],
        "item": {"id": actor_id, "name": name, "review": None},
    }


def _offer(
    events: EventBridgeClient, bus: str, contents: list[dict[str, Any]], per_event: int
) -> None:
    details = [
        json.dumps({"content_type": "actor", "contents": contents[i : i + per_event]})
        for i in range(0, len(contents), per_event)
    ]
    put_events(events, bus, names.DETAIL_TYPE_OFFERED, details)


def _await_announcements(capture: Capture, expected: Counter[tuple[str, str]]) -> None:
    ids = {content_id for content_id, _ in expected}

    def arrived() -> bool | None:
        capture.poll()
        return True if sum(capture.of(ids).values()) >= sum(expected.values()) else None

    wait_for(arrived, timeout=ANNOUNCE_TIMEOUT_SECONDS, what=f"{len(expected)} announcements")
    capture.poll(quiet_seconds=QUIET_SECONDS)
    assert capture.of(ids) == expected


def test_new_contents_are_announced_once_and_repeats_not_again(
    local_stack: RunningStack, api: ApiClient, events: EventBridgeClient, capture: Capture
) -> None:
    run = uuid.uuid4().hex[:10]
    first = [_actor(f"offer-{run}-{n:02d}", f"Actor {n}") for n in range(12)]

    _offer(events, local_stack.bus_name, first, per_event=5)
    _await_announcements(capture, Counter((c["content_ids"][0], c["item"]["name"]) for c in first))

    changed = {**first[0], "item": {**first[0]["item"], "name": "Renamed"}}
    new = [_actor(f"offer-{run}-{n:02d}", f"Actor {n}") for n in range(12, 15)]
    second = [changed, *first[1:], *new]
    _offer(events, local_stack.bus_name, second, per_event=4)

    expected = Counter((c["content_ids"][0], c["item"]["name"]) for c in [*first, changed, *new])
    _await_announcements(capture, expected)
    stored = api.request(
        "GET", "/records/actor/item", params={"content_id": changed["content_ids"][0]}
    )
    assert stored.json()["item"]["name"] == "Renamed"


def test_a_content_offered_twice_at_once_is_announced_once(
    local_stack: RunningStack, events: EventBridgeClient, capture: Capture
) -> None:
    run = uuid.uuid4().hex[:10]
    contents = [_actor(f"twice-{run}-{n}", f"Twin {n}") for n in range(3)]

    # The same three contents in two events of one PutEvents call: usually one SQS batch.
    _offer(events, local_stack.bus_name, contents + contents, per_event=3)

    _await_announcements(
        capture, Counter((c["content_ids"][0], c["item"]["name"]) for c in contents)
    )

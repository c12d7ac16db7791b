"""Ingestion end to end: bus -> rule -> queue -> batch writer -> table, DLQ for the bad ones.

One hundred messages, a tenth of them malformed, go in through both doors (EventBridge
PutEvents and straight into the queue). Every valid content must be written, every malformed
message must land in the dead-letter queue after ``maxReceiveCount`` receives, and nothing may
be left over or lost.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from records_service import names, topology
from tests.e2e.conftest import ApiClient, put_events, wait_for
from tests.e2e.stack_process import RunningStack

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

MESSAGES = 100
MALFORMED = 10
SETTLE_TIMEOUT_SECONDS = 60.0


def _actor(actor_id: str) -> dict[str, Any]:
    return {
        "partition_ids": [],
        "content_ids": [actor_id],
        "item": {"id": actor_id, "name": f"Actor {actor_id}", "review": None},
    }


def _malformed(marker: str) -> list[tuple[str, str]]:
    """(door, body) pairs, one per kind of mistake, each body carrying ``marker-N``."""

    def detail(content_type: str = "actor", **fields: Any) -> str:
        return json.dumps({"content_type": content_type, **fields})

    def one(key: str, partition_ids: Any = None, **item: Any) -> list[dict[str, Any]]:
        partition = [] if partition_ids is None else partition_ids
        return [{"partition_ids": partition, "content_ids": [key], "item": item}]

    return [
        ("bus", detail("film", contents=[_actor(f"{marker}-0")])),  # unknown content type
        ("bus", detail(contents=one(f"{marker}-1", id="a"))),  # item without its name
        ("bus", detail(contents=one(f"{marker}-2", id="a", name="b", stage="?"))),  # extra field
        ("bus", detail(contents=f"{marker}-3 is not a list")),
        ("bus", detail(contents=one("k", partition_ids=f"{marker}-4", id="a", name="b"))),  # str
        ("bus", detail(marker=f"{marker}-5")),  # no contents at all
        ("queue", f"{marker}-6 this is not JSON {{"),
        ("queue", json.dumps([f"{marker}-7"])),  # JSON, but not an object
        ("queue", detail(contents=one(f"{marker}-8", id="a", name=42))),  # name of a wrong type
        ("queue", detail(contents=[], note=f"{marker}-9")),  # an empty list of contents
    ]


def _queue_depth(sqs: SQSClient, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_valid_messages_are_written_and_malformed_ones_end_in_the_dlq(
    local_stack: RunningStack, api: ApiClient, sqs: SQSClient, events: EventBridgeClient
) -> None:
    route = topology.BATCH_WRITER
    queue = local_stack.queue(route.name)
    run = uuid.uuid4().hex[:10]
    marker = f"malformed-{run}"
    bad = _malformed(marker)
    assert len(bad) == MALFORMED
    valid_ids = [f"ingest-{run}-{n:03d}" for n in range(MESSAGES - MALFORMED)]
    valid = [json.dumps({"content_type": "actor", "contents": [_actor(i)]}) for i in valid_ids]
    # A tenth of the valid messages skip EventBridge too: the same detail straight to SQS.
    direct, via_bus = valid[:9], valid[9:]

    bus_bodies = [body for door, body in bad if door == "bus"]
    put_events(events, local_stack.bus_name, names.DETAIL_TYPE_SUBMITTED, via_bus + bus_bodies)
    for body in direct + [body for door, body in bad if door == "queue"]:
        sqs.send_message(QueueUrl=queue["url"], MessageBody=body)

    def all_written() -> bool | None:
        keys = [{"partition_ids": [], "content_ids": [i]} for i in valid_ids]
        response = api.request("POST", "/records/actor/batch-get", json={"keys": keys})
        assert response.status_code == 200, response.text
        return True if not response.json()["missing"] else None

    wait_for(all_written, timeout=SETTLE_TIMEOUT_SECONDS, what="every valid content written")

    def dlq_full() -> bool | None:
        visible, in_flight = _queue_depth(sqs, queue["dlq_url"])
        return True if visible + in_flight >= MALFORMED else None

    wait_for(dlq_full, timeout=SETTLE_TIMEOUT_SECONDS, what=f"{MALFORMED} messages in the DLQ")

    dead: list[dict[str, Any]] = []
    while len(dead) < MALFORMED + 1:
        received = sqs.receive_message(
            QueueUrl=queue["dlq_url"],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        if not received:
            break
        dead.extend(received)  # type: ignore[arg-type]
    bodies = [message["Body"] for message in dead]
    for n in range(MALFORMED):
        tag = f"{marker}-{n}"
        assert sum(tag in body for body in bodies) == 1, f"{tag} in the DLQ: {bodies}"
    assert len(dead) == MALFORMED
    assert not any(valid_id in body for valid_id in valid_ids for body in bodies)
    receives = [int(message["Attributes"]["ApproximateReceiveCount"]) for message in dead]
    assert min(receives) >= route.max_receive_count, receives
    assert _queue_depth(sqs, queue["url"]) == (0, 0)

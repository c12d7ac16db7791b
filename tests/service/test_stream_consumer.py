"""The stream consumer: the table's changes announced as ``RecordsChanged`` events on the bus.

The records are built as Lambda delivers them (images encoded by the content types' own
repository cores); the bus is moto's, and a rule on it sends every ``RecordsChanged`` event to
a catching queue, as a downstream consumer would receive it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from pydantic_dynamo import PartitionedContent
from pydantic_dynamo.operations import utc_timestamp
from pydantic_dynamo.streams import TTL_IDENTITY
from records_service import clients, names
from records_service.content_types import ActorReview, FilmActor, content_type
from records_service.putevents import MAX_ENTRIES_PER_CALL, MAX_ENTRY_BYTES
from records_service.repositories import content_core
from records_service.settings import Settings
from stream_consumer.app import build_handler
from tests.service.helpers import BUS_NAME, REGION, FakeLambdaContext, Handler
from write_once_deduper.pending import PENDING, PendingAnnouncement

ACTOR = content_type("actor")
REVIEW = content_type("review")
STREAM_ARN = f"arn:aws:dynamodb:{REGION}:123456789012:table/records/stream/2024-01-01T00:00:00"


@dataclass
class Bus:
    """A bus on moto and a queue receiving every RecordsChanged event put on it."""

    name: str
    sqs: Any
    queue_url: str

    def changes(self) -> list[dict[str, Any]]:
        """Every RecordsChanged event delivered so far (drains the queue)."""
        events: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> Iterator[Bus]:
    """The bus, its catching queue, and the variables the consumer reads."""
    for key, value in {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": moto_server,
        "AWS_ENDPOINT_URL_SQS": moto_server,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(names.ENV_EVENTS_ENDPOINT, raising=False)
    suffix = uuid.uuid4().hex[:12]
    bus_name = f"{BUS_NAME}-{suffix}"
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    events.create_event_bus(Name=bus_name)
    queue_url = sqs.create_queue(QueueName=f"changed-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    pattern = {"source": [names.EVENT_SOURCE], "detail-type": [names.DETAIL_TYPE_CHANGED]}
    events.put_rule(Name="changed", EventBusName=bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="changed", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": queue_arn}]
    )
    monkeypatch.setenv(names.ENV_TABLE_NAME, "records")
    monkeypatch.setenv(names.ENV_EVENT_BUS_NAME, bus_name)
    monkeypatch.setattr(time, "sleep", lambda _: None)  # the retries' backoff
    clients.clear_clients()
    try:
        yield Bus(bus_name, sqs, queue_url)
    finally:
        clients.clear_clients()


def _consumer(events: Any = None) -> Handler:
    """The consumer as deployed (the container's lean EventBridge client), or over ``events``."""
    settings = Settings.from_env(require_event_bus=True)
    if events is None:
        return build_handler(settings)
    return build_handler(settings, events=lambda: events)


# -- stream records, as Lambda delivers them ---------------------------------------------------


def _actor(actor_id: str, name: str = "Steve Buscemi", version: int = 1) -> PartitionedContent[Any]:
    return PartitionedContent[FilmActor](
        partition_ids=[],
        content_ids=[actor_id],
        item=FilmActor(id=actor_id, name=name),
        current_version=version,
    )


def _review(actor_id: str, text: str) -> PartitionedContent[Any]:
    created = datetime(2024, 3, 1, tzinfo=UTC)
    return PartitionedContent[ActorReview](
        partition_ids=[actor_id],
        content_ids=[created.isoformat()],
        item=ActorReview(id="r1", actor_id=actor_id, created=created, review=text),
    )


def _image(content: PartitionedContent[Any]) -> dict[str, Any]:
    kind = REVIEW if isinstance(content.item, ActorReview) else ACTOR
    if isinstance(content.item, PendingAnnouncement):
        kind = PENDING
    return content_core(kind, "records").encode(content, utc_timestamp())


def _record(
    event_name: str,
    *,
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
    ttl: bool = False,
    sequence: str | None = None,
) -> dict[str, Any]:
    image = new if new is not None else old
    assert image is not None
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_700_000_000,
        "Keys": {name: image[name] for name in (names.PARTITION_KEY, names.SORT_KEY)},
        "SequenceNumber": sequence or str(uuid.uuid4().int)[:21],
        "SizeBytes": 100,
        "StreamViewType": names.TABLE_STREAM_VIEW_TYPE,
    }
    if new is not None:
        stream["NewImage"] = new
    if old is not None:
        stream["OldImage"] = old
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": stream,
        "eventSourceARN": STREAM_ARN,
    }
    if ttl:
        record["userIdentity"] = dict(TTL_IDENTITY)
    return record


def _event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def _failed(response: Any) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def _details(bus: Bus) -> list[dict[str, Any]]:
    events = bus.changes()
    assert all(e["detail-type"] == names.DETAIL_TYPE_CHANGED for e in events)
    assert all(e["source"] == names.EVENT_SOURCE for e in events)
    return [e["detail"] for e in events]


# -- every kind of change -----------------------------------------------------------------------


def test_an_insert_is_announced_with_the_new_content_as_the_api_serializes_it(bus: Bus) -> None:
    record = _record("INSERT", new=_image(_actor("a1")), sequence="111")

    response = _consumer()(_event(record), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert _details(bus) == [
        {
            "content_type": "actor",
            "change": "inserted",
            "partition_ids": [],
            "content_ids": ["a1"],
            "version": 1,
            "sequence_number": "111",
            "event_id": record["eventID"],
            "images_omitted": False,
            "new": {
                "partition_ids": [],
                "content_ids": ["a1"],
                "item": {"id": "a1", "name": "Steve Buscemi", "review": None},
                "current_version": 1,
                "expiry": None,
            },
            "old": None,
        }
    ]


def test_a_modification_carries_the_old_and_new_contents_and_the_new_version(bus: Bus) -> None:
    old = _image(_actor("a1", "Before", version=1))
    new = _image(_actor("a1", "After", version=2))

    _consumer()(_event(_record("MODIFY", new=new, old=old)), FakeLambdaContext())

    (detail,) = _details(bus)
    assert (detail["change"], detail["version"]) == ("modified", 2)
    assert (detail["old"]["item"]["name"], detail["new"]["item"]["name"]) == ("Before", "After")


def test_a_delete_is_removed_and_a_ttl_deletion_is_expired(bus: Bus) -> None:
    deleted = _record("REMOVE", old=_image(_actor("a1", version=3)))
    expired = _record("REMOVE", old=_image(_review("a1", "old news")), ttl=True)

    _consumer()(_event(deleted, expired), FakeLambdaContext())

    details = sorted(_details(bus), key=lambda d: d["content_type"])
    assert [(d["content_type"], d["change"]) for d in details] == [
        ("actor", "removed"),
        ("review", "expired"),
    ]
    assert [d["new"] for d in details] == [None, None]
    assert details[0]["version"] == 3
    assert details[1]["old"]["item"]["review"] == "old news"
    assert details[1]["partition_ids"] == ["a1"]


# -- what is not announced ------------------------------------------------------------------


def test_internal_bookkeeping_and_foreign_items_are_skipped_not_failed(
    bus: Bus, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = PartitionedContent[PendingAnnouncement](
        partition_ids=["actor"],
        content_ids=["a1"],
        item=PendingAnnouncement(content_type="actor", current_version=1),
    )
    foreign = {
        names.PARTITION_KEY: {"S": "other#thing#x"},
        names.SORT_KEY: {"S": "thing#1"},
        "field": {"S": "v"},
    }
    records = [_record("INSERT", new=_image(marker)), _record("INSERT", new=foreign)]

    records.append(_record("INSERT", new=_image(_actor("a1"))))

    response = _consumer()(_event(*records), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert [d["content_ids"] for d in _details(bus)] == [["a1"]]
    assert '"ChangesSkipped":[2.0]' in capsys.readouterr().out


def test_an_undecodable_image_is_logged_with_its_key_and_counted_never_announced_or_retried(
    bus: Bus, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _image(_actor("bad"))
    broken["unexpected"] = {"S": "the model forbids extra fields"}
    records = [
        _record("INSERT", new=_image(_actor("a1"))),
        _record("INSERT", new=broken, sequence="222"),
        _record("INSERT", new=_image(_actor("a2"))),
    ]

    response = _consumer()(_event(*records), FakeLambdaContext())

    assert response == {"batchItemFailures": []}  # retrying cannot fix it: the shard moves on
    assert sorted(d["content_ids"][0] for d in _details(bus)) == ["a1", "a2"]
    (logged,) = [r for r in caplog.records if getattr(r, "sequence_number", None) == "222"]
    assert logged.levelname == "ERROR"
    key = {names.PARTITION_KEY: "film#actor#", names.SORT_KEY: "actor#bad"}
    assert logged.__dict__["key"] == key
    assert "unexpected" in str(logged.__dict__["reason"])
    assert '"UndecodableChanges":[1.0]' in capsys.readouterr().out


def test_a_change_too_large_for_an_event_is_announced_without_its_images(bus: Bus) -> None:
    text = "x" * (MAX_ENTRY_BYTES // 2)  # each image fits alone, not the two of them
    old = _image(_review("a1", text))
    new = _image(_review("a1", text + "y"))

    response = _consumer()(_event(_record("MODIFY", new=new, old=old)), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    (detail,) = _details(bus)
    assert detail["images_omitted"] is True
    assert (detail["new"], detail["old"]) == (None, None)
    assert (detail["change"], detail["partition_ids"]) == ("modified", ["a1"])
    assert detail["content_ids"] == [datetime(2024, 3, 1, tzinfo=UTC).isoformat()]


# -- PutEvents: batching, retries, failures ---------------------------------------------------


class _Events:
    """A real EventBridge client whose PutEvents refuses the entries of some content ids.

    ``failing[id]`` is how many times more an entry for ``id`` is refused; ``calls`` records
    how many entries each call carried.
    """

    def __init__(self, failing: dict[str, int] | None = None) -> None:
        self._real: Any = clients.events_client()
        self.failing = dict(failing or {})
        self.calls: list[int] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(len(Entries))
        passed: list[dict[str, Any]] = []
        refused: set[int] = set()
        for index, entry in enumerate(Entries):
            content_id = json.loads(entry["Detail"])["content_ids"][0]
            if self.failing.get(content_id, 0) > 0:
                self.failing[content_id] -= 1
                refused.add(index)
            else:
                passed.append(entry)
        accepted = iter(self._real.put_events(Entries=passed)["Entries"] if passed else [])
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            if index in refused
            else next(accepted)
            for index in range(len(Entries))
        ]
        return {"FailedEntryCount": len(refused), "Entries": results}


def test_changes_go_out_ten_entries_a_call(bus: Bus) -> None:
    events = _Events()
    records = [_record("INSERT", new=_image(_actor(f"a{n:02d}"))) for n in range(25)]

    response = _consumer(events)(_event(*records), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert events.calls == [MAX_ENTRIES_PER_CALL, MAX_ENTRIES_PER_CALL, 5]
    assert len(_details(bus)) == 25


def test_refused_entries_are_retried_and_announced_once(bus: Bus) -> None:
    events = _Events(failing={"a1": 2})
    records = [_record("INSERT", new=_image(_actor(a))) for a in ("a0", "a1", "a2")]

    response = _consumer(events)(_event(*records), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert events.calls == [3, 1, 1]
    assert sorted(d["content_ids"][0] for d in _details(bus)) == ["a0", "a1", "a2"]


def test_a_change_putevents_keeps_refusing_is_reported_failed_by_its_sequence_number(
    bus: Bus, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _Events(failing={"a1": 100})
    records = [
        _record("INSERT", new=_image(_actor(f"a{n}")), sequence=f"{n + 1}00") for n in range(3)
    ]

    response = _consumer(events)(_event(*records), FakeLambdaContext())

    assert _failed(response) == ["200"]  # Lambda retries the batch from this record on
    assert events.calls == [3, 1, 1, 1, 1]  # five attempts in all
    assert sorted(d["content_ids"][0] for d in _details(bus)) == ["a0", "a2"]
    assert '"ChangesNotAnnounced":[1.0]' in capsys.readouterr().out


def test_putevents_raising_fails_every_change_of_the_batch(bus: Bus) -> None:
    class Down:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            raise ConnectionError("no route to the bus")

    records = [
        _record("INSERT", new=_image(_actor(f"a{n}")), sequence=f"{n + 1}00") for n in range(2)
    ]

    response = _consumer(Down())(_event(*records), FakeLambdaContext())

    assert _failed(response) == ["100", "200"]
    assert _details(bus) == []


def test_the_retries_stop_before_the_invocation_runs_out_of_time(bus: Bus) -> None:
    events = _Events(failing={"a0": 100})
    context = FakeLambdaContext(remaining_millis=4_000)  # under the sender's 5 s reserve
    started = time.monotonic()

    response = _consumer(events)(
        _event(_record("INSERT", new=_image(_actor("a0")), sequence="100")), context
    )

    assert _failed(response) == ["100"]
    assert events.calls == [1]
    assert time.monotonic() - started < 5

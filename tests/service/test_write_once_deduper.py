"""The write-once deduper: only new or changed contents are written, and exactly those announced."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from pydantic_dynamo import SyncWriteOnceRepository, UnprocessedItemsError
from records_service import clients, names
from records_service.content_types import content_type
from records_service.putevents import MAX_CALL_BYTES, MAX_ENTRIES_PER_CALL
from tests.service.helpers import (
    FakeLambdaContext,
    Function,
    ServiceEnv,
    actor,
    client_error,
    envelope,
    failed_ids,
    review,
    sqs_event,
    sqs_record,
    write_once_deduper,
)
from write_once_deduper.pending import PENDING

OFFERED = names.DETAIL_TYPE_OFFERED


@pytest.fixture
def deduper(service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch) -> Function:
    """The deduper handler, built for this test; retry sleeps (library and publisher) skipped."""
    monkeypatch.setattr(time, "sleep", lambda _: None)
    return write_once_deduper(service_env)


def _offer(*contents: dict[str, Any], kind: str = "actor") -> dict[str, Any]:
    return envelope(OFFERED, {"content_type": kind, "contents": list(contents)})


def _announced_ids(service_env: ServiceEnv) -> list[str]:
    """The content ids of every content announced so far, one entry per announcement."""
    return sorted(
        "/".join(c["content_ids"])
        for event in service_env.announced()
        for c in event["detail"]["contents"]
    )


def _markers(function: Function) -> list[Any]:
    repo = function.repositories.for_type(PENDING)
    return [c for page in repo.list(["actor"], None) for c in page.contents]


class _FlakyEvents:
    """An EventBridge client whose PutEvents fails every entry for its first ``failures`` calls."""

    def __init__(self, real: Any, failures: int) -> None:
        self._real = real
        self.failures = failures
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(Entries)
        if self.failures > 0:
            self.failures -= 1
            failed = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            return {"FailedEntryCount": len(Entries), "Entries": [failed for _ in Entries]}
        result: dict[str, Any] = self._real.put_events(Entries=Entries)
        return result


def _use_events(service_env: ServiceEnv, failures: int) -> _FlakyEvents:
    """Make the deduper's EventBridge client fail every entry of its first ``failures`` calls."""
    flaky = _FlakyEvents(clients.events_client(), failures)
    service_env.events_override = flaky
    return flaky


def test_new_contents_are_written_and_announced_once(
    deduper: Function, service_env: ServiceEnv
) -> None:
    event = sqs_event(sqs_record(_offer(actor("a1"), actor("a2"))), sqs_record(_offer(actor("a3"))))

    response = deduper.handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert _announced_ids(service_env) == ["a1", "a2", "a3"]
    stored = deduper.repositories.for_type(content_type("actor")).get(None, ["a2"]).content
    assert stored is not None


def test_the_announcement_has_the_ingestion_shape(
    deduper: Function, service_env: ServiceEnv
) -> None:
    deduper.handler(sqs_event(sqs_record(_offer(actor("a1")))), FakeLambdaContext())

    (event,) = service_env.announced()
    assert event["source"] == names.EVENT_SOURCE
    assert event["detail-type"] == names.DETAIL_TYPE_WRITTEN
    assert event["detail"] == {
        "content_type": "actor",
        "contents": [
            {
                "partition_ids": [],
                "content_ids": ["a1"],
                "item": {"id": "a1", "name": "Steve Buscemi", "review": None},
                "current_version": 1,
                "expiry": None,
            }
        ],
    }


def test_offering_the_same_contents_again_writes_and_announces_nothing(
    deduper: Function, service_env: ServiceEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = _offer(actor("a1"), actor("a2"))
    deduper.handler(sqs_event(sqs_record(offer)), FakeLambdaContext())
    service_env.announced()
    capsys.readouterr()

    response = deduper.handler(sqs_event(sqs_record(offer)), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert service_env.announced() == []
    assert '"DuplicatesSkipped":[2.0]' in capsys.readouterr().out


def test_only_changed_contents_are_written_and_announced(
    deduper: Function, service_env: ServiceEnv
) -> None:
    deduper.handler(sqs_event(sqs_record(_offer(actor("a1"), actor("a2")))), FakeLambdaContext())
    service_env.announced()

    changed = _offer(actor("a1"), actor("a2", "Renamed"), actor("a3"))
    deduper.handler(sqs_event(sqs_record(changed)), FakeLambdaContext())

    assert _announced_ids(service_env) == ["a2", "a3"]


def test_a_content_offered_by_two_messages_of_a_batch_is_announced_once(
    deduper: Function, service_env: ServiceEnv
) -> None:
    event = sqs_event(sqs_record(_offer(actor("a1"))), sqs_record(_offer(actor("a1"))))

    response = deduper.handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert _announced_ids(service_env) == ["a1"]


def test_a_bare_detail_is_accepted_like_an_event(
    deduper: Function, service_env: ServiceEnv
) -> None:
    bare = {"content_type": "actor", "contents": [actor("a1")]}

    deduper.handler(sqs_event(sqs_record(bare)), FakeLambdaContext())

    assert _announced_ids(service_env) == ["a1"]


def test_an_invalid_message_fails_alone(deduper: Function, service_env: ServiceEnv) -> None:
    event = sqs_event(
        sqs_record(_offer(actor("a1"))),
        sqs_record(
            envelope(names.DETAIL_TYPE_SUBMITTED, {"content_type": "actor", "contents": []}),
            message_id="wrong-type",
        ),
        sqs_record(_offer(actor("k" * 1100)), message_id="bad-key"),
        sqs_record(_offer(actor("a2"))),
    )

    response = deduper.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"wrong-type", "bad-key"}
    assert _announced_ids(service_env) == ["a1", "a2"]


def test_failed_entries_are_retried_until_announced(
    deduper: Function, service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = _use_events(service_env, failures=2)

    response = deduper.handler(sqs_event(sqs_record(_offer(actor("a1")))), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert len(flaky.calls) == 3
    assert _announced_ids(service_env) == ["a1"]
    assert _markers(deduper) == []


def test_an_announcement_that_keeps_failing_is_kept_and_sent_on_a_later_delivery(
    deduper: Function, service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    offer = _offer(actor("a1"), actor("a2"))
    _use_events(service_env, failures=1_000)

    first = deduper.handler(sqs_event(sqs_record(offer, message_id="m1")), FakeLambdaContext())

    assert failed_ids(first) == {"m1"}
    assert service_env.announced() == []
    assert sorted(m.content_ids[0] for m in _markers(deduper)) == ["a1", "a2"]

    # SQS delivers it again (or a DLQ redrive does, with a new id): the contents are
    # duplicates now, but their markers say they were never announced.
    _use_events(service_env, failures=0)
    second = deduper.handler(
        sqs_event(sqs_record(offer, message_id="m1-redriven")), FakeLambdaContext()
    )

    assert second == {"batchItemFailures": []}
    assert _announced_ids(service_env) == ["a1", "a2"]
    assert _markers(deduper) == []

    third = deduper.handler(sqs_event(sqs_record(offer)), FakeLambdaContext())

    assert third == {"batchItemFailures": []}
    assert service_env.announced() == []


def test_announcements_respect_put_events_limits(
    deduper: Function, service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _use_events(service_env, failures=0)
    reviews = [
        review("a1", f"2023-01-{day:02d}T00:00:00+00:00", text=f"{day}" + "x" * 30_000)
        for day in range(1, 29)
    ]
    records = [sqs_record(_offer(*reviews[i : i + 4], kind="review")) for i in range(0, 28, 4)]

    response = deduper.handler(sqs_event(*records), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert len(_announced_ids(service_env)) == 28
    for call in spy.calls:
        assert len(call) <= MAX_ENTRIES_PER_CALL
        size = sum(
            len(e["Source"]) + len(e["DetailType"]) + len(e["Detail"].encode()) for e in call
        )
        assert size <= MAX_CALL_BYTES


def test_a_content_too_large_for_an_event_is_announced_by_reference(
    deduper: Function, service_env: ServiceEnv
) -> None:
    big = review("a1", "2023-01-01T00:00:00+00:00", text="x" * 300_000)

    response = deduper.handler(
        sqs_event(sqs_record(_offer(big, kind="review"))), FakeLambdaContext()
    )

    assert response == {"batchItemFailures": []}
    (event,) = service_env.announced()
    assert event["detail"]["contents"] == []
    assert event["detail"]["references"] == [
        {
            "partition_ids": ["a1"],
            "content_ids": ["2023-01-01T00:00:00+00:00"],
            "current_version": 1,
        }
    ]


def test_emits_written_duplicates_and_invalid_metrics(
    deduper: Function, capsys: pytest.CaptureFixture[str]
) -> None:
    deduper.handler(sqs_event(sqs_record(_offer(actor("a1")))), FakeLambdaContext())
    capsys.readouterr()
    event = sqs_event(sqs_record(_offer(actor("a1"), actor("a2"))), sqs_record("garbage"))

    deduper.handler(event, FakeLambdaContext())

    out = capsys.readouterr().out
    assert f'"{names.METRIC_RECORDS_WRITTEN}":[1.0]' in out
    assert f'"{names.METRIC_DUPLICATES_SKIPPED}":[1.0]' in out
    assert f'"{names.METRIC_INVALID_RECORDS}":[1.0]' in out
    assert f'"{names.METRIC_RECORDS_ANNOUNCED}":[1.0]' in out


def _load_over(
    service_env: ServiceEnv,
    wrap_dynamodb: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    **overrides: Any,
) -> Function:
    """The deduper handler over a DynamoDB client with ``overrides``; retry sleeps skipped."""
    monkeypatch.setattr(time, "sleep", lambda _: None)
    wrap_dynamodb(**overrides)
    return write_once_deduper(service_env)


def _never_read_stuck(real: Any, RequestItems: dict[str, Any], **kwargs: Any) -> Any:  # noqa: N803
    """BatchGetItem that keeps leaving the keys of 'stuck' contents unprocessed."""
    ((table, spec),) = RequestItems.items()
    stuck = [k for k in spec["Keys"] if "stuck" in k[names.SORT_KEY]["S"]]
    rest = [k for k in spec["Keys"] if k not in stuck]
    response: dict[str, Any] = {"Responses": {table: []}}
    if rest:
        read = real.batch_get_item(RequestItems={table: {**spec, "Keys": rest}}, **kwargs)
        response["Responses"][table] = read["Responses"].get(table, [])
    response["UnprocessedKeys"] = {table: {**spec, "Keys": stuck}} if stuck else {}
    return response


def test_when_reading_gives_up_no_content_is_taken_for_a_duplicate(
    service_env: ServiceEnv,
    wrap_dynamodb: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    function = _load_over(service_env, wrap_dynamodb, monkeypatch, batch_get_item=_never_read_stuck)
    event = sqs_event(
        sqs_record(_offer(actor("new-1")), message_id="new-1"),
        sqs_record(_offer(actor("stuck")), message_id="stuck"),
        sqs_record(_offer(actor("new-2")), message_id="new-2"),
    )

    response = function.handler(event, FakeLambdaContext())

    # Nothing was written, so nothing may be acknowledged: every message comes back.
    assert failed_ids(response) == {"new-1", "stuck", "new-2"}
    assert f'"{names.METRIC_DUPLICATES_SKIPPED}":[0.0]' in capsys.readouterr().out
    redelivered = function.handler(
        sqs_event(sqs_record(_offer(actor("new-1")), message_id="again")), FakeLambdaContext()
    )
    assert redelivered == {"batchItemFailures": []}
    assert _announced_ids(service_env) == ["new-1"]


def _refuse_poison(real: Any, **kwargs: Any) -> Any:
    """PutItem as DynamoDB answers an item it cannot store."""
    if "poison" in kwargs["Item"][names.SORT_KEY]["S"]:
        raise client_error("ValidationException", "PutItem", "One or more values invalid")
    return real.put_item(**kwargs)


def test_a_content_dynamodb_refuses_fails_only_its_message_as_invalid(
    service_env: ServiceEnv,
    wrap_dynamodb: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    function = _load_over(service_env, wrap_dynamodb, monkeypatch, put_item=_refuse_poison)
    event = sqs_event(
        sqs_record(_offer(actor("a1")), message_id="ok-1"),
        sqs_record(_offer(actor("poison")), message_id="poison"),
        sqs_record(_offer(actor("a2")), message_id="ok-2"),
    )

    response = function.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"poison"}
    assert _announced_ids(service_env) == ["a1", "a2"]
    out = capsys.readouterr().out
    assert f'"{names.METRIC_INVALID_RECORDS}":[1.0]' in out
    assert f'"{names.METRIC_RECORDS_WRITTEN}":[2.0]' in out


def test_announced_versions_follow_the_stored_version(
    deduper: Function, service_env: ServiceEnv
) -> None:
    for name in ("First", "Second", "Third"):
        deduper.handler(sqs_event(sqs_record(_offer(actor("a1", name)))), FakeLambdaContext())

    versions = [
        c["current_version"]
        for event in service_env.announced()
        for c in event["detail"]["contents"]
    ]

    assert versions == [1, 2, 3]


def test_contents_an_error_does_not_name_are_not_taken_for_duplicates(
    deduper: Function, service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # However write-once reports giving up, only what it says it wrote counts as done.
    def give_up(self: Any, contents: list[Any]) -> list[Any]:
        stuck = [c for c in contents if c.content_ids == ["stuck"]]
        written = [c for c in contents if c.content_ids == ["a1"]]
        raise UnprocessedItemsError(stuck, 8, "UnprocessedKeys", written=written)

    monkeypatch.setattr(SyncWriteOnceRepository, "write", give_up)
    event = sqs_event(
        sqs_record(_offer(actor("a1")), message_id="written"),
        sqs_record(_offer(actor("stuck")), message_id="stuck"),
        sqs_record(_offer(actor("a2")), message_id="unknown"),
    )

    response = deduper.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"stuck", "unknown"}
    assert _announced_ids(service_env) == ["a1"]

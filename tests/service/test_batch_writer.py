"""The SQS batch writer: whole-batch BatchWriteItem, partial batch responses, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from records_service import names
from records_service.content_types import content_type
from tests.service.helpers import (
    FakeLambdaContext,
    Function,
    ServiceEnv,
    actor,
    batch_writer,
    client_error,
    envelope,
    failed_ids,
    review,
    sort_keys_of,
    sqs_event,
    sqs_record,
)

SUBMITTED = names.DETAIL_TYPE_SUBMITTED


@pytest.fixture
def writer(service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch) -> Function:
    """The batch writer handler, built for this test; the library's retry sleeps are skipped."""
    monkeypatch.setattr("pydantic_dynamo.drivers.time.sleep", lambda _: None)
    return batch_writer(service_env)


def _stored_actors(function: Function) -> list[str]:
    repo = function.repositories.for_type(content_type("actor"))
    return sorted(c.content_ids[0] for page in repo.list(None, None) for c in page.contents)


def _submission(*contents: dict[str, Any], kind: str = "actor") -> dict[str, Any]:
    return {"content_type": kind, "contents": list(contents)}


def _logged_reason(caplog: pytest.LogCaptureFixture, message_id: str) -> str:
    """The reason logged for a failed message (Powertools puts ``extra`` on the record)."""
    reasons = [
        str(getattr(record, "reason", ""))
        for record in caplog.records
        if getattr(record, "message_id", None) == message_id
    ]
    assert reasons, f"nothing logged for {message_id}"
    return reasons[0]


class _OperationLog:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


def test_writes_every_valid_message_of_the_batch(writer: Function) -> None:
    event = sqs_event(
        sqs_record(envelope(SUBMITTED, _submission(actor("a1"), actor("a2")))),
        sqs_record(_submission(actor("a3"))),
        sqs_record(_submission(review("a1", "2023-01-01T00:00:00+00:00"), kind="review")),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert _stored_actors(writer) == ["a1", "a2", "a3"]


def test_writes_the_batch_with_batch_write_item_not_a_put_per_message(writer: Function) -> None:
    log = _OperationLog()
    client = writer.repositories.for_type(content_type("actor")).client
    client.meta.events.register("before-call.dynamodb", log)
    records = [sqs_record(_submission(actor(f"a{i}"), actor(f"b{i}"))) for i in range(20)]

    writer.handler(sqs_event(*records), FakeLambdaContext())

    assert log.operations == ["BatchWriteItem", "BatchWriteItem"]  # 40 contents, 25 a request
    assert len(_stored_actors(writer)) == 40


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "the body is not JSON"),
        ("[1]", "not an object"),
        (envelope("SomethingElse", _submission(actor("x"))), "detail-type 'SomethingElse'"),
        (_submission(actor("x"), kind="film"), "unknown content type 'film'"),
        ({"content_type": "actor"}, "missing: ['contents']"),
        ({**_submission(actor("x")), "extra": 1}, "unknown: ['extra']"),
        (_submission({**actor("x"), "item": {"id": "x"}}), "contents.0.item.name: Field required"),
        (_submission({**actor("x"), "expirty": 1}), "unknown keys ['expirty']"),
    ],
)
def test_an_invalid_message_fails_alone_and_its_reason_is_logged(
    writer: Function, caplog: pytest.LogCaptureFixture, body: Any, reason: str
) -> None:
    bad = sqs_record(body, message_id="bad-one")
    event = sqs_event(
        sqs_record(_submission(actor("a1"))), bad, sqs_record(_submission(actor("a2")))
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"bad-one"}
    assert _stored_actors(writer) == ["a1", "a2"]
    assert reason in _logged_reason(caplog, "bad-one")


def test_an_unstorable_content_fails_only_its_message(writer: Function) -> None:
    event = sqs_event(
        sqs_record(_submission(actor("a1")), message_id="ok-1"),
        sqs_record(_submission(actor("a2"), actor("k" * 1100)), message_id="too-long-key"),
        sqs_record(_submission(actor("a3")), message_id="ok-2"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"too-long-key"}
    assert _stored_actors(writer) == ["a1", "a3"]


def test_an_item_over_400_kb_fails_only_its_message(writer: Function) -> None:
    big = review("a1", "2023-01-01T00:00:00+00:00", text="x" * 420_000)
    event = sqs_event(
        sqs_record(_submission(big, kind="review"), message_id="big"),
        sqs_record(_submission(review("a1", "2023-02-01T00:00:00+00:00"), kind="review")),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"big"}


def test_a_batch_of_only_invalid_messages_reports_them_all(writer: Function) -> None:
    event = sqs_event(sqs_record("x", message_id="m1"), sqs_record("y", message_id="m2"))

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"m1", "m2"}


def test_one_key_offered_twice_in_a_batch_is_written_once_without_error(
    writer: Function,
) -> None:
    event = sqs_event(
        sqs_record(_submission(actor("a1", "First"))),
        sqs_record(_submission(actor("a1", "Second"))),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert _stored_actors(writer) == ["a1"]


class _StuckClient:
    """A DynamoDB client that never writes items whose sort key contains 'stuck'."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.batch_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def batch_write_item(self, RequestItems: dict[str, list[Any]], **kw: Any) -> Any:  # noqa: N803
        self.batch_calls += 1
        sent: dict[str, list[Any]] = {}
        stuck: dict[str, list[Any]] = {}
        for table, requests in RequestItems.items():
            for request in requests:
                sort_value = request["PutRequest"]["Item"][names.SORT_KEY]["S"]
                (stuck if "stuck" in sort_value else sent).setdefault(table, []).append(request)
        response = self._real.batch_write_item(RequestItems=sent, **kw) if sent else {}
        return {**response, "UnprocessedItems": stuck}


def test_contents_left_unprocessed_fail_exactly_their_messages(
    service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pydantic_dynamo.drivers.time.sleep", lambda _: None)
    stuck_client = _StuckClient(service_env.dynamodb_client())
    writer = batch_writer(service_env, lambda: stuck_client)
    event = sqs_event(
        sqs_record(_submission(actor("a1"), actor("a2")), message_id="fine"),
        sqs_record(_submission(actor("a3"), actor("stuck-1")), message_id="half-stuck"),
        sqs_record(_submission(actor("stuck-2")), message_id="stuck"),
        sqs_record(_submission(actor("a4")), message_id="also-fine"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"half-stuck", "stuck"}
    assert _stored_actors(writer) == ["a1", "a2", "a3", "a4"]
    assert stuck_client.batch_calls > 1  # the library retried before giving up


class _BrokenClient:
    """A DynamoDB client whose table is gone."""

    def __getattr__(self, name: str) -> Any:
        from botocore.exceptions import ClientError

        def fail(**_: Any) -> Any:
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}
            raise ClientError(error, name)  # type: ignore[arg-type]

        return fail


def test_a_dynamodb_failure_fails_every_message_for_a_retry(
    service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("pydantic_dynamo.drivers.time.sleep", lambda _: None)
    writer = batch_writer(service_env, _BrokenClient)
    event = sqs_event(
        sqs_record(_submission(actor("a1")), message_id="m1"),
        sqs_record(_submission(actor("a2")), message_id="m2"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"m1", "m2"}
    assert "ResourceNotFoundException" in _logged_reason(caplog, "m1")


def test_emits_records_written_and_invalid_records_metrics(
    writer: Function, capsys: pytest.CaptureFixture[str]
) -> None:
    event = sqs_event(sqs_record(_submission(actor("a1"), actor("a2"))), sqs_record("garbage"))

    writer.handler(event, FakeLambdaContext())

    emf = next(
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    )
    assert emf[names.METRIC_RECORDS_WRITTEN] == [2.0]
    assert emf[names.METRIC_INVALID_RECORDS] == [1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == names.METRICS_NAMESPACE


def _refuse_poison(real: Any, RequestItems: dict[str, Any], **kwargs: Any) -> Any:  # noqa: N803
    """BatchWriteItem as DynamoDB answers a request holding an item it cannot store."""
    if any("poison" in key for key in sort_keys_of(RequestItems)):
        raise client_error("ValidationException", "BatchWriteItem", "One or more values invalid")
    return real.batch_write_item(RequestItems=RequestItems, **kwargs)


def test_a_content_dynamodb_refuses_fails_only_its_message_as_invalid(
    service_env: ServiceEnv,
    wrap_dynamodb: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("pydantic_dynamo.drivers.time.sleep", lambda _: None)
    wrap_dynamodb(batch_write_item=_refuse_poison)
    writer = batch_writer(service_env)
    event = sqs_event(
        sqs_record(_submission(actor("a1")), message_id="ok-1"),
        sqs_record(_submission(actor("a2"), actor("poison")), message_id="poison"),
        sqs_record(_submission(actor("a3")), message_id="ok-2"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"poison"}
    assert _stored_actors(writer) == ["a1", "a3"]
    assert _logged_reason(caplog, "poison").startswith("invalid: DynamoDB refused it")
    emf = next(
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    )
    assert emf[names.METRIC_INVALID_RECORDS] == [1.0]


def test_a_version_dynamodb_cannot_store_is_refused_when_the_message_is_read(
    writer: Function,
) -> None:
    event = sqs_event(
        sqs_record(_submission({**actor("a1"), "current_version": 10**40 + 1}), message_id="bad"),
        sqs_record(_submission(actor("a2")), message_id="ok"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"bad"}
    assert _stored_actors(writer) == ["a2"]


def test_a_body_nested_too_deeply_fails_only_its_message(writer: Function) -> None:
    event = sqs_event(
        sqs_record("[" * 5000 + "]" * 5000, message_id="deep"),
        sqs_record(_submission(actor("a1")), message_id="ok"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"deep"}
    assert _stored_actors(writer) == ["a1"]


def test_a_string_with_a_lone_surrogate_fails_only_its_message(writer: Function) -> None:
    event = sqs_event(
        sqs_record(_submission(actor("a1", "\ud800")), message_id="surrogate"),
        sqs_record(_submission(actor("a2")), message_id="ok"),
    )

    response = writer.handler(event, FakeLambdaContext())

    assert failed_ids(response) == {"surrogate"}
    assert _stored_actors(writer) == ["a2"]

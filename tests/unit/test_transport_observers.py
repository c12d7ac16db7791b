"""Call observers: told of every lean client's call, once per call, whatever its outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError, EndpointConnectionError

from pydantic_dynamo.transport import LeanClient, LeanEventsClient, TransportRetries
from pydantic_dynamo.transport.observers import CallInfo, add_observer, remove_observer
from tests.unit.test_transport_http import ScriptedServer

OK = b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: R-OK\r\nContent-Length: 2\r\n\r\n{}"
_THROTTLED_BODY = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"x"}'
THROTTLED = (
    b"HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: R-T\r\nContent-Length: %d\r\n\r\n"
    % len(_THROTTLED_BODY)
) + _THROTTLED_BODY


class Recorder:
    """Records each start and finish as the observer protocol hands them over."""

    def __init__(self) -> None:
        self.started: list[CallInfo] = []
        self.finished: list[dict[str, Any]] = []

    def start(self, call: CallInfo) -> int:
        self.started.append(call)
        return len(self.started)

    def finish(
        self,
        started: Any,
        call: CallInfo,
        *,
        status: int | None,
        request_id: str | None,
        retries: int,
        error: BaseException | None,
    ) -> None:
        self.finished.append(
            {
                "started": started,
                "call": f"{call.service}:{call.operation}",
                "status": status,
                "request_id": request_id,
                "retries": retries,
                "error": error,
            }
        )


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    observer = Recorder()
    add_observer(observer)
    yield observer
    remove_observer(observer)


def _client(endpoint: str, attempts: int = 3) -> LeanClient:
    return LeanClient(
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="A",
        aws_secret_access_key="B",
        retries=TransportRetries(max_attempts=attempts, base_delay=0.001, max_delay=0.001),
    )


def test_a_call_retried_then_answered_is_one_start_and_one_finish(recorder: Recorder) -> None:
    server = ScriptedServer([THROTTLED, OK])
    client = _client(server.url)
    params = {"TableName": "films", "Key": {}}
    try:
        client.get_item(**params)
    finally:
        client.close()
        server.close()
    assert recorder.started == [CallInfo("dynamodb", "GetItem", "eu-west-1", params)]
    assert recorder.finished == [
        {
            "started": 1,
            "call": "dynamodb:GetItem",
            "status": 200,
            "request_id": "R-OK",
            "retries": 1,
            "error": None,
        }
    ]


def test_an_error_answer_is_reported_with_its_error_and_then_raised(recorder: Recorder) -> None:
    server = ScriptedServer([THROTTLED])
    client = _client(server.url, attempts=1)
    try:
        with pytest.raises(ClientError) as raised:
            client.put_item(TableName="films", Item={})
    finally:
        client.close()
        server.close()
    (finished,) = recorder.finished
    assert finished["error"] is raised.value
    assert (finished["status"], finished["request_id"], finished["retries"]) == (400, "R-T", 0)


def test_no_answer_is_reported_with_the_tries_it_took(recorder: Recorder) -> None:
    client = _client("http://127.0.0.1:9", attempts=3)
    with pytest.raises(EndpointConnectionError) as raised:
        client.query(TableName="films")
    (finished,) = recorder.finished
    assert finished["error"] is raised.value
    assert (finished["status"], finished["request_id"], finished["retries"]) == (None, None, 2)


def test_a_call_a_hook_answered_is_observed_too(recorder: Recorder) -> None:
    client = _client("http://127.0.0.1:9")

    def before_call(**kwargs: Any) -> Any:
        return AWSResponse("http://hooked.invalid", 200, HTTPHeaders(), None), {"Items": []}

    client.meta.events.register("before-call.dynamodb.Query", before_call)
    assert client.query(TableName="films") == {"Items": []}
    assert [f["call"] for f in recorder.finished] == ["dynamodb:Query"]
    assert recorder.finished[0]["retries"] == 0


def test_eventbridge_calls_are_observed_under_its_signing_name(recorder: Recorder) -> None:
    server = ScriptedServer([OK])
    events = LeanEventsClient(
        endpoint_url=server.url,
        region_name="eu-west-1",
        aws_access_key_id="A",
        aws_secret_access_key="B",
    )
    try:
        events.put_events(Entries=[])
    finally:
        events.close()
        server.close()
    assert [f["call"] for f in recorder.finished] == ["events:PutEvents"]


def test_an_observer_that_fails_never_breaks_the_call_or_the_others(recorder: Recorder) -> None:
    class Broken:
        def start(self, call: CallInfo) -> None:
            raise RuntimeError("start")

        def finish(self, started: Any, call: CallInfo, **outcome: Any) -> None:
            raise RuntimeError("finish")

    broken = Broken()
    add_observer(broken)
    server = ScriptedServer([OK])
    client = _client(server.url)
    try:
        assert client.get_item(TableName="films", Key={})["ResponseMetadata"]["RequestId"] == "R-OK"
    finally:
        remove_observer(broken)
        client.close()
        server.close()
    assert len(recorder.finished) == 1


def test_a_removed_observer_hears_nothing_more() -> None:
    observer = Recorder()
    add_observer(observer)
    add_observer(observer)  # once, however often added
    client = _client("http://127.0.0.1:9", attempts=1)
    with pytest.raises(EndpointConnectionError):
        client.get_item(TableName="films", Key={})
    remove_observer(observer)
    with pytest.raises(EndpointConnectionError):
        client.get_item(TableName="films", Key={})
    assert len(observer.started) == 1
    assert len(observer.finished) == 1

"""The lean EventBridge client, and both lean clients' endpoints against boto3's own."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from pydantic_dynamo.transport import LeanClient, LeanEventsClient
from tests.unit.test_transport_http import ScriptedServer

ANSWER = b'{"FailedEntryCount":0,"Entries":[{"EventId":"e-1"}]}'
OK = (
    b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: R1\r\nContent-Length: %d\r\n\r\n" % len(ANSWER)
) + ANSWER
ENTRY = {"Source": "records.service", "DetailType": "RecordsWritten", "Detail": "{}"}


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
        "AWS_ENDPOINT_URL_EVENTS",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer([OK])
    yield scripted
    scripted.close()


def _events(endpoint_url: str | None = None, **kwargs: Any) -> LeanEventsClient:
    return LeanEventsClient(
        endpoint_url=endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="SECRET",
        **kwargs,
    )


def test_put_events_speaks_eventbridges_json_and_is_signed_as_botocore_signs_it(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _events(server.url)
    answer = events.put_events(Entries=[ENTRY])
    events.close()
    assert answer["Entries"] == [{"EventId": "e-1"}]
    assert answer["ResponseMetadata"]["RequestId"] == "R1"
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["X-Amz-Target"] == "AWSEvents.PutEvents"
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(body) == {"Entries": [ENTRY]}
    # botocore's signer, at the same instant, for the "events" service, signs the same.
    when = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: when)
    unsigned = {
        name: value
        for name, value in headers.items()
        if name not in ("Authorization", "X-Amz-Date", "Content-Length")
    }
    theirs = AWSRequest(method="POST", url=server.url + "/", data=body, headers=unsigned)
    SigV4Auth(Credentials("AKID", "SECRET"), "events", "eu-west-1").add_auth(theirs)
    assert headers["Authorization"] == theirs.headers["Authorization"]
    assert "/eu-west-1/events/aws4_request" in headers["Authorization"]


def test_hooks_are_named_by_eventbridges_service_id(server: ScriptedServer) -> None:
    events = _events(server.url)
    seen: list[str] = []

    def before_call(model: Any, **kwargs: Any) -> None:
        seen.append(f"{model.service_model.signing_name}:{model.name}")

    events.meta.events.register("before-call.eventbridge.PutEvents", before_call)
    events.put_events(Entries=[ENTRY])
    events.close()
    assert seen == ["events:PutEvents"]


def test_errors_are_botocores_client_errors_with_their_classes() -> None:
    body = b'{"__type":"ValidationException","message":"bad entry"}'
    error = b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    scripted = ScriptedServer([error])
    events = _events(scripted.url)
    try:
        with pytest.raises(events.exceptions.ValidationException) as raised:
            events.put_events(Entries=[ENTRY])
    finally:
        events.close()
        scripted.close()
    assert raised.value.response["Error"] == {"Code": "ValidationException", "Message": "bad entry"}
    assert len(scripted.requests) == 1  # a refusal is not retried


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "https://events.eu-west-1.amazonaws.com"),
        ({"AWS_ENDPOINT_URL_EVENTBRIDGE": "http://127.0.0.1:5000"}, "http://127.0.0.1:5000"),
        ({"AWS_ENDPOINT_URL_EVENTS": "http://127.0.0.1:5001"}, "http://127.0.0.1:5001"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566/"}, "http://127.0.0.1:4566"),
        (
            {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"},
            "https://events.eu-west-1.amazonaws.com",
        ),
    ],
)
def test_the_events_endpoint_is_found_where_boto3_looks(
    environ: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert _events().meta.endpoint_url == expected


class _SentError(Exception):
    """Raised by a before-send hook: boto3 built the request, whose URL is all we wanted."""


@pytest.mark.parametrize("service", ["dynamodb", "events"])
@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-central-1", "us-gov-west-1", "us-gov-east-1", "cn-north-1"]
)
@pytest.mark.parametrize(
    ("fips", "dualstack"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_regional_endpoints_are_the_ones_botocores_endpoint_rules_choose(
    service: str, region: str, fips: bool, dualstack: bool
) -> None:
    import boto3

    config = Config(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack)
    theirs: Any = boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        config=config,
        aws_access_key_id="A",
        aws_secret_access_key="B",
    )
    sent: list[str] = []

    def capture(request: Any, **kwargs: Any) -> None:
        sent.append(request.url)
        raise _SentError

    theirs.meta.events.register("before-send", capture)
    name, params = (
        ("get_item", {"TableName": "films", "Key": {"PK": {"S": "a"}}})
        if service == "dynamodb"
        else ("put_events", {"Entries": [ENTRY]})
    )
    with pytest.raises(_SentError):
        getattr(theirs, name)(**params)
    lean_class = LeanClient if service == "dynamodb" else LeanEventsClient
    ours = lean_class(region_name=region, config=config)
    assert ours.meta.endpoint_url + "/" == sent[0]


@pytest.mark.parametrize("variable", ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"])
def test_the_environment_turns_fips_and_dualstack_on_and_the_config_wins_over_it(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "true")
    assert _events().meta.endpoint_url != "https://events.eu-west-1.amazonaws.com"
    off = Config(use_fips_endpoint=False, use_dualstack_endpoint=False)
    assert _events(config=off).meta.endpoint_url == "https://events.eu-west-1.amazonaws.com"


def test_put_events_reaches_moto_in_server_mode() -> None:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        events = LeanEventsClient(
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        answer = events.put_events(Entries=[ENTRY, {**ENTRY, "Detail": '{"n": 2}'}])
        # What the lean client does not do itself, boto3 does for it (moto answers both).
        buses = events.list_event_buses()["EventBuses"]
        events.close()
    finally:
        moto.stop()
    assert answer["FailedEntryCount"] == 0
    assert len(answer["Entries"]) == 2
    assert all("EventId" in entry for entry in answer["Entries"])
    assert [bus["Name"] for bus in buses] == ["default"]

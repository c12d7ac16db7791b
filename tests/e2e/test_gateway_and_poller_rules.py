"""The local gateway and queue poller with stand-in functions: the failure rules of AWS.

The real handlers never raise or answer malformed responses on purpose, so these paths are
driven by small handler modules written to a temporary code folder, each with the factory
(``build_handler(settings)``) the local stack builds functions with.
"""

from __future__ import annotations

import http.client
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from moto import mock_aws

from local_stack import aws, config
from local_stack.docs_page import DocsPage
from local_stack.event_source import SqsEventSource
from local_stack.functions import LocalFunction
from local_stack.http_server import LocalApiServer
from local_stack.resources import create_queue_pair
from records_service import topology
from records_service.settings import Settings

STAND_IN_API = """
import json, time

def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "malformed":
        return {"statusCode": "two hundred"}
    if mode == "slow":
        time.sleep(1.2)
    if mode and mode.startswith("bytes-"):
        return {"statusCode": 200, "body": "x" * int(mode.removeprefix("bytes-"))}
    remaining = context.get_remaining_time_in_millis()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"event": event, "remaining_ms": remaining}),
    }

def build_handler(settings):
    return handler
"""

STAND_IN_QUEUE = """
import json

def handler(event, context):
    bodies = {r["messageId"]: json.loads(r["body"]) for r in event["Records"]}
    if any(body.get("raise") for body in bodies.values()):
        raise RuntimeError("the whole batch fails")
    return {"batchItemFailures": [
        {"itemIdentifier": message_id} for message_id, body in bodies.items() if body.get("fail")
    ]}

def build_handler(settings):
    return handler
"""


def _function(folder: Path, module: str, source: str, timeout: float) -> LocalFunction:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    settings = Settings(table_name="stand-in")
    return LocalFunction(
        module, f"{module}.build_handler", str(folder), timeout, settings=lambda: settings
    )


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    """The local API server in front of the stand-in API function (1 s timeout)."""
    function = _function(tmp_path / "api", "stand_in_api", STAND_IN_API, timeout=1.0)
    server = LocalApiServer(function, DocsPage(config.SWAGGER_UI_DIR), port=0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_the_function_receives_the_request_as_a_rest_proxy_event(gateway: str) -> None:
    response = requests.post(
        f"{gateway}/records/x?a=1&a=2",
        data=b'{"k": 1}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    event = response.json()["event"]
    assert response.status_code == 200
    assert response.headers["x-amzn-RequestId"] == event["requestContext"]["requestId"]
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/records/x"
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["body"] == '{"k": 1}'
    assert 0 < response.json()["remaining_ms"] <= 1000


def test_a_chunked_body_reaches_the_function_whole(gateway: str) -> None:
    response = requests.put(f"{gateway}/x", data=iter([b'{"a": ', b"1}"]), timeout=10)

    assert response.json()["event"]["body"] == '{"a": 1}'


@pytest.mark.parametrize("mode", ["raise", "malformed", "slow"])
def test_a_failing_function_is_a_502_from_the_gateway(gateway: str, mode: str) -> None:
    response = requests.get(f"{gateway}/x", params={"mode": mode}, timeout=10)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_a_response_over_lambdas_6_mb_is_a_502_from_the_gateway(gateway: str) -> None:
    limit = topology.LAMBDA_MAX_RESPONSE_BYTES

    under = requests.get(f"{gateway}/x", params={"mode": f"bytes-{limit - 100}"}, timeout=30)
    over = requests.get(f"{gateway}/x", params={"mode": f"bytes-{limit}"}, timeout=30)

    assert under.status_code == 200
    assert len(under.content) == limit - 100
    assert over.status_code == 502
    assert over.json() == {"message": "Internal server error"}
    assert over.headers["x-amzn-ErrorType"] == "InternalServerErrorException"


def test_head_answers_headers_only(gateway: str) -> None:
    response = requests.head(f"{gateway}/x", timeout=10)

    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 0


def test_a_method_api_gateway_does_not_forward_is_405(gateway: str) -> None:
    host = gateway.removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=10)
    connection.request("TRACE", "/x")
    response = connection.getresponse()

    assert response.status == 405
    assert response.getheader("x-amzn-ErrorType") == "MethodNotAllowed"
    connection.close()


def test_the_docs_page_and_assets_are_served_and_nothing_else_from_node_modules(
    gateway: str,
) -> None:
    page = requests.get(f"{gateway}/docs", timeout=10)
    bundle = requests.get(f"{gateway}/docs/swagger-ui-bundle.js", timeout=10)
    outside = requests.get(f"{gateway}/docs/..%2Fpackage.json", timeout=10)

    assert page.status_code == 200, "swagger-ui-dist missing: run make setup"
    assert "/openapi.json" in page.text
    assert bundle.status_code == 200
    assert bundle.headers["Content-Type"].startswith("application/javascript")
    assert outside.status_code == 404


@pytest.fixture
def poller(tmp_path: Path) -> Iterator[SqsEventSource]:
    """The batch writer's route, its queue in moto (mocked), and the stand-in queue function."""
    with mock_aws():
        sqs = aws.sqs_client("https://sqs.us-east-1.amazonaws.com")
        route = topology.BATCH_WRITER
        pair = create_queue_pair(sqs, route, visibility_timeout_seconds=30)
        function = _function(tmp_path / "queue", "stand_in_queue", STAND_IN_QUEUE, timeout=5)
        yield SqsEventSource(
            route=route,
            function=function,
            sqs=sqs,
            queue_url=pair.url,
            queue_arn=pair.arn,
            poll_wait_seconds=0,
        )


def _send(source: SqsEventSource, *bodies: dict[str, bool]) -> None:
    sqs = aws.sqs_client("https://sqs.us-east-1.amazonaws.com")
    for body in bodies:
        sqs.send_message(QueueUrl=source.queue_url, MessageBody=json.dumps(body))


def _left_in_flight(source: SqsEventSource) -> int:
    sqs = aws.sqs_client("https://sqs.us-east-1.amazonaws.com")
    attributes = sqs.get_queue_attributes(
        QueueUrl=source.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_only_the_messages_reported_as_failed_stay_on_the_queue(poller: SqsEventSource) -> None:
    _send(poller, {"fail": False}, {"fail": True}, {"fail": False})

    batch = poller.collect_batch()
    failed = poller.process(batch)

    assert len(batch) == 3
    assert len(failed) == 1
    assert poller.stats.deleted == 2
    assert _left_in_flight(poller) == 1


def test_a_function_that_raises_leaves_the_whole_batch_on_the_queue(
    poller: SqsEventSource,
) -> None:
    _send(poller, {"fail": False}, {"raise": True})

    batch = poller.collect_batch()
    failed = poller.process(batch)

    assert len(failed) == len(batch) == 2
    assert poller.stats.deleted == 0
    assert poller.stats.whole_batch_failures == 1
    assert _left_in_flight(poller) == 2


def test_a_batch_fills_past_the_ten_messages_of_one_receive(poller: SqsEventSource) -> None:
    _send(poller, *({"fail": False} for _ in range(topology.BATCH_WRITER.batch_size + 5)))

    batch = poller.collect_batch()

    assert len(batch) == topology.BATCH_WRITER.batch_size

"""X-Ray subsegments of the lean clients' calls, as the X-Ray SDK records boto3's.

A real ``aws_xray_sdk`` recorder sends its segments to an in-memory emitter; the lean clients
talk to moto in server mode on loopback (and, for throttling, to a scripted loopback server);
what is asserted is the subsegment JSON the recorder would send to the X-Ray daemon.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import botocore.endpoint
import pytest
from aws_xray_sdk.core import AWSXRayRecorder, xray_recorder  # type: ignore[import-untyped]
from aws_xray_sdk.core.context import Context  # type: ignore[import-untyped]
from aws_xray_sdk.ext.boto_utils import whitelist  # type: ignore[import-untyped]
from aws_xray_sdk.ext.botocore.patch import patch as patch_botocore  # type: ignore[import-untyped]
from aws_xray_sdk.ext.util import to_snake_case  # type: ignore[import-untyped]
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from layer.contents import PROBE_ENVIRONMENT
from pydantic_dynamo.transport import LeanClient, LeanEventsClient, TransportRetries
from pydantic_dynamo.transport.observers import add_observer, remove_observer
from pydantic_dynamo.transport.tracing import XRayObserver

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TABLE = "traced"
FAST_RETRIES = TransportRetries(max_attempts=3, base_delay=0.001, max_delay=0.002)
Segment = dict[str, Any]


class MemoryEmitter:
    """Keeps what the recorder would send to the daemon, as the daemon would read it."""

    def __init__(self) -> None:
        self.sent: list[Segment] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: str | None) -> None:
        """Nothing to point anywhere."""


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        boto3.client("dynamodb", endpoint_url=url, region_name=REGION).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield url
    finally:
        server.stop()


@pytest.fixture
def emitter() -> MemoryEmitter:
    return MemoryEmitter()


@pytest.fixture
def recorder(emitter: MemoryEmitter) -> Iterator[Any]:
    """A recorder of its own, observing every lean client while the test runs."""
    recorder = AWSXRayRecorder()
    recorder.configure(
        sampling=False, context=Context(), emitter=emitter, context_missing="LOG_ERROR"
    )
    observer = XRayObserver(recorder)
    add_observer(observer)
    yield recorder
    remove_observer(observer)


def traced(recorder: Any, emitter: MemoryEmitter, calls: Callable[[], object]) -> list[Segment]:
    """The subsegments recorded while ``calls`` runs inside a segment."""
    recorder.begin_segment("test")
    try:
        calls()
    finally:
        recorder.end_segment()
    (segment,) = emitter.sent
    subsegments: list[Segment] = segment.get("subsegments", [])
    return subsegments


def dynamodb(url: str) -> LeanClient:
    return LeanClient(endpoint_url=url, region_name=REGION, retries=FAST_RETRIES)


def raises(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except Exception as error:
        return error
    raise AssertionError("the call did not fail")


# --- what each call records ----------------------------------------------------------------


def test_a_get_item_is_a_dynamodb_subsegment_in_the_aws_namespace(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    client = dynamodb(moto_url)

    (sub,) = traced(
        recorder, emitter, lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})
    )

    assert (sub["name"], sub["namespace"], sub["type"]) == ("dynamodb", "aws", "subsegment")
    assert sub["http"] == {"response": {"status": 200}}
    aws = sub["aws"]
    assert {k: aws[k] for k in ("operation", "region", "table_name", "retries")} == {
        "operation": "GetItem",
        "region": REGION,
        "table_name": TABLE,
        "retries": 0,
    }
    assert isinstance(aws["request_id"], str)
    assert aws["request_id"]
    assert not {"error", "fault", "throttle", "cause"} & set(sub)
    assert sub["in_progress"] is False
    assert sub["end_time"] >= sub["start_time"]


def test_the_request_id_is_the_one_aws_answered(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    client = dynamodb(moto_url)
    answers: list[dict[str, Any]] = []

    (sub,) = traced(
        recorder,
        emitter,
        lambda: answers.append(
            client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        ),
    )

    assert sub["aws"]["operation"] == "PutItem"
    assert sub["aws"]["table_name"] == TABLE
    assert sub["aws"]["request_id"] == answers[0]["ResponseMetadata"]["RequestId"]


def test_a_batch_records_the_names_of_its_tables(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    client = dynamodb(moto_url)
    items = {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]}

    (sub,) = traced(recorder, emitter, lambda: client.batch_write_item(RequestItems=items))

    assert sub["aws"]["operation"] == "BatchWriteItem"
    assert sub["aws"]["table_names"] == [TABLE]


def test_a_missing_table_is_an_error_with_the_aws_exception_recorded(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    client = dynamodb(moto_url)
    errors: list[BaseException] = []

    def call() -> None:
        errors.append(raises(lambda: client.get_item(TableName="absent", Key={"pk": {"S": "a"}})))

    (sub,) = traced(recorder, emitter, call)

    assert sub["http"] == {"response": {"status": 400}}
    assert sub["error"] is True
    assert sub["fault"] is True
    assert "throttle" not in sub
    assert sub["aws"]["table_name"] == "absent"
    assert sub["aws"]["request_id"] == errors[0].response["ResponseMetadata"]["RequestId"]  # type: ignore[attr-defined]
    (exception,) = sub["cause"]["exceptions"]
    assert exception["type"] == "ResourceNotFoundException"
    assert exception["message"] == str(errors[0])
    assert exception["remote"] is True
    assert any(frame["path"] == "test_tracing.py" for frame in exception["stack"])
    assert sub["cause"]["working_directory"] == os.getcwd()


def test_put_events_is_an_events_subsegment(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    client = LeanEventsClient(endpoint_url=moto_url, region_name=REGION)
    entry = {"Source": "records", "DetailType": "RecordsWritten", "Detail": "{}"}

    (sub,) = traced(recorder, emitter, lambda: client.put_events(Entries=[entry]))

    assert (sub["name"], sub["namespace"]) == ("events", "aws")
    assert sub["http"] == {"response": {"status": 200}}
    assert set(sub["aws"]) == {"operation", "region", "request_id", "retries"}
    assert sub["aws"]["operation"] == "PutEvents"
    assert sub["aws"]["region"] == REGION


# --- retries, throttling and failures without an answer -------------------------------------


class ScriptedDynamoDB:
    """A loopback HTTP server answering each request with the next scripted (status, body)."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.answers = list(answers)
        script = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, body = script.answers.pop(0)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amzn-RequestId", f"R{len(script.answers)}")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedDynamoDB:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def throttled(status: int, code: str) -> tuple[int, dict[str, Any]]:
    return status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "slow down"}


def test_a_call_that_succeeds_after_throttling_records_its_retries(
    recorder: Any, emitter: MemoryEmitter
) -> None:
    answers = [throttled(400, "ProvisionedThroughputExceededException")] * 2 + [(200, {})]
    with ScriptedDynamoDB(answers) as server:
        client = dynamodb(server.url)

        (sub,) = traced(
            recorder, emitter, lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})
        )

    assert sub["aws"]["retries"] == 2
    assert sub["aws"]["request_id"] == "R0"
    assert sub["http"] == {"response": {"status": 200}}
    assert not {"error", "fault", "throttle", "cause"} & set(sub)


def test_throttling_to_the_end_is_an_error_with_the_throttling_exception(
    recorder: Any, emitter: MemoryEmitter
) -> None:
    # DynamoDB throttles with a 400, which X-Ray counts as an error (its throttle flag is 429).
    with ScriptedDynamoDB([throttled(400, "ProvisionedThroughputExceededException")] * 3) as server:
        client = dynamodb(server.url)

        (sub,) = traced(
            recorder,
            emitter,
            lambda: raises(lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})),
        )

    assert sub["aws"]["retries"] == 2
    assert sub["error"] is True
    assert sub["fault"] is True
    assert "throttle" not in sub
    assert sub["cause"]["exceptions"][0]["type"] == "ProvisionedThroughputExceededException"


def test_a_429_answer_sets_the_throttle_flag(recorder: Any, emitter: MemoryEmitter) -> None:
    with ScriptedDynamoDB([throttled(429, "ThrottlingException")] * 3) as server:
        client = dynamodb(server.url)

        (sub,) = traced(
            recorder,
            emitter,
            lambda: raises(lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})),
        )

    assert sub["http"] == {"response": {"status": 429}}
    assert sub["throttle"] is True
    assert sub["error"] is True
    assert sub["cause"]["exceptions"][0]["type"] == "ThrottlingException"


def test_a_refused_connection_is_a_fault_with_a_local_exception(
    recorder: Any, emitter: MemoryEmitter
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    client = dynamodb(url)
    errors: list[BaseException] = []

    def call() -> None:
        errors.append(raises(lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})))

    (sub,) = traced(recorder, emitter, call)

    assert sub["fault"] is True
    assert "error" not in sub
    assert "http" not in sub
    assert "request_id" not in sub["aws"]
    assert sub["aws"]["retries"] == 2
    (exception,) = sub["cause"]["exceptions"]
    assert exception["type"] == type(errors[0]).__name__
    assert exception["remote"] is False


# --- tracing never gets in a call's way -----------------------------------------------------


def test_a_call_outside_any_segment_is_made_and_not_recorded(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    recorder.configure(context_missing="RUNTIME_ERROR")

    answer = dynamodb(moto_url).get_item(TableName=TABLE, Key={"pk": {"S": "none"}})

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert emitter.sent == []


def test_an_unsampled_segment_records_nothing(
    moto_url: str, recorder: Any, emitter: MemoryEmitter
) -> None:
    client = dynamodb(moto_url)
    segment = recorder.begin_segment("unsampled", sampling=0)

    answer = client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})
    # The SDK's no-op subsegment was opened and closed again.
    entity_after = recorder.get_trace_entity()
    recorder.end_segment()

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert entity_after is segment
    assert emitter.sent == []


# --- the same subsegment as the X-Ray SDK's botocore patch ----------------------------------

# Set per call (ids, times) or per code path (the stack), so never equal.
_PER_CALL = ("id", "start_time", "end_time", "parent_id", "trace_id")


@pytest.fixture
def patched_botocore(emitter: MemoryEmitter) -> Iterator[Any]:
    """The SDK's botocore patch on its global recorder, both undone after the test."""
    saved = (xray_recorder.emitter, xray_recorder.context, xray_recorder.sampling)
    xray_recorder.configure(sampling=False, context=Context(), emitter=emitter)
    patched = (
        (botocore.client.BaseClient, "_make_api_call"),
        (botocore.endpoint.Endpoint, "prepare_request"),
    )
    originals = [vars(owner)[name] for owner, name in patched]
    was_patched = hasattr(botocore.client, "_xray_enabled")
    patch_botocore()
    observer = XRayObserver(xray_recorder)
    add_observer(observer)
    try:
        yield xray_recorder
    finally:
        remove_observer(observer)
        for (owner, name), original in zip(patched, originals, strict=True):
            setattr(owner, name, original)
        if not was_patched:
            delattr(botocore.client, "_xray_enabled")
        xray_recorder.emitter, xray_recorder.context, xray_recorder.sampling = saved


def comparable(sub: Segment) -> Segment:
    kept = {k: v for k, v in sub.items() if k not in _PER_CALL}
    kept["aws"] = {**sub["aws"], "request_id": bool(sub["aws"].get("request_id"))}
    if "cause" in sub:
        kept["cause"] = {
            **sub["cause"],
            "exceptions": [
                {k: v for k, v in e.items() if k not in ("id", "stack")}
                for e in sub["cause"]["exceptions"]
            ],
        }
    return kept


CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("dynamodb", "get_item", {"TableName": TABLE, "Key": {"pk": {"S": "a"}}}),
    ("dynamodb", "put_item", {"TableName": TABLE, "Item": {"pk": {"S": "c"}}}),
    ("dynamodb", "query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
                           "ExpressionAttributeValues": {":p": {"S": "a"}}, "Limit": 5,
                           "ConsistentRead": True}),
    ("dynamodb", "update_item", {"TableName": TABLE, "Key": {"pk": {"S": "c"}},
                                 "UpdateExpression": "SET n = :n",
                                 "ExpressionAttributeValues": {":n": {"N": "2"}}}),
    ("dynamodb", "delete_item", {"TableName": TABLE, "Key": {"pk": {"S": "c"}}}),
    ("dynamodb", "get_item", {"TableName": "absent", "Key": {"pk": {"S": "a"}}}),
    ("dynamodb", "put_item", {"TableName": TABLE, "Item": {"pk": {"S": "x"}},
                              "ConditionExpression": "attribute_exists(pk)"}),
    ("events", "put_events", {"Entries": [{"Source": "s", "DetailType": "d", "Detail": "{}"}]}),
]  # fmt: skip


@pytest.mark.parametrize(("service", "method", "params"), CALLS)
def test_a_lean_call_is_recorded_as_the_sdk_records_the_same_boto3_call(
    moto_url: str, patched_botocore: Any, emitter: MemoryEmitter, service: str, method: str,
    params: dict[str, Any],
) -> None:  # fmt: skip
    lean: Any = (
        dynamodb(moto_url)
        if service == "dynamodb"
        else LeanEventsClient(endpoint_url=moto_url, region_name=REGION)
    )
    boto: Any = boto3.client(service, endpoint_url=moto_url, region_name=REGION)  # type: ignore[call-overload]

    def both() -> None:
        for client in (boto, lean):
            with contextlib.suppress(ClientError):
                getattr(client, method)(**params)

    sdk_sub, lean_sub = traced(patched_botocore, emitter, both)

    # What the lean transport records on purpose beside the SDK (see the tracing module doc):
    # the retries, and nothing of the answer's body.
    expected = comparable(sdk_sub)
    expected["aws"] = {
        **{k: v for k, v in expected["aws"].items() if k not in _response_fields(sdk_sub)},
        "retries": 0,
    }
    assert comparable(lean_sub) == expected


def _response_fields(sub: Segment) -> set[str]:
    """The whitelisted fields the SDK takes from the answer's body (moto answers some unasked)."""
    operation = whitelist["services"].get(sub["name"], {}).get("operations", {})
    described = operation.get(sub["aws"]["operation"], {})
    return {to_snake_case(k) for k in described.get("response_parameters", ())} | {
        d["rename_to"] for d in described.get("response_descriptors", {}).values()
    }


def test_the_sdk_records_a_batch_s_tables_as_text_and_the_lean_client_as_a_list(
    moto_url: str, patched_botocore: Any, emitter: MemoryEmitter
) -> None:
    items = {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "d"}}}}]}
    boto: Any = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)

    sdk_sub, lean_sub = traced(
        patched_botocore,
        emitter,
        lambda: [c.batch_write_item(RequestItems=items) for c in (boto, dynamodb(moto_url))],
    )

    assert sdk_sub["aws"]["table_names"] == f"dict_keys(['{TABLE}'])"
    assert lean_sub["aws"]["table_names"] == [TABLE]


# --- the service's functions ----------------------------------------------------------------

_CODE_ROOTS = ("shared", ".", "lambdas/api", "lambdas/batch_writer", "lambdas/write_once")
_LAMBDA_PATH = os.pathsep.join(str(ROOT / root) for root in _CODE_ROOTS)
_HANDLERS = "records_api.handler", "batch_writer.handler", "write_once_deduper.handler"


def _run(code: str, **env: str) -> str:
    base = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": _LAMBDA_PATH,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "POWERTOOLS_METRICS_DISABLED": "true",
        **PROBE_ENVIRONMENT,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    "environment",
    [{}, {"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "true"}],
    ids=["outside-lambda", "tracing-disabled"],
)
def test_with_tracing_off_the_handlers_load_no_x_ray(environment: dict[str, str]) -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_HANDLERS!r}: importlib.import_module(name)\n"
        "from pydantic_dynamo.transport.observers import observers\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'aws_xray_sdk'\n"
        "          or m == 'pydantic_dynamo.transport.tracing']\n"
        "print(loaded, observers())\n"
    )

    assert _run(code, **environment) == "[] ()"


def test_in_lambda_a_traced_handler_s_lean_calls_reach_the_daemon(moto_url: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(10)
        code = (
            "from records_service.observability import traced\n"
            "from pydantic_dynamo.transport import LeanClient\n"
            f"client = LeanClient(endpoint_url={moto_url!r})\n"
            "@traced\n"
            "def handler(event, context):\n"
            f"    return client.get_item(TableName={TABLE!r}, Key={{'pk': {{'S': 'a'}}}})\n"
            "class Context:\n"
            "    function_name = 'f'; memory_limit_in_mb = 128; aws_request_id = 'r'\n"
            "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:f'\n"
            "print(handler({}, Context())['ResponseMetadata']['RequestId'])\n"
        )
        request_id = _run(
            code,
            # Both say "in Lambda": the SDK keys its Lambda context on LAMBDA_TASK_ROOT.
            AWS_LAMBDA_FUNCTION_NAME="f",
            LAMBDA_TASK_ROOT=str(ROOT),
            _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
            AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
        )
        # Sent before the function returned: each subsegment is streamed as it ends.
        entities: list[Segment] = []
        while not {"## handler", "dynamodb"} <= {e["name"] for e in entities}:
            entities.extend(_with_children(_received(daemon)))

    (sub,) = [e for e in entities if e.get("namespace") == "aws"]
    (handler,) = [e for e in entities if e["name"] == "## handler"]
    assert sub["parent_id"] == handler["id"]
    assert sub["name"] == "dynamodb"
    assert sub["aws"]["operation"] == "GetItem"
    assert sub["aws"]["request_id"] == request_id
    assert sub["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


def _with_children(entity: Segment) -> Iterator[Segment]:
    yield entity
    for child in entity.get("subsegments", ()):
        yield from _with_children(child)


def _received(daemon: socket.socket) -> Segment:
    header, _, body = daemon.recv(65536).partition(b"\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    document: Segment = json.loads(body)
    return document

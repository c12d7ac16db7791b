"""The deployable artifact: each handler, from the synthesized assembly, under the runtime's Python.

Each invocation runs in a fresh ``python3.12 -I -S -B`` process with only the function's staged
asset, the layer extracted from its staged zip and the runtime's boto3 on ``sys.path``, against
DynamoDB Local (and moto's EventBridge for the deduper and the stream consumer). It proves the
wheels, the layer layout, the handler strings and the environment variables that ``cdk deploy``
ships; and every AWS call a handler makes is recorded (through the lean clients' call
observers) and checked against its role's policy in the template.
"""

from __future__ import annotations

import hashlib
import json
import socket
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra import config
from layer import assembly, invocation, runtime
from layer.errors import ArtifactError
from records_service import names
from tests.infra.conftest import Synthesized

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

    from local_stack.dynamodb_local import DynamoDBLocal

REGION = "us-east-1"
ACCOUNT = "123456789012"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    # Tracing stays on, as deployed: layer.invocation.lambda_environment sets the trace header.
}
ACTOR = {"id": "a1", "name": "Steve Buscemi", "review": "great"}
# Modules whose origin the tests check: the layer's wheels (the X-Ray SDK proves the tracer is
# on) and the shared packages; and boto3, which no handler loads: they talk to AWS through the
# library's lean clients. (botocore's client is loaded here, traced: the X-Ray SDK's botocore
# patch, kept for boto3 clients a user brings, imports it; untraced, tests/service checks it
# stays out.)
LAYER_MODULES = ("pydantic_core", "pydantic_dynamo", "records_service", "aws_xray_sdk")
LOADED_FROM = (*LAYER_MODULES, "boto3")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def runtime_python() -> Path:
    """The runtime's interpreter; its absence fails the tests (a skip would hide a red)."""
    try:
        return runtime.find_runtime_python()
    except ArtifactError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def boto3_dir() -> Path:
    """boto3 as the runtime provides it (cached under build/)."""
    return runtime.runtime_boto3()


@pytest.fixture(scope="session")
def functions(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, invocation.FunctionArtifact]:
    """The four functions as staged in the session's cloud assembly."""
    return assembly.read_functions(
        synthesized.assembly_dir, config.STACK_NAME, tmp_path_factory.mktemp("unpacked")
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def events_endpoint() -> Iterator[str]:
    """moto's EventBridge and SQS on a free loopback port, for the deduper's announcements."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@dataclass(frozen=True)
class Bus:
    """An event bus on moto whose every event is copied into a queue we can read."""

    name: str
    queue_url: str
    sqs: SQSClient

    def received(self) -> list[dict[str, Any]]:
        """The events that reached the bus so far."""
        events: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return events
            events.extend(json.loads(message["Body"]) for message in messages)
            for message in messages:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def bus(events_endpoint: str) -> Bus:
    """A fresh bus with a catch-all rule to a fresh queue."""
    name = f"bus-{uuid.uuid4().hex[:12]}"
    events: EventBridgeClient = boto3.client(
        "events", endpoint_url=events_endpoint, region_name=REGION
    )
    sqs: SQSClient = boto3.client("sqs", endpoint_url=events_endpoint, region_name=REGION)
    events.create_event_bus(Name=name)
    queue_url = sqs.create_queue(QueueName=f"{name}-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="all", EventBusName=name, EventPattern=json.dumps({"source": [names.EVENT_SOURCE]})
    )
    events.put_targets(Rule="all", EventBusName=name, Targets=[{"Id": "copy", "Arn": queue_arn}])
    return Bus(name=name, queue_url=queue_url, sqs=sqs)


# --- helpers ---------------------------------------------------------------------------------


def _allowed_actions(synthesized: Synthesized, function: invocation.FunctionArtifact) -> set[str]:
    """The IAM actions the function's role allows, read from the synthesized template."""
    resources = synthesized.template_json["Resources"]
    role_id = resources[function.logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    allowed: set[str] = set()
    for resource in resources.values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role_id} in resource["Properties"]["Roles"]
        ):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                action = statement["Action"]
                allowed.update(action if isinstance(action, list) else [action])
    return allowed


@dataclass(frozen=True)
class Runner:
    """Invokes the assembly's functions against local endpoints, checking every AWS call."""

    synthesized: Synthesized
    boto3_dir: Path
    python: Path
    endpoints: Mapping[str, str]

    def run(
        self,
        function: invocation.FunctionArtifact,
        event: dict[str, Any],
        *,
        table_name: str,
        bus_name: str = "unused",
    ) -> invocation.Invocation:
        """Invoke ``function``; fail on an exception or on a call its role does not allow."""
        environment = assembly.resolve_environment(
            function,
            _refs(self.synthesized, table_name, bus_name),
            **CREDENTIALS,
            **self.endpoints,
        )
        answer = invocation.invoke(
            function,
            event,
            environment=environment,
            boto3_dir=self.boto3_dir,
            python=self.python,
            region=REGION,
            report_modules=LOADED_FROM,
            record_calls=True,
        )
        assert answer.error is None, f"{answer.error}\n{answer.stdout[-3000:]}"
        forbidden = set(answer.calls) - _allowed_actions(self.synthesized, function)
        assert not forbidden, f"{function.handler} calls what its role forbids: {sorted(forbidden)}"
        return answer


@pytest.fixture
def runner(
    synthesized: Synthesized,
    boto3_dir: Path,
    runtime_python: Path,
    dynamodb_local: DynamoDBLocal,
    events_endpoint: str,
) -> Runner:
    """Runs handlers against DynamoDB Local and moto's EventBridge."""
    return Runner(
        synthesized=synthesized,
        boto3_dir=boto3_dir,
        python=runtime_python,
        endpoints={
            names.ENV_DYNAMODB_ENDPOINT: dynamodb_local.endpoint_url,
            names.ENV_EVENTS_ENDPOINT: events_endpoint,
        },
    )


def _refs(synthesized: Synthesized, table_name: str, bus_name: str = "unused") -> dict[str, str]:
    """Local values for the resources the functions' variables refer to."""
    stack = synthesized.stack
    return {
        synthesized.resolve(stack.table.table_name)["Ref"]: table_name,
        synthesized.resolve(stack.ingestion.bus.event_bus_name)["Ref"]: bus_name,
    }


def _api_event(method: str, path: str, *, query: dict[str, str] | None = None,
               body: Any = None) -> dict[str, Any]:  # fmt: skip
    """An API Gateway REST proxy event as the {proxy+} resource of the v1 stage sends it."""
    headers = {"Content-Type": "application/json", "Host": "abc123.execute-api.amazonaws.com"}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "extended-id",
            "requestTime": "01/Jan/2024:00:00:00 +0000",
            "path": f"/{config.API_STAGE_NAME}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": config.API_STAGE_NAME,
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1704067200000,
            "requestId": str(uuid.uuid4()),
            "identity": {
                "accountId": ACCOUNT,
                "caller": "AIDAEXAMPLE",
                "userArn": f"arn:aws:iam::{ACCOUNT}:user/tester",
                "user": "AIDAEXAMPLE",
                "accessKey": "AKIAEXAMPLE",
                "sourceIp": "192.0.2.1",
                "userAgent": "awscurl",
            },
            "domainName": "abc123.execute-api.amazonaws.com",
            "apiId": "abc123",
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def _sqs_event(detail_type: str, details: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS batch whose bodies are EventBridge events, as the rule -> queue path makes them."""
    records = []
    for detail in details:
        body = json.dumps(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": detail_type,
                "source": names.EVENT_SOURCE,
                "account": ACCOUNT,
                "time": "2024-01-01T00:00:00Z",
                "region": REGION,
                "resources": [],
                "detail": detail,
            }
        )
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1704067200000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1704067200000",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def _actor_detail(*actors: dict[str, Any]) -> dict[str, Any]:
    return {
        "content_type": "actor",
        "contents": [
            {"partition_ids": [], "content_ids": [actor["id"]], "item": actor} for actor in actors
        ],
    }


def _stored_names(dynamodb_client: DynamoDBClient, table_name: str) -> list[str]:
    items = dynamodb_client.scan(TableName=table_name, ConsistentRead=True)["Items"]
    return sorted(item["name"]["S"] for item in items if "name" in item)


# --- tests -----------------------------------------------------------------------------------


def test_the_assembly_holds_the_four_handlers_on_the_layer(
    functions: dict[str, invocation.FunctionArtifact],
) -> None:
    assert set(functions) == {
        names.API_HANDLER,
        names.BATCH_WRITER_HANDLER,
        names.WRITE_ONCE_HANDLER,
        names.STREAM_CONSUMER_HANDLER,
    }
    for function in functions.values():
        (layer,) = function.layer_dirs
        assert (layer / "python" / "pydantic_dynamo" / "__init__.py").is_file()
        assert (function.code_dir / function.handler.split(".")[0]).is_dir()


def test_api_stores_and_reads_back_an_item_from_the_artifact(
    runner: Runner,
    functions: dict[str, invocation.FunctionArtifact],
    table_name: str,
) -> None:
    api = functions[names.API_HANDLER]
    body = {"partition_ids": [], "content_ids": [ACTOR["id"]], "item": ACTOR}

    put = runner.run(api, _api_event("PUT", "/records/actor", body=body), table_name=table_name)
    assert put.result["statusCode"] == 200, put.result
    get = runner.run(
        api,
        _api_event("GET", "/records/actor/item", query={"content_id": ACTOR["id"]}),
        table_name=table_name,
    )
    assert get.result["statusCode"] == 200, get.result
    assert json.loads(get.result["body"])["item"] == ACTOR
    assert "dynamodb:UpdateItem" in put.calls  # PUT stores through save(): one UpdateItem
    assert "dynamodb:GetItem" in get.calls

    # The code came from the artifact: the layer's wheels; boto3 was never loaded.
    layer = str(api.layer_dirs[0])
    for module in LAYER_MODULES:
        assert str(get.module_files.get(module)).startswith(layer), module
    assert "boto3" not in put.module_files
    assert "boto3" not in get.module_files


def test_api_answers_a_bad_request_with_a_4xx_not_a_crash(
    runner: Runner, functions: dict[str, invocation.FunctionArtifact], table_name: str
) -> None:
    bad = {"partition_ids": [], "content_ids": ["a2"], "item": {"id": "a2"}}  # no name
    answer = runner.run(
        functions[names.API_HANDLER],
        _api_event("PUT", "/records/actor", body=bad),
        table_name=table_name,
    )
    assert 400 <= answer.result["statusCode"] < 500, answer.result


def test_batch_writer_writes_the_good_message_and_reports_only_the_bad_one(
    runner: Runner,
    functions: dict[str, invocation.FunctionArtifact],
    dynamodb_client: DynamoDBClient,
    table_name: str,
) -> None:
    event = _sqs_event(
        names.DETAIL_TYPE_SUBMITTED,
        [
            _actor_detail(ACTOR, {"id": "a2", "name": "Frances McDormand"}),
            {"content_type": "no-such-type", "contents": []},
        ],
    )
    answer = runner.run(functions[names.BATCH_WRITER_HANDLER], event, table_name=table_name)
    bad_id = event["Records"][1]["messageId"]
    assert answer.result == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
    assert _stored_names(dynamodb_client, table_name) == ["Frances McDormand", "Steve Buscemi"]
    assert set(answer.calls) == {"dynamodb:BatchWriteItem"}
    assert "boto3" not in answer.module_files


def test_deduper_writes_and_announces_new_contents_once(
    runner: Runner,
    functions: dict[str, invocation.FunctionArtifact],
    dynamodb_client: DynamoDBClient,
    table_name: str,
    bus: Bus,
) -> None:
    deduper = functions[names.WRITE_ONCE_HANDLER]
    offered = _sqs_event(names.DETAIL_TYPE_OFFERED, [_actor_detail(ACTOR)])

    first = runner.run(deduper, offered, table_name=table_name, bus_name=bus.name)
    assert first.result == {"batchItemFailures": []}
    assert _stored_names(dynamodb_client, table_name) == ["Steve Buscemi"]
    assert "events:PutEvents" in first.calls
    assert "boto3" not in first.module_files
    announced = bus.received()
    assert [event["detail-type"] for event in announced] == [names.DETAIL_TYPE_WRITTEN]

    offered_again = _sqs_event(names.DETAIL_TYPE_OFFERED, [_actor_detail(ACTOR)])
    again = runner.run(deduper, offered_again, table_name=table_name, bus_name=bus.name)
    assert again.result == {"batchItemFailures": []}
    assert "events:PutEvents" not in again.calls
    assert bus.received() == []


def test_deduper_announces_after_all_when_the_first_announcement_failed(
    runner: Runner,
    functions: dict[str, invocation.FunctionArtifact],
    dynamodb_client: DynamoDBClient,
    table_name: str,
    bus: Bus,
) -> None:
    deduper = functions[names.WRITE_ONCE_HANDLER]
    offered = _sqs_event(names.DETAIL_TYPE_OFFERED, [_actor_detail(ACTOR)])

    # The bus does not exist: the content is written, its announcement fails for good, the
    # message is failed and a pending marker is left (the path that needs BatchWriteItem).
    missing_bus = f"missing-{uuid.uuid4().hex[:8]}"
    failed = runner.run(deduper, offered, table_name=table_name, bus_name=missing_bus)
    message_id = offered["Records"][0]["messageId"]
    assert failed.result == {"batchItemFailures": [{"itemIdentifier": message_id}]}
    assert "Steve Buscemi" in _stored_names(dynamodb_client, table_name)

    # Redelivered with the bus in place: announced after all, marker cleared (DeleteItem).
    redelivered = runner.run(deduper, offered, table_name=table_name, bus_name=bus.name)
    assert redelivered.result == {"batchItemFailures": []}
    assert [event["detail-type"] for event in bus.received()] == [names.DETAIL_TYPE_WRITTEN]
    assert "dynamodb:DeleteItem" in redelivered.calls


def _stream_event(actor: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB stream batch of one INSERT, as Lambda's event source mapping delivers it."""
    keys = {
        names.PARTITION_KEY: {"S": "film#actor#"},
        names.SORT_KEY: {"S": f"actor#{actor['id']}"},
    }
    image = {
        **keys,
        **{name: {"S": value} for name, value in actor.items()},
        "_object_version": {"N": "1"},
    }
    record = {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": 1704067200,
            "Keys": keys,
            "NewImage": image,
            "SequenceNumber": "100000000000000000001",
            "SizeBytes": 120,
            "StreamViewType": names.TABLE_STREAM_VIEW_TYPE,
        },
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/records/stream/2024",
    }
    return {"Records": [record]}


def test_stream_consumer_announces_a_change_from_the_artifact(
    runner: Runner, functions: dict[str, invocation.FunctionArtifact], bus: Bus
) -> None:
    consumer = functions[names.STREAM_CONSUMER_HANDLER]

    answer = runner.run(consumer, _stream_event(ACTOR), table_name="records", bus_name=bus.name)

    assert answer.result == {"batchItemFailures": []}
    assert set(answer.calls) == {"events:PutEvents"}  # the stream's images need no table read
    assert "boto3" not in answer.module_files
    (event,) = bus.received()
    assert event["detail-type"] == names.DETAIL_TYPE_CHANGED
    assert (event["detail"]["change"], event["detail"]["new"]["item"]) == ("inserted", ACTOR)

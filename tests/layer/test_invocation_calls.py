"""``invoke(record_calls=True)`` lists every AWS call, the lean clients' and boto3's alike."""

from __future__ import annotations

import sys
import sysconfig
import textwrap
from pathlib import Path

from layer.invocation import FunctionArtifact, invoke

REPO = Path(__file__).resolve().parents[2]

# Every call goes to a closed port: the call is recorded when it starts, answered or not.
HANDLER = """
from pydantic_dynamo.transport import LeanClient, LeanEventsClient, TransportRetries

ENDPOINT = "http://127.0.0.1:9"
ONCE = TransportRetries(max_attempts=1)

def _try(call, **params):
    try:
        call(**params)
    except Exception:
        pass

def handler(event, context):
    dynamodb = LeanClient(endpoint_url=ENDPOINT, retries=ONCE)
    _try(dynamodb.get_item, TableName="t", Key={})
    key = {"PK": {"S": "a"}, "SK": {"S": "b"}}
    _try(dynamodb.transact_write_items, TransactItems=[
        {"Put": {"TableName": "t", "Item": key}},
        {"ConditionCheck": {"TableName": "t", "Key": key, "ConditionExpression": "c"}},
        {"Delete": {"TableName": "t", "Key": key}},
    ])
    _try(LeanEventsClient(endpoint_url=ENDPOINT, retries=ONCE).put_events, Entries=[])
    if event.get("boto3"):
        import boto3
        from botocore.config import Config
        sqs = boto3.client("sqs", endpoint_url=ENDPOINT,
                           config=Config(retries={"total_max_attempts": 1}))
        _try(sqs.send_message, QueueUrl=ENDPOINT + "/q", MessageBody="m")
    return "done"
"""


def _function(tmp_path: Path) -> FunctionArtifact:
    code = tmp_path / "code"
    code.mkdir()
    (code / "recorded.py").write_text(textwrap.dedent(HANDLER))
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "python").symlink_to(REPO / "shared")
    return FunctionArtifact(
        logical_id="Recorded",
        handler="recorded.handler",
        code_dir=code,
        layer_dirs=(layer,),
        memory_mb=256,
        timeout_seconds=30,
    )


def _invoke(
    tmp_path: Path, event: dict[str, bool]
) -> tuple[tuple[str, ...], dict[str, str | None]]:
    invocation = invoke(
        _function(tmp_path),
        event,
        environment={"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"},
        boto3_dir=Path(sysconfig.get_paths()["purelib"]),
        python=Path(sys.executable),
        report_modules=("boto3",),
        record_calls=True,
    )
    assert invocation.error is None, invocation.error
    assert invocation.result == "done"
    return invocation.calls, dict(invocation.module_files)


LEAN_CALLS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "events:PutEvents",
)


def test_the_lean_clients_calls_are_recorded_without_importing_boto3(tmp_path: Path) -> None:
    calls, modules = _invoke(tmp_path, {})
    assert calls == LEAN_CALLS
    assert "boto3" not in modules  # recording did not import it either


def test_a_boto3_client_in_use_is_recorded_too(tmp_path: Path) -> None:
    calls, modules = _invoke(tmp_path, {"boto3": True})
    assert calls == (*LEAN_CALLS, "sqs:SendMessage")
    assert modules["boto3"] is not None

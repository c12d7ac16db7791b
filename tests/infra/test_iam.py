"""Least privilege: each function's role allows exactly the actions its handler calls."""

from __future__ import annotations

import json
from typing import Any

from infra import permissions
from infra.functions import ServiceFunction
from infra.ingestion import QueueWorker
from records_service import topology
from tests.infra.conftest import Synthesized

Grant = tuple[str, str]  # (action, resource as canonical JSON)

LOG_WRITE = ("logs:CreateLogStream", "logs:PutLogEvents")
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
SQS_CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
# What the issue asks of the API and the batch writer, spelled out independently of the code.
API_TABLE = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",  # PUT with If-None-Match: * (create only)
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
)
# Only the API reads an index, by Query, on the one index the content types are on.
API_INDEX = ("dynamodb:Query",)
QUERIED_INDEX = "gsi1"
BATCH_WRITER_TABLE = ("dynamodb:BatchWriteItem",)
WRITE_ONCE_TABLE = (
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
)
# The stream consumer reads the stream (on its ARN), sends to its on-failure queue (what CDK's
# SqsDlq grants), and reads nothing of the table.
STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
SQS_SEND = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")


def _canonical(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(synthesized: Synthesized, function: ServiceFunction) -> set[Grant]:
    """Every (action, resource) that the function's role allows, from all its policies."""
    role_ref = synthesized.resolve(function.role.role_name)  # {"Ref": "<role logical id>"}
    resources = synthesized.template_json["Resources"]
    role = resources[role_ref["Ref"]]["Properties"]
    assert "ManagedPolicyArns" not in role, "no managed policy: they grant far more than needed"
    statements: list[dict[str, Any]] = [
        statement
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and role_ref in resource["Properties"]["Roles"]:
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    grants: set[Grant] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "Condition" not in statement
        assert "NotAction" not in statement
        for action in _as_list(statement["Action"]):
            for target in _as_list(statement["Resource"]):
                grants.add((action, _canonical(target)))
    return grants


def _expected(
    synthesized: Synthesized, function: ServiceFunction, *pairs: tuple[tuple[str, ...], Any]
) -> set[Grant]:
    """The grants every function has (own log group, X-Ray) plus ``pairs``."""
    expected = {
        (action, _canonical(synthesized.resolve(function.log_group.log_group_arn)))
        for action in LOG_WRITE
    }
    expected |= {(action, _canonical("*")) for action in XRAY}
    for actions, resource in pairs:
        expected |= {(action, _canonical(synthesized.resolve(resource))) for action in actions}
    return expected


def _worker(synthesized: Synthesized, route: topology.QueueRoute) -> QueueWorker:
    (worker,) = [w for w in synthesized.stack.ingestion.workers if w.spec.route == route]
    return worker


def _index_arn(synthesized: Synthesized, index_name: str) -> Any:
    """``<table arn>/index/<name>`` as the template spells it."""
    return {
        "Fn::Join": [
            "",
            [synthesized.resolve(synthesized.stack.table.table_arn), f"/index/{index_name}"],
        ]
    }


def _index_grants(grants: set[Grant]) -> set[Grant]:
    return {(action, resource) for action, resource in grants if "/index" in resource}


def test_api_function_may_call_only_the_api_table_actions_and_query_its_index(
    synthesized: Synthesized,
) -> None:
    handler = synthesized.stack.api.handler
    table_arn = synthesized.stack.table.table_arn
    expected = _expected(synthesized, handler, (API_TABLE, table_arn))
    expected |= {
        (action, _canonical(_index_arn(synthesized, QUERIED_INDEX))) for action in API_INDEX
    }

    assert _grants(synthesized, handler) == expected


def test_api_may_only_query_the_named_index_never_every_index(synthesized: Synthesized) -> None:
    grants = _index_grants(_grants(synthesized, synthesized.stack.api.handler))

    assert grants == {("dynamodb:Query", _canonical(_index_arn(synthesized, QUERIED_INDEX)))}
    assert not any("*" in resource for _, resource in grants)


def test_queue_workers_have_no_access_to_any_index(synthesized: Synthesized) -> None:
    for worker in synthesized.stack.ingestion.workers:
        assert _index_grants(_grants(synthesized, worker.handler)) == set(), worker.node.id


def test_batch_writer_may_only_batch_write_and_consume_its_queue(
    synthesized: Synthesized,
) -> None:
    worker = _worker(synthesized, topology.BATCH_WRITER)
    assert _grants(synthesized, worker.handler) == _expected(
        synthesized,
        worker.handler,
        (BATCH_WRITER_TABLE, synthesized.stack.table.table_arn),
        (SQS_CONSUME, worker.queue.queue_arn),
    )


def test_write_once_may_write_consume_its_queue_and_put_events_on_the_bus_only(
    synthesized: Synthesized,
) -> None:
    worker = _worker(synthesized, topology.WRITE_ONCE)
    assert _grants(synthesized, worker.handler) == _expected(
        synthesized,
        worker.handler,
        (WRITE_ONCE_TABLE, synthesized.stack.table.table_arn),
        (("events:PutEvents",), synthesized.stack.ingestion.bus.event_bus_arn),
        (SQS_CONSUME, worker.queue.queue_arn),
    )


def test_stream_consumer_may_read_the_stream_put_events_on_the_bus_and_fail_to_its_queue_only(
    synthesized: Synthesized,
) -> None:
    consumer = synthesized.stack.stream_consumer
    assert _grants(synthesized, consumer.handler) == _expected(
        synthesized,
        consumer.handler,
        (STREAM_READ, synthesized.stack.table.table_stream_arn),
        (("events:PutEvents",), synthesized.stack.ingestion.bus.event_bus_arn),
        (SQS_SEND, consumer.dlq.queue_arn),
    )


def test_stream_consumer_reads_no_item_of_the_table_and_no_stream_by_wildcard(
    synthesized: Synthesized,
) -> None:
    grants = _grants(synthesized, synthesized.stack.stream_consumer.handler)
    table_arn = _canonical(synthesized.resolve(synthesized.stack.table.table_arn))
    assert not [grant for grant in grants if grant[1] == table_arn]
    assert {resource for action, resource in grants if action.startswith("dynamodb:")} == {
        _canonical(synthesized.resolve(synthesized.stack.table.table_stream_arn))
    }


def test_the_spelled_out_sets_match_the_infra_constants() -> None:
    assert permissions.API_TABLE_ACTIONS == API_TABLE
    assert permissions.API_INDEX_ACTIONS == API_INDEX
    assert permissions.BATCH_WRITER_TABLE_ACTIONS == BATCH_WRITER_TABLE
    assert permissions.WRITE_ONCE_TABLE_ACTIONS == WRITE_ONCE_TABLE
    assert permissions.STREAM_READ_ACTIONS == STREAM_READ


def test_write_once_never_scans_updates_or_manages_the_table() -> None:
    forbidden = {"dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteTable", "dynamodb:*"}
    assert not forbidden & set(permissions.WRITE_ONCE_TABLE_ACTIONS)


def test_each_function_has_its_own_role_assumable_by_lambda_only(
    synthesized: Synthesized,
) -> None:
    functions = [
        synthesized.stack.api.handler,
        *(worker.handler for worker in synthesized.stack.ingestion.workers),
        synthesized.stack.stream_consumer.handler,
    ]
    roles = {json.dumps(synthesized.resolve(f.role.role_arn)) for f in functions}
    assert len(roles) == len(functions) == 4
    resources = synthesized.template_json["Resources"]
    for function in functions:
        role_id = synthesized.resolve(function.role.role_name)["Ref"]
        trust = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ]


def test_only_the_four_function_roles_touch_the_table_its_stream_or_the_bus(
    synthesized: Synthesized,
) -> None:
    function_roles = [
        synthesized.resolve(f.role.role_name)
        for f in (
            synthesized.stack.api.handler,
            *(worker.handler for worker in synthesized.stack.ingestion.workers),
            synthesized.stack.stream_consumer.handler,
        )
    ]
    for resource in synthesized.template_json["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        actions = {
            action
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
            for action in _as_list(statement["Action"])
        }
        if any(a.startswith(("dynamodb:", "events:")) for a in actions):
            assert all(role in function_roles for role in resource["Properties"]["Roles"])

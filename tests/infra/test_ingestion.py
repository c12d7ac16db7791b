"""Ingestion: bus -> rule -> queue (DLQ) -> function, exactly as records_service.topology says."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.ingestion import QueueWorker
from records_service import names, topology
from tests.infra.conftest import Synthesized

ROUTES = pytest.mark.parametrize("route", topology.QUEUE_ROUTES, ids=lambda r: r.name)


def _worker(synthesized: Synthesized, route: topology.QueueRoute) -> QueueWorker:
    (worker,) = [w for w in synthesized.stack.ingestion.workers if w.spec.route == route]
    return worker


def _properties(synthesized: Synthesized, token: str) -> dict[str, Any]:
    """The template properties of the resource that ``token`` (a Ref) names."""
    logical_id = synthesized.resolve(token)["Ref"]
    props: dict[str, Any] = synthesized.template_json["Resources"][logical_id]["Properties"]
    return props


def test_one_worker_per_topology_route(synthesized: Synthesized) -> None:
    routes = [worker.spec.route for worker in synthesized.stack.ingestion.workers]
    assert routes == list(topology.QUEUE_ROUTES)


def test_one_rule_per_route_and_none_for_what_the_deduper_announces(
    template: Template,
) -> None:
    rules = template.find_resources("AWS::Events::Rule")
    assert len(rules) == len(topology.QUEUE_ROUTES)
    matched = {
        detail_type
        for rule in rules.values()
        for detail_type in rule["Properties"]["EventPattern"]["detail-type"]
    }
    # A rule on RecordsWritten would feed the deduper's own announcements back in: a loop.
    assert names.DETAIL_TYPE_WRITTEN not in matched


@ROUTES
def test_rule_routes_its_detail_type_from_the_bus_to_its_queue(
    synthesized: Synthesized, route: topology.QueueRoute
) -> None:
    worker = _worker(synthesized, route)
    rule = _properties(synthesized, worker.rule.rule_name)
    assert rule["EventPattern"] == route.event_pattern()
    assert rule["EventBusName"] == synthesized.resolve(
        synthesized.stack.ingestion.bus.event_bus_name
    )
    (target,) = rule["Targets"]
    assert target["Arn"] == synthesized.resolve(worker.queue.queue_arn)
    assert target["DeadLetterConfig"]["Arn"] == synthesized.resolve(
        synthesized.stack.ingestion.delivery_dlq.queue_arn
    )


@ROUTES
def test_queue_redrives_to_its_own_dlq_after_max_receive_count(
    synthesized: Synthesized, route: topology.QueueRoute
) -> None:
    worker = _worker(synthesized, route)
    queue = _properties(synthesized, worker.queue.queue_url)
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": synthesized.resolve(worker.dlq.queue_arn),
        "maxReceiveCount": route.max_receive_count,
    }


@ROUTES
def test_visibility_timeout_is_at_least_six_function_timeouts(
    synthesized: Synthesized, route: topology.QueueRoute
) -> None:
    worker = _worker(synthesized, route)
    queue = _properties(synthesized, worker.queue.queue_url)
    function = _properties(synthesized, worker.handler.function.function_name)
    assert function["Timeout"] == route.function_timeout_seconds
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


@ROUTES
def test_event_source_mapping_reports_partial_batch_failures(
    synthesized: Synthesized, route: topology.QueueRoute, template: Template
) -> None:
    worker = _worker(synthesized, route)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": synthesized.resolve(worker.queue.queue_arn),
            "FunctionName": synthesized.resolve(worker.handler.function.function_name),
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": route.batch_size,
            "MaximumBatchingWindowInSeconds": route.max_batching_window_seconds,
        },
    )


def test_every_event_source_mapping_reports_partial_batch_failures(template: Template) -> None:
    mappings = template.find_resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(topology.QUEUE_ROUTES) + 1  # and the table stream's
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_queue_is_encrypted_by_sqs_and_refuses_plain_http(template: Template) -> None:
    queues = template.find_resources("AWS::SQS::Queue")
    # Per route a queue and its DLQ, the DLQ of undeliverable events, and the stream
    # consumer's on-failure queue.
    assert len(queues) == 2 * len(topology.QUEUE_ROUTES) + 2
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id
        template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": logical_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "sqs:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


@ROUTES
def test_only_eventbridge_rules_of_this_route_may_send_to_its_queue(
    synthesized: Synthesized, route: topology.QueueRoute, template: Template
) -> None:
    worker = _worker(synthesized, route)
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [synthesized.resolve(worker.queue.queue_url)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Condition": {
                                    "ArnEquals": {
                                        "aws:SourceArn": synthesized.resolve(worker.rule.rule_arn)
                                    }
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


@ROUTES
def test_workers_know_the_table_and_only_the_deduper_knows_the_bus(
    synthesized: Synthesized, route: topology.QueueRoute
) -> None:
    worker = _worker(synthesized, route)
    variables = _properties(synthesized, worker.handler.function.function_name)["Environment"][
        "Variables"
    ]
    assert variables[names.ENV_TABLE_NAME] == synthesized.resolve(
        synthesized.stack.table.table_name
    )
    if route == topology.WRITE_ONCE:
        assert variables[names.ENV_EVENT_BUS_NAME] == synthesized.resolve(
            synthesized.stack.ingestion.bus.event_bus_name
        )
    else:
        assert names.ENV_EVENT_BUS_NAME not in variables

"""Create, on local endpoints, the resources the CDK app declares: table, bus, queues, rules.

Everything comes from ``records_service.names`` (key and TTL attributes) and
``records_service.topology`` (one rule -> queue -> DLQ per route, its event pattern and
``maxReceiveCount``). Only the visibility timeout differs from a deployment, on purpose: see
``config.DEFAULT_VISIBILITY_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_stack import config
from local_stack.dynamodb_local import create_records_table
from records_service import names, topology

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

    from records_service.topology import QueueRoute

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the longest SQS keeps a message, as deployed


@dataclass(frozen=True)
class QueuePair:
    """A route's queue and its dead-letter queue."""

    route: QueueRoute
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


@dataclass(frozen=True)
class LocalResources:
    """What ``create_resources`` made."""

    table_name: str
    bus_name: str
    bus_arn: str
    queues: dict[str, QueuePair]  # by route name


def _queue_arn(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def create_queue_pair(
    sqs: SQSClient, route: QueueRoute, visibility_timeout_seconds: int
) -> QueuePair:
    """The route's DLQ, then its queue redriving to it after ``route.max_receive_count``."""
    dlq_url = sqs.create_queue(
        QueueName=config.dlq_name(route.name),
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": route.max_receive_count}
    url = sqs.create_queue(
        QueueName=config.queue_name(route.name),
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return QueuePair(route, url, _queue_arn(sqs, url), dlq_url, dlq_arn)


def create_rule(
    events: EventBridgeClient, bus_name: str, route: QueueRoute, queue_arn: str
) -> None:
    """The rule sending the route's events (its ``event_pattern()``) to its queue."""
    rule = config.rule_name(route.name)
    events.put_rule(
        Name=rule,
        EventBusName=bus_name,
        EventPattern=json.dumps(route.event_pattern()),
        State="ENABLED",
        Description=f"{route.detail_type} -> {config.queue_name(route.name)}",
    )
    events.put_targets(
        Rule=rule, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )


def create_resources(
    *,
    dynamodb: DynamoDBClient,
    sqs: SQSClient,
    events: EventBridgeClient,
    visibility_timeout_seconds: int = config.DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
    table_name: str = config.TABLE_NAME,
    bus_name: str = config.BUS_NAME,
    routes: Sequence[QueueRoute] = topology.QUEUE_ROUTES,
) -> LocalResources:
    """Create the table (keys and TTL from ``names``), the bus, and each route's queues and rule.

    A table of that name that already exists (a shared DynamoDB Local, say) is kept as it is.
    """
    existing = dynamodb.list_tables().get("TableNames", [])
    if table_name not in existing:
        create_records_table(
            dynamodb,
            table_name,
            partition_key=names.PARTITION_KEY,
            sort_key=names.SORT_KEY,
            ttl_attribute=names.TTL_ATTRIBUTE,
        )
    bus_arn = events.create_event_bus(Name=bus_name)["EventBusArn"]
    queues: dict[str, QueuePair] = {}
    for route in routes:
        pair = create_queue_pair(sqs, route, visibility_timeout_seconds)
        create_rule(events, bus_name, route, pair.arn)
        queues[route.name] = pair
    return LocalResources(table_name, bus_name, bus_arn, queues)

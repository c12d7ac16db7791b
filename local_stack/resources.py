"""Create, on local endpoints, the resources the CDK app declares: table, bus, queues, rules.

Everything comes from ``records_service.names`` (the table: keys, TTL attribute, physical
indexes, ``names.TABLE``, as the CDK app reads it, and its stream, ``names.TABLE_STREAM_VIEW_TYPE``)
and ``records_service.topology`` (one rule -> queue -> DLQ per route, its event pattern and
``maxReceiveCount``; the stream consumer's on-failure queue). Only the visibility timeout
differs from a deployment, on purpose: see ``config.DEFAULT_VISIBILITY_TIMEOUT_SECONDS``. The
bus log's rule and queue (``config.BUS_LOG_QUEUE``) exist locally alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_stack import config
from pydantic_dynamo.table import TableDescription, create_table
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
    stream_arn: str
    stream_dlq_url: str  # the stream consumer's on-failure queue
    bus_log_url: str


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


def enable_stream(dynamodb: DynamoDBClient, table_name: str, *, timeout: float = 60.0) -> str:
    """Turn on the table's stream (``names.TABLE_STREAM_VIEW_TYPE``) unless it is; its ARN.

    A table whose stream has another view type is refused: the stream consumer needs both
    images.
    """
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    specification = table.get("StreamSpecification", {})
    if specification.get("StreamEnabled"):
        if specification.get("StreamViewType") != names.TABLE_STREAM_VIEW_TYPE:
            raise RuntimeError(
                f"table {table_name!r} streams {specification.get('StreamViewType')}; the "
                f"stream consumer needs {names.TABLE_STREAM_VIEW_TYPE}"
            )
    else:
        dynamodb.update_table(
            TableName=table_name,
            StreamSpecification={
                "StreamEnabled": True,
                "StreamViewType": names.TABLE_STREAM_VIEW_TYPE,
            },
        )
    deadline = time.monotonic() + timeout
    while True:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        if table.get("LatestStreamArn") and table.get("TableStatus") == "ACTIVE":
            return table["LatestStreamArn"]
        if time.monotonic() >= deadline:
            raise RuntimeError(f"the stream of {table_name!r} not ready after {timeout:g} s")
        time.sleep(0.05)


def create_bus_log(events: EventBridgeClient, sqs: SQSClient, bus_name: str) -> str:
    """A queue receiving a copy of every announcement on the bus (RecordsWritten,
    RecordsChanged), for the stack to print; its URL."""
    url = sqs.create_queue(QueueName=config.BUS_LOG_QUEUE)["QueueUrl"]
    pattern = {
        "source": [names.EVENT_SOURCE],
        "detail-type": [names.DETAIL_TYPE_WRITTEN, names.DETAIL_TYPE_CHANGED],
    }
    events.put_rule(
        Name=config.BUS_LOG_RULE,
        EventBusName=bus_name,
        EventPattern=json.dumps(pattern),
        State="ENABLED",
        Description="the service's announcements -> the local stack's bus log",
    )
    events.put_targets(
        Rule=config.BUS_LOG_RULE,
        EventBusName=bus_name,
        Targets=[{"Id": "bus-log", "Arn": _queue_arn(sqs, url)}],
    )
    return url


def add_missing_indexes(
    dynamodb: DynamoDBClient,
    table_name: str,
    description: TableDescription,
    *,
    timeout: float = 60.0,
) -> list[str]:
    """Add to an existing table the global indexes of ``description`` it lacks; their names.

    One index per UpdateTable, as DynamoDB requires, each waited for until ACTIVE. Items
    written before an index existed carry no key attributes for it: save them again to index
    them (the stack's seed does so for the sample data).
    """
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    request = description.create_table_request(table_name)
    added: list[str] = []
    for spec in request.get("GlobalSecondaryIndexes", []):
        if spec["IndexName"] in present:
            continue
        keys = {key["AttributeName"] for key in spec["KeySchema"]}
        dynamodb.update_table(
            TableName=table_name,
            AttributeDefinitions=[
                d for d in request["AttributeDefinitions"] if d["AttributeName"] in keys
            ],
            GlobalSecondaryIndexUpdates=[{"Create": spec}],
        )
        _wait_for_index(dynamodb, table_name, spec["IndexName"], timeout)
        added.append(spec["IndexName"])
    return added


def _wait_for_index(dynamodb: DynamoDBClient, table_name: str, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        statuses = {
            i["IndexName"]: i.get("IndexStatus") for i in table.get("GlobalSecondaryIndexes", [])
        }
        if statuses.get(name) == "ACTIVE":
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(f"index {name!r} of {table_name!r} not ACTIVE after {timeout:g} s")
        time.sleep(0.05)


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
    """Create the table (``names.TABLE``, with its stream), the bus, each route's queues and
    rule, the stream consumer's on-failure queue and the bus log.

    A table of that name that already exists (a shared DynamoDB Local, say) is kept, and given
    the global indexes of ``names.TABLE`` it lacks (``add_missing_indexes``) and its stream.
    """
    existing = dynamodb.list_tables().get("TableNames", [])
    if table_name in existing:
        add_missing_indexes(dynamodb, table_name, names.TABLE)
    else:
        create_table(dynamodb, table_name, names.TABLE)
    stream_arn = enable_stream(dynamodb, table_name)
    bus_arn = events.create_event_bus(Name=bus_name)["EventBusArn"]
    queues: dict[str, QueuePair] = {}
    for route in routes:
        pair = create_queue_pair(sqs, route, visibility_timeout_seconds)
        create_rule(events, bus_name, route, pair.arn)
        queues[route.name] = pair
    stream_dlq_url = sqs.create_queue(
        QueueName=config.dlq_name(topology.STREAM_CONSUMER.name),
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )["QueueUrl"]
    bus_log_url = create_bus_log(events, sqs, bus_name)
    return LocalResources(
        table_name, bus_name, bus_arn, queues, stream_arn, stream_dlq_url, bus_log_url
    )

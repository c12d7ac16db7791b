"""Event ingestion: the service's event bus, and per route a rule, a queue with its DLQ and a
function draining it with partial batch responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import config, nag, permissions
from infra.functions import ServiceFunction
from records_service import names, topology


@dataclass(frozen=True)
class WorkerSpec:
    """What the infrastructure adds to a ``topology.QueueRoute``: size, grants and a label."""

    route: topology.QueueRoute
    memory_mb: int
    table_actions: tuple[str, ...]
    publishes_events: bool
    description: str


WORKERS: Final = (
    WorkerSpec(
        route=topology.BATCH_WRITER,
        memory_mb=config.BATCH_WRITER_MEMORY_MB,
        table_actions=permissions.BATCH_WRITER_TABLE_ACTIONS,
        publishes_events=False,
        description="Records batch writer (SQS, partial batch responses)",
    ),
    WorkerSpec(
        route=topology.WRITE_ONCE,
        memory_mb=config.WRITE_ONCE_MEMORY_MB,
        table_actions=permissions.WRITE_ONCE_TABLE_ACTIONS,
        publishes_events=True,
        description="Records write-once deduper (SQS, announces what it wrote)",
    ),
)


def _construct_id(route: topology.QueueRoute) -> str:
    """``batch-writer`` -> ``BatchWriter``: readable logical ids in the template."""
    return "".join(part.capitalize() for part in route.name.split("-"))


def _event_pattern(route: topology.QueueRoute) -> events.EventPattern:
    """The route's EventBridge pattern, as the CDK type (the topology holds the JSON form)."""
    pattern = dict(route.event_pattern())
    source = pattern.pop("source")
    detail_type = pattern.pop("detail-type")
    if pattern:  # a new matcher in the topology must be mapped here, not silently dropped
        raise ValueError(f"unmapped event pattern fields for {route.name}: {sorted(pattern)}")
    return events.EventPattern(source=source, detail_type=detail_type)


def _new_queue(
    scope: Construct,
    construct_id: str,
    *,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
    retention_period: Duration | None = None,
) -> sqs.Queue:
    """A queue as every queue of the service is: SQS-managed encryption and TLS only.

    SQS-managed keys, not KMS: EventBridge cannot send to a queue encrypted with the AWS managed
    KMS key, and a customer key would cost a monthly fee for no gain here.
    """
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
        retention_period=retention_period,
    )


def new_dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """A dead-letter queue: kept as long as SQS allows, alarmed on, never redriven further."""
    queue = _new_queue(
        scope, construct_id, retention_period=Duration.days(config.DLQ_RETENTION_DAYS)
    )
    nag.acknowledge(
        queue,
        "Serverless-SQSRedrivePolicy",
        f"This queue is the end of the line, a dead-letter queue: its messages wait "
        f"({config.DLQ_RETENTION_DAYS} days) for a person, alerted by the DLQ-depth alarm, to "
        "fix the cause and redrive them.",
    )
    return queue


class QueueWorker(Construct):
    """One ingestion route: rule -> queue (with DLQ) -> function, as ``topology`` declares it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: WorkerSpec,
        bus: events.IEventBus,
        delivery_dlq: sqs.IQueue,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        ephemeral: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.dlq = self._dead_letter_queue()
        self.queue = self._queue()
        self.rule = self._rule(bus=bus, delivery_dlq=delivery_dlq)
        self.handler = self._function(bus=bus, table=table, layer=layer, ephemeral=ephemeral)
        self._event_source()

    def _dead_letter_queue(self) -> sqs.Queue:
        return new_dead_letter_queue(self, "DeadLetterQueue")

    def _queue(self) -> sqs.Queue:
        route = self.spec.route
        return _new_queue(
            self,
            "Queue",
            # At least six times the function timeout (AWS's advice for SQS event sources), so
            # a message is not handed to a second invocation while the first still works on it.
            visibility_timeout=Duration.seconds(route.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dlq, max_receive_count=route.max_receive_count
            ),
        )

    def _rule(self, *, bus: events.IEventBus, delivery_dlq: sqs.IQueue) -> events.Rule:
        route = self.spec.route
        return events.Rule(
            self,
            "Rule",
            event_bus=bus,
            description=f"{route.detail_type} events to the {route.name} queue",
            event_pattern=_event_pattern(route),
            # Events EventBridge cannot deliver (after its retries) land in the delivery DLQ.
            targets=[targets.SqsQueue(self.queue, dead_letter_queue=delivery_dlq)],
        )

    def _function(
        self,
        *,
        bus: events.IEventBus,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        ephemeral: bool,
    ) -> ServiceFunction:
        route = self.spec.route
        environment = {names.ENV_TABLE_NAME: table.table_name}
        if self.spec.publishes_events:
            environment[names.ENV_EVENT_BUS_NAME] = bus.event_bus_name
        function = ServiceFunction(
            self,
            "Handler",
            code_dir=route.code_dir,
            handler=route.handler,
            layer=layer,
            timeout_seconds=route.function_timeout_seconds,
            memory_mb=self.spec.memory_mb,
            environment=environment,
            description=self.spec.description,
            ephemeral=ephemeral,
        )
        function.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(self.spec.table_actions), resources=[table.table_arn])
        )
        if self.spec.publishes_events:
            function.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(permissions.BUS_PUBLISH_ACTIONS), resources=[bus.event_bus_arn]
                )
            )
        return function

    def _event_source(self) -> None:
        route = self.spec.route
        # Grants the function sqs:ReceiveMessage/DeleteMessage/... on this queue only.
        self.handler.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=route.batch_size,
                max_batching_window=Duration.seconds(route.max_batching_window_seconds),
                # Only the failed messages return to the queue; their neighbours are done.
                report_batch_item_failures=True,
            )
        )
        nag.acknowledge(
            self.handler.function,
            "Serverless-LambdaEventSourceMappingDestination",
            "SQS event source mappings take no on-failure destination: a message that keeps "
            "failing moves to the queue's DLQ through its redrive policy (maxReceiveCount).",
        )


class Ingestion(Construct):
    """The event bus and one ``QueueWorker`` per route of ``topology.QUEUE_ROUTES``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        ephemeral: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = self._bus()
        self.delivery_dlq = self._delivery_dlq()
        self.workers = self._workers(table=table, layer=layer, ephemeral=ephemeral)

    def _bus(self) -> events.EventBus:
        return events.EventBus(self, "Bus", description="Records service events")

    def _delivery_dlq(self) -> sqs.Queue:
        queue = new_dead_letter_queue(self, "DeliveryDeadLetterQueue")
        nag.acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: the rules' targets send the events "
            "EventBridge could not deliver to it, and the DLQ-depth alarm watches it.",
        )
        return queue

    def _workers(
        self, *, table: dynamodb.ITable, layer: lambda_.ILayerVersion, ephemeral: bool
    ) -> tuple[QueueWorker, ...]:
        specified = {spec.route for spec in WORKERS}
        missing = [route.name for route in topology.QUEUE_ROUTES if route not in specified]
        if missing:
            raise ValueError(f"topology routes without a WorkerSpec in infra: {missing}")
        return tuple(
            QueueWorker(
                self,
                _construct_id(spec.route),
                spec=spec,
                bus=self.bus,
                delivery_dlq=self.delivery_dlq,
                table=table,
                layer=layer,
                ephemeral=ephemeral,
            )
            for spec in WORKERS
        )

"""The stream consumer: the table's stream -> function -> ``RecordsChanged`` events on the bus,
with an on-failure queue for the batches Lambda gives up on."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import config, nag, permissions
from infra.functions import ServiceFunction
from infra.ingestion import new_dead_letter_queue
from records_service import names, topology


class StreamConsumer(Construct):
    """The function reading ``table``'s stream as ``topology.STREAM_CONSUMER`` declares it.

    Its role may read the stream (``permissions.STREAM_READ_ACTIONS`` on the stream's ARN), put
    events on ``bus`` and send to its own on-failure queue; nothing else, the table's items
    included (the stream's images carry all it needs). The event source mapping reports partial
    batch failures, bisects a failing batch, and gives up on a batch after the route's retries
    or record age: its description (shard, sequence numbers) then lands in ``dlq``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.Table,
        bus: events.IEventBus,
        layer: lambda_.ILayerVersion,
        ephemeral: bool,
        route: topology.StreamRoute = topology.STREAM_CONSUMER,
    ) -> None:
        super().__init__(scope, construct_id)
        self.route = route
        self.dlq = self._dead_letter_queue()
        self.handler = self._function(table=table, bus=bus, layer=layer, ephemeral=ephemeral)
        self.mapping = self._event_source(table)

    def _dead_letter_queue(self) -> sqs.Queue:
        queue = new_dead_letter_queue(self, "OnFailureQueue")
        nag.acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue (on-failure destination) of the stream "
            "event source mapping; the DLQ-depth alarm watches it.",
        )
        return queue

    def _function(
        self,
        *,
        table: dynamodb.Table,
        bus: events.IEventBus,
        layer: lambda_.ILayerVersion,
        ephemeral: bool,
    ) -> ServiceFunction:
        function = ServiceFunction(
            self,
            "Handler",
            code_dir=self.route.code_dir,
            handler=self.route.handler,
            layer=layer,
            timeout_seconds=self.route.function_timeout_seconds,
            memory_mb=config.STREAM_CONSUMER_MEMORY_MB,
            environment={
                names.ENV_TABLE_NAME: table.table_name,
                names.ENV_EVENT_BUS_NAME: bus.event_bus_name,
            },
            description="Records stream consumer (table changes as RecordsChanged events)",
            ephemeral=ephemeral,
        )
        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the records table has no stream: the stream consumer needs one")
        function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(permissions.STREAM_READ_ACTIONS), resources=[stream_arn]
            )
        )
        function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(permissions.BUS_PUBLISH_ACTIONS), resources=[bus.event_bus_arn]
            )
        )
        return function

    def _event_source(self, table: dynamodb.Table) -> lambda_.EventSourceMapping:
        route = self.route
        assert table.table_stream_arn is not None  # checked by _function
        # A mapping of its own rather than DynamoEventSource, which grants ListStreams on "*":
        # the role above holds the stream actions on this stream's ARN only.
        return self.handler.function.add_event_source_mapping(
            "TableStream",
            event_source_arn=table.table_stream_arn,
            starting_position=lambda_.StartingPosition[route.starting_position],
            batch_size=route.batch_size,
            max_batching_window=Duration.seconds(route.max_batching_window_seconds),
            # Lambda retries from the first record the function reports failed, halving the
            # batch each time, and after the retries or the record age sends the batch's
            # description to the queue (sqs:SendMessage granted on it) and moves on.
            report_batch_item_failures=True,
            bisect_batch_on_error=route.bisect_on_error,
            retry_attempts=route.max_retry_attempts,
            max_record_age=Duration.seconds(route.max_record_age_seconds),
            on_failure=sources.SqsDlq(self.dlq),
        )

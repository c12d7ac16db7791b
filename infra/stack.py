"""The records service stack: a thin assembly of one construct per capability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import config
from infra.api import RecordsApi
from infra.ingestion import Ingestion
from infra.layer import SharedLayer
from infra.monitoring import Monitoring
from infra.stream_consumer import StreamConsumer
from infra.table import RecordsTable
from records_service.content_types import physical_indexes


class RecordsServiceStack(Stack):
    """Table, layer, HTTP API, ingestion, the stream consumer and alarms, wired together;
    outputs what callers need.

    ``ephemeral`` makes a throwaway stack (its table and logs go with it);
    ``api_gateway_account_role`` creates API Gateway's account-wide logging role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ephemeral: bool = False,
        api_gateway_account_role: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.records_table = RecordsTable(self, "Records", ephemeral=ephemeral)
        self.table = self.records_table.table
        self.layer = SharedLayer(self, "Shared")
        self.api = RecordsApi(
            self,
            "Api",
            table=self.table,
            layer=self.layer.layer,
            ephemeral=ephemeral,
            account_role=api_gateway_account_role,
            # The physical indexes the content types' logical indexes are on: the API queries
            # them (GET /records/{type}/by/{index}); no other function reads an index.
            queried_indexes=[index.name for index in physical_indexes()],
        )
        self.ingestion = Ingestion(
            self, "Ingestion", table=self.table, layer=self.layer.layer, ephemeral=ephemeral
        )
        self.stream_consumer = StreamConsumer(
            self,
            "StreamConsumer",
            table=self.table,
            bus=self.ingestion.bus,
            layer=self.layer.layer,
            ephemeral=ephemeral,
        )
        self.monitoring = self._monitoring()
        self._outputs()

    def _monitoring(self) -> Monitoring:
        workers = self.ingestion.workers
        consumer = self.stream_consumer
        return Monitoring(
            self,
            "Monitoring",
            dead_letter_queues=[
                *((worker.node.id, worker.dlq) for worker in workers),
                ("EventDelivery", self.ingestion.delivery_dlq),
                (consumer.node.id, consumer.dlq),
            ],
            functions=[
                ("Api", self.api.handler.function),
                *((worker.node.id, worker.handler.function) for worker in workers),
                (consumer.node.id, consumer.handler.function),
            ],
            stream_functions=[(consumer.node.id, consumer.handler.function)],
            rest_api=self.api.rest_api,
        )

    def _outputs(self) -> None:
        CfnOutput(
            self,
            config.OUTPUT_API_URL,
            value=self.api.rest_api.url,
            description="Base URL of the IAM-authorized API (sign requests with SigV4)",
        )
        CfnOutput(self, config.OUTPUT_TABLE_NAME, value=self.table.table_name)
        CfnOutput(
            self,
            config.OUTPUT_EVENT_BUS_NAME,
            value=self.ingestion.bus.event_bus_name,
            description="Send RecordsSubmitted / RecordsOffered events here; RecordsWritten and "
            "RecordsChanged come from here",
        )
        CfnOutput(
            self,
            config.OUTPUT_ALARM_TOPIC_ARN,
            value=self.monitoring.topic.topic_arn,
            description="Subscribe to receive the alarms",
        )

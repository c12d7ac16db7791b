"""Lambda entry point of the write-once deduper (handler ``write_once_deduper.handler.handler``).

Validates every ``RecordsOffered`` message, writes only new or changed contents, announces
exactly those as ``RecordsWritten`` events, and answers a partial batch response.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from records_service import names
from records_service.clients import events_client
from records_service.observability import build_logger, build_metrics, traced
from records_service.repositories import Repositories
from records_service.settings import Settings
from records_service.sqs_batch import SqsBatch
from write_once_deduper.announcer import Publisher
from write_once_deduper.deduper import Deduper
from write_once_deduper.pending import PendingAnnouncements

logger = build_logger()
metrics = build_metrics()
settings = Settings.from_env(require_event_bus=True)
# Write-once compares with what is stored: read it strongly consistently.
repositories = Repositories(settings, consistent_reads=True)
deduper = Deduper(
    repositories,
    Publisher(lambda: events_client(settings.events_endpoint), logger),
    PendingAnnouncements(repositories),
    bus_name=settings.event_bus_name or "",
    logger=logger,
)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Deduplicate, write and announce one SQS batch; answer ``{"batchItemFailures": [...]}``."""
    batch = SqsBatch.parse(event.get("Records", []), names.DETAIL_TYPE_OFFERED)
    tally = deduper.run(batch, time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    for metric, value in (
        (names.METRIC_RECORDS_WRITTEN, tally.written),
        (names.METRIC_DUPLICATES_SKIPPED, tally.duplicates),
        (names.METRIC_INVALID_RECORDS, tally.invalid),
        (names.METRIC_RECORDS_ANNOUNCED, tally.announced),
        (names.METRIC_ANNOUNCEMENTS_DEFERRED, tally.deferred),
    ):
        metrics.add_metric(name=metric, unit="Count", value=value)
    batch.log_failures(logger)
    return process_partial_response(
        event=event, record_handler=batch.check, processor=processor, context=context
    )

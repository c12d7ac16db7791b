"""Lambda entry point of the SQS batch writer (handler ``batch_writer.handler.handler``).

Validates every message, writes the valid contents of the batch with BatchWriteItem, and
answers a partial batch response naming exactly the messages that failed.
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

from batch_writer.writer import write_batch
from records_service import names
from records_service.observability import build_logger, build_metrics, traced
from records_service.repositories import Repositories
from records_service.settings import Settings
from records_service.sqs_batch import SqsBatch

logger = build_logger()
metrics = build_metrics()
repositories = Repositories(Settings.from_env())
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Write one SQS batch; answer ``{"batchItemFailures": [...]}``."""
    batch = SqsBatch.parse(event.get("Records", []), names.DETAIL_TYPE_SUBMITTED)
    tally = write_batch(batch, repositories, logger)
    metrics.add_metric(name=names.METRIC_RECORDS_WRITTEN, unit="Count", value=tally.written)
    metrics.add_metric(name=names.METRIC_INVALID_RECORDS, unit="Count", value=tally.invalid)
    metrics.add_metric(name=names.METRIC_RECORDS_NOT_WRITTEN, unit="Count", value=tally.not_written)
    batch.log_failures(logger)
    return process_partial_response(
        event=event, record_handler=batch.check, processor=processor, context=context
    )

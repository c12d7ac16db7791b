"""The SQS batch writer built from its settings: ``build_handler``.

Nothing here reads the environment or builds a client: the deployed entry point
(``batch_writer.handler``) passes ``Settings.from_env()``; tests and the local stack build
handlers of their own, over the repositories they give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from batch_writer.writer import write_batch
from records_service import names
from records_service.observability import build_logger, build_metrics, traced
from records_service.repositories import Repositories
from records_service.sqs_batch import SqsBatch

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from records_service.settings import Settings

__all__ = ["Handler", "build_handler"]

Handler = Callable[[dict[str, Any], "LambdaContext"], "PartialItemFailureResponse"]


def build_handler(settings: Settings, *, repositories: Repositories | None = None) -> Handler:
    """The batch writer's Lambda handler (``repositories`` default to the container's client).

    It validates every message, writes the valid contents of the batch with BatchWriteItem,
    and answers a partial batch response naming exactly the messages that failed.
    """
    logger = build_logger()
    metrics = build_metrics()
    repos = repositories or Repositories(settings)
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    @logger.inject_lambda_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """Write one SQS batch; answer ``{"batchItemFailures": [...]}``."""
        batch = SqsBatch.parse(event.get("Records", []), names.DETAIL_TYPE_SUBMITTED)
        tally = write_batch(batch, repos, logger)
        for metric, value in (
            (names.METRIC_RECORDS_WRITTEN, tally.written),
            (names.METRIC_INVALID_RECORDS, tally.invalid),
            (names.METRIC_RECORDS_NOT_WRITTEN, tally.not_written),
        ):
            metrics.add_metric(name=metric, unit="Count", value=value)
        batch.log_failures(logger)
        return process_partial_response(
            event=event, record_handler=batch.check, processor=processor, context=context
        )

    return handler

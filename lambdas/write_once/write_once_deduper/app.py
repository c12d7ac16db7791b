"""The write-once deduper built from its settings: ``build_handler``.

Nothing here reads the environment or builds a client: the deployed entry point
(``write_once_deduper.handler``) passes ``Settings.from_env(require_event_bus=True)``; tests and
the local stack build handlers of their own, over the repositories and EventBridge client they
give.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from records_service import names
from records_service.clients import events_client
from records_service.observability import build_logger, build_metrics, traced
from records_service.repositories import Repositories
from records_service.sqs_batch import SqsBatch
from write_once_deduper.announcer import Publisher
from write_once_deduper.deduper import Deduper
from write_once_deduper.pending import PendingAnnouncements

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_events import EventBridgeClient

    from records_service.settings import Settings

__all__ = ["Handler", "build_handler"]

Handler = Callable[[dict[str, Any], "LambdaContext"], "PartialItemFailureResponse"]


def build_handler(
    settings: Settings,
    *,
    repositories: Repositories | None = None,
    events: Callable[[], EventBridgeClient] | None = None,
) -> Handler:
    """The deduper's Lambda handler.

    ``repositories`` default to the container's DynamoDB client, reading strongly consistently
    (write-once compares with what is stored); ``events`` returns the EventBridge client
    (the container's by default), called on the first announcement.
    """
    if not settings.event_bus_name:
        raise ValueError("the write-once deduper announces on a bus: settings name none")
    logger = build_logger()
    metrics = build_metrics()
    repos = repositories or Repositories(settings, consistent_reads=True)
    deduper = Deduper(
        repos,
        Publisher(events or (lambda: events_client(settings.events_endpoint)), logger),
        PendingAnnouncements(repos),
        bus_name=settings.event_bus_name,
        logger=logger,
    )
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    @logger.inject_lambda_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """Deduplicate, write and announce one SQS batch; answer the partial batch response."""
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

    return handler

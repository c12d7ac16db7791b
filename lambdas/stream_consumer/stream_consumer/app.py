"""The stream consumer built from its settings: ``build_handler``.

Nothing here reads the environment or builds a client: the deployed entry point
(``stream_consumer.handler``) passes ``Settings.from_env(require_event_bus=True)``; tests and
the local stack build handlers of their own, over the EventBridge client they give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from records_service import names
from records_service.clients import events_client
from records_service.content_types import CONTENT_TYPES
from records_service.observability import build_logger, build_metrics, traced
from stream_consumer.announcer import ChangeAnnouncer
from stream_consumer.changes import ChangeReader

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_events import EventBridgeClient

    from records_service.content_types import ContentType
    from records_service.settings import Settings

__all__ = ["Handler", "build_handler"]

Handler = Callable[[dict[str, Any], "LambdaContext"], "PartialItemFailureResponse"]


def build_handler(
    settings: Settings,
    *,
    events: Callable[[], EventBridgeClient] | None = None,
    content_types: Mapping[str, ContentType[Any]] = CONTENT_TYPES,
) -> Handler:
    """The stream consumer's Lambda handler, announcing the changes of ``content_types``.

    ``events`` returns the EventBridge client (the container's by default), called on the
    first announcement.
    """
    if not settings.event_bus_name:
        raise ValueError("the stream consumer announces on a bus: settings name none")
    logger = build_logger()
    metrics = build_metrics()
    reader = ChangeReader(content_types, settings.table_name, logger)
    sender = ChangeAnnouncer(
        events or (lambda: events_client(settings.events_endpoint)),
        settings.event_bus_name,
        logger,
    )
    processor = BatchProcessor(
        event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
    )

    @logger.inject_lambda_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """Announce one stream batch's changes; answer the partial batch response."""
        batch = reader.read(event.get("Records", []))
        sent = sender.announce(
            batch.changes, time_left=lambda: context.get_remaining_time_in_millis() / 1000
        )
        for typed, reason in sent.failed:
            batch.fail(typed.change.sequence_number, reason)
        for metric, value in (
            (names.METRIC_CHANGES_ANNOUNCED, sent.announced),
            (names.METRIC_CHANGES_WITHOUT_IMAGES, sent.without_images),
            (names.METRIC_CHANGES_NOT_ANNOUNCED, len(sent.failed)),
            (names.METRIC_CHANGES_SKIPPED, batch.skipped),
            (names.METRIC_UNDECODABLE_CHANGES, batch.undecodable),
        ):
            metrics.add_metric(name=metric, unit="Count", value=value)
        batch.log_failures(logger)
        return process_partial_response(
            event=event, record_handler=batch.check, processor=processor, context=context
        )

    return handler

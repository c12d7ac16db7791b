"""The ingestion topology, declared once: the CDK app deploys it and the local stack mirrors it.

Each queue is fed by one EventBridge rule (matching ``detail_type`` from ``EVENT_SOURCE``) and
drained by one function through an event source mapping with partial batch responses. The
table's stream is read by one more function (:data:`STREAM_CONSUMER`), through a stream event
source mapping whose retry settings are declared here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from records_service import names


@dataclass(frozen=True)
class QueueRoute:
    """One rule -> queue (with DLQ) -> function path."""

    name: str  # logical name: construct ids in CDK, queue names in the local stack
    detail_type: str
    handler: str
    factory: str  # builds the handler from settings (``records_service.settings.Settings``)
    code_dir: str
    batch_size: int
    max_batching_window_seconds: int
    max_receive_count: int  # receives before a message moves to the DLQ
    function_timeout_seconds: int

    @property
    def visibility_timeout_seconds(self) -> int:
        """Six times the function timeout, as AWS recommends for SQS event sources."""
        return 6 * self.function_timeout_seconds

    def event_pattern(self) -> dict[str, list[str]]:
        """The EventBridge pattern routing this route's events to its queue."""
        return {"source": [names.EVENT_SOURCE], "detail-type": [self.detail_type]}


BATCH_WRITER: Final = QueueRoute(
    name="batch-writer",
    detail_type=names.DETAIL_TYPE_SUBMITTED,
    handler=names.BATCH_WRITER_HANDLER,
    factory=names.BATCH_WRITER_FACTORY,
    code_dir=names.BATCH_WRITER_CODE_DIR,
    batch_size=25,
    max_batching_window_seconds=1,
    max_receive_count=3,
    function_timeout_seconds=30,
)

WRITE_ONCE: Final = QueueRoute(
    name="write-once",
    detail_type=names.DETAIL_TYPE_OFFERED,
    handler=names.WRITE_ONCE_HANDLER,
    factory=names.WRITE_ONCE_FACTORY,
    code_dir=names.WRITE_ONCE_CODE_DIR,
    batch_size=25,
    max_batching_window_seconds=1,
    max_receive_count=3,
    function_timeout_seconds=60,
)

QUEUE_ROUTES: Final = (BATCH_WRITER, WRITE_ONCE)


@dataclass(frozen=True)
class StreamRoute:
    """The table's stream -> function path, with the event source mapping's failure handling.

    Lambda retries a failing batch from the first record reported failed (partial batch
    responses), halving it on each failure (``bisect_on_error``) so a bad record ends up alone;
    after ``max_retry_attempts`` retries, or once a record is older than
    ``max_record_age_seconds``, the batch's description goes to the on-failure destination (a
    queue) and the shard moves on: nothing blocks it for longer.
    """

    name: str  # logical name: construct ids in CDK, the poller and its DLQ in the local stack
    detail_type: str  # what the function announces
    handler: str
    factory: str
    code_dir: str
    batch_size: int
    max_batching_window_seconds: int
    max_retry_attempts: int
    max_record_age_seconds: int
    bisect_on_error: bool
    starting_position: str  # TRIM_HORIZON: a change made before the mapping existed still counts
    function_timeout_seconds: int


STREAM_CONSUMER: Final = StreamRoute(
    name="stream-consumer",
    detail_type=names.DETAIL_TYPE_CHANGED,
    handler=names.STREAM_CONSUMER_HANDLER,
    factory=names.STREAM_CONSUMER_FACTORY,
    code_dir=names.STREAM_CONSUMER_CODE_DIR,
    batch_size=100,
    max_batching_window_seconds=1,
    max_retry_attempts=8,
    max_record_age_seconds=6 * 3600,  # the stream keeps records 24 h: time to redrive after
    bisect_on_error=True,
    starting_position="TRIM_HORIZON",
    function_timeout_seconds=60,
)

API_FUNCTION_TIMEOUT_SECONDS: Final = 10

# Lambda refuses a synchronous response payload over 6 MB (API Gateway then answers 502): the
# API keeps its answers below this, and the local stack's gateway enforces it.
LAMBDA_MAX_RESPONSE_BYTES: Final = 6 * 1024 * 1024

"""A DynamoDB stream event source mapping, played locally: read the table's stream, invoke.

What Lambda does for a DynamoDB stream with ``ReportBatchItemFailures``, bisect on error, a
maximum retry count and record age, and an on-failure destination, done here with the
``dynamodbstreams`` client against the local DynamoDB (moto or DynamoDB Local, which both
serve streams):

1. Each shard of the stream is read from its start (``starting_position`` TRIM_HORIZON), up to
   ``batch_size`` records a call; new shards are picked up as the stream reports them.
2. The function is invoked with ``{"Records": [...]}`` in Lambda's stream record format
   (``eventID``, ``eventName``, ``dynamodb`` with ``Keys``/``NewImage``/``OldImage``,
   ``SequenceNumber``, ``ApproximateCreationDateTime`` in epoch seconds, binary values base64,
   ``userIdentity`` when the stream gives one, ``eventSourceARN``).
3. The answer's ``batchItemFailures`` name failed records by sequence number: everything
   before the first of them is done, and the batch is retried from it. A function that raises,
   times out or answers malformed failures fails the whole batch (retried from its start).
4. A retried batch is halved first (``bisect_on_error``), so a failing record ends up alone.
   After ``max_retry_attempts`` retries, or when a record is older than
   ``max_record_age_seconds``, the batch's description (shard, first and last sequence number,
   the condition) is sent to the on-failure queue, as Lambda's SQS destination receives it,
   and the shard moves on.

One poller, one shard after another, one invocation at a time: a faithful order of events per
shard, not Lambda's concurrency (one invocation per shard at a time, as with a parallelization
factor of 1). The batching window is not played: a batch is whatever one GetRecords returns.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from local_stack import config
from local_stack.event_source import WholeBatchFailedError, failed_message_ids
from local_stack.functions import InvocationError, LocalFunction
from local_stack.poller import Poller
from pydantic_dynamo.transport.wire import bytes_to_base64

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from records_service.topology import StreamRoute

__all__ = [
    "DynamoDBStreamEventSource",
    "StreamSourceStats",
    "StreamsClient",
    "lambda_stream_record",
]

_log = logging.getLogger("local_stack.stream_source")

Record = dict[str, Any]


class StreamsClient(Protocol):
    """What the poller calls of boto3's ``dynamodbstreams`` client."""

    def describe_stream(self, **kwargs: Any) -> Mapping[str, Any]:
        """DescribeStream."""
        ...

    def get_shard_iterator(self, **kwargs: Any) -> Mapping[str, Any]:
        """GetShardIterator."""
        ...

    def get_records(self, **kwargs: Any) -> Mapping[str, Any]:
        """GetRecords."""
        ...


def _lambda_json(value: Any) -> Any:
    # boto3 parses what Lambda's JSON keeps as text and numbers: undo it.
    if isinstance(value, datetime):
        return value.timestamp()
    return bytes_to_base64(value)


def lambda_stream_record(record: Mapping[str, Any], stream_arn: str) -> Record:
    """One record from GetRecords (boto3's parsed shape) as a record of Lambda's stream event."""
    shaped: Record = json.loads(json.dumps(record, default=_lambda_json))
    shaped["eventSourceARN"] = stream_arn
    return shaped


def _sequence(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _created(record: Mapping[str, Any]) -> float | None:
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        return created.timestamp()
    return float(created) if isinstance(created, int | float) else None


@dataclass
class StreamSourceStats:
    """Counters of the stream event source since it started."""

    batches: int = 0  # invocations
    records: int = 0  # records read from the stream
    retries: int = 0  # invocations that retried a failed batch (or part of one)
    whole_batch_failures: int = 0
    given_up: int = 0  # records whose batch went to the on-failure queue


class DynamoDBStreamEventSource(Poller):
    """Drives one function from the table's stream, as a stream event source mapping."""

    idle_seconds = 0.25  # Lambda polls a shard about four times a second

    def __init__(
        self,
        *,
        route: StreamRoute,
        function: LocalFunction,
        streams: StreamsClient,
        sqs: SQSClient,
        stream_arn: str,
        on_failure_queue_url: str,
        retry_delay_seconds: float = config.STREAM_RETRY_DELAY_SECONDS,
        clock: Callable[[], float] = time.time,
        shard_refresh_seconds: float = 5.0,
    ) -> None:
        super().__init__(f"stream-source-{route.name}")
        self.route = route
        self.function = function
        self.stream_arn = stream_arn
        self.on_failure_queue_url = on_failure_queue_url
        self.stats = StreamSourceStats()
        self._streams = streams
        self._sqs = sqs
        self._retry_delay_seconds = retry_delay_seconds
        self._clock = clock
        self._shard_refresh_seconds = shard_refresh_seconds
        self._refreshed_at: float | None = None
        self._iterators: dict[str, str] = {}  # open shards being read
        self._finished: set[str] = set()  # closed shards read to their end
        self._last: dict[str, str] = {}  # per shard, the last sequence number delivered

    # -- reading the stream ---------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        """Start reading the shards the stream lists that are new to the poller, and renew the
        iterators of the others (after the last record delivered).

        Renewing matters for moto: a failed transaction restores a copy of the table, which
        strands every open iterator on the old copy's stream; real iterators expire too.
        """
        now = time.monotonic()
        if (
            self._refreshed_at is not None
            and now - self._refreshed_at < self._shard_refresh_seconds
        ):
            return
        self._refreshed_at = now
        described = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in described.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._finished:
                self._iterators[shard_id] = self._iterator(shard_id)

    def _iterator(self, shard_id: str) -> str:
        """A shard iterator after the last record delivered (at the start position before any)."""
        position: dict[str, str] = {"ShardIteratorType": self.route.starting_position}
        last = self._last.get(shard_id)
        if last is not None:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
        response = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, **position
        )
        return str(response["ShardIterator"])

    def poll_once(self) -> int:
        """Read each open shard once and deliver what it held; how many records that was."""
        self._refresh_shards()
        total = 0
        for shard_id, iterator in list(self._iterators.items()):
            try:
                response = self._streams.get_records(
                    ShardIterator=iterator, Limit=self.route.batch_size
                )
            except Exception as exc:  # an expired iterator (the machine slept, say): resume
                _log.warning(
                    "%s: reading shard %s failed (%s); resuming", self.route.name, shard_id, exc
                )
                self._iterators[shard_id] = self._iterator(shard_id)
                continue
            records = list(response.get("Records", []))
            following = response.get("NextShardIterator")
            if following:
                self._iterators[shard_id] = following
            else:  # the shard is closed and read to its end; its children come next
                del self._iterators[shard_id]
                self._finished.add(shard_id)
                self._refreshed_at = None
            if records:
                total += len(records)
                self.stats.records += len(records)
                self.deliver(shard_id, records)
                self._last[shard_id] = _sequence(records[-1])
        return total

    # -- invoking, as the event source mapping does -------------------------------------------

    def deliver(self, shard_id: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Invoke the function on ``records`` until each is done or given up."""
        pending: list[tuple[list[Mapping[str, Any]], int]] = [(list(records), 0)]
        while pending and not self._stop.is_set():
            batch, retries = pending.pop(0)
            batch = self._drop_too_old(shard_id, batch, retries)
            if not batch:
                continue
            failed_from = self._invoke(batch)
            if failed_from is None:
                continue
            remaining = batch[failed_from:]
            if retries >= self.route.max_retry_attempts:
                self._give_up(shard_id, remaining, "RetryAttemptsExhausted", retries)
                continue
            self.stats.retries += 1
            self._stop.wait(self._retry_delay_seconds)
            if self.route.bisect_on_error and len(remaining) > 1:
                half = len(remaining) // 2
                pending[:0] = [(remaining[:half], retries + 1), (remaining[half:], retries + 1)]
            else:
                pending.insert(0, (remaining, retries + 1))

    def _drop_too_old(
        self, shard_id: str, batch: list[Mapping[str, Any]], retries: int
    ) -> list[Mapping[str, Any]]:
        limit = self._clock() - self.route.max_record_age_seconds
        keep: list[Mapping[str, Any]] = []
        too_old: list[Mapping[str, Any]] = []
        for record in batch:
            created = _created(record)
            (too_old if created is not None and created < limit else keep).append(record)
        if too_old:
            self._give_up(shard_id, too_old, "RecordAgeExceeded", retries)
        return keep

    def _invoke(self, batch: Sequence[Mapping[str, Any]]) -> int | None:
        """Invoke once; the position of the first failed record, or ``None`` when all are done."""
        self.stats.batches += 1
        sequences = [_sequence(record) for record in batch]
        event = {"Records": [lambda_stream_record(r, self.stream_arn) for r in batch]}
        try:
            invocation = self.function.invoke(event)
            failed = failed_message_ids(invocation.payload, sequences)
        except (InvocationError, WholeBatchFailedError) as exc:
            _log.warning(
                "%s: batch of %d failed as a whole, retried: %s", self.route.name, len(batch), exc
            )
            self.stats.whole_batch_failures += 1
            return 0
        if not failed:
            return None
        first = min(sequences.index(sequence) for sequence in failed)
        _log.info(
            "%s: %d of %d records failed; retrying from sequence number %s",
            self.route.name,
            len(failed),
            len(batch),
            sequences[first],
        )
        return first

    def _give_up(
        self, shard_id: str, batch: Sequence[Mapping[str, Any]], condition: str, retries: int
    ) -> None:
        """Send the batch's description to the on-failure queue, as Lambda does, and move on."""
        self.stats.given_up += len(batch)
        created = [c for c in map(_created, batch) if c is not None]
        arrival = (
            [datetime.fromtimestamp(c, UTC).isoformat() for c in (min(created), max(created))]
            if created
            else [None, None]
        )
        description = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": (
                    f"arn:aws:lambda:{config.REGION}:{config.ACCOUNT_ID}:function:"
                    f"{self.function.name}"
                ),
                "condition": condition,
                "approximateInvokeCount": retries + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": _sequence(batch[0]),
                "endSequenceNumber": _sequence(batch[-1]),
                "approximateArrivalOfFirstRecord": arrival[0],
                "approximateArrivalOfLastRecord": arrival[1],
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self._sqs.send_message(
            QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(description)
        )
        _log.error(
            "%s: gave up on %d records (%s) of shard %s from sequence number %s: "
            "described in the on-failure queue",
            self.route.name,
            len(batch),
            condition,
            shard_id,
            _sequence(batch[0]),
        )

"""An SQS event source mapping, played locally: poll a queue, invoke a function, delete the rest.

What Lambda does for an SQS event source with ``ReportBatchItemFailures``, done here:

1. Receive up to ``batch_size`` messages (SQS hands out at most 10 per call, so several calls),
   waiting at most ``max_batching_window_seconds`` after the first one for the batch to fill.
2. Invoke the function once with ``{"Records": [...]}`` in Lambda's SQS record format.
3. Delete the messages that succeeded. The function's ``batchItemFailures`` name the ones that
   failed; they stay on the queue and come back when their visibility timeout ends, with
   ``ApproximateReceiveCount`` one higher. After ``maxReceiveCount`` receives SQS itself (moto,
   here) moves a message to the dead-letter queue.
4. The whole batch counts as failed, and nothing is deleted, when the function raises or times
   out, or when its answer names an ``itemIdentifier`` that is empty or not in the batch, or is
   not an object. An answer of ``None``, ``{}`` or an empty list of failures is full success.

One poller per queue, one invocation at a time: a faithful order of events, not Lambda's
concurrency.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_stack import config
from local_stack.functions import InvocationError, LocalFunction
from local_stack.poller import Poller

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueOutputTypeDef, MessageTypeDef

    from records_service.topology import QueueRoute

_log = logging.getLogger("local_stack.event_source")

SQS_MAX_MESSAGES_PER_RECEIVE = 10
SQS_MAX_ENTRIES_PER_DELETE = 10


def _lambda_message_attribute(value: MessageAttributeValueOutputTypeDef) -> dict[str, Any]:
    """An SQS message attribute in the camelCase shape of Lambda's SQS event."""

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    shaped: dict[str, Any] = {
        "dataType": value["DataType"],
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(raw) for raw in value.get("BinaryListValues", [])],
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = b64(value["BinaryValue"])
    return shaped


def lambda_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    """One received SQS message as a record of Lambda's SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": config.REGION,
    }


class WholeBatchFailedError(Exception):
    """Lambda would retry every message of the batch."""


def failed_message_ids(payload: Any, batch_ids: Sequence[str]) -> set[str]:
    """The ids a partial batch response reports as failed; raises ``WholeBatchFailedError``.

    >>> sorted(failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ["a", "b"]))
    ['b']
    >>> failed_message_ids(None, ["a"])
    set()
    """
    if payload is None:
        return set()
    if not isinstance(payload, Mapping):
        raise WholeBatchFailedError(f"the response is a {type(payload).__name__}, not an object")
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        raise WholeBatchFailedError("batchItemFailures is not a list")
    known = set(batch_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or not identifier:
            raise WholeBatchFailedError(f"invalid batch item failure {failure!r}")
        if identifier not in known:
            raise WholeBatchFailedError(f"itemIdentifier {identifier!r} is not in the batch")
        failed.add(identifier)
    return failed


@dataclass
class EventSourceStats:
    """Counters of one event source since it started."""

    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0
    whole_batch_failures: int = 0


class SqsEventSource(Poller):
    """Drives one function from one queue, as an event source mapping with partial failures.

    Each poll long-polls for ``poll_wait_seconds``, so a stop takes effect within that.
    """

    def __init__(
        self,
        *,
        route: QueueRoute,
        function: LocalFunction,
        sqs: SQSClient,
        queue_url: str,
        queue_arn: str,
        poll_wait_seconds: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(f"event-source-{route.name}")
        self.route = route
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.stats = EventSourceStats()
        self._sqs = sqs
        self._poll_wait_seconds = poll_wait_seconds
        self._clock = clock

    def _receive(self, count: int, wait_seconds: int) -> list[MessageTypeDef]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def collect_batch(self) -> list[MessageTypeDef]:
        """Receive one batch: up to ``batch_size`` within the batching window."""
        size = self.route.batch_size
        batch = self._receive(min(SQS_MAX_MESSAGES_PER_RECEIVE, size), self._poll_wait_seconds)
        if not batch:
            return batch
        window_ends = self._clock() + self.route.max_batching_window_seconds
        while len(batch) < size and self._clock() < window_ends and not self._stop.is_set():
            more = self._receive(min(SQS_MAX_MESSAGES_PER_RECEIVE, size - len(batch)), 0)
            if more:
                batch.extend(more)
            else:
                time.sleep(0.05)
        return batch

    def _delete(self, messages: Sequence[MessageTypeDef]) -> None:
        for start in range(0, len(messages), SQS_MAX_ENTRIES_PER_DELETE):
            chunk = messages[start : start + SQS_MAX_ENTRIES_PER_DELETE]
            response = self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed", []):
                _log.error("%s: could not delete a message: %s", self.route.name, failure)
            self.stats.deleted += len(response.get("Successful", []))

    def process(self, batch: Sequence[MessageTypeDef]) -> set[str]:
        """Invoke the function on ``batch``, delete what succeeded; return the failed ids."""
        ids = [message["MessageId"] for message in batch]
        self.stats.batches += 1
        self.stats.received += len(batch)
        event = {"Records": [lambda_record(message, self.queue_arn) for message in batch]}
        try:
            invocation = self.function.invoke(event)
            failed = failed_message_ids(invocation.payload, ids)
        except (InvocationError, WholeBatchFailedError) as exc:
            _log.warning(
                "%s: batch of %d failed as a whole, all retried: %s",
                self.route.name,
                len(batch),
                exc,
            )
            self.stats.whole_batch_failures += 1
            self.stats.failed += len(batch)
            return set(ids)
        self.stats.failed += len(failed)
        self._delete([message for message in batch if message["MessageId"] not in failed])
        if failed:
            _log.info(
                "%s: %d of %d messages failed; they come back after the visibility timeout",
                self.route.name,
                len(failed),
                len(batch),
            )
        return failed

    def poll_once(self) -> int:
        """Collect and process one batch; return how many messages it held."""
        batch = self.collect_batch()
        if batch:
            self.process(batch)
        return len(batch)

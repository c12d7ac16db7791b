"""The bus log: one line on stderr per announcement the service puts on its bus.

A rule on the bus copies every ``RecordsWritten`` (the write-once deduper) and
``RecordsChanged`` (the stream consumer) event to a queue (``resources.create_bus_log``); this
poller reads it and prints, for example::

    local-stack INFO local_stack.bus: RecordsChanged actor inserted content_ids=['a1'] v1
    local-stack INFO local_stack.bus: RecordsWritten actor 3 content(s)

>>> describe({"detail-type": "RecordsChanged", "detail": {"content_type": "actor",
...     "change": "modified", "partition_ids": [], "content_ids": ["a1"], "version": 2,
...     "images_omitted": False}})
"RecordsChanged actor modified content_ids=['a1'] v2"
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from local_stack.poller import Poller
from records_service import names

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["BusLog", "describe"]

_log = logging.getLogger("local_stack.bus")


def describe(event: Mapping[str, Any]) -> str:
    """The line printed for one event delivered by the bus."""
    detail_type = event.get("detail-type", "?")
    detail = event.get("detail") or {}
    content_type = detail.get("content_type", "?")
    if detail_type == names.DETAIL_TYPE_CHANGED:
        ids = f"content_ids={detail.get('content_ids')}"
        if detail.get("partition_ids"):
            ids = f"partition_ids={detail['partition_ids']} {ids}"
        omitted = " (too large: images omitted)" if detail.get("images_omitted") else ""
        change, version = detail.get("change"), detail.get("version")
        return f"{detail_type} {content_type} {change} {ids} v{version}{omitted}"
    count = len(detail.get("contents", [])) + len(detail.get("references", []))
    return f"{detail_type} {content_type} {count} content(s)"


class BusLog(Poller):
    """Prints what reaches the bus log's queue, then deletes it."""

    def __init__(self, sqs: SQSClient, queue_url: str, wait_seconds: int = 1) -> None:
        super().__init__("bus-log")
        self.queue_url = queue_url
        self.printed = 0
        self._sqs = sqs
        self._wait_seconds = wait_seconds

    def poll_once(self) -> int:
        """Receive (long-polling ``wait_seconds``), print and delete up to ten events."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self._wait_seconds
        ).get("Messages", [])
        for message in messages:
            try:
                line = describe(json.loads(message["Body"]))
            except (ValueError, AttributeError) as exc:
                line = f"unreadable event ({exc}): {message['Body'][:200]}"
            _log.info("%s", line)
            self.printed += 1
            self._sqs.delete_message(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        return len(messages)

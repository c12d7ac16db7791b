"""Announce written contents on the event bus as ``RecordsWritten`` events, losing none.

Each event's detail has the ingestion shape, so a consumer reads it like a submission::

    {"content_type": "actor", "contents": [<PartitionedContent JSON>, ...]}

Contents are packed into as few events as PutEvents allows: an entry and a call both stay under
256 KB and a call carries at most 10 entries. A single content too large for an event on its own
(DynamoDB items reach 400 KB) is announced by key and version instead, under ``references``
(``{"partition_ids", "content_ids", "current_version"}``); fetch it from the API.

Entries that fail (an exception, or ``FailedEntryCount`` with a per-entry ``ErrorCode``) are
sent again, alone, with capped exponential backoff and full jitter, until they succeed, the
attempts run out, or the invocation's time does. What still fails is handed back to the caller,
which must keep it (see ``pending``), never drop it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import PartitionedContent
from records_service import names

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

    from records_service.content_types import ContentType

__all__ = [
    "MAX_CALL_BYTES",
    "MAX_ENTRIES_PER_CALL",
    "Announcement",
    "Publisher",
    "build_announcements",
]

MAX_ENTRIES_PER_CALL = 10
MAX_CALL_BYTES = 256 * 1024
# Room for what AWS may count beyond Source + DetailType + Detail (Time, Resources).
_SIZE_MARGIN = 512


@dataclass(frozen=True)
class Announcement:
    """One PutEvents entry and the contents it announces."""

    content_type: ContentType[Any]
    contents: tuple[PartitionedContent[Any], ...]
    entry: PutEventsRequestEntryTypeDef
    size: int


def _entry_size(detail: str) -> int:
    return (
        len(names.EVENT_SOURCE.encode())
        + len(names.DETAIL_TYPE_WRITTEN.encode())
        + len(detail.encode())
        + _SIZE_MARGIN
    )


def _announcement(
    ct: ContentType[Any],
    contents: Sequence[PartitionedContent[Any]],
    parts: Sequence[str],
    bus_name: str,
    *,
    by_reference: bool = False,
) -> Announcement:
    name = json.dumps(ct.name)
    listed = "" if by_reference else ",".join(parts)
    detail = f'{{"content_type":{name},"contents":[{listed}]'
    if by_reference:
        references = [
            {
                "partition_ids": c.partition_ids,
                "content_ids": c.content_ids,
                "current_version": c.current_version,
            }
            for c in contents
        ]
        detail += f',"references":{json.dumps(references, separators=(",", ":"))}'
    detail += "}"
    entry: PutEventsRequestEntryTypeDef = {
        "Source": names.EVENT_SOURCE,
        "DetailType": names.DETAIL_TYPE_WRITTEN,
        "Detail": detail,
        "EventBusName": bus_name,
    }
    return Announcement(ct, tuple(contents), entry, _entry_size(detail))


def build_announcements(
    ct: ContentType[Any], contents: Sequence[PartitionedContent[Any]], bus_name: str
) -> list[Announcement]:
    """Pack ``contents`` into as few ``RecordsWritten`` entries as the size limit allows."""
    empty = _entry_size(f'{{"content_type":{json.dumps(ct.name)},"contents":[]}}')
    budget = MAX_CALL_BYTES - empty
    announcements: list[Announcement] = []
    group: list[PartitionedContent[Any]] = []
    parts: list[str] = []
    used = 0
    for content in contents:
        part = content.model_dump_json()
        size = len(part.encode()) + 1  # the comma
        if size > budget:
            announcements.append(_announcement(ct, [content], [], bus_name, by_reference=True))
            continue
        if used + size > budget:
            announcements.append(_announcement(ct, group, parts, bus_name))
            group, parts, used = [], [], 0
        group.append(content)
        parts.append(part)
        used += size
    if group:
        announcements.append(_announcement(ct, group, parts, bus_name))
    return announcements


def _calls(announcements: Sequence[Announcement]) -> Iterator[list[Announcement]]:
    call: list[Announcement] = []
    used = 0
    for announcement in announcements:
        if call and (
            len(call) == MAX_ENTRIES_PER_CALL or used + announcement.size > MAX_CALL_BYTES
        ):
            yield call
            call, used = [], 0
        call.append(announcement)
        used += announcement.size
    if call:
        yield call


class Publisher:
    """Sends announcements with PutEvents, retrying failed entries with backoff.

    ``client`` is called for the EventBridge client on first use (created once per container).
    ``sleep`` defaults to ``time.sleep``, looked up when needed.
    """

    def __init__(
        self,
        client: Callable[[], EventBridgeClient],
        logger: Logger,
        *,
        max_attempts: int = 6,
        base_delay: float = 0.1,
        max_delay: float = 2.0,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._logger = logger
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._jitter = jitter

    def publish(
        self, announcements: Sequence[Announcement], time_left: Callable[[], float] | None = None
    ) -> list[Announcement]:
        """Send every announcement; the ones still failing after the retries.

        ``time_left`` (seconds) stops the retries early so the caller keeps time to save what
        failed.
        """
        pending = list(announcements)
        attempt = 0
        while pending:
            attempt += 1
            failed = [a for call in _calls(pending) for a in self._send(call)]
            if not failed:
                return []
            delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * self._jitter()
            out_of_time = time_left is not None and time_left() < delay + 5.0
            if attempt >= self.max_attempts or out_of_time:
                return failed
            (self._sleep or time.sleep)(delay)
            pending = failed
        return []

    def _send(self, call: list[Announcement]) -> list[Announcement]:
        try:
            response = self._client().put_events(Entries=[a.entry for a in call])
        except Exception as error:
            self._logger.warning("PutEvents call failed", extra={"error": str(error)})
            return call
        if not response.get("FailedEntryCount"):
            return []
        failed = []
        for announcement, result in zip(call, response["Entries"], strict=True):
            if result.get("ErrorCode"):
                self._logger.warning(
                    "PutEvents entry failed",
                    extra={"code": result["ErrorCode"], "reason": result.get("ErrorMessage")},
                )
                failed.append(announcement)
        return failed

"""Announce written contents on the event bus as ``RecordsWritten`` events, losing none.

Each event's detail has the ingestion shape, so a consumer reads it like a submission::

    {"content_type": "actor", "contents": [<PartitionedContent JSON>, ...]}

Contents are packed into as few events as PutEvents allows (``records_service.putevents``, the
packer and sender the local feed uses too). A single content too large for an event on its own
(DynamoDB items reach 400 KB) is announced by key and version instead, under ``references``
(``{"partition_ids", "content_ids", "current_version"}``); fetch it from the API.

Entries that fail (a call that raises, or ``FailedEntryCount`` with a per-entry ``ErrorCode``)
are sent again, alone, with capped exponential backoff and full jitter, until they succeed, the
attempts run out, or the invocation's time does; codes another try cannot fix are not retried.
What still fails is handed back to the caller, which must keep it (see ``pending``), never drop
it.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import PartitionedContent
from records_service import names
from records_service.putevents import (
    ContentTooLargeError,
    EntryPacker,
    PackedEntry,
    build_entry,
    send,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

    from records_service.content_types import ContentType

__all__ = ["Announcement", "Publisher", "build_announcements"]

Content = PartitionedContent[Any]


@dataclass(frozen=True)
class Announcement:
    """One PutEvents entry and the contents (of one content type) it announces."""

    content_type: ContentType[Any]
    packed: PackedEntry[Content]

    @property
    def contents(self) -> tuple[Content, ...]:
        """The contents announced."""
        return tuple(self.packed.tags)

    @property
    def entry(self) -> PutEventsRequestEntryTypeDef:
        """The PutEvents entry."""
        return self.packed.entry

    @property
    def size(self) -> int:
        """The entry's size as PutEvents counts it."""
        return self.packed.size


def _by_reference(ct: ContentType[Any], content: Content, bus_name: str) -> Announcement:
    reference = {
        "partition_ids": content.partition_ids,
        "content_ids": content.content_ids,
        "current_version": content.current_version,
    }
    detail = json.dumps(
        {"content_type": ct.name, "contents": [], "references": [reference]},
        separators=(",", ":"),
    )
    entry = build_entry(names.EVENT_SOURCE, names.DETAIL_TYPE_WRITTEN, bus_name, detail)
    return Announcement(ct, PackedEntry.of(entry, [content]))


def build_announcements(
    ct: ContentType[Any], contents: Sequence[Content], bus_name: str
) -> list[Announcement]:
    """Pack ``contents`` into as few ``RecordsWritten`` entries as the size limit allows."""
    packer: EntryPacker[Content] = EntryPacker(
        ct.name, names.DETAIL_TYPE_WRITTEN, names.EVENT_SOURCE, bus_name, sys.maxsize
    )
    announcements: list[Announcement] = []
    for content in contents:
        try:
            packed = packer.add(content, content.model_dump_json())
        except ContentTooLargeError:
            announcements.append(_by_reference(ct, content, bus_name))
            continue
        announcements.extend(Announcement(ct, p) for p in packed)
    announcements.extend(Announcement(ct, p) for p in packer.flush())
    return announcements


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
        failed. Never raises: whatever goes wrong, the announcements not known to be sent are
        handed back.
        """
        if not announcements:
            return []
        try:
            result = send(
                self._client(),
                [a.packed for a in announcements],
                max_attempts=self.max_attempts,
                base_delay=self.base_delay,
                max_delay=self.max_delay,
                sleep=self._sleep,
                jitter=self._jitter,
                time_left=time_left,
                raise_call_errors=False,
            )
        except Exception:
            self._logger.exception("PutEvents failed; every announcement is kept for later")
            return list(announcements)
        for failed in result.failed:
            self._logger.warning(
                "PutEvents entry failed",
                extra={"code": failed.code, "reason": failed.message},
            )
        failed_entries = {id(f.entry) for f in result.failed}
        return [a for a in announcements if id(a.packed) in failed_entries]

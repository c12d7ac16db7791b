"""Pack contents into EventBridge entries and send them with PutEvents, within its limits.

PutEvents takes at most 10 entries and 256 KiB per call, an entry's size being the UTF-8
bytes of its Source, DetailType, Detail and Resources (plus 14 for Time). Each entry carries
``{"content_type": .., "contents": [..]}`` with up to ``contents_per_event`` contents; an entry
is also kept under ``MAX_ENTRY_BYTES``, a little below 256 KiB, so that the envelope
EventBridge wraps around the detail still fits in one SQS message. Entries that PutEvents
reports as failed are sent again with capped exponential backoff and jitter; what still fails
is returned with its error code, never dropped.

>>> packer = EntryPacker("actor", "RecordsSubmitted", "records.service", "bus", 2)
>>> [len(e.lines) for e in packer.add(1, '{"a": 1}')], [len(e.lines) for e in packer.add(2, "{}")]
([], [2])
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

MAX_ENTRIES_PER_CALL: Final = 10
MAX_CALL_BYTES: Final = 256 * 1024
MAX_ENTRY_BYTES: Final = MAX_CALL_BYTES - 4 * 1024

# Entry error codes that another try cannot fix.
PERMANENT_ERRORS: Final = frozenset(
    {"MalformedDetail", "InvalidArgument", "ValidationException", "AccessDeniedException"}
)


def entry_size(entry: PutEventsRequestEntryTypeDef) -> int:
    """The size PutEvents counts for one entry."""
    size = 14 if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    size += sum(len(resource.encode("utf-8")) for resource in entry.get("Resources", []))
    return size


@dataclass
class PackedEntry:
    """One PutEvents entry and the input lines whose contents it carries."""

    entry: PutEventsRequestEntryTypeDef
    lines: list[int]
    size: int


class ContentTooLargeError(ValueError):
    """One content alone makes an entry over ``MAX_ENTRY_BYTES``."""


@dataclass
class EntryPacker:
    """Groups JSON-encoded contents into entries of one content type and detail type."""

    content_type: str
    detail_type: str
    source: str
    bus_name: str
    contents_per_event: int
    max_entry_bytes: int = MAX_ENTRY_BYTES
    _lines: list[int] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _parts_bytes: int = 0
    _overhead: int = 0

    def __post_init__(self) -> None:
        # Everything in an entry but its contents and the ", " between them.
        empty = '{"content_type": ' + json.dumps(self.content_type) + ', "contents": []}'
        self._overhead = sum(
            len(text.encode("utf-8")) for text in (empty, self.source, self.detail_type)
        )

    def _size_with(self, part_bytes: int) -> int:
        separator = 2 if self._parts else 0
        return (
            self._overhead
            + self._parts_bytes
            + 2 * max(0, len(self._parts) - 1)
            + (separator + part_bytes)
        )

    def _build(self) -> PackedEntry:
        detail = (
            '{"content_type": '
            + json.dumps(self.content_type)
            + ', "contents": ['
            + ", ".join(self._parts)
            + "]}"
        )
        entry: PutEventsRequestEntryTypeDef = {
            "Source": self.source,
            "DetailType": self.detail_type,
            "Detail": detail,
            "EventBusName": self.bus_name,
        }
        packed = PackedEntry(entry, self._lines, entry_size(entry))
        self._lines, self._parts, self._parts_bytes = [], [], 0
        return packed

    def add(self, line: int, content_json: str) -> list[PackedEntry]:
        """Add one content; return the entries this completed (zero, one or two).

        Raises ``ContentTooLargeError`` when the content cannot fit in any entry.
        """
        part_bytes = len(content_json.encode("utf-8"))
        if self._overhead + part_bytes > self.max_entry_bytes:
            raise ContentTooLargeError(
                f"{part_bytes} bytes: an event carrying it would pass {self.max_entry_bytes} bytes"
            )
        completed: list[PackedEntry] = []
        if self._parts and self._size_with(part_bytes) > self.max_entry_bytes:
            completed.append(self._build())
        self._lines.append(line)
        self._parts.append(content_json)
        self._parts_bytes += part_bytes
        if len(self._parts) >= self.contents_per_event:
            completed.append(self._build())
        return completed

    def pending_lines(self) -> list[int]:
        """The lines added but not yet in a completed entry."""
        return list(self._lines)

    def flush(self) -> list[PackedEntry]:
        """The last, partly filled entry, if any."""
        return [self._build()] if self._parts else []


def calls(entries: Sequence[PackedEntry]) -> Iterator[list[PackedEntry]]:
    """Split entries into PutEvents calls of at most 10 entries and 256 KiB."""
    batch: list[PackedEntry] = []
    batch_bytes = 0
    for entry in entries:
        if batch and (
            len(batch) >= MAX_ENTRIES_PER_CALL or batch_bytes + entry.size > MAX_CALL_BYTES
        ):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(entry)
        batch_bytes += entry.size
    if batch:
        yield batch


@dataclass(frozen=True)
class FailedEntry:
    """An entry PutEvents still refused after the last attempt."""

    entry: PackedEntry
    code: str
    message: str


@dataclass
class SendResult:
    """What one ``send`` achieved."""

    accepted: list[PackedEntry] = field(default_factory=list)
    failed: list[FailedEntry] = field(default_factory=list)
    calls: int = 0
    retried_entries: int = 0


def backoff_seconds(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Full-jitter exponential backoff before try ``attempt + 1``."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def send(
    client: EventBridgeClient,
    entries: Sequence[PackedEntry],
    *,
    max_attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> SendResult:
    """PutEvents ``entries`` (at most one call's worth), retrying the entries that fail.

    A whole call that raises (after botocore's own retries) propagates: the caller decides.
    """
    result = SendResult()
    pending = list(entries)
    attempt = 1
    while pending:
        response = client.put_events(Entries=[packed.entry for packed in pending])
        result.calls += 1
        retry: list[tuple[PackedEntry, str, str]] = []
        for packed, outcome in zip(pending, response["Entries"], strict=True):
            code = outcome.get("ErrorCode")
            if code is None:
                result.accepted.append(packed)
            elif code in PERMANENT_ERRORS or attempt >= max_attempts:
                result.failed.append(FailedEntry(packed, code, outcome.get("ErrorMessage", "")))
            else:
                retry.append((packed, code, outcome.get("ErrorMessage", "")))
        if retry:
            result.retried_entries += len(retry)
            sleep(backoff_seconds(attempt))
        pending = [packed for packed, _, _ in retry]
        attempt += 1
    return result

"""Pack contents into EventBridge entries and send them with PutEvents, within its limits.

One packer and one sender for everything that puts contents on the bus: the write-once
deduper's ``RecordsWritten`` announcements and the local feed's ``RecordsSubmitted`` /
``RecordsOffered`` events. Each entry's detail has the ingestion shape
``{"content_type": .., "contents": [..]}``.

Limits: PutEvents takes at most 10 entries and 256 KiB per call, an entry's size being the
UTF-8 bytes of its Source, DetailType, Detail and Resources (plus 14 for Time). An entry is kept
under ``MAX_ENTRY_BYTES``, a little below 256 KiB, so that the envelope EventBridge wraps
around the detail still fits in one SQS message (the queues behind the rules).

Entries that PutEvents reports as failed are sent again, alone, with capped exponential backoff
and full jitter; codes another try cannot fix (``PERMANENT_ERRORS``) are not retried. What
still fails is returned with its error code, never dropped.

>>> packer = EntryPacker("actor", "RecordsSubmitted", "records.service", "bus", 2)
>>> [len(e.tags) for e in packer.add(1, '{"a":1}')], [len(e.tags) for e in packer.add(2, "{}")]
([], [2])
>>> (last,) = packer.add(3, "{}") + packer.flush()
>>> last.entry["Detail"], last.tags
('{"content_type":"actor","contents":[{}]}', [3])
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Generic, TypeVar

from pydantic_dynamo.aws_errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

__all__ = [
    "MAX_CALL_BYTES",
    "MAX_ENTRIES_PER_CALL",
    "MAX_ENTRY_BYTES",
    "PERMANENT_ERRORS",
    "CallFailedError",
    "ContentTooLargeError",
    "EntryPacker",
    "FailedEntry",
    "PackedEntry",
    "SendResult",
    "build_entry",
    "calls",
    "entry_size",
    "send",
]

MAX_ENTRIES_PER_CALL: Final = 10
MAX_CALL_BYTES: Final = 256 * 1024
MAX_ENTRY_BYTES: Final = MAX_CALL_BYTES - 4 * 1024

# Entry error codes that another try cannot fix.
PERMANENT_ERRORS: Final = frozenset(
    {"MalformedDetail", "InvalidArgument", "ValidationException", "AccessDeniedException"}
)
# A response that does not answer entry for entry: nothing can be told about any entry.
_UNREADABLE_RESPONSE: Final = "UnreadableResponse"

TagT = TypeVar("TagT")


def entry_size(entry: PutEventsRequestEntryTypeDef) -> int:
    """The size PutEvents counts for one entry."""
    size = 14 if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    size += sum(len(resource.encode("utf-8")) for resource in entry.get("Resources", []))
    return size


def build_entry(
    source: str, detail_type: str, bus_name: str, detail: str
) -> PutEventsRequestEntryTypeDef:
    """One PutEvents entry."""
    return {"Source": source, "DetailType": detail_type, "Detail": detail, "EventBusName": bus_name}


def _detail_head(content_type: str) -> str:
    return '{"content_type":' + json.dumps(content_type) + ',"contents":['


@dataclass
class PackedEntry(Generic[TagT]):
    """One PutEvents entry, what its contents stand for (``tags``: lines, contents...), its size."""

    entry: PutEventsRequestEntryTypeDef
    tags: list[TagT]
    size: int

    @classmethod
    def of(cls, entry: PutEventsRequestEntryTypeDef, tags: list[TagT]) -> PackedEntry[TagT]:
        """``entry`` with its size measured."""
        return cls(entry, tags, entry_size(entry))


class ContentTooLargeError(ValueError):
    """One content alone makes an entry over the packer's ``max_entry_bytes``."""


@dataclass
class EntryPacker(Generic[TagT]):
    """Groups JSON-encoded contents into entries of one content type and detail type."""

    content_type: str
    detail_type: str
    source: str
    bus_name: str
    contents_per_event: int
    max_entry_bytes: int = MAX_ENTRY_BYTES
    _tags: list[TagT] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _parts_bytes: int = 0
    _overhead: int = 0

    def __post_init__(self) -> None:
        # Everything in an entry but its contents and the commas between them.
        empty = _detail_head(self.content_type) + "]}"
        self._overhead = sum(
            len(text.encode("utf-8")) for text in (empty, self.source, self.detail_type)
        )

    def _size_with(self, part_bytes: int) -> int:
        return self._overhead + self._parts_bytes + len(self._parts) + part_bytes

    def _build(self) -> PackedEntry[TagT]:
        detail = _detail_head(self.content_type) + ",".join(self._parts) + "]}"
        entry = build_entry(self.source, self.detail_type, self.bus_name, detail)
        packed = PackedEntry.of(entry, self._tags)
        self._tags, self._parts, self._parts_bytes = [], [], 0
        return packed

    def add(self, tag: TagT, content_json: str) -> list[PackedEntry[TagT]]:
        """Add one content; return the entries this completed (zero, one or two).

        Raises ``ContentTooLargeError`` (and keeps nothing) when the content cannot fit in any
        entry.
        """
        part_bytes = len(content_json.encode("utf-8"))
        if self._overhead + part_bytes > self.max_entry_bytes:
            raise ContentTooLargeError(
                f"{part_bytes} bytes: an event carrying it would pass {self.max_entry_bytes} bytes"
            )
        completed: list[PackedEntry[TagT]] = []
        if self._parts and self._size_with(part_bytes) > self.max_entry_bytes:
            completed.append(self._build())
        self._tags.append(tag)
        self._parts.append(content_json)
        self._parts_bytes += part_bytes
        if len(self._parts) >= self.contents_per_event:
            completed.append(self._build())
        return completed

    def pending_tags(self) -> list[TagT]:
        """The tags added but not yet in a completed entry."""
        return list(self._tags)

    def flush(self) -> list[PackedEntry[TagT]]:
        """The last, partly filled entry, if any."""
        return [self._build()] if self._parts else []


def calls(entries: Sequence[PackedEntry[TagT]]) -> Iterator[list[PackedEntry[TagT]]]:
    """Split entries into PutEvents calls of at most 10 entries and 256 KiB."""
    batch: list[PackedEntry[TagT]] = []
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
class FailedEntry(Generic[TagT]):
    """An entry PutEvents still refused after the last attempt, with the last error."""

    entry: PackedEntry[TagT]
    code: str
    message: str


@dataclass
class SendResult(Generic[TagT]):
    """What one ``send`` achieved."""

    accepted: list[PackedEntry[TagT]] = field(default_factory=list)
    failed: list[FailedEntry[TagT]] = field(default_factory=list)
    calls: int = 0
    retried_entries: int = 0


class CallFailedError(Exception, Generic[TagT]):
    """A PutEvents call raised (no bus, no credentials...); ``result`` is what was done before.

    ``unsent`` are the entries not known to be accepted.
    """

    def __init__(
        self, cause: Exception, result: SendResult[TagT], unsent: list[PackedEntry[TagT]]
    ) -> None:
        super().__init__(str(cause))
        self.result = result
        self.unsent = unsent


Outcome = tuple[str, str] | None  # (code, message) of a failed entry; None when accepted


def _put(client: EventBridgeClient, call: list[PackedEntry[TagT]]) -> list[Outcome]:
    response = client.put_events(Entries=[packed.entry for packed in call])
    results = response.get("Entries", [])
    if len(results) != len(call):
        why = f"{len(results)} results for {len(call)} entries"
        return [(_UNREADABLE_RESPONSE, why)] * len(call)
    return [
        None if not r.get("ErrorCode") else (str(r["ErrorCode"]), r.get("ErrorMessage", ""))
        for r in results
    ]


def send(
    client: EventBridgeClient,
    entries: Sequence[PackedEntry[TagT]],
    *,
    max_attempts: int = 5,
    base_delay: float = 0.2,
    max_delay: float = 5.0,
    sleep: Callable[[float], None] | None = None,
    jitter: Callable[[], float] = random.random,
    time_left: Callable[[], float] | None = None,
    reserve_seconds: float = 5.0,
    raise_call_errors: bool = True,
) -> SendResult[TagT]:
    """PutEvents ``entries`` (split into calls), retrying the entries that fail.

    Between tries it sleeps ``min(max_delay, base_delay * 2**(attempt-1)) * jitter()`` (full
    jitter). It stops retrying after ``max_attempts`` tries, or when ``time_left()`` (seconds)
    would drop under ``reserve_seconds``. A call that raises (after botocore's own retries)
    raises ``CallFailedError`` when ``raise_call_errors``; otherwise its entries count as
    failed with the error's code, and are retried like any failed entry.
    """
    result: SendResult[TagT] = SendResult()
    pending = list(entries)
    attempt = 1
    while pending:
        retry: list[tuple[PackedEntry[TagT], str, str]] = []
        for index, call in enumerate(calls(pending)):
            try:
                outcomes = _put(client, call)
            except Exception as error:
                if raise_call_errors:
                    done = sum(len(c) for c in list(calls(pending))[:index])
                    unsent = [p for p, _, _ in retry] + pending[done:]
                    raise CallFailedError(error, result, unsent) from error
                code = error_code(error) or type(error).__name__
                outcomes = [(code, str(error))] * len(call)
            result.calls += 1
            for packed, outcome in zip(call, outcomes, strict=True):
                if outcome is None:
                    result.accepted.append(packed)
                elif outcome[0] in PERMANENT_ERRORS:
                    result.failed.append(FailedEntry(packed, *outcome))
                else:
                    retry.append((packed, *outcome))
        if not retry:
            break
        delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * jitter()
        out_of_time = time_left is not None and time_left() < delay + reserve_seconds
        if attempt >= max_attempts or out_of_time:
            result.failed.extend(FailedEntry(packed, code, msg) for packed, code, msg in retry)
            break
        result.retried_entries += len(retry)
        (sleep or time.sleep)(delay)
        pending = [packed for packed, _, _ in retry]
        attempt += 1
    return result

"""Announce changes on the event bus as ``RecordsChanged`` events, one change per event.

The detail of each event::

    {"content_type": "actor", "change": "modified", "partition_ids": [], "content_ids": ["a1"],
     "version": 2, "sequence_number": "4900...", "event_id": "...", "images_omitted": false,
     "new": <PartitionedContent JSON>, "old": <PartitionedContent JSON>}

``new``/``old`` are the contents as the API serializes them (``null`` when the change has no
such side: ``old`` of an insert, ``new`` of a removal or expiry). An event whose detail would
pass PutEvents' entry limit (a DynamoDB item reaches 400 KB, and a modification carries two) is
sent without them: ``images_omitted`` is ``true`` and both are ``null``; read the content from
the API by its keys.

Entries are sent with ``records_service.putevents`` (10 entries and 256 KiB a call, failed
entries retried with capped exponential backoff and full jitter); what still fails is handed
back, so the handler reports those records failed and Lambda retries them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from records_service import names
from records_service.putevents import MAX_ENTRY_BYTES, PackedEntry, build_entry, send

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

    from stream_consumer.changes import TypedChange

__all__ = ["AnnounceResult", "ChangeAnnouncer", "change_entry"]


def _detail(typed: TypedChange, *, images: bool) -> str:
    change = typed.change
    detail: dict[str, Any] = {
        "content_type": typed.content_type.name,
        "change": change.kind.value,
        "partition_ids": change.partition_ids,
        "content_ids": change.content_ids,
        "version": change.version,
        "sequence_number": change.sequence_number,
        "event_id": change.event_id,
        "images_omitted": not images,
        "new": change.new.model_dump(mode="json") if images and change.new else None,
        "old": change.old.model_dump(mode="json") if images and change.old else None,
    }
    return json.dumps(detail, separators=(",", ":"))


def change_entry(
    typed: TypedChange, bus_name: str, max_entry_bytes: int = MAX_ENTRY_BYTES
) -> tuple[PackedEntry[TypedChange], bool]:
    """The ``RecordsChanged`` entry of one change, and whether it carries the images.

    Without images an entry holds keys of at most 3 KB (DynamoDB's key limits) and fits.
    """
    packed = PackedEntry.of(_entry(typed, bus_name, images=True), [typed])
    if packed.size <= max_entry_bytes:
        return packed, True
    return PackedEntry.of(_entry(typed, bus_name, images=False), [typed]), False


def _entry(typed: TypedChange, bus_name: str, *, images: bool) -> PutEventsRequestEntryTypeDef:
    detail = _detail(typed, images=images)
    return build_entry(names.EVENT_SOURCE, names.DETAIL_TYPE_CHANGED, bus_name, detail)


@dataclass
class AnnounceResult:
    """What one ``announce`` sent, and the changes that still failed (with the last error)."""

    announced: int = 0
    without_images: int = 0
    failed: list[tuple[TypedChange, str]] = field(default_factory=list)


class ChangeAnnouncer:
    """Sends changes with PutEvents; ``client`` is called for the EventBridge client on first
    use (created once per container). Retries: ``putevents.send``'s defaults."""

    def __init__(
        self, client: Callable[[], EventBridgeClient], bus_name: str, logger: Logger
    ) -> None:
        self._client = client
        self._bus_name = bus_name
        self._logger = logger

    def announce(
        self, changes: Sequence[TypedChange], time_left: Callable[[], float] | None = None
    ) -> AnnounceResult:
        """Send one event per change; never raises (what is not known sent is ``failed``)."""
        result = AnnounceResult()
        if not changes:
            return result
        built = [change_entry(typed, self._bus_name) for typed in changes]
        result.without_images = sum(1 for _, images in built if not images)
        try:
            sent = send(
                self._client(),
                [packed for packed, _ in built],
                time_left=time_left,
                raise_call_errors=False,
            )
        except Exception as error:  # no client (credentials...): nothing is known sent
            self._logger.exception("PutEvents failed; every change of the batch is retried")
            result.failed = [(typed, f"{type(error).__name__}: {error}") for typed in changes]
            return result
        for failed in sent.failed:
            (typed,) = failed.entry.tags
            self._logger.warning(
                "PutEvents entry failed", extra={"code": failed.code, "reason": failed.message}
            )
            result.failed.append((typed, f"PutEvents: {failed.code}: {failed.message}"))
        result.announced = len(sent.accepted)
        return result

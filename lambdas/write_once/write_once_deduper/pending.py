"""Markers for contents that were written but whose announcement has not gone out yet.

Why: write-once writes a content, then announces it. If the announcement fails for good, the
message is failed so SQS delivers it again, but on that delivery the content is already stored,
so write-once calls it a duplicate and it would never be announced. Before failing the message
the deduper therefore leaves a small marker in the table (one item per content key, with a TTL);
on every later delivery, duplicates that carry a marker are announced after all and the marker is
removed. The marker is keyed by the content (not by the SQS message), so it also works when the
message comes back from the DLQ with a new id, or the same content is offered again by another
message.

Markers live in the service's table under their own partition prefix, ``records-internal``,
which no content type may use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pydantic_dynamo import PartitionedContent
from records_service.content_types import INTERNAL_PARTITION_PREFIX, ContentType

if TYPE_CHECKING:
    from records_service.repositories import Repositories

__all__ = ["MARKER_TTL", "PENDING", "PendingAnnouncement", "PendingAnnouncements"]

# Longer than SQS keeps a message (14 days at most) in its queue and DLQ together.
MARKER_TTL = timedelta(days=30)


class PendingAnnouncement(BaseModel):
    """The marker: which content type, and which version was written."""

    content_type: str
    current_version: int


PENDING: ContentType[PendingAnnouncement] = ContentType(
    "pending-announcement",
    PendingAnnouncement,
    partition_prefix=INTERNAL_PARTITION_PREFIX,
    partition_name="pending",
    description="Written but not yet announced contents (write-once deduper)",
)


def _marker_ids(
    ct: ContentType[Any], content: PartitionedContent[Any]
) -> tuple[list[str], list[str]]:
    return [ct.name, *content.partition_ids], list(content.content_ids)


class PendingAnnouncements:
    """The marker store, over the service's table."""

    def __init__(self, repositories: Repositories) -> None:
        self._repositories = repositories

    def find(
        self, ct: ContentType[Any], contents: Sequence[PartitionedContent[Any]]
    ) -> list[PartitionedContent[Any]]:
        """Those of ``contents`` that carry a marker (written earlier, never announced)."""
        if not contents:
            return []
        repo = self._repositories.for_type(PENDING)
        marked = {
            (tuple(found.partition_ids), tuple(found.content_ids))
            for response in repo.get_batch([_marker_ids(ct, c) for c in contents])
            for found in response.contents
        }
        return [
            c for c in contents if (tuple(_marker_ids(ct, c)[0]), tuple(c.content_ids)) in marked
        ]

    def save(self, ct: ContentType[Any], contents: Sequence[PartitionedContent[Any]]) -> None:
        """Leave a marker for each content (its announcement failed)."""
        expiry = datetime.now(UTC) + MARKER_TTL
        markers = []
        for content in contents:
            partition_ids, content_ids = _marker_ids(ct, content)
            markers.append(
                PartitionedContent[PendingAnnouncement](
                    partition_ids=partition_ids,
                    content_ids=content_ids,
                    item=PendingAnnouncement(
                        content_type=ct.name, current_version=content.current_version
                    ),
                    expiry=expiry,
                )
            )
        self._repositories.for_type(PENDING).put_batch(markers)

    def clear(self, ct: ContentType[Any], contents: Sequence[PartitionedContent[Any]]) -> None:
        """Remove the markers of contents that have now been announced."""
        repo = self._repositories.for_type(PENDING)
        for content in contents:
            repo.delete_item(*_marker_ids(ct, content))

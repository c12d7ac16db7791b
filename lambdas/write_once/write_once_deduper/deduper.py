"""Write-once a whole SQS batch and announce exactly what was written.

For each content type in the batch, ``SyncWriteOnceRepository.write`` writes the new or changed
contents and returns exactly those, with the version stored (when it succeeds, the rest are
duplicates of what is stored). The written contents, plus any duplicates still marked as never
announced (see ``pending``), are announced as ``RecordsWritten`` events.

Delivery guarantee, and its limits
----------------------------------
- A content written and announced in one invocation is announced once.
- If its announcement still fails after the publisher's retries, a pending marker is saved and
  the message is failed; the next delivery (or a DLQ redrive, or another offer of the same
  content) finds the marker and announces it then: at least once, never silently dropped.
- Two narrow windows remain: if the function dies between writing and saving the marker (a
  timeout or crash), the announcement is lost; if it dies after announcing a marked content but
  before removing the marker, the content may be announced twice. Closing them would need the
  write and the marker in one transaction inside write-once, which the library does not offer.

So consumers must tolerate repeats. Write-once stores a changed content with the stored version
plus one, and announces that version: (content key, ``current_version``) identifies an announced
content as long as the key is written only by write-once, PUT and PATCH. Batch put and the batch
writer store the version they are given (it can go back to 1); for keys also written that way,
consumers should deduplicate on the content itself (docs/api.md, "Versions").

When write-once gives up (``UnprocessedItemsError``), only ``error.written`` were written (they
are announced); nothing else is taken for a duplicate, since that depends on where it gave up:
every message holding another content fails and its redelivery sorts it out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import PartitionedContent, SyncWriteOnceRepository, UnprocessedItemsError
from pydantic_dynamo.aws_errors import ErrorKind
from records_service.sqs_batch import write_isolating
from write_once_deduper.announcer import Announcement, Publisher, build_announcements

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from records_service.content_types import ContentType
    from records_service.repositories import Repositories
    from records_service.sqs_batch import Message, SqsBatch
    from write_once_deduper.pending import PendingAnnouncements

__all__ = ["DedupeTally", "Deduper"]

Key = tuple[str, tuple[str, ...], tuple[str, ...]]


def _key(ct: ContentType[Any], content: PartitionedContent[Any]) -> Key:
    return (ct.name, tuple(content.partition_ids), tuple(content.content_ids))


@dataclass
class DedupeTally:
    """What one invocation wrote, skipped, announced and deferred."""

    written: int = 0
    duplicates: int = 0
    invalid: int = 0
    announced: int = 0
    deferred: int = 0


class Deduper:
    """Runs write-once over a batch and hands the written contents to the publisher."""

    def __init__(
        self,
        repositories: Repositories,
        publisher: Publisher,
        pending: PendingAnnouncements,
        bus_name: str,
        logger: Logger,
    ) -> None:
        self._repositories = repositories
        self._publisher = publisher
        self._pending = pending
        self._bus_name = bus_name
        self._logger = logger
        self._write_once: dict[str, SyncWriteOnceRepository[Any]] = {}

    def _writer(self, ct: ContentType[Any]) -> SyncWriteOnceRepository[Any]:
        writer = self._write_once.get(ct.name)
        if writer is None:
            writer = SyncWriteOnceRepository[ct.model](self._repositories.for_type(ct))  # type: ignore[name-defined]
            self._write_once[ct.name] = writer
        return writer

    def run(self, batch: SqsBatch, time_left: Callable[[], float] | None = None) -> DedupeTally:
        """Deduplicate, write and announce ``batch``; failures are recorded on it."""
        tally = DedupeTally(invalid=batch.invalid)
        owners: dict[Key, list[str]] = {}
        announcements: list[Announcement] = []
        revived: dict[str, tuple[ContentType[Any], list[PartitionedContent[Any]]]] = {}
        for ct, messages in batch.by_content_type().values():
            for message in messages:
                for content in message.submission.contents:
                    owners.setdefault(_key(ct, content), []).append(message.message_id)
            written, marked = self._write_group(ct, messages, batch, tally)
            if marked:
                revived[ct.name] = (ct, marked)
            if written or marked:
                announcements.extend(build_announcements(ct, [*written, *marked], self._bus_name))

        failed = self._publisher.publish(announcements, time_left)
        failed_keys = {_key(a.content_type, c) for a in failed for c in a.contents}
        tally.announced = sum(len(a.contents) for a in announcements) - sum(
            len(a.contents) for a in failed
        )
        self._clear_announced(revived, failed_keys)
        self._defer(failed, revived, owners, batch, tally)
        return tally

    def _write_group(
        self,
        ct: ContentType[Any],
        messages: Sequence[Message],
        batch: SqsBatch,
        tally: DedupeTally,
    ) -> tuple[list[PartitionedContent[Any]], list[PartitionedContent[Any]]]:
        """Write-once one content type's messages: (written, marked duplicates)."""
        group = _GroupWrite(self, ct, batch, tally)
        write_isolating(messages, group.write, group.narrow, group.settle)
        return group.written, group.marked

    def _refuse(self, message: Message, reason: str, invalid: bool, batch: SqsBatch) -> None:
        if invalid:
            batch.fail(message.message_id, f"invalid: {reason}")
            return
        self._logger.error(
            "write-once failed", extra={"message_id": message.message_id, "reason": reason}
        )
        batch.fail(message.message_id, f"write-once failed: {reason}")

    def _marked(
        self,
        ct: ContentType[Any],
        messages: Sequence[Message],
        duplicates: list[PartitionedContent[Any]],
        batch: SqsBatch,
    ) -> list[PartitionedContent[Any]]:
        """The duplicates still waiting for their announcement (see ``pending``)."""
        try:
            return self._pending.find(ct, duplicates)
        except Exception as error:
            # A marked duplicate would go unannounced: retry the messages holding duplicates.
            self._logger.exception("pending lookup failed", extra={"content_type": ct.name})
            dup_keys = {_key(ct, c) for c in duplicates}
            for message in messages:
                if any(_key(ct, c) in dup_keys for c in message.submission.contents):
                    batch.fail(message.message_id, f"pending-announcement lookup failed: {error}")
            return []

    def _clear_announced(
        self,
        revived: dict[str, tuple[ContentType[Any], list[PartitionedContent[Any]]]],
        failed_keys: set[Key],
    ) -> None:
        for ct, marked in revived.values():
            done = [c for c in marked if _key(ct, c) not in failed_keys]
            try:
                self._pending.clear(ct, done)
            except Exception:
                # Announced already; a stale marker only risks a second announcement later.
                self._logger.exception("could not clear pending markers")

    def _defer(
        self,
        failed: Sequence[Announcement],
        revived: dict[str, tuple[ContentType[Any], list[PartitionedContent[Any]]]],
        owners: dict[Key, list[str]],
        batch: SqsBatch,
        tally: DedupeTally,
    ) -> None:
        already_marked = {_key(ct, c) for ct, marked in revived.values() for c in marked}
        for announcement in failed:
            ct = announcement.content_type
            to_mark = [c for c in announcement.contents if _key(ct, c) not in already_marked]
            reason = "announcement deferred: PutEvents kept failing"
            try:
                if to_mark:
                    self._pending.save(ct, to_mark)
            except Exception as error:
                self._logger.exception("ANNOUNCEMENT AT RISK: could not save pending markers")
                reason = f"announcement deferred and its marker not saved: {error}"
            tally.deferred += len(announcement.contents)
            for content in announcement.contents:
                for message_id in owners.get(_key(ct, content), []):
                    batch.fail(message_id, reason)


@dataclass
class _GroupWrite:
    """The deduper's side of ``write_isolating``: one content type's messages."""

    deduper: Deduper
    ct: ContentType[Any]
    batch: SqsBatch
    tally: DedupeTally
    written: list[PartitionedContent[Any]] = field(default_factory=list)
    marked: list[PartitionedContent[Any]] = field(default_factory=list)

    def write(self, messages: Sequence[Message]) -> None:
        contents = [c for m in messages for c in m.submission.contents]
        written = self.deduper._writer(self.ct).write(contents)
        # Only a call that succeeded tells duplicates apart: every content it did not write is
        # stored already, unchanged.
        written_keys = {_key(self.ct, c) for c in written}
        duplicates = [c for c in contents if _key(self.ct, c) not in written_keys]
        self.tally.written += len(written)
        self.tally.duplicates += len(duplicates)
        self.written.extend(written)
        self.marked.extend(self.deduper._marked(self.ct, messages, duplicates, self.batch))

    def narrow(self, messages: Sequence[Message], error: Exception) -> Sequence[Message]:
        """Keep what write-once says it wrote; the messages holding anything else are in doubt.

        When write-once gives up, only ``error.written`` were written, and must be announced.
        Nothing else is known for sure: ``error.items`` were not written, and whether the
        others are unchanged duplicates depends on where it gave up (reading what is stored,
        or writing). Duplicates are never inferred here: every message holding a content not
        in ``error.written`` is in doubt, and fails unless written alone (write-once is
        idempotent: a content written now is then a duplicate, not announced twice).
        """
        if not isinstance(error, UnprocessedItemsError):
            return messages  # refused before anything was sent, or not DynamoDB's failure
        written = list(error.written)
        self.tally.written += len(written)
        self.written.extend(written)
        written_keys = {_key(self.ct, c) for c in written}
        return [
            m
            for m in messages
            if any(_key(self.ct, c) not in written_keys for c in m.submission.contents)
        ]

    def settle(self, messages: Sequence[Message], error: Exception, kind: ErrorKind) -> None:
        """Fail ``messages``: invalid when refused, for a retry otherwise."""
        invalid = kind is ErrorKind.REFUSED
        self.tally.invalid += len(messages) if invalid else 0
        reason = f"not written: {error}" if isinstance(error, UnprocessedItemsError) else str(error)
        for message in messages:
            self.deduper._refuse(message, reason, invalid, self.batch)

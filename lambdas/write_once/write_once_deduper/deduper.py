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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import (
    PartitionedContent,
    PydanticDynamoError,
    SyncWriteOnceRepository,
    UnprocessedItemsError,
)
from pydantic_dynamo.retry import RETRYABLE_ERROR_CODES
from write_once_deduper.announcer import Announcement, Publisher, build_announcements

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from records_service.content_types import ContentType
    from records_service.repositories import Repositories
    from records_service.sqs_batch import Message, SqsBatch
    from write_once_deduper.pending import PendingAnnouncements

__all__ = ["DedupeTally", "Deduper"]

Key = tuple[str, tuple[str, ...], tuple[str, ...]]

# The AWS error code of a request DynamoDB refuses as malformed (a value it cannot store...).
_REFUSED = "ValidationException"


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
        contents = [c for m in messages for c in m.submission.contents]
        try:
            written = self._writer(ct).write(contents)
        except UnprocessedItemsError as error:
            return self._partly_written(ct, messages, error, batch, tally)
        except Exception as error:
            # Refused before anything was sent (a content the library cannot store), or a
            # failure that is not DynamoDB's: isolate the culprit message by message.
            if len(messages) > 1:
                return self._write_each(ct, messages, batch, tally)
            invalid = isinstance(error, PydanticDynamoError)
            tally.invalid += int(invalid)
            self._refuse(messages[0], str(error), invalid, batch)
            return [], []
        # Only a call that succeeded tells duplicates apart: every content it did not write is
        # stored already, unchanged.
        written_keys = {_key(ct, c) for c in written}
        duplicates = [c for c in contents if _key(ct, c) not in written_keys]
        tally.written += len(written)
        tally.duplicates += len(duplicates)
        return written, self._marked(ct, messages, duplicates, batch)

    def _partly_written(
        self,
        ct: ContentType[Any],
        messages: Sequence[Message],
        error: UnprocessedItemsError,
        batch: SqsBatch,
        tally: DedupeTally,
    ) -> tuple[list[PartitionedContent[Any]], list[PartitionedContent[Any]]]:
        """Write-once gave up: only ``error.written`` were written, and must be announced.

        Nothing else is known for sure: ``error.items`` were not written, and whether the
        others are unchanged duplicates depends on where it gave up (reading what is stored,
        or writing). Duplicates are never inferred here: every message holding a content not
        in ``error.written`` fails, and its redelivery sorts it out (write-once is idempotent,
        and a content written now is then a duplicate, not announced twice).
        """
        written = list(error.written)
        written_keys = {_key(ct, c) for c in written}
        unsure = [
            m
            for m in messages
            if any(_key(ct, c) not in written_keys for c in m.submission.contents)
        ]
        tally.written += len(written)
        if error.code is not None and error.code not in RETRYABLE_ERROR_CODES and len(unsure) > 1:
            # DynamoDB refused a request (a content it cannot store, or a fault): find the
            # message holding the culprit, one message at a time.
            more_written, marked = self._write_each(ct, unsure, batch, tally)
            return [*written, *more_written], marked
        refused = error.code == _REFUSED
        tally.invalid += len(unsure) if refused else 0
        for message in unsure:
            self._refuse(message, f"not written: {error}", refused, batch)
        return written, []

    def _write_each(
        self,
        ct: ContentType[Any],
        messages: Sequence[Message],
        batch: SqsBatch,
        tally: DedupeTally,
    ) -> tuple[list[PartitionedContent[Any]], list[PartitionedContent[Any]]]:
        written: list[PartitionedContent[Any]] = []
        marked: list[PartitionedContent[Any]] = []
        for message in messages:
            one_written, one_marked = self._write_group(ct, [message], batch, tally)
            written.extend(one_written)
            marked.extend(one_marked)
        return written, marked

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

"""One stream batch read as typed changes of the served content types.

Each record of the table's stream is matched to the content type whose keys it carries
(``pydantic_dynamo.streams.StreamDecoder.belongs``) and decoded into a
:class:`~pydantic_dynamo.streams.Change`. What is not a served content (the write-once
deduper's markers under ``records-internal``, items another tool wrote) is skipped. A record
that cannot be decoded (an image the model refuses, a malformed record) is logged with its key
and counted, and never announced: decoding is pure, so retrying it would fail the same way and
only hold up the shard. Failures recorded on the batch (announcements PutEvents kept refusing)
are what the handler reports back, by sequence number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic_dynamo.streams import Change, StreamDecoder, StreamRecordError, sequence_number
from records_service.repositories import content_core

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from records_service.content_types import ContentType

__all__ = ["ChangeBatch", "ChangeReader", "RecordFailedError", "TypedChange"]


class RecordFailedError(Exception):
    """Raised for a failed record inside the batch processor, which reports its sequence number."""


@dataclass(frozen=True)
class TypedChange:
    """A decoded change and the content type it is of."""

    content_type: ContentType[Any]
    change: Change[Any]


@dataclass
class ChangeBatch:
    """The changes of one invocation, what was left out, and the records that failed."""

    changes: list[TypedChange] = field(default_factory=list)
    skipped: int = 0
    undecodable: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # sequence number -> reason

    def fail(self, sequence: str, reason: str) -> None:
        """Record that the record ``sequence`` failed (the first reason is kept)."""
        self.failures.setdefault(sequence, reason)

    def check(self, record: DynamoDBRecord) -> None:
        """The batch processor's record handler: raise for a record that failed."""
        reason = self.failures.get(sequence_number(record))
        if reason is not None:
            raise RecordFailedError(reason)

    def log_failures(self, logger: Logger) -> None:
        """One warning per failed record, with its sequence number and reason."""
        for sequence, reason in self.failures.items():
            logger.warning(
                "record failed; Lambda retries the batch from the first failed record",
                extra={"sequence_number": sequence, "reason": reason},
            )


class ChangeReader:
    """Decodes stream records into changes of the content types it serves."""

    def __init__(
        self, content_types: Mapping[str, ContentType[Any]], table_name: str, logger: Logger
    ) -> None:
        self._decoders = [
            (ct, StreamDecoder(content_core(ct, table_name))) for ct in content_types.values()
        ]
        self._logger = logger

    def read(self, records: Iterable[Mapping[str, Any]]) -> ChangeBatch:
        """Every record of the batch: decoded, skipped, or logged as undecodable."""
        batch = ChangeBatch()
        for record in records:
            try:
                change = self._read_one(record)
            except StreamRecordError as error:
                self._undecodable(batch, error.sequence_number, error.key, error)
                continue
            except Exception as error:  # unforeseen: still pure, so still not worth retrying
                self._undecodable(batch, sequence_number(record), {}, error)
                continue
            if change is None:
                batch.skipped += 1
            else:
                batch.changes.append(change)
        return batch

    def _read_one(self, record: Mapping[str, Any]) -> TypedChange | None:
        for ct, decoder in self._decoders:
            if decoder.belongs(record):
                return TypedChange(ct, decoder.decode(record))
        return None

    def _undecodable(
        self, batch: ChangeBatch, sequence: str, key: dict[str, Any], error: Exception
    ) -> None:
        batch.undecodable += 1
        self._logger.error(
            "undecodable stream record: not announced",
            extra={
                "sequence_number": sequence,
                "key": key,
                "reason": f"{type(error).__name__}: {error}",
            },
        )

"""Write the valid contents of a whole SQS batch, one ``put_batch`` per content type.

Messages of one content type are written together (BatchWriteItem, 25 items a request), not
one put per message. What cannot be written is traced back to the messages that carried it
(:func:`records_service.sqs_batch.write_isolating`):

- ``UnprocessedItemsError``: its ``items`` are exactly the contents not confirmed written; the
  messages holding none of them are done.
- Load (DynamoDB kept leaving work undone, or kept throttling): the messages holding a content
  not written fail for a retry.
- A refusal or a fault (DynamoDB refused a request, the library refused a content before
  sending anything: key too long, item over 400 KB, a value DynamoDB cannot store; a missing
  table): the messages in doubt are written again one by one, so a bad content fails only the
  message holding it. Rewriting what an attempt wrote is harmless: a put of the same content is
  idempotent.

A message whose contents the library or DynamoDB refuses is *invalid*: it fails like any other
and goes to the DLQ after its receives, with the reason logged. Any other failure fails the
message for a retry; a fault is logged as an error.

Contents with the same key in one batch collapse to the last one (BatchWriteItem refuses a key
twice in a request, and sequential puts would leave the last anyway). If that last one's message
then fails, the earlier message was still acknowledged: nothing it sent for that key is stored
until the failed message is redelivered and written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import UnprocessedItemsError
from pydantic_dynamo.aws_errors import ErrorKind
from records_service.sqs_batch import write_isolating

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from pydantic_dynamo import SyncDynamoRepository
    from records_service.repositories import Repositories
    from records_service.sqs_batch import Message, SqsBatch

__all__ = ["WriteTally", "write_batch"]


@dataclass
class WriteTally:
    """What one invocation wrote, refused and failed to write."""

    written: int = 0
    invalid: int = 0
    not_written: int = 0


def write_batch(batch: SqsBatch, repositories: Repositories, logger: Logger) -> WriteTally:
    """Write every valid message of ``batch``; record failures on it; count the outcome."""
    tally = WriteTally(invalid=batch.invalid)
    for content_type, messages in batch.by_content_type().values():
        group = _GroupWrite(repositories.for_type(content_type), batch, tally, logger)
        write_isolating(messages, group.write, group.narrow, group.settle)
    return tally


def _contents(messages: Sequence[Message]) -> list[Any]:
    return [content for message in messages for content in message.submission.contents]


@dataclass
class _GroupWrite:
    """The batch writer's side of ``write_isolating``: one content type's messages."""

    repo: SyncDynamoRepository[Any]
    batch: SqsBatch
    tally: WriteTally
    logger: Logger

    def write(self, messages: Sequence[Message]) -> None:
        contents = _contents(messages)
        self.repo.put_batch(contents)
        self.tally.written += len(contents)

    def narrow(self, messages: Sequence[Message], error: Exception) -> Sequence[Message]:
        """The messages holding a content not confirmed written; the others are done."""
        if not isinstance(error, UnprocessedItemsError):
            return messages
        not_done = {id(item) for item in error.items}
        in_doubt = [m for m in messages if any(id(c) in not_done for c in m.submission.contents)]
        if not in_doubt:  # items that are not these contents: nothing is known for sure
            return messages
        doubtful = {m.message_id for m in in_doubt}
        self.tally.written += sum(
            len(m.submission.contents) for m in messages if m.message_id not in doubtful
        )
        return in_doubt

    def settle(self, messages: Sequence[Message], error: Exception, kind: ErrorKind) -> None:
        """Fail ``messages``: invalid when refused, for a retry otherwise."""
        contents = _contents(messages)
        if isinstance(error, UnprocessedItemsError):
            not_done = {id(item) for item in error.items}
            missed = sum(1 for content in contents if id(content) in not_done) or len(contents)
        else:
            missed = len(contents)
        if kind is ErrorKind.REFUSED:
            by_aws = getattr(error, "code", None) is not None
            reason = f"invalid: {'DynamoDB refused it: ' if by_aws else ''}{error}"
            self.tally.invalid += len(messages)
        else:
            attempts = getattr(error, "attempts", None)
            reason = (
                f"not written after {attempts} attempt(s): {error}"
                if attempts is not None
                else f"write failed: {type(error).__name__}: {error}"
            )
            self.tally.written += len(contents) - missed
            self.tally.not_written += missed
        for message in messages:
            if kind is ErrorKind.FAULT:  # a missing table, a denied action: say so loudly
                self.logger.error(
                    "write failed",
                    extra={"message_id": message.message_id, "reason": reason},
                    exc_info=error,
                )
            self.batch.fail(message.message_id, reason)

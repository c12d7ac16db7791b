"""Write the valid contents of a whole SQS batch, one ``put_batch`` per content type.

Messages of one content type are written together (BatchWriteItem, 25 items a request), not
one put per message. What cannot be written is traced back to the messages that carried it:

- ``UnprocessedItemsError`` with no code or a throttling code (DynamoDB kept leaving work
  undone, or kept throttling): its ``items`` are exactly the contents not written; their
  messages fail for a retry and the rest of the group is written.
- ``UnprocessedItemsError`` with any other code (DynamoDB refused a request: a
  ``ValidationException``, or a fault such as a missing table), or any other error (the library
  refused a content before sending anything: key too long, item over 400 KB, a value DynamoDB
  cannot store): the group is written again message by message, each message's contents with
  their own ``put_batch``, so a bad content fails only the message holding it. Rewriting what
  the first attempt wrote is harmless: a put of the same content is idempotent.

A message whose contents the library or DynamoDB refuses (``ValidationException``) is
*invalid*: it fails like any other and goes to the DLQ after its receives, with the reason
logged. Any other failure fails the message for a retry.

Contents with the same key in one batch collapse to the last one (BatchWriteItem refuses a key
twice in a request, and sequential puts would leave the last anyway). If that last one's message
then fails, the earlier message was still acknowledged: nothing it sent for that key is stored
until the failed message is redelivered and written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import PydanticDynamoError, UnprocessedItemsError
from pydantic_dynamo.retry import RETRYABLE_ERROR_CODES

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from pydantic_dynamo import SyncDynamoRepository
    from records_service.repositories import Repositories
    from records_service.sqs_batch import Message, SqsBatch

__all__ = ["WriteTally", "write_batch"]

# The AWS error code of a request DynamoDB refuses as malformed (a value it cannot store...).
_REFUSED = "ValidationException"


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
        _write_group(repositories.for_type(content_type), messages, batch, tally, logger)
    return tally


def _only_load(error: UnprocessedItemsError) -> bool:
    """Whether the library gave up on load alone (its ``items`` are then exactly the rest)."""
    return error.code is None or error.code in RETRYABLE_ERROR_CODES


def _write_group(
    repo: SyncDynamoRepository[Any],
    messages: Sequence[Message],
    batch: SqsBatch,
    tally: WriteTally,
    logger: Logger,
) -> None:
    if len(messages) == 1:
        _write_message(repo, messages[0], batch, tally, logger)
        return
    contents = [content for message in messages for content in message.submission.contents]
    owner = {
        id(content): message for message in messages for content in message.submission.contents
    }
    try:
        repo.put_batch(contents)
    except UnprocessedItemsError as error:
        if not _only_load(error):
            _write_each(repo, messages, batch, tally, logger)
            return
        failed = {owner[id(item)].message_id for item in error.items if id(item) in owner}
        for message_id in failed:
            batch.fail(message_id, f"not written after {error.attempts} attempt(s): {error}")
        tally.written += len(contents) - len(error.items)
        tally.not_written += len(error.items)
    except Exception:
        _write_each(repo, messages, batch, tally, logger)
    else:
        tally.written += len(contents)


def _write_each(
    repo: SyncDynamoRepository[Any],
    messages: Sequence[Message],
    batch: SqsBatch,
    tally: WriteTally,
    logger: Logger,
) -> None:
    """Isolate the culprit: each message's contents with their own ``put_batch``."""
    for message in messages:
        _write_message(repo, message, batch, tally, logger)


def _write_message(
    repo: SyncDynamoRepository[Any],
    message: Message,
    batch: SqsBatch,
    tally: WriteTally,
    logger: Logger,
) -> None:
    contents = message.submission.contents
    try:
        repo.put_batch(contents)
    except UnprocessedItemsError as error:
        if error.code == _REFUSED:
            tally.invalid += 1
            batch.fail(message.message_id, f"invalid: DynamoDB refused it: {error}")
            return
        reason = f"not written after {error.attempts} attempt(s): {error}"
        if not _only_load(error):  # a fault (a missing table, a denied action): say so loudly
            logger.error(
                "write failed",
                extra={"message_id": message.message_id, "code": error.code, "reason": reason},
            )
        batch.fail(message.message_id, reason)
        tally.written += len(contents) - len(error.items)
        tally.not_written += len(error.items)
    except PydanticDynamoError as error:
        tally.invalid += 1
        batch.fail(message.message_id, f"invalid: {error}")
    except Exception as error:
        logger.exception("write failed", extra={"message_id": message.message_id})
        batch.fail(message.message_id, f"write failed: {error}")
        tally.not_written += len(contents)
    else:
        tally.written += len(contents)

"""Write the valid contents of a whole SQS batch, one ``put_batch`` per content type.

Messages of one content type are written together (BatchWriteItem, 25 items a request), not
one put per message. What cannot be written is traced back to the messages that carried it:

- ``UnprocessedItemsError`` after the library's retries: its ``items`` are exactly the contents
  not written, and their messages fail (the rest of the group is written);
- any other error: the library refused a content before sending anything (key too long, item
  over 400 KB, a value DynamoDB cannot store), DynamoDB refused a request
  (``ValidationException``), or something failed outright. The group is written again message
  by message, so a bad content fails only the message holding it. A refused message is
  *invalid* (it goes to the DLQ after its receives); any other error fails the message for a
  retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo import PydanticDynamoError, UnprocessedItemsError

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from pydantic_dynamo import SyncDynamoRepository
    from records_service.repositories import Repositories
    from records_service.sqs_batch import Message, SqsBatch

__all__ = ["WriteTally", "write_batch"]


def _aws_error_code(error: Exception) -> str | None:
    # botocore's ClientError, recognised by shape (importing botocore here costs cold start).
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


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
        failed = {owner[id(item)].message_id for item in error.items if id(item) in owner}
        for message_id in failed:
            batch.fail(message_id, f"not written after {error.attempts} attempt(s): {error}")
        tally.written += len(contents) - len(error.items)
        tally.not_written += len(error.items)
    except Exception:
        # Isolate the culprit. Rewriting what a failed call may have written is harmless:
        # a put of the same content is idempotent.
        for message in messages:
            _write_message(repo, message, batch, tally, logger)
    else:
        tally.written += len(contents)


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
        batch.fail(message.message_id, f"not written after {error.attempts} attempt(s): {error}")
        tally.written += len(contents) - len(error.items)
        tally.not_written += len(error.items)
    except PydanticDynamoError as error:
        tally.invalid += 1
        batch.fail(message.message_id, f"invalid: {error}")
    except Exception as error:
        if _aws_error_code(error) == "ValidationException":
            tally.invalid += 1
            batch.fail(message.message_id, f"invalid: DynamoDB refused it: {error}")
            return
        logger.exception("write failed", extra={"message_id": message.message_id})
        batch.fail(message.message_id, f"write failed: {error}")
        tally.not_written += len(contents)
    else:
        tally.written += len(contents)

"""One SQS batch as the queue handlers see it: valid messages, and why the others failed.

The handlers validate every message first, write the valid contents of the whole batch at
once, and record each message that failed with its reason. Powertools' batch processor then
asks :meth:`SqsBatch.check` about each record and reports exactly the failed ones
(``batchItemFailures``), so only those return to the queue. When writing a group of messages
fails, :func:`write_isolating` (the one "isolate the failing message" helper of both queue
functions) finds the messages holding the culprit.

>>> batch = SqsBatch.parse([{"messageId": "m1", "body": "not json"}], "RecordsSubmitted")
>>> batch.failures
{'m1': 'invalid: the body is not JSON: Expecting value: line 1 column 1 (char 0)'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic_dynamo.aws_errors import ErrorKind, classify
from records_service.ingestion import InvalidMessageError, Submission, parse_submission

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from records_service.content_types import ContentType

__all__ = ["Message", "MessageFailedError", "SqsBatch", "write_isolating"]


class MessageFailedError(Exception):
    """Raised for a failed message inside the batch processor, which reports its id."""


@dataclass(frozen=True)
class Message:
    """A valid message: its SQS id and its validated submission."""

    message_id: str
    submission: Submission


@dataclass
class SqsBatch:
    """The messages of one invocation and the failures recorded against them."""

    messages: list[Message] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    invalid: int = 0

    @classmethod
    def parse(cls, records: Iterable[Mapping[str, Any]], detail_type: str) -> SqsBatch:
        """Validate every record's body; invalid ones are failed at once.

        A record that breaks the parser in a way it did not foresee fails alone too (as
        invalid: parsing is pure, so a retry would break it again); its neighbours go on.
        """
        batch = cls()
        for record in records:
            message_id = str(record.get("messageId", ""))
            try:
                submission = parse_submission(record.get("body", ""), detail_type)
            except InvalidMessageError as error:
                batch.invalid += 1
                batch.fail(message_id, f"invalid: {error}")
            except Exception as error:
                batch.invalid += 1
                batch.fail(message_id, f"invalid: unreadable ({type(error).__name__}: {error})")
            else:
                batch.messages.append(Message(message_id, submission))
        return batch

    def fail(self, message_id: str, reason: str) -> None:
        """Record that ``message_id`` failed (the first reason is kept)."""
        self.failures.setdefault(message_id, reason)

    def by_content_type(self) -> dict[str, tuple[ContentType[Any], list[Message]]]:
        """The valid messages grouped by content type name, in arrival order."""
        groups: dict[str, tuple[ContentType[Any], list[Message]]] = {}
        for message in self.messages:
            ct = message.submission.content_type
            groups.setdefault(ct.name, (ct, []))[1].append(message)
        return groups

    def check(self, record: SQSRecord) -> None:
        """The batch processor's record handler: raise for a message that failed."""
        reason = self.failures.get(record.message_id)
        if reason is not None:
            raise MessageFailedError(reason)

    def log_failures(self, logger: Logger) -> None:
        """One warning per failed message, with its id and reason."""
        for message_id, reason in self.failures.items():
            logger.warning(
                "message failed; it returns to the queue (then to the DLQ)",
                extra={"message_id": message_id, "reason": reason},
            )


def write_isolating(
    messages: Sequence[Message],
    write: Callable[[Sequence[Message]], None],
    narrow: Callable[[Sequence[Message], Exception], Sequence[Message]],
    settle: Callable[[Sequence[Message], Exception, ErrorKind], None],
) -> None:
    """Write ``messages`` together; when that fails, fail only the messages holding the culprit.

    ``write(group)`` writes the contents of ``group`` and records what it wrote; it raises when
    not all of them were written. Then ``narrow(group, error)`` records what the error says was
    done anyway and returns the messages still in doubt. The error's kind
    (:func:`pydantic_dynamo.classify`) decides what comes next: load (``THROTTLED``) or a single
    message in doubt is settled at once (``settle(in_doubt, error, kind)`` records their
    failure: a redelivery will do); a refusal or a fault with several messages in doubt is
    written again one message at a time, so that a content DynamoDB or the library refuses
    fails only the message holding it.

    >>> done, failed = [], []
    >>> def write(group):
    ...     if any(m.message_id == "bad" for m in group):
    ...         raise ValueError("refused")
    ...     done.extend(m.message_id for m in group)
    >>> msgs = [Message(i, None) for i in ("m1", "bad", "m2")]  # type: ignore[arg-type]
    >>> write_isolating(msgs, write, lambda group, error: group,
    ...                 lambda group, error, kind: failed.extend(m.message_id for m in group))
    >>> done, failed
    (['m1', 'm2'], ['bad'])
    """
    try:
        write(messages)
    except Exception as error:
        in_doubt = narrow(messages, error)
        kind = classify(error)
        if kind is ErrorKind.THROTTLED or len(in_doubt) <= 1:
            if in_doubt:
                settle(in_doubt, error, kind)
            return
        for message in in_doubt:
            write_isolating([message], write, narrow, settle)

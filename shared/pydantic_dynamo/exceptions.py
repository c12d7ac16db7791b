"""The library's errors: one base class, a few precise subclasses carrying what a caller needs.

``RequestObjectStateError`` keeps its 0.4.2 name so that code written for 0.4.2 still catches
version conflicts and missing items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_dynamo.aws_errors import ErrorKind, classify_code

__all__ = [
    "ActionFailure",
    "ConditionFailedError",
    "IndexConflictError",
    "InvalidAttributeError",
    "InvalidCursorError",
    "InvalidKeyError",
    "InvalidQueryError",
    "ItemExistsError",
    "ItemNotFoundError",
    "ItemTooLargeError",
    "MigrationConflictError",
    "MigrationError",
    "PydanticDynamoError",
    "RequestObjectStateError",
    "ReservedAttributeError",
    "SchemaVersionError",
    "TransactionCanceledError",
    "TransactionLimitError",
    "UnprocessedItemsError",
    "UnsupportedValueError",
    "VersionConflictError",
]


class PydanticDynamoError(Exception):
    """Base class of every error this library raises on purpose.

    ``kind`` says what kind of failure it is (:func:`pydantic_dynamo.classify` reads it): the
    library's errors are refusals of what was asked, except :class:`UnprocessedItemsError`.
    """

    kind: ErrorKind = ErrorKind.REFUSED


class InvalidAttributeError(PydanticDynamoError, ValueError):
    """A command or filter names an attribute the model does not have, or gives it a bad value.

    ``field`` is the offending attribute path (``"nested.field"`` for nested attributes).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ReservedAttributeError(InvalidAttributeError):
    """A model declares, or a command targets, an attribute the library manages itself."""


class UnsupportedValueError(InvalidAttributeError):
    """A value DynamoDB cannot store (NaN, infinity, a number out of range) at ``field``."""


class InvalidKeyError(PydanticDynamoError, ValueError):
    """A partition or sort key value DynamoDB would refuse (too long, wrong type)."""

    def __init__(self, key_name: str, message: str) -> None:
        super().__init__(f"{key_name}: {message}")
        self.key_name = key_name


class ItemTooLargeError(PydanticDynamoError, ValueError):
    """An item exceeds DynamoDB's 400 KB limit; nothing was written.

    ``size`` is ``None`` when DynamoDB refused an update that would have grown the item past
    the limit (only DynamoDB knows the stored size).
    """

    def __init__(self, key: dict[str, str], size: int | None, limit: int) -> None:
        if size is None:
            message = f"item {key} would exceed DynamoDB's limit of {limit} bytes"
        else:
            message = f"item {key} is {size} bytes, over DynamoDB's limit of {limit} bytes"
        super().__init__(message)
        self.key = key
        self.size = size
        self.limit = limit


class InvalidCursorError(PydanticDynamoError, ValueError):
    """A pagination cursor that this repository did not issue for this query."""


class InvalidQueryError(PydanticDynamoError, ValueError):
    """A query DynamoDB cannot answer as asked (a strongly consistent read of a global index)."""


class RequestObjectStateError(PydanticDynamoError):
    """The stored object is not in the state the request required (0.4.2's name).

    ``key`` is the item's key (attribute name to value) when known.
    """

    def __init__(self, message: str, key: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.key = key


class VersionConflictError(RequestObjectStateError):
    """An update or delete expected ``expected_version`` but the item holds ``actual_version``.

    ``actual_version`` is ``None`` when the item does not exist.
    """

    def __init__(
        self, key: dict[str, str], expected_version: int, actual_version: int | None
    ) -> None:
        super().__init__(
            f"version conflict on {key}: expected {expected_version}, found {actual_version}",
            key,
        )
        self.expected_version = expected_version
        self.actual_version = actual_version


class ItemNotFoundError(RequestObjectStateError):
    """An operation that requires an existing item found none at ``key``."""

    def __init__(self, key: dict[str, str]) -> None:
        super().__init__(f"no item at {key}", key)


class ConditionFailedError(RequestObjectStateError):
    """A conditional write's condition did not hold on the stored item; nothing was written.

    ``item`` is the item as stored when the write was refused: a ``PartitionedContent`` of
    the repository's model when it decodes as one, else its raw AttributeValues; ``raw`` is
    always the raw AttributeValues.
    """

    def __init__(self, key: dict[str, str], item: Any, raw: dict[str, Any]) -> None:
        super().__init__(f"the condition did not hold on the item stored at {key}", key)
        self.item = item
        self.raw = raw


class ItemExistsError(ConditionFailedError):
    """A put ``if_absent`` found an item (live, unexpired) at its key; ``item`` is that one."""


class IndexConflictError(RequestObjectStateError):
    """An update whose index values depend on the stored item met a stored item that kept
    changing (another writer changed a composing field between the read and the write, on
    every try); nothing was written by this call. Retrying later is safe."""

    def __init__(self, key: dict[str, str], attempts: int) -> None:
        super().__init__(
            f"the indexed fields of {key} changed under {attempts} update attempt(s)", key
        )
        self.attempts = attempts


class UnprocessedItemsError(PydanticDynamoError):
    """A batch gave up after its retries; ``items`` are exactly the contents not confirmed done.

    Everything not listed was written (or, for a read, read), whatever ended the batch: DynamoDB
    leaving work unprocessed, throttling, a refusal, or the transport giving up on a lost
    connection. A listed write whose answer was lost may be stored: writing it again is safe (a
    put or delete of the same item leaves the same state). ``items`` holds the caller's own
    objects (``PartitionedContent`` for writes, ``(partition_ids, content_ids)`` for reads, raw
    keys for deletes). ``written`` lists what write-once did write before giving up. ``code``
    is the AWS error code of the failure that ended it (``None`` when DynamoDB kept answering
    with unprocessed work, or no answer came): throttling codes mean "try later", others a
    fault to look at; the exception's ``__cause__`` is that failure. ``kind`` is that
    failure's :class:`~pydantic_dynamo.aws_errors.ErrorKind` (``THROTTLED`` when DynamoDB kept
    returning unprocessed work; ``FAULT`` when no answer came): by default, the kind of
    ``code``.
    """

    def __init__(
        self,
        items: Sequence[Any],
        attempts: int,
        cause: str,
        *,
        written: Sequence[Any] = (),
        code: str | None = None,
        kind: ErrorKind | None = None,
    ) -> None:
        super().__init__(f"{len(items)} item(s) not done after {attempts} attempt(s): {cause}")
        self.items = list(items)
        self.attempts = attempts
        self.written = list(written)
        self.code = code
        if kind is None:
            kind = ErrorKind.THROTTLED if code is None else classify_code(code)
        self.kind = kind


@dataclass(frozen=True)
class ActionFailure:
    """Why one action of a cancelled transaction failed.

    ``index`` is the action's position in the transaction (0-based), ``operation`` its kind
    (``"Put"``, ``"Update"``, ``"Delete"``, ``"ConditionCheck"``, ``"Get"``), ``content_type``
    and ``table`` its repository's, ``key`` the item's key. ``code`` is DynamoDB's reason
    (``ConditionalCheckFailed``, ``TransactionConflict``, ``ItemCollectionSizeLimitExceeded``,
    ``ValidationError``...); ``item`` the stored item when DynamoDB returned it (a failed
    condition): a ``PartitionedContent`` when it decodes, else raw AttributeValues; ``error``
    for a failed condition the typed error the same write alone would raise
    (:class:`ItemExistsError`, :class:`VersionConflictError`, :class:`ConditionFailedError`,
    :class:`ItemNotFoundError`...).
    """

    index: int
    operation: str
    content_type: str
    table: str
    key: dict[str, str]
    code: str
    message: str | None = None
    item: Any = None
    error: RequestObjectStateError | None = None


class TransactionCanceledError(PydanticDynamoError):
    """DynamoDB cancelled a transaction: nothing of it was applied.

    ``failures`` lists the actions that failed, each with its reason
    (:class:`ActionFailure`); ``codes`` holds every action's reason code in order
    (``"None"`` for those that would have passed). ``kind`` is ``THROTTLED`` when a
    conflict or throttling cancelled it (trying later may succeed), else ``REFUSED``.
    """

    def __init__(
        self, failures: Sequence[ActionFailure], codes: Sequence[str], kind: ErrorKind
    ) -> None:
        shown = "; ".join(
            f"action {f.index} ({f.operation} {f.content_type} {f.key}): {f.code}" for f in failures
        )
        super().__init__(f"transaction cancelled: {shown or 'no reason given'}")
        self.failures = list(failures)
        self.codes = list(codes)
        self.kind = kind


class TransactionLimitError(PydanticDynamoError, ValueError):
    """A transaction DynamoDB would refuse, refused before sending: more than 100 actions,
    more than 4 MB, or two actions on one item. ``index`` is the offending action's position
    (0-based); ``other`` the earlier action on the same item, for a duplicate."""

    def __init__(self, index: int, message: str, other: int | None = None) -> None:
        super().__init__(f"action {index}: {message}")
        self.index = index
        self.other = other


class SchemaVersionError(PydanticDynamoError, ValueError):
    """An item stored at a version this repository cannot read: newer than ``current`` (written
    by a later release), or older than its oldest migration. ``key`` names the item."""

    def __init__(self, key: dict[str, str], stored: int, current: int) -> None:
        relation = "newer than" if stored > current else "older than any migration to"
        super().__init__(
            f"item {key} is stored at schema version {stored}, {relation} the current version "
            f"{current}"
        )
        self.key = key
        self.stored = stored
        self.current = current


class MigrationError(PydanticDynamoError, ValueError):
    """The migration from version ``step`` to ``step + 1`` raised on the item at ``key`` (the
    migration's exception is the ``__cause__``)."""

    def __init__(self, key: dict[str, str], step: int, cause: BaseException) -> None:
        super().__init__(
            f"migrating item {key} from schema version {step} to {step + 1} failed: "
            f"{type(cause).__name__}: {cause}"
        )
        self.key = key
        self.step = step


class MigrationConflictError(RequestObjectStateError):
    """An update kept meeting the item at an older schema version after rewriting it migrated
    (other writers of the older release kept writing it) for ``rounds`` rounds."""

    def __init__(self, key: dict[str, str], rounds: int) -> None:
        super().__init__(
            f"item {key} was still at an older schema version after {rounds} migrations; "
            "is a release of the older version still writing it?",
            key,
        )
        self.rounds = rounds

"""Request and response bodies of the HTTP API (they are also its OpenAPI schemas).

Request bodies refuse unknown keys, so that a misspelt field (``"expirty"``) is a 422 naming it
rather than silently ignored. Item models keep their own policy (the default registry's forbid
extras too).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from pydantic_dynamo import PartitionedContent, UpdateCommand

__all__ = [
    "MAX_BATCH_CONTENTS",
    "MAX_BATCH_KEYS",
    "BatchGetResult",
    "BatchIn",
    "BatchWriteResult",
    "ContentIn",
    "ErrorBody",
    "Health",
    "Key",
    "KeysIn",
    "Page",
    "UpdateIn",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

# One Lambda invocation (10 s) writes this many comfortably: 4 BatchWriteItem calls.
MAX_BATCH_CONTENTS = 100
# One BatchGetItem call.
MAX_BATCH_KEYS = 100


class ContentIn(PartitionedContent[ModelT], Generic[ModelT]):
    """A content to store: ``partition_ids``, ``content_ids``, ``item`` and optional ``expiry``.

    ``current_version`` is optional: on a single put it is the version the stored item must
    hold (optimistic locking); in a batch it is the version stored (default 1).
    """

    model_config = ConfigDict(extra="forbid")


class BatchIn(BaseModel, Generic[ModelT]):
    """``{"contents": [...]}``: up to ``MAX_BATCH_CONTENTS`` contents written in one call."""

    model_config = ConfigDict(extra="forbid")

    contents: list[ContentIn[ModelT]] = Field(min_length=1, max_length=MAX_BATCH_CONTENTS)


class BatchWriteResult(BaseModel):
    """How many contents a batch put wrote (all of them, or the call fails)."""

    written: int


class Key(BaseModel):
    """Where one content lives: its partition ids and content ids."""

    model_config = ConfigDict(extra="forbid")

    partition_ids: list[str]
    content_ids: list[str]


class KeysIn(BaseModel):
    """``{"keys": [...]}``: up to ``MAX_BATCH_KEYS`` keys read in one call."""

    model_config = ConfigDict(extra="forbid")

    keys: list[Key] = Field(min_length=1, max_length=MAX_BATCH_KEYS)


class BatchGetResult(BaseModel, Generic[ModelT]):
    """The contents found, the requested keys that hold nothing, and the keys not read.

    ``unprocessed`` is not empty when the contents found filled an answer (Lambda answers at
    most 6 MB): ask for those keys again.
    """

    contents: list[PartitionedContent[ModelT]]
    missing: list[Key]
    unprocessed: list[Key] = Field(default_factory=list)


class Page(BaseModel, Generic[ModelT]):
    """One page of a listing; pass ``cursor`` back to get the next (``null`` at the end)."""

    contents: list[PartitionedContent[ModelT]]
    cursor: str | None


class UpdateIn(UpdateCommand):
    """A partial update (the library's ``UpdateCommand``), refusing unknown keys."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a stable ``error`` code, a readable ``message``, and details."""

    error: str = Field(examples=["version_conflict"])
    message: str = Field(examples=["version conflict: expected 3, found 4"])
    detail: Any = None


class Health(BaseModel):
    """The answer of ``GET /health``."""

    status: str
    content_types: list[str]

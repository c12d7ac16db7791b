"""Ingestion messages: what the queue handlers accept, validated before anything is written.

A message body is either an EventBridge event (the rule -> queue path)::

    {"version": "0", "source": "records.service", "detail-type": "RecordsSubmitted",
     "detail": {"content_type": "actor", "contents": [...]}, ...}

or the same ``detail`` sent straight to the queue::

    {"content_type": "actor", "contents": [{"partition_ids": [], "content_ids": ["a1"],
                                            "item": {"id": "a1", "name": "Steve Buscemi"}}]}

``parse_submission`` turns a body into a :class:`Submission` or raises
:class:`InvalidMessageError` with a reason fit for a log line.

>>> body = '{"content_type": "actor", "contents": [{"partition_ids": [], "content_ids": ["a1"], '
>>> body += '"item": {"id": "a1", "name": "Steve"}}]}'
>>> parse_submission(body, "RecordsSubmitted").contents[0].item.name
'Steve'
>>> parse_submission('{"content_type": "film", "contents": []}', "RecordsSubmitted")
Traceback (most recent call last):
...
records_service.ingestion.InvalidMessageError: unknown content type 'film'; this service \
serves: actor, cast-actor, cast-review, review
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from pydantic_dynamo import PartitionedContent
from records_service.content_types import ContentType, UnknownContentTypeError, content_type

__all__ = ["InvalidMessageError", "Submission", "detail_of", "parse_submission"]

_CONTENT_FIELDS = frozenset(PartitionedContent.model_fields)
_DETAIL_FIELDS = frozenset({"content_type", "contents"})
_MAX_ERRORS_SHOWN = 5


class InvalidMessageError(ValueError):
    """A message that can never be written as it is (retrying will not help)."""


@dataclass(frozen=True)
class Submission:
    """The validated contents of one message, all of one content type."""

    content_type: ContentType[Any]
    contents: list[PartitionedContent[Any]]


@functools.cache
def _contents_adapter(ct: ContentType[Any]) -> TypeAdapter[list[PartitionedContent[Any]]]:
    return TypeAdapter(list[ct.content_model])  # type: ignore[name-defined]


def _describe(error: ValidationError) -> str:
    errors = error.errors(include_url=False, include_input=False)
    shown = "; ".join(
        f"contents.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
        for e in errors[:_MAX_ERRORS_SHOWN]
    )
    more = len(errors) - _MAX_ERRORS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def detail_of(message: Mapping[str, Any], detail_type: str) -> Mapping[str, Any]:
    """The submission part of a decoded message: an event's ``detail``, or the message itself."""
    if "detail-type" in message or "detail" in message:
        received = message.get("detail-type")
        if received != detail_type:
            raise InvalidMessageError(f"detail-type {received!r}, expected {detail_type!r}")
        detail = message.get("detail")
        if not isinstance(detail, Mapping):
            raise InvalidMessageError("the event's detail is not a JSON object")
        return detail
    return message


def parse_submission(body: str, detail_type: str) -> Submission:
    """Validate one message body (an event of ``detail_type``, or its bare detail)."""
    try:
        message = json.loads(body)
    except RecursionError:
        raise InvalidMessageError(
            "the body is not JSON this service reads: nested too deeply"
        ) from None
    except (ValueError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise InvalidMessageError(f"the body is not JSON: {error}") from None
    if not isinstance(message, Mapping):
        raise InvalidMessageError(f"the body is a JSON {type(message).__name__}, not an object")
    detail = detail_of(message, detail_type)
    unknown = set(detail) - _DETAIL_FIELDS
    missing = _DETAIL_FIELDS - set(detail)
    if unknown or missing:
        raise InvalidMessageError(
            "the detail must have exactly content_type and contents"
            + (f"; unknown: {sorted(unknown)}" if unknown else "")
            + (f"; missing: {sorted(missing)}" if missing else "")
        )
    name = detail["content_type"]
    if not isinstance(name, str):
        raise InvalidMessageError("content_type must be a string")
    try:
        ct = content_type(name)
    except UnknownContentTypeError as error:
        raise InvalidMessageError(str(error)) from None
    raw_contents = detail["contents"]
    if not isinstance(raw_contents, list):
        raise InvalidMessageError("contents must be a JSON array")
    for index, raw in enumerate(raw_contents):
        # PartitionedContent ignores unknown keys; a misspelt "expiry" must not vanish silently.
        if isinstance(raw, Mapping) and (extra := set(raw) - _CONTENT_FIELDS):
            raise InvalidMessageError(f"contents.{index}: unknown keys {sorted(extra)}")
    try:
        contents = _contents_adapter(ct).validate_python(raw_contents)
    except ValidationError as error:
        raise InvalidMessageError(_describe(error)) from None
    except RecursionError:
        raise InvalidMessageError("contents: nested too deeply to validate") from None
    return Submission(ct, contents)

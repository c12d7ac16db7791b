"""Sans-I/O query pagination: exact limits (filters included), TTL filtering, opaque cursors.

DynamoDB's ``Limit`` caps the items *evaluated*, before any filter, and a page stops at 1 MB.
The plan asks for ``Limit = remaining`` when nothing is filtered, keeps paging when a filter
leaves a page short, and trims the last page to the limit. Its cursor resumes right after the
last item it returned.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any

from pydantic_dynamo.exceptions import InvalidCursorError
from pydantic_dynamo.schema import INTERNAL_TTL

__all__ = ["Page", "QueryPlan", "decode_cursor", "encode_cursor", "is_expired"]

Item = dict[str, Any]
_CURSOR_VERSION = "1"


def encode_cursor(partition_value: str, sort_value: str) -> str:
    """An opaque, URL-safe cursor for the position right after this key."""
    raw = json.dumps([_CURSOR_VERSION, partition_value, sort_value], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, partition_value: str) -> str:
    """The sort value a cursor points after; it must belong to ``partition_value``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, partition, sort = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as error:
        raise InvalidCursorError(f"cursor is not one this library issued: {error}") from None
    if version != _CURSOR_VERSION or not isinstance(sort, str):
        raise InvalidCursorError("cursor is not one this library issued")
    if partition != partition_value:
        raise InvalidCursorError("cursor belongs to another partition")
    return sort


def is_expired(item: Item, now: int) -> bool:
    """Whether the item's ``_ttl`` has passed (DynamoDB deletes such items up to days later)."""
    ttl = item.get(INTERNAL_TTL)
    if ttl is None:
        return False
    raw = ttl.get("N")
    if raw is None:
        return False
    try:
        return float(raw) <= now
    except ValueError:
        return False


class Page:
    """The raw items of one response, after TTL filtering and trimming, and the next cursor."""

    __slots__ = ("cursor", "items")

    def __init__(self, items: list[Item], cursor: str | None) -> None:
        self.items = items
        self.cursor = cursor


class QueryPlan:
    """One Query, page by page. ``request`` is a complete Query request without paging keys."""

    def __init__(
        self,
        request: Item,
        *,
        partition_value: str,
        partition_key: str,
        sort_key: str,
        limit: int | None,
        filtered: bool,
        start_after: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit}")
        self._request = request
        self._partition_key = partition_key
        self._sort_key = sort_key
        self._remaining = limit
        self._filtered = filtered
        self._clock = clock
        self._done = False
        self._start: Item | None = None
        if start_after is not None:
            self._start = {partition_key: {"S": partition_value}, sort_key: {"S": start_after}}
        self.requests_sent = 0

    def next_request(self) -> Item | None:
        """The next Query request, or ``None`` when the listing is complete."""
        if self._done:
            return None
        request = dict(self._request)
        if self._start is not None:
            request["ExclusiveStartKey"] = self._start
        if self._remaining is not None and not self._filtered:
            request["Limit"] = self._remaining
        self.requests_sent += 1
        return request

    def on_response(self, response: Item) -> Page:
        """Take one response; the page to hand to the caller."""
        items: list[Item] = response.get("Items", [])
        last_key: Item | None = response.get("LastEvaluatedKey")
        now = int(self._clock())
        if any(INTERNAL_TTL in item for item in items):
            items = [item for item in items if not is_expired(item, now)]
        remaining = self._remaining
        if remaining is not None and len(items) >= remaining:
            if len(items) > remaining:
                items = items[:remaining]
                last = items[-1]
                last_key = {
                    self._partition_key: last[self._partition_key],
                    self._sort_key: last[self._sort_key],
                }
            self._done = True
        if remaining is not None:
            self._remaining = remaining - len(items)
        if last_key is None:
            self._done = True
            cursor = None
        else:
            self._start = last_key
            cursor = encode_cursor(
                last_key[self._partition_key]["S"], last_key[self._sort_key]["S"]
            )
        return Page(items, cursor)

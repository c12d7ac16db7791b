"""Sans-I/O query pagination: exact limits (filters included), TTL filtering, opaque cursors.

DynamoDB's ``Limit`` caps the items *evaluated*, before any filter, and a page stops at 1 MB.
The plan asks for ``Limit = remaining`` when nothing is filtered, keeps paging when a filter
leaves a page short, and trims the last page to the limit. Its cursor resumes right after the
last item it returned.

One plan serves ``list`` and ``query_index``. A listing's cursor holds its partition value and
the sort value to resume after; an index query's cursor holds the index name, the index
partition value and the whole ``LastEvaluatedKey`` (a global index's holds the table's keys and
the index's, a local one's the table's keys and its sort key). Each kind refuses the other's.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic_dynamo.exceptions import InvalidCursorError
from pydantic_dynamo.schema import INTERNAL_TTL

__all__ = [
    "Page",
    "QueryPlan",
    "decode_cursor",
    "decode_index_cursor",
    "encode_cursor",
    "encode_index_cursor",
    "is_expired",
    "pack_cursor",
    "unpack_cursor",
]

Item = dict[str, Any]
_CURSOR_VERSION = "1"
_INDEX_CURSOR_VERSION = "2"


def pack_cursor(fields: list[Any]) -> str:
    """An opaque, URL-safe cursor holding ``fields`` (a JSON list)."""
    raw = json.dumps(fields, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def unpack_cursor(cursor: str) -> list[Any]:
    """The fields of a :func:`pack_cursor` cursor; ``InvalidCursorError`` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as error:
        raise InvalidCursorError(f"cursor is not one this library issued: {error}") from None
    if not isinstance(fields, list) or not fields:
        raise InvalidCursorError("cursor is not one this library issued")
    return fields


def encode_cursor(partition_value: str, sort_value: str) -> str:
    """An opaque, URL-safe cursor for the position right after this key."""
    return pack_cursor([_CURSOR_VERSION, partition_value, sort_value])


def decode_cursor(cursor: str, partition_value: str) -> str:
    """The sort value a cursor points after; it must belong to ``partition_value``."""
    fields = unpack_cursor(cursor)
    if fields[0] == _INDEX_CURSOR_VERSION:
        raise InvalidCursorError("cursor is an index query's (query_index), not a listing's")
    if len(fields) != 3 or fields[0] != _CURSOR_VERSION or not isinstance(fields[2], str):
        raise InvalidCursorError("cursor is not one this library issued")
    if fields[1] != partition_value:
        raise InvalidCursorError("cursor belongs to another partition")
    sort: str = fields[2]
    return sort


def encode_index_cursor(index: str, partition_value: str, key: Item) -> str:
    """An opaque cursor resuming a query of ``index`` after ``key`` (a LastEvaluatedKey)."""
    plain = {name: value["S"] for name, value in sorted(key.items())}
    return pack_cursor([_INDEX_CURSOR_VERSION, index, partition_value, plain])


def decode_index_cursor(
    cursor: str, index: str, partition_value: str, key_attributes: Sequence[str]
) -> Item:
    """The ExclusiveStartKey a cursor of ``index`` at ``partition_value`` resumes from; it must
    hold exactly ``key_attributes`` (strings)."""
    fields = unpack_cursor(cursor)
    if fields[0] == _CURSOR_VERSION:
        raise InvalidCursorError("cursor is a listing's (list), not an index query's")
    if len(fields) != 4 or fields[0] != _INDEX_CURSOR_VERSION:
        raise InvalidCursorError("cursor is not one this library issued")
    _, name, partition, plain = fields
    if name != index:
        raise InvalidCursorError(f"cursor belongs to a query of another index ({name!r})")
    if partition != partition_value:
        raise InvalidCursorError("cursor belongs to another partition of this index")
    if (
        not isinstance(plain, dict)
        or set(plain) != set(key_attributes)
        or not all(isinstance(value, str) for value in plain.values())
    ):
        raise InvalidCursorError("cursor is not one this library issued")
    return {name: {"S": value} for name, value in plain.items()}


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
    """One Query, page by page. ``request`` is a complete Query request without paging keys.

    ``partition_key``/``sort_key`` are the queried key attributes. A listing resumes after
    ``start_after`` (a sort value). An index query names its ``index``, the attributes of its
    LastEvaluatedKey (``key_attributes``) and resumes from ``start_key``.
    """

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
        index: str | None = None,
        key_attributes: Sequence[str] = (),
        start_key: Item | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit}")
        self._request = request
        self._partition_value = partition_value
        self._partition_key = partition_key
        self._sort_key = sort_key
        self._index = index
        self._key_attributes = tuple(key_attributes) or (partition_key, sort_key)
        self._remaining = limit
        self._filtered = filtered
        self._clock = clock
        self._done = False
        self._exhausted = False
        self._start: Item | None = start_key
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
                last_key = {name: last[name] for name in self._key_attributes}
            self._done = True
        if remaining is not None:
            self._remaining = remaining - len(items)
        if last_key is None:
            self._done = self._exhausted = True
            cursor = None
        else:
            self._start = last_key
            cursor = self._cursor(last_key)
        return Page(items, cursor)

    def _cursor(self, last_key: Item) -> str:
        if self._index is not None:
            return encode_index_cursor(self._index, self._partition_value, last_key)
        return encode_cursor(last_key[self._partition_key]["S"], last_key[self._sort_key]["S"])

    def give_back(self, count: int) -> None:
        """``count`` items of the last page were dropped after it (gone when fetched): with a
        limit, that many more are to be read, from where the page ended."""
        if count <= 0 or self._remaining is None:
            return
        self._remaining += count
        if not self._exhausted:
            self._done = False

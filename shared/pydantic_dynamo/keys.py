"""Composing and parsing key values, byte-compatible with what pydantic-dynamo 0.4.2 wrote.

A partition value is ``"{partition_prefix}#{partition_name}#" + "#".join(partition_ids)`` and a
sort value ``"{content_type}#" + "#".join(content_ids)``. 0.4.2 split stored values on every
``#``, so an id containing ``#`` did not round-trip. Here ids are escaped before joining:
``\\`` becomes ``\\\\`` and ``#`` becomes ``\\#``; ids without either keep their old bytes. The one
list the join cannot tell apart from the empty list, ``[""]``, is stored as ``\\0``.

>>> codec = KeyCodec("test", "integration", "example")
>>> codec.partition_value(["a", "b"])
'test#integration#a#b'
>>> codec.sort_value(["x#y"])
'example#x\\\\#y'
>>> codec.parse_sort(codec.sort_value(["x#y", ""]))
['x#y', '']
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_dynamo.exceptions import InvalidKeyError

__all__ = [
    "MAX_PARTITION_KEY_BYTES",
    "MAX_SORT_KEY_BYTES",
    "SEPARATOR",
    "KeyCodec",
    "escape_id",
    "join_ids",
    "split_ids",
]

SEPARATOR = "#"
ESCAPE = "\\"
_SINGLE_EMPTY_ID = ESCAPE + "0"
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024

Ids = Sequence[str] | str | None


def _as_list(ids: Ids) -> Sequence[str]:
    if ids is None:
        return ()
    if isinstance(ids, str):
        # 0.4.2 accepted a bare string; it is one id.
        return (ids,)
    return ids


def escape_id(value: str) -> str:
    """One id in its stored form (``\\`` and ``#`` escaped)."""
    if ESCAPE in value:
        value = value.replace(ESCAPE, ESCAPE + ESCAPE)
    if SEPARATOR in value:
        value = value.replace(SEPARATOR, ESCAPE + SEPARATOR)
    return value


def join_ids(ids: Ids, *, prefix: bool = False) -> str:
    """Join ids into the stored form; ``prefix=True`` joins a ``begins_with``/range bound.

    A bound never uses the ``[""]`` marker: ``[""]`` as a prefix means "anything".
    """
    values = _as_list(ids)
    if not prefix and len(values) == 1 and values[0] == "":
        return _SINGLE_EMPTY_ID
    return SEPARATOR.join([escape_id(v) for v in values])


def split_ids(joined: str) -> list[str]:
    """Invert :func:`join_ids`. Unknown escapes (0.4.2 ids holding a lone ``\\``) stay literal."""
    if joined == "":
        return []
    if joined == _SINGLE_EMPTY_ID:
        return [""]
    if ESCAPE not in joined:
        return joined.split(SEPARATOR)
    ids: list[str] = []
    current: list[str] = []
    i = 0
    n = len(joined)
    while i < n:
        char = joined[i]
        if char == ESCAPE and i + 1 < n and joined[i + 1] in (ESCAPE, SEPARATOR):
            current.append(joined[i + 1])
            i += 2
            continue
        if char == SEPARATOR:
            ids.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    ids.append("".join(current))
    return ids


class KeyCodec:
    """The key values of one repository: its fixed prefixes and the id lists under them."""

    __slots__ = ("_partition_head", "_sort_head")

    def __init__(self, partition_prefix: str, partition_name: str, content_type: str) -> None:
        self._partition_head = f"{partition_prefix}{SEPARATOR}{partition_name}{SEPARATOR}"
        self._sort_head = f"{content_type}{SEPARATOR}"

    def partition_value(self, partition_ids: Ids) -> str:
        """The stored partition key value for ``partition_ids``."""
        value = self._partition_head + join_ids(partition_ids)
        _check_length("partition key", value, MAX_PARTITION_KEY_BYTES)
        return value

    def sort_value(self, content_ids: Ids) -> str:
        """The stored sort key value for ``content_ids``."""
        value = self._sort_head + join_ids(content_ids)
        _check_length("sort key", value, MAX_SORT_KEY_BYTES)
        return value

    def sort_bound(self, content_ids: Ids) -> str:
        """A sort key prefix or range bound (``begins_with``/``between``) for ``content_ids``."""
        value = self._sort_head + join_ids(content_ids, prefix=True)
        _check_length("sort key", value, MAX_SORT_KEY_BYTES)
        return value

    def parse_partition(self, value: str) -> list[str]:
        """The partition ids of a stored partition value."""
        return split_ids(_strip(value, self._partition_head, "partition key"))

    def parse_sort(self, value: str) -> list[str]:
        """The content ids of a stored sort value."""
        return split_ids(_strip(value, self._sort_head, "sort key"))


def _strip(value: str, head: str, what: str) -> str:
    if not value.startswith(head):
        raise InvalidKeyError(what, f"{value!r} does not start with {head!r}")
    return value[len(head) :]


def _check_length(what: str, value: str, limit: int) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidKeyError(
                what, "an id holds a lone surrogate, which UTF-8 cannot encode"
            ) from None
    # Cheap test first: a str of n code points holds at most 4n UTF-8 bytes.
    if len(value) * 4 > limit and len(value.encode("utf-8")) > limit:
        raise InvalidKeyError(
            what, f"value is {len(value.encode('utf-8'))} bytes, DynamoDB allows {limit}"
        )

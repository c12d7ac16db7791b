"""The data the repository takes and returns: contents, commands, filters and responses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, Field, field_validator

from pydantic_dynamo.gc_pause import paused_gc

if TYPE_CHECKING:
    from pydantic_dynamo.conditions import Condition

__all__ = [
    "BatchResponse",
    "FilterCommand",
    "GetResponse",
    "ObjT",
    "PartitionedContent",
    "UpdateCommand",
]

ObjT = TypeVar("ObjT", bound=BaseModel)

# Pages of this many items on are decoded with the garbage collector paused (see gc_pause).
_PAUSE_GC_FROM_ITEMS = 32

# Versions are DynamoDB numbers: at most 38 digits.
MAX_VERSION = 10**38


def _normalize_expiry(value: datetime | None) -> datetime | None:
    # DynamoDB's TTL holds whole epoch seconds: normalise so a content equals what is read back.
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


class PartitionedContent(BaseModel, Generic[ObjT]):
    """One stored record: its model plus where it lives.

    The partition key is ``{partition_prefix}#{partition_name}#{'#'.join(partition_ids)}`` and
    the sort key ``{content_type}#{'#'.join(content_ids)}``, as in 0.4.2. Contents order by
    ``partition_ids + content_ids``. ``expiry`` (stored as ``_ttl``) is kept to whole seconds,
    naive datetimes being taken as UTC.

    >>> from pydantic import BaseModel
    >>> class Actor(BaseModel):
    ...     id: str
    >>> PartitionedContent[Actor](partition_ids=[], content_ids=["a"], item=Actor(id="a"))
    PartitionedContent[Actor](partition_ids=[], content_ids=['a'], item=Actor(id='a'), \
current_version=1, expiry=None)
    """

    partition_ids: list[str]
    content_ids: list[str]
    item: ObjT
    current_version: int = Field(default=1, ge=1, lt=MAX_VERSION)
    expiry: datetime | None = None

    _check_expiry = field_validator("expiry")(_normalize_expiry)

    def _ids(self) -> list[str]:
        return self.partition_ids + self.content_ids

    def __lt__(self, other: PartitionedContent[Any]) -> bool:
        return self._ids() < other._ids()

    def __gt__(self, other: PartitionedContent[Any]) -> bool:
        return self._ids() > other._ids()

    def __le__(self, other: PartitionedContent[Any]) -> bool:
        return self._ids() <= other._ids()

    def __ge__(self, other: PartitionedContent[Any]) -> bool:
        return self._ids() >= other._ids()


class UpdateCommand(BaseModel):
    """A partial update, validated against the repository's model before it is sent.

    - ``set_commands``: attribute -> new value; a dict value on a nested model or dict field
      sets its keys one by one (``{"address": {"city": "Oslo"}}``).
    - ``increment_attrs``: numeric attribute -> amount added (missing counts as 0).
    - ``append_attrs``: list attribute -> values appended (missing counts as empty).
    - ``remove_attrs``: optional attributes to remove.
    - ``current_version``: apply only if the stored ``_object_version`` equals it.
    - ``expiry``: new TTL.

    Every update increments ``_object_version`` and refreshes ``_timestamp``.
    """

    current_version: int | None = Field(default=None, ge=1, lt=MAX_VERSION)
    set_commands: dict[str, Any] = Field(default_factory=dict)
    increment_attrs: dict[str, int | float] = Field(default_factory=dict)
    append_attrs: dict[str, list[Any] | None] = Field(default_factory=dict)
    remove_attrs: set[str] = Field(default_factory=set)
    expiry: datetime | None = None

    _check_expiry = field_validator("expiry")(_normalize_expiry)


class FilterCommand(BaseModel):
    """Conditions on non-key attributes, all ANDed. Names may be dotted paths into nested models.

    ``between`` maps a name to ``(low, high)`` inclusive; ``is_in`` to the allowed values.
    """

    not_exists: set[str] = Field(default_factory=set)
    exists: set[str] = Field(default_factory=set)
    equals: dict[str, Any] = Field(default_factory=dict)
    not_equals: dict[str, Any] = Field(default_factory=dict)
    begins_with: dict[str, str] = Field(default_factory=dict)
    contains: dict[str, Any] = Field(default_factory=dict)
    between: dict[str, tuple[Any, Any]] = Field(default_factory=dict)
    gt: dict[str, Any] = Field(default_factory=dict)
    ge: dict[str, Any] = Field(default_factory=dict)
    lt: dict[str, Any] = Field(default_factory=dict)
    le: dict[str, Any] = Field(default_factory=dict)
    is_in: dict[str, list[Any]] = Field(default_factory=dict)

    def to_condition(self) -> Condition | None:
        """The same filter as a :class:`~pydantic_dynamo.Condition` (``None`` when empty).

        >>> FilterCommand(equals={"genre": "drama"}, gt={"year": 2020}).to_condition()
        genre = 'drama' AND year > 2020
        """
        from pydantic_dynamo.expressions import filter_condition

        return filter_condition(self)


@dataclass(frozen=True)
class GetResponse(Generic[ObjT]):
    """The answer of ``get``: ``content`` is ``None`` when no (unexpired) item is stored.

    >>> GetResponse() == GetResponse(content=None)
    True
    """

    content: PartitionedContent[ObjT] | None = None


class BatchResponse(Generic[ObjT]):
    """One DynamoDB page of results, decoded the first time ``contents`` is read.

    ``cursor`` resumes the listing right after this page (``None`` at the end); pass it back as
    ``cursor=`` to ``list``/``list_between``.

    The repositories build it from the page's raw items (``raw_items=``, ``decode=``), so a
    page nobody reads costs no decoding. ``BatchResponse(contents=[...])`` (0.4.2's form, handy
    in tests and fakes) holds the given contents. Two responses are equal when their contents
    and cursors are.

    >>> from pydantic import BaseModel
    >>> class Actor(BaseModel):
    ...     id: str
    >>> content = PartitionedContent[Actor](partition_ids=[], content_ids=["a"], item=Actor(id="a"))
    >>> BatchResponse(contents=[content]) == BatchResponse(contents=[content])
    True
    >>> len(BatchResponse(contents=[]))
    0
    """

    # ``contents`` is a cached_property: once read (or given), it lives in the instance dict
    # and reading it again is a plain attribute lookup.
    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable: unhashable

    def __init__(
        self,
        contents: Iterable[PartitionedContent[ObjT]] | None = None,
        *,
        raw_items: Sequence[dict[str, Any]] | None = None,
        decode: Callable[[dict[str, Any]], PartitionedContent[ObjT]] | None = None,
        cursor: str | None = None,
    ) -> None:
        if contents is not None:
            if raw_items is not None or decode is not None:
                raise TypeError("BatchResponse takes contents= or raw_items= and decode=, not both")
            given = list(contents)
            self.__dict__["contents"] = given
            raw_items = ()
        elif raw_items is None or decode is None:
            raise TypeError("BatchResponse needs contents= (or raw_items= and decode=)")
        self.raw_items = raw_items
        self.decode = decode
        self.cursor = cursor

    @cached_property
    def contents(self) -> list[PartitionedContent[ObjT]]:
        """The page's contents, in DynamoDB's order."""
        decode = self.decode
        assert decode is not None  # only contents= leaves it unset, and that fills this in
        if len(self.raw_items) < _PAUSE_GC_FROM_ITEMS:
            return [decode(raw) for raw in self.raw_items]
        with paused_gc():
            return [decode(raw) for raw in self.raw_items]

    def __iter__(self) -> Iterator[PartitionedContent[ObjT]]:
        return iter(self.contents)

    def __len__(self) -> int:
        if self.decode is None:
            return len(self.contents)
        return len(self.raw_items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchResponse):
            return NotImplemented
        return self.cursor == other.cursor and self.contents == other.contents

    def __repr__(self) -> str:
        # Showing a page never decodes it (decoding can fail, and costs).
        if "contents" not in self.__dict__:
            count = len(self.raw_items)
            return f"BatchResponse(<{count} items not decoded>, cursor={self.cursor!r})"
        return f"BatchResponse(contents={self.contents!r}, cursor={self.cursor!r})"

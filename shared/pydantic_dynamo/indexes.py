"""Logical secondary indexes: declared from model fields, stored on overloaded physical indexes.

An :class:`Index` names the model fields whose values compose its partition value and its sort
value, and the :class:`~pydantic_dynamo.table.PhysicalIndex` that holds it. Every write stores
the index's two key attributes beside the item (see :class:`IndexSet`), so one physical index
serves any number of content types and access patterns. The values carry the repository's
partition prefix and name, the content type and the index name, so content types sharing a
physical index never see each other's entries::

    partition value  {prefix}#{partition name}#{content type}#{index}#{field values...}
    sort value       {content type}#{index}#{field values...}

Field values are joined with the primary keys' escaping (:func:`~pydantic_dynamo.keys.join_ids`)
and compared as strings: a datetime is its ISO text, a number its decimal text (pad numbers, or
store them as zero-padded strings, where their order matters). An item whose composing field is
``None`` (or absent) is not in that index: indexes are sparse.

>>> from pydantic import BaseModel
>>> from pydantic_dynamo.table import PhysicalIndex
>>> class Actor(BaseModel):
...     id: str
...     name: str | None = None
>>> by_name = Index("by_name", on=PhysicalIndex.global_("gsi1"), partition=("name",), sort=("id",))
>>> bound = IndexSet([by_name], Actor, "app", "films", "actor")
>>> bound.attributes({"id": "a1", "name": "Steve"})
{'gsi1pk': {'S': 'app#films#actor#by_name#Steve'}, 'gsi1sk': {'S': 'actor#by_name#a1'}}
>>> bound.attributes({"id": "a2", "name": None})
{}
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from pydantic_dynamo.exceptions import InvalidAttributeError, UnsupportedValueError
from pydantic_dynamo.index_updates import IndexUpdate, IndexWrite, changed_since, still_as_read
from pydantic_dynamo.keys import (
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    SEPARATOR,
    escape_id,
    join_ids,
)
from pydantic_dynamo.schema import FieldInfo, ModelSchema
from pydantic_dynamo.table import IndexKind, PhysicalIndex, Projection

__all__ = [
    "BoundIndex",
    "Index",
    "IndexSet",
    "IndexUpdate",
    "IndexWrite",
    "changed_since",
    "index_text",
    "still_as_read",
]

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SCALARS = (str, int, float, Decimal, bool, Enum, datetime, date, time, UUID)

AttributeValue = dict[str, Any]
# Sorts after any text DynamoDB stores (it compares UTF-8 bytes; this is F4 8F BF BF).
_HIGHEST = "\U0010ffff"


@dataclass(frozen=True)
class Index:
    """A logical index of one content type.

    ``partition`` and ``sort`` are model field names, in order; an empty ``partition`` puts every
    entry of the content type in one index partition (fine for small sets, a hot partition for
    large ones). A local index's partition is the item's own (its ``partition_ids``), so it
    declares only ``sort``. ``projection`` is what the index is read for (default: the physical
    index's); the physical index must hold at least that.
    """

    name: str
    on: PhysicalIndex
    partition: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    projection: Projection | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"index name {self.name!r} must match {_NAME.pattern}")
        # A bare string is a tuple of its characters: take it as one field name.
        for label in ("partition", "sort"):
            value = getattr(self, label)
            if isinstance(value, str):
                object.__setattr__(self, label, (value,))
            else:
                object.__setattr__(self, label, tuple(value))
        if self.on.kind is IndexKind.LOCAL and self.partition:
            raise ValueError(
                f"index {self.name!r} is on local index {self.on.name!r}, whose partition is the "
                "table's: declare only its sort fields"
            )
        if not self.partition and not self.sort and self.on.kind is IndexKind.LOCAL:
            raise ValueError(f"local index {self.name!r} needs sort fields")
        repeated = set(self.partition) & set(self.sort)
        if repeated or len(set(self.partition)) != len(self.partition):
            raise ValueError(f"index {self.name!r} names a field twice: {sorted(repeated)}")
        if self.projection is not None and not self.on.projection.covers(self.projection):
            raise ValueError(
                f"index {self.name!r} asks for {self.projection}, more than physical index "
                f"{self.on.name!r} holds ({self.on.projection})"
            )

    @property
    def read_projection(self) -> Projection:
        """What a query of this index reads: the declared projection, else the physical one's."""
        return self.projection or self.on.projection

    @property
    def fields(self) -> tuple[str, ...]:
        """Every composing field, partition first."""
        return self.partition + self.sort


def index_text(value: Any, field: str) -> str:
    """The text a composing field's value contributes to an index value.

    ``value`` is the field's Python-mode dump (what ``model_dump()`` gives).

    >>> index_text(datetime(2024, 3, 1, 12, 0), "created")
    '2024-03-01T12:00:00'
    >>> index_text(True, "flag"), index_text(7, "n")
    ('true', '7')

    Numbers are written as DynamoDB returns them (it normalises what it stores), so an item
    read back and rewritten keeps its index text:

    >>> index_text(Decimal("1.50"), "price"), index_text(1e20, "n"), index_text(2.0, "n")
    ('1.5', '100000000000000000000', '2')
    """
    if isinstance(value, str):
        return value.value if isinstance(value, Enum) else value  # a str enum is a str
    if isinstance(value, Enum):
        return index_text(value.value, field)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (Decimal, float)):
        return _number_text(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (date, time)):  # datetime is a date
        return value.isoformat()
    raise UnsupportedValueError(
        field, f"an index value must be a scalar (str, number, bool, date...), got {value!r}"
    )


def _number_text(value: Decimal | float) -> str:
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if number.is_zero():
        return "0"
    return format(number.normalize(), "f")


def _check_field(schema: ModelSchema, index: Index, name: str) -> FieldInfo:
    info = schema.fields.get(name)
    if info is None:
        raise InvalidAttributeError(
            name, f"index {index.name!r}: {schema.model.__name__} has no field {name!r}"
        )
    kind = typing.get_origin(info.core_type) or info.core_type  # list[str] is a list
    if isinstance(kind, type) and issubclass(
        kind, (BaseModel, Mapping, list, set, frozenset, tuple, bytes, bytearray)
    ):
        raise InvalidAttributeError(
            name, f"index {index.name!r}: field {name!r} is not a scalar and cannot compose a key"
        )
    return info


class BoundIndex:
    """One index bound to a repository: how its key values are made from an item or a query."""

    __slots__ = (
        "fields",
        "index",
        "infos",
        "partition_attribute",
        "partition_head",
        "sort_attribute",
        "sort_head",
    )

    def __init__(
        self,
        index: Index,
        schema: ModelSchema,
        partition_prefix: str,
        partition_name: str,
        content_type: str,
    ) -> None:
        self.index = index
        self.fields = index.fields
        self.infos = {name: _check_field(schema, index, name) for name in self.fields}
        head = [partition_prefix, partition_name, content_type, index.name]
        self.partition_head = SEPARATOR.join(escape_id(part) for part in head) + SEPARATOR
        self.sort_head = escape_id(content_type) + SEPARATOR + index.name + SEPARATOR
        self.partition_attribute = index.on.partition_key  # None for a local index
        self.sort_attribute = index.on.sort_key

    @property
    def name(self) -> str:
        """The logical index's name."""
        return self.index.name

    @property
    def is_global(self) -> bool:
        """Whether the physical index is global (eventually consistent reads only)."""
        return self.index.on.kind is IndexKind.GLOBAL

    def attributes(self, data: Mapping[str, Any]) -> dict[str, AttributeValue]:
        """The index's key attributes for an item's Python-mode ``data``; ``{}`` if sparse."""
        texts = []
        for name in self.fields:
            value = data.get(name)
            if value is None:
                return {}
            texts.append(index_text(value, name))
        split = len(self.index.partition)
        attributes = {self.sort_attribute: {"S": self._sort(join_ids(texts[split:], prefix=True))}}
        if self.partition_attribute is not None:
            partition = self._partition(join_ids(texts[:split], prefix=True))
            attributes = {self.partition_attribute: {"S": partition}, **attributes}
        return attributes

    def _partition(self, joined: str) -> str:
        value = self.partition_head + joined
        _check_length(self, "partition", value, MAX_PARTITION_KEY_BYTES)
        return value

    def _sort(self, joined: str) -> str:
        value = self.sort_head + joined
        _check_length(self, "sort", value, MAX_SORT_KEY_BYTES)
        return value

    def _texts(self, fields: Sequence[str], values: Sequence[Any], what: str) -> list[str]:
        if len(values) > len(fields):
            raise InvalidAttributeError(
                self.name,
                f"index {self.name!r} has {len(fields)} {what} field(s) {list(fields)}, "
                f"got {len(values)} values",
            )
        texts = []
        for name, value in zip(fields, values, strict=False):
            if value is None:
                raise InvalidAttributeError(
                    name, f"index {self.name!r}: None is never in an index (sparse)"
                )
            if isinstance(value, str) and not isinstance(value, Enum):
                texts.append(value)  # text as stored, or a prefix of it ("2024-03")
            else:
                texts.append(index_text(self.infos[name].encode_python(value, name), name))
        return texts

    def partition_value(self, values: Sequence[Any]) -> str:
        """The index partition value for a query: one value per partition field, in order."""
        fields = self.index.partition
        if len(values) != len(fields):
            raise InvalidAttributeError(
                self.name,
                f"index {self.name!r} is partitioned by {list(fields)}: give one value for each, "
                f"got {len(values)}",
            )
        return self._partition(join_ids(self._texts(fields, values, "partition"), prefix=True))

    def sort_prefix(self, values: Sequence[Any]) -> str:
        """The sort value prefix of entries whose first sort fields start with ``values``.

        As in ``list``, the last value is a text prefix: ``["2024-03"]`` on a datetime field
        matches every entry of March 2024. A non-string value is converted as stored.
        """
        return self._sort(join_ids(self._texts(self.index.sort, values, "sort"), prefix=True))

    def sort_range(self, low: Sequence[Any], high: Sequence[Any]) -> tuple[str, str]:
        """Inclusive sort bounds; ``high`` includes every entry that begins with it, so
        ``(["2024-03-01"], ["2024-03-31"])`` holds all of March 31."""
        return self.sort_prefix(low), self.sort_prefix(high) + _HIGHEST


def _check_length(index: BoundIndex, what: str, value: str, limit: int) -> None:
    if len(value) * 4 <= limit:  # a code point is at most 4 UTF-8 bytes: no encode needed
        return
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise InvalidAttributeError(
            index.name,
            f"index {index.name!r}: its {what} value is {size} bytes, DynamoDB allows {limit}",
        )


class IndexSet:
    """The indexes of one repository's content type, bound to its model and keys."""

    __slots__ = ("by_field", "by_name", "key_attributes")

    def __init__(
        self,
        indexes: Iterable[Index],
        model: type[BaseModel],
        partition_prefix: str,
        partition_name: str,
        content_type: str,
    ) -> None:
        schema = ModelSchema.of(model)
        self.by_name: dict[str, BoundIndex] = {}
        physical: dict[str, str] = {}
        indexes = tuple(indexes)
        named = {"partition_prefix": partition_prefix, "partition_name": partition_name}
        named["content_type"] = content_type
        for label, value in named.items() if indexes else ():
            if SEPARATOR in value:
                # "a#b" reads as content type "a" with an id "b": a scan (the backfill's) of
                # one would take in the other's items.
                raise ValueError(
                    f"{label} {value!r} holds {SEPARATOR!r}, which the keys cannot tell from an "
                    "id separator: a repository with indexes needs names without it"
                )
        for index in indexes:
            if index.name in self.by_name:
                raise ValueError(f"index {index.name!r} is declared twice")
            taken = physical.get(index.on.name)
            if taken is not None:
                raise ValueError(
                    f"indexes {taken!r} and {index.name!r} of content type {content_type!r} are "
                    f"both on physical index {index.on.name!r}; an item holds one entry per "
                    "physical index, so put one of them on another"
                )
            physical[index.on.name] = index.name
            self.by_name[index.name] = BoundIndex(
                index, schema, partition_prefix, partition_name, content_type
            )
        self.by_field: dict[str, tuple[BoundIndex, ...]] = {}
        for bound in self.by_name.values():
            for name in bound.fields:
                self.by_field[name] = (*self.by_field.get(name, ()), bound)
        self.key_attributes = frozenset(
            attribute
            for bound in self.by_name.values()
            for attribute in bound.index.on.key_attributes
        )

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def get(self, name: str) -> BoundIndex:
        """The index called ``name``; ``InvalidAttributeError`` naming the known ones if none."""
        bound = self.by_name.get(name)
        if bound is None:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise InvalidAttributeError(name, f"no index {name!r} (this repository has: {known})")
        return bound

    def attributes(self, data: Mapping[str, Any]) -> dict[str, AttributeValue]:
        """Every index key attribute for an item's Python-mode ``data`` (sparse ones left out)."""
        attributes: dict[str, AttributeValue] = {}
        for bound in self.by_name.values():
            attributes.update(bound.attributes(data))
        return attributes

    def absent(self, attributes: Mapping[str, AttributeValue]) -> list[str]:
        """The index key attributes not in ``attributes`` (to remove when rewriting an item)."""
        return sorted(self.key_attributes - attributes.keys())

    def touched_by(self, fields: Iterable[str]) -> tuple[BoundIndex, ...]:
        """The indexes composed from any of ``fields`` (top-level field names)."""
        seen: dict[str, BoundIndex] = {}
        for name in fields:
            for bound in self.by_field.get(name, ()):
                seen[bound.name] = bound
        return tuple(seen.values())

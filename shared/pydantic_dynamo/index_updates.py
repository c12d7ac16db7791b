"""Keeping index values right on a write: what it SETs and REMOVEs, and what an update must read.

Every write stores the key attributes of the indexes its item is in (see
:mod:`pydantic_dynamo.indexes`). A whole-item write computes them from the item; an update
computes them from the command and, for the composing fields the command does not give, from
the stored item, read first and checked still as read when the update applies
(:class:`IndexUpdate`, :func:`still_as_read`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.conditions import Condition, all_of, encoded
from pydantic_dynamo.exceptions import InvalidAttributeError

if TYPE_CHECKING:
    from pydantic_dynamo.indexes import BoundIndex, IndexSet

__all__ = [
    "IndexUpdate",
    "IndexWrite",
    "changed_since",
    "index_write",
    "refuse_increments",
    "still_as_read",
]

AttributeValue = dict[str, Any]


def index_write(indexes: Iterable[BoundIndex], state: Mapping[str, Any]) -> IndexWrite:
    """What rewriting ``indexes`` from an item's Python-mode ``state`` does: the index key
    attributes to SET, and those of indexes ``state`` is sparse in, to REMOVE."""
    sets: dict[str, AttributeValue] = {}
    removes: list[str] = []
    for bound in indexes:
        attributes = bound.attributes(state)
        if attributes:
            sets.update(attributes)
        else:
            removes.extend(bound.index.on.key_attributes)
    return IndexWrite(sets, tuple(removes))


def refuse_increments(index_set: IndexSet, paths: Iterable[str]) -> None:
    """Refuse ``increment_attrs`` on a composing field: the new value is known only to
    DynamoDB, so the index values could not be rewritten in the same request."""
    for path in paths:
        for bound in index_set.by_field.get(path, ()):
            raise InvalidAttributeError(
                path,
                f"composes index {bound.name!r}: set it with set_commands instead of "
                "incrementing it, so that the index is rewritten with it",
            )


@dataclass(frozen=True)
class IndexWrite:
    """What one write does to the index key attributes: SET ``sets``, REMOVE ``removes``."""

    sets: Mapping[str, AttributeValue]
    removes: tuple[str, ...]


class IndexUpdate:
    """How one ``UpdateCommand`` keeps the indexes it touches right, built once per update.

    ``given`` holds the composing fields the command sets (their Python-mode values) or
    removes (``None``). ``unread`` lists the composing fields of the touched indexes the command
    does not give (but those of an index the command takes an item out of, by setting one of its
    fields to ``None``): when there are some, the update must read them from the stored item
    first, and apply only while they are still as read (:func:`still_as_read`).

    >>> from pydantic import BaseModel
    >>> from pydantic_dynamo.indexes import Index, IndexSet
    >>> from pydantic_dynamo.table import PhysicalIndex
    >>> class Review(BaseModel):
    ...     actor: str
    ...     stars: int
    ...     text: str = ""
    >>> by_actor = Index("by_actor", PhysicalIndex.global_("gsi1"), ("actor",), ("stars",))
    >>> indexes = IndexSet([by_actor], Review, "app", "films", "review")
    >>> update = IndexUpdate(indexes, {"stars": 5}, ())
    >>> update.unread
    ('actor',)
    >>> update.write({"actor": "a1", "stars": 3, "text": ""}).sets["gsi1sk"]
    {'S': 'review#by_actor#5'}
    >>> IndexUpdate(indexes, {"text": "fine"}, ()).touched
    ()
    """

    __slots__ = ("given", "index_set", "touched", "unread")

    def __init__(
        self, index_set: IndexSet, set_values: Mapping[str, Any], removed: Collection[str]
    ) -> None:
        self.index_set = index_set
        given: dict[str, Any] = {}
        for path, value in set_values.items():
            bound = index_set.by_field.get(path)
            if bound:
                given[path] = bound[0].infos[path].encode_python(value, path)
        for path in removed:
            if path in index_set.by_field:
                given[path] = None
        self.given = given
        self.touched = index_set.touched_by(given)
        # An index one of whose fields becomes None is left at once, whatever its other fields.
        composing = {
            name
            for bound in self.touched
            if all(given.get(field, 0) is not None for field in bound.fields)
            for name in bound.fields
        }
        self.unread = tuple(sorted(composing - given.keys()))

    def write(self, stored: Mapping[str, Any] | None = None) -> IndexWrite:
        """The touched indexes rewritten from the item's new state: ``stored`` (its Python-mode
        data as read, when fields are unread) with the command's values over it."""
        state = {**stored, **self.given} if stored else self.given
        return index_write(self.touched, state)


def still_as_read(stored: Mapping[str, AttributeValue], fields: Iterable[str]) -> Condition:
    """The condition "each of ``fields`` is stored as in ``stored``, or still absent"."""
    terms: list[Condition] = []
    for name in fields:
        value = stored.get(name)
        path = raw_attr(name)
        if value is None:
            terms.append(path.not_exists())
        elif "NULL" in value:  # equality with NULL is not a comparison DynamoDB makes
            terms.append(path.is_type("NULL"))
        else:
            ((kind, payload),) = value.items()
            terms.append(path == encoded(kind, payload))
    condition = all_of(terms)
    if condition is None:
        raise ValueError("still_as_read needs at least one field")
    return condition


def changed_since(
    read: Mapping[str, AttributeValue], now: Mapping[str, AttributeValue], fields: Iterable[str]
) -> bool:
    """Whether any of ``fields`` is stored differently in ``now`` than in ``read``."""
    return any(read.get(name) != now.get(name) for name in fields)

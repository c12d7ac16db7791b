"""The registry of content types the service serves: replace the models here to serve your own.

A content type binds a Pydantic model to where its records live in the table: the partition
prefix and name (the partition key is ``{prefix}#{name}#{partition ids}``) and the content type
name itself, which is both the sort key's prefix and the name clients use (``/records/actor``,
``{"content_type": "actor", ...}`` in ingestion events).

A content type also declares its logical indexes (:class:`~pydantic_dynamo.indexes.Index`),
each on one of the table's physical indexes (``names.TABLE``); the API serves them at
``/records/{type}/by/{index}``. Content types share a physical index: their entries never mix.

The default registry is the seed README's example. Models here refuse unknown attributes
(``extra="forbid"``) so that a typo in a request is a 4xx rather than silently dropped data; the
service honours whatever your models declare.

>>> content_type("actor").model.__name__
'FilmActor'
>>> sorted(CONTENT_TYPES)
['actor', 'cast-actor', 'cast-review', 'review']
>>> [(ct.name, [i.name for i in ct.indexes]) for ct in CONTENT_TYPES.values()][:2]
[('actor', ['by_name']), ('review', ['by_created'])]
>>> COLLECTIONS["cast"].members
('cast-actor', 'cast-review')
>>> [index.name for index in physical_indexes()]
['gsi1']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from pydantic_dynamo import PartitionedContent
from pydantic_dynamo.indexes import Index, IndexSet
from pydantic_dynamo.schema_versions import SchemaVersions
from pydantic_dynamo.table import PhysicalIndex, TableDescription
from records_service import names

__all__ = [
    "COLLECTIONS",
    "CONTENT_TYPES",
    "INTERNAL_PARTITION_PREFIX",
    "ActorReview",
    "CollectionType",
    "ContentType",
    "FilmActor",
    "UnknownContentTypeError",
    "content_type",
    "physical_indexes",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

# The service's own bookkeeping (the write-once deduper's pending announcements) lives under
# this partition prefix; no served content type may use it.
INTERNAL_PARTITION_PREFIX: Final = "records-internal"

# URL path segment, event field and sort-key prefix at once: keep it plain.
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class FilmActor(BaseModel):
    """An actor (the seed README's first model); stored with ``content_ids=[id]``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    review: str | None = None


class ActorReview(BaseModel):
    """A review of an actor; stored with ``partition_ids=[actor_id]``, ``content_ids=[created]``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    actor_id: str
    created: datetime
    review: str


@dataclass(frozen=True)
class ContentType(Generic[ModelT]):
    """One served model, where its records live, its logical indexes, and its schema versions
    (:class:`~pydantic_dynamo.schema_versions.SchemaVersions`, when its model has changed shape:
    docs/schema-versions.md; none for the seed models, whose shape is 0.4.2's, version 0).

    >>> ct = ContentType("note", FilmActor, partition_prefix="app", partition_name="note")
    >>> ct.content_model.__name__
    'PartitionedContent[FilmActor]'

    An index names model fields; one that does not exist is refused here, not on first use:

    >>> ContentType("note", FilmActor, partition_prefix="app", partition_name="note",
    ...             indexes=(Index("by_age", on=names.GSI1, partition=("age",)),))
    Traceback (most recent call last):
    ...
    pydantic_dynamo.exceptions.InvalidAttributeError: age: index 'by_age': \
FilmActor has no field 'age'
    """

    name: str
    model: type[ModelT]
    partition_prefix: str
    partition_name: str
    description: str = ""
    indexes: tuple[Index, ...] = ()
    schema_versions: SchemaVersions | None = None
    content_model: type[PartitionedContent[ModelT]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"content type name {self.name!r} must match {_NAME.pattern} "
                "(it is a URL segment and a sort-key prefix)"
            )
        for label, value in (
            ("partition_prefix", self.partition_prefix),
            ("partition_name", self.partition_name),
        ):
            if not value or "#" in value:
                raise ValueError(f"{self.name}: {label} must be non-empty and free of '#'")
        object.__setattr__(self, "indexes", tuple(self.indexes))
        # Checks the fields and that no two indexes share a physical index, as a repository will.
        IndexSet(self.indexes, self.model, self.partition_prefix, self.partition_name, self.name)
        # Built once here: parametrising a generic model costs a schema build.
        object.__setattr__(self, "content_model", PartitionedContent[self.model])  # type: ignore[name-defined]


class UnknownContentTypeError(LookupError):
    """A request or event names a content type the registry does not serve."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown content type {name!r}; this service serves: {', '.join(known)}")
        self.name = name
        self.known = known


def _registry(
    *types: ContentType[Any], table: TableDescription = names.TABLE
) -> Mapping[str, ContentType[Any]]:
    by_name: dict[str, ContentType[Any]] = {}
    for ct in types:
        if ct.name in by_name:
            raise ValueError(f"content type {ct.name!r} is declared twice")
        if ct.partition_prefix == INTERNAL_PARTITION_PREFIX:
            raise ValueError(
                f"{ct.name}: partition prefix {INTERNAL_PARTITION_PREFIX!r} is reserved"
            )
        for index in ct.indexes:
            if index.on not in table.indexes:
                raise ValueError(
                    f"{ct.name}: index {index.name!r} is on {index.on.name!r}, which the table "
                    f"does not have (it has {[i.name for i in table.indexes]}): add it to "
                    "names.TABLE"
                )
        by_name[ct.name] = ct
    return MappingProxyType(by_name)


# The one place to change what the service serves.
CONTENT_TYPES: Final[Mapping[str, ContentType[Any]]] = _registry(
    ContentType(
        "actor",
        FilmActor,
        partition_prefix="film",
        partition_name="actor",
        description="Film actors, keyed by content_ids=[id] (partition_ids=[]).",
        # Actors by name: /records/actor/by/by_name?name=Steve%20Buscemi
        indexes=(Index("by_name", on=names.GSI1, partition=("name",), sort=("id",)),),
    ),
    ContentType(
        "review",
        ActorReview,
        partition_prefix="film",
        partition_name="review",
        description="Reviews of an actor: partition_ids=[actor_id], content_ids=[created].",
        # Reviews of any actor by time: /records/review/by/by_created?prefix=2024-03. One index
        # partition for all reviews: fine at this size, a hot partition at millions a day.
        indexes=(Index("by_created", on=names.GSI1, sort=("created",)),),
    ),
    # The seed layout keeps all actors in one partition and each actor's reviews in another:
    # no partition holds an actor with its reviews. These two share ``film#cast#{actor_id}``,
    # read together as the collection ``cast`` (docs/collections.md). A new layout beside the
    # seed's: no record of ``actor`` or ``review`` moves, nor is written twice.
    ContentType(
        "cast-actor",
        FilmActor,
        partition_prefix="film",
        partition_name="cast",
        description="An actor in its own partition: partition_ids=[id], content_ids=[].",
    ),
    ContentType(
        "cast-review",
        ActorReview,
        partition_prefix="film",
        partition_name="cast",
        description="A review in its actor's partition: partition_ids=[actor_id], "
        "content_ids=[created].",
    ),
)


@dataclass(frozen=True)
class CollectionType:
    """Content types of the registry that share a partition, served together.

    >>> CollectionType("pair", ("actor", "review"))
    Traceback (most recent call last):
    ...
    ValueError: collection 'pair': 'actor' and 'review' do not share a partition (film#actor, \
film#review)
    """

    name: str
    members: tuple[str, ...]
    description: str = ""
    types: Mapping[str, ContentType[Any]] = field(default_factory=lambda: CONTENT_TYPES, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"collection name {self.name!r} must match {_NAME.pattern}")
        missing = [member for member in self.members if member not in self.types]
        if missing or not self.members:
            raise ValueError(f"collection {self.name!r}: no content types {missing} to serve")
        cts = [self.types[member] for member in self.members]
        places = {f"{ct.partition_prefix}#{ct.partition_name}" for ct in cts}
        if len(places) > 1:
            raise ValueError(
                f"collection {self.name!r}: {' and '.join(repr(m) for m in self.members)} do not "
                f"share a partition ({', '.join(sorted(places))})"
            )


# Collections served at /collections/{name}?partition_id=...
COLLECTIONS: Final[Mapping[str, CollectionType]] = MappingProxyType(
    {
        "cast": CollectionType(
            "cast",
            ("cast-actor", "cast-review"),
            "An actor and its reviews, one partition per actor (partition_id=<actor id>).",
        )
    }
)


def physical_indexes(
    types: Mapping[str, ContentType[Any]] = CONTENT_TYPES,
) -> tuple[PhysicalIndex, ...]:
    """The physical indexes the content types' logical indexes are on (the API queries these)."""
    seen: dict[str, PhysicalIndex] = {}
    for ct in types.values():
        for index in ct.indexes:
            seen.setdefault(index.on.name, index.on)
    return tuple(seen[name] for name in sorted(seen))


def content_type(name: str) -> ContentType[Any]:
    """The registered content type called ``name``, or ``UnknownContentTypeError``.

    >>> content_type("film")
    Traceback (most recent call last):
    ...
    records_service.content_types.UnknownContentTypeError: unknown content type 'film'; \
this service serves: actor, cast-actor, cast-review, review
    """
    try:
        return CONTENT_TYPES[name]
    except KeyError:
        raise UnknownContentTypeError(name, sorted(CONTENT_TYPES)) from None

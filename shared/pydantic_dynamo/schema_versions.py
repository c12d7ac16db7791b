"""Schema versions: a content type's stored shape, numbered, and the migrations between shapes.

A content type whose model changes shape (a field renamed, split, retyped) declares its current
version and one migration per step: a plain function from one version's stored shape (the dict
of attributes decoded from the item, keys and the library's attributes left out) to the next
one's. Every write stores the current version in ``_schema_version`` (nothing for version 0,
the shape pydantic-dynamo 0.4.2 wrote, so an item without the attribute is version 0). Every
read upgrades an older item on the fly, through the migrations in order, before the model
validates it; an item of a newer version than the repository knows is refused
(:class:`SchemaVersionError`), never read with the wrong shape. Updates apply only to items of
the current version; the update and save flows rewrite an older item migrated first
(:func:`migration_put`), then update it (:mod:`pydantic_dynamo.update_flows`), and the migration
backfill (:mod:`pydantic_dynamo.migrate`) rewrites them all.

>>> def v0_to_v1(data):
...     first, _, last = data.pop("full_name").partition(" ")
...     return {**data, "first": first, "last": last}
>>> versions = SchemaVersions(current=1, migrations={0: v0_to_v1})
>>> versions.upgrade({"id": "a1", "full_name": "Steve Buscemi"}, 0, {"pk": "app#"})
{'id': 'a1', 'first': 'Steve', 'last': 'Buscemi'}
>>> versions.stored({"_schema_version": {"N": "1"}}), versions.stored({})
(1, 0)
>>> versions.stamp
{'_schema_version': {'N': '1'}}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.codec import decode_item
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition, encoded
from pydantic_dynamo.exceptions import MigrationError, SchemaVersionError
from pydantic_dynamo.index_updates import still_as_read
from pydantic_dynamo.model_codec import ModelCodec
from pydantic_dynamo.models import PartitionedContent
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.schema import (
    INTERNAL_TIMESTAMP,
    PRIOR_WRITE_TOKEN,
    SCHEMA_VERSION,
    WRITE_TOKEN,
)
from pydantic_dynamo.write_requests import utc_timestamp

if TYPE_CHECKING:
    from pydantic_dynamo.operations import RepositoryCore

__all__ = [
    "SCHEMA_VERSION",
    "Migration",
    "SchemaVersions",
    "migration_put",
    "versioned_decode",
    "versioned_decoder",
]

Item = dict[str, Any]
ModelT = TypeVar("ModelT", bound=BaseModel)
Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""One step: a version's stored shape (a dict of the model's fields) to the next version's."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: migrations are functions
class SchemaVersions:
    """A content type's ``current`` schema version and its ``migrations``: ``migrations[n]``
    turns version ``n``'s stored shape into version ``n + 1``'s, for every ``n`` from the
    oldest one a table may hold to ``current - 1``.

    >>> SchemaVersions(current=2, migrations={0: dict})
    Traceback (most recent call last):
    ...
    ValueError: schema version 2 needs a migration from each of [0, 1], got [0]
    """

    current: int
    migrations: Mapping[int, Migration] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.current, int) or self.current < 0:
            raise ValueError(f"current must be a non-negative int, got {self.current!r}")
        oldest = min(self.migrations, default=self.current)
        wanted = list(range(oldest, self.current))
        if sorted(self.migrations) != wanted or oldest < 0:
            expected = wanted or list(range(self.current))
            raise ValueError(
                f"schema version {self.current} needs a migration from each of {expected}, "
                f"got {sorted(self.migrations)}"
            )
        object.__setattr__(self, "migrations", MappingProxyType(dict(self.migrations)))

    @property
    def stamp(self) -> Item:
        """The attribute every write stores (none at version 0: 0.4.2's shape)."""
        return {SCHEMA_VERSION: {"N": str(self.current)}} if self.current else {}

    @property
    def is_current(self) -> Condition:
        """The condition "the stored item is at the current version"."""
        stored = raw_attr(SCHEMA_VERSION)
        return stored == encoded("N", str(self.current)) if self.current else stored.not_exists()

    @staticmethod
    def stored(raw: Item) -> int:
        """The version a raw item is stored at (0 without the attribute)."""
        value = raw.get(SCHEMA_VERSION)
        return int(value["N"]) if value else 0

    def check(self, version: int, key: dict[str, str]) -> None:
        """Refuse a version newer than current, or older than the oldest migration."""
        if version > self.current or (version < self.current and version not in self.migrations):
            raise SchemaVersionError(key, version, self.current)

    def upgrade(self, data: dict[str, Any], version: int, key: dict[str, str]) -> dict[str, Any]:
        """``data``, stored at ``version``, in the current version's shape."""
        self.check(version, key)
        for step in range(version, self.current):
            try:
                data = self.migrations[step](data)
            except Exception as error:
                raise MigrationError(key, step, error) from error
            if not isinstance(data, dict):
                cause = TypeError(f"it returned a {type(data).__name__}, not a dict")
                raise MigrationError(key, step, cause) from cause
        return data


# What a migration rewrite requires to be still as read: a writer changes at least one.
_AS_READ = (SCHEMA_VERSION, INTERNAL_TIMESTAMP, WRITE_TOKEN)


def migration_put(core: RepositoryCore[Any], raw: Item, token: str) -> Item | None:
    """The PutItem rewriting ``raw`` at the current schema version, or ``None`` when it is.

    The whole item is written from the migrated content (``core.encode``: index values included,
    attributes of the old shape gone); its ``_object_version``, ``_timestamp`` and ``_ttl`` stay
    as stored (a migration is maintenance, not a change of content). It applies only while the
    item still holds the schema version, ``_timestamp`` and write token it was read with, so a
    writer's newer item is never overwritten; it stores ``token``, so that a resend of an applied
    rewrite fails that condition against an item holding ``token`` (``ALL_OLD`` shows it); the
    token it replaces moves to ``_prior_write_token``, as an update's does.
    Raises what decoding raises for an item that cannot be migrated.
    """
    versions = core.versions
    if versions is None or versions.stored(raw) == versions.current:
        return None
    content = core.decode(raw)
    timestamp = raw.get(INTERNAL_TIMESTAMP, {}).get("S")
    tokens = {WRITE_TOKEN: {"S": token}}
    if WRITE_TOKEN in raw:  # a resend of the write that stored it is still recognised
        tokens[PRIOR_WRITE_TOKEN] = raw[WRITE_TOKEN]
    item = core.encode(content, timestamp or utc_timestamp(), tokens)
    placeholders = Placeholders()
    condition = raw_attr(core.partition_key).exists() & still_as_read(raw, _AS_READ)
    request: Item = {
        "TableName": core.table_name,
        "Item": item,
        "ConditionExpression": render(condition, None, placeholders),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return placeholders.add_to(request)


def versioned_decode(
    core: RepositoryCore[Any], raw: Item, model: type[ModelT]
) -> PartitionedContent[ModelT]:
    """``raw`` read as ``model`` (the repository's model, or a projection of it), upgraded first
    when stored at an older version: the generic decode of every attribute but the keys and the
    library's, the migrations in order, then the model's validation."""
    versions = core.versions
    assert versions is not None  # only a versioned repository decodes here
    version = versions.stored(raw)
    if version == versions.current:
        data = ModelCodec.of(model).decode_fields(raw)
    else:
        key = {core.partition_key: raw[core.partition_key], core.sort_key: raw[core.sort_key]}
        decoded = decode_item(raw)
        data = {name: value for name, value in decoded.items() if name not in core.reserved}
        data = versions.upgrade(data, version, core.plain_key(key))
    item = model.model_validate(data, by_name=True)
    partition_ids, content_ids, object_version, expiry = core._header(raw)
    content_class: type[PartitionedContent[ModelT]] = PartitionedContent[model]  # type: ignore[valid-type]
    return content_class.model_construct(
        partition_ids=partition_ids,
        content_ids=content_ids,
        item=item,
        current_version=object_version,
        expiry=expiry,
    )


def versioned_decoder(
    core: RepositoryCore[Any], model: type[ModelT]
) -> Callable[[Item], PartitionedContent[ModelT]]:
    """A decode of raw items (an index's entries, a projection's) into ``model``, upgrading
    older ones (from the attributes read: see docs/schema-versions.md)."""

    def decode(raw: Item) -> PartitionedContent[ModelT]:
        return versioned_decode(core, raw, model)

    return decode

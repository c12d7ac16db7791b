"""The actors' models and their items, as a cookbook handler would write them by hand.

The layout is the service's (``records_service.content_types``, ``docs/api.md``): partition key
``film#actor#`` + the partition ids joined by ``#``, sort key ``actor#`` + the content ids,
the actor's fields as attributes, ``_object_version``, ``_timestamp`` (ISO) and ``_ttl`` (epoch
seconds) beside them. Ids here never hold ``#`` (the service escapes it; a reference needs not).
Values go through boto3's ``TypeSerializer``/``TypeDeserializer``, as the boto3 docs do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PARTITION_KEY",
    "RESERVED_PREFIX",
    "SORT_KEY",
    "TIMESTAMP",
    "TTL",
    "VERSION",
    "ActorContent",
    "ActorIn",
    "FilmActor",
    "content_from_item",
    "item_of",
    "key_of",
]

PARTITION_KEY: Final = "PARTITION_KEY"
SORT_KEY: Final = "SORT_KEY"
PARTITION_PREFIX: Final = "film#actor#"
SORT_PREFIX: Final = "actor#"
VERSION: Final = "_object_version"
TIMESTAMP: Final = "_timestamp"
TTL: Final = "_ttl"
# The service's bookkeeping attributes (versions, write tokens...) all start with it.
RESERVED_PREFIX: Final = "_"

serializer = TypeSerializer()
deserializer = TypeDeserializer()


class FilmActor(BaseModel):
    """An actor."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    review: str | None = None


class ActorContent(BaseModel):
    """A stored actor with where it lives and its version."""

    partition_ids: list[str]
    content_ids: list[str]
    item: FilmActor
    current_version: int = 1
    expiry: datetime | None = None


class ActorIn(ActorContent):
    """A request body holding one actor."""

    model_config = ConfigDict(extra="forbid")

    current_version: int = Field(default=1, ge=1)


def key_of(partition_ids: list[str], content_ids: list[str]) -> dict[str, Any]:
    """The item's key, serialized."""
    return {
        PARTITION_KEY: {"S": PARTITION_PREFIX + "#".join(partition_ids)},
        SORT_KEY: {"S": SORT_PREFIX + "#".join(content_ids)},
    }


def now_iso() -> str:
    """The ``_timestamp`` of a write."""
    return datetime.now(UTC).isoformat()


def item_of(content: ActorContent) -> dict[str, Any]:
    """The whole item of ``content`` (its version as given), serialized."""
    item = {name: serializer.serialize(value) for name, value in content.item.model_dump().items()}
    item.update(key_of(content.partition_ids, content.content_ids))
    item[VERSION] = serializer.serialize(content.current_version)
    item[TIMESTAMP] = serializer.serialize(now_iso())
    if content.expiry is not None:
        item[TTL] = serializer.serialize(int(content.expiry.timestamp()))
    return item


def content_from_item(item: dict[str, Any]) -> ActorContent:
    """The content an item holds."""
    values = {name: deserializer.deserialize(value) for name, value in item.items()}
    partition = str(values.pop(PARTITION_KEY))[len(PARTITION_PREFIX) :]
    sort = str(values.pop(SORT_KEY))[len(SORT_PREFIX) :]
    version = values.get(VERSION)
    ttl = values.get(TTL)
    fields = {k: v for k, v in values.items() if not k.startswith(RESERVED_PREFIX)}
    return ActorContent(
        partition_ids=partition.split("#") if partition else [],
        content_ids=sort.split("#") if sort else [],
        item=FilmActor.model_validate(fields),
        current_version=int(version) if isinstance(version, Decimal) else 1,
        expiry=datetime.fromtimestamp(int(ttl), tz=UTC) if isinstance(ttl, Decimal) else None,
    )

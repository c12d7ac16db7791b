"""The table, described once: its keys, TTL attribute and physical secondary indexes.

The CDK app, the local stack, the test fixtures and :func:`create_table` all read a
:class:`TableDescription`, so the table a repository writes to has the indexes its content types
are declared on. Physical indexes are *overloaded*: each holds the entries of any number of
logical indexes (see :mod:`pydantic_dynamo.indexes`), so a new content type or access pattern
needs no new table index.

>>> STANDARD_TABLE.index("gsi1").partition_key
'gsi1pk'
>>> [a["AttributeName"] for a in STANDARD_TABLE.create_table_request("t")["AttributeDefinitions"]]
['PARTITION_KEY', 'SORT_KEY', 'gsi1pk', 'gsi1sk']
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "MAX_GLOBAL_INDEXES",
    "MAX_LOCAL_INDEXES",
    "STANDARD_TABLE",
    "IndexKind",
    "PhysicalIndex",
    "Projection",
    "TableDescription",
    "create_table",
]

MAX_GLOBAL_INDEXES = 20
MAX_LOCAL_INDEXES = 5


class IndexKind(StrEnum):
    """Global (its own partition key, eventually consistent) or local (the table's partition)."""

    GLOBAL = "global"
    LOCAL = "local"


@dataclass(frozen=True)
class Projection:
    """What an index holds of each item: all attributes, the keys only, or keys and ``include``.

    >>> Projection.keys_only().covers(Projection.include("name"))
    False
    >>> Projection.all().covers(Projection.include("name"))
    True
    """

    type: str  # "ALL", "KEYS_ONLY" or "INCLUDE"
    non_key: tuple[str, ...] = ()  # the attributes an INCLUDE projection adds to the keys

    def __post_init__(self) -> None:
        if self.type not in ("ALL", "KEYS_ONLY", "INCLUDE"):
            raise ValueError(f"projection type must be ALL, KEYS_ONLY or INCLUDE, not {self.type}")
        if (self.type == "INCLUDE") != bool(self.non_key):
            raise ValueError("an INCLUDE projection names its attributes; the others name none")

    @classmethod
    def all(cls) -> Projection:
        """Every attribute of the item."""
        return cls("ALL")

    @classmethod
    def keys_only(cls) -> Projection:
        """The table's and the index's keys only."""
        return cls("KEYS_ONLY")

    @classmethod
    def include(cls, *attributes: str) -> Projection:
        """The keys and these attributes."""
        return cls("INCLUDE", tuple(dict.fromkeys(attributes)))

    def covers(self, other: Projection) -> bool:
        """Whether an index with this projection holds everything ``other`` asks for."""
        if self.type == "ALL":
            return True
        if other.type == "ALL":
            return False
        return set(other.non_key) <= set(self.non_key)

    def specification(self) -> dict[str, Any]:
        """The ``Projection`` of a CreateTable/UpdateTable request."""
        spec: dict[str, Any] = {"ProjectionType": self.type}
        if self.non_key:
            spec["NonKeyAttributes"] = list(self.non_key)
        return spec


@dataclass(frozen=True)
class PhysicalIndex:
    """One secondary index of the table: its name, key attributes (strings) and projection.

    A local index shares the table's partition key, so it names only its sort key attribute.
    """

    name: str
    partition_key: str | None
    sort_key: str
    kind: IndexKind = IndexKind.GLOBAL
    projection: Projection = field(default_factory=Projection.all)

    def __post_init__(self) -> None:
        if self.kind is IndexKind.GLOBAL and not self.partition_key:
            raise ValueError(f"global index {self.name!r} needs a partition key attribute")
        if self.kind is IndexKind.LOCAL and self.partition_key is not None:
            raise ValueError(f"local index {self.name!r} uses the table's partition key")

    @classmethod
    def global_(
        cls, name: str, projection: Projection | None = None, *, prefix: str | None = None
    ) -> PhysicalIndex:
        """A global index whose keys are ``{prefix}pk``/``{prefix}sk`` (``prefix`` = ``name``)."""
        head = name if prefix is None else prefix
        return cls(name, f"{head}pk", f"{head}sk", IndexKind.GLOBAL, projection or Projection.all())

    @classmethod
    def local(
        cls, name: str, projection: Projection | None = None, *, prefix: str | None = None
    ) -> PhysicalIndex:
        """A local index whose sort key is ``{prefix}sk`` (``prefix`` = ``name``)."""
        head = name if prefix is None else prefix
        return cls(name, None, f"{head}sk", IndexKind.LOCAL, projection or Projection.all())

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """The attributes this index adds to an item (its partition key, if its own, and sort)."""
        if self.partition_key is None:
            return (self.sort_key,)
        return (self.partition_key, self.sort_key)


@dataclass(frozen=True)
class TableDescription:
    """A table's keys (string partition and sort keys), TTL attribute and secondary indexes."""

    partition_key: str = "PARTITION_KEY"
    sort_key: str = "SORT_KEY"
    ttl_attribute: str | None = "_ttl"
    indexes: tuple[PhysicalIndex, ...] = ()

    def __post_init__(self) -> None:
        names = [index.name for index in self.indexes]
        if len(set(names)) != len(names):
            raise ValueError(f"index names repeat: {names}")
        attributes = [self.partition_key, self.sort_key]
        for index in self.indexes:
            attributes.extend(index.key_attributes)
        if len(set(attributes)) != len(attributes):
            raise ValueError(
                f"key attributes repeat across the table and its indexes: {attributes}"
            )
        global_count = sum(1 for i in self.indexes if i.kind is IndexKind.GLOBAL)
        if global_count > MAX_GLOBAL_INDEXES:
            raise ValueError(f"{global_count} global indexes; DynamoDB allows {MAX_GLOBAL_INDEXES}")
        if len(self.indexes) - global_count > MAX_LOCAL_INDEXES:
            raise ValueError(f"more than {MAX_LOCAL_INDEXES} local indexes")

    def index(self, name: str) -> PhysicalIndex:
        """The physical index called ``name``."""
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(f"the table has no index {name!r}; it has {[i.name for i in self.indexes]}")

    @property
    def reserved_attributes(self) -> frozenset[str]:
        """The key attributes of the table and of every index: no model may declare them."""
        names = {self.partition_key, self.sort_key}
        for index in self.indexes:
            names.update(index.key_attributes)
        return frozenset(names)

    def with_indexes(self, indexes: Iterable[PhysicalIndex]) -> TableDescription:
        """The same table with these indexes instead."""
        return TableDescription(
            self.partition_key, self.sort_key, self.ttl_attribute, tuple(indexes)
        )

    def create_table_request(self, table_name: str) -> dict[str, Any]:
        """The arguments of ``CreateTable`` for an on-demand table of this description."""
        attributes = [self.partition_key, self.sort_key]
        globals_: list[dict[str, Any]] = []
        locals_: list[dict[str, Any]] = []
        for index in self.indexes:
            attributes.extend(index.key_attributes)
            spec = {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key or self.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": index.projection.specification(),
            }
            (globals_ if index.kind is IndexKind.GLOBAL else locals_).append(spec)
        request: dict[str, Any] = {
            "TableName": table_name,
            "AttributeDefinitions": [
                {"AttributeName": a, "AttributeType": "S"} for a in attributes
            ],
            "KeySchema": [
                {"AttributeName": self.partition_key, "KeyType": "HASH"},
                {"AttributeName": self.sort_key, "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if globals_:
            request["GlobalSecondaryIndexes"] = globals_
        if locals_:
            request["LocalSecondaryIndexes"] = locals_
        return request


# The table the service deploys and the local stack and fixtures create: one overloaded global
# index holding every attribute, which any number of content types share. Add more (gsi2, ...)
# one per deploy: CloudFormation creates at most one GSI per stack update.
STANDARD_TABLE = TableDescription(indexes=(PhysicalIndex.global_("gsi1"),))


def create_table(
    client: DynamoDBClient,
    table_name: str,
    description: TableDescription = STANDARD_TABLE,
    *,
    timeout: float = 60.0,
) -> None:
    """Create an on-demand table of ``description``, wait until it is ACTIVE, enable its TTL.

    For tests and scripts (DynamoDB Local, moto, a sandbox account); deployed tables come from
    the CDK app, which reads the same description.
    """
    client.create_table(**description.create_table_request(table_name))
    # Poll quickly: the boto3 waiter sleeps 20 s between tries; DynamoDB Local is ACTIVE at once.
    deadline = time.monotonic() + timeout
    while True:
        table = client.describe_table(TableName=table_name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table.get("TableStatus") == "ACTIVE" and all(
            i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
        ):
            break
        if time.monotonic() >= deadline:
            raise RuntimeError(f"table {table_name!r} not ACTIVE after {timeout:g} s")
        time.sleep(0.05)
    if description.ttl_attribute is not None:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": description.ttl_attribute},
        )

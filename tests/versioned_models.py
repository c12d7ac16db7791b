"""A content type that changed shape twice, for the schema-version tests.

Version 0 (what 0.4.2 wrote, no ``_schema_version``): ``full_name`` and ``stars`` as text.
Version 1: ``full_name`` split into ``first`` and ``last``. Version 2 (current): ``stars`` a
number. ``by_last`` indexes the field version 1 introduced.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from pydantic_dynamo.indexes import Index
from pydantic_dynamo.schema_versions import SchemaVersions
from pydantic_dynamo.table import PhysicalIndex, TableDescription

GSI1 = PhysicalIndex.global_("gsi1")
TABLE = TableDescription(indexes=(GSI1,))
BY_LAST = Index("by_last", on=GSI1, partition=("last",), sort=("id",))


class Actor(BaseModel):
    """The current shape (version 2); unknown attributes refused, as the service's models."""

    model_config = ConfigDict(extra="forbid")

    id: str
    first: str
    last: str
    stars: int


def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Split ``full_name`` into ``first`` and ``last``."""
    first, _, last = data.pop("full_name").partition(" ")
    return {**data, "first": first, "last": last}


def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """``stars`` from text to a number."""
    return {**data, "stars": int(data["stars"])}


VERSIONS = SchemaVersions(current=2, migrations={0: v0_to_v1, 1: v1_to_v2})


def shaped(
    version: int, actor_id: str, name: str = "Steve Buscemi", stars: int = 4
) -> dict[str, Any]:
    """The model attributes of an actor as stored at ``version`` (AttributeValues)."""
    first, _, last = name.partition(" ")
    if version == 0:
        return {"id": {"S": actor_id}, "full_name": {"S": name}, "stars": {"S": str(stars)}}
    item = {"id": {"S": actor_id}, "first": {"S": first}, "last": {"S": last}}
    if version == 1:
        return {**item, "stars": {"S": str(stars)}, "_schema_version": {"N": "1"}}
    return {**item, "stars": {"N": str(stars)}, "_schema_version": {"N": str(version)}}

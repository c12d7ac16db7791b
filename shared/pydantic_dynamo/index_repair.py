"""Writing an item's index attributes onto it in place: the pure core of the index backfill.

For an item read from the table, :func:`repair_request` computes the index key attributes its
model should carry (as every write computes them, from the model's Python-mode dump) and, when
the stored ones differ, an UpdateItem that SETs the right ones and REMOVEs stale ones (an index
the item has left: sparse). The update is conditioned on the item still existing with the
composing attributes it was read with (equal, or absent), so a writer that changed the item
meanwhile is never overwritten with values computed from the old one; nothing else about the
item changes (its version and timestamp stay: this is maintenance, not a write of content).

:class:`IndexRepair` is that, as one of the per-item rewrites of :mod:`pydantic_dynamo.rewrites`
(:func:`~pydantic_dynamo.rewrites.rewrite_segment_flow` runs it over a scan segment).

>>> from pydantic import BaseModel
>>> from pydantic_dynamo.indexes import Index
>>> from pydantic_dynamo.table import PhysicalIndex
>>> class Actor(BaseModel):
...     id: str
...     name: str | None = None
>>> core = RepositoryCore(item_class=Actor, partition_prefix="app", partition_name="films",
...     content_type="actor", table_name="t", partition_key="pk", sort_key="sk",
...     indexes=[Index("by_name", on=PhysicalIndex.global_("gsi1"), partition=("name",))])
>>> raw = {"pk": {"S": "app#films#"}, "sk": {"S": "actor#a1"}, "id": {"S": "a1"},
...        "name": {"S": "Al"}}
>>> request = repair_request(core, raw)
>>> request["UpdateExpression"]
'SET #n0 = :v0, #n1 = :v1'
>>> request["ConditionExpression"]
'attribute_exists(#n2) AND #n3 = :v2'
>>> fixed = {**raw, "gsi1pk": {"S": "app#films#actor#by_name#Al"},
...          "gsi1sk": {"S": "actor#by_name#"}}
>>> repair_request(core, fixed) is None
True
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition, all_of, encoded
from pydantic_dynamo.flows import Call, Step
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.rate_limit import TokenBucket
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.rewrites import (
    Rewrite,
    RewrittenPage,
    Undecodable,
    rewrite_page_flow,
    scan_job,
)
from pydantic_dynamo.scan import ScanPage

__all__ = [
    "IndexRepair",
    "RepairedPage",
    "Undecodable",
    "repair_page_flow",
    "repair_request",
]

Item = dict[str, Any]

RepairedPage = RewrittenPage
"""One scan page of the index backfill, every item handled."""


def _unchanged(core: RepositoryCore[Any], raw: Item) -> Condition:
    """The item still exists and holds the composing attributes it was read with."""
    terms = [raw_attr(core.partition_key).exists()]
    for name in sorted(core.indexes.by_field):
        path = raw_attr(name)
        stored = raw.get(name)
        if stored is None:
            terms.append(path.not_exists())
        elif "NULL" in stored:
            terms.append(path.is_type("NULL"))
        else:
            ((kind, payload),) = stored.items()  # a composing field is a scalar
            terms.append(path == encoded(kind, payload))
    condition = all_of(terms)
    assert condition is not None  # the key's term is always there
    return condition


def repair_request(core: RepositoryCore[Any], raw: Item) -> Item | None:
    """The UpdateItem putting ``raw``'s index attributes right, or ``None`` if they are.

    Raises what decoding raises for an item the model cannot read (a ``ValidationError``, an
    ``InvalidKeyError``...) and the library's errors for index values that cannot be made.
    """
    content = core.decode(raw)
    wanted = core.indexes.attributes(content.item.model_dump(by_alias=False))
    stored = {name: raw[name] for name in core.indexes.key_attributes if name in raw}
    if stored == wanted:
        return None
    placeholders = Placeholders()
    sets = [
        f"{placeholders.name(name)} = {placeholders.value(value)}"
        for name, value in wanted.items()
        if stored.get(name) != value
    ]
    removes = [placeholders.name(name) for name in sorted(stored.keys() - wanted.keys())]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    request: Item = {
        "TableName": core.table_name,
        "Key": {core.partition_key: raw[core.partition_key], core.sort_key: raw[core.sort_key]},
        "UpdateExpression": " ".join(clauses),
        "ConditionExpression": render(_unchanged(core, raw), None, placeholders),
    }
    return placeholders.add_to(request)


class IndexRepair:
    """The index backfill's rewrite: :func:`repair_request` for each item."""

    name = "backfill"
    kinds_title = None

    def __init__(self, core: RepositoryCore[Any]) -> None:
        self.core = core

    def job(self, segments: int) -> dict[str, Any]:
        """The table, the content type, the segments and the indexes (as checkpoints hold)."""
        indexes = [
            [b.name, b.index.on.name, list(b.index.partition), list(b.index.sort)]
            for b in self.core.indexes.by_name.values()
        ]
        return scan_job(self.core, segments, indexes=indexes)

    def kind(self, raw: Item) -> str | None:
        """Index repairs count no groups."""
        return None

    def rewrite(self, raw: Item) -> Rewrite | None:
        """The UpdateItem putting ``raw``'s index attributes right, if needed."""
        request = repair_request(self.core, raw)
        return None if request is None else Rewrite(Call("update_item", request))


def repair_page_flow(
    core: RepositoryCore[Any],
    page: ScanPage,
    *,
    retry_policy: RetryPolicy,
    bucket: TokenBucket | None = None,
    dry_run: bool = False,
) -> Generator[Step, Any, RewrittenPage]:
    """Put right the index attributes of every item of ``page``, one UpdateItem at a time
    (:func:`~pydantic_dynamo.rewrites.rewrite_page_flow` of :class:`IndexRepair`).

    An update whose condition fails counts as ``changed_meanwhile`` (someone rewrote or
    deleted the item, and the library's writes keep index values themselves).
    """
    return rewrite_page_flow(
        core, IndexRepair(core), page, retry_policy=retry_policy, bucket=bucket, dry_run=dry_run
    )

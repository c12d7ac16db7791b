"""The workload's items as this library stores them, for the micro-benchmarks (no network)."""

from __future__ import annotations

from typing import Any

from benchmarks.models import Example, make_examples
from pydantic_dynamo.models import PartitionedContent
from pydantic_dynamo.operations import RepositoryCore

__all__ = ["STAMP", "repository_core", "stored_items"]

STAMP = "2026-11-26T22:00:00+00:00"


def repository_core() -> RepositoryCore[Example]:
    """The pure core of a repository of the workload's model."""
    return RepositoryCore(
        item_class=Example,
        partition_prefix="bench",
        partition_name="partition",
        content_type="example",
        table_name="bench",
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
    )


def stored_items(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` workload items in one partition, encoded as the repository writes them."""
    core = repository_core()
    return [
        core.encode(
            PartitionedContent[Example](partition_ids=["p"], content_ids=[f"{i:06d}"], item=m),
            STAMP,
        )
        for i, m in enumerate(make_examples(n, seed))
    ]

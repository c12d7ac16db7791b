"""The ``units`` set's inputs and checks for this library's runners, sync and async.

Both build an actor's and its reviews' repositories beside the runner's own (``cast_settings``:
the same table, key attributes and client, so the runner's request counter sees them), write
``cast_contents`` and check what they read with ``cast_checks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.models import Actor, Review, make_cast
from benchmarks.workload import (
    COLLECTION_IDS,
    COLLECTION_NAME,
    COLLECTION_TYPES,
    PARTITION_PREFIX,
    Workload,
    review_ids,
    units_checks,
)
from pydantic_dynamo import PartitionedContent
from pydantic_dynamo.operations import RepositoryCore


def cast_settings(core: RepositoryCore[Any], client: Any) -> dict[str, Any]:
    """Construction arguments of the actor's and the reviews' repositories but the model and
    the content type: the collection's partition, ``core``'s table and keys, ``client``."""
    return {
        "partition_prefix": PARTITION_PREFIX,
        "partition_name": COLLECTION_NAME,
        "table_name": core.table_name,
        "partition_key": core.partition_key,
        "sort_key": core.sort_key,
        "client": client,
    }


def cast_contents(
    seed: int,
) -> tuple[list[PartitionedContent[Actor]], list[PartitionedContent[Review]]]:
    """The actor's content (``content_ids`` its id) and its reviews'."""
    actor, reviews = make_cast(seed)
    pid = list(COLLECTION_IDS)
    actors = [PartitionedContent[Actor](partition_ids=pid, content_ids=pid, item=actor)]
    return actors, [
        PartitionedContent[Review](partition_ids=pid, content_ids=review_ids(i), item=review)
        for i, review in enumerate(reviews)
    ]


def cast_checks(
    workload: Workload,
    transacted: int,
    read: Sequence[PartitionedContent[Any]],
    written: Sequence[PartitionedContent[Any]],
    counts: Sequence[int],
) -> dict[str, Any]:
    """``units_checks``, the read's types told by the class of each decoded item, and whether
    the read answered the written items, in sort-key order."""
    models = {COLLECTION_TYPES[0]: Actor, COLLECTION_TYPES[1]: Review}
    read_types = {
        name: sum(isinstance(content.item, model) for content in read)
        for name, model in models.items()
    }
    return {
        **units_checks(workload, transacted, read_types, counts),
        "collection_items_equal": [c.item for c in read] == [c.item for c in written],
    }

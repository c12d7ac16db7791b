"""The workload's items as plain Python values, for the peer libraries' runners. Standard library.

Peers (pydynox, aiodynamo) take plain dicts and convert them to AttributeValues themselves, so
that conversion is inside their timing, as the model encoding is inside this library's. Dates
and times are ISO strings and the enum its value, as this library stores them; ``None`` fields
are left out (both peers drop or reject them); keys are the ones this library writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from benchmarks.workload import (
    COLLECTION_IDS,
    COLLECTION_NAME,
    COLLECTION_TYPES,
    CONTENT_TYPE,
    PARTITION_IDS,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    REVIEWS,
    SORT_KEY,
    Workload,
    actor_fields,
    content_ids,
    example_fields,
    index_attributes,
    review_fields,
    review_ids,
)

PARTITION_VALUE = "#".join((PARTITION_PREFIX, PARTITION_NAME, *PARTITION_IDS))
SORT_PREFIX = CONTENT_TYPE + "#"
# The ``units`` set's collection partition and its reviews' sort-key prefix.
CAST_PARTITION = "#".join((PARTITION_PREFIX, COLLECTION_NAME, *COLLECTION_IDS))
REVIEW_PREFIX = COLLECTION_TYPES[1] + "#"


def sort_value(index: int) -> str:
    """The sort key value of item ``index``."""
    return "#".join((CONTENT_TYPE, *content_ids(index)))


def key(index: int) -> dict[str, str]:
    """The key of item ``index``, as plain strings."""
    return {PARTITION_KEY: PARTITION_VALUE, SORT_KEY: sort_value(index)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def items(workload: Workload, *, indexed: bool = False) -> list[dict[str, Any]]:
    """Every item of the workload, with its key, ``_timestamp`` and ``_object_version`` (and,
    ``indexed``, the ``index`` set's index key attributes)."""
    timestamp = datetime.now(UTC).isoformat()
    out = []
    for index in range(workload.n):
        fields = {k: _plain(v) for k, v in example_fields(index, workload.seed).items()}
        item = {k: v for k, v in fields.items() if v is not None}
        item.update(key(index), _timestamp=timestamp, _object_version=1)
        if indexed:
            item.update(index_attributes(fields["datetime_field"]))
        out.append(item)
    return out


def cast_keys(seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """The ``units`` set's actor and reviews: (sort key, fields) each, fields as
    ``workload`` makes them (the review's ``created`` a datetime)."""
    actor = (f"{COLLECTION_TYPES[0]}#{COLLECTION_IDS[0]}", actor_fields(seed))
    reviews = [
        ("#".join((COLLECTION_TYPES[1], *review_ids(i))), review_fields(i, seed))
        for i in range(REVIEWS)
    ]
    return [actor, *reviews]


def cast_items(seed: int = 0) -> list[dict[str, Any]]:
    """The ``units`` set's actor and reviews as stored: keys, fields, ``_timestamp`` and
    ``_object_version``."""
    timestamp = datetime.now(UTC).isoformat()
    return [
        {
            **_plain(fields),
            PARTITION_KEY: CAST_PARTITION,
            SORT_KEY: sort_key,
            "_timestamp": timestamp,
            "_object_version": 1,
        }
        for sort_key, fields in cast_keys(seed)
    ]

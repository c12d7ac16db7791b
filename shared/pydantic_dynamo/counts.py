"""Counting items: ``count`` (a partition) and ``count_index`` (an index partition).

A count is the listing's (or the index query's) own flow with ``Select=COUNT``: DynamoDB
answers how many items of each page matched, not the items, and every page is read to the end.
Filters are honoured, as in ``list``. A COUNT answer holds no item, so the library cannot drop
expired items after reading them as it does in every read: the request's filter drops them
instead, with a term keeping only live items (:func:`live_items`, on ``_ttl``).

An index that does not hold ``_ttl`` (``KEYS_ONLY``, or ``INCLUDE`` without it) cannot filter
on it: such an index is counted by reading its entries and their items, as ``query_index``
does, and counting those it would return.

Like any Query, a count costs the read units of every item it reads, whatever the filter.

>>> live_items(1700000000)
(attribute_not_exists(_ttl) OR NOT attribute_type(_ttl, 'N') OR _ttl > 1700000000)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pydantic_dynamo import read_flows
from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.expressions import filter_condition
from pydantic_dynamo.flow_rewrite import rewrite
from pydantic_dynamo.flows import Call, Flow
from pydantic_dynamo.index_queries import index_query
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import BatchResponse, FilterCommand
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.schema import INTERNAL_TTL

__all__ = ["count_flow", "count_index_flow", "live_items"]

Item = dict[str, Any]
_ttl = raw_attr(INTERNAL_TTL)


def live_items(now: int) -> Condition:
    """Items not past their TTL at ``now`` (epoch seconds): as the reads' own check, an item
    whose ``_ttl`` is missing or not a number never expires."""
    return _ttl.not_exists() | ~_ttl.is_type("N") | (_ttl > now)


def _live_and(filters: FilterCommand | Condition | None) -> Condition:
    live = live_items(int(time.time()))
    wanted = filter_condition(filters) if isinstance(filters, FilterCommand) else filters
    return live if wanted is None else live & wanted


def _select_count(call: Call) -> Call:
    return Call(call.operation, {**call.request, "Select": "COUNT"})


def _counted(flow: Flow) -> Flow:
    """Run a query flow with ``Select=COUNT``; returns the sum of its pages' counts."""
    total = [0]

    def add(call: Call, response: Item) -> None:
        total[0] += int(response.get("Count", 0))

    yield from rewrite(flow, request=_select_count, response=add, emit=lambda page: None)
    return total[0]


def count_flow(
    core: RepositoryCore[Any],
    partition_ids: Ids,
    content_prefix: Ids = None,
    *,
    between: tuple[Ids, Ids] | None = None,
    filters: FilterCommand | Condition | None = None,
) -> Flow:
    """How many live items of the partition ``list`` (or ``list_between``) would return."""
    flow = read_flows.list_flow(
        core, partition_ids, prefix=content_prefix, between=between, filters=_live_and(filters)
    )
    count: int = yield from _counted(flow)
    return count


def count_index_flow(
    core: RepositoryCore[Any],
    index: str,
    partition: Sequence[Any] = (),
    *,
    prefix: Sequence[Any] = (),
    between: tuple[Sequence[Any], Sequence[Any]] | None = None,
    filters: FilterCommand | Condition | None = None,
) -> Flow:
    """How many entries ``query_index`` would return (arguments checked as it checks them)."""
    read = core.indexes.get(index).index.read_projection
    if read.type == "ALL" or INTERNAL_TTL in read.non_key:
        query = index_query(
            core, index, partition, prefix=prefix, between=between, filters=_live_and(filters)
        )
        count: int = yield from _counted(read_flows.query_index_flow(query))
        return count
    query = index_query(core, index, partition, prefix=prefix, between=between, filters=filters)
    total = [0]

    def add(page: BatchResponse[Any]) -> None:
        total[0] += len(page)

    yield from rewrite(read_flows.query_index_flow(query), emit=add)
    return total[0]

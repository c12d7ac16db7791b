"""Queries of a logical index: the Query request, its cursor, and how its entries become contents.

Sans-I/O, like :mod:`pydantic_dynamo.operations`: :func:`index_query` checks the arguments
against the index and the model before any request, and builds the :class:`IndexQuery` a flow
pages through (:func:`pydantic_dynamo.read_flows.query_index_flow`).

What an entry becomes depends on what the index holds for this access pattern (the logical
index's ``read_projection``):

- ``ALL``: the entry is the item; it is decoded as ``list`` decodes.
- ``KEYS_ONLY`` or ``INCLUDE`` without a ``projection`` model: the full items are read with one
  BatchGetItem per page, by the table keys the entries hold, and handed over in index order.
  An item deleted or expired since the index saw it is dropped, and so is one whose index
  values (or filtered fields) changed since: the index, eventually consistent, lags behind it.
- with ``projection=SomeModel``: each entry is decoded into that model, with no further read;
  the index must hold every field the model declares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from pydantic_dynamo.batching import BatchGetPlan
from pydantic_dynamo.condition_rendering import field_names, render
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import InvalidAttributeError, InvalidCursorError, InvalidQueryError
from pydantic_dynamo.expressions import filter_condition
from pydantic_dynamo.indexes import BoundIndex
from pydantic_dynamo.models import FilterCommand, PartitionedContent
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import QueryPlan, decode_index_cursor, is_expired
from pydantic_dynamo.placeholders import Placeholders

__all__ = ["IndexQuery", "index_query"]

Item = dict[str, Any]
KeyTuple = tuple[str, str]


class IndexQuery:
    """One query of an index: its ``plan``, how entries ``decode``, and whether the full items
    are to be fetched (``fetch``) and checked against the entries (:meth:`confirm`)."""

    __slots__ = ("_compared", "_core", "decode", "fetch", "plan")

    def __init__(
        self,
        core: RepositoryCore[Any],
        plan: QueryPlan,
        decode: Callable[[Item], PartitionedContent[Any]],
        fetch: bool,
        compared: tuple[str, ...],
    ) -> None:
        self._core = core
        self.plan = plan
        self.decode = decode
        self.fetch = fetch
        self._compared = compared

    def _table_key(self, entry: Item) -> KeyTuple:
        core = self._core
        return entry[core.partition_key]["S"], entry[core.sort_key]["S"]

    def fetch_plan(self, entries: Sequence[Item]) -> BatchGetPlan[Item]:
        """A BatchGetItem plan reading the full items of ``entries``."""
        core = self._core
        keys = []
        for entry in entries:
            key = {core.partition_key: entry[core.partition_key]}
            key[core.sort_key] = entry[core.sort_key]
            keys.append((key, key))
        return BatchGetPlan(
            core.table_name,
            core.partition_key,
            core.sort_key,
            keys,
            core.consistent_reads,
            core.retry_policy,
        )

    def confirm(self, entries: Sequence[Item], fetched: Sequence[Item], now: float) -> list[Item]:
        """The fetched items in the entries' order, without those gone, expired, or changed in
        what the entry was selected by (its index values, its filtered fields)."""
        by_key = {self._table_key(item): item for item in fetched}
        moment = int(now)
        kept = []
        for entry in entries:
            item = by_key.get(self._table_key(entry))
            if item is None or is_expired(item, moment):
                continue
            if any(item.get(name) != entry.get(name) for name in self._compared):
                continue
            kept.append(item)
        return kept


def _check_held(
    bound: BoundIndex, held: frozenset[str] | None, names: Sequence[str], what: str
) -> None:
    if held is None:
        return
    for name in names:
        if name not in held:
            listed = ", ".join(sorted(held)) or "no model fields, only keys"
            raise InvalidAttributeError(
                name,
                f"index {bound.name!r} holds {listed}: {what} cannot use {name!r}",
            )


def index_query(
    core: RepositoryCore[Any],
    name: str,
    partition: Sequence[Any],
    *,
    prefix: Sequence[Any] = (),
    between: tuple[Sequence[Any], Sequence[Any]] | None = None,
    sort_ascending: bool = True,
    limit: int | None = None,
    filters: FilterCommand | Condition | None = None,
    cursor: str | None = None,
    consistent_read: bool | None = None,
    projection: type[BaseModel] | None = None,
) -> IndexQuery:
    """The query of index ``name`` (see :meth:`SyncDynamoRepository.query_index
    <pydantic_dynamo.SyncDynamoRepository.query_index>`); every argument is checked first."""
    bound = core.indexes.get(name)
    physical = bound.index.on
    if bound.is_global:
        if consistent_read:
            raise InvalidQueryError(
                f"index {name!r} is on global index {physical.name!r}, which DynamoDB reads "
                "eventually consistently only: consistent_read=True needs a local index"
            )
        consistent = False
        assert physical.partition_key is not None  # a global index has its own
        partition_key = physical.partition_key
        partition_value = bound.partition_value(partition)
        key_attributes: tuple[str, ...] = (core.partition_key, core.sort_key, partition_key)
    else:
        consistent = core.consistent_reads if consistent_read is None else consistent_read
        partition_key = core.partition_key
        partition_value = core.keys.partition_value(list(partition))
        key_attributes = (core.partition_key, core.sort_key)
    sort_key = physical.sort_key
    key_attributes += (sort_key,)

    read = bound.index.read_projection
    held = None if read.type == "ALL" else frozenset(read.non_key)
    wanted = filter_condition(filters) if isinstance(filters, FilterCommand) else filters
    filtered_fields = sorted(field_names(wanted)) if wanted is not None else []
    _check_held(bound, held, filtered_fields, "a filter")
    if projection is not None:
        for field in projection.model_fields:
            if field not in core.schema.fields:
                raise InvalidAttributeError(
                    field, f"{core.item_class.__name__} has no field {field!r} to project"
                )
        _check_held(bound, held, list(projection.model_fields), "a projection")

    if between is not None and list(between[0]) == list(between[1]):
        # As list_between: equal bounds query by prefix (BETWEEN would match the bound only).
        prefix, between = between[0], None
    placeholders = Placeholders()
    pk = placeholders.name(partition_key)
    sk = placeholders.name(sort_key)
    pk_value = placeholders.value({"S": partition_value})
    if between is not None:
        low, high = bound.sort_range(between[0], between[1])
        condition = (
            f"{pk} = {pk_value} AND {sk} BETWEEN "
            f"{placeholders.value({'S': low})} AND {placeholders.value({'S': high})}"
        )
    else:
        low, high = bound.sort_prefix(prefix), None
        condition = f"{pk} = {pk_value} AND begins_with({sk}, {placeholders.value({'S': low})})"
    request: Item = {
        "TableName": core.table_name,
        "IndexName": physical.name,
        "KeyConditionExpression": condition,
        "ScanIndexForward": sort_ascending,
        "ConsistentRead": consistent,
    }
    if wanted is not None:
        request["FilterExpression"] = render(wanted, core.schema, placeholders)
    placeholders.add_to(request)

    start_key = None
    if cursor is not None:
        start_key = decode_index_cursor(cursor, name, partition_value, key_attributes)
        if start_key[partition_key]["S"] != partition_value:
            raise InvalidCursorError("cursor belongs to another partition of this index")
        after = start_key[sort_key]["S"]
        if not (low <= after <= high if high is not None else after.startswith(low)):
            raise InvalidCursorError("cursor belongs to another query of this index partition")
    plan = QueryPlan(
        request,
        partition_value=partition_value,
        partition_key=partition_key,
        sort_key=sort_key,
        limit=limit,
        filtered=wanted is not None,
        index=name,
        key_attributes=key_attributes,
        start_key=start_key,
    )
    decode = core.decoder(projection) if projection is not None else core.decode
    fetch = projection is None and held is not None
    compared = (*physical.key_attributes, *filtered_fields)
    return IndexQuery(core, plan, decode, fetch, compared)

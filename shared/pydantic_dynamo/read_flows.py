"""The reading operations as flows: get, batch get, list and index queries.

The listings emit a page (:class:`~pydantic_dynamo.flows.Emit`) per DynamoDB response, and
keep nothing of it while the next is read, so a caller streaming pages holds one.
:func:`run_get_plan` drives a BatchGetItem plan, for these flows and for write-once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic_dynamo.aws_errors import error_code
from pydantic_dynamo.batching import BatchGetPlan
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.flows import Call, Emit, Flow, Sleep, Step
from pydantic_dynamo.index_queries import IndexQuery
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import BatchResponse, FilterCommand, GetResponse, ObjT
from pydantic_dynamo.operations import RepositoryCore, RequestIds
from pydantic_dynamo.paging import QueryPlan

__all__ = ["get_batch_flow", "get_flow", "list_flow", "query_index_flow"]

Item = dict[str, Any]


def get_flow(core: RepositoryCore[ObjT], partition_id: Ids, content_id: Ids) -> Flow:
    """GetItem; returns a GetResponse."""
    response = yield Call("get_item", core.get_request(partition_id, content_id))
    result: GetResponse[ObjT] = core.get_response(response, time.time())
    return result


def run_get_plan(plan: BatchGetPlan[Any], on_items: Callable[[list[Item]], Step | None]) -> Flow:
    """Drive a BatchGetItem plan; ``on_items`` sees each response's items and may emit."""
    while (request := plan.next_request()) is not None:
        try:
            response = yield Call("batch_get_item", request)
        except Exception as error:  # whatever the cause, the plan reports the keys not read
            yield Sleep(plan.on_error(error_code(error), error))
            continue
        items, delay = plan.on_response(response)
        step = on_items(items)
        # Hold nothing of this page while the next is read: a caller streaming pages keeps one.
        del response, items
        if step is not None:
            yield step
        del step
        if delay:
            yield Sleep(delay)


def get_batch_flow(core: RepositoryCore[ObjT], request_ids: Sequence[RequestIds]) -> Flow:
    """BatchGetItem, 100 keys a request; emits one BatchResponse per response with items."""

    def page(items: list[Item]) -> Step | None:
        live = core.live_items(items, time.time())
        return Emit(BatchResponse(raw_items=live, decode=core.decode)) if live else None

    yield from run_get_plan(core.get_plan(request_ids), page)


def list_flow(
    core: RepositoryCore[ObjT],
    partition_id: Ids,
    *,
    prefix: Ids = None,
    between: tuple[Ids, Ids] | None = None,
    sort_ascending: bool = True,
    limit: int | None = None,
    filters: FilterCommand | Condition | None = None,
    cursor: str | None = None,
) -> Flow:
    """Query by prefix or range; emits a BatchResponse per DynamoDB page.

    Pages a filter emptied are emitted too (with their cursor), so a caller can bound the work
    of one call by counting pages.
    """
    if between is not None and _same_ids(*between):
        # 0.4.2: equal bounds list by prefix (BETWEEN would match only the bound itself).
        prefix, between = between[0], None
    plan = core.query_plan(
        partition_id,
        prefix=prefix,
        between=between,
        sort_ascending=sort_ascending,
        limit=limit,
        filters=filters,
        cursor=cursor,
    )
    yield from _query_pages(plan, core.decode)


def query_index_flow(query: IndexQuery) -> Flow:
    """Query a logical index (:func:`~pydantic_dynamo.index_queries.index_query` builds and
    checks ``query``); emits a BatchResponse per DynamoDB page. Entries of an index that does
    not hold the whole item are completed with one BatchGetItem per page, unless read into a
    projection model."""
    yield from _query_pages(query.plan, query.decode, query if query.fetch else None)


def _query_pages(
    plan: QueryPlan, decode: Callable[[Item], Any], fetching: IndexQuery | None = None
) -> Flow:
    """Send a query plan's requests, emitting each page; ``fetching`` completes index entries
    with their full items (what it drops counts back towards the limit)."""
    while (request := plan.next_request()) is not None:
        response = yield Call("query", request)
        page = plan.on_response(response)
        items = page.items
        if fetching is not None and items:
            fetched: list[Item] = []
            yield from run_get_plan(fetching.fetch_plan(items), fetched.extend)
            items = fetching.confirm(items, fetched, time.time())
            del fetched
            plan.give_back(len(page.items) - len(items))
        emit = Emit(BatchResponse(raw_items=items, decode=decode, cursor=page.cursor))
        # Hold nothing of this page while the next is read: a caller streaming pages keeps one.
        del response, page, items
        yield emit
        del emit


def _same_ids(first: Ids, second: Ids) -> bool:
    def normal(ids: Ids) -> list[str]:
        if ids is None:
            return []
        return [ids] if isinstance(ids, str) else list(ids)

    return normal(first) == normal(second)

"""A parallel Scan of one content type, as sans-I/O flows.

A table holds many content types; a Scan reads all of them, so every request filters on the
repository's keys (the partition value begins with ``{prefix}#{name}#``, the sort value with
``{content_type}#``) and on the caller's filters, rendered against the model. Items past their
TTL are dropped, as every read of the library drops them. DynamoDB splits the table into
``segments`` (``Segment``/``TotalSegments``) that are scanned independently:

- :func:`scan_flow` scans every segment, a page of each at a time with one :class:`CallMany`
  step (at most ``concurrency`` segments at once), emitting a
  :class:`~pydantic_dynamo.models.BatchResponse` per page: what ``repo.scan()`` runs, on either
  driver;
- :func:`segment_flow` scans one segment from a given ``ExclusiveStartKey``, emitting a
  :class:`ScanPage` (with the key to resume after it) per page, and retrying throttled pages:
  for a caller that runs segments in threads of its own and records where each one stands
  (:mod:`pydantic_dynamo.backfill`).

Scanning reads the whole table whatever the filter (a filter only drops items from the
answer): it costs the read units of every item of every content type.

>>> from pydantic import BaseModel
>>> class Actor(BaseModel):
...     name: str
>>> core = RepositoryCore(item_class=Actor, partition_prefix="app", partition_name="films",
...     content_type="actor", table_name="t", partition_key="pk", sort_key="sk")
>>> plan = ScanPlan(core, segments=4)
>>> request = plan.request(2, None)
>>> request["FilterExpression"], request["Segment"], request["TotalSegments"]
('begins_with(#n0, :v0) AND begins_with(#n1, :v1)', 2, 4)
>>> request["ExpressionAttributeValues"]
{':v0': {'S': 'app#films#'}, ':v1': {'S': 'actor#'}}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.aws_errors import ErrorKind, classify, error_code
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.expressions import filter_condition
from pydantic_dynamo.flows import CALL_MANY_CONCURRENCY, Call, CallMany, Emit, Flow, Sleep, Step
from pydantic_dynamo.models import BatchResponse, FilterCommand
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import is_expired
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.retry import RETRYABLE_ERROR_CODES, RetryPolicy

__all__ = [
    "MAX_SEGMENTS",
    "ScanPage",
    "ScanPlan",
    "call_patiently",
    "scan_flow",
    "segment_flow",
]

Item = dict[str, Any]

# DynamoDB's bound on TotalSegments.
MAX_SEGMENTS = 1_000_000


@dataclass(frozen=True)
class ScanPage:
    """One Scan answer of one segment: its live items of the content type, raw, and the
    ``LastEvaluatedKey`` to resume the segment after it (``None``: the segment is done)."""

    segment: int
    items: list[Item]
    last_key: Item | None
    scanned: int  # items DynamoDB read for this page, before any filter


class ScanPlan:
    """The Scan requests of one content type, and how their answers are read.

    ``page_size`` is each request's ``Limit`` (items *read* per page, before filtering;
    DynamoDB's 1 MB pages when ``None``).
    """

    def __init__(
        self,
        core: RepositoryCore[Any],
        *,
        segments: int = 1,
        filters: FilterCommand | Condition | None = None,
        page_size: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= segments <= MAX_SEGMENTS:
            raise ValueError(f"segments must be between 1 and {MAX_SEGMENTS}, got {segments}")
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be a positive integer, got {page_size}")
        self.segments = segments
        self._clock = clock
        wanted = filter_condition(filters) if isinstance(filters, FilterCommand) else filters
        condition = raw_attr(core.partition_key).begins_with(
            core.keys.partition_value(())
        ) & raw_attr(core.sort_key).begins_with(core.keys.sort_bound(()))
        if wanted is not None:
            condition = condition & wanted
        placeholders = Placeholders()
        request: Item = {
            "TableName": core.table_name,
            "FilterExpression": render(condition, core.schema, placeholders),
            "ConsistentRead": core.consistent_reads,
        }
        if page_size is not None:
            request["Limit"] = page_size
        self._request = placeholders.add_to(request)

    def request(self, segment: int, start_key: Item | None) -> Item:
        """The Scan request for ``segment``'s page after ``start_key`` (its first if ``None``)."""
        if not 0 <= segment < self.segments:
            raise ValueError(f"segment must be between 0 and {self.segments - 1}, got {segment}")
        request = dict(self._request)
        if self.segments > 1:
            request["Segment"] = segment
            request["TotalSegments"] = self.segments
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        return request

    def on_response(self, segment: int, response: Item) -> ScanPage:
        """The page a Scan answer holds (items past their TTL left out)."""
        items: list[Item] = response.get("Items", [])
        now = int(self._clock())
        live = [item for item in items if not is_expired(item, now)]
        scanned = int(response.get("ScannedCount", len(items)))
        return ScanPage(segment, live, response.get("LastEvaluatedKey"), scanned)


def call_patiently(call: Call, policy: RetryPolicy) -> Generator[Step, Any, Any]:
    """Perform ``call``, waiting and sending it again while the answer is throttling or a
    transient server error (for requests that may be resent as they are: reads, idempotent
    writes); returns the response, or raises the last error once ``policy`` is exhausted."""
    attempt = 0
    while True:
        try:
            return (yield call)
        except Exception as error:
            retryable = classify(error) is ErrorKind.THROTTLED
            if not retryable and error_code(error) not in RETRYABLE_ERROR_CODES:
                raise
            attempt += 1
            if policy.exhausted(attempt):
                raise
            yield Sleep(policy.delay(attempt))


def segment_flow(
    plan: ScanPlan,
    segment: int,
    start_key: Item | None,
    retry_policy: RetryPolicy,
    *,
    handle: Callable[[ScanPage], Generator[Step, Any, Any]] | None = None,
) -> Flow:
    """Scan one segment from ``start_key`` to its end; emits a :class:`ScanPage` per page, or,
    with ``handle`` (a flow of one page), what ``handle`` returns once it has run.

    Throttled pages are retried (:func:`call_patiently`). A page is emitted once handled, so a
    caller that stops between pages and resumes from the last page's ``last_key`` loses and
    repeats nothing.
    """
    key = start_key
    while True:
        response = yield from call_patiently(Call("scan", plan.request(segment, key)), retry_policy)
        page = plan.on_response(segment, response)
        yield Emit((yield from handle(page)) if handle is not None else page)
        if page.last_key is None:
            return
        key = page.last_key


def scan_flow(
    core: RepositoryCore[Any],
    *,
    segments: int = 1,
    filters: FilterCommand | Condition | None = None,
    limit: int | None = None,
    concurrency: int = CALL_MANY_CONCURRENCY,
) -> Flow:
    """Scan the content type in ``segments`` parallel segments; emits a BatchResponse per page.

    Each step sends the next page of up to ``concurrency`` unfinished segments at once and
    emits their pages in segment order; a segment that ends makes room for the next. Pages a
    filter emptied are emitted too, as ``list`` emits them. ``limit`` caps the items emitted
    in all. The first error of a step is raised once its other pages are emitted.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency}")
    plan = ScanPlan(core, segments=segments, filters=filters)
    pending: dict[int, Item | None] = dict.fromkeys(range(segments))
    remaining = limit
    while pending:
        wave = list(pending)[:concurrency]
        calls = [Call("scan", plan.request(segment, pending[segment])) for segment in wave]
        answers = yield CallMany(calls)
        failure: BaseException | None = None
        for segment, answer in zip(wave, answers, strict=True):
            if isinstance(answer, BaseException):
                failure = failure or answer
                continue
            page = plan.on_response(segment, answer)
            items = page.items if remaining is None else page.items[:remaining]
            yield Emit(BatchResponse(raw_items=items, decode=core.decode))
            if remaining is not None:
                remaining -= len(items)
                if remaining == 0:
                    return
            if page.last_key is None:
                del pending[segment]
            else:
                pending[segment] = page.last_key
        if failure is not None:
            raise failure

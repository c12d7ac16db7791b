"""Per-item rewrites over a scan: the sans-I/O machinery shared by the index backfill and the
schema migration.

An :class:`ItemRewrite` looks at one raw item read by a scan and answers the conditional write
that puts it right (a :class:`Rewrite`), or ``None`` when it is right already; it raises for an
item it cannot read, which is then counted and reported, never written. The write's condition
holds only while the item is as read, so a failed condition means a writer changed it meanwhile
(``changed_meanwhile``), unless the item holds the rewrite's own token (its resend met its
result: ``updated``). :func:`rewrite_segment_flow` runs a rewrite over one scan segment, page
by page, and emits a :class:`RewrittenPage` once every item of a page is handled: that is when
the page's ``last_key`` may be recorded as done (:mod:`pydantic_dynamo.backfill` runs the
segments in threads, with a checkpoint, a progress bar and a rate limit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic_dynamo.aws_errors import error_code, error_response
from pydantic_dynamo.flows import Call, Flow, Sleep, Step
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.progress import Counts
from pydantic_dynamo.rate_limit import TokenBucket
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.scan import ScanPage, ScanPlan, call_patiently, segment_flow
from pydantic_dynamo.write_tokens import is_mine

__all__ = [
    "ItemRewrite",
    "Rewrite",
    "RewrittenPage",
    "Undecodable",
    "rewrite_page_flow",
    "rewrite_segment_flow",
    "scan_job",
]

Item = dict[str, Any]


@dataclass(frozen=True)
class Undecodable:
    """An item left as it is: the model cannot read it, or its rewrite cannot be made."""

    key: dict[str, str]
    reason: str


@dataclass(frozen=True)
class Rewrite:
    """One item's conditional write; ``token`` is the write token it stores, if any (a refusal
    against an item holding it is the write's own resend, applied)."""

    call: Call
    token: str | None = None


@dataclass(frozen=True)
class RewrittenPage:
    """One scan page, every item handled: what was done, and where the segment now stands.
    ``kinds`` counts the page's items per :meth:`ItemRewrite.kind`."""

    segment: int
    last_key: Item | None
    counts: Counts
    undecodable: list[Undecodable] = field(default_factory=list)
    kinds: Mapping[str, int] = field(default_factory=dict)


class ItemRewrite(Protocol):
    """What a pass over a content type's items writes, item by item."""

    @property
    def name(self) -> str:
        """What the report calls the job (``"backfill"``, ``"migration"``)."""

    @property
    def kinds_title(self) -> str | None:
        """What :meth:`kind` counts, for the report (``None``: nothing)."""

    def job(self, segments: int) -> dict[str, Any]:
        """What a checkpoint of this pass belongs to (JSON-serialisable)."""

    def kind(self, raw: Item) -> str | None:
        """The group ``raw`` is counted in (a stored schema version), if any."""

    def rewrite(self, raw: Item) -> Rewrite | None:
        """The write putting ``raw`` right, ``None`` when it is; raises when it cannot be read."""


def scan_job(core: RepositoryCore[Any], segments: int, **what: Any) -> dict[str, Any]:
    """A checkpoint's job for a pass over ``core``'s content type in ``segments``: the table,
    the content type's keys, the segments, and ``what`` the pass writes."""
    return {
        "table": core.table_name,
        "partition": core.keys.partition_value(()),
        "content_type": core.keys.sort_bound(()),
        "segments": segments,
        **what,
    }


def rewrite_page_flow(
    core: RepositoryCore[Any],
    rewriter: ItemRewrite,
    page: ScanPage,
    *,
    retry_policy: RetryPolicy,
    bucket: TokenBucket | None = None,
    dry_run: bool = False,
) -> Generator[Step, Any, RewrittenPage]:
    """Rewrite every item of ``page`` that needs it, one conditional write at a time.

    Throttling is retried (:func:`~pydantic_dynamo.scan.call_patiently`); ``bucket`` paces the
    writes; a dry run counts what it would write and sends nothing.
    """
    undecodable: list[Undecodable] = []
    kinds: Counter[str] = Counter()
    updated = right = changed = 0
    for raw in page.items:
        kind = rewriter.kind(raw)
        if kind is not None:
            kinds[kind] += 1
        try:
            planned = rewriter.rewrite(raw)
        except Exception as error:  # any reason the model, a migration or an index refuses it
            key = {core.partition_key: raw[core.partition_key], core.sort_key: raw[core.sort_key]}
            undecodable.append(Undecodable(core.plain_key(key), f"{type(error).__name__}: {error}"))
            continue
        if planned is None:
            right += 1
            continue
        if dry_run:
            updated += 1
            continue
        if bucket is not None and (wait := bucket.reserve()) > 0:
            yield Sleep(wait)
        try:
            yield from call_patiently(planned.call, retry_policy)
        except Exception as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            stored = error_response(error).get("Item")
            if planned.token is not None and is_mine(stored, planned.token):
                updated += 1
            else:
                changed += 1
        else:
            updated += 1
    counts = Counts(
        scanned=len(page.items),
        updated=updated,
        already_right=right,
        changed_meanwhile=changed,
        undecodable=len(undecodable),
    )
    return RewrittenPage(page.segment, page.last_key, counts, undecodable, dict(kinds))


def rewrite_segment_flow(
    core: RepositoryCore[Any],
    rewriter: ItemRewrite,
    plan: ScanPlan,
    segment: int,
    start_key: Item | None,
    *,
    retry_policy: RetryPolicy,
    bucket: TokenBucket | None = None,
    dry_run: bool = False,
) -> Flow:
    """Scan one segment from ``start_key`` and rewrite each page; emits a
    :class:`RewrittenPage` after each page is fully handled."""

    def handle(page: ScanPage) -> Generator[Step, Any, RewrittenPage]:
        return rewrite_page_flow(
            core, rewriter, page, retry_policy=retry_policy, bucket=bucket, dry_run=dry_run
        )

    return segment_flow(plan, segment, start_key, retry_policy, handle=handle)

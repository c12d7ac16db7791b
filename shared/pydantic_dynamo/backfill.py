"""Backfilling a new index: write the index values onto the items that predate it.

Every write of the library stores the index attributes of its content type's indexes, but an
item written before an index was declared has none, so the index does not list it. Run
:func:`backfill_indexes` (or the command below) once after deploying an index: it scans the
content type's items in parallel segments, and gives each item whose stored index attributes
are not what its model makes them the right ones (see :mod:`pydantic_dynamo.index_repair`).

- **Safe alongside writers.** Each update is conditioned on the item's composing attributes
  being as read; a failed condition means a writer changed the item meanwhile (and wrote its
  index values itself), so it is counted as ``changed_meanwhile`` and left alone.
- **Resumable.** With ``checkpoint=``, a JSON file records each segment's position after every
  fully handled page; a rerun with the same file continues where the last one stopped. Rerunning
  from scratch is safe too: items already right are read, not written.
- **Polite.** Throttling is retried by the client, then with the repository's retry policy;
  ``max_writes_per_second`` caps the updates (a token bucket shared by the segments).
- **Stoppable.** Ctrl-C (or a ``KeyboardInterrupt`` from a progress callback) stops every
  segment after the page it is on; the report says ``interrupted`` and the checkpoint holds
  every finished page.
- **Honest.** Items the model cannot read are counted and their first keys reported; they are
  never written.

Example, against a table ``films`` that holds actors written before the ``by_name`` index::

    repo = SyncDynamoRepository[FilmActor](..., indexes=[by_name])
    report = backfill_indexes(repo, segments=8, checkpoint=Path("by_name.json"))
    assert report.ok, report.summary()

The command does the same for a repository (or a zero-argument function building one) named
as ``module:attribute``, and exits 0 only when every item is right::

    python -m pydantic_dynamo.backfill --repository myapp.repos:actors \\
        --segments 8 --checkpoint by_name.json --rate 500
"""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypedDict, Unpack, cast

from pydantic_dynamo.checkpoint import Checkpoint
from pydantic_dynamo.drivers import iterate
from pydantic_dynamo.flows import CALL_MANY_CONCURRENCY
from pydantic_dynamo.index_repair import IndexRepair
from pydantic_dynamo.ports import DynamoDBPort
from pydantic_dynamo.progress import Counts, ProgressBar, Snapshot, Tally
from pydantic_dynamo.rate_limit import TokenBucket
from pydantic_dynamo.rewrites import ItemRewrite, RewrittenPage, Undecodable, rewrite_segment_flow
from pydantic_dynamo.scan import ScanPlan
from pydantic_dynamo.sync_repository import SyncDynamoRepository

__all__ = [
    "BackfillReport",
    "RewriteOptions",
    "backfill_indexes",
    "command_main",
    "load_repository",
    "main",
    "options_parser",
    "run_command",
    "run_rewrite",
]

# How many undecodable items a report names (all are counted).
MAX_REPORTED_KEYS = 20
# How often the main thread looks up from waiting (so that Ctrl-C is seen at once).
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill (or another pass of per-item rewrites: a migration) did: its counts,
    the undecodable items (the first ones), the errors that stopped segments, whether it was
    interrupted or a dry run, and its items per kind (a migration's: per stored version)."""

    counts: Counts
    segments: int
    segments_done: int
    undecodable: tuple[Undecodable, ...]
    errors: tuple[str, ...]
    interrupted: bool
    dry_run: bool
    elapsed: float
    name: str = "backfill"
    kinds: Mapping[str, int] = field(default_factory=dict)
    kinds_title: str | None = None

    @property
    def complete(self) -> bool:
        """Every segment was scanned to its end (in this run or an earlier one)."""
        return self.segments_done == self.segments and not self.errors

    @property
    def ok(self) -> bool:
        """Complete, and every item readable: the index lists every item it should."""
        return self.complete and self.counts.undecodable == 0

    def summary(self) -> str:
        """The report as a few lines of text."""
        counts = self.counts
        state = (
            "interrupted" if self.interrupted else ("complete" if self.complete else "incomplete")
        )
        verb = "would update" if self.dry_run else "updated"
        lines = [
            f"{self.name} {state}{' (dry run)' if self.dry_run else ''}: "
            f"{self.segments_done}/{self.segments} segments done in {self.elapsed:.1f} s",
            f"scanned {counts.scanned}, {verb} {counts.updated}, "
            f"already right {counts.already_right}, "
            f"changed meanwhile {counts.changed_meanwhile}, undecodable {counts.undecodable}",
        ]
        if self.kinds_title is not None:
            groups = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.kinds.items()))
            lines.append(f"{self.kinds_title}: {groups or 'none'}")
        lines.extend(f"undecodable {item.key}: {item.reason}" for item in self.undecodable)
        lines.extend(f"error: {error}" for error in self.errors)
        return "\n".join(lines)


class _Run:
    """One backfill run's shared state: its segments' threads report here."""

    def __init__(
        self,
        repo: SyncDynamoRepository[Any],
        rewriter: ItemRewrite,
        plan: ScanPlan,
        checkpoint: Checkpoint,
        progress: Callable[[Snapshot], None] | None,
        bucket: TokenBucket | None,
        dry_run: bool,
    ) -> None:
        self.core = repo.core
        self.rewriter = rewriter
        self.client = cast(DynamoDBPort, repo.client)
        self.plan = plan
        self.checkpoint = checkpoint
        self.progress = progress
        self.bucket = bucket
        self.dry_run = dry_run
        self.tally = Tally(plan.segments, done=checkpoint.done)
        self.stop = threading.Event()
        self.interrupted = False
        self.errors: list[str] = []
        self.undecodable: list[Undecodable] = []
        self.kinds: Counter[str] = Counter()
        self._lock = threading.Lock()

    def segment(self, segment: int) -> None:
        """Rewrite one segment from its checkpoint, until its end or a stop."""
        try:
            if self.stop.is_set() or segment in self.checkpoint.done:
                return
            flow = rewrite_segment_flow(
                self.core,
                self.rewriter,
                self.plan,
                segment,
                self.checkpoint.start_key(segment),
                retry_policy=self.core.retry_policy,
                bucket=self.bucket,
                dry_run=self.dry_run,
            )
            for page in iterate(self.client, flow):
                self._handled(cast(RewrittenPage, page))
                if self.stop.is_set():
                    return  # after a whole page: the checkpoint holds it
        except KeyboardInterrupt:
            self.interrupted = True
            self.stop.set()
        except Exception as error:  # reported; the other segments stop after their page
            with self._lock:
                self.errors.append(f"segment {segment}: {type(error).__name__}: {error}")
            self.stop.set()

    def _handled(self, page: RewrittenPage) -> None:
        if not self.dry_run:
            self.checkpoint.advance(page.segment, page.last_key)
        self.tally.add(page.segment, page.counts)
        if page.last_key is None:
            self.tally.finish(page.segment)
        with self._lock:
            room = MAX_REPORTED_KEYS - len(self.undecodable)
            self.undecodable.extend(page.undecodable[: max(room, 0)])
            self.kinds.update(page.kinds)
        if self.progress is not None:
            with self._lock:  # one report at a time, whatever thread calls
                self.progress(self.tally.snapshot())

    def report(self) -> BackfillReport:
        snapshot = self.tally.snapshot()
        return BackfillReport(
            counts=snapshot.total,
            segments=snapshot.segments,
            segments_done=snapshot.segments_done,
            undecodable=tuple(self.undecodable),
            errors=tuple(self.errors),
            interrupted=self.interrupted,
            dry_run=self.dry_run,
            elapsed=snapshot.elapsed,
            name=self.rewriter.name,
            kinds=dict(self.kinds),
            kinds_title=self.rewriter.kinds_title,
        )


def _await(futures: Sequence[Future[None]], run: _Run) -> None:
    """Wait for every segment; on Ctrl-C, stop them after their current page, and wait."""
    try:
        while not all(future.done() for future in futures):
            wait(futures, timeout=_POLL_SECONDS)
    except KeyboardInterrupt:
        run.interrupted = True
        run.stop.set()
        wait(futures)


def run_rewrite(
    repo: SyncDynamoRepository[Any],
    rewriter: ItemRewrite,
    *,
    segments: int = 4,
    checkpoint: Path | None = None,
    progress: bool | Callable[[Snapshot], None] = True,
    max_writes_per_second: float | None = None,
    dry_run: bool = False,
    page_size: int | None = None,
    workers: int | None = None,
) -> BackfillReport:
    """Run ``rewriter`` over every item of ``repo``'s content type (see :func:`backfill_indexes`
    for the options); returns a :class:`BackfillReport`."""
    core = repo.core
    if max_writes_per_second is not None and max_writes_per_second <= 0:
        raise ValueError(f"max_writes_per_second must be positive, got {max_writes_per_second}")
    plan = ScanPlan(core, segments=segments, page_size=page_size)
    saved = Checkpoint.open(checkpoint, rewriter.job(segments))
    bar = ProgressBar() if progress is True else None
    sink: Callable[[Snapshot], None] | None = bar
    if not isinstance(progress, bool):
        sink = progress
    bucket = TokenBucket(max_writes_per_second) if max_writes_per_second is not None else None
    run = _Run(repo, rewriter, plan, saved, sink, bucket, dry_run)
    threads = workers or min(segments, CALL_MANY_CONCURRENCY)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=rewriter.name) as pool:
        futures = [pool.submit(run.segment, segment) for segment in range(segments)]
        _await(futures, run)
    if bar is not None:
        bar.close(run.tally.snapshot())
    return run.report()


class RewriteOptions(TypedDict, total=False):
    """The options of :func:`run_rewrite` a job passes on (see :func:`backfill_indexes`)."""

    segments: int
    checkpoint: Path | None
    progress: bool | Callable[[Snapshot], None]
    max_writes_per_second: float | None
    dry_run: bool
    page_size: int | None
    workers: int | None


def backfill_indexes(
    repo: SyncDynamoRepository[Any], **options: Unpack[RewriteOptions]
) -> BackfillReport:
    """Write the index values of ``repo``'s indexes onto every item of its content type.

    ``segments`` (4) parallel scan segments are handled by ``workers`` threads (default: one per
    segment, at most 8) on the repository's client. ``checkpoint`` is the JSON file recording
    each segment's position (``None``: none; a dry run reads it but never writes it).
    ``progress`` is ``True`` for a bar on stderr, or a function called with a
    :class:`~pydantic_dynamo.progress.Snapshot` after each page. ``page_size`` is each Scan's
    ``Limit`` (DynamoDB's 1 MB pages by default). A dry run counts what it would update and
    writes nothing.

    Returns a :class:`BackfillReport`; raises ``ValueError`` when the repository has no
    indexes and :class:`~pydantic_dynamo.checkpoint.CheckpointMismatchError` when the
    checkpoint file belongs to another backfill.
    """
    core = repo.core
    if not core.indexes:
        raise ValueError(
            f"the repository of {core.keys.sort_bound(())!r} declares no indexes: nothing to "
            "backfill (pass indexes=... to the repository)"
        )
    return run_rewrite(repo, IndexRepair(core), **options)


# -- the command ---------------------------------------------------------------------------------

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def options_parser(
    prog: str | None = None, description: str | None = None
) -> argparse.ArgumentParser:
    """The command's options but the repository's (``records_service.backfill`` reuses them)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--segments", type=int, default=4, help="parallel scan segments (4)")
    parser.add_argument(
        "--checkpoint", type=Path, help="JSON file recording progress; rerun with it to resume"
    )
    parser.add_argument("--rate", type=float, help="at most this many updates a second")
    parser.add_argument("--page-size", type=int, help="items read per Scan page (up to 1 MB)")
    parser.add_argument("--workers", type=int, help="threads (one per segment, at most 8)")
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be updated, write nothing"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_command(
    repo: SyncDynamoRepository[Any],
    options: argparse.Namespace,
    out: IO[str] | None = None,
    *,
    job: Callable[..., BackfillReport] = backfill_indexes,
) -> int:
    """Run ``job`` (:func:`backfill_indexes`, or another with its options: the migration's)
    over ``repo`` with the parsed ``options``, print the report; the exit code."""
    stream = out if out is not None else sys.stderr
    report = job(
        repo,
        segments=options.segments,
        checkpoint=options.checkpoint,
        progress=not options.quiet,
        max_writes_per_second=options.rate,
        dry_run=options.dry_run,
        page_size=options.page_size,
        workers=options.workers,
    )
    print(report.summary(), file=stream)
    if report.interrupted:
        if options.checkpoint is not None:
            print(f"rerun with --checkpoint {options.checkpoint} to continue", file=stream)
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_FAILED


def load_repository(target: str) -> SyncDynamoRepository[Any]:
    """The repository ``module:attribute`` names (the attribute may be a dotted path, and a
    zero-argument function returning the repository)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--repository takes module:attribute, got {target!r}")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    if not isinstance(value, SyncDynamoRepository) and callable(value):
        value = value()
    if not isinstance(value, SyncDynamoRepository):
        raise TypeError(f"{target} is a {type(value).__name__}, not a SyncDynamoRepository")
    return value


def command_main(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    job: Callable[..., BackfillReport],
) -> int:
    """A command running ``job`` over the repository ``--repository module:attribute`` names."""
    parser = options_parser(prog=prog, description=description)
    parser.add_argument(
        "--repository",
        required=True,
        help="module:attribute of a SyncDynamoRepository (or of a function returning one)",
    )
    options = parser.parse_args(argv)
    try:
        repo = load_repository(options.repository)
    except (ImportError, AttributeError, ValueError, TypeError) as error:
        parser.error(f"--repository {options.repository}: {error}")
    return run_command(repo, options, job=job)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pydantic_dynamo.backfill --repository module:attribute [options]``."""
    return command_main(
        argv,
        prog="python -m pydantic_dynamo.backfill",
        description="Write the index values of a repository's indexes onto its existing items.",
        job=backfill_indexes,
    )


if __name__ == "__main__":
    sys.exit(main())

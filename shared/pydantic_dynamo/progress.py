"""Counting a long job's work per segment, and showing it: a live line on a terminal, periodic
lines in a log.

:class:`Tally` accumulates :class:`Counts` from several threads and hands out
:class:`Snapshot`\\ s; :class:`ProgressBar` draws snapshots on a stream (stderr by default).
No dependency: a bar is one line of text.

>>> tally = Tally(segments=2, clock=lambda: 10.0)
>>> tally.add(0, Counts(scanned=100, updated=60, already_right=40))
>>> tally.finish(0)
>>> snapshot = tally.snapshot()
>>> snapshot.total.updated, snapshot.segments_done
(60, 1)
>>> print(ProgressBar.line(snapshot))
scanned 100 | updated 60 | already right 40 | changed meanwhile 0 | undecodable 0 | 0/s | \
segments 1/2 done [0:done 1:0]
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import IO

__all__ = ["Counts", "ProgressBar", "Snapshot", "Tally"]


@dataclass(frozen=True)
class Counts:
    """What a pass over items did with them (``updated``: written, or would be in a dry run)."""

    scanned: int = 0
    updated: int = 0
    already_right: int = 0
    changed_meanwhile: int = 0
    undecodable: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class Snapshot:
    """The counts so far, in all and per segment, and how long the job has run."""

    total: Counts
    per_segment: Mapping[int, Counts]
    done: frozenset[int]
    segments: int
    elapsed: float

    @property
    def segments_done(self) -> int:
        """How many segments are finished."""
        return len(self.done)

    @property
    def rate(self) -> float:
        """Items scanned per second."""
        return self.total.scanned / self.elapsed if self.elapsed > 0 else 0.0


class Tally:
    """Counts per segment, added to from any thread."""

    def __init__(
        self,
        segments: int,
        *,
        done: frozenset[int] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._segments = segments
        self._counts = {segment: Counts() for segment in range(segments)}
        self._done = set(done)
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()

    def add(self, segment: int, counts: Counts) -> None:
        """Add what one segment just did."""
        with self._lock:
            self._counts[segment] = self._counts[segment] + counts

    def finish(self, segment: int) -> None:
        """Mark a segment finished."""
        with self._lock:
            self._done.add(segment)

    def snapshot(self) -> Snapshot:
        """The counts now."""
        with self._lock:
            per_segment = dict(self._counts)
            done = frozenset(self._done)
        total = sum(per_segment.values(), Counts())
        return Snapshot(total, per_segment, done, self._segments, self._clock() - self._started)


class ProgressBar:
    """Draws snapshots on ``stream``: one line redrawn in place at most every ``refresh``
    seconds on a terminal, else a new line at most every ``interval`` seconds.

    Call it with each snapshot (it skips those that come too soon), and :meth:`close` with the
    last one, which is always drawn.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        live: bool | None = None,
        refresh: float = 0.2,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._live = self._stream.isatty() if live is None else live
        self._every = refresh if self._live else interval
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()

    @staticmethod
    def line(snapshot: Snapshot) -> str:
        """One snapshot as a line of text."""
        total = snapshot.total
        segments = " ".join(
            f"{segment}:{'done' if segment in snapshot.done else counts.scanned}"
            for segment, counts in sorted(snapshot.per_segment.items())
        )
        return (
            f"scanned {total.scanned:,} | updated {total.updated:,} | "
            f"already right {total.already_right:,} | "
            f"changed meanwhile {total.changed_meanwhile:,} | undecodable {total.undecodable:,} | "
            f"{snapshot.rate:,.0f}/s | "
            f"segments {snapshot.segments_done}/{snapshot.segments} done [{segments}]"
        )

    def __call__(self, snapshot: Snapshot) -> None:
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self._every:
                return
            self._last = now
            self._draw(snapshot)

    def close(self, snapshot: Snapshot) -> None:
        """Draw the last snapshot and end the line."""
        with self._lock:
            self._draw(snapshot)
            if self._live:
                self._stream.write("\n")
            self._stream.flush()

    def _draw(self, snapshot: Snapshot) -> None:
        if self._live:
            # \r back to the line's start, \x1b[K clears what a longer earlier line left.
            self._stream.write("\r" + self.line(snapshot) + "\x1b[K")
        else:
            self._stream.write(self.line(snapshot) + "\n")
        self._stream.flush()

"""Counting and showing a backfill's progress, and pacing its writes."""

from __future__ import annotations

import io
import threading

import pytest

from pydantic_dynamo.progress import Counts, ProgressBar, Snapshot, Tally
from pydantic_dynamo.rate_limit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def snapshot(scanned: int = 10, *, done: frozenset[int] = frozenset()) -> Snapshot:
    counts = {0: Counts(scanned=scanned, updated=scanned), 1: Counts()}
    return Snapshot(Counts(scanned=scanned, updated=scanned), counts, done, 2, 2.0)


def test_counts_add_field_by_field() -> None:
    total = Counts(1, 2, 3, 4, 5) + Counts(10, 20, 30, 40, 50)
    assert total == Counts(11, 22, 33, 44, 55)


def test_a_tally_adds_from_many_threads() -> None:
    tally = Tally(segments=4)

    def work(segment: int) -> None:
        for _ in range(500):
            tally.add(segment, Counts(scanned=1, already_right=1))
        tally.finish(segment)

    threads = [threading.Thread(target=work, args=(segment,)) for segment in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = tally.snapshot()
    assert result.total == Counts(scanned=2000, already_right=2000)
    assert result.segments_done == 4
    assert all(counts.scanned == 500 for counts in result.per_segment.values())


def test_a_snapshot_rate_is_items_scanned_per_second() -> None:
    clock = Clock()
    tally = Tally(segments=1, clock=clock)
    tally.add(0, Counts(scanned=300))
    clock.now = 2.0
    assert tally.snapshot().rate == 150.0


def test_the_line_shows_each_count_and_each_segment() -> None:
    line = ProgressBar.line(snapshot(1234, done=frozenset({1})))
    assert "scanned 1,234" in line
    assert "updated 1,234" in line
    assert "changed meanwhile 0" in line
    assert "617/s" in line
    assert "segments 1/2 done [0:1234 1:done]" in line


def test_on_a_terminal_the_line_is_redrawn_in_place_at_most_every_refresh() -> None:
    stream, clock = io.StringIO(), Clock()
    bar = ProgressBar(stream, live=True, refresh=0.2, clock=clock)
    bar(snapshot(1))
    clock.now = 0.1
    bar(snapshot(2))  # too soon: skipped
    clock.now = 0.3
    bar(snapshot(3))
    bar.close(snapshot(4))
    text = stream.getvalue()
    assert text.count("\r") == 3
    assert "scanned 2 " not in text
    assert text.endswith("\x1b[K\n")


def test_in_a_log_a_line_is_written_at_most_every_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    bar = ProgressBar(stream, live=False, interval=10.0, clock=clock)
    for second in range(25):
        clock.now = float(second)
        bar(snapshot(second))
    bar.close(snapshot(99))
    lines = stream.getvalue().splitlines()
    assert [line.split(" | ")[0] for line in lines] == [
        "scanned 0",
        "scanned 10",
        "scanned 20",
        "scanned 99",
    ]
    assert "\r" not in stream.getvalue()


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=5, clock=Clock())
    waits = [bucket.reserve() for _ in range(15)]
    assert waits == pytest.approx([0.0] * 5 + [0.1 * n for n in range(1, 11)])


def test_a_token_bucket_refills_while_idle_up_to_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=2, clock=clock)
    bucket.reserve()
    bucket.reserve()
    clock.now = 60.0
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])

"""The backfill's checkpoint file: positions survive a reopen, a finished segment stays done,
another job's file is refused, and a failed save leaves the previous file whole."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pydantic_dynamo.checkpoint import Checkpoint, CheckpointMismatchError

JOB: dict[str, Any] = {"table": "records", "content_type": "actor#", "segments": 3}
KEY = {"PARTITION_KEY": {"S": "app#films#"}, "SORT_KEY": {"S": "actor#a#1"}}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "backfill.json"


def test_a_fresh_checkpoint_starts_every_segment_from_its_start(path: Path) -> None:
    checkpoint = Checkpoint.open(path, JOB)
    assert [checkpoint.start_key(s) for s in range(3)] == [None, None, None]
    assert checkpoint.done == frozenset()
    assert not path.exists(), "nothing is written before the first page"


def test_positions_and_finished_segments_survive_a_reopen(path: Path) -> None:
    checkpoint = Checkpoint.open(path, JOB)
    checkpoint.advance(0, KEY)
    checkpoint.advance(2, KEY)
    checkpoint.advance(2, None)
    reopened = Checkpoint.open(path, JOB)
    assert reopened.start_key(0) == KEY
    assert reopened.start_key(2) is None
    assert reopened.done == frozenset({2})
    assert not reopened.complete


def test_every_segment_done_is_complete(path: Path) -> None:
    checkpoint = Checkpoint.open(path, JOB)
    for segment in range(3):
        checkpoint.advance(segment, None)
    assert Checkpoint.open(path, JOB).complete


def test_a_checkpoint_of_another_job_is_refused(path: Path) -> None:
    Checkpoint.open(path, JOB).advance(0, KEY)
    with pytest.raises(CheckpointMismatchError, match="segments"):
        Checkpoint.open(path, {**JOB, "segments": 4})


def test_a_file_that_is_no_checkpoint_is_refused(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckpointMismatchError, match="not a readable checkpoint"):
        Checkpoint.open(path, JOB)


def test_a_save_leaves_no_temporary_file(path: Path) -> None:
    checkpoint = Checkpoint.open(path, JOB)
    checkpoint.advance(1, KEY)
    checkpoint.advance(1, None)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert json.loads(path.read_text(encoding="utf-8"))["done"] == [1]


def test_a_failed_save_keeps_the_previous_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = Checkpoint.open(path, JOB)
    checkpoint.advance(0, KEY)
    before = path.read_bytes()

    def crash(source: str, target: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        checkpoint.advance(0, None)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_checkpoint_without_a_path_keeps_positions_in_memory() -> None:
    checkpoint = Checkpoint(None, JOB)
    checkpoint.advance(1, KEY)
    assert checkpoint.start_key(1) == KEY

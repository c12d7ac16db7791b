"""Where each segment of a long scan stands, kept in a JSON file so that a rerun continues.

A :class:`Checkpoint` records, per segment, the ``LastEvaluatedKey`` after which the next page
starts, or that the segment is done. Each :meth:`~Checkpoint.advance` rewrites the file
atomically (a temporary file in the same folder, flushed to disk, renamed over the old one),
so a crash leaves the previous state or the new one, never half of one. The file names the job
it belongs to (:attr:`Checkpoint.job`: the table, the content type, the number of segments,
what is written); opening it for another job raises :class:`CheckpointMismatchError`, since a
key of segment 3 of 4 means nothing to a scan in 8 segments.

>>> import tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "backfill.json"
>>> job = {"table": "records", "segments": 2}
>>> checkpoint = Checkpoint.open(path, job)
>>> checkpoint.advance(0, {"pk": {"S": "a"}}); checkpoint.advance(1, None)
>>> reopened = Checkpoint.open(path, job)
>>> reopened.start_key(0), reopened.done
({'pk': {'S': 'a'}}, frozenset({1}))
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic_dynamo.exceptions import PydanticDynamoError

__all__ = ["Checkpoint", "CheckpointMismatchError"]

_FORMAT = 1

Item = dict[str, Any]


class CheckpointMismatchError(PydanticDynamoError, ValueError):
    """The checkpoint file belongs to another job (or is not a checkpoint); ``path`` names it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"checkpoint {path}: {reason}")
        self.path = path


class Checkpoint:
    """Segment positions of one job, saved to ``path`` (kept in memory only when ``None``)."""

    def __init__(
        self,
        path: Path | None,
        job: Mapping[str, Any],
        positions: Mapping[int, Item | None] | None = None,
        done: frozenset[int] = frozenset(),
    ) -> None:
        segments = job.get("segments")
        if not isinstance(segments, int) or segments < 1:
            raise ValueError("a checkpoint's job names its number of segments (a positive int)")
        self.path = path
        self.job = dict(job)
        self.segments = segments
        self._positions: dict[int, Item | None] = dict(positions or {})
        self._done = set(done)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path | None, job: Mapping[str, Any]) -> Checkpoint:
        """The checkpoint saved at ``path`` for ``job``, or a fresh one when there is none."""
        if path is None or not path.exists():
            return cls(path, job)
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            form, saved_job = saved["format"], saved["job"]
            positions = {int(s): key for s, key in saved["positions"].items()}
            done = frozenset(int(segment) for segment in saved["done"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CheckpointMismatchError(path, f"not a readable checkpoint ({error})") from None
        if form != _FORMAT:
            raise CheckpointMismatchError(path, f"unknown format {form!r}")
        if saved_job != json.loads(json.dumps(dict(job))):
            raise CheckpointMismatchError(
                path,
                f"it is for {saved_job}, not {dict(job)}; use another file, or delete it to "
                "start again",
            )
        return cls(path, job, positions, done)

    @property
    def done(self) -> frozenset[int]:
        """The finished segments."""
        with self._lock:
            return frozenset(self._done)

    @property
    def complete(self) -> bool:
        """Whether every segment is finished."""
        return len(self.done) == self.segments

    def start_key(self, segment: int) -> Item | None:
        """The key segment ``segment`` resumes after (``None``: from its start)."""
        with self._lock:
            return self._positions.get(segment)

    def advance(self, segment: int, last_key: Item | None) -> None:
        """Record that ``segment`` is handled up to ``last_key`` (``None``: to its end); save."""
        with self._lock:
            if last_key is None:
                self._done.add(segment)
                self._positions.pop(segment, None)
            else:
                self._positions[segment] = last_key
            state = {
                "format": _FORMAT,
                "job": self.job,
                "positions": {str(s): key for s, key in sorted(self._positions.items())},
                "done": sorted(self._done),
            }
            if self.path is not None:
                _write_atomically(self.path, json.dumps(state, indent=1, sort_keys=True))


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by a file holding ``text``, in one rename."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""A one-line progress bar on stderr, redrawn in place at most ten times a second.

Drawn only when the stream is a terminal (a log file or a pipe gets no control characters);
``close()`` ends the line. No dependency: a tqdm would do, but this is all the feeder needs.

>>> import io
>>> bar = ProgressBar(total=4, stream=io.StringIO(), enabled=True)
>>> bar.advance(2)
>>> bar.render()[:30]
'feeding [##############-------'
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 28
_REDRAW_SECONDS = 0.1


class ProgressBar:
    """Counts work done out of ``total`` (``None`` when unknown) and shows it."""

    def __init__(
        self,
        total: int | None,
        *,
        label: str = "feeding",
        unit: str = "lines",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = total
        self.done = 0
        self.label = label
        self.unit = unit
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._started = time.monotonic()
        self._drawn_at = 0.0

    def render(self) -> str:
        """The bar's text as it stands."""
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            fraction = min(1.0, self.done / self.total)
            filled = round(_WIDTH * fraction)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            return (
                f"{self.label} [{bar}] {fraction:4.0%} {self.done}/{self.total} {self.unit} "
                f"{elapsed:5.1f} s {rate:,.0f}/s"
            )
        return f"{self.label} {self.done} {self.unit} {elapsed:5.1f} s {rate:,.0f}/s"

    def _draw(self) -> None:
        self._stream.write("\r" + self.render() + "\x1b[K")
        self._stream.flush()
        self._drawn_at = time.monotonic()

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more units done; redraw if it is time."""
        self.done += count
        if self._enabled and time.monotonic() - self._drawn_at >= _REDRAW_SECONDS:
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self._enabled:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

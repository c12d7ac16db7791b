"""A token bucket shared by threads: at most ``rate`` operations a second, in bursts of ``burst``.

:meth:`TokenBucket.reserve` takes a token and answers how long to wait before using it, so the
waiting stays with the caller (a flow yields it as a ``Sleep``) and the bucket is pure
arithmetic on a clock.

>>> now = [0.0]
>>> bucket = TokenBucket(rate=2.0, burst=1, clock=lambda: now[0])
>>> bucket.reserve(), bucket.reserve(), bucket.reserve()
(0.0, 0.5, 1.0)
>>> now[0] = 10.0
>>> bucket.reserve()
0.0
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst`` (default: one second's worth)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; the seconds to wait before the operation it pays for."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

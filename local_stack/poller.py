"""A background thread calling ``poll_once`` until stopped: the shape of every local poller.

The queue pollers (``event_source``), the stream poller (``stream_source``) and the bus log
(``bus_log``) each say what one poll does; this runs it, sleeps ``idle_seconds`` after a poll
that found nothing, survives a failing poll (logged, retried after a second) and stops after
the poll in hand.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

__all__ = ["Poller"]

_log = logging.getLogger("local_stack.poller")


class Poller(ABC):
    """Runs :meth:`poll_once` in a daemon thread named ``thread_name``."""

    idle_seconds: float = 0.0  # a poll that blocks itself (an SQS long poll) needs no more

    def __init__(self, thread_name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    @abstractmethod
    def poll_once(self) -> int:
        """One poll; how many messages or records it handled."""

    def start(self) -> None:
        """Start polling in a background thread."""
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the poller to stop after the poll in hand; returns at once."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the poll in hand and wait for the thread (at most ``timeout`` seconds)."""
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                handled = self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return
                _log.exception("%s: polling failed; retrying in 1 s", self._thread.name)
                self._stop.wait(1.0)
                continue
            if not handled and self.idle_seconds:
                self._stop.wait(self.idle_seconds)

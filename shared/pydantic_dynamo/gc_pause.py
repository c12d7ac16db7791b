"""Pausing Python's cyclic garbage collector while a large response becomes Python objects.

Turning a DynamoDB page into models allocates tens of thousands of dicts, lists and models, none
of them in a reference cycle. Every 700 allocations start a collection, and as the heap grows
some of those are full collections that walk every object the process holds. Pausing the
collector while a page is parsed and decoded saves that CPU, in one read and in a loop where
the deferred collections are paid inside the timing (``python -m benchmarks.gc_pause_bench``
measures both; the figures are in docs/lean-transport.md). Nothing is lost while paused: the
objects are tracked as usual and the first collection after the pause sees them.

Only the collector's automatic runs are paused, only while the library parses or decodes a large
response, and only when the collector was enabled: nested and concurrent pauses (threads) share
one count, and the collector is enabled again when the last one ends (were another thread to
call ``gc.disable()`` meanwhile, that end would enable it again). The pause is process-wide: while
one thread parses, no thread's allocations start a collection. A child forked during a pause
starts with the collector as it was before it. ``PYDANTIC_DYNAMO_PAUSE_GC=0`` in the environment
turns pausing off.

>>> import gc
>>> with paused_gc():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PAUSE_ENV", "paused_gc"]

PAUSE_ENV = "PYDANTIC_DYNAMO_PAUSE_GC"
# Whether pausing is on (read once, at import; tests may set it).
enabled = os.environ.get(PAUSE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")

_lock = threading.Lock()
_depth = 0
_we_disabled = False


def _after_fork_in_child() -> None:
    # A fork inside another thread's pause leaves the child with the count and no thread to
    # end it: start the child afresh, with the collector enabled if a pause had disabled it.
    global _lock, _depth, _we_disabled
    _lock = threading.Lock()
    if _depth and _we_disabled:
        gc.enable()
    _depth, _we_disabled = 0, False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause automatic collections for the ``with`` block (see the module doc)."""
    global _depth, _we_disabled
    if not enabled:
        yield
        return
    with _lock:
        if _depth == 0:
            _we_disabled = gc.isenabled()
            if _we_disabled:
                gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _we_disabled:
                _we_disabled = False
                gc.enable()

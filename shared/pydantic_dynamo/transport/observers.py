"""Process-wide observers of the lean clients' AWS calls (tracing, call recording, metrics).

Every lean client (DynamoDB's :class:`~pydantic_dynamo.transport.LeanClient` and EventBridge's
:class:`~pydantic_dynamo.transport.LeanEventsClient`) tells each registered observer when an
API call starts and when it ends; one call is the whole of its tries, so ``retries`` says how
many times it was sent again. With no observer registered a call pays one falsy check; an
observer's own exception never breaks the call (it is logged at debug level and dropped).

>>> class Recorder:
...     def __init__(self) -> None:
...         self.calls: list[str] = []
...     def start(self, call: CallInfo) -> None:
...         return None
...     def finish(self, started, call, *, status, request_id, retries, error) -> None:
...         self.calls.append(f"{call.service}:{call.operation}:{status}")
>>> recorder = Recorder()
>>> add_observer(recorder)
>>> started = notify_start(CallInfo("dynamodb", "GetItem", "eu-west-1", {}))
>>> notify_finish(started, status=200, request_id="R1", retries=0, error=None)
>>> remove_observer(recorder)
>>> recorder.calls
['dynamodb:GetItem:200']
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "CallInfo",
    "CallObserver",
    "Started",
    "add_observer",
    "notify_finish",
    "notify_start",
    "observers",
    "remove_observer",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One API call: the service's signing name, the operation, the region, the parameters."""

    service: str  # the signing name: "dynamodb", "events"
    operation: str  # "PutItem", "PutEvents", ...
    region: str
    params: Mapping[str, Any]  # the API parameters as the caller gave them


class CallObserver(Protocol):
    """What an observer implements: ``start``'s return value is passed to ``finish``."""

    def start(self, call: CallInfo) -> Any:
        """A call is about to be sent (its first try)."""

    def finish(
        self,
        started: Any,
        call: CallInfo,
        *,
        status: int | None,
        request_id: str | None,
        retries: int,
        error: BaseException | None,
    ) -> None:
        """The call ended: the HTTP status of its last answer (``None`` when none came), its
        request id, how many times it was sent again, and the error it raised (if any)."""


# A tuple replaced whole under the lock: readers never lock, and never see it half-changed.
_observers: tuple[CallObserver, ...] = ()
_lock = threading.Lock()


def add_observer(observer: CallObserver) -> None:
    """Register ``observer`` for every lean client's calls (once, however often added)."""
    global _observers
    with _lock:
        if not any(existing is observer for existing in _observers):
            _observers = (*_observers, observer)


def remove_observer(observer: CallObserver) -> None:
    """Stop notifying ``observer`` (nothing happens if it was not registered)."""
    global _observers
    with _lock:
        _observers = tuple(existing for existing in _observers if existing is not observer)


def observers() -> tuple[CallObserver, ...]:
    """The registered observers (empty, hence falsy, when there are none)."""
    return _observers


class Started:
    """What :func:`notify_start` returns for :func:`notify_finish`: each observer with the
    value its ``start`` returned."""

    __slots__ = ("call", "entries")

    def __init__(self, call: CallInfo, entries: list[tuple[CallObserver, Any]]) -> None:
        self.call = call
        self.entries = entries


def notify_start(call: CallInfo) -> Started:
    """Tell every observer that ``call`` starts."""
    entries: list[tuple[CallObserver, Any]] = []
    for observer in _observers:
        try:
            entries.append((observer, observer.start(call)))
        except Exception:
            _log.debug("call observer %r failed to start", observer, exc_info=True)
    return Started(call, entries)


def notify_finish(
    started: Started,
    *,
    status: int | None,
    request_id: str | None,
    retries: int,
    error: BaseException | None,
) -> None:
    """Tell the observers that saw the call start how it ended (latest started, first told)."""
    for observer, value in reversed(started.entries):
        try:
            observer.finish(
                value,
                started.call,
                status=status,
                request_id=request_id,
                retries=retries,
                error=error,
            )
        except Exception:
            _log.debug("call observer %r failed to finish", observer, exc_info=True)

"""The garbage-collector pause: on only while parsing or decoding large responses, then restored."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pydantic_dynamo import gc_pause
from pydantic_dynamo.gc_pause import paused_gc
from pydantic_dynamo.models import BatchResponse
from pydantic_dynamo.transport.wire import decode_body, encode_body


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    assert gc.isenabled(), "a test left the collector disabled"


def test_the_collector_is_paused_inside_and_enabled_after() -> None:
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause ended the outer one"
    assert gc.isenabled()


def test_an_error_inside_still_enables_it_again() -> None:
    with pytest.raises(ZeroDivisionError), paused_gc():
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_the_user_disabled_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_turned_off_it_leaves_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc_pause, "enabled", False)
    with paused_gc():
        assert gc.isenabled()


def test_overlapping_pauses_in_threads_enable_it_once_all_have_ended() -> None:
    inside = threading.Barrier(3)
    leave = threading.Event()

    def worker() -> None:
        with paused_gc():
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert not gc.isenabled()
    with paused_gc():
        leave.set()
        for thread in threads:
            thread.join()
        assert not gc.isenabled(), "the threads' pauses ended this one"
    assert gc.isenabled()


def _observing_decode(seen: list[bool]) -> Any:
    def decode(raw: dict[str, Any]) -> Any:
        seen.append(gc.isenabled())
        return raw

    return decode


def test_large_pages_decode_paused_and_small_ones_do_not() -> None:
    seen: list[bool] = []
    BatchResponse(raw_items=[{}] * 100, decode=_observing_decode(seen)).contents  # noqa: B018
    assert seen == [False] * 100
    seen.clear()
    BatchResponse(raw_items=[{}] * 3, decode=_observing_decode(seen)).contents  # noqa: B018
    assert seen == [True] * 3


def test_large_bodies_parse_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic_dynamo.transport import wire

    states: list[bool] = []
    real_loads = wire._loads

    def loads(body: bytes) -> Any:
        states.append(gc.isenabled())
        return real_loads(body)

    monkeypatch.setattr(wire, "_loads", loads)
    big = {"Items": [{"k": {"S": "x" * 100}}] * 1000}
    assert decode_body(encode_body(big)) == big
    assert decode_body(encode_body({"Count": 1})) == {"Count": 1}
    assert states == [False, True]


def test_a_child_forked_during_a_pause_starts_with_the_collector_enabled() -> None:
    import os

    inside = threading.Event()
    leave = threading.Event()

    def worker() -> None:
        with paused_gc():
            inside.set()
            leave.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait()
    try:
        pid = os.fork()
        if pid == 0:  # the child: the pausing thread does not exist here
            ok = gc.isenabled()
            with paused_gc():
                ok = ok and not gc.isenabled()
            os._exit(0 if ok and gc.isenabled() else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        leave.set()
        thread.join()
    assert os.waitstatus_to_exitcode(status) == 0

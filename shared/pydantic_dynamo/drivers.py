"""The sync driver: performs a flow's steps with a boto3 client (threads for ``CallMany``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic_dynamo.flows import CALL_MANY_CONCURRENCY, Call, CallMany, Emit, Flow, Sleep

__all__ = ["iterate", "run"]


def _call(client: Any, call: Call) -> Any:
    return getattr(client, call.operation)(**call.request)


def _call_many(client: Any, step: CallMany) -> list[Any]:
    def attempt(call: Call) -> Any:
        try:
            return _call(client, call)
        except Exception as error:  # handed to the flow, which decides
            return error

    if len(step.calls) == 1:
        return [attempt(step.calls[0])]
    with ThreadPoolExecutor(max_workers=min(CALL_MANY_CONCURRENCY, len(step.calls))) as pool:
        return list(pool.map(attempt, step.calls))


def iterate(client: Any, flow: Flow) -> Iterator[Any]:
    """Run ``flow``, yielding what it emits; the generator's return value is the flow's."""
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            step = flow.throw(throw) if throw is not None else flow.send(send)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        send, throw = None, None
        if type(step) is Call:
            try:
                send = _call(client, step)
            except Exception as error:
                throw = error
        elif type(step) is Emit:
            yield step.value
        elif type(step) is Sleep:
            time.sleep(step.seconds)
        elif type(step) is CallMany:
            send = _call_many(client, step)
        else:  # pragma: no cover - flows yield only the steps above
            raise TypeError(f"unknown step {step!r}")


def run(client: Any, flow: Flow) -> Any:
    """Run ``flow`` to its end and return its result (it must emit nothing)."""
    steps = iterate(client, flow)
    try:
        while True:
            value = next(steps)
            raise RuntimeError(f"flow emitted {value!r} where none was expected")
    except StopIteration as stop:
        return stop.value

"""Rewriting a flow's steps on their way to the driver: what it sends, reads and emits.

Projected reads and counts are the library's own flows with a few steps changed (a
``ProjectionExpression`` added to each request, ``Select=COUNT``, pages decoded into another
model or not emitted at all): :func:`rewrite` passes every step of a flow on through the
functions given, so those operations reuse the flows instead of copying them.

>>> def flow():
...     response = yield Call("get_item", {"Key": "k"})
...     yield Emit(response["Item"])
...     return "done"
>>> def loud(call):
...     return Call(call.operation, {**call.request, "Loud": True})
>>> seen = []
>>> steps = rewrite(flow(), request=loud, response=lambda call, answer: seen.append(answer),
...                 emit=lambda value: value * 2)
>>> next(steps).request
{'Key': 'k', 'Loud': True}
>>> steps.send({"Item": 21}).value, seen
(42, [{'Item': 21}])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_dynamo.flows import Call, CallMany, Emit, Flow

__all__ = ["rewrite"]


def rewrite(
    flow: Flow,
    *,
    request: Callable[[Call], Call] | None = None,
    response: Callable[[Call, Any], None] | None = None,
    emit: Callable[[Any], Any] | None = None,
) -> Flow:
    """``flow`` with each call replaced by ``request(call)``, each response shown to
    ``response(call, answer)`` before the flow reads it, and each emitted value replaced by
    ``emit(value)`` (``None``: not emitted). Returns what ``flow`` returns; errors reach it as
    they would."""
    send: Any = None
    throw: BaseException | None = None
    try:
        while True:
            try:
                step = flow.throw(throw) if throw is not None else flow.send(send)
            except StopIteration as stop:
                return stop.value
            send, throw = None, None
            if type(step) is Call:
                call = request(step) if request is not None else step
                try:
                    send = yield call
                except Exception as error:  # the flow decides what an error means
                    throw = error
                    continue
                if response is not None:
                    response(call, send)
            elif type(step) is CallMany:
                calls = [request(c) for c in step.calls] if request is not None else step.calls
                send = yield CallMany(calls)
                if response is not None:
                    for call, answer in zip(calls, send, strict=True):
                        if not isinstance(answer, BaseException):
                            response(call, answer)
            elif type(step) is Emit:
                value = emit(step.value) if emit is not None else step.value
                if value is not None:
                    yield Emit(value)
            else:
                send = yield step
    finally:
        flow.close()

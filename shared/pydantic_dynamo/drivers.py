"""The sync driver: performs a flow's steps with a DynamoDB client (threads for ``CallMany``).

The client is any :class:`~pydantic_dynamo.ports.DynamoDBPort` (the lean client, boto3's);
a step names its method, which is looked up in the port's table of data-plane methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic_dynamo.flows import CALL_MANY_CONCURRENCY, Call, CallMany, Emit, Flow, Sleep
from pydantic_dynamo.ports import DynamoDBPort, Operation

__all__ = ["iterate", "run"]

# The port's method for each operation a flow may name.
_METHODS: dict[str, Callable[[DynamoDBPort], Operation]] = {
    "put_item": lambda client: client.put_item,
    "get_item": lambda client: client.get_item,
    "update_item": lambda client: client.update_item,
    "delete_item": lambda client: client.delete_item,
    "query": lambda client: client.query,
    "scan": lambda client: client.scan,
    "batch_get_item": lambda client: client.batch_get_item,
    "batch_write_item": lambda client: client.batch_write_item,
    "transact_get_items": lambda client: client.transact_get_items,
    "transact_write_items": lambda client: client.transact_write_items,
}


def _call(client: DynamoDBPort, call: Call) -> Any:
    return _METHODS[call.operation](client)(**call.request)


def _call_many(client: DynamoDBPort, step: CallMany) -> list[Any]:
    def attempt(call: Call) -> Any:
        try:
            return _call(client, call)
        except Exception as error:  # handed to the flow, which decides
            return error

    if len(step.calls) == 1:
        return [attempt(step.calls[0])]
    with ThreadPoolExecutor(max_workers=min(CALL_MANY_CONCURRENCY, len(step.calls))) as pool:
        return list(pool.map(attempt, step.calls))


def iterate(client: DynamoDBPort, flow: Flow) -> Iterator[Any]:
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


def run(client: DynamoDBPort, flow: Flow) -> Any:
    """Run ``flow`` to its end and return its result (it must emit nothing)."""
    steps = iterate(client, flow)
    try:
        while True:
            value = next(steps)
            raise RuntimeError(f"flow emitted {value!r} where none was expected")
    except StopIteration as stop:
        return stop.value

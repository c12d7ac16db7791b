"""Every repository operation as a sans-I/O flow: a generator of steps that a driver performs.

A flow yields :class:`Call` (send this request, send me the response or throw me the error),
:class:`CallMany` (send these concurrently; send me a list of responses or errors),
:class:`Sleep` (wait) and :class:`Emit` (hand this page to the caller), and returns its result.
The sync driver (:mod:`pydantic_dynamo.drivers`) and the async one perform the steps with their
own clients, so the operations are written once.

This module holds the steps. The flows are :mod:`pydantic_dynamo.read_flows` (get, batch get,
list, index queries), :mod:`pydantic_dynamo.write_flows` (put, batch put, the deletes, and the
conditional write under each single-item write), :mod:`pydantic_dynamo.update_flows` (update
and save, with their retries) and :mod:`pydantic_dynamo.transaction_flows`.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

__all__ = [
    "CALL_MANY_CONCURRENCY",
    "Call",
    "CallMany",
    "Emit",
    "Flow",
    "Sleep",
]

Item = dict[str, Any]


class Call:
    """Send ``request`` with the client method ``operation`` (``"put_item"``, ``"query"``, ...)."""

    __slots__ = ("operation", "request")

    def __init__(self, operation: str, request: Item) -> None:
        self.operation = operation
        self.request = request


# How many calls of one CallMany step either driver sends at once (write-once's conditional
# puts). boto3's default connection pool holds 10 connections; the lean transport keeps 10.
CALL_MANY_CONCURRENCY = 8


class CallMany:
    """Send every call, concurrently if the driver can; the answer is a list in the same order,
    each entry a response or the exception that call raised."""

    __slots__ = ("calls",)

    def __init__(self, calls: Sequence[Call]) -> None:
        self.calls = calls


class Sleep:
    """Wait ``seconds`` before the next step."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Emit:
    """Hand ``value`` (a page) to the caller of a reading operation."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Step = Call | CallMany | Sleep | Emit
Flow = Generator[Step, Any, Any]

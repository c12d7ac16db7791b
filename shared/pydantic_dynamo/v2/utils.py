"""0.4.2's ``pydantic_dynamo.v2.utils``: helpers for async iteration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from pydantic_dynamo.models import BatchResponse, ObjT, PartitionedContent

__all__ = ["AIter", "list_contents_from_batches", "list_items_from_batches"]

T = TypeVar("T")


class AIter(AsyncIterator[T], Generic[T]):
    """An async iterator over a list (handy in tests and for ``write`` inputs).

    >>> import asyncio
    >>> async def collect() -> list[int]:
    ...     return [x async for x in AIter([1, 2])]
    >>> asyncio.run(collect())
    [1, 2]
    """

    def __init__(self, data: list[T]) -> None:
        self._data = data
        self._index = -1

    def __aiter__(self) -> AIter[T]:
        self._index = -1
        return self

    async def __anext__(self) -> T:
        self._index += 1
        if self._index >= len(self._data):
            raise StopAsyncIteration
        return self._data[self._index]


async def list_contents_from_batches(
    batches: AsyncIterator[BatchResponse[ObjT]],
) -> list[PartitionedContent[ObjT]]:
    """Every content of every batch, as one list."""
    return [content async for response in batches for content in response.contents]


async def list_items_from_batches(batches: AsyncIterator[BatchResponse[ObjT]]) -> list[ObjT]:
    """Every model of every batch, as one list."""
    return [content.item for content in await list_contents_from_batches(batches)]

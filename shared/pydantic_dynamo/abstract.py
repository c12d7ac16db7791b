"""0.4.2's abstract repositories: the surface a repository offers, async and sync.

``DynamoRepository`` and ``SyncDynamoRepository`` subclass them; code written against them
(a write-once wrapper, a service layer, an in-memory fake for tests) works with either the
library's repositories or a user's own implementation. The method sets and signatures are
0.4.2's (``pydantic_dynamo.v2.models``), except that ``update`` may return the updated content
(the library's repositories do; 0.4.2's returned ``None``).

A user's implementation (an in-memory fake for tests, say) subclasses one of them and
implements every abstract method; the library's own subclass them too:

>>> from pydantic_dynamo import SyncDynamoRepository
>>> issubclass(SyncDynamoRepository, SyncAbstractRepository)
True
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Generic

from pydantic_dynamo.models import (
    BatchResponse,
    FilterCommand,
    GetResponse,
    ObjT,
    PartitionedContent,
    UpdateCommand,
)

__all__ = [
    "AbstractRepository",
    "ReadOnlyAbstractRepository",
    "SyncAbstractRepository",
    "SyncReadOnlyAbstractRepository",
]

# 0.4.2's spelling of ids and keys (the library's repositories also take a plain string).
_Ids = Sequence[str] | None
_RequestIds = tuple[_Ids, _Ids]


class ReadOnlyAbstractRepository(AbstractAsyncContextManager[Any], Generic[ObjT]):
    """The async reads: ``get``, ``get_batch``, ``list`` and ``list_between``.

    An async context manager too (``async with repo: ...``): ``__aexit__`` is abstract.
    """

    @abstractmethod
    async def get(self, partition_id: _Ids, content_id: _Ids) -> GetResponse[ObjT]:
        """One content by key; ``content`` is ``None`` when nothing is stored."""

    @abstractmethod
    def get_batch(self, request_ids: Sequence[_RequestIds]) -> AsyncIterator[BatchResponse[ObjT]]:
        """Many contents by key (``(partition_ids, content_ids)`` pairs), batch by batch."""

    @abstractmethod
    def list(
        self,
        partition_id: _Ids,
        content_prefix: _Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> AsyncIterator[BatchResponse[ObjT]]:
        """The contents whose content ids start with ``content_prefix``, in sort key order."""

    @abstractmethod
    def list_between(
        self,
        partition_id: _Ids,
        content_start: _Ids,
        content_end: _Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> AsyncIterator[BatchResponse[ObjT]]:
        """The contents whose content ids sort between the bounds, inclusive."""


class AbstractRepository(ReadOnlyAbstractRepository[ObjT]):
    """The async reads and writes: adds ``put``, ``put_batch``, ``update`` and ``delete``."""

    @abstractmethod
    async def put(self, content: PartitionedContent[ObjT]) -> None:
        """Store one content, replacing any with the same key."""

    @abstractmethod
    async def put_batch(self, contents: Iterable[PartitionedContent[ObjT]]) -> None:
        """Store many contents."""

    @abstractmethod
    async def update(
        self,
        partition_id: _Ids,
        content_id: _Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> PartitionedContent[ObjT] | None:
        """Apply ``command`` to one stored content."""

    @abstractmethod
    async def delete(self, partition_id: _Ids, content_prefix: _Ids) -> None:
        """Delete every content whose content ids start with ``content_prefix``."""


class SyncReadOnlyAbstractRepository(AbstractContextManager[Any], Generic[ObjT]):
    """The sync reads: ``get``, ``get_batch``, ``list`` and ``list_between``.

    A context manager too (``with repo: ...``): ``__exit__`` is abstract.
    """

    @abstractmethod
    def get(self, partition_id: _Ids, content_id: _Ids) -> GetResponse[ObjT]:
        """One content by key; ``content`` is ``None`` when nothing is stored."""

    @abstractmethod
    def get_batch(self, request_ids: Sequence[_RequestIds]) -> Iterator[BatchResponse[ObjT]]:
        """Many contents by key (``(partition_ids, content_ids)`` pairs), batch by batch."""

    @abstractmethod
    def list(
        self,
        partition_id: _Ids,
        content_prefix: _Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """The contents whose content ids start with ``content_prefix``, in sort key order."""

    @abstractmethod
    def list_between(
        self,
        partition_id: _Ids,
        content_start: _Ids,
        content_end: _Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> Iterator[BatchResponse[ObjT]]:
        """The contents whose content ids sort between the bounds, inclusive."""


class SyncAbstractRepository(SyncReadOnlyAbstractRepository[ObjT]):
    """The sync reads and writes: adds ``put``, ``put_batch``, ``update`` and ``delete``."""

    @abstractmethod
    def put(self, content: PartitionedContent[ObjT]) -> None:
        """Store one content, replacing any with the same key."""

    @abstractmethod
    def put_batch(self, contents: Iterable[PartitionedContent[ObjT]]) -> None:
        """Store many contents."""

    @abstractmethod
    def update(
        self,
        partition_id: _Ids,
        content_id: _Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> PartitionedContent[ObjT] | None:
        """Apply ``command`` to one stored content."""

    @abstractmethod
    def delete(self, partition_id: _Ids, content_prefix: _Ids) -> None:
        """Delete every content whose content ids start with ``content_prefix``."""

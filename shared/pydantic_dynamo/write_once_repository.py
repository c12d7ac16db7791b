"""The write-once wrappers: ``SyncWriteOnceRepository`` and 0.4.2's async ``WriteOnceRepository``.

Each wraps a repository and writes only the contents that are new or changed, returning exactly
those it wrote. Over the library's own repositories they run the race-free algorithm of
:mod:`pydantic_dynamo.write_once` (conditional writes, so concurrent writers report each
content once). Over any other implementation of the abstract repositories (a user's in-memory
fake, say) they run 0.4.2's algorithm through the abstract methods alone:

1. the inputs are deduplicated by key (the last one for a key wins);
2. the stored contents are read with ``get_batch``;
3. an input whose stored content holds the same model and expiry is skipped;
4. the others are stored with ``put_batch``, each with its version moved on (the stored
   version plus 1, or 1 for a new key), and returned as written.

That generic path is not race-free: between the read and the write another writer may store
the same content, and both report it.

The async repository is imported only when an async wrapper is built, so the sync path never
loads asyncio.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING, Generic

from pydantic_dynamo.abstract import AbstractRepository, SyncAbstractRepository
from pydantic_dynamo.models import ObjT, PartitionedContent
from pydantic_dynamo.sync_repository import SyncDynamoRepository
from pydantic_dynamo.write_once import write_once_flow

if TYPE_CHECKING:
    from pydantic_dynamo.async_repository import DynamoRepository

__all__ = ["SyncWriteOnceRepository", "WriteOnceRepository"]

_Key = tuple[tuple[str, ...], tuple[str, ...]]


def _key(content: PartitionedContent[ObjT]) -> _Key:
    return tuple(content.partition_ids), tuple(content.content_ids)


def _latest_by_key(
    contents: Iterable[PartitionedContent[ObjT]],
) -> dict[_Key, PartitionedContent[ObjT]]:
    latest: dict[_Key, PartitionedContent[ObjT]] = {}
    for content in contents:
        latest[_key(content)] = content
    return latest


def _request_ids(
    latest: dict[_Key, PartitionedContent[ObjT]],
) -> list[tuple[list[str], list[str]]]:
    return [(list(partition_ids), list(content_ids)) for partition_ids, content_ids in latest]


def _to_write(
    latest: dict[_Key, PartitionedContent[ObjT]],
    stored: Iterable[PartitionedContent[ObjT]],
) -> list[PartitionedContent[ObjT]]:
    """The new or changed inputs, each carrying the version it is written with."""
    stored_by_key = {_key(content): content for content in stored}
    changed: list[PartitionedContent[ObjT]] = []
    for key, content in latest.items():
        existing = stored_by_key.get(key)
        if existing is None:
            version = 1
        elif existing.item == content.item and existing.expiry == content.expiry:
            continue
        else:
            version = existing.current_version + 1
        changed.append(content.model_copy(update={"current_version": version}))
    return changed


class SyncWriteOnceRepository(Generic[ObjT]):
    """Writes only new or changed contents over a sync repository.

    ``write`` returns exactly the contents this call wrote, each with the version it stored
    (the stored one plus 1; 1 for a new key). Over a :class:`SyncDynamoRepository` it is
    race-free: among concurrent writers each distinct content is reported by exactly one. Over
    any other :class:`~pydantic_dynamo.abstract.SyncAbstractRepository` it reads with
    ``get_batch`` and writes with ``put_batch``, which is *not* race-free (see the module
    docstring). Example::

        write_once = SyncWriteOnceRepository[FilmActor](repo)
        assert len(write_once.write(contents)) == len(contents)
        assert write_once.write(contents) == []
    """

    def __init__(self, repo: SyncAbstractRepository[ObjT]) -> None:
        if not isinstance(repo, SyncAbstractRepository):
            raise TypeError(
                "SyncWriteOnceRepository takes a sync repository (a SyncAbstractRepository); "
                "for the async DynamoRepository use WriteOnceRepository(async_repo=...)"
            )
        self._repo = repo

    def write(self, contents: Iterable[PartitionedContent[ObjT]]) -> list[PartitionedContent[ObjT]]:
        """Write the contents not already stored; return exactly those this call wrote."""
        repo = self._repo
        if isinstance(repo, SyncDynamoRepository):
            written: list[PartitionedContent[ObjT]] = repo.run_flow(
                write_once_flow(repo.core, contents)
            )
            return written
        latest = _latest_by_key(contents)
        if not latest:
            return []
        stored = [c for batch in repo.get_batch(_request_ids(latest)) for c in batch.contents]
        changed = _to_write(latest, stored)
        if changed:
            repo.put_batch(changed)
        return changed


class WriteOnceRepository(Generic[ObjT]):
    """0.4.2's write-once wrapper over an async repository.

    ``await write(contents)`` takes an iterable or an async iterable and returns exactly the
    contents it wrote, each with the version it stored (the stored one plus 1; 1 for a new
    key). Over the library's :class:`~pydantic_dynamo.async_repository.DynamoRepository` it is
    race-free: among concurrent writers each distinct content is reported by exactly one. Over
    any other :class:`~pydantic_dynamo.abstract.AbstractRepository` it runs 0.4.2's algorithm
    (``get_batch``, compare, ``put_batch``), which is *not* race-free: two writers may both
    write, and report, the same content. Example::

        write_once = WriteOnceRepository[FilmActor](async_repo=repo)
        assert len(await write_once.write(contents)) == len(contents)
        assert await write_once.write(contents) == []
    """

    def __init__(self, async_repo: AbstractRepository[ObjT]) -> None:
        if not isinstance(async_repo, AbstractRepository):
            raise TypeError(
                "WriteOnceRepository takes an async repository (an AbstractRepository); "
                "for the sync SyncDynamoRepository use SyncWriteOnceRepository"
            )
        from pydantic_dynamo.async_repository import DynamoRepository

        self._async_repo = async_repo
        self._own: DynamoRepository[ObjT] | None = (
            async_repo if isinstance(async_repo, DynamoRepository) else None
        )

    async def write(
        self,
        input_contents: Iterable[PartitionedContent[ObjT]]
        | AsyncIterable[PartitionedContent[ObjT]],
    ) -> list[PartitionedContent[ObjT]]:
        """Write the contents not already stored; return exactly those this call wrote."""
        if isinstance(input_contents, AsyncIterable):
            contents = [content async for content in input_contents]
        else:
            contents = list(input_contents)
        own = self._own
        if own is not None:
            written: list[PartitionedContent[ObjT]] = await own.run_flow(
                write_once_flow(own.core, contents)
            )
            return written
        latest = _latest_by_key(contents)
        if not latest:
            return []
        repo = self._async_repo
        stored = [
            content
            async for batch in repo.get_batch(_request_ids(latest))
            for content in batch.contents
        ]
        changed = _to_write(latest, stored)
        if changed:
            await repo.put_batch(changed)
        return changed

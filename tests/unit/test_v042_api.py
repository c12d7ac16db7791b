"""0.4.2's API shape: response constructors, the abstract repositories, write-once over a fake.

The write-once tests port 0.4.2's own unit tests (``tests/test_unit/test_v2/test_write_once.py``),
which drove the wrapper over a mock: here it wraps a user-style in-memory implementation of
:class:`~pydantic_dynamo.v2.models.AbstractRepository`, so they check what is stored and
returned rather than which calls were made.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any
from unittest.mock import MagicMock

import pytest
from pydantic import BaseModel

import pydantic_dynamo
from pydantic_dynamo import (
    DynamoRepository,
    FilterCommand,
    PartitionedContent,
    SyncDynamoRepository,
    SyncWriteOnceRepository,
    UpdateCommand,
)
from pydantic_dynamo.v2 import models as v2_models
from pydantic_dynamo.v2.models import (
    AbstractRepository,
    BatchResponse,
    GetResponse,
    ReadOnlyAbstractRepository,
    SyncAbstractRepository,
    SyncReadOnlyAbstractRepository,
)
from pydantic_dynamo.v2.utils import AIter, list_contents_from_batches, list_items_from_batches
from pydantic_dynamo.v2.write_once import WriteOnceRepository


class Film(BaseModel):
    id: str
    title: str


Content = PartitionedContent[Film]
Ids = Sequence[str] | None
Key = tuple[tuple[str, ...], tuple[str, ...]]


def film(content_id: str, title: str = "Gangs of New York", partition: str = "p") -> Content:
    return Content(
        partition_ids=[partition], content_ids=[content_id], item=Film(id=content_id, title=title)
    )


def _key(partition_ids: Ids, content_ids: Ids) -> Key:
    return tuple(partition_ids or ()), tuple(content_ids or ())


class _Store:
    """What both in-memory fakes hold, and the calls they were asked to make."""

    def __init__(self, *contents: Content) -> None:
        self.contents: dict[Key, Content] = {
            _key(c.partition_ids, c.content_ids): c for c in contents
        }
        self.calls: list[tuple[str, Any]] = []

    def get_batch(self, request_ids: Sequence[tuple[Ids, Ids]]) -> list[Content]:
        self.calls.append(("get_batch", [_key(p, c) for p, c in request_ids]))
        found = (self.contents.get(_key(p, c)) for p, c in request_ids)
        return [content for content in found if content is not None]

    def listing(self, partition_id: Ids, low: Ids, high: Ids | None = None) -> list[Content]:
        partition, start = _key(partition_id, low)
        end = start if high is None else tuple(high)
        return sorted(
            c
            for (p, ids), c in self.contents.items()
            if p == partition and start <= ids[: len(start)] and ids[: len(end)] <= end
        )

    def put_batch(self, contents: Iterable[Content]) -> None:
        written = list(contents)
        self.calls.append(("put_batch", written))
        for content in written:
            self.contents[_key(content.partition_ids, content.content_ids)] = content


class InMemoryRepository(AbstractRepository[Film]):
    """A user's fake of the async repository, as 0.4.2's abstract class invites."""

    def __init__(self, *contents: Content) -> None:
        self.store = _Store(*contents)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    async def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[Film]:
        return GetResponse(content=self.store.contents.get(_key(partition_id, content_id)))

    async def get_batch(
        self, request_ids: Sequence[tuple[Ids, Ids]]
    ) -> AsyncIterator[BatchResponse[Film]]:
        yield BatchResponse(contents=self.store.get_batch(request_ids))

    async def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> AsyncIterator[BatchResponse[Film]]:
        listed = self.store.listing(partition_id, content_prefix)
        yield BatchResponse(contents=listed if sort_ascending else listed[::-1])

    async def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> AsyncIterator[BatchResponse[Film]]:
        listed = self.store.listing(partition_id, content_start, content_end)
        yield BatchResponse(contents=listed if sort_ascending else listed[::-1])

    async def put(self, content: Content) -> None:
        self.store.put_batch([content])

    async def put_batch(self, contents: Iterable[Content]) -> None:
        self.store.put_batch(contents)

    async def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> None:
        raise NotImplementedError

    async def delete(self, partition_id: Ids, content_prefix: Ids) -> None:
        for content in self.store.listing(partition_id, content_prefix):
            del self.store.contents[_key(content.partition_ids, content.content_ids)]


class SyncInMemoryRepository(SyncAbstractRepository[Film]):
    """The same fake, sync."""

    def __init__(self, *contents: Content) -> None:
        self.store = _Store(*contents)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[Film]:
        return GetResponse(content=self.store.contents.get(_key(partition_id, content_id)))

    def get_batch(self, request_ids: Sequence[tuple[Ids, Ids]]) -> Iterator[BatchResponse[Film]]:
        yield BatchResponse(contents=self.store.get_batch(request_ids))

    def list(
        self,
        partition_id: Ids,
        content_prefix: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> Iterator[BatchResponse[Film]]:
        yield BatchResponse(contents=self.store.listing(partition_id, content_prefix))

    def list_between(
        self,
        partition_id: Ids,
        content_start: Ids,
        content_end: Ids,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | None = None,
    ) -> Iterator[BatchResponse[Film]]:
        listed = self.store.listing(partition_id, content_start, content_end)
        yield BatchResponse(contents=listed)

    def put(self, content: Content) -> None:
        self.store.put_batch([content])

    def put_batch(self, contents: Iterable[Content]) -> None:
        self.store.put_batch(contents)

    def update(
        self,
        partition_id: Ids,
        content_id: Ids,
        command: UpdateCommand,
        require_exists: bool = True,
    ) -> None:
        raise NotImplementedError

    def delete(self, partition_id: Ids, content_prefix: Ids) -> None:
        raise NotImplementedError


def write_once(repo: InMemoryRepository, contents: Any) -> list[Content]:
    return asyncio.run(WriteOnceRepository[Film](async_repo=repo).write(contents))


def _puts(store: _Store) -> list[Content]:
    return [c for name, written in store.calls if name == "put_batch" for c in written]


FOUR_IDS = ["Z", "B", "A", "D"]


def two_partitions() -> list[Content]:
    """0.4.2's write-once inputs: four unordered content ids in each of two partitions."""
    return [film(c, partition=p) for p in ("p1", "p2") for c in FOUR_IDS]


# -- GetResponse and BatchResponse ---------------------------------------------------------------


def test_get_response_without_arguments_has_no_content() -> None:
    assert GetResponse[Film]().content is None


def test_get_response_without_arguments_equals_one_of_no_content() -> None:
    assert GetResponse[Film]() == GetResponse[Film](content=None)


def test_batch_response_of_contents_holds_them_in_order() -> None:
    contents = [film("b"), film("a")]
    response = BatchResponse[Film](contents=contents)
    assert response.contents == contents
    assert list(response) == contents
    assert len(response) == 2


def test_batch_response_of_contents_takes_any_iterable() -> None:
    response = BatchResponse[Film](contents=(film(i) for i in "ab"))
    assert response.contents == [film("a"), film("b")]


def test_batch_responses_with_equal_contents_are_equal() -> None:
    assert BatchResponse(contents=[film("a")]) == BatchResponse(contents=[film("a")])


def test_batch_responses_with_different_contents_are_not_equal() -> None:
    assert BatchResponse(contents=[film("a")]) != BatchResponse(contents=[film("b")])


def test_batch_responses_with_different_cursors_are_not_equal() -> None:
    assert BatchResponse(contents=[], cursor="x") != BatchResponse(contents=[])


def test_batch_response_of_raw_items_decodes_on_first_read_only() -> None:
    decoded: list[dict[str, Any]] = []

    def decode(raw: dict[str, Any]) -> Content:
        decoded.append(raw)
        return film(raw["id"])

    response = BatchResponse(raw_items=[{"id": "a"}, {"id": "b"}], decode=decode)
    assert len(response) == 2
    assert decoded == []
    assert response.contents == [film("a"), film("b")]
    assert response.contents is response.contents
    assert len(decoded) == 2


def test_batch_response_of_raw_items_equals_one_of_its_contents() -> None:
    lazy = BatchResponse(raw_items=[{"id": "a"}], decode=lambda raw: film(raw["id"]))
    assert lazy == BatchResponse(contents=[film("a")])


def test_batch_response_refuses_contents_with_raw_items() -> None:
    with pytest.raises(TypeError):
        BatchResponse(contents=[], raw_items=[], decode=lambda raw: film("a"))


def test_batch_response_needs_contents_or_raw_items() -> None:
    with pytest.raises(TypeError):
        BatchResponse[Film]()


def test_batch_response_is_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(BatchResponse[Film](contents=[]))


def test_list_contents_from_batches_flattens_every_batch() -> None:
    batches = [BatchResponse(contents=[film("a"), film("b")]), BatchResponse(contents=[film("c")])]
    actual = asyncio.run(list_contents_from_batches(AIter(batches)))
    assert actual == [film("a"), film("b"), film("c")]


def test_list_items_from_batches_returns_the_models() -> None:
    batches = [BatchResponse(contents=[film("a"), film("b")])]
    actual = asyncio.run(list_items_from_batches(AIter(batches)))
    assert actual == [film("a").item, film("b").item]


# -- the abstract repositories -------------------------------------------------------------------


def test_v2_models_exports_the_four_abstract_repositories() -> None:
    names = {
        "AbstractRepository",
        "ReadOnlyAbstractRepository",
        "SyncAbstractRepository",
        "SyncReadOnlyAbstractRepository",
    }
    assert names <= set(v2_models.__all__)
    assert names <= set(pydantic_dynamo.__all__)
    assert all(getattr(v2_models, n) is getattr(pydantic_dynamo, n) for n in names)


def test_read_only_abstract_repository_declares_0_4_2_reads() -> None:
    reads = {"get", "get_batch", "list", "list_between"}
    assert ReadOnlyAbstractRepository.__abstractmethods__ == reads | {"__aexit__"}
    assert SyncReadOnlyAbstractRepository.__abstractmethods__ == reads | {"__exit__"}


def test_abstract_repository_adds_0_4_2_writes() -> None:
    writes = {"put", "put_batch", "update", "delete"}
    read_only = ReadOnlyAbstractRepository.__abstractmethods__
    sync_read_only = SyncReadOnlyAbstractRepository.__abstractmethods__
    assert AbstractRepository.__abstractmethods__ == read_only | writes
    assert SyncAbstractRepository.__abstractmethods__ == sync_read_only | writes


def test_abstract_repository_methods_are_async_and_sync_ones_are_not() -> None:
    assert asyncio.iscoroutinefunction(AbstractRepository.get)
    assert asyncio.iscoroutinefunction(AbstractRepository.put_batch)
    assert not asyncio.iscoroutinefunction(SyncAbstractRepository.get)
    assert not asyncio.iscoroutinefunction(SyncAbstractRepository.put_batch)


def test_write_repositories_are_read_only_repositories() -> None:
    assert issubclass(AbstractRepository, ReadOnlyAbstractRepository)
    assert issubclass(SyncAbstractRepository, SyncReadOnlyAbstractRepository)


def test_an_incomplete_implementation_cannot_be_built() -> None:
    class OnlyGet(ReadOnlyAbstractRepository[Film]):
        async def get(self, partition_id: Ids, content_id: Ids) -> GetResponse[Film]:
            return GetResponse()

    with pytest.raises(TypeError):
        OnlyGet()  # type: ignore[abstract]


def _async_repo() -> DynamoRepository[Film]:
    return DynamoRepository[Film](
        item_class=Film,
        partition_prefix="test",
        partition_name="unit",
        content_type="film",
        table_name="films",
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
        client=object(),
    )


def _sync_repo() -> SyncDynamoRepository[Film]:
    unused_client: Any = object()  # nothing is sent
    return SyncDynamoRepository[Film](
        item_class=Film,
        partition_prefix="test",
        partition_name="unit",
        content_type="film",
        table_name="films",
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
        client=unused_client,
    )


def test_the_async_repository_is_an_abstract_repository() -> None:
    assert isinstance(_async_repo(), AbstractRepository)


def test_the_sync_repository_is_a_sync_abstract_repository() -> None:
    assert isinstance(_sync_repo(), SyncAbstractRepository)


def test_the_async_repository_is_its_own_async_context_manager() -> None:
    async def enter() -> object:
        async with _async_repo() as repo:
            return repo

    assert isinstance(asyncio.run(enter()), DynamoRepository)


def test_the_sync_repository_is_its_own_context_manager() -> None:
    with _sync_repo() as repo:
        assert isinstance(repo, SyncDynamoRepository)


def test_the_sync_repository_built_from_an_async_one_is_a_context_manager() -> None:
    # As 0.4.2's test: nothing is sent, so a stand-in async repository will do.
    with SyncDynamoRepository[Film](async_repo=MagicMock()) as repo:
        assert isinstance(repo, SyncDynamoRepository)


# -- write-once over a user's implementation (0.4.2's algorithm) ---------------------------------


def test_write_once_of_nothing_reads_and_writes_nothing() -> None:
    repo = InMemoryRepository()
    assert write_once(repo, []) == []
    assert repo.store.calls == []


def test_write_once_with_nothing_stored_writes_and_returns_every_content() -> None:
    repo = InMemoryRepository()
    data = two_partitions()
    written = write_once(repo, data)
    assert sorted(written) == sorted(data)
    assert sorted(repo.store.contents.values()) == sorted(data)


def test_write_once_takes_an_async_iterable() -> None:
    repo = InMemoryRepository()
    data = two_partitions()
    assert sorted(write_once(repo, AIter(data))) == sorted(data)


def test_write_once_with_some_stored_writes_only_the_others() -> None:
    data = two_partitions()
    repo = InMemoryRepository(data[0], data[-1])
    written = write_once(repo, data)
    assert sorted(written) == sorted(data[1:-1])
    assert sorted(_puts(repo.store)) == sorted(data[1:-1])


def test_write_once_with_everything_stored_writes_nothing() -> None:
    data = two_partitions()
    repo = InMemoryRepository(*data)
    assert write_once(repo, data) == []
    assert _puts(repo.store) == []


def test_write_once_reads_the_stored_contents_by_their_keys_in_one_get_batch() -> None:
    repo = InMemoryRepository()
    write_once(repo, two_partitions())
    reads = [keys for name, keys in repo.store.calls if name == "get_batch"]
    assert reads == [[((p,), (c,)) for p in ("p1", "p2") for c in FOUR_IDS]]


def test_write_once_of_a_changed_content_writes_it_with_its_version_moved_on() -> None:
    repo = InMemoryRepository(film("a", "old").model_copy(update={"current_version": 3}))
    written = write_once(repo, [film("a", "new")])
    assert written == [film("a", "new").model_copy(update={"current_version": 4})]
    assert repo.store.contents[(("p",), ("a",))].current_version == 4


def test_write_once_compares_the_model_and_expiry_not_the_version() -> None:
    repo = InMemoryRepository(film("a").model_copy(update={"current_version": 5}))
    assert write_once(repo, [film("a")]) == []


def test_write_once_of_one_key_twice_writes_the_last() -> None:
    repo = InMemoryRepository()
    written = write_once(repo, [film("a", "first"), film("a", "second")])
    assert written == [film("a", "second")]


def test_write_once_refuses_a_sync_repository() -> None:
    with pytest.raises(TypeError, match="SyncWriteOnceRepository"):
        WriteOnceRepository[Film](async_repo=SyncInMemoryRepository())  # type: ignore[arg-type]


def test_sync_write_once_over_a_sync_implementation_writes_only_new_contents() -> None:
    data = two_partitions()
    repo = SyncInMemoryRepository(data[0])
    written = SyncWriteOnceRepository[Film](repo).write(data)
    assert sorted(written) == sorted(data[1:])
    assert SyncWriteOnceRepository[Film](repo).write(data) == []


def test_sync_write_once_refuses_an_async_repository() -> None:
    with pytest.raises(TypeError, match=r"WriteOnceRepository\(async_repo"):
        SyncWriteOnceRepository[Film](InMemoryRepository())  # type: ignore[arg-type]


def test_the_write_once_wrappers_keep_their_import_paths() -> None:
    from pydantic_dynamo import write_once_repository

    assert pydantic_dynamo.WriteOnceRepository is WriteOnceRepository
    assert write_once_repository.WriteOnceRepository is WriteOnceRepository
    assert pydantic_dynamo.SyncWriteOnceRepository is SyncWriteOnceRepository


def test_the_sync_write_once_wrapper_loads_without_asyncio() -> None:
    code = (
        "import sys\n"
        "from pydantic_dynamo import SyncWriteOnceRepository, SyncAbstractRepository\n"
        "assert 'asyncio' not in sys.modules, 'asyncio imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

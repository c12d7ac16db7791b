"""What the secondary-index integration tests share: a table with indexes, models, repositories,
and fixtures (a test module imports those it uses, and defines ``table``).

The table has one overloaded global index of every kind of projection and one local index:

- ``gsi1`` (ALL): ``Film.by_director`` (director; year, id) and ``Review.by_film`` (film_id;
  created): two content types on one physical index;
- ``gsi2`` (KEYS_ONLY): ``Film.by_genre`` (genre; title);
- ``gsi3`` (INCLUDE title, year, ``_ttl``): ``Film.by_decade`` (decade; year, title);
- ``lsi1`` (ALL, local): ``Film.by_title`` (title), within the item's own partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from pydantic import BaseModel, ConfigDict

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import (
    DynamoRepository,
    Index,
    PartitionedContent,
    PhysicalIndex,
    Projection,
    SyncDynamoRepository,
    TableDescription,
    create_table,
)

Item = dict[str, Any]
PREFIX = "test"
NAME = "integration"
PK = "PARTITION_KEY"
SK = "SORT_KEY"

GSI1 = PhysicalIndex.global_("gsi1")
GSI2 = PhysicalIndex.global_("gsi2", Projection.keys_only())
GSI3 = PhysicalIndex.global_("gsi3", Projection.include("title", "year", "_ttl"))
LSI1 = PhysicalIndex.local("lsi1")
TABLE = TableDescription(indexes=(GSI1, GSI2, GSI3, LSI1))


class Film(BaseModel):
    """A film; ``decade`` and ``bucket`` exist to be indexed and filtered on."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    director: str | None = None
    year: int | None = None
    decade: str | None = None
    genre: str = "drama"
    bucket: int = 0
    tagline: str = ""


class Review(BaseModel):
    """A review of a film (the seed's ActorReview, for films)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    film_id: str
    created: datetime
    text: str = ""


class FilmSummary(BaseModel):
    """What ``gsi3`` holds of a film."""

    title: str
    year: int | None = None


FILM_INDEXES = (
    Index("by_director", GSI1, partition=("director",), sort=("year", "id")),
    Index("by_genre", GSI2, partition=("genre",), sort=("title",)),
    Index("by_decade", GSI3, partition=("decade",), sort=("year", "title")),
    Index("by_title", LSI1, sort=("title",)),
)
REVIEW_INDEXES = (Index("by_film", GSI1, partition=("film_id",), sort=("created",)),)

FilmContent = PartitionedContent[Film]


def film(film_id: str, partition: str = "films", **fields: Any) -> FilmContent:
    """A content holding a Film at ``[partition]``/``[film_id]``."""
    item = Film.model_validate({"id": film_id, "title": f"title {film_id}", **fields})
    return FilmContent(partition_ids=[partition], content_ids=[film_id], item=item)


def new_table(client: Any) -> str:
    """A fresh table of ``TABLE``."""
    name = f"test-indexes-{uuid.uuid4().hex}"
    create_table(client, name, TABLE)
    return name


def repository_arguments(table_name: str, model: type[BaseModel]) -> dict[str, Any]:
    """The keyword arguments of a Film (or Review) repository over ``table_name``."""
    is_film = model is Film
    return {
        "item_class": model,
        "partition_prefix": PREFIX,
        "partition_name": NAME,
        "content_type": "film" if is_film else "review",
        "table_name": table_name,
        "partition_key": PK,
        "sort_key": SK,
        "consistent_reads": True,
        "indexes": FILM_INDEXES if is_film else REVIEW_INDEXES,
    }


def sync_repo(client: Any, table_name: str, model: type[BaseModel] = Film) -> Any:
    """A sync repository of ``model`` with its indexes."""
    return SyncDynamoRepository(**repository_arguments(table_name, model), client=client)


class Blocking:
    """The async repository behind a blocking surface: coroutines run to completion, async
    iterators are pulled one batch at a time (so a test body reads the same for both)."""

    def __init__(self, repo: DynamoRepository[Any], loop: asyncio.AbstractEventLoop) -> None:
        self._repo = repo
        self._loop = loop

    def _pull(self, batches: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._loop.run_until_complete(anext(batches))
            except StopAsyncIteration:
                return

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._repo, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            if hasattr(result, "__anext__"):
                return self._pull(result)
            return result

        return call


class AsyncRepos:
    """Async repositories on one aiobotocore client and event loop of their own."""

    def __init__(self, endpoint_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._creator = get_session().create_client(
            "dynamodb",
            endpoint_url=endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=AioConfig(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        self.client: Any = self.loop.run_until_complete(self._creator.__aenter__())

    def __call__(self, table_name: str, model: type[BaseModel] = Film) -> Blocking:
        repo = DynamoRepository[Any](**repository_arguments(table_name, model), client=self.client)
        return Blocking(repo, self.loop)

    def close(self) -> None:
        self.loop.run_until_complete(self._creator.__aexit__(None, None, None))
        self.loop.close()


def stored(client: Any, table_name: str, film_id: str, partition: str = "films") -> Item:
    """The raw item of a film, read straight from DynamoDB Local (strongly consistent)."""
    key = {PK: {"S": f"{PREFIX}#{NAME}#{partition}"}, SK: {"S": f"film#{film_id}"}}
    response = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)
    item: Item = response.get("Item", {})
    return item


def index_values(item: Item) -> dict[str, str]:
    """The index key attributes an item holds, as plain strings."""
    names = {a for index in TABLE.indexes for a in index.key_attributes}
    return {name: value["S"] for name, value in item.items() if name in names}


def director_entry(director: str, year: int, film_id: str) -> dict[str, str]:
    """The gsi1 attributes of a film in ``by_director``."""
    return {
        "gsi1pk": f"{PREFIX}#{NAME}#film#by_director#{director}",
        "gsi1sk": f"film#by_director#{year}#{film_id}",
    }


class Calls:
    """The operations a boto3 (or aiobotocore) client sends, in order, with their parameters;
    ``after`` runs a function after each call of one operation."""

    def __init__(self, events: Any) -> None:
        self.sent: list[tuple[str, Item]] = []
        self._after: dict[str, Callable[[Item], None]] = {}
        events.register("provide-client-params.dynamodb", self._record)
        events.register("after-call.dynamodb", self._after_call)

    def _record(self, params: Item, model: Any, **kwargs: Any) -> None:
        self.sent.append((model.name, dict(params)))

    def _after_call(self, model: Any, parsed: Item, **kwargs: Any) -> None:
        hook = self._after.get(model.name)
        if hook is not None:
            hook(parsed)

    def after(self, operation: str, hook: Callable[[Item], None]) -> None:
        """Run ``hook(response)`` after every ``operation`` call."""
        self._after[operation] = hook

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.sent if name == operation)

    def params(self, operation: str) -> list[Item]:
        return [params for name, params in self.sent if name == operation]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def fresh_table(dynamodb_client: Any) -> Iterator[str]:
    """A fresh table of ``TABLE``, deleted afterwards."""
    name = new_table(dynamodb_client)
    yield name
    with contextlib.suppress(Exception):
        dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def own_client(dynamodb_local: DynamoDBLocal) -> Any:
    """A boto3 client of the test's own, so event hooks never leak into other tests."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def calls(own_client: Any) -> Calls:
    """The calls of ``own_client``."""
    return Calls(own_client.meta.events)


@pytest.fixture(params=["sync", "async"])
def repo(
    request: pytest.FixtureRequest, own_client: Any, dynamodb_local: DynamoDBLocal, table: str
) -> Iterator[Any]:
    """A Film repository over the module's ``table``: sync (boto3) or async (aiobotocore)."""
    if request.param == "sync":
        yield sync_repo(own_client, table)
        return
    repos = AsyncRepos(dynamodb_local.endpoint_url)
    try:
        yield repos(table)
    finally:
        repos.close()

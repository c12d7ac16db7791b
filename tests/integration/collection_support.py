"""What the collection, projection and count tests share: models, contents, and a flavour
(sync on boto3, or async on aiobotocore behind a blocking surface) building repositories."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from pydantic import BaseModel

from pydantic_dynamo import (
    AsyncCollection,
    Collection,
    DynamoRepository,
    PartitionedContent,
    SyncDynamoRepository,
)
from tests.integration.harness import PARTITION_KEY, PARTITION_PREFIX, SORT_KEY, make_client

CAST = "cast"  # the partition name the collection's members share
EXPIRED = datetime(2001, 1, 1, tzinfo=UTC)  # long past: DynamoDB Local never deletes it
LATER = datetime(2999, 1, 1, tzinfo=UTC)


class Actor(BaseModel):
    id: str
    name: str
    bio: str = ""
    rating: int = 0


class Review(BaseModel):
    id: str
    actor_id: str
    text: str
    stars: int = 3


class Award(BaseModel):
    """Stored in the partition by a type the collections do not declare."""

    title: str


class Note(BaseModel):
    text: str


class Name(BaseModel):
    """A projection of Actor."""

    name: str


def actor(actor_id: str, **fields: Any) -> PartitionedContent[Actor]:
    item = Actor.model_validate({"id": actor_id, "name": f"name {actor_id}", **fields})
    return PartitionedContent[Actor](partition_ids=[actor_id], content_ids=[], item=item)


def review(actor_id: str, number: int, **fields: Any) -> PartitionedContent[Review]:
    data = {"id": f"r{number:03}", "actor_id": actor_id, "text": f"review {number}", **fields}
    expiry = data.pop("expiry", None)
    return PartitionedContent[Review](
        partition_ids=[actor_id],
        content_ids=[f"{number:03}"],
        item=Review.model_validate(data),
        expiry=expiry,
    )


def award(actor_id: str, number: int) -> PartitionedContent[Award]:
    return PartitionedContent[Award](
        partition_ids=[actor_id], content_ids=[f"{number:03}"], item=Award(title=f"award {number}")
    )


def note(actor_id: str, number: int) -> PartitionedContent[Note]:
    return PartitionedContent[Note](
        partition_ids=[actor_id], content_ids=[f"{number:03}"], item=Note(text=f"note {number}")
    )


def arguments(
    model: type[BaseModel], content_type: str, table: str, **overrides: Any
) -> dict[str, Any]:
    """A repository's keyword arguments: ``content_type`` in the ``cast`` partitions."""
    return {
        "item_class": model,
        "partition_prefix": PARTITION_PREFIX,
        "partition_name": CAST,
        "content_type": content_type,
        "table_name": table,
        "partition_key": PARTITION_KEY,
        "sort_key": SORT_KEY,
        "consistent_reads": True,
        **overrides,
    }


class Blocking:
    """An async object behind a blocking surface: coroutines run to completion on ``loop``,
    async iterators are pulled one value at a time, other answers (a view) wrapped in turn."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.target = target
        self._loop = loop

    def _pull(self, values: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._loop.run_until_complete(anext(values))
            except StopAsyncIteration:
                return

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            if inspect.isawaitable(result):
                return self._loop.run_until_complete(result)
            if hasattr(result, "__anext__"):
                return self._pull(result)
            if type(result).__module__.startswith("pydantic_dynamo."):
                return Blocking(result, self._loop)
            return result

        return call


class Flavour:
    """Repositories and collections of one flavour over ``table_name``; writes are sync."""

    def __init__(self, kind: str, endpoint_url: str, table_name: str) -> None:
        self.kind = kind
        self.table_name = table_name
        self.client = make_client(endpoint_url)
        self._loop: asyncio.AbstractEventLoop | None = None
        if kind == "async":
            self._loop = asyncio.new_event_loop()
            self._creator = get_session().create_client(
                "dynamodb",
                endpoint_url=endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=AioConfig(retries={"mode": "standard", "total_max_attempts": 1}),
            )
            self._async_client = self._loop.run_until_complete(self._creator.__aenter__())

    def writer(self, model: type[BaseModel], content_type: str, **overrides: Any) -> Any:
        """A sync repository writing ``content_type``."""
        return SyncDynamoRepository(
            **arguments(model, content_type, self.table_name, **overrides), client=self.client
        )

    def repo(self, model: type[BaseModel], content_type: str, **overrides: Any) -> Any:
        """A repository of this flavour (the async one behind a blocking surface)."""
        if self._loop is None:
            return self.writer(model, content_type, **overrides)
        repo = DynamoRepository[Any](
            **arguments(model, content_type, self.table_name, **overrides),
            client=self._async_client,
        )
        return Blocking(repo, self._loop)

    def collection(self, repos: Mapping[str, Any]) -> Any:
        """A Collection (or a blocking AsyncCollection) of repositories made by :meth:`repo`."""
        if self._loop is None:
            return Collection(repos=repos)
        targets = {name: repo.target for name, repo in repos.items()}
        return Blocking(AsyncCollection(repos=targets), self._loop)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run_until_complete(self._creator.__aexit__(None, None, None))
            self._loop.close()


def flavour_fixture(kind: str, endpoint_url: str, table_name: str) -> Iterator[Flavour]:
    """The body of a test module's ``flavour`` fixture."""
    flavour = Flavour(kind, endpoint_url, table_name)
    try:
        yield flavour
    finally:
        flavour.close()

"""pydantic-dynamo 0.4.2's README examples, as written there (models moved to Pydantic v2).

Each async test is the README's code; the sync tests run the same steps through
``SyncDynamoRepository`` (built from the async repository, 0.4.2's form, and directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, Optional
from uuid import uuid4

import aioboto3
import pytest
from aioboto3 import Session
from pydantic import BaseModel

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo.exceptions import RequestObjectStateError
from pydantic_dynamo.models import FilterCommand, PartitionedContent, UpdateCommand
from pydantic_dynamo.v2.models import BatchResponse, GetResponse
from pydantic_dynamo.v2.repository import DynamoRepository
from pydantic_dynamo.v2.sync_repository import SyncDynamoRepository
from pydantic_dynamo.v2.utils import list_contents_from_batches, list_items_from_batches
from pydantic_dynamo.v2.write_once import WriteOnceRepository


class FilmActor(BaseModel):
    id: str
    name: str
    review: Optional[str] = None  # noqa: UP045 - the README's spelling


class ActorReview(BaseModel):
    id: str
    actor_id: str
    created: datetime
    review: str


Scenario = Callable[[DynamoRepository[Any], DynamoRepository[Any]], Coroutine[Any, Any, None]]


@pytest.fixture
def run_with_repos(dynamodb_local: DynamoDBLocal, table_name: str) -> Callable[[Scenario], None]:
    """Build the README's repositories (actors and reviews) and run a scenario with them."""

    @asynccontextmanager
    async def build_repo(
        item_class: type[BaseModel], content_type: str
    ) -> AsyncIterator[DynamoRepository[Any]]:
        session = Session()
        boto3_kwargs = {
            "service_name": "dynamodb",
            "endpoint_url": dynamodb_local.endpoint_url,
            "region_name": "us-east-1",
        }
        async with (
            session.resource(**boto3_kwargs) as resource,
            DynamoRepository[Any](
                item_class=item_class,
                partition_prefix="test",
                partition_name="integration",
                content_type=content_type,
                table_name=table_name,
                partition_key="PARTITION_KEY",
                sort_key="SORT_KEY",
                table=await resource.Table(table_name),
                resource=resource,
                consistent_reads=False,  # default
            ) as repo,
        ):
            yield repo

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with (
                build_repo(FilmActor, "actor") as actors,
                build_repo(ActorReview, "review") as reviews,
            ):
                await scenario(actors, reviews)

        asyncio.run(main())

    return run


def _actors() -> tuple[FilmActor, FilmActor]:
    return (
        FilmActor(id=str(uuid4()), name="Daniel Day-Lewis"),
        FilmActor(id=str(uuid4()), name="Steve Buscemi"),
    )


def test_readme_async_put_get_update(run_with_repos: Callable[[Scenario], None]) -> None:
    async def scenario(repo: DynamoRepository[Any], _: DynamoRepository[Any]) -> None:
        actor1, actor2 = _actors()
        id1, id2 = actor1.id, actor2.id

        await repo.put(
            PartitionedContent[FilmActor](partition_ids=[], content_ids=[id1], item=actor1)
        )
        await repo.put_batch(
            (
                PartitionedContent[FilmActor](partition_ids=[], content_ids=[id1], item=actor1),
                PartitionedContent[FilmActor](partition_ids=[], content_ids=[id2], item=actor2),
            )
        )
        await repo.update(
            partition_id=None,
            content_id=[id1],
            command=UpdateCommand(
                set_commands={"review": "Talented, but unfriendly in Gangs of New York"}
            ),
        )

        response: GetResponse[FilmActor] = await repo.get(partition_id=None, content_id=[id1])
        item: Optional[PartitionedContent[FilmActor]] = response.content  # noqa: UP045
        assert item is not None
        assert item.item.review == "Talented, but unfriendly in Gangs of New York"
        assert item.current_version == 2

        items: list[PartitionedContent[FilmActor]] = [
            content
            async for response in repo.get_batch([(None, [id1]), (None, [id2])])
            for content in response.contents
        ]
        assert sorted(c.item.name for c in items) == ["Daniel Day-Lewis", "Steve Buscemi"]

        with pytest.raises(RequestObjectStateError):
            await repo.update(
                partition_id=None,
                content_id=[id1],
                command=UpdateCommand(set_commands={"review": "again"}, current_version=1),
            )

    run_with_repos(scenario)


def test_readme_async_filters_and_listing(run_with_repos: Callable[[Scenario], None]) -> None:
    async def scenario(repo: DynamoRepository[Any], reviews: DynamoRepository[Any]) -> None:
        actor1, actor2 = _actors()
        await repo.put_batch(
            PartitionedContent[FilmActor](partition_ids=[], content_ids=[a.id], item=a)
            for a in (actor1, actor2)
        )
        await repo.update(
            partition_id=None,
            content_id=[actor1.id],
            command=UpdateCommand(
                set_commands={"review": "Talented, but unfriendly in Gangs of New York"}
            ),
        )
        filter1 = FilterCommand(not_exists={"review"})
        filter2 = FilterCommand(equals={"review": "Talented, but unfriendly in Gangs of New York"})
        filter3 = FilterCommand(
            not_equals={"review": "Talented, but unfriendly in Gangs of New York"}
        )
        # A missing Optional is stored as NULL; not_exists matches it (0.4.2's matched nothing).
        results = {}
        for name, filters in (("not_exists", filter1), ("equals", filter2), ("ne", filter3)):
            results[name] = {
                c.item.name
                for c in await list_contents_from_batches(repo.list(None, None, filters=filters))
            }
        assert results["not_exists"] == {"Steve Buscemi"}
        assert results["equals"] == {"Daniel Day-Lewis"}
        assert results["ne"] == {"Steve Buscemi"}

        now = datetime.now(tz=timezone.utc)  # noqa: UP017 - the README's spelling
        await reviews.put_batch(
            (
                PartitionedContent[ActorReview](
                    partition_ids=[actor1.id],
                    content_ids=[now.isoformat()],
                    item=ActorReview(
                        id=str(uuid4()),
                        actor_id=actor1.id,
                        created=now,
                        review="I really thought he was the hero of this movie",
                    ),
                ),
                PartitionedContent[ActorReview](
                    partition_ids=[actor1.id],
                    content_ids=[now.isoformat()],
                    item=ActorReview(
                        id=str(uuid4()),
                        actor_id=actor1.id,
                        created=now,
                        review="He really embodies the New York state of mind",
                    ),
                ),
            )
        )
        items: list[PartitionedContent[ActorReview]] = [
            content
            async for response in reviews.list(
                partition_id=[actor1.id],
                content_prefix=None,
                sort_ascending=True,
                limit=None,
                filters=None,
            )
            for content in response.contents
        ]
        # Both reviews share one key, so the second put replaced the first, as in 0.4.2.
        assert [c.item.review for c in items] == ["He really embodies the New York state of mind"]

        year_items = [
            content
            async for response in reviews.list(
                partition_id=[actor1.id],
                content_prefix=[str(now.year)],
                sort_ascending=True,
                limit=None,
                filters=None,
            )
            for content in response.contents
        ]
        assert len(year_items) == 1

        between = await list_items_from_batches(
            reviews.list_between(
                partition_id=[actor1.id],
                content_start=[f"{now.year}-01"],
                content_end=[f"{now.year + 1}-01"],
                sort_ascending=True,
                limit=None,
                filters=None,
            )
        )
        assert [r.actor_id for r in between] == [actor1.id]

    run_with_repos(scenario)


def test_readme_write_once(run_with_repos: Callable[[Scenario], None]) -> None:
    async def scenario(repo: DynamoRepository[Any], _: DynamoRepository[Any]) -> None:
        write_once = WriteOnceRepository[FilmActor](async_repo=repo)

        count = 250
        data = [
            PartitionedContent[FilmActor](
                partition_ids=[], content_ids=[str(i)], item=FilmActor(id=str(i), name="x")
            )
            for i in range(count)
        ]

        actually_written = await write_once.write(data)
        assert len(actually_written) == count

        actually_written_again = await write_once.write(data)
        assert len(actually_written_again) == 0

    run_with_repos(scenario)


def test_readme_sync_repository_from_the_async_one(
    run_with_repos: Callable[[Scenario], None],
) -> None:
    async def scenario(repo: DynamoRepository[Any], _: DynamoRepository[Any]) -> None:
        # 0.4.2's form, here inside a running event loop.
        sync_repo = SyncDynamoRepository[FilmActor](async_repo=repo)
        actor1, actor2 = _actors()

        sync_repo.put(
            PartitionedContent[FilmActor](partition_ids=[], content_ids=[actor1.id], item=actor1)
        )
        sync_repo.put_batch(
            [PartitionedContent[FilmActor](partition_ids=[], content_ids=[actor2.id], item=actor2)]
        )
        sync_repo.update(
            partition_id=None,
            content_id=[actor1.id],
            command=UpdateCommand(set_commands={"review": "Talented"}),
        )
        response = sync_repo.get(partition_id=None, content_id=[actor1.id])
        assert response.content is not None
        assert response.content.item.review == "Talented"
        batches: list[BatchResponse[FilmActor]] = list(
            sync_repo.get_batch([(None, [actor1.id]), (None, [actor2.id])])
        )
        assert sum(len(b.contents) for b in batches) == 2
        listed = [c for b in sync_repo.list(None, None) for c in b.contents]
        assert {c.item.id for c in listed} == {actor1.id, actor2.id}
        # And the async repository sees what the sync one wrote.
        assert (await repo.get(None, [actor2.id])).content is not None

    run_with_repos(scenario)


def test_readme_sync_repository_outside_an_event_loop(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    async def build() -> DynamoRepository[FilmActor]:
        session = aioboto3.Session()
        async with session.resource(
            "dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="us-east-1"
        ) as resource:
            return DynamoRepository[FilmActor](
                item_class=FilmActor,
                partition_prefix="test",
                partition_name="integration",
                content_type="actor",
                table_name=table_name,
                partition_key="PARTITION_KEY",
                sort_key="SORT_KEY",
                table=await resource.Table(table_name),
                resource=resource,
            )

    sync_repo = SyncDynamoRepository[FilmActor](async_repo=asyncio.run(build()))
    actor, _ = _actors()
    sync_repo.put(
        PartitionedContent[FilmActor](partition_ids=[], content_ids=[actor.id], item=actor)
    )
    fetched = sync_repo.get(None, [actor.id]).content
    assert fetched is not None
    assert fetched.item == actor

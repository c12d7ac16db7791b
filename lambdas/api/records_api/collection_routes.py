"""The collection reads and the counts: ``GET /collections/{name}`` and ``GET /records/{ct}/count``.

A collection (``records_service.content_types.COLLECTIONS``) is content types sharing a
partition; its route answers one page of the partition with each content decoded by its type,
the items of types it does not declare listed by key (``unknown``), and a cursor. The count
route answers how many live contents a listing with the same selection and filters holds.

>>> from records_service.content_types import COLLECTIONS
>>> collection_path("cast"), count_path("actor")
('/collections/cast', '/records/actor/count')
>>> sorted(CollectionAnswer(COLLECTIONS["cast"]).model_json_schema()["$defs"]["CastContents"]
...        ["properties"])
['cast-actor', 'cast-review']
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, create_model

from pydantic_dynamo import Collection
from records_api.errors import error_responses
from records_api.operations import (
    MAX_CONTENT_BYTES,
    MAX_PAGES_PER_REQUEST,
    ContentOperations,
    PageRequest,
    json_response,
    payload_bytes,
    to_json,
)
from records_api.params import (
    DEFAULT_PAGE_SIZE,
    PAGING,
    Cursor,
    Limit,
    Order,
    answer,
    page_parameters,
)
from records_api.paths import content_path
from records_api.query import sort_ascending
from records_service.content_types import COLLECTIONS, CollectionType, ContentType

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from records_service.repositories import Repositories

__all__ = [
    "COLLECTIONS_PREFIX",
    "COUNT",
    "CollectionAnswer",
    "CountAnswer",
    "collection_path",
    "count_path",
    "register_collection_routes",
]

COLLECTIONS_PREFIX = "/collections"
COUNT = "count"
_PARTITION_IDS = Annotated[
    list[str], Query(description="The partition's ids (repeatable, in order)")
]


def collection_path(name: str) -> str:
    """The path of a collection's read."""
    return f"{COLLECTIONS_PREFIX}/{name}"


def count_path(content_type: str) -> str:
    """The path of a content type's count."""
    return content_path(content_type, COUNT)


class CountAnswer(BaseModel):
    """How many live contents match."""

    count: int


def CollectionAnswer(collection: CollectionType) -> type[BaseModel]:  # noqa: N802 (a type factory)
    """The answer of ``collection``'s read: its members' contents, unknown keys, the cursor."""
    title = "".join(part.capitalize() for part in collection.name.replace("_", "-").split("-"))
    members: dict[str, Any] = {
        member.replace("-", "_"): (
            list[collection.types[member].content_model],  # type: ignore[misc]
            Field(alias=member, description=f"The {member} contents of this page"),
        )
        for member in collection.members
    }
    config = ConfigDict(serialize_by_alias=True, validate_by_name=True)
    contents = create_model(f"{title}Contents", __config__=config, **members)
    answer_model: type[BaseModel] = create_model(
        f"{title}Page",
        contents=(contents, ...),
        unknown=(
            list[dict[str, str]],
            Field(description="The keys of the partition's items of other content types"),
        ),
        cursor=(str | None, ...),
    )
    return answer_model


class _CollectionRead:
    """What one collection's route does: read a page of the partition and answer it."""

    def __init__(self, collection: CollectionType, repositories: Repositories) -> None:
        self.collection = collection
        self._repositories = repositories

    def page(
        self,
        partition_id: list[str] | None,
        types: list[str] | None,
        limit: int,
        cursor: str | None,
        order: Literal["asc", "desc"],
    ) -> Any:
        members = {
            m: self._repositories.for_type(self.collection.types[m])
            for m in self.collection.members
        }
        pages = Collection(repos=members).read(
            list(partition_id or []),
            limit=limit,
            cursor=cursor,
            sort_ascending=sort_ascending(order),
            types=types or None,
        )
        contents: dict[str, list[bytes]] = {m: [] for m in self.collection.members}
        unknown: list[dict[str, str]] = []
        used = count = 0
        next_cursor = cursor
        for number, page in enumerate(pages, start=1):
            bodies = {name: [to_json(c) for c in found] for name, found in page.contents.items()}
            size = sum(payload_bytes(body) for found in bodies.values() for body in found)
            if count and used + size > MAX_CONTENT_BYTES:
                break  # this page is for the next request: next_cursor leads to it
            for name, found in bodies.items():
                contents[name] += found
            unknown += page.unknown
            used += size
            count += len(page)
            next_cursor = page.cursor
            if next_cursor is None or count >= limit or number >= MAX_PAGES_PER_REQUEST:
                break
        members_json = b",".join(
            json.dumps(name).encode() + b":[" + b",".join(found) + b"]"
            for name, found in contents.items()
        )
        rest = json.dumps({"unknown": unknown, "cursor": next_cursor}, separators=(",", ":"))
        return json_response(b'{"contents":{' + members_json + b"}," + rest[1:].encode())


def _register_collection(
    app: APIGatewayRestResolver, collection: CollectionType, repositories: Repositories
) -> None:
    read = _CollectionRead(collection, repositories)
    member = Literal[tuple(collection.members)]  # type: ignore[valid-type]

    def read_collection(
        partition_id: Any = None,
        types: Any = None,
        limit: Any = DEFAULT_PAGE_SIZE,
        cursor: Any = None,
        order: Any = "asc",
    ) -> Any:
        return read.page(partition_id, types, limit, cursor, order)

    read_collection.__annotations__ = {
        "partition_id": _PARTITION_IDS,
        "types": Annotated[
            list[member],  # type: ignore[valid-type]
            Query(alias="type", description="Read only these content types (repeatable)"),
        ],
        "limit": Limit,
        "cursor": Cursor,
        "order": Order,
    }
    app.get(
        collection_path(collection.name),
        summary=f"Read the {collection.name} collection of a partition",
        description=f"{collection.description} The contents of "
        f"{', '.join(collection.members)} in one partition, in sort-key order, each under its "
        "content type; items of other types are listed by key under `unknown` (and counted in "
        f"`limit`). {PAGING} A cursor answered by another route, partition or choice of `type` "
        "is refused (400).",
        operation_id=f"read_{collection.name.replace('-', '_')}",
        tags=["collections"],
        responses={
            200: answer("One page", CollectionAnswer(collection)),
            **error_responses(400, 422),
        },
    )(read_collection)


def _register_count(app: APIGatewayRestResolver, ops: ContentOperations[Any]) -> None:
    ct = ops.content_type

    def count(
        partition_id: Any = None,
        prefix: Any = None,
        start: Any = None,
        end: Any = None,
        filters: Any = None,
    ) -> CountAnswer:
        page = PageRequest(prefix=prefix, start=start, end=end, filters=filters)
        return CountAnswer(count=ops.count(partition_id, page))

    count.__annotations__ = {
        "partition_id": _PARTITION_IDS,
        "prefix": Annotated[list[str], Query(description="Content-id prefix, repeatable")],
        "start": Annotated[list[str], Query(description="Range start (inclusive), repeatable")],
        "end": Annotated[list[str], Query(description="Range end (inclusive), repeatable")],
        "filters": page_parameters(ct.model)["filters"],
        "return": CountAnswer,
    }
    app.get(
        count_path(ct.name),
        summary=f"Count {ct.name} contents of a partition",
        description="How many live contents the listing with the same `partition_id`, `prefix` "
        "(or `start` and `end`) and `filter` holds, counted by DynamoDB (`Select=COUNT`) over "
        "every page: it costs the read units of every item of the selection.",
        operation_id=f"count_{ct.name.replace('-', '_')}",
        tags=[ct.name],
        responses={200: answer("The count", CountAnswer), **error_responses(400, 422)},
    )(count)


def register_collection_routes(
    app: APIGatewayRestResolver,
    registry: Iterable[ContentType[Any]],
    repositories: Repositories,
    metrics: Metrics,
) -> dict[str, tuple[str, ...]]:
    """Add each served content type's count and each collection of served types to ``app``;
    the paths added and their methods."""
    served = {ct.name: ct for ct in registry}
    declared: dict[str, tuple[str, ...]] = {}
    for ct in served.values():
        _register_count(app, ContentOperations(ct, repositories, metrics))
        declared[count_path(ct.name)] = ("GET",)
    for collection in COLLECTIONS.values():
        if all(served.get(m) is collection.types[m] for m in collection.members):
            _register_collection(app, collection, repositories)
            declared[collection_path(collection.name)] = ("GET",)
    return declared

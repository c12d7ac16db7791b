"""What each route does for one content type: HTTP values in, library call, answer out."""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from pydantic_dynamo import BatchResponse, PartitionedContent
from records_api.errors import ApiError
from records_api.query import parse_filters, parse_version, sort_ascending
from records_api.schemas import (
    BatchGetResult,
    BatchIn,
    BatchWriteResult,
    ContentIn,
    Key,
    KeysIn,
    Page,
    UpdateIn,
)
from records_service import names

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

    from pydantic_dynamo import SyncDynamoRepository
    from records_service.content_types import ContentType
    from records_service.repositories import Repositories

__all__ = ["MAX_PAGES_PER_REQUEST", "ContentOperations"]

ModelT = TypeVar("ModelT", bound=BaseModel)

# Answer a listing after this many DynamoDB pages even when the page is not full
# (sparse filter matches), with the cursor reached: one request stays inside its timeout.
MAX_PAGES_PER_REQUEST = 10


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _content_response(
    content: PartitionedContent[Any], status: int = HTTPStatus.OK
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=content,
        headers=_etag(content.current_version),
    )


def _ids(values: list[str] | None) -> list[str]:
    return list(values) if values else []


class ContentOperations(Generic[ModelT]):
    """The operations of one content type, bound to its repository."""

    def __init__(
        self, content_type: ContentType[ModelT], repositories: Repositories, metrics: Metrics
    ) -> None:
        self.content_type = content_type
        self._repositories = repositories
        self._metrics = metrics

    @property
    def repo(self) -> SyncDynamoRepository[ModelT]:
        """The content type's repository (built, with its client, on first use)."""
        return self._repositories.for_type(self.content_type)

    def _written(self, count: int) -> None:
        self._metrics.add_metric(name=names.METRIC_RECORDS_WRITTEN, unit="Count", value=count)

    def put(self, content: ContentIn[ModelT]) -> Response[Any]:
        """Store one content (replacing what is stored at its key) and answer it."""
        self.repo.put(content)
        self._written(1)
        return _content_response(content)

    def put_batch(self, batch: BatchIn[ModelT]) -> BatchWriteResult:
        """Store several contents with BatchWriteItem."""
        self.repo.put_batch(batch.contents)
        self._written(len(batch.contents))
        return BatchWriteResult(written=len(batch.contents))

    def get(self, partition_id: list[str] | None, content_id: list[str] | None) -> Response[Any]:
        """One content, or 404."""
        content = self.repo.get(_ids(partition_id), _ids(content_id)).content
        if content is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "not_found",
                "no such item",
                {"partition_ids": _ids(partition_id), "content_ids": _ids(content_id)},
            )
        return _content_response(content)

    def batch_get(self, request: KeysIn) -> BatchGetResult[ModelT]:
        """The contents at several keys, and which keys hold nothing."""
        wanted: dict[tuple[tuple[str, ...], tuple[str, ...]], Key] = {}
        for key in request.keys:  # BatchGetItem refuses duplicate keys
            wanted.setdefault((tuple(key.partition_ids), tuple(key.content_ids)), key)
        found: list[PartitionedContent[ModelT]] = []
        for response in self.repo.get_batch([(list(p), list(c)) for p, c in wanted]):
            found.extend(response.contents)
        seen = {(tuple(c.partition_ids), tuple(c.content_ids)) for c in found}
        missing = [key for ids, key in wanted.items() if ids not in seen]
        return BatchGetResult[ModelT](contents=found, missing=missing)

    def list_page(
        self,
        partition_id: list[str] | None,
        prefix: list[str] | None,
        start: list[str] | None,
        end: list[str] | None,
        limit: int,
        cursor: str | None,
        order: Literal["asc", "desc"],
        filters: list[str] | None,
    ) -> Page[ModelT]:
        """One page of a partition's contents, by content-id prefix or range."""
        if (start is None) != (end is None):
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "invalid_range",
                "give both start and end (a range), or neither",
            )
        if start is not None and prefix is not None:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "invalid_range",
                "give either prefix or start and end, not both",
            )
        options: dict[str, Any] = {
            "sort_ascending": sort_ascending(order),
            "limit": limit,
            "filters": parse_filters(self.content_type.model, filters or []),
            "cursor": cursor,
        }
        if start is not None and end is not None:
            pages = self.repo.list_between(_ids(partition_id), start, end, **options)
        else:
            pages = self.repo.list(_ids(partition_id), prefix, **options)
        return _one_page(pages, limit)

    def update(
        self,
        partition_id: list[str] | None,
        content_id: list[str] | None,
        command: UpdateIn,
        if_match: str | None,
    ) -> Response[Any]:
        """Apply a partial update; optimistic locking through If-Match or current_version."""
        version = parse_version(if_match, command.current_version)
        if version != command.current_version:
            command = command.model_copy(update={"current_version": version})
        content = self.repo.update(
            _ids(partition_id), _ids(content_id), command, require_exists=True
        )
        self._written(1)
        return _content_response(content)

    def delete(
        self, partition_id: list[str] | None, content_id: list[str] | None, if_match: str | None
    ) -> Response[str]:
        """Delete one item (204, empty body), or 404 when nothing is stored there."""
        version = parse_version(if_match)
        if not self.repo.delete_item(_ids(partition_id), _ids(content_id), current_version=version):
            raise ApiError(HTTPStatus.NOT_FOUND, "not_found", "no such item")
        return Response(status_code=HTTPStatus.NO_CONTENT, body="")


def _one_page(pages: Iterator[BatchResponse[ModelT]], limit: int) -> Page[ModelT]:
    contents: list[PartitionedContent[ModelT]] = []
    cursor: str | None = None
    for count, page in enumerate(pages, start=1):
        contents.extend(page.contents)
        cursor = page.cursor
        if cursor is None or len(contents) >= limit or count >= MAX_PAGES_PER_REQUEST:
            break
    return Page[ModelT](contents=contents, cursor=cursor)

"""What each route does for one content type: HTTP values in, library call, answer out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from pydantic import BaseModel

from pydantic_dynamo import BatchResponse, PartitionedContent, UnprocessedItemsError
from pydantic_dynamo.aws_errors import ErrorKind
from records_api.errors import ApiError
from records_api.params import DEFAULT_PAGE_SIZE
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
from records_service.topology import LAMBDA_MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

    from pydantic_dynamo import SyncDynamoRepository
    from records_service.content_types import ContentType
    from records_service.repositories import Repositories

__all__ = [
    "MAX_CONTENT_BYTES",
    "MAX_PAGES_PER_REQUEST",
    "ContentOperations",
    "PageRequest",
    "json_response",
    "payload_bytes",
    "to_json",
    "with_contents",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

# Answer a listing after this many DynamoDB pages even when the page is not full
# (sparse filter matches), with the cursor reached: one request stays inside its timeout.
MAX_PAGES_PER_REQUEST = 10

# The contents of one answer stay under this (as they travel in Lambda's response), leaving
# room for the rest of the answer within Lambda's 6 MB: a listing stops early with its cursor,
# a batch get reports the keys it did not read.
MAX_CONTENT_BYTES = LAMBDA_MAX_RESPONSE_BYTES - 1024 * 1024

Ids = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class PageRequest:
    """The page a listing or an index query asks for, as its query string gives it.

    The sort selection (``prefix``, or ``start`` and ``end``: one value per sort-key part, in
    order), the page size, the cursor of the previous page, the order and the ``filter`` values.
    """

    prefix: list[str] | None = None
    start: list[str] | None = None
    end: list[str] | None = None
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None
    order: Literal["asc", "desc"] = "asc"
    filters: list[str] | None = None


def to_json(value: BaseModel) -> bytes:
    """``value``'s JSON, the one serialization of an answer (or of one content in it).

    Compact, with every non-ASCII character escaped as ``json.dumps`` escapes it, so the body is
    what Powertools' own serializer answered: pydantic-core writes it in one pass, and the same
    bytes are measured against the response budget and answered.
    """
    return value.__pydantic_serializer__.to_json(value, ensure_ascii=True)


def payload_bytes(body: bytes) -> int:
    """The bytes the ASCII JSON ``body`` takes in Lambda's response payload.

    Lambda's proxy response carries the body as a JSON string, which escapes every quote and
    backslash once more.

    >>> import json
    >>> from records_service.content_types import FilmActor
    >>> content = PartitionedContent[FilmActor](
    ...     partition_ids=[], content_ids=["a"], item=FilmActor(id="a", name="Zoë"))
    >>> body = json.dumps(content.model_dump(mode="json"), separators=(",", ":"))
    >>> to_json(content) == body.encode()
    True
    >>> payload_bytes(to_json(content)) == len(json.dumps(body)) - 2
    True
    """
    return len(body) + body.count(b'"') + body.count(b"\\")


_CONTENTS = b'{"contents":['


def with_contents(envelope: Page[Any] | BatchGetResult[Any], contents: list[bytes]) -> bytes:
    """The JSON of ``envelope`` (its ``contents`` empty) holding the contents already serialized.

    Each content is serialized once, to be measured, and its bytes go into the answer as they
    are; the envelope's other fields are serialized once, by its own model.

    >>> with_contents(Page[Any](contents=[], cursor=None), [b'{"a":1}', b'{"b":2}'])
    b'{"contents":[{"a":1},{"b":2}],"cursor":null}'
    """
    empty = to_json(envelope)
    if envelope.contents or not empty.startswith(_CONTENTS + b"]"):
        raise ValueError(f"not an envelope with empty contents first: {empty[:40]!r}")
    return _CONTENTS + b",".join(contents) + empty[len(_CONTENTS) :]


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def json_response(
    body: bytes, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> Response[str]:
    """An answer whose body is already JSON: Powertools passes a ``str`` body on as it is."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.decode("ascii"),
        headers=headers,
    )


def _content_response(content: PartitionedContent[Any]) -> Response[str]:
    return json_response(to_json(content), headers=_etag(content.current_version))


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

    def put(
        self, content: ContentIn[ModelT], if_match: str | None, if_none_match: str | None = None
    ) -> Response[str]:
        """Store one content (replacing what is stored at its key) and answer it.

        The stored version is one more than the one it replaces (1 for a new item), never the
        body's: ``If-Match`` or ``current_version`` in the body make the put conditional on
        the stored version instead (``If-Match: *``: on there being an item at all).
        ``If-None-Match: *`` creates only (201, version 1): a stored item raises
        ``ItemExistsError``, answered 412 with its version as ETag.
        """
        if if_none_match is not None:
            return self._create(content, if_match)
        body_version = (
            content.current_version if "current_version" in content.model_fields_set else None
        )
        expected = parse_version(if_match, body_version)
        if if_match is not None and expected is None:
            # "If-Match: *": on there being an (unexpired) item, whatever version it holds.
            expected = self._stored_version(content.partition_ids, content.content_ids)
        # With a version, the library's condition is atomic: the stored, unexpired item must
        # hold it (VersionConflictError / ItemNotFoundError otherwise).
        saved = self.repo.save(content, expected_version=expected)
        self._written(1)
        return _content_response(saved)

    def _create(self, content: ContentIn[ModelT], if_match: str | None) -> Response[str]:
        """Store ``content`` as version 1 where nothing (unexpired) is stored: ``If-None-Match``."""
        if if_match is not None or "current_version" in content.model_fields_set:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "invalid_precondition",
                "If-None-Match: * creates an item: send no If-Match and no current_version",
            )
        created = content.model_copy(update={"current_version": 1})
        self.repo.put(created, if_absent=True)  # safe to resend: a lost answer reads as done
        self._written(1)
        return json_response(to_json(created), HTTPStatus.CREATED, _etag(created.current_version))

    def _stored_version(self, partition_ids: list[str], content_ids: list[str]) -> int:
        """The version stored at a key; a 404 when nothing (unexpired) is stored there."""
        stored = self.repo.get(partition_ids, content_ids).content
        if stored is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "not_found",
                "no such item",
                {"partition_ids": partition_ids, "content_ids": content_ids},
            )
        return stored.current_version

    def put_batch(self, batch: BatchIn[ModelT]) -> Response[str]:
        """Store several contents with BatchWriteItem."""
        self.repo.put_batch(batch.contents)
        self._written(len(batch.contents))
        return json_response(to_json(BatchWriteResult(written=len(batch.contents))))

    def get(self, partition_id: list[str] | None, content_id: list[str] | None) -> Response[str]:
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

    def batch_get(self, request: KeysIn) -> Response[str]:
        """The contents at several keys, which keys hold nothing, and which were not read.

        Reading stops once the contents found fill an answer (``MAX_CONTENT_BYTES``); the keys
        not read then are answered as ``unprocessed``, to ask for again.
        """
        wanted: dict[Ids, Key] = {}
        for key in request.keys:  # BatchGetItem refuses duplicate keys
            wanted.setdefault((tuple(key.partition_ids), tuple(key.content_ids)), key)
        found: list[PartitionedContent[ModelT]] = []
        bodies: list[bytes] = []
        used = 0
        full = False
        try:
            for response in self.repo.get_batch([(list(p), list(c)) for p, c in wanted]):
                for content in response.contents:
                    body = to_json(content)
                    size = payload_bytes(body)
                    if found and used + size > MAX_CONTENT_BYTES:
                        full = True
                        break
                    found.append(content)
                    bodies.append(body)
                    used += size
                if full:
                    break
        except UnprocessedItemsError as error:
            if error.kind is not ErrorKind.THROTTLED:
                raise  # refused or a fault: the error handlers answer 400 or 500
            # items are the (partition_ids, content_ids) the library could not read.
            not_read = [Key(partition_ids=list(p), content_ids=list(c)) for p, c in error.items]
            raise ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "not_read",
                f"{len(not_read)} key(s) were not read after retries (DynamoDB is throttling); "
                "ask for them again",
                {"not_read": [k.model_dump() for k in not_read]},
                headers={"Retry-After": "1"},
            ) from error
        seen = {(tuple(c.partition_ids), tuple(c.content_ids)) for c in found}
        left = [key for ids, key in wanted.items() if ids not in seen]
        if full:  # the keys not in this answer may hold contents: not known to be missing
            result = BatchGetResult[ModelT](contents=[], missing=[], unprocessed=left)
        else:
            result = BatchGetResult[ModelT](contents=[], missing=left, unprocessed=[])
        return json_response(with_contents(result, bodies))

    def list_page(self, partition_id: list[str] | None, page: PageRequest) -> Response[str]:
        """One page of a partition's contents, by content-id prefix or range."""
        between = _sort_range(page)
        options = self._page_options(page)
        if between is not None:
            pages = self.repo.list_between(_ids(partition_id), *between, **options)
        else:
            pages = self.repo.list(_ids(partition_id), page.prefix, **options)
        return _one_page(pages, page.limit, page.cursor)

    def query_index_page(
        self, index: str, partition: Sequence[Any], page: PageRequest
    ) -> Response[str]:
        """One page of an index's entries: ``partition`` holds one value per partition field.

        The sort values (``prefix``, or ``start`` and ``end``) are text, one per sort field in
        order, the last one a prefix of the stored text (``2024-03`` matches all of March).
        """
        between = _sort_range(page)
        options = self._page_options(page)
        if between is not None:
            pages = self.repo.query_index(index, partition, between=between, **options)
        else:
            pages = self.repo.query_index(index, partition, prefix=page.prefix or (), **options)
        return _one_page(pages, page.limit, page.cursor)

    def count(self, partition_id: list[str] | None, page: PageRequest) -> int:
        """How many live contents the listing of ``page``'s selection and filters holds."""
        between = _sort_range(page)
        filters = parse_filters(self.content_type.model, page.filters or [])
        if between is not None:
            return self.repo.count(_ids(partition_id), between=between, filters=filters)
        return self.repo.count(_ids(partition_id), page.prefix, filters=filters)

    def _page_options(self, page: PageRequest) -> dict[str, Any]:
        """The library's paging arguments, shared by a listing and an index query."""
        return {
            "sort_ascending": sort_ascending(page.order),
            "limit": page.limit,
            "filters": parse_filters(self.content_type.model, page.filters or []),
            "cursor": page.cursor,
        }

    def update(
        self,
        partition_id: list[str] | None,
        content_id: list[str] | None,
        command: UpdateIn,
        if_match: str | None,
    ) -> Response[str]:
        """Apply a partial update; optimistic locking through If-Match or current_version."""
        version = parse_version(if_match, command.current_version)
        if version != command.current_version:
            command = command.model_copy(update={"current_version": version})
        # An expired item reads as absent (GET answers 404): the library's condition refuses it
        # atomically (ItemNotFoundError, a 404).
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
        # An expired item reads as absent (see update): the library reports it as not deleted.
        if not self.repo.delete_item(_ids(partition_id), _ids(content_id), current_version=version):
            raise ApiError(HTTPStatus.NOT_FOUND, "not_found", "no such item")
        return Response(status_code=HTTPStatus.NO_CONTENT, body="")


def _sort_range(page: PageRequest) -> tuple[list[str], list[str]] | None:
    """``(start, end)`` when ``page`` asks for a range, ``None`` for a prefix (or all).

    A range takes ``start`` and ``end`` together, of as many values, and not with ``prefix``.
    """
    prefix, start, end = page.prefix, page.start, page.end
    if (start is None) != (end is None):
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "invalid_range",
            "give both start and end (a range), or neither",
        )
    if start is None or end is None:
        return None
    if len(start) != len(end):
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "invalid_range",
            f"start has {len(start)} value(s) and end {len(end)}: give as many of each",
        )
    if prefix is not None:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            "invalid_range",
            "give either prefix or start and end, not both",
        )
    return start, end


def _one_page(
    pages: Iterator[BatchResponse[ModelT]], limit: int, cursor: str | None
) -> Response[str]:
    """Gather DynamoDB pages into one answer, within ``limit`` and ``MAX_CONTENT_BYTES``.

    A page that would take the answer over its size is left for the next request: the answer
    ends with the cursor that leads to it (a first page is always answered, whatever its size).
    Each content is serialized once: the bytes measured are the bytes answered.
    """
    contents: list[bytes] = []
    used = 0
    next_cursor: str | None = None
    for count, page in enumerate(pages, start=1):
        bodies = [to_json(content) for content in page.contents]
        size = sum(payload_bytes(body) for body in bodies)
        if contents and used + size > MAX_CONTENT_BYTES:
            next_cursor = cursor  # the one that leads to this page
            break
        contents.extend(bodies)
        used += size
        next_cursor = cursor = page.cursor
        if cursor is None or len(contents) >= limit or count >= MAX_PAGES_PER_REQUEST:
            break
    return json_response(with_contents(Page[ModelT](contents=[], cursor=next_cursor), contents))

"""Every failure the API can answer, mapped to an HTTP status and an ``ErrorBody``.

Bad input of any kind is a 4xx whose body names the problem: request validation (422, or 400
for malformed JSON), the library's precise errors (400/404/409/413), unknown routes, content
types and indexes (404). AWS errors are answered by their kind
(:func:`pydantic_dynamo.classify`): a refusal is the caller's (400), load is a 503 with
``Retry-After``, and only a fault of the service itself is a 500, whose body carries no
internals.

The mapping is one table, ``ERRORS``: (exception types, the answer). Powertools finds the
handler of a raised exception by its MRO, so the most specific row wins (``ItemNotFoundError``
before ``RequestObjectStateError``, anything before ``Exception``). Each answer is counted where
the route is known: a write refused for its input (400, 413, 422) adds ``InvalidRecords``, one
per record it carried.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
)
from pydantic import ValidationError

from pydantic_dynamo import (
    ConditionFailedError,
    InvalidAttributeError,
    InvalidCursorError,
    InvalidKeyError,
    InvalidQueryError,
    ItemExistsError,
    ItemNotFoundError,
    ItemTooLargeError,
    PartitionedContent,
    RequestObjectStateError,
    UnprocessedItemsError,
    VersionConflictError,
)
from pydantic_dynamo.aws_errors import ErrorKind, classify
from pydantic_dynamo.aws_errors import error_response as aws_error_response
from records_api.paths import BATCH, ITEM, index_of, index_path, route_of
from records_api.schemas import ErrorBody
from records_service import names
from records_service.content_types import CONTENT_TYPES, UnknownContentTypeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

__all__ = ["ERRORS", "ApiError", "Failure", "error_responses", "register_error_handlers"]

# The routes that write records, as (method, path after the content type).
_WRITE_ROUTES = frozenset({("PUT", ""), ("POST", BATCH), ("PATCH", ITEM)})
# The statuses of a write refused for its input (not 404 or 409: the record may be fine).
_BAD_INPUT = frozenset(
    {HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNPROCESSABLE_ENTITY}
)
_INTERNAL: Final = "internal error; the logs carry the details under this request's correlation id"
_RETRY_LATER: Final = {"Retry-After": "1"}


class ApiError(Exception):
    """A request the API refuses for a reason of its own (bad query syntax, no such item...)."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.detail = detail
        self.headers = headers


@dataclass(frozen=True)
class Failure:
    """One error answer: its status, ``ErrorBody`` fields and headers.

    ``log`` names what to log with the answer: ``"error"`` (a fault, with its traceback) or
    ``"warning"``; ``None`` for the caller's own mistakes.
    """

    status: int
    error: str
    message: str
    detail: Any = None
    headers: Mapping[str, str] | None = None
    log: str | None = None

    def response(self) -> Response[dict[str, Any]]:
        """The JSON ``ErrorBody`` response."""
        body = ErrorBody(error=self.error, message=self.message, detail=self.detail)
        return Response(
            status_code=self.status,
            content_type=content_types.APPLICATION_JSON,
            body=body.model_dump(mode="json"),
            headers=self.headers,
        )


_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, a bad query parameter, an attribute the model lacks, "
    "a reserved name, a key DynamoDB would refuse or a bad cursor",
    404: "No such item, route, content type or index",
    409: "Version conflict (optimistic locking)",
    412: "Precondition failed: `If-None-Match: *` and an item is stored (its version as ETag)",
    413: "The item exceeds DynamoDB's 400 KB limit",
    422: "The request does not match the schema (path, query, header or body)",
    503: "DynamoDB kept throttling; `detail` names the contents not written or the keys not "
    "read; retry them after `Retry-After`",
}


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in statuses
    }


def _loc(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_detail(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Never echo "input": it may be large or sensitive; loc + msg name the problem.
    return [
        {"loc": list(e.get("loc", ())), "type": e.get("type", ""), "msg": e.get("msg", "")}
        for e in errors
    ]


def _summary(detail: list[dict[str, Any]]) -> str:
    shown = "; ".join(f"{_loc(d['loc']) or 'request'}: {d['msg']}" for d in detail[:5])
    more = len(detail) - 5
    return shown + (f" (and {more} more)" if more > 0 else "")


def _key_ids(content: Any) -> dict[str, Any]:
    return {
        "partition_ids": list(getattr(content, "partition_ids", [])),
        "content_ids": list(getattr(content, "content_ids", [])),
    }


def _request_validation(exc: RequestValidationError) -> Failure:
    errors = list(exc.errors())
    json_errors = [e for e in errors if e.get("type") == "json_invalid"]
    if json_errors:
        err = json_errors[0]
        reason = (err.get("ctx") or {}).get("error", "invalid JSON")
        position = err.get("loc", ("body", "?"))[-1]
        return Failure(
            HTTPStatus.BAD_REQUEST,
            "malformed_json",
            f"the request body is not valid JSON: {reason} at position {position}",
        )
    detail = _validation_detail(errors)
    return Failure(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", _summary(detail), detail)


def _pydantic_validation(exc: ValidationError) -> Failure:
    detail = _validation_detail(exc.errors(include_url=False, include_input=False))
    return Failure(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", _summary(detail), detail)


def _version_conflict(exc: VersionConflictError) -> Failure:
    detail = {"expected_version": exc.expected_version, "actual_version": exc.actual_version}
    if exc.actual_version is None:  # the item is gone: nothing to conflict with
        return Failure(HTTPStatus.NOT_FOUND, "not_found", "no such item", detail)
    return Failure(
        HTTPStatus.CONFLICT,
        "version_conflict",
        f"version conflict: expected {exc.expected_version}, found {exc.actual_version}",
        detail,
        headers={"ETag": f'"{exc.actual_version}"'},
    )


def _condition_failed(exc: ConditionFailedError) -> Failure:
    stored = exc.item
    version = stored.current_version if isinstance(stored, PartitionedContent) else None
    headers = {"ETag": f'"{version}"'} if version is not None else None
    if isinstance(exc, ItemExistsError):
        return Failure(
            HTTPStatus.PRECONDITION_FAILED,
            "item_exists",
            "an item is stored at this key",
            {"actual_version": version},
            headers=headers,
        )
    return Failure(
        HTTPStatus.PRECONDITION_FAILED,
        "condition_failed",
        str(exc),
        {"actual_version": version},
        headers=headers,
    )


def _unprocessed(exc: UnprocessedItemsError) -> Failure:
    # A batch get answers its own 503 when throttled (operations.batch_get): what reaches here
    # is a batch write, or a batch get DynamoDB refused or failed.
    if exc.kind is ErrorKind.REFUSED:
        return Failure(
            HTTPStatus.BAD_REQUEST, "rejected_by_dynamodb", f"DynamoDB refused the batch: {exc}"
        )
    if exc.kind is ErrorKind.FAULT:  # a missing table, a denied action: not the caller's
        return Failure(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", _INTERNAL, log="error")
    return Failure(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "not_written",
        f"{len(exc.items)} content(s) were not written after retries; the others were",
        {"not_written": [_key_ids(item) for item in exc.items]},
        headers=_RETRY_LATER,
        log="warning",
    )


def _service_error(exc: ServiceError) -> Failure:
    message = exc.msg if isinstance(exc.msg, str) else str(exc.msg)
    error = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return Failure(exc.status_code, error, message)


def _by_kind(exc: Exception) -> Failure:
    """Any other error (an AWS error the library passed on, or a bug), by its kind."""
    kind = classify(exc)
    if kind is ErrorKind.REFUSED:
        message = str(aws_error_response(exc).get("Error", {}).get("Message", "")) or str(exc)
        return Failure(HTTPStatus.BAD_REQUEST, "rejected_by_dynamodb", message)
    if kind is ErrorKind.THROTTLED:
        return Failure(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "throttled",
            "DynamoDB is throttling or unavailable; retry later",
            headers=_RETRY_LATER,
        )
    return Failure(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", _INTERNAL, log="error")


# (exception types, their answer): the whole error mapping of the API.
ERRORS: Final[tuple[tuple[tuple[type[Exception], ...], Callable[[Any], Failure]], ...]] = (
    ((ApiError,), lambda e: Failure(e.status, e.error, e.message, e.detail, e.headers)),
    # json.loads (and validation) recurse once per nesting level.
    (
        (RecursionError,),
        lambda e: Failure(
            HTTPStatus.BAD_REQUEST,
            "malformed_json",
            "the request body is nested too deeply to read",
        ),
    ),
    ((RequestValidationError,), _request_validation),
    ((ValidationError,), _pydantic_validation),
    # Covers ReservedAttributeError and UnsupportedValueError (NaN, infinity...).
    (
        (InvalidAttributeError,),
        lambda e: Failure(
            HTTPStatus.BAD_REQUEST,
            "invalid_attribute",
            str(e),
            {"field": e.field, "kind": type(e).__name__},
        ),
    ),
    (
        (InvalidKeyError,),
        lambda e: Failure(HTTPStatus.BAD_REQUEST, "invalid_key", str(e), {"key": e.key_name}),
    ),
    ((InvalidCursorError,), lambda e: Failure(HTTPStatus.BAD_REQUEST, "invalid_cursor", str(e))),
    ((InvalidQueryError,), lambda e: Failure(HTTPStatus.BAD_REQUEST, "invalid_query", str(e))),
    (
        (ItemTooLargeError,),
        lambda e: Failure(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "item_too_large",
            str(e),
            {"size": e.size, "limit": e.limit},
        ),
    ),
    ((VersionConflictError,), _version_conflict),
    ((ConditionFailedError,), _condition_failed),
    ((ItemNotFoundError,), lambda e: Failure(HTTPStatus.NOT_FOUND, "not_found", "no such item")),
    (
        (RequestObjectStateError,),
        lambda e: Failure(HTTPStatus.CONFLICT, "condition_failed", str(e)),
    ),
    ((UnprocessedItemsError,), _unprocessed),
    (
        (UnknownContentTypeError,),
        lambda e: Failure(HTTPStatus.NOT_FOUND, "unknown_content_type", str(e), {"known": e.known}),
    ),
    ((ServiceError,), _service_error),
    ((Exception,), _by_kind),
)


def _no_route(event: Any, served: Collection[str], indexes: Mapping[str, list[str]]) -> Failure:
    route = route_of(event.path)
    if route is not None and route[0] not in served:
        return Failure(
            HTTPStatus.NOT_FOUND,
            "unknown_content_type",
            str(UnknownContentTypeError(route[0], sorted(served))),
            {"known": sorted(served)},
        )
    index = None if route is None else index_of(route[1])
    if route is not None and index is not None:
        known = indexes.get(route[0], [])
        missing = f"has no index {index!r}" if index else "takes an index name"
        return Failure(
            HTTPStatus.NOT_FOUND,
            "unknown_index",
            f"GET {index_path(route[0], '<index>')}: content type {route[0]!r} {missing}; "
            f"its indexes: {', '.join(known) or 'none'}",
            {"known": known},
        )
    return Failure(
        HTTPStatus.NOT_FOUND,
        "no_route",
        f"no route {event.http_method} {event.path}; see GET /openapi.json",
    )


def _refused_records(event: Any) -> int:
    """How many records a refused request carried: 0 unless it is a write route."""
    route = route_of(event.path)
    if route is None or (event.http_method, route[1]) not in _WRITE_ROUTES:
        return 0
    if route[1] != BATCH:
        return 1
    try:  # a refused batch writes none of its contents
        contents = json.loads(event.body or "").get("contents")
    except (ValueError, AttributeError, RecursionError):
        return 1
    return len(contents) if isinstance(contents, list) and contents else 1


def register_error_handlers(
    app: APIGatewayRestResolver,
    logger: Logger,
    metrics: Metrics,
    served: Collection[str] | None = None,
    indexes: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Install the ``ERRORS`` table and the not-found handler on ``app``.

    ``served`` are the content types the app serves (a path naming another is answered
    ``unknown_content_type``) and ``indexes`` their index names (``/records/{ct}/by/{name}``
    naming another is answered ``unknown_index``); by default the registry's.
    """
    known = sorted(CONTENT_TYPES) if served is None else sorted(served)
    if indexes is None:
        indexes = {name: [i.name for i in ct.indexes] for name, ct in CONTENT_TYPES.items()}
    known_indexes = {name: sorted(index_names) for name, index_names in indexes.items()}

    def answer(failure: Failure) -> Response[dict[str, Any]]:
        if failure.log == "error":
            logger.exception("request failed", extra={"error": failure.error})
        elif failure.log == "warning":
            logger.warning(failure.message, extra={"error": failure.error})
        if failure.status in _BAD_INPUT:
            count = _refused_records(app.current_event)
            if count:
                metrics.add_metric(name=names.METRIC_INVALID_RECORDS, unit="Count", value=count)
        return failure.response()

    for types, to_failure in ERRORS:

        def handle(
            exc: Exception, to_failure: Callable[[Any], Failure] = to_failure
        ) -> Response[dict[str, Any]]:
            return answer(to_failure(exc))

        app.exception_handler(list(types))(handle)

    def not_found(exc: NotFoundError) -> Response[dict[str, Any]]:
        return answer(_no_route(app.current_event, known, known_indexes))

    app.exception_handler(NotFoundError)(not_found)

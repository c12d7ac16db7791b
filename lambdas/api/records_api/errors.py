"""Every failure the API can answer, mapped to an HTTP status and an ``ErrorBody``.

Bad input of any kind is a 4xx whose body names the problem: request validation (422, or 400
for malformed JSON), the library's precise errors (400/404/409/413), unknown routes and content
types (404). Only a fault of the service itself is a 500, and its body carries no internals.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
)
from pydantic import ValidationError

from pydantic_dynamo import (
    InvalidAttributeError,
    InvalidCursorError,
    InvalidKeyError,
    ItemNotFoundError,
    ItemTooLargeError,
    RequestObjectStateError,
    UnprocessedItemsError,
    VersionConflictError,
)
from pydantic_dynamo.client import error_code
from pydantic_dynamo.client import error_response as aws_error_response
from pydantic_dynamo.retry import RETRYABLE_ERROR_CODES
from records_api.paths import BATCH, ITEM, route_of
from records_api.schemas import ErrorBody
from records_service import names
from records_service.content_types import CONTENT_TYPES, UnknownContentTypeError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

__all__ = ["ApiError", "error_responses", "register_error_handlers"]

# The routes that write records, as (method, path after the content type).
_WRITE_ROUTES = frozenset({("PUT", ""), ("POST", BATCH), ("PATCH", ITEM)})
# The statuses of a write refused for its input (not 404 or 409: the record may be fine).
_BAD_INPUT = frozenset(
    {HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNPROCESSABLE_ENTITY}
)
# Load, not faults: the caller may retry later (the library already retried with backoff).
_THROTTLED = RETRYABLE_ERROR_CODES
# DynamoDB refused the request itself (a value or item it will not store): the caller's input.
_REFUSED = "ValidationException"


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


def error_response(
    status: int,
    error: str,
    message: str,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """A JSON ``ErrorBody`` response."""
    body = ErrorBody(error=error, message=message, detail=detail).model_dump(mode="json")
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers,
    )


_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, a bad query parameter, an attribute the model lacks, "
    "a reserved name, a key DynamoDB would refuse or a bad cursor",
    404: "No such item, route or content type",
    409: "Version conflict (optimistic locking)",
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


def _on_request_validation(exc: RequestValidationError) -> Response[dict[str, Any]]:
    errors = list(exc.errors())
    json_errors = [e for e in errors if e.get("type") == "json_invalid"]
    if json_errors:
        err = json_errors[0]
        reason = (err.get("ctx") or {}).get("error", "invalid JSON")
        position = err.get("loc", ("body", "?"))[-1]
        return error_response(
            HTTPStatus.BAD_REQUEST,
            "malformed_json",
            f"the request body is not valid JSON: {reason} at position {position}",
        )
    detail = _validation_detail(errors)
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", _summary(detail), detail
    )


def _on_pydantic_validation(exc: ValidationError) -> Response[dict[str, Any]]:
    detail = _validation_detail(exc.errors(include_url=False, include_input=False))
    return error_response(
        HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", _summary(detail), detail
    )


def _key_ids(content: Any) -> dict[str, Any]:
    return {
        "partition_ids": list(getattr(content, "partition_ids", [])),
        "content_ids": list(getattr(content, "content_ids", [])),
    }


def _refused_records(app: APIGatewayRestResolver) -> int:
    """How many records a refused request carried: 0 unless it is a write route."""
    event = app.current_event
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


ErrorHandlerT = TypeVar("ErrorHandlerT", bound=Callable[..., Response[dict[str, Any]]])


def _on(
    app: APIGatewayRestResolver, exc_class: type[Exception]
) -> Callable[[ErrorHandlerT], ErrorHandlerT]:
    """``app.exception_handler``, typed."""

    def register(func: ErrorHandlerT) -> ErrorHandlerT:
        app.exception_handler(exc_class)(func)
        return func

    return register


def register_error_handlers(app: APIGatewayRestResolver, logger: Logger, metrics: Metrics) -> None:
    """Install the exception handlers and the not-found handler on ``app``.

    A write refused for its input (400, 413, 422) counts ``InvalidRecords``: one per record it
    carried (every content of a refused batch).
    """

    def refused(response: Response[dict[str, Any]]) -> Response[dict[str, Any]]:
        if response.status_code in _BAD_INPUT:
            count = _refused_records(app)
            if count:
                metrics.add_metric(name=names.METRIC_INVALID_RECORDS, unit="Count", value=count)
        return response

    @_on(app, ApiError)
    def _api_error(exc: ApiError) -> Response[dict[str, Any]]:
        return refused(error_response(exc.status, exc.error, exc.message, exc.detail, exc.headers))

    @_on(app, RecursionError)
    def _too_deep(exc: RecursionError) -> Response[dict[str, Any]]:
        # json.loads (and validation) recurse once per nesting level.
        return refused(
            error_response(
                HTTPStatus.BAD_REQUEST,
                "malformed_json",
                "the request body is nested too deeply to read",
            )
        )

    @_on(app, RequestValidationError)
    def _request_validation(exc: RequestValidationError) -> Response[dict[str, Any]]:
        return refused(_on_request_validation(exc))

    @_on(app, ValidationError)
    def _pydantic_validation(exc: ValidationError) -> Response[dict[str, Any]]:
        return refused(_on_pydantic_validation(exc))

    @_on(app, InvalidAttributeError)
    def _invalid_attribute(exc: InvalidAttributeError) -> Response[dict[str, Any]]:
        # Covers ReservedAttributeError and UnsupportedValueError (NaN, infinity...).
        return refused(
            error_response(
                HTTPStatus.BAD_REQUEST,
                "invalid_attribute",
                str(exc),
                {"field": exc.field, "kind": type(exc).__name__},
            )
        )

    @_on(app, InvalidKeyError)
    def _invalid_key(exc: InvalidKeyError) -> Response[dict[str, Any]]:
        return refused(
            error_response(HTTPStatus.BAD_REQUEST, "invalid_key", str(exc), {"key": exc.key_name})
        )

    @_on(app, InvalidCursorError)
    def _invalid_cursor(exc: InvalidCursorError) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.BAD_REQUEST, "invalid_cursor", str(exc))

    @_on(app, ItemTooLargeError)
    def _too_large(exc: ItemTooLargeError) -> Response[dict[str, Any]]:
        return refused(
            error_response(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "item_too_large",
                str(exc),
                {"size": exc.size, "limit": exc.limit},
            )
        )

    @_on(app, VersionConflictError)
    def _conflict(exc: VersionConflictError) -> Response[dict[str, Any]]:
        detail = {"expected_version": exc.expected_version, "actual_version": exc.actual_version}
        if exc.actual_version is None:  # the item is gone: nothing to conflict with
            return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such item", detail)
        return error_response(
            HTTPStatus.CONFLICT,
            "version_conflict",
            f"version conflict: expected {exc.expected_version}, found {exc.actual_version}",
            detail,
            headers={"ETag": f'"{exc.actual_version}"'},
        )

    @_on(app, ItemNotFoundError)
    def _missing(exc: ItemNotFoundError) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such item")

    @_on(app, RequestObjectStateError)
    def _state(exc: RequestObjectStateError) -> Response[dict[str, Any]]:
        return error_response(HTTPStatus.CONFLICT, "condition_failed", str(exc))

    @_on(app, UnprocessedItemsError)
    def _unprocessed(exc: UnprocessedItemsError) -> Response[dict[str, Any]]:
        # A batch get answers its own 503 when throttled (operations.batch_get): what reaches
        # here is a batch write, or a batch get DynamoDB refused or failed.
        if exc.code == _REFUSED:
            return refused(
                error_response(
                    HTTPStatus.BAD_REQUEST,
                    "rejected_by_dynamodb",
                    f"DynamoDB refused the batch: {exc}",
                )
            )
        if exc.code is not None and exc.code not in _THROTTLED:
            # Not load but a fault (a missing table, a denied action): not the caller's to retry.
            logger.exception("batch write failed", extra={"code": exc.code})
            return error_response(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "internal_error",
                "internal error; the logs carry the details under this request's correlation id",
            )
        logger.warning("batch write gave up", extra={"not_written": len(exc.items)})
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "not_written",
            f"{len(exc.items)} content(s) were not written after retries; the others were",
            {"not_written": [_key_ids(item) for item in exc.items]},
            headers={"Retry-After": "1"},
        )

    @_on(app, UnknownContentTypeError)
    def _unknown_type(exc: UnknownContentTypeError) -> Response[dict[str, Any]]:
        return error_response(
            HTTPStatus.NOT_FOUND, "unknown_content_type", str(exc), {"known": exc.known}
        )

    @_on(app, NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[dict[str, Any]]:
        event = app.current_event
        route = route_of(event.path)
        if route is not None and route[0] not in CONTENT_TYPES:
            unknown: Response[dict[str, Any]] = _unknown_type(
                UnknownContentTypeError(route[0], sorted(CONTENT_TYPES))
            )
            return unknown
        return error_response(
            HTTPStatus.NOT_FOUND,
            "no_route",
            f"no route {event.http_method} {event.path}; see GET /openapi.json",
        )

    @_on(app, ServiceError)
    def _service_error(exc: ServiceError) -> Response[dict[str, Any]]:
        message = exc.msg if isinstance(exc.msg, str) else str(exc.msg)
        error = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return error_response(exc.status_code, error, message)

    @_on(app, Exception)
    def _unexpected(exc: Exception) -> Response[dict[str, Any]]:
        code = error_code(exc)
        if code == _REFUSED:
            message = str(aws_error_response(exc)["Error"].get("Message", ""))
            return refused(error_response(HTTPStatus.BAD_REQUEST, "rejected_by_dynamodb", message))
        if code in _THROTTLED:
            return error_response(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "throttled",
                "DynamoDB is throttling or unavailable; retry later",
                headers={"Retry-After": "1"},
            )
        logger.exception("unhandled error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; the logs carry the details under this request's correlation id",
        )

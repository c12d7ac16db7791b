"""The API's routes: the same eight operations for every content type in the registry.

Each content type gets its own concrete routes (``/records/actor``, ``/records/review``...) typed
with its own model, so request validation is exact and the OpenAPI document shows every model,
and one query route per index it declares (``index_routes``). This module declares the routes
(paths, parameters, OpenAPI metadata); ``operations`` holds what they do, and the library does
the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from pydantic import BaseModel

from records_api.collection_routes import register_collection_routes
from records_api.errors import ApiError, error_responses
from records_api.index_routes import register_indexes
from records_api.operations import ContentOperations, PageRequest
from records_api.params import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PAGING,
    answer,
    page_parameters,
)
from records_api.paths import BATCH, BATCH_GET, ITEM, content_path, index_path
from records_api.query import IF_MATCH_PATTERN
from records_api.schemas import (
    BatchGetResult,
    BatchIn,
    BatchWriteResult,
    ContentIn,
    Health,
    KeysIn,
    Page,
    UpdateFor,
    exact_bounds,
)
from records_service.content_types import ContentType

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from records_service.repositories import Repositories

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FORWARDED_METHODS",
    "MAX_PAGE_SIZE",
    "register_content_type",
    "register_routes",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

# What API Gateway's ANY method forwards to the function.
FORWARDED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_PARTITION_ID = Query(
    description="One partition id; repeat the parameter for several (in order).",
)
_CONTENT_ID = Query(description="One content id; repeat the parameter for several (in order).")
_IF_MATCH = Header(
    alias="If-Match",
    description='The version the item must hold, as in the ETag this API returned ("3"); '
    "`*` only requires that the item exists.",
    pattern=IF_MATCH_PATTERN,
)

# Optional parameters are typed without ``| None``: an absent one is None (the function's
# default), and the document does not offer ``null``, which a query string or header cannot
# carry (a client would send the text "null").
PartitionIds = Annotated[list[str], _PARTITION_ID]
ContentIds = Annotated[list[str], _CONTENT_ID]
IfMatch = Annotated[str, _IF_MATCH]
_IF_NONE_MATCH = Header(
    alias="If-None-Match",
    description="`*`: create the item only if none is stored at its key (else 412, with the "
    "stored version as ETag).",
)
IfNoneMatch = Annotated[Literal["*"], _IF_NONE_MATCH]


def _with_types(func: Callable[..., Any], **params: Any) -> Callable[..., Any]:
    """Give ``func`` the concrete parameter annotations Powertools reads to validate them.

    The route functions are built per content type, so their types are only known at run time.
    No return annotation: each operation answers a body it serialized once, from its model, and
    measured against the response budget (``operations.to_json``); Powertools passes it on as
    it is. The route's ``responses`` declare that model (``params.answer``) for the document.
    """
    func.__annotations__ = dict(params)
    return func


def register_content_type(app: APIGatewayRestResolver, ops: ContentOperations[Any]) -> None:
    """Add the routes of one content type (``ops.content_type``) to ``app``."""
    ct = ops.content_type
    base = content_path(ct.name)
    tags = [ct.name]
    stored = ct.content_model
    content_in = ContentIn[ct.model]  # type: ignore[name-defined]
    update_in = UpdateFor(ct.model)

    def put_content(content: Any, if_match: Any = None, if_none_match: Any = None) -> Any:
        return ops.put(content, if_match, if_none_match)

    def put_batch(batch: Any) -> Any:
        return ops.put_batch(batch)

    def get_item(partition_id: Any = None, content_id: Any = None) -> Any:
        return ops.get(partition_id, content_id)

    def batch_get(request: Any) -> Any:
        return ops.batch_get(request)

    def list_contents(
        partition_id: Any = None,
        prefix: Any = None,
        start: Any = None,
        end: Any = None,
        limit: Any = DEFAULT_PAGE_SIZE,
        cursor: Any = None,
        order: Any = "asc",
        filters: Any = None,
    ) -> Any:
        page = PageRequest(prefix, start, end, limit, cursor, order, filters)
        return ops.list_page(partition_id, page)

    def update_item(
        command: Any, partition_id: Any = None, content_id: Any = None, if_match: Any = None
    ) -> Any:
        return ops.update(partition_id, content_id, command.command(), if_match)

    def delete_item(partition_id: Any = None, content_id: Any = None, if_match: Any = None) -> Any:
        return ops.delete(partition_id, content_id, if_match)

    ids_query = {"partition_id": PartitionIds, "content_id": ContentIds}

    app.put(
        base,
        summary=f"Store one {ct.name}",
        description="Replaces whatever is stored at the content's key. The stored version is "
        "one more than the version it replaces (1 for a new item), whatever the body says. "
        'Send `If-Match: "<version>"` (the ETag) or `current_version` in the body to replace '
        "only that version (`If-Match: *`: only an existing item). Send `If-None-Match: *` to "
        "create only: 201 with version 1, or 412 when an item is stored (its version as "
        "ETag). Answers the stored content; its ETag is the stored version.",
        operation_id=f"put_{ct.name}",
        tags=tags,
        responses={
            200: answer("The stored content", stored),
            201: answer("The created content (`If-None-Match: *`)", stored),
            **error_responses(400, 404, 409, 412, 413, 422),
        },
    )(
        _with_types(
            put_content,
            content=Annotated[content_in, Body()],
            if_match=IfMatch,
            if_none_match=IfNoneMatch,
        )
    )

    app.post(
        content_path(ct.name, BATCH),
        summary=f"Store several {ct.name} contents (BatchWriteItem)",
        description="Replaces whatever is stored at each content's key, as given: each stored "
        "version is the content's `current_version` (default 1), not one more than before. "
        "Use the single put for versions that never go backwards.",
        operation_id=f"put_{ct.name}_batch",
        tags=tags,
        responses={
            200: answer("All contents were written", BatchWriteResult),
            **error_responses(400, 413, 422, 503),
        },
    )(
        _with_types(
            put_batch,
            batch=Annotated[BatchIn[ct.model], Body()],  # type: ignore[name-defined]
        )
    )

    app.get(
        content_path(ct.name, ITEM),
        summary=f"Get one {ct.name}",
        operation_id=f"get_{ct.name}",
        tags=tags,
        responses={200: answer("The content", stored), **error_responses(400, 404, 422)},
    )(_with_types(get_item, **ids_query))

    app.post(
        content_path(ct.name, BATCH_GET),
        summary=f"Get several {ct.name} contents (BatchGetItem)",
        operation_id=f"get_{ct.name}_batch",
        tags=tags,
        responses={
            200: answer(
                "The contents found, the keys missing, and the keys not read "
                "because the answer was full (ask for those again)",
                BatchGetResult[ct.model],  # type: ignore[name-defined]
            ),
            **error_responses(400, 422, 503),
        },
    )(
        _with_types(
            batch_get,
            request=Annotated[KeysIn, Body()],
        )
    )

    app.get(
        base,
        summary=f"List {ct.name} contents of a partition",
        description="By content-id prefix (`prefix`, repeatable) or inclusive range (`start` "
        f"and `end`, repeatable), in sort-key order. {PAGING}",
        operation_id=f"list_{ct.name}",
        tags=tags,
        responses={
            200: answer("One page", Page[ct.model]),  # type: ignore[name-defined]
            **error_responses(400, 422),
        },
    )(
        _with_types(
            list_contents,
            partition_id=PartitionIds,
            prefix=Annotated[
                list[str], Query(description="Content-id prefix; repeat for several ids")
            ],
            start=Annotated[list[str], Query(description="Range start (inclusive), repeatable")],
            end=Annotated[list[str], Query(description="Range end (inclusive), repeatable")],
            **page_parameters(ct.model),
        )
    )

    app.patch(
        content_path(ct.name, ITEM),
        summary=f"Update one {ct.name} (partial, optimistic locking)",
        description='The body is an UpdateCommand. Send `If-Match: "<version>"` (the ETag) '
        "or `current_version` in the body to update only that version. Answers the new "
        "stored state.",
        operation_id=f"update_{ct.name}",
        tags=tags,
        responses={
            200: answer("The updated content", stored),
            **error_responses(400, 404, 409, 413, 422),
        },
    )(
        _with_types(
            update_item,
            command=Annotated[update_in, Body()],
            if_match=IfMatch,
            **ids_query,
        )
    )

    app.delete(
        content_path(ct.name, ITEM),
        summary=f"Delete one {ct.name}",
        operation_id=f"delete_{ct.name}",
        tags=tags,
        # "content": {} documents the empty body (the default would claim a JSON one).
        responses={
            204: {"description": "Deleted", "content": {}},
            **error_responses(400, 404, 409, 422),
        },
    )(_with_types(delete_item, if_match=IfMatch, **ids_query))


def register_routes(
    app: APIGatewayRestResolver,
    registry: Iterable[ContentType[Any]],
    repositories: Repositories,
    metrics: Metrics,
) -> None:
    """Add the routes of every content type, ``/health`` and ``/openapi.json`` to ``app``."""
    registry = list(registry)
    served = []
    for content_type in registry:
        ops = ContentOperations(content_type, repositories, metrics)
        register_content_type(app, ops)
        register_indexes(app, ops)
        served.append(content_type.name)

    @app.get("/health", summary="Liveness", operation_id="health", tags=["service"])
    def health() -> Health:
        return Health(status="ok", content_types=served)

    schema: list[str] = []  # built on first request: it costs more than a cold start should

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        if not schema:
            schema.append(exact_bounds(app.get_openapi_json_schema()))
        return Response(
            status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=schema[0]
        )

    declared: dict[str, tuple[str, ...]] = {"/health": ("GET",), "/openapi.json": ("GET",)}
    for content_type in registry:
        name = content_type.name
        declared |= {content_path(name, tail): methods for tail, methods in _METHODS.items()}
        declared |= {index_path(name, index.name): ("GET",) for index in content_type.indexes}
    declared |= register_collection_routes(app, registry, repositories, metrics)
    _refuse_undeclared_methods(app, declared)


# The methods register_content_type declares on each path (after the content type).
_METHODS: dict[str, tuple[str, ...]] = {
    "": ("GET", "PUT"),
    BATCH: ("POST",),
    ITEM: ("GET", "PATCH", "DELETE"),
    BATCH_GET: ("POST",),
}


def _refuse_undeclared_methods(
    app: APIGatewayRestResolver, declared: dict[str, tuple[str, ...]]
) -> None:
    """Answer every method a path does not declare 405 with ``Allow`` (``OPTIONS``: 204).

    RFC 9110: a 405 lists the methods the resource supports; so does an answer to OPTIONS.
    """
    for path, methods in declared.items():
        allow = ", ".join(sorted({*methods, "OPTIONS"}))
        others = [m for m in FORWARDED_METHODS if m not in methods]

        def refuse(allow: str = allow) -> Response[str]:
            method = app.current_event.http_method.upper()
            if method == "OPTIONS":
                return Response(
                    status_code=HTTPStatus.NO_CONTENT, body="", headers={"Allow": allow}
                )
            raise ApiError(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "method_not_allowed",
                f"{method} is not a method of {app.current_event.path}; it takes {allow}",
                {"allow": allow.split(", ")},
                headers={"Allow": allow},
            )

        app.route(path, method=others, include_in_schema=False)(refuse)

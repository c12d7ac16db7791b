"""The index queries: ``GET /records/{ct}/by/{index}``, one route per declared index.

Each route takes exactly its index's parameters, so the OpenAPI document states them:

- each partition field, as a required query parameter named by the field and read as the
  field's type (``/records/actor/by/by_name?name=Steve%20Buscemi``); an index on a local
  index, whose partition is the item's own, takes the listing's ``partition_id`` instead;
- on an index with sort fields, ``prefix`` or ``start`` and ``end`` (repeatable: one value per
  sort field, in order), as text: the last value is a prefix of the stored text, so
  ``prefix=2024-03`` on a date-time matches all of March, and ``end`` includes every entry
  that begins with it;
- the listing's ``limit``, ``cursor``, ``order`` and ``filter`` (``params.page_parameters``).

The answer is the listing's ``Page``. ``operations.ContentOperations.query_index_page`` does
the work; an index name no route serves is answered 404 ``unknown_index`` (``errors``).

>>> from aws_lambda_powertools.event_handler import APIGatewayRestResolver
>>> from records_service.content_types import content_type
>>> actor = content_type("actor")
>>> [p.name for p in index_parameters(actor.model, actor.indexes[0])]
['name', 'prefix', 'start', 'end', 'limit', 'cursor', 'order', 'filters']
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from pydantic_dynamo.table import IndexKind
from records_api.errors import error_responses
from records_api.operations import PageRequest
from records_api.params import DEFAULT_PAGE_SIZE, PAGING, answer, page_parameters
from records_api.paths import index_path
from records_api.query import value_type
from records_api.schemas import Page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from pydantic import BaseModel

    from pydantic_dynamo.indexes import Index
    from records_api.operations import ContentOperations

__all__ = ["RESERVED_PARAMETERS", "index_parameters", "register_indexes"]

_DEFAULTS: dict[str, Any] = {"limit": DEFAULT_PAGE_SIZE, "order": "asc"}
# A query route's own parameters (``filters`` is ``filter`` in the query string): no partition
# field may be named like one.
RESERVED_PARAMETERS = frozenset(
    {"prefix", "start", "end", "limit", "cursor", "order", "filter", "filters"}
)
_PARTITION_IDS = Annotated[
    list[str],
    Query(description="The partition's ids (repeatable, in order), as in the listing"),
]


def _is_local(index: Index) -> bool:
    return index.on.kind is IndexKind.LOCAL


def _sort_parameters(index: Index) -> dict[str, Any]:
    fields = ", ".join(f"`{name}`" for name in index.sort)
    count = len(index.sort)
    each = f"One value per sort field ({fields}), in order, at most {count}; text as stored"

    def text(description: str) -> Any:
        return Annotated[list[str], Query(max_length=count, description=description)]

    return {
        "prefix": text(f"{each}, the last one a prefix of it (`2024-03` of a date-time)"),
        "start": text(f"Range start (inclusive). {each}"),
        "end": text(f"Range end (inclusive: it includes every entry beginning with it). {each}"),
    }


def index_parameters(model: type[BaseModel], index: Index) -> list[inspect.Parameter]:
    """The parameters of ``index``'s query route, in order, typed for Powertools to validate."""
    clash = RESERVED_PARAMETERS.intersection(index.partition)
    if clash:
        raise ValueError(
            f"index {index.name!r}: partition field(s) {sorted(clash)} would be query parameters "
            f"named like the route's own ({', '.join(sorted(RESERVED_PARAMETERS))}); rename them"
        )
    parameters = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                value_type(model, name),
                Query(description=f"The entries' `{name}`, read as the field's type"),
            ],
        )
        for name in index.partition
    ]
    optional = {
        **({"partition_id": _PARTITION_IDS} if _is_local(index) else {}),
        **(_sort_parameters(index) if index.sort else {}),
        **page_parameters(model),
    }
    parameters += [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=_DEFAULTS.get(name), annotation=kind
        )
        for name, kind in optional.items()
    ]
    return parameters


def _description(ops: ContentOperations[Any], index: Index) -> str:
    ct = ops.content_type
    if _is_local(index):
        where = "of one partition (`partition_id`, as in the listing)"
    elif index.partition:
        fields = ", ".join(f"`{name}`" for name in index.partition)
        where = f"with the given {fields} (a query parameter per field, named by it)"
    else:
        where = "(all in one index partition)"
    order = (
        "in the order of " + ", ".join(f"`{name}`" for name in index.sort) + " (as text); "
        "select by `prefix` or by inclusive range (`start` and `end`), one value per field"
        if index.sort
        else "in no particular order"
    )
    return (
        f"The {ct.name} contents in index `{index.name}` {where}, {order}. {PAGING} A cursor "
        "answered by another route is refused (400). The index is eventually consistent: a "
        "write shows in it shortly after."
    )


def _register(app: APIGatewayRestResolver, ops: ContentOperations[Any], index: Index) -> None:
    ct = ops.content_type
    signature = inspect.Signature(index_parameters(ct.model, index))

    def query_index(**values: Any) -> Any:
        if _is_local(index):  # the item's own partition: its partition ids
            partition = list(values.pop("partition_id") or [])
        else:
            partition = [values.pop(name) for name in index.partition]
        return ops.query_index_page(index.name, partition, PageRequest(**values))

    # Powertools reads the route's parameters from its signature: this index's own.
    query_index.__signature__ = signature  # type: ignore[attr-defined]
    app.get(
        index_path(ct.name, index.name),
        summary=f"Query {ct.name} contents by index {index.name}",
        description=_description(ops, index),
        operation_id=f"query_{ct.name}_{index.name}",
        tags=[ct.name],
        responses={
            200: answer("One page", Page[ct.model]),  # type: ignore[name-defined]
            **error_responses(400, 422),
        },
    )(query_index)


def register_indexes(app: APIGatewayRestResolver, ops: ContentOperations[Any]) -> None:
    """Add the query route of each index of ``ops.content_type`` to ``app``."""
    for index in ops.content_type.indexes:
        _register(app, ops, index)

"""What the paged routes share: their page parameters and how they document an answer.

A listing (``GET /records/{ct}``) and an index query (``GET /records/{ct}/by/{index}``) take the
same ``limit``, ``cursor``, ``order`` and ``filter`` and answer the same ``Page``; they are
declared once here so that both routes state them alike in the OpenAPI document.

>>> from records_service.content_types import FilmActor
>>> sorted(page_parameters(FilmActor))
['cursor', 'filters', 'limit', 'order']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from records_api.query import CURSOR_PATTERN, FILTER_SYNTAX, filter_pattern

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "PAGING", "answer", "page_parameters"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# How a paged route answers, in its description.
PAGING = (
    "Answers up to `limit` contents and a `cursor` to pass back for the next page (`null` at "
    "the end); a page may hold fewer than `limit` contents when filters skip items, so "
    "continue while a cursor is given."
)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")]
Cursor = Annotated[
    str,
    Query(
        min_length=1,
        max_length=8192,
        pattern=CURSOR_PATTERN,
        description="The cursor of the previous page, as this route answered it",
    ),
]
Order = Annotated[Literal["asc", "desc"], Query(description="Sort-key order")]


def page_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """The annotations of a paged route's ``limit``, ``cursor``, ``order`` and ``filters``.

    ``filters`` is the ``filter`` query parameter (repeatable), naming ``model``'s attributes.
    """
    return {
        "limit": Limit,
        "cursor": Cursor,
        "order": Order,
        "filters": Annotated[
            # Documented, checked by parse_filters: its 400 says what is wrong and how.
            list[Annotated[str, Field(json_schema_extra={"pattern": filter_pattern(model)})]],
            Query(alias="filter", description=FILTER_SYNTAX),
        ],
    }


def answer(description: str, model: Any) -> OpenAPIResponse:
    """A 200 answering ``model`` as JSON, for the document (the route does not annotate it)."""
    return {"description": description, "content": {"application/json": {"model": model}}}

"""The API's query-string and header syntax, turned into library arguments.

Filters
-------
``filter=<field>:<op>[:<value>]``, repeatable, all ANDed (the library's ``FilterCommand``).
``field`` is a model attribute, dotted for nested models (``address.city``). Operators:

========================  =====================================================
``eq`` ``ne``             equal / not equal
``lt`` ``le`` ``gt``      ordering comparisons
``ge``
``begins_with``           string prefix
``contains``              substring, or an element of a list/set attribute
``between``               ``field:between:[low, high]`` (a JSON array), inclusive
``in``                    ``field:in:["a", "b"]`` (a JSON array)
``exists`` ``not_exists`` no value
========================  =====================================================

A value is read as the attribute's type (``rating:gt:4`` compares numbers,
``created:ge:2023-01-01T00:00:00Z`` datetimes), so it matches what is stored. Everything after
the second ``:`` is the value, so values may contain colons.

>>> from records_service.content_types import ActorReview
>>> parse_filters(ActorReview, ["review:contains:hero", "created:ge:2023-01-01T00:00:00Z"]).contains
{'review': 'hero'}
"""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from pydantic_dynamo import FilterCommand, InvalidAttributeError
from records_api.errors import ApiError

__all__ = [
    "CURSOR_PATTERN",
    "FILTER_SYNTAX",
    "IF_MATCH_PATTERN",
    "filter_pattern",
    "parse_filters",
    "parse_version",
    "sort_ascending",
    "value_type",
]

FILTER_SYNTAX = (
    "Repeatable, ANDed: field:op[:value]. op is one of eq, ne, lt, le, gt, ge, begins_with, "
    "contains, between, in, exists, not_exists; between and in take a JSON array "
    '(rating:between:[1,5], name:in:["a","b"]). Values are read as the field\'s type.'
)

# query operator -> FilterCommand attribute
_OPERATORS: dict[str, str] = {
    "eq": "equals",
    "ne": "not_equals",
    "lt": "lt",
    "le": "le",
    "gt": "gt",
    "ge": "ge",
    "begins_with": "begins_with",
    "contains": "contains",
    "between": "between",
    "in": "is_in",
    "exists": "exists",
    "not_exists": "not_exists",
}
_NO_VALUE = frozenset({"exists", "not_exists"})
# The library's cursors are unpadded URL-safe base64.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SEQUENCES = (list, set, frozenset, tuple)


def _bad_filter(raw: str, why: str) -> ApiError:
    return ApiError(400, "invalid_filter", f"filter {raw!r}: {why}", {"syntax": FILTER_SYNTAX})


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


@functools.cache
def _field_type(model: type[BaseModel], path: str) -> Any:
    """The annotation of ``path`` in ``model``, following nested models and dict values."""
    annotation: Any = model
    for depth, name in enumerate(path.split(".")):
        annotation = _strip_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(name)
            if field is None:
                where = ".".join(path.split(".")[:depth]) or model.__name__
                raise InvalidAttributeError(path, f"{where} has no attribute {name!r}")
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1] if get_args(annotation) else Any
        else:
            raise InvalidAttributeError(path, f"{name!r} is not inside a model or mapping")
    return annotation


def value_type(model: type[BaseModel], name: str) -> Any:
    """The type a query value of ``model``'s field ``name`` is read as.

    The field's annotation without ``None`` (a query string cannot carry a null), with the
    field's constraints.

    >>> from pydantic import Field
    >>> class Sample(BaseModel):
    ...     size: int | None = Field(default=None, ge=0)
    >>> value_type(Sample, "size")
    typing.Annotated[int, Ge(ge=0)]
    """
    field = model.model_fields[name]
    annotation = _strip_optional(field.annotation)
    return Annotated[(annotation, *field.metadata)] if field.metadata else annotation


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _element_type(annotation: Any) -> Any:
    annotation = _strip_optional(annotation)
    if get_origin(annotation) in _SEQUENCES:
        args = get_args(annotation)
        return args[0] if args else Any
    return annotation


def _convert(raw: str, annotation: Any, value: Any) -> Any:
    try:
        return _adapter(annotation).validate_python(value)
    except ValidationError as exc:
        reason = exc.errors(include_url=False)[0]["msg"]
        raise _bad_filter(raw, f"value {value!r} does not fit the field: {reason}") from None


def _json_array(raw: str, text: str, length: int | None) -> list[Any]:
    try:
        values = json.loads(text)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, list) or (length is not None and len(values) != length):
        shape = f"a JSON array of {length} values" if length else "a JSON array"
        raise _bad_filter(raw, f"the value must be {shape}, got {text!r}")
    return values


def filter_pattern(model: type[BaseModel]) -> str:
    """The ``filter=`` syntax as a regular expression naming ``model``'s attributes.

    The document can say which attributes and operators exist, not whether a value reads as
    its attribute's type (a 400 ``invalid_filter`` when it does not).

    >>> from records_service.content_types import FilmActor
    >>> pattern = re.compile(filter_pattern(FilmActor))
    >>> bool(pattern.match("name:eq:Jo")), bool(pattern.match("age:eq:3"))
    (True, False)
    """
    names = []
    for name, field in model.model_fields.items():
        inner = _strip_optional(field.annotation)
        nested = (
            get_origin(inner) is dict
            or inner is dict
            or (isinstance(inner, type) and issubclass(inner, BaseModel))
        )
        names.append(re.escape(name) + (r"(\.[A-Za-z_][A-Za-z0-9_]*)*" if nested else ""))
    valued = "|".join(op for op in _OPERATORS if op not in _NO_VALUE)
    bare = "|".join(sorted(_NO_VALUE))
    return rf"^({'|'.join(names)}):(({valued}):[\s\S]*|({bare}))$"


def parse_filters(model: type[BaseModel], raw_filters: Sequence[str]) -> FilterCommand | None:
    """A ``FilterCommand`` from ``filter=`` query values (``None`` when there are none)."""
    if not raw_filters:
        return None
    command: dict[str, Any] = {}
    for raw in raw_filters:
        parts = raw.split(":", 2)
        if len(parts) < 2:
            raise _bad_filter(raw, "expected field:op[:value]")
        path, op = parts[0], parts[1]
        if not _FIELD.match(path):
            raise _bad_filter(raw, f"{path!r} is not an attribute name")
        target = _OPERATORS.get(op)
        if target is None:
            raise _bad_filter(raw, f"unknown operator {op!r}; use one of {', '.join(_OPERATORS)}")
        annotation = _field_type(model, path)
        if op in _NO_VALUE:
            if len(parts) == 3:
                raise _bad_filter(raw, f"{op} takes no value")
            command.setdefault(target, set()).add(path)
            continue
        if len(parts) < 3:
            raise _bad_filter(raw, f"{op} needs a value: {path}:{op}:<value>")
        text = parts[2]
        value: Any
        if op == "begins_with":
            value = text
        elif op == "contains":
            value = _convert(raw, _element_type(annotation), text)
        elif op == "between":
            low, high = _json_array(raw, text, 2)
            value = (_convert(raw, annotation, low), _convert(raw, annotation, high))
        elif op == "in":
            value = [_convert(raw, annotation, v) for v in _json_array(raw, text, None)]
        else:
            value = _convert(raw, annotation, text)
        bucket = command.setdefault(target, {})
        if path in bucket:
            raise _bad_filter(raw, f"{path} already has a {op} condition")
        bucket[path] = value
    return FilterCommand(**command)


def sort_ascending(order: Literal["asc", "desc"]) -> bool:
    """``order=asc|desc`` as the library's ``sort_ascending``."""
    return order == "asc"


# What If-Match may hold: "*" or a version as this API's ETags carry it ("3", W/"3" or 3).
# 18 digits: the versions a client writes are below MAX_WRITE_VERSION (10**18).
IF_MATCH_PATTERN = r'^[ \t]*(\*|(W/)?"?[0-9]{1,18}"?)[ \t]*$'
_ETAG = re.compile(r'^[ \t]*(?:W/)?"?([0-9]{1,18})"?[ \t]*$')


def parse_version(if_match: str | None, body_version: int | None = None) -> int | None:
    """The version a write must find: from ``If-Match`` (an ETag we issued) or the body.

    ``If-Match: *`` only asks that the item exists, which updates require anyway.

    >>> parse_version('"3"'), parse_version(None, 4), parse_version("*")
    (3, 4, None)
    """
    header_version: int | None = None
    if if_match is not None and if_match.strip() != "*":
        match = _ETAG.match(if_match)
        if match is None:
            raise ApiError(
                400,
                "invalid_if_match",
                f'If-Match {if_match!r} is not a version this API issued (expected e.g. "3")',
            )
        header_version = int(match.group(1))
    if header_version is not None and body_version is not None and header_version != body_version:
        raise ApiError(
            400,
            "conflicting_versions",
            f"If-Match says version {header_version} but the body says {body_version}",
        )
    return header_version if header_version is not None else body_version

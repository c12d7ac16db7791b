"""Schemathesis hooks for the API fuzz (loaded through ``SCHEMATHESIS_HOOKS``).

The API's OpenAPI document describes what the function answers. Answers the gateway gives by
itself (a URL too long, a method it does not forward, a body over 10 MB) carry
``x-amzn-ErrorType``, as API Gateway's own responses do, and are not the document's to list.

A few rules are stated in the document's words but cannot be a JSON Schema (one parameter's
schema cannot see another): a range (of a listing or an index query) takes ``start`` and
``end`` together, of as many values, and not with ``prefix``; a ``cursor`` is one the API
answered (opaque); a filter's value reads as its attribute's type; ``If-Match`` and a body's
``current_version`` agree when both are given, and neither comes with ``If-None-Match``; an
update names an attribute once (not set and removed). Schemathesis would call every request
that breaks them "valid"; ``filter_case`` keeps
such requests out of the positive cases only, so the negative ones still check that each is
refused.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case
from schemathesis.checks import CheckContext, status_code_conformance
from schemathesis.core.transport import Response

from pydantic_dynamo import InvalidAttributeError
from records_api.collection_routes import COLLECTIONS_PREFIX, COUNT
from records_api.errors import ApiError
from records_api.paths import index_of, route_of
from records_api.query import parse_filters, parse_version
from records_service.content_types import CONTENT_TYPES


@schemathesis.check
def function_status_code_documented(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """``status_code_conformance`` for every answer of the function (not the gateway's own)."""
    if "x-amzn-errortype" in response.headers:
        return None
    result: bool | None = status_code_conformance(ctx, response, case)
    return result


def _values(query: dict[str, Any], name: str) -> list[str] | None:
    if name not in query:
        return None
    value = query[name]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def breaks_a_listing_rule(case: Case[Any]) -> bool:
    """Whether a listing, count, index query or collection read breaks a rule the document
    states only in words."""
    if case.method.upper() == "GET" and case.path.startswith(COLLECTIONS_PREFIX + "/"):
        return "cursor" in dict(case.query or {})  # a collection read's cursor is opaque too
    route = route_of(case.path)
    if case.method.upper() != "GET" or route is None or not case.query:
        return False
    if route[1] and route[1] != COUNT and index_of(route[1]) is None:
        return False
    query = dict(case.query)
    start, end, prefix = _values(query, "start"), _values(query, "end"), _values(query, "prefix")
    if (start is None) != (end is None) or (start is not None and prefix is not None):
        return True
    if start is not None and end is not None and len(start) != len(end):
        return True
    if "cursor" in query:
        return True
    try:
        parse_filters(CONTENT_TYPES[route[0]].model, _values(query, "filter") or [])
    except (ApiError, InvalidAttributeError):
        return True
    return False


def breaks_a_write_rule(case: Case[Any]) -> bool:
    """Whether a write breaks a rule the document states only in words."""
    body: dict[str, Any] = dict(case.body) if isinstance(case.body, dict) else {}
    headers = {str(k).lower(): v for k, v in (case.headers or {}).items()}
    if_match = headers.get("if-match")
    version = body.get("current_version")
    if "if-none-match" in headers and (if_match is not None or version is not None):
        return True  # a create-only PUT takes no version to match (400 invalid_precondition)
    if if_match is not None and isinstance(version, int | float):
        try:
            parse_version(str(if_match), int(version))
        except ApiError:
            return True
    commands = [body.get(name) for name in ("set_commands", "increment_attrs", "append_attrs")]
    named = [str(key) for command in commands if isinstance(command, dict) for key in command]
    removed = body.get("remove_attrs")
    named += [str(name) for name in removed] if isinstance(removed, list) else []
    return len(named) != len(set(named))


@schemathesis.hook
def filter_case(ctx: schemathesis.HookContext, case: Case[Any]) -> bool:
    """Keep out of the positive cases the listings that break a rule stated in words."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return True
    return not (breaks_a_listing_rule(case) or breaks_a_write_rule(case))

"""Schemathesis hooks for the API fuzz (loaded through ``SCHEMATHESIS_HOOKS``).

The API's OpenAPI document describes what the function answers. Answers the gateway gives by
itself (a URL too long, a method it does not forward, a body over 10 MB) carry
``x-amzn-ErrorType``, as API Gateway's own responses do, and are not the document's to list.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case
from schemathesis.checks import CheckContext, status_code_conformance
from schemathesis.core.transport import Response


@schemathesis.check
def function_status_code_documented(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """``status_code_conformance`` for every answer of the function (not the gateway's own)."""
    if "x-amzn-errortype" in response.headers:
        return None
    result: bool | None = status_code_conformance(ctx, response, case)
    return result

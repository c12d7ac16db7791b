"""Write tokens: how a write that was applied, but whose answer was lost, is recognised on resend.

A transport (the lean one, botocore, aiobotocore) sends a request again when its answer does not
arrive, and DynamoDB may already have applied the first one. A conditional write then meets its
own result ("version conflict", "already exists"), and an increment would apply twice. So every
single-item write this library sends stores a fresh random token in ``_write_token`` and carries
the condition "the stored item does not hold my token". A resend of an applied write fails that
condition, and DynamoDB answers with the stored item (``ReturnValuesOnConditionCheckFailure=
ALL_OLD``): holding our token, it *is* our write's result, reported as such.

An update (``update``, ``save``) also moves the token it replaces to ``_prior_write_token``, so
a resend is still recognised when one other update landed between the first try and the resend
(the transport's retry delay). A whole-item put keeps only its own token. 0.4.2 ignores both
attributes when reading.

>>> from pydantic_dynamo.condition_rendering import render
>>> placeholders = Placeholders()
>>> stamp(placeholders, "tok"), render(not_mine("tok"), None, placeholders)
('#n0 = if_not_exists(#n1, :v0), #n1 = :v1', 'NOT (#n1 = :v1 OR #n0 = :v1)')
>>> is_mine({"_write_token": {"S": "tok"}}, "tok"), is_mine({}, "tok")
(True, False)
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.prepared import Prepared, param
from pydantic_dynamo.schema import PRIOR_WRITE_TOKEN, WRITE_TOKEN

__all__ = ["PRIOR_WRITE_TOKEN", "WRITE_TOKEN", "is_mine", "new_token", "not_mine", "stamp"]


def new_token() -> str:
    """A fresh token for one write call (96 random bits, 16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


_token = raw_attr(WRITE_TOKEN)
_prior = raw_attr(PRIOR_WRITE_TOKEN)
_mine = param("token", "S", share=True)
# A comparison with a missing attribute is false, so an absent item passes.
NOT_MINE = Prepared(~((_token == _mine) | (_prior == _mine)))


def not_mine(token: str) -> Condition:
    """The condition "the stored item holds ``token`` in neither slot" (true when absent)."""
    return NOT_MINE.bind(token=token)


def stamp(placeholders: Placeholders, token: str) -> str:
    """An update's ``SET`` clauses storing ``token``, the token it replaces moving to the prior
    slot (:func:`not_mine` rendered with the same placeholders reuses the token's)."""
    prior = placeholders.name(PRIOR_WRITE_TOKEN)
    current = placeholders.name(WRITE_TOKEN)
    blank = placeholders.shared("S", "")
    value = placeholders.shared("S", token)
    return f"{prior} = if_not_exists({current}, {blank}), {current} = {value}"


def is_mine(stored: dict[str, Any] | None, token: str) -> bool:
    """Whether a stored item (AttributeValues) holds ``token`` in either slot: the item is (or
    followed) that write's result."""
    if not stored:
        return False
    for name in (WRITE_TOKEN, PRIOR_WRITE_TOKEN):
        value = stored.get(name)
        if isinstance(value, dict) and value.get("S") == token:
            return True
    return False

"""Write tokens: how a write that was applied, but whose answer was lost, is recognised on resend.

A transport (the lean one, botocore, aiobotocore) sends a request again when its answer does not
arrive, and DynamoDB may already have applied the first one. A conditional write then meets its
own result ("version conflict", "already exists"), and an increment would apply twice. So every
single-item write this library sends stores a fresh random token in ``_write_token`` and carries
the condition "the stored item does not hold my token". A resend of an applied write fails that
condition, and DynamoDB answers with the stored item (``ReturnValuesOnConditionCheckFailure=
ALL_OLD``): holding our token, it *is* our write's result, reported as such.

The token is recognised while it is the item's latest write: if another writer changes the item
between a write being applied and its resend arriving (the transport's retry delay), the resend
no longer sees its token and is applied as a new write. 0.4.2 ignores the attribute when reading.

>>> from pydantic_dynamo.conditions import render
>>> placeholders = Placeholders()
>>> stamp(placeholders, "tok"), render(not_mine("tok"), None, placeholders)
('#n0 = :v0', '(attribute_not_exists(#n0) OR #n0 <> :v0)')
>>> is_mine({"_write_token": {"S": "tok"}}, "tok"), is_mine({}, "tok")
(True, False)
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic_dynamo.conditions import Condition, raw_attr
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.prepared import Prepared, param
from pydantic_dynamo.schema import WRITE_TOKEN

__all__ = ["WRITE_TOKEN", "is_mine", "new_token", "not_mine", "stamp"]


def new_token() -> str:
    """A fresh token for one write call (96 random bits, 16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


_token = raw_attr(WRITE_TOKEN)
NOT_MINE = Prepared(_token.not_exists() | (_token != param("token", "S", share=True)))


def not_mine(token: str) -> Condition:
    """The condition "the stored item does not hold ``token``" (true for an absent item)."""
    return NOT_MINE.bind(token=token)


def stamp(placeholders: Placeholders, token: str) -> str:
    """An update's ``SET`` clause storing ``token`` (:func:`not_mine` rendered with the same
    placeholders reuses its placeholders)."""
    return f"{placeholders.name(WRITE_TOKEN)} = {placeholders.shared('S', token)}"


def is_mine(stored: dict[str, Any] | None, token: str) -> bool:
    """Whether a stored item (AttributeValues) holds ``token``: the item is that write's result."""
    if not stored:
        return False
    value = stored.get(WRITE_TOKEN)
    return isinstance(value, dict) and value.get("S") == token

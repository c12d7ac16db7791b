"""Every request body is read as JSON, whatever its declared Content-Type.

``curl -d '{...}'`` sends ``application/x-www-form-urlencoded`` unless told otherwise, and
Powertools would then parse the JSON as a form and answer a puzzling validation error. This API
only takes JSON, so it says so: the body is parsed as JSON and a body that is not JSON is a 400
``malformed_json`` naming where it breaks.

>>> event = {"headers": {"content-type": "text/plain"}, "body": "{}"}
>>> as_json_request(event)["headers"]
{'Content-Type': 'application/json'}
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_json_request"]

_JSON = "application/json"


def as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with its Content-Type set to JSON (a missing body is then a 422, not a 415)."""
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    multi = {
        k: v
        for k, v in (event.get("multiValueHeaders") or {}).items()
        if k.lower() != "content-type"
    }
    headers["Content-Type"] = _JSON
    updated = {**event, "headers": headers}
    if event.get("multiValueHeaders") is not None:
        updated["multiValueHeaders"] = {**multi, "Content-Type": [_JSON]}
    return updated

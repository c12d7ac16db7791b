"""DynamoDB's JSON wire format for the data plane: one encode, one decode, binary as base64.

For DynamoDB's JSON protocol the only difference between the low-level client's Python shapes
and the wire is binary data: ``bytes`` in Python, base64 strings on the wire (in ``B`` and
``BS`` AttributeValues). Everything else passes through JSON untouched, so a request is one
encode and a response one parse (plus a base64 pass only when the body holds a binary value).

Both are orjson's, which writes a BatchWriteItem body and parses a BatchGetItem answer for less
CPU than the standard library's ``json`` (``python -m benchmarks.transport_bench`` measures
both; the figures are in docs/lean-transport.md). What orjson refuses and
the standard library's ``json`` takes (a lone surrogate, an integer beyond 64 bits; on reading,
``NaN``) goes through ``json`` instead, so the outcome of such a body is the one it always was.
Three differences remain, none reachable from DynamoDB's shapes: orjson writes non-ASCII text as
UTF-8 rather than ``\\u`` escapes (both are JSON, and DynamoDB reads both); it writes a float
NaN or infinity as ``null`` (``json`` wrote ``NaN``, which is not JSON at all; the codec refuses
both before any request, and every number in an item travels as a string); and it reads an
integer beyond 64 bits as a float (DynamoDB's own integer fields, such as ``Count``, are small).

>>> decode_body(encode_body({"Item": {"k": {"B": b"\\x00"}}}))
{'Item': {'k': {'B': b'\\x00'}}}
"""

from __future__ import annotations

import json
import re
from base64 import b64decode, b64encode
from typing import Any

import orjson

from pydantic_dynamo.gc_pause import paused_gc

__all__ = ["bytes_to_base64", "decode_binary", "decode_body", "encode_body", "has_binary"]

# A binary AttributeValue on the wire: the key "B" or "BS" (not "BOOL", not a string "B...").
_BINARY_KEY = re.compile(rb'"BS?"\s*:')


def bytes_to_base64(value: Any) -> str:
    """``json``'s ``default`` hook: binary values become base64 text, anything else fails."""
    if isinstance(value, bytes | bytearray | memoryview):
        return b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The fallback encoder (``json.dumps`` with arguments builds a new one each call).
_encoder = json.JSONEncoder(separators=(",", ":"), default=bytes_to_base64)


def decode_binary(value: Any) -> Any:
    """Decode base64 wherever an AttributeValue holds ``B`` or ``BS``, in place."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "B" and isinstance(inner, str):
                value[key] = b64decode(inner)
            elif key == "BS" and isinstance(inner, list) and all(isinstance(v, str) for v in inner):
                value[key] = [b64decode(v) for v in inner]
            elif isinstance(inner, dict | list):
                decode_binary(inner)
    elif isinstance(value, list):
        for inner in value:
            if isinstance(inner, dict | list):
                decode_binary(inner)
    return value


def has_binary(body: bytes) -> bool:
    """Whether a response body may hold a binary AttributeValue (a cheap byte scan)."""
    return _BINARY_KEY.search(body) is not None


def encode_body(parameters: dict[str, Any]) -> bytes:
    """A request's JSON body: compact UTF-8, ``bytes`` as base64."""
    try:
        return orjson.dumps(parameters, default=bytes_to_base64)
    except TypeError:  # orjson.JSONEncodeError: json writes it (or raises as it always did)
        return _encoder.encode(parameters).encode("ascii")


# Bodies from this size on are parsed with the garbage collector paused (see gc_pause).
_PAUSE_GC_FROM_BYTES = 32 * 1024


def decode_body(body: bytes) -> dict[str, Any]:
    """A response's parsed JSON body, with binary AttributeValues as ``bytes``."""
    if not body:
        return {}
    if len(body) < _PAUSE_GC_FROM_BYTES:
        parsed = _loads(body)
    else:
        with paused_gc():
            parsed = _loads(body)
    if _BINARY_KEY.search(body):
        decode_binary(parsed)
    return parsed


def _loads(body: bytes) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = orjson.loads(body)
    except orjson.JSONDecodeError:  # json reads it (or raises as it always did)
        parsed = json.loads(body)
    return parsed

"""Python values <-> DynamoDB AttributeValues (the low-level client's shape), written for speed.

Encoding walks ``model.model_dump()`` (Pydantic's Rust serializer in Python mode) once, dispatching
on the exact type of each value. It stores what 0.4.2 stored, so tables stay readable by both:
datetimes, dates and times as ISO strings, enums by value, sets and tuples as lists, Decimals
and ints as numbers; and, new, floats as numbers (0.4.2 rejected them). NaN, infinity and numbers
DynamoDB cannot hold are refused with the path of the offending field.

Decoding turns numbers into ``int`` (no point or exponent), ``float`` (at most 15 characters,
which a float holds exactly, or exactly a float's shortest repr) or ``Decimal`` (other long
numbers, every digit kept), and lets the model's validation do the rest (a list into a set, an
ISO string into a datetime).

>>> encode_value({"a": [1, 2.5, None]})
{'M': {'a': {'L': [{'N': '1'}, {'N': '2.5'}, {'NULL': True}]}}}
>>> decode_value({'M': {'a': {'L': [{'N': '1'}, {'N': '2.5'}, {'NULL': True}]}}})
{'a': [1, 2.5, None]}
"""

from __future__ import annotations

import marshal
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

from pydantic_dynamo.exceptions import UnsupportedValueError

__all__ = [
    "MAX_ITEM_BYTES",
    "decode_item",
    "decode_value",
    "encode_item",
    "encode_value",
    "item_size",
    "item_size_bound",
]

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

MAX_ITEM_BYTES = 400 * 1024
# DynamoDB numbers: 38 significant digits, magnitudes from 1E-130 to below 1E+126.
_MAX_MAGNITUDE = 1e126
_MIN_MAGNITUDE = 1e-130
_MAX_INT = 10**38


class _UnsupportedError(Exception):
    """Raised deep in the fast path; the caller re-walks to name the field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _enc_str(value: str) -> AttributeValue:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _UnsupportedError("holds a lone surrogate, which UTF-8 cannot encode") from None
    return {"S": value}


def _enc_bool(value: bool) -> AttributeValue:
    return {"BOOL": value}


def _enc_none(value: None) -> AttributeValue:
    return {"NULL": True}


def _enc_int(value: int) -> AttributeValue:
    if -_MAX_INT < value < _MAX_INT:
        return {"N": str(value)}
    raise _UnsupportedError(f"integer {value} has more than 38 digits")


def _enc_float(value: float) -> AttributeValue:
    if value != value or value in (math.inf, -math.inf):
        raise _UnsupportedError(f"{value} is not a number DynamoDB stores")
    magnitude = abs(value)
    if magnitude >= _MAX_MAGNITUDE or (0.0 < magnitude < _MIN_MAGNITUDE):
        raise _UnsupportedError(f"{value} is outside DynamoDB's number range")
    return {"N": repr(value)}


def _enc_decimal(value: Decimal) -> AttributeValue:
    if not value.is_finite():
        raise _UnsupportedError(f"{value} is not a number DynamoDB stores")
    if value != 0:
        adjusted = value.adjusted()
        # Precision as DynamoDB counts it: trailing zeros are not significant (and a nonzero
        # Decimal has no leading ones). Counted by hand: normalize() would round to 28 digits.
        digits = value.as_tuple().digits
        significant = len(digits)
        while significant and digits[significant - 1] == 0:
            significant -= 1
        if significant > 38:
            raise _UnsupportedError(f"{value} has more than 38 significant digits")
        if adjusted >= 126 or adjusted < -130:
            raise _UnsupportedError(f"{value} is outside DynamoDB's number range")
    return {"N": str(value)}


def _enc_bytes(value: bytes | bytearray | memoryview) -> AttributeValue:
    return {"B": bytes(value)}


def _enc_iso(value: date | time) -> AttributeValue:
    return {"S": value.isoformat()}


def _enc_dict(value: Mapping[Any, Any]) -> AttributeValue:
    return {"M": _encode_map(value)}


def _enc_list(value: list[Any] | tuple[Any, ...]) -> AttributeValue:
    return {"L": _encode_elements(value)}


def _ordered(value: set[Any] | frozenset[Any]) -> list[Any]:
    """A set's elements in the order they are stored: sorted when they sort, so that equal sets
    always store (and hash) the same."""
    try:
        return sorted(value)
    except TypeError:
        return list(value)


def _enc_set(value: set[Any] | frozenset[Any]) -> AttributeValue:
    return {"L": _encode_elements(_ordered(value))}


def _enc_enum(value: Enum) -> AttributeValue:
    return encode_value(value.value)


def _enc_uuid(value: UUID) -> AttributeValue:
    return {"S": str(value)}


def _enc_model(value: BaseModel) -> AttributeValue:
    return {"M": _encode_map(value.model_dump(by_alias=False))}


def _enc_fallback(value: Any) -> AttributeValue:
    try:
        converted = to_jsonable_python(value)
    except (PydanticSerializationError, ValueError, TypeError) as error:
        raise _UnsupportedError(f"cannot store a {type(value).__name__}: {error}") from None
    if type(converted) is type(value):
        raise _UnsupportedError(f"cannot store a {type(value).__name__}")
    return encode_value(converted)


_Encoder = Callable[[Any], AttributeValue]

_ENCODERS: dict[type, _Encoder] = {
    str: _enc_str,
    bool: _enc_bool,
    int: _enc_int,
    float: _enc_float,
    type(None): _enc_none,
    dict: _enc_dict,
    list: _enc_list,
    tuple: _enc_list,
    set: _enc_set,
    frozenset: _enc_set,
    Decimal: _enc_decimal,
    bytes: _enc_bytes,
    bytearray: _enc_bytes,
    memoryview: _enc_bytes,
    datetime: _enc_iso,
    date: _enc_iso,
    time: _enc_iso,
    UUID: _enc_uuid,
}

# Checked in order for subclasses (an IntEnum is an Enum before it is an int).
_BASES: tuple[tuple[type, _Encoder], ...] = (
    (Enum, _enc_enum),
    (BaseModel, _enc_model),
    (bool, _enc_bool),
    (str, _enc_str),
    (int, _enc_int),
    (float, _enc_float),
    (Decimal, _enc_decimal),
    (Mapping, _enc_dict),
    (list, _enc_list),
    (tuple, _enc_list),
    (set, _enc_set),
    (frozenset, _enc_set),
    (bytes, _enc_bytes),
    (datetime, _enc_iso),
    (date, _enc_iso),
    (time, _enc_iso),
    (UUID, _enc_uuid),
)


def _encoder_for(kind: type) -> _Encoder:
    chosen = next((enc for base, enc in _BASES if issubclass(kind, base)), _enc_fallback)
    _ENCODERS[kind] = chosen
    return chosen


# The hot loops below inline what _enc_str does for ASCII text (most values): a call per value
# is a large share of encoding.


def _map_key(key: Any) -> str:
    """The attribute name a map stores a key under that is not a ``str``."""
    return str(to_jsonable_python(key))


def _encode_map(value: Mapping[Any, Any]) -> dict[str, AttributeValue]:
    encoders = _ENCODERS
    out: dict[str, AttributeValue] = {}
    for key, val in value.items():
        kind = type(val)
        name = key if type(key) is str else _map_key(key)
        if kind is str and val.isascii():
            out[name] = {"S": val}
        else:
            out[name] = (encoders.get(kind) or _encoder_for(kind))(val)
    return out


def _encode_elements(values: list[Any] | tuple[Any, ...]) -> list[AttributeValue]:
    # A comprehension: cheaper than an append loop on lists (as decode_value's "L" branch).
    return [
        {"S": val} if type(val) is str and val.isascii() else _encode_value_fast(val)
        for val in values
    ]


def _encode_value_fast(value: Any) -> AttributeValue:
    encoder = _ENCODERS.get(type(value)) or _encoder_for(type(value))
    return encoder(value)


def encode_value(value: Any) -> AttributeValue:
    """Encode one Python value (as found in ``model_dump()``) into an AttributeValue."""
    return _encode_value_fast(value)


def encode_item(data: Mapping[str, Any]) -> Item:
    """Encode a mapping of attribute name to value (a model's ``model_dump()``) into an item.

    Raises :class:`UnsupportedValueError` naming the field holding a value DynamoDB refuses.
    """
    try:
        return _encode_map(data)
    except _UnsupportedError:
        _raise_with_path(data, "")
        raise  # pragma: no cover - _raise_with_path always raises


def encode_field(name: str, value: Any) -> AttributeValue:
    """Encode the value of attribute ``name``, naming it in any error."""
    try:
        return _encode_value_fast(value)
    except _UnsupportedError:
        _raise_with_path(value, name)
        raise  # pragma: no cover


def _raise_with_path(value: Any, path: str) -> None:
    # The slow path: only reached on error, it finds the first value that fails.
    if isinstance(value, Mapping | BaseModel):
        items = value.model_dump(by_alias=False) if isinstance(value, BaseModel) else value
        for key, val in items.items():
            _raise_with_path(val, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, val in enumerate(value):
            _raise_with_path(val, f"{path}[{index}]")
    else:
        try:
            _encode_value_fast(value)
        except _UnsupportedError as error:
            raise UnsupportedValueError(path or "<value>", error.reason) from None


def _decode_number(text: str) -> int | float | Decimal:
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return int(text)
    if len(text) <= 15:  # at most 15 significant digits: a float holds it exactly
        return float(text)
    value = float(text)
    # A float's own shortest repr (how floats are stored) comes back as that float; any other
    # long number keeps every digit as a Decimal.
    return value if repr(value) == text else Decimal(text)


def decode_value(value: AttributeValue) -> Any:
    """Decode one AttributeValue into plain Python (str, int/float/Decimal, bool, None, ...)."""
    # A chain of lookups, most frequent tag first: on the benchmark's items it measured faster
    # than a dispatch on the tag through a dict (a missed lookup costs less than a call), and
    # it keeps the precedence malformed values with several tags have always had. Lists and
    # maps decode their strings inline, sparing a call per element.
    raw = value.get("S")
    if raw is not None:
        return raw
    raw = value.get("N")
    if raw is not None:
        return int(raw) if raw.isdigit() else _decode_number(raw)
    raw = value.get("M")
    if raw is not None:
        return decode_item(raw)  # a map's entries decode as an item's attributes
    raw = value.get("L")
    if raw is not None:
        # A loop: the comprehension it replaces cost a call, and a cell for the name it bound.
        out = []
        for v in raw:
            text = v.get("S")
            out.append(text if text is not None else decode_value(v))
        return out
    raw = value.get("BOOL")
    if raw is not None:
        return raw
    if "NULL" in value:
        return None
    raw = value.get("B")
    if raw is not None:
        return bytes(raw)
    raw = value.get("SS")
    if raw is not None:
        return list(raw)
    raw = value.get("NS")
    if raw is not None:
        return [_decode_number(v) for v in raw]
    raw = value.get("BS")
    if raw is not None:
        return [bytes(v) for v in raw]
    raise ValueError(f"not an AttributeValue: {value!r}")


def decode_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Decode an item (attribute name to AttributeValue) into a dict of plain Python values."""
    # A plain loop: cheaper than a dict comprehension for the few entries maps usually hold.
    out: dict[str, Any] = {}
    for name, value in item.items():
        text = value.get("S")
        out[name] = text if text is not None else decode_value(value)
    return out


def _value_size(value: AttributeValue) -> int:
    for tag, raw in value.items():
        if tag == "S":
            return len(raw) if raw.isascii() else len(raw.encode("utf-8"))
        if tag == "N":
            # DynamoDB: about one byte per two significant digits, plus one.
            return (len(raw) + 1) // 2 + 1
        if tag == "M":
            return 3 + sum(len(k.encode("utf-8")) + 1 + _value_size(v) for k, v in raw.items())
        if tag == "L":
            return 3 + sum(1 + _value_size(v) for v in raw)
        if tag in ("BOOL", "NULL"):
            return 1
        if tag == "B":
            return len(raw)
        if tag == "SS":
            return sum(len(s.encode("utf-8")) for s in raw)
        if tag == "NS":
            return sum((len(n) + 1) // 2 + 1 for n in raw)
        if tag == "BS":
            return sum(len(b) for b in raw)
    return 0


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """DynamoDB's size of an item in bytes (names plus values), as its documentation counts it."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


# UTF-8 of a lone surrogate (U+D800-U+DFFF), as marshal writes it ("surrogatepass").
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")

# Why the marshal form's length bounds item_size. Version 2 writes a str as 5 bytes (type,
# 32-bit length) plus its UTF-8, bytes as 5 plus the bytes, True/False/None as 1 byte, a dict as
# 2 bytes (type, end mark) plus each key and value, a list as 5 bytes plus each element; and it
# writes every object in full (versions 3 and later write a repeated object once, then refer to
# it: no bound). So each AttributeValue's form exceeds its size (_value_size) by at least 7:
# - S, B: 2 + 6 (the tag "S") + 5 + its UTF-8 or bytes = 13 + what its size counts;
# - N of n characters: 13 + n, against (n + 1) // 2 + 1;
# - BOOL, NULL: 2 + 9 + 1 = 12, against 1;
# - SS, NS, BS: 14 + per element 5 + its length, against at most each element's length;
# - M: 10 + per entry (5 + the key's UTF-8 + the value's form), against 3 + per entry (the key's
#   UTF-8 + 1 + the value's size): the key's 5-byte header pays the 1;
# - L: 13 + the elements' forms, against 3 + per element (1 + its size): each element's form
#   exceeds its size by 7, which pays the 1.
# The item is 2 + per attribute (5 + the name's UTF-8 + the value's form), against the names'
# UTF-8 plus the values' sizes. The wire's compact JSON is a bound too (escapes only lengthen,
# base64 lengthens bytes): json's chunking encoder measured slower than the exact walk, orjson's
# about a third cheaper than marshal on the benchmark's items, so it is tried first.


def item_size_bound(item: Item) -> int:
    """An upper bound of :func:`item_size`, a fraction of its cost: the item's compact JSON
    length, else its marshal length.

    The JSON (orjson's: names and values as UTF-8, escapes only lengthening) exceeds the size
    for the reasons the marshal form does: each AttributeValue's ``{"S":...}`` frame (at least
    8 bytes) pays for a map key's or list element's 1, a number's text is longer than its size,
    ``true`` than a BOOL's or NULL's 1. orjson refuses what it cannot write natively (binary,
    ``str`` subclasses, lone surrogates, deep nesting): those items take the marshal form, which
    is the exact size when marshal refuses the item (a ``str`` subclass, deep nesting) or when
    its form may hold a lone surrogate: marshal writes one, but the exact walk raises
    ``UnicodeEncodeError`` on it, as it always has.
    """
    try:
        return len(orjson.dumps(item, option=orjson.OPT_PASSTHROUGH_SUBCLASS))
    except TypeError:  # orjson.JSONEncodeError
        pass
    try:
        form = marshal.dumps(item, 2)
    except ValueError:
        return item_size(item)
    # The byte test is a memchr; the pattern runs only when an 0xED byte is present.
    if b"\xed" in form and _SURROGATE_UTF8.search(form) is not None:
        return item_size(item)
    return len(form)

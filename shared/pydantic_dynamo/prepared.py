"""Prepared conditions: the library's own conditions, rendered once and filled in per request.

The conditions every write carries (the item is live, the version is the expected one, the
write token is not ours) have a fixed shape and only their values change. Building and
rendering their trees on every request would cost more than the rest of an UpdateItem request
together, so each is prepared once: its tree is rendered to a template, and a request only
allocates its placeholders and fills them in. A prepared condition binds to a
:class:`~pydantic_dynamo.conditions.Condition` that combines with any other.

>>> from pydantic_dynamo.attribute_paths import raw_attr
>>> from pydantic_dynamo.condition_rendering import render
>>> from pydantic_dynamo.placeholders import Placeholders
>>> ttl = raw_attr("_ttl")
>>> live = Prepared(ttl.not_exists() | (ttl > param("now", "N")))
>>> placeholders = Placeholders()
>>> live.render(placeholders, {"now": "17"}), placeholders.values
('(attribute_not_exists(#n0) OR #n0 > :v0)', {':v0': {'N': '17'}})
>>> bound = live.bind(now="17")
>>> bound, render(bound & raw_attr("k").exists(), None, Placeholders())
((attribute_not_exists(_ttl) OR _ttl > '17'), '(attribute_not_exists(#n0) OR #n0 > :v0) AND \
attribute_exists(#n1)')
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_dynamo.attribute_paths import AttributePath
from pydantic_dynamo.codec import encode_field
from pydantic_dynamo.condition_rendering import _Placeholding
from pydantic_dynamo.conditions import Condition, _Encoded, _Operand, _Output, _set
from pydantic_dynamo.exceptions import InvalidAttributeError
from pydantic_dynamo.placeholders import Placeholders

__all__ = ["Prepared", "param"]

# One value of a template: (parameter name or None, scalar kind or None, payload, shared). A
# kind of None is a whole AttributeValue, given or fixed; constants are always shared.
_Slot = tuple[str | None, str | None, Any, bool]
_SCALARS = frozenset({"S", "N", "B", "BOOL", "NULL"})


class _Param(_Encoded):
    """A value supplied when a prepared condition is rendered (``kind`` "": an AttributeValue)."""

    __slots__ = ("share",)
    share: bool

    def __init__(self, kind: str, name: str, share: bool) -> None:
        super().__init__(kind, name)
        _set(self, "share", share)


def param(name: str, kind: str | None, *, share: bool = False) -> Any:
    """A named value of a prepared condition: a ``kind`` payload (``"N"``: a number's text), or
    with ``kind=None`` a whole AttributeValue. ``share``: reuse the placeholder of an equal
    value already allocated (:meth:`Placeholders.shared`), instead of allocating one."""
    return _Param(kind or "", name, share)


class _Recording(_Output):
    """Renders a tree of raw paths to a template, noting its names and values in order."""

    __slots__ = ("names", "slots")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.slots: list[_Slot] = []

    def path(self, path: AttributePath) -> str:
        if path.checked:
            raise InvalidAttributeError(path.dotted, "a prepared condition names no model field")
        fields = []
        for part in path.parts:
            if part not in self.names:
                self.names.append(part)
            fields.append(f"{{n{self.names.index(part)}}}")
        return ".".join(fields)

    def value(self, against: _Operand, value: Any, *, typed: bool = True) -> str:
        if isinstance(value, _Operand):
            return value._render(self)
        if isinstance(value, _Param):
            slot: _Slot = (value.payload, value.kind or None, None, value.share)
        elif isinstance(value, _Encoded):
            slot = (None, value.kind, value.payload, True)
        else:
            encoded = encode_field(against.dotted, value)
            ((kind, payload),) = encoded.items()
            scalar = kind in _SCALARS
            slot = (None, kind, payload, True) if scalar else (None, None, encoded, False)
        self.slots.append(slot)
        return f"{{v{len(self.slots) - 1}}}"

    def constant(self, kind: str, payload: str) -> str:
        self.slots.append((None, kind, payload, True))
        return f"{{v{len(self.slots) - 1}}}"


def _compile(
    marked: str, names: tuple[str, ...], slots: tuple[_Slot, ...]
) -> Callable[[Placeholders, Mapping[str, Any]], str]:
    """The function filling a template in, as straight-line code ending in an f-string: a loop
    over the slots and a ``str.format`` cost twice as much, on the hot path of every write.

    Only identifiers of this module's making go into the code; attribute names, payloads and
    parameter names are read from the function's namespace.
    """
    lines = ["def fill(placeholders, values):"]
    lines += [f"    n{i} = placeholders.name(_names[{i}])" for i in range(len(names))]
    for i, (parameter, kind, _, share) in enumerate(slots):
        source = f"values[_parameters[{i}]]" if parameter is not None else f"_payloads[{i}]"
        if kind is None:
            call = f"placeholders.value({source})"
        elif share:
            call = f"placeholders.shared(_kinds[{i}], {source})"
        else:
            call = f"placeholders.value({{_kinds[{i}]: {source}}})"
        lines.append(f"    v{i} = {call}")
    pieces = []
    for literal, field, _, _ in string.Formatter().parse(marked):
        pieces.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is not None:
            pieces.append(f"{{{field}}}")
    lines.append(f"    return f{''.join(pieces)!r}")
    namespace: dict[str, Any] = {
        "_names": names,
        "_parameters": [slot[0] for slot in slots],
        "_kinds": [slot[1] for slot in slots],
        "_payloads": [slot[2] for slot in slots],
    }
    exec("\n".join(lines), namespace)  # the code is this module's own, see above
    fill: Callable[[Placeholders, Mapping[str, Any]], str] = namespace["fill"]
    return fill


class Prepared:
    """A condition of the library's own attributes, rendered once to a template."""

    __slots__ = ("atomic", "condition", "conjunction", "names", "render", "slots", "template")

    render: Callable[[Placeholders, Mapping[str, Any]], str]
    """The expression, its placeholders allocated in ``placeholders``, ``values`` filled in."""

    def __init__(self, condition: Condition) -> None:
        recording = _Recording()
        marked = condition._render(recording)
        names, slots = recording.names, recording.slots
        positions = {f"n{i}": f"{{{i}}}" for i in range(len(names))}
        positions.update({f"v{i}": f"{{{len(names) + i}}}" for i in range(len(slots))})
        self.template = marked.format(**positions)
        self.names = tuple(names)
        self.slots = tuple(slots)
        self.condition = condition
        self.atomic = condition._atomic
        self.conjunction = condition._conjunction
        self.render = _compile(marked, self.names, self.slots)

    def display(self, values: Mapping[str, Any]) -> str:
        """The expression with plain names and values, for ``repr``."""
        shown = [repr(values[p] if p is not None else payload) for p, _, payload, _ in self.slots]
        return self.template.format(*self.names, *shown)

    def bind(self, **values: Any) -> Condition:
        """This condition with its parameters' values, to combine with others."""
        return _Bound(self, values)


class _Bound(Condition):
    __slots__ = ("_atomic", "_conjunction", "prepared", "values")
    prepared: Prepared
    values: dict[str, Any]

    def __init__(self, prepared: Prepared, values: dict[str, Any]) -> None:
        _set(self, "prepared", prepared)
        _set(self, "values", values)
        _set(self, "_atomic", prepared.atomic)
        _set(self, "_conjunction", prepared.conjunction)

    def _render(self, out: _Output) -> str:
        if isinstance(out, _Placeholding):
            return self.prepared.render(out.placeholders, self.values)
        if isinstance(out, _Recording):
            raise TypeError("a prepared condition cannot be prepared again")
        return self.prepared.display(self.values)

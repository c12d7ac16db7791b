"""Attribute paths: what a condition names, and the conditions only a path has.

:func:`attr` names a model field (a dotted path reaches into nested models and dicts),
checked against the model when the condition is rendered; :func:`raw_attr` names an attribute
the library manages itself. Beside the comparisons every operand has
(:mod:`pydantic_dynamo.conditions`), a path tests presence, a prefix, an element, a type and
its size.

A field set to ``None`` is stored as NULL, which DynamoDB's ``attribute_exists`` counts as
present: so :meth:`AttributePath.exists` means "present and not NULL" and
:meth:`AttributePath.not_exists` "missing or NULL" (what a model reads back as ``None``), as
``FilterCommand`` has meant since 0.4.2.
"""

from __future__ import annotations

from typing import Any

from pydantic_dynamo.conditions import Condition, _Encoded, _Operand, _Output, _set
from pydantic_dynamo.exceptions import InvalidAttributeError

__all__ = ["AttributePath", "attr"]

ATTRIBUTE_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})


class _Presence(Condition):
    """``attribute_exists`` or ``attribute_not_exists``; on a model path NULL counts as absent
    (see the module docstring)."""

    __slots__ = ("absent", "path")
    _atomic = True
    path: AttributePath
    absent: bool

    def __init__(self, path: AttributePath, *, absent: bool) -> None:
        _set(self, "path", path)
        _set(self, "absent", absent)

    def _render(self, out: _Output) -> str:
        name = out.path(self.path)
        function = "attribute_not_exists" if self.absent else "attribute_exists"
        if not self.path.checked:
            return f"{function}({name})"
        null = out.constant("S", "NULL")
        if self.absent:
            return f"({function}({name}) OR attribute_type({name}, {null}))"
        return f"({function}({name}) AND NOT attribute_type({name}, {null}))"


class _Function(Condition):
    """``begins_with``, ``contains`` or ``attribute_type`` of a path and one value."""

    __slots__ = ("argument", "function", "path")
    _atomic = True
    function: str
    path: AttributePath
    argument: Any

    def __init__(self, function: str, path: AttributePath, argument: Any) -> None:
        _set(self, "function", function)
        _set(self, "path", path)
        _set(self, "argument", argument)

    def _render(self, out: _Output) -> str:
        # The argument is a prefix, an element or a type name, not a value of the field's type.
        argument = out.value(self.path, self.argument, typed=False)
        return f"{self.function}({out.path(self.path)}, {argument})"


class AttributePath(_Operand):
    """An attribute of the model, or a path into a nested model or dict; see :func:`attr`."""

    __slots__ = ("checked", "dotted", "parts")
    parts: tuple[str, ...]
    checked: bool

    def __init__(self, parts: tuple[str, ...], *, checked: bool = True) -> None:
        if not parts or not all(parts):
            raise InvalidAttributeError(".".join(parts), "an attribute path has no empty part")
        _set(self, "parts", parts)
        _set(self, "dotted", ".".join(parts))
        _set(self, "checked", checked)

    def __getitem__(self, key: str) -> AttributePath:
        """The path to ``key`` below this one, taken literally (a dict key may hold a dot)."""
        return AttributePath((*self.parts, key), checked=self.checked)

    def __repr__(self) -> str:
        return f"attr({self.dotted!r})"

    def exists(self) -> Condition:
        """The attribute holds a value (present and, on a model field, not NULL)."""
        return _Presence(self, absent=False)

    def not_exists(self) -> Condition:
        """The attribute holds no value (missing, or on a model field NULL)."""
        return _Presence(self, absent=True)

    def begins_with(self, prefix: str | bytes) -> Condition:
        """A string (or binary) attribute starting with ``prefix``."""
        if not isinstance(prefix, str | bytes):
            raise InvalidAttributeError(self.dotted, f"begins_with takes a string, not {prefix!r}")
        return _Function("begins_with", self, prefix)

    def contains(self, value: Any) -> Condition:
        """A string holding the substring ``value``, or a list or set holding the element."""
        return _Function("contains", self, value)

    def is_type(self, attribute_type: str) -> Condition:
        """The attribute is stored as DynamoDB type ``attribute_type`` (``"S"``, ``"N"``...)."""
        if attribute_type not in ATTRIBUTE_TYPES:
            raise InvalidAttributeError(
                self.dotted,
                f"{attribute_type!r} is not a DynamoDB type (one of {sorted(ATTRIBUTE_TYPES)})",
            )
        return _Function("attribute_type", self, _Encoded("S", attribute_type))

    def size(self) -> _Size:
        """The attribute's size (string length, bytes, or element count), to compare."""
        return _Size(self)

    def _render(self, out: _Output) -> str:
        return out.path(self)


class _Size(_Operand):
    __slots__ = ("dotted", "path")
    path: AttributePath

    def __init__(self, path: AttributePath) -> None:
        _set(self, "path", path)
        _set(self, "dotted", path.dotted)

    def __repr__(self) -> str:
        return f"{self.path!r}.size()"

    def _render(self, out: _Output) -> str:
        return f"size({out.path(self.path)})"


def attr(path: str) -> AttributePath:
    """The model attribute at a dotted ``path`` (``"address.city"`` reaches into a nested model).

    Index a path for a dict key holding a dot: ``attr("scores")["v1.2"]``.

    >>> (attr("address.city") == "Rome") | attr("scores")["v1.2"].between(1, 5)
    (address.city = 'Rome' OR scores.v1.2 BETWEEN 1 AND 5)
    """
    return AttributePath(tuple(path.split(".")))


def raw_attr(name: str) -> AttributePath:
    """A stored attribute the library manages itself (keys, ``_ttl``...): not checked against
    the model, and :meth:`~AttributePath.exists` is DynamoDB's own ``attribute_exists``."""
    return AttributePath((name,), checked=False)

"""Conditions as objects: one vocabulary for filters, conditional writes and write-once.

A condition is a small immutable tree built from :func:`~pydantic_dynamo.attribute_paths.attr`
paths and combined with ``&``, ``|`` and ``~``. It names model fields (dotted paths reach into
nested models and dicts); it is checked against the model and turned into an expression with
name and value placeholders only when a request is built, by
:func:`~pydantic_dynamo.condition_rendering.render`:

>>> from pydantic import BaseModel
>>> from pydantic_dynamo.attribute_paths import attr
>>> from pydantic_dynamo.condition_rendering import render
>>> from pydantic_dynamo.placeholders import Placeholders
>>> from pydantic_dynamo.schema import FieldInfo, ModelSchema
>>> class Actor(BaseModel):
...     name: str
...     age: int = 0
...     tags: list[str] = []
>>> adult_star = (attr("age") >= 18) & (attr("tags").contains("star") | attr("name").is_in("Al"))
>>> adult_star
age >= 18 AND (contains(tags, 'star') OR name IN ('Al'))
>>> placeholders = Placeholders()
>>> render(adult_star, ModelSchema.of(Actor), placeholders)
'#n0 >= :v0 AND (contains(#n1, :v1) OR #n2 IN (:v2))'
>>> placeholders.values
{':v0': {'N': '18'}, ':v1': {'S': 'star'}, ':v2': {'S': 'Al'}}
>>> render(attr("agee") > 1, ModelSchema.of(Actor), placeholders)
Traceback (most recent call last):
...
pydantic_dynamo.exceptions.InvalidAttributeError: ...agee...

This module holds the tree itself: :class:`Condition`, how conditions combine and compare, the
operand a comparison takes, and the plain-text rendering behind ``repr``. The paths and the
conditions only a path has are :mod:`pydantic_dynamo.attribute_paths`; the rendering for a
request, checked against the model, is :mod:`pydantic_dynamo.condition_rendering`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic_dynamo.exceptions import InvalidAttributeError

if TYPE_CHECKING:
    from pydantic_dynamo.attribute_paths import AttributePath

__all__ = ["Condition"]

MAX_IN_VALUES = 100
_set = object.__setattr__


class _Frozen:
    """Immutable after ``__init__`` (which sets its slots with ``_set``)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class _Output:
    """Where a condition renders to: placeholders (for a request) or plain text (``repr``)."""

    __slots__ = ()

    def path(self, path: AttributePath) -> str:
        return path.dotted

    def value(self, against: _Operand, value: Any, *, typed: bool = True) -> str:
        if isinstance(value, _Operand):
            return value._render(self)
        if isinstance(value, _Encoded):
            return repr(value.payload)
        return repr(value)

    def constant(self, kind: str, payload: str) -> str:
        return repr(payload)


class _Encoded(_Frozen):
    """A value already encoded as a scalar AttributeValue (the library's internal values)."""

    __slots__ = ("kind", "payload")
    kind: str
    payload: Any

    def __init__(self, kind: str, payload: Any) -> None:
        _set(self, "kind", kind)
        _set(self, "payload", payload)


class Condition(_Frozen):
    """A condition on an item: combine with ``&`` (and), ``|`` (or) and ``~`` (not).

    It has no truth value: ``a and b`` or ``if attr("x") == 1`` raise :class:`TypeError`
    rather than silently dropping a condition.
    """

    __slots__ = ()
    # Renders as one unit (a function call or a parenthesised group): NOT needs no parentheses.
    _atomic: bool = False
    # Renders as terms joined by AND: parenthesised inside an OR, for the reader.
    _conjunction: bool = False

    def __and__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return _And((*_terms(self, _And), *_terms(other, _And)))

    def __or__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return _Or((*_terms(self, _Or), *_terms(other, _Or)))

    def __invert__(self) -> Condition:
        return _Not(self)

    def __bool__(self) -> bool:
        raise TypeError("a Condition has no truth value: combine conditions with &, | and ~")

    def __repr__(self) -> str:
        return self._render(_Output())

    def _render(self, out: _Output) -> str:
        raise NotImplementedError


def _terms(condition: Condition, kind: type[_And | _Or]) -> tuple[Condition, ...]:
    return condition.terms if isinstance(condition, kind) else (condition,)


def all_of(conditions: Iterable[Condition]) -> Condition | None:
    """The conditions ANDed (``None`` for none); a single one as it is."""
    terms = tuple(conditions)
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else _And(terms)


class _And(Condition):
    __slots__ = ("terms",)
    _conjunction = True
    terms: tuple[Condition, ...]

    def __init__(self, terms: tuple[Condition, ...]) -> None:
        _set(self, "terms", terms)

    def _render(self, out: _Output) -> str:
        # AND binds tighter than OR, and an OR renders in parentheses: no term needs more.
        return " AND ".join([term._render(out) for term in self.terms])


class _Or(Condition):
    __slots__ = ("terms",)
    _atomic = True
    terms: tuple[Condition, ...]

    def __init__(self, terms: tuple[Condition, ...]) -> None:
        _set(self, "terms", terms)

    def _render(self, out: _Output) -> str:
        rendered = [
            f"({term._render(out)})" if term._conjunction else term._render(out)
            for term in self.terms
        ]
        return f"({' OR '.join(rendered)})"


class _Not(Condition):
    __slots__ = ("term",)
    term: Condition

    def __init__(self, term: Condition) -> None:
        _set(self, "term", term)

    def __invert__(self) -> Condition:
        return self.term

    def _render(self, out: _Output) -> str:
        inner = self.term._render(out)
        return f"NOT {inner}" if self.term._atomic else f"NOT ({inner})"


class _Compare(Condition):
    __slots__ = ("left", "operator", "right")
    left: _Operand
    operator: str
    right: Any

    def __init__(self, operator: str, left: _Operand, right: Any) -> None:
        _set(self, "operator", operator)
        _set(self, "left", left)
        _set(self, "right", right)

    def _render(self, out: _Output) -> str:
        left = self.left
        return f"{left._render(out)} {self.operator} {out.value(left, self.right)}"


class _Between(Condition):
    __slots__ = ("high", "low", "operand")
    operand: _Operand
    low: Any
    high: Any

    def __init__(self, operand: _Operand, low: Any, high: Any) -> None:
        _set(self, "operand", operand)
        _set(self, "low", low)
        _set(self, "high", high)

    def _render(self, out: _Output) -> str:
        operand = self.operand
        low, high = out.value(operand, self.low), out.value(operand, self.high)
        return f"{operand._render(out)} BETWEEN {low} AND {high}"


class _In(Condition):
    __slots__ = ("operand", "options")
    operand: _Operand
    options: tuple[Any, ...]

    def __init__(self, operand: _Operand, options: tuple[Any, ...]) -> None:
        if not options or len(options) > MAX_IN_VALUES:
            raise InvalidAttributeError(
                operand.dotted, f"is_in takes 1 to {MAX_IN_VALUES} values, got {len(options)}"
            )
        _set(self, "operand", operand)
        _set(self, "options", options)

    def _render(self, out: _Output) -> str:
        operand = self.operand
        listed = ", ".join([out.value(operand, option) for option in self.options])
        return f"{operand._render(out)} IN ({listed})"


class _Operand(_Frozen):
    """What comparisons take on their left: an attribute path or the size of one."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # == builds a condition

    dotted: str

    def __eq__(self, other: object) -> Condition:  # type: ignore[override]
        return _Compare("=", self, other)

    def __ne__(self, other: object) -> Condition:  # type: ignore[override]
        return _Compare("<>", self, other)

    def __lt__(self, other: Any) -> Condition:
        return _Compare("<", self, other)

    def __le__(self, other: Any) -> Condition:
        return _Compare("<=", self, other)

    def __gt__(self, other: Any) -> Condition:
        return _Compare(">", self, other)

    def __ge__(self, other: Any) -> Condition:
        return _Compare(">=", self, other)

    def between(self, low: Any, high: Any) -> Condition:
        """Between ``low`` and ``high``, both included."""
        return _Between(self, low, high)

    def is_in(self, *values: Any) -> Condition:
        """Equal to one of ``values`` (1 to 100 of them)."""
        return _In(self, values)

    def _render(self, out: _Output) -> str:
        raise NotImplementedError


def encoded(kind: str, payload: str) -> _Encoded:
    """A scalar value given already encoded (``encoded("N", "3")``), for the library's own."""
    return _Encoded(kind, payload)

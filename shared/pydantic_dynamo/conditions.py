"""Conditions as objects: one vocabulary for filters, conditional writes and write-once.

A condition is a small immutable tree built from :func:`attr` paths and combined with ``&``,
``|`` and ``~``. It names model fields (dotted paths reach into nested models and dicts); it is
checked against the model and turned into an expression with name and value placeholders only
when a request is built, by :func:`render`:

>>> from pydantic import BaseModel
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

A field set to ``None`` is stored as NULL, which DynamoDB's ``attribute_exists`` counts as
present: so :meth:`AttributePath.exists` means "present and not NULL" and
:meth:`AttributePath.not_exists` "missing or NULL" (what a model reads back as ``None``), as
``FilterCommand`` has meant since 0.4.2. Values are validated as the field's type and stored
as the field is stored (a datetime as its ISO string, an enum by value).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic_dynamo.codec import AttributeValue, encode_field
from pydantic_dynamo.exceptions import InvalidAttributeError
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.schema import FieldInfo, ModelSchema

__all__ = ["AttributePath", "Condition", "attr", "field_names", "render"]

MAX_IN_VALUES = 100
ATTRIBUTE_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})
_SCALAR_KINDS = frozenset({"S", "N", "B", "BOOL", "NULL"})
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


class _Placeholding(_Output):
    """Renders for a request: checks model paths and encodes values as the model stores them."""

    __slots__ = ("placeholders", "schema")

    def __init__(self, schema: ModelSchema | None, placeholders: Placeholders) -> None:
        self.schema = schema
        self.placeholders = placeholders

    def _field(self, path: AttributePath) -> FieldInfo | None:
        if self.schema is None:
            raise InvalidAttributeError(path.dotted, "no model to check this attribute against")
        return self.schema.field_at(path.parts)

    def path(self, path: AttributePath) -> str:
        if path.checked:
            self._field(path)
        name = self.placeholders.name
        if len(path.parts) == 1:
            return name(path.parts[0])
        return ".".join([name(part) for part in path.parts])

    def value(self, against: _Operand, value: Any, *, typed: bool = True) -> str:
        if isinstance(value, _Operand):
            return value._render(self)
        if isinstance(value, _Encoded):
            return self.placeholders.shared(value.kind, value.payload)
        if isinstance(against, _Size):
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidAttributeError(
                    against.path.dotted, f"size() compares with a whole number, not {value!r}"
                )
            return self.placeholders.shared("N", str(value))
        assert isinstance(against, AttributePath)
        encoded = self._encode(against, value, typed)
        if len(encoded) == 1:
            ((kind, payload),) = encoded.items()
            if kind in _SCALAR_KINDS:
                return self.placeholders.shared(kind, payload)
        return self.placeholders.value(encoded)

    def _encode(self, path: AttributePath, value: Any, typed: bool) -> AttributeValue:
        dotted = path.dotted
        if typed and path.checked:
            # Validated as the field's type, and dumped as it is stored: a datetime is stored as
            # its ISO string, so the condition must compare against the same string.
            info = self._field(path)
            if info is not None:
                value = info.encode_python(value, dotted)
        return encode_field(dotted, value)

    def constant(self, kind: str, payload: str) -> str:
        return self.placeholders.shared(kind, payload)


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


def encoded(kind: str, payload: str) -> _Encoded:
    """A scalar value given already encoded (``encoded("N", "3")``), for the library's own."""
    return _Encoded(kind, payload)


def render(condition: Condition, schema: ModelSchema | None, placeholders: Placeholders) -> str:
    """The expression of ``condition``, its names and values allocated in ``placeholders``.

    Every model path is checked against ``schema`` and every value validated as its field:
    an :class:`~pydantic_dynamo.exceptions.InvalidAttributeError` names the field otherwise.
    (``schema=None`` renders only the library's own attributes, :func:`raw_attr`.)
    """
    return condition._render(_Placeholding(schema, placeholders))


class _Naming(_Output):
    """Renders as plain text, noting the top-level model field every path starts from."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: set[str] = set()

    def path(self, path: AttributePath) -> str:
        if path.checked:
            self.names.add(path.parts[0])
        return path.dotted


def field_names(condition: Condition) -> frozenset[str]:
    """The top-level model fields ``condition`` reads (``address`` for ``address.city``).

    >>> sorted(field_names((attr("address.city") == "Rome") | ~attr("tags").contains("x")))
    ['address', 'tags']
    """
    naming = _Naming()
    condition._render(naming)
    return frozenset(naming.names)

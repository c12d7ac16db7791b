"""Conditions rendered for a request: checked against the model, values as it stores them.

:func:`render` turns a :class:`~pydantic_dynamo.conditions.Condition` into an expression whose
names and values are placeholders, checking every model path against the model's schema.
Values are validated as the field's type and stored as the field is stored (a datetime as its
ISO string, an enum by value). :func:`field_names` says which model fields a condition reads.
"""

from __future__ import annotations

from typing import Any

from pydantic_dynamo.attribute_paths import AttributePath, _Size
from pydantic_dynamo.codec import AttributeValue, encode_field
from pydantic_dynamo.conditions import Condition, _Encoded, _Operand, _Output
from pydantic_dynamo.exceptions import InvalidAttributeError
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.schema import FieldInfo, ModelSchema

__all__ = ["field_names", "render"]

_SCALAR_KINDS = frozenset({"S", "N", "B", "BOOL", "NULL"})


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


def render(condition: Condition, schema: ModelSchema | None, placeholders: Placeholders) -> str:
    """The expression of ``condition``, its names and values allocated in ``placeholders``.

    Every model path is checked against ``schema`` and every value validated as its field:
    an :class:`~pydantic_dynamo.exceptions.InvalidAttributeError` names the field otherwise.
    (``schema=None`` renders only the library's own attributes,
    :func:`~pydantic_dynamo.attribute_paths.raw_attr`.)
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

    >>> from pydantic_dynamo.attribute_paths import attr
    >>> sorted(field_names((attr("address.city") == "Rome") | ~attr("tags").contains("x")))
    ['address', 'tags']
    """
    naming = _Naming()
    condition._render(naming)
    return frozenset(naming.names)

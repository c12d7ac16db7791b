"""Expression placeholders: every attribute name a ``#nK``, every value a ``:vK``.

DynamoDB reserves hundreds of words (``name``, ``count``, ``size``...), and values cannot be
written inline, so every expression this library sends refers to its names and values only
through the request's ``ExpressionAttributeNames`` and ``ExpressionAttributeValues``.

>>> placeholders = Placeholders()
>>> placeholders.path("address.city"), placeholders.name("address")
('#n0.#n1', '#n0')
>>> placeholders.shared("S", "x"), placeholders.shared("S", "x"), placeholders.value({"S": "x"})
(':v0', ':v0', ':v1')
"""

from __future__ import annotations

from typing import Any

from pydantic_dynamo.codec import AttributeValue

__all__ = ["Placeholders"]


class Placeholders:
    """Allocates ``#nK`` name and ``:vK`` value placeholders, reusing a name's placeholder.

    One is built for every request (a plain class: a dataclass's ``__init__`` costs twice as
    much, on the hot path).
    """

    __slots__ = ("_by_name", "_by_scalar", "names", "values")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._by_name: dict[str, str] = {}
        self._by_scalar: dict[tuple[str, Any], str] = {}

    def __repr__(self) -> str:
        return f"Placeholders(names={self.names!r}, values={self.values!r})"

    def name(self, attribute: str) -> str:
        """The placeholder of one attribute name (no dots are interpreted)."""
        placeholder = self._by_name.get(attribute)
        if placeholder is None:
            placeholder = f"#n{len(self._by_name)}"
            self._by_name[attribute] = placeholder
            self.names[placeholder] = attribute
        return placeholder

    def path(self, dotted: str) -> str:
        """The placeholder path of a dotted attribute path (``a.b`` -> ``#n0.#n1``)."""
        return self.path_of(tuple(dotted.split(".")))

    def path_of(self, parts: tuple[str, ...]) -> str:
        """The placeholder path of a path given as its parts."""
        return ".".join(self.name(part) for part in parts)

    def value(self, value: AttributeValue) -> str:
        """A new placeholder for an encoded value."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def shared(self, kind: str, payload: Any) -> str:
        """The placeholder of the scalar ``{kind: payload}``, one for every use of that value.

        ``payload`` must be hashable (a string, bytes or bool, as scalars are encoded).
        """
        key = (kind, payload)
        placeholder = self._by_scalar.get(key)
        if placeholder is None:
            values = self.values
            placeholder = self._by_scalar[key] = f":v{len(values)}"
            values[placeholder] = {kind: payload}
        return placeholder

    def add_to(self, request: dict[str, Any]) -> dict[str, Any]:
        """Put the allocated names and values into a request, when there are any."""
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request

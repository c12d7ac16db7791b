"""Pure builders for key conditions, filters, conditions and update expressions.

Every attribute name goes through an ``ExpressionAttributeNames`` placeholder and every value
through ``ExpressionAttributeValues``; names are checked against the model first.

>>> from pydantic import BaseModel
>>> class Actor(BaseModel):
...     name: str
...     review: str | None = None
>>> placeholders = Placeholders()
>>> build_filter(ModelSchema.of(Actor), FilterCommand(equals={"name": "Steve"}), placeholders)
'#n0 = :v0'
>>> placeholders.names, placeholders.values
({'#n0': 'name'}, {':v0': {'S': 'Steve'}})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_dynamo.codec import AttributeValue, encode_field
from pydantic_dynamo.exceptions import InvalidAttributeError, ReservedAttributeError
from pydantic_dynamo.models import FilterCommand, UpdateCommand
from pydantic_dynamo.schema import (
    INTERNAL_OBJECT_VERSION,
    INTERNAL_TIMESTAMP,
    INTERNAL_TTL,
    FieldInfo,
    ModelSchema,
)

__all__ = [
    "Placeholders",
    "UpdateExpression",
    "build_filter",
    "build_update",
    "version_condition",
]

_MAX_IN_VALUES = 100


@dataclass
class Placeholders:
    """Allocates ``#nK`` name and ``:vK`` value placeholders, reusing a name's placeholder."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)
    _by_name: dict[str, str] = field(default_factory=dict, repr=False)

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

    def add_to(self, request: dict[str, Any]) -> dict[str, Any]:
        """Put the allocated names and values into a request, when there are any."""
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def _typed_value(schema: ModelSchema, path: str, value: Any) -> AttributeValue:
    # Validate against the attribute's type when it has one (a datetime is stored as its ISO
    # string: the filter must compare against the same string).
    info = schema.field(path)
    python = info.encode_python(value, path) if info is not None else value
    return encode_field(path, python)


def _comparisons(
    schema: ModelSchema, placeholders: Placeholders, values: Mapping[str, Any], operator: str
) -> Iterable[str]:
    for path, value in values.items():
        value_placeholder = placeholders.value(_typed_value(schema, path, value))
        yield f"{placeholders.path(path)} {operator} {value_placeholder}"


def build_filter(
    schema: ModelSchema, filters: FilterCommand, placeholders: Placeholders
) -> str | None:
    """A FilterExpression ANDing every condition of ``filters``, or ``None`` when it is empty."""
    parts: list[str] = []
    # None is stored as NULL, which attribute_exists counts as present: "exists" means present
    # and not NULL, "not exists" missing or NULL (what a model reads back as None).
    null_type = placeholders.value({"S": "NULL"}) if filters.exists or filters.not_exists else ""
    for path in sorted(filters.exists):
        schema.field(path)
        name = placeholders.path(path)
        parts.append(f"(attribute_exists({name}) AND NOT attribute_type({name}, {null_type}))")
    for path in sorted(filters.not_exists):
        schema.field(path)
        name = placeholders.path(path)
        parts.append(f"(attribute_not_exists({name}) OR attribute_type({name}, {null_type}))")
    parts.extend(_comparisons(schema, placeholders, filters.equals, "="))
    parts.extend(_comparisons(schema, placeholders, filters.not_equals, "<>"))
    parts.extend(_comparisons(schema, placeholders, filters.gt, ">"))
    parts.extend(_comparisons(schema, placeholders, filters.ge, ">="))
    parts.extend(_comparisons(schema, placeholders, filters.lt, "<"))
    parts.extend(_comparisons(schema, placeholders, filters.le, "<="))
    for path, prefix in filters.begins_with.items():
        schema.field(path)
        value = placeholders.value(encode_field(path, prefix))
        parts.append(f"begins_with({placeholders.path(path)}, {value})")
    for path, element in filters.contains.items():
        schema.field(path)
        value = placeholders.value(encode_field(path, element))
        parts.append(f"contains({placeholders.path(path)}, {value})")
    for path, (low, high) in filters.between.items():
        low_value = placeholders.value(_typed_value(schema, path, low))
        high_value = placeholders.value(_typed_value(schema, path, high))
        parts.append(f"{placeholders.path(path)} BETWEEN {low_value} AND {high_value}")
    for path, options in filters.is_in.items():
        if not options or len(options) > _MAX_IN_VALUES:
            raise InvalidAttributeError(
                path, f"is_in takes 1 to {_MAX_IN_VALUES} values, got {len(options)}"
            )
        listed = ", ".join(placeholders.value(_typed_value(schema, path, o)) for o in options)
        parts.append(f"{placeholders.path(path)} IN ({listed})")
    return " AND ".join(parts) if parts else None


def version_condition(placeholders: Placeholders, expected: int) -> str:
    """The stored version equals ``expected`` (items 0.4.2 wrote without one count as 1)."""
    name = placeholders.name(INTERNAL_OBJECT_VERSION)
    value = placeholders.value({"N": str(expected)})
    if expected == 1:
        return f"({name} = {value} OR attribute_not_exists({name}))"
    return f"{name} = {value}"


@dataclass(frozen=True)
class UpdateExpression:
    """The pieces of an UpdateItem request built from an :class:`UpdateCommand`."""

    update: str
    condition: str | None


Parts = tuple[str, ...]


def _check_target(parts: Parts, reserved: frozenset[str], seen: set[Parts]) -> None:
    """Refuse a reserved attribute, or a path overlapping one already in the command."""
    path = ".".join(parts)
    if parts[0] in reserved:
        raise ReservedAttributeError(path, "the repository manages this attribute itself")
    for other in seen:
        shorter = min(len(parts), len(other))
        if parts[:shorter] == other[:shorter]:
            raise InvalidAttributeError(
                path, f"updated twice in one command (with {'.'.join(other)!r})"
            )
    seen.add(parts)


def _target(
    schema: ModelSchema, parts: Parts, reserved: frozenset[str], seen: set[Parts]
) -> FieldInfo | None:
    # Reserved names first: they are not model attributes, and the error should say why.
    if parts[0] in reserved:
        _check_target(parts, reserved, seen)
    info = schema.field_at(parts)
    _check_target(parts, reserved, seen)
    return info


def _set_clauses(
    schema: ModelSchema,
    placeholders: Placeholders,
    values: Mapping[str, Any],
    prefix: Parts,
    reserved: frozenset[str],
    seen: set[Parts],
) -> Iterable[str]:
    for name, value in values.items():
        # Top-level names may be dotted paths; keys below a dict value are taken literally.
        parts = (*prefix, name) if prefix else tuple(name.split("."))
        if parts[0] in reserved:
            _check_target(parts, reserved, seen)
        info = schema.field_at(parts)
        if isinstance(value, Mapping) and info is not None and (info.nested or info.is_mapping):
            # 0.4.2's semantics: a dict sets the given keys of a nested model or map one by one.
            yield from _set_clauses(schema, placeholders, value, parts, reserved, seen)
            continue
        _check_target(parts, reserved, seen)
        path = ".".join(parts)
        python = info.encode_python(value, path) if info is not None else value
        yield f"{placeholders.path_of(parts)} = {placeholders.value(encode_field(path, python))}"


def build_update(
    schema: ModelSchema,
    command: UpdateCommand,
    placeholders: Placeholders,
    *,
    timestamp: str,
    reserved: frozenset[str],
    missing_version: int = 0,
    extra_sets: Sequence[str] = (),
) -> UpdateExpression:
    """The UpdateExpression (and the version condition) for ``command``.

    ``reserved`` holds the key attribute names and the internal attributes, which no command may
    target. Every update refreshes ``_timestamp`` and adds 1 to ``_object_version``, counting a
    missing one as ``missing_version``; ``extra_sets`` are the caller's own ``SET`` clauses.
    """
    seen: set[Parts] = set()
    sets = list(_set_clauses(schema, placeholders, command.set_commands, (), reserved, seen))

    for path, amount in command.increment_attrs.items():
        info = _target(schema, tuple(path.split(".")), reserved, seen)
        if info is not None and not info.is_number:
            raise InvalidAttributeError(path, "increment_attrs needs a numeric attribute")
        name = placeholders.path(path)
        zero = placeholders.value({"N": "0"})
        added = placeholders.value(encode_field(path, amount))
        sets.append(f"{name} = if_not_exists({name}, {zero}) + {added}")

    for path, extra in command.append_attrs.items():
        info = _target(schema, tuple(path.split(".")), reserved, seen)
        if info is not None and not info.is_list:
            raise InvalidAttributeError(path, "append_attrs needs a list attribute")
        if not extra:
            continue
        python = info.encode_python(extra, path) if info is not None else extra
        name = placeholders.path(path)
        empty = placeholders.value({"L": []})
        added = placeholders.value(encode_field(path, python))
        sets.append(f"{name} = list_append(if_not_exists({name}, {empty}), {added})")

    removes: list[str] = []
    for path in sorted(command.remove_attrs):
        info = _target(schema, tuple(path.split(".")), reserved, seen)
        if info is not None and info.required:
            raise InvalidAttributeError(path, "a required attribute cannot be removed")
        removes.append(placeholders.path(path))

    version = placeholders.name(INTERNAL_OBJECT_VERSION)
    base = placeholders.value({"N": str(missing_version)})
    one = placeholders.value({"N": "1"})
    sets.append(f"{version} = if_not_exists({version}, {base}) + {one}")
    sets.append(f"{placeholders.name(INTERNAL_TIMESTAMP)} = {placeholders.value({'S': timestamp})}")
    if command.expiry is not None:
        ttl = {"N": str(int(command.expiry.timestamp()))}
        sets.append(f"{placeholders.name(INTERNAL_TTL)} = {placeholders.value(ttl)}")
    sets.extend(extra_sets)

    update = "SET " + ", ".join(sets)
    if removes:
        update += " REMOVE " + ", ".join(removes)
    condition = (
        version_condition(placeholders, command.current_version)
        if command.current_version is not None
        else None
    )
    return UpdateExpression(update=update, condition=condition)

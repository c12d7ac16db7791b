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
from dataclasses import dataclass
from typing import Any

from pydantic_dynamo.attribute_paths import attr, raw_attr
from pydantic_dynamo.codec import encode_field
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition, all_of, encoded
from pydantic_dynamo.exceptions import InvalidAttributeError, ReservedAttributeError
from pydantic_dynamo.models import FilterCommand, UpdateCommand
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.prepared import Prepared, param
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
    "filter_condition",
    "version_check",
    "version_condition",
    "version_is",
]

_version = raw_attr(INTERNAL_OBJECT_VERSION)
_VERSION_IS = Prepared(_version == param("version", "N"))
_VERSION_IS_1 = Prepared((_version == encoded("N", "1")) | _version.not_exists())


def filter_condition(filters: FilterCommand) -> Condition | None:
    """The condition ANDing every part of ``filters`` (0.4.2's spelling), ``None`` if empty."""
    terms: list[Condition] = [attr(path).exists() for path in sorted(filters.exists)]
    terms.extend(attr(path).not_exists() for path in sorted(filters.not_exists))
    terms.extend(attr(path) == value for path, value in filters.equals.items())
    terms.extend(attr(path) != value for path, value in filters.not_equals.items())
    terms.extend(attr(path) > value for path, value in filters.gt.items())
    terms.extend(attr(path) >= value for path, value in filters.ge.items())
    terms.extend(attr(path) < value for path, value in filters.lt.items())
    terms.extend(attr(path) <= value for path, value in filters.le.items())
    terms.extend(attr(path).begins_with(prefix) for path, prefix in filters.begins_with.items())
    terms.extend(attr(path).contains(element) for path, element in filters.contains.items())
    terms.extend(attr(path).between(low, high) for path, (low, high) in filters.between.items())
    terms.extend(attr(path).is_in(*options) for path, options in filters.is_in.items())
    return all_of(terms)


def build_filter(
    schema: ModelSchema, filters: FilterCommand, placeholders: Placeholders
) -> str | None:
    """A FilterExpression ANDing every condition of ``filters``, or ``None`` when it is empty."""
    condition = filter_condition(filters)
    return render(condition, schema, placeholders) if condition is not None else None


def version_check(expected: int) -> Prepared:
    """The prepared :func:`version_is` for ``expected`` (its parameter: ``version``)."""
    return _VERSION_IS_1 if expected == 1 else _VERSION_IS


def version_is(expected: int) -> Condition:
    """The stored version equals ``expected`` (items 0.4.2 wrote without one count as 1)."""
    return version_check(expected).bind(version=str(expected))


def version_condition(placeholders: Placeholders, expected: int) -> str:
    """:func:`version_is` rendered (it names no model field)."""
    return render(version_is(expected), None, placeholders)


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
    extra_removes: Sequence[str] = (),
    check_version: bool = True,
) -> UpdateExpression:
    """The UpdateExpression and the ConditionExpression for ``command``.

    ``reserved`` holds the key attribute names and the internal attributes, which no command may
    target. Every update refreshes ``_timestamp`` and adds 1 to ``_object_version``, counting a
    missing one as ``missing_version``; ``extra_sets`` are the caller's own ``SET`` clauses and
    ``extra_removes`` its own ``REMOVE`` paths (placeholders). The condition is the command's
    version check, if any (``check_version=False``: the caller checks
    ``command.current_version`` in its own condition).
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
    removes.extend(extra_removes)

    update = "SET " + ", ".join(sets)
    if removes:
        update += " REMOVE " + ", ".join(removes)
    condition = None
    if check_version and command.current_version is not None:
        condition = version_condition(placeholders, command.current_version)
    return UpdateExpression(update=update, condition=condition)

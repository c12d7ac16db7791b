"""What the repository knows about its model: attribute names, types, and the names it reserves.

Commands and filters are checked here before any request, so a typo in an attribute name is a
:class:`~pydantic_dynamo.exceptions.InvalidAttributeError` naming it, not a silent no-op.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from functools import cached_property
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from pydantic_dynamo.exceptions import InvalidAttributeError, ReservedAttributeError

__all__ = [
    "CONTENT_HASH",
    "INTERNAL_ATTRIBUTES",
    "INTERNAL_OBJECT_VERSION",
    "INTERNAL_TIMESTAMP",
    "INTERNAL_TTL",
    "PRIOR_WRITE_TOKEN",
    "SCHEMA_VERSION",
    "WRITE_TOKEN",
    "FieldInfo",
    "ModelSchema",
]

INTERNAL_TIMESTAMP = "_timestamp"
INTERNAL_OBJECT_VERSION = "_object_version"
INTERNAL_TTL = "_ttl"
CONTENT_HASH = "_content_hash"  # written by write-once
WRITE_TOKEN = "_write_token"  # written by every single-item write: see write_tokens
PRIOR_WRITE_TOKEN = "_prior_write_token"  # the token an update replaced
SCHEMA_VERSION = "_schema_version"  # the stored shape's version: see schema_versions
INTERNAL_ATTRIBUTES = frozenset(
    {
        INTERNAL_TIMESTAMP,
        INTERNAL_OBJECT_VERSION,
        INTERNAL_TTL,
        CONTENT_HASH,
        WRITE_TOKEN,
        PRIOR_WRITE_TOKEN,
        SCHEMA_VERSION,
    }
)

_NUMBER_TYPES = (int, float, Decimal)


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


class FieldInfo:
    """One attribute of the model: its annotation, whether it is required, how to validate it."""

    __slots__ = ("__dict__", "annotation", "name", "required")

    def __init__(self, name: str, annotation: Any, required: bool) -> None:
        self.name = name
        self.annotation = annotation
        self.required = required

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        """A validator/serializer for this attribute's type (built once, on first use)."""
        return TypeAdapter(self.annotation)

    @cached_property
    def core_type(self) -> Any:
        """The annotation without ``Optional``/``Annotated`` wrappers."""
        return _strip_optional(self.annotation)

    @cached_property
    def nested(self) -> ModelSchema | None:
        """The schema of a nested model attribute, else ``None``."""
        kind = self.core_type
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return ModelSchema.of(kind)
        return None

    @property
    def is_mapping(self) -> bool:
        """Whether the attribute is a dict (any key below it is allowed)."""
        kind = typing.get_origin(self.core_type) or self.core_type
        return isinstance(kind, type) and issubclass(kind, Mapping)

    @property
    def is_list(self) -> bool:
        """Whether the attribute is a list (``append_attrs`` may extend it)."""
        kind = typing.get_origin(self.core_type) or self.core_type
        return kind is list

    @property
    def is_number(self) -> bool:
        """Whether the attribute is numeric (``increment_attrs`` may add to it)."""
        kind = self.core_type
        return isinstance(kind, type) and issubclass(kind, _NUMBER_TYPES) and kind is not bool

    def encode_python(self, value: Any, path: str) -> Any:
        """Validate ``value`` as this attribute's type and dump it in Python mode."""
        try:
            validated = self.adapter.validate_python(value)
        except ValidationError as error:
            details = "; ".join(e["msg"] for e in error.errors())
            raise InvalidAttributeError(path, f"invalid value {value!r}: {details}") from None
        return self.adapter.dump_python(validated)


class ModelSchema:
    """The attributes of one Pydantic model class, cached per class."""

    _cache: typing.ClassVar[dict[type[BaseModel], ModelSchema]] = {}

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self.fields: dict[str, FieldInfo] = {
            name: FieldInfo(name, info.rebuild_annotation(), info.is_required())
            for name, info in model.model_fields.items()
        }

    @classmethod
    def of(cls, model: type[BaseModel]) -> ModelSchema:
        """The (cached) schema of ``model``."""
        schema = cls._cache.get(model)
        if schema is None:
            schema = cls._cache[model] = cls(model)
        return schema

    def check_reserved(self, reserved: frozenset[str]) -> None:
        """Refuse a model whose attribute names (or aliases) collide with ``reserved``."""
        for name, info in self.model.model_fields.items():
            for candidate in (name, info.alias, info.validation_alias, info.serialization_alias):
                if isinstance(candidate, str) and candidate in reserved:
                    raise ReservedAttributeError(
                        candidate,
                        f"{self.model.__name__} declares {candidate!r}, which the repository "
                        f"manages itself (reserved: {sorted(reserved)})",
                    )

    def field(self, path: str) -> FieldInfo | None:
        """The attribute at a dotted ``path``; ``None`` below a dict (any key is allowed there).

        Raises :class:`InvalidAttributeError` for a name the model does not have.
        """
        return self.field_at(tuple(path.split(".")))

    def field_at(self, parts: tuple[str, ...]) -> FieldInfo | None:
        """The attribute at a path given as its parts (a dict key may itself hold a dot)."""
        schema: ModelSchema | None = self
        info: FieldInfo | None = None
        path = ".".join(parts)
        for depth, part in enumerate(parts):
            if schema is None:
                if info is not None and info.is_mapping:
                    return None
                raise InvalidAttributeError(
                    path, f"{'.'.join(parts[:depth])!r} has no attributes below it"
                )
            info = schema.fields.get(part)
            if info is None:
                raise InvalidAttributeError(
                    path, f"{schema.model.__name__} has no attribute {part!r}"
                )
            schema = info.nested
        return info

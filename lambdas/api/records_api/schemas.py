"""Request and response bodies of the HTTP API (they are also its OpenAPI schemas).

Request bodies refuse unknown keys, so that a misspelt field (``"expirty"``) is a 422 naming it
rather than silently ignored. Item models keep their own policy (the default registry's forbid
extras too).

The OpenAPI document is built from these models, so they take what it says and no more: a version
is a JSON integer (not ``"3"`` or ``3.0``) below ``MAX_WRITE_VERSION``, an expiry an RFC 3339
string (not an epoch number), and an update names the attributes of its content type's model.

>>> from records_service.content_types import FilmActor
>>> UpdateFor(FilmActor).model_json_schema()["$defs"]["FilmActorSet"]["additionalProperties"]
False
"""

from __future__ import annotations

import json
import types
import typing
from datetime import date, datetime, time
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator

from pydantic_dynamo import PartitionedContent, UpdateCommand
from pydantic_dynamo.models import MAX_VERSION

__all__ = [
    "MAX_BATCH_CONTENTS",
    "MAX_BATCH_KEYS",
    "MAX_VERSION",
    "MAX_WRITE_VERSION",
    "BatchGetResult",
    "BatchIn",
    "BatchWriteResult",
    "ContentIn",
    "ErrorBody",
    "Health",
    "Key",
    "KeysIn",
    "Page",
    "UpdateFor",
    "UpdateIn",
    "WriteVersion",
    "exact_bounds",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

# One Lambda invocation (10 s) writes this many comfortably: 4 BatchWriteItem calls.
MAX_BATCH_CONTENTS = 100
# One BatchGetItem call.
MAX_BATCH_KEYS = 100

# A version a client writes (``current_version``, ``If-Match``) is below this: 18 digits, what
# If-Match has always taken, a signed 64-bit integer in any client, and exact in the document
# (Powertools writes bounds as floats; 10**18 is one, 10**38 - 1 is not). Each write adds one,
# so a stored version stays far below the library's MAX_VERSION (10**38, exclusive), the bound
# the answers declare.
MAX_WRITE_VERSION = 10**18


def _json_text(value: Any) -> Any:
    # The document says an RFC 3339 string: refuse the epoch numbers Pydantic would read too.
    if value is not None and not isinstance(value, str):
        raise ValueError("expected an RFC 3339 date-time string or null")
    return value


def _json_integer(value: Any) -> Any:
    # A JSON integer (3, or 3.0 as JSON Schema counts it), not the "3" or true Pydantic takes.
    if isinstance(value, bool | str):
        raise ValueError("expected an integer")
    return value


_TEMPORAL = (datetime, date, time)


def _json_item(model: type[BaseModel], value: Any) -> Any:
    # The document says the model's dates and times are strings: refuse epoch numbers.
    if isinstance(value, dict):
        for name, field in model.model_fields.items():
            inner = _strip_optional(field.annotation)[0]
            given = value.get(field.alias or name)
            if inner in _TEMPORAL and given is not None and not isinstance(given, str):
                raise ValueError(f"{name}: expected an RFC 3339 string")
    return value


WriteVersion = Annotated[int, Field(ge=1, lt=MAX_WRITE_VERSION), BeforeValidator(_json_integer)]
Expiry = Annotated[datetime | None, BeforeValidator(_json_text)]


class ContentIn(PartitionedContent[ModelT], Generic[ModelT]):
    """A content to store: ``partition_ids``, ``content_ids``, ``item`` and optional ``expiry``.

    ``current_version`` is optional: on a single put it is the version the stored item must
    hold (optimistic locking); in a batch it is the version stored (default 1).
    """

    model_config = ConfigDict(extra="forbid")

    current_version: WriteVersion = 1
    expiry: Expiry = None

    @field_validator("item", mode="before")
    @classmethod
    def _item_as_documented(cls, value: Any) -> Any:
        model = cls.model_fields["item"].annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            return _json_item(model, value)
        return value


class BatchIn(BaseModel, Generic[ModelT]):
    """``{"contents": [...]}``: up to ``MAX_BATCH_CONTENTS`` contents written in one call."""

    model_config = ConfigDict(extra="forbid")

    contents: list[ContentIn[ModelT]] = Field(min_length=1, max_length=MAX_BATCH_CONTENTS)


class BatchWriteResult(BaseModel):
    """How many contents a batch put wrote (all of them, or the call fails)."""

    written: int


class Key(BaseModel):
    """Where one content lives: its partition ids and content ids."""

    model_config = ConfigDict(extra="forbid")

    partition_ids: list[str]
    content_ids: list[str]


class KeysIn(BaseModel):
    """``{"keys": [...]}``: up to ``MAX_BATCH_KEYS`` keys read in one call."""

    model_config = ConfigDict(extra="forbid")

    keys: list[Key] = Field(min_length=1, max_length=MAX_BATCH_KEYS)


class BatchGetResult(BaseModel, Generic[ModelT]):
    """The contents found, the requested keys that hold nothing, and the keys not read.

    ``unprocessed`` is not empty when the contents found filled an answer (Lambda answers at
    most 6 MB): ask for those keys again.
    """

    contents: list[PartitionedContent[ModelT]]
    missing: list[Key]
    unprocessed: list[Key] = Field(default_factory=list)


class Page(BaseModel, Generic[ModelT]):
    """One page of a listing; pass ``cursor`` back to get the next (``null`` at the end)."""

    contents: list[PartitionedContent[ModelT]]
    cursor: str | None


class UpdateIn(UpdateCommand):
    """A partial update (the library's ``UpdateCommand``), refusing unknown keys."""

    model_config = ConfigDict(extra="forbid")


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) < len(get_args(annotation)):
            inner = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
            return inner, True
    return annotation, False


def _is_number(annotation: Any) -> bool:
    return annotation in (int, float) or (
        get_origin(annotation) in (typing.Union, types.UnionType)
        and all(a in (int, float) for a in get_args(annotation))
    )


def _is_list(annotation: Any) -> bool:
    return annotation is list or get_origin(annotation) is list


def _is_mapping(annotation: Any) -> bool:
    return (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or (
        annotation is dict or get_origin(annotation) is dict
    )


def _attributes(name: str, fields: dict[str, Any], description: str) -> type[BaseModel]:
    """An object whose keys are ``fields`` (documented as the only ones).

    It lets other keys through to the library, which refuses them with a 400 naming the
    attribute (``invalid_attribute``), reserved names included: the document refuses them too.
    """
    config = ConfigDict(extra="allow", json_schema_extra=_closed, title=name)
    return create_model(name, __config__=config, __doc__=description, **fields)


def _closed(schema: dict[str, Any]) -> None:
    # "Absent" is not a value: no ``"default": null`` on a key whose type is not nullable.
    schema["additionalProperties"] = False
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class _TypedUpdate(BaseModel):
    """The base of ``UpdateFor(model)``: the command of one content type."""

    model_config = ConfigDict(extra="forbid")

    current_version: WriteVersion | None = None
    expiry: Expiry = None

    def command(self) -> UpdateIn:
        """The library's command (attribute names and values as sent)."""
        data = self.model_dump(exclude_unset=True, exclude={"remove_attrs"})
        remove = getattr(self, "remove_attrs", None)
        if remove is not None:
            data["remove_attrs"] = set(remove)
        return UpdateIn.model_validate(data)


_UPDATES: dict[type[BaseModel], type[_TypedUpdate]] = {}


def UpdateFor(model: type[BaseModel]) -> type[_TypedUpdate]:  # noqa: N802 (a type factory)
    """The update command of ``model``'s content type, naming its attributes in the document.

    ``set_commands`` takes any attribute with a value of its type (a partial object on a nested
    model or mapping), ``increment_attrs`` the numeric ones, ``append_attrs`` the lists,
    ``remove_attrs`` the optional ones.
    """
    if model in _UPDATES:
        return _UPDATES[model]
    sets: dict[str, Any] = {}
    increments: dict[str, Any] = {}
    appends: dict[str, Any] = {}
    removable: list[str] = []
    for field_name, field in model.model_fields.items():
        inner, optional = _strip_optional(field.annotation)
        annotation: Any = field.annotation
        if field.metadata:  # the field's constraints (max_length, ge...)
            annotation = Annotated[(annotation, *field.metadata)]
        if _is_mapping(inner):
            annotation = annotation | dict[str, Any]
        key = field.alias or field_name
        sets[key] = (annotation, None)
        if _is_number(inner):
            increments[key] = (int | float, None)
        if _is_list(inner):
            appends[key] = (list[Any] | None, None)
        if optional or not field.is_required():
            removable.append(key)
    name = model.__name__
    remove_items: dict[str, Any] = (
        {"items": {"enum": removable, "type": "string"}} if removable else {"maxItems": 0}
    )
    fields: dict[str, Any] = {
        "set_commands": (
            _attributes(f"{name}Set", sets, f"Attributes of {name} to set"),
            Field(default_factory=dict),
        ),
        "increment_attrs": (
            _attributes(f"{name}Increment", increments, f"Numeric attributes of {name} to add to"),
            Field(default_factory=dict),
        ),
        "append_attrs": (
            _attributes(f"{name}Append", appends, f"List attributes of {name} to extend"),
            Field(default_factory=dict),
        ),
        "remove_attrs": (
            list[str],
            Field(default_factory=list, json_schema_extra=remove_items),
        ),
    }
    update: type[_TypedUpdate] = create_model(
        f"UpdateIn[{name}]",
        __base__=_TypedUpdate,
        __doc__=f"A partial update of one {name}.",
        **fields,
    )
    return _UPDATES.setdefault(model, update)


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a stable ``error`` code, a readable ``message``, and details."""

    error: str = Field(examples=["version_conflict"])
    message: str = Field(examples=["version conflict: expected 3, found 4"])
    detail: Any = None


class Health(BaseModel):
    """The answer of ``GET /health``."""

    status: str
    content_types: list[str]


# Bounds Powertools' OpenAPI model turns into floats that are not them (float(10**38) is
# 99999999999999997748809823456034029568): the document states them exactly.
_INEXACT_BOUNDS = {float(MAX_VERSION): MAX_VERSION}
_BOUND_KEYS = frozenset({"maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"})


def _exact(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _INEXACT_BOUNDS.get(value, value)
            if key in _BOUND_KEYS and isinstance(value, float)
            else _exact(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_exact(value) for value in node]
    return node


def exact_bounds(document: str) -> str:
    """The OpenAPI ``document`` with the integer bounds Powertools wrote as floats made exact.

    >>> exact_bounds('{"exclusiveMaximum": 1e+38}')
    '{"exclusiveMaximum": 100000000000000000000000000000000000000}'
    """
    return json.dumps(_exact(json.loads(document)))

"""A codec compiled from one model's fields: the generic codec's results, without its dispatch.

The generic codec (:mod:`pydantic_dynamo.codec`) looks at every value to choose how to convert
it. A model's fields say ahead what most values will be, so :class:`ModelCodec` generates, per
model class, straight-line Python (compiled with ``exec``, as :mod:`pydantic_dynamo.prepared`
does) that converts each field the way its type predicts, and hands any value that is not what
the type predicts to the generic codec. Every fast branch is the generic one inlined for the
exact type (or tag) it checks, so the compiled codec gives what the generic one gives, value for
value, errors included:

- ``encode_dump(dump)`` equals ``encode_item(dump)``: a value of another type than its field's
  (a ``field_serializer``'s output, a NaN, an integer past 38 digits) goes to the generic encoder,
  and any refusal is named by the generic path walk. A dump whose keys are not the model's fields
  (computed or excluded fields, extra attributes) is encoded by the generic codec whole.
- ``decode(raw)`` holds, for each field stored in ``raw``, ``decode_value`` of its value (so the
  model's validation sees what it sees today: numbers as int/float/Decimal by their text, sets as
  lists, NULL as ``None``); a field absent from ``raw`` is absent (its default applies). Other
  attributes (keys, internal ones, extra ones written by other code) are left out when the
  model's validator ignores them anyway; a model that reads them (``extra="allow"`` or
  ``"forbid"``, aliases, a ``before``/``wrap`` model validator) gets them decoded, except those in
  ``exclude``.

Two differences, on values DynamoDB never sends: an attribute the model ignores is not read, so a
malformed one raises nothing (the generic path raised ``ValueError``); and of several malformed
values, the first in the model's field order raises, not the first in the item's order.

The exec'd code holds only identifiers of this module's making and ``repr`` string literals of
field names; classes and tables are read from its namespace.

>>> from pydantic import BaseModel, ValidationError
>>> class Point(BaseModel):
...     x: int
...     tags: set[str] = set()
>>> point_codec = ModelCodec.of(Point)
>>> point_codec.encode(Point(x=1, tags={"b", "a"}))
{'x': {'N': '1'}, 'tags': {'L': [{'S': 'a'}, {'S': 'b'}]}}
>>> point_codec.decode_model({"x": {"N": "2"}, "PK": {"S": "p#1"}})
Point(x=2, tags=set())
"""

from __future__ import annotations

import functools
import threading
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from pydantic_dynamo import codec
from pydantic_dynamo.codec import Item

__all__ = ["ModelCodec"]

M = TypeVar("M", bound=BaseModel)

# Helpers every generated function may call, by the names the generated code uses.
_HELPERS: dict[str, Any] = {
    "_dv": codec.decode_value,
    "_di": codec.decode_item,
    "_num": codec._decode_number,
    "_ev": codec._encode_value_fast,
    "_emap": codec._encode_map,
    "_els": codec._encode_elements,
    "_order": codec._ordered,
    "_key": codec._map_key,
    "_MAX_INT": codec._MAX_INT,
    "_MAX_MAG": codec._MAX_MAGNITUDE,
    "_MIN_MAG": codec._MIN_MAGNITUDE,
}
_ISO_TYPES = (datetime, date, time)
_SEQUENCES = {list: list, tuple: tuple, set: set, frozenset: frozenset}
# decode_value tries "S" first: a value holding "S" and the expected tag (DynamoDB never sends
# several tags) takes the generic path, which keeps that precedence.
_SINGLE = "len({av}) == 1"


def _unwrap(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and ``Optional``; ``Any`` for unions of types."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else Any
    return annotation


def _nullable(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _nullable(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return type(None) in typing.get_args(annotation)
    return False


def _is_model(kind: Any) -> bool:
    return (
        isinstance(kind, type) and issubclass(kind, BaseModel) and not kind.__pydantic_root_model__
    )


def _enum_table(kind: type[Enum]) -> tuple[str, dict[Enum, Any]] | None:
    """(tag, member -> payload) when every member encodes to one scalar tag, else ``None``."""
    table: dict[Enum, Any] = {}
    tags = set()
    for member in kind.__members__.values():
        try:
            encoded = codec.encode_value(member.value)
        except codec._UnsupportedError:
            return None
        ((tag, payload),) = encoded.items()
        if tag not in ("S", "N", "BOOL"):
            return None
        tags.add(tag)
        table[member] = payload
    return (tags.pop(), table) if len(tags) == 1 else None


def _reads_undeclared(model: type[BaseModel]) -> bool:
    """Whether the model's validator may read attributes other than its fields' names."""
    if model.model_config.get("extra") not in (None, "ignore"):
        return True
    decorators = model.__pydantic_decorators__
    if any(d.info.mode in ("before", "wrap") for d in decorators.model_validators.values()):
        return True
    return any(
        info.alias is not None or info.validation_alias is not None
        for info in model.model_fields.values()
    )


class _Source:
    """One generated module: its lines and the namespace its names refer to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self._refs: dict[int, str] = {}

    def ref(self, value: Any) -> str:
        """The namespace name of ``value`` (a class, a table, a codec)."""
        name = self._refs.get(id(value))
        if name is None:
            name = self._refs[id(value)] = f"_r{len(self._refs)}"
            self.namespace[name] = value
        return name

    # -- decoding: an expression equal to decode_value(av) --------------------------------------

    def decode(self, annotation: Any, av: str, depth: int) -> str:
        kind = _unwrap(annotation)
        x, v = f"x{depth}", f"v{depth}"
        single = _SINGLE.format(av=av)
        generic = f"_dv({av})"
        if kind is str or kind is UUID or kind in _ISO_TYPES:
            return f'({x} if ({x} := {av}.get("S")) is not None else {generic})'
        if isinstance(kind, type) and issubclass(kind, Enum):
            known = _enum_table(kind)
            kind = str if known is None or known[0] == "S" else int
            return self.decode(kind, av, depth)
        if kind is bool:
            tag, value = "BOOL", x
        elif kind in (int, float, Decimal):
            tag, value = "N", f"(int({x}) if {x}.isdigit() else _num({x}))"
        elif kind is bytes:
            tag, value = "B", f"bytes({x})"
        elif _is_model(kind):
            codec_of = ModelCodec.of(kind)
            fields = (
                f"{self.ref(codec_of)}.decode_fields" if not codec_of.reads_undeclared else "_di"
            )
            tag, value = "M", f"{fields}({x})"
        else:
            origin = typing.get_origin(kind)
            args = typing.get_args(kind)
            if origin in _SEQUENCES and args and (origin is not tuple or args[1:] == (...,)):
                inner = self.decode(args[0], v, depth + 1)
                if inner == f"_dv({v})":
                    return generic
                tag, value = "L", f"[{inner} for {v} in {x}]"
            elif origin is dict and len(args) == 2:
                inner = self.decode(args[1], v, depth + 1)
                k = f"k{depth}"
                body = f"{{{k}: {inner} for {k}, {v} in {x}.items()}}"
                tag, value = "M", (f"_di({x})" if inner == f"_dv({v})" else body)
            else:
                return generic
        return f'({value} if ({x} := {av}.get("{tag}")) is not None and {single} else {generic})'

    def decode_statements(self, annotation: Any, target: str) -> list[str] | None:
        """Statements setting ``target`` to ``decode_value(av)`` for a sequence field, else
        ``None``: a loop measured about twice as fast as the comprehension (a function call,
        and a cell for each name it binds) for a field's list of a few strings."""
        kind = _unwrap(annotation)
        origin = typing.get_origin(kind)
        args = typing.get_args(kind)
        if origin not in _SEQUENCES or not args or (origin is tuple and args[1:] != (...,)):
            return None
        inner = self.decode(args[0], "v0", 1)
        if inner == "_dv(v0)":  # decode_value's "L" branch: strings without a call each
            inner = '(t0 if (t0 := v0.get("S")) is not None else _dv(v0))'
        return [
            'x0 = av.get("L")',
            "if x0 is not None and len(av) == 1:",
            "    l0 = []",
            "    for v0 in x0:",
            f"        l0.append({inner})",
            f"    {target} = l0",
            "else:",
            f"    {target} = _dv(av)",
        ]

    # -- encoding: an expression equal to encode_value(v) for a value of a model_dump() ---------

    def encode(self, annotation: Any, v: str, depth: int) -> str:
        kind = _unwrap(annotation)
        fast = self._encode_kind(kind, v, depth)
        if _nullable(annotation) and fast != f"_ev({v})":
            return f'({{"NULL": True}} if {v} is None else {fast})'
        return fast

    def _encode_kind(self, kind: Any, v: str, depth: int) -> str:
        generic = f"_ev({v})"
        if kind is str:
            return f'({{"S": {v}}} if type({v}) is str and {v}.isascii() else {generic})'
        if kind is bool:
            return f'({{"BOOL": {v}}} if type({v}) is bool else {generic})'
        if kind is int:
            check = f"type({v}) is int and -_MAX_INT < {v} < _MAX_INT"
            return f'({{"N": str({v})}} if {check} else {generic})'
        if kind is float:
            magnitude = f"(_MIN_MAG <= abs({v}) < _MAX_MAG or {v} == 0.0)"
            return f'({{"N": repr({v})}} if type({v}) is float and {magnitude} else {generic})'
        if kind is bytes:
            return f'({{"B": {v}}} if type({v}) is bytes else {generic})'
        if kind in _ISO_TYPES or kind is UUID:
            text = f"{v}.isoformat()" if kind is not UUID else f"str({v})"
            return f'({{"S": {text}}} if type({v}) is {self.ref(kind)} else {generic})'
        if isinstance(kind, type) and issubclass(kind, Enum):
            known = _enum_table(kind)
            if known is None:
                return generic
            tag, table = known
            check = f"type({v}) is {self.ref(kind)}"
            return f'({{"{tag}": {self.ref(table)}[{v}]}} if {check} else {generic})'
        if _is_model(kind):
            fields = f"{self.ref(ModelCodec.of(kind))}.encode_fields"
            return f'({{"M": {fields}({v})}} if type({v}) is dict else {generic})'
        origin = typing.get_origin(kind)
        args = typing.get_args(kind)
        e = f"e{depth}"
        if origin in _SEQUENCES and args and (origin is not tuple or args[1:] == (...,)):
            check = f"type({v}) is {origin.__name__}"
            elements = f"_order({v})" if origin in (set, frozenset) else v
            inner = self.encode(args[0], e, depth + 1)
            listed = (
                f"_els({elements})" if inner == f"_ev({e})" else f"[{inner} for {e} in {elements}]"
            )
            return f'({{"L": {listed}}} if {check} else {generic})'
        if origin is dict and len(args) == 2:
            inner = self.encode(args[1], e, depth + 1)
            k = f"k{depth}"
            name = f"({k} if type({k}) is str else _key({k}))"
            body = f"{{{name}: {inner} for {k}, {e} in {v}.items()}}"
            mapped = f"_emap({v})" if inner == f"_ev({e})" else body
            return f'({{"M": {mapped}}} if type({v}) is dict else {generic})'
        return generic

    def compile(self, name: str) -> Callable[..., Any]:
        exec("\n".join(self.lines), self.namespace)  # the code is this module's own, see above
        function: Callable[..., Any] = self.namespace[name]
        return function


def _compile_decoder(model: type[BaseModel]) -> tuple[Callable[[Item], dict[str, Any]], str]:
    source = _Source()
    source.lines.append("def decode_fields(raw):")
    source.lines.append("    out = {}")
    for name, info in model.model_fields.items():
        source.lines.append(f"    av = raw.get({name!r})")
        source.lines.append("    if av is not None:")
        statements = source.decode_statements(info.annotation, f"out[{name!r}]")
        if statements is None:
            statements = [f"out[{name!r}] = {source.decode(info.annotation, 'av', 0)}"]
        source.lines.extend(f"        {line}" for line in statements)
    source.lines.append("    return out")
    return source.compile("decode_fields"), "\n".join(source.lines)


def _compile_encoder(model: type[BaseModel]) -> tuple[Callable[[Mapping[str, Any]], Item], str]:
    source = _Source()
    fields = model.model_fields
    source.lines.append("def encode_fields(d):")
    # A dump holding other keys than the fields (computed, excluded or extra ones) goes to the
    # generic encoder whole; a missing field raises KeyError, caught by ModelCodec.encode_dump.
    source.lines.append(f"    if len(d) != {len(fields)}:")
    source.lines.append("        return _emap(d)")
    for index, name in enumerate(fields):
        source.lines.append(f"    f{index} = d[{name!r}]")
    entries = [
        f"{name!r}: {source.encode(info.annotation, f'f{index}', 0)}"
        for index, (name, info) in enumerate(fields.items())
    ]
    source.lines.append("    return {" + ", ".join(entries) + "}")
    return source.compile("encode_fields"), "\n".join(source.lines)


class ModelCodec(Generic[M]):
    """The encoder and decoder compiled for one model class (:meth:`of` caches them)."""

    _cache: ClassVar[dict[type[BaseModel], ModelCodec[Any]]] = {}
    # Codecs being compiled by the thread holding the lock, published together when the first
    # of them is done: a model nested in itself finds its own codec here, and no other thread
    # sees a codec whose nested codecs are not compiled yet.
    _building: ClassVar[dict[type[BaseModel], ModelCodec[Any]]] = {}
    _lock: ClassVar[threading.RLock] = threading.RLock()

    model: type[M]
    reads_undeclared: bool
    """Whether the model's validator reads attributes it does not declare (they are decoded)."""
    decode_fields: Callable[[Item], dict[str, Any]]
    """The stored fields of ``raw``, decoded (the compiled function)."""
    encode_fields: Callable[[Mapping[str, Any]], Item]
    """The item of a ``model_dump()`` (the compiled function; see :meth:`encode_dump`)."""
    source: str
    """The generated code, for reading."""

    @classmethod
    def of(cls, model: type[M]) -> ModelCodec[M]:
        """The codec of ``model``, compiled on first use."""
        found = cls._cache.get(model)
        if found is not None:
            return found
        with cls._lock:
            found = cls._cache.get(model) or cls._building.get(model)
            if found is not None:
                return found
            outermost = not cls._building
            # The generated code looks nested codecs' functions up only when it runs.
            found = cls._building[model] = cls.__new__(cls)
            try:
                found._compile(model)
                if outermost:
                    cls._cache.update(cls._building)
            finally:
                if outermost:
                    cls._building.clear()
        return found

    def _compile(self, model: type[M]) -> None:
        if not _is_model(model):
            raise TypeError(f"a ModelCodec needs a Pydantic model class of fields, got {model!r}")
        self.model = model
        self.reads_undeclared = _reads_undeclared(model)
        self._fields = frozenset(model.model_fields)
        self.decode_fields, decoder = _compile_decoder(model)
        self.encode_fields, encoder = _compile_encoder(model)
        self.source = decoder + "\n\n" + encoder
        validate: Callable[..., M]
        overridden = getattr(model.model_validate, "__func__", None) is not (
            BaseModel.model_validate.__func__  # type: ignore[attr-defined]
        )
        # As RepositoryCore does: the validator itself, unless the model overrides model_validate.
        validate = (
            model.model_validate if overridden else model.__pydantic_validator__.validate_python
        )
        self._validate = functools.partial(validate, by_name=True)

    # -- encoding -------------------------------------------------------------------------------

    def encode(self, model: M) -> Item:
        """The stored attributes of ``model``'s fields: ``encode_item(model.model_dump())``."""
        return self.encode_dump(model.model_dump(by_alias=False))

    def encode_with_dump(self, model: M) -> tuple[Item, dict[str, Any]]:
        """:meth:`encode`, and the ``model_dump()`` it encoded (index values compose from it)."""
        dump = model.model_dump(by_alias=False)
        return self.encode_dump(dump), dump

    def encode_dump(self, dump: Mapping[str, Any]) -> Item:
        """The item of a ``model_dump(by_alias=False)`` of this model: ``encode_item(dump)``.

        Raises :class:`~pydantic_dynamo.exceptions.UnsupportedValueError` naming the field
        holding a value DynamoDB refuses, as :func:`~pydantic_dynamo.codec.encode_item` does.
        """
        try:
            return self.encode_fields(dump)
        except KeyError:
            return codec.encode_item(dump)
        except codec._UnsupportedError:
            return codec.encode_item(dump)  # raises, naming the field

    # -- decoding -------------------------------------------------------------------------------

    def decode(self, raw: Item, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """What the model's validator takes from a stored item (see the module doc).

        ``exclude``: attributes that are never the model's (keys, internal attributes, index
        keys); they matter only to a model whose validator reads undeclared attributes.
        """
        data = self.decode_fields(raw)
        if self.reads_undeclared:
            fields = self._fields
            for name, value in raw.items():
                if name not in fields and name not in exclude:
                    data[name] = codec.decode_value(value)
        return data

    def decode_model(self, raw: Item, exclude: frozenset[str] = frozenset()) -> M:
        """The model stored in ``raw``, validated (``by_name``, as the repository validates).

        An item that fails is validated again as the generic path gives it (every attribute
        not in ``exclude``, in the item's order), so that the
        :class:`~pydantic.ValidationError` is the generic path's, down to the input it echoes.
        """
        try:
            if not self.reads_undeclared:  # decode() is then decode_fields(), without a frame
                return self._validate(self.decode_fields(raw))
            return self._validate(self.decode(raw, exclude))
        except ValidationError:
            data = codec.decode_item(raw)
            return self._validate({k: v for k, v in data.items() if k not in exclude})

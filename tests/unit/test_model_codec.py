"""The codec compiled per model answers what the generic codec answers, errors included.

Models are generated (fields of every supported type, optional, nested, in lists, sets and
dicts, with and without defaults), their values too; encoding is compared with
``encode_item(model.model_dump())``, decoding and validation with
``model_validate(decode_item(raw))``, on the items encoding gives and on items changed the way
stored items differ (fields missing, extra attributes, any AttributeValue in a field's place,
numbers of every shape).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    create_model,
    field_serializer,
    model_validator,
)

from benchmarks.models import Example, make_examples
from pydantic_dynamo import UnsupportedValueError
from pydantic_dynamo.codec import decode_item, decode_value, encode_item
from pydantic_dynamo.model_codec import ModelCodec
from tests.unit.test_codec import ROUND_TRIPS, Color, Level, Point, Priority
from tests.unit.test_codec_speed_paths import (
    attribute_values,
    decodable,
    names,
    number_texts,
    outcome,
)

# -- generated models and values ------------------------------------------------------------------

any_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text(max_size=6)
    | st.datetimes()
    | st.binary(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4), children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.sets(st.integers(), max_size=3)
    ),
    max_leaves=8,
)
# (annotation, strategy of its values); lone surrogates, NaN, infinity, numbers past DynamoDB's
# range are among them, so refusals are compared too.
LEAVES: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (str, st.text(max_size=8) | st.sampled_from(["\ud800 lone surrogate", "ünï"])),
    (int, st.integers() | st.just(10**38)),
    (float, st.floats() | st.sampled_from([1e-131, 1e126, -0.0])),
    (Decimal, st.decimals(places=3) | st.decimals() | st.just(Decimal("1.5E+130"))),
    (bool, st.booleans()),
    (datetime, st.datetimes() | st.datetimes(timezones=st.timezones())),
    (date, st.dates()),
    (time, st.times()),
    (Color, st.sampled_from(Color)),
    (Level, st.sampled_from(Level)),
    (Priority, st.sampled_from(Priority)),
    (bytes, st.binary(max_size=6)),
    (Any, any_values),
    (Point, st.builds(Point, x=st.integers(-5, 5), y=st.none() | st.floats(-1, 1))),
]
HASHABLE = (str, int, bool, date, Color, Level, Priority, bytes)
_names = itertools.count()


def of(origin: Any, *args: Any) -> Any:
    """``origin[args]``, for annotations built at run time."""
    return origin[args if len(args) > 1 else args[0]]


def typed(depth: int) -> st.SearchStrategy[tuple[Any, st.SearchStrategy[Any]]]:
    """An annotation with a strategy of its values, nesting containers up to ``depth``."""
    leaf = st.sampled_from(LEAVES)
    if depth == 0:
        return leaf
    inner = typed(depth - 1)
    hashable = st.sampled_from([(a, s) for a, s in LEAVES if a in HASHABLE])
    return st.one_of(
        leaf,
        leaf,
        inner.map(lambda t: (t[0] | None, st.none() | t[1])),
        inner.map(lambda t: (of(list, t[0]), st.lists(t[1], max_size=3))),
        inner.map(lambda t: (of(tuple, t[0], ...), st.lists(t[1], max_size=3).map(tuple))),
        inner.map(
            lambda t: (of(dict, str, t[0]), st.dictionaries(st.text(max_size=3), t[1], max_size=3))
        ),
        hashable.map(lambda t: (of(set, t[0]), st.sets(t[1], max_size=3))),
        hashable.map(lambda t: (of(frozenset, t[0]), st.frozensets(t[1], max_size=3))),
        st.deferred(lambda: model_types(depth - 1)),
    )


@st.composite
def model_types(draw: st.DrawFn, depth: int) -> tuple[Any, st.SearchStrategy[Any]]:
    """A generated model class (some fields with defaults) and a strategy of its field dicts."""
    fields = draw(st.lists(typed(depth), min_size=1, max_size=4))
    defaults = draw(st.lists(st.booleans(), min_size=len(fields), max_size=len(fields)))
    spec: dict[str, Any] = {}
    for index, ((annotation, _), default) in enumerate(zip(fields, defaults, strict=True)):
        spec[f"f{index}"] = (annotation, None) if default else (annotation, ...)
    model = create_model(f"Generated{next(_names)}", **spec)
    values = st.fixed_dictionaries({f"f{i}": s for i, (_, s) in enumerate(fields)})
    return model, values.map(lambda v: model.model_validate(v))


@st.composite
def instances(draw: st.DrawFn) -> BaseModel:
    """A valid instance of a generated model (values the model refuses are skipped)."""
    _, values = draw(model_types(2))
    try:
        return draw(values)  # type: ignore[no-any-return]
    except ValidationError:
        assume(False)
        raise  # pragma: no cover


def encoded(encode: Any, *args: Any) -> tuple[str, Any]:
    """An encoding or its refusal: the exception's type, field path and message."""
    try:
        return "item", encode(*args)
    except UnsupportedValueError as error:
        return "refused", (type(error), error.field, str(error))


def validated(validate: Any, data: Any) -> tuple[str, Any]:
    """A model as its dump's repr (1 is not 1.0), or the validation errors."""
    try:
        return "model", repr(validate(data).model_dump())
    except ValidationError as error:
        return "invalid", error.errors(include_url=False)


def assume_one_malformed_at_most(raw: dict[str, Any]) -> None:
    """Skip items with several values decode_value refuses: the generic path reports the first
    in the item's order, the compiled one the first in the model's (DynamoDB sends neither)."""
    assume(sum(outcome(decode_value, value)[0] == "error" for value in raw.values()) <= 1)


def generic_model(model: type[BaseModel], raw: dict[str, Any]) -> tuple[str, Any]:
    return validated(lambda r: model.model_validate(decode_item(r), by_name=True), raw)


def compiled_model(model: type[BaseModel], raw: dict[str, Any]) -> tuple[str, Any]:
    return validated(ModelCodec.of(model).decode_model, raw)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- encoding -------------------------------------------------------------------------------------


@SETTINGS
@given(instances())
def test_compiled_encode_equals_the_generic_encode(instance: BaseModel) -> None:
    compiled = encoded(ModelCodec.of(type(instance)).encode, instance)
    assert compiled == encoded(encode_item, instance.model_dump())


@pytest.mark.parametrize(
    ("annotation", "value"), [pytest.param(a, v, id=n) for n, a, v in ROUND_TRIPS]
)
def test_every_type_the_codec_stores_encodes_and_decodes_alike(annotation: Any, value: Any) -> None:
    model = create_model("Single", value=(annotation, ...))
    instance = model(value=value)
    item = ModelCodec.of(model).encode(instance)
    assert item == encode_item(instance.model_dump())
    assert compiled_model(model, item) == generic_model(model, item)
    assert ModelCodec.of(model).decode_model(item) == instance


def test_the_benchmark_model_encodes_and_decodes_alike() -> None:
    codec = ModelCodec.of(Example)
    for example in make_examples(50):
        item = codec.encode(example)
        assert item == encode_item(example.model_dump())
        assert list(item) == list(example.model_dump())  # the same bytes: the same key order
        assert codec.decode(item) == decode_item(item)
        assert codec.decode_model(item) == example


@pytest.mark.parametrize(
    ("value", "field"),
    [(float("nan"), "point.y"), (float("inf"), "point.y"), (1e-140, "point.y")],
)
def test_a_refused_number_is_named_by_the_same_path(value: float, field: str) -> None:
    class Holder(BaseModel):
        point: Point
        points: list[Point] = []

    holder = Holder(point=Point(x=1, y=value))
    assert encoded(ModelCodec.of(Holder).encode, holder) == encoded(
        encode_item, holder.model_dump()
    )
    assert encoded(ModelCodec.of(Holder).encode, holder)[1][1] == field


def test_values_a_serializer_changes_are_encoded_as_the_dump_holds_them() -> None:
    class Serialized(BaseModel):
        when: date
        count: int

        @field_serializer("when")
        def _when(self, value: date) -> str:
            return f"day {value.toordinal()}"

        @field_serializer("count")
        def _count(self, value: int) -> float:
            return value / 2

    instance = Serialized(when=date(2024, 1, 2), count=3)
    assert ModelCodec.of(Serialized).encode(instance) == encode_item(instance.model_dump())


def test_a_dump_with_other_keys_than_the_fields_is_encoded_whole_by_the_generic_codec() -> None:
    class Computed(BaseModel):
        model_config = ConfigDict(extra="allow")
        hidden: int = Field(0, exclude=True)
        shown: int = 1

        @computed_field  # type: ignore[prop-decorator]
        @property
        def double(self) -> int:
            return self.shown * 2

    instance = Computed(shown=4, other="x")  # type: ignore[call-arg]
    assert ModelCodec.of(Computed).encode(instance) == encode_item(instance.model_dump())


def test_encode_with_dump_gives_the_dump_it_encoded() -> None:
    example = make_examples(1)[0]
    item, dump = ModelCodec.of(Example).encode_with_dump(example)
    assert dump == example.model_dump()
    assert item == encode_item(dump)


# -- decoding -------------------------------------------------------------------------------------


@st.composite
def stored_items(draw: st.DrawFn) -> tuple[type[BaseModel], dict[str, Any]]:
    """A generated model and an item as it may be stored: encoded, then fields dropped or
    replaced by any value (numbers of every shape, malformed values too), extra attributes
    added (well formed: see the test of malformed ones)."""
    instance = draw(instances())
    model = type(instance)
    try:
        raw = encode_item(instance.model_dump())
    except UnsupportedValueError:
        assume(False)
        raise  # pragma: no cover
    for name in list(raw):
        change = draw(st.sampled_from(["keep", "keep", "drop", "replace", "number"]))
        if change == "drop":
            del raw[name]
        elif change == "replace":
            raw[name] = draw(decodable)
        elif change == "number":
            raw[name] = {"N": draw(number_texts)}
    raw.update(draw(st.dictionaries(names, attribute_values, max_size=2)))
    return model, raw


@SETTINGS
@given(stored_items())
def test_compiled_decode_and_validation_equal_the_generic_ones(
    stored: tuple[type[BaseModel], dict[str, Any]],
) -> None:
    model, raw = stored
    assume_one_malformed_at_most(raw)
    assert outcome(lambda r: compiled_model(model, r), raw) == outcome(
        lambda r: generic_model(model, r), raw
    )


@SETTINGS
@given(stored_items())
def test_each_stored_field_decodes_to_what_decode_value_gives(
    stored: tuple[type[BaseModel], dict[str, Any]],
) -> None:
    model, raw = stored
    # Inside a nested model, keys it does not declare are left out too (its validation would
    # ignore them): this holds for models whose decoder calls no nested one.
    assume(".decode_fields(" not in ModelCodec.of(model).source)
    fields = {name: value for name, value in raw.items() if name in model.model_fields}
    assert outcome(ModelCodec.of(model).decode, raw) == outcome(decode_item, fields)


@given(st.dictionaries(st.sampled_from(list(Example.model_fields)), decodable, max_size=10))
def test_any_attribute_values_in_the_benchmark_model_decode_alike(raw: dict[str, Any]) -> None:
    assume_one_malformed_at_most(raw)
    assert outcome(lambda r: compiled_model(Example, r), raw) == outcome(
        lambda r: generic_model(Example, r), raw
    )


class Numbers(BaseModel):
    whole: int
    real: float
    exact: Decimal
    maybe: int | None = None
    level: Level
    many: list[Decimal] = []


@given(st.lists(number_texts, min_size=7, max_size=7))
def test_numbers_of_every_shape_decode_alike_in_number_fields(texts: list[str]) -> None:
    raw: dict[str, Any] = {
        name: {"N": text} for name, text in zip(Numbers.model_fields, texts, strict=False)
    }
    raw["many"] = {"L": [{"N": text} for text in texts]}
    assert outcome(ModelCodec.of(Numbers).decode, raw) == outcome(decode_item, raw)
    assert outcome(lambda r: compiled_model(Numbers, r), raw) == outcome(
        lambda r: generic_model(Numbers, r), raw
    )


def test_a_value_with_several_tags_keeps_the_generic_precedence() -> None:
    raw = {"x": {"N": "1", "S": "one"}}
    assert ModelCodec.of(Point).decode(raw) == {"x": decode_value(raw["x"])} == {"x": "one"}


def test_attributes_the_model_ignores_are_left_out() -> None:
    raw = {"x": {"N": "1"}, "PK": {"S": "p"}, "_object_version": {"N": "3"}}
    assert ModelCodec.of(Point).decode(raw) == {"x": 1}


def test_an_ignored_attribute_is_not_read_even_when_it_is_no_attribute_value() -> None:
    # The one difference from the generic path, which decodes every attribute and so raised
    # on a malformed one the model would ignore. DynamoDB never sends such a value.
    raw = {"x": {"N": "1"}, "other": {}}
    with pytest.raises(ValueError, match="not an AttributeValue"):
        decode_item(raw)
    assert ModelCodec.of(Point).decode_model(raw) == Point(x=1)


class Extra(BaseModel):
    model_config = ConfigDict(extra="allow")
    x: int


class Forbidding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int


class Aliased(BaseModel):
    x: int = Field(alias="X")


class Before(BaseModel):
    x: int
    seen: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _note(cls, data: Any) -> Any:
        return {**data, "seen": sorted(data)}


@pytest.mark.parametrize("model", [Extra, Forbidding, Aliased, Before])
def test_a_model_that_reads_undeclared_attributes_gets_them_except_the_excluded(
    model: type[BaseModel],
) -> None:
    raw = {"x": {"N": "1"}, "X": {"N": "2"}, "other": {"S": "o"}, "PK": {"S": "p"}}
    exclude = frozenset({"PK"})
    reference = {name: v for name, v in raw.items() if name not in exclude}
    assert ModelCodec.of(model).decode(raw, exclude) == decode_item(reference)
    compiled = validated(lambda r: ModelCodec.of(model).decode_model(r, exclude), raw)
    assert compiled == generic_model(model, reference)


class Tree(BaseModel):
    label: str
    children: list[Tree] = []


def test_a_model_nested_in_itself_round_trips() -> None:
    tree = Tree(label="root", children=[Tree(label="a", children=[Tree(label="b")])])
    item = ModelCodec.of(Tree).encode(tree)
    assert item == encode_item(tree.model_dump())
    assert ModelCodec.of(Tree).decode_model(item) == tree


def test_codecs_are_compiled_once_per_model() -> None:
    assert ModelCodec.of(Point) is ModelCodec.of(Point)


def test_a_class_that_is_no_model_of_fields_is_refused() -> None:
    with pytest.raises(TypeError, match="Pydantic model"):
        ModelCodec.of(int)  # type: ignore[type-var]


def test_decode_model_calls_a_model_validate_the_model_overrides() -> None:
    class Counting(BaseModel):
        x: int
        calls: int = 0

        @classmethod
        def model_validate(cls, obj: Any, **kwargs: Any) -> Counting:
            return super().model_validate({**obj, "calls": 1}, **kwargs)

    assert ModelCodec.of(Counting).decode_model({"x": {"N": "5"}}).calls == 1

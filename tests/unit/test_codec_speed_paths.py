"""The codec's fast paths: the item size bound, the decoder, and RepositoryCore.decode's shortcuts.

Each shortcut is held to what it replaces: the bound never undercounts the exact size (and an
item is refused exactly when its exact size passes 400 KB), the decoder answers what the plain
chain of lookups answered, and a decoded content has the state ``model_construct`` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from pydantic_dynamo import InvalidKeyError, ItemTooLargeError, PartitionedContent
from pydantic_dynamo import operations as operations_module
from pydantic_dynamo.codec import (
    MAX_ITEM_BYTES,
    _decode_number,
    decode_item,
    decode_value,
    item_size,
    item_size_bound,
)
from pydantic_dynamo.operations import RepositoryCore, _construct_content

TIMESTAMP = "2024-01-01T00:00:00+00:00"


class Sized(BaseModel):
    pad: str = ""
    payload: Any = None


def core_of(item_class: type[BaseModel]) -> RepositoryCore[Any]:
    return RepositoryCore(
        item_class=item_class,
        partition_prefix="test",
        partition_name="unit",
        content_type="sized",
        table_name="records",
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
    )


CORE = core_of(Sized)


def sized(payload: Any, pad: str = "", partition: str = "p") -> PartitionedContent[Sized]:
    return PartitionedContent[Sized](
        partition_ids=[partition], content_ids=["c"], item=Sized(pad=pad, payload=payload)
    )


# -- the size bound -------------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=16)
numbers = st.one_of(
    st.integers(-(10**38) + 1, 10**38 - 1).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
binaries = st.binary(max_size=24)
scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    binaries.map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(texts, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=4, unique=True).map(lambda v: {"NS": v}),
    st.lists(binaries, min_size=1, max_size=4, unique=True).map(lambda v: {"BS": v}),
)
attribute_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5).map(lambda v: {"L": v})
        | st.dictionaries(texts, children, max_size=5).map(lambda v: {"M": v})
    ),
    max_leaves=15,
)
names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)
items = st.dictionaries(names, attribute_values, max_size=5)


@given(items)
def test_the_bound_is_never_below_the_exact_size(item: dict[str, Any]) -> None:
    assert item_size_bound(item) >= item_size(item)


@given(items)
def test_the_bound_holds_when_values_repeat_one_object(item: dict[str, Any]) -> None:
    # The same AttributeValue objects several times over, as a list and a map of them.
    values = list(item.values())
    repeated: dict[str, Any] = {
        "list": {"L": values * 3},
        "map": {"M": {"a": {"L": values}, "b": {"L": values}}},
    }
    assert item_size_bound(repeated) >= item_size(repeated)


def test_a_repeated_large_value_counts_every_time() -> None:
    big = {"S": "x" * 50_000}
    item = {"l": {"L": [big] * 10}}
    assert item_size(item) > MAX_ITEM_BYTES
    assert item_size_bound(item) >= item_size(item)


class Text(str):
    """A str subclass, which marshal refuses."""


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"s": {"S": Text("abc")}}, id="str_subclass"),
        pytest.param({"b": {"B": b"\xed\xa0\x80"}}, id="binary_like_a_surrogate"),
    ],
)
def test_the_bound_is_the_exact_size_where_marshal_cannot_tell(item: dict[str, Any]) -> None:
    assert item_size_bound(item) == item_size(item)


def test_a_lone_surrogate_in_a_map_key_still_fails_as_the_exact_walk_does() -> None:
    with pytest.raises(UnicodeEncodeError):
        item_size({"m": {"M": {"\ud800": {"N": "1"}}}})
    with pytest.raises(UnicodeEncodeError):
        item_size_bound({"m": {"M": {"\ud800": {"N": "1"}}}})
    with pytest.raises(UnicodeEncodeError):
        CORE.encode(sized({"\ud800": 1}), TIMESTAMP)


NEAR_LIMIT_PAYLOADS: dict[str, Callable[[], Any]] = {
    "ascii": lambda: "a" * 399_000,
    "utf8_2_bytes": lambda: "é" * 199_000,
    "utf8_3_bytes": lambda: "日" * 133_000,
    "utf8_4_bytes": lambda: "🦆" * 99_000,
    "binary": lambda: bytes(range(256)) * 1_550,
    "ints": lambda: list(range(10**8, 10**8 + 56_900)),
    "decimals_38_digits": lambda: [Decimal("1." + "3" * 37)] * 18_000,
    "floats": lambda: [i + 0.125 for i in range(10**6, 10**6 + 49_500)],
    "nested_maps_and_lists": lambda: {
        f"k{i:05d}": [{"a": "xyz", "n": i, "f": True, "z": None}, ["é", b"\x00"]]
        for i in range(10_200)
    },
}


@pytest.mark.parametrize("make", NEAR_LIMIT_PAYLOADS.values(), ids=NEAR_LIMIT_PAYLOADS.keys())
def test_an_item_is_refused_exactly_when_its_size_passes_400_kb(make: Callable[[], Any]) -> None:
    payload = make()
    room = MAX_ITEM_BYTES - item_size(CORE.encode(sized(payload), TIMESTAMP))
    assert 0 <= room < 20_000  # the payload fills most of the item

    at_limit = CORE.encode(sized(payload, "x" * room), TIMESTAMP)
    assert item_size(at_limit) == MAX_ITEM_BYTES
    assert item_size_bound(at_limit) > MAX_ITEM_BYTES  # so the exact walk decided

    with pytest.raises(ItemTooLargeError) as caught:
        CORE.encode(sized(payload, "x" * (room + 1)), TIMESTAMP)
    assert caught.value.size == MAX_ITEM_BYTES + 1
    assert caught.value.limit == MAX_ITEM_BYTES
    assert caught.value.key == {"PARTITION_KEY": "test#unit#p", "SORT_KEY": "sized#c"}


def test_the_exact_walk_is_skipped_for_items_the_bound_clears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(item: Any) -> int:
        raise AssertionError("the exact walk ran")

    monkeypatch.setattr(operations_module, "item_size", refuse)
    CORE.encode(sized({"a": [1, "é", b"\x00", None, True]}, "x" * 300_000), TIMESTAMP)


# -- the decoder ----------------------------------------------------------------------------------


def reference_decode_value(value: dict[str, Any]) -> Any:
    """The decoder before its fast paths: one lookup per tag, in this order."""
    raw = value.get("S")
    if raw is not None:
        return raw
    raw = value.get("N")
    if raw is not None:
        return _decode_number(raw)
    raw = value.get("M")
    if raw is not None:
        return {k: reference_decode_value(v) for k, v in raw.items()}
    raw = value.get("L")
    if raw is not None:
        return [reference_decode_value(v) for v in raw]
    raw = value.get("BOOL")
    if raw is not None:
        return raw
    if "NULL" in value:
        return None
    raw = value.get("B")
    if raw is not None:
        return bytes(raw)
    raw = value.get("SS")
    if raw is not None:
        return list(raw)
    raw = value.get("NS")
    if raw is not None:
        return [_decode_number(v) for v in raw]
    raw = value.get("BS")
    if raw is not None:
        return [bytes(v) for v in raw]
    raise ValueError(f"not an AttributeValue: {value!r}")


def outcome(decode: Callable[[Any], Any], value: Any) -> tuple[str, Any]:
    """What a decoder answers, types included (repr tells 1 from 1.0 from Decimal('1'))."""
    try:
        return "value", repr(decode(value))
    except Exception as error:  # any failure: its type is what is compared
        return "error", type(error)


# Numbers as stored, and text that is no number (or not one int/float/Decimal reads alike).
number_texts = numbers | st.sampled_from(
    ["0", "-0", "007", "1e5", "-1.5E-100", "0.30000000000000004", "1." + "0" * 40, "²", "", "-"]
)
# Malformed values too: several tags, None inside, unknown or no tags.
odd_values = st.dictionaries(
    st.sampled_from(["S", "N", "BOOL", "NULL", "X", "B"]),
    st.none() | st.just("7") | st.booleans(),
    max_size=3,
)
decodable = st.recursive(
    scalars | number_texts.map(lambda n: {"N": n}) | odd_values,
    lambda children: (
        st.lists(children, max_size=5).map(lambda v: {"L": v})
        | st.dictionaries(texts, children, max_size=5).map(lambda v: {"M": v})
    ),
    max_leaves=15,
)


@given(decodable)
def test_decode_value_answers_what_the_plain_chain_answered(value: dict[str, Any]) -> None:
    assert outcome(decode_value, value) == outcome(reference_decode_value, value)


@given(st.dictionaries(names, decodable, max_size=6))
def test_decode_item_answers_what_the_plain_chain_answered(item: dict[str, Any]) -> None:
    def reference(raw: dict[str, Any]) -> dict[str, Any]:
        return {name: reference_decode_value(value) for name, value in raw.items()}

    assert outcome(decode_item, item) == outcome(reference, item)


# -- RepositoryCore.decode ------------------------------------------------------------------------


def test_constructed_content_has_the_state_model_construct_gives() -> None:
    item = Sized(pad="p", payload=[1])
    expiry = datetime(2030, 1, 2, tzinfo=UTC)
    made = _construct_content(CORE.content_class, ["p"], ["c"], item, 3, expiry)
    expected = CORE.content_class.model_construct(
        partition_ids=["p"], content_ids=["c"], item=item, current_version=3, expiry=expiry
    )
    assert type(made) is type(expected)
    assert made.__getstate__() == expected.__getstate__()
    assert made == expected
    again = _construct_content(CORE.content_class, ["p"], ["c"], item, 3, expiry)
    assert again.model_fields_set is not made.model_fields_set  # each has its own set


def test_decode_reads_back_what_encode_wrote() -> None:
    content = PartitionedContent[Sized](
        partition_ids=["a", "b#c"],
        content_ids=["x"],
        item=Sized(pad="é", payload={"n": [1, 2.5, None]}),
        current_version=4,
        expiry=datetime(2030, 1, 2, tzinfo=UTC),
    )
    back = CORE.decode(CORE.encode(content, TIMESTAMP))
    assert back == content
    assert back.model_fields_set == {
        "partition_ids",
        "content_ids",
        "item",
        "current_version",
        "expiry",
    }


def test_items_of_one_partition_get_partition_ids_of_their_own() -> None:
    first = CORE.decode(CORE.encode(sized(1, partition="p0"), TIMESTAMP))
    first.partition_ids.append("changed")
    second = CORE.decode(CORE.encode(sized(2, partition="p0"), TIMESTAMP))
    other = CORE.decode(CORE.encode(sized(3, partition="p1"), TIMESTAMP))
    assert second.partition_ids == ["p0"]
    assert other.partition_ids == ["p1"]
    raw = CORE.encode(sized(4, partition="p1"), TIMESTAMP)
    raw["PARTITION_KEY"] = {"S": "another#prefix#p1"}
    with pytest.raises(InvalidKeyError):
        CORE.decode(raw)


class Counted(BaseModel):
    """A model whose own model_validate must still be the one decode calls."""

    calls: ClassVar[int] = 0
    name: str

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        Counted.calls += 1
        return super().model_validate(obj, **kwargs)


def test_decode_calls_a_model_validate_the_model_overrides() -> None:
    core = core_of(Counted)
    content = PartitionedContent[Counted](
        partition_ids=[], content_ids=["c"], item=Counted(name="a")
    )
    before = Counted.calls
    assert core.decode(core.encode(content, TIMESTAMP)).item == Counted(name="a")
    assert Counted.calls == before + 1

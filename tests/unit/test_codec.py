"""The codec: every supported type round-trips, stored as 0.4.2 stored it; bad values are named."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any, TypeVar
from uuid import UUID

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import BaseModel, ConfigDict, create_model
from pydantic.alias_generators import to_camel

from pydantic_dynamo import (
    ItemTooLargeError,
    PartitionedContent,
    SyncDynamoRepository,
    UnsupportedValueError,
)
from pydantic_dynamo.codec import (
    MAX_ITEM_BYTES,
    decode_item,
    decode_value,
    encode_item,
    encode_value,
    item_size,
)
from pydantic_dynamo.operations import RepositoryCore

M = TypeVar("M", bound=BaseModel)


class Color(str, Enum):  # noqa: UP042 - the pre-3.11 str enum, as 0.4.2 users wrote them
    RED = "red"
    GREEN = "green"


class Level(Enum):
    LOW = 1
    HIGH = 2


class Priority(IntEnum):
    LOW = 1
    HIGH = 3


class Flavour(StrEnum):
    SWEET = "sweet"


class Point(BaseModel):
    x: int
    y: float | None = None


class Shape(BaseModel):
    name: str
    points: list[Point]
    origin: Point


class Measured(BaseModel):
    values: list[float]


class Outer(BaseModel):
    inner: Measured
    scale: float = 1.0


class Blob(BaseModel):
    data: str


class Anything(BaseModel):
    payload: dict[str, Any]


def round_trip(model: M) -> M:
    """Encode a model as the repository stores it, decode it, and validate it back."""
    return type(model).model_validate(decode_item(encode_item(model.model_dump())))


def single_field_model(annotation: Any) -> type[BaseModel]:
    return create_model("Single", value=(annotation, ...))


ROUND_TRIPS: list[tuple[str, Any, Any]] = [
    ("float_0_1", float, 0.1),
    ("float_1e-7", float, 1e-7),
    ("float_1e125", float, 1e125),
    ("float_17_digits", float, 0.1 + 0.2),
    ("float_large_17_digits", float, 123456789.12345679),
    ("float_integral", float, 2.0),
    ("float_negative", float, -3.25),
    ("float_smallest_stored", float, 1e-130),
    ("decimal_38_digits", Decimal, Decimal("1.234567890123456789012345678901234567")),
    ("decimal_38_digit_integer", Decimal, Decimal("12345678901234567890123456789012345678")),
    ("decimal_0_1", Decimal, Decimal("0.1")),
    ("decimal_negative_exponent", Decimal, Decimal("-1.5E-100")),
    ("int_zero", int, 0),
    ("int_big", int, 2**64 + 1),
    ("int_38_digits", int, 10**38 - 1),
    ("int_negative_38_digits", int, -(10**38 - 1)),
    ("bool_true", bool, True),
    ("bool_false", bool, False),
    ("none", type(None), None),
    ("optional_none", int | None, None),
    ("optional_value", int | None, 5),
    ("str", str, "Daniel Day-Lewis"),
    ("str_empty", str, ""),
    ("str_unicode", str, "ünïcødé 日本語 🦆"),
    ("str_with_hash_and_backslash", str, "a#b\\c"),
    ("bytes", bytes, b"\x00\x01\xfe\xff"),
    ("bytes_empty", bytes, b""),
    ("datetime_naive", datetime, datetime(2024, 1, 2, 3, 4, 5, 678901)),
    ("datetime_utc", datetime, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    (
        "datetime_offset",
        datetime,
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
    ),
    ("date", date, date(2024, 2, 29)),
    ("time", time, time(23, 59, 58, 999)),
    ("time_aware", time, time(1, 2, 3, tzinfo=UTC)),
    ("str_enum", Color, Color.GREEN),
    ("int_enum", Level, Level.HIGH),
    ("intenum", Priority, Priority.HIGH),
    ("strenum", Flavour, Flavour.SWEET),
    ("uuid", UUID, UUID("12345678-1234-5678-1234-567812345678")),
    ("nested_model", Point, Point(x=1, y=2.5)),
    (
        "deeply_nested_model",
        Shape,
        Shape(name="tri", points=[Point(x=1), Point(x=2, y=0.5)], origin=Point(x=0)),
    ),
    ("dict", dict[str, int], {"a": 1, "b": 2}),
    ("dict_empty", dict[str, int], {}),
    ("dict_int_keys", dict[int, str], {1: "one", 2: "two"}),
    ("dict_of_models", dict[str, Point], {"p": Point(x=3)}),
    ("dict_untyped", dict[str, Any], {"s": "x", "n": 1, "f": 0.5, "l": [1, "a"], "z": None}),
    ("list", list[int], [3, 1, 2]),
    ("list_empty", list[str], []),
    ("list_of_lists", list[list[str]], [["a"], [], ["b", "c"]]),
    ("list_of_enums", list[Color], [Color.GREEN, Color.RED]),
    ("set_of_str", set[str], {"b", "a", "c"}),
    ("set_empty", set[str], set()),
    ("set_of_int", set[int], {3, 1, 2}),
    ("set_of_enums", set[Color], {Color.RED, Color.GREEN}),
    ("frozenset", frozenset[int], frozenset({5, 4})),
    ("tuple", tuple[int, str, float], (1, "x", 0.5)),
    ("tuple_variadic", tuple[int, ...], (1, 2, 3)),
    ("timedelta", timedelta, timedelta(days=1, seconds=1.5)),
]


@pytest.mark.parametrize(
    ("annotation", "value"),
    [pytest.param(annotation, value, id=name) for name, annotation, value in ROUND_TRIPS],
)
def test_value_round_trips(annotation: Any, value: Any) -> None:
    model = single_field_model(annotation)(value=value)
    back = round_trip(model)
    assert back == model
    assert type(back.value) is type(value)  # type: ignore[attr-defined]


def test_negative_zero_keeps_its_sign() -> None:
    model = single_field_model(float)(value=-0.0)
    assert math.copysign(1.0, round_trip(model).value) == -1.0  # type: ignore[attr-defined]


def test_float_in_an_untyped_field_round_trips_as_the_same_float() -> None:
    # 0.1 + 0.2 needs 17 significant digits; it must come back as that float, not a Decimal.
    model = Anything(payload={"total": 0.1 + 0.2})
    back = round_trip(model)
    assert back.payload["total"] == 0.1 + 0.2
    assert type(back.payload["total"]) is float


def test_datetime_is_stored_as_its_isoformat() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert encode_value(moment) == {"S": "2024-01-02T03:04:05.000006+00:00"}


def test_date_and_time_are_stored_as_their_isoformat() -> None:
    assert encode_value(date(2024, 2, 29)) == {"S": "2024-02-29"}
    assert encode_value(time(1, 2, 3)) == {"S": "01:02:03"}


def test_enums_are_stored_by_value() -> None:
    assert encode_value(Color.RED) == {"S": "red"}
    assert encode_value(Level.HIGH) == {"N": "2"}
    assert encode_value(Priority.HIGH) == {"N": "3"}


def test_sets_are_stored_as_sorted_lists() -> None:
    assert encode_value({"b", "c", "a"}) == {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}
    assert encode_value(frozenset({3, 1, 2})) == {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}


def test_sets_of_unorderable_values_are_stored_as_lists() -> None:
    stored = encode_value({1, "a"})
    assert sorted(map(str, decode_value(stored))) == ["1", "a"]


def test_tuples_are_stored_as_lists() -> None:
    assert encode_value((1, "x")) == {"L": [{"N": "1"}, {"S": "x"}]}


def test_decimals_and_numbers_are_stored_as_numbers() -> None:
    assert encode_value(Decimal("1.50")) == {"N": "1.50"}
    assert encode_value(7) == {"N": "7"}
    assert encode_value(0.1) == {"N": "0.1"}


def test_bools_are_not_stored_as_numbers() -> None:
    assert encode_value(True) == {"BOOL": True}


def test_uuid_is_stored_as_its_string() -> None:
    uuid = UUID("12345678-1234-5678-1234-567812345678")
    assert encode_value(uuid) == {"S": "12345678-1234-5678-1234-567812345678"}


def test_bytes_are_stored_as_binary() -> None:
    assert encode_value(b"\x00") == {"B": b"\x00"}


def test_nested_model_is_stored_as_a_map() -> None:
    assert encode_item(Point(x=1).model_dump()) == {"x": {"N": "1"}, "y": {"NULL": True}}


def test_numbers_decode_to_int_float_or_decimal_by_their_text() -> None:
    assert decode_value({"N": "42"}) == 42
    assert type(decode_value({"N": "42"})) is int
    assert type(decode_value({"N": "2.5"})) is float
    assert decode_value({"N": "1.2345678901234567890123"}) == Decimal("1.2345678901234567890123")


def test_a_float_shortest_repr_decodes_to_that_float() -> None:
    assert decode_value({"N": "0.30000000000000004"}) == 0.1 + 0.2
    assert type(decode_value({"N": "0.30000000000000004"})) is float


def test_a_long_number_that_is_no_float_repr_decodes_to_an_exact_decimal() -> None:
    text = "0.30000000000000000000000000000000001"
    assert decode_value({"N": text}) == Decimal(text)


def test_decimal_trailing_zeros_do_not_count_towards_38_digits() -> None:
    value = Decimal("1." + "0" * 40)
    assert encode_value(value) == {"N": str(value)}
    assert encode_value(Decimal("1" + "0" * 41)) == {"N": "1" + "0" * 41}


def test_dynamodb_sets_decode_into_set_fields() -> None:
    model = create_model("Sets", words=(set[str], ...), numbers=(set[int], ...))
    raw = {"words": {"SS": ["b", "a"]}, "numbers": {"NS": ["1", "2"]}}
    back = model.model_validate(decode_item(raw))
    assert back.words == {"a", "b"}  # type: ignore[attr-defined]
    assert back.numbers == {1, 2}  # type: ignore[attr-defined]


def test_decimal_field_reads_a_short_number_exactly() -> None:
    model = single_field_model(Decimal)
    back = model.model_validate(decode_item({"value": {"N": "0.1"}}))
    assert back.value == Decimal("0.1")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 1e126, -1e126, 1e-131, 1.7976931348623157e308, 5e-324],
)
def test_float_dynamodb_cannot_store_raises_naming_the_field(value: float) -> None:
    with pytest.raises(UnsupportedValueError) as caught:
        encode_item(single_field_model(float)(value=value).model_dump())
    assert caught.value.field == "value"


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1E+126"),
        Decimal("1E-131"),
        Decimal("1.234567890123456789012345678901234567890"),
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
)
def test_decimal_dynamodb_cannot_store_raises_naming_the_field(value: Decimal) -> None:
    with pytest.raises(UnsupportedValueError) as caught:
        encode_item(Anything(payload={"amount": value}).model_dump())
    assert caught.value.field == "payload.amount"


def test_int_over_38_digits_raises_naming_the_field() -> None:
    with pytest.raises(UnsupportedValueError) as caught:
        encode_item(single_field_model(int)(value=10**38).model_dump())
    assert caught.value.field == "value"


def test_unsupported_value_in_a_nested_list_names_its_path() -> None:
    model = Outer(inner=Measured(values=[1.0, 2.0, math.nan]))
    with pytest.raises(UnsupportedValueError) as caught:
        encode_item(model.model_dump())
    assert caught.value.field == "inner.values[2]"
    assert "inner.values[2]" in str(caught.value)


def test_unsupported_value_in_a_dict_names_its_key() -> None:
    with pytest.raises(UnsupportedValueError) as caught:
        encode_item(Anything(payload={"ok": 1.0, "bad": [0.5, math.inf]}).model_dump())
    assert caught.value.field == "payload.bad[1]"


def test_unsupported_value_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="value"):
        encode_item(single_field_model(float)(value=math.nan).model_dump())


def test_value_of_an_unknown_type_raises_naming_the_field() -> None:
    with pytest.raises(UnsupportedValueError) as caught:
        encode_item(Anything(payload={"thing": object()}).model_dump())
    assert caught.value.field == "payload.thing"


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    item: dict[str, dict[str, Any]] = {
        "name": {"S": "abc"},  # 4 + 3
        "n": {"N": "12345"},  # 1 + (1 byte per 2 digits, rounded up: 3) + 1
        "flag": {"BOOL": True},  # 4 + 1
        "m": {"M": {"k": {"S": "v"}}},  # 1 + 3 + (1 + 1 + 1)
        "l": {"L": [{"S": "xy"}, {"NULL": True}]},  # 1 + 3 + (1 + 2) + (1 + 1)
        "b": {"B": b"1234"},  # 1 + 4
        "é": {"S": "é"},  # 2 + 2
    }
    assert item_size(item) == 7 + 5 + 5 + 7 + 9 + 5 + 4


class Document(BaseModel):
    id: str
    body: str


@pytest.fixture
def offline_repo() -> Iterator[SyncDynamoRepository[Document]]:
    """A repository whose client refuses to send anything (a stub with no answers queued)."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with Stubber(client) as stubber:
        yield SyncDynamoRepository[Document](
            item_class=Document,
            partition_prefix="test",
            partition_name="unit",
            content_type="document",
            table_name="documents",
            partition_key="PARTITION_KEY",
            sort_key="SORT_KEY",
            client=client,
        )
        stubber.assert_no_pending_responses()


def document(content_id: str, size: int = 10) -> PartitionedContent[Document]:
    return PartitionedContent[Document](
        partition_ids=[], content_ids=[content_id], item=Document(id=content_id, body="x" * size)
    )


def test_put_of_an_item_over_400_kb_raises_before_any_request(
    offline_repo: SyncDynamoRepository[Document],
) -> None:
    with pytest.raises(ItemTooLargeError) as caught:
        offline_repo.put(document("big", 500 * 1024))
    assert caught.value.limit == MAX_ITEM_BYTES
    assert caught.value.size is not None
    assert caught.value.size > 500 * 1024
    assert caught.value.key == {"PARTITION_KEY": "test#unit#", "SORT_KEY": "document#big"}


def test_put_batch_with_one_item_over_400_kb_sends_nothing(
    offline_repo: SyncDynamoRepository[Document],
) -> None:
    contents = [document(str(i)) for i in range(30)] + [document("big", 500 * 1024)]
    with pytest.raises(ItemTooLargeError) as caught:
        offline_repo.put_batch(contents)
    assert caught.value.key["SORT_KEY"] == "document#big"


def test_item_just_under_400_kb_is_accepted(offline_repo: SyncDynamoRepository[Document]) -> None:
    item = offline_repo.core.encode(document("fits", 400 * 1024 - 200), "2024-01-01T00:00:00")
    assert item_size(item) <= MAX_ITEM_BYTES


class CamelCase(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, serialize_by_alias=True)

    first_name: str


def test_model_serializing_by_alias_is_stored_by_field_name() -> None:
    # Filters and updates name attributes by field name: the item must use the same names.
    core = RepositoryCore(
        item_class=CamelCase,
        partition_prefix="test",
        partition_name="unit",
        content_type="camel",
        table_name="records",
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
    )
    content = PartitionedContent[CamelCase](
        partition_ids=[], content_ids=["a"], item=CamelCase.model_validate({"firstName": "Ada"})
    )
    item = core.encode(content, "2024-01-01T00:00:00+00:00")
    assert item["first_name"] == {"S": "Ada"}
    assert "firstName" not in item


def test_item_too_large_error_is_a_value_error() -> None:
    assert issubclass(ItemTooLargeError, ValueError)


def test_blob_model_sizes_grow_with_the_body() -> None:
    small = item_size(encode_item(Blob(data="x").model_dump()))
    large = item_size(encode_item(Blob(data="x" * 1001).model_dump()))
    assert large - small == 1000

"""A model declaring an attribute the repository manages is refused when the repository is built."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from pydantic_dynamo import InvalidAttributeError, ReservedAttributeError, SyncDynamoRepository


def build(
    model: type[Any], partition_key: str = "PARTITION_KEY", sort_key: str = "SORT_KEY"
) -> SyncDynamoRepository[Any]:
    return SyncDynamoRepository[Any](
        item_class=model,
        partition_prefix="test",
        partition_name="unit",
        content_type="example",
        table_name="records",
        partition_key=partition_key,
        sort_key=sort_key,
    )


class Plain(BaseModel):
    id: str
    name: str


class DeclaresPartitionKey(BaseModel):
    PARTITION_KEY: str


class DeclaresSortKey(BaseModel):
    SORT_KEY: str


class AliasesTtl(BaseModel):
    ttl: int = Field(alias="_ttl")


class AliasesVersion(BaseModel):
    version: int = Field(serialization_alias="_object_version")


class AliasesTimestamp(BaseModel):
    stamp: str = Field(validation_alias="_timestamp")


class AliasesSortKey(BaseModel):
    sort: str = Field(alias="SORT_KEY")


class DeclaresCustomKey(BaseModel):
    pk: str


def test_plain_model_is_accepted() -> None:
    assert build(Plain).core.item_class is Plain


@pytest.mark.parametrize(
    ("model", "reserved"),
    [
        (DeclaresPartitionKey, "PARTITION_KEY"),
        (DeclaresSortKey, "SORT_KEY"),
        (AliasesTtl, "_ttl"),
        (AliasesVersion, "_object_version"),
        (AliasesTimestamp, "_timestamp"),
        (AliasesSortKey, "SORT_KEY"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_model_declaring_a_reserved_attribute_is_refused_naming_it(
    model: type[BaseModel], reserved: str
) -> None:
    with pytest.raises(ReservedAttributeError) as caught:
        build(model)
    assert caught.value.field == reserved
    assert model.__name__ in str(caught.value)


def test_custom_key_names_are_reserved() -> None:
    with pytest.raises(ReservedAttributeError) as caught:
        build(DeclaresCustomKey, partition_key="pk", sort_key="sk")
    assert caught.value.field == "pk"


def test_default_key_names_are_free_when_the_table_uses_others() -> None:
    repo = build(DeclaresPartitionKey, partition_key="pk", sort_key="sk")
    assert repo.core.item_class is DeclaresPartitionKey


def test_reserved_attribute_error_is_an_invalid_attribute_error() -> None:
    assert issubclass(ReservedAttributeError, InvalidAttributeError)


def test_same_partition_and_sort_key_is_refused() -> None:
    with pytest.raises(ValueError, match="different"):
        build(Plain, partition_key="KEY", sort_key="KEY")


def test_item_class_must_be_a_pydantic_model() -> None:
    with pytest.raises(TypeError, match="Pydantic model"):
        build(dict)

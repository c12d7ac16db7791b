"""What the integration tests store (models, builders) and how they look at it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from pydantic_dynamo import BatchResponse, PartitionedContent

M = TypeVar("M", bound=BaseModel)


class Genre(Enum):
    DRAMA = "drama"
    COMEDY = "comedy"
    HORROR = "horror"


class Address(BaseModel):
    city: str = "Oslo"
    zip: str | None = None


class Example(BaseModel):
    """A film actor, with a field of most kinds the library stores."""

    id: str
    name: str
    count: int = 0
    rating: float = 0.0
    budget: Decimal = Decimal("0")
    tags: list[str] = []
    labels: set[str] = set()
    address: Address = Address()
    scores: dict[str, int] = {}
    born: datetime | None = None
    genre: Genre = Genre.DRAMA
    review: str | None = None
    bucket: int = 0
    even: bool = False
    padding: str = ""


ExampleContent = PartitionedContent[Example]

# More than 3 MB in one partition: DynamoDB answers a query over it in at least 4 pages.
LARGE_COUNT = 700
LARGE_PADDING = 4500
# An expiry in the past, but more than five years ago: DynamoDB (Local too) never deletes
# such items, so only the library's own filtering can hide them.
LONG_EXPIRED = datetime(2001, 1, 1, tzinfo=UTC)


class FieldModel(BaseModel):
    test_field: str
    failures: int | None = None


class CountEnum(Enum):
    One = "one"
    Two = "two"
    Three = "three"


class SeedExample(BaseModel):
    """The model of pydantic-dynamo 0.4.2's own tests, on Pydantic v2."""

    dict_field: dict[str, Any]
    model_field: FieldModel
    list_field: list[Any]
    set_field: set[str]
    date_field: date
    time_field: time
    datetime_field: datetime
    enum_field: CountEnum
    int_field: int
    optional_field: int | None = None


def example(
    content_id: str,
    *,
    partition_ids: list[str] | None = None,
    padding: int = 0,
    **fields: Any,
) -> ExampleContent:
    """A content holding an Example whose id is ``content_id``, at ``[content_id]``."""
    item = Example.model_validate(
        {"id": content_id, "name": f"actor {content_id}", "padding": "x" * padding, **fields}
    )
    return ExampleContent(
        partition_ids=partition_ids if partition_ids is not None else ["films"],
        content_ids=[content_id],
        item=item,
    )


def numbered(count: int, *, padding: int = 0, **fields: Any) -> list[ExampleContent]:
    """``count`` contents with zero-padded ids, so that sort key order is numeric order."""
    return [
        example(f"{i:05d}", padding=padding, bucket=i, even=i % 2 == 0, **fields)
        for i in range(count)
    ]


def every_id(count: int) -> list[str]:
    """The ids ``numbered(count)`` gives its contents, in order."""
    return [f"{i:05d}" for i in range(count)]


def contents_of(batches: Iterable[BatchResponse[M]]) -> list[PartitionedContent[M]]:
    """Every content of every batch, in order."""
    return [content for batch in batches for content in batch.contents]


def ids_of(batches: Iterable[BatchResponse[M]]) -> list[str]:
    """The first content id of every content of every batch, in order."""
    return [content.content_ids[0] for content in contents_of(batches)]


def legacy_key(partition_ids: list[str], content_ids: list[str]) -> dict[str, dict[str, str]]:
    """The key pydantic-dynamo 0.4.2 wrote for these ids (under the tests' prefixes)."""
    return {
        "PARTITION_KEY": {"S": "test#integration#" + "#".join(partition_ids)},
        "SORT_KEY": {"S": "example#" + "#".join(content_ids)},
    }

"""The seed's test model (pydantic-dynamo 0.4.2, ``tests/models.py``), for Pydantic v1 and v2.

The seed declared ``failures: Optional[int]`` and ``optional_field: Optional[int]``, which
Pydantic v1 reads as "optional, default None"; Pydantic v2 needs the ``= None`` spelled out,
which v1 reads the same. ``benchmarks/runner_042.py`` imports it under Pydantic v1.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum
from typing import Any

from pydantic import BaseModel

from benchmarks.workload import REVIEWS, actor_fields, example_fields, review_fields


class FieldModel(BaseModel):
    test_field: str
    failures: int | None = None


class CountEnum(Enum):
    One = "one"
    Two = "two"
    Three = "three"


class Example(BaseModel):
    dict_field: dict[str, Any]
    model_field: FieldModel
    list_field: list[Any]
    set_field: set[Any]
    date_field: date
    time_field: time
    datetime_field: datetime
    enum_field: CountEnum
    int_field: int
    optional_field: int | None = None


def make_examples(n: int, seed: int = 0) -> list[Example]:
    """The workload's ``n`` items, built (and validated) ahead of any timing."""
    return [Example(**example_fields(i, seed)) for i in range(n)]


class Actor(BaseModel):
    """The ``units`` set's actor (the seed README's ``FilmActor``)."""

    id: str
    name: str
    review: str | None = None


class Review(BaseModel):
    """A review of the actor (the seed README's ``ActorReview``)."""

    id: str
    actor_id: str
    created: datetime
    review: str


def make_cast(seed: int = 0) -> tuple[Actor, list[Review]]:
    """The ``units`` set's actor and its reviews."""
    return Actor(**actor_fields(seed)), [Review(**review_fields(i, seed)) for i in range(REVIEWS)]

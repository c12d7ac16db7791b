"""The model the expression and condition unit tests render against."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    city: str
    zip: str | None = None


class Actor(BaseModel):
    name: str
    review: str | None = None
    age: int = 0
    rating: float = 0.0
    tags: list[str] = []
    address: Address
    scores: dict[str, int] = {}
    born: datetime | None = None
    color: Color = Color.RED

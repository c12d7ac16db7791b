"""Every condition operator, evaluated by DynamoDB Local as a filter of ``list``, selects exactly
the items the same predicate selects in Python over the models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from pydantic_dynamo import Condition, attr
from tests.integration.harness import Repository
from tests.integration.support import Address, Example, ExampleContent, Genre, example, ids_of

Predicate = Callable[[Example], bool]

BORN = datetime(2001, 1, 1, tzinfo=UTC)

CONTENTS: list[ExampleContent] = [
    example("a", count=0, rating=0.5, bucket=1),
    example(
        "b",
        count=1,
        rating=1.5,
        tags=["t1"],
        review="good",
        scores={"views": 2},
        genre=Genre.COMEDY,
        born=datetime(2000, 6, 1, tzinfo=UTC),
    ),
    example(
        "c",
        count=2,
        rating=2.5,
        tags=["t1", "t2"],
        review="",
        labels={"x", "y"},
        address=Address(city="Rome", zip="00100"),
        born=datetime(2002, 6, 1, tzinfo=UTC),
        bucket=5,
    ),
    example(
        "d",
        count=3,
        rating=3.5,
        tags=["t2", "t3", "t4"],
        review="great",
        scores={"views": 0},
        genre=Genre.HORROR,
        even=True,
    ),
]

CASES: dict[str, tuple[Condition, Predicate]] = {
    "equals": (attr("count") == 1, lambda e: e.count == 1),
    "not equals": (attr("genre") != "drama", lambda e: e.genre is not Genre.DRAMA),
    "less": (attr("rating") < 1.5, lambda e: e.rating < 1.5),
    "less or equal": (attr("rating") <= 1.5, lambda e: e.rating <= 1.5),
    "greater": (attr("rating") > 1.5, lambda e: e.rating > 1.5),
    "greater or equal": (attr("rating") >= 1.5, lambda e: e.rating >= 1.5),
    "datetime": (attr("born") > BORN, lambda e: e.born is not None and e.born > BORN),
    "between": (attr("count").between(1, 2), lambda e: 1 <= e.count <= 2),
    "is in": (attr("count").is_in(0, 3, 7), lambda e: e.count in {0, 3, 7}),
    "exists": (attr("review").exists(), lambda e: e.review is not None),
    "not exists": (attr("scores.views").not_exists(), lambda e: "views" not in e.scores),
    "nested": (attr("address.city") == "Rome", lambda e: e.address.city == "Rome"),
    "begins with": (attr("review").begins_with("g"), lambda e: (e.review or "").startswith("g")),
    "contains in a list": (attr("tags").contains("t2"), lambda e: "t2" in e.tags),
    "contains in a set": (attr("labels").contains("x"), lambda e: "x" in e.labels),
    "contains a substring": (
        attr("review").contains("rea"),
        lambda e: e.review is not None and "rea" in e.review,
    ),
    "size": (attr("tags").size() >= 2, lambda e: len(e.tags) >= 2),
    "size between": (attr("review").size().between(1, 4), lambda e: 1 <= len(e.review or "") <= 4),
    "is type": (attr("review").is_type("NULL"), lambda e: e.review is None),
    "attribute against attribute": (attr("bucket") > attr("count"), lambda e: e.bucket > e.count),
    "and": (
        (attr("count") > 0) & (attr("even") == False),  # noqa: E712  (builds a condition)
        lambda e: e.count > 0 and not e.even,
    ),
    "or": (
        (attr("count") == 0) | (attr("genre") == Genre.HORROR),
        lambda e: e.count == 0 or e.genre is Genre.HORROR,
    ),
    "not": (~attr("tags").contains("t1"), lambda e: "t1" not in e.tags),
    "nested and, or, not": (
        ((attr("count") > 0) & ~(attr("genre") == "comedy")) | (attr("tags").size() == 0),
        lambda e: (e.count > 0 and e.genre is not Genre.COMEDY) or not e.tags,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_condition_filters_as_its_predicate_selects(repo: Repository[Example], case: str) -> None:
    condition, predicate = CASES[case]
    repo.put_batch(CONTENTS)
    expected = [content.content_ids[0] for content in CONTENTS if predicate(content.item)]
    assert ids_of(repo.list(["films"], None, filters=condition)) == expected
    assert expected not in ([], [c.content_ids[0] for c in CONTENTS])  # the case discriminates


def test_a_condition_filters_list_between(repo: Repository[Example]) -> None:
    repo.put_batch(CONTENTS)
    listed = repo.list_between(["films"], ["b"], ["d"], filters=attr("tags").size() > 1)
    assert ids_of(listed) == ["c", "d"]

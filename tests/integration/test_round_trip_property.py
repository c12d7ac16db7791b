"""Property: any ids and any values of the supported types come back equal through DynamoDB Local.

One table per test function (the ``table_name`` fixture): examples share it, which is why the
function-scoped-fixture health check is suppressed; each example reads back what it just wrote.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from pydantic_dynamo import PartitionedContent
from tests.integration.harness import RepoFactory
from tests.integration.support import contents_of


class Color(Enum):
    RED = "red"
    GREEN = "green"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Inner(BaseModel):
    label: str
    amount: Decimal | None = None
    ratio: float = 0.0


class Everything(BaseModel):
    text: str
    number: int
    real: float
    amount: Decimal
    flag: bool
    maybe: int | None
    raw: bytes
    moment: datetime
    day: date
    clock: time
    color: Color
    level: Level
    uid: UUID
    inner: Inner
    tags: list[str]
    labels: set[str]
    codes: frozenset[int]
    pair: tuple[int, str]
    mapping: dict[str, int]
    nested: list[Inner]


EverythingContent = PartitionedContent[Everything]

# Text DynamoDB stores: any unicode but lone surrogates (not UTF-8).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
ids = st.lists(
    st.text(
        st.sampled_from("#\\ab/:é日🦆 ") | st.characters(exclude_categories=["Cs"]), max_size=6
    ),
    max_size=4,
)
ints = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
magnitudes = st.floats(min_value=1e-130, max_value=9.99e125, allow_subnormal=False)
floats = st.just(0.0) | magnitudes | magnitudes.map(lambda f: -f)
decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=38),
    st.integers(-90, 80),
)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(timezones=st.none() | st.just(UTC) | offsets)
inners = st.builds(Inner, label=texts, amount=st.none() | decimals, ratio=floats)
# DynamoDB map keys are attribute names: never empty.
keys = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)

everything = st.builds(
    Everything,
    text=texts,
    number=ints,
    real=floats,
    amount=decimals,
    flag=st.booleans(),
    maybe=st.none() | ints,
    raw=st.binary(max_size=16),
    moment=moments,
    day=st.dates(),
    clock=st.times(),
    color=st.sampled_from(Color),
    level=st.sampled_from(Level),
    uid=st.uuids(),
    inner=inners,
    tags=st.lists(texts, max_size=4),
    labels=st.sets(texts, max_size=4),
    codes=st.frozensets(ints, max_size=4),
    pair=st.tuples(ints, texts),
    mapping=st.dictionaries(keys, ints, max_size=4),
    nested=st.lists(inners, max_size=3),
)
contents = st.builds(
    EverythingContent,
    partition_ids=ids,
    content_ids=ids,
    item=everything,
)


def key_of(content: EverythingContent) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(content.partition_ids), tuple(content.content_ids)


PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(content=contents)
def test_put_then_get_returns_an_equal_content(
    repo_factory: RepoFactory, content: EverythingContent
) -> None:
    repo = repo_factory(Everything)
    repo.put(content)
    assert repo.get(content.partition_ids, content.content_ids).content == content


@PROPERTY_SETTINGS
@given(batch=st.lists(contents, min_size=1, max_size=30, unique_by=key_of))
def test_put_batch_then_get_batch_returns_equal_contents(
    repo_factory: RepoFactory, batch: list[EverythingContent]
) -> None:
    repo = repo_factory(Everything)
    repo.put_batch(batch)
    found = contents_of(repo.get_batch([(c.partition_ids, c.content_ids) for c in batch]))
    assert len(found) == len(batch)
    assert {key_of(c): c for c in found} == {key_of(c): c for c in batch}

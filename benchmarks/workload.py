"""The workload every runner performs, and its deterministic data. Standard library only.

The data mirrors the seed's ``tests/factories.py`` (``ExampleFactory``), with a seeded
``random.Random`` in place of Faker so that every library, every run and every machine gets the
same items: a dict field (one key -> a small dict, as the seed's ``{bothify: FieldModel}``, kept
as a plain dict because the field is ``Dict[str, Any]``), a nested model, a list of 5 phrases, a
set of 5 phrases, a date, a time (whole seconds), a UTC datetime (whole seconds), an enum, an int
and an optional int (set on every other item, so both the null and the number paths run).

Operation sets: a runner implements one method per operation name; ``OP_SETS`` says which
operations a set runs, in order. A new comparison adds a set here and the matching methods in
the runners that support it. ``write_once`` runs a write-once repository three times on the same
N keys of one partition: all new (empty table), all repeated (the same inputs again), and 10%
changed (``int_field`` of every 10th input changed); each op counts the contents the repository
reported as written. Its runs also meter consumed capacity (``CAPACITY_OP_SETS``). ``units``
times transactions, a collection read and counts (see ``TRANSACTIONS``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

PARTITION_KEY = "PARTITION_KEY"
SORT_KEY = "SORT_KEY"
PARTITION_PREFIX = "bench"
PARTITION_NAME = "repo"
CONTENT_TYPE = "example"
PARTITION_IDS: tuple[str, ...] = ("p0",)
ENUM_VALUES = ("one", "two", "three")

# Operation sets: name -> operations, in the order they run (each needs the ones before it).
OP_SETS: dict[str, tuple[str, ...]] = {
    "crud": ("put_batch", "list", "get_batch", "get", "update"),
    "write_once": ("all_new", "all_repeated", "changed_10pct"),
    "index": ("put_batch", "list", "index_all", "index_keys"),
    "units": ("transact_put_10", "collection_put", "collection_read", "count"),
}
# The ``index`` set: the same items listed from the table, then queried from two global indexes
# composed alike (no partition fields, sorted by datetime_field): INDEX_ALL projects every
# attribute, INDEX_KEYS only the keys (the full items then come from BatchGetItem).
# (logical index name, physical index name, its partition key, its sort key)
INDEX_ALL = ("by_datetime", "gsi1", "gsi1pk", "gsi1sk")
INDEX_KEYS = ("by_datetime_keys", "gsi2", "gsi2pk", "gsi2sk")
# The ``units`` set (issue 12): TRANSACTIONS transactions of TRANSACTION_SIZE puts each (the
# workload's first items, distinct keys), then one partition holding an actor and REVIEWS
# reviews (two content types, COLLECTION_TYPES) written with batch writes, read back whole into
# each type's model, and its reviews counted COUNTS times (Select=COUNT).
TRANSACTIONS = 50
TRANSACTION_SIZE = 10
REVIEWS = 200
COUNTS = 50
COLLECTION_NAME = "cast"
COLLECTION_IDS: tuple[str, ...] = ("a1",)
COLLECTION_TYPES = ("cast-actor", "cast-review")
# Operation sets whose runs ask DynamoDB for ConsumedCapacity (harness.CapacityMeter). The
# others send exactly what each library sends by itself.
CAPACITY_OP_SETS = frozenset({"write_once"})
# In the 10% changed scenario, every CHANGE_EVERY-th input gets int_field CHANGED_INT_BASE + its
# index (the seeded values are below 10,000, so each of them differs from what is stored).
CHANGE_EVERY = 10
CHANGED_INT_BASE = 20_000

_VERBS = (
    "implement",
    "utilize",
    "integrate",
    "streamline",
    "optimize",
    "evolve",
    "transform",
    "embrace",
    "enable",
    "orchestrate",
    "leverage",
    "reinvent",
    "aggregate",
    "architect",
    "enhance",
    "incentivize",
    "morph",
    "empower",
    "envisioneer",
    "monetize",
    "harness",
)
_ADJECTIVES = (
    "clicks-and-mortar",
    "value-added",
    "vertical",
    "proactive",
    "robust",
    "revolutionary",
    "scalable",
    "leading-edge",
    "innovative",
    "intuitive",
    "strategic",
    "e-business",
    "mission-critical",
    "sticky",
    "one-to-one",
    "24/7",
    "end-to-end",
    "global",
    "b2b",
)
_NOUNS = (
    "synergies",
    "web-readiness",
    "paradigms",
    "markets",
    "partnerships",
    "infrastructures",
    "platforms",
    "initiatives",
    "channels",
    "eyeballs",
    "communities",
    "roi",
    "solutions",
    "e-tailers",
    "e-services",
    "action-items",
    "portals",
    "niches",
    "technologies",
    "content",
)
_EPOCH = datetime(1990, 1, 1, tzinfo=UTC)


def _bs(rng: random.Random) -> str:
    return f"{rng.choice(_VERBS)} {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


def _bothify(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(letters) if c == "?" else str(rng.randrange(10)) for c in "??##?#")


def example_fields(index: int, seed: int = 0) -> dict[str, Any]:
    """Keyword arguments for the Example model of item ``index`` (same on Pydantic v1 and v2)."""
    rng = random.Random(seed * 1_000_003 + index)
    moment = _EPOCH + timedelta(seconds=rng.randrange(40 * 365 * 86400))
    phrases: set[str] = set()
    while len(phrases) < 5:
        phrases.add(_bs(rng))
    return {
        "dict_field": {_bothify(rng): {"test_field": _bs(rng)}},
        "model_field": {"test_field": _bs(rng), "failures": rng.randrange(10_000)},
        "list_field": [_bs(rng) for _ in range(5)],
        "set_field": phrases,
        "date_field": date(1970, 1, 1) + timedelta(days=rng.randrange(60 * 365)),
        "time_field": time(rng.randrange(24), rng.randrange(60), rng.randrange(60)),
        "datetime_field": moment,
        "enum_field": rng.choice(ENUM_VALUES),
        "int_field": rng.randrange(10_000),
        "optional_field": rng.randrange(1_000) if index % 2 == 0 else None,
    }


def content_ids(index: int) -> list[str]:
    return [f"{index:06d}"]


def actor_fields(seed: int = 0) -> dict[str, Any]:
    """Keyword arguments for the ``units`` set's actor (``models.Actor``)."""
    rng = random.Random(seed * 1_000_003 - 1)
    return {"id": COLLECTION_IDS[0], "name": _bs(rng).title(), "review": _bs(rng)}


def review_fields(index: int, seed: int = 0) -> dict[str, Any]:
    """Keyword arguments for review ``index`` of the ``units`` set's actor (``models.Review``)."""
    rng = random.Random(seed * 1_000_003 - 2 - index)
    return {
        "id": f"r{index:04d}",
        "actor_id": COLLECTION_IDS[0],
        "created": _EPOCH + timedelta(seconds=rng.randrange(40 * 365 * 86400)),
        "review": " ".join(_bs(rng) for _ in range(3)),
    }


def review_ids(index: int) -> list[str]:
    return [f"{index:04d}"]


def index_attributes(datetime_text: str) -> dict[str, str]:
    """The ``index`` set's index key attributes of an item, as this library writes them for
    ``Index(name, partition=(), sort=("datetime_field",))`` (see pydantic_dynamo.indexes):
    peers write these themselves."""
    attributes = {}
    for name, _, partition_key, sort_key in (INDEX_ALL, INDEX_KEYS):
        attributes[partition_key] = "#".join(
            (PARTITION_PREFIX, PARTITION_NAME, CONTENT_TYPE, name, "")
        )
        attributes[sort_key] = "#".join((CONTENT_TYPE, name, datetime_text))
    return attributes


@dataclass(frozen=True)
class Workload:
    """Sizes of the workload and the (seeded) choice of keys each read/update touches."""

    n: int = 2000
    get_batch_size: int = 500
    gets: int = 200
    updates: int = 200
    seed: int = 0

    def _sample(self, salt: int, k: int) -> list[int]:
        return random.Random(self.seed * 7919 + salt).sample(range(self.n), min(k, self.n))

    def get_batch_indices(self) -> list[int]:
        return self._sample(1, self.get_batch_size)

    def get_indices(self) -> list[int]:
        return self._sample(2, self.gets)

    def update_values(self) -> list[tuple[int, int]]:
        """(item index, new int_field value) for each update."""
        rng = random.Random(self.seed * 7919 + 4)
        return [(i, 10_000 + rng.randrange(10_000)) for i in self._sample(3, self.updates)]

    def changed_values(self) -> list[tuple[int, int]]:
        """(item index, new int_field value) for the write-once 10% changed scenario."""
        return [(i, CHANGED_INT_BASE + i) for i in range(0, self.n, CHANGE_EVERY)]

    def transactions(self) -> list[list[int]]:
        """The item indices each transaction of the ``units`` set puts."""
        indices = range(min(self.n, TRANSACTIONS * TRANSACTION_SIZE))
        return [
            list(indices[start : start + TRANSACTION_SIZE])
            for start in range(0, len(indices), TRANSACTION_SIZE)
        ]

    def expected_items(self, op: str) -> int:
        """How many items an operation must touch (write-once: report as written); runners
        report it, the orchestrator checks."""
        return {
            "put_batch": self.n,
            "list": self.n,
            "get_batch": min(self.get_batch_size, self.n),
            "get": min(self.gets, self.n),
            "update": min(self.updates, self.n),
            "all_new": self.n,
            "all_repeated": 0,
            "changed_10pct": len(self.changed_values()),
            "index_all": self.n,
            "index_keys": self.n,
            "transact_put_10": sum(len(t) for t in self.transactions()),
            "collection_put": 1 + REVIEWS,
            "collection_read": 1 + REVIEWS,
            "count": COUNTS * REVIEWS,
        }[op]


def list_checks(
    workload: Workload, listed: Iterable[Any], expected: Sequence[Any]
) -> dict[str, bool]:
    """Whether a listing (contents with ``content_ids`` and ``item``) holds exactly the items."""
    by_id = {tuple(content.content_ids): content.item for content in listed}
    return {
        "list_keys_match": set(by_id) == {tuple(content_ids(i)) for i in range(workload.n)},
        "list_items_equal": all(
            by_id.get(tuple(content_ids(i))) == item for i, item in enumerate(expected)
        ),
    }


def types_by_prefix(sort_keys: Iterable[str]) -> dict[str, int]:
    """How many of ``sort_keys`` begin with each ``units`` content type's prefix (for the
    libraries that read plain items)."""
    counts = dict.fromkeys(COLLECTION_TYPES, 0)
    for sort_key in sort_keys:
        for content_type in COLLECTION_TYPES:
            if sort_key.startswith(content_type + "#"):
                counts[content_type] += 1
    return counts


def units_checks(
    workload: Workload,
    transacted: int,
    read_types: Mapping[str, int],
    counts: Sequence[int],
) -> dict[str, bool]:
    """After the ``units`` set: how many items the transactions left in their partition
    (counted after the timed ops), how many items of each content type the collection read
    decoded into that type's model (or, for libraries without models, told apart by sort-key
    prefix), and what each count answered."""
    return {
        "transactions_stored_every_item": transacted == workload.expected_items("transact_put_10"),
        "collection_read_types": dict(read_types)
        == {COLLECTION_TYPES[0]: 1, COLLECTION_TYPES[1]: REVIEWS},
        "count_answers_reviews": len(counts) == COUNTS and set(counts) == {REVIEWS},
    }


def write_once_checks(
    workload: Workload,
    written: Mapping[str, Sequence[Any]],
    contents: Sequence[Any],
    changed_contents: Sequence[Any],
    stored: Iterable[Any],
) -> dict[str, bool]:
    """After the write-once scenarios: what each call reported (``written``, by scenario), and
    whether the table (``stored``, the listed contents) holds the latest contents."""
    changed = {tuple(content_ids(i)) for i, _ in workload.changed_values()}
    return {
        "all_new_reports_every_input": sorted(c.content_ids for c in written["all_new"])
        == sorted(c.content_ids for c in contents),
        "changed_10pct_reports_the_changed": {
            tuple(c.content_ids) for c in written["changed_10pct"]
        }
        == changed,
        "table_holds_latest_contents": {tuple(c.content_ids): c.item for c in stored}
        == {tuple(c.content_ids): c.item for c in changed_contents},
    }

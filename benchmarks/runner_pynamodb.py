"""PynamoDB on the same workload: its ``Model`` classes in and out, over botocore.

The model declares the workload's fields with PynamoDB's attributes (dates, times and the enum
as the strings this library stores, the nested model as a ``MapAttribute``); items become
``Model`` instances before the clock starts, as this library's runner starts from Pydantic
models. ``update`` goes through ``Model.update`` (``ALL_NEW``, the instance refreshed), as this
library's update returns the new state. The ``index`` set queries its ``GlobalSecondaryIndex``
classes; for the keys-only index the full items then come from ``Model.batch_get``. The
``units`` set: ``TransactWrite`` of 10 ``save`` per transaction; the collection as a base model
with a ``DiscriminatorAttribute`` and a subclass per item type (PynamoDB's polymorphism), read
with one ``Query`` of the base model, each item answered as its subclass; ``Model.count`` of the
reviews' subclass (a Query with ``Select=COUNT``, filtered on the discriminator). Requests are
counted on PynamoDB's botocore clients (``before-send``).

``.bench-venv-peers/bin/python -m benchmarks.runner_pynamodb --endpoint URL --table NAME``
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from benchmarks import harness
from benchmarks.peer_items import (
    CAST_PARTITION,
    PARTITION_VALUE,
    REVIEW_PREFIX,
    SORT_PREFIX,
    cast_keys,
    items,
    key,
)
from benchmarks.workload import (
    COLLECTION_TYPES,
    COUNTS,
    INDEX_ALL,
    INDEX_KEYS,
    OP_SETS,
    PARTITION_KEY,
    SORT_KEY,
    Workload,
    index_attributes,
    units_checks,
)


class FieldModelAttribute(MapAttribute[str, Any]):
    test_field = UnicodeAttribute()
    failures = NumberAttribute(null=True)


def _meta(table: str, endpoint: str) -> type:
    """A model's ``Meta``: ``table`` at ``endpoint``."""
    return type(
        "Meta",
        (),
        {
            "table_name": table,
            "host": endpoint,
            "region": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",  # DynamoDB Local takes any credentials
        },
    )


def model_class(table: str, endpoint: str) -> type[Model]:
    """The workload's PynamoDB model over ``table`` at ``endpoint``, with both indexes."""

    class AllIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = INDEX_ALL[1]
            projection = AllProjection()

        gsi1pk = UnicodeAttribute(hash_key=True, attr_name=INDEX_ALL[2])
        gsi1sk = UnicodeAttribute(range_key=True, attr_name=INDEX_ALL[3])

    class KeysIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = INDEX_KEYS[1]
            projection = KeysOnlyProjection()

        gsi2pk = UnicodeAttribute(hash_key=True, attr_name=INDEX_KEYS[2])
        gsi2sk = UnicodeAttribute(range_key=True, attr_name=INDEX_KEYS[3])

    class ExampleModel(Model):
        Meta = _meta(table, endpoint)
        partition = UnicodeAttribute(hash_key=True, attr_name=PARTITION_KEY)
        sort = UnicodeAttribute(range_key=True, attr_name=SORT_KEY)
        dict_field = MapAttribute[str, Any]()
        model_field = FieldModelAttribute()
        list_field = ListAttribute[Any]()
        set_field = UnicodeSetAttribute()
        date_field = UnicodeAttribute()
        time_field = UnicodeAttribute()
        datetime_field = UnicodeAttribute()
        enum_field = UnicodeAttribute()
        int_field = NumberAttribute()
        optional_field = NumberAttribute(null=True)
        timestamp = UnicodeAttribute(attr_name="_timestamp")
        object_version = NumberAttribute(attr_name="_object_version")
        gsi1pk = UnicodeAttribute(null=True, attr_name=INDEX_ALL[2])
        gsi1sk = UnicodeAttribute(null=True, attr_name=INDEX_ALL[3])
        gsi2pk = UnicodeAttribute(null=True, attr_name=INDEX_KEYS[2])
        gsi2sk = UnicodeAttribute(null=True, attr_name=INDEX_KEYS[3])
        by_datetime = AllIndex()
        by_datetime_keys = KeysIndex()

    return ExampleModel


def cast_classes(table: str, endpoint: str) -> tuple[Any, Any, Any]:
    """The ``units`` set's collection as a PynamoDB user models one partition of two item
    types: a base model with a ``DiscriminatorAttribute`` and a subclass per type, so that a
    Query of the base model answers each item as its own subclass."""

    class CastModel(Model):
        Meta = _meta(table, endpoint)
        partition = UnicodeAttribute(hash_key=True, attr_name=PARTITION_KEY)
        sort = UnicodeAttribute(range_key=True, attr_name=SORT_KEY)
        kind = DiscriminatorAttribute(attr_name="_type")
        timestamp = UnicodeAttribute(attr_name="_timestamp")
        object_version = NumberAttribute(attr_name="_object_version")

    # (Model is Any here: PynamoDB is not in this venv, so mypy cannot see its __init_subclass__.)
    class ActorModel(CastModel, discriminator=COLLECTION_TYPES[0]):  # type: ignore[call-arg]
        id = UnicodeAttribute()
        name = UnicodeAttribute()
        review = UnicodeAttribute(null=True)

    class ReviewModel(CastModel, discriminator=COLLECTION_TYPES[1]):  # type: ignore[call-arg]
        id = UnicodeAttribute()
        actor_id = UnicodeAttribute()
        created = UTCDateTimeAttribute()
        review = UnicodeAttribute()

    return CastModel, ActorModel, ReviewModel


# Stored attribute name -> the model's attribute name, where they differ.
_RENAMED = {
    PARTITION_KEY: "partition",
    SORT_KEY: "sort",
    "_timestamp": "timestamp",
    "_object_version": "object_version",
}


class PynamoRunner:
    def __init__(
        self,
        model: type[Model],
        workload: Workload,
        *,
        indexed: bool = False,
        cast: tuple[Any, Any, Any] | None = None,
    ) -> None:
        self.model: Any = model
        self.workload = workload
        self.models = [
            model(**{_RENAMED.get(name, name): value for name, value in item.items()})
            for item in items(workload, indexed=indexed)
        ]
        self.get_batch_keys = [_pair(i) for i in workload.get_batch_indices()]
        self.get_keys = [_pair(i) for i in workload.get_indices()]
        self.updates = [(_pair(i), value) for i, value in workload.update_values()]
        self.listed: list[Any] = []
        self.updated: list[Any] = []
        self.found: dict[str, list[Any]] = {}
        self.counts: list[int] = []
        if cast is not None:
            self.cast_model, self.actor_model, self.review_model = cast
            timestamp = self.models[0].timestamp if self.models else ""
            self.cast = [
                (self.actor_model if sort.startswith(COLLECTION_TYPES[0]) else self.review_model)(
                    CAST_PARTITION, sort, timestamp=timestamp, object_version=1, **fields
                )
                for sort, fields in cast_keys(workload.seed)
            ]

    def run(self, op: str) -> int:
        count: int = getattr(self, f"op_{op}")()
        return count

    def op_put_batch(self) -> int:
        with self.model.batch_write() as batch:
            for instance in self.models:
                batch.save(instance)
        return len(self.models)

    def op_list(self) -> int:
        self.listed = list(
            self.model.query(PARTITION_VALUE, self.model.sort.startswith(SORT_PREFIX))
        )
        return len(self.listed)

    def op_get_batch(self) -> int:
        self.found["get_batch"] = list(self.model.batch_get(self.get_batch_keys))
        return len(self.found["get_batch"])

    def op_get(self) -> int:
        found = 0
        for partition, sort in self.get_keys:
            found += self.model.get(partition, sort) is not None
        return found

    def op_update(self) -> int:
        self.updated = []
        for (partition, sort), value in self.updates:
            instance = self.model(partition, sort)
            instance.update(
                actions=[self.model.int_field.set(value), self.model.object_version.add(1)]
            )
            self.updated.append(instance)
        return len(self.updated)

    def op_transact_put_10(self) -> int:
        connection = self.model._get_connection().connection
        for indices in self.workload.transactions():
            with TransactWrite(connection=connection) as transaction:
                for i in indices:
                    transaction.save(self.models[i])
        return self.workload.expected_items("transact_put_10")

    def op_collection_put(self) -> int:
        with self.cast_model.batch_write() as batch:
            for instance in self.cast:
                batch.save(instance)
        return len(self.cast)

    def op_collection_read(self) -> int:
        self.found["collection_read"] = list(self.cast_model.query(CAST_PARTITION))
        return len(self.found["collection_read"])

    def op_count(self) -> int:
        review = self.review_model
        condition = review.sort.startswith(REVIEW_PREFIX)
        self.counts = [review.count(CAST_PARTITION, condition) for _ in range(COUNTS)]
        return sum(self.counts)

    def units_checks(self) -> dict[str, bool]:
        """After the ``units`` set (untimed): what the transactions stored, and each item of
        the collection read as its own subclass."""
        read = self.found["collection_read"]
        classes = (self.actor_model, self.review_model)
        read_types = {
            name: sum(type(i) is model for i in read)
            for name, model in zip(COLLECTION_TYPES, classes, strict=True)
        }
        transacted = self.model.count(PARTITION_VALUE, self.model.sort.startswith(SORT_PREFIX))
        return units_checks(self.workload, transacted, read_types, self.counts)

    def op_index_all(self) -> int:
        head = index_attributes("")[INDEX_ALL[2]]
        self.found["index_all"] = list(self.model.by_datetime.query(head))
        return len(self.found["index_all"])

    def op_index_keys(self) -> int:
        head = index_attributes("")[INDEX_KEYS[2]]
        entries = list(self.model.by_datetime_keys.query(head))
        keys = [(entry.partition, entry.sort) for entry in entries]
        self.found["index_keys"] = list(self.model.batch_get(keys))
        return len(self.found["index_keys"])


def _client(model: Any) -> Any:
    """The botocore client a PynamoDB model sends with."""
    return model._get_connection().connection.client


def _pair(index: int) -> tuple[str, str]:
    item_key = key(index)
    return item_key[PARTITION_KEY], item_key[SORT_KEY]


def main(argv: Sequence[str] | None = None) -> None:
    args = harness.parse_args(argv)
    workload = harness.workload_from(args)
    model = model_class(args.table, args.endpoint)
    cast = cast_classes(args.table, args.endpoint) if args.op_set == "units" else None
    counter = harness.RequestCounter()
    client = _client(model)
    clients = {id(c): c for c in map(_client, (model, *(cast or ())))}
    for hooked in clients.values():
        hooked.meta.events.register("before-send.dynamodb", counter)
    runner = PynamoRunner(model, workload, indexed=args.op_set == "index", cast=cast)
    for warmed in (model, *(cast or ())):  # warm-up: connection, endpoint, loaders
        warmed.count(PARTITION_VALUE)
    counter.reset()
    results = harness.measure(OP_SETS[args.op_set], runner.run, counter, args.profile)
    listed = {instance.sort for instance in runner.listed}
    if args.op_set == "units":
        checks = runner.units_checks()
    else:
        checks = {"list_keys_match": listed == {key(i)[SORT_KEY] for i in range(workload.n)}}
    if runner.updated:
        checks["update_returns_new_state"] = all(
            instance.object_version == 2 for instance in runner.updated
        )
    for op in ("index_all", "index_keys"):
        if op in runner.found:
            stored = {instance.sort for instance in runner.found[op]}
            checks[f"{op}_keys_match"] = stored == listed
    harness.emit(
        "PynamoDB",
        "default",
        results,
        versions={"pynamodb": version("pynamodb"), "botocore": version("botocore")},
        checks=checks,
        client=client,
    )


if __name__ == "__main__":
    main()

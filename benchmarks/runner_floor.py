"""The floor: raw boto3 low-level client, no models in the timing.

The ``units`` set: ``transact_write_items`` of 10 ``Put`` actions per transaction, the
collection's partition read with ``query`` (items left raw: told apart by sort-key prefix
after the timing) and counted with ``query(Select="COUNT")``.

Items are serialized to AttributeValue dicts (the stored shape: keys, model fields,
``_timestamp``, ``_object_version``) before the clock starts, and nothing read is decoded: the
floor is the cost of boto3 + botocore + HTTP alone, which no library on top of them can beat
while doing more work.

Variants: ``default`` is a plain ``boto3.client("dynamodb")``; ``novalidate`` turns botocore's
parameter validation off (``Config(parameter_validation=False)``), as this library does for the
client it builds itself: the floor for that configuration.

``python -m benchmarks.runner_floor --endpoint URL --table NAME [--variant novalidate]``
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config

from benchmarks import harness
from benchmarks.models import make_examples
from benchmarks.peer_items import CAST_PARTITION, REVIEW_PREFIX, cast_items
from benchmarks.workload import (
    CONTENT_TYPE,
    COUNTS,
    INDEX_ALL,
    INDEX_KEYS,
    OP_SETS,
    PARTITION_IDS,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    Workload,
    content_ids,
    index_attributes,
    types_by_prefix,
    units_checks,
)

AttributeMap = dict[str, Any]
VARIANTS = ("default", "novalidate")

PARTITION_VALUE = "#".join((PARTITION_PREFIX, PARTITION_NAME, *PARTITION_IDS))


def sort_value(index: int) -> str:
    return "#".join((CONTENT_TYPE, *content_ids(index)))


def key(index: int) -> AttributeMap:
    return {PARTITION_KEY: {"S": PARTITION_VALUE}, SORT_KEY: {"S": sort_value(index)}}


class FloorRunner:
    def __init__(
        self, client: Any, table: str, workload: Workload, *, indexed: bool = False
    ) -> None:
        self.client = client
        self.table = table
        self.workload = workload
        serializer = TypeSerializer()
        timestamp = datetime.now(UTC).isoformat()
        self.items: list[AttributeMap] = []
        for index, example in enumerate(make_examples(workload.n, workload.seed)):
            fields = example.model_dump(mode="json")  # no floats in this model's data
            fields["_timestamp"] = timestamp
            fields["_object_version"] = 1
            if indexed:
                fields.update(index_attributes(example.datetime_field.isoformat()))
            item = {name: serializer.serialize(value) for name, value in fields.items()}
            item.update(key(index))
            self.items.append(item)
        self.get_batch_keys = [key(i) for i in workload.get_batch_indices()]
        self.get_keys = [key(i) for i in workload.get_indices()]
        self.updates = [(key(i), str(value)) for i, value in workload.update_values()]
        self.cast = [
            {name: serializer.serialize(value) for name, value in item.items()}
            for item in cast_items(workload.seed)
        ]
        self.raw: dict[str, list[AttributeMap]] = {}
        self.counts: list[int] = []

    def run(self, op: str) -> int:
        count: int = getattr(self, f"op_{op}")()
        return count

    def _batch_write(self, items: Sequence[AttributeMap]) -> int:
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {self.table: requests}
            attempt = 0
            while pending:
                if attempt:
                    time.sleep(min(0.05 * 2**attempt, 1.0))
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                attempt += 1
        return len(items)

    def op_put_batch(self) -> int:
        return self._batch_write(self.items)

    def _pages(
        self, condition: str, names: dict[str, str], values: AttributeMap, **extra: Any
    ) -> list[AttributeMap]:
        """Every page of a Query (``extra``: ``IndexName``, ``Select``...)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            **extra,
        }
        pages: list[AttributeMap] = []
        while True:
            response = self.client.query(**kwargs)
            pages.append(response)
            last = response.get("LastEvaluatedKey")
            if not last:
                return pages
            kwargs["ExclusiveStartKey"] = last

    def _query(
        self, condition: str, names: dict[str, str], values: AttributeMap, index: str | None = None
    ) -> list[AttributeMap]:
        extra = {"IndexName": index} if index is not None else {}
        pages = self._pages(condition, names, values, **extra)
        return [item for page in pages for item in page["Items"]]

    def count(self, partition: str, prefix: str) -> int:
        """A Query with ``Select=COUNT`` of the partition's items under ``prefix``."""
        pages = self._pages(
            "#pk = :pk AND begins_with(#sk, :sk)",
            {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            {":pk": {"S": partition}, ":sk": {"S": prefix}},
            Select="COUNT",
        )
        return sum(int(page["Count"]) for page in pages)

    def op_transact_put_10(self) -> int:
        for indices in self.workload.transactions():
            self.client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table, "Item": self.items[i]}} for i in indices
                ]
            )
        return self.workload.expected_items("transact_put_10")

    def op_collection_put(self) -> int:
        return self._batch_write(self.cast)

    def op_collection_read(self) -> int:
        self.raw["collection_read"] = self._query(
            "#pk = :pk", {"#pk": PARTITION_KEY}, {":pk": {"S": CAST_PARTITION}}
        )
        return len(self.raw["collection_read"])

    def op_count(self) -> int:
        self.counts = [self.count(CAST_PARTITION, REVIEW_PREFIX) for _ in range(COUNTS)]
        return sum(self.counts)

    def units_checks(self) -> dict[str, bool]:
        """After the ``units`` set (untimed): what the transactions stored, what was read."""
        sort_keys = [item[SORT_KEY]["S"] for item in self.raw["collection_read"]]
        transacted = self.count(PARTITION_VALUE, CONTENT_TYPE + "#")
        return units_checks(self.workload, transacted, types_by_prefix(sort_keys), self.counts)

    def op_list(self) -> int:
        items = self._query(
            "#pk = :pk AND begins_with(#sk, :sk)",
            {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            {":pk": {"S": PARTITION_VALUE}, ":sk": {"S": CONTENT_TYPE + "#"}},
        )
        self.raw["list"] = items
        return len(items)

    def _index_query(self, index: tuple[str, str, str, str]) -> list[AttributeMap]:
        _, physical, partition_key, _ = index
        head = index_attributes("")[partition_key]
        return self._query("#pk = :pk", {"#pk": partition_key}, {":pk": {"S": head}}, physical)

    def op_index_all(self) -> int:
        self.raw["index_all"] = self._index_query(INDEX_ALL)
        return len(self.raw["index_all"])

    def op_index_keys(self) -> int:
        entries = self._index_query(INDEX_KEYS)
        keys = [{PARTITION_KEY: e[PARTITION_KEY], SORT_KEY: e[SORT_KEY]} for e in entries]
        self.raw["index_keys"] = self._batch_get(keys)
        return len(self.raw["index_keys"])

    def _batch_get(self, keys: Sequence[AttributeMap]) -> list[AttributeMap]:
        found: list[AttributeMap] = []
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {self.table: {"Keys": list(keys[start : start + 100])}}
            attempt = 0
            while pending:
                if attempt:
                    time.sleep(min(0.05 * 2**attempt, 1.0))
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(response["Responses"].get(self.table, []))
                pending = response.get("UnprocessedKeys") or {}
                attempt += 1
        return found

    def op_get_batch(self) -> int:
        items = self._batch_get(self.get_batch_keys)
        self.raw["get_batch"] = items
        return len(items)

    def op_get(self) -> int:
        found = 0
        for item_key in self.get_keys:
            response = self.client.get_item(TableName=self.table, Key=item_key)
            found += "Item" in response
        return found

    def op_update(self) -> int:
        for item_key, value in self.updates:
            self.client.update_item(
                TableName=self.table,
                Key=item_key,
                UpdateExpression="SET #f = :v ADD #ver :one",
                ExpressionAttributeNames={"#f": "int_field", "#ver": "_object_version"},
                ExpressionAttributeValues={":v": {"N": value}, ":one": {"N": "1"}},
            )
        return len(self.updates)


def main(argv: Sequence[str] | None = None) -> None:
    args = harness.parse_args(argv, VARIANTS)
    workload = harness.workload_from(args)
    config = Config(parameter_validation=args.variant != "novalidate")
    client = boto3.client("dynamodb", endpoint_url=args.endpoint, config=config)
    counter = harness.RequestCounter()
    client.meta.events.register("before-send.dynamodb", counter)
    runner = FloorRunner(client, args.table, workload, indexed=args.op_set == "index")
    client.describe_table(TableName=args.table)  # warm-up: connection, endpoint, loaders
    ops = OP_SETS[args.op_set]
    results = harness.measure(ops, runner.run, counter, args.profile)
    stored = {item[SORT_KEY]["S"] for item in runner.raw.get("list", [])}
    if args.op_set == "units":
        checks = runner.units_checks()
    else:
        checks = {"list_keys_match": stored == {sort_value(i) for i in range(workload.n)}}
    for op in ("index_all", "index_keys"):
        if op in runner.raw:
            checks[f"{op}_keys_match"] = {i[SORT_KEY]["S"] for i in runner.raw[op]} == stored
    harness.emit(
        "raw boto3 (floor)",
        args.variant,
        results,
        versions={"boto3": version("boto3"), "botocore": version("botocore")},
        checks=checks,
        client=client,
    )


if __name__ == "__main__":
    main()

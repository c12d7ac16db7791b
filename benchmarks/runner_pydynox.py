"""pydynox (Rust core) on the same workload: its client with plain dicts in and out.

pydynox's ``DynamoDBClient`` converts Python values to AttributeValues and back in Rust and
batches, pages and retries itself; its lightest path (no Model classes), so the strongest
showing this peer can make. Updates ask for ``ALL_NEW`` as this library's update returns the
new state. Requests are counted from the workload's shape (pydynox has no request hook).

``.bench-venv-peers/bin/python -m benchmarks.runner_pydynox --endpoint URL --table NAME``
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from pydynox import DynamoDBClient

from benchmarks import harness
from benchmarks.peer_items import PARTITION_VALUE as PARTITION
from benchmarks.peer_items import SORT_PREFIX, items, key
from benchmarks.workload import (
    INDEX_ALL,
    INDEX_KEYS,
    OP_SETS,
    PARTITION_KEY,
    SORT_KEY,
    Workload,
    index_attributes,
)

QUERY = "#pk = :pk AND begins_with(#sk, :sk)"
NAMES = {"#pk": PARTITION_KEY, "#sk": SORT_KEY}


class PydynoxRunner:
    def __init__(
        self, client: DynamoDBClient, table: str, workload: Workload, *, indexed: bool = False
    ) -> None:
        self.client = client
        self.table = table
        self.items = items(workload, indexed=indexed)
        self.get_batch_keys = [key(i) for i in workload.get_batch_indices()]
        self.get_keys = [key(i) for i in workload.get_indices()]
        self.updates = [(key(i), value) for i, value in workload.update_values()]
        self.listed: list[dict[str, Any]] = []
        self.updated: list[Any] = []
        self.indexed: list[dict[str, Any]] = []
        self.fetched: list[dict[str, Any]] = []
        self.counter = harness.RequestCounter()

    def run(self, op: str) -> int:
        count: int = getattr(self, f"op_{op}")()
        return count

    def op_put_batch(self) -> int:
        self.client.sync_batch_write(self.table, put_items=self.items)
        self.counter.by_operation["BatchWriteItem"] += math.ceil(len(self.items) / 25)
        return len(self.items)

    def op_list(self) -> int:
        result = self.client.sync_query(
            self.table,
            QUERY,
            expression_attribute_names=NAMES,
            expression_attribute_values={":pk": PARTITION, ":sk": SORT_PREFIX},
        )
        self.listed = list(result)
        return len(self.listed)

    def _index_query(self, index: tuple[str, str, str, str]) -> list[dict[str, Any]]:
        _, physical, partition_key, _ = index
        result = self.client.sync_query(
            self.table,
            "#pk = :pk",
            expression_attribute_names={"#pk": partition_key},
            expression_attribute_values={":pk": index_attributes("")[partition_key]},
            index_name=physical,
        )
        # pydynox pages by itself and tells no page count: its Query requests go uncounted, as
        # in op_list.
        return list(result)

    def op_index_all(self) -> int:
        self.indexed = self._index_query(INDEX_ALL)
        return len(self.indexed)

    def op_index_keys(self) -> int:
        entries = self._index_query(INDEX_KEYS)
        keys = [{PARTITION_KEY: e[PARTITION_KEY], SORT_KEY: e[SORT_KEY]} for e in entries]
        found = self.client.sync_batch_get(self.table, keys)
        self.counter.by_operation["BatchGetItem"] += math.ceil(len(keys) / 100)
        self.fetched = list(found)
        return len(self.fetched)

    def op_get_batch(self) -> int:
        found = self.client.sync_batch_get(self.table, self.get_batch_keys)
        self.counter.by_operation["BatchGetItem"] += math.ceil(len(self.get_batch_keys) / 100)
        return len(found)

    def op_get(self) -> int:
        found = 0
        for item_key in self.get_keys:
            found += self.client.sync_get_item(self.table, item_key) is not None
            self.counter.by_operation["GetItem"] += 1
        return found

    def op_update(self) -> int:
        self.updated = []
        for item_key, value in self.updates:
            self.updated.append(
                self.client.sync_update_item(
                    self.table,
                    item_key,
                    update_expression="SET #f = :v ADD #ver :one",
                    expression_attribute_names={"#f": "int_field", "#ver": "_object_version"},
                    expression_attribute_values={":v": value, ":one": 1},
                    return_values="ALL_NEW",
                )
            )
            self.counter.by_operation["UpdateItem"] += 1
        return len(self.updated)


def main(argv: Sequence[str] | None = None) -> None:
    args = harness.parse_args(argv)
    workload = harness.workload_from(args)
    client = DynamoDBClient(
        region="us-east-1", endpoint_url=args.endpoint, access_key="bench", secret_key="bench"
    )
    runner = PydynoxRunner(client, args.table, workload, indexed=args.op_set == "index")
    client.sync_get_item(args.table, key(0))  # warm-up: connection
    results = harness.measure(OP_SETS[args.op_set], runner.run, runner.counter, args.profile)
    stored = {item[SORT_KEY] for item in runner.listed}
    checks = {
        "list_keys_match": stored == {key(i)[SORT_KEY] for i in range(workload.n)},
        "update_returns_new_state": all(
            item is not None and item["_object_version"] == 2 for item in runner.updated
        ),
    }
    if args.op_set == "index":
        checks["index_all_keys_match"] = {item[SORT_KEY] for item in runner.indexed} == stored
        checks["index_keys_keys_match"] = {item[SORT_KEY] for item in runner.fetched} == stored
    harness.emit(
        "pydynox", "default", results, versions={"pydynox": version("pydynox")}, checks=checks
    )


if __name__ == "__main__":
    main()

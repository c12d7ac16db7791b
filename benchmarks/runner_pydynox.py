"""pydynox (Rust core) on the same workload: its client with plain dicts in and out.

pydynox's ``DynamoDBClient`` converts Python values to AttributeValues and back in Rust and
batches, pages and retries itself; its lightest path (no Model classes), so the strongest
showing this peer can make. Updates ask for ``ALL_NEW`` as this library's update returns the
new state. The ``units`` set: ``SyncTransaction`` of 10 ``put`` per transaction, the
collection's partition read with ``sync_query`` (dicts, told apart by sort-key prefix after the
timing), and ``sync_count``: pydynox counts with a Scan (``Select=COUNT``) and a filter, having
no Query count. Requests are counted from the workload's shape (pydynox has no request hook).

``.bench-venv-peers/bin/python -m benchmarks.runner_pydynox --endpoint URL --table NAME``
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from pydynox import DynamoDBClient, SyncTransaction

from benchmarks import harness
from benchmarks.peer_items import CAST_PARTITION, REVIEW_PREFIX, SORT_PREFIX, cast_items, items, key
from benchmarks.peer_items import PARTITION_VALUE as PARTITION
from benchmarks.workload import (
    COUNTS,
    INDEX_ALL,
    INDEX_KEYS,
    OP_SETS,
    PARTITION_KEY,
    SORT_KEY,
    Workload,
    index_attributes,
    types_by_prefix,
    units_checks,
)

QUERY = "#pk = :pk AND begins_with(#sk, :sk)"
NAMES = {"#pk": PARTITION_KEY, "#sk": SORT_KEY}


class PydynoxRunner:
    def __init__(
        self, client: DynamoDBClient, table: str, workload: Workload, *, indexed: bool = False
    ) -> None:
        self.client = client
        self.table = table
        self.workload = workload
        self.items = items(workload, indexed=indexed)
        self.cast = cast_items(workload.seed)
        self.cast_read: list[dict[str, Any]] = []
        self.counts: list[int] = []
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

    def _list(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        result = self.client.sync_query(
            self.table,
            QUERY,
            expression_attribute_names=NAMES,
            expression_attribute_values={":pk": partition, ":sk": prefix},
        )
        return list(result)

    def op_list(self) -> int:
        self.listed = self._list(PARTITION, SORT_PREFIX)
        return len(self.listed)

    def op_transact_put_10(self) -> int:
        for indices in self.workload.transactions():
            with SyncTransaction(self.client) as transaction:
                for i in indices:
                    transaction.put(self.table, self.items[i])
            self.counter.by_operation["TransactWriteItems"] += 1
        return self.workload.expected_items("transact_put_10")

    def op_collection_put(self) -> int:
        self.client.sync_batch_write(self.table, put_items=self.cast)
        self.counter.by_operation["BatchWriteItem"] += math.ceil(len(self.cast) / 25)
        return len(self.cast)

    def op_collection_read(self) -> int:
        result = self.client.sync_query(
            self.table,
            "#pk = :pk",
            expression_attribute_names={"#pk": PARTITION_KEY},
            expression_attribute_values={":pk": CAST_PARTITION},
        )
        self.cast_read = list(result)  # pages uncounted, as in op_list
        return len(self.cast_read)

    def op_count(self) -> int:
        # pydynox counts with a Scan (Select=COUNT) and a filter: it has no Query count.
        self.counts = []
        for _ in range(COUNTS):
            count, _metrics = self.client.sync_count(
                self.table,
                filter_expression=QUERY,
                expression_attribute_names=NAMES,
                expression_attribute_values={":pk": CAST_PARTITION, ":sk": REVIEW_PREFIX},
            )
            self.counts.append(count)
            self.counter.by_operation["Scan"] += 1
        return sum(self.counts)

    def units_checks(self) -> dict[str, bool]:
        """After the ``units`` set (untimed): what the transactions stored, what was read."""
        read_types = types_by_prefix(item[SORT_KEY] for item in self.cast_read)
        transacted = len(self._list(PARTITION, SORT_PREFIX))
        return units_checks(self.workload, transacted, read_types, self.counts)

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
    checks: dict[str, bool] = {}
    if args.op_set == "units":
        checks = runner.units_checks()
    else:
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

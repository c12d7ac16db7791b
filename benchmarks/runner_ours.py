"""This library: ``SyncDynamoRepository`` with Pydantic v2 models in and out.

Variants:
- ``client``: the repository is given a boto3 low-level client built here;
- ``own``: no ``client=``; the repository builds its own from the environment
  (``AWS_ENDPOINT_URL_DYNAMODB``, set by ``benchmarks.run`` to DynamoDB Local).

Every read materializes its models (``.contents`` of every batch, ``.content`` of every get).
The ``write_once`` op set runs ``SyncWriteOnceRepository[Example](repo).write`` on the inputs.
The ``units`` set: ``with repo.transaction() as tx: tx.put(repo, content)`` (10 per
transaction), ``Collection`` of an actor's and its reviews' repositories read whole
(``page.contents``: each item decoded into its own model), and ``reviews.count(partition)``.

``python -m benchmarks.runner_ours --endpoint URL --table NAME [--variant own] [--n 2000]``
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import boto3

from benchmarks import harness
from benchmarks.models import Actor, Example, Review, make_examples
from benchmarks.ours_units import cast_checks, cast_contents, cast_settings
from benchmarks.workload import (
    COLLECTION_IDS,
    COLLECTION_TYPES,
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
    list_checks,
    write_once_checks,
)
from pydantic_dynamo import (
    Collection,
    Index,
    PartitionedContent,
    PhysicalIndex,
    Projection,
    SyncDynamoRepository,
    SyncWriteOnceRepository,
    UpdateCommand,
)

VARIANTS = ("client", "own")
# The ``index`` set's two indexes (benchmarks.workload): every attribute, and keys only.
INDEXES = (
    Index(INDEX_ALL[0], on=PhysicalIndex.global_(INDEX_ALL[1]), sort=("datetime_field",)),
    Index(
        INDEX_KEYS[0],
        on=PhysicalIndex.global_(INDEX_KEYS[1], Projection.keys_only()),
        sort=("datetime_field",),
    ),
)


class OursRunner:
    def __init__(self, repo: SyncDynamoRepository[Example], workload: Workload) -> None:
        self.repo = repo
        self.workload = workload
        self.expected = make_examples(workload.n, workload.seed)
        pid = list(PARTITION_IDS)
        self.contents = [
            PartitionedContent[Example](partition_ids=pid, content_ids=content_ids(i), item=item)
            for i, item in enumerate(self.expected)
        ]
        self.get_batch_ids: list[tuple[Sequence[str] | None, Sequence[str] | None]] = [
            (pid, content_ids(i)) for i in workload.get_batch_indices()
        ]
        self.get_ids = [content_ids(i) for i in workload.get_indices()]
        self.updates = [(content_ids(i), value) for i, value in workload.update_values()]
        self.listed: list[PartitionedContent[Example]] = []
        self.updated: list[PartitionedContent[Example]] = []
        self.indexed: dict[str, list[PartitionedContent[Example]]] = {}
        # write_once: the same inputs, then every 10th with int_field changed.
        self.write_once = SyncWriteOnceRepository[Example](repo)
        changed = dict(workload.changed_values())
        self.changed_contents = [
            content.model_copy(
                update={"item": content.item.model_copy(update={"int_field": changed[i]})}
            )
            if i in changed
            else content
            for i, content in enumerate(self.contents)
        ]
        self.written: dict[str, list[PartitionedContent[Example]]] = {}

    def run(self, op: str) -> int:
        count: int = getattr(self, f"op_{op}")()
        return count

    def op_put_batch(self) -> int:
        self.repo.put_batch(self.contents)
        return len(self.contents)

    def op_list(self) -> int:
        self.listed = [
            content
            for response in self.repo.list(list(PARTITION_IDS), None)
            for content in response.contents
        ]
        return len(self.listed)

    def _query_index(self, name: str) -> int:
        self.indexed[name] = [
            content for response in self.repo.query_index(name) for content in response.contents
        ]
        return len(self.indexed[name])

    def op_index_all(self) -> int:
        return self._query_index(INDEX_ALL[0])

    def op_index_keys(self) -> int:
        return self._query_index(INDEX_KEYS[0])

    def op_get_batch(self) -> int:
        found = [
            content
            for response in self.repo.get_batch(self.get_batch_ids)
            for content in response.contents
        ]
        return len(found)

    def op_get(self) -> int:
        found = 0
        for cid in self.get_ids:
            content = self.repo.get(list(PARTITION_IDS), cid).content
            found += content is not None and content.item is not None
        return found

    def op_update(self) -> int:
        self.updated = [
            self.repo.update(
                list(PARTITION_IDS), cid, UpdateCommand(set_commands={"int_field": value})
            )
            for cid, value in self.updates
        ]
        return len(self.updated)

    def _write_once(self, op: str, contents: list[PartitionedContent[Example]]) -> int:
        self.written[op] = self.write_once.write(contents)
        return len(self.written[op])

    def op_all_new(self) -> int:
        return self._write_once("all_new", self.contents)

    def op_all_repeated(self) -> int:
        return self._write_once("all_repeated", self.contents)

    def op_changed_10pct(self) -> int:
        return self._write_once("changed_10pct", self.changed_contents)

    def write_once_checks(self) -> dict[str, Any]:
        """After the timed ops: what each call reported, and what the table holds."""
        stored = [
            content
            for response in self.repo.list(list(PARTITION_IDS), None)
            for content in response.contents
        ]
        return write_once_checks(
            self.workload, self.written, self.contents, self.changed_contents, stored
        )

    def checks(self) -> dict[str, Any]:
        wanted = {tuple(cid): value for cid, value in self.updates}
        checks = {
            **list_checks(self.workload, self.listed, self.expected),
            "update_returns_new_state": all(
                wanted.get(tuple(c.content_ids)) == c.item.int_field and c.current_version == 2
                for c in self.updated
            ),
        }
        for name, found in self.indexed.items():
            checks[f"{name}_items_equal"] = (
                list_checks(self.workload, found, self.expected)["list_items_equal"]
                and len(found) == self.workload.n
            )
        return checks

    def prepare_units(self) -> None:
        """The ``units`` set's repositories (an actor's and its reviews', on this repository's
        client), their collection and their contents, built before the clock starts."""
        shared = cast_settings(self.repo.core, self.repo.client)
        actor_type, review_type = COLLECTION_TYPES
        self.actors = SyncDynamoRepository[Actor](
            item_class=Actor, content_type=actor_type, **shared
        )
        self.reviews = SyncDynamoRepository[Review](
            item_class=Review, content_type=review_type, **shared
        )
        self.cast = Collection(repos={actor_type: self.actors, review_type: self.reviews})
        self.actor_contents, self.review_contents = cast_contents(self.workload.seed)
        self.transactions = [[self.contents[i] for i in t] for t in self.workload.transactions()]
        self.cast_read: list[PartitionedContent[Any]] = []
        self.counts: list[int] = []

    def op_transact_put_10(self) -> int:
        for contents in self.transactions:
            with self.repo.transaction() as tx:
                for content in contents:
                    tx.put(self.repo, content)
        return sum(map(len, self.transactions))

    def op_collection_put(self) -> int:
        self.actors.put_batch(self.actor_contents)
        self.reviews.put_batch(self.review_contents)
        return len(self.actor_contents) + len(self.review_contents)

    def op_collection_read(self) -> int:
        self.cast_read = [
            content
            for page in self.cast.read(list(COLLECTION_IDS))
            for contents in page.contents.values()
            for content in contents
        ]
        return len(self.cast_read)

    def op_count(self) -> int:
        self.counts = [self.reviews.count(list(COLLECTION_IDS)) for _ in range(COUNTS)]
        return sum(self.counts)

    def units_checks(self) -> dict[str, Any]:
        """After the ``units`` set (untimed): what the transactions stored, and whether the
        collection read decoded each item into its own model, equal to what was written."""
        transacted = self.repo.count(list(PARTITION_IDS))
        written = self.actor_contents + self.review_contents
        return cast_checks(self.workload, transacted, self.cast_read, written, self.counts)


def _repo_client(repo: SyncDynamoRepository[Example]) -> Any:
    """The client the repository uses (built lazily in the ``own`` variant)."""
    for name in ("client", "_client"):
        client = getattr(repo, name, None)
        if client is not None and hasattr(client, "meta"):
            return client
    raise RuntimeError("cannot find the repository's boto3 client to count its requests")


def main(argv: Sequence[str] | None = None) -> None:
    args = harness.parse_args(argv, VARIANTS)
    workload = harness.workload_from(args)
    counter = harness.RequestCounter()
    kwargs: dict[str, Any] = {}
    if args.variant == "client":
        client = boto3.client("dynamodb", endpoint_url=args.endpoint)
        client.meta.events.register("before-send.dynamodb", counter)
        kwargs["client"] = client
    elif os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") != args.endpoint:
        raise SystemExit("variant 'own' needs AWS_ENDPOINT_URL_DYNAMODB set to --endpoint")
    repo = SyncDynamoRepository[Example](
        item_class=Example,
        partition_prefix=PARTITION_PREFIX,
        partition_name=PARTITION_NAME,
        content_type=CONTENT_TYPE,
        table_name=args.table,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        indexes=INDEXES if args.op_set == "index" else (),
        **kwargs,
    )
    capacity = harness.CapacityMeter() if harness.wants_capacity(args) else None
    with repo:
        runner = OursRunner(repo, workload)
        repo.get(list(PARTITION_IDS), ["warm-up"])  # connection, endpoint, loaders
        client = _repo_client(repo)
        if args.variant == "own":
            client.meta.events.register("before-send.dynamodb", counter)
        if capacity is not None:
            capacity.register(client)
        if args.op_set == "units":
            runner.prepare_units()
        ops = OP_SETS[args.op_set]
        results = harness.measure(ops, runner.run, counter, args.profile, capacity)
        checks = {
            "write_once": runner.write_once_checks,
            "units": runner.units_checks,
        }.get(args.op_set, runner.checks)()
    harness.emit(
        "pydantic-dynamo (ours)",
        args.variant,
        results,
        versions={
            name: version(name) for name in ("pydantic-dynamo", "pydantic", "boto3", "botocore")
        },
        checks=checks,
        client=repo.client,
    )


if __name__ == "__main__":
    main()

"""Run the workloads on one DynamoDB Local for every library, side by side, and report medians.

    python -m benchmarks.run [--n 2000] [--runs 5] [--op-sets crud,write_once,index,units]
        [--libs floor,ours-own,...] [--write-docs]

One DynamoDB Local (in memory) serves every run. Each run of each library and operation set is a
fresh process on a fresh table; runs are interleaved (crud: ours, ours with its own client,
floor, 0.4.2; write_once: ours with its own client, 0.4.2; then crud again...) so that machine
noise spreads over all of them. Discarded first runs (a floor crud run, an ours write-once run)
warm the server's JIT. Per operation it reports the medians over runs of wall time,
client-process CPU time and HTTP requests, and CPU ratios against the raw boto3 floor and
against pydantic-dynamo 0.4.2; the write-once set also reports the contents each library
reported as written and the read and write units DynamoDB Local said it consumed; ``index``
reads two global indexes; ``units`` times transactions of 10 puts, a collection read (an actor
and its reviews) and counts, against PynamoDB and pydynox. Issue 15's targets (below every peer,
at most 0.25x raw boto3, ``list`` at most 15 µs of CPU per item) are marked met or missed from
the run's figures. Then the codec micro-benchmark runs (``benchmarks.codec_bench``).
``--write-docs`` rewrites ``docs/benchmarks.md``, keeping the sections between markers that it
does not write (the schema-compiled codec's notes, the request-path, memory and service
benchmarks').
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks import (
    codec_bench,
    memory_bench,
    request_path,
    service_bench,
    venv042,
    venv_peers,
)
from benchmarks.admin import admin_client
from benchmarks.harness import RESULT_PREFIX, CapacityMeter
from benchmarks.workload import (
    COUNTS,
    INDEX_ALL,
    INDEX_KEYS,
    OP_SETS,
    PARTITION_KEY,
    REVIEWS,
    SORT_KEY,
    TRANSACTION_SIZE,
    Workload,
)
from local_stack.dynamodb_local import (
    create_records_table,
    find_jar,
    start_dynamodb_local,
)
from pydantic_dynamo.table import PhysicalIndex, Projection, TableDescription, create_table

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
LIBRARY_SOURCE = ROOT / "shared" / "pydantic_dynamo"
RUN_TIMEOUT_S = 600
MODEL_CODEC_MARKERS = ("<!-- model-codec:start -->", "<!-- model-codec:end -->")
FLOOR = "floor"
FLOOR_NV = "floor-nv"
OLD = "0.4.2"
OURS_OWN = "ours-own"
OURS_ASYNC = "ours-async"
FLOOR_ASYNC = "floor-async"
AIODYNAMO_HTTPX = "aiodynamo-httpx"
CRUD = "crud"
WRITE_ONCE = "write_once"
INDEX = "index"
UNITS = "units"
PYNAMODB = "pynamodb"
# The ``index`` set's table: the keys, and its two global indexes (every attribute; keys only).
INDEX_TABLE = TableDescription(
    PARTITION_KEY,
    SORT_KEY,
    ttl_attribute=None,
    indexes=(
        PhysicalIndex.global_(INDEX_ALL[1]),
        PhysicalIndex.global_(INDEX_KEYS[1], Projection.keys_only()),
    ),
)
# Operations the targets apply to; the codec targets are separate.
TARGET_OPS = ("put_batch", "list", "get_batch")
WRITE_ONCE_LABELS = {
    "all_new": "all new",
    "all_repeated": "all repeated",
    "changed_10pct": "10% changed",
}
# results[op_set][lib key]: every run's parsed result, in run order.
Results = dict[str, dict[str, list[dict[str, Any]]]]
Summary = dict[str, dict[str, dict[str, float]]]


@dataclass(frozen=True)
class Lib:
    key: str
    label: str
    module: str
    variant: str | None = None
    old_venv: bool = False
    # Runs in the peers' venv (benchmarks/venv_peers.py): pydynox, aiodynamo.
    peers_venv: bool = False
    # Operation sets (workload.OP_SETS) the runner implements: a new set lists its libraries.
    op_sets: tuple[str, ...] = ("crud",)


LIBS: tuple[Lib, ...] = (
    Lib("ours", "ours (client=)", "benchmarks.runner_ours", "client", op_sets=(CRUD, UNITS)),
    Lib(
        OURS_OWN,
        "ours (own client)",
        "benchmarks.runner_ours",
        "own",
        op_sets=(CRUD, WRITE_ONCE, INDEX, UNITS),
    ),
    Lib(FLOOR, "raw boto3 (floor)", "benchmarks.runner_floor", op_sets=(CRUD, INDEX, UNITS)),
    Lib(FLOOR_NV, "raw boto3, no param validation", "benchmarks.runner_floor", "novalidate"),
    Lib(
        OLD,
        "pydantic-dynamo 0.4.2",
        "benchmarks.runner_042",
        old_venv=True,
        op_sets=(CRUD, WRITE_ONCE),
    ),
    Lib(
        "pydynox",
        "pydynox (Rust core)",
        "benchmarks.runner_pydynox",
        peers_venv=True,
        op_sets=(CRUD, INDEX, UNITS),
    ),
    Lib(
        PYNAMODB,
        "PynamoDB",
        "benchmarks.runner_pynamodb",
        peers_venv=True,
        op_sets=(CRUD, INDEX, UNITS),
    ),
    Lib(
        "aiodynamo",
        "aiodynamo (aiohttp)",
        "benchmarks.runner_aiodynamo",
        "aiohttp",
        peers_venv=True,
    ),
    Lib(
        AIODYNAMO_HTTPX,
        "aiodynamo (httpx)",
        "benchmarks.runner_aiodynamo",
        "httpx",
        peers_venv=True,
    ),
    Lib(FLOOR_ASYNC, "raw aioboto3 (async floor)", "benchmarks.runner_floor_async"),
    # The async repository on each transport (benchmarks/runner_ours_async.py).
    Lib(
        OURS_ASYNC,
        "ours async (own lean client)",
        "benchmarks.runner_ours_async",
        "own",
        op_sets=(CRUD, UNITS),
    ),
    Lib(
        "ours-async-042",
        "ours async (0.4.2 construction: lean)",
        "benchmarks.runner_ours_async",
        "resource",
    ),
    Lib(
        "ours-async-aioboto3",
        "ours async on aioboto3",
        "benchmarks.runner_ours_async",
        "aioboto3",
    ),
)


def _lib(key: str) -> Lib:
    return next(lib for lib in LIBS if lib.key == key)


def _python_for_docs() -> str:
    """The interpreter as a user would type it: relative to the repository when inside it."""
    executable = Path(sys.executable)
    try:
        return str(Path(os.path.abspath(executable)).relative_to(ROOT))
    except ValueError:
        return "python"


def _env(endpoint: str, lib: Lib) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("PYTHONPATH", "PYTHONSTARTUP")
    }
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # DynamoDB Local takes any credentials
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONHASHSEED="0",  # same set order in every process
        PYTHONDONTWRITEBYTECODE="1",
    )
    if lib.variant == "own":
        env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return env


def run_once(
    lib: Lib,
    python: Path,
    endpoint: str,
    admin: Any,
    args: argparse.Namespace,
    op_set: str,
    tag: str,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """One fresh process of ``lib`` running ``op_set`` on a fresh table; its parsed result."""
    table = f"bench-{lib.key.replace('.', '')}-{op_set}-{tag}-{uuid.uuid4().hex[:8]}"
    if op_set == INDEX:
        create_table(admin, table, INDEX_TABLE)
    else:
        create_records_table(admin, table, PARTITION_KEY, SORT_KEY, ttl_attribute=None)
    command = [
        str(python),
        "-m",
        lib.module,
        "--endpoint",
        endpoint,
        "--table",
        table,
        "--n",
        str(args.n),
        "--seed",
        str(args.seed),
        "--op-set",
        op_set,
    ]
    if lib.variant:
        command += ["--variant", lib.variant]
    command += extra or []
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=_env(endpoint, lib),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    finally:
        admin.delete_table(TableName=table)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{lib.label} {op_set} run {tag} failed (exit {done.returncode}):\n"
            f"{done.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    return result


def _check(result: dict[str, Any], workload: Workload, lib: Lib, tag: str) -> list[str]:
    problems = [
        f"{lib.label} run {tag}: check {name} failed"
        for name, ok in result["checks"].items()
        if not ok
    ]
    for op, data in result["ops"].items():
        if data["items"] != workload.expected_items(op):
            verb = "reported as written" if op in OP_SETS[WRITE_ONCE] else "touched"
            problems.append(
                f"{lib.label} run {tag}: {op} {verb} {data['items']} items, "
                f"expected {workload.expected_items(op)}"
            )
        if data.get("metered"):
            # The capacity hooks must see one response per HTTP request (no retries here), and
            # each response must carry ConsumedCapacity, or the units are undercounted.
            if data["metered_responses"] != data["requests"]:
                problems.append(
                    f"{lib.label} run {tag}: {op}: the capacity hooks saw "
                    f"{data['metered_responses']} responses for {data['requests']} requests"
                )
            if unmetered := sum(data["unmetered_responses"].values()):
                problems.append(
                    f"{lib.label} run {tag}: {op}: {unmetered} responses carried no "
                    "ConsumedCapacity (their units are not counted)"
                )
    return problems


def medians(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for op in results[0]["ops"]:
        runs = [r["ops"][op] for r in results]
        out[op] = {
            "wall_ms": statistics.median(r["wall_s"] for r in runs) * 1e3,
            "cpu_ms": statistics.median(r["cpu_s"] for r in runs) * 1e3,
            "cpu_ms_min": min(r["cpu_s"] for r in runs) * 1e3,
            "cpu_ms_max": max(r["cpu_s"] for r in runs) * 1e3,
            "requests": statistics.median(r["requests"] for r in runs),
            "items": statistics.median(r["items"] for r in runs),
        }
        if all(r.get("metered") for r in runs):
            for unit in ("read_units", "write_units"):
                out[op][unit] = statistics.median(r[unit] for r in runs)
                out[op][f"{unit}_min"] = min(r[unit] for r in runs)
                out[op][f"{unit}_max"] = max(r[unit] for r in runs)
    return out


def _ratio(value: float, reference: dict[str, float] | None, column: str) -> str:
    if reference is None or reference[column] <= 0:
        return "-"
    return f"{value / reference[column]:.2f}x"


def format_table(
    libs: list[Lib], summary: dict[str, dict[str, dict[str, float]]], ops: tuple[str, ...]
) -> str:
    lines = [
        "| op | lib | wall ms | CPU ms (min-max) | requests | CPU x floor | CPU x 0.4.2 "
        "| wall x floor |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op in ops:
        floor = summary.get(FLOOR, {}).get(op)
        old = summary.get(OLD, {}).get(op)
        for lib in libs:
            if op not in summary[lib.key]:
                continue
            m = summary[lib.key][op]
            lines.append(
                f"| {op} | {lib.label} | {m['wall_ms']:.0f} | {m['cpu_ms']:.0f} "
                f"({m['cpu_ms_min']:.0f}-{m['cpu_ms_max']:.0f}) | {m['requests']:g} "
                f"| {_ratio(m['cpu_ms'], floor, 'cpu_ms')} "
                f"| {_ratio(m['cpu_ms'], old, 'cpu_ms')} "
                f"| {_ratio(m['wall_ms'], floor, 'wall_ms')} |"
            )
    return "\n".join(lines)


def format_index(libs: list[Lib], summary: Summary, workload: Workload) -> str:
    """The ``index`` set: client CPU per item of each read, and index queries against list."""
    lines = [
        "| lib | list µs/item | index (all) µs/item | index (keys only + BatchGet) µs/item "
        "| requests list / all / keys | all x list | keys x list | all x floor | keys x floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    floor = summary.get(FLOOR, {})
    for lib in libs:
        m = summary[lib.key]
        per_item = {
            op: m[op]["cpu_ms"] * 1e3 / workload.n for op in ("list", "index_all", "index_keys")
        }
        requests = " / ".join(
            f"{m[op]['requests']:g}" for op in ("list", "index_all", "index_keys")
        )
        lines.append(
            f"| {lib.label} | {per_item['list']:.1f} | {per_item['index_all']:.1f} "
            f"| {per_item['index_keys']:.1f} | {requests} "
            f"| {_ratio(m['index_all']['cpu_ms'], m['list'], 'cpu_ms')} "
            f"| {_ratio(m['index_keys']['cpu_ms'], m['list'], 'cpu_ms')} "
            f"| {_ratio(m['index_all']['cpu_ms'], floor.get('index_all'), 'cpu_ms')} "
            f"| {_ratio(m['index_keys']['cpu_ms'], floor.get('index_keys'), 'cpu_ms')} |"
        )
    return "\n".join(lines)


def _units_per(op: str, workload: Workload) -> tuple[str, int]:
    """What one unit of a ``units`` op is, and how many the op makes."""
    if op == "transact_put_10":
        return "transaction", len(workload.transactions())
    if op == "count":
        return "count", COUNTS
    return "item", workload.expected_items(op)


def format_units_set(libs: list[Lib], summary: Summary, workload: Workload) -> str:
    """The ``units`` set: per op and library, medians, CPU per transaction / item / count, and
    CPU ratios against the floor and each peer that ran."""
    peers = [key for key in (PYNAMODB, "pydynox") if key in summary]
    lines = [
        "| op | lib | wall ms | CPU ms (min-max) | CPU µs per | requests | CPU x floor "
        + "".join(f"| CPU x {_lib(key).label} " for key in peers)
        + "|",
        "|---|---|---:|---:|---:|---:|---:" + "|---:" * len(peers) + "|",
    ]
    for op in OP_SETS[UNITS]:
        unit, units = _units_per(op, workload)
        for lib in libs:
            m = summary[lib.key].get(op)
            if m is None:
                continue
            ratios = "".join(
                f"| {_ratio(m['cpu_ms'], summary[key].get(op), 'cpu_ms')} " for key in peers
            )
            lines.append(
                f"| {op} | {lib.label} | {m['wall_ms']:.0f} | {m['cpu_ms']:.1f} "
                f"({m['cpu_ms_min']:.1f}-{m['cpu_ms_max']:.1f}) "
                f"| {m['cpu_ms'] * 1e3 / units:.0f} per {unit} | {m['requests']:g} "
                f"| {_ratio(m['cpu_ms'], summary.get(FLOOR, {}).get(op), 'cpu_ms')} {ratios}|"
            )
    return "\n".join(lines)


def format_targets(
    summary: dict[str, dict[str, dict[str, float]]],
    workload: Workload,
    codec: dict[str, Any] | None,
) -> str:
    lines = ["| target | lib | measured | |", "|---|---|---:|---|"]
    for key, label in (("ours", "ours (client=)"), ("ours-own", "ours (own client)")):
        if key not in summary:
            continue
        for op in TARGET_OPS:
            m = summary[key].get(op)
            if m is None:
                continue
            if FLOOR in summary:
                r = m["cpu_ms"] / summary[FLOOR][op]["cpu_ms"]
                lines.append(f"| {op}: CPU ≤ 1.0x floor | {label} | {r:.2f}x | {_mark(r <= 1.0)} |")
            if key == "ours-own" and FLOOR_NV in summary:
                r = m["cpu_ms"] / summary[FLOOR_NV][op]["cpu_ms"]
                lines.append(
                    f"| {op}: CPU vs floor without param validation (info) | {label} | {r:.2f}x | |"
                )
            if OLD in summary:
                r = m["cpu_ms"] / summary[OLD][op]["cpu_ms"]
                lines.append(f"| {op}: CPU ≤ 0.5x 0.4.2 | {label} | {r:.2f}x | {_mark(r <= 0.5)} |")
        expected = {
            "put_batch": math.ceil(workload.n / 25),
            "get_batch": math.ceil(workload.expected_items("get_batch") / 100),
        }
        for op, want in expected.items():
            if op in summary[key]:
                got = summary[key][op]["requests"]
                lines.append(
                    f"| {op}: requests = {want} | {label} | {got:g} | {_mark(got == want)} |"
                )
    if codec:
        ratios = codec["ratios"]
        for name, text in (
            ("encode_vs_float_safe", "codec encode ≤ 0.5x model_dump + TypeSerializer"),
            ("decode", "codec decode ≤ 0.5x TypeDeserializer + model_validate"),
        ):
            lines.append(f"| {text} | ours | {ratios[name]:.2f}x | {_mark(ratios[name] <= 0.5)} |")
    peers = format_peer_targets(summary, OP_SETS[CRUD], workload)
    return "\n".join(lines) + f"\n\nIssue 15's targets ({RAW_TEXT}):\n\n" + peers


# Issue 15's targets, op by op, for ours sync and ours async (each with its own client): CPU
# below every peer that ran, at most RAW_RATIO of the raw floor's (raw boto3 for the sync rows;
# for the async rows raw aioboto3, the async floor, where it ran the op, else raw boto3), and
# ``list`` at most LIST_US_PER_ITEM µs of CPU per item.
TARGET_LIBS = (OURS_OWN, OURS_ASYNC)
PEERS = (PYNAMODB, "pydynox", "aiodynamo", AIODYNAMO_HTTPX)
RAW_RATIO = 0.25
LIST_US_PER_ITEM = 15.0
RAW_TEXT = "raw: raw boto3 for the sync rows, raw aioboto3 for the async rows where it ran"


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def format_peer_targets(summary: Summary, ops: tuple[str, ...], workload: Workload) -> str:
    """Issue 15's targets on ``ops``: each ours library against the raw floors and every peer
    that ran the op, then the ``list`` per-item target."""
    peers = [key for key in PEERS if key in summary]
    async_floor = summary.get(FLOOR_ASYNC, {})
    lines = [
        "| op | lib | CPU ms | x raw boto3 | x raw aioboto3 | "
        f"≤ {RAW_RATIO}x raw "
        + "".join(f"| x {_lib(key).label} " for key in peers)
        + "| below every peer |",
        "|---|---|---:|---:|---:|---|" + "---:|" * len(peers) + "---|",
    ]
    per_item = []
    for op in ops:
        for key in TARGET_LIBS:
            m = summary.get(key, {}).get(op)
            if m is None:
                continue
            sync_raw, async_raw = summary.get(FLOOR, {}).get(op), async_floor.get(op)
            raw = async_raw if key == OURS_ASYNC and async_raw is not None else sync_raw
            raw_cell = "-" if raw is None else _mark(m["cpu_ms"] <= RAW_RATIO * raw["cpu_ms"])
            theirs = [summary[peer].get(op) for peer in peers]
            ran = [t for t in theirs if t is not None]
            below = _mark(all(m["cpu_ms"] < t["cpu_ms"] for t in ran)) if ran else "-"
            lines.append(
                f"| {op} | {_lib(key).label} | {m['cpu_ms']:.1f} "
                f"| {_ratio(m['cpu_ms'], sync_raw, 'cpu_ms')} "
                f"| {_ratio(m['cpu_ms'], async_raw, 'cpu_ms')} | {raw_cell} "
                + "".join(f"| {_ratio(m['cpu_ms'], t, 'cpu_ms')} " for t in theirs)
                + f"| {below} |"
            )
            if op == "list":
                us = m["cpu_ms"] * 1e3 / workload.expected_items(op)
                per_item.append(
                    f"- list, {_lib(key).label}: {us:.1f} µs of CPU per item "
                    f"(≤ {LIST_US_PER_ITEM:g} µs: {_mark(us <= LIST_US_PER_ITEM)})"
                )
    return "\n".join([*lines, "", *per_item] if per_item else lines)


def _by_operation(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in sorted(counts.items())) or "none"


def _seen(runs: list[dict[str, Any]], op: str, field: str) -> str:
    """The distinct per-operation breakdowns of ``field`` over the runs, joined by " / "."""
    return " / ".join(sorted({_by_operation(r["ops"][op][field]) for r in runs}))


def format_requests(results: dict[str, list[dict[str, Any]]], libs: list[Lib]) -> str:
    lines = []
    for lib in libs:
        runs = results[lib.key]
        per_op = "; ".join(
            f"{op}: {_seen(runs, op, 'requests_by_operation')}" for op in runs[0]["ops"]
        )
        lines.append(f"- {lib.label}: {per_op}")
    return "\n".join(lines)


def _spread(m: dict[str, float], name: str) -> str:
    low, high = m[f"{name}_min"], m[f"{name}_max"]
    text = f"{m[name]:g}"
    return text if low == high else f"{text} ({low:g}-{high:g})"


def format_write_once(
    libs: list[Lib],
    summary: dict[str, dict[str, dict[str, float]]],
    results: dict[str, list[dict[str, Any]]],
) -> str:
    """The write-once table: per scenario and library, medians over runs; requests by
    operation as seen in every run (runs that differ are joined by " / ")."""
    lines = [
        "| scenario | lib | written | wall ms | CPU ms (min-max) | requests | requests by "
        "operation | read units | write units | CPU x 0.4.2 | wall x 0.4.2 |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for op in OP_SETS[WRITE_ONCE]:
        old = summary.get(OLD, {}).get(op)
        for lib in libs:
            if op not in summary.get(lib.key, {}):
                continue
            m = summary[lib.key][op]
            written = " / ".join(
                sorted({f"{r['ops'][op]['items']}" for r in results[lib.key]}, key=int)
            )
            lines.append(
                f"| {WRITE_ONCE_LABELS[op]} | {lib.label} | {written} | {m['wall_ms']:.0f} "
                f"| {m['cpu_ms']:.0f} ({m['cpu_ms_min']:.0f}-{m['cpu_ms_max']:.0f}) "
                f"| {m['requests']:g} | {_seen(results[lib.key], op, 'requests_by_operation')} "
                f"| {_spread(m, 'read_units')} | {_spread(m, 'write_units')} "
                f"| {_ratio(m['cpu_ms'], old, 'cpu_ms')} | {_ratio(m['wall_ms'], old, 'wall_ms')} |"
            )
    return "\n".join(lines)


def format_units(results: dict[str, list[dict[str, Any]]], libs: list[Lib]) -> str:
    """Units per operation, and responses that carried no ConsumedCapacity, over all runs."""
    lines = []
    for lib in libs:
        runs = results[lib.key]
        units = "; ".join(
            f"{WRITE_ONCE_LABELS[op]}: {_seen(runs, op, 'units_by_operation')}"
            for op in OP_SETS[WRITE_ONCE]
        )
        unmetered = sum(
            count
            for r in runs
            for data in r["ops"].values()
            for count in data["unmetered_responses"].values()
        )
        lines.append(
            f"- {lib.label}: {units}; responses without ConsumedCapacity in all runs: {unmetered}"
        )
    return "\n".join(lines)


def probe_capacity(endpoint: str) -> dict[str, Any]:
    """What DynamoDB Local reports as consumed for a failed conditional PutItem and for a
    BatchGetItem of absent keys (the cases where its accounting may differ from AWS's)."""
    client = admin_client(endpoint)
    meter = CapacityMeter()
    meter.register(client)
    table = f"bench-probe-{uuid.uuid4().hex[:8]}"
    create_records_table(client, table, PARTITION_KEY, SORT_KEY, ttl_attribute=None)
    try:
        key = {PARTITION_KEY: {"S": "probe"}, SORT_KEY: {"S": "probe"}}
        client.put_item(TableName=table, Item=key)
        meter.reset()
        failed = False
        try:
            client.put_item(
                TableName=table,
                Item=key,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
            )
        except client.exceptions.ConditionalCheckFailedException:
            failed = True
        conditional = {
            "failed": failed,
            "reported": not meter.unmetered,
            "write_units": meter.write_units(),
        }
        meter.reset()
        absent = [
            {PARTITION_KEY: {"S": "probe"}, SORT_KEY: {"S": f"absent-{i}"}} for i in range(10)
        ]
        client.batch_get_item(RequestItems={table: {"Keys": absent}})
        return {
            "failed_conditional_put": conditional,
            "absent_keys": len(absent),
            "absent_read_units": meter.read_units(),
        }
    finally:
        client.delete_table(TableName=table)


def _java_version() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    first = (done.stderr or done.stdout).splitlines()
    return first[0] if first else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def library_state() -> dict[str, Any]:
    """What code "ours" ran: the commit, the library's uncommitted files and a digest of its
    source (taken before and after the runs, so that a change during them shows)."""
    digest = hashlib.sha256()
    for path in sorted(LIBRARY_SOURCE.rglob("*.py")):
        digest.update(str(path.relative_to(LIBRARY_SOURCE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.rstrip() if done.returncode == 0 else "unknown"

    status = git("status", "--porcelain", "--", str(LIBRARY_SOURCE.relative_to(ROOT)))
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [line[3:] for line in status.splitlines()] if status != "unknown" else [],
        "digest": digest.hexdigest()[:12],
    }


def _library_text(before: dict[str, Any], after: dict[str, Any]) -> str:
    text = f"- library source: commit {before['commit']}"
    if before["uncommitted"]:
        text += " plus uncommitted changes in " + ", ".join(
            f"`{path}`" for path in before["uncommitted"]
        )
    text += f"; source digest {before['digest']}"
    if after != before:
        return text + f", **changed during the runs** (digest {after['digest']} after)"
    return text + ", the same before and after the runs"


def _first_runs(results: Results) -> dict[str, dict[str, Any]]:
    """Each library's first result, whichever operation set it ran."""
    first: dict[str, dict[str, Any]] = {}
    for by_lib in results.values():
        for key, runs in by_lib.items():
            if runs:
                first.setdefault(key, runs[0])
    return first


def machine(results: Results) -> list[str]:
    first = _first_runs(results)
    versions: dict[str, str] = {}
    for result in first.values():
        for key, value in result["versions"].items():
            versions.setdefault(key, value)
    old = first.get(OLD, {}).get("versions", {})
    clients = [
        f"- client of {lib.label}: {first[lib.key].get('client') or 'unknown'}"
        for lib in LIBS
        if lib.key in first
    ]
    return [
        f"- CPU: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}; the server and the client share them",
        f"- Python {platform.python_version()}; DynamoDB Local {find_jar().parent.name} "
        f"(in memory) on {_java_version()}",
        "- ours: "
        + ", ".join(
            f"{k} {versions[k]}"
            for k in ("pydantic-dynamo", "pydantic", "boto3", "botocore")
            if k in versions
        ),
        "- 0.4.2 venv: " + ", ".join(f"{k} {v}" for k, v in old.items()),
        *clients,
    ]


def _load_text(loads: dict[str, Any]) -> str:
    samples: list[float] = loads["samples"]
    text = f"load average (1 min) {loads['before']:.1f} before and {loads['after']:.1f} after"
    if samples:
        text += (
            f", {min(samples):.1f}-{max(samples):.1f} (median {statistics.median(samples):.1f})"
            " sampled after each run"
        )
    return text + " (other work shares the machine)"


# The peers' description and the plot, shared by the generated page and the notes that quote it.
PEERS_TEXT = (
    "- **pydynox** (Rust core) and **aiodynamo** (asyncio, on aiohttp and on httpx), in their "
    "own venv "
    "(`benchmarks/venv_peers.py`): each one's client with plain dicts in and out "
    "(`benchmarks/peer_items.py`), converting values to AttributeValues itself, paging, "
    "batching and retrying unprocessed work; `update` asks for `ALL_NEW` (the new state, as "
    "ours returns). pydynox counts no requests (no hook): its counts are the workload's.",
    "",
    "![Client CPU per operation per library](benchmarks-cpu.png)",
    "",
    "The plot: `.bench-venv-peers/bin/python -m benchmarks.plot RESULTS.json "
    "docs/benchmarks-cpu.png`, from this run's `--json RESULTS.json`.",
)


def _crud_parts(
    libs: list[Lib],
    results: dict[str, list[dict[str, Any]]],
    summary: dict[str, dict[str, dict[str, float]]],
    codec: dict[str, Any] | None,
    workload: Workload,
) -> list[str]:
    return [
        "## Workload",
        "",
        f"N={workload.n} items of the seed's test model (a dict, a nested model, a list, a set, "
        "a date, a time, a datetime, an enum, an int, an optional int; seeded data, "
        "`benchmarks/workload.py`) in one partition, then, in order: `put_batch` of all N, "
        f"`list` of the whole partition, `get_batch` of {workload.get_batch_size} keys, "
        f"{workload.gets} single `get`s and {workload.updates} `update`s (set `int_field`; "
        "every library also bumps `_object_version`).",
        "",
        "- **ours**: `SyncDynamoRepository`, Pydantic v2 models in and out (every read "
        "materializes `.contents`/`.content`; `update` returns the new stored state). "
        "`client=` is a boto3 low-level client built by the runner; *own client* lets the "
        "repository build its own from `AWS_ENDPOINT_URL_DYNAMODB`.",
        "- **raw boto3 (floor)**: the low-level client with items serialized to AttributeValues "
        "before the clock starts and results left raw: `batch_write_item` in chunks of 25 "
        "(retrying `UnprocessedItems`), `query` pages, `batch_get_item` in chunks of 100, "
        "`get_item`, `update_item` (`SET` one attribute, `ADD` the version; no "
        "`ReturnValues`). *no param validation* is the same with "
        "`Config(parameter_validation=False)`: botocore's stock wire path without its "
        "validation pass. *raw aioboto3 (async floor)* makes the same calls, awaited, on an "
        "aioboto3 client (`benchmarks/runner_floor_async.py`).",
        "- The *client of* lines above show how each client is wired (serializer, parser "
        "factory, retry mode, or its class when it is not a botocore client): a client this "
        "library builds itself may replace parts of boto3 for data-plane calls, while a "
        "client passed with `client=` is used as given.",
        "- **0.4.2**: its v2 async `DynamoRepository` over an aioboto3 resource, as its README "
        "shows, driven by asyncio; models in and out like ours (`update` returns nothing).",
        "- **ours async**: this library's async repository (*The async repository*, below).",
        "- **PynamoDB**: its `Model` classes in and out, over botocore "
        "(`benchmarks/runner_pynamodb.py`: instances built before the clock; `batch_write`, "
        "`query`, `batch_get`, `get`, and `update` with its actions, the instance refreshed).",
        *PEERS_TEXT,
        "",
        "Each run of each library is a fresh process on a fresh table; runs interleave across "
        "libraries and a discarded first run warms the server. Inputs (models, keys, the "
        "floor's AttributeValues) are built before the clock starts, and a warm-up request "
        "opens the connection. *wall* is `time.perf_counter()` around the operation (it "
        "includes DynamoDB Local's own time on the same cores); *CPU* is "
        "`time.process_time()` of the client process (all its threads) around the operation "
        "only; *requests* counts `before-send` events (botocore's, or the same event fired by "
        "this library's own client: each HTTP attempt, retries included). Ratios divide "
        "medians. These runs do not ask for consumed capacity: each library sends exactly its "
        "own requests.",
        "",
        "## Results",
        "",
        format_table(libs, summary, OP_SETS[CRUD]),
        "",
        "Requests seen per operation (all runs):",
        "",
        format_requests(results, libs),
        "",
        *_async_parts(summary),
        "## Targets",
        "",
        format_targets(summary, workload, codec),
        "",
    ]


# What the async rows of the crud table are compared with, in the async section.
ASYNC_REFERENCES = (
    "ours-async-042",
    "ours-async-aioboto3",
    OURS_OWN,
    "aiodynamo",
    AIODYNAMO_HTTPX,
    FLOOR_ASYNC,
    FLOOR,
    OLD,
)


def _async_parts(summary: Summary) -> list[str]:
    """The async repository's rows of the crud table, explained, and its CPU against the other
    async rows, the sync repository and the async peers."""
    own = summary.get(OURS_ASYNC)
    if own is None:
        return []
    refs = [key for key in ASYNC_REFERENCES if key in summary]
    lines = [
        f"| op | {_lib(OURS_ASYNC).label}: CPU ms "
        + "".join(f"| ÷ {_lib(key).label} " for key in refs)
        + "|",
        "|---|---:" + "|---:" * len(refs) + "|",
    ]
    for op in OP_SETS[CRUD]:
        if op in own:
            ratios = "".join(
                f"| {_ratio(own[op]['cpu_ms'], summary[key].get(op), 'cpu_ms')} " for key in refs
            )
            lines.append(f"| {op} | {own[op]['cpu_ms']:.0f} {ratios}|")
    return [
        "## The async repository",
        "",
        "The *ours async* rows of the results above are `DynamoRepository`, driven by asyncio "
        "(`benchmarks/runner_ours_async.py`: the calls of 0.4.2's runner, awaited, every read "
        "materializing its models). *own lean client*: built with nothing passed (an "
        "`AsyncLeanClient` from `AWS_ENDPOINT_URL_DYNAMODB`); *0.4.2 construction*: built from "
        "an aioboto3 resource and its table, as 0.4.2's README does (the repository reaches the "
        "resource's endpoint through `AsyncLeanClient`); *on aioboto3*: that construction with "
        "`PYDANTIC_DYNAMO_TRANSPORT=boto3`, so requests go through the resource's aiobotocore "
        "client (0.4.2's transport under this library's codec). *raw aioboto3 (async floor)*: "
        "`benchmarks/runner_floor_async.py`, the sync floor's calls awaited on an aioboto3 "
        "client, items serialized before the clock, nothing decoded. The async repository's "
        "CPU, divided by each other row's (medians of this run):",
        "",
        *lines,
        "",
    ]


def _probe_lines(probe: dict[str, Any] | None) -> list[str]:
    if probe is None:
        return []
    conditional = probe["failed_conditional_put"]
    if not conditional["failed"]:
        failed_text = "the probe's conditional PutItem did not fail (unexpected; see the code)"
    elif conditional["reported"]:
        failed_text = (
            "DynamoDB Local reported its consumed capacity: "
            f"{conditional['write_units']:g} write units"
        )
    else:
        failed_text = (
            "its error response (ConditionalCheckFailedException) carried no "
            "ConsumedCapacity, so the client cannot count it (botocore's shape for that error "
            "has only `message` and `Item`)"
        )
    return [
        "What these figures leave out (probed on the same DynamoDB Local in this run, "
        "`probe_capacity` in `benchmarks/run.py`):",
        "",
        f"- **Failed conditional writes**: for a PutItem whose condition failed, {failed_text}. "
        "Real DynamoDB charges write units for a failed conditional write. In these runs no "
        "condition fails: ours sends a conditional PutItem only for a new or changed content "
        "and nothing else writes concurrently (responses without ConsumedCapacity, above, "
        "would show any). A writer that loses a race pays for its failed PutItem, which this "
        "table cannot show.",
        f"- **Absent keys**: a BatchGetItem of {probe['absent_keys']} absent keys was reported "
        f"as {probe['absent_read_units']:g} read units; the *all new* reads, of an empty table, "
        "are counted the same way. What AWS charges for reading absent items is not measured "
        "here.",
        "- **Rounding**: BatchGetItem rounds each item up to 4 KB, while a Query rounds the "
        "total size of the items it reads (AWS's documented rules; the *all repeated* read "
        "units above follow them): for many small items in one key range, 0.4.2's Query "
        "reads them for fewer units, but it reads every stored item between the smallest and "
        "the largest input key of a partition, inputs or not, where BatchGetItem reads only "
        "the inputs.",
        "",
    ]


def _write_once_parts(
    command: str,
    libs: list[Lib],
    results: dict[str, list[dict[str, Any]]],
    summary: dict[str, dict[str, dict[str, float]]],
    workload: Workload,
    probe: dict[str, Any] | None,
) -> list[str]:
    changed = workload.expected_items("changed_10pct")
    return [
        "## Write-once",
        "",
        "`SyncWriteOnceRepository[Example](repo).write(contents)` (ours: a "
        "`SyncDynamoRepository` with its own client, built from `AWS_ENDPOINT_URL_DYNAMODB`) "
        "against 0.4.2's `WriteOnceRepository[Example](async_repo=repo)` (`pydantic_dynamo.v2."
        "write_once`, over its async repository as above), on the same inputs: the workload's "
        f"N={workload.n} items in one partition. Each run is a fresh process on a fresh table "
        "and makes three calls, in order:",
        "",
        "1. **all new**: the N inputs, on the empty table;",
        "2. **all repeated**: the same N inputs again;",
        f"3. **10% changed**: the N inputs with `int_field` changed on every 10th ({changed} "
        "inputs).",
        "",
        "*written* is how many contents the call returned as written, as seen in every run "
        f"(checked: {workload.n}, 0, {changed}; the runners also check which contents, and "
        "that the table then holds exactly the latest ones). *wall*, *CPU* and *requests* as "
        "above. *read units* and *write units*: every request of these runs carries "
        '`ReturnConsumedCapacity="TOTAL"`, added to the call\'s parameters by a botocore '
        "`before-parameter-build.dynamodb` hook (before serialization, so that botocore, "
        "aiobotocore 2.6 and this library's own client all send it), and an "
        "`after-call.dynamodb` hook sums the `ConsumedCapacity` of each parsed response (an "
        "object, or a list for batch operations): BatchGetItem and Query give read units, "
        "PutItem and BatchWriteItem write units. They are DynamoDB Local's figures, medians "
        "over runs (with the range when runs differ). `harness.CapacityMeter` is the code.",
        "",
        "```",
        command,
        "```",
        "",
        "(`--op-sets write_once --libs ours-own,0.4.2` runs this part alone.)",
        "",
        format_write_once(libs, summary, results),
        "",
        "Units per request operation (all runs):",
        "",
        format_units(results, libs),
        "",
        *_probe_lines(probe),
    ]


def _index_parts(
    libs: list[Lib],
    results: dict[str, list[dict[str, Any]]],
    summary: Summary,
    workload: Workload,
) -> list[str]:
    return [
        "## Index queries",
        "",
        f"The same {workload.n} items (each library writing its own, with the index key "
        "attributes), listed from the table, then read back from two global indexes composed "
        'alike (`Index(partition=(), sort=("datetime_field",))`): `gsi1` projects every '
        "attribute; `gsi2` only the keys, so the full items then come from BatchGetItem. "
        "Models are materialized by ours and PynamoDB (its `Model`s); pydynox and the floor "
        "return dicts. Client CPU per item, medians; pydynox pages by itself and tells no page "
        "count, so its Query requests are not counted.",
        "",
        format_index(libs, summary, workload),
        "",
        format_requests(results, libs),
        "",
    ]


def _units_parts(
    libs: list[Lib],
    results: dict[str, list[dict[str, Any]]],
    summary: Summary,
    workload: Workload,
) -> list[str]:
    transactions = len(workload.transactions())
    return [
        "## Transactions, a collection read and counts",
        "",
        f"Each run, on a fresh table: `transact_put_10`, {transactions} transactions of "
        f"{TRANSACTION_SIZE} puts each (the workload's first items, distinct keys, one "
        f"TransactWriteItems each); `collection_put`, one partition holding an actor and "
        f"{REVIEWS} of its reviews (two content types, seeded data, the seed README's "
        "`FilmActor` and `ActorReview`: `benchmarks/models.py`), written with batch writes; "
        f"`collection_read`, that partition read whole, each item decoded into its own type; "
        f"`count`, the reviews counted {COUNTS} times (one Select=COUNT request each). Every "
        "runner checks, after the timing, that the transactions stored every item, that the "
        "read answered 1 actor and "
        f"{REVIEWS} reviews (of their own models where the library has models) and that every "
        "count answered "
        f"{REVIEWS}.",
        "",
        "- **ours**: `with repo.transaction() as tx: tx.put(repo, content)` (each put carries "
        "the library's write token and condition, as `repo.put` does); "
        '`Collection(repos={"cast-actor": actors, "cast-review": reviews}).read(["a1"])`, '
        "every page's `contents` (each item decoded into `Actor` or `Review` by its sort-key "
        'prefix); `reviews.count(["a1"])` (a Query with Select=COUNT and the library\'s '
        "live-items filter). *ours async*: the same calls on the async repository, awaited "
        "(`async with repo.transaction()`, `AsyncCollection`).",
        "- **raw boto3 (floor)**: `transact_write_items` of 10 `Put` of items serialized before "
        'the clock; `query` of the partition, items left raw; `query(Select="COUNT")` with '
        "the reviews' sort-key prefix.",
        "- **PynamoDB**: `TransactWrite` with 10 `save` of its `Model` instances; the "
        "collection the way PynamoDB models one partition of two item types: a base `Model` "
        "with a `DiscriminatorAttribute` and a subclass per type, one `query` of the base model "
        "answering each item as its subclass; `ReviewModel.count(partition, "
        "sort.startswith(...))` (a Query with Select=COUNT; PynamoDB adds a filter on the "
        "discriminator).",
        "- **pydynox**: `SyncTransaction` with 10 `put` of dicts; `sync_query` of the "
        "partition (dicts); `sync_count`, which is a Scan with Select=COUNT and a filter "
        "(pydynox has no Query count: it reads the whole table, here the transactions' and the "
        "collection's items). Its requests are the workload's, its Query pages uncounted.",
        "",
        format_units_set(libs, summary, workload),
        "",
        format_requests(results, libs),
        "",
        f"Issue 15's targets on these operations ({RAW_TEXT}):",
        "",
        format_peer_targets(summary, OP_SETS[UNITS], workload),
        "",
    ]


def write_docs(
    command: str,
    args: argparse.Namespace,
    plan: dict[str, list[Lib]],
    results: Results,
    summary: dict[str, Summary],
    codec: dict[str, Any] | None,
    workload: Workload,
    problems: list[str],
    loads: dict[str, Any],
    probe: dict[str, Any] | None,
    library: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m benchmarks.run --write-docs`; edit benchmarks/run.py, "
        "not this file. -->",
        "",
        "One workload on one DynamoDB Local, side by side: this library (sync and async), raw "
        "boto3 (the floor), pydantic-dynamo 0.4.2 (in its own venv, Pydantic v1) and the peer "
        "libraries; then both write-once repositories on the same inputs, index queries, and "
        "transactions, a collection read and counts. Numbers are measured, never edited; they "
        "are relative, not absolute: the machine is small and shared.",
        "",
        "Reproduce (from the repository root, after `make setup`; `make bench` runs this):",
        "",
        "```",
        command,
        "```",
        "",
        "Where the time goes: add `--profile DIR` (one extra cProfile'd run per library and "
        "operation set, a `.prof` file per operation, CPU-time clock; `python -m pstats` reads "
        "them).",
        "",
        f"Measured {now}, {args.runs} run{'s' if args.runs != 1 else ''} per library and "
        "operation set, medians shown; "
        f"{_load_text(loads)}.",
        "",
        *machine(results),
        _library_text(*library),
        "",
    ]
    if CRUD in plan:
        parts += _crud_parts(plan[CRUD], results[CRUD], summary[CRUD], codec, workload)
    if WRITE_ONCE in plan:
        parts += _write_once_parts(
            command, plan[WRITE_ONCE], results[WRITE_ONCE], summary[WRITE_ONCE], workload, probe
        )
    if INDEX in plan:
        parts += _index_parts(plan[INDEX], results[INDEX], summary[INDEX], workload)
    if UNITS in plan:
        parts += _units_parts(plan[UNITS], results[UNITS], summary[UNITS], workload)
    if codec:
        parts += [
            "## Codec micro-benchmark",
            "",
            f"One model to and from its wire item (AttributeValue dicts), {codec['items']} "
            f"items, median of {codec['repeat']} interleaved `timeit` rounds of CPU time "
            "(a ratio is the median of the per-round ratios), no network "
            "(`python -m benchmarks.codec_bench`). Ours: `codec.encode_item(model.model_dump())`"
            " and `Example.model_validate(codec.decode_item(item))`. TypeSerializer refuses "
            "floats, so a generic boto3 path must turn them into Decimals: the cheapest way "
            "measured is `json.loads(model.model_dump_json(), parse_float=Decimal)`; the "
            "float-unsafe line (works here only because this data has no float) is the "
            "stricter floor. *compiled*: the schema-compiled codec, "
            "`model_codec.ModelCodec.of(Example)`: `encode(model)` and `decode_model(item)` "
            "(the next section says what it is).",
            "",
            codec_bench.format_table(codec),
            "",
        ]
    if problems:
        parts += ["## Problems seen in this run", "", *(f"- {p}" for p in problems), ""]
    # Sections the generator keeps, after its own: the schema-compiled codec's notes (its
    # figures are the codec table's compiled rows), then the request-path, memory and service
    # benchmarks' (each written by its own program).
    kept = (
        service_bench.kept_section(DOCS, MODEL_CODEC_MARKERS)
        + service_bench.kept_section(DOCS, request_path.MARKERS)
        + service_bench.kept_section(DOCS, memory_bench.MARKERS)
        + service_bench.kept_section(DOCS)
    )
    DOCS.write_text("\n".join(parts) + kept)


def profile_runs(
    plan: dict[str, list[Lib]],
    main_python: Path,
    old_python: Path | None,
    endpoint: str,
    admin: Any,
    args: argparse.Namespace,
) -> None:
    """One extra cProfile'd run per library and operation set; prints where ours spends its
    time in the target operations."""
    import pstats

    folder = Path(args.profile).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for op_set, libs in plan.items():
        for lib in libs:
            if lib.peers_venv:
                continue  # profiles are for reading where this library spends its time
            prefix = folder / f"{lib.key}.{op_set}"
            python = old_python if lib.old_venv and old_python else main_python
            extra = ["--profile", str(prefix)]
            run_once(lib, python, endpoint, admin, args, op_set, "profile", extra)
            print(f"profiles of {lib.label}: {prefix}.<op>.prof", file=sys.stderr)
            if lib.key.startswith("ours"):
                for op in (*TARGET_OPS, *OP_SETS[WRITE_ONCE]):
                    path = Path(f"{prefix}.{op}.prof")
                    if path.exists():
                        print(f"\n=== {lib.label}: {op} (top 12 by own time) ===")
                        stats = pstats.Stats(str(path), stream=sys.stdout)
                        stats.sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Side-by-side DynamoDB repository benchmark.")
    parser.add_argument("--n", type=int, default=Workload.n, help="items (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per library (default 5)")
    parser.add_argument("--seed", type=int, default=Workload.seed)
    parser.add_argument(
        "--op-sets",
        default=",".join(OP_SETS),
        help="comma-separated operation sets to run (default all): " + ", ".join(OP_SETS),
    )
    parser.add_argument(
        "--libs",
        default=",".join(lib.key for lib in LIBS),
        help="comma-separated subset of: " + ", ".join(lib.key for lib in LIBS),
    )
    parser.add_argument("--no-codec", action="store_true", help="skip the codec micro-benchmark")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"rewrite {DOCS.relative_to(ROOT)}"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every run's raw results")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="after the runs, run each library once more under cProfile, one file per op in DIR",
    )
    args = parser.parse_args(argv)

    wanted = args.libs.split(",")
    if unknown := set(wanted) - {lib.key for lib in LIBS}:
        parser.error(f"unknown libs: {sorted(unknown)}")
    op_sets = args.op_sets.split(",")
    if unknown := set(op_sets) - set(OP_SETS):
        parser.error(f"unknown operation sets: {sorted(unknown)}")
    plan = {
        op_set: [lib for lib in LIBS if lib.key in wanted and op_set in lib.op_sets]
        for op_set in OP_SETS
        if op_set in op_sets
    }
    plan = {op_set: libs for op_set, libs in plan.items() if libs}
    if not plan:
        parser.error("no library runs the chosen operation sets")
    workload = Workload(n=args.n, seed=args.seed)
    main_python = Path(sys.executable)
    uses_old = any(lib.old_venv for libs in plan.values() for lib in libs)
    old_python = venv042.ensure_venv() if uses_old else None

    uses_peers = any(lib.peers_venv for libs in plan.values() for lib in libs)
    peers_python = venv_peers.ensure_venv() if uses_peers else None

    def python_of(lib: Lib) -> Path:
        if lib.peers_venv and peers_python:
            return peers_python
        return old_python if lib.old_venv and old_python else main_python

    results: Results = {op_set: {lib.key: [] for lib in libs} for op_set, libs in plan.items()}
    problems: list[str] = []
    started = time.monotonic()
    loads: dict[str, Any] = {"before": os.getloadavg()[0], "samples": []}
    library_before = library_state()
    probe: dict[str, Any] | None = None
    with start_dynamodb_local() as server:
        endpoint = server.endpoint_url
        admin = admin_client(endpoint)
        print(f"DynamoDB Local at {endpoint}; warming up", file=sys.stderr)
        run_once(_lib(FLOOR), main_python, endpoint, admin, args, CRUD, "warmup")
        for lib in plan.get(WRITE_ONCE, []):  # the server's conditional puts, batch gets...
            run_once(lib, python_of(lib), endpoint, admin, args, WRITE_ONCE, "warmup")
        for run in range(1, args.runs + 1):
            for op_set, libs in plan.items():
                for lib in libs:
                    result = run_once(lib, python_of(lib), endpoint, admin, args, op_set, str(run))
                    problems += _check(result, workload, lib, f"{op_set} {run}")
                    results[op_set][lib.key].append(result)
                    loads["samples"].append(os.getloadavg()[0])
                    cpu = sum(op["cpu_s"] for op in result["ops"].values())
                    print(
                        f"run {run}/{args.runs} {op_set} {lib.label}: CPU {cpu * 1e3:.0f} ms "
                        f"({time.monotonic() - started:.0f} s elapsed, "
                        f"load {loads['samples'][-1]:.1f})",
                        file=sys.stderr,
                        flush=True,
                    )
        if WRITE_ONCE in plan:
            probe = probe_capacity(endpoint)
        if args.profile:
            profile_runs(plan, main_python, old_python, endpoint, admin, args)
    codec = None
    if not args.no_codec:
        print("codec micro-benchmark", file=sys.stderr, flush=True)
        done = subprocess.run(
            [str(main_python), "-m", "benchmarks.codec_bench", "--json", "--seed", str(args.seed)],
            cwd=ROOT,
            env=dict(os.environ, PYTHONHASHSEED="0"),
            capture_output=True,
            text=True,
            check=True,
        )
        codec = json.loads(done.stdout.strip().splitlines()[-1])
        problems += [f"codec check {k} failed" for k, ok in codec["checks"].items() if not ok]
    loads["after"] = os.getloadavg()[0]
    library_after = library_state()
    if library_after != library_before:
        problems.append(
            f"the library source changed during the runs ({library_before['digest']} -> "
            f"{library_after['digest']}): the runs measured different code"
        )

    summary = {
        op_set: {key: medians(runs) for key, runs in by_lib.items()}
        for op_set, by_lib in results.items()
    }
    if CRUD in plan:
        print(format_table(plan[CRUD], summary[CRUD], OP_SETS[CRUD]))
        print()
        print(format_requests(results[CRUD], plan[CRUD]))
        print()
        print(format_targets(summary[CRUD], workload, codec))
    if WRITE_ONCE in plan:
        print()
        print(format_write_once(plan[WRITE_ONCE], summary[WRITE_ONCE], results[WRITE_ONCE]))
        print()
        print(format_units(results[WRITE_ONCE], plan[WRITE_ONCE]))
        print(f"capacity probe: {json.dumps(probe)}")
    if INDEX in plan:
        print()
        print(format_index(plan[INDEX], summary[INDEX], workload))
        print()
        print(format_requests(results[INDEX], plan[INDEX]))
    if UNITS in plan:
        print()
        print(format_units_set(plan[UNITS], summary[UNITS], workload))
        print()
        print(format_requests(results[UNITS], plan[UNITS]))
        print()
        print(format_peer_targets(summary[UNITS], OP_SETS[UNITS], workload))
    if codec:
        print()
        print(codec_bench.format_table(codec))
    print(_load_text(loads))
    print(_library_text(library_before, library_after))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if args.json:
        raw = {"results": results, "codec": codec, "capacity_probe": probe, "loads": loads}
        Path(args.json).write_text(json.dumps(raw, indent=1))
    if args.write_docs:
        command = shlex.join([_python_for_docs(), "-m", "benchmarks.run", *(argv or sys.argv[1:])])
        library = (library_before, library_after)
        write_docs(
            command, args, plan, results, summary, codec, workload, problems, loads, probe, library
        )
        print(f"wrote {DOCS.relative_to(ROOT)}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the workload on one DynamoDB Local for every library, side by side, and report medians.

    python -m benchmarks.run [--n 2000] [--runs 5] [--write-docs]

One DynamoDB Local (in memory) serves every run. Each run of each library is a fresh process
on a fresh table; runs are interleaved (ours, ours with its own client, floor, 0.4.2, ours, ...)
so that machine noise spreads over all of them. A first, discarded floor run warms the server's
JIT. Per operation it reports the medians over runs of wall time, client-process CPU time and
HTTP requests, and CPU ratios against the raw boto3 floor and against pydantic-dynamo 0.4.2.
Then the codec micro-benchmark runs (``benchmarks.codec_bench``). ``--write-docs`` rewrites
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
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

import boto3

from benchmarks import codec_bench, venv042
from benchmarks.harness import RESULT_PREFIX
from benchmarks.workload import OP_SETS, PARTITION_KEY, SORT_KEY, Workload
from local_stack.dynamodb_local import (
    create_records_table,
    find_jar,
    start_dynamodb_local,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
RUN_TIMEOUT_S = 600
FLOOR = "floor"
FLOOR_NV = "floor-nv"
OLD = "0.4.2"
# Operations the targets apply to; the codec targets are separate.
TARGET_OPS = ("put_batch", "list", "get_batch")


@dataclass(frozen=True)
class Lib:
    key: str
    label: str
    module: str
    variant: str | None = None
    old_venv: bool = False
    # Operation sets (workload.OP_SETS) the runner implements: a new set lists its libraries.
    op_sets: tuple[str, ...] = ("crud",)


LIBS: tuple[Lib, ...] = (
    Lib("ours", "ours (client=)", "benchmarks.runner_ours", "client"),
    Lib("ours-own", "ours (own client)", "benchmarks.runner_ours", "own"),
    Lib(FLOOR, "raw boto3 (floor)", "benchmarks.runner_floor"),
    Lib(FLOOR_NV, "raw boto3, no param validation", "benchmarks.runner_floor", "novalidate"),
    Lib(OLD, "pydantic-dynamo 0.4.2", "benchmarks.runner_042", old_venv=True),
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
    tag: str,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """One fresh process of ``lib`` on a fresh table; returns its parsed result."""
    table = f"bench-{lib.key.replace('.', '')}-{tag}-{uuid.uuid4().hex[:8]}"
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
        args.op_set,
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
            f"{lib.label} run {tag} failed (exit {done.returncode}):\n{done.stderr[-4000:]}"
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
            problems.append(
                f"{lib.label} run {tag}: {op} touched {data['items']} items, "
                f"expected {workload.expected_items(op)}"
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
        }
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


def format_targets(
    summary: dict[str, dict[str, dict[str, float]]],
    workload: Workload,
    codec: dict[str, Any] | None,
) -> str:
    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

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
                lines.append(f"| {op}: CPU ≤ 1.0x floor | {label} | {r:.2f}x | {mark(r <= 1.0)} |")
            if key == "ours-own" and FLOOR_NV in summary:
                r = m["cpu_ms"] / summary[FLOOR_NV][op]["cpu_ms"]
                lines.append(
                    f"| {op}: CPU vs floor without param validation (info) | {label} | {r:.2f}x | |"
                )
            if OLD in summary:
                r = m["cpu_ms"] / summary[OLD][op]["cpu_ms"]
                lines.append(f"| {op}: CPU ≤ 0.5x 0.4.2 | {label} | {r:.2f}x | {mark(r <= 0.5)} |")
        expected = {
            "put_batch": math.ceil(workload.n / 25),
            "get_batch": math.ceil(workload.expected_items("get_batch") / 100),
        }
        for op, want in expected.items():
            if op in summary[key]:
                got = summary[key][op]["requests"]
                lines.append(
                    f"| {op}: requests = {want} | {label} | {got:g} | {mark(got == want)} |"
                )
    if codec:
        ratios = codec["ratios"]
        for name, text in (
            ("encode_vs_float_safe", "codec encode ≤ 0.5x model_dump + TypeSerializer"),
            ("decode", "codec decode ≤ 0.5x TypeDeserializer + model_validate"),
        ):
            lines.append(f"| {text} | ours | {ratios[name]:.2f}x | {mark(ratios[name] <= 0.5)} |")
    return "\n".join(lines)


def format_requests(results: dict[str, list[dict[str, Any]]], libs: list[Lib]) -> str:
    lines = []
    for lib in libs:
        seen: dict[str, set[str]] = {}
        for result in results[lib.key]:
            for op, data in result["ops"].items():
                text = ", ".join(
                    f"{k} {v}" for k, v in sorted(data["requests_by_operation"].items())
                )
                seen.setdefault(op, set()).add(text or "none")
        per_op = "; ".join(f"{op}: {' / '.join(sorted(texts))}" for op, texts in seen.items())
        lines.append(f"- {lib.label}: {per_op}")
    return "\n".join(lines)


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


def machine(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    versions: dict[str, str] = {}
    for lib_results in results.values():
        for key, value in lib_results[0]["versions"].items():
            versions.setdefault(key, value)
    old = results.get(OLD, [{}])[0].get("versions", {})
    clients = [
        f"- client of {lib.label}: {results[lib.key][0].get('client') or 'unknown'}"
        for lib in LIBS
        if lib.key in results
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


def write_docs(
    command: str,
    args: argparse.Namespace,
    libs: list[Lib],
    results: dict[str, list[dict[str, Any]]],
    summary: dict[str, dict[str, dict[str, float]]],
    codec: dict[str, Any] | None,
    workload: Workload,
    problems: list[str],
    load: tuple[float, float],
) -> None:
    ops = OP_SETS[args.op_set]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m benchmarks.run --write-docs`; edit benchmarks/run.py, "
        "not this file. -->",
        "",
        "One workload on one DynamoDB Local, side by side: this library, raw boto3 (the floor) "
        "and pydantic-dynamo 0.4.2 (in its own venv, Pydantic v1). Numbers are measured, "
        "never edited; they are relative, not absolute: the machine is small and shared.",
        "",
        "Reproduce (from the repository root, after `make setup`):",
        "",
        "```",
        command,
        "```",
        "",
        "Where the time goes: add `--profile DIR` (one extra cProfile'd run per library, a "
        "`.prof` file per operation, CPU-time clock; `python -m pstats` reads them).",
        "",
        f"Measured {now}, {args.runs} runs per library, medians shown; load average "
        f"{load[0]:.1f} before and {load[1]:.1f} after the runs (other work shares the machine).",
        "",
        *machine(results),
        "",
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
        "validation pass.",
        "- The *client of* lines above show how each client is wired (serializer, parser "
        "factory, retry mode): a client this library builds itself may replace botocore's "
        "JSON serializer and parser for data-plane calls, while a client passed with "
        "`client=` is used as given.",
        "- **0.4.2**: its v2 async `DynamoRepository` over an aioboto3 resource, as its README "
        "shows, driven by asyncio; models in and out like ours (`update` returns nothing).",
        "",
        "Each run of each library is a fresh process on a fresh table; runs interleave across "
        "libraries and a discarded first run warms the server. Inputs (models, keys, the "
        "floor's AttributeValues) are built before the clock starts, and a warm-up request "
        "opens the connection. *wall* is `time.perf_counter()` around the operation (it "
        "includes DynamoDB Local's own time on the same 2 cores); *CPU* is "
        "`time.process_time()` of the client process around the operation only; "
        "*requests* counts botocore `before-send` events (each HTTP attempt, retries "
        "included). Ratios divide medians.",
        "",
        "## Results",
        "",
        format_table(libs, summary, ops),
        "",
        "Requests seen per operation (all runs):",
        "",
        format_requests(results, libs),
        "",
        "## Targets",
        "",
        format_targets(summary, workload, codec),
        "",
    ]
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
            "stricter floor.",
            "",
            codec_bench.format_table(codec),
            "",
        ]
    if problems:
        parts += ["## Problems seen in this run", "", *(f"- {p}" for p in problems), ""]
    DOCS.write_text("\n".join(parts))


def profile_runs(
    libs: list[Lib],
    main_python: Path,
    old_python: Path | None,
    endpoint: str,
    admin: Any,
    args: argparse.Namespace,
) -> None:
    """One extra cProfile'd run per library; prints where ours spends its time."""
    import pstats

    folder = Path(args.profile).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for lib in libs:
        prefix = folder / lib.key
        python = old_python if lib.old_venv and old_python else main_python
        run_once(lib, python, endpoint, admin, args, "profile", ["--profile", str(prefix)])
        print(f"profiles of {lib.label}: {prefix}.<op>.prof", file=sys.stderr)
        if lib.key.startswith("ours"):
            for op in TARGET_OPS:
                path = Path(f"{prefix}.{op}.prof")
                if path.exists():
                    print(f"\n=== {lib.label}: {op} (top 12 by own time) ===")
                    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Side-by-side DynamoDB repository benchmark.")
    parser.add_argument("--n", type=int, default=Workload.n, help="items (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per library (default 5)")
    parser.add_argument("--seed", type=int, default=Workload.seed)
    parser.add_argument("--op-set", default="crud", choices=sorted(OP_SETS))
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
    libs = [lib for lib in LIBS if lib.key in wanted and args.op_set in lib.op_sets]
    if unknown := set(wanted) - {lib.key for lib in LIBS}:
        parser.error(f"unknown libs: {sorted(unknown)}")
    workload = Workload(n=args.n, seed=args.seed)
    main_python = Path(sys.executable)
    old_python = venv042.ensure_venv() if any(lib.old_venv for lib in libs) else None

    results: dict[str, list[dict[str, Any]]] = {lib.key: [] for lib in libs}
    problems: list[str] = []
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with start_dynamodb_local() as server:
        admin = boto3.client(
            "dynamodb",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        print(f"DynamoDB Local at {server.endpoint_url}; warming up", file=sys.stderr)
        warmup = argparse.Namespace(**{**vars(args), "op_set": "crud"})
        run_once(_lib(FLOOR), main_python, server.endpoint_url, admin, warmup, "warmup")
        for run in range(1, args.runs + 1):
            for lib in libs:
                python = old_python if lib.old_venv and old_python else main_python
                result = run_once(lib, python, server.endpoint_url, admin, args, str(run))
                problems += _check(result, workload, lib, str(run))
                results[lib.key].append(result)
                cpu = sum(op["cpu_s"] for op in result["ops"].values())
                print(
                    f"run {run}/{args.runs} {lib.label}: CPU {cpu * 1e3:.0f} ms "
                    f"({time.monotonic() - started:.0f} s elapsed)",
                    file=sys.stderr,
                    flush=True,
                )
        if args.profile:
            profile_runs(libs, main_python, old_python, server.endpoint_url, admin, args)
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

    summary = {key: medians(runs) for key, runs in results.items()}
    ops = OP_SETS[args.op_set]
    print(format_table(libs, summary, ops))
    print()
    print(format_requests(results, libs))
    print()
    print(format_targets(summary, workload, codec))
    if codec:
        print()
        print(codec_bench.format_table(codec))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "codec": codec}, indent=1))
    if args.write_docs:
        command = shlex.join([_python_for_docs(), "-m", "benchmarks.run", *(argv or sys.argv[1:])])
        load = (load_before, os.getloadavg()[0])
        write_docs(command, args, libs, results, summary, codec, workload, problems, load)
        print(f"wrote {DOCS.relative_to(ROOT)}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

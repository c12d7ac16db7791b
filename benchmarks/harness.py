"""What every runner shares: arguments, the request and capacity meters, timing, the JSON it prints.

Standard library only (the 0.4.2 runner imports it under Pydantic v1). Each runner is started in
a fresh process per run by ``benchmarks.run``; it prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.workload import CAPACITY_OP_SETS, OP_SETS, Workload

RESULT_PREFIX = "BENCH-RESULT "


class RequestCounter:
    """A botocore ``before-send`` handler: counts every HTTP request a client sends.

    Register it with ``client.meta.events.register("before-send.dynamodb", counter)``. It fires
    once per attempt (retries count), with the operation name as the last part of the event name.
    It returns None, which lets botocore send the request. Thread-safe (a write-once
    repository sends its puts from several threads).
    """

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.by_operation[operation] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        self.by_operation.clear()


# Operations whose ConsumedCapacity is read units; every other one that reports it, write units.
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
# The item operations that take ReturnConsumedCapacity, for a client whose hook ``model`` has
# only a name (botocore's OperationModel has the input shape, which is asked first).
CAPACITY_OPERATIONS = READ_OPERATIONS | {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}


def _takes_capacity(model: Any) -> bool:
    shape = getattr(model, "input_shape", None)
    if shape is not None:
        return "ReturnConsumedCapacity" in shape.members
    return getattr(model, "name", None) in CAPACITY_OPERATIONS


class CapacityMeter:
    """Asks DynamoDB for ``ReturnConsumedCapacity="TOTAL"`` on every request that takes it and
    sums the ``ConsumedCapacity`` of the responses, per operation.

    ``register(client)`` hooks a botocore or aiobotocore client (plain functions work for both
    emitters), or any client whose ``meta.events`` fires botocore's events:
    ``before-parameter-build.dynamodb`` adds the parameter to the call's parameters before
    serialization (so botocore's serializer and this library's own both send it), and
    ``after-call.dynamodb`` reads the parsed response (a dict for single-item operations and
    Query, a list for batch operations), error responses included. A response to an operation
    that takes the parameter but carries no ``ConsumedCapacity`` (DynamoDB Local's answer to a
    failed conditional write, for instance) is counted in ``unmetered``: its units, if any, are
    not in the sums. A retried attempt's response is not seen (the client reports the last
    one); every HTTP attempt is counted by ``RequestCounter``.
    """

    def __init__(self) -> None:
        self.units: dict[str, float] = {}
        self.unmetered: Counter[str] = Counter()
        self.responses = 0
        self._lock = threading.Lock()

    def register(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self.inject)
        client.meta.events.register("after-call.dynamodb", self.record)

    @staticmethod
    def inject(params: dict[str, Any], model: Any = None, **_: Any) -> None:
        if _takes_capacity(model):
            params["ReturnConsumedCapacity"] = "TOTAL"

    def record(self, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if not _takes_capacity(model):
            return
        consumed = parsed.get("ConsumedCapacity") if isinstance(parsed, dict) else None
        with self._lock:
            self.responses += 1
            if not consumed:
                self.unmetered[model.name] += 1
                return
            for entry in consumed if isinstance(consumed, list) else [consumed]:
                units = float(entry.get("CapacityUnits") or 0.0)
                self.units[model.name] = self.units.get(model.name, 0.0) + units

    def reset(self) -> None:
        with self._lock:
            self.units.clear()
            self.unmetered.clear()
            self.responses = 0

    def read_units(self) -> float:
        return sum(v for op, v in self.units.items() if op in READ_OPERATIONS)

    def write_units(self) -> float:
        return sum(v for op, v in self.units.items() if op not in READ_OPERATIONS)


def wants_capacity(args: Any) -> bool:
    """Whether this run meters consumed capacity (its op set is in ``CAPACITY_OP_SETS``)."""
    return args.op_set in CAPACITY_OP_SETS


@dataclass
class OpResult:
    wall_s: float
    cpu_s: float
    requests: int
    items: int
    requests_by_operation: dict[str, int] = field(default_factory=dict)
    # Filled only when a CapacityMeter is given to ``measure``.
    metered: bool = False
    read_units: float = 0.0
    write_units: float = 0.0
    units_by_operation: dict[str, float] = field(default_factory=dict)
    unmetered_responses: dict[str, int] = field(default_factory=dict)
    metered_responses: int = 0


def parse_args(argv: Sequence[str] | None, variants: Sequence[str] = ("default",)) -> Any:
    parser = argparse.ArgumentParser(description="Run one benchmark workload and print JSON.")
    parser.add_argument("--endpoint", required=True, help="DynamoDB endpoint URL")
    parser.add_argument("--table", required=True, help="an existing, empty table")
    parser.add_argument("--n", type=int, default=Workload.n)
    parser.add_argument("--seed", type=int, default=Workload.seed)
    parser.add_argument("--op-set", default="crud", choices=sorted(OP_SETS))
    parser.add_argument("--variant", default=variants[0], choices=list(variants))
    parser.add_argument(
        "--profile", metavar="PREFIX", help="cProfile each op into PREFIX.<op>.prof"
    )
    return parser.parse_args(argv)


def workload_from(args: Any) -> Workload:
    return Workload(n=args.n, seed=args.seed)


def _before(counter: RequestCounter, capacity: CapacityMeter | None) -> tuple[float, float]:
    gc.collect()  # outside the timing: do not bill one op for the garbage of the previous one
    counter.reset()
    if capacity is not None:
        capacity.reset()
    return time.perf_counter(), time.process_time()


def _after(
    counter: RequestCounter,
    capacity: CapacityMeter | None,
    start: tuple[float, float],
    items: int,
) -> OpResult:
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    result = OpResult(
        wall_s=wall,
        cpu_s=cpu,
        requests=counter.total,
        items=items,
        requests_by_operation=dict(counter.by_operation),
    )
    if capacity is not None:
        result.metered = True
        result.read_units = capacity.read_units()
        result.write_units = capacity.write_units()
        result.units_by_operation = dict(capacity.units)
        result.unmetered_responses = dict(capacity.unmetered)
        result.metered_responses = capacity.responses
    return result


def _profiler(prefix: str | None) -> Any:
    if not prefix:
        return None
    import cProfile

    return cProfile.Profile(time.process_time)  # CPU time, like the table


def _dump(profiler: Any, prefix: str | None, op: str) -> None:
    if profiler is not None:
        profiler.dump_stats(f"{prefix}.{op}.prof")


def measure(
    ops: Sequence[str],
    run_op: Callable[[str], int],
    counter: RequestCounter,
    profile_prefix: str | None = None,
    capacity: CapacityMeter | None = None,
) -> dict[str, OpResult]:
    """Time each op (``run_op(name)`` returns the number of items it touched).

    With ``profile_prefix``, each op also runs under cProfile, dumped to
    ``{profile_prefix}.{op}.prof`` (its timings are then inflated: profile runs are for reading
    where time goes, not for the table). With ``capacity``, each op also reports the units
    DynamoDB said it consumed.
    """
    results = {}
    for op in ops:
        profiler = _profiler(profile_prefix)
        start = _before(counter, capacity)
        if profiler is not None:
            profiler.enable()
        items = run_op(op)
        if profiler is not None:
            profiler.disable()
        results[op] = _after(counter, capacity, start, items)
        _dump(profiler, profile_prefix, op)
    return results


async def measure_async(
    ops: Sequence[str],
    run_op: Callable[[str], Awaitable[int]],
    counter: RequestCounter,
    profile_prefix: str | None = None,
    capacity: CapacityMeter | None = None,
) -> dict[str, OpResult]:
    """``measure`` for coroutines: the clock runs inside the event loop, around the op only."""
    results = {}
    for op in ops:
        profiler = _profiler(profile_prefix)
        start = _before(counter, capacity)
        if profiler is not None:
            profiler.enable()
        items = await run_op(op)
        if profiler is not None:
            profiler.disable()
        results[op] = _after(counter, capacity, start, items)
        _dump(profiler, profile_prefix, op)
    return results


def describe_client(client: Any) -> str:
    """How a botocore client is set up: its wire classes (botocore's parameter validation is
    the ``ParamValidationDecorator`` serializer) and its retry mode; for any other client, its
    class."""
    serializer = getattr(client, "_serializer", None)
    if serializer is None or not hasattr(client.meta, "config"):
        kind = type(client)
        return f"{kind.__module__}.{kind.__qualname__} (not a botocore client)"
    names = type(serializer).__name__
    wrapped = getattr(serializer, "_stock", None)  # a wrapper around botocore's serializer
    if wrapped is not None:
        names += f" over {type(wrapped).__name__}"
    endpoint = getattr(client, "_endpoint", None)
    factory = type(getattr(endpoint, "_response_parser_factory", None)).__name__
    retries = (getattr(client.meta.config, "retries", None) or {}).get("mode", "legacy")
    return f"serializer {names}; parser factory {factory}; retries {retries}"


def emit(
    lib: str,
    variant: str,
    results: dict[str, OpResult],
    *,
    versions: dict[str, str],
    checks: dict[str, Any],
    client: Any = None,
) -> None:
    """Print the result line that ``benchmarks.run`` parses."""
    payload = {
        "lib": lib,
        "variant": variant,
        "python": sys.version.split()[0],
        "versions": versions,
        "checks": checks,
        "client": describe_client(client) if client is not None else "",
        "ops": {op: asdict(result) for op, result in results.items()},
    }
    sys.stdout.write(RESULT_PREFIX + json.dumps(payload) + "\n")
    sys.stdout.flush()


def print_medians(what: str, column: str, results: dict[str, list[float]]) -> None:
    """A micro-benchmark's report: when, the load, ``what`` was timed, then a Markdown table of
    each case's median (min-max) under the heading ``column``."""
    import datetime
    import os
    import statistics

    now = datetime.datetime.now(datetime.UTC)
    print(f"{now:%Y-%m-%d %H:%M} UTC, load average (1 min) {os.getloadavg()[0]:.2f}; {what}")
    print(f"| case | {column} (min-max) |\n|---|---:|")
    for name, values in results.items():
        low, high = min(values), max(values)
        print(f"| {name} | {statistics.median(values):.1f} ({low:.1f}-{high:.1f}) |")

"""What every runner shares: arguments, the request counter, timing, the JSON it prints.

Standard library only (the 0.4.2 runner imports it under Pydantic v1). Each runner is started in
a fresh process per run by ``benchmarks.run``; it prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.workload import OP_SETS, Workload

RESULT_PREFIX = "BENCH-RESULT "


class RequestCounter:
    """A botocore ``before-send`` handler: counts every HTTP request a client sends.

    Register it with ``client.meta.events.register("before-send.dynamodb", counter)``. It fires
    once per attempt (retries count), with the operation name as the last part of the event name.
    It returns None, which lets botocore send the request.
    """

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        self.by_operation[event_name.rsplit(".", 1)[-1]] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        self.by_operation.clear()


@dataclass
class OpResult:
    wall_s: float
    cpu_s: float
    requests: int
    items: int
    requests_by_operation: dict[str, int] = field(default_factory=dict)


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


def _before(counter: RequestCounter) -> tuple[float, float]:
    gc.collect()  # outside the timing: do not bill one op for the garbage of the previous one
    counter.reset()
    return time.perf_counter(), time.process_time()


def _after(counter: RequestCounter, start: tuple[float, float], items: int) -> OpResult:
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    return OpResult(
        wall_s=wall,
        cpu_s=cpu,
        requests=counter.total,
        items=items,
        requests_by_operation=dict(counter.by_operation),
    )


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
) -> dict[str, OpResult]:
    """Time each op (``run_op(name)`` returns the number of items it touched).

    With ``profile_prefix``, each op also runs under cProfile, dumped to
    ``{profile_prefix}.{op}.prof`` (its timings are then inflated: profile runs are for reading
    where time goes, not for the table).
    """
    results = {}
    for op in ops:
        profiler = _profiler(profile_prefix)
        start = _before(counter)
        if profiler is not None:
            profiler.enable()
        items = run_op(op)
        if profiler is not None:
            profiler.disable()
        results[op] = _after(counter, start, items)
        _dump(profiler, profile_prefix, op)
    return results


async def measure_async(
    ops: Sequence[str],
    run_op: Callable[[str], Awaitable[int]],
    counter: RequestCounter,
    profile_prefix: str | None = None,
) -> dict[str, OpResult]:
    """``measure`` for coroutines: the clock runs inside the event loop, around the op only."""
    results = {}
    for op in ops:
        profiler = _profiler(profile_prefix)
        start = _before(counter)
        if profiler is not None:
            profiler.enable()
        items = await run_op(op)
        if profiler is not None:
            profiler.disable()
        results[op] = _after(counter, start, items)
        _dump(profiler, profile_prefix, op)
    return results


def describe_client(client: Any) -> str:
    """How a botocore client is set up: its wire classes (botocore's parameter validation is
    the ``ParamValidationDecorator`` serializer) and its retry mode."""
    serializer = getattr(client, "_serializer", None)
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

"""Plot client CPU per operation per library from ``benchmarks.run --json`` results (a PNG).

Runs in the peers' venv (matplotlib is not a dev dependency)::

    python -m benchmarks.run --op-sets crud --json /tmp/bench.json --write-docs
    .bench-venv-peers/bin/python -m benchmarks.plot /tmp/bench.json docs/benchmarks-cpu.png

Each bar is the median over runs of the client process's CPU time for one operation; the
whisker spans the runs' minimum to maximum.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

OPS = ("put_batch", "list", "get_batch", "get", "update")
# benchmarks.run's library keys, in plotting order, and their legend labels.
LABELS = {
    "ours-own": "ours, own client (lean transport)",
    "ours-async": "ours async, own lean client",
    "ours-async-042": "ours async, 0.4.2 construction (lean)",
    "ours": "ours, boto3 client passed in",
    "ours-async-aioboto3": "ours async on aioboto3",
    "floor": "raw boto3, pre-serialized (floor)",
    "floor-nv": "raw boto3, no param validation",
    "0.4.2": "pydantic-dynamo 0.4.2",
    "pydynox": "pydynox (Rust core)",
    "aiodynamo": "aiodynamo (aiohttp)",
    "aiodynamo-httpx": "aiodynamo (httpx)",
    "floor-async": "raw aioboto3, pre-serialized (async floor)",
    "pynamodb": "PynamoDB",
}


def cpu_ms(runs: list[dict[str, Any]], op: str) -> tuple[float, float, float]:
    """Median, minimum and maximum CPU milliseconds of ``op`` over ``runs``."""
    values = [run["ops"][op]["cpu_s"] * 1e3 for run in runs]
    return statistics.median(values), min(values), max(values)


def plot(results: dict[str, list[dict[str, Any]]], labels: dict[str, str], out: Path) -> None:
    """Grouped bars: one group per operation, one bar per library."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [key for key in labels if key in results]
    width = 0.8 / len(keys)
    # Ten distinct colors, then the same ten hatched: no two libraries look alike.
    colors = plt.get_cmap("tab10").colors
    figure, axes = plt.subplots(figsize=(12, 6), dpi=120)
    for index, key in enumerate(keys):
        stats = [cpu_ms(results[key], op) for op in OPS]
        positions = [i + (index - (len(keys) - 1) / 2) * width for i in range(len(OPS))]
        medians = [s[0] for s in stats]
        errors = [[s[0] - s[1] for s in stats], [s[2] - s[0] for s in stats]]
        axes.bar(
            positions,
            medians,
            width,
            yerr=errors,
            capsize=2,
            label=labels[key],
            color=colors[index % len(colors)],
            hatch="///" if index >= len(colors) else None,
            edgecolor="white" if index >= len(colors) else None,
        )
    axes.set_xticks(range(len(OPS)), [f"{op}" for op in OPS])
    axes.set_ylabel("client CPU per operation, ms (median; whiskers min-max)")
    axes.set_title("Client CPU per operation (n=2000; get/update x200; get_batch 500)")
    axes.legend(fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the JSON file of benchmarks.run --json")
    parser.add_argument("out", type=Path, help="the PNG to write")
    args = parser.parse_args(argv)
    raw = json.loads(args.results.read_text())
    crud = raw["results"]["crud"]
    labels = {key: LABELS.get(key, key) for key in [*LABELS, *crud] if crud.get(key)}
    plot(crud, labels, args.out)


if __name__ == "__main__":
    main()

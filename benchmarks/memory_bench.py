"""Peak memory of a listing streamed page by page against one that keeps every item.

    python -m benchmarks.memory_bench [--counts 2000,10000,20000] [--pad 900] [--write-docs]

One DynamoDB Local (in memory); per count N, a fresh table holding N items of a small model
padded to about 1 KB (so a Query page, capped at 1 MB by DynamoDB, holds about a thousand),
written with ``put_batch``. Then, per mode, a fresh process lists the partition with
``SyncDynamoRepository.list`` (its own lean client), materializing every page's ``.contents``:

- ``stream``: each page is dropped before the next is read (what a caller streaming pages
  does), so the memory held should be one page's whatever N;
- ``keep``: every content is kept, so the memory grows with N.

Each child reports the growth of its peak RSS (``VmHWM``, from just before the listing) and, in
a second listing of the same table, the peak of ``tracemalloc`` (Python allocations only, traced
from just before it). A benchmark: it prints, and asserts nothing. ``--write-docs`` replaces
its section of ``docs/benchmarks.md`` (which ``benchmarks.run`` keeps when it rewrites the file).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import resource
import subprocess
import sys
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

if __package__ in (None, ""):  # run as `python benchmarks/memory_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import service_bench
from benchmarks.admin import BENCH_KEY, admin_client
from local_stack.dynamodb_local import create_records_table, start_dynamodb_local
from pydantic_dynamo import PartitionedContent, SyncDynamoRepository

ROOT = Path(__file__).resolve().parent.parent
PARTITION = ["memory"]
MODES = ("stream", "keep")
_PREFIX = "MEMORY:"


class Padded(BaseModel):
    """A record with a padding field, so that items are about ``--pad`` bytes."""

    index: int
    name: str
    pad: str


def _repository(table: str) -> SyncDynamoRepository[Padded]:
    return SyncDynamoRepository[Padded](
        item_class=Padded,
        partition_prefix="bench",
        partition_name="memory",
        content_type="padded",
        table_name=table,
        partition_key="_table_item_id",
        sort_key="_table_content_id",
    )


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=BENCH_KEY,
        AWS_SECRET_ACCESS_KEY=BENCH_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        PYTHONHASHSEED="0",
    )
    return env


def _rss_kib() -> int:
    """This process's peak RSS in KiB: ``VmHWM`` (``ru_maxrss`` survives ``exec``, so a child
    would report its parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _list(repo: SyncDynamoRepository[Padded], mode: str) -> tuple[int, int, list[Any]]:
    """List the partition; (items, pages, what is kept)."""
    kept: list[PartitionedContent[Padded]] = []
    items = pages = 0
    for page in repo.list(PARTITION, None):
        contents = page.contents
        items += len(contents)
        pages += 1
        if mode == "keep":
            kept.extend(contents)
        del page, contents  # a streaming caller holds nothing of this page any more
    return items, pages, kept


def child(table: str, mode: str) -> dict[str, Any]:
    """One fresh process's figures for ``mode`` (see the module doc)."""
    with _repository(table) as repo:
        repo.get(PARTITION, ["warm-up"])  # the connection, the client, the codec
        gc.collect()
        before = _rss_kib()
        items, pages, kept = _list(repo, mode)
        rss_growth = _rss_kib() - before
        del kept
        gc.collect()
        tracemalloc.start()
        _list(repo, mode)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "mode": mode,
        "items": items,
        "pages": pages,
        "rss_growth_mib": rss_growth / 1024,
        "traced_peak_mib": traced_peak / 2**20,
    }


def _write(table: str, count: int, pad: int) -> None:
    filler = "x" * pad
    contents = [
        PartitionedContent[Padded](
            partition_ids=PARTITION,
            content_ids=[f"{i:08d}"],
            item=Padded(index=i, name=f"item {i}", pad=filler),
        )
        for i in range(count)
    ]
    with _repository(table) as repo:
        repo.put_batch(contents)


def _run_child(endpoint: str, table: str, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_bench", "--child", mode, "--table", table],
        cwd=ROOT,
        env=_env(endpoint),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(_PREFIX)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(_PREFIX) :])
    return result


def format_table(rows: list[dict[str, Any]]) -> str:
    """The figures, a row per item count."""
    lines = [
        "| items | pages | stream: peak RSS growth MiB | stream: tracemalloc peak MiB "
        "| keep: peak RSS growth MiB | keep: tracemalloc peak MiB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        stream, keep = row["stream"], row["keep"]
        lines.append(
            f"| {stream['items']} | {stream['pages']} | {stream['rss_growth_mib']:.1f} "
            f"| {stream['traced_peak_mib']:.1f} | {keep['rss_growth_mib']:.1f} "
            f"| {keep['traced_peak_mib']:.1f} |"
        )
    return "\n".join(lines)


MARKERS = ("<!-- memory-bench:start -->", "<!-- memory-bench:end -->")


def _intro() -> str:
    """The docs section's opening: this docstring after its title and command line, up to
    what it says of ``--write-docs``."""
    parts = (__doc__ or "").split("\n\n", 2)
    text, separator, _ = parts[-1].partition(" ``--write-docs``")
    if len(parts) < 3 or not separator:
        raise RuntimeError("memory_bench's docstring lost its command line or --write-docs")
    return text.strip()


HEADING = "Memory of a listing streamed page by page"


def per_item_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The table's reading: the memory each kept item adds (from the smallest count to the
    largest), and the streamed peak's range over the counts."""
    small, large = rows[0], rows[-1]
    streamed = [row["stream"]["rss_growth_mib"] for row in rows]
    lines = [
        f"- stream: the peak grows {min(streamed):.1f}-{max(streamed):.1f} MiB whatever the "
        f"count ({small['stream']['items']} to {large['stream']['items']} items): one page "
        "at a time."
    ]
    added = large["keep"]["items"] - small["keep"]["items"]
    if added > 0:
        grown = large["keep"]["rss_growth_mib"] - small["keep"]["rss_growth_mib"]
        lines.append(
            f"- keep: each item kept adds {grown * 1024 / added:.2f} KiB of peak RSS (its "
            "model and content, from the smallest count to the largest)."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Peak memory of streamed and kept listings.")
    parser.add_argument("--counts", default="2000,10000,20000", help="item counts")
    parser.add_argument("--pad", type=int, default=900, help="padding bytes per item")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    parser.add_argument("--write-docs", action="store_true", help="rewrite its docs section")
    args = parser.parse_args(argv)
    if args.child:
        print(_PREFIX + json.dumps(child(args.table, args.child)))
        return 0
    rows = []
    with start_dynamodb_local() as server:
        endpoint = server.endpoint_url
        admin = admin_client(endpoint)
        os.environ.update(_env(endpoint))
        for count in (int(c) for c in args.counts.split(",")):
            table = f"memory-{count}-{uuid.uuid4().hex[:8]}"
            create_records_table(admin, table, "_table_item_id", "_table_content_id")
            try:
                _write(table, count, args.pad)
                row = {mode: _run_child(endpoint, table, mode) for mode in MODES}
            finally:
                admin.delete_table(TableName=table)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    now = datetime.datetime.now(datetime.UTC)
    body = "\n".join(
        [
            f"Measured {now:%Y-%m-%d %H:%M} UTC, load average (1 min) "
            f"{os.getloadavg()[0]:.2f}; items padded by {args.pad} bytes.",
            "",
            format_table(rows),
            "",
            *per_item_lines(rows),
        ]
    )
    print(body)
    if args.write_docs:
        service_bench.write_program_section(
            body,
            argv,
            module="benchmarks.memory_bench",
            markers=MARKERS,
            heading=HEADING,
            intro=_intro(),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The generated sections of docs/benchmarks.md: each program replaces its own, keeps the rest."""

from __future__ import annotations

from pathlib import Path

from benchmarks import memory_bench, request_path, service_bench

OTHER = "<!-- other:start -->\nhand-written\n<!-- other:end -->"


def _write(path: Path, body: str) -> None:
    service_bench.write_section(
        body,
        "python -m benchmarks.request_path",
        path,
        markers=request_path.MARKERS,
        heading=request_path.HEADING,
        module="benchmarks.request_path",
        intro="How it is measured.",
    )


def test_a_section_is_appended_then_replaced_in_place(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\n{OTHER}\n")
    _write(docs, "first figures")
    _write(docs, "second figures")
    text = docs.read_text()
    assert text.count(request_path.MARKERS[0]) == 1
    assert "second figures" in text
    assert "first figures" not in text
    assert OTHER in text
    assert "edit benchmarks/request_path.py, not this section" in text
    assert f"## {request_path.HEADING}\n" in text


def test_kept_section_returns_the_marked_text(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# Benchmarks\n\n{OTHER}\n")
    _write(docs, "figures")
    kept = service_bench.kept_section(docs, request_path.MARKERS)
    assert kept.strip().startswith(request_path.MARKERS[0])
    assert kept.strip().endswith(request_path.MARKERS[1])
    assert "figures" in kept
    assert "hand-written" not in kept
    assert service_bench.kept_section(docs, ("<!-- none:start -->", "<!-- none:end -->")) == ""


def test_the_service_section_keeps_its_own_heading(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    service_bench.write_section("rows", "python -m benchmarks.service_bench", docs)
    text = docs.read_text()
    assert text.count(service_bench.START) == 1
    assert "## The service's functions against reference handlers" in text
    assert "edit benchmarks/service_bench.py, not this section" in text


def test_docs_body_states_the_warm_and_live_costs() -> None:
    names = [
        "socket floor (recorded request, sendall + recv)",
        "HttpPool.post (same request)",
        "repository, live (sync)",
        "repository, live (async)",
        "repository, canned answers (sync)",
        "repository, canned answers (async)",
    ]
    figures = [40.0, 80.0, 200.0, 260.0, 30.0, 32.0]
    times = {
        f"{op}: {name}": [value, value + 2]
        for op in ("get", "update")
        for name, value in zip(names, figures, strict=True)
    }
    body = request_path.docs_body(times, calls=10, repeat=2)
    assert "| get: repository, live (sync) | 201.0 (200.0-202.0) |" in body
    # live 201 minus the pool's 81 is 120 µs, against 31 warm: 3.9 times as much.
    assert "- get, sync: the repository's Python costs 31 µs warm; in the live call" in body
    assert "the pool's 81 µs exchange costs 120, 3.9 times as much; the socket floor is 41." in body
    assert "costs 180 (with the event loop's own I/O work), 5.5 times as much" in body


def test_memory_lines_read_the_streamed_peak_and_the_cost_per_kept_item() -> None:
    rows = [
        {
            "stream": {"items": 2000, "rss_growth_mib": 7.1},
            "keep": {"items": 2000, "rss_growth_mib": 9.6},
        },
        {
            "stream": {"items": 20000, "rss_growth_mib": 8.1},
            "keep": {"items": 20000, "rss_growth_mib": 54.9},
        },
    ]
    lines = memory_bench.per_item_lines(rows)
    assert lines[0] == (
        "- stream: the peak grows 7.1-8.1 MiB whatever the count (2000 to 20000 items): "
        "one page at a time."
    )
    # (54.9 - 9.6) MiB over 18,000 more items.
    assert lines[1].startswith("- keep: each item kept adds 2.58 KiB of peak RSS")


def test_async_rows_are_judged_against_the_async_floor_where_it_ran() -> None:
    from benchmarks import run
    from benchmarks.workload import Workload

    def ms(value: float) -> dict[str, float]:
        return {"cpu_ms": value}

    summary = {
        run.OURS_OWN: {"get": ms(24.0)},
        run.OURS_ASYNC: {"get": ms(24.0)},
        run.FLOOR: {"get": ms(100.0)},
        run.FLOOR_ASYNC: {"get": ms(90.0)},
        "pydynox": {"get": ms(30.0)},
    }
    table = run.format_peer_targets(summary, ("get",), Workload())
    rows = {line.split(" | ")[1]: line for line in table.splitlines() if line.startswith("| get |")}
    # 24 ms is at most 0.25x of raw boto3's 100, not of raw aioboto3's 90.
    assert rows["ours (own client)"] == (
        "| get | ours (own client) | 24.0 | 0.24x | 0.27x | met | 0.80x | met |"
    )
    assert rows["ours async (own lean client)"] == (
        "| get | ours async (own lean client) | 24.0 | 0.24x | 0.27x | **missed** | 0.80x | met |"
    )
    assert "| x raw boto3 | x raw aioboto3 | ≤ 0.25x raw | x pydynox (Rust core) |" in table


def test_a_program_section_names_its_command(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    service_bench.write_program_section(
        "figures",
        ["--calls", "10"],
        module="benchmarks.request_path",
        markers=request_path.MARKERS,
        heading=request_path.HEADING,
        intro=request_path._intro(),
        path=docs,
    )
    text = docs.read_text()
    assert "```\n.venv/bin/python -m benchmarks.request_path --calls 10\n```" in text
    assert request_path._intro().splitlines()[0] in text

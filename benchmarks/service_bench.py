"""The service's functions against reference handlers written as the Powertools docs would.

    python -m benchmarks.service_bench [--calls 300] [--rounds 3]
        [--backends dynamodb-local,moto] [--cdk-out cdk.out] [--write-docs]

Per backend (DynamoDB Local from node_modules' jar, moto in server mode on 127.0.0.1, each
started here with one table of the service's layout and 60 seeded actors), ``--rounds`` rounds
of fresh processes (``benchmarks.reference_handlers.worker``), alternating ours and the
reference (ours first in odd rounds), measure in client-process CPU (``time.process_time``):

- (a) the records API as deployed (``records_service.names.API_HANDLER``; ``--api-factory``
  builds it instead) against ``reference_handlers.api``: ``--calls`` PUTs of an actor, GETs,
  PATCHes (``set_commands``) and lists of 50, each invocation timed alone; a figure is the
  median over processes of each process's median per invocation;
- (b) the batch writer (``BATCH_WRITER_HANDLER``) against ``reference_handlers.batch_writer``
  (``BatchProcessor`` with a Pydantic record model; each record's contents written with one
  boto3 ``batch_write_item``, as a per-record handler does), per batch of 10 one-actor
  messages;
- (c) import + first call of each function, in the same fresh processes.

Then (d): when a synthesized assembly exists (``npx cdk synth --quiet`` makes ``cdk.out``), the
same on the first backend with the built artifact's folders under the runtime's Python
(``layer.assembly``, ``layer.invocation``: Lambda's variables, ``python3.12 -I -S -B``), with
tracing on (a sampled trace header, the X-Ray daemon on an unused loopback port) and off
(``POWERTOOLS_TRACE_DISABLED``). The references run there on the same layer.

HTTP requests per invocation are counted at the socket in extra invocations, apart from the
timed ones. ``--write-docs`` replaces this benchmark's section of ``docs/benchmarks.md``
(between its markers; ``benchmarks.run`` keeps it when it rewrites the file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):  # run as `python benchmarks/service_bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.admin import BENCH_KEY, admin_client
from benchmarks.reference_handlers.worker import API_OPS, BATCH_OPS, LIST_SIZE, SEED_PREFIX
from local_stack.dynamodb_local import start_dynamodb_local
from pydantic_dynamo.table import create_table
from records_service import names

ROOT: Final = Path(__file__).resolve().parent.parent
DOCS: Final = ROOT / "docs" / "benchmarks.md"
WORKER: Final = ROOT / "benchmarks" / "reference_handlers" / "worker.py"
START: Final = "<!-- service-bench:start -->"
END: Final = "<!-- service-bench:end -->"
BACKENDS: Final = ("dynamodb-local", "moto")
REGION: Final = "us-east-1"
TABLE: Final = "service-bench"
SEEDED: Final = 60
WORKER_TIMEOUT_S: Final = 900
OURS, REFERENCE = "ours", "reference"
FUNCTIONS: Final = {
    "api": (names.API_HANDLER, "reference_handlers.api.handler"),
    "batch": (names.BATCH_WRITER_HANDLER, "reference_handlers.batch_writer.handler"),
}
# ours / reference CPU at most this (issue 14).
TARGETS: Final = {"put": 0.35, "get": 0.35, "patch": 0.35, "list": 0.6, "batch": 0.4}
COLD_TARGET: Final = 0.6
LABELS: Final = {
    "put": "API PUT an actor",
    "get": "API GET an actor",
    "patch": "API PATCH an actor",
    "list": f"API GET a list of {LIST_SIZE}",
    "batch": "batch writer, one 10-message batch",
}
# Runs: results[setting][function][ours|reference] = one worker result per process.
Results = dict[str, dict[str, dict[str, list[dict[str, Any]]]]]


@contextlib.contextmanager
def backend(name: str) -> Iterator[str]:
    """A running DynamoDB of that name; yields its endpoint URL."""
    if name == "dynamodb-local":
        with start_dynamodb_local() as server:
            yield server.endpoint_url
        return
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        moto.stop()


def prepare_table(endpoint: str) -> None:
    """The service's table, with the actors every list of 50 reads, written by the library."""
    from pydantic_dynamo import SyncDynamoRepository
    from records_service.content_types import content_type
    from records_service.repositories import repository_arguments

    admin = admin_client(endpoint)
    create_table(admin, TABLE, names.TABLE)
    actor = content_type("actor")
    repo = SyncDynamoRepository[actor.model](  # type: ignore[name-defined]
        **repository_arguments(actor, TABLE), client=admin
    )
    ids = [f"{SEED_PREFIX}{i:02d}" for i in range(SEEDED)]
    repo.put_batch(
        [
            actor.content_model(
                partition_ids=[], content_ids=[i], item=actor.model(id=i, name=f"Seeded {i}")
            )
            for i in ids
        ]
    )


def _aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": BENCH_KEY,
        "AWS_SECRET_ACCESS_KEY": BENCH_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,  # the references' boto3 clients
        names.ENV_DYNAMODB_ENDPOINT: endpoint,  # ours
        names.ENV_TABLE_NAME: TABLE,
        names.ENV_POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
        names.ENV_POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
    }


def dev_command(endpoint: str) -> tuple[list[str], dict[str, str], list[str]]:
    """The worker in this venv, its environment and the folders it puts on ``sys.path``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "POWERTOOLS_", "_X_AMZN")) and k != "PYTHONPATH"
    }
    env.update(_aws_env(endpoint), PYTHONHASHSEED="0", POWERTOOLS_TRACE_DISABLED="true")
    paths = [str(ROOT / names.API_CODE_DIR), str(ROOT / names.BATCH_WRITER_CODE_DIR)]
    paths.append(str(ROOT / "benchmarks"))
    return [sys.executable, "-m", "benchmarks.reference_handlers.worker"], env, paths


def run_worker(
    command: list[str], env: dict[str, str], spec: dict[str, Any], label: str
) -> dict[str, Any]:
    """One fresh worker process; its result."""
    with tempfile.TemporaryDirectory(prefix="service-bench-") as scratch:
        out = Path(scratch) / "result.json"
        done = subprocess.run(
            command,
            input=json.dumps({**spec, "out": str(out)}),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,  # the handlers' logs and metrics
            stderr=subprocess.PIPE,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"{label} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def run_rounds(
    setting: str,
    launch: dict[str, tuple[list[str], dict[str, str], list[str]]],
    args: argparse.Namespace,
    results: Results,
) -> None:
    """``args.rounds`` rounds of both functions, ours and the reference alternating.

    ``launch[function]`` is the worker command, environment and paths of that function.
    """
    by_function = results.setdefault(setting, {})
    for round_no in range(1, args.rounds + 1):
        for function, (ours, reference) in FUNCTIONS.items():
            command, env, paths = launch[function]
            pair = [(OURS, ours), (REFERENCE, reference)]
            for impl, handler in pair if round_no % 2 else pair[::-1]:
                spec: dict[str, Any] = {
                    "function": function,
                    "handler": handler,
                    "calls": args.calls,
                    "tag": f"r{round_no}-{impl}-{uuid.uuid4().hex[:8]}",
                    "paths": paths,
                }
                factory = getattr(args, f"{function}_factory", None)
                if impl == OURS and factory:
                    spec["factory"] = factory
                label = f"{setting} round {round_no} {function} {impl}"
                result = run_worker(command, env, spec, label)
                by_function.setdefault(function, {}).setdefault(impl, []).append(result)
                print(f"{label}: done", file=sys.stderr, flush=True)


def artifact_launch(
    cdk_out: Path, endpoint: str, tracing: bool, unpack_dir: Path
) -> dict[str, tuple[list[str], dict[str, str], list[str]]]:
    """The workers of each function run from the built artifact, as ``layer.invocation`` runs
    a handler: the runtime's Python, isolated, Lambda's variables and the function's own."""
    from infra import config
    from layer.assembly import placeholder_refs, read_functions, resolve_environment
    from layer.invocation import lambda_environment
    from layer.runtime import find_runtime_python, runtime_boto3

    functions = read_functions(cdk_out, config.STACK_NAME, unpack_dir)
    python, boto3_dir = find_runtime_python(), runtime_boto3()
    launch = {}
    for function, (ours, _) in FUNCTIONS.items():
        artifact = functions[ours]
        env = lambda_environment(artifact, REGION)
        env.update(resolve_environment(artifact, placeholder_refs(artifact)))
        env.update(_aws_env(endpoint), PYTHONHASHSEED="0")
        if not tracing:
            env["POWERTOOLS_TRACE_DISABLED"] = "true"
        paths = [*artifact.sys_path, str(boto3_dir), str(ROOT / "benchmarks")]
        launch[function] = ([str(python), "-I", "-S", "-B", str(WORKER)], env, paths)
    return launch


# -- summary ------------------------------------------------------------------------------------


def _per_process(runs: list[dict[str, Any]], op: str) -> list[float]:
    """Each process's median CPU per invocation of ``op``, in ms."""
    return [statistics.median(run["ops"][op]) * 1e3 for run in runs]


def _cold(runs: list[dict[str, Any]]) -> list[float]:
    return [(run["import_cpu_s"] + run["first_cpu_s"]) * 1e3 for run in runs]


def _requests(runs: list[dict[str, Any]], op: str) -> str:
    seen = {
        ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "none"
        for run in runs
        for counts in run["requests"][op]
    }
    return " / ".join(sorted(seen))


def _figure(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def summary_rows(by_function: dict[str, dict[str, list[dict[str, Any]]]]) -> list[list[str]]:
    """Rows of (measure, ours, reference, ratio, target, verdict, requests ours, reference)."""
    rows = []
    for function, ops in (("api", API_OPS), ("batch", BATCH_OPS)):
        runs = by_function.get(function)
        if not runs:
            continue
        ours, ref = runs[OURS], runs[REFERENCE]
        for op in ops:
            mine, theirs = _per_process(ours, op), _per_process(ref, op)
            ratio = statistics.median(mine) / statistics.median(theirs)
            rows.append(
                [
                    f"{LABELS[op]}: CPU ms per invocation",
                    _figure(mine),
                    _figure(theirs),
                    f"{ratio:.2f}x",
                    f"≤ {TARGETS[op]}x",
                    "met" if ratio <= TARGETS[op] else "**missed**",
                    _requests(ours, op),
                    _requests(ref, op),
                ]
            )
        mine, theirs = _cold(ours), _cold(ref)
        ratio = statistics.median(mine) / statistics.median(theirs)
        wall = statistics.median((r["import_wall_s"] + r["first_wall_s"]) * 1e3 for r in ours)
        ref_wall = statistics.median((r["import_wall_s"] + r["first_wall_s"]) * 1e3 for r in ref)
        rows.append(
            [
                f"{'API' if function == 'api' else 'batch writer'}: import + first call, "
                f"CPU ms (wall {wall:.0f} vs {ref_wall:.0f})",
                _figure(mine),
                _figure(theirs),
                f"{ratio:.2f}x",
                f"≤ {COLD_TARGET}x",
                "met" if ratio <= COLD_TARGET else "**missed**",
                "",
                "",
            ]
        )
    return rows


def format_table(by_function: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    lines = [
        "| measure | ours (min-max) | reference (min-max) | ours / reference | target | "
        "| requests per invocation, ours | reference |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in summary_rows(by_function)]
    return "\n".join(lines)


def _pythons(by_function: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    found = {run["python"] for impls in by_function.values() for r in impls.values() for run in r}
    return ", ".join(sorted(found))


def report(results: Results, args: argparse.Namespace, artifact_note: str) -> str:
    """The Markdown of every setting's table."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"Measured {now}: {args.rounds} fresh processes per function and side, alternating, "
        f"{args.calls} timed invocations of each operation per process; load average "
        f"(1 min) {os.getloadavg()[0]:.2f} at the end. Figures are medians over processes "
        "of each process's median (min-max over processes); import + first call is one "
        "per process.",
        "",
    ]
    for setting, by_function in results.items():
        parts += [f"### {setting} (Python {_pythons(by_function)})", "", format_table(by_function)]
        parts.append("")
    parts += [artifact_note, ""]
    return "\n".join(parts)


# -- docs ---------------------------------------------------------------------------------------


def kept_section(path: Path = DOCS, markers: tuple[str, str] = (START, END)) -> str:
    """This benchmark's section of ``path`` (or the one between other ``markers``; markers
    included, then a newline), or ``""``.

    ``benchmarks.run`` appends it when it rewrites the file, so its own runs keep these.
    """
    text = path.read_text() if path.exists() else ""
    start, end = text.find(markers[0]), text.find(markers[1])
    if start < 0 or end < start:
        return ""
    return "\n" + text[start : end + len(markers[1])] + "\n"


def write_section(
    body: str,
    command: str,
    path: Path = DOCS,
    *,
    markers: tuple[str, str] = (START, END),
    heading: str = "The service's functions against reference handlers",
    module: str = "benchmarks.service_bench",
    intro: str = (__doc__ or "").split("\n\n", 2)[2].strip(),
) -> None:
    """Replace a generated section of ``path`` (this benchmark's by default; another
    benchmark's with its ``markers``, ``heading``, ``module`` and ``intro``, the text that opens
    the section), appended when the file has none."""
    start_marker, end_marker = markers
    section = "\n".join(
        [
            start_marker,
            f"## {heading}",
            "",
            f"<!-- Generated by `python -m {module} --write-docs`; edit "
            f"{module.replace('.', '/')}.py, not this section. -->",
            "",
            intro,
            "",
            "```",
            command,
            "```",
            "",
            body.strip(),
            end_marker,
        ]
    )
    text = path.read_text() if path.exists() else ""
    start, end = text.find(start_marker), text.find(end_marker)
    if start >= 0 and end > start:
        text = text[:start] + section + text[end + len(end_marker) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def write_program_section(
    body: str,
    argv: list[str] | None,
    *,
    module: str,
    markers: tuple[str, str],
    heading: str,
    intro: str,
    path: Path = DOCS,
) -> None:
    """:func:`write_section` for another benchmark program: its command is ``module`` run
    with ``argv`` (the process's own arguments when ``None``)."""
    words = sys.argv[1:] if argv is None else argv
    write_section(
        body,
        shlex.join([".venv/bin/python", "-m", module, *words]),
        path,
        markers=markers,
        heading=heading,
        module=module,
        intro=intro,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed invocations per op")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per side")
    parser.add_argument("--backends", default=",".join(BACKENDS), help=", ".join(BACKENDS))
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--no-artifact", action="store_true", help="skip (d)")
    for function in FUNCTIONS:
        parser.add_argument(
            f"--{function}-factory",
            metavar="MODULE:FUNCTION",
            help=f"build our {function} handler with it (settings in, handler out) instead of "
            "importing the deployed handler string",
        )
    parser.add_argument("--write-docs", action="store_true", help=f"update {DOCS.name}")
    args = parser.parse_args(argv)
    chosen = args.backends.split(",")
    if unknown := set(chosen) - set(BACKENDS):
        parser.error(f"unknown backends: {sorted(unknown)}")
    results: Results = {}
    artifact_note = "(d) built artifact: skipped (--no-artifact)."
    assembly = (args.cdk_out / f"{_stack_name()}.template.json").is_file()
    if not args.no_artifact and not assembly:
        artifact_note = (
            f"(d) built artifact: not measured, no synthesized assembly in {args.cdk_out.name} "
            "(`npx cdk synth --quiet` makes one)."
        )
    for index, name in enumerate(chosen):
        with backend(name) as endpoint:
            prepare_table(endpoint)
            dev = dev_command(endpoint)
            run_rounds(f"{name}, dev venv", dict.fromkeys(FUNCTIONS, dev), args, results)
            if index == 0 and assembly and not args.no_artifact:
                built = datetime.fromtimestamp(args.cdk_out.stat().st_mtime, UTC)
                artifact_note = (
                    f"(d) built artifact: {args.cdk_out.name} synthesized "
                    f"{built:%Y-%m-%d %H:%M} UTC, on {name}."
                )
                with tempfile.TemporaryDirectory(prefix="service-bench-layers-") as unpack:
                    for tracing in (True, False):
                        launch = artifact_launch(args.cdk_out, endpoint, tracing, Path(unpack))
                        setting = f"{name}, built artifact, tracing {'on' if tracing else 'off'}"
                        run_rounds(setting, launch, args, results)
    text = report(results, args, artifact_note)
    print(text)
    if args.write_docs:
        command = shlex.join([".venv/bin/python", "-m", "benchmarks.service_bench", *sys.argv[1:]])
        write_section(text, command if argv is None else shlex.join(argv))
        print(f"updated {DOCS.relative_to(ROOT)}", file=sys.stderr)
    return 0


def _stack_name() -> str:
    from infra import config

    return config.STACK_NAME


if __name__ == "__main__":
    sys.exit(main())

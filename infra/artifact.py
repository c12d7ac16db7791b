"""The deployable artifact, run the way Lambda runs it: from a synthesized cloud assembly.

``read_functions`` finds each function's staged code folder and layer folders in a cloud
assembly (``cdk.out`` or a test's outdir) through the stack's asset manifest, exactly the folders
``cdk deploy`` zips and uploads. ``invoke`` runs one handler in a fresh interpreter of the
runtime's Python version with only those folders and the runtime's boto3 on ``sys.path`` (no
site-packages, no environment leaking in), which proves the wheels, the layer layout and the
handler string that will be deployed.

Measure each handler's cold import from the artifact (fresh process, median of 5)::

    npx cdk synth --quiet && python -m infra.artifact cdk.out
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from glob import glob
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from infra import config
from infra.layer_build import REPO_ROOT, pip_target_args

RUNTIME_BOTO3_ROOT: Final = REPO_ROOT / "build" / "runtime-boto3"
COLD_IMPORT_RUNS: Final = 5
INVOKE_TIMEOUT_SECONDS: Final = 120

# Runs inside the runtime's interpreter (python3.12 -I -S -B: no site, no environment, and no
# bytecode written, as /opt and /var/task are read-only on Lambda): set sys.path as Lambda does
# (function code, then the layers' python/, then the runtime's boto3), import, invoke, report.
_RUNNER: Final = r"""
import importlib, json, sys, time, traceback
spec = json.load(sys.stdin)
sys.path[:0] = spec["paths"]

class Context:
    function_name = spec["function_name"]
    function_version = "$LATEST"
    invoked_function_arn = (
        "arn:aws:lambda:" + spec["region"] + ":123456789012:function:" + function_name
    )
    memory_limit_in_mb = spec["memory_mb"]
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "2024/01/01/[$LATEST]artifact"
    deadline = None  # set when the invocation starts, as Lambda's timeout clock does
    def get_remaining_time_in_millis(self):
        return max(0, int((self.deadline - time.monotonic()) * 1000))

report = {"calls": []}
try:
    if spec["record_calls"]:
        # Every AWS API call the handler makes, as "service:Operation" (IAM's spelling).
        import boto3
        boto3.setup_default_session()
        def record(model, **kwargs):
            # The signing name is IAM's service prefix ("events", where botocore says
            # "eventbridge").
            report["calls"].append(model.service_model.signing_name + ":" + model.name)
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", record)
    module_name, _, attribute = spec["handler"].rpartition(".")
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    report["import_seconds"] = time.perf_counter() - started
    if spec["event"] is not None:
        started = time.perf_counter()
        context = Context()
        context.deadline = time.monotonic() + spec["timeout_seconds"]
        report["result"] = getattr(module, attribute)(spec["event"], context)
        report["invoke_seconds"] = time.perf_counter() - started
except BaseException:
    report["error"] = traceback.format_exc()
# Where each module was loaded from (after the call: boto3 is imported lazily).
report["module_files"] = {
    name: getattr(sys.modules[name], "__file__", None)
    for name in spec["report_modules"] if name in sys.modules
}
# Every file a module was loaded from (the layer build compiles exactly the layer's share of it).
report["loaded_files"] = sorted(
    {f for f in (getattr(m, "__file__", None) for m in list(sys.modules.values())) if f}
)
with open(spec["report_path"], "w") as out:
    json.dump(report, out, default=str)
"""


# Tracing as deployed (Tracing.ACTIVE): Lambda hands the function a sampled trace header and the
# daemon's address. Here the daemon is a loopback port nobody listens on: the X-Ray SDK loads and
# patches boto3 as on Lambda, and its UDP segments go nowhere.
TRACING_ENVIRONMENT: Final = {
    "_X_AMZN_TRACE_ID": (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}


class ArtifactError(RuntimeError):
    """The assembly lacks a piece, or the runtime's Python is not on this machine."""


@dataclass(frozen=True)
class FunctionArtifact:
    """One function as the assembly will deploy it."""

    logical_id: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    memory_mb: int
    timeout_seconds: int
    environment: Mapping[str, Any] = field(default_factory=dict)  # values may be {"Ref": ...}

    @property
    def sys_path(self) -> list[str]:
        """Lambda's order: /var/task, then each layer's /opt/python."""
        return [str(self.code_dir), *(str(layer / "python") for layer in self.layer_dirs)]


@dataclass(frozen=True)
class Invocation:
    """What one ``invoke`` reported (``error`` holds the traceback if it raised)."""

    result: Any
    import_seconds: float | None
    error: str | None
    module_files: Mapping[str, str | None]
    loaded_files: tuple[str, ...]  # the file of every module in sys.modules at the end
    calls: tuple[str, ...]  # AWS API calls as "service:Operation", when recorded
    stdout: str
    stderr: str


def _staged_assets(assembly_dir: Path, stack_name: str) -> dict[str, Path]:
    """S3 object key of each file asset -> its staged folder or zip file in the assembly."""
    manifest = json.loads((assembly_dir / f"{stack_name}.assets.json").read_text())
    staged: dict[str, Path] = {}
    for asset in manifest["files"].values():
        for destination in asset["destinations"].values():
            staged[destination["objectKey"]] = assembly_dir / asset["source"]["path"]
    return staged


def read_functions(
    assembly_dir: Path, stack_name: str, unpack_dir: Path
) -> dict[str, FunctionArtifact]:
    """Every Lambda function of the stack, by handler string, with its staged folders.

    Assets staged as zip files (the layer) are extracted under ``unpack_dir``, as Lambda
    extracts them under /opt.
    """
    assembly_dir = assembly_dir.resolve()
    template = json.loads((assembly_dir / f"{stack_name}.template.json").read_text())
    resources: dict[str, Any] = template["Resources"]
    assets = _staged_assets(assembly_dir, stack_name)

    def staged(key: str) -> Path:
        path = assets.get(key)
        if path is None or not path.exists():
            raise ArtifactError(f"asset {key} is not staged in {assembly_dir}")
        if path.is_dir():
            return path
        target = unpack_dir.resolve() / key.removesuffix(".zip")
        if not target.is_dir():
            with zipfile.ZipFile(path) as archive:
                archive.extractall(target)
        return target

    functions: dict[str, FunctionArtifact] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        layers = tuple(
            staged(resources[layer["Ref"]]["Properties"]["Content"]["S3Key"])
            for layer in props.get("Layers", [])
        )
        functions[props["Handler"]] = FunctionArtifact(
            logical_id=logical_id,
            handler=props["Handler"],
            code_dir=staged(props["Code"]["S3Key"]),
            layer_dirs=layers,
            memory_mb=int(props["MemorySize"]),
            timeout_seconds=int(props["Timeout"]),
            environment=props.get("Environment", {}).get("Variables", {}),
        )
    return functions


def find_runtime_python() -> Path:
    """An interpreter of the Lambda runtime's version (pyenv's versions first, then PATH).

    pyenv's shims are skipped: a shim of a version that is not selected fails when run.
    """
    name = f"python{config.PYTHON_VERSION}"
    pyenv_versions = Path.home() / ".pyenv" / "versions"
    candidates = [
        *sorted(glob(str(pyenv_versions / f"{config.PYTHON_VERSION}.*" / "bin" / name))),
        *(
            str(Path(entry) / name)
            for entry in os.environ.get("PATH", "").split(os.pathsep)
            if entry and "shims" not in Path(entry).parts
        ),
    ]
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise ArtifactError(
        f"no {name} found in ~/.pyenv/versions or on PATH: the artifact runs under the "
        f"runtime's Python {config.PYTHON_VERSION} (install it, e.g. `pyenv install "
        f"{config.PYTHON_VERSION}`)"
    )


def runtime_boto3(version: str | None = None) -> Path:
    """A folder holding boto3 (and botocore...) as the Lambda runtime provides them, cached.

    The layer ships no boto3, so the artifact can only run with the runtime's copy beside it.
    Like the runtime's, it is compiled to bytecode by the runtime's Python, so that timing a
    cold import does not count compiling botocore. Defaults to the boto3 version of this venv.
    """
    version = version or metadata.version("boto3")
    target = RUNTIME_BOTO3_ROOT / f"{version}-py{config.PYTHON_VERSION}"
    if (target / "boto3" / "__init__.py").is_file():
        return target
    RUNTIME_BOTO3_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=RUNTIME_BOTO3_ROOT))
    try:
        command = [
            sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
            "--no-compile", *pip_target_args(), "--target", str(scratch), f"boto3=={version}",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ArtifactError(f"pip could not fetch boto3=={version}:\n{result.stderr[-3000:]}")
        compiled = subprocess.run(
            [str(find_runtime_python()), "-m", "compileall", "-q", "-j0", str(scratch)],
            capture_output=True,
            text=True,
            check=False,
        )
        if compiled.returncode != 0:
            raise ArtifactError(f"could not compile boto3:\n{compiled.stdout[-3000:]}")
        try:
            scratch.rename(target)
        except OSError:
            if not (target / "boto3" / "__init__.py").is_file():  # not another process's copy
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def resolve_environment(
    function: FunctionArtifact, refs: Mapping[str, str], **extra: str
) -> dict[str, str]:
    """The function's template variables with each ``{"Ref": id}`` replaced by ``refs[id]``.

    Taking the variables from the template (not from a hand-written list) proves that what the
    handlers read is what the stack sets. ``extra`` adds local-only variables (endpoints).
    """
    resolved: dict[str, str] = {}
    for name, value in function.environment.items():
        if isinstance(value, str):
            resolved[name] = value
        elif isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in refs:
            resolved[name] = refs[value["Ref"]]
        else:
            raise ArtifactError(f"{function.handler}: no local value for {name}={value!r}")
    return {**resolved, **extra}


def _placeholder_refs(function: FunctionArtifact) -> dict[str, str]:
    """A harmless stand-in for every resource a function's variables refer to."""
    return {
        value["Ref"]: f"placeholder-{value['Ref']}"
        for value in function.environment.values()
        if isinstance(value, dict) and "Ref" in value
    }


def lambda_environment(function: FunctionArtifact, region: str) -> dict[str, str]:
    """The variables the Lambda service itself sets (the function's own come on top)."""
    name = function.logical_id
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{config.PYTHON_VERSION}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        "_HANDLER": function.handler,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **TRACING_ENVIRONMENT,
    }


def invoke(
    function: FunctionArtifact,
    event: Mapping[str, Any] | None,
    *,
    environment: Mapping[str, str],
    boto3_dir: Path,
    python: Path | None = None,
    region: str = "us-east-1",
    report_modules: tuple[str, ...] = (),
    record_calls: bool = False,
) -> Invocation:
    """Import ``function``'s handler in a fresh runtime interpreter and call it with ``event``.

    ``environment`` is the whole environment besides what Lambda itself sets (nothing of this
    process leaks in). With ``event=None`` only the import is done and timed. ``record_calls``
    hooks boto3's default session to list every AWS API call (it imports boto3 first, so leave
    it off when timing the import).
    """
    python = python or find_runtime_python()
    with tempfile.TemporaryDirectory(prefix="artifact-") as scratch:
        report_path = Path(scratch) / "report.json"
        spec = {
            "paths": [*function.sys_path, str(boto3_dir)],
            "handler": function.handler,
            "event": event,
            "function_name": function.logical_id,
            "memory_mb": function.memory_mb,
            "timeout_seconds": function.timeout_seconds,
            "region": region,
            "report_path": str(report_path),
            "report_modules": list(report_modules),
            "record_calls": record_calls,
        }
        env = {**lambda_environment(function, region), **environment}
        completed = subprocess.run(
            [str(python), "-I", "-S", "-B", "-c", _RUNNER],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=env,
            cwd=scratch,
            timeout=INVOKE_TIMEOUT_SECONDS,
            check=False,
        )
        if not report_path.is_file():
            raise ArtifactError(
                f"{function.handler} crashed the interpreter ({completed.returncode}):\n"
                f"{completed.stderr[-4000:]}"
            )
        report = json.loads(report_path.read_text())
    return Invocation(
        result=report.get("result"),
        import_seconds=report.get("import_seconds"),
        error=report.get("error"),
        module_files=report.get("module_files", {}),
        loaded_files=tuple(report.get("loaded_files", [])),
        calls=tuple(report.get("calls", [])),
        stdout=completed.stdout,
        stderr=completed.stderr,
    )


def cold_import_seconds(
    function: FunctionArtifact,
    *,
    environment: Mapping[str, str],
    boto3_dir: Path,
    runs: int = COLD_IMPORT_RUNS,
) -> float:
    """Median time to import ``function``'s handler module in a fresh process."""
    timings: list[float] = []
    for _ in range(runs):
        invocation = invoke(function, None, environment=environment, boto3_dir=boto3_dir)
        if invocation.error or invocation.import_seconds is None:
            raise ArtifactError(f"{function.handler} failed to import:\n{invocation.error}")
        timings.append(invocation.import_seconds)
    return statistics.median(timings)


def main() -> None:
    """Print each handler's cold-import time from the assembly given as the first argument."""
    assembly_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    boto3_dir = runtime_boto3()
    unpack_dir = Path(tempfile.mkdtemp(prefix="artifact-layers-"))
    functions = read_functions(assembly_dir, config.STACK_NAME, unpack_dir)
    for handler, function in sorted(functions.items()):
        # Importing validates the settings but talks to no AWS service: placeholders will do.
        environment = resolve_environment(function, _placeholder_refs(function))
        seconds = cold_import_seconds(function, environment=environment, boto3_dir=boto3_dir)
        print(f"{handler}: cold import {seconds * 1000:.0f} ms (median of {COLD_IMPORT_RUNS})")


if __name__ == "__main__":
    main()

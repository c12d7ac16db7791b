"""One handler run the way Lambda runs it: a fresh interpreter of the runtime's version.

``invoke`` imports a function's handler with only its code folder, its layers' ``python/``
folders and the runtime's boto3 on ``sys.path`` (no site-packages, no environment leaking in)
and calls it with an event; the layer build uses it to learn what the cold starts load, the
tests and ``layer.assembly`` to run the very folders ``cdk deploy`` uploads.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from infra import config
from layer.errors import ArtifactError
from layer.runtime import find_runtime_python

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
        # Every AWS API call the handler makes, as "service:Operation" (IAM's spelling: the
        # signing name, "events" where botocore says "eventbridge"), read from its parameters
        # so that a transaction's actions are listed: IAM authorises each action of a
        # transaction by its item operation's name.
        transact_actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                            "ConditionCheck": "ConditionCheckItem"}
        def record(service, operation, params):
            prefix = service + ":"
            if operation == "TransactWriteItems":
                for action in (params or {}).get("TransactItems", []):
                    for kind in action:
                        report["calls"].append(prefix + transact_actions.get(kind, kind))
                return
            report["calls"].append(prefix + operation)
        # The library's lean clients tell their observers of each call (all its tries: one).
        from pydantic_dynamo.transport.observers import add_observer
        class CallRecorder:
            def start(self, call):
                record(call.service, call.operation, call.params)
            def finish(self, started, call, **outcome):
                pass
        add_observer(CallRecorder())
        # A boto3 client still in use (one the lean client delegates to, a user's) is heard
        # through boto3's default session, hooked when boto3 is first imported: importing it
        # here would hide whether the handler does.
        import importlib.abc, importlib.machinery
        def hook_boto3(boto3):
            boto3.setup_default_session()
            def before_parameter_build(model, params=None, **kwargs):
                record(model.service_model.signing_name, model.name, params)
            boto3.DEFAULT_SESSION.events.register(
                "before-parameter-build.*.*", before_parameter_build
            )
        class Boto3Hooker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name != "boto3":
                    return None
                found = importlib.machinery.PathFinder.find_spec(name, path)
                if found is None or found.loader is None:
                    return found
                loader = found.loader
                execute = loader.exec_module
                def exec_module(module):
                    execute(module)
                    sys.meta_path.remove(self)
                    hook_boto3(module)
                loader.exec_module = exec_module
                return found
        sys.meta_path.insert(0, Boto3Hooker())
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
    lists every AWS API call the handler makes: the library's lean clients' through a call
    observer (:mod:`pydantic_dynamo.transport.observers`), any boto3 client's through boto3's
    default session, hooked if and when boto3 is imported. It imports the library first, so
    leave it off when timing the import.
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

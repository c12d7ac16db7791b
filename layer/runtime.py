"""The Lambda runtime on this machine: its Python version's interpreter, its boto3, its wheels.

The layer is compiled by, and its handlers are probed under, an interpreter of the runtime's
version (``infra.config.PYTHON_VERSION``); the layer ships no boto3, so the probes run with a
copy of the runtime's beside it; and pip selects the runtime platform's wheels, not this
machine's (``pip_target_args``).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from glob import glob
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from infra import config
from layer.contents import CACHE_TAG, REPO_ROOT
from layer.errors import ArtifactError, LayerBuildError

RUNTIME_BOTO3_ROOT: Final = REPO_ROOT / "build" / "runtime-boto3"

# Runs under the runtime's Python. "describe": what the interpreter is. "compile": unchecked-hash
# pycs for the given files, named in tracebacks by their path under /opt. "imports": every
# module each file names, in an import statement at any depth or as a dotted string constant
# (importlib.import_module("...")), relative imports resolved.
_RUNTIME_TOOL: Final = r"""
import ast, importlib.util, json, platform, py_compile, re, sys
job = json.load(sys.stdin)
out = {}
if job["mode"] == "describe":
    out = {
        "implementation": sys.implementation.name,
        "version": platform.python_version(),
        "cache_tag": sys.implementation.cache_tag,
        "magic": importlib.util.MAGIC_NUMBER.hex(),
    }
elif job["mode"] == "compile":
    for rel in job["files"]:
        py_compile.compile(
            job["root"] + "/" + rel, dfile=job["dfile_root"] + "/" + rel, doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
elif job["mode"] == "imports":
    dotted = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
    for rel in job["files"]:
        parts = rel[:-3].split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        package = parts if is_package else parts[:-1]
        found = set()
        with open(job["root"] + "/" + rel, "rb") as source:
            tree = ast.parse(source.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                found.add(module)
                found.update(module + "." + alias.name for alias in node.names)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if dotted.match(node.value):
                    found.add(node.value)
        out[".".join(parts)] = sorted(found)
json.dump(out, sys.stdout)
"""


@dataclass(frozen=True)
class RuntimePython:
    """The interpreter of the Lambda runtime's version found on this machine."""

    path: Path
    implementation: str
    version: str  # e.g. "3.12.1"
    cache_tag: str  # e.g. "cpython-312"
    magic: bytes  # the first 4 bytes of every pyc it writes

    def describe(self) -> str:
        """What decides the bytecode it writes (not where it is installed)."""
        return f"{self.implementation} {self.version} {self.cache_tag} {self.magic.hex()}"


def run_tool(python: Path, job: Mapping[str, Any]) -> Any:
    """Run ``_RUNTIME_TOOL`` under ``python``: no site, no user environment, fixed hash seed.

    The fixed seed makes sets of strings marshal in the same order in every build.
    """
    result = subprocess.run(
        [str(python), "-S", "-s", "-P", "-c", _RUNTIME_TOOL],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "0"},
        check=False,
    )
    if result.returncode != 0:
        raise LayerBuildError(
            f"{python} failed ({result.returncode}) on {job['mode']}:\n{result.stderr[-4000:]}"
        )
    return json.loads(result.stdout)


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


@functools.cache
def runtime_python() -> RuntimePython:
    """The runtime's interpreter (see ``find_runtime_python``), checked.

    Raises ``LayerBuildError`` when there is none: the build does not fall back to a layer
    without bytecode (a fallback would give another machine another layer, and another layer
    version on every deploy from it, with a slower cold start, without anyone asking).
    """
    try:
        path = find_runtime_python()
    except ArtifactError as error:
        raise LayerBuildError(
            f"the layer is compiled by the Lambda runtime's Python {config.PYTHON_VERSION} and "
            f"none was found: {error}"
        ) from error
    found = run_tool(path, {"mode": "describe"})
    runtime = RuntimePython(
        path=path,
        implementation=found["implementation"],
        version=found["version"],
        cache_tag=found["cache_tag"],
        magic=bytes.fromhex(found["magic"]),
    )
    if runtime.cache_tag != CACHE_TAG:
        raise LayerBuildError(f"{path} writes {runtime.cache_tag} bytecode, not {CACHE_TAG}")
    return runtime


def pip_target_args() -> list[str]:
    """The pip options that select wheels for the Lambda runtime instead of this machine."""
    return [
        "--platform",
        config.PIP_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        config.PYTHON_VERSION,
        "--only-binary=:all:",
    ]


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

"""Build the Lambda layer without Docker, once per set of inputs.

The layer holds ``pydantic_dynamo`` and ``records_service`` (copied from ``shared/``) and the
third-party packages pinned in ``infra/layer/requirements.txt``, installed by pip with the Lambda
platform's wheels (``--platform manylinux2014_x86_64 --python-version 3.12 --only-binary=:all:``).
It carries no boto3/botocore (the runtime has them).

Bytecode: /opt is read-only on Lambda, so a module shipped without a ``.pyc`` is compiled again
by every cold start. The build imports each handler the way Lambda does (``infra.artifact``:
Python 3.12, only the function's folder, the new layer and the runtime's boto3 on the path) and
compiles exactly the layer modules those imports load, with the runtime's Python 3.12, into
``__pycache__/*.cpython-312.pyc`` as unchecked-hash pycs (valid whatever the files' dates, which
a zip does not keep). Compiling everything would make the zip 6.6 MB instead of about 4.9 MB.
The build fails when no Python 3.12 is found: a fallback without bytecode would give another
machine another layer (and another layer version on every deploy from it) and a twice slower
cold start, without anyone asking for it.

A few Powertools pieces no handler uses are dropped (``PRUNED_PATHS``, ``PRUNED_ASSETS``): every
build proves that no module it keeps imports them, even lazily, and the handlers' imports run
from the pruned layer before anything is compiled.

Every input (the requirements, the shared packages' files, the handlers' folders, the runtime
interpreter's version, the boto3 the handlers are imported with, the target platform and these
scripts) goes into one SHA-256. The layer is built into ``build/layer/<hash>/layer.zip``
(deterministic: sorted entries, fixed dates and modes, bytecode compiled in a fixed order with a
fixed hash seed) and reused as long as the hash is the same, so ``cdk synth`` and the tests pay
for pip and the compiler only when an input changed. The zip is the CDK asset itself: what is
measured and tested is byte for byte what ``cdk deploy`` uploads, and staging one file is much
faster than copying a folder of two thousand.

Run it by hand to see the result::

    python -m infra.layer_build          # build (or reuse) and print the path and sizes
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from infra import config
from records_service import names, topology

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
REQUIREMENTS_FILE: Final = REPO_ROOT / "infra" / "layer" / "requirements.txt"
SHARED_DIR: Final = REPO_ROOT / "shared"
# The first-party packages that go into the layer, as folders under shared/.
LAYER_PACKAGES: Final = ("pydantic_dynamo", "records_service")
BUILD_ROOT: Final = REPO_ROOT / "build" / "layer"
# Lambda layers are extracted to /opt; the Python runtimes put /opt/python on sys.path.
LAYER_PYTHON_DIR: Final = "python"
LAYER_MOUNT: Final = "/opt"
ZIP_NAME: Final = "layer.zip"
MANIFEST_NAME: Final = "manifest.json"
# Fixed entry date and modes: the same inputs always give the same bytes.
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_MODE: Final = 0o100644
# Completed builds kept besides the current one (older ones are deleted).
KEEP_OLD_BUILDS: Final = 2
# Packages that must never be in the layer: the runtime provides them, and a second copy would
# shadow the runtime's and grow the layer by ~25 MB.
FORBIDDEN_PACKAGES: Final = frozenset({"boto3", "botocore", "s3transfer"})
# The only bytecode the layer may hold: CPython's cache tag of the runtime's version.
CACHE_TAG: Final = f"cpython-{config.PYTHON_VERSION.replace('.', '')}"
# Modules no handler uses: Pydantic's mypy plugin and Powertools sub-packages (about 170 kB
# zipped). ``check_layer`` proves on every build that nothing the layer keeps imports them, at
# module level or inside a function; the handlers' imports then run from the pruned layer.
# schema_validation is the middleware of the validation utility (it imports it); batch's parser
# import is why the parser stays. The last entry must stay a package (tests/infra use it so).
PRUNED_PATHS: Final = (
    # Pydantic's mypy plugin: read by mypy, never imported at run time.
    "pydantic/mypy.py",
    "aws_lambda_powertools/event_handler/middlewares/schema_validation.py",
    "aws_lambda_powertools/utilities/auth_alpha",
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_masking",
    "aws_lambda_powertools/utilities/feature_flags",
    "aws_lambda_powertools/utilities/idempotency",
    "aws_lambda_powertools/utilities/kafka",
    "aws_lambda_powertools/utilities/metadata",
    "aws_lambda_powertools/utilities/parameters",
    "aws_lambda_powertools/utilities/streaming",
    "aws_lambda_powertools/utilities/validation",
)
# Swagger UI's bundle (1.7 MB, 0.44 MB zipped), read only by ``enable_swagger()`` called without
# ``swagger_base_url``. No handler calls ``enable_swagger`` (the build refuses one that does).
PRUNED_ASSETS: Final = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
    # wrapt's C source, beside the extension compiled from it; pydantic-core's software bill of
    # materials (the layer's manifest lists what it holds).
    "wrapt/_wrappers.c",
    "pydantic_core-2.50.5.dist-info/sboms",
)
# Files of every package's dist-info that only installers read (pip's list of installed files,
# for uninstalling); importlib.metadata's versions and entry points do not need them.
PRUNED_DIST_INFO_FILES: Final = ("RECORD",)
SWAGGER_CALL: Final = "enable_swagger"
# The variables the handlers need to import (settings are validated at import); the rest of the
# environment is what infra.artifact sets as Lambda does, tracing included.
PROBE_ENVIRONMENT: Final = {
    names.ENV_POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
    names.ENV_POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
    names.ENV_TABLE_NAME: "layer-build-probe",
    names.ENV_EVENT_BUS_NAME: "layer-build-probe",
}
# infra/artifact.py runs the handlers' imports for the build: an input like this script.
ARTIFACT_SCRIPT: Final = REPO_ROOT / "infra" / "artifact.py"
_IGNORED_PARTS: Final = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
_IGNORED_SUFFIXES: Final = frozenset({".pyc", ".pyo"})
# pyc header: magic (4 bytes), flags (4), then a source hash (8) or mtime and size (4 + 4).
_PYC_HEADER_BYTES: Final = 16
_PYC_UNCHECKED_HASH: Final = 0b01  # hash-based, check_source off

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


class LayerBuildError(RuntimeError):
    """The layer could not be built, or the built layer breaks one of its invariants."""


@dataclass(frozen=True)
class LayerBuild:
    """A finished layer build.

    ``zip_path`` is the file to hand to ``lambda.Code.from_asset`` (its entries start with
    ``python/``); ``input_hash`` identifies the inputs and serves as the CDK asset hash.
    """

    input_hash: str
    zip_path: Path
    unzipped_bytes: int
    zipped_bytes: int


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


def _run_tool(python: Path, job: Mapping[str, Any]) -> Any:
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


@functools.cache
def runtime_python() -> RuntimePython:
    """The runtime's interpreter (see ``infra.artifact.find_runtime_python``), checked.

    Raises ``LayerBuildError`` when there is none: the build does not fall back to a layer
    without bytecode (see the module's docstring).
    """
    from infra import artifact  # it imports this module: import it when first needed

    try:
        path = artifact.find_runtime_python()
    except artifact.ArtifactError as error:
        raise LayerBuildError(
            f"the layer is compiled by the Lambda runtime's Python {config.PYTHON_VERSION} and "
            f"none was found: {error}"
        ) from error
    found = _run_tool(path, {"mode": "describe"})
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


def handlers() -> tuple[tuple[str, str], ...]:
    """(code folder, handler string) of every function on the layer."""
    return (
        (names.API_CODE_DIR, names.API_HANDLER),
        *((route.code_dir, route.handler) for route in topology.QUEUE_ROUTES),
    )


def _source_files(root: Path) -> list[Path]:
    """Every file under ``root`` but caches and bytecode."""
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and not _IGNORED_PARTS.intersection(path.relative_to(root).parts)
        and path.suffix not in _IGNORED_SUFFIXES
    ]


def _first_party_files() -> list[Path]:
    """Every file copied from ``shared/`` into the layer, sorted for a stable hash."""
    files: list[Path] = []
    for package in LAYER_PACKAGES:
        root = SHARED_DIR / package
        if not (root / "__init__.py").is_file():
            raise LayerBuildError(f"{root} is not a package (no __init__.py)")
        files.extend(_source_files(root))
    return sorted(files)


def _handler_files() -> list[Path]:
    """Every file of the handlers' folders: what they import decides what is compiled."""
    return sorted(
        {path for code_dir, _ in handlers() for path in _source_files(REPO_ROOT / code_dir)}
    )


def input_hash() -> str:
    """The SHA-256 of everything that decides the layer's content."""
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        # Length-prefixed so that no two different input sets can produce the same stream.
        for part in (label.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)

    feed("platform", json.dumps(pip_target_args()).encode())
    feed("requirements", REQUIREMENTS_FILE.read_bytes())
    feed("build-script", Path(__file__).read_bytes())
    feed("probe-script", ARTIFACT_SCRIPT.read_bytes())
    feed("runtime-python", runtime_python().describe().encode())
    feed("probe-boto3", metadata.version("boto3").encode())
    feed("handlers", json.dumps(handlers()).encode())
    for path in _first_party_files():
        feed(path.relative_to(SHARED_DIR).as_posix(), path.read_bytes())
    for path in _handler_files():
        feed(path.relative_to(REPO_ROOT).as_posix(), path.read_bytes())
    return digest.hexdigest()


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


def _pip_install(target: Path) -> None:
    """Install the pinned requirements (and nothing else) into ``target``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-deps",  # the requirements file is the full closure, without boto3/botocore
        "--no-compile",  # this machine's Python would compile everything, for its own version
        *pip_target_args(),
        "--target",
        str(target),
        "--requirement",
        str(REQUIREMENTS_FILE),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(
            f"pip failed ({result.returncode}) building the layer:\n{result.stderr[-4000:]}"
        )


def _copy_first_party(python_dir: Path) -> None:
    """Copy the shared packages into the layer, without caches or bytecode."""
    for path in _first_party_files():
        destination = python_dir / path.relative_to(SHARED_DIR)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def _strip(python_dir: Path) -> None:
    """Remove what is useless on Lambda: console scripts (shebangs point at this machine)."""
    shutil.rmtree(python_dir / "bin", ignore_errors=True)
    for cache in list(python_dir.rglob("__pycache__")):
        shutil.rmtree(cache)


def _pruned_modules() -> list[str]:
    """The dotted names of the modules and packages ``PRUNED_PATHS`` removes."""
    return [path.removesuffix(".py").replace("/", ".") for path in PRUNED_PATHS]


def _prune(python_dir: Path) -> None:
    """Delete ``PRUNED_PATHS`` and ``PRUNED_ASSETS``, refusing to build if the handlers need them.

    A path that is not there any more fails the build too: the list must follow the packages.
    """
    mentions = [
        path
        for path in (*_first_party_files(), *_handler_files())
        if path.suffix == ".py" and SWAGGER_CALL in path.read_text(encoding="utf-8")
    ]
    if mentions:
        raise LayerBuildError(
            f"{mentions[0]} calls {SWAGGER_CALL}: keep Swagger UI's files in the layer (remove "
            "them from PRUNED_ASSETS) or pass swagger_base_url"
        )
    for relative in (*PRUNED_PATHS, *PRUNED_ASSETS):
        path = python_dir / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
        else:
            raise LayerBuildError(f"{relative} is not in the layer: update PRUNED_PATHS/ASSETS")
    for path in _installer_files(python_dir):
        path.unlink()


def _installer_files(python_dir: Path) -> list[Path]:
    """The ``PRUNED_DIST_INFO_FILES`` of every dist-info in the layer."""
    return sorted(
        path for name in PRUNED_DIST_INFO_FILES for path in python_dir.glob(f"*.dist-info/{name}")
    )


def cold_start_modules(content_dir: Path, runtime: RuntimePython) -> list[str]:
    """The layer's source files (relative to ``python/``) that importing the handlers loads.

    Each handler is imported in a fresh runtime interpreter with only its folder, the layer in
    ``content_dir`` and the runtime's boto3 on the path, as on Lambda (``infra.artifact``).
    """
    from infra import artifact  # it imports this module: import it when first needed

    python_dir = content_dir / LAYER_PYTHON_DIR
    boto3_dir = artifact.runtime_boto3(metadata.version("boto3"))
    loaded: set[str] = set()
    for code_dir, handler in handlers():
        function = artifact.FunctionArtifact(
            logical_id=handler.split(".")[0],
            handler=handler,
            code_dir=REPO_ROOT / code_dir,
            layer_dirs=(content_dir,),
            memory_mb=config.API_MEMORY_MB,
            timeout_seconds=30,
        )
        invocation = artifact.invoke(
            function, None, environment=PROBE_ENVIRONMENT, boto3_dir=boto3_dir, python=runtime.path
        )
        if invocation.error is not None:
            raise LayerBuildError(f"{handler} does not import from the layer:\n{invocation.error}")
        for file in map(Path, invocation.loaded_files):
            if file.suffix == ".py" and file.is_relative_to(python_dir):
                loaded.add(file.relative_to(python_dir).as_posix())
    return sorted(loaded)


def compile_modules(python_dir: Path, files: Iterable[str], runtime: RuntimePython) -> None:
    """Write unchecked-hash ``__pycache__/*.cpython-312.pyc`` for ``files`` (relative paths)."""
    _run_tool(
        runtime.path,
        {
            "mode": "compile",
            "root": str(python_dir),
            "files": sorted(files),
            "dfile_root": f"{LAYER_MOUNT}/{LAYER_PYTHON_DIR}",
        },
    )


def _bytecode_problem(pyc: Path, magic: bytes) -> str | None:
    """Why Lambda's Python would not use ``pyc`` as it is, or None."""
    if pyc.suffix != ".pyc":
        return "not a .pyc"
    if pyc.parent.name != "__pycache__":
        return "outside __pycache__"
    stem, _, tag = pyc.name.partition(".")
    if tag != f"{CACHE_TAG}.pyc":
        return f"not {CACHE_TAG}"
    if not (pyc.parent.parent / f"{stem}.py").is_file():
        return "no source beside it"
    header = pyc.read_bytes()[:_PYC_HEADER_BYTES]
    if len(header) < _PYC_HEADER_BYTES or header[:4] != magic:
        return f"not the magic number of the runtime's Python ({magic.hex()})"
    if int.from_bytes(header[4:8], "little") != _PYC_UNCHECKED_HASH:
        return "not an unchecked-hash pyc"
    return None


def check_layer(python_dir: Path, runtime: RuntimePython) -> None:
    """Raise ``LayerBuildError`` unless the layer keeps its invariants.

    No boto3/botocore; bytecode only as unchecked-hash ``__pycache__/*.cpython-312.pyc`` of the
    runtime's Python beside their source; every extension module built for the runtime's
    CPython; the pruned pieces absent and imported by nothing that stays.
    """
    top_level = {path.name.split("-")[0].lower() for path in python_dir.iterdir()}
    shipped_forbidden = sorted(FORBIDDEN_PACKAGES & top_level)
    if shipped_forbidden:
        raise LayerBuildError(f"the layer must not ship {shipped_forbidden}")
    for path in sorted(python_dir.rglob("*")):
        if path.suffix in _IGNORED_SUFFIXES:
            problem = _bytecode_problem(path, runtime.magic)
            if problem:
                raise LayerBuildError(
                    f"the layer holds bytecode Lambda would not use: {problem}, {path}"
                )
    abi_tag = f"{CACHE_TAG}-{config.ARCHITECTURE}"
    wrong_abi = [
        so for so in python_dir.rglob("*.so") if abi_tag not in so.name and ".abi3." not in so.name
    ]
    if wrong_abi:
        raise LayerBuildError(f"extension modules not built for {abi_tag}: {wrong_abi}")
    for package in LAYER_PACKAGES:
        if not (python_dir / package / "__init__.py").is_file():
            raise LayerBuildError(f"the layer lacks the package {package}")
    shipped_pruned = [p for p in (*PRUNED_PATHS, *PRUNED_ASSETS) if (python_dir / p).exists()]
    shipped_pruned += [p.relative_to(python_dir).as_posix() for p in _installer_files(python_dir)]
    if shipped_pruned:
        raise LayerBuildError(f"pruned from the layer but there: {shipped_pruned}")
    importers = pruned_importers(python_dir, runtime)
    if importers:
        raise LayerBuildError(
            f"modules of the layer import what PRUNED_PATHS removes: {importers} (keep it)"
        )


def pruned_importers(python_dir: Path, runtime: RuntimePython) -> dict[str, list[str]]:
    """Each module in ``python_dir`` that names a pruned module -> the pruned names it uses."""
    files = sorted(path.relative_to(python_dir).as_posix() for path in python_dir.rglob("*.py"))
    imports: dict[str, list[str]] = _run_tool(
        runtime.path, {"mode": "imports", "root": str(python_dir), "files": files}
    )
    pruned = _pruned_modules()
    found: dict[str, list[str]] = {}
    for module, names_used in imports.items():
        hits = sorted(
            {p for p in pruned for name in names_used if name == p or name.startswith(p + ".")}
        )
        if hits:
            found[module] = hits
    return found


def write_zip(folder: Path, destination: Path) -> None:
    """Zip ``folder``'s content (paths relative to it) deterministically into ``destination``."""
    with zipfile.ZipFile(
        destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    ) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_DATE)
                entry.external_attr = _ZIP_FILE_MODE << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes(), compresslevel=9)


def _folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _remove_old_builds(keep: Path) -> None:
    """Delete all but the newest ``KEEP_OLD_BUILDS`` completed builds besides ``keep``."""
    builds = sorted(
        (
            p
            for p in BUILD_ROOT.iterdir()
            if p.is_dir() and p != keep and not p.name.startswith(".")
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[KEEP_OLD_BUILDS:]:
        shutil.rmtree(old, ignore_errors=True)


def _load(build_dir: Path) -> LayerBuild | None:
    """The finished build in ``build_dir``, or None if there is none (or it is incomplete)."""
    manifest = build_dir / MANIFEST_NAME
    if not manifest.is_file() or not (build_dir / ZIP_NAME).is_file():
        return None
    data = json.loads(manifest.read_text())
    return LayerBuild(
        input_hash=data["input_hash"],
        zip_path=build_dir / ZIP_NAME,
        unzipped_bytes=data["unzipped_bytes"],
        zipped_bytes=data["zipped_bytes"],
    )


def build_layer() -> LayerBuild:
    """Build the layer, or return the cached build whose inputs are the same.

    The build happens in a scratch folder that is renamed into place only once it is complete
    and checked, so an interrupted build never leaves a half layer that looks finished.
    """
    digest = input_hash()
    build_dir = BUILD_ROOT / digest
    cached = _load(build_dir)
    if cached is not None:
        return cached

    runtime = runtime_python()
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = BUILD_ROOT / f".tmp-{digest[:12]}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        content = scratch / "content"
        python_dir = content / LAYER_PYTHON_DIR
        python_dir.mkdir(parents=True)
        _pip_install(python_dir)
        _copy_first_party(python_dir)
        _strip(python_dir)
        _prune(python_dir)
        compiled = cold_start_modules(content, runtime)
        compile_modules(python_dir, compiled, runtime)
        if input_hash() != digest:
            raise LayerBuildError("shared/ or lambdas/ changed while the layer was built: again")
        check_layer(python_dir, runtime)
        write_zip(content, scratch / ZIP_NAME)
        manifest = {
            "input_hash": digest,
            "python_version": config.PYTHON_VERSION,
            "pip_platform": config.PIP_PLATFORM,
            "runtime_python": runtime.describe(),
            "unzipped_bytes": _folder_size(content),
            "zipped_bytes": (scratch / ZIP_NAME).stat().st_size,
            "distributions": sorted(p.name for p in python_dir.glob("*.dist-info")),
            "pruned": [*PRUNED_PATHS, *PRUNED_ASSETS],
            "compiled": compiled,
        }
        shutil.rmtree(content)
        (scratch / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        if build_dir.exists() and _load(build_dir) is None:
            shutil.rmtree(build_dir)  # an interrupted or older-format build
        try:
            scratch.rename(build_dir)
        except OSError:
            # Another process finished the same build first: use its (identical) result.
            if _load(build_dir) is None:
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _remove_old_builds(keep=build_dir)
    built = _load(build_dir)
    if built is None:  # pragma: no cover - the rename above just put the manifest there
        raise LayerBuildError(f"no manifest in {build_dir} after the build")
    return built


def main() -> None:
    """Build (or reuse) the layer and print where it is and how big it is."""
    layer = build_layer()
    manifest = json.loads((layer.zip_path.parent / MANIFEST_NAME).read_text())
    print(f"layer {layer.input_hash[:16]} at {layer.zip_path}")
    print(f"unzipped {layer.unzipped_bytes / 1e6:.1f} MB, zipped {layer.zipped_bytes / 1e6:.2f} MB")
    print(f"{len(manifest['compiled'])} modules compiled by {manifest['runtime_python']}")


if __name__ == "__main__":
    main()

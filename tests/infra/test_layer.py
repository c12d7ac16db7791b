"""The layer: built without Docker for the runtime, carrying nothing extra, cached by inputs.

Its bytecode is exactly what the handlers' cold starts load, compiled by the runtime's Python as
unchecked-hash pycs; the Powertools pieces it prunes are used by nothing it keeps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import tomllib
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from infra import artifact, config, layer_build
from records_service import names
from tests.infra.conftest import Synthesized

MAX_ZIPPED_BYTES = 5_000_000  # the budget the issue sets
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")
PYC_ENTRY = re.compile(r"^python/(?:.+/)?__pycache__/[A-Za-z_]\w*\.cpython-312\.pyc$")
REGION = "us-east-1"

# Imports one handler under the runtime's Python as Lambda does (see infra.artifact) and reports
# every file compiled from source while doing it and every module file loaded.
_COLD_START_PROBE = r"""
import builtins, importlib, json, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["paths"]
compiled = []
real_compile = builtins.compile
def compile(source, filename, *args, **kwargs):
    compiled.append(str(filename))
    return real_compile(source, filename, *args, **kwargs)
builtins.compile = compile
importlib.import_module(spec["module"])
files = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
loaded = sorted({f for f in files if f})
with open(spec["report"], "w") as out:
    json.dump({"compiled": compiled, "loaded": loaded}, out)
"""

# Checks every pyc under a folder against the interpreter running it: magic number, flags
# (unchecked hash) and the hash of the source beside it. Prints the pycs that fail.
_PYC_AUDIT = r"""
import importlib.util, json, pathlib, sys
bad = []
for pyc in sorted(pathlib.Path(sys.argv[1]).rglob("*.pyc")):
    source = pyc.parent.parent / (pyc.name.split(".")[0] + ".py")
    data = pyc.read_bytes()
    if (data[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(data[4:8], "little") != 1
            or data[8:16] != importlib.util.source_hash(source.read_bytes())):
        bad.append(str(pyc))
print(json.dumps(bad))
"""


def _layer_zip(synthesized: Synthesized) -> Path:
    """The layer as staged in the cloud assembly (what ``cdk deploy`` uploads)."""
    resources = synthesized.template_json["Resources"]
    (layer,) = [r for r in resources.values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    key = layer["Properties"]["Content"]["S3Key"]
    manifest = json.loads(
        (synthesized.assembly_dir / f"{config.STACK_NAME}.assets.json").read_text()
    )
    (path,) = [
        asset["source"]["path"]
        for asset in manifest["files"].values()
        if any(d["objectKey"] == key for d in asset["destinations"].values())
    ]
    return synthesized.assembly_dir / str(path)


def _pins() -> dict[str, str]:
    """Distribution name (normalized) -> pinned version, from the layer requirements."""
    pins: dict[str, str] = {}
    for line in layer_build.REQUIREMENTS_FILE.read_text().splitlines():
        match = REQUIREMENT.match(line.strip())
        if match:
            pins[_normalize(match[1])] = match[2]
    return pins


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def names_in_zip(synthesized: Synthesized) -> list[str]:
    with zipfile.ZipFile(_layer_zip(synthesized)) as archive:
        return archive.namelist()


@pytest.fixture(scope="module")
def python_dir(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The staged layer, extracted as Lambda extracts it under /opt: its ``python/`` folder."""
    target = tmp_path_factory.mktemp("layer")
    with zipfile.ZipFile(_layer_zip(synthesized)) as archive:
        archive.extractall(target)
    return target / layer_build.LAYER_PYTHON_DIR


@pytest.fixture(scope="module")
def functions(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, artifact.FunctionArtifact]:
    """The functions as staged in the assembly, by handler string."""
    return artifact.read_functions(
        synthesized.assembly_dir, config.STACK_NAME, tmp_path_factory.mktemp("unpacked")
    )


@pytest.fixture(scope="module")
def runtime() -> layer_build.RuntimePython:
    return layer_build.runtime_python()


def _placeholder_refs(function: artifact.FunctionArtifact) -> dict[str, str]:
    """A stand-in value for each resource the function's variables refer to."""
    return {
        value["Ref"]: f"placeholder-{value['Ref']}"
        for value in function.environment.values()
        if isinstance(value, dict) and "Ref" in value
    }


def _lambda_environment(function: artifact.FunctionArtifact) -> dict[str, str]:
    """What Lambda and the template set, with placeholders for the resources."""
    return {
        **artifact.lambda_environment(function, REGION),
        **artifact.resolve_environment(function, _placeholder_refs(function)),
    }


def _pyc_sources(names_in_zip: list[str]) -> set[str]:
    """The source beside each pyc of the zip, relative to ``python/``."""
    return {
        re.sub(r"__pycache__/(\w+)\.cpython-312\.pyc$", r"\1.py", name).removeprefix("python/")
        for name in names_in_zip
        if name.endswith(".pyc")
    }


def test_the_staged_layer_is_the_cached_build(synthesized: Synthesized) -> None:
    build = layer_build.build_layer()
    staged = _layer_zip(synthesized).read_bytes()
    assert hashlib.sha256(staged).digest() == hashlib.sha256(build.zip_path.read_bytes()).digest()


def test_zipped_layer_is_under_budget(synthesized: Synthesized) -> None:
    size = _layer_zip(synthesized).stat().st_size
    assert size < MAX_ZIPPED_BYTES, f"layer zip is {size / 1e6:.2f} MB"


def test_everything_is_under_python_for_opt_python(names_in_zip: list[str]) -> None:
    assert all(name.startswith(f"{layer_build.LAYER_PYTHON_DIR}/") for name in names_in_zip)


def test_no_boto3_botocore_or_s3transfer(names_in_zip: list[str]) -> None:
    top_level = {name.split("/")[1].split("-")[0].lower() for name in names_in_zip}
    assert not top_level & {"boto3", "botocore", "s3transfer"}


def test_no_console_scripts(names_in_zip: list[str]) -> None:
    assert not [n for n in names_in_zip if n.startswith("python/bin/")]


def test_bytecode_is_cpython_312_in_pycache_beside_its_source(names_in_zip: list[str]) -> None:
    bytecode = [n for n in names_in_zip if n.endswith((".pyc", ".pyo")) or "__pycache__" in n]
    assert bytecode
    assert [n for n in bytecode if not PYC_ENTRY.match(n)] == []
    assert _pyc_sources(names_in_zip) <= {n.removeprefix("python/") for n in names_in_zip}


def test_every_pyc_is_unchecked_hash_for_the_runtime_and_matches_its_source(
    python_dir: Path, runtime: layer_build.RuntimePython
) -> None:
    """Magic number, flags and source hash, checked by the runtime's own interpreter.

    An unchecked-hash pyc is used without looking at the source: one compiled from another
    version of the source would run in its place. None is.
    """
    result = subprocess.run(
        [str(runtime.path), "-I", "-S", "-B", "-c", _PYC_AUDIT, str(python_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == []


def test_the_bytecode_is_what_the_cold_starts_load_and_they_compile_nothing_of_the_layer(
    functions: dict[str, artifact.FunctionArtifact],
    names_in_zip: list[str],
    runtime: layer_build.RuntimePython,
    tmp_path: Path,
) -> None:
    """Each handler of the assembly, imported with its template's environment: no module of the
    layer is compiled from source (its pyc is there and valid), and every pyc shipped is used by
    at least one handler (nothing is compiled that no cold start loads)."""
    assert {handler for _, handler in layer_build.handlers()} == set(functions)
    loaded_from_layer: set[str] = set()
    for handler, function in sorted(functions.items()):
        (layer,) = function.layer_dirs
        layer_python = layer / layer_build.LAYER_PYTHON_DIR
        spec = {
            "paths": [*function.sys_path, str(artifact.runtime_boto3())],
            "module": handler.rpartition(".")[0],
            "report": str(tmp_path / "report.json"),
        }
        subprocess.run(
            [str(runtime.path), "-I", "-S", "-B", "-c", _COLD_START_PROBE, json.dumps(spec)],
            env=_lambda_environment(function),
            cwd=tmp_path,
            capture_output=True,
            check=True,
        )
        report = json.loads((tmp_path / "report.json").read_text())
        compiled = [f for f in report["compiled"] if Path(f).is_relative_to(layer_python)]
        assert compiled == [], handler
        loaded_from_layer |= {
            Path(f).relative_to(layer_python).as_posix()
            for f in report["loaded"]
            if f.endswith(".py") and Path(f).is_relative_to(layer_python)
        }
    assert loaded_from_layer == _pyc_sources(names_in_zip)


def test_extension_modules_are_built_for_the_runtime(names_in_zip: list[str]) -> None:
    extensions = [n for n in names_in_zip if n.endswith(".so")]
    tag = f"cpython-{config.PYTHON_VERSION.replace('.', '')}-{config.ARCHITECTURE}-linux-gnu"
    assert any("pydantic_core/_pydantic_core" in n for n in extensions)
    assert all(tag in n or ".abi3." in n for n in extensions), extensions


def test_first_party_packages_are_byte_identical_to_shared(synthesized: Synthesized) -> None:
    shared = layer_build.SHARED_DIR
    with zipfile.ZipFile(_layer_zip(synthesized)) as archive:
        for package in layer_build.LAYER_PACKAGES:
            sources = sorted(
                p
                for p in (shared / package).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
            assert sources, package
            for source in sources:
                entry = f"python/{source.relative_to(shared).as_posix()}"
                assert archive.read(entry) == source.read_bytes(), entry


def test_every_top_level_module_imports_under_the_runtime_python(python_dir: Path) -> None:
    modules = sorted(
        p.name.removesuffix(".py")
        for p in python_dir.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py"
    )
    # Submodules that load compiled code or the Powertools pieces the handlers use.
    modules += [
        "pydantic_core._pydantic_core",
        "aws_xray_sdk.core",
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.parser",
    ]
    code = "import importlib, sys\n" + "".join(
        f"importlib.import_module({module!r})\n" for module in modules
    )
    paths = [str(python_dir), str(artifact.runtime_boto3())]
    script = f"import sys; sys.path[:0] = {paths!r}\n{code}"
    result = subprocess.run(
        [str(artifact.find_runtime_python()), "-I", "-S", "-B", "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_pruned_pieces_are_not_in_the_zip(names_in_zip: list[str]) -> None:
    pruned = [f"python/{path}" for path in (*layer_build.PRUNED_PATHS, *layer_build.PRUNED_ASSETS)]
    assert not [n for n in names_in_zip if any(n == p or n.startswith(p + "/") for p in pruned)]


def test_nothing_left_in_the_layer_imports_a_pruned_module(
    python_dir: Path, runtime: layer_build.RuntimePython
) -> None:
    """At module level or inside a function (a lazy import), relative or absolute."""
    assert layer_build.pruned_importers(python_dir, runtime) == {}


def test_every_powertools_module_left_imports_under_the_runtime_python(
    python_dir: Path, runtime: layer_build.RuntimePython
) -> None:
    """Pruning broke no module of Powertools: each one left in the layer imports, or lacks only
    an optional third-party package that the layer never shipped."""
    modules = sorted(
        ".".join(p.relative_to(python_dir).with_suffix("").parts).removesuffix(".__init__")
        for p in (python_dir / "aws_lambda_powertools").rglob("*.py")
    )
    script = (
        "import importlib, json, sys\n"
        f"sys.path[:0] = {[str(python_dir), str(artifact.runtime_boto3())]!r}\n"
        "failures = {}\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as error:\n"
        "        failures[name] = error.name or ''\n"
        "print(json.dumps(failures))\n"
    )
    result = subprocess.run(
        [str(runtime.path), "-I", "-S", "-B", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    missing: dict[str, str] = json.loads(result.stdout)
    assert len(modules) > 200

    def in_layer(name: str) -> bool:
        top = name.partition(".")[0]
        return (python_dir / top).exists() or (python_dir / f"{top}.py").exists()

    assert {module: name for module, name in missing.items() if not name or in_layer(name)} == {}


def test_the_api_serves_no_swagger_ui(functions: dict[str, artifact.FunctionArtifact]) -> None:
    """Swagger UI's bundle is pruned: the API must not serve it (and does not)."""
    api = functions[names.API_HANDLER]
    event = {
        "resource": "/{proxy+}",
        "path": "/swagger",
        "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.amazonaws.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": "swagger"},
        "stageVariables": None,
        "requestContext": {
            "requestId": "00000000-0000-4000-8000-000000000001",
            "stage": config.API_STAGE_NAME,
            "path": f"/{config.API_STAGE_NAME}/swagger",
            "httpMethod": "GET",
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    invocation = artifact.invoke(
        api,
        event,
        environment=artifact.resolve_environment(api, _placeholder_refs(api)),
        boto3_dir=artifact.runtime_boto3(),
        region=REGION,
    )
    assert invocation.error is None, invocation.error
    assert invocation.result["statusCode"] == 404, invocation.result


def test_layer_pins_are_the_versions_the_tests_run() -> None:
    """The library's and handlers' dependencies ship at the exact versions this venv tests with.

    (The X-Ray SDK is left out: nothing in the venv runs it; the artifact tests run the layer's.)
    """
    pins = _pins()
    for name in ("pydantic", "pydantic-core", "aws-lambda-powertools"):
        assert pins[name] == metadata.version(name), name


def test_layer_requirements_cover_the_runtime_dependencies_but_boto3() -> None:
    pyproject = tomllib.loads((layer_build.REPO_ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["service"]]
    names = {
        _normalize(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]) for requirement in declared
    }
    assert names - {"boto3"} <= set(_pins())
    assert not {"boto3", "botocore", "s3transfer"} & set(_pins())


def test_input_hash_is_stable_for_the_same_inputs() -> None:
    assert layer_build.input_hash() == layer_build.input_hash()


def test_input_hash_changes_with_the_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = layer_build.input_hash()
    changed = tmp_path / "requirements.txt"
    changed.write_text(layer_build.REQUIREMENTS_FILE.read_text() + "\n# a change\n")
    monkeypatch.setattr(layer_build, "REQUIREMENTS_FILE", changed)
    assert layer_build.input_hash() != before


def test_input_hash_follows_the_shared_sources_not_their_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = layer_build.input_hash()
    copy = tmp_path / "shared"
    for package in layer_build.LAYER_PACKAGES:
        shutil.copytree(
            layer_build.SHARED_DIR / package,
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    monkeypatch.setattr(layer_build, "SHARED_DIR", copy)
    assert layer_build.input_hash() == before
    (copy / "records_service" / "names.py").write_text("# edited\n", encoding="utf-8")
    assert layer_build.input_hash() != before


def test_a_bytecode_cache_in_shared_does_not_change_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = layer_build.input_hash()
    copy = tmp_path / "shared"
    for package in layer_build.LAYER_PACKAGES:
        shutil.copytree(layer_build.SHARED_DIR / package, copy / package)
    (copy / "pydantic_dynamo" / "__pycache__").mkdir(exist_ok=True)
    (copy / "pydantic_dynamo" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    monkeypatch.setattr(layer_build, "SHARED_DIR", copy)
    assert layer_build.input_hash() == before


def test_input_hash_follows_the_runtime_python(
    runtime: layer_build.RuntimePython, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = layer_build.input_hash()
    newer = dataclasses.replace(runtime, version="3.12.99")
    monkeypatch.setattr(layer_build, "runtime_python", lambda: newer)
    assert layer_build.input_hash() != before


def test_input_hash_follows_the_handlers_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the handlers import decides what is compiled: their code is an input."""
    before = layer_build.input_hash()
    for code_dir, _ in layer_build.handlers():
        shutil.copytree(
            layer_build.REPO_ROOT / code_dir,
            tmp_path / code_dir,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    monkeypatch.setattr(layer_build, "REPO_ROOT", tmp_path)
    assert layer_build.input_hash() == before
    handler_file = tmp_path / names.API_CODE_DIR / "records_api" / "handler.py"
    handler_file.write_text(handler_file.read_text() + "\nimport json\n")
    assert layer_build.input_hash() != before


@pytest.fixture
def no_cached_runtime() -> Iterator[None]:
    layer_build.runtime_python.cache_clear()
    yield
    layer_build.runtime_python.cache_clear()


@pytest.mark.usefixtures("no_cached_runtime")
def test_without_python_312_the_build_fails_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pyenv/versions/3.12.*
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.12 on PATH
    with pytest.raises(layer_build.LayerBuildError, match=r"Python 3\.12 .*pyenv install"):
        layer_build.input_hash()


def test_a_build_from_scratch_gives_the_same_bytes(
    synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic end to end: pip, pruning, the cold-start probe, compiling, zipping."""
    staged = _layer_zip(synthesized).read_bytes()
    monkeypatch.setattr(layer_build, "BUILD_ROOT", tmp_path / "layer")
    rebuilt = layer_build.build_layer()
    assert rebuilt.zip_path.is_relative_to(tmp_path)
    assert hashlib.sha256(rebuilt.zip_path.read_bytes()).digest() == hashlib.sha256(staged).digest()
    manifest: dict[str, Any] = json.loads((rebuilt.zip_path.parent / "manifest.json").read_text())
    assert manifest["runtime_python"].startswith("cpython 3.12.")


@pytest.fixture
def clean_layer(tmp_path: Path, runtime: layer_build.RuntimePython) -> Path:
    """A minimal layer that passes ``check_layer``: the packages, one module compiled."""
    for package in layer_build.LAYER_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("x = 1\n")
    layer_build.compile_modules(tmp_path, ["pydantic_dynamo/__init__.py"], runtime)
    layer_build.check_layer(tmp_path, runtime)
    return tmp_path


def _valid_pyc(layer: Path) -> bytes:
    return (layer / "pydantic_dynamo" / "__pycache__" / "__init__.cpython-312.pyc").read_bytes()


@pytest.mark.parametrize(
    ("intruder", "content", "reason"),
    [
        ("botocore/__init__.py", None, "must not ship"),
        ("pydantic_dynamo/__pycache__/__init__.cpython-311.pyc", None, "not cpython-312"),
        ("pydantic_dynamo/__pycache__/__init__.cpython-312.opt-1.pyc", None, "not cpython-312"),
        ("pydantic_dynamo/__init__.pyc", None, "outside __pycache__"),
        ("pydantic_dynamo/__pycache__/gone.cpython-312.pyc", None, "no source"),
        ("pydantic_dynamo/__pycache__/__init__.cpython-312.pyc", "timestamp", "unchecked-hash"),
        ("pydantic_dynamo/__pycache__/__init__.cpython-312.pyc", "checked", "unchecked-hash"),
        ("pydantic_dynamo/__pycache__/__init__.cpython-312.pyc", "magic-3.11", "magic number"),
        ("pydantic_dynamo/__init__.pyo", None, "bytecode"),
        ("wrapt/_wrappers.cpython-311-x86_64-linux-gnu.so", None, "not built for"),
        (f"{layer_build.PRUNED_PATHS[-1]}/__init__.py", None, "pruned from the layer"),
        (layer_build.PRUNED_ASSETS[0], None, "pruned from the layer"),
        ("records_service/lazy.py", "lazy-import", "PRUNED_PATHS"),
        ("aws_lambda_powertools/utilities/batch/lazy.py", "relative-import", "PRUNED_PATHS"),
        ("records_service/by_name.py", "import-module", "PRUNED_PATHS"),
    ],
)
def test_check_layer_refuses_what_would_break_on_lambda(
    clean_layer: Path,
    runtime: layer_build.RuntimePython,
    intruder: str,
    content: str | None,
    reason: str,
) -> None:
    valid = _valid_pyc(clean_layer)
    pruned = layer_build.PRUNED_PATHS[-1].replace("/", ".")  # a pruned package
    contents: dict[str | None, bytes] = {
        None: valid,
        "timestamp": valid[:4] + (0).to_bytes(4, "little") + valid[8:],
        "checked": valid[:4] + (0b11).to_bytes(4, "little") + valid[8:],
        "magic-3.11": bytes.fromhex("a70d0d0a") + valid[4:],
        "lazy-import": f"def f():\n    import {pruned}\n".encode(),
        "relative-import": f"def f():\n    from ..{pruned.rpartition('.')[2]} import x\n".encode(),
        "import-module": f"import importlib\nimportlib.import_module({pruned!r})\n".encode(),
    }
    (clean_layer / intruder).parent.mkdir(parents=True, exist_ok=True)
    (clean_layer / intruder).write_bytes(contents[content])
    with pytest.raises(layer_build.LayerBuildError, match=reason):
        layer_build.check_layer(clean_layer, runtime)


def test_the_zip_is_deterministic(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    (folder / "python" / "pkg").mkdir(parents=True)
    (folder / "python" / "pkg" / "__init__.py").write_text("x = 1\n")
    layer_build.write_zip(folder, tmp_path / "a.zip")
    (folder / "python" / "pkg" / "__init__.py").touch()  # a new mtime changes nothing
    layer_build.write_zip(folder, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()

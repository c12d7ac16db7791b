"""What the built layer holds: the runtime's wheels and the first-party packages, nothing extra.

Its bytecode is compiled by the runtime's Python as unchecked-hash pycs beside their sources;
the pieces it prunes are absent and used by nothing it keeps.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

from infra import config
from layer import build, contents, runtime, verify
from tests.layer.helpers import pyc_sources

REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")
PYC_ENTRY = re.compile(r"^python/(?:.+/)?__pycache__/[A-Za-z_]\w*\.cpython-312\.pyc$")

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


def _pins() -> dict[str, str]:
    """Distribution name (normalized) -> pinned version, from the layer requirements."""
    pins: dict[str, str] = {}
    for line in contents.REQUIREMENTS_FILE.read_text().splitlines():
        match = REQUIREMENT.match(line.strip())
        if match:
            pins[_normalize(match[1])] = match[2]
    return pins


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_everything_is_under_python_for_opt_python(names_in_zip: list[str]) -> None:
    assert all(name.startswith(f"{contents.LAYER_PYTHON_DIR}/") for name in names_in_zip)


def test_no_boto3_botocore_or_s3transfer(names_in_zip: list[str]) -> None:
    top_level = {name.split("/")[1].split("-")[0].lower() for name in names_in_zip}
    assert not top_level & {"boto3", "botocore", "s3transfer"}


def test_no_console_scripts(names_in_zip: list[str]) -> None:
    assert not [n for n in names_in_zip if n.startswith("python/bin/")]


def test_bytecode_is_cpython_312_in_pycache_beside_its_source(names_in_zip: list[str]) -> None:
    bytecode = [n for n in names_in_zip if n.endswith((".pyc", ".pyo")) or "__pycache__" in n]
    assert bytecode
    assert [n for n in bytecode if not PYC_ENTRY.match(n)] == []
    assert pyc_sources(names_in_zip) <= {n.removeprefix("python/") for n in names_in_zip}


def test_every_pyc_is_unchecked_hash_for_the_runtime_and_matches_its_source(
    python_dir: Path, runtime_python: runtime.RuntimePython
) -> None:
    """Magic number, flags and source hash, checked by the runtime's own interpreter.

    An unchecked-hash pyc is used without looking at the source: one compiled from another
    version of the source would run in its place. None is.
    """
    result = subprocess.run(
        [str(runtime_python.path), "-I", "-S", "-B", "-c", _PYC_AUDIT, str(python_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == []


def test_the_compiled_modules_are_the_manifests_cold_start_modules(
    built: build.LayerBuild, names_in_zip: list[str]
) -> None:
    manifest = json.loads((built.zip_path.parent / build.MANIFEST_NAME).read_text())
    assert set(manifest["compiled"]) == pyc_sources(names_in_zip)


def test_extension_modules_are_built_for_the_runtime(names_in_zip: list[str]) -> None:
    extensions = [n for n in names_in_zip if n.endswith(".so")]
    tag = f"cpython-{config.PYTHON_VERSION.replace('.', '')}-{config.ARCHITECTURE}-linux-gnu"
    assert any("pydantic_core/_pydantic_core" in n for n in extensions)
    assert all(tag in n or ".abi3." in n for n in extensions), extensions


def test_first_party_packages_are_byte_identical_to_their_sources(
    built: build.LayerBuild,
) -> None:
    with zipfile.ZipFile(built.zip_path) as archive:
        for package, root in contents.PACKAGE_ROOTS.items():
            sources = sorted(
                p
                for p in (root / package).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
            assert sources, package
            for source in sources:
                relative = source.relative_to(root).as_posix()
                if relative in contents.PRUNED_PATHS:  # the backfill's modules
                    assert f"python/{relative}" not in archive.namelist(), relative
                    continue
                entry = f"python/{relative}"
                assert archive.read(entry) == source.read_bytes(), entry


def test_every_top_level_module_imports_under_the_runtime_python(
    python_dir: Path, runtime_python: runtime.RuntimePython
) -> None:
    verify.check_imports(python_dir, runtime_python)


def test_the_pruned_pieces_are_not_in_the_zip(names_in_zip: list[str]) -> None:
    pruned = [f"python/{path}" for path in (*contents.PRUNED_PATHS, *contents.PRUNED_ASSETS)]
    assert not [n for n in names_in_zip if any(n == p or n.startswith(p + "/") for p in pruned)]


def test_nothing_left_in_the_layer_imports_a_pruned_module(
    python_dir: Path, runtime_python: runtime.RuntimePython
) -> None:
    """At module level or inside a function (a lazy import), relative or absolute."""
    assert verify.pruned_importers(python_dir, runtime_python) == {}


def test_every_powertools_module_left_imports_under_the_runtime_python(
    python_dir: Path, runtime_python: runtime.RuntimePython
) -> None:
    """Pruning broke no module of Powertools: each one left in the layer imports, or lacks only
    an optional third-party package that the layer never shipped."""
    modules = sorted(
        ".".join(p.relative_to(python_dir).with_suffix("").parts).removesuffix(".__init__")
        for p in (python_dir / "aws_lambda_powertools").rglob("*.py")
    )
    script = (
        "import importlib, json, sys\n"
        f"sys.path[:0] = {[str(python_dir), str(runtime.runtime_boto3())]!r}\n"
        "failures = {}\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as error:\n"
        "        failures[name] = error.name or ''\n"
        "print(json.dumps(failures))\n"
    )
    result = subprocess.run(
        [str(runtime_python.path), "-I", "-S", "-B", "-c", script],
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


def test_layer_pins_are_the_versions_the_tests_run() -> None:
    """The library's and handlers' dependencies ship at the exact versions this venv tests with.

    (The X-Ray SDK is left out: nothing in the venv runs it; the artifact tests run the layer's.)
    """
    pins = _pins()
    for name in ("pydantic", "pydantic-core", "aws-lambda-powertools"):
        assert pins[name] == metadata.version(name), name


def test_layer_requirements_cover_the_runtime_dependencies_but_boto3() -> None:
    pyproject = tomllib.loads((contents.REPO_ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["service"]]
    names = {
        _normalize(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]) for requirement in declared
    }
    assert names - {"boto3"} <= set(_pins())
    assert not {"boto3", "botocore", "s3transfer"} & set(_pins())

"""The layer: built without Docker for the runtime, carrying nothing extra, cached by inputs."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from infra import artifact, config, layer_build
from tests.infra.conftest import Synthesized

MAX_ZIPPED_BYTES = 5_000_000  # the budget the issue sets
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")


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


def test_no_bytecode_and_no_console_scripts(names_in_zip: list[str]) -> None:
    assert not [n for n in names_in_zip if n.endswith((".pyc", ".pyo")) or "__pycache__" in n]
    assert not [n for n in names_in_zip if n.startswith("python/bin/")]


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


def test_every_top_level_module_imports_under_the_runtime_python(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    with zipfile.ZipFile(_layer_zip(synthesized)) as archive:
        archive.extractall(tmp_path)
    python_dir = tmp_path / "python"
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


@pytest.mark.parametrize(
    ("intruder", "reason"),
    [
        ("botocore/__init__.py", "must not ship"),
        ("pydantic_dynamo/__pycache__/codec.cpython-311.pyc", "bytecode"),
        ("wrapt/_wrappers.cpython-311-x86_64-linux-gnu.so", "not built for"),
    ],
)
def test_check_layer_refuses_what_would_break_on_lambda(
    tmp_path: Path, intruder: str, reason: str
) -> None:
    for package in layer_build.LAYER_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    layer_build.check_layer(tmp_path)  # a clean layer passes
    (tmp_path / intruder).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / intruder).write_bytes(b"")
    with pytest.raises(layer_build.LayerBuildError, match=reason):
        layer_build.check_layer(tmp_path)


def test_the_zip_is_deterministic(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    (folder / "python" / "pkg").mkdir(parents=True)
    (folder / "python" / "pkg" / "__init__.py").write_text("x = 1\n")
    layer_build.write_zip(folder, tmp_path / "a.zip")
    (folder / "python" / "pkg" / "__init__.py").touch()  # a new mtime changes nothing
    layer_build.write_zip(folder, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()

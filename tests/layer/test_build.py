"""The build: cached by the hash of exactly its inputs, deterministic to the byte."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layer import build, contents, runtime
from layer.errors import LayerBuildError
from records_service import names


def test_input_hash_is_stable_for_the_same_inputs() -> None:
    assert build.input_hash() == build.input_hash()


def test_input_hash_changes_with_the_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = build.input_hash()
    changed = tmp_path / "requirements.txt"
    changed.write_text(contents.REQUIREMENTS_FILE.read_text() + "\n# a change\n")
    monkeypatch.setattr(contents, "REQUIREMENTS_FILE", changed)
    assert build.input_hash() != before


def _copy_first_party(target: Path, *, ignore_caches: bool = True) -> dict[str, Path]:
    """Copies of the first-party packages under ``target``; returns the roots to patch in."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc") if ignore_caches else None
    for package, root in contents.PACKAGE_ROOTS.items():
        shutil.copytree(root / package, target / package, ignore=ignore)
    return dict.fromkeys(contents.PACKAGE_ROOTS, target)


def test_input_hash_follows_the_first_party_sources_not_their_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = build.input_hash()
    monkeypatch.setattr(contents, "PACKAGE_ROOTS", _copy_first_party(tmp_path))
    assert build.input_hash() == before
    (tmp_path / "records_service" / "names.py").write_text("# edited\n", encoding="utf-8")
    assert build.input_hash() != before


def test_a_bytecode_cache_in_a_first_party_package_does_not_change_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = build.input_hash()
    roots = _copy_first_party(tmp_path, ignore_caches=False)
    (tmp_path / "pydantic_dynamo" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "pydantic_dynamo" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    monkeypatch.setattr(contents, "PACKAGE_ROOTS", roots)
    assert build.input_hash() == before


def test_input_hash_follows_the_runtime_python(
    runtime_python: runtime.RuntimePython, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = build.input_hash()
    newer = dataclasses.replace(runtime_python, version="3.12.99")
    monkeypatch.setattr(runtime, "runtime_python", lambda: newer)
    assert build.input_hash() != before


def test_input_hash_follows_the_handlers_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the handlers import decides what is compiled: their code is an input."""
    before = build.input_hash()
    for code_dir, _ in contents.handlers():
        shutil.copytree(
            contents.REPO_ROOT / code_dir,
            tmp_path / code_dir,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    monkeypatch.setattr(contents, "REPO_ROOT", tmp_path)
    assert build.input_hash() == before
    handler_file = tmp_path / names.API_CODE_DIR / "records_api" / "handler.py"
    handler_file.write_text(handler_file.read_text() + "\nimport json\n")
    assert build.input_hash() != before


def test_input_hash_follows_the_build_tooling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = build.input_hash()
    tooling = tmp_path / "prune_more.py"
    tooling.write_text("# a new step\n")
    files = [*build.tooling_files(), tooling]
    monkeypatch.setattr(build, "tooling_files", lambda: files)
    assert build.input_hash() != before


@pytest.fixture
def no_cached_runtime() -> Iterator[None]:
    runtime.runtime_python.cache_clear()
    yield
    runtime.runtime_python.cache_clear()


@pytest.mark.usefixtures("no_cached_runtime")
def test_without_python_312_the_build_fails_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pyenv/versions/3.12.*
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.12 on PATH
    with pytest.raises(LayerBuildError, match=r"Python 3\.12 .*pyenv install"):
        build.input_hash()


def test_a_build_from_scratch_gives_the_same_bytes(
    built: build.LayerBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic end to end: pip, pruning, the cold-start probe, compiling, zipping."""
    cached = built.zip_path.read_bytes()
    monkeypatch.setattr(build, "BUILD_ROOT", tmp_path / "layer")
    rebuilt = build.build_layer()
    assert rebuilt.zip_path.is_relative_to(tmp_path)
    assert hashlib.sha256(rebuilt.zip_path.read_bytes()).digest() == hashlib.sha256(cached).digest()
    manifest: dict[str, Any] = json.loads((rebuilt.zip_path.parent / "manifest.json").read_text())
    assert manifest["runtime_python"].startswith("cpython 3.12.")


def test_the_zip_is_deterministic(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    (folder / "python" / "pkg").mkdir(parents=True)
    (folder / "python" / "pkg" / "__init__.py").write_text("x = 1\n")
    build.write_zip(folder, tmp_path / "a.zip")
    (folder / "python" / "pkg" / "__init__.py").touch()  # a new mtime changes nothing
    build.write_zip(folder, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()

"""The verification step: it passes the built layer and refuses what would break on Lambda."""

from __future__ import annotations

from pathlib import Path

import pytest

from layer import build, contents, optimize, runtime, verify
from layer.errors import LayerBuildError


def test_the_built_zip_passes_verification(
    built: build.LayerBuild, runtime_python: runtime.RuntimePython
) -> None:
    verify.verify_zip(built.zip_path, runtime_python)


def test_zipped_layer_is_under_budget(built: build.LayerBuild) -> None:
    size = built.zip_path.stat().st_size
    assert size < verify.MAX_ZIPPED_BYTES, f"layer zip is {size / 1e6:.2f} MB"


def test_a_zip_over_budget_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "layer.zip"
    big.write_bytes(b"\0" * verify.MAX_ZIPPED_BYTES)
    with pytest.raises(LayerBuildError, match="over its budget"):
        verify.check_size(big)


@pytest.fixture
def clean_layer(tmp_path: Path, runtime_python: runtime.RuntimePython) -> Path:
    """A minimal layer that passes ``check_layer``: the packages, one module compiled."""
    for package in contents.LAYER_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("x = 1\n")
    optimize.compile_modules(tmp_path, ["pydantic_dynamo/__init__.py"], runtime_python)
    verify.check_layer(tmp_path, runtime_python)
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
        (f"{contents.PRUNED_PATHS[-1]}/__init__.py", None, "pruned from the layer"),
        (contents.PRUNED_ASSETS[0], None, "pruned from the layer"),
        ("records_service/lazy.py", "lazy-import", "PRUNED_PATHS"),
        ("aws_lambda_powertools/utilities/batch/lazy.py", "relative-import", "PRUNED_PATHS"),
        ("records_service/by_name.py", "import-module", "PRUNED_PATHS"),
    ],
)
def test_check_layer_refuses_what_would_break_on_lambda(
    clean_layer: Path,
    runtime_python: runtime.RuntimePython,
    intruder: str,
    content: str | None,
    reason: str,
) -> None:
    valid = _valid_pyc(clean_layer)
    pruned = contents.PRUNED_PATHS[-1].replace("/", ".")  # a pruned package
    payloads: dict[str | None, bytes] = {
        None: valid,
        "timestamp": valid[:4] + (0).to_bytes(4, "little") + valid[8:],
        "checked": valid[:4] + (0b11).to_bytes(4, "little") + valid[8:],
        "magic-3.11": bytes.fromhex("a70d0d0a") + valid[4:],
        "lazy-import": f"def f():\n    import {pruned}\n".encode(),
        "relative-import": f"def f():\n    from ..{pruned.rpartition('.')[2]} import x\n".encode(),
        "import-module": f"import importlib\nimportlib.import_module({pruned!r})\n".encode(),
    }
    (clean_layer / intruder).parent.mkdir(parents=True, exist_ok=True)
    (clean_layer / intruder).write_bytes(payloads[content])
    with pytest.raises(LayerBuildError, match=reason):
        verify.check_layer(clean_layer, runtime_python)


def test_a_module_that_does_not_import_is_refused(
    clean_layer: Path, runtime_python: runtime.RuntimePython
) -> None:
    (clean_layer / "broken.py").write_text("import no_such_module_anywhere\n")
    with pytest.raises(LayerBuildError, match="no_such_module_anywhere"):
        verify.check_imports(clean_layer, runtime_python)

"""Step 3 of the layer build: prove the layer keeps its invariants before it is zipped.

``check_layer`` (run by every build, before zipping): no boto3/botocore; bytecode only as
unchecked-hash ``__pycache__/*.cpython-312.pyc`` of the runtime's Python beside its source;
every extension module built for the runtime's CPython; the first-party packages there; the
pruned pieces absent and imported by nothing that stays, even lazily.

``verify_zip`` checks a built zip as Lambda would receive it: the same invariants on its
extracted content, every top-level module importing under the runtime's Python with the
runtime's boto3, and the zipped size within ``MAX_ZIPPED_BYTES``. Run it on the current build::

    python -m layer.verify            # or: make layer (builds first)
    python -m layer.verify path/to/layer.zip
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Final

from infra import config
from layer import contents
from layer.errors import LayerBuildError
from layer.runtime import RuntimePython, run_tool, runtime_boto3, runtime_python

# The budget for the zipped layer: what Lambda uploads and extracts on each cold start of a new
# container (Lambda's own limit is 50 MB). It was 5,000,000 until the functions moved from the
# runtime's boto3 to the library's lean clients (the layer then carried the bytecode of the
# transport their cold starts import instead), then 5,150,000 until the library gained secondary
# indexes, conditions, the async transport and the compiled codec (docs/deploy.md, "The layer").
MAX_ZIPPED_BYTES: Final = 5_400_000
# Besides every top-level module: submodules that load compiled code, and the Powertools pieces
# the handlers use.
IMPORTED_SUBMODULES: Final = (
    "pydantic_core._pydantic_core",
    "aws_xray_sdk.core",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parser",
)
# pyc header: magic (4 bytes), flags (4), then a source hash (8) or mtime and size (4 + 4).
_PYC_HEADER_BYTES: Final = 16
_PYC_UNCHECKED_HASH: Final = 0b01  # hash-based, check_source off


def _bytecode_problem(pyc: Path, magic: bytes) -> str | None:
    """Why Lambda's Python would not use ``pyc`` as it is, or None."""
    if pyc.suffix != ".pyc":
        return "not a .pyc"
    if pyc.parent.name != "__pycache__":
        return "outside __pycache__"
    stem, _, tag = pyc.name.partition(".")
    if tag != f"{contents.CACHE_TAG}.pyc":
        return f"not {contents.CACHE_TAG}"
    if not (pyc.parent.parent / f"{stem}.py").is_file():
        return "no source beside it"
    header = pyc.read_bytes()[:_PYC_HEADER_BYTES]
    if len(header) < _PYC_HEADER_BYTES or header[:4] != magic:
        return f"not the magic number of the runtime's Python ({magic.hex()})"
    if int.from_bytes(header[4:8], "little") != _PYC_UNCHECKED_HASH:
        return "not an unchecked-hash pyc"
    return None


def check_layer(python_dir: Path, runtime: RuntimePython) -> None:
    """Raise ``LayerBuildError`` unless the layer's ``python/`` keeps its invariants.

    No boto3/botocore; bytecode only as unchecked-hash ``__pycache__/*.cpython-312.pyc`` of the
    runtime's Python beside their source; every extension module built for the runtime's
    CPython; the pruned pieces absent and imported by nothing that stays.
    """
    top_level = {path.name.split("-")[0].lower() for path in python_dir.iterdir()}
    shipped_forbidden = sorted(contents.FORBIDDEN_PACKAGES & top_level)
    if shipped_forbidden:
        raise LayerBuildError(f"the layer must not ship {shipped_forbidden}")
    for path in sorted(python_dir.rglob("*")):
        if path.suffix in contents.IGNORED_SUFFIXES:
            problem = _bytecode_problem(path, runtime.magic)
            if problem:
                raise LayerBuildError(
                    f"the layer holds bytecode Lambda would not use: {problem}, {path}"
                )
    abi_tag = f"{contents.CACHE_TAG}-{config.ARCHITECTURE}"
    wrong_abi = [
        so for so in python_dir.rglob("*.so") if abi_tag not in so.name and ".abi3." not in so.name
    ]
    if wrong_abi:
        raise LayerBuildError(f"extension modules not built for {abi_tag}: {wrong_abi}")
    for package in contents.LAYER_PACKAGES:
        if not (python_dir / package / "__init__.py").is_file():
            raise LayerBuildError(f"the layer lacks the package {package}")
    pruned = (*contents.PRUNED_PATHS, *contents.PRUNED_ASSETS)
    shipped_pruned = [p for p in pruned if (python_dir / p).exists()]
    shipped_pruned += [
        p.relative_to(python_dir).as_posix() for p in contents.installer_files(python_dir)
    ]
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
    imports: dict[str, list[str]] = run_tool(
        runtime.path, {"mode": "imports", "root": str(python_dir), "files": files}
    )
    pruned = contents.pruned_modules()
    found: dict[str, list[str]] = {}
    for module, names_used in imports.items():
        hits = sorted(
            {p for p in pruned for name in names_used if name == p or name.startswith(p + ".")}
        )
        if hits:
            found[module] = hits
    return found


def check_imports(python_dir: Path, runtime: RuntimePython) -> None:
    """Import every top-level module of the layer (and ``IMPORTED_SUBMODULES``) as on Lambda.

    One fresh runtime interpreter, with only the layer and the runtime's boto3 on the path.
    """
    modules = sorted(
        p.name.removesuffix(".py")
        for p in python_dir.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py"
    )
    modules += IMPORTED_SUBMODULES
    paths = [str(python_dir), str(runtime_boto3())]
    script = f"import importlib, sys\nsys.path[:0] = {paths!r}\n" + "".join(
        f"importlib.import_module({module!r})\n" for module in modules
    )
    result = subprocess.run(
        [str(runtime.path), "-I", "-S", "-B", "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise LayerBuildError(f"a module of the layer does not import:\n{result.stderr[-4000:]}")


def check_size(zip_path: Path) -> None:
    """Raise ``LayerBuildError`` when the zipped layer is over ``MAX_ZIPPED_BYTES``."""
    size = zip_path.stat().st_size
    if size >= MAX_ZIPPED_BYTES:
        raise LayerBuildError(
            f"the layer zip is {size:,} bytes, over its budget of {MAX_ZIPPED_BYTES:,}"
        )


def verify_zip(zip_path: Path, runtime: RuntimePython) -> None:
    """Check a built layer zip: its content's invariants, its imports and its size."""
    with tempfile.TemporaryDirectory(prefix="layer-verify-") as scratch:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(scratch)
        python_dir = Path(scratch) / contents.LAYER_PYTHON_DIR
        check_layer(python_dir, runtime)
        check_imports(python_dir, runtime)
    check_size(zip_path)


def main(argv: list[str] | None = None) -> None:
    """Verify the given layer zip, or the current build's (built if its inputs changed)."""
    parser = argparse.ArgumentParser(description="Verify a built Lambda layer zip.")
    parser.add_argument("zip", nargs="?", type=Path, help="default: the current build's zip")
    args = parser.parse_args(argv)
    if args.zip is None:
        from layer.build import build_layer  # the build runs this module's checks: import late

        args.zip = build_layer().zip_path
    verify_zip(args.zip, runtime_python())
    size = args.zip.stat().st_size
    print(f"layer ok: {args.zip} ({size:,} bytes zipped, budget {MAX_ZIPPED_BYTES:,})")


if __name__ == "__main__":
    main()

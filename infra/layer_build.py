"""Build the Lambda layer without Docker, once per set of inputs.

The layer holds ``pydantic_dynamo`` and ``records_service`` (copied from ``shared/``) and the
third-party packages pinned in ``infra/layer/requirements.txt``, installed by pip with the Lambda
platform's wheels (``--platform manylinux2014_x86_64 --python-version 3.12 --only-binary=:all:``).
It carries no boto3/botocore (the runtime has them) and no bytecode (``--no-compile``: this
machine's Python would compile it for the wrong version).

Every input (the requirements, the shared packages' files, the target platform and this script)
goes into one SHA-256. The layer is built into ``build/layer/<hash>/layer.zip`` (deterministic:
sorted entries, fixed dates and modes) and reused as long as the hash is the same, so ``cdk
synth`` and the tests pay for pip only when an input changed. The zip is the CDK asset itself:
what is measured and tested is byte for byte what ``cdk deploy`` uploads, and staging one file
is much faster than copying a folder of two thousand.

Run it by hand to see the result::

    python -m infra.layer_build          # build (or reuse) and print the path and sizes
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infra import config

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
REQUIREMENTS_FILE: Final = REPO_ROOT / "infra" / "layer" / "requirements.txt"
SHARED_DIR: Final = REPO_ROOT / "shared"
# The first-party packages that go into the layer, as folders under shared/.
LAYER_PACKAGES: Final = ("pydantic_dynamo", "records_service")
BUILD_ROOT: Final = REPO_ROOT / "build" / "layer"
# Lambda layers are extracted to /opt; the Python runtimes put /opt/python on sys.path.
LAYER_PYTHON_DIR: Final = "python"
ZIP_NAME: Final = "layer.zip"
MANIFEST_NAME: Final = "manifest.json"
# Fixed entry date and modes: the same inputs always give the same bytes.
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_MODE: Final = 0o100644
# Completed builds kept besides the current one (older ones are pruned).
KEEP_OLD_BUILDS: Final = 2
# Packages that must never be in the layer: the runtime provides them, and a second copy would
# shadow the runtime's and grow the layer by ~25 MB.
FORBIDDEN_PACKAGES: Final = frozenset({"boto3", "botocore", "s3transfer"})
_IGNORED_PARTS: Final = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
_IGNORED_SUFFIXES: Final = frozenset({".pyc", ".pyo"})


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


def _first_party_files() -> list[Path]:
    """Every file copied from ``shared/`` into the layer, sorted for a stable hash."""
    files: list[Path] = []
    for package in LAYER_PACKAGES:
        root = SHARED_DIR / package
        if not (root / "__init__.py").is_file():
            raise LayerBuildError(f"{root} is not a package (no __init__.py)")
        files.extend(
            path
            for path in root.rglob("*")
            if path.is_file()
            and not _IGNORED_PARTS.intersection(path.relative_to(root).parts)
            and path.suffix not in _IGNORED_SUFFIXES
        )
    return sorted(files)


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
    for path in _first_party_files():
        feed(path.relative_to(SHARED_DIR).as_posix(), path.read_bytes())
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
        "--no-compile",  # bytecode would be for this machine's Python, not the runtime's
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


def check_layer(python_dir: Path) -> None:
    """Raise ``LayerBuildError`` unless the layer keeps its invariants.

    No boto3/botocore, no bytecode, and every extension module built for the runtime's CPython.
    """
    top_level = {path.name.split("-")[0].lower() for path in python_dir.iterdir()}
    shipped_forbidden = sorted(FORBIDDEN_PACKAGES & top_level)
    if shipped_forbidden:
        raise LayerBuildError(f"the layer must not ship {shipped_forbidden}")
    bytecode = [p for p in python_dir.rglob("*") if p.suffix in _IGNORED_SUFFIXES]
    if bytecode:
        raise LayerBuildError(f"the layer holds bytecode, e.g. {bytecode[0]}")
    abi_tag = f"cpython-{config.PYTHON_VERSION.replace('.', '')}-{config.ARCHITECTURE}"
    wrong_abi = [
        so for so in python_dir.rglob("*.so") if abi_tag not in so.name and ".abi3." not in so.name
    ]
    if wrong_abi:
        raise LayerBuildError(f"extension modules not built for {abi_tag}: {wrong_abi}")
    for package in LAYER_PACKAGES:
        if not (python_dir / package / "__init__.py").is_file():
            raise LayerBuildError(f"the layer lacks the package {package}")


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


def _prune(keep: Path) -> None:
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

    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = BUILD_ROOT / f".tmp-{digest[:12]}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        content = scratch / "content"
        python_dir = content / LAYER_PYTHON_DIR
        python_dir.mkdir(parents=True)
        _pip_install(python_dir)
        _copy_first_party(python_dir)
        if input_hash() != digest:
            raise LayerBuildError("shared/ changed while the layer was built: build again")
        _strip(python_dir)
        check_layer(python_dir)
        write_zip(content, scratch / ZIP_NAME)
        manifest = {
            "input_hash": digest,
            "python_version": config.PYTHON_VERSION,
            "pip_platform": config.PIP_PLATFORM,
            "unzipped_bytes": _folder_size(content),
            "zipped_bytes": (scratch / ZIP_NAME).stat().st_size,
            "distributions": sorted(p.name for p in python_dir.glob("*.dist-info")),
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
    _prune(keep=build_dir)
    built = _load(build_dir)
    if built is None:  # pragma: no cover - the rename above just put the manifest there
        raise LayerBuildError(f"no manifest in {build_dir} after the build")
    return built


def main() -> None:
    """Build (or reuse) the layer and print where it is and how big it is."""
    layer = build_layer()
    print(f"layer {layer.input_hash[:16]} at {layer.zip_path}")
    print(f"unzipped {layer.unzipped_bytes / 1e6:.1f} MB, zipped {layer.zipped_bytes / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

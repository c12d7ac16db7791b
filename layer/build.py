"""The layer build, once per set of inputs: install, optimize, verify, zip.

Every input (the requirements, the first-party packages' files, the handlers' folders, the
runtime interpreter's version, the boto3 the handlers are imported with, the target platform
and this package's modules) goes into one SHA-256 (``input_hash``). The layer is built into
``build/layer/<hash>/layer.zip`` (deterministic: sorted entries, fixed dates and modes,
bytecode compiled in a fixed order with a fixed hash seed) and reused as long as the hash is the
same, so ``cdk synth`` and the tests pay for pip and the compiler only when an input changed.
The zip is the CDK asset itself (``infra.layer``): what is measured and tested is byte for byte
what ``cdk deploy`` uploads, and staging one file is much faster than copying a folder of two
thousand.

Run it by hand to see the result::

    python -m layer.build          # build (or reuse) and print the path and sizes
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final

from infra import config
from layer import contents, runtime
from layer.errors import LayerBuildError
from layer.install import install
from layer.optimize import optimize
from layer.runtime import pip_target_args
from layer.verify import check_layer

BUILD_ROOT: Final = contents.REPO_ROOT / "build" / "layer"
ZIP_NAME: Final = "layer.zip"
MANIFEST_NAME: Final = "manifest.json"
# Fixed entry date and modes: the same inputs always give the same bytes.
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_MODE: Final = 0o100644
# Completed builds kept besides the current one (older ones are deleted).
KEEP_OLD_BUILDS: Final = 2


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


def tooling_files() -> list[Path]:
    """This package's modules: they decide what the layer holds, so they are inputs too."""
    return sorted(contents.PACKAGE_DIR.glob("*.py"))


def input_hash() -> str:
    """The SHA-256 of everything that decides the layer's content."""
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        # Length-prefixed so that no two different input sets can produce the same stream.
        for part in (label.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)

    feed("platform", json.dumps(pip_target_args()).encode())
    feed("requirements", contents.REQUIREMENTS_FILE.read_bytes())
    for path in tooling_files():
        feed(f"tooling/{path.name}", path.read_bytes())
    feed("runtime-python", runtime.runtime_python().describe().encode())
    feed("probe-boto3", metadata.version("boto3").encode())
    feed("handlers", json.dumps(contents.handlers()).encode())
    for root, path in contents.first_party_files():
        feed(path.relative_to(root).as_posix(), path.read_bytes())
    for path in contents.handler_files():
        feed(path.relative_to(contents.REPO_ROOT).as_posix(), path.read_bytes())
    return digest.hexdigest()


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

    python = runtime.runtime_python()
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = BUILD_ROOT / f".tmp-{digest[:12]}-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        content = scratch / "content"
        python_dir = content / contents.LAYER_PYTHON_DIR
        python_dir.mkdir(parents=True)
        install(python_dir)
        compiled = optimize(content, python)
        if input_hash() != digest:
            raise LayerBuildError("an input changed while the layer was built: build again")
        check_layer(python_dir, python)
        write_zip(content, scratch / ZIP_NAME)
        manifest = {
            "input_hash": digest,
            "python_version": config.PYTHON_VERSION,
            "pip_platform": config.PIP_PLATFORM,
            "runtime_python": python.describe(),
            "unzipped_bytes": _folder_size(content),
            "zipped_bytes": (scratch / ZIP_NAME).stat().st_size,
            "distributions": sorted(p.name for p in python_dir.glob("*.dist-info")),
            "pruned": [*contents.PRUNED_PATHS, *contents.PRUNED_ASSETS],
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

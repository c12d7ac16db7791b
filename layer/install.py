"""Step 1 of the layer build: install its content into a ``python/`` folder, without Docker.

pip installs the pinned requirements (and nothing else) with the Lambda platform's wheels
(``--platform manylinux2014_x86_64 --python-version 3.12 --only-binary=:all:``), without
bytecode: this machine's Python would compile everything for its own version. The first-party
packages are copied beside them, then what is useless on Lambda is stripped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from layer import contents
from layer.errors import LayerBuildError
from layer.runtime import pip_target_args


def install(python_dir: Path) -> None:
    """Fill ``python_dir`` (the layer's ``python/``): requirements, first-party packages."""
    install_requirements(python_dir)
    copy_first_party(python_dir)
    strip(python_dir)


def install_requirements(target: Path) -> None:
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
        str(contents.REQUIREMENTS_FILE),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerBuildError(
            f"pip failed ({result.returncode}) building the layer:\n{result.stderr[-4000:]}"
        )


def copy_first_party(python_dir: Path) -> None:
    """Copy the first-party packages into the layer, without caches or bytecode."""
    for root, path in contents.first_party_files():
        destination = python_dir / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def strip(python_dir: Path) -> None:
    """Remove what is useless on Lambda: console scripts (shebangs point at this machine)."""
    shutil.rmtree(python_dir / "bin", ignore_errors=True)
    for cache in list(python_dir.rglob("__pycache__")):
        shutil.rmtree(cache)

"""Side venvs for what must not enter the project's dev dependencies: built once, rebuilt when
their pinned requirements change (a hash of the file is kept in the venv)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_STAMP = ".requirements.sha256"


def venv_python(venv_dir: Path) -> Path:
    """The venv's interpreter."""
    return venv_dir / "bin" / "python"


def ensure_venv(venv_dir: Path, requirements: Path, check: str) -> Path:
    """Return the venv's python, creating or refreshing the venv if its pins changed.

    ``check`` is Python code run in the new venv to prove it holds what it should.
    """
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = venv_dir / _STAMP
    python = venv_python(venv_dir)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    print(f"building {venv_dir.name} from {requirements.name} ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(venv_dir)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(requirements)], check=True, stdout=sys.stderr)
    subprocess.run([str(python), "-c", check], check=True)
    stamp.write_text(digest + "\n")
    return python

"""The venv of the peer libraries (pydynox, aiodynamo with aiohttp) and of the plot (matplotlib).

Built once, rebuilt when ``benchmarks/requirements-peers.txt`` changes, in
``.bench-venv-peers/`` at the repository root (git-ignored by ``.bench-venv*/``), so that
neither the peers nor matplotlib enter the project's dev dependencies.
``python -m benchmarks.venv_peers`` builds it alone; ``benchmarks.run`` calls ``ensure_venv``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = ROOT / ".bench-venv-peers"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-peers.txt"
_STAMP = ".requirements.sha256"


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """The venv's interpreter."""
    return venv_dir / "bin" / "python"


def ensure_venv(venv_dir: Path = VENV_DIR, requirements: Path = REQUIREMENTS) -> Path:
    """Return the venv's python, creating or refreshing the venv if its pins changed."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = venv_dir / _STAMP
    python = venv_python(venv_dir)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    print(f"building {venv_dir.name} from {requirements.name} ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(clear=True, with_pip=True).create(venv_dir)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
        check=True,
        stdout=sys.stderr,
    )
    check = "import pydynox, aiodynamo, aiohttp, matplotlib"
    subprocess.run([str(python), "-c", check], check=True)
    stamp.write_text(digest + "\n")
    return python


if __name__ == "__main__":
    print(ensure_venv())

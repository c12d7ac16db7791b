"""The venv for pydantic-dynamo 0.4.2 (Pydantic v1), in ``.bench-venv-042/`` (git-ignored).

It holds exactly ``benchmarks/requirements-042.txt``. ``python -m benchmarks.venv042`` builds it
alone; ``benchmarks.run`` calls ``ensure_venv``.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import venvs

VENV_DIR = venvs.ROOT / ".bench-venv-042"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-042.txt"
_CHECK = "import pydantic, pydantic_dynamo.v2.repository; assert pydantic.VERSION < '2'"


def ensure_venv() -> Path:
    """The 0.4.2 venv's python, built or refreshed as needed."""
    return venvs.ensure_venv(VENV_DIR, REQUIREMENTS, _CHECK)


if __name__ == "__main__":
    print(ensure_venv())

"""The venv of the peer libraries (pydynox, PynamoDB, aiodynamo on aiohttp and httpx) and the plot.

In ``.bench-venv-peers/`` (git-ignored), holding exactly ``benchmarks/requirements-peers.txt``,
so that neither the peers nor matplotlib enter the project's dev dependencies.
``python -m benchmarks.venv_peers`` builds it alone; ``benchmarks.run`` calls ``ensure_venv``.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import venvs

VENV_DIR = venvs.ROOT / ".bench-venv-peers"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-peers.txt"
_CHECK = "import pydynox, pynamodb, aiodynamo, aiohttp, httpx, matplotlib"


def ensure_venv() -> Path:
    """The peers' venv's python, built or refreshed as needed."""
    return venvs.ensure_venv(VENV_DIR, REQUIREMENTS, _CHECK)


if __name__ == "__main__":
    print(ensure_venv())

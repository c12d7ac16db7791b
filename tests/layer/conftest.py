"""Fixtures of the layer tooling's tests: one build per session, as ``make layer`` makes it.

The build is the cached one in ``build/layer/`` when its inputs did not change, so these tests,
``cdk synth`` and ``tests/infra`` (which checks that the staged asset is this very zip) share it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from layer import build, contents, runtime


@pytest.fixture(scope="session")
def built() -> build.LayerBuild:
    """The current layer build (built now if an input changed)."""
    return build.build_layer()


@pytest.fixture(scope="session")
def names_in_zip(built: build.LayerBuild) -> list[str]:
    """Every entry of the layer zip."""
    with zipfile.ZipFile(built.zip_path) as archive:
        return archive.namelist()


@pytest.fixture(scope="session")
def python_dir(built: build.LayerBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layer, extracted as Lambda extracts it under /opt: its ``python/`` folder."""
    target = tmp_path_factory.mktemp("layer")
    with zipfile.ZipFile(built.zip_path) as archive:
        archive.extractall(target)
    return target / contents.LAYER_PYTHON_DIR


@pytest.fixture(scope="session")
def runtime_python() -> runtime.RuntimePython:
    """The runtime's interpreter (its absence fails the tests that need it)."""
    return runtime.runtime_python()

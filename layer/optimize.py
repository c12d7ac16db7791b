"""Step 2 of the layer build: prune what no handler uses, compile what their cold starts load.

Pruning: ``PRUNED_PATHS`` and ``PRUNED_ASSETS`` (``layer.contents``) are deleted, and pip's
installer-only files; a handler that calls ``enable_swagger`` stops the build, as it would need
the Swagger UI files pruned here.

Bytecode: /opt is read-only on Lambda, so a module shipped without a ``.pyc`` is compiled again
by every cold start. Each handler is imported the way Lambda does (``layer.invocation``: the
runtime's Python, only the function's folder, the pruned layer and the runtime's boto3 on the
path), and exactly the layer modules those imports load are compiled, with the runtime's
Python, into ``__pycache__/*.cpython-312.pyc`` as unchecked-hash pycs (valid whatever the files'
dates, which a zip does not keep). Compiling everything would grow the zip by about a third
(docs/deploy.md has the measured sizes). The imports run from the pruned layer before anything
is compiled, so a handler that needs a pruned piece fails the build here.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from infra import config
from layer import contents, invocation
from layer.errors import LayerBuildError
from layer.runtime import RuntimePython, run_tool, runtime_boto3


def optimize(content_dir: Path, runtime: RuntimePython) -> list[str]:
    """Prune, then compile the cold starts' modules; return those (relative to ``python/``)."""
    python_dir = content_dir / contents.LAYER_PYTHON_DIR
    prune(python_dir)
    compiled = cold_start_modules(content_dir, runtime)
    compile_modules(python_dir, compiled, runtime)
    return compiled


def prune(python_dir: Path) -> None:
    """Delete ``PRUNED_PATHS`` and ``PRUNED_ASSETS``, refusing to build if the handlers need them.

    A path that is not there any more fails the build too: the list must follow the packages.
    """
    mentions = [
        path
        for path in (
            *(path for _, path in contents.first_party_files()),
            *contents.handler_files(),
        )
        if path.suffix == ".py" and contents.SWAGGER_CALL in path.read_text(encoding="utf-8")
    ]
    if mentions:
        raise LayerBuildError(
            f"{mentions[0]} calls {contents.SWAGGER_CALL}: keep Swagger UI's files in the layer "
            "(remove them from PRUNED_ASSETS) or pass swagger_base_url"
        )
    for relative in (*contents.PRUNED_PATHS, *contents.PRUNED_ASSETS):
        path = python_dir / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
        else:
            raise LayerBuildError(f"{relative} is not in the layer: update PRUNED_PATHS/ASSETS")
    for path in contents.installer_files(python_dir):
        path.unlink()


def cold_start_modules(content_dir: Path, runtime: RuntimePython) -> list[str]:
    """The layer's source files (relative to ``python/``) that importing the handlers loads.

    Each handler is imported in a fresh runtime interpreter with only its folder, the layer in
    ``content_dir`` and the runtime's boto3 on the path, as on Lambda (``layer.invocation``).
    """
    python_dir = content_dir / contents.LAYER_PYTHON_DIR
    boto3_dir = runtime_boto3(metadata.version("boto3"))
    loaded: set[str] = set()
    for code_dir, handler in contents.handlers():
        function = invocation.FunctionArtifact(
            logical_id=handler.split(".")[0],
            handler=handler,
            code_dir=contents.REPO_ROOT / code_dir,
            layer_dirs=(content_dir,),
            memory_mb=config.API_MEMORY_MB,
            timeout_seconds=30,
        )
        probe = invocation.invoke(
            function,
            None,
            environment=contents.PROBE_ENVIRONMENT,
            boto3_dir=boto3_dir,
            python=runtime.path,
        )
        if probe.error is not None:
            raise LayerBuildError(f"{handler} does not import from the layer:\n{probe.error}")
        for file in map(Path, probe.loaded_files):
            if file.suffix == ".py" and file.is_relative_to(python_dir):
                loaded.add(file.relative_to(python_dir).as_posix())
    return sorted(loaded)


def compile_modules(python_dir: Path, files: Iterable[str], runtime: RuntimePython) -> None:
    """Write unchecked-hash ``__pycache__/*.cpython-312.pyc`` for ``files`` (relative paths)."""
    run_tool(
        runtime.path,
        {
            "mode": "compile",
            "root": str(python_dir),
            "files": sorted(files),
            "dfile_root": f"{contents.LAYER_MOUNT}/{contents.LAYER_PYTHON_DIR}",
        },
    )

"""The deployable artifact read from a synthesized cloud assembly, and run as Lambda runs it.

``read_functions`` finds each function's staged code folder and layer folders in a cloud
assembly (``cdk.out`` or a test's outdir) through the stack's asset manifest, exactly the folders
``cdk deploy`` zips and uploads; ``layer.invocation.invoke`` then runs one handler from them
under the runtime's Python, which proves the wheels, the layer layout and the handler string
that will be deployed.

Measure each handler's cold import from the artifact (fresh process, median of 5)::

    npx cdk synth --quiet && python -m layer.assembly cdk.out     # or: make cold-imports
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from infra import config
from layer.errors import ArtifactError
from layer.invocation import FunctionArtifact, invoke
from layer.runtime import runtime_boto3

COLD_IMPORT_RUNS: Final = 5


def _staged_assets(assembly_dir: Path, stack_name: str) -> dict[str, Path]:
    """S3 object key of each file asset -> its staged folder or zip file in the assembly."""
    manifest = json.loads((assembly_dir / f"{stack_name}.assets.json").read_text())
    staged: dict[str, Path] = {}
    for asset in manifest["files"].values():
        for destination in asset["destinations"].values():
            staged[destination["objectKey"]] = assembly_dir / asset["source"]["path"]
    return staged


def read_functions(
    assembly_dir: Path, stack_name: str, unpack_dir: Path
) -> dict[str, FunctionArtifact]:
    """Every Lambda function of the stack, by handler string, with its staged folders.

    Assets staged as zip files (the layer) are extracted under ``unpack_dir``, as Lambda
    extracts them under /opt.
    """
    assembly_dir = assembly_dir.resolve()
    template = json.loads((assembly_dir / f"{stack_name}.template.json").read_text())
    resources: dict[str, Any] = template["Resources"]
    assets = _staged_assets(assembly_dir, stack_name)

    def staged(key: str) -> Path:
        path = assets.get(key)
        if path is None or not path.exists():
            raise ArtifactError(f"asset {key} is not staged in {assembly_dir}")
        if path.is_dir():
            return path
        target = unpack_dir.resolve() / key.removesuffix(".zip")
        if not target.is_dir():
            with zipfile.ZipFile(path) as archive:
                archive.extractall(target)
        return target

    functions: dict[str, FunctionArtifact] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        layers = tuple(
            staged(resources[layer["Ref"]]["Properties"]["Content"]["S3Key"])
            for layer in props.get("Layers", [])
        )
        functions[props["Handler"]] = FunctionArtifact(
            logical_id=logical_id,
            handler=props["Handler"],
            code_dir=staged(props["Code"]["S3Key"]),
            layer_dirs=layers,
            memory_mb=int(props["MemorySize"]),
            timeout_seconds=int(props["Timeout"]),
            environment=props.get("Environment", {}).get("Variables", {}),
        )
    return functions


def resolve_environment(
    function: FunctionArtifact, refs: Mapping[str, str], **extra: str
) -> dict[str, str]:
    """The function's template variables with each ``{"Ref": id}`` replaced by ``refs[id]``.

    Taking the variables from the template (not from a hand-written list) proves that what the
    handlers read is what the stack sets. ``extra`` adds local-only variables (endpoints).
    """
    resolved: dict[str, str] = {}
    for name, value in function.environment.items():
        if isinstance(value, str):
            resolved[name] = value
        elif isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in refs:
            resolved[name] = refs[value["Ref"]]
        else:
            raise ArtifactError(f"{function.handler}: no local value for {name}={value!r}")
    return {**resolved, **extra}


def placeholder_refs(function: FunctionArtifact) -> dict[str, str]:
    """A harmless stand-in for every resource a function's variables refer to."""
    return {
        value["Ref"]: f"placeholder-{value['Ref']}"
        for value in function.environment.values()
        if isinstance(value, dict) and "Ref" in value
    }


def cold_import_seconds(
    function: FunctionArtifact,
    *,
    environment: Mapping[str, str],
    boto3_dir: Path,
    runs: int = COLD_IMPORT_RUNS,
) -> float:
    """Median time to import ``function``'s handler module in a fresh process."""
    timings: list[float] = []
    for _ in range(runs):
        invocation = invoke(function, None, environment=environment, boto3_dir=boto3_dir)
        if invocation.error or invocation.import_seconds is None:
            raise ArtifactError(f"{function.handler} failed to import:\n{invocation.error}")
        timings.append(invocation.import_seconds)
    return statistics.median(timings)


def main() -> None:
    """Print each handler's cold-import time from the assembly given as the first argument."""
    assembly_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")
    boto3_dir = runtime_boto3()
    unpack_dir = Path(tempfile.mkdtemp(prefix="artifact-layers-"))
    functions = read_functions(assembly_dir, config.STACK_NAME, unpack_dir)
    for handler, function in sorted(functions.items()):
        # Importing validates the settings but talks to no AWS service: placeholders will do.
        environment = resolve_environment(function, placeholder_refs(function))
        seconds = cold_import_seconds(function, environment=environment, boto3_dir=boto3_dir)
        print(f"{handler}: cold import {seconds * 1000:.0f} ms (median of {COLD_IMPORT_RUNS})")


if __name__ == "__main__":
    main()

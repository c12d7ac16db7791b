"""The layer as the CDK app stages it: the cached build itself, loaded by the handlers' cold starts.

What the zip holds and how it is built are the layer tooling's tests (``tests/layer``); here,
the staged asset is that very zip, its bytecode is exactly what the assembly's handlers load,
and the API serves no Swagger UI (whose files the layer prunes).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra import config
from layer import assembly, build, contents, invocation, runtime
from records_service import names
from tests.infra.conftest import Synthesized
from tests.layer.helpers import pyc_sources

REGION = "us-east-1"

# Imports one handler under the runtime's Python as Lambda does (see layer.invocation) and
# reports every file compiled from source while doing it and every module file loaded.
_COLD_START_PROBE = r"""
import builtins, importlib, json, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["paths"]
compiled = []
real_compile = builtins.compile
def compile(source, filename, *args, **kwargs):
    compiled.append(str(filename))
    return real_compile(source, filename, *args, **kwargs)
builtins.compile = compile
importlib.import_module(spec["module"])
files = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
loaded = sorted({f for f in files if f})
with open(spec["report"], "w") as out:
    json.dump({"compiled": compiled, "loaded": loaded}, out)
"""


def _layer_zip(synthesized: Synthesized) -> Path:
    """The layer as staged in the cloud assembly (what ``cdk deploy`` uploads)."""
    resources = synthesized.template_json["Resources"]
    (layer,) = [r for r in resources.values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    key = layer["Properties"]["Content"]["S3Key"]
    manifest = json.loads(
        (synthesized.assembly_dir / f"{config.STACK_NAME}.assets.json").read_text()
    )
    (path,) = [
        asset["source"]["path"]
        for asset in manifest["files"].values()
        if any(d["objectKey"] == key for d in asset["destinations"].values())
    ]
    return synthesized.assembly_dir / str(path)


@pytest.fixture(scope="module")
def names_in_zip(synthesized: Synthesized) -> list[str]:
    with zipfile.ZipFile(_layer_zip(synthesized)) as archive:
        return archive.namelist()


@pytest.fixture(scope="module")
def functions(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, invocation.FunctionArtifact]:
    """The functions as staged in the assembly, by handler string."""
    return assembly.read_functions(
        synthesized.assembly_dir, config.STACK_NAME, tmp_path_factory.mktemp("unpacked")
    )


def _lambda_environment(function: invocation.FunctionArtifact) -> dict[str, str]:
    """What Lambda and the template set, with placeholders for the resources."""
    return {
        **invocation.lambda_environment(function, REGION),
        **assembly.resolve_environment(function, assembly.placeholder_refs(function)),
    }


def test_the_staged_layer_is_the_cached_build(synthesized: Synthesized) -> None:
    layer = build.build_layer()
    staged = _layer_zip(synthesized).read_bytes()
    assert hashlib.sha256(staged).digest() == hashlib.sha256(layer.zip_path.read_bytes()).digest()


def test_the_bytecode_is_what_the_cold_starts_load_and_they_compile_nothing_of_the_layer(
    functions: dict[str, invocation.FunctionArtifact],
    names_in_zip: list[str],
    tmp_path: Path,
) -> None:
    """Each handler of the assembly, imported with its template's environment: no module of the
    layer is compiled from source (its pyc is there and valid), and every pyc shipped is used by
    at least one handler (nothing is compiled that no cold start loads)."""
    python = runtime.runtime_python().path
    assert {handler for _, handler in contents.handlers()} == set(functions)
    loaded_from_layer: set[str] = set()
    for handler, function in sorted(functions.items()):
        (layer,) = function.layer_dirs
        layer_python = layer / contents.LAYER_PYTHON_DIR
        spec = {
            "paths": [*function.sys_path, str(runtime.runtime_boto3())],
            "module": handler.rpartition(".")[0],
            "report": str(tmp_path / "report.json"),
        }
        subprocess.run(
            [str(python), "-I", "-S", "-B", "-c", _COLD_START_PROBE, json.dumps(spec)],
            env=_lambda_environment(function),
            cwd=tmp_path,
            capture_output=True,
            check=True,
        )
        report = json.loads((tmp_path / "report.json").read_text())
        compiled = [f for f in report["compiled"] if Path(f).is_relative_to(layer_python)]
        assert compiled == [], handler
        loaded_from_layer |= {
            Path(f).relative_to(layer_python).as_posix()
            for f in report["loaded"]
            if f.endswith(".py") and Path(f).is_relative_to(layer_python)
        }
    assert loaded_from_layer == pyc_sources(names_in_zip)


def test_the_api_serves_no_swagger_ui(functions: dict[str, invocation.FunctionArtifact]) -> None:
    """Swagger UI's bundle is pruned: the API must not serve it (and does not)."""
    api = functions[names.API_HANDLER]
    event = {
        "resource": "/{proxy+}",
        "path": "/swagger",
        "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.amazonaws.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": "swagger"},
        "stageVariables": None,
        "requestContext": {
            "requestId": "00000000-0000-4000-8000-000000000001",
            "stage": config.API_STAGE_NAME,
            "path": f"/{config.API_STAGE_NAME}/swagger",
            "httpMethod": "GET",
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    answer = invocation.invoke(
        api,
        event,
        environment=assembly.resolve_environment(api, assembly.placeholder_refs(api)),
        boto3_dir=runtime.runtime_boto3(),
        region=REGION,
    )
    assert answer.error is None, answer.error
    assert answer.result["statusCode"] == 404, answer.result

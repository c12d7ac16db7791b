"""The CDK app as the CLI runs it: cdk.json's command synthesizes what the tests check."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from infra import config
from infra.app import CDK_JSON, cdk_json_context
from tests.infra.conftest import Synthesized


def test_cdk_json_command_synthesizes_the_template_the_tests_check(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """Run cdk.json's ``app`` command the way ``npx cdk synth`` does (outdir and context in the
    environment): the template must equal the one built in-process from cdk.json's context."""
    command = json.loads(CDK_JSON.read_text())["app"]
    environment = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(cdk_json_context()),
    }
    result = subprocess.run(
        command,
        shell=True,  # cdk.json's command is a shell line, as the CLI runs it
        cwd=CDK_JSON.parent,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    template = json.loads((tmp_path / f"{config.STACK_NAME}.template.json").read_text())
    assert template == synthesized.template_json


def test_the_app_is_environment_agnostic(synthesized: Synthesized) -> None:
    """No account or region is baked in: the template deploys wherever the CLI points."""
    assert synthesized.stack.environment == "aws://unknown-account/unknown-region"
    assert "unknown-account" not in json.dumps(synthesized.template_json)

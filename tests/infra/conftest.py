"""Fixtures of the infrastructure tests: the CDK app, synthesized once per session.

The first synth of a session costs about 5 s (the jsii runtime starts); every test reads the
same cloud assembly afterwards. The layer is built (or taken from the cache in ``build/``) by the
synth itself, exactly as ``npx cdk synth`` does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before aws_cdk starts its Node process: the Node 20 end-of-life banner is noise here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk.assertions import Template

from infra import config
from infra.app import build_app, cdk_json_context
from infra.stack import RecordsServiceStack


@dataclass(frozen=True)
class Synthesized:
    """One synthesized app: the constructs, the assembly folder and the stack's template."""

    app: App
    stack: RecordsServiceStack
    assembly_dir: Path
    template: Template

    @property
    def template_json(self) -> Mapping[str, Any]:
        """The raw template, for checks that walk it."""
        return self.template.to_json()

    @property
    def template_path(self) -> Path:
        """The template file ``cdk deploy`` would upload."""
        return self.assembly_dir / f"{config.STACK_NAME}.template.json"

    def resolve(self, value: Any) -> Any:
        """A construct attribute (token) as it appears in the template, e.g. ``{"Ref": ...}``."""
        return self.stack.resolve(value)


def synthesize(outdir: Path, **flags: str) -> Synthesized:
    """Build the app with cdk.json's context (plus ``flags``) and synthesize it into ``outdir``.

    A cdk-nag finding makes ``app.synth()`` raise ``ValidationFailed``: the error then carries
    the report, so that every test shows why the synth failed.
    """
    app, stack = build_app(outdir=str(outdir), context={**cdk_json_context(), **flags})
    try:
        app.synth()
    except RuntimeError as error:
        report = outdir / "validation-report.json"
        details = report.read_text() if report.is_file() else "(no validation report)"
        raise AssertionError(f"synth failed: {error}\n{details}") from error
    template = json.loads((outdir / f"{config.STACK_NAME}.template.json").read_text())
    return Synthesized(
        app=app, stack=stack, assembly_dir=outdir, template=Template.from_json(template)
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app as ``npx cdk deploy`` deploys it by default."""
    return synthesize(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="session")
def synthesized_variant(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with both context flags on: a throwaway stack that creates the API GW role."""
    return synthesize(
        tmp_path_factory.mktemp("cdk-out-variant"),
        **{config.CONTEXT_EPHEMERAL: "true", config.CONTEXT_API_GATEWAY_ACCOUNT_ROLE: "true"},
    )


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    """The default stack's template."""
    return synthesized.template

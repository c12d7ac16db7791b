"""The CDK app: ``npx cdk synth`` / ``npx cdk deploy`` run ``python -m infra.app`` (cdk.json).

Environment-agnostic: no account, region, lookup or AWS call at synth time, so it synthesizes
offline and deploys into whichever account and region the CLI's credentials point at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from aws_cdk import App

from infra import config, nag
from infra.stack import RecordsServiceStack

CDK_JSON: Final = Path(__file__).resolve().parent.parent / "cdk.json"
_TRUE_WORDS: Final = frozenset({"true", "1", "yes"})


def cdk_json_context() -> dict[str, Any]:
    """The context (feature flags) of ``cdk.json``, for apps built outside the CLI (tests).

    The CLI hands this context to ``npx cdk synth``; an ``App()`` built in-process must get it
    explicitly, or it would synthesize with other feature flags than the deployed template.
    """
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def context_flag(app: App, name: str) -> bool:
    """A boolean context value: ``-c name=true`` on the command line, or a bool in cdk.json."""
    value = app.node.try_get_context(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_WORDS


def build_app(
    *, outdir: str | None = None, context: Mapping[str, Any] | None = None
) -> tuple[App, RecordsServiceStack]:
    """Build the app and its one stack, with the cdk-nag packs attached.

    The CLI passes ``outdir`` and ``context`` through the environment; tests pass them here.
    """
    app = App(outdir=outdir, context=dict(context) if context is not None else None)
    stack = RecordsServiceStack(
        app,
        config.STACK_NAME,
        description="pydantic-dynamo records service: table, layer, API, ingestion, alarms",
        ephemeral=context_flag(app, config.CONTEXT_EPHEMERAL),
        api_gateway_account_role=context_flag(app, config.CONTEXT_API_GATEWAY_ACCOUNT_ROLE),
    )
    nag.add_rule_packs(app)
    return app, stack


def main() -> None:
    """Entry point of ``cdk.json``: build and synthesize."""
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()

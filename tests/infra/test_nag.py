"""cdk-nag (AwsSolutions and Serverless packs): no unacknowledged finding, no baseless one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

from infra import config, nag
from tests.infra.conftest import Synthesized, synthesize

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
PACKS = ("AwsSolutions", "Serverless")


def _violations(report_path: Path) -> list[tuple[str, str]]:
    """(rule, construct path) of every finding in a validation report."""
    report = json.loads(report_path.read_text())
    return [
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def _acknowledgments(synthesized: Synthesized) -> list[tuple[str, str, str]]:
    """(construct path, acknowledged id, reason) for every acknowledgment in the app."""
    found: list[tuple[str, str, str]] = []
    for construct in synthesized.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                found.extend(
                    (construct.node.path, rule, reason) for rule, reason in entry.data.items()
                )
    return found


@pytest.mark.parametrize("variant", ["default", "ephemeral+account-role"])
def test_the_app_has_no_unacknowledged_finding(
    synthesized: Synthesized, synthesized_variant: Synthesized, variant: str
) -> None:
    app = synthesized if variant == "default" else synthesized_variant
    # The session synth raised no ValidationFailed; the report says the same.
    assert _violations(app.assembly_dir / "validation-report.json") == []


def test_the_rule_packs_do_catch_a_finding(tmp_path: Path) -> None:
    """The wiring works: a queue without a DLQ fails the synth (so a pass above means much)."""
    app = App(outdir=str(tmp_path))
    sqs.Queue(Stack(app, "Probe"), "NoDeadLetterQueue")
    nag.add_rule_packs(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    rules = {rule for rule, _ in _violations(tmp_path / "validation-report.json")}
    assert {"AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"} <= rules


def test_every_acknowledgment_names_its_pack_and_carries_a_reason(
    synthesized: Synthesized,
) -> None:
    acknowledgments = _acknowledgments(synthesized)
    assert acknowledgments
    for path, rule, reason in acknowledgments:
        assert rule.split("::", 1)[0] in PACKS, (path, rule)
        assert len(reason.strip()) >= nag.MIN_REASON_LENGTH, (path, rule)


def test_a_reasonless_acknowledgment_is_refused() -> None:
    with pytest.raises(ValueError, match="real reason"):
        nag.acknowledge(App(), "AwsSolutions-L1", "ok")


def test_every_acknowledgment_silences_a_real_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Synthesize without acknowledging anything: each acknowledgment must match a finding.

    An acknowledgment that matches nothing would silently hide a future finding of that rule.
    """
    made: list[tuple[str, str]] = []

    def record_only(scope: IConstruct, rule_id: str, reason: str) -> None:
        made.append((scope.node.path, rule_id))

    monkeypatch.setattr(nag, "acknowledge", record_only)
    with pytest.raises(AssertionError, match="synth failed"):
        synthesize(tmp_path)
    findings = _violations(tmp_path / "validation-report.json")
    assert made
    for scope_path, rule_id in made:
        assert any(
            rule == rule_id and (path == scope_path or path.startswith(scope_path + "/"))
            for rule, path in findings
        ), f"{rule_id} acknowledged on {scope_path} matches no finding"
    assert config.STACK_NAME  # the stack synthesized is the app's own

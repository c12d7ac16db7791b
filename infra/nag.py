"""cdk-nag 3 wiring: the rule packs the app runs, and the one way to acknowledge a finding.

cdk-nag 3 runs as a CDK policy-validation plugin: a synth with an unacknowledged finding fails
with ``ValidationFailed`` and writes ``policy-validation-report.json`` into the cloud assembly.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

# A reason must say why the finding does not apply or what mitigates it, not just "ok".
MIN_REASON_LENGTH: Final = 40


def add_rule_packs(app: App) -> None:
    """Check the whole app with the AwsSolutions and Serverless packs at every synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge the finding ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope``.

    Applies to ``scope`` and its children. The reason is mandatory and must explain itself.
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, got {reason!r}")
    pack = rule_id.split("-", 1)[0]
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{rule_id}", reason=reason))

"""The CDK values for the choices made in ``infra.config`` (which stays free of CDK imports)."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from infra import config

_RUNTIMES: Final = {
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
}
_ARCHITECTURES: Final = {
    "x86_64": lambda_.Architecture.X86_64,
    "aarch64": lambda_.Architecture.ARM_64,
}
_RETENTIONS: Final = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}

RUNTIME: Final = _RUNTIMES[config.PYTHON_VERSION]
ARCHITECTURE: Final = _ARCHITECTURES[config.ARCHITECTURE]
LOG_RETENTION: Final = _RETENTIONS[config.LOG_RETENTION_DAYS]

"""One Lambda function of the service, with its own role, log group and tracing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import cdk_settings, config, nag
from records_service import names

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
# Never shipped with a function's code: caches and bytecode for this machine's Python.
CODE_EXCLUDES: Final = ("**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache")


class ServiceFunction(Construct):
    """A Python function on the shared layer, with everything it needs and nothing more.

    - its own IAM role, with no managed policy: it may write to its own log group, send traces,
      and whatever the owner grants it afterwards through ``role``;
    - its own log group with a retention period, JSON log format (Powertools logs JSON, Lambda's
      own lines follow suit) and active X-Ray tracing;
    - the Powertools service name and metrics namespace in its environment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dir: str,
        handler: str,
        layer: lambda_.ILayerVersion,
        timeout_seconds: int,
        memory_mb: int,
        environment: Mapping[str, str],
        description: str,
        ephemeral: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = self._log_group(ephemeral=ephemeral)
        self.role = self._role(description)
        self.function = self._function(
            code_dir=code_dir,
            handler=handler,
            layer=layer,
            timeout_seconds=timeout_seconds,
            memory_mb=memory_mb,
            environment=environment,
            description=description,
        )
        self._acknowledge_findings()
        self._silence_redundant_dependency_warning()

    def _log_group(self, *, ephemeral: bool) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "Logs",
            retention=cdk_settings.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY if ephemeral else RemovalPolicy.RETAIN,
        )

    def _role(self, description: str) -> iam.Role:
        # No AWSLambdaBasicExecutionRole: it allows writing to every log group in the account.
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of: {description}",
        )
        self.log_group.grant_write(role)
        return role

    def _function(
        self,
        *,
        code_dir: str,
        handler: str,
        layer: lambda_.ILayerVersion,
        timeout_seconds: int,
        memory_mb: int,
        environment: Mapping[str, str],
        description: str,
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            "Function",
            runtime=cdk_settings.RUNTIME,
            architecture=cdk_settings.ARCHITECTURE,
            code=lambda_.Code.from_asset(str(REPO_ROOT / code_dir), exclude=list(CODE_EXCLUDES)),
            handler=handler,
            layers=[layer],
            role=self.role,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            environment={
                names.ENV_POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
                names.ENV_POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
                **environment,
            },
            description=description,
        )

    def _silence_redundant_dependency_warning(self) -> None:
        # CDK makes the function depend on its role construct, which renders as DependsOn
        # [Role, Role's DefaultPolicy]. The policy dependency matters (the function must not run
        # before its permissions exist); the role one duplicates the Role GetAtt, which cfn-lint
        # reports as W3005. Silence that one check on this resource only, inside the template.
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    def _acknowledge_findings(self) -> None:
        nag.acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level "
            "permissions: active tracing needs Resource '*' (added by Tracing.ACTIVE).",
        )
        nag.acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Never invoked asynchronously: API Gateway invokes it synchronously, SQS and the "
            "table's stream through event source mappings, whose failures go to the queue's own "
            "DLQ (redrive policy) or to the stream mapping's on-failure queue.",
        )
        nag.acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"Python {config.PYTHON_VERSION} is chosen on purpose: the layer's wheels are built "
            "for it and the test suite imports and runs the deployed artifact under it.",
        )
        nag.acknowledge(
            self.function,
            "Serverless-LambdaLatestVersion",
            f"Python {config.PYTHON_VERSION} is chosen on purpose: the layer's wheels are built "
            "for it and the test suite imports and runs the deployed artifact under it.",
        )

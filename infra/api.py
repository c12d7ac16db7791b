"""The HTTP API: an IAM-authorized API Gateway REST API proxying to the API function."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import cdk_settings, config, nag, permissions
from infra.functions import ServiceFunction
from records_service import names, topology


def _access_log_format() -> apigw.AccessLogFormat:
    """One JSON object per request: who called, what, the outcome and where time went."""
    field = apigw.AccessLogField
    return apigw.AccessLogFormat.custom(
        json.dumps(
            {
                "requestId": field.context_request_id(),
                "extendedRequestId": field.context_extended_request_id(),
                "xrayTraceId": field.context_xray_trace_id(),
                "requestTime": field.context_request_time(),
                "ip": field.context_identity_source_ip(),
                "caller": field.context_identity_user_arn(),
                "userAgent": field.context_identity_user_agent(),
                "httpMethod": field.context_http_method(),
                "resourcePath": field.context_resource_path(),
                "path": field.context_path(),
                "status": field.context_status(),
                "responseLength": field.context_response_length(),
                "responseLatency": field.context_response_latency(),
                "integrationStatus": field.context_integration_status(),
                "integrationLatency": field.context_integration_latency(),
                "integrationError": field.context_integration_error_message(),
                "errorMessage": field.context_error_message(),
                "errorResponseType": field.context_error_response_type(),
            }
        )
    )


class RecordsApi(Construct):
    """The API function behind a regional REST API.

    Every method requires SigV4-signed requests (IAM authorization); the stage is throttled,
    traced and writes JSON access logs to its own log group. ``cloud_watch_role`` stays off by
    default: that role is account-wide and would outlive the stack; ``account_role=True`` creates
    it (retained) for accounts that lack it. The function may query the table and, of its
    secondary indexes, exactly those named in ``queried_indexes``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        ephemeral: bool,
        account_role: bool,
        queried_indexes: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = self._function(table=table, layer=layer, ephemeral=ephemeral)
        self._grant_index_queries(table, queried_indexes)
        self.access_logs = self._access_log_group(ephemeral=ephemeral)
        self.rest_api = self._rest_api(account_role=account_role)
        self._acknowledge_findings(account_role=account_role)

    def _function(
        self, *, table: dynamodb.ITable, layer: lambda_.ILayerVersion, ephemeral: bool
    ) -> ServiceFunction:
        function = ServiceFunction(
            self,
            "Handler",
            code_dir=names.API_CODE_DIR,
            handler=names.API_HANDLER,
            layer=layer,
            timeout_seconds=topology.API_FUNCTION_TIMEOUT_SECONDS,
            memory_mb=config.API_MEMORY_MB,
            environment={names.ENV_TABLE_NAME: table.table_name},
            description="Records HTTP API (API Gateway REST proxy)",
            ephemeral=ephemeral,
        )
        function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(permissions.API_TABLE_ACTIONS), resources=[table.table_arn]
            )
        )
        return function

    def _grant_index_queries(self, table: dynamodb.ITable, index_names: Sequence[str]) -> None:
        if not index_names:
            return
        self.handler.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(permissions.API_INDEX_ACTIONS),
                resources=[f"{table.table_arn}/index/{name}" for name in index_names],
            )
        )

    def _access_log_group(self, *, ephemeral: bool) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "AccessLogs",
            retention=cdk_settings.LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY if ephemeral else RemovalPolicy.RETAIN,
        )

    def _rest_api(self, *, account_role: bool) -> apigw.LambdaRestApi:
        rest_api = apigw.LambdaRestApi(
            self,
            "RestApi",
            handler=self.handler.function,
            proxy=True,
            description="Records service: every repository operation over HTTP",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.IAM
            ),
            cloud_watch_role=account_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if account_role else None,
            deploy_options=apigw.StageOptions(
                stage_name=config.API_STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=_access_log_format(),
                tracing_enabled=True,
                throttling_rate_limit=config.API_THROTTLING_RATE_LIMIT,
                throttling_burst_limit=config.API_THROTTLING_BURST_LIMIT,
            ),
        )
        # The stack outputs the URL under a stable name; drop the L2's auto-named duplicate.
        rest_api.node.try_remove_child("Endpoint")
        return rest_api

    def _acknowledge_findings(self, *, account_role: bool) -> None:
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "A proxy integration with no API Gateway models: the function validates every body "
            "and parameter against the Pydantic content types and answers 4xx with the reason.",
        )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "Every method requires SigV4 (IAM) and the stage is throttled; a WAF web ACL costs "
            "a fixed monthly fee and can be attached by deployers who expose the API widely.",
        )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-APIG6",
            "Execution logging needs the account-wide API Gateway CloudWatch role and logs "
            "request bodies; JSON access logs and the function's own JSON logs cover each call.",
        )
        nag.acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "The API uses IAM (SigV4) authorization on every method by design, not Cognito: "
            "callers are AWS principals (services, CI, operators) granted execute-api:Invoke.",
        )
        if account_role:
            nag.acknowledge(
                self.rest_api,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-wide API Gateway logging role, created only on request: AWS's "
                "own policy for it is the documented way and is scoped to log writing.",
            )

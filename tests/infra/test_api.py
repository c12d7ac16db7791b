"""API Gateway: IAM on every method, throttled, traced, JSON access logs, no account role."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match, Template

from infra import config
from tests.infra.conftest import Synthesized


def test_every_method_requires_iam_authorization(template: Template) -> None:
    methods = template.find_resources("AWS::ApiGateway::Method")
    assert methods, "the API has methods"
    for logical_id, method in methods.items():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM", logical_id


def test_the_api_proxies_every_path_and_method_to_the_api_function(
    synthesized: Synthesized,
) -> None:
    methods = synthesized.template.find_resources("AWS::ApiGateway::Method")
    function_arn = synthesized.resolve(synthesized.stack.api.handler.function.function_arn)
    assert {m["Properties"]["HttpMethod"] for m in methods.values()} == {"ANY"}
    for method in methods.values():
        integration = method["Properties"]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert json.dumps(function_arn) in json.dumps(integration["Uri"])
    synthesized.template.has_resource_properties(
        "AWS::ApiGateway::Resource", {"PathPart": "{proxy+}"}
    )


def test_stage_is_throttled_and_traced(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": config.API_STAGE_NAME,
            "TracingEnabled": True,
            "MethodSettings": [
                Match.object_like(
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "ThrottlingRateLimit": config.API_THROTTLING_RATE_LIMIT,
                        "ThrottlingBurstLimit": config.API_THROTTLING_BURST_LIMIT,
                    }
                )
            ],
        },
    )


def test_access_logs_are_json_into_the_stack_log_group(synthesized: Synthesized) -> None:
    (stage,) = synthesized.template.find_resources("AWS::ApiGateway::Stage").values()
    setting = stage["Properties"]["AccessLogSetting"]
    # The ARN is built without the ":*" suffix (a cdk.json feature flag): look for the group.
    group = synthesized.resolve(synthesized.stack.api.access_logs.log_group_name)
    assert json.dumps(group) in json.dumps(setting["DestinationArn"])
    fields = json.loads(setting["Format"])
    assert {"requestId", "caller", "status", "integrationError"} <= set(fields)


def test_the_account_wide_cloudwatch_role_is_not_created_by_default(template: Template) -> None:
    template.resource_count_is("AWS::ApiGateway::Account", 0)


def test_the_account_role_flag_creates_it_and_keeps_it(
    synthesized_variant: Synthesized,
) -> None:
    synthesized_variant.template.resource_count_is("AWS::ApiGateway::Account", 1)
    synthesized_variant.template.has_resource(
        "AWS::IAM::Role",
        {
            "Properties": Match.object_like(
                {
                    "AssumeRolePolicyDocument": Match.object_like(
                        {
                            "Statement": [
                                Match.object_like(
                                    {"Principal": {"Service": "apigateway.amazonaws.com"}}
                                )
                            ]
                        }
                    )
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )


def test_outputs_name_the_url_table_bus_and_alarm_topic(synthesized: Synthesized) -> None:
    outputs = synthesized.template_json["Outputs"]
    stack = synthesized.stack
    assert outputs[config.OUTPUT_API_URL]["Value"] == synthesized.resolve(stack.api.rest_api.url)
    assert outputs[config.OUTPUT_TABLE_NAME]["Value"] == synthesized.resolve(stack.table.table_name)
    assert outputs[config.OUTPUT_EVENT_BUS_NAME]["Value"] == synthesized.resolve(
        stack.ingestion.bus.event_bus_name
    )
    assert outputs[config.OUTPUT_ALARM_TOPIC_ARN]["Value"] == synthesized.resolve(
        stack.monitoring.topic.topic_arn
    )

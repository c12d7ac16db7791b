"""The records table: keys as the library expects them, TTL, PITR, encryption, protection."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from records_service import names
from tests.infra.conftest import Synthesized

TABLE = "AWS::DynamoDB::Table"


def test_there_is_exactly_one_table(template: Template) -> None:
    template.resource_count_is(TABLE, 1)


def test_keys_are_the_service_key_names_as_strings(template: Template) -> None:
    template.has_resource_properties(
        TABLE,
        {
            "KeySchema": [
                {"AttributeName": names.PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": names.SORT_KEY, "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_equals(
                [
                    {"AttributeName": names.PARTITION_KEY, "AttributeType": "S"},
                    {"AttributeName": names.SORT_KEY, "AttributeType": "S"},
                ]
            ),
        },
    )


def test_ttl_is_on_the_library_ttl_attribute(template: Template) -> None:
    template.has_resource_properties(
        TABLE,
        {"TimeToLiveSpecification": {"AttributeName": names.TTL_ATTRIBUTE, "Enabled": True}},
    )


def test_billing_is_on_demand(template: Template) -> None:
    template.has_resource_properties(TABLE, {"BillingMode": "PAY_PER_REQUEST"})


def test_point_in_time_recovery_is_on(template: Template) -> None:
    template.has_resource_properties(
        TABLE, {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}
    )


def test_encryption_at_rest_uses_a_kms_key(template: Template) -> None:
    template.has_resource_properties(TABLE, {"SSESpecification": {"SSEEnabled": True}})


def test_table_is_protected_and_retained_by_default(template: Template) -> None:
    template.has_resource(
        TABLE,
        {
            "Properties": Match.object_like({"DeletionProtectionEnabled": True}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_ephemeral_stack_lets_the_table_go(synthesized_variant: Synthesized) -> None:
    synthesized_variant.template.has_resource(
        TABLE,
        {
            "Properties": Match.object_like({"DeletionProtectionEnabled": False}),
            "DeletionPolicy": "Delete",
        },
    )


def test_function_log_groups_are_retained_unless_ephemeral(
    template: Template, synthesized_variant: Synthesized
) -> None:
    retained = template.find_resources("AWS::Logs::LogGroup", {"DeletionPolicy": "Retain"})
    deleted = synthesized_variant.template.find_resources(
        "AWS::Logs::LogGroup", {"DeletionPolicy": "Delete"}
    )
    all_groups = template.find_resources("AWS::Logs::LogGroup")
    assert len(retained) == len(all_groups) > 0
    assert len(deleted) == len(all_groups)

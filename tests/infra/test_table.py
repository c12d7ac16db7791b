"""The records table: keys and indexes as the library expects them, TTL, PITR, encryption."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template

from infra.table import RecordsTable
from pydantic_dynamo.table import PhysicalIndex, Projection, TableDescription
from records_service import names
from records_service.content_types import CONTENT_TYPES
from tests.infra.conftest import Synthesized

TABLE = "AWS::DynamoDB::Table"
# The physical index the content types share, spelled out independently of names.TABLE.
GSI1 = {
    "IndexName": "gsi1",
    "KeySchema": [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}


def _table_properties(template: Template) -> dict[str, Any]:
    (table,) = template.find_resources(TABLE).values()
    properties: dict[str, Any] = table["Properties"]
    return properties


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
        },
    )


def test_attributes_defined_are_the_table_and_index_keys_as_strings(template: Template) -> None:
    definitions = _table_properties(template)["AttributeDefinitions"]
    assert sorted(definitions, key=lambda d: d["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"}
        for name in sorted([names.PARTITION_KEY, names.SORT_KEY, "gsi1pk", "gsi1sk"])
    ]


def test_the_one_global_index_is_gsi1_with_its_keys_and_every_attribute(
    template: Template,
) -> None:
    assert _table_properties(template)["GlobalSecondaryIndexes"] == [GSI1]
    assert "LocalSecondaryIndexes" not in _table_properties(template)


def test_the_deployed_table_is_the_one_create_table_makes(template: Template) -> None:
    """The CDK app and ``create_table`` (local stack, fixtures) read one description."""
    request = names.TABLE.create_table_request("any")
    properties = _table_properties(template)

    assert properties["KeySchema"] == request["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
        request["AttributeDefinitions"], key=str
    )
    assert properties["GlobalSecondaryIndexes"] == request["GlobalSecondaryIndexes"]
    assert properties["BillingMode"] == request["BillingMode"]
    assert properties["TimeToLiveSpecification"]["AttributeName"] == names.TABLE.ttl_attribute


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


def test_every_index_a_content_type_declares_is_on_a_deployed_index(template: Template) -> None:
    deployed = {gsi["IndexName"] for gsi in _table_properties(template)["GlobalSecondaryIndexes"]}
    declared = {index.on.name for ct in CONTENT_TYPES.values() for index in ct.indexes}

    assert declared
    assert declared <= deployed


def test_any_description_becomes_its_indexes_with_their_projections() -> None:
    description = TableDescription(
        indexes=(
            PhysicalIndex.global_("gsi1"),
            PhysicalIndex.global_("gsi2", Projection.include("name", "created")),
            PhysicalIndex.global_("gsi3", Projection.keys_only()),
            PhysicalIndex.local("lsi1", Projection.include("name")),
        )
    )
    stack = Stack(App(), "Indexes")
    RecordsTable(stack, "Records", ephemeral=True, description=description)
    request = description.create_table_request("any")

    properties = _table_properties(Template.from_stack(stack))

    assert properties["GlobalSecondaryIndexes"] == request["GlobalSecondaryIndexes"]
    assert properties["LocalSecondaryIndexes"] == request["LocalSecondaryIndexes"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
        request["AttributeDefinitions"], key=str
    )

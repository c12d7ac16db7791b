"""The records table: the single DynamoDB table behind the library and the service."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from pydantic_dynamo.table import PhysicalIndex, TableDescription
from records_service import names


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class RecordsTable(Construct):
    """A DynamoDB table shaped the way ``pydantic_dynamo`` reads and writes it.

    Built from ``description`` (``names.TABLE`` by default, the one the local stack, the test
    fixtures and ``pydantic_dynamo.table.create_table`` read too): string partition and sort
    keys, TTL on the library's reserved ``_ttl`` attribute and the physical secondary indexes,
    projections included. On-demand billing, point-in-time recovery, encryption with the AWS
    managed key, and a stream of new and old images (``names.TABLE_STREAM_VIEW_TYPE``). Unless
    ``ephemeral``, the table survives ``cdk destroy`` (RETAIN) and refuses deletion (deletion
    protection).

    CloudFormation creates or deletes at most one GSI per stack update: add indexes to the
    description one per deploy (docs/deploy.md, "Secondary indexes").
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ephemeral: bool,
        description: TableDescription = names.TABLE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.description = description
        self.table = self._table(ephemeral=ephemeral)
        for index in description.indexes:
            self._add_index(index)

    def _table(self, *, ephemeral: bool) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "Table",
            partition_key=_string(self.description.partition_key),
            sort_key=_string(self.description.sort_key),
            time_to_live_attribute=self.description.ttl_attribute,
            # Pay per request: no capacity to plan, nothing billed while idle.
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The AWS managed key (aws/dynamodb): encryption visible in the template and in
            # CloudTrail, no key to administer, and callers need no kms: permissions.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Every change with the content before and after it: the stream consumer's input.
            stream=dynamodb.StreamViewType[names.TABLE_STREAM_VIEW_TYPE],
            deletion_protection=not ephemeral,
            removal_policy=RemovalPolicy.DESTROY if ephemeral else RemovalPolicy.RETAIN,
        )

    def _add_index(self, index: PhysicalIndex) -> None:
        projection_type = dynamodb.ProjectionType[index.projection.type]
        non_key_attributes = list(index.projection.non_key) or None
        if index.partition_key is None:  # a local index: the table's partition key
            # Only with the table: CloudFormation cannot add an LSI to an existing table.
            self.table.add_local_secondary_index(
                index_name=index.name,
                sort_key=_string(index.sort_key),
                projection_type=projection_type,
                non_key_attributes=non_key_attributes,
            )
            return
        self.table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_string(index.partition_key),
            sort_key=_string(index.sort_key),
            projection_type=projection_type,
            non_key_attributes=non_key_attributes,
        )

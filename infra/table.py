"""The records table: the single DynamoDB table behind the library and the service."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from records_service import names


class RecordsTable(Construct):
    """A DynamoDB table shaped the way ``pydantic_dynamo`` reads and writes it.

    String partition and sort keys named as the service expects, TTL on the library's reserved
    ``_ttl`` attribute, on-demand billing, point-in-time recovery and encryption with the AWS
    managed key. Unless ``ephemeral``, the table survives ``cdk destroy`` (RETAIN) and refuses
    deletion (deletion protection).
    """

    def __init__(self, scope: Construct, construct_id: str, *, ephemeral: bool) -> None:
        super().__init__(scope, construct_id)
        self.table = self._table(ephemeral=ephemeral)

    def _table(self, *, ephemeral: bool) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=names.PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=names.SORT_KEY, type=dynamodb.AttributeType.STRING),
            time_to_live_attribute=names.TTL_ATTRIBUTE,
            # Pay per request: no capacity to plan, nothing billed while idle.
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The AWS managed key (aws/dynamodb): encryption visible in the template and in
            # CloudTrail, no key to administer, and callers need no kms: permissions.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=not ephemeral,
            removal_policy=RemovalPolicy.DESTROY if ephemeral else RemovalPolicy.RETAIN,
        )

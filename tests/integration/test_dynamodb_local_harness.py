"""The harness itself: DynamoDB Local starts, answers, and the ``table_name`` fixture is usable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from local_stack.dynamodb_local import DynamoDBLocal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef


def test_server_answers_on_loopback(dynamodb_local: DynamoDBLocal) -> None:
    assert dynamodb_local.endpoint_url == f"http://127.0.0.1:{dynamodb_local.port}"
    assert dynamodb_local.is_running()
    assert dynamodb_local.pid > 0


def test_put_then_get_raw_item(dynamodb_client: DynamoDBClient, table_name: str) -> None:
    item = {
        "PARTITION_KEY": {"S": "user#1"},
        "SORT_KEY": {"S": "profile"},
        "name": {"S": "Ada"},
        "visits": {"N": "3"},
    }
    dynamodb_client.put_item(TableName=table_name, Item=item)

    got = dynamodb_client.get_item(
        TableName=table_name,
        Key={"PARTITION_KEY": {"S": "user#1"}, "SORT_KEY": {"S": "profile"}},
        ConsistentRead=True,
    )

    assert got["Item"] == item


def test_table_is_on_demand_with_ttl(dynamodb_client: DynamoDBClient, table_name: str) -> None:
    table = dynamodb_client.describe_table(TableName=table_name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("PARTITION_KEY", "HASH"),
        ("SORT_KEY", "RANGE"),
    }

    ttl = dynamodb_client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]

    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "_ttl"}


def test_dynamodb_local_enforces_real_limits(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    """The reason to use DynamoDB Local over moto: 26 items in one batch are refused."""
    requests: list[WriteRequestTypeDef] = [
        {
            "PutRequest": {
                "Item": {"PARTITION_KEY": {"S": "p"}, "SORT_KEY": {"S": f"{i:03d}"}},
            }
        }
        for i in range(26)
    ]
    with pytest.raises(dynamodb_client.exceptions.ClientError, match="Too many items"):
        dynamodb_client.batch_write_item(RequestItems={table_name: requests})

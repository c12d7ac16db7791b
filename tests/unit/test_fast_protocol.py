"""The fast wire layer must produce exactly what botocore's shape walk produces."""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

import boto3
import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from pydantic_dynamo import fast_protocol
from pydantic_dynamo.client import create_client

ITEM: dict[str, Any] = {
    "PARTITION_KEY": {"S": "p#n#a"},
    "SORT_KEY": {"S": "t#1"},
    "blob": {"B": b"\x00\xffbinary"},
    "blobs": {"BS": [b"a", b"\x01"]},
    "map": {"M": {"B": {"S": "an attribute named B"}, "BOOL": {"BOOL": True}}},
    "list": {"L": [{"N": "1.5"}, {"NULL": True}, {"B": b"x"}]},
    "strings": {"SS": ["a", "b"]},
}


def _wire(item: dict[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB sends it: binary values in base64."""

    def convert(value: Any) -> Any:
        if isinstance(value, bytes):
            return b64encode(value).decode("ascii")
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {k: convert(v) for k, v in item.items()}


@pytest.fixture(scope="module")
def service_model() -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.meta.service_model


def _response(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "status_code": 200,
        "headers": {"x-amzn-requestid": "req-1"},
        "body": json.dumps(body).encode("utf-8"),
    }


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("GetItem", {"Item": _wire(ITEM)}),
        ("Query", {"Items": [_wire(ITEM)], "Count": 1, "ScannedCount": 1}),
        (
            "Query",
            {
                "Items": [],
                "Count": 0,
                "ScannedCount": 3,
                "LastEvaluatedKey": {"PARTITION_KEY": {"S": "p"}, "SORT_KEY": {"S": "s"}},
            },
        ),
        ("BatchGetItem", {"Responses": {"t": [_wire(ITEM)]}, "UnprocessedKeys": {}}),
        (
            "BatchWriteItem",
            {"UnprocessedItems": {"t": [{"PutRequest": {"Item": _wire(ITEM)}}]}},
        ),
        ("UpdateItem", {"Attributes": _wire(ITEM)}),
        ("PutItem", {}),
    ],
)
def test_fast_parser_matches_botocore(service_model: Any, operation: str, body: Any) -> None:
    shape = service_model.operation_model(operation).output_shape
    stock = create_parser("json").parse(_response(body), shape)
    factory = fast_protocol._FastParserFactory({})
    fast = factory.create_parser("json").parse(_response(body), shape)
    assert fast == stock


def test_fast_parser_leaves_errors_to_botocore(service_model: Any) -> None:
    shape = service_model.operation_model("PutItem").output_shape
    response = {
        "status_code": 400,
        "headers": {"x-amzn-requestid": "req-2"},
        "body": json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
                "Item": _wire(ITEM),
            }
        ).encode("utf-8"),
    }
    stock = create_parser("json").parse(response, shape)
    fast = fast_protocol._FastParserFactory({}).create_parser("json").parse(response, shape)
    assert fast == stock
    assert fast["Error"]["Code"] == "ConditionalCheckFailedException"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("PutItem", {"TableName": "t", "Item": ITEM}),
        (
            "Query",
            {
                "TableName": "t",
                "KeyConditionExpression": "#n0 = :v0",
                "ExpressionAttributeNames": {"#n0": "PARTITION_KEY"},
                "ExpressionAttributeValues": {":v0": {"S": "p"}},
                "Limit": 5,
                "ScanIndexForward": False,
            },
        ),
        ("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": ITEM}}]}}),
    ],
)
def test_fast_serializer_matches_botocore(
    service_model: Any, operation: str, params: dict[str, Any]
) -> None:
    operation_model = service_model.operation_model(operation)
    stock_serializer = create_serializer("json", include_validation=False)
    stock = stock_serializer.serialize_to_request(params, operation_model)
    fast = fast_protocol._FastSerializer(stock_serializer).serialize_to_request(
        params, operation_model
    )
    assert json.loads(fast["body"]) == json.loads(stock["body"])
    assert {k: v for k, v in fast.items() if k != "body"} == {
        k: v for k, v in stock.items() if k != "body"
    }


def test_create_client_installs_the_fast_layer() -> None:
    client = create_client(region_name="us-east-1")
    assert isinstance(client._serializer, fast_protocol._FastSerializer)  # type: ignore[attr-defined]


def test_install_refuses_an_unknown_client() -> None:
    assert fast_protocol.install(object()) is False

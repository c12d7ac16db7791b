"""Fixtures for the handler tests: a mocked AWS (moto) around a real-enough DynamoDB.

Every test using ``service_env`` runs twice: against moto's DynamoDB (in process, fast) and
against DynamoDB Local (AWS's emulator, the faithful one: 400 KB items, 25-item batches, exact
error texts), through the session fixtures of ``tests/conftest.py``. SQS and EventBridge are
always moto's. The DynamoDB Local runs are marked ``integration`` (the fixture asks for
``dynamodb_local`` at run time, which the suite's marking by fixture name cannot see), so
``pytest -m "not integration"`` runs the moto half without Java.

Handlers are imported inside each test, after the mock and the environment are in place, and
fresh each time (their settings are read at import, their clients on first use).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from records_service import names
from records_service.clients import dynamodb_client
from tests.service.helpers import (
    BUS_NAME,
    REGION,
    Api,
    ServiceEnv,
    WrappedClient,
    forget_handlers,
    load,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _create_table(client: DynamoDBClient, table_name: str) -> None:
    client.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": names.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": names.SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": names.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": names.SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": names.TTL_ATTRIBUTE},
    )


@pytest.fixture(scope="package")
def mocked_aws() -> Iterator[None]:
    """moto's AWS for the whole package: started once (a restart reloads every botocore model).

    Tests stay apart by using their own table, bus and queue names.
    """
    with mock_aws():
        yield


@pytest.fixture(params=["moto", pytest.param("dynamodb-local", marks=pytest.mark.integration)])
def service_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, mocked_aws: None
) -> Iterator[ServiceEnv]:
    """A records table (moto's or DynamoDB Local's), a bus, a catching queue and the env vars."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(names.ENV_DYNAMODB_ENDPOINT, raising=False)
    monkeypatch.delenv(names.ENV_EVENTS_ENDPOINT, raising=False)

    suffix = uuid.uuid4().hex[:12]
    endpoint: str | None = None
    table_name = f"records-{suffix}"
    if request.param == "dynamodb-local":
        # tests/conftest.py starts DynamoDB Local (session) and creates a fresh table.
        endpoint = request.getfixturevalue("dynamodb_local").endpoint_url
        table_name = request.getfixturevalue("table_name")
        monkeypatch.setenv(names.ENV_DYNAMODB_ENDPOINT, endpoint)

    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    if endpoint is None:
        _create_table(dynamodb, table_name)
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    bus_name = f"{BUS_NAME}-{suffix}"
    events.create_event_bus(Name=bus_name)
    queue_url = sqs.create_queue(QueueName=f"announced-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="announced",
        EventBusName=bus_name,
        EventPattern=json.dumps(
            {"source": [names.EVENT_SOURCE], "detail-type": [names.DETAIL_TYPE_WRITTEN]}
        ),
    )
    events.put_targets(
        Rule="announced", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": queue_arn}]
    )
    monkeypatch.setenv(names.ENV_TABLE_NAME, table_name)
    monkeypatch.setenv(names.ENV_EVENT_BUS_NAME, bus_name)
    forget_handlers()
    try:
        yield ServiceEnv(request.param, table_name, dynamodb, sqs, queue_url)
    finally:
        forget_handlers()
        if endpoint is None:
            dynamodb.delete_table(TableName=table_name)


@pytest.fixture
def api(service_env: ServiceEnv) -> Api:
    """The API handler, imported fresh for this test."""
    return Api(load("records_api.handler"))


@pytest.fixture
def wrap_dynamodb(
    service_env: ServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., WrappedClient]:
    """Replace operations of the handlers' DynamoDB client: ``wrap_dynamodb(put_item=...)``.

    Call it before the handler's first request (the client is built then).
    """
    from records_service import repositories

    def install(**overrides: Any) -> WrappedClient:
        real = dynamodb_client(os.environ.get(names.ENV_DYNAMODB_ENDPOINT))
        wrapped = WrappedClient(real, **overrides)
        monkeypatch.setattr(repositories, "dynamodb_client", lambda endpoint: wrapped)
        return wrapped

    return install

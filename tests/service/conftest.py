"""Fixtures for the handler tests: moto in server mode around a real-enough DynamoDB.

The handlers talk to AWS through the service's lean clients, real HTTP clients, so AWS is moto
served on a loopback port (``ThreadedMotoServer``), not moto's in-process mock (which only
patches botocore). Every test using ``service_env`` runs twice: against moto's DynamoDB and
against DynamoDB Local (AWS's emulator, the faithful one: 400 KB items, 25-item batches, exact
error texts), through the session fixtures of ``tests/conftest.py``. SQS and EventBridge are
always moto's. The endpoints reach the handlers as AWS's own variables
(``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL_EVENTBRIDGE``, ``AWS_ENDPOINT_URL_SQS``). The
DynamoDB Local runs are marked ``integration`` (the fixture asks for ``dynamodb_local`` at run
time, which the suite's marking by fixture name cannot see), so ``pytest -m "not integration"``
runs the moto half without Java.

Handlers are built by their factories (``tests.service.helpers``), with the test's settings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from pydantic_dynamo.table import create_table
from records_service import clients, names
from tests.service.helpers import (
    BUS_NAME,
    REGION,
    Api,
    ServiceEnv,
    WrappedClient,
    api_handler,
)


@pytest.fixture(scope="package")
def moto_server() -> Iterator[str]:
    """moto's AWS on a free loopback port for the whole package; its URL.

    Tests stay apart by using their own table, bus and queue names.
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["moto", pytest.param("dynamodb-local", marks=pytest.mark.integration)])
def service_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> Iterator[ServiceEnv]:
    """A records table (moto's or DynamoDB Local's), a bus, a catching queue and the env vars."""
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": names.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_server,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": moto_server,
        "AWS_ENDPOINT_URL_SQS": moto_server,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(names.ENV_DYNAMODB_ENDPOINT, raising=False)
    monkeypatch.delenv(names.ENV_EVENTS_ENDPOINT, raising=False)

    suffix = uuid.uuid4().hex[:12]
    table_name = f"records-{suffix}"
    on_moto = request.param == "moto"
    if not on_moto:
        # tests/conftest.py starts DynamoDB Local (session) and creates a fresh table.
        monkeypatch.setenv(
            "AWS_ENDPOINT_URL_DYNAMODB", request.getfixturevalue("dynamodb_local").endpoint_url
        )
        table_name = request.getfixturevalue("table_name")

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    if on_moto:
        create_table(dynamodb, table_name, names.TABLE)
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
    clients.clear_clients()  # the lean clients resolve the endpoints above when first built
    try:
        yield ServiceEnv(request.param, table_name, dynamodb, sqs, queue_url)
    finally:
        clients.clear_clients()
        if on_moto:
            dynamodb.delete_table(TableName=table_name)


@pytest.fixture
def api(service_env: ServiceEnv) -> Api:
    """The API handler, built for this test."""
    return api_handler(service_env)


@pytest.fixture
def wrap_dynamodb(service_env: ServiceEnv) -> Callable[..., WrappedClient]:
    """Replace operations of the handlers' DynamoDB client: ``wrap_dynamodb(put_item=...)``.

    Call it before the handler's first request (the client is taken then).
    """

    def install(**overrides: Any) -> WrappedClient:
        wrapped = WrappedClient(clients.dynamodb_client(), **overrides)
        service_env.dynamodb_override = wrapped
        return wrapped

    return install

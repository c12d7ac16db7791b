"""The lean transport against DynamoDB Local, through a proxy that throttles, fails and drops.

Every fault the transport retries must leave the table exactly as a fault-free run would: no
item lost, none duplicated. Credentials refresh, clocks get corrected, and neither keys nor
signatures ever reach a log or an error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError, ConnectionClosedError

from local_stack.dynamodb_local import DynamoDBLocal
from pydantic_dynamo import SyncDynamoRepository
from pydantic_dynamo.transport import LeanClient, TransportRetries
from tests.integration.fault_proxy import Fault, FaultProxy
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
)
from tests.integration.support import Example, every_id, ids_of, legacy_key, numbered

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SECRET = "lean-transport-secret-key"  # a test credential, searched for in logs
TOKEN = "lean-transport-session-token"


def passing(number: int, operation: str, headers: dict[str, str]) -> Fault:
    """Every request reaches DynamoDB Local."""
    return Fault.PASS


# Two requests in seven pass; the others meet each fault in turn (at most two in a row).
_ROUND = (
    Fault.THROTTLE,
    Fault.PASS,
    Fault.FAIL_500,
    Fault.PASS,
    Fault.DROP_BEFORE,
    Fault.DROP_AFTER,
    Fault.PASS,
)


def stormy(number: int, operation: str, headers: dict[str, str]) -> Fault:
    """Throttling, a 500, a connection dropped before and one dropped after DynamoDB acted."""
    return _ROUND[(number - 1) % len(_ROUND)]


@pytest.fixture
def proxy(dynamodb_local: DynamoDBLocal) -> Iterator[FaultProxy]:
    """A proxy to DynamoDB Local that lets everything through until replanned."""
    server = FaultProxy(dynamodb_local.endpoint_url, passing)
    try:
        yield server
    finally:
        server.close()


def lean_client(endpoint_url: str, *, attempts: int = 6, **kwargs: Any) -> LeanClient:
    """A lean client with millisecond backoff (the test proves retries, not patience)."""
    kwargs.setdefault("aws_access_key_id", "AKIDLEANTEST")
    kwargs.setdefault("aws_secret_access_key", SECRET)
    return LeanClient(
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        retries=TransportRetries(max_attempts=attempts, base_delay=0.001, max_delay=0.005),
        **kwargs,
    )


def repository(client: Any, table_name: str) -> SyncDynamoRepository[Example]:
    return SyncDynamoRepository[Example](
        item_class=Example,
        partition_prefix=PARTITION_PREFIX,
        partition_name=PARTITION_NAME,
        content_type=CONTENT_TYPE,
        table_name=table_name,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        consistent_reads=True,
        client=client,
    )


def stored_ids(dynamodb_client: DynamoDBClient, table_name: str) -> list[str]:
    """Every content id in the table, read with boto3 (one entry per stored item)."""
    ids: list[str] = []
    for page in dynamodb_client.get_paginator("scan").paginate(TableName=table_name):
        ids.extend(item[SORT_KEY]["S"].removeprefix(f"{CONTENT_TYPE}#") for item in page["Items"])
    return sorted(ids)


def test_put_batch_of_500_through_faults_writes_exactly_those(
    proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    proxy.replan(stormy)
    repo = repository(lean_client(proxy.endpoint_url), table_name)
    repo.put_batch(numbered(500))
    assert stored_ids(dynamodb_client, table_name) == every_id(500)
    faults = {seen.fault for seen in proxy.seen}
    assert faults == set(_ROUND), "every fault was met"


def test_get_batch_of_500_through_faults_reads_each_item_once(
    proxy: FaultProxy, table_name: str
) -> None:
    repo = repository(lean_client(proxy.endpoint_url), table_name)
    repo.put_batch(numbered(500))
    proxy.replan(stormy)
    got = ids_of(repo.get_batch([(["films"], [content_id]) for content_id in every_id(500)]))
    assert sorted(got) == every_id(500)


def test_list_through_faults_reads_each_item_once(proxy: FaultProxy, table_name: str) -> None:
    repo = repository(lean_client(proxy.endpoint_url), table_name)
    repo.put_batch(numbered(300))
    proxy.replan(stormy)
    assert ids_of(repo.list(["films"], None)) == every_id(300)


def test_throttling_past_the_last_attempt_is_the_client_error(
    proxy: FaultProxy, table_name: str
) -> None:
    proxy.replan(lambda number, operation, headers: Fault.THROTTLE)
    client = lean_client(proxy.endpoint_url, attempts=3)
    with pytest.raises(ClientError) as raised:
        client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a"]))
    response = raised.value.response
    assert response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(proxy.seen) == 3


def test_connections_dropped_past_the_last_attempt_raise_botocores_error(
    proxy: FaultProxy, table_name: str
) -> None:
    proxy.replan(lambda number, operation, headers: Fault.DROP_BEFORE)
    client = lean_client(proxy.endpoint_url, attempts=2)
    with pytest.raises(ConnectionClosedError):
        client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a"]))
    assert len(proxy.seen) == 2


def test_a_kept_alive_connection_the_server_closed_is_replaced_not_failed(
    proxy: FaultProxy, table_name: str
) -> None:
    proxy.replan(lambda number, operation, headers: Fault.CLOSE_IDLE if number == 1 else Fault.PASS)
    client = lean_client(proxy.endpoint_url, attempts=1)
    key = legacy_key(["films"], ["a"])
    client.get_item(TableName=table_name, Key=key)
    time.sleep(0.2)  # the server's close reaches the idle connection
    client.get_item(TableName=table_name, Key=key)
    assert len(proxy.seen) == 2


def _refreshable(first_key: str, expires_in: timedelta, later_keys: Iterator[str]) -> Any:
    def metadata(key: str) -> dict[str, str]:
        expiry = datetime.now(UTC) + timedelta(hours=1)
        return {
            "access_key": key,
            "secret_key": SECRET,
            "token": TOKEN,
            "expiry_time": expiry.isoformat(),
        }

    first = metadata(first_key)
    first["expiry_time"] = (datetime.now(UTC) + expires_in).isoformat()
    return RefreshableCredentials.create_from_metadata(
        first, lambda: metadata(next(later_keys)), "test"
    )


def test_credentials_near_expiry_refresh_before_signing(proxy: FaultProxy, table_name: str) -> None:
    credentials = _refreshable("KEYONE", timedelta(seconds=30), iter(["KEYTWO", "KEYTHREE"]))
    client = lean_client(proxy.endpoint_url, credentials=credentials)
    client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a"]))
    assert [seen.access_key for seen in proxy.seen] == ["KEYTWO"]


def test_credentials_dynamodb_calls_expired_are_refreshed_and_the_request_resent(
    proxy: FaultProxy, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    proxy.replan(
        lambda number, operation, headers: (
            Fault.EXPIRED if "KEYONE/" in headers["Authorization"] else Fault.PASS
        )
    )
    credentials = _refreshable("KEYONE", timedelta(hours=1), iter(["KEYTWO"]))
    repo = repository(lean_client(proxy.endpoint_url, credentials=credentials), table_name)
    repo.put_batch(numbered(30))
    assert [seen.access_key for seen in proxy.seen] == ["KEYONE", "KEYTWO", "KEYTWO"]
    assert stored_ids(dynamodb_client, table_name) == every_id(30)


def test_a_skewed_clock_is_corrected_from_the_servers_date(
    proxy: FaultProxy, table_name: str
) -> None:
    dates: list[str] = []

    def plan(number: int, operation: str, headers: dict[str, str]) -> Fault:
        dates.append(headers["X-Amz-Date"])
        return Fault.SKEWED if number == 1 else Fault.PASS

    proxy.replan(plan)
    client = lean_client(proxy.endpoint_url)
    client.get_item(TableName=table_name, Key=legacy_key(["films"], ["a"]))
    first, second = (datetime.strptime(date, "%Y%m%dT%H%M%SZ") for date in dates)
    assert timedelta(minutes=55) < second - first < timedelta(minutes=65)


def test_keys_and_signatures_never_reach_logs_or_errors(
    proxy: FaultProxy, table_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    signatures: list[str] = []

    def plan(number: int, operation: str, headers: dict[str, str]) -> Fault:
        signatures.append(headers["Authorization"].rpartition("Signature=")[2])
        return Fault.PASS if number == 1 else Fault.THROTTLE

    proxy.replan(plan)
    client = lean_client(proxy.endpoint_url, attempts=2, aws_session_token=TOKEN)
    caplog.set_level(logging.DEBUG)
    key = legacy_key(["films"], ["a"])
    client.get_item(TableName=table_name, Key=key)
    with pytest.raises(ClientError) as raised:
        client.get_item(TableName=table_name, Key=key)
    said = " ".join([caplog.text, str(raised.value), repr(raised.value.response), repr(client)])
    assert len(signatures) == 3
    for secret in [SECRET, TOKEN, *signatures]:
        assert secret not in said


def test_errors_have_boto3s_shape_and_classes(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    lean = lean_client(dynamodb_local.endpoint_url)
    item = {**legacy_key(["films"], ["a"]), "blob": {"B": b"\x00\xff"}}
    lean.put_item(TableName=table_name, Item=item)
    request: dict[str, Any] = {
        "TableName": table_name,
        "Item": item,
        "ConditionExpression": "attribute_not_exists(PARTITION_KEY)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    responses: list[tuple[dict[str, Any], str]] = []
    clients: tuple[Any, ...] = (dynamodb_client, lean)
    for client in clients:
        with pytest.raises(client.exceptions.ConditionalCheckFailedException) as raised:
            client.put_item(**request)
        response = dict(raised.value.response)
        metadata = response.pop("ResponseMetadata")
        assert metadata["HTTPStatusCode"] == 400
        responses.append((response, str(raised.value)))
    assert responses[0] == responses[1]
    assert responses[1][0]["Item"]["blob"] == {"B": b"\x00\xff"}


def test_other_operations_are_delegated_to_boto3(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    lean = lean_client(dynamodb_local.endpoint_url)
    assert lean.describe_table(TableName=table_name)["Table"]["TableName"] == table_name

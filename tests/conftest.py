"""Fixtures for the whole suite: a test-safe AWS environment and DynamoDB Local.

DynamoDB Local starts once per session, lazily, the first time a test asks for it; a test that
needs it and cannot get it ERRORS with the reason (never skips: a skipped integration suite is a
hidden red). Tests under ``tests/integration`` and tests that use ``dynamodb_local`` (directly or
through another fixture) are marked ``integration`` here; a test that needs Java another way (a
fixture parameter that asks for ``dynamodb_local`` at run time, a local stack started with
``--dynamodb-local``) carries the mark itself. ``pytest -m "not integration"`` (``make unit``)
runs without Java.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import boto3
import pytest

from local_stack.dynamodb_local import DynamoDBLocal, create_records_table, start_dynamodb_local

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION: Final = "us-east-1"

# --- No test can ever reach real AWS: set at import, before any test module or client. ---------
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = REGION
os.environ["AWS_REGION"] = REGION
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# Nothing from a developer's ~/.aws (profiles, SSO, credential_process, endpoint_url).
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _name in list(os.environ):
    if _name in {
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    } or _name.startswith("AWS_ENDPOINT_URL"):
        del os.environ[_name]

_INTEGRATION_DIR: Final = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests under tests/integration, and tests using DynamoDB Local, ``integration``."""
    for item in items:
        fixtures: list[str] = getattr(item, "fixturenames", [])
        if _INTEGRATION_DIR in item.path.parents or "dynamodb_local" in fixtures:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """DynamoDB Local, in memory on a free 127.0.0.1 port, for the whole session."""
    # A RuntimeError here (no Java, no jar, no answer) errors every test that needs it.
    server = start_dynamodb_local()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A low-level boto3 DynamoDB client pointed at DynamoDB Local."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh table (PARTITION_KEY/SORT_KEY strings, TTL on ``_ttl``), deleted afterwards."""
    name = f"test-{uuid.uuid4().hex}"
    create_records_table(dynamodb_client, name)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=name)

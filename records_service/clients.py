"""AWS clients, created on first use and then reused for the life of the container.

boto3 is imported inside the functions: importing it is a large part of a cold start
(docs/lean-transport.md, "Cold start"), which a handler should pay only when it first talks to
AWS. Clients are cached per endpoint so that tests and the local stack can point at moto or
DynamoDB Local.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient

__all__ = ["clear_clients", "dynamodb_client", "events_client"]


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@functools.cache
def dynamodb_client(endpoint_url: str | None = None) -> DynamoDBClient:
    """The container's low-level DynamoDB client (``endpoint_url`` overrides AWS's)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard"}, tcp_keepalive=True)
    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=_region(), config=config)


@functools.cache
def events_client(endpoint_url: str | None = None) -> EventBridgeClient:
    """The container's EventBridge client (``endpoint_url`` overrides AWS's)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard"}, tcp_keepalive=True)
    return boto3.client("events", endpoint_url=endpoint_url, region_name=_region(), config=config)


def clear_clients() -> None:
    """Forget the cached clients (tests use it between mocked AWS sessions)."""
    dynamodb_client.cache_clear()
    events_client.cache_clear()

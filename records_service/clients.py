"""AWS clients, created on first use and then reused for the life of the container.

The functions talk to AWS through the library's lean clients
(:class:`pydantic_dynamo.transport.LeanClient` for DynamoDB,
:class:`pydantic_dynamo.transport.LeanEventsClient` for EventBridge): JSON over kept-alive HTTP,
signed with SigV4, without boto3. Importing boto3 and building its clients is most of a cold
start, and its request pipeline costs several times the lean client's CPU per call
(docs/lean-transport.md). Both are imported inside the functions, so importing a handler builds
no client; they are cached per endpoint so that tests and the local stack can point at moto or
DynamoDB Local. An endpoint left unset resolves as boto3 resolves it
(``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL_EVENTBRIDGE``, ``AWS_ENDPOINT_URL``, else
AWS's).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient

__all__ = ["clear_clients", "dynamodb_client", "events_client"]


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@functools.cache
def dynamodb_client(endpoint_url: str | None = None) -> DynamoDBClient:
    """The container's DynamoDB client (``endpoint_url`` overrides AWS's)."""
    from pydantic_dynamo.transport import LeanClient

    return cast("DynamoDBClient", LeanClient(endpoint_url=endpoint_url, region_name=_region()))


@functools.cache
def events_client(endpoint_url: str | None = None) -> EventBridgeClient:
    """The container's EventBridge client (``endpoint_url`` overrides AWS's)."""
    from pydantic_dynamo.transport import LeanEventsClient

    client = LeanEventsClient(endpoint_url=endpoint_url, region_name=_region())
    return cast("EventBridgeClient", client)


def clear_clients() -> None:
    """Forget the cached clients (tests use it between servers)."""
    dynamodb_client.cache_clear()
    events_client.cache_clear()

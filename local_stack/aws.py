"""boto3 low-level clients for local endpoints, with the local dummy credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.configprovider import ConstantProvider

from local_stack import config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

    from local_stack.stream_source import StreamsClient

# Local servers answer at once or not at all: fail fast instead of botocore's 60 s defaults.
_LOCAL_CONFIG = Config(
    connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}
)


def _session() -> boto3.session.Session:
    # A session of its own that ignores AWS_PROFILE: a profile named there but missing from
    # ~/.aws/config would otherwise make every local client fail with ProfileNotFound.
    core = botocore.session.Session()
    core.get_component("config_store").set_config_provider("profile", ConstantProvider(None))
    return boto3.session.Session(
        aws_access_key_id=config.ACCESS_KEY_ID,
        aws_secret_access_key=config.SECRET_ACCESS_KEY,
        region_name=config.REGION,
        botocore_session=core,
    )


def dynamodb_client(endpoint_url: str) -> DynamoDBClient:
    """A DynamoDB client for ``endpoint_url`` (moto or DynamoDB Local)."""
    return _session().client("dynamodb", endpoint_url=endpoint_url, config=_LOCAL_CONFIG)


def dynamodbstreams_client(endpoint_url: str) -> StreamsClient:
    """A DynamoDB Streams client for ``endpoint_url`` (the DynamoDB endpoint: moto or DynamoDB
    Local serve streams on it)."""
    client = _session().client("dynamodbstreams", endpoint_url=endpoint_url, config=_LOCAL_CONFIG)
    return cast("StreamsClient", client)


def sqs_client(endpoint_url: str) -> SQSClient:
    """An SQS client for the local moto server."""
    return _session().client("sqs", endpoint_url=endpoint_url, config=_LOCAL_CONFIG)


def events_client(endpoint_url: str) -> EventBridgeClient:
    """An EventBridge client for the local moto server."""
    return _session().client("events", endpoint_url=endpoint_url, config=_LOCAL_CONFIG)

"""Building boto3 clients: for users who choose boto3, and for what the lean clients delegate.

boto3 is imported only here and only when a client is built: the lean transport's path never
imports it (a cold start pays ``import boto3``'s hundreds of milliseconds otherwise:
docs/lean-transport.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["client_kwargs_like", "create_client", "create_service_client"]


def create_service_client(service_name: str, **kwargs: Any) -> Any:
    """A plain boto3 client of ``service_name``, with botocore's ``standard`` retries.

    ``kwargs`` go to ``boto3.client`` (``endpoint_url``, ``region_name``, ``config``...); a
    ``config`` given is merged over the retry setting, so it can change it.
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5})
    if kwargs.get("config") is not None:
        config = config.merge(kwargs.pop("config"))
    kwargs.pop("config", None)
    return boto3.client(service_name, config=config, **kwargs)  # type: ignore[call-overload]


def create_client(**kwargs: Any) -> DynamoDBClient:
    """A plain boto3 DynamoDB client configured from the environment, as boto3 would build it.

    Region, credentials and endpoint (``AWS_ENDPOINT_URL_DYNAMODB``) come from the usual
    places; retries use botocore's ``standard`` mode (five retries). ``kwargs`` go to
    ``boto3.client``. This is what ``PYDANTIC_DYNAMO_TRANSPORT=boto3`` makes the repositories
    build (:func:`pydantic_dynamo.client_choice.default_client`).
    """
    client: DynamoDBClient = create_service_client("dynamodb", **kwargs)
    return client


def client_kwargs_like(other_client: Any) -> dict[str, Any]:
    """Client arguments reaching the endpoint and region of another (async) client.

    Static credentials are copied; refreshable ones cannot be read synchronously, so the sync
    client then resolves its own from the environment, as the async one did.
    """
    meta = other_client.meta
    kwargs: dict[str, Any] = {"endpoint_url": meta.endpoint_url, "region_name": meta.region_name}
    credentials = getattr(getattr(other_client, "_request_signer", None), "_credentials", None)
    if credentials is not None:
        try:
            kwargs["aws_access_key_id"] = credentials.access_key
            kwargs["aws_secret_access_key"] = credentials.secret_key
            kwargs["aws_session_token"] = credentials.token
        except NotImplementedError:  # aiobotocore's refreshable credentials
            for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
                kwargs.pop(name, None)
    return kwargs

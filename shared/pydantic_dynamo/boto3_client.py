"""Building boto3 clients: for users who choose boto3, and for what the lean clients delegate.

boto3 is imported only here and only when a client is built: the lean transport's path never
imports it (a cold start pays ``import boto3``'s hundreds of milliseconds otherwise:
docs/lean-transport.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["client_kwargs_like", "create_client", "create_service_client", "lean_kwargs_like"]


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

    A lean client says its own (:meth:`~pydantic_dynamo.transport.json_calls.JsonClientBase.
    client_kwargs`). Of an aiobotocore client, static credentials are copied; refreshable ones
    cannot be read synchronously, so the sync client then resolves its own from the
    environment, as the async one did.
    """
    if hasattr(other_client, "client_kwargs"):
        own: dict[str, Any] = other_client.client_kwargs()
        return own
    meta = other_client.meta
    kwargs: dict[str, Any] = {"endpoint_url": meta.endpoint_url, "region_name": meta.region_name}
    credentials = _signing_credentials(other_client)
    if credentials is not None:
        try:
            kwargs["aws_access_key_id"] = credentials.access_key
            kwargs["aws_secret_access_key"] = credentials.secret_key
            kwargs["aws_session_token"] = credentials.token
        except NotImplementedError:  # aiobotocore's refreshable credentials
            for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
                kwargs.pop(name, None)
    return kwargs


def lean_kwargs_like(aio_client: Any) -> dict[str, Any]:
    """Lean-client arguments reaching what an aiobotocore client reaches: its endpoint, region
    and credentials (static ones copied, refreshable ones passed as they are: the async lean
    client awaits aiobotocore's), and its retry, pool, timeout and proxy settings."""
    from botocore.config import Config

    kwargs = client_kwargs_like(aio_client)
    if "aws_access_key_id" not in kwargs:
        credentials = _signing_credentials(aio_client)
        if credentials is not None:
            kwargs["credentials"] = credentials
    config = aio_client.meta.config
    # A plain Config with what the lean transport reads (aiobotocore's AioConfig carries
    # aiohttp's settings, which boto3 would refuse if the lean client delegated to it).
    kwargs["config"] = Config(
        retries=config.retries,
        max_pool_connections=config.max_pool_connections,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        proxies=config.proxies,
    )
    return kwargs


def _signing_credentials(other_client: Any) -> Any:
    """The credentials object an (aio)botocore client signs with (``None`` when unsigned)."""
    return getattr(getattr(other_client, "_request_signer", None), "_credentials", None)

"""Creating the boto3 DynamoDB client, and reading botocore's errors without importing botocore."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["client_kwargs_like", "create_client", "error_code", "error_response"]


def create_client(**kwargs: Any) -> DynamoDBClient:
    """A low-level DynamoDB client configured from the environment, as boto3 would build it.

    Region, credentials and endpoint (``AWS_ENDPOINT_URL_DYNAMODB``) come from the usual
    places. Retries use botocore's ``standard`` mode. Parameter validation is off (this library
    builds every request itself) and the data-plane operations use
    :mod:`pydantic_dynamo.fast_protocol`'s one-pass JSON (de)serialization.
    ``kwargs`` go to ``boto3.client`` (``endpoint_url``, ``region_name``, ``config``...).
    """
    import boto3
    from botocore.config import Config

    from pydantic_dynamo import fast_protocol

    config = Config(retries={"mode": "standard", "max_attempts": 5}, parameter_validation=False)
    if "config" in kwargs:
        config = config.merge(kwargs.pop("config"))
    client: DynamoDBClient = boto3.client("dynamodb", config=config, **kwargs)
    fast_protocol.install(client)
    return client


def error_response(error: BaseException) -> dict[str, Any]:
    """The parsed error response of a botocore ``ClientError`` (empty for other errors)."""
    response = getattr(error, "response", None)
    return response if isinstance(response, dict) else {}


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``, or ``None`` for any other error."""
    code = error_response(error).get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def client_kwargs_like(other_client: Any) -> dict[str, Any]:
    """``create_client`` arguments reaching the endpoint and region of another (async) client.

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

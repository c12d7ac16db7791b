"""Creating the boto3 DynamoDB client, and reading botocore's errors without importing botocore."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "TRANSPORT_ENV",
    "client_kwargs_like",
    "create_client",
    "default_client",
    "error_code",
    "error_response",
]

# "boto3" makes the repositories build boto3 clients (with the fast wire layer) instead of the
# lean transport's; "lean" (the default) the other way round.
TRANSPORT_ENV = "PYDANTIC_DYNAMO_TRANSPORT"
# Settings the lean transport does not implement: with any of them, boto3 serves instead.
_LEAN_UNSUPPORTED_ENV = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "AWS_USE_DUALSTACK_ENDPOINT",
)


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


def default_client(**kwargs: Any) -> DynamoDBClient:
    """The client a repository builds when none is given: the lean transport's, or boto3's.

    The lean transport (:mod:`pydantic_dynamo.transport`) is the default. boto3 (with
    :mod:`pydantic_dynamo.fast_protocol`) serves instead when ``PYDANTIC_DYNAMO_TRANSPORT=boto3``
    or when the environment asks for what the lean one does not do (an HTTP(S) proxy, dual-stack
    endpoints).
    """
    import os

    choice = os.environ.get(TRANSPORT_ENV, "lean").strip().lower()
    if choice not in ("lean", "boto3"):
        raise ValueError(f"{TRANSPORT_ENV} must be 'lean' or 'boto3', not {choice!r}")
    unsupported = [name for name in _LEAN_UNSUPPORTED_ENV if os.environ.get(name)]
    if choice == "boto3" or unsupported:
        return create_client(**kwargs)
    from pydantic_dynamo.transport import LeanClient

    return cast("DynamoDBClient", LeanClient(**kwargs))


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

"""Choosing the client a repository builds when none is given: the lean transport's, or boto3's.

The lean transport (:mod:`pydantic_dynamo.transport`) is the default, proxies, FIPS and
dual-stack endpoints included. ``PYDANTIC_DYNAMO_TRANSPORT=boto3`` chooses boto3 instead
(:func:`pydantic_dynamo.boto3_client.create_client`), and so does the one setting the lean
transport does not serve: an ``https://`` proxy URL (TLS to the proxy itself).

The async repository's counterpart is :func:`default_async_client`: the lean transport's
:class:`~pydantic_dynamo.transport.AsyncLeanClient`, or ``None`` where boto3 is chosen (the
repository then sends through the aioboto3 resource it was given).

With ``PYDANTIC_DYNAMO_TRANSPORT`` unset:

>>> default_client(endpoint_url="http://127.0.0.1:8000", region_name="us-east-1")
LeanClient(endpoint_url='http://127.0.0.1:8000', region_name='us-east-1')
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from pydantic_dynamo.transport.async_client import AsyncLeanClient

__all__ = ["TRANSPORT_ENV", "default_async_client", "default_client", "transport_choice"]

# "boto3" makes the repositories build boto3 clients instead of the lean transport's; "lean"
# (the default) the other way round.
TRANSPORT_ENV = "PYDANTIC_DYNAMO_TRANSPORT"


def transport_choice() -> str:
    """``"lean"`` or ``"boto3"``, as ``PYDANTIC_DYNAMO_TRANSPORT`` says (``"lean"`` unset)."""
    choice = os.environ.get(TRANSPORT_ENV, "lean").strip().lower()
    if choice not in ("lean", "boto3"):
        raise ValueError(f"{TRANSPORT_ENV} must be 'lean' or 'boto3', not {choice!r}")
    return choice


def default_client(**kwargs: Any) -> DynamoDBClient:
    """The DynamoDB client a repository builds when none is given (see the module doc).

    ``kwargs`` are boto3's client arguments (``endpoint_url``, ``region_name``, ``config``...).
    """
    if transport_choice() == "lean":
        from pydantic_dynamo.transport import LeanClient
        from pydantic_dynamo.transport.proxies import ProxyUnsupportedError

        try:
            return cast("DynamoDBClient", LeanClient(**kwargs))
        except ProxyUnsupportedError:
            pass  # an https:// proxy: boto3 tunnels through it
    from pydantic_dynamo.boto3_client import create_client

    return create_client(**kwargs)


def default_async_client(**kwargs: Any) -> AsyncLeanClient | None:
    """The async repository's client when none is given: an ``AsyncLeanClient``, or ``None``
    with ``PYDANTIC_DYNAMO_TRANSPORT=boto3`` or an ``https://`` proxy (see the module doc).

    ``kwargs`` are the lean client's (boto3's client arguments, and ``credentials``).
    """
    if transport_choice() != "lean":
        return None
    from pydantic_dynamo.transport.async_client import AsyncLeanClient
    from pydantic_dynamo.transport.proxies import ProxyUnsupportedError

    try:
        return AsyncLeanClient(**kwargs)
    except ProxyUnsupportedError:
        return None

"""The lean transport: AWS's JSON protocol over kept-alive HTTP, signed here, no boto3.

One concern per module: :mod:`~.wire` (JSON bodies), :mod:`~.signing` (SigV4),
:mod:`~.credentials` (botocore's chain), :mod:`~.service` (what each service is called and
speaks), :mod:`~.endpoints` (region and URL: FIPS, dual-stack), :mod:`~.proxies` (which proxy),
:mod:`~.http_parser` (HTTP/1.1 as bytes: the request writer and the answer parser, sans I/O),
:mod:`~.http` (kept-alive connections, ``CONNECT`` tunnels) and :mod:`~.async_http` (the same
under asyncio), :mod:`~.retries` (standard-mode retries), :mod:`~.errors` (``ClientError``
shapes), :mod:`~.observers` (who is told of each call), :mod:`~.json_calls` (one call as
steps, whatever the service and the I/O), :mod:`~.json_client` (those steps, performed sync),
and the clients: :mod:`~.client` (:class:`LeanClient`, DynamoDB's), :mod:`~.async_client`
(:class:`AsyncLeanClient`, DynamoDB's under asyncio) and :mod:`~.events`
(:class:`LeanEventsClient`, EventBridge's ``put_events``).

``AsyncLeanClient`` is imported on first access, so the sync path never loads asyncio.

>>> from pydantic_dynamo.transport import AsyncLeanClient, LeanClient, LeanEventsClient
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic_dynamo.transport.client import LeanClient
from pydantic_dynamo.transport.events import LeanEventsClient
from pydantic_dynamo.transport.retries import TransportRetries

if TYPE_CHECKING:
    from pydantic_dynamo.transport.async_client import AsyncLeanClient

__all__ = ["AsyncLeanClient", "LeanClient", "LeanEventsClient", "TransportRetries"]


def __getattr__(name: str) -> Any:
    if name == "AsyncLeanClient":
        from pydantic_dynamo.transport.async_client import AsyncLeanClient

        return AsyncLeanClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

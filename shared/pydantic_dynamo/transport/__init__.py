"""The lean transport: AWS's JSON protocol over kept-alive HTTP, signed here, no boto3.

One concern per module: :mod:`~.wire` (JSON bodies), :mod:`~.signing` (SigV4),
:mod:`~.credentials` (botocore's chain), :mod:`~.service` (what each service is called and
speaks), :mod:`~.endpoints` (region and URL: FIPS, dual-stack), :mod:`~.proxies` (which proxy),
:mod:`~.http` (kept-alive connections, ``CONNECT`` tunnels), :mod:`~.retries` (standard-mode
retries), :mod:`~.errors` (``ClientError`` shapes), :mod:`~.observers` (who is told of each
call), :mod:`~.json_client` (one call, whatever the service), and the clients: :mod:`~.client`
(:class:`LeanClient`, DynamoDB's) and :mod:`~.events` (:class:`LeanEventsClient`,
EventBridge's ``put_events``).

>>> from pydantic_dynamo.transport import LeanClient, LeanEventsClient, TransportRetries
"""

from pydantic_dynamo.transport.client import LeanClient
from pydantic_dynamo.transport.events import LeanEventsClient
from pydantic_dynamo.transport.retries import TransportRetries

__all__ = ["LeanClient", "LeanEventsClient", "TransportRetries"]

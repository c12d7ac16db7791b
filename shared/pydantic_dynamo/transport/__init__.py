"""A lean DynamoDB transport: the JSON protocol over kept-alive HTTP, signed by botocore, no boto3.

One concern per module: :mod:`~.wire` (JSON bodies), :mod:`~.signing` (SigV4),
:mod:`~.credentials` (botocore's chain), :mod:`~.endpoints` (region and URL), :mod:`~.http`
(kept-alive connections), :mod:`~.retries` (standard-mode retries), :mod:`~.errors`
(``ClientError`` shapes) and :mod:`~.client` (:class:`LeanClient`, the boto3-shaped client).

>>> from pydantic_dynamo.transport import LeanClient, TransportRetries
"""

from pydantic_dynamo.transport.client import LeanClient
from pydantic_dynamo.transport.retries import TransportRetries

__all__ = ["LeanClient", "TransportRetries"]

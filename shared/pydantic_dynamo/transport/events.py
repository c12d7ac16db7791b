"""The lean EventBridge client: ``put_events`` as boto3's ``events`` client, without boto3.

EventBridge speaks the JSON protocol too (``AWSEvents.PutEvents``, JSON 1.1, signing name
``events``), so :class:`LeanEventsClient` is the DynamoDB client's machinery
(:mod:`~pydantic_dynamo.transport.json_client`: signing, kept-alive connections, proxies,
standard-mode retries, botocore ``ClientError``\\ s, hooks named ``*.eventbridge.PutEvents``,
observers) with EventBridge's names and endpoints: ``endpoint_url``, else
``AWS_ENDPOINT_URL_EVENTBRIDGE`` (boto3's variable) or ``AWS_ENDPOINT_URL_EVENTS``, else
``AWS_ENDPOINT_URL``, else ``https://events.{region}.amazonaws.com`` (FIPS and dual-stack as
configured). Any other method is delegated to a boto3 ``events`` client built on first use.

Entries PutEvents could not take come back as its answer says (``FailedEntryCount`` and, per
entry, ``ErrorCode``), not as an exception, exactly as from boto3.

Example (moto in server mode)::

    events = LeanEventsClient(endpoint_url="http://127.0.0.1:5000", region_name="us-east-1")
    answer = events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
"""

from __future__ import annotations

from typing import Any

from pydantic_dynamo.transport.json_client import JsonServiceClient
from pydantic_dynamo.transport.service import EVENTS

__all__ = ["LeanEventsClient"]


class LeanEventsClient(JsonServiceClient):
    """An EventBridge client for ``put_events`` (see the module doc); arguments are boto3's."""

    SERVICE = EVENTS

    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        """PutEvents, as ``boto3.client("events").put_events``."""
        return self._call("PutEvents", kwargs)

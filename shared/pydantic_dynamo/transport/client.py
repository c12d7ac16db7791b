"""The lean DynamoDB client: the data-plane methods of boto3's low-level client, without boto3.

:class:`LeanClient` offers ``put_item``, ``get_item``, ``update_item``, ``delete_item``,
``query``, ``scan``, ``batch_get_item``, ``batch_write_item``, ``transact_get_items`` and
``transact_write_items`` with boto3's keyword arguments and response dicts, so the library's
drivers use it unchanged. Everything else a call does (signing, the kept-alive connections,
proxies, retries, errors, hooks, observers) is the JSON protocol's, shared with EventBridge's
client: :mod:`~pydantic_dynamo.transport.json_client`.

Any other client method (``describe_table``, ``create_table``, paginators...) is delegated to a
boto3 client built on first use for the same endpoint, region and credentials, so
``repo.client`` still does everything a boto3 client does.

Hooks: ``client.meta.events`` is a botocore event emitter on which ``before-call.dynamodb.*``
and its siblings fire as botocore fires them (see :mod:`~pydantic_dynamo.transport.json_client`).

Example (DynamoDB Local)::

    client = LeanClient(endpoint_url="http://127.0.0.1:8000", region_name="us-east-1")
    client.put_item(TableName="films", Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
    assert client.get_item(TableName="films", Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic_dynamo.transport.json_client import JsonServiceClient
from pydantic_dynamo.transport.service import DYNAMODB

__all__ = ["LeanClient"]

Item = dict[str, Any]


class LeanClient(JsonServiceClient):
    """A DynamoDB data-plane client speaking the JSON protocol directly (see the module doc).

    Arguments are boto3's (see :class:`~pydantic_dynamo.transport.json_client.JsonServiceClient`).
    """

    SERVICE = DYNAMODB

    # -- the data plane -------------------------------------------------------------------------

    def put_item(self, **kwargs: Any) -> Item:
        """PutItem, as ``boto3.client("dynamodb").put_item``."""
        return self._call("PutItem", kwargs)

    def get_item(self, **kwargs: Any) -> Item:
        """GetItem, as boto3's."""
        return self._call("GetItem", kwargs)

    def update_item(self, **kwargs: Any) -> Item:
        """UpdateItem, as boto3's."""
        return self._call("UpdateItem", kwargs)

    def delete_item(self, **kwargs: Any) -> Item:
        """DeleteItem, as boto3's."""
        return self._call("DeleteItem", kwargs)

    def query(self, **kwargs: Any) -> Item:
        """Query (one page), as boto3's."""
        return self._call("Query", kwargs)

    def scan(self, **kwargs: Any) -> Item:
        """Scan (one page), as boto3's."""
        return self._call("Scan", kwargs)

    def batch_get_item(self, **kwargs: Any) -> Item:
        """BatchGetItem, as boto3's."""
        return self._call("BatchGetItem", kwargs)

    def batch_write_item(self, **kwargs: Any) -> Item:
        """BatchWriteItem, as boto3's."""
        return self._call("BatchWriteItem", kwargs)

    def transact_get_items(self, **kwargs: Any) -> Item:
        """TransactGetItems, as boto3's."""
        return self._call("TransactGetItems", kwargs)

    def transact_write_items(self, **kwargs: Any) -> Item:
        """TransactWriteItems, as boto3's: with a ``ClientRequestToken`` when none is given.

        botocore fills the token in too (it is the operation's idempotency token): a retry of a
        transaction DynamoDB applied but whose answer was lost is then not applied twice.
        """
        kwargs.setdefault("ClientRequestToken", str(uuid.uuid4()))
        return self._call("TransactWriteItems", kwargs)

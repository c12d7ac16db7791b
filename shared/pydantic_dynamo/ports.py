"""The client port: what the drivers need of a DynamoDB client, as a typed ``Protocol``.

The sync driver (:mod:`pydantic_dynamo.drivers`) and the repositories call exactly these
methods, with boto3's keyword arguments and response shapes: the lean transport's
:class:`~pydantic_dynamo.transport.LeanClient` implements them, and so does boto3's own
low-level client (each member is a read-only attribute holding a callable, so boto3's precisely
typed methods match as well as the lean client's ``**kwargs`` ones). A test double need not
subclass anything: any object with these methods is a port.

>>> from pydantic_dynamo.transport import LeanClient
>>> port: DynamoDBPort = LeanClient(endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
>>> sorted(name for name in DATA_PLANE if callable(getattr(port, name)))[:3]
['batch_get_item', 'batch_write_item', 'close']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = ["DATA_PLANE", "DynamoDBPort", "Operation"]

# A data-plane method: boto3's keyword arguments in, the parsed response out.
Operation = Callable[..., Mapping[str, Any]]

DATA_PLANE = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
    "close",
)


class DynamoDBPort(Protocol):
    """The DynamoDB data plane the drivers call (see the module doc)."""

    @property
    def put_item(self) -> Operation:
        """PutItem."""

    @property
    def get_item(self) -> Operation:
        """GetItem."""

    @property
    def update_item(self) -> Operation:
        """UpdateItem."""

    @property
    def delete_item(self) -> Operation:
        """DeleteItem."""

    @property
    def query(self) -> Operation:
        """Query (one page)."""

    @property
    def scan(self) -> Operation:
        """Scan (one page)."""

    @property
    def batch_get_item(self) -> Operation:
        """BatchGetItem."""

    @property
    def batch_write_item(self) -> Operation:
        """BatchWriteItem."""

    @property
    def transact_get_items(self) -> Operation:
        """TransactGetItems."""

    @property
    def transact_write_items(self) -> Operation:
        """TransactWriteItems."""

    def close(self) -> None:
        """Release the client's connections."""

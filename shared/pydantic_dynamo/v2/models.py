"""0.4.2's ``pydantic_dynamo.v2.models``: the response types and the abstract repositories."""

from pydantic_dynamo.abstract import (
    AbstractRepository,
    ReadOnlyAbstractRepository,
    SyncAbstractRepository,
    SyncReadOnlyAbstractRepository,
)
from pydantic_dynamo.models import BatchResponse, GetResponse

__all__ = [
    "AbstractRepository",
    "BatchResponse",
    "GetResponse",
    "ReadOnlyAbstractRepository",
    "SyncAbstractRepository",
    "SyncReadOnlyAbstractRepository",
]

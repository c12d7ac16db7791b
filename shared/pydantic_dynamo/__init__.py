"""pydantic_dynamo: a repository over DynamoDB for Pydantic v2 models.

>>> from pydantic_dynamo import PartitionedContent, SyncDynamoRepository, UpdateCommand
"""

from pydantic_dynamo.exceptions import (
    InvalidAttributeError,
    InvalidCursorError,
    InvalidKeyError,
    ItemNotFoundError,
    ItemTooLargeError,
    PydanticDynamoError,
    RequestObjectStateError,
    ReservedAttributeError,
    UnprocessedItemsError,
    UnsupportedValueError,
    VersionConflictError,
)
from pydantic_dynamo.models import (
    BatchResponse,
    FilterCommand,
    GetResponse,
    PartitionedContent,
    UpdateCommand,
)
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.sync_repository import SyncDynamoRepository

__all__ = [
    "BatchResponse",
    "FilterCommand",
    "GetResponse",
    "InvalidAttributeError",
    "InvalidCursorError",
    "InvalidKeyError",
    "ItemNotFoundError",
    "ItemTooLargeError",
    "PartitionedContent",
    "PydanticDynamoError",
    "RequestObjectStateError",
    "ReservedAttributeError",
    "RetryPolicy",
    "SyncDynamoRepository",
    "UnprocessedItemsError",
    "UnsupportedValueError",
    "UpdateCommand",
    "VersionConflictError",
]

__version__ = "1.0.0.dev0"

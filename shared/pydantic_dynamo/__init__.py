"""pydantic_dynamo: a repository over DynamoDB for Pydantic v2 models.

>>> from pydantic_dynamo import PartitionedContent, SyncDynamoRepository, UpdateCommand

Conditions are objects built from :func:`attr` and combined with ``&``, ``|`` and ``~``; they
filter listings (``filters=``, as ``FilterCommand`` does), guard writes (``put(...,
condition=...)``, ``update``, ``delete_item``, transactions) and the library's own writes:

>>> from pydantic_dynamo import Condition, attr
>>> recent_drama = (attr("genre") == "drama") & (attr("year") >= 2020) & ~attr("tags").contains("x")
>>> isinstance(recent_drama, Condition), recent_drama
(True, genre = 'drama' AND year >= 2020 AND NOT contains(tags, 'x'))

The sync classes (``SyncDynamoRepository``, ``SyncWriteOnceRepository``) are what the Lambda
handlers use; the async ones (``DynamoRepository``, ``WriteOnceRepository``, 0.4.2's names) need
the ``async`` extra and load on first use.
"""

from typing import TYPE_CHECKING, Any

from pydantic_dynamo.abstract import (
    AbstractRepository,
    ReadOnlyAbstractRepository,
    SyncAbstractRepository,
    SyncReadOnlyAbstractRepository,
)
from pydantic_dynamo.attribute_paths import attr
from pydantic_dynamo.aws_errors import ErrorKind, classify
from pydantic_dynamo.collection import AsyncCollection, Collection, CollectionPage
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import (
    ActionFailure,
    ConditionFailedError,
    IndexConflictError,
    InvalidAttributeError,
    InvalidCursorError,
    InvalidKeyError,
    InvalidQueryError,
    ItemExistsError,
    ItemNotFoundError,
    ItemTooLargeError,
    MigrationConflictError,
    MigrationError,
    PydanticDynamoError,
    RequestObjectStateError,
    ReservedAttributeError,
    SchemaVersionError,
    TransactionCanceledError,
    TransactionLimitError,
    UnprocessedItemsError,
    UnsupportedValueError,
    VersionConflictError,
)
from pydantic_dynamo.indexes import Index
from pydantic_dynamo.models import (
    BatchResponse,
    FilterCommand,
    GetResponse,
    PartitionedContent,
    UpdateCommand,
)
from pydantic_dynamo.ports import DynamoDBPort
from pydantic_dynamo.projections import AsyncProjectedReads, ProjectedReads
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.schema_versions import SchemaVersions
from pydantic_dynamo.sync_repository import SyncDynamoRepository
from pydantic_dynamo.table import (
    STANDARD_TABLE,
    PhysicalIndex,
    Projection,
    TableDescription,
    create_table,
)
from pydantic_dynamo.transaction_flows import AsyncTransaction, Transaction
from pydantic_dynamo.write_once_repository import SyncWriteOnceRepository

if TYPE_CHECKING:
    from pydantic_dynamo.async_repository import DynamoRepository
    from pydantic_dynamo.write_once_repository import WriteOnceRepository

__all__ = [
    "STANDARD_TABLE",
    "AbstractRepository",
    "ActionFailure",
    "AsyncCollection",
    "AsyncProjectedReads",
    "AsyncTransaction",
    "BatchResponse",
    "Collection",
    "CollectionPage",
    "Condition",
    "ConditionFailedError",
    "DynamoDBPort",
    "DynamoRepository",
    "ErrorKind",
    "FilterCommand",
    "GetResponse",
    "Index",
    "IndexConflictError",
    "InvalidAttributeError",
    "InvalidCursorError",
    "InvalidKeyError",
    "InvalidQueryError",
    "ItemExistsError",
    "ItemNotFoundError",
    "ItemTooLargeError",
    "MigrationConflictError",
    "MigrationError",
    "PartitionedContent",
    "PhysicalIndex",
    "ProjectedReads",
    "Projection",
    "PydanticDynamoError",
    "ReadOnlyAbstractRepository",
    "RequestObjectStateError",
    "ReservedAttributeError",
    "RetryPolicy",
    "SchemaVersionError",
    "SchemaVersions",
    "SyncAbstractRepository",
    "SyncDynamoRepository",
    "SyncReadOnlyAbstractRepository",
    "SyncWriteOnceRepository",
    "TableDescription",
    "Transaction",
    "TransactionCanceledError",
    "TransactionLimitError",
    "UnprocessedItemsError",
    "UnsupportedValueError",
    "UpdateCommand",
    "VersionConflictError",
    "WriteOnceRepository",
    "attr",
    "classify",
    "create_table",
]

__version__ = "1.0.0.dev0"


def __getattr__(name: str) -> Any:
    # The async classes load on first use, so that the sync path (and the Lambda layer, which
    # has no aioboto3) never imports asyncio machinery it does not need.
    if name == "DynamoRepository":
        from pydantic_dynamo.async_repository import DynamoRepository

        return DynamoRepository
    if name == "WriteOnceRepository":
        from pydantic_dynamo.write_once_repository import WriteOnceRepository

        return WriteOnceRepository
    raise AttributeError(f"module 'pydantic_dynamo' has no attribute {name!r}")

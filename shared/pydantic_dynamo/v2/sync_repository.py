"""0.4.2's ``pydantic_dynamo.v2.sync_repository``: ``SyncDynamoRepository``.

``SyncDynamoRepository[T](async_repo=repo)`` (0.4.2's form) works here too: see
:class:`pydantic_dynamo.sync_repository.SyncDynamoRepository`.
"""

from pydantic_dynamo.sync_repository import SyncDynamoRepository

__all__ = ["SyncDynamoRepository"]

"""One repository per content type, built on demand over the container's single client.

>>> from records_service.settings import Settings
>>> repos = Repositories(Settings(table_name="records"), client=lambda: None)
>>> from records_service.content_types import content_type
>>> repos.for_type(content_type("actor")) is repos.for_type(content_type("actor"))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from pydantic_dynamo import SyncDynamoRepository, TableDescription
from pydantic_dynamo.operations import RepositoryCore
from records_service import names
from records_service.clients import dynamodb_client
from records_service.content_types import ContentType

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from records_service.settings import Settings

__all__ = ["Repositories", "content_core", "repository_arguments"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def repository_arguments(
    content_type: ContentType[Any], table_name: str, table: TableDescription = names.TABLE
) -> dict[str, Any]:
    """Where ``content_type``'s records live and how: the arguments every repository (or core)
    of it takes, in the one place the service spells them."""
    return {
        "item_class": content_type.model,
        "partition_prefix": content_type.partition_prefix,
        "partition_name": content_type.partition_name,
        "content_type": content_type.name,
        "table_name": table_name,
        "partition_key": names.PARTITION_KEY,
        "sort_key": names.SORT_KEY,
        "indexes": content_type.indexes,
        "schema_versions": content_type.schema_versions,
        "table_description": table,
    }


def content_core(
    content_type: ContentType[ModelT], table_name: str, table: TableDescription = names.TABLE
) -> RepositoryCore[ModelT]:
    """The pure core of ``content_type``'s repository (no client): for decoding its items."""
    return RepositoryCore(**repository_arguments(content_type, table_name, table))


class Repositories:
    """Builds and caches ``SyncDynamoRepository`` objects for content types, with their indexes.

    The DynamoDB client is obtained from ``client`` (by default the container's cached client
    for the configured endpoint) the first time a repository is built, not before: importing a
    handler does not import boto3. ``table`` is the table's description (the service's,
    ``names.TABLE``, unless a test serves a table of its own).
    """

    def __init__(
        self,
        settings: Settings,
        client: Callable[[], DynamoDBClient] | None = None,
        *,
        consistent_reads: bool = False,
        table: TableDescription = names.TABLE,
    ) -> None:
        self.settings = settings
        self._table = table
        self._client = client or (lambda: dynamodb_client(settings.dynamodb_endpoint))
        self._consistent_reads = consistent_reads
        self._built: dict[tuple[str, str, str], SyncDynamoRepository[Any]] = {}

    def for_type(self, content_type: ContentType[ModelT]) -> SyncDynamoRepository[ModelT]:
        """The repository serving ``content_type`` (built once, then reused)."""
        key = (content_type.partition_prefix, content_type.partition_name, content_type.name)
        repo = self._built.get(key)
        if repo is None:
            repo = SyncDynamoRepository[content_type.model](  # type: ignore[name-defined]
                **repository_arguments(content_type, self.settings.table_name, self._table),
                consistent_reads=self._consistent_reads,
                client=self._client(),
            )
            self._built[key] = repo
        return repo

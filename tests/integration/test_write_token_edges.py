"""Write tokens at their edges: an update landing between a try and its resend, and items whose
token (or content hash) is what takes them over DynamoDB's 400 KB limit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from pydantic_dynamo import (
    ItemTooLargeError,
    PartitionedContent,
    SyncDynamoRepository,
    SyncWriteOnceRepository,
    UpdateCommand,
)
from pydantic_dynamo.codec import MAX_ITEM_BYTES, item_size
from pydantic_dynamo.operations import utc_timestamp
from tests.integration.harness import (
    CONTENT_TYPE,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
    make_client,
)
from tests.integration.support import Example

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from local_stack.dynamodb_local import DynamoDBLocal

Content = PartitionedContent[Example]


class ResendingClient:
    """A client whose UpdateItem is applied, its answer lost, ``meanwhile`` run (another
    writer), and then sent again, as a transport resends it; other calls pass through."""

    def __init__(self, inner: Any, meanwhile: Any) -> None:
        self._inner = inner
        self._meanwhile = meanwhile
        self.resends = 0

    def update_item(self, **request: Any) -> Any:
        self._inner.update_item(**request)  # applied; its answer never reaches the caller
        if self.resends == 0:
            self.resends += 1
            self._meanwhile()
        return self._inner.update_item(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _repo(client: Any, table_name: str) -> SyncDynamoRepository[Example]:
    return SyncDynamoRepository[Example](
        item_class=Example,
        partition_prefix=PARTITION_PREFIX,
        partition_name=PARTITION_NAME,
        content_type=CONTENT_TYPE,
        table_name=table_name,
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        consistent_reads=True,
        client=client,
    )


@pytest.fixture
def other(dynamodb_local: DynamoDBLocal, table_name: str) -> SyncDynamoRepository[Example]:
    """Another writer on the same table."""
    return _repo(make_client(dynamodb_local.endpoint_url), table_name)


def test_an_increment_resent_after_another_update_landed_is_applied_once(
    other: SyncDynamoRepository[Example], dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    other.put(Content(partition_ids=["p"], content_ids=["a"], item=Example(id="a", name="n")))
    bump = UpdateCommand(increment_attrs={"count": 1})
    client = ResendingClient(
        make_client(dynamodb_local.endpoint_url), lambda: other.update(["p"], ["a"], bump)
    )

    _repo(client, table_name).update(["p"], ["a"], bump)

    stored = other.get(["p"], ["a"]).content
    assert client.resends == 1
    assert stored is not None
    assert stored.item.count == 2  # ours once, the other writer's once


def test_a_versioned_update_resent_after_another_update_landed_reports_success(
    other: SyncDynamoRepository[Example], dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    other.put(Content(partition_ids=["p"], content_ids=["a"], item=Example(id="a", name="n")))
    client = ResendingClient(
        make_client(dynamodb_local.endpoint_url),
        lambda: other.update(["p"], ["a"], UpdateCommand(set_commands={"name": "theirs"})),
    )

    result = _repo(client, table_name).update(
        ["p"], ["a"], UpdateCommand(current_version=1, set_commands={"review": "mine"})
    )

    assert result.item.review == "mine"
    assert result.current_version == 3  # ours made it 2, theirs 3


def _content_of_size(target: int, extra: int = 0) -> Content:
    """A content whose encoded item is ``target`` bytes plus ``extra`` bytes of padding."""
    content = Content(partition_ids=["p"], content_ids=["big"], item=Example(id="big", name="n"))
    repo = SyncDynamoRepository[Example](
        item_class=Example,
        partition_prefix=PARTITION_PREFIX,
        partition_name=PARTITION_NAME,
        content_type=CONTENT_TYPE,
        table_name="unused",
        partition_key=PARTITION_KEY,
        sort_key=SORT_KEY,
        client=cast(Any, object()),
    )
    base = item_size(repo.core.encode(content, utc_timestamp()))
    padding = "x" * (target - base + extra)
    return content.model_copy(update={"item": Example(id="big", name="n", padding=padding)})


def test_a_put_that_its_token_takes_over_the_limit_is_refused_before_sending(
    other: SyncDynamoRepository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    content = _content_of_size(MAX_ITEM_BYTES, extra=-10)  # fits without the token only

    with pytest.raises(ItemTooLargeError) as raised:
        other.put(content)

    assert raised.value.size is not None
    assert raised.value.size > MAX_ITEM_BYTES
    assert dynamodb_client.scan(TableName=table_name)["Count"] == 0


def test_a_save_that_its_tokens_take_over_the_limit_is_refused_before_sending(
    other: SyncDynamoRepository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    with pytest.raises(ItemTooLargeError):
        other.save(_content_of_size(MAX_ITEM_BYTES, extra=-10))

    assert dynamodb_client.scan(TableName=table_name)["Count"] == 0


def test_a_write_once_content_that_its_hash_takes_over_the_limit_is_refused_before_sending(
    other: SyncDynamoRepository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    with pytest.raises(ItemTooLargeError):
        SyncWriteOnceRepository[Example](other).write([_content_of_size(MAX_ITEM_BYTES, -40)])

    assert dynamodb_client.scan(TableName=table_name)["Count"] == 0


def test_an_item_at_the_limit_with_its_token_is_stored(
    other: SyncDynamoRepository[Example], dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    other.put(_content_of_size(MAX_ITEM_BYTES, extra=-28))  # the token's 28 bytes fill it

    assert dynamodb_client.scan(TableName=table_name)["Count"] == 1

"""Put, batch put and delete as flows, and the conditional write under every single-item write.

:func:`conditional` sends one conditional write and reads its refusal: this write's own resend
meeting its result (the answer is then the stored item), or the typed error that says why. The
update and save flows, which retry on what it reports, are :mod:`pydantic_dynamo.update_flows`.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Sequence
from typing import Any

from pydantic_dynamo.aws_errors import error_code, error_response
from pydantic_dynamo.batching import BatchWritePlan
from pydantic_dynamo.codec import MAX_ITEM_BYTES
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import ItemTooLargeError
from pydantic_dynamo.flows import Call, Flow, Sleep, Step
from pydantic_dynamo.index_updates import changed_since
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import ObjT, PartitionedContent
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import is_expired
from pydantic_dynamo.write_tokens import is_mine, new_token

__all__ = ["delete_flow", "delete_item_flow", "put_batch_flow", "put_flow"]

Item = dict[str, Any]


def put_flow(
    core: RepositoryCore[ObjT],
    content: PartitionedContent[ObjT],
    *,
    condition: Condition | None = None,
    if_absent: bool = False,
) -> Flow:
    """PutItem one content (a resend of an applied put is recognised, not applied again).

    With ``condition``, only over a live item on which it holds; with ``if_absent``, only
    where no live item is stored (with both: either). A refusal raises
    :class:`~pydantic_dynamo.exceptions.ItemExistsError` (``if_absent``),
    :class:`~pydantic_dynamo.exceptions.ConditionFailedError` or
    :class:`~pydantic_dynamo.exceptions.ItemNotFoundError`.
    """
    token = new_token()
    request = core.put_request(content, token, condition=condition, if_absent=if_absent)
    failure = {"conditional": condition is not None, "if_absent": if_absent}
    yield from conditional(core, Call("put_item", request), None, token, failure=failure)


def run_write_plan(plan: BatchWritePlan[Any]) -> Flow:
    """Drive a BatchWriteItem plan to the end (or to its UnprocessedItemsError)."""
    while (request := plan.next_request()) is not None:
        try:
            response = yield Call("batch_write_item", request)
        except Exception as error:  # whatever the cause, the plan reports the work not done
            delay = plan.on_error(error_code(error), error)
        else:
            delay = plan.on_response(response)
        if delay:
            yield Sleep(delay)


def put_batch_flow(
    core: RepositoryCore[ObjT], contents: Iterable[PartitionedContent[ObjT]]
) -> Flow:
    """BatchWriteItem every content, 25 a request, retrying unprocessed ones."""
    yield from run_write_plan(core.write_plan(contents))


# Why a transaction is cancelled when it may simply be sent again (with a new token: a
# cancelled transaction applied nothing).
_TRANSIENT_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def delete_item_flow(
    core: RepositoryCore[ObjT],
    partition_id: Ids,
    content_id: Ids,
    current_version: int | None,
    condition: Condition | None = None,
) -> Flow:
    """Delete one item as a one-action transaction; returns whether a live item was there.

    An expired item (past its TTL, not yet removed by DynamoDB) counts as absent: it is removed
    all the same, and ``False`` returned (or ``ItemNotFoundError`` with ``current_version``).
    With ``condition``, a live item is deleted only while it holds
    (:class:`~pydantic_dynamo.exceptions.ConditionFailedError` otherwise).
    """
    attempt = 0
    while True:
        token = new_token()
        request = core.delete_item_request(
            partition_id, content_id, current_version, token, condition
        )
        try:
            yield Call("transact_write_items", request)
        except Exception as error:
            reasons = error_response(error).get("CancellationReasons") or [{}]
            if error_code(error) != "TransactionCanceledException":
                raise
            reason = reasons[0]
            if reason.get("Code") in _TRANSIENT_CANCELLATIONS:
                attempt += 1
                if core.retry_policy.exhausted(attempt):
                    raise
                yield Sleep(core.retry_policy.delay(attempt))
                continue
            if reason.get("Code") != "ConditionalCheckFailed":
                raise
            key = request["TransactItems"][0]["Delete"]["Key"]
            stored = reason.get("Item")
            live = stored is not None and not is_expired(stored, int(time.time()))
            if current_version is not None or (condition is not None and live):
                raise core.condition_failure(
                    key, {"Item": stored}, current_version, conditional=condition is not None
                ) from error
            if stored:  # there, so expired: remove it, unless it was written again meanwhile
                try:
                    yield Call("delete_item", core.delete_expired_request(key))
                except Exception as cleanup_error:
                    if error_code(cleanup_error) != "ConditionalCheckFailedException":
                        raise
            return False
        return True


def delete_flow(core: RepositoryCore[ObjT], partition_id: Ids, content_prefix: Ids) -> Flow:
    """Query the keys under a prefix and BatchWriteItem deletes for them, page by page."""
    plan = core.query_plan(partition_id, prefix=content_prefix, keys_only=True)
    while (request := plan.next_request()) is not None:
        response = yield Call("query", request)
        page = plan.on_response(response)
        if page.items:
            yield from run_write_plan(core.delete_plan(page.items))


class _ReadChangedError(Exception):
    """An update's condition failed because composing fields changed since they were read."""


class _OlderVersionError(Exception):
    """An update's condition failed because the item is stored at an older schema version."""

    def __init__(self, stored: Item) -> None:
        super().__init__("stored at an older schema version")
        self.stored = stored


def conditional(
    core: RepositoryCore[Any],
    call: Call,
    expected_version: int | None,
    token: str,
    read: tuple[Item, Sequence[str]] | None = None,
    failure: dict[str, bool] | None = None,
    *,
    migrating: bool = False,
) -> Generator[Step, Any, Item]:
    """Perform a conditional write, turning ConditionalCheckFailed into a typed error.

    A failure against an item holding ``token`` is this write's own resend meeting its result:
    the answer is then that item, as ``Attributes`` (``ALL_NEW``'s state). ``read`` is the item
    the write's index values were computed from and the fields taken from it: a failure
    against an item storing any of them differently raises :class:`_ReadChangedError`.
    ``failure`` holds the keyword arguments of the write's
    :meth:`~pydantic_dynamo.write_conditions.WriteConditions.condition_failure`. ``migrating``
    (a write conditioned on the current schema version) raises :class:`_OlderVersionError`
    for a live item stored at an older one, and
    :class:`~pydantic_dynamo.exceptions.SchemaVersionError` for a newer one.
    """
    try:
        response: Item = yield call
    except Exception as error:
        code = error_code(error)
        if code == "ValidationException" and _SIZE_EXCEEDED in str(error):
            # An update can grow an item past the limit; only DynamoDB can tell.
            key = core.plain_key(_key_of(core, call.request))
            raise ItemTooLargeError(key, None, MAX_ITEM_BYTES) from error
        if code != "ConditionalCheckFailedException":
            raise
        stored = error_response(error).get("Item")
        if is_mine(stored, token):
            return {"Attributes": stored}
        versions = core.versions
        if (
            migrating
            and versions is not None
            and stored
            and not is_expired(stored, int(time.time()))
        ):
            version = versions.stored(stored)
            if version != versions.current:
                versions.check(version, core.plain_key(_key_of(core, call.request)))
                raise _OlderVersionError(stored) from error
        if read is not None and stored and changed_since(read[0], stored, read[1]):
            raise _ReadChangedError from error
        raise core.condition_failure(
            _key_of(core, call.request), error_response(error), expected_version, **(failure or {})
        ) from error
    return response


# DynamoDB's words for an item over 400 KB ("Item size has exceeded the maximum allowed size",
# "Item size to update has exceeded the maximum allowed size").
_SIZE_EXCEEDED = "exceeded the maximum allowed size"


def _key_of(core: RepositoryCore[Any], request: Item) -> Item:
    """The key a single-item write request targets (an UpdateItem's ``Key``, a PutItem's
    key attributes)."""
    key: Item | None = request.get("Key")
    if key is None:
        item = request["Item"]
        key = {core.partition_key: item[core.partition_key], core.sort_key: item[core.sort_key]}
    return key

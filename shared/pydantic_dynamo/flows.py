"""Every repository operation as a sans-I/O flow: a generator of steps that a driver performs.

A flow yields :class:`Call` (send this request, send me the response or throw me the error),
:class:`CallMany` (send these concurrently; send me a list of responses or errors),
:class:`Sleep` (wait) and :class:`Emit` (hand this page to the caller), and returns its result.
The sync driver (:mod:`pydantic_dynamo.drivers`) and the async one perform the steps with their
own clients, so the operations are written once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from pydantic_dynamo.aws_errors import error_code, error_response
from pydantic_dynamo.batching import BatchGetPlan, BatchWritePlan
from pydantic_dynamo.codec import MAX_ITEM_BYTES
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import (
    IndexConflictError,
    ItemNotFoundError,
    ItemTooLargeError,
    MigrationConflictError,
    RequestObjectStateError,
    VersionConflictError,
)
from pydantic_dynamo.index_queries import IndexQuery
from pydantic_dynamo.index_updates import IndexWrite, changed_since, still_as_read
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import (
    BatchResponse,
    FilterCommand,
    GetResponse,
    ObjT,
    PartitionedContent,
    UpdateCommand,
)
from pydantic_dynamo.operations import RepositoryCore, RequestIds
from pydantic_dynamo.paging import QueryPlan, is_expired
from pydantic_dynamo.schema_versions import migration_put
from pydantic_dynamo.write_tokens import is_mine, new_token

__all__ = [
    "CALL_MANY_CONCURRENCY",
    "Call",
    "CallMany",
    "Emit",
    "Flow",
    "Sleep",
    "delete_flow",
    "delete_item_flow",
    "get_batch_flow",
    "get_flow",
    "list_flow",
    "put_batch_flow",
    "put_flow",
    "query_index_flow",
    "save_flow",
    "update_flow",
]

Item = dict[str, Any]


class Call:
    """Send ``request`` with the client method ``operation`` (``"put_item"``, ``"query"``, ...)."""

    __slots__ = ("operation", "request")

    def __init__(self, operation: str, request: Item) -> None:
        self.operation = operation
        self.request = request


# How many calls of one CallMany step either driver sends at once (write-once's conditional
# puts). boto3's default connection pool holds 10 connections; the lean transport keeps 10.
CALL_MANY_CONCURRENCY = 8


class CallMany:
    """Send every call, concurrently if the driver can; the answer is a list in the same order,
    each entry a response or the exception that call raised."""

    __slots__ = ("calls",)

    def __init__(self, calls: Sequence[Call]) -> None:
        self.calls = calls


class Sleep:
    """Wait ``seconds`` before the next step."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Emit:
    """Hand ``value`` (a page) to the caller of a reading operation."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Step = Call | CallMany | Sleep | Emit
Flow = Generator[Step, Any, Any]


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


def get_flow(core: RepositoryCore[ObjT], partition_id: Ids, content_id: Ids) -> Flow:
    """GetItem; returns a GetResponse."""
    response = yield Call("get_item", core.get_request(partition_id, content_id))
    result: GetResponse[ObjT] = core.get_response(response, time.time())
    return result


def run_get_plan(plan: BatchGetPlan[Any], on_items: Callable[[list[Item]], Step | None]) -> Flow:
    """Drive a BatchGetItem plan; ``on_items`` sees each response's items and may emit."""
    while (request := plan.next_request()) is not None:
        try:
            response = yield Call("batch_get_item", request)
        except Exception as error:  # whatever the cause, the plan reports the keys not read
            yield Sleep(plan.on_error(error_code(error), error))
            continue
        items, delay = plan.on_response(response)
        step = on_items(items)
        # Hold nothing of this page while the next is read: a caller streaming pages keeps one.
        del response, items
        if step is not None:
            yield step
        del step
        if delay:
            yield Sleep(delay)


def get_batch_flow(core: RepositoryCore[ObjT], request_ids: Sequence[RequestIds]) -> Flow:
    """BatchGetItem, 100 keys a request; emits one BatchResponse per response with items."""

    def page(items: list[Item]) -> Step | None:
        live = core.live_items(items, time.time())
        return Emit(BatchResponse(raw_items=live, decode=core.decode)) if live else None

    yield from run_get_plan(core.get_plan(request_ids), page)


def list_flow(
    core: RepositoryCore[ObjT],
    partition_id: Ids,
    *,
    prefix: Ids = None,
    between: tuple[Ids, Ids] | None = None,
    sort_ascending: bool = True,
    limit: int | None = None,
    filters: FilterCommand | Condition | None = None,
    cursor: str | None = None,
) -> Flow:
    """Query by prefix or range; emits a BatchResponse per DynamoDB page.

    Pages a filter emptied are emitted too (with their cursor), so a caller can bound the work
    of one call by counting pages.
    """
    if between is not None and _same_ids(*between):
        # 0.4.2: equal bounds list by prefix (BETWEEN would match only the bound itself).
        prefix, between = between[0], None
    plan = core.query_plan(
        partition_id,
        prefix=prefix,
        between=between,
        sort_ascending=sort_ascending,
        limit=limit,
        filters=filters,
        cursor=cursor,
    )
    yield from _query_pages(plan, core.decode)


def query_index_flow(query: IndexQuery) -> Flow:
    """Query a logical index (:func:`~pydantic_dynamo.index_queries.index_query` builds and
    checks ``query``); emits a BatchResponse per DynamoDB page. Entries of an index that does
    not hold the whole item are completed with one BatchGetItem per page, unless read into a
    projection model."""
    yield from _query_pages(query.plan, query.decode, query if query.fetch else None)


def _query_pages(
    plan: QueryPlan, decode: Callable[[Item], Any], fetching: IndexQuery | None = None
) -> Flow:
    """Send a query plan's requests, emitting each page; ``fetching`` completes index entries
    with their full items (what it drops counts back towards the limit)."""
    while (request := plan.next_request()) is not None:
        response = yield Call("query", request)
        page = plan.on_response(response)
        items = page.items
        if fetching is not None and items:
            fetched: list[Item] = []
            yield from run_get_plan(fetching.fetch_plan(items), fetched.extend)
            items = fetching.confirm(items, fetched, time.time())
            del fetched
            plan.give_back(len(page.items) - len(items))
        emit = Emit(BatchResponse(raw_items=items, decode=decode, cursor=page.cursor))
        # Hold nothing of this page while the next is read: a caller streaming pages keeps one.
        del response, page, items
        yield emit
        del emit


class _ReadChangedError(Exception):
    """An update's condition failed because composing fields changed since they were read."""


class _OlderVersionError(Exception):
    """An update's condition failed because the item is stored at an older schema version."""

    def __init__(self, stored: Item) -> None:
        super().__init__("stored at an older schema version")
        self.stored = stored


def _migrate_stored(core: RepositoryCore[Any], stored: Item) -> Flow:
    """Rewrite ``stored`` at the current schema version (:func:`migration_put`). A refusal
    means another writer (or this rewrite's own resend) changed it: either way the write that
    met the older version is tried again, against what is stored then."""
    request = migration_put(core, stored, new_token())
    if request is None:
        return
    try:
        yield Call("put_item", request)
    except Exception as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise


# Tries of an upsert (update, else create) and of an update whose index values depend on a
# read (read, then update while the fields read are unchanged).
UPDATE_ROUNDS = 5


def update_flow(
    core: RepositoryCore[ObjT],
    partition_id: Ids,
    content_id: Ids,
    command: UpdateCommand,
    require_exists: bool,
    condition: Condition | None = None,
) -> Flow:
    """UpdateItem; returns the new PartitionedContent, raises typed errors on conditions.

    ``condition`` (on the model) must hold on the stored item for the update to apply
    (:class:`~pydantic_dynamo.exceptions.ConditionFailedError` otherwise); an upsert creates
    an absent item without it.

    Without ``require_exists`` it is an upsert in (at most) two conditional steps: update the
    existing item, else create it. One expression cannot do both, because a stored item without
    ``_object_version`` counts as version 1 while a created one starts at 1. Before creating,
    the item the command would create is validated against the model (``InvalidAttributeError``
    naming the field, nothing written). One write token serves every step (see
    :mod:`pydantic_dynamo.write_tokens`).

    Index values are rewritten in the same UpdateItem, from the item's new state. When the
    command gives every composing field of each index it touches, they are computed from the
    command. Otherwise the item is read first (strongly consistent), the missing composing
    values taken from it, and the update applied only while they are still stored as read;
    if another writer changed them meanwhile, the read and the update are tried again (up to
    five times, then :class:`~pydantic_dynamo.exceptions.IndexConflictError`).

    With schema versions, the update applies only to an item at the current version; an item
    stored at an older one is first rewritten migrated, then updated (also within the five
    rounds; :class:`~pydantic_dynamo.exceptions.MigrationConflictError` after them).
    """
    expected = command.current_version
    token = new_token()
    plan = core.index_update(command)
    created: dict[str, Any] | None = None
    conflicts = migrations = 0
    for _ in range(UPDATE_ROUNDS):
        write: IndexWrite | None = None
        stored: Item | None = None
        present = True
        if plan is not None and plan.unread:
            response = yield Call(
                "get_item", core.get_request(partition_id, content_id, consistent=True)
            )
            stored = core.live_item(response, time.time())
            present = stored is not None
            if stored is not None:
                write = plan.write(core.decode(stored).item.model_dump(by_alias=False))
        elif plan is not None:
            write = plan.write()
        if present:
            unchanged = still_as_read(stored, plan.unread) if stored and plan else None
            request = core.update_request(
                partition_id,
                content_id,
                command,
                token,
                index_write=write,
                unchanged=unchanged,
                condition=condition,
            )
            read = (stored, plan.unread) if stored and plan else None
            call = Call("update_item", request)
            failure = {"conditional": condition is not None}
            try:
                response = yield from conditional(
                    core, call, expected, token, read, failure, migrating=True
                )
            except _ReadChangedError:
                conflicts += 1
                continue
            except _OlderVersionError as older:
                migrations += 1
                yield from _migrate_stored(core, older.stored)
                continue
            except ItemNotFoundError:
                if require_exists:
                    raise
            else:
                return core.decode(response["Attributes"])
        elif require_exists:
            raise ItemNotFoundError(core.plain_key(core.key(partition_id, content_id)))
        if created is None:
            created = core.check_created_item(command)
        request = core.update_request(
            partition_id,
            content_id,
            command,
            token,
            creating=True,
            index_write=core.created_index_write(command, created) if core.indexes else None,
        )
        try:
            response = yield from conditional(core, Call("update_item", request), expected, token)
        except ItemNotFoundError as missing:
            # Still absent, so only the version condition can have failed.
            raise VersionConflictError(missing.key or {}, expected or 0, None) from missing
        except RequestObjectStateError:
            continue  # created by someone else in between: update it
        return core.decode(response["Attributes"])
    key = core.plain_key(core.key(partition_id, content_id))
    if migrations:
        raise MigrationConflictError(key, UPDATE_ROUNDS)
    if conflicts:
        raise IndexConflictError(key, UPDATE_ROUNDS)
    raise RequestObjectStateError(
        f"item at {key} kept appearing and disappearing during an upsert", key
    )


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


def save_flow(
    core: RepositoryCore[ObjT], content: PartitionedContent[ObjT], expected_version: int | None
) -> Flow:
    """UpdateItem storing the whole content with an incremented version; returns what is stored.

    With schema versions, an item stored at an older version is first rewritten migrated (so
    that no attribute of its old shape is left beside the new ones), then saved over.
    """
    token = new_token()
    request = core.save_request(content, expected_version, token)
    for _ in range(UPDATE_ROUNDS):
        call = Call("update_item", request)
        try:
            response = yield from conditional(core, call, expected_version, token, migrating=True)
        except _OlderVersionError as older:
            yield from _migrate_stored(core, older.stored)
            continue
        saved: PartitionedContent[ObjT] = core.decode(response["Attributes"])
        return saved
    raise MigrationConflictError(core.plain_key(request["Key"]), UPDATE_ROUNDS)


def delete_flow(core: RepositoryCore[ObjT], partition_id: Ids, content_prefix: Ids) -> Flow:
    """Query the keys under a prefix and BatchWriteItem deletes for them, page by page."""
    plan = core.query_plan(partition_id, prefix=content_prefix, keys_only=True)
    while (request := plan.next_request()) is not None:
        response = yield Call("query", request)
        page = plan.on_response(response)
        if page.items:
            yield from run_write_plan(core.delete_plan(page.items))


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
    :meth:`~pydantic_dynamo.write_requests.WriteRequests.condition_failure`. ``migrating``
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


def _same_ids(first: Ids, second: Ids) -> bool:
    def normal(ids: Ids) -> list[str]:
        if ids is None:
            return []
        return [ids] if isinstance(ids, str) else list(ids)

    return normal(first) == normal(second)

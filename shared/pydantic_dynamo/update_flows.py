"""The update and save flows (UpdateItem), with their index-value and migration retries.

An update whose index values depend on what is stored reads the item first, and is tried again
while another writer changes the fields it read; with schema versions, an item stored at an
older version is first rewritten migrated, then updated or saved. Both retry within
:data:`UPDATE_ROUNDS` rounds; each try is :func:`~pydantic_dynamo.write_flows.conditional`.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic_dynamo.aws_errors import error_code
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import (
    IndexConflictError,
    ItemNotFoundError,
    MigrationConflictError,
    RequestObjectStateError,
    VersionConflictError,
)
from pydantic_dynamo.flows import Call, Flow
from pydantic_dynamo.index_updates import IndexWrite, still_as_read
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import ObjT, PartitionedContent, UpdateCommand
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.schema_versions import migration_put
from pydantic_dynamo.write_flows import _OlderVersionError, _ReadChangedError, conditional
from pydantic_dynamo.write_tokens import new_token

__all__ = ["save_flow", "update_flow"]

Item = dict[str, Any]


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

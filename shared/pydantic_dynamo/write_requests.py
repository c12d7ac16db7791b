"""The single-item write requests of the repository core.

Each request carries the conditions of :mod:`pydantic_dynamo.write_conditions` (the base class
of :class:`WriteRequests`), and asks for the stored item back (``ALL_OLD``) when they fail, so
that the failure says why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from pydantic_dynamo.codec import encode_field
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import InvalidAttributeError
from pydantic_dynamo.expressions import Placeholders, build_update
from pydantic_dynamo.index_updates import IndexUpdate, IndexWrite, index_write, refuse_increments
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import ObjT, PartitionedContent, UpdateCommand
from pydantic_dynamo.schema import (
    CONTENT_HASH,
    INTERNAL_OBJECT_VERSION,
    INTERNAL_TTL,
    PRIOR_WRITE_TOKEN,
    WRITE_TOKEN,
)
from pydantic_dynamo.write_conditions import EXPIRED, WriteConditions, _now
from pydantic_dynamo.write_tokens import NOT_MINE, stamp

__all__ = ["WriteRequests", "utc_timestamp"]

Item = dict[str, Any]


def utc_timestamp() -> str:
    """The ``_timestamp`` value for a write made now (ISO format, as 0.4.2 wrote it)."""
    return datetime.now(UTC).isoformat()


def _set_path(data: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        inner = data.get(part)
        if not isinstance(inner, dict):
            inner = data[part] = {}
        data = inner
    data[parts[-1]] = value


class WriteRequests(WriteConditions[ObjT]):
    """The write requests of :class:`~pydantic_dynamo.operations.RepositoryCore`, its base
    class (the core's own attributes are declared on :class:`WriteConditions`)."""

    def put_request(
        self,
        content: PartitionedContent[ObjT],
        token: str,
        *,
        condition: Condition | None = None,
        if_absent: bool = False,
    ) -> Item:
        """A PutItem request writing one content, refused if the item holds ``token`` already
        (the write was applied and this is its resend: see :mod:`pydantic_dynamo.write_tokens`),
        and, for a conditional put, unless :meth:`put_guard` holds."""
        item = self.encode(content, utc_timestamp(), {WRITE_TOKEN: {"S": token}})
        placeholders = Placeholders()
        if condition is None and not if_absent:
            expression = NOT_MINE.render(placeholders, {"token": token})
        else:
            guarded = NOT_MINE.bind(token=token) & self.put_guard(condition, if_absent)
            expression = render(guarded, self.schema, placeholders)
        request: Item = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": expression,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return placeholders.add_to(request)

    def update_request(
        self,
        partition_ids: Ids,
        content_ids: Ids,
        command: UpdateCommand,
        token: str,
        *,
        creating: bool = False,
        index_write: IndexWrite | None = None,
        unchanged: Condition | None = None,
        condition: Condition | None = None,
    ) -> Item:
        """An UpdateItem request applying ``command``, answering the item's new state.

        It applies only to an existing (unexpired) item, or, with ``creating``, only to an absent
        or expired one, and never to an item holding ``token`` (its own resend). An existing
        item without a version reads as version 1 (as in 0.4.2), so its first update makes it 2;
        an item this update creates gets version 1. ``index_write`` sets and removes index key
        attributes too, ``unchanged`` is a further condition (the composing fields the index
        values were computed from are still as read) and ``condition`` the caller's own.
        """
        placeholders = Placeholders()
        store_token = stamp(placeholders, token)
        extra_sets = [store_token]
        extra_removes: list[str] = []
        if index_write is not None:
            extra_sets.extend(
                f"{placeholders.name(name)} = {placeholders.value(value)}"
                for name, value in index_write.sets.items()
            )
            extra_removes.extend(placeholders.name(name) for name in index_write.removes)
        if creating and self.versions is not None:
            extra_sets.extend(
                f"{placeholders.name(name)} = {placeholders.value(value)}"
                for name, value in self.versions.stamp.items()
            )
        if creating and command.expiry is None:
            # An item created over an expired one must not keep its past _ttl (it would read
            # as absent at once).
            extra_removes.append(placeholders.name(INTERNAL_TTL))
        expression = build_update(
            self.schema,
            command,
            placeholders,
            timestamp=utc_timestamp(),
            reserved=self.reserved,
            missing_version=0 if creating else 1,
            extra_sets=extra_sets,
            extra_removes=extra_removes,
            check_version=False,
        )
        version = command.current_version
        prepared = self._write_condition("gone" if creating else "live", version, token=True)
        values = {"now": _now(), "token": token}
        if version is not None:
            values["version"] = str(version)
        rendered = prepared.render(placeholders, values)
        if unchanged is not None:
            rendered += " AND " + render(unchanged, None, placeholders)
        if self.versions is not None and not creating:
            # An item of an older shape is migrated first (update_flows.update_flow), never mixed.
            rendered += " AND " + render(self.versions.is_current, None, placeholders)
        if condition is not None:
            rendered = self._also(rendered, condition, placeholders)
        request: Item = {
            "TableName": self.table_name,
            "Key": self.key(partition_ids, content_ids),
            "UpdateExpression": expression.update,
            "ConditionExpression": rendered,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return placeholders.add_to(request)

    def index_update(self, command: UpdateCommand) -> IndexUpdate | None:
        """How ``command`` keeps the indexes right; ``None`` when it touches no composing field.

        An increment of a composing field is refused (``InvalidAttributeError`` naming the field
        and the index): its new value is known only to DynamoDB.
        """
        if not self.indexes:
            return None
        refuse_increments(self.indexes, command.increment_attrs)
        update = IndexUpdate(self.indexes, command.set_commands, command.remove_attrs)
        return update if update.touched else None

    def created_index_write(self, command: UpdateCommand, state: dict[str, Any]) -> IndexWrite:
        """The index attributes of the item an upsert creates, whose Python-mode data is
        ``state``. The composing fields the command does not give are written too, as the
        values the index was computed from (the model's defaults), or removed where those are
        ``None``: a created item may replace an expired one, whose leftovers would otherwise
        disagree with its index values."""
        write = index_write(self.indexes.by_name.values(), state)
        given = {path.split(".")[0] for path in (*command.set_commands, *command.remove_attrs)}
        leftovers = sorted(set(self.indexes.by_field) - given)
        sets = dict(write.sets)
        removes = list(write.removes)
        for name in leftovers:
            if state.get(name) is None:
                removes.append(name)
            else:
                sets[name] = encode_field(name, state[name])
        return IndexWrite(sets, tuple(removes))

    def check_created_item(self, command: UpdateCommand) -> dict[str, Any]:
        """Refuse an upsert whose command would create an item that fails the model; the
        created item's Python-mode data otherwise.

        The item it creates holds what ``set_commands`` sets, the increments (from 0) and the
        appended lists; a required field none of them gives, or a value the model refuses,
        raises :class:`~pydantic_dynamo.exceptions.InvalidAttributeError` naming the field.
        """
        data: dict[str, Any] = {}
        for path, value in command.set_commands.items():
            _set_path(data, path.split("."), value)
        for path, amount in command.increment_attrs.items():
            _set_path(data, path.split("."), amount)
        for path, extra in command.append_attrs.items():
            _set_path(data, path.split("."), list(extra or []))
        try:
            created = self.item_class.model_validate(data, by_name=True)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "item"
            raise InvalidAttributeError(
                field, f"an upsert creating this item would store an invalid item: {first['msg']}"
            ) from None
        state: dict[str, Any] = created.model_dump(by_alias=False)
        return state

    def save_request(
        self, content: PartitionedContent[ObjT], expected_version: int | None, token: str
    ) -> Item:
        """An UpdateItem storing ``content`` as the whole item, its version incremented atomically.

        Every attribute of the content is set, ``_ttl`` and ``_content_hash`` are removed when not
        set, and ``_object_version`` becomes the stored one plus 1 (1 for a new item; a stored
        item without one restarts at 1). With ``expected_version``, only if the stored version
        is that one. Never applied to an item holding ``token`` (its own resend).
        ``content.current_version`` is not used.
        """
        # Checked for size with both token slots at their longest; stamp() sets them.
        slots = {WRITE_TOKEN: {"S": token}, PRIOR_WRITE_TOKEN: {"S": token}}
        item = self.encode(content, utc_timestamp(), slots)
        key = {self.partition_key: item.pop(self.partition_key)}
        key[self.sort_key] = item.pop(self.sort_key)
        item.pop(INTERNAL_OBJECT_VERSION)
        item.pop(WRITE_TOKEN)
        item.pop(PRIOR_WRITE_TOKEN)
        placeholders = Placeholders()
        store_token = stamp(placeholders, token)
        sets = [f"{placeholders.name(name)} = {placeholders.value(v)}" for name, v in item.items()]
        sets.append(store_token)
        version = placeholders.name(INTERNAL_OBJECT_VERSION)
        one = placeholders.value({"N": "1"})
        base = one if expected_version is not None else placeholders.value({"N": "0"})
        sets.append(f"{version} = if_not_exists({version}, {base}) + {one}")
        removes = [placeholders.name(CONTENT_HASH)]
        if INTERNAL_TTL not in item:
            removes.append(placeholders.name(INTERNAL_TTL))
        removes.extend(placeholders.name(name) for name in self.indexes.absent(item))
        # Without an expected version, any stored item is replaced (0.4.2's put semantics).
        state = "live" if expected_version is not None else ""
        prepared = self._write_condition(state, expected_version, token=True)
        values = {"token": token}
        if expected_version is not None:
            values["now"] = _now()
            values["version"] = str(expected_version)
        rendered = prepared.render(placeholders, values)
        if self.versions is not None:
            # Over an older shape, its leftovers would stay: migrated first
            # (update_flows.save_flow).
            current = self.versions.is_current
            if expected_version is None:
                current = self._gone.bind(now=_now()) | current
            rendered += " AND " + render(current, None, placeholders)
        request: Item = {
            "TableName": self.table_name,
            "Key": key,
            "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            "ConditionExpression": rendered,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return placeholders.add_to(request)

    def delete_action(
        self,
        partition_ids: Ids,
        content_ids: Ids,
        current_version: int | None,
        condition: Condition | None = None,
    ) -> Item:
        """The ``Delete`` action (of a TransactWriteItems request) removing one live item, at
        ``current_version`` when one is given, while ``condition`` holds when one is given."""
        placeholders = Placeholders()
        prepared = self._write_condition("live", current_version, token=False)
        values = {"now": _now(), "version": str(current_version)}
        expression = prepared.render(placeholders, values)
        if condition is not None:
            expression = self._also(expression, condition, placeholders)
        delete: Item = {
            "TableName": self.table_name,
            "Key": self.key(partition_ids, content_ids),
            "ConditionExpression": expression,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return placeholders.add_to(delete)

    def delete_item_request(
        self,
        partition_ids: Ids,
        content_ids: Ids,
        current_version: int | None,
        token: str,
        condition: Condition | None = None,
    ) -> Item:
        """A TransactWriteItems request of one :meth:`delete_action`.

        A deleted item keeps no token to recognise a resend by, so the delete goes as a
        one-action transaction: DynamoDB answers a resend carrying the same
        ``ClientRequestToken`` (``token``) with the first answer instead of applying it again.
        It costs two write units per KB instead of one.
        """
        delete = self.delete_action(partition_ids, content_ids, current_version, condition)
        return {"TransactItems": [{"Delete": delete}], "ClientRequestToken": token}

    def check_action(self, partition_ids: Ids, content_ids: Ids, condition: Condition) -> Item:
        """The ``ConditionCheck`` action (of a TransactWriteItems request) requiring a live
        item on which ``condition`` holds."""
        placeholders = Placeholders()
        live = self._live.render(placeholders, {"now": _now()})
        check: Item = {
            "TableName": self.table_name,
            "Key": self.key(partition_ids, content_ids),
            "ConditionExpression": self._also(live, condition, placeholders),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return placeholders.add_to(check)

    def delete_expired_request(self, key: Item) -> Item:
        """A DeleteItem request removing an item only while its TTL has passed."""
        placeholders = Placeholders()
        request: Item = {
            "TableName": self.table_name,
            "Key": key,
            "ConditionExpression": EXPIRED.render(placeholders, {"now": _now()}),
        }
        return placeholders.add_to(request)

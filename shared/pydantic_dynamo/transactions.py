"""Transactions: writes across content types and repositories, applied all together or not at all.

A transaction gathers actions on items of any repositories (of one table or several), each
with the conditions its single-item twin carries (liveness, version, the caller's
:class:`~pydantic_dynamo.conditions.Condition` on the model), and sends them as one
TransactWriteItems request::

    with actors.transaction() as tx:
        tx.put(actors, actor_content, if_absent=True)
        tx.update(reviews, ["r1"], ["a1"], UpdateCommand(increment_attrs={"likes": 1}))
        tx.check(films, ["f1"], ["f1"], attr("released") == True)

The actions are checked as they are added, against DynamoDB's limits (100 actions, one action
per item; 4 MB in all is checked when the request is built): a
:class:`~pydantic_dynamo.exceptions.TransactionLimitError` names the offending action and
nothing is sent. Index values are kept, as by every write: an update touching a composing field
it does not give all of reads the item first (TransactGetItems) and applies only while the
fields read are unchanged, read again if they changed. The request carries a fresh
``ClientRequestToken``, so a resend whose answer was lost is answered, not applied again. A
cancelled transaction raises :class:`~pydantic_dynamo.exceptions.TransactionCanceledError`
naming each failed action, its reason and the item as stored. See ``docs/transactions.md``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic_dynamo.aws_errors import classify, error_response
from pydantic_dynamo.codec import item_size
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import (
    ActionFailure,
    TransactionCanceledError,
    TransactionLimitError,
)
from pydantic_dynamo.index_updates import IndexUpdate, IndexWrite, changed_since, still_as_read
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import PartitionedContent, UpdateCommand
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import is_expired
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.write_tokens import new_token

__all__ = [
    "MAX_TRANSACTION_ACTIONS",
    "MAX_TRANSACTION_BYTES",
    "HasCore",
    "TransactReadPlan",
    "TransactionPlan",
]

Item = dict[str, Any]
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


class HasCore(Protocol):
    """A repository (sync or async): what a transaction needs of it."""

    @property
    def core(self) -> RepositoryCore[Any]:
        """The repository's pure core."""
        ...


@dataclass
class _Action:
    """One action: its kind, its repository's core, its item's key and its request (an update
    whose index values need a read is built once the item is read: ``update``)."""

    operation: str
    core: RepositoryCore[Any]
    key: Item
    body: Item | None = None
    update: _Update | None = None
    expected_version: int | None = None
    conditional: bool = False
    if_absent: bool = False


@dataclass(frozen=True)
class _Update:
    partition_ids: Ids
    content_ids: Ids
    command: UpdateCommand
    condition: Condition | None
    plan: IndexUpdate | None

    @property
    def unread(self) -> tuple[str, ...]:
        return self.plan.unread if self.plan is not None else ()


def _identity(action: _Action) -> tuple[str, ...]:
    core = action.core
    return (core.table_name, *(value["S"] for value in action.key.values()))


class TransactionPlan:
    """The actions of one transaction and how its requests and answers read; pure (no I/O).

    :class:`~pydantic_dynamo.transaction_flows.Transaction` and
    :class:`~pydantic_dynamo.transaction_flows.AsyncTransaction` send it. Each adding method returns
    the action's position, which :class:`~pydantic_dynamo.exceptions.ActionFailure` names.
    """

    def __init__(self, retry_policy: RetryPolicy | None = None) -> None:
        self.actions: list[_Action] = []
        self.retry_policy = retry_policy or RetryPolicy()
        self._items: dict[tuple[str, ...], int] = {}

    def __len__(self) -> int:
        return len(self.actions)

    def _add(self, action: _Action) -> int:
        index = len(self.actions)
        if index >= MAX_TRANSACTION_ACTIONS:
            raise TransactionLimitError(
                index, f"a transaction holds at most {MAX_TRANSACTION_ACTIONS} actions"
            )
        identity = _identity(action)
        earlier = self._items.get(identity)
        if earlier is not None:
            key = action.core.plain_key(action.key)
            raise TransactionLimitError(
                index,
                f"item {key} is already the subject of action {earlier}: DynamoDB allows one "
                "action per item in a transaction",
                earlier,
            )
        self._items[identity] = index
        self.actions.append(action)
        return index

    def put(
        self,
        repo: HasCore,
        content: PartitionedContent[Any],
        *,
        condition: Condition | None = None,
        if_absent: bool = False,
    ) -> int:
        """Put ``content`` (as ``repo.put`` does, conditions included)."""
        core = repo.core
        body = core.put_request(content, new_token(), condition=condition, if_absent=if_absent)
        key = {name: body["Item"][name] for name in (core.partition_key, core.sort_key)}
        conditional = condition is not None
        return self._add(
            _Action("Put", core, key, body, conditional=conditional, if_absent=if_absent)
        )

    def update(
        self,
        repo: HasCore,
        partition_ids: Ids,
        content_ids: Ids,
        command: UpdateCommand,
        *,
        condition: Condition | None = None,
    ) -> int:
        """Apply ``command`` to an existing (live) item, while ``condition`` holds if given.

        Unlike ``repo.update(..., require_exists=False)``, it never creates the item: put it.
        """
        core = repo.core
        update = _Update(partition_ids, content_ids, command, condition, core.index_update(command))
        action = _Action(
            "Update",
            core,
            core.key(partition_ids, content_ids),
            update=update,
            expected_version=command.current_version,
            conditional=condition is not None,
        )
        return self._add(action)

    def delete(
        self,
        repo: HasCore,
        partition_ids: Ids,
        content_ids: Ids,
        *,
        condition: Condition | None = None,
        current_version: int | None = None,
    ) -> int:
        """Delete a live item, at ``current_version`` and while ``condition`` holds if given."""
        core = repo.core
        body = core.delete_action(partition_ids, content_ids, current_version, condition)
        action = _Action(
            "Delete",
            core,
            body["Key"],
            body,
            expected_version=current_version,
            conditional=condition is not None,
        )
        return self._add(action)

    def check(
        self, repo: HasCore, partition_ids: Ids, content_ids: Ids, condition: Condition
    ) -> int:
        """Require a live item on which ``condition`` holds, without writing it."""
        core = repo.core
        body = core.check_action(partition_ids, content_ids, condition)
        return self._add(_Action("ConditionCheck", core, body["Key"], body, conditional=True))

    # -- requests and answers -----------------------------------------------------------------

    def _to_read(self) -> list[int]:
        return [
            i for i, action in enumerate(self.actions) if action.update and action.update.unread
        ]

    def read_request(self) -> Item | None:
        """The TransactGetItems request reading the items whose updates need their stored
        composing fields; ``None`` when none does."""
        wanted = self._to_read()
        if not wanted:
            return None
        gets = [
            {"Get": {"TableName": self.actions[i].core.table_name, "Key": self.actions[i].key}}
            for i in wanted
        ]
        return {"TransactItems": gets}

    def read_items(self, response: Item) -> dict[int, Item | None]:
        """The live items a :meth:`read_request` answered, by action position."""
        now = int(time.time())
        answers = response.get("Responses") or []
        stored: dict[int, Item | None] = {}
        for index, answer in zip(self._to_read(), answers, strict=True):
            raw = answer.get("Item")
            stored[index] = raw if raw and not is_expired(raw, now) else None
        return stored

    def _update_body(self, action: _Action, stored: Item | None) -> Item:
        update = action.update
        assert update is not None
        write: IndexWrite | None = None
        unchanged: Condition | None = None
        if update.plan is not None and not update.unread:
            write = update.plan.write()
        elif update.plan is not None and stored is not None:
            write = update.plan.write(action.core.decode(stored).item.model_dump(by_alias=False))
            unchanged = still_as_read(stored, update.unread)
        body = action.core.update_request(
            update.partition_ids,
            update.content_ids,
            update.command,
            new_token(),
            index_write=write,
            unchanged=unchanged,
            condition=update.condition,
        )
        del body["ReturnValues"]  # a transaction's Update answers nothing
        return body

    def request(self, stored: dict[int, Item | None], token: str) -> Item:
        """The TransactWriteItems request, the items read (:meth:`read_items`) in its updates;
        :class:`~pydantic_dynamo.exceptions.TransactionLimitError` past 4 MB."""
        items = []
        total = 0
        for index, action in enumerate(self.actions):
            body = action.body
            if body is None:
                body = self._update_body(action, stored.get(index))
            total += item_size(body["Item"]) if "Item" in body else _action_size(body)
            if total > MAX_TRANSACTION_BYTES:
                raise TransactionLimitError(
                    index,
                    f"the transaction reaches {total} bytes here, over DynamoDB's "
                    f"{MAX_TRANSACTION_BYTES}",
                )
            items.append({action.operation: body})
        return {"TransactItems": items, "ClientRequestToken": token}

    def read_changed(self, error: BaseException, stored: dict[int, Item | None]) -> bool:
        """Whether a cancellation came only from updates whose fields read changed since."""
        reasons = error_response(error).get("CancellationReasons") or []
        failed = [(i, r) for i, r in enumerate(reasons) if r.get("Code") not in (None, "None")]
        if not failed:
            return False
        for index, reason in failed:
            read = stored.get(index)
            action = self.actions[index]
            if reason.get("Code") != "ConditionalCheckFailed" or read is None or not action.update:
                return False
            if not changed_since(read, reason.get("Item") or {}, action.update.unread):
                return False
        return True

    def cancellation(self, error: BaseException) -> TransactionCanceledError:
        """The typed error of a TransactionCanceledException answer to :meth:`request`."""
        reasons = error_response(error).get("CancellationReasons") or []
        return _cancellation(self.actions, reasons, error)


def _action_size(body: Item) -> int:
    """What an action other than a Put adds to the transaction: its key and its values."""
    return item_size(body["Key"]) + item_size(body.get("ExpressionAttributeValues", {}))


def _cancellation(
    actions: Sequence[_Action], reasons: Sequence[Item], error: BaseException
) -> TransactionCanceledError:
    failures = []
    codes = [str(reason.get("Code", "None")) for reason in reasons]
    for index, (action, reason) in enumerate(zip(actions, reasons, strict=False)):
        code = codes[index]
        if code == "None":
            continue
        core = action.core
        raw = reason.get("Item")
        why = None
        if code == "ConditionalCheckFailed" and action.operation != "Get":
            why = core.condition_failure(
                action.key,
                {"Item": raw},
                action.expected_version,
                conditional=action.conditional,
                if_absent=action.if_absent,
            )
        failures.append(
            ActionFailure(
                index=index,
                operation=action.operation,
                content_type=core.content_type,
                table=core.table_name,
                key=core.plain_key(action.key),
                code=code,
                message=reason.get("Message"),
                item=core.stored_view(raw) if raw else None,
                error=why,
            )
        )
    return TransactionCanceledError(failures, codes, classify(error))


class TransactReadPlan:
    """A TransactGetItems of up to 100 items of any repositories, read as one snapshot; pure.

    ``reads`` are ``(repository, partition_ids, content_ids)``; :meth:`contents` answers one
    content (of that repository's model) or ``None`` (absent, expired) per read, in order.
    """

    def __init__(self, reads: Sequence[tuple[HasCore, Ids, Ids]]) -> None:
        if len(reads) > MAX_TRANSACTION_ACTIONS:
            raise TransactionLimitError(
                MAX_TRANSACTION_ACTIONS,
                f"a transactional read holds at most {MAX_TRANSACTION_ACTIONS} items",
            )
        self.actions = [
            _Action("Get", repo.core, repo.core.key(partition_ids, content_ids))
            for repo, partition_ids, content_ids in reads
        ]

    def request(self) -> Item:
        """The TransactGetItems request."""
        gets = [{"Get": {"TableName": a.core.table_name, "Key": a.key}} for a in self.actions]
        return {"TransactItems": gets}

    def contents(self, response: Item) -> list[PartitionedContent[Any] | None]:
        """Each read's content, decoded by its repository, or ``None``."""
        now = int(time.time())
        contents: list[PartitionedContent[Any] | None] = []
        for action, answer in zip(self.actions, response.get("Responses") or [], strict=True):
            raw = answer.get("Item")
            live = raw and not is_expired(raw, now)
            contents.append(action.core.decode(raw) if live else None)
        return contents

    def cancellation(self, error: BaseException) -> TransactionCanceledError:
        """The typed error of a TransactionCanceledException answer to :meth:`request`."""
        reasons = error_response(error).get("CancellationReasons") or []
        return _cancellation(self.actions, reasons, error)

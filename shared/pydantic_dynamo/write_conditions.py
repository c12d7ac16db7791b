"""The conditions of the repository core's single-item writes, and what their failures mean.

Every write carries the library's own terms (the item is live, the version is the expected one,
the write token is not ours: :mod:`pydantic_dynamo.write_tokens`) and, for a conditional write,
the caller's :class:`~pydantic_dynamo.conditions.Condition` on the model, ANDed with them. A
failed condition is read back from the stored item (``ALL_OLD``) into the typed error that says
why: absent, another version, already there, or the caller's condition not holding. The
requests themselves are :mod:`pydantic_dynamo.write_requests`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition, all_of
from pydantic_dynamo.exceptions import (
    ConditionFailedError,
    ItemExistsError,
    ItemNotFoundError,
    RequestObjectStateError,
    VersionConflictError,
)
from pydantic_dynamo.expressions import Placeholders, version_check
from pydantic_dynamo.indexes import IndexSet
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.models import ObjT, PartitionedContent
from pydantic_dynamo.paging import is_expired
from pydantic_dynamo.prepared import Prepared, param
from pydantic_dynamo.schema import INTERNAL_OBJECT_VERSION, INTERNAL_TTL, ModelSchema
from pydantic_dynamo.write_tokens import NOT_MINE

if TYPE_CHECKING:
    from pydantic_dynamo.schema_versions import SchemaVersions

__all__ = ["EXPIRED", "WriteConditions"]

Item = dict[str, Any]

_ttl = raw_attr(INTERNAL_TTL)
EXPIRED = Prepared(_ttl <= param("now", "N"))
"""The item's TTL has passed (its parameter: ``now``)."""


def _now() -> str:
    return str(int(time.time()))


def _all(terms: list[Condition]) -> Condition:
    condition = all_of(terms)
    assert condition is not None  # every write condition has a term
    return condition


class WriteConditions(Generic[ObjT]):
    """The conditions of :class:`~pydantic_dynamo.operations.RepositoryCore`'s writes and the
    errors their failures become, the base class of its
    :class:`~pydantic_dynamo.write_requests.WriteRequests`: the attributes declared here are the
    core's own."""

    table_name: str
    partition_key: str
    sort_key: str
    item_class: type[ObjT]
    schema: ModelSchema
    indexes: IndexSet
    reserved: frozenset[str]
    versions: SchemaVersions | None
    _live: Prepared
    _gone: Prepared
    _conditions: dict[tuple[str, bool | None, bool], Prepared]
    encode: Callable[[PartitionedContent[ObjT], str, Item | None], Item]
    decode: Callable[[Item], PartitionedContent[ObjT]]
    key: Callable[[Ids, Ids], Item]
    plain_key: Callable[[Item], dict[str, str]]

    def _write_condition(self, state: str, version: int | None, token: bool) -> Prepared:
        """The condition of a write: the item's ``state`` (``"live"``, ``"gone"`` or ``""``
        for either), the expected ``version`` if any, and :func:`not_mine` if ``token``.

        Prepared once per shape (its parameters: ``now``, ``version``, ``token``).
        """
        key = (state, None if version is None else version == 1, token)
        prepared = self._conditions.get(key)
        if prepared is None:
            terms = [self._live.condition] if state == "live" else []
            if state == "gone":
                terms.append(self._gone.condition)
            if version is not None:
                terms.append(version_check(version).condition)
            if token:
                terms.append(NOT_MINE.condition)
            prepared = self._conditions[key] = Prepared(_all(terms))
        return prepared

    def _also(self, expression: str, condition: Condition, placeholders: Placeholders) -> str:
        """``expression`` ANDed with the caller's ``condition`` (checked against the model)."""
        return f"{expression} AND {render(condition, self.schema, placeholders)}"

    def put_guard(self, condition: Condition | None, if_absent: bool) -> Condition:
        """What a conditional put requires of the stored item: ``condition`` holding on a live
        item, or with ``if_absent`` no live item (or, with both, either)."""
        now = _now()
        held = self._live.bind(now=now) & condition if condition is not None else None
        if not if_absent:
            assert held is not None  # a conditional put has a condition or if_absent
            return held
        gone = self._gone.bind(now=now)
        return gone if held is None else gone | held

    def stored_view(self, raw: Item) -> PartitionedContent[ObjT] | Item:
        """A stored item as a content of this repository's model, or raw when it does not
        decode as one (another writer's item, an older model)."""
        try:
            return self.decode(raw)
        except (ValueError, KeyError, TypeError):  # ValidationError is a ValueError
            return raw

    def condition_failure(
        self,
        key: Item,
        error_response: Item,
        expected_version: int | None,
        *,
        conditional: bool = False,
        if_absent: bool = False,
    ) -> RequestObjectStateError:
        """The typed error for a ConditionalCheckFailed answer, from the stored item
        (``ALL_OLD``): :class:`ItemNotFoundError` when none is live,
        :class:`ItemExistsError` for a put ``if_absent``, :class:`VersionConflictError` when it
        holds another version than ``expected_version``, :class:`ConditionFailedError` when
        the write was ``conditional`` (the caller's condition did not hold)."""
        plain = self.plain_key(key)
        stored = error_response.get("Item")
        if not stored or is_expired(stored, int(time.time())):
            return ItemNotFoundError(plain)
        if if_absent:
            return ItemExistsError(plain, self.stored_view(stored), stored)
        raw_version = stored.get(INTERNAL_OBJECT_VERSION, {}).get("N")
        actual = int(raw_version) if raw_version else 1
        if conditional and (expected_version is None or actual == expected_version):
            return ConditionFailedError(plain, self.stored_view(stored), stored)
        if expected_version is None:
            return RequestObjectStateError(f"condition failed for {plain}", plain)
        return VersionConflictError(plain, expected_version, actual)

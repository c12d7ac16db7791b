"""Write-once: store only new or changed contents, and report each exactly once, even under races.

How it works (one ``write`` call):

1. Inputs are deduplicated by key (the last content for a key wins).
2. The stored items are read with BatchGetItem: one request per 100 inputs.
3. An input whose stored item holds the same content (model data and expiry; not
   ``_timestamp`` or ``_object_version``) is skipped: it costs no write.
4. Every other input is written with a *conditional* PutItem: "the item is still absent", or
   "the item still has the ``_timestamp`` I read". The writes run concurrently. The version
   written is the stored one plus 1 (1 for a new item), so versions never go backwards, and the
   contents returned carry it.
5. When the condition fails, somebody else wrote in between. DynamoDB returns the item it holds
   (``ReturnValuesOnConditionCheckFailure=ALL_OLD``): if it is our content, the other writer
   reported it and we skip it; otherwise we retry against what is there now. Each content's
   put carries a write token (:mod:`pydantic_dynamo.write_tokens`): a stored item holding ours
   is our own try, applied but unanswered and resent, and is reported as written; after a try
   that got no answer at all, the item is read back to tell.

So among concurrent writers exactly one PutItem per distinct content succeeds, and only its
writer reports the content as written.

To compare cheaply, each write also stores ``_content_hash``: ``"{_timestamp} {digest}"``, the
digest (BLAKE2b) of the canonical stored form of the model data and expiry. The digest is trusted
only while its timestamp equals the item's ``_timestamp``: any later put or update (by this
library, 0.4.2, or anyone else who sets ``_timestamp``) changes that, and the comparison falls
back to decoding the stored item and comparing models.

Cost per input: half a read unit per 4 KB (a full one with ``consistent_reads``) for the
BatchGetItem; for a new or changed content, one write unit per KB for its PutItem; nothing more
for an unchanged one. A writer that loses a race also pays for its failed conditional PutItem.
"""

from __future__ import annotations

import functools
import hashlib
import json
from base64 import b64encode
from collections.abc import Iterable
from typing import Any, Generic

from pydantic import ValidationError

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.aws_errors import ErrorKind, classify, error_code, error_response
from pydantic_dynamo.batching import BatchGetPlan
from pydantic_dynamo.exceptions import UnprocessedItemsError
from pydantic_dynamo.flows import Call, CallMany, Flow, Sleep
from pydantic_dynamo.models import ObjT, PartitionedContent
from pydantic_dynamo.operations import RepositoryCore, utc_timestamp
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.prepared import Prepared, param
from pydantic_dynamo.read_flows import run_get_plan
from pydantic_dynamo.retry import RETRYABLE_ERROR_CODES
from pydantic_dynamo.schema import (
    CONTENT_HASH,
    INTERNAL_OBJECT_VERSION,
    INTERNAL_TIMESTAMP,
    WRITE_TOKEN,
)
from pydantic_dynamo.write_tokens import is_mine, new_token

__all__ = ["CONTENT_HASH", "content_digest", "write_once_flow"]

Item = dict[str, Any]
KeyTuple = tuple[str, str]


def _json_default(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return b64encode(value).decode("ascii")
    raise TypeError(f"cannot hash a {type(value).__name__}")


_DIGEST_BYTES = 16


def content_digest(item: Item, excluded: frozenset[str]) -> str:
    """The digest of a stored item's content: every attribute but ``excluded``, canonically."""
    content = {name: value for name, value in item.items() if name not in excluded}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=_DIGEST_BYTES).hexdigest()


class _Candidate(Generic[ObjT]):
    __slots__ = ("content", "digest", "item", "key", "stored", "token")

    def __init__(self, key: KeyTuple, content: PartitionedContent[ObjT], item: Item) -> None:
        self.key = key
        self.content = content
        self.item = item
        self.digest = ""
        self.stored: Item | None = None
        self.token = ""


def _holds(core: RepositoryCore[ObjT], candidate: _Candidate[ObjT], stored: Item | None) -> bool:
    """Whether ``stored`` already holds the candidate's content."""
    if not stored:
        return False
    marker: str | None = stored.get(CONTENT_HASH, {}).get("S")
    timestamp: str | None = stored.get(INTERNAL_TIMESTAMP, {}).get("S")
    if marker and timestamp:
        written_at, _, digest = marker.rpartition(" ")
        if written_at == timestamp:
            return digest == candidate.digest
    try:
        existing = core.decode(stored)
    except (ValidationError, ValueError, KeyError):
        return False
    return existing.item == candidate.content.item and existing.expiry == candidate.content.expiry


def _stored_version(stored: Item | None) -> int:
    if not stored:
        return 0
    raw: str | None = stored.get(INTERNAL_OBJECT_VERSION, {}).get("N")
    return int(raw) if raw else 1  # 0.4.2 counted a missing version as 1


_timestamp = raw_attr(INTERNAL_TIMESTAMP)
# The stored item is still the one read: it has the same _timestamp (an AttributeValue), or
# still has none (0.4.2 could write such items), or it is still absent.
_SAME_TIMESTAMP = Prepared(_timestamp == param("timestamp", None))
_NO_TIMESTAMP = Prepared(_timestamp.not_exists())


@functools.cache
def _absent(partition_key: str) -> Prepared:
    return Prepared(raw_attr(partition_key).not_exists())


def _put_request(core: RepositoryCore[ObjT], candidate: _Candidate[ObjT]) -> Item:
    placeholders = Placeholders()
    stored = candidate.stored
    # The version moves on from what is stored (the condition below makes that atomic).
    candidate.item[INTERNAL_OBJECT_VERSION] = {"N": str(_stored_version(stored) + 1)}
    if stored is None:
        condition = _absent(core.partition_key).render(placeholders, {})
    elif INTERNAL_TIMESTAMP in stored:
        values = {"timestamp": stored[INTERNAL_TIMESTAMP]}
        condition = _SAME_TIMESTAMP.render(placeholders, values)
    else:
        condition = _NO_TIMESTAMP.render(placeholders, {})
    request: Item = {
        "TableName": core.table_name,
        "Item": candidate.item,
        "ConditionExpression": condition,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return placeholders.add_to(request)


def _as_written(candidate: _Candidate[ObjT]) -> PartitionedContent[ObjT]:
    version = int(candidate.item[INTERNAL_OBJECT_VERSION]["N"])
    return candidate.content.model_copy(update={"current_version": version})


def write_once_flow(
    core: RepositoryCore[ObjT], contents: Iterable[PartitionedContent[ObjT]]
) -> Flow:
    """The write-once algorithm (see the module docstring); returns the contents written."""
    timestamp = utc_timestamp()
    excluded = frozenset(
        {
            core.partition_key,
            core.sort_key,
            INTERNAL_OBJECT_VERSION,
            INTERNAL_TIMESTAMP,
            CONTENT_HASH,
            WRITE_TOKEN,
        }
    )
    # Items are checked for size with the content hash in place (its length is fixed).
    marker = {"S": f"{timestamp} {'0' * 2 * _DIGEST_BYTES}"}
    candidates: dict[KeyTuple, _Candidate[ObjT]] = {}
    for content in contents:
        # One token for every try of this content: a try applied but unanswered is recognised.
        token = new_token()
        item = core.encode(content, timestamp, {CONTENT_HASH: marker, WRITE_TOKEN: {"S": token}})
        key = (item[core.partition_key]["S"], item[core.sort_key]["S"])
        candidates[key] = _Candidate(key, content, item)
        candidates[key].token = token
    if not candidates:
        return []
    for candidate in candidates.values():
        candidate.digest = content_digest(candidate.item, excluded)
        candidate.item[CONTENT_HASH] = {"S": f"{timestamp} {candidate.digest}"}

    try:
        stored = yield from _read_stored(core, candidates)
    except UnprocessedItemsError as error:
        # Nothing was written yet: every input is still to do, not only the keys not read.
        raise UnprocessedItemsError(
            [c.content for c in candidates.values()],
            error.attempts,
            f"reading the stored items failed: {error}",
            code=error.code,
            kind=error.kind,
        ) from error
    to_write = []
    for key, candidate in candidates.items():
        candidate.stored = stored.get(key)
        if not _holds(core, candidate, candidate.stored):
            to_write.append(candidate)

    written: list[PartitionedContent[ObjT]] = []
    attempt = 0
    policy = core.retry_policy
    while to_write:
        results = yield CallMany([Call("put_item", _put_request(core, c)) for c in to_write])
        retry: list[_Candidate[ObjT]] = []
        failed: list[tuple[_Candidate[ObjT], BaseException]] = []
        for candidate, result in zip(to_write, results, strict=True):
            if not isinstance(result, BaseException):
                written.append(_as_written(candidate))
                continue
            code = error_code(result)
            if code == "ConditionalCheckFailedException":
                current = error_response(result).get("Item") or None
                if is_mine(current, candidate.token):  # our own try, applied, then resent
                    written.append(_as_written(candidate))
                    continue
                if _holds(core, candidate, current):
                    continue  # another writer stored this content and reports it
                candidate.stored = current
                retry.append(candidate)
            elif code in RETRYABLE_ERROR_CODES:
                retry.append(candidate)
            else:
                failed.append((candidate, result))
        unanswered = {c.key: c for c, error in failed if error_code(error) is None}
        if unanswered:
            # No answer came (the transport gave up): a try may have been applied. Those that
            # were hold their token, and are reported as written.
            try:
                # Strongly consistent: an eventually consistent read may miss the write.
                found = yield from _read_stored(core, unanswered, consistent=True)
            except UnprocessedItemsError:
                found = {}
            mine = {key for key, c in unanswered.items() if is_mine(found.get(key), c.token)}
            written.extend(_as_written(unanswered[key]) for key in mine)
            failed = [(c, error) for c, error in failed if c.key not in mine]
        if failed:
            left = [c.content for c, _ in failed] + [c.content for c in retry]
            raise UnprocessedItemsError(
                left,
                attempt + 1,
                f"{failed[0][1]}",
                written=written,
                code=error_code(failed[0][1]),
                kind=classify(failed[0][1]),
            ) from failed[0][1]
        if retry:
            attempt += 1
            if policy.exhausted(attempt):
                raise UnprocessedItemsError(
                    [c.content for c in retry],
                    attempt,
                    "contended or throttled after every retry",
                    written=written,
                    kind=ErrorKind.THROTTLED,
                )
            yield Sleep(policy.delay(attempt))
        to_write = retry
    return written


def _read_stored(
    core: RepositoryCore[ObjT],
    candidates: dict[KeyTuple, _Candidate[ObjT]],
    *,
    consistent: bool = False,
) -> Flow:
    partition_key, sort_key = core.partition_key, core.sort_key
    keys = [
        ({partition_key: c.item[partition_key], sort_key: c.item[sort_key]}, c.content)
        for c in candidates.values()
    ]
    plan = BatchGetPlan(
        core.table_name,
        partition_key,
        sort_key,
        keys,
        consistent or core.consistent_reads,
        core.retry_policy,
    )
    stored: dict[KeyTuple, Item] = {}

    def keep(items: list[Item]) -> None:
        for item in items:
            stored[(item[partition_key]["S"], item[sort_key]["S"])] = item

    yield from run_get_plan(plan, keep)
    return stored

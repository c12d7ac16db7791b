"""The repository's pure core: every request it sends and every response it reads.

This module holds the keys, the items (encode, decode), the reads, batches and queries; the
single-item writes are :class:`~pydantic_dynamo.write_requests.WriteRequests`, the core's base
class. No I/O happens here. The sync and async repositories build requests with
:class:`RepositoryCore`, send them with their own client, and hand the responses back, so the
two share all the logic and differ only in how they wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from pydantic_dynamo.attribute_paths import raw_attr
from pydantic_dynamo.batching import BatchGetPlan, BatchWritePlan, WriteEntry
from pydantic_dynamo.codec import (
    MAX_ITEM_BYTES,
    decode_value,
    item_size,
    item_size_bound,
)
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.conditions import Condition
from pydantic_dynamo.exceptions import (
    InvalidAttributeError,
    InvalidCursorError,
    ItemTooLargeError,
    ReservedAttributeError,
)
from pydantic_dynamo.expressions import Placeholders, filter_condition
from pydantic_dynamo.indexes import Index, IndexSet
from pydantic_dynamo.keys import Ids, KeyCodec
from pydantic_dynamo.model_codec import ModelCodec
from pydantic_dynamo.models import (
    FilterCommand,
    GetResponse,
    ObjT,
    PartitionedContent,
)
from pydantic_dynamo.paging import QueryPlan, decode_cursor, is_expired
from pydantic_dynamo.prepared import Prepared, param
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.schema import (
    INTERNAL_ATTRIBUTES,
    INTERNAL_OBJECT_VERSION,
    INTERNAL_TIMESTAMP,
    INTERNAL_TTL,
    SCHEMA_VERSION,
    ModelSchema,
)
from pydantic_dynamo.schema_versions import SchemaVersions, versioned_decode, versioned_decoder
from pydantic_dynamo.table import TableDescription
from pydantic_dynamo.write_conditions import EXPIRED
from pydantic_dynamo.write_requests import WriteRequests, utc_timestamp

__all__ = ["RepositoryCore", "utc_timestamp"]

Item = dict[str, Any]
RequestIds = tuple[Ids, Ids]


BaseModelT = TypeVar("BaseModelT", bound=BaseModel)
_NOTHING = object()
_object_setattr = object.__setattr__
_ttl = raw_attr(INTERNAL_TTL)


def _construct_content(
    cls: type[PartitionedContent[ObjT]],
    partition_ids: list[str],
    content_ids: list[str],
    item: ObjT,
    current_version: int,
    expiry: datetime | None,
) -> PartitionedContent[ObjT]:
    """``cls.model_construct(...)`` of all five fields, without its per-field alias lookups.

    PartitionedContent has no aliases, extra fields, private attributes or post-init hook, so
    model_construct sets exactly these four attributes; a unit test holds the two to one state.
    """
    content = cls.__new__(cls)
    _object_setattr(
        content,
        "__dict__",
        {
            "partition_ids": partition_ids,
            "content_ids": content_ids,
            "item": item,
            "current_version": current_version,
            "expiry": expiry,
        },
    )
    _object_setattr(
        content,
        "__pydantic_fields_set__",
        {"partition_ids", "content_ids", "item", "current_version", "expiry"},
    )
    _object_setattr(content, "__pydantic_extra__", None)
    _object_setattr(content, "__pydantic_private__", None)
    return content


class RepositoryCore(WriteRequests[ObjT]):
    """Requests and responses for one model stored under one partition prefix and content type."""

    def __init__(
        self,
        *,
        item_class: type[ObjT],
        partition_prefix: str,
        partition_name: str,
        content_type: str,
        table_name: str,
        partition_key: str,
        sort_key: str,
        consistent_reads: bool = False,
        retry_policy: RetryPolicy | None = None,
        indexes: Sequence[Index] = (),
        table_description: TableDescription | None = None,
        schema_versions: SchemaVersions | None = None,
    ) -> None:
        if not (isinstance(item_class, type) and issubclass(item_class, BaseModel)):
            raise TypeError(f"item_class must be a Pydantic model class, got {item_class!r}")
        if partition_key == sort_key:
            raise ValueError("partition_key and sort_key must be different attributes")
        self.item_class = item_class
        self.schema = ModelSchema.of(item_class)
        self.indexes = IndexSet(indexes, item_class, partition_prefix, partition_name, content_type)
        self.reserved = (
            INTERNAL_ATTRIBUTES | {partition_key, sort_key} | self.indexes.key_attributes
        )
        if table_description is not None:
            # Every physical index's keys, used by this content type or not: a model holding
            # one would put entries into another content type's index.
            self.reserved |= table_description.reserved_attributes
            missing = [i for i in indexes if i.on not in table_description.indexes]
            if missing:
                raise ValueError(
                    f"index {missing[0].name!r} is on physical index {missing[0].on.name!r}, "
                    f"which the table does not have (it has "
                    f"{[i.name for i in table_description.indexes]})"
                )
        self._index_attributes = tuple(sorted(self.indexes.key_attributes))
        self.schema.check_reserved(self.reserved)
        self.keys = KeyCodec(partition_prefix, partition_name, content_type)
        self.content_type = content_type
        # Present, and not past its TTL: an expired item reads as absent, so it is absent here.
        stored = raw_attr(partition_key)
        self._live = Prepared(stored.exists() & (_ttl.not_exists() | (_ttl > param("now", "N"))))
        self._gone = Prepared(stored.not_exists() | EXPIRED.condition)
        self._conditions: dict[tuple[str, bool | None, bool], Prepared] = {}
        self.table_name = table_name
        self.partition_key = partition_key
        self.sort_key = sort_key
        self.consistent_reads = consistent_reads
        self.retry_policy = retry_policy or RetryPolicy()
        self.content_class: type[PartitionedContent[ObjT]] = PartitionedContent[item_class]  # type: ignore[valid-type]
        # Encoding and decoding compiled from the model's fields (pydantic_dynamo.model_codec).
        self.codec = ModelCodec.of(item_class)
        # The last partition value read and its ids: the items of a query share one.
        self._last_partition: tuple[object, tuple[str, ...]] = (_NOTHING, ())
        # None: nothing stored, nothing checked, as 0.4.2 (pydantic_dynamo.schema_versions).
        self.versions = schema_versions
        self._version_stamp = schema_versions.stamp.get(SCHEMA_VERSION) if schema_versions else None

    # -- keys ---------------------------------------------------------------------------------

    def key(self, partition_ids: Ids, content_ids: Ids) -> Item:
        """The DynamoDB key of one item."""
        return {
            self.partition_key: {"S": self.keys.partition_value(partition_ids)},
            self.sort_key: {"S": self.keys.sort_value(content_ids)},
        }

    def plain_key(self, key: Item) -> dict[str, str]:
        """A key as attribute name -> string, for error messages."""
        return {name: value["S"] for name, value in key.items()}

    # -- items ----------------------------------------------------------------------------------

    def encode(
        self, content: PartitionedContent[ObjT], timestamp: str, extra: Item | None = None
    ) -> Item:
        """The stored item for a content (model fields plus keys and internal attributes).

        ``extra`` attributes (a write token...) are added before the 400 KB check, so that
        what is checked is what is sent.
        """
        model = content.item
        if not isinstance(model, self.item_class):
            raise InvalidAttributeError(
                "item", f"expected a {self.item_class.__name__}, got {type(model).__name__}"
            )
        extras = model.__pydantic_extra__
        if extras and not self.reserved.isdisjoint(extras):
            name = min(self.reserved.intersection(extras))
            raise ReservedAttributeError(
                name,
                f"{type(model).__name__} holds the extra attribute {name!r}, which the "
                "repository manages itself",
            )
        if self.indexes:
            item, data = self.codec.encode_with_dump(model)
        else:
            item = self.codec.encode(model)
        item[self.partition_key] = {"S": self.keys.partition_value(content.partition_ids)}
        item[self.sort_key] = {"S": self.keys.sort_value(content.content_ids)}
        if self.indexes:  # after the keys: a key DynamoDB would refuse is reported as such
            item.update(self.indexes.attributes(data))
        item[INTERNAL_OBJECT_VERSION] = {"N": str(content.current_version)}
        item[INTERNAL_TIMESTAMP] = {"S": timestamp}
        if self._version_stamp is not None:
            item[SCHEMA_VERSION] = dict(self._version_stamp)
        if content.expiry is not None:
            item[INTERNAL_TTL] = {"N": str(int(content.expiry.timestamp()))}
        if extra:
            item.update(extra)
        # The cheap bound clears nearly every item; only near the limit is the exact walk run,
        # and the error reports the exact size.
        if item_size_bound(item) > MAX_ITEM_BYTES:
            size = item_size(item)
            if size > MAX_ITEM_BYTES:
                key = {
                    self.partition_key: item[self.partition_key],
                    self.sort_key: item[self.sort_key],
                }
                raise ItemTooLargeError(self.plain_key(key), size, MAX_ITEM_BYTES)
        return item

    def _header(self, raw: Item) -> tuple[list[str], list[str], int, datetime | None]:
        """A raw item's partition ids, content ids, version and expiry."""
        partition_value = raw[self.partition_key]["S"]
        last_value, last_ids = self._last_partition
        if partition_value == last_value:
            partition_ids = list(last_ids)  # a list of its own, as a parse gives
        else:
            partition_ids = self.keys.parse_partition(partition_value)
            self._last_partition = (partition_value, tuple(partition_ids))
        stored = raw.get(INTERNAL_OBJECT_VERSION)
        version = decode_value(stored) if stored is not None else None
        stored = raw.get(INTERNAL_TTL)
        ttl = decode_value(stored) if stored is not None else None
        return (
            partition_ids,
            self.keys.parse_sort(raw[self.sort_key]["S"]),
            int(version or 1),
            datetime.fromtimestamp(int(ttl), tz=UTC) if ttl is not None else None,
        )

    def decode(self, raw: Item) -> PartitionedContent[ObjT]:
        """The content stored in a raw item (as the low-level client returns it)."""
        if self.versions is not None and SchemaVersions.stored(raw) != self.versions.current:
            return versioned_decode(self, raw, self.item_class)
        partition_ids, content_ids, version, expiry = self._header(raw)
        item = self.codec.decode_model(raw, self.reserved)
        return _construct_content(
            self.content_class, partition_ids, content_ids, item, version, expiry
        )

    def decoder(self, model: type[BaseModelT]) -> Callable[[Item], PartitionedContent[BaseModelT]]:
        """A decode of raw items (an index's entries) into ``model``, a model over some of the
        item's fields: the attributes it does not declare are left out."""
        if self.versions is not None:
            return versioned_decoder(self, model)
        fields = ModelCodec.of(model).decode_fields
        content_class: type[PartitionedContent[BaseModelT]] = PartitionedContent[model]  # type: ignore[valid-type]

        def decode(raw: Item) -> PartitionedContent[BaseModelT]:
            partition_ids, content_ids, version, expiry = self._header(raw)
            item = model.model_validate(fields(raw), by_name=True)
            return _construct_content(
                content_class, partition_ids, content_ids, item, version, expiry
            )

        return decode

    # -- single-item reads (the writes: WriteRequests) ---------------------------------------------

    def get_request(
        self, partition_ids: Ids, content_ids: Ids, *, consistent: bool | None = None
    ) -> Item:
        """A GetItem request (strongly consistent per ``consistent``, else the repository's)."""
        return {
            "TableName": self.table_name,
            "Key": self.key(partition_ids, content_ids),
            "ConsistentRead": self.consistent_reads if consistent is None else consistent,
        }

    def live_item(self, response: Item, now: float) -> Item | None:
        """The raw item of a GetItem response; ``None`` when absent or expired."""
        raw: Item | None = response.get("Item")
        if not raw or is_expired(raw, int(now)):
            return None
        return raw

    def get_response(self, response: Item, now: float) -> GetResponse[ObjT]:
        """The answer of a GetItem response; an expired item counts as absent."""
        raw = self.live_item(response, now)
        return GetResponse(content=None if raw is None else self.decode(raw))

    # -- batches --------------------------------------------------------------------------------

    def write_plan(
        self, contents: Iterable[PartitionedContent[ObjT]]
    ) -> BatchWritePlan[PartitionedContent[ObjT]]:
        """A BatchWriteItem plan putting every content; items are encoded (and checked) first."""
        timestamp = utc_timestamp()
        partition_key, sort_key = self.partition_key, self.sort_key
        entries = []
        for content in contents:
            item = self.encode(content, timestamp)
            key = (item[partition_key]["S"], item[sort_key]["S"])
            entries.append(WriteEntry(key, {"PutRequest": {"Item": item}}, content))
        return BatchWritePlan(self.table_name, partition_key, sort_key, entries, self.retry_policy)

    def delete_plan(self, raw_keys: Iterable[Item]) -> BatchWritePlan[Item]:
        """A BatchWriteItem plan deleting items by their raw keys."""
        partition_key, sort_key = self.partition_key, self.sort_key
        entries = []
        for raw in raw_keys:
            key = {partition_key: raw[partition_key], sort_key: raw[sort_key]}
            entries.append(
                WriteEntry(
                    (key[partition_key]["S"], key[sort_key]["S"]),
                    {"DeleteRequest": {"Key": key}},
                    key,
                )
            )
        return BatchWritePlan(self.table_name, partition_key, sort_key, entries, self.retry_policy)

    def get_plan(self, request_ids: Iterable[RequestIds]) -> BatchGetPlan[RequestIds]:
        """A BatchGetItem plan reading every key (duplicates read once)."""
        partition_key, sort_key = self.partition_key, self.sort_key
        sort_value = self.keys.sort_value
        # The keys of a batch usually share a few partitions: each value is composed once.
        partitions: dict[object, str] = {}
        keys = []
        for pids, cids in request_ids:
            known = pids if pids is None or isinstance(pids, str) else tuple(pids)
            partition = partitions.get(known)
            if partition is None:
                partition = partitions[known] = self.keys.partition_value(pids)
            key = {partition_key: {"S": partition}, sort_key: {"S": sort_value(cids)}}
            keys.append((key, (pids, cids)))
        return BatchGetPlan(
            self.table_name,
            self.partition_key,
            self.sort_key,
            keys,
            self.consistent_reads,
            self.retry_policy,
        )

    def live_items(self, items: Sequence[Item], now: float) -> list[Item]:
        """The items whose TTL has not passed."""
        if not any(INTERNAL_TTL in item for item in items):  # no item has a TTL: all live
            return list(items)
        moment = int(now)
        return [item for item in items if not is_expired(item, moment)]

    # -- queries --------------------------------------------------------------------------------

    def query_plan(
        self,
        partition_ids: Ids,
        *,
        prefix: Ids = None,
        between: tuple[Ids, Ids] | None = None,
        sort_ascending: bool = True,
        limit: int | None = None,
        filters: FilterCommand | Condition | None = None,
        cursor: str | None = None,
        keys_only: bool = False,
    ) -> QueryPlan:
        """A Query plan over one partition, by sort key prefix or inclusive range."""
        placeholders = Placeholders()
        partition_value = self.keys.partition_value(partition_ids)
        pk = placeholders.name(self.partition_key)
        sk = placeholders.name(self.sort_key)
        pk_value = placeholders.value({"S": partition_value})
        if between is not None:
            low = placeholders.value({"S": self.keys.sort_bound(between[0])})
            high = placeholders.value({"S": self.keys.sort_bound(between[1])})
            condition = f"{pk} = {pk_value} AND {sk} BETWEEN {low} AND {high}"
        else:
            start = placeholders.value({"S": self.keys.sort_bound(prefix)})
            condition = f"{pk} = {pk_value} AND begins_with({sk}, {start})"
        request: Item = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ScanIndexForward": sort_ascending,
            "ConsistentRead": self.consistent_reads,
        }
        wanted = filter_condition(filters) if isinstance(filters, FilterCommand) else filters
        filter_expression = (
            render(wanted, self.schema, placeholders) if wanted is not None else None
        )
        if filter_expression:
            request["FilterExpression"] = filter_expression
        if keys_only:
            request["ProjectionExpression"] = f"{pk}, {sk}"
        placeholders.add_to(request)
        start_after = None
        if cursor is not None:
            start_after = decode_cursor(cursor, partition_value)
            if between is not None:
                low_bound = self.keys.sort_bound(between[0])
                high_bound = self.keys.sort_bound(between[1])
                inside = low_bound <= start_after <= high_bound
            else:
                inside = start_after.startswith(self.keys.sort_bound(prefix))
            if not inside:
                raise InvalidCursorError("cursor belongs to another listing of this partition")
        return QueryPlan(
            request,
            partition_value=partition_value,
            partition_key=self.partition_key,
            sort_key=self.sort_key,
            limit=limit,
            filtered=filter_expression is not None,
            start_after=start_after,
        )

"""DynamoDB Streams records decoded into typed changes of one repository's contents.

A stream record (Lambda's event record as a dict, or anything with a ``raw_event`` dict, as
Powertools' ``DynamoDBRecord`` has) goes in; a :class:`Change` comes out: its
:class:`ChangeKind` (inserted, modified, removed, or expired by TTL), the content's ids, and the
new and old contents as ``PartitionedContent[Model]``, decoded by the repository's own
:meth:`~pydantic_dynamo.operations.RepositoryCore.decode` (stream images have the same
AttributeValue shape as a read item; binary values arrive base64-encoded in Lambda's JSON and
are decoded here).

A table holds many content types: :meth:`StreamDecoder.belongs` tells whether a record is one of
this repository's (its partition key starts with the repository's prefix and name, its sort key
with its content type); :meth:`StreamDecoder.decode` refuses one that is not
(:class:`ForeignRecordError`), a record without the fields of a stream record
(:class:`MalformedRecordError`) and an image the model cannot read
(:class:`UndecodableImageError`, with the key and the cause). Every one of them is a
:class:`StreamRecordError`, carrying the record's ``sequence_number``.

>>> from pydantic import BaseModel
>>> from pydantic_dynamo.operations import RepositoryCore
>>> class Actor(BaseModel):
...     id: str
...     name: str
>>> core = RepositoryCore(item_class=Actor, partition_prefix="film", partition_name="actor",
...                       content_type="actor", table_name="t", partition_key="PK",
...                       sort_key="SK")
>>> keys = {"PK": {"S": "film#actor#"}, "SK": {"S": "actor#a1"}}
>>> image = {**keys, "id": {"S": "a1"}, "name": {"S": "Steve"}, "_object_version": {"N": "1"}}
>>> record = {"eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": image,
...                                               "SequenceNumber": "100"}}
>>> change = StreamDecoder(core).decode(record)
>>> change.kind, change.content_ids, change.new.item.name, change.old, change.version
(<ChangeKind.INSERTED: 'inserted'>, ['a1'], 'Steve', None, 1)

Powertools is not needed: pass ``record.raw_event`` or the record itself.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, Protocol, TypeVar

from pydantic import BaseModel

from pydantic_dynamo.exceptions import InvalidKeyError, PydanticDynamoError
from pydantic_dynamo.models import PartitionedContent
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.transport.wire import decode_binary

__all__ = [
    "TTL_IDENTITY",
    "Change",
    "ChangeKind",
    "ForeignRecordError",
    "MalformedRecordError",
    "StreamDecoder",
    "StreamRecordError",
    "UndecodableImageError",
    "raw_record",
    "sequence_number",
]

ObjT = TypeVar("ObjT", bound=BaseModel)

# The ``userIdentity`` of a REMOVE record that TTL made (a delete by a caller carries none).
TTL_IDENTITY: Final = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

Record = Mapping[str, Any]


class ChangeKind(StrEnum):
    """What happened to the item."""

    INSERTED = "inserted"
    MODIFIED = "modified"
    REMOVED = "removed"  # deleted by a caller
    EXPIRED = "expired"  # deleted by DynamoDB's TTL


class StreamRecordError(PydanticDynamoError, ValueError):
    """A stream record that cannot become a change of this repository.

    ``sequence_number`` is the record's (``""`` when it has none): a stream consumer reports it
    as the failed item, or logs it and moves on. ``key`` is the record's key as attribute name
    -> value, when it has one.
    """

    def __init__(self, message: str, sequence_number: str, key: dict[str, Any]) -> None:
        super().__init__(message)
        self.sequence_number = sequence_number
        self.key = key


class MalformedRecordError(StreamRecordError):
    """Not a DynamoDB stream record: no ``dynamodb.Keys``, or an unknown ``eventName``."""


class ForeignRecordError(StreamRecordError):
    """The record's item belongs to another content type (or to no repository at all)."""


class UndecodableImageError(StreamRecordError):
    """The record's ``NewImage`` or ``OldImage`` (``image``) is not a content of the model.

    The exception's ``__cause__`` is the decoding error (a Pydantic ``ValidationError``...).
    """

    def __init__(self, message: str, sequence_number: str, key: dict[str, Any], image: str) -> None:
        super().__init__(message, sequence_number, key)
        self.image = image


class _WrappedRecord(Protocol):
    """A record wrapper that keeps the raw record, as Powertools' data classes do."""

    @property
    def raw_event(self) -> Mapping[str, Any]:
        """The record as Lambda delivered it."""
        ...


class _HasCore(Protocol[ObjT]):
    """A repository (sync or async) exposing its pure core."""

    @property
    def core(self) -> RepositoryCore[ObjT]:
        """The repository's request builder and decoder."""
        ...


def raw_record(record: Record | _WrappedRecord) -> Record:
    """The record as a dict: its ``raw_event`` when it has one (Powertools' data classes are
    mappings too, but their ``raw_event`` is the plain dict), else ``record`` itself."""
    raw = getattr(record, "raw_event", None)
    if isinstance(raw, Mapping):
        return raw
    if isinstance(record, Mapping):
        return record
    raise TypeError(f"not a stream record: {type(record).__name__} (no raw_event dict)")


def sequence_number(record: Record | _WrappedRecord) -> str:
    """The record's ``dynamodb.SequenceNumber`` (``""`` when it has none)."""
    stream = raw_record(record).get("dynamodb")
    value = stream.get("SequenceNumber") if isinstance(stream, Mapping) else None
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Change(Generic[ObjT]):
    """One change of one content, read from one stream record.

    ``new`` is the content after the change (inserted, modified), ``old`` before it (modified,
    removed, expired); either is ``None`` when the stream's view type does not carry that
    image (``KEYS_ONLY``, ``NEW_IMAGE``, ``OLD_IMAGE``).
    """

    kind: ChangeKind
    partition_ids: list[str]
    content_ids: list[str]
    new: PartitionedContent[ObjT] | None
    old: PartitionedContent[ObjT] | None
    sequence_number: str
    event_id: str

    @property
    def version(self) -> int | None:
        """The content's version after the change, or the last one it had (removed, expired)."""
        content = self.new or self.old
        return content.current_version if content is not None else None


_KINDS: Final = {"INSERT": ChangeKind.INSERTED, "MODIFY": ChangeKind.MODIFIED}


def _is_ttl_removal(record: Record) -> bool:
    identity = record.get("userIdentity")
    return isinstance(identity, Mapping) and all(
        identity.get(name) == value for name, value in TTL_IDENTITY.items()
    )


class StreamDecoder(Generic[ObjT]):
    """Decodes the stream records of one repository's content type.

    ``repository`` is a ``SyncDynamoRepository``/``DynamoRepository`` (anything with ``core``)
    or a :class:`~pydantic_dynamo.operations.RepositoryCore`.
    """

    def __init__(self, repository: RepositoryCore[ObjT] | _HasCore[ObjT]) -> None:
        self.core: RepositoryCore[ObjT] = (
            repository if isinstance(repository, RepositoryCore) else repository.core
        )

    def _key(self, record: Record) -> dict[str, Any] | None:
        stream = record.get("dynamodb")
        keys = stream.get("Keys") if isinstance(stream, Mapping) else None
        return dict(keys) if isinstance(keys, Mapping) else None

    def _ids(self, keys: Mapping[str, Any]) -> tuple[list[str], list[str]] | None:
        partition = keys.get(self.core.partition_key)
        sort = keys.get(self.core.sort_key)
        if not (isinstance(partition, Mapping) and isinstance(sort, Mapping)):
            return None
        partition_value, sort_value = partition.get("S"), sort.get("S")
        if not (isinstance(partition_value, str) and isinstance(sort_value, str)):
            return None
        try:
            return (
                self.core.keys.parse_partition(partition_value),
                self.core.keys.parse_sort(sort_value),
            )
        except InvalidKeyError:
            return None

    def belongs(self, record: Record | _WrappedRecord) -> bool:
        """Whether the record's item is one of this repository's contents (by its key)."""
        keys = self._key(raw_record(record))
        return keys is not None and self._ids(keys) is not None

    def decode(self, record: Record | _WrappedRecord) -> Change[ObjT]:
        """The change the record tells of; raises a :class:`StreamRecordError` subclass."""
        raw = raw_record(record)
        sequence = sequence_number(raw)
        keys = self._key(raw)
        if keys is None:
            raise MalformedRecordError("the record has no dynamodb.Keys", sequence, {})
        plain_key = {name: _plain(value) for name, value in keys.items()}
        event_name = raw.get("eventName")
        if event_name == "REMOVE":
            kind = ChangeKind.EXPIRED if _is_ttl_removal(raw) else ChangeKind.REMOVED
        elif isinstance(event_name, str) and event_name in _KINDS:
            kind = _KINDS[event_name]
        else:
            raise MalformedRecordError(f"unknown eventName {event_name!r}", sequence, plain_key)
        ids = self._ids(keys)
        if ids is None:
            raise ForeignRecordError(
                f"{plain_key} is not a {self.core.item_class.__name__} of this repository",
                sequence,
                plain_key,
            )
        stream = raw["dynamodb"]
        event_id = raw.get("eventID")
        return Change(
            kind=kind,
            partition_ids=ids[0],
            content_ids=ids[1],
            new=self._image(stream, "NewImage", sequence, plain_key),
            old=self._image(stream, "OldImage", sequence, plain_key),
            sequence_number=sequence,
            event_id=event_id if isinstance(event_id, str) else "",
        )

    def _image(
        self, stream: Mapping[str, Any], name: str, sequence: str, key: dict[str, Any]
    ) -> PartitionedContent[ObjT] | None:
        image = stream.get(name)
        if image is None:
            return None
        try:
            if not isinstance(image, Mapping):
                raise TypeError(f"{name} is a {type(image).__name__}, not a map")
            # Lambda's JSON carries binary values as base64 text, as DynamoDB's wire does.
            return self.core.decode(decode_binary(copy.deepcopy(dict(image))))
        except Exception as error:
            raise UndecodableImageError(
                f"{name} of {key} is not a {self.core.item_class.__name__}: {error}",
                sequence,
                key,
                name,
            ) from error


def _plain(value: Any) -> Any:
    """A key AttributeValue's value (``{"S": "x"}`` -> ``"x"``), for messages and logs."""
    if isinstance(value, Mapping) and len(value) == 1:
        return next(iter(value.values()))
    return value

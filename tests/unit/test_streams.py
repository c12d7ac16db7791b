"""Stream records decoded into typed changes: every kind, TTL vs delete, foreign and bad records."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from pydantic_dynamo import Index, PartitionedContent, PhysicalIndex, SyncDynamoRepository
from pydantic_dynamo.operations import RepositoryCore, utc_timestamp
from pydantic_dynamo.streams import (
    TTL_IDENTITY,
    ChangeKind,
    ForeignRecordError,
    MalformedRecordError,
    StreamDecoder,
    StreamRecordError,
    UndecodableImageError,
    raw_record,
    sequence_number,
)

GSI = PhysicalIndex.global_("gsi1")


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    photo: bytes | None = None


def _core(content_type: str = "actor", partition_name: str = "actor") -> RepositoryCore[Actor]:
    return RepositoryCore(
        item_class=Actor,
        partition_prefix="film",
        partition_name=partition_name,
        content_type=content_type,
        table_name="t",
        partition_key="PK",
        sort_key="SK",
        indexes=(Index("by_name", on=GSI, partition=("name",)),),
    )


CORE = _core()
DECODER = StreamDecoder(CORE)


def _content(name: str = "Steve", version: int = 1, **fields: Any) -> PartitionedContent[Actor]:
    return PartitionedContent[Actor](
        partition_ids=["p#1"],
        content_ids=["a1"],
        item=Actor(id="a1", name=name, **fields),
        current_version=version,
    )


def _wire(image: dict[str, Any]) -> dict[str, Any]:
    """An image as Lambda's JSON carries it: binary values as base64 text."""
    return {
        name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
        for name, value in image.items()
    }


def _record(
    event_name: str,
    new: PartitionedContent[Actor] | None = None,
    old: PartitionedContent[Actor] | None = None,
    *,
    core: RepositoryCore[Actor] = CORE,
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    images = {
        name: _wire(core.encode(content, utc_timestamp()))
        for name, content in (("NewImage", new), ("OldImage", old))
        if content is not None
    }
    sample = new or old
    assert sample is not None
    stream = {
        "Keys": core.key(sample.partition_ids, sample.content_ids),
        "SequenceNumber": "4200",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        **images,
    }
    record: dict[str, Any] = {"eventID": "e1", "eventName": event_name, "dynamodb": stream}
    if identity is not None:
        record["userIdentity"] = identity
    return record


def test_an_insert_carries_the_new_content_only() -> None:
    change = DECODER.decode(_record("INSERT", new=_content()))

    assert change.kind is ChangeKind.INSERTED
    assert change.new == _content()
    assert change.old is None
    assert (change.partition_ids, change.content_ids) == (["p#1"], ["a1"])
    assert (change.sequence_number, change.event_id, change.version) == ("4200", "e1", 1)


def test_a_modification_carries_both_contents_and_the_new_version() -> None:
    change = DECODER.decode(_record("MODIFY", new=_content("After", 2), old=_content("Before", 1)))

    assert change.kind is ChangeKind.MODIFIED
    assert change.new is not None
    assert change.old is not None
    assert (change.old.item.name, change.new.item.name, change.version) == ("Before", "After", 2)


def test_a_delete_by_a_caller_is_removed_with_the_old_content() -> None:
    change = DECODER.decode(_record("REMOVE", old=_content(version=4)))

    assert change.kind is ChangeKind.REMOVED
    assert change.new is None
    assert change.version == 4


def test_a_removal_by_dynamodb_ttl_is_expired() -> None:
    expiry = datetime(2024, 1, 1, tzinfo=UTC)
    old = _content().model_copy(update={"expiry": expiry})

    change = DECODER.decode(_record("REMOVE", old=old, identity=dict(TTL_IDENTITY)))

    assert change.kind is ChangeKind.EXPIRED
    assert change.old is not None
    assert change.old.expiry == expiry


def test_a_removal_by_another_service_is_no_expiry() -> None:
    identity = {"type": "Service", "principalId": "backup.amazonaws.com"}

    assert DECODER.decode(_record("REMOVE", old=_content(), identity=identity)).kind is (
        ChangeKind.REMOVED
    )


def test_keys_only_records_give_ids_without_contents() -> None:
    record = _record("MODIFY", new=_content())
    del record["dynamodb"]["NewImage"]

    change = DECODER.decode(record)

    assert (change.new, change.old, change.version) == (None, None, None)
    assert change.content_ids == ["a1"]


def test_binary_values_arrive_base64_encoded_and_decode_to_bytes() -> None:
    record = _record("INSERT", new=_content(photo=b"\x00\xff"))

    change = DECODER.decode(record)

    assert change.new is not None
    assert change.new.item.photo == b"\x00\xff"
    assert isinstance(record["dynamodb"]["NewImage"]["photo"]["B"], str), "input left as it was"


def test_index_attributes_and_internal_attributes_do_not_reach_the_model() -> None:
    record = _record("INSERT", new=_content())
    assert "gsi1pk" in record["dynamodb"]["NewImage"]

    assert DECODER.decode(record).new == _content()  # extra="forbid" would refuse them


def test_a_powertools_record_and_a_repository_are_accepted() -> None:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

    repository = SyncDynamoRepository[Actor](
        item_class=Actor,
        partition_prefix="film",
        partition_name="actor",
        content_type="actor",
        table_name="t",
        partition_key="PK",
        sort_key="SK",
        indexes=(Index("by_name", on=GSI, partition=("name",)),),
    )
    record = DynamoDBRecord(_record("INSERT", new=_content()))

    decoder = StreamDecoder(repository)

    assert decoder.belongs(record)
    assert decoder.decode(record).new == _content()
    assert sequence_number(record) == "4200"
    assert raw_record(record) is record.raw_event


def test_anything_else_is_refused_as_a_record() -> None:
    with pytest.raises(TypeError, match="not a stream record"):
        DECODER.decode(42)  # type: ignore[arg-type]


# -- records of other content types ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "partition_name"),
    [("review", "actor"), ("actor", "review"), ("actors", "actor")],
    ids=["other content type", "other partition", "a longer name"],
)
def test_records_of_other_repositories_do_not_belong_and_are_refused(
    content_type: str, partition_name: str
) -> None:
    record = _record("INSERT", new=_content(), core=_core(content_type, partition_name))

    assert not DECODER.belongs(record)
    with pytest.raises(ForeignRecordError) as raised:
        DECODER.decode(record)
    assert raised.value.sequence_number == "4200"
    assert raised.value.key == {"PK": f"film#{partition_name}#p\\#1", "SK": f"{content_type}#a1"}


def test_a_record_whose_keys_are_not_strings_does_not_belong() -> None:
    record = _record("INSERT", new=_content())
    record["dynamodb"]["Keys"]["SK"] = {"N": "1"}

    assert not DECODER.belongs(record)


# -- records that cannot be decoded ----------------------------------------------------------


def test_an_image_the_model_refuses_is_an_undecodable_image_with_key_and_cause() -> None:
    record = _record("MODIFY", new=_content(), old=_content())
    record["dynamodb"]["OldImage"]["name"] = {"N": "12"}

    with pytest.raises(UndecodableImageError) as raised:
        DECODER.decode(record)

    error = raised.value
    assert (error.image, error.sequence_number) == ("OldImage", "4200")
    assert error.key == {"PK": "film#actor#p\\#1", "SK": "actor#a1"}
    assert "name" in str(error)
    assert error.__cause__ is not None


def test_an_image_that_is_no_attribute_map_is_undecodable() -> None:
    record = _record("INSERT", new=_content())
    record["dynamodb"]["NewImage"]["name"] = {"XX": "?"}

    with pytest.raises(UndecodableImageError, match="NewImage"):
        DECODER.decode(record)


def test_a_record_without_keys_is_malformed() -> None:
    with pytest.raises(MalformedRecordError, match="Keys") as raised:
        DECODER.decode({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "7"}})
    assert raised.value.sequence_number == "7"
    assert not DECODER.belongs({"eventName": "INSERT"})


def test_an_unknown_event_name_is_malformed() -> None:
    record = _record("INSERT", new=_content())
    record["eventName"] = "TRUNCATE"

    with pytest.raises(MalformedRecordError, match="TRUNCATE"):
        DECODER.decode(record)


def test_every_refusal_is_a_stream_record_error() -> None:
    assert issubclass(ForeignRecordError, StreamRecordError)
    assert issubclass(UndecodableImageError, StreamRecordError)
    assert issubclass(MalformedRecordError, StreamRecordError)

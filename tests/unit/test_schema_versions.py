"""Schema versions in the pure core: what reads upgrade, what writes store, what updates require."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from pydantic_dynamo.exceptions import (
    MigrationConflictError,
    MigrationError,
    ReservedAttributeError,
    SchemaVersionError,
)
from pydantic_dynamo.flows import Call
from pydantic_dynamo.migrate import SchemaMigration
from pydantic_dynamo.models import PartitionedContent, UpdateCommand
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.retry import RetryPolicy
from pydantic_dynamo.rewrites import rewrite_page_flow
from pydantic_dynamo.scan import ScanPage
from pydantic_dynamo.schema import INTERNAL_ATTRIBUTES, SCHEMA_VERSION
from pydantic_dynamo.schema_versions import SchemaVersions, migration_put
from pydantic_dynamo.update_flows import save_flow, update_flow
from records_service.content_types import ContentType
from tests.versioned_models import BY_LAST, TABLE, VERSIONS, Actor, shaped

KEY = {"pk": {"S": "app#films#"}, "sk": {"S": "actor#a1"}}
PLAIN_KEY = {"pk": "app#films#", "sk": "actor#a1"}


def make_core(versions: SchemaVersions | None = VERSIONS) -> RepositoryCore[Actor]:
    return RepositoryCore(
        item_class=Actor,
        partition_prefix="app",
        partition_name="films",
        content_type="actor",
        table_name="t",
        partition_key="pk",
        sort_key="sk",
        indexes=[BY_LAST],
        table_description=TABLE,
        schema_versions=versions,
    )


def stored(version: int, **extra: Any) -> dict[str, Any]:
    return {**KEY, **shaped(version, "a1"), "_timestamp": {"S": "2020-01-01T00:00:00"}, **extra}


def content() -> PartitionedContent[Actor]:
    return PartitionedContent[Actor](
        partition_ids=[], content_ids=["a1"], item=Actor(id="a1", first="A", last="B", stars=1)
    )


def failed(item: dict[str, Any]) -> ClientError:
    error = {"Code": "ConditionalCheckFailedException", "Message": "failed"}
    response: Any = {"Error": error, "Item": item}  # ALL_OLD, as DynamoDB answers
    return ClientError(response, "UpdateItem")


def names_in(request: dict[str, Any]) -> set[str]:
    return set(request.get("ExpressionAttributeNames", {}).values())


# -- declaring ------------------------------------------------------------------------------------


def test_a_missing_migration_step_is_refused() -> None:
    with pytest.raises(ValueError, match=r"each of \[0, 1\]"):
        SchemaVersions(current=2, migrations={0: dict})


def test_migrations_may_start_above_zero() -> None:
    versions = SchemaVersions(current=3, migrations={1: dict, 2: dict})
    with pytest.raises(SchemaVersionError, match="older than any migration"):
        versions.upgrade({}, 0, PLAIN_KEY)


def test_the_schema_version_is_a_reserved_attribute() -> None:
    assert SCHEMA_VERSION in INTERNAL_ATTRIBUTES

    class Aliased(BaseModel):
        version: int = Field(alias="_schema_version")

    with pytest.raises(ReservedAttributeError, match="_schema_version"):
        RepositoryCore(
            item_class=Aliased,
            partition_prefix="a",
            partition_name="b",
            content_type="c",
            table_name="t",
            partition_key="pk",
            sort_key="sk",
        )


# -- reads ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 1, 2])
def test_items_of_every_version_read_as_the_current_model(version: int) -> None:
    read = make_core().decode(stored(version))
    assert read.item == Actor(id="a1", first="Steve", last="Buscemi", stars=4)
    assert read.content_ids == ["a1"]


def test_a_current_item_ignores_the_version_attribute_despite_extra_forbid() -> None:
    # The compiled decoder (no migration) must leave _schema_version out like the other
    # internal attributes, or a model refusing extra attributes would fail on every read.
    assert make_core().decode(stored(2)).item.stars == 4


def test_a_version_newer_than_current_is_refused_with_key_and_versions() -> None:
    with pytest.raises(SchemaVersionError) as raised:
        make_core().decode(stored(3))
    assert (raised.value.key, raised.value.stored, raised.value.current) == (PLAIN_KEY, 3, 2)


def test_a_migration_that_raises_is_wrapped_naming_the_key_and_the_step() -> None:
    broken = {**stored(1), "stars": {"S": "four"}}
    with pytest.raises(MigrationError) as raised:
        make_core().decode(broken)
    assert raised.value.key == PLAIN_KEY
    assert raised.value.step == 1
    assert isinstance(raised.value.__cause__, ValueError)


def test_a_migration_returning_something_else_than_a_dict_is_refused() -> None:
    def forgets_to_return(data: dict[str, Any]) -> Any:
        data.pop("full_name", None)

    versions = SchemaVersions(current=1, migrations={0: forgets_to_return})
    with pytest.raises(MigrationError, match="not a dict") as raised:
        versions.upgrade({}, 0, PLAIN_KEY)
    assert isinstance(raised.value.__cause__, TypeError)


def test_versions_hash_by_identity_so_content_types_stay_hashable() -> None:
    assert hash(VERSIONS) == hash(VERSIONS)
    kind = ContentType(
        "versioned", Actor, partition_prefix="app", partition_name="v", schema_versions=VERSIONS
    )
    assert hash(kind) == hash(kind)


def test_a_projection_decoder_upgrades_old_items() -> None:
    class Names(BaseModel):
        first: str
        last: str

    decode = make_core().decoder(Names)
    assert decode(stored(0)).item == Names(first="Steve", last="Buscemi")
    assert decode(stored(2)).item == Names(first="Steve", last="Buscemi")


def test_without_versions_an_old_shape_fails_validation_as_today() -> None:
    with pytest.raises(ValueError, match="first"):
        make_core(None).decode(stored(0))


# -- writes ---------------------------------------------------------------------------------------


def test_writes_store_the_current_version() -> None:
    item = make_core().encode(content(), "ts")
    assert item[SCHEMA_VERSION] == {"N": "2"}


def test_version_zero_and_no_versions_store_nothing() -> None:
    assert SCHEMA_VERSION not in make_core(SchemaVersions(current=0)).encode(content(), "ts")
    assert SCHEMA_VERSION not in make_core(None).encode(content(), "ts")


def test_updates_require_the_current_version() -> None:
    command = UpdateCommand(set_commands={"stars": 5})
    request = make_core().update_request([], ["a1"], command, "tok")
    assert request["ConditionExpression"].endswith(" = :v" + _value_of(request, {"N": "2"}))
    assert SCHEMA_VERSION in names_in(request)


def _value_of(request: dict[str, Any], value: dict[str, str]) -> str:
    values: dict[str, Any] = request["ExpressionAttributeValues"]
    return next(str(name)[2:] for name, v in values.items() if v == value)


def test_at_version_zero_updates_require_the_attribute_absent() -> None:
    core = make_core(SchemaVersions(current=0))
    request = core.update_request([], ["a1"], UpdateCommand(set_commands={"stars": 5}), "tok")
    names = request["ExpressionAttributeNames"]
    placeholder = next(p for p, n in names.items() if n == SCHEMA_VERSION)
    assert f"attribute_not_exists({placeholder})" in request["ConditionExpression"]


def test_an_upsert_creating_the_item_stores_the_current_version() -> None:
    command = UpdateCommand(set_commands={"first": "A", "last": "B", "stars": 1, "id": "a1"})
    request = make_core().update_request([], ["a1"], command, "tok", creating=True)
    assert SCHEMA_VERSION in names_in(request)
    assert {"N": "2"} in request["ExpressionAttributeValues"].values()


def test_without_versions_requests_are_unchanged() -> None:
    core = make_core(None)
    command = UpdateCommand(set_commands={"stars": 5})
    for request in (
        core.update_request([], ["a1"], command, "tok"),
        core.save_request(content(), None, "tok"),
        core.put_request(content(), "tok"),
    ):
        assert SCHEMA_VERSION not in names_in(request)
        assert SCHEMA_VERSION not in request.get("Item", {})


# -- migration rewrites ---------------------------------------------------------------------------


def test_a_migration_put_rewrites_the_whole_item_conditioned_on_what_was_read() -> None:
    raw = stored(0, _write_token={"S": "old"}, _object_version={"N": "7"})
    request = migration_put(make_core(), raw, "tok")
    assert request is not None
    item = request["Item"]
    assert "full_name" not in item
    assert item["last"] == {"S": "Buscemi"}
    assert item["stars"] == {"N": "4"}
    assert item[SCHEMA_VERSION] == {"N": "2"}
    assert item["_object_version"] == {"N": "7"}
    assert item["_timestamp"] == raw["_timestamp"]
    assert item["_write_token"] == {"S": "tok"}
    assert item["_prior_write_token"] == {"S": "old"}
    assert item["gsi1pk"] == {"S": "app#films#actor#by_last#Buscemi"}
    condition = request["ConditionExpression"]
    assert condition.count("attribute_not_exists") == 1  # the version (0: absent)
    assert {"S": "old"} in request["ExpressionAttributeValues"].values()


def test_a_current_item_needs_no_migration_put() -> None:
    assert migration_put(make_core(), stored(2), "tok") is None


# -- flows ----------------------------------------------------------------------------------------


def drive(flow: Generator[Any, Any, Any], answers: list[Any]) -> tuple[list[Call], Any]:
    """Run ``flow``, answering its calls in order (an exception is thrown in)."""
    calls: list[Call] = []
    try:
        step = next(flow)
        while True:
            assert isinstance(step, Call)
            calls.append(step)
            answer = answers.pop(0)
            step = flow.throw(answer) if isinstance(answer, BaseException) else flow.send(answer)
    except StopIteration as done:
        return calls, done.value


def test_an_update_on_an_old_item_migrates_it_then_applies() -> None:
    core = make_core()
    new = {**stored(2), "stars": {"N": "5"}}
    calls, result = drive(
        update_flow(core, [], ["a1"], UpdateCommand(set_commands={"stars": 5}), True),
        [failed(stored(0)), {}, {"Attributes": new}],
    )
    assert [c.operation for c in calls] == ["update_item", "put_item", "update_item"]
    assert calls[1].request["Item"][SCHEMA_VERSION] == {"N": "2"}
    assert result.item.stars == 5


def test_an_update_meeting_a_newer_version_is_refused() -> None:
    core = make_core()
    with pytest.raises(SchemaVersionError):
        drive(
            update_flow(core, [], ["a1"], UpdateCommand(set_commands={"stars": 5}), True),
            [failed(stored(3))],
        )


def test_an_update_that_keeps_meeting_old_items_gives_up_typed() -> None:
    core = make_core()
    answers: list[Any] = []
    for _ in range(5):
        answers += [failed(stored(1)), {}]
    with pytest.raises(MigrationConflictError) as raised:
        drive(
            update_flow(core, [], ["a1"], UpdateCommand(set_commands={"stars": 5}), True),
            answers,
        )
    assert raised.value.key == PLAIN_KEY


def test_a_save_over_an_old_item_migrates_it_first() -> None:
    core = make_core()
    saved = {**stored(2), "first": {"S": "A"}}
    calls, result = drive(
        save_flow(core, content(), None),
        [failed(stored(1)), {}, {"Attributes": saved}],
    )
    assert [c.operation for c in calls] == ["update_item", "put_item", "update_item"]
    assert result.item.first == "A"


def test_the_migration_dry_run_counts_items_per_stored_version() -> None:
    core = make_core()
    items = [stored(0), stored(1), stored(1), stored(2), stored(3)]
    page = ScanPage(segment=0, items=items, last_key=None, scanned=len(items))
    flow = rewrite_page_flow(
        core, SchemaMigration(core), page, retry_policy=RetryPolicy(), dry_run=True
    )
    calls, result = drive(flow, [])
    assert calls == []
    assert result.kinds == {"0": 1, "1": 2, "2": 1, "3": 1}
    assert (result.counts.updated, result.counts.already_right) == (3, 1)
    assert result.counts.undecodable == 1
    assert "SchemaVersionError" in result.undecodable[0].reason


def test_a_rewrite_meeting_its_own_token_counts_as_applied() -> None:
    core = make_core()
    page = ScanPage(segment=0, items=[stored(0)], last_key=None, scanned=1)
    flow = rewrite_page_flow(core, SchemaMigration(core), page, retry_policy=RetryPolicy())
    first = next(flow)
    assert isinstance(first, Call)
    token = first.request["Item"]["_write_token"]["S"]
    with pytest.raises(StopIteration) as done:
        flow.throw(failed({**stored(2), "_write_token": {"S": token}}))
    assert done.value.value.counts.updated == 1
    assert done.value.value.counts.changed_meanwhile == 0


def test_a_repository_without_versions_has_nothing_to_migrate() -> None:
    with pytest.raises(ValueError, match="no schema versions"):
        SchemaMigration(make_core(None))

"""Settings, the content-type registry, message parsing and the lazily created clients."""

from __future__ import annotations

import doctest
import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pydantic import BaseModel

from layer import contents
from local_stack.dynamodb_local import create_records_table
from records_service import names
from records_service.content_types import (
    CONTENT_TYPES,
    INTERNAL_PARTITION_PREFIX,
    ContentType,
    FilmActor,
    UnknownContentTypeError,
    _registry,
    content_type,
)
from records_service.ingestion import InvalidMessageError, parse_submission
from records_service.settings import ConfigurationError, Settings

ROOT = Path(__file__).resolve().parents[2]
# The folders holding the layer's first-party packages (its python/ on Lambda, bar the wheels).
LAYER_PATH = os.pathsep.join(str(root) for root in dict.fromkeys(contents.PACKAGE_ROOTS.values()))


def test_settings_read_every_variable() -> None:
    settings = Settings.from_env(
        {
            names.ENV_TABLE_NAME: "records",
            names.ENV_EVENT_BUS_NAME: "bus",
            names.ENV_DYNAMODB_ENDPOINT: "http://127.0.0.1:8000",
            names.ENV_EVENTS_ENDPOINT: "http://127.0.0.1:5000",
        }
    )

    assert settings == Settings("records", "bus", "http://127.0.0.1:8000", "http://127.0.0.1:5000")


def test_settings_name_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({names.ENV_DYNAMODB_ENDPOINT: "localhost:8000"}, require_event_bus=True)

    assert raised.value.problems == [
        f"{names.ENV_TABLE_NAME} is not set",
        f"{names.ENV_EVENT_BUS_NAME} is not set",
        f"{names.ENV_DYNAMODB_ENDPOINT}='localhost:8000' is malformed "
        r"(expected ^https?://[^\s/]+(/\S*)?$)",
    ]


def test_settings_refuse_a_malformed_table_name() -> None:
    with pytest.raises(ConfigurationError, match="RECORDS_TABLE_NAME='a b' is malformed"):
        Settings.from_env({names.ENV_TABLE_NAME: "a b"})


def test_settings_accept_a_bus_arn() -> None:
    arn = "arn:aws:events:eu-west-1:123456789012:event-bus/records"

    settings = Settings.from_env({names.ENV_TABLE_NAME: "t12", names.ENV_EVENT_BUS_NAME: arn})

    assert settings.event_bus_name == arn


def test_a_handler_without_its_configuration_fails_at_import_with_the_reason() -> None:
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", "import write_once_deduper.handler"],
        cwd=ROOT / "lambdas" / "write_once",
        env={**env, "PYTHONPATH": LAYER_PATH},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "ConfigurationError: invalid configuration: RECORDS_TABLE_NAME is not set; " in (
        result.stderr
    )


def test_the_default_registry_serves_the_seed_models() -> None:
    assert sorted(CONTENT_TYPES) == ["actor", "cast-actor", "cast-review", "review"]
    assert content_type("actor").model is FilmActor
    assert content_type("review").content_model.__name__ == "PartitionedContent[ActorReview]"


def test_an_unknown_content_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownContentTypeError) as raised:
        content_type("film")

    assert raised.value.known == ["actor", "cast-actor", "cast-review", "review"]


@pytest.mark.parametrize("name", ["Actor", "a#b", "", "a/b", "1actor"])
def test_a_content_type_name_must_be_url_and_key_safe(name: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        ContentType(name, FilmActor, partition_prefix="p", partition_name="n")


def test_a_partition_prefix_may_not_hold_the_separator() -> None:
    with pytest.raises(ValueError, match="free of '#'"):
        ContentType("x", FilmActor, partition_prefix="a#b", partition_name="n")


def test_a_registry_refuses_duplicates_and_the_internal_prefix() -> None:
    twice = ContentType("x", FilmActor, partition_prefix="p", partition_name="n")
    with pytest.raises(ValueError, match="declared twice"):
        _registry(twice, twice)
    internal = ContentType(
        "y", FilmActor, partition_prefix=INTERNAL_PARTITION_PREFIX, partition_name="n"
    )
    with pytest.raises(ValueError, match="reserved"):
        _registry(internal)


def test_a_registry_may_serve_any_model() -> None:
    class Note(BaseModel):
        text: str

    registry = _registry(ContentType("note", Note, partition_prefix="app", partition_name="note"))

    assert registry["note"].content_model(partition_ids=[], content_ids=["1"], item=Note(text="x"))


def test_a_message_may_be_an_event_or_its_bare_detail() -> None:
    detail = {
        "content_type": "actor",
        "contents": [{"partition_ids": [], "content_ids": ["a"], "item": {"id": "a", "name": "n"}}],
    }
    event = {"detail-type": "RecordsSubmitted", "source": "x", "detail": detail}

    from_event = parse_submission(json.dumps(event), "RecordsSubmitted")
    bare = parse_submission(json.dumps(detail), "RecordsSubmitted")

    assert from_event == bare
    assert bare.content_type is content_type("actor")


def test_an_event_without_a_detail_object_is_invalid() -> None:
    with pytest.raises(InvalidMessageError, match="detail is not a JSON object"):
        parse_submission(
            json.dumps({"detail-type": "RecordsSubmitted", "detail": 3}), "RecordsSubmitted"
        )


def test_importing_a_handler_does_not_import_boto3(tmp_path: Path) -> None:
    code = "import sys, batch_writer.handler, records_service.clients;print('boto3' in sys.modules)"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": LAYER_PATH,
        names.ENV_TABLE_NAME: "records",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "lambdas" / "batch_writer",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "False"


# One invocation of each handler that reaches AWS (DynamoDB; EventBridge for the deduper), in a
# fresh interpreter: then the modules it loaded are listed.
_INVOKE = """
import json, sys
from tests.service.helpers import (
    FakeLambdaContext, actor, api_event, envelope, sqs_event, sqs_record,
)
import {module} as function
kind = "{kind}"
if kind == "api":
    event = api_event("PUT", "/records/actor", body=actor("a1"))
    answer = function.handler(event, FakeLambdaContext())
    assert answer["statusCode"] == 200, answer
else:
    body = envelope("{detail_type}", {{"content_type": "actor", "contents": [actor("a1")]}})
    answer = function.handler(sqs_event(sqs_record(body)), FakeLambdaContext())
    assert answer == {{"batchItemFailures": []}}, answer
print(json.dumps(sorted(m for m in ("boto3", "botocore.client") if m in sys.modules)))
"""


@pytest.mark.parametrize(
    ("folder", "module", "kind", "detail_type"),
    [
        ("api", "records_api.handler", "api", ""),
        ("batch_writer", "batch_writer.handler", "sqs", names.DETAIL_TYPE_SUBMITTED),
        ("write_once", "write_once_deduper.handler", "sqs", names.DETAIL_TYPE_OFFERED),
    ],
)
def test_no_handler_loads_boto3_to_talk_to_aws(
    moto_server: str, folder: str, module: str, kind: str, detail_type: str
) -> None:
    import boto3

    table_name = f"records-{uuid.uuid4().hex[:12]}"
    bus_name = f"bus-{uuid.uuid4().hex[:12]}"
    create_records_table(boto3.client("dynamodb", endpoint_url=moto_server), table_name)
    boto3.client("events", endpoint_url=moto_server).create_event_bus(Name=bus_name)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{LAYER_PATH}{os.pathsep}{ROOT}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        names.ENV_TABLE_NAME: table_name,
        names.ENV_EVENT_BUS_NAME: bus_name,
        names.ENV_DYNAMODB_ENDPOINT: moto_server,
        names.ENV_EVENTS_ENDPOINT: moto_server,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    code = _INVOKE.format(module=module, kind=kind, detail_type=detail_type)

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "lambdas" / folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(
    "module",
    [
        "records_service.content_types",
        "records_service.settings",
        "records_service.ingestion",
        "records_service.sqs_batch",
        "records_service.repositories",
        "records_service.observability",
        "records_service.putevents",
        "records_api.app",
        "records_api.index_routes",
        "records_api.operations",
        "records_api.params",
        "records_api.paths",
        "records_api.query",
        "records_api.request_body",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    results = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)

    assert results.attempted > 0
    assert results.failed == 0


def test_in_lambda_the_handler_is_traced_with_x_ray() -> None:
    code = (
        "import sys, batch_writer.handler as h;"
        "from tests.service.helpers import FakeLambdaContext, sqs_event, sqs_record;"
        "print('aws_xray_sdk' in sys.modules, hasattr(h.handler, '__wrapped__'));"
        "print(h.handler(sqs_event(sqs_record('not json', 'm1')), FakeLambdaContext()))"
    )
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{LAYER_PATH}{os.pathsep}{ROOT}",
        "AWS_DEFAULT_REGION": "us-east-1",
        names.ENV_TABLE_NAME: "records",
        "AWS_LAMBDA_FUNCTION_NAME": "records-batch-writer",
        "_X_AMZN_TRACE_ID": trace,
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "lambdas" / "batch_writer",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    lines = result.stdout.strip().splitlines()
    assert lines[0] == "True True"
    assert lines[-1] == "{'batchItemFailures': [{'itemIdentifier': 'm1'}]}"

"""The four functions: handler strings, runtime, layer, logging, tracing, sizing."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra import config
from records_service import names, topology
from tests.infra.conftest import Synthesized

FUNCTION = "AWS::Lambda::Function"
# handler string -> (timeout from the shared topology, memory chosen in infra.config)
EXPECTED = {
    names.API_HANDLER: (topology.API_FUNCTION_TIMEOUT_SECONDS, config.API_MEMORY_MB),
    names.BATCH_WRITER_HANDLER: (
        topology.BATCH_WRITER.function_timeout_seconds,
        config.BATCH_WRITER_MEMORY_MB,
    ),
    names.WRITE_ONCE_HANDLER: (
        topology.WRITE_ONCE.function_timeout_seconds,
        config.WRITE_ONCE_MEMORY_MB,
    ),
    names.STREAM_CONSUMER_HANDLER: (
        topology.STREAM_CONSUMER.function_timeout_seconds,
        config.STREAM_CONSUMER_MEMORY_MB,
    ),
}


def _functions(template: Template) -> dict[str, dict[str, Any]]:
    """Function properties by handler string."""
    return {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in template.find_resources(FUNCTION).values()
    }


def test_the_four_handlers_and_nothing_else_are_deployed(template: Template) -> None:
    assert set(_functions(template)) == set(EXPECTED)


@pytest.mark.parametrize("handler", EXPECTED)
def test_timeout_and_memory_are_the_chosen_ones(template: Template, handler: str) -> None:
    props = _functions(template)[handler]
    assert (props["Timeout"], props["MemorySize"]) == EXPECTED[handler]


@pytest.mark.parametrize("handler", EXPECTED)
def test_runtime_and_architecture_match_the_layer_wheels(template: Template, handler: str) -> None:
    props = _functions(template)[handler]
    assert props["Runtime"] == f"python{config.PYTHON_VERSION}"
    assert props["Architectures"] == [config.ARCHITECTURE]


@pytest.mark.parametrize("handler", EXPECTED)
def test_every_function_uses_the_shared_layer(synthesized: Synthesized, handler: str) -> None:
    props = _functions(synthesized.template)[handler]
    assert props["Layers"] == [synthesized.resolve(synthesized.stack.layer.layer.layer_version_arn)]


def test_the_layer_matches_the_runtime_and_architecture(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {
            "CompatibleRuntimes": [f"python{config.PYTHON_VERSION}"],
            "CompatibleArchitectures": [config.ARCHITECTURE],
        },
    )


@pytest.mark.parametrize("handler", EXPECTED)
def test_logs_are_json_into_an_own_log_group_with_retention(
    template: Template, handler: str
) -> None:
    logging = _functions(template)[handler]["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    group_id = logging["LogGroup"]["Ref"]
    group = template.find_resources("AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] == config.LOG_RETENTION_DAYS


def test_log_groups_are_not_shared(template: Template) -> None:
    groups = [props["LoggingConfig"]["LogGroup"]["Ref"] for props in _functions(template).values()]
    assert len(set(groups)) == len(groups)


@pytest.mark.parametrize("handler", EXPECTED)
def test_tracing_is_active(template: Template, handler: str) -> None:
    assert _functions(template)[handler]["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("handler", EXPECTED)
def test_powertools_names_are_set_and_local_endpoints_are_not(
    template: Template, handler: str
) -> None:
    variables = _functions(template)[handler]["Environment"]["Variables"]
    assert variables[names.ENV_POWERTOOLS_SERVICE_NAME] == names.SERVICE_NAME
    assert variables[names.ENV_POWERTOOLS_METRICS_NAMESPACE] == names.METRICS_NAMESPACE
    assert names.ENV_DYNAMODB_ENDPOINT not in variables
    assert names.ENV_EVENTS_ENDPOINT not in variables

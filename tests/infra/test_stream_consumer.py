"""The stream consumer: the table's stream -> function (partial failures, bisect, retries, max
age, on-failure queue) -> RecordsChanged on the bus, as ``topology.STREAM_CONSUMER`` says."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from infra import config
from records_service import names, topology
from tests.infra.conftest import Synthesized

ROUTE = topology.STREAM_CONSUMER


def _mapping(synthesized: Synthesized) -> dict[str, Any]:
    mapping: dict[str, Any]
    (mapping,) = [
        resource["Properties"]
        for resource in synthesized.template.find_resources(
            "AWS::Lambda::EventSourceMapping"
        ).values()
        if resource["Properties"]["EventSourceArn"]
        == synthesized.resolve(synthesized.stack.table.table_stream_arn)
    ]
    return mapping


def test_the_table_streams_new_and_old_images(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}},
    )
    assert names.TABLE_STREAM_VIEW_TYPE == "NEW_AND_OLD_IMAGES"


def test_the_stream_drives_the_consumer_with_partial_batch_failures(
    synthesized: Synthesized,
) -> None:
    mapping = _mapping(synthesized)

    assert mapping["FunctionName"] == synthesized.resolve(
        synthesized.stack.stream_consumer.handler.function.function_name
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BatchSize"] == ROUTE.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == ROUTE.max_batching_window_seconds


def test_a_failing_batch_is_bisected_retried_a_bounded_time_then_given_up(
    synthesized: Synthesized,
) -> None:
    mapping = _mapping(synthesized)

    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == ROUTE.max_retry_attempts == 8
    assert mapping["MaximumRecordAgeInSeconds"] == ROUTE.max_record_age_seconds
    # Within Lambda's range, and well inside the 24 hours the stream keeps records for.
    assert 60 <= ROUTE.max_record_age_seconds <= 12 * 3600


def test_batches_given_up_go_to_the_on_failure_queue(synthesized: Synthesized) -> None:
    consumer = synthesized.stack.stream_consumer
    assert _mapping(synthesized)["DestinationConfig"] == {
        "OnFailure": {"Destination": synthesized.resolve(consumer.dlq.queue_arn)}
    }
    queue_id = synthesized.resolve(consumer.dlq.queue_url)["Ref"]
    queue = synthesized.template_json["Resources"][queue_id]["Properties"]
    assert queue["MessageRetentionPeriod"] == config.DLQ_RETENTION_DAYS * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True


def test_the_consumer_knows_its_table_and_the_bus(synthesized: Synthesized) -> None:
    consumer = synthesized.stack.stream_consumer
    function_id = synthesized.resolve(consumer.handler.function.function_name)["Ref"]
    props = synthesized.template_json["Resources"][function_id]["Properties"]
    assert props["Handler"] == names.STREAM_CONSUMER_HANDLER
    assert props["Environment"]["Variables"][names.ENV_EVENT_BUS_NAME] == synthesized.resolve(
        synthesized.stack.ingestion.bus.event_bus_name
    )
    assert props["Environment"]["Variables"][names.ENV_TABLE_NAME] == synthesized.resolve(
        synthesized.stack.table.table_name
    )


def test_no_rule_feeds_the_changes_back_into_ingestion(template: Template) -> None:
    patterns = [
        rule["Properties"]["EventPattern"]
        for rule in template.find_resources("AWS::Events::Rule").values()
    ]
    matched = {detail_type for pattern in patterns for detail_type in pattern["detail-type"]}
    assert names.DETAIL_TYPE_CHANGED not in matched

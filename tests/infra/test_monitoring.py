"""Alarms: every dead-letter queue and every function, the stream consumer's lag and undecodable
records, all notifying the alarm topic."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from infra import config
from records_service import names
from tests.infra.conftest import Synthesized


def _alarms(template: Template) -> list[dict[str, Any]]:
    return [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]


def _watched(alarm: dict[str, Any], dimension: str) -> Any:
    (value,) = [d["Value"] for d in alarm["Dimensions"] if d["Name"] == dimension]
    return value


def test_every_dead_letter_queue_has_a_depth_alarm(synthesized: Synthesized) -> None:
    ingestion = synthesized.stack.ingestion
    dlqs = [worker.dlq for worker in ingestion.workers] + [ingestion.delivery_dlq]
    dlqs.append(synthesized.stack.stream_consumer.dlq)
    depth_alarms = [
        alarm
        for alarm in _alarms(synthesized.template)
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    ]
    watched = [_watched(alarm, "QueueName") for alarm in depth_alarms]
    assert sorted(map(str, watched)) == sorted(
        str(synthesized.resolve(dlq.queue_name)) for dlq in dlqs
    )
    for alarm in depth_alarms:
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_every_function_has_an_error_alarm(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    functions = [stack.api.handler] + [worker.handler for worker in stack.ingestion.workers]
    functions.append(stack.stream_consumer.handler)
    error_alarms = [
        alarm for alarm in _alarms(synthesized.template) if alarm["MetricName"] == "Errors"
    ]
    watched = [_watched(alarm, "FunctionName") for alarm in error_alarms]
    assert sorted(map(str, watched)) == sorted(
        str(synthesized.resolve(f.function.function_name)) for f in functions
    )
    for alarm in error_alarms:
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Threshold"] == 1


def test_every_alarm_notifies_the_alarm_topic(synthesized: Synthesized) -> None:
    topic = synthesized.resolve(synthesized.stack.monitoring.topic.topic_arn)
    alarms = _alarms(synthesized.template)
    assert alarms
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_api_answering_server_errors_raises_an_alarm(synthesized: Synthesized) -> None:
    (alarm,) = [a for a in _alarms(synthesized.template) if a["MetricName"] == "5XXError"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert _watched(alarm, "ApiName") == synthesized.resolve(
        synthesized.stack.api.rest_api.rest_api_name
    )
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 1


def test_deferred_announcements_raise_an_alarm(synthesized: Synthesized) -> None:
    (alarm,) = [
        a
        for a in _alarms(synthesized.template)
        if a["MetricName"] == names.METRIC_ANNOUNCEMENTS_DEFERRED
    ]
    assert alarm["Namespace"] == names.METRICS_NAMESPACE
    assert _watched(alarm, "service") == names.SERVICE_NAME
    assert alarm["Threshold"] == 1


def test_the_stream_consumer_falling_behind_its_stream_raises_an_alarm(
    synthesized: Synthesized,
) -> None:
    (alarm,) = [a for a in _alarms(synthesized.template) if a["MetricName"] == "IteratorAge"]
    assert alarm["Namespace"] == "AWS/Lambda"
    assert _watched(alarm, "FunctionName") == synthesized.resolve(
        synthesized.stack.stream_consumer.handler.function.function_name
    )
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == config.ITERATOR_AGE_ALARM_SECONDS * 1000  # milliseconds
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_undecodable_stream_records_raise_an_alarm(synthesized: Synthesized) -> None:
    (alarm,) = [
        a
        for a in _alarms(synthesized.template)
        if a["MetricName"] == names.METRIC_UNDECODABLE_CHANGES
    ]
    assert alarm["Namespace"] == names.METRICS_NAMESPACE
    assert _watched(alarm, "service") == names.SERVICE_NAME
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 1

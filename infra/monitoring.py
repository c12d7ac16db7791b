"""Alarms, all sent to one topic: a message in any dead-letter queue, an error in any function,
server errors the API answered, write-once announcements deferred after failed PutEvents, a
stream consumer falling behind its stream, and stream records it could not decode."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import config
from records_service import names


class Monitoring(Construct):
    """One alarm per dead-letter queue (depth >= 1) and per function (errors >= 1).

    Both mean a record was not stored and a person should look: a DLQ message is a record that
    failed ``maxReceiveCount`` times (or an event EventBridge could not deliver); a function
    error is an invocation that crashed or timed out. Each of ``stream_functions`` also alarms
    when its iterator age (the age of the newest record it read) passes
    ``config.ITERATOR_AGE_ALARM_SECONDS``: it is retrying a batch, or cannot keep up. Alarms
    notify ``topic``; subscribe to it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_queues: Sequence[tuple[str, sqs.IQueue]],
        functions: Sequence[tuple[str, lambda_.IFunction]],
        rest_api: apigw.RestApi,
        stream_functions: Sequence[tuple[str, lambda_.IFunction]] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic()
        self.alarms = [
            *(self._dlq_alarm(name, queue) for name, queue in dead_letter_queues),
            *(self._error_alarm(name, function) for name, function in functions),
            self._api_server_error_alarm(rest_api),
            self._service_metric_alarm(
                names.METRIC_ANNOUNCEMENTS_DEFERRED,
                "AnnouncementsDeferred",
                # Written contents whose RecordsWritten event could not be published yet (kept
                # as markers and retried on redelivery): downstream is behind until they go out.
                "Write-once announcements are deferred",
            ),
            *(self._iterator_age_alarm(name, function) for name, function in stream_functions),
        ]
        if stream_functions:
            self.alarms.append(
                self._service_metric_alarm(
                    names.METRIC_UNDECODABLE_CHANGES,
                    "UndecodableChanges",
                    # Logged with their keys and skipped (retrying cannot decode them): a model
                    # no longer reads what the table holds.
                    "Stream records could not be decoded as their content type",
                )
            )

    def _topic(self) -> sns.Topic:
        return sns.Topic(
            self, "AlarmTopic", display_name="Records service alarms", enforce_ssl=True
        )

    def _period(self) -> Duration:
        return Duration.minutes(config.ALARM_PERIOD_MINUTES)

    def _notify(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        return alarm

    def _at_least_one(
        self, metric: cloudwatch.Metric, alarm_id: str, what: str
    ) -> cloudwatch.Alarm:
        """An alarm when ``metric`` reaches 1 within one period, notifying the topic."""
        return self._notify(
            metric.create_alarm(
                self,
                alarm_id,
                alarm_description=what,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _dlq_alarm(self, name: str, queue: sqs.IQueue) -> cloudwatch.Alarm:
        metric = queue.metric_approximate_number_of_messages_visible(
            period=self._period(), statistic=cloudwatch.Stats.MAXIMUM
        )
        return self._at_least_one(
            metric, f"{name}DeadLetters", f"Messages are waiting in the {name} dead-letter queue"
        )

    def _error_alarm(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        metric = function.metric_errors(period=self._period(), statistic=cloudwatch.Stats.SUM)
        return self._at_least_one(
            metric, f"{name}Errors", f"The {name} function failed (error or timeout)"
        )

    def _api_server_error_alarm(self, rest_api: apigw.RestApi) -> cloudwatch.Alarm:
        # A 5xx the function answered itself (a fault it caught) is no Lambda error: watch the
        # API's own count too.
        metric = rest_api.metric_server_error(period=self._period(), statistic=cloudwatch.Stats.SUM)
        return self._at_least_one(metric, "ApiServerErrors", "The API answered 5xx responses")

    def _service_metric_alarm(self, metric_name: str, alarm_id: str, what: str) -> cloudwatch.Alarm:
        """An alarm when the service's own (EMF) count ``metric_name`` reaches 1 in a period."""
        metric = cloudwatch.Metric(
            namespace=names.METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"service": names.SERVICE_NAME},
            period=self._period(),
            statistic=cloudwatch.Stats.SUM,
        )
        return self._at_least_one(metric, alarm_id, what)

    def _iterator_age_alarm(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        metric = function.metric(
            "IteratorAge", period=self._period(), statistic=cloudwatch.Stats.MAXIMUM
        )
        return self._notify(
            metric.create_alarm(
                self,
                f"{name}IteratorAge",
                alarm_description=(
                    f"The {name} function is more than {config.ITERATOR_AGE_ALARM_SECONDS} s "
                    "behind its stream"
                ),
                threshold=config.ITERATOR_AGE_ALARM_SECONDS * 1000,  # the metric is in ms
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

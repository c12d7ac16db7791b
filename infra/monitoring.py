"""Alarms: a message in any dead-letter queue, an error in any function, sent to one topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import config


class Monitoring(Construct):
    """One alarm per dead-letter queue (depth >= 1) and per function (errors >= 1).

    Both mean a record was not stored and a person should look: a DLQ message is a record that
    failed ``maxReceiveCount`` times (or an event EventBridge could not deliver); a function
    error is an invocation that crashed or timed out. Alarms notify ``topic``; subscribe to it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_queues: Sequence[tuple[str, sqs.IQueue]],
        functions: Sequence[tuple[str, lambda_.IFunction]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic()
        self.alarms = [
            *(self._dlq_alarm(name, queue) for name, queue in dead_letter_queues),
            *(self._error_alarm(name, function) for name, function in functions),
        ]

    def _topic(self) -> sns.Topic:
        return sns.Topic(
            self, "AlarmTopic", display_name="Records service alarms", enforce_ssl=True
        )

    def _period(self) -> Duration:
        return Duration.minutes(config.ALARM_PERIOD_MINUTES)

    def _notify(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        return alarm

    def _dlq_alarm(self, name: str, queue: sqs.IQueue) -> cloudwatch.Alarm:
        metric = queue.metric_approximate_number_of_messages_visible(
            period=self._period(), statistic=cloudwatch.Stats.MAXIMUM
        )
        return self._notify(
            metric.create_alarm(
                self,
                f"{name}DeadLetters",
                alarm_description=f"Messages are waiting in the {name} dead-letter queue",
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _error_alarm(self, name: str, function: lambda_.IFunction) -> cloudwatch.Alarm:
        metric = function.metric_errors(period=self._period(), statistic=cloudwatch.Stats.SUM)
        return self._notify(
            metric.create_alarm(
                self,
                f"{name}Errors",
                alarm_description=f"The {name} function failed (error or timeout)",
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

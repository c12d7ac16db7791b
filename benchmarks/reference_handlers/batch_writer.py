"""The SQS batch writer as the Powertools docs write one: the benchmark's reference.

``BatchProcessor`` with a Pydantic record model (the body parsed as JSON into the submission,
as the batch docs' "Processing messages from SQS" with ``model=`` do), one record handler per
message writing that message's contents with boto3's ``batch_write_item``, and the partial
batch response. The message body is the service's bare submission
(``{"content_type": "actor", "contents": [...]}``) and the items are the service's.
Handler: ``reference_handlers.batch_writer.handler``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Json

from .table import ActorIn, item_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["Submission", "SubmissionRecord", "handler", "record_handler"]

TABLE_NAME = os.environ["RECORDS_TABLE_NAME"]
dynamodb: DynamoDBClient = boto3.client("dynamodb")
logger = Logger()
tracer = Tracer()
metrics = Metrics()


class Submission(BaseModel):
    """Contents of one content type, as a message carries them."""

    model_config = ConfigDict(extra="forbid")

    content_type: Literal["actor"]
    contents: list[ActorIn]


class SubmissionRecord(SqsRecordModel):
    """An SQS record whose body is a submission."""

    body: Json[Submission]


processor = BatchProcessor(event_type=EventType.SQS, model=SubmissionRecord)


class NotWrittenError(RuntimeError):
    """DynamoDB left some of a message's contents unwritten."""


@tracer.capture_method
def record_handler(record: SubmissionRecord) -> None:
    """Write one message's contents (one BatchWriteItem: a message holds at most 25)."""
    contents = record.body.contents
    requests: list[Any] = [{"PutRequest": {"Item": item_of(content)}} for content in contents]
    response = dynamodb.batch_write_item(RequestItems={TABLE_NAME: requests})
    if response.get("UnprocessedItems"):
        raise NotWrittenError(f"message {record.messageId}: some contents were not written")
    metrics.add_metric(name="RecordsWritten", unit=MetricUnit.Count, value=len(contents))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Write one SQS batch; answer ``{"batchItemFailures": [...]}``."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

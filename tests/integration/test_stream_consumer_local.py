"""The stream consumer over a real stream: DynamoDB Local's, read with the dynamodbstreams client.

Contents are put, updated and deleted through the library; the stream's records (as the local
stack's poller shapes them into Lambda's format) go through the consumer, and the RecordsChanged
events land on moto's bus. DynamoDB Local never expires items within a test, so a TTL removal
is simulated: the delete's own record, with the identity DynamoDB's TTL gives its removals.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local_stack.dynamodb_local import DynamoDBLocal
from local_stack.resources import enable_stream
from local_stack.stream_source import lambda_stream_record
from pydantic_dynamo import PartitionedContent, UpdateCommand
from pydantic_dynamo.streams import TTL_IDENTITY
from records_service import clients, names
from records_service.content_types import FilmActor, content_type
from records_service.repositories import Repositories
from records_service.settings import Settings
from stream_consumer.app import build_handler
from tests.service.helpers import FakeLambdaContext, Handler

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_events() -> Iterator[str]:
    """moto's EventBridge and SQS on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class Changes:
    """The bus and a queue catching its RecordsChanged events."""

    def __init__(self, endpoint: str) -> None:
        self.bus_name = f"records-{uuid.uuid4().hex[:8]}"
        events = boto3.client("events", endpoint_url=endpoint, region_name=REGION)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)
        events.create_event_bus(Name=self.bus_name)
        self.url = self.sqs.create_queue(QueueName=self.bus_name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        pattern = {"source": [names.EVENT_SOURCE], "detail-type": [names.DETAIL_TYPE_CHANGED]}
        events.put_rule(Name="c", EventBusName=self.bus_name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule="c", EventBusName=self.bus_name, Targets=[{"Id": "q", "Arn": arn}])

    def details(self) -> list[dict[str, Any]]:
        """The details of the events caught so far, in arrival order."""
        found: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.append(json.loads(message["Body"])["detail"])
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return found


def _stream_records(
    dynamodb_local: DynamoDBLocal, stream_arn: str, expected: int
) -> list[dict[str, Any]]:
    """Every record of the stream, in Lambda's format, once ``expected`` of them are there."""
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=dynamodb_local.endpoint_url, region_name=REGION
    )
    deadline = time.monotonic() + 30
    while True:
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            response = streams.get_records(ShardIterator=iterator)
            records.extend(lambda_stream_record(r, stream_arn) for r in response["Records"])
        if len(records) >= expected or time.monotonic() > deadline:
            assert len(records) == expected, [r["eventName"] for r in records]
            return records
        time.sleep(0.2)


def test_put_update_delete_and_an_expiry_reach_the_bus_as_records_changed(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    table_name: str,
    moto_events: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream_arn = enable_stream(dynamodb_client, table_name)
    changes = Changes(moto_events)
    settings = Settings(
        table_name=table_name, event_bus_name=changes.bus_name, events_endpoint=moto_events
    )
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    clients.clear_clients()
    actors = Repositories(settings, client=lambda: dynamodb_client).for_type(content_type("actor"))

    actors.save(
        PartitionedContent[FilmActor](
            partition_ids=[], content_ids=["a1"], item=FilmActor(id="a1", name="Steve Buscemi")
        )
    )
    actors.update(None, ["a1"], UpdateCommand(set_commands={"review": "great"}))
    actors.delete_item(None, ["a1"])
    records = _stream_records(dynamodb_local, stream_arn, expected=3)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    expired = {**records[2], "eventID": uuid.uuid4().hex, "userIdentity": dict(TTL_IDENTITY)}
    expired["dynamodb"] = {**records[2]["dynamodb"], "SequenceNumber": "9" * 21}

    consumer: Handler = build_handler(settings)
    response = consumer({"Records": [*records, expired]}, FakeLambdaContext())

    clients.clear_clients()
    assert response == {"batchItemFailures": []}
    details = changes.details()
    assert [(d["change"], d["version"]) for d in details] == [
        ("inserted", 1),
        ("modified", 2),
        ("removed", 2),
        ("expired", 2),
    ]
    assert details[0]["new"]["item"] == {"id": "a1", "name": "Steve Buscemi", "review": None}
    assert (details[1]["old"]["item"]["review"], details[1]["new"]["item"]["review"]) == (
        None,
        "great",
    )
    assert details[2]["old"]["item"]["review"] == "great"
    assert all(d["content_ids"] == ["a1"] and d["content_type"] == "actor" for d in details)
    assert [d["sequence_number"] for d in details] == [
        *(r["dynamodb"]["SequenceNumber"] for r in records),
        "9" * 21,
    ]

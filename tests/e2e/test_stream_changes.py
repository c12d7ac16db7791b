"""Table changes end to end, and the local stream poller's rules.

Through the stack (moto's DynamoDB, and DynamoDB Local with ``--dynamodb-local``): a PUT,
PATCH and DELETE through the API reach the bus as RecordsChanged events, caught by a capture
rule as a downstream consumer would. Then the poller alone, in front of a stand-in function
(``test_gateway_and_poller_rules`` writes those), against moto's stream: partial batch
failures retried from the first failed record, bisection, giving up into the on-failure queue
after the retries or past the record age, and Lambda's record format.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from moto import mock_aws

from local_stack import aws
from local_stack.stream_source import DynamoDBStreamEventSource
from pydantic_dynamo.table import create_table
from records_service import names, topology
from tests.e2e.conftest import ApiClient, drain, wait_for
from tests.e2e.stack_process import RunningStack, start_stack
from tests.e2e.test_gateway_and_poller_rules import _function

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

CHANGE_TIMEOUT_SECONDS = 60.0

# -- through the stack ------------------------------------------------------------------------


@pytest.fixture(
    scope="module",
    params=["moto", pytest.param("dynamodb-local", marks=pytest.mark.integration)],
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    """The session's stack (moto's DynamoDB), or one of this module's on DynamoDB Local."""
    if request.param == "moto":
        yield request.getfixturevalue("local_stack")
        return
    started = start_stack(tmp_path_factory.mktemp("stack-dynamodb-local"), "--dynamodb-local")
    yield started
    code = started.stop()
    assert code == 0, f"the stack exited with {code} on SIGTERM\n{started.output()}"


@pytest.fixture(scope="module")
def capture(stack: RunningStack) -> Iterator[tuple[SQSClient, str]]:
    """A queue receiving every RecordsChanged event of the stack's bus."""
    sqs, events = aws.sqs_client(stack.aws_url), aws.events_client(stack.aws_url)
    name = f"changed-capture-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = {"source": [names.EVENT_SOURCE], "detail-type": [names.DETAIL_TYPE_CHANGED]}
    events.put_rule(Name=name, EventBusName=stack.bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=stack.bus_name, Targets=[{"Id": "c", "Arn": arn}])
    yield sqs, url
    events.remove_targets(Rule=name, EventBusName=stack.bus_name, Ids=["c"])
    events.delete_rule(Name=name, EventBusName=stack.bus_name)


def test_api_writes_reach_the_bus_as_records_changed(
    stack: RunningStack, capture: tuple[SQSClient, str]
) -> None:
    actor_id = f"streamed-{uuid.uuid4().hex[:8]}"
    item = {"id": actor_id, "name": "Frances McDormand", "review": None}
    with requests.Session() as session:
        api = ApiClient(stack.api_url, session)
        put = api.request(
            "PUT",
            "/records/actor",
            json={"partition_ids": [], "content_ids": [actor_id], "item": item},
        )
        assert put.status_code == 200, put.text
        patch = api.request(
            "PATCH",
            "/records/actor/item",
            params={"content_id": actor_id},
            headers={"If-Match": "1"},
            json={"set_commands": {"review": "Unforgettable in Fargo"}},
        )
        assert patch.status_code == 200, patch.text
        deleted = api.request("DELETE", "/records/actor/item", params={"content_id": actor_id})
        assert deleted.status_code == 204, deleted.text

    seen: list[dict[str, Any]] = []

    def arrived() -> bool | None:
        for body in drain(*capture, quiet_seconds=0.5):
            detail = json.loads(body)["detail"]
            if detail["content_ids"] == [actor_id]:
                seen.append(detail)
        return True if len(seen) >= 3 else None

    wait_for(arrived, timeout=CHANGE_TIMEOUT_SECONDS, what="three RecordsChanged events")
    assert [(d["change"], d["version"]) for d in seen] == [
        ("inserted", 1),
        ("modified", 2),
        ("removed", 2),
    ]
    assert seen[0]["new"]["item"] == item
    assert seen[1]["new"]["item"]["review"] == "Unforgettable in Fargo"
    assert seen[2]["old"]["item"]["review"] == "Unforgettable in Fargo"


def test_the_stack_prints_the_changes_in_its_bus_log(stack: RunningStack) -> None:
    def printed() -> bool | None:
        return True if "RecordsChanged actor inserted" in stack.output(limit=200_000) else None

    wait_for(printed, timeout=CHANGE_TIMEOUT_SECONDS, what="a RecordsChanged line in the bus log")
    assert stack.info["stream_arn"]
    assert stack.info["import_seconds"][topology.STREAM_CONSUMER.name] is not None


# -- the poller alone ---------------------------------------------------------------------------

STAND_IN_STREAM = """
CALLS = []
EVENTS = []
FAILURES = {}

def handler(event, context):
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    CALLS.append(sequences)
    EVENTS.append(event)
    images = {r["dynamodb"]["SequenceNumber"]: r["dynamodb"].get("NewImage", {})
              for r in event["Records"]}
    if any("raise" in image for image in images.values()):
        raise RuntimeError("the whole batch fails")
    failed = []
    for sequence, image in images.items():
        allowed = int(image.get("fail_times", {"N": "0"})["N"])
        if FAILURES.get(sequence, 0) < allowed:
            FAILURES[sequence] = FAILURES.get(sequence, 0) + 1
            failed.append({"itemIdentifier": sequence})
    return {"batchItemFailures": failed}

def build_handler(settings):
    return handler
"""


class Poller:
    """The stream poller over moto's (mocked) table stream, and what its function saw."""

    def __init__(self, tmp_path: Path, clock: Callable[[], float] = time.time) -> None:
        self.dynamodb = aws.dynamodb_client("https://dynamodb.us-east-1.amazonaws.com")
        self.sqs = aws.sqs_client("https://sqs.us-east-1.amazonaws.com")
        create_table(self.dynamodb, "records", names.TABLE)
        stream = self.dynamodb.update_table(
            TableName="records",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        self.dlq_url = self.sqs.create_queue(QueueName="stream-dlq")["QueueUrl"]
        module = f"stand_in_stream_{uuid.uuid4().hex[:8]}"
        self.function = _function(tmp_path / "stream", module, STAND_IN_STREAM, timeout=5)
        self.function.load()
        self.module = sys.modules[module]
        self.source = DynamoDBStreamEventSource(
            route=topology.STREAM_CONSUMER,
            function=self.function,
            streams=aws.dynamodbstreams_client("https://streams.dynamodb.us-east-1.amazonaws.com"),
            sqs=self.sqs,
            stream_arn=stream,
            on_failure_queue_url=self.dlq_url,
            retry_delay_seconds=0,
            clock=clock,
            shard_refresh_seconds=0,  # every poll: the tests need not wait
        )

    def put(self, key: str, **attributes: dict[str, Any]) -> None:
        item = {names.PARTITION_KEY: {"S": "p"}, names.SORT_KEY: {"S": key}, **attributes}
        self.dynamodb.put_item(TableName="records", Item=item)

    def calls(self) -> list[list[int]]:
        """Each invocation's records, as positions in the stream (0 = the first put)."""
        first = min(int(s) for call in self.module.CALLS for s in call)
        return [[int(s) - first for s in call] for call in self.module.CALLS]

    def given_up(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in drain(self.sqs, self.dlq_url, quiet_seconds=0.1)]


@pytest.fixture
def poller(tmp_path: Path) -> Iterator[Poller]:
    with mock_aws():
        yield Poller(tmp_path)


def test_records_arrive_in_lambdas_stream_format(poller: Poller) -> None:
    poller.put("a", photo={"B": b"\x00\xff"})

    assert poller.source.poll_once() == 1

    ((record,),) = [event["Records"] for event in poller.module.EVENTS]
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == poller.source.stream_arn
    stream = record["dynamodb"]
    assert isinstance(stream["ApproximateCreationDateTime"], float)  # epoch seconds, as Lambda
    assert stream["NewImage"]["photo"] == {"B": "AP8="}  # base64, as in Lambda's JSON
    assert stream["Keys"] == {names.PARTITION_KEY: {"S": "p"}, names.SORT_KEY: {"S": "a"}}
    assert poller.source.poll_once() == 0  # read once: the shard moved on


def test_changes_after_a_failed_transaction_are_still_read(poller: Poller) -> None:
    from botocore.exceptions import ClientError

    poller.put("a")
    assert poller.source.poll_once() == 1
    key = {names.PARTITION_KEY: {"S": "p"}, names.SORT_KEY: {"S": "a"}}
    with pytest.raises(ClientError, match="TransactionCanceled"):
        poller.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": "records",
                        "Key": key,
                        "ConditionExpression": "attribute_not_exists(#k)",
                        "ExpressionAttributeNames": {"#k": names.PARTITION_KEY},
                    }
                }
            ]
        )
    poller.put("b")

    assert poller.source.poll_once() == 1  # moto restored a copy of the table: still read
    assert poller.calls() == [[0], [1]]


def test_records_before_the_first_failed_one_are_done_and_the_rest_retried_halved(
    poller: Poller,
) -> None:
    for key in "abcd":
        attributes = {"fail_times": {"N": "1"}} if key == "b" else {}
        poller.put(key, **attributes)

    assert poller.source.poll_once() == 4

    # b failed once: a is done; b, c, d are retried, halved: [b], then [c, d].
    assert poller.calls() == [[0, 1, 2, 3], [1], [2, 3]]
    assert poller.given_up() == []


def test_a_record_that_keeps_failing_is_isolated_then_described_in_the_on_failure_queue(
    poller: Poller,
) -> None:
    for key in "abcd":
        attributes = {"fail_times": {"N": "99"}} if key == "c" else {}
        poller.put(key, **attributes)

    poller.source.poll_once()

    route = topology.STREAM_CONSUMER
    # c fails: a and b are done; [c, d] is halved; c is retried alone until the retries run
    # out (d waits behind it: a shard is read in order), then d goes through.
    assert poller.calls() == [[0, 1, 2, 3], *[[2]] * route.max_retry_attempts, [3]]
    (description,) = poller.given_up()
    info = description["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert int(info["startSequenceNumber"]) - int(poller.module.CALLS[0][0]) == 2
    assert info["batchSize"] == 1
    assert info["streamArn"] == poller.source.stream_arn
    assert description["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert description["requestContext"]["approximateInvokeCount"] == route.max_retry_attempts + 1
    assert poller.source.stats.given_up == 1


def test_a_function_that_raises_fails_the_whole_batch_until_the_culprit_is_alone(
    poller: Poller,
) -> None:
    poller.put("a")
    poller.put("b", **{"raise": {"BOOL": True}})

    poller.source.poll_once()

    calls = poller.calls()
    assert calls[:3] == [[0, 1], [0], [1]]
    assert poller.source.stats.whole_batch_failures == len(calls) - 1
    (description,) = poller.given_up()
    assert description["DDBStreamBatchInfo"]["batchSize"] == 1


def test_records_past_the_maximum_age_are_given_up_without_an_invocation(
    tmp_path: Path,
) -> None:
    max_age = topology.STREAM_CONSUMER.max_record_age_seconds
    with mock_aws():
        poller = Poller(tmp_path, clock=lambda: time.time() + max_age + 60)
        poller.put("a")

        poller.source.poll_once()

        assert poller.module.CALLS == []
        (description,) = poller.given_up()
    assert description["requestContext"]["condition"] == "RecordAgeExceeded"

"""Helpers of the handler tests: Lambda events and contexts, and sample contents."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from records_service import clients, names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from records_service.repositories import Repositories

REGION = "us-east-1"
BUS_NAME = "records-test-bus"

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class FakeLambdaContext:
    """The parts of a Lambda context that Powertools and the handlers read."""

    function_name: str = "records-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:records-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_millis: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left in the invocation."""
        return self.remaining_millis


@dataclass
class ServiceEnv:
    """The AWS side of one test: table, bus and a queue catching announced events.

    ``dynamodb`` and ``sqs`` are the test's own (boto3) clients. The handlers get theirs from
    :meth:`dynamodb_client` and :meth:`events_client`: the service's lean clients, unless a test
    put a client of its own in ``dynamodb_override`` / ``events_override`` before the handler's
    first call.
    """

    backend: str
    table_name: str
    dynamodb: DynamoDBClient
    sqs: SQSClient
    announced_queue_url: str
    dynamodb_override: Any = None
    events_override: Any = None

    def dynamodb_client(self) -> Any:
        """The DynamoDB client the handlers use."""
        return self.dynamodb_override or clients.dynamodb_client()

    def events_client(self) -> Any:
        """The EventBridge client the deduper uses."""
        return self.events_override or clients.events_client()

    def announced(self) -> list[dict[str, Any]]:
        """Every ``RecordsWritten`` event delivered so far (drains the catching queue)."""
        events: list[dict[str, Any]] = []
        while True:
            received = self.sqs.receive_message(
                QueueUrl=self.announced_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = received.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.announced_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


# -- API Gateway REST events ---------------------------------------------------------------------


@dataclass
class ApiAnswer:
    """An API Gateway proxy response, decoded."""

    status: int
    headers: dict[str, str]
    raw_body: str

    @property
    def body(self) -> Any:
        """The JSON body."""
        return json.loads(self.raw_body)


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: Mapping[str, str | Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as Lambda receives it."""
    multi_query = {k: [v] if isinstance(v, str) else list(v) for k, v in (query or {}).items()}
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    raw_body = body if body is None or isinstance(body, str) else json.dumps(body)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "prod",
            "path": f"/prod{path}",
            "httpMethod": method,
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


@dataclass
class Function:
    """A queue function's handler, built by its factory, and the repositories it writes with."""

    handler: Handler
    repositories: Repositories


class Api:
    """Calls the API handler the way API Gateway does."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def __call__(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, str | Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiAnswer:
        """Send one request; the decoded answer."""
        event = api_event(method, path, body=body, query=query, headers=headers)
        result = self.handler(event, FakeLambdaContext())
        multi = result.get("multiValueHeaders") or {}
        flat = {k: v[0] for k, v in multi.items() if v}
        flat.update(result.get("headers") or {})
        return ApiAnswer(result["statusCode"], flat, result.get("body") or "")


# -- SQS events ----------------------------------------------------------------------------------


def sqs_record(body: str | Mapping[str, Any], message_id: str | None = None) -> dict[str, Any]:
    """One SQS record of a Lambda event (a dict body is sent as JSON)."""
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "sender",
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:ingest",
        "awsRegion": REGION,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    """A Lambda SQS event."""
    return {"Records": list(records)}


def envelope(detail_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """An EventBridge event as the rule delivers it to the queue."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": names.EVENT_SOURCE,
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": dict(detail),
    }


def actor(actor_id: str, name: str = "Steve Buscemi", **extra: Any) -> dict[str, Any]:
    """An actor content as JSON."""
    return {
        "partition_ids": [],
        "content_ids": [actor_id],
        "item": {"id": actor_id, "name": name, **extra},
    }


def review(
    actor_id: str, created: str, text: str = "great", review_id: str = "r"
) -> dict[str, Any]:
    """A review content as JSON."""
    return {
        "partition_ids": [actor_id],
        "content_ids": [created],
        "item": {"id": review_id, "actor_id": actor_id, "created": created, "review": text},
    }


def failed_ids(response: Mapping[str, Any]) -> set[str]:
    """The message ids a partial batch response reports as failed."""
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


# -- DynamoDB clients that misbehave on purpose ----------------------------------------------


def client_error(code: str, operation: str, message: str = "refused on purpose") -> Exception:
    """A botocore ``ClientError`` with ``code``, as DynamoDB's answer would raise it."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class WrappedClient:
    """A real DynamoDB client with some operations replaced (``overrides``: name -> function).

    Each override is called with the real client and the operation's keyword arguments.
    """

    def __init__(self, real: Any, **overrides: Any) -> None:
        self._real = real
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        override = self._overrides.get(name)
        if override is None:
            return getattr(self._real, name)
        return lambda **kwargs: override(self._real, **kwargs)


def sort_keys_of(request_items: Mapping[str, Any]) -> list[str]:
    """The sort-key values a BatchWriteItem or BatchGetItem request names."""
    values: list[str] = []
    for spec in request_items.values():
        entries = spec["Keys"] if isinstance(spec, Mapping) else spec
        for entry in entries:
            item = entry.get("PutRequest", {}).get("Item") or entry
            values.append(item[names.SORT_KEY]["S"])
    return values


# -- handlers, built by their factories --------------------------------------------------------


def _repositories(
    env: ServiceEnv, client: Callable[[], Any] | None, *, consistent_reads: bool = False
) -> Repositories:
    from records_service.repositories import Repositories
    from records_service.settings import Settings

    return Repositories(
        Settings.from_env(), client or env.dynamodb_client, consistent_reads=consistent_reads
    )


def api_handler(env: ServiceEnv, client: Callable[[], Any] | None = None) -> Api:
    """The API, built from the test's settings over ``client`` (the env's by default)."""
    from records_api.app import build_handler
    from records_service.settings import Settings

    return Api(build_handler(Settings.from_env(), repositories=_repositories(env, client)))


def batch_writer(env: ServiceEnv, client: Callable[[], Any] | None = None) -> Function:
    """The batch writer, built from the test's settings over ``client`` (the env's by default)."""
    from batch_writer.app import build_handler
    from records_service.settings import Settings

    repositories = _repositories(env, client)
    return Function(build_handler(Settings.from_env(), repositories=repositories), repositories)


def write_once_deduper(env: ServiceEnv, client: Callable[[], Any] | None = None) -> Function:
    """The deduper, built from the test's settings over ``client`` (the env's by default)."""
    from records_service.settings import Settings
    from write_once_deduper.app import build_handler

    settings = Settings.from_env(require_event_bus=True)
    repositories = _repositories(env, client, consistent_reads=True)
    handler = build_handler(settings, repositories=repositories, events=env.events_client)
    return Function(handler, repositories)

"""Fixtures of the end-to-end tests: one local stack for the session, and clients for it.

The stack runs as a subprocess (``python -m local_stack``, what ``make dev`` runs) on free
ports, so these tests use real HTTP and real (moto) queues, and a handler module imported by
another test in this process cannot leak into it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import pytest
import requests

from local_stack import aws
from records_service import names
from tests.e2e.stack_process import RunningStack, start_stack

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

T = TypeVar("T")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The local stack, started once; its exit code after SIGTERM must be 0."""
    stack = start_stack(tmp_path_factory.mktemp("local-stack"))
    yield stack
    code = stack.stop()
    assert code == 0, f"the local stack exited with {code} on SIGTERM\n{stack.output()}"


@pytest.fixture(scope="session")
def api(local_stack: RunningStack) -> Iterator[ApiClient]:
    """An HTTP client for the stack's API."""
    with requests.Session() as session:
        yield ApiClient(local_stack.api_url, session)


@pytest.fixture(scope="session")
def sqs(local_stack: RunningStack) -> SQSClient:
    """SQS on the stack's moto server."""
    return aws.sqs_client(local_stack.aws_url)


@pytest.fixture(scope="session")
def events(local_stack: RunningStack) -> EventBridgeClient:
    """EventBridge on the stack's moto server."""
    return aws.events_client(local_stack.aws_url)


class ApiClient:
    """``requests`` bound to the API's base URL, with a timeout on every call."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.base_url = base_url
        self.session = session

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """One request to ``base_url + path``."""
        return self.session.request(method, self.base_url + path, timeout=30, **kwargs)  # type: ignore[arg-type]


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.25
) -> T:
    """Call ``probe`` until it returns something other than ``None``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def put_events(events: EventBridgeClient, bus: str, detail_type: str, details: list[str]) -> None:
    """Put one event per detail from the service's source, ten a call; all must be accepted."""
    for start in range(0, len(details), 10):
        response = events.put_events(
            Entries=[
                {
                    "Source": names.EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": detail,
                    "EventBusName": bus,
                }
                for detail in details[start : start + 10]
            ]
        )
        assert response["FailedEntryCount"] == 0, response


def drain(sqs: SQSClient, queue_url: str, *, quiet_seconds: float = 2.0) -> list[str]:
    """Receive and delete every message of a queue until it stays empty; return the bodies."""
    bodies: list[str] = []
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet_seconds:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        messages = response.get("Messages", [])
        if not messages:
            continue
        quiet_since = time.monotonic()
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies

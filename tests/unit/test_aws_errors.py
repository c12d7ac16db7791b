"""One classification of errors: throttled, refused or fault, and batches carrying theirs."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from pydantic_dynamo import (
    ErrorKind,
    InvalidAttributeError,
    ItemNotFoundError,
    ItemTooLargeError,
    RetryPolicy,
    UnprocessedItemsError,
    VersionConflictError,
    classify,
)
from pydantic_dynamo.aws_errors import error_code, error_response
from pydantic_dynamo.batching import BatchGetPlan, BatchWritePlan, WriteEntry


def client_error(code: str, status: int = 400, **members: Any) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
        **members,
    }
    return ClientError(response, "PutItem")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("ProvisionedThroughputExceededException"), ErrorKind.THROTTLED),
        (client_error("ThrottlingException"), ErrorKind.THROTTLED),
        (client_error("RequestLimitExceeded"), ErrorKind.THROTTLED),
        (client_error("TransactionConflictException"), ErrorKind.THROTTLED),
        (client_error("429", 429), ErrorKind.THROTTLED),
        (client_error("ValidationException"), ErrorKind.REFUSED),
        (client_error("ConditionalCheckFailedException"), ErrorKind.REFUSED),
        (client_error("ItemCollectionSizeLimitExceededException"), ErrorKind.REFUSED),
        (client_error("SerializationException"), ErrorKind.REFUSED),
        (client_error("413", 413), ErrorKind.REFUSED),
        (client_error("InternalServerError", 500), ErrorKind.FAULT),
        (client_error("ServiceUnavailable", 503), ErrorKind.FAULT),
        (client_error("502", 502), ErrorKind.FAULT),
        # Not the request's fault, and no retry will fix it: someone must look.
        (client_error("AccessDeniedException"), ErrorKind.FAULT),
        (client_error("ResourceNotFoundException"), ErrorKind.FAULT),
        (client_error("UnrecognizedClientException"), ErrorKind.FAULT),
        (EndpointConnectionError(endpoint_url="http://x"), ErrorKind.FAULT),
        (ConnectionClosedError(endpoint_url="http://x"), ErrorKind.FAULT),
        (ReadTimeoutError(endpoint_url="http://x"), ErrorKind.FAULT),
        (TimeoutError(), ErrorKind.FAULT),
        (RuntimeError("a bug"), ErrorKind.FAULT),
        (ParamValidationError(report="bad"), ErrorKind.REFUSED),
        (InvalidAttributeError("name", "unknown"), ErrorKind.REFUSED),
        (ItemTooLargeError({"k": "v"}, 500_000, 400_000), ErrorKind.REFUSED),
        (VersionConflictError({"k": "v"}, 1, 2), ErrorKind.REFUSED),
        (ItemNotFoundError({"k": "v"}), ErrorKind.REFUSED),
    ],
    ids=lambda value: value.value if isinstance(value, ErrorKind) else type(value).__name__,
)
def test_every_error_has_one_kind(error: BaseException, kind: ErrorKind) -> None:
    assert classify(error) is kind


@pytest.mark.parametrize(
    ("reasons", "kind"),
    [
        ([{"Code": "None"}, {"Code": "ConditionalCheckFailed"}], ErrorKind.REFUSED),
        ([{"Code": "ValidationError"}], ErrorKind.REFUSED),
        ([{"Code": "None"}, {"Code": "TransactionConflict"}], ErrorKind.THROTTLED),
        ([{"Code": "ThrottlingError"}, {"Code": "ConditionalCheckFailed"}], ErrorKind.THROTTLED),
        ([], ErrorKind.REFUSED),
    ],
)
def test_a_cancelled_transaction_is_as_its_reasons_say(
    reasons: list[dict[str, str]], kind: ErrorKind
) -> None:
    error = client_error("TransactionCanceledException", CancellationReasons=reasons)
    assert classify(error) is kind


def test_kinds_are_strings_for_logs_and_metrics() -> None:
    assert isinstance(ErrorKind.THROTTLED, str)
    assert ErrorKind("throttled") is ErrorKind.THROTTLED
    assert f"{ErrorKind.FAULT}" == "fault"


def test_codes_and_responses_are_read_without_botocore_types() -> None:
    error = client_error("ValidationException")
    assert error_code(error) == "ValidationException"
    assert error_response(error)["Error"]["Message"] == "m"
    assert error_code(ValueError("x")) is None
    assert error_response(ValueError("x")) == {}


# -- UnprocessedItemsError.kind, wherever a batch gives up --------------------------------------

TABLE, PK, SK = "records", "PK", "SK"


def _write_plan(count: int, attempts: int) -> BatchWritePlan[str]:
    entries = [
        WriteEntry(
            ("p", f"c{i}"),
            {"PutRequest": {"Item": {PK: {"S": "p"}, SK: {"S": f"c{i}"}}}},
            f"content-{i}",
        )
        for i in range(count)
    ]
    return BatchWritePlan(TABLE, PK, SK, entries, RetryPolicy(max_attempts=attempts))


def test_a_batch_dynamodb_kept_leaving_unprocessed_is_throttled() -> None:
    plan = _write_plan(2, attempts=1)
    request = plan.next_request()
    assert request is not None
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_response({"UnprocessedItems": {TABLE: request["RequestItems"][TABLE]}})
    assert caught.value.kind is ErrorKind.THROTTLED
    assert classify(caught.value) is ErrorKind.THROTTLED


def test_unprocessed_reads_given_up_on_are_throttled() -> None:
    keys = [({PK: {"S": "p"}, SK: {"S": "c"}}, "origin")]
    plan = BatchGetPlan(TABLE, PK, SK, keys, False, RetryPolicy(max_attempts=1))
    request = plan.next_request()
    assert request is not None
    plan.on_response({"UnprocessedKeys": {TABLE: request["RequestItems"][TABLE]}})
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.next_request()
    assert caught.value.kind is ErrorKind.THROTTLED


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (client_error("ValidationException"), ErrorKind.REFUSED),
        (client_error("ProvisionedThroughputExceededException"), ErrorKind.THROTTLED),
        (client_error("InternalServerError", 500), ErrorKind.FAULT),
        (EndpointConnectionError(endpoint_url="http://x"), ErrorKind.FAULT),
    ],
)
def test_a_batch_ended_by_an_error_carries_that_errors_kind(
    error: Exception, kind: ErrorKind
) -> None:
    plan = _write_plan(2, attempts=1)
    assert plan.next_request() is not None
    with pytest.raises(UnprocessedItemsError) as caught:
        plan.on_error(error_code(error), error)
    assert caught.value.kind is kind
    assert caught.value.__cause__ is error


def test_an_unprocessed_items_error_built_by_hand_takes_its_codes_kind() -> None:
    assert UnprocessedItemsError([], 1, "x").kind is ErrorKind.THROTTLED
    assert UnprocessedItemsError([], 1, "x", code="ValidationException").kind is ErrorKind.REFUSED
    given = UnprocessedItemsError([], 1, "x", kind=ErrorKind.FAULT)
    assert given.kind is ErrorKind.FAULT

"""Reading AWS errors, and the one place that says what kind of failure an error is.

botocore's ``ClientError`` (raised by boto3's clients and by the lean transport's alike) is read
through its ``response`` dict, so this module imports no botocore. :func:`classify` sorts any
error into one of three :class:`ErrorKind`\\ s, the question every caller of the library asks
("try again later, give up on this input, or page someone?"):

- ``THROTTLED``: AWS asked to slow down (throttling codes, contended transactions,
  HTTP 429) or DynamoDB kept returning unprocessed work: the same request may succeed later.
- ``REFUSED``: the request itself is refused (validation, sizes, a failed condition, a bad
  request) and sending it again cannot help; the library's own input errors are refusals too.
- ``FAULT``: everything else: 5xx answers, no answer (connection errors, timeouts), denied
  access, a missing table, bugs.

>>> from botocore.exceptions import ClientError
>>> throttled = ClientError({"Error": {"Code": "ThrottlingException"}}, "PutItem")
>>> error_code(throttled), classify(throttled)
('ThrottlingException', <ErrorKind.THROTTLED: 'throttled'>)
>>> classify(ClientError({"Error": {"Code": "ValidationException"}}, "PutItem")).value
'refused'
>>> classify(TimeoutError()).value
'fault'
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "REFUSED_CODES",
    "THROTTLING_CODES",
    "ErrorKind",
    "classify",
    "classify_code",
    "error_code",
    "error_response",
]


class ErrorKind(enum.StrEnum):
    """What kind of failure an error is (see the module doc); a ``str``: its value."""

    THROTTLED = "throttled"
    REFUSED = "refused"
    FAULT = "fault"


# botocore's standard-mode throttling codes (botocore.retries.standard): the lean transport
# retries these.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
# Contention: a write that met another transaction on its item may succeed when tried later
# (neither botocore nor the lean transport retries it by itself).
_CONTENDED_CODES = frozenset({"TransactionConflictException"})
# The request as sent cannot succeed: DynamoDB's and EventBridge's validation, size and
# condition errors, and the generic AWS bad-request codes.
REFUSED_CODES = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "ConditionalCheckFailedException",
        "ItemCollectionSizeLimitExceededException",
        "IdempotentParameterMismatchException",
        "SerializationException",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "MissingParameter",
        "MalformedQueryString",
        "InvalidQueryParameter",
        "InvalidEventPatternException",
        "RequestEntityTooLargeException",
        "ConditionCheckFailed",
        "DuplicateItem",
        "ItemCollectionSizeLimitExceeded",
    }
)
# CancellationReasons codes of a cancelled transaction that mean "later" rather than "never".
_THROTTLING_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
)
_REFUSED_STATUS = frozenset({400, 404, 405, 411, 413, 414, 415, 422, 431})


def error_response(error: BaseException) -> dict[str, Any]:
    """The parsed error response of a botocore ``ClientError`` (empty for other errors)."""
    response = getattr(error, "response", None)
    return response if isinstance(response, dict) else {}


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``, or ``None`` for any other error."""
    code = error_response(error).get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def classify_code(code: str) -> ErrorKind:
    """The kind of an AWS error answer, from its code.

    >>> classify_code("ProvisionedThroughputExceededException").value
    'throttled'
    >>> classify_code("InternalServerError").value, classify_code("413").value
    ('fault', 'refused')
    """
    if code in THROTTLING_CODES or code in _CONTENDED_CODES:
        return ErrorKind.THROTTLED
    if code in REFUSED_CODES:
        return ErrorKind.REFUSED
    if code.isascii() and code.isdigit():
        # An answer without an error type: its code is its HTTP status. A named code not
        # listed above (access denied, a missing table...) is a fault whatever its status.
        status = int(code)
        if status == 429:
            return ErrorKind.THROTTLED
        if status in _REFUSED_STATUS:
            return ErrorKind.REFUSED
    return ErrorKind.FAULT


def classify(error: BaseException) -> ErrorKind:
    """The kind of any error (see the module doc).

    The library's own errors carry their kind (``error.kind``: an input error is
    ``REFUSED``; an :class:`~pydantic_dynamo.exceptions.UnprocessedItemsError` has the kind
    of what ended it); a ``ClientError`` is read by its code; an error without an
    answer (a connection error, a timeout) is a ``FAULT``.
    """
    kind = getattr(error, "kind", None)
    if isinstance(kind, ErrorKind):
        return kind
    response = error_response(error)
    code = response.get("Error", {}).get("Code")
    if isinstance(code, str) and code:
        if code == "TransactionCanceledException":
            return _cancelled_kind(response)
        return classify_code(code)
    if any(
        cls.__name__ == "ParamValidationError" and cls.__module__.startswith("botocore")
        for cls in type(error).__mro__
    ):
        return ErrorKind.REFUSED  # botocore refused the parameters before sending them
    return ErrorKind.FAULT


def _cancelled_kind(response: dict[str, Any]) -> ErrorKind:
    """A cancelled transaction: throttled or contended if any action was, else refused."""
    reasons = response.get("CancellationReasons") or []
    codes = {reason.get("Code") for reason in reasons if isinstance(reason, dict)}
    if codes & _THROTTLING_REASONS:
        return ErrorKind.THROTTLED
    return ErrorKind.REFUSED

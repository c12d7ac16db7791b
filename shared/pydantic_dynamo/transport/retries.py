"""When the lean transport sends a request again, and how long it waits first.

botocore's ``standard`` retry mode, for DynamoDB: throttling and transient error codes, HTTP
500/502/503/504, connection errors and corrupted bodies (a CRC32 mismatch) are retried up to
``max_attempts`` tries in all, after a jittered, capped exponential backoff. Clock-skew errors
are retried at once, signed with the corrected clock; an expired token is retried once its
credentials have refreshed.

>>> policy = TransportRetries(max_attempts=3)
>>> policy.retryable_error(400, "ProvisionedThroughputExceededException")
True
>>> policy.retryable_error(400, "ValidationException")
False
>>> 0.0 <= policy.delay(1) <= 2.0
True
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_dynamo.retry import RetryPolicy

__all__ = ["CLOCK_SKEW_CODES", "TransportRetries"]

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
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
# Errors that mean "your clock is wrong": re-signed with the server's time and sent again.
CLOCK_SKEW_CODES = frozenset(
    {
        "RequestTimeTooSkewed",
        "RequestExpired",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "RequestInTheFuture",
    }
)


@dataclass(frozen=True)
class TransportRetries(RetryPolicy):
    """How many tries a request gets (``max_attempts``, the first included) and the backoff.

    The library's :class:`~pydantic_dynamo.retry.RetryPolicy` (full jitter, capped) with
    botocore's standard-mode numbers: six tries (the five retries this library configures for
    its boto3 clients), up to 2 s after the first failure, doubling, capped at 20 s.
    """

    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 20.0

    def retryable_error(self, status: int, code: str) -> bool:
        """Whether an error answer may be retried (after a backoff)."""
        return code in THROTTLING_CODES or code in TRANSIENT_CODES or status in TRANSIENT_STATUS

"""When the lean transport sends a request again, and how long it waits first.

botocore's ``standard`` retry mode, for DynamoDB: throttling and transient error codes, HTTP
500/502/503/504, connection errors and corrupted bodies (a CRC32 mismatch) are retried up to
``max_attempts`` tries in all, after a jittered, capped exponential backoff, while the client's
:class:`RetryQuota` lasts (so that an outage does not multiply the load by the retries). Clock-
skew errors are retried at once, signed with the corrected clock; an expired token is retried
once its credentials have refreshed.

>>> policy = TransportRetries(max_attempts=3)
>>> policy.retryable_error(400, "ProvisionedThroughputExceededException")
True
>>> policy.retryable_error(400, "ValidationException")
False
>>> 0.0 <= policy.delay(1) <= 2.0
True
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pydantic_dynamo.aws_errors import THROTTLING_CODES
from pydantic_dynamo.retry import RetryPolicy

__all__ = ["CLOCK_SKEW_CODES", "RetryQuota", "TransportRetries"]

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


class RetryQuota:
    """botocore's standard-mode retry quota, one per client: retries spend it, successes refill it.

    It starts at 500; a retry costs 5 (10 after a timeout); a success gives back what its retry
    cost, or 1 when it needed none, up to the start. With the quota spent, errors are returned
    at once instead of retried, until successes refill it.

    >>> quota = RetryQuota()
    >>> quota.acquire(timeout=False), quota.available
    (5, 495)
    >>> quota.release(5); quota.available
    500
    """

    CAPACITY = 500
    RETRY_COST = 5
    TIMEOUT_RETRY_COST = 10
    NO_RETRY_INCREMENT = 1

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._available = capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        """What is left to spend on retries."""
        return self._available

    def acquire(self, *, timeout: bool) -> int:
        """Take a retry's cost; what was taken (0: no retry now)."""
        cost = self.TIMEOUT_RETRY_COST if timeout else self.RETRY_COST
        with self._lock:
            if cost > self._available:
                return 0
            self._available -= cost
        return cost

    def release(self, amount: int) -> None:
        """Give back ``amount`` after a success (never beyond the start)."""
        with self._lock:
            self._available = min(self._capacity, self._available + amount)

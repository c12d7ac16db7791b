"""How long to wait before retrying throttled or unprocessed batch work: capped, jittered.

>>> policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
>>> 0.0 <= policy.delay(1) <= 0.1 and 0.0 <= policy.delay(10) <= 1.0
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["RETRYABLE_ERROR_CODES", "RetryPolicy"]

# Errors after which the same request may simply be sent again, later.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped in delay and in attempts.

    ``max_attempts`` counts consecutive tries that leave work undone; the next try after a
    fully successful one starts counting again. Attempt ``n`` waits a random time in
    ``[0, min(max_delay, base_delay * 2 ** (n - 1))]``.
    """

    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 5.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 62))
        return self.rng.uniform(0.0, ceiling)

    def exhausted(self, attempt: int) -> bool:
        """Whether ``attempt`` consecutive failed tries use up the budget."""
        return attempt >= self.max_attempts

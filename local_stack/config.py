"""The local stack's fixed names, defaults and paths, and the environment its handlers get.

Everything the handlers and the CDK app must agree on (env var names, key names, detail types,
queue settings) comes from ``records_service.names`` and ``records_service.topology``; this
module only names what exists locally alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from records_service import names

HOST: Final = "127.0.0.1"
REGION: Final = "us-east-1"
ACCOUNT_ID: Final = "123456789012"  # moto's default account: the ARNs it hands out use it
# Credentials for local endpoints only: never a user's real ones, so nothing can reach AWS.
ACCESS_KEY_ID: Final = "local"
SECRET_ACCESS_KEY: Final = "local"

DEFAULT_API_PORT: Final = 3000
DEFAULT_AWS_PORT: Final = 4566
STAGE: Final = "local"

TABLE_NAME: Final = "records"
BUS_NAME: Final = "records"

# Locally a failed message comes back after this many seconds instead of the deployed
# 6 x function timeout (topology.QueueRoute.visibility_timeout_seconds), so retries and the
# move to the DLQ after maxReceiveCount happen while you watch.
DEFAULT_VISIBILITY_TIMEOUT_SECONDS: Final = 5

# A stream batch that failed is retried after this long (Lambda retries at once, with a backoff
# of its own): long enough not to spin on a bus that is down, short enough to watch.
STREAM_RETRY_DELAY_SECONDS: Final = 0.5

# The bus log: a rule copying the service's announcements (RecordsWritten, RecordsChanged) to a
# queue the stack reads and prints, one line per event.
BUS_LOG_QUEUE: Final = "bus-log"
BUS_LOG_RULE: Final = "bus-log-rule"

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
SWAGGER_UI_DIR: Final = REPO_ROOT / "node_modules" / "swagger-ui-dist"
SAMPLES_DIR: Final = Path(__file__).resolve().parent / "samples"


def queue_name(route_name: str) -> str:
    """The local queue fed by a route's rule."""
    return route_name


def dlq_name(route_name: str) -> str:
    """The local dead-letter queue behind a route's queue (a stream route's on-failure queue)."""
    return f"{route_name}-dlq"


def rule_name(route_name: str) -> str:
    """The local EventBridge rule routing a route's detail type to its queue."""
    return f"{route_name}-rule"


def handler_environment(
    *, table_name: str, bus_name: str, dynamodb_endpoint: str, events_endpoint: str
) -> dict[str, str]:
    """The variables the handlers read, pointing at the local endpoints.

    Credentials and region are fixed dummies so a handler can never talk to a real account
    from the local stack, whatever the developer's shell holds.
    """
    return {
        names.ENV_TABLE_NAME: table_name,
        names.ENV_EVENT_BUS_NAME: bus_name,
        names.ENV_DYNAMODB_ENDPOINT: dynamodb_endpoint,
        names.ENV_EVENTS_ENDPOINT: events_endpoint,
        names.ENV_POWERTOOLS_SERVICE_NAME: names.SERVICE_NAME,
        names.ENV_POWERTOOLS_METRICS_NAMESPACE: names.METRICS_NAMESPACE,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }


# Defaults a developer may override from the shell: no X-Ray daemon and no CloudWatch here,
# so tracing is off and metrics are not printed (POWERTOOLS_METRICS_DISABLED=false shows EMF).
HANDLER_ENV_DEFAULTS: Final = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

# Variables removed from the stack's own environment before the handlers start: a session
# token or profile of the developer's must not ride along with the dummy credentials.
HANDLER_ENV_REMOVED: Final = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")

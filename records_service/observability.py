"""Powertools Logger, Metrics and X-Ray tracing, configured the same way in every function.

The service name and metrics namespace come from the standard Powertools variables when set
(the CDK app sets them) and fall back to ``records_service.names``, so a handler imported by the
local stack or a test still emits well-formed logs and metrics.

Tracing is the costly one: importing and setting up the X-Ray SDK is most of a handler's cold
start (docs/deploy.md, "Memory and timeouts"). It is loaded only where it can record anything,
in Lambda with tracing not disabled; elsewhere (tests, the local stack) ``traced`` leaves the
handler as it is and imports nothing of it. Where it is on, every AWS call is a subsegment: the
lean clients' calls through :class:`pydantic_dynamo.transport.tracing.XRayObserver`, any boto3
client's through the SDK's botocore patch, recorded alike.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

from records_service import names

__all__ = ["build_logger", "build_metrics", "traced", "tracing_enabled"]

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def _service() -> str:
    return os.environ.get(names.ENV_POWERTOOLS_SERVICE_NAME) or names.SERVICE_NAME


def build_logger() -> Logger:
    """A JSON logger for this service (correlation ids are injected per handler)."""
    return Logger(service=_service())


def build_metrics() -> Metrics:
    """CloudWatch EMF metrics in the service's namespace."""
    namespace = os.environ.get(names.ENV_POWERTOOLS_METRICS_NAMESPACE) or names.METRICS_NAMESPACE
    # A read-only API call has nothing to count; Powertools would warn on every one of them.
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    return Metrics(service=_service(), namespace=namespace)


def tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    """Whether X-Ray can record: running in Lambda and ``POWERTOOLS_TRACE_DISABLED`` not set.

    >>> tracing_enabled({"AWS_LAMBDA_FUNCTION_NAME": "f"})
    True
    >>> tracing_enabled({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "true"})
    False
    >>> tracing_enabled({})
    False
    """
    env = os.environ if environ is None else environ
    disabled = env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in {"1", "true"}
    in_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME")) and not env.get("AWS_SAM_LOCAL")
    return in_lambda and not disabled


def traced(handler: HandlerT) -> HandlerT:
    """Capture ``handler`` with the Powertools Tracer when tracing is enabled.

    The handlers' only I/O is AWS calls: the lean clients' are recorded by an observer on the
    Tracer's recorder, and botocore is patched for any boto3 client (the X-Ray SDK imports
    botocore anyway, so the patch costs no import). Responses are not recorded (they may be
    large or private).
    """
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=_service(), patch_modules=["botocore"])
    _trace_lean_clients(tracer.provider)
    return cast(HandlerT, tracer.capture_lambda_handler(handler, capture_response=False))


@cache
def _trace_lean_clients(recorder: Any) -> None:
    # Once per recorder however many handlers are traced: observers are process-wide.
    from pydantic_dynamo.transport.observers import add_observer
    from pydantic_dynamo.transport.tracing import XRayObserver

    add_observer(XRayObserver(recorder))

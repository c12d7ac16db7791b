"""The service's Lambda functions, loaded from their asset folders and invoked as Lambda would.

Each ``LocalFunction`` is one warm container: its handler is built once by the function's
factory (``build_handler(settings)``, the factory the deployed handler module calls, with the
settings read from the stack's environment; timed, though in a process that already holds moto
this is no cold start), invocations are serialised
(a container runs one event at a time, and Powertools' resolvers keep the current event on the
app object), the return value must survive a JSON round trip (Lambda serialises it), and an
invocation that outlives the function's timeout counts as failed ("Task timed out"), though
Python cannot stop it early.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_stack import config
from records_service.settings import Settings

_log = logging.getLogger("local_stack.functions")

Handler = Callable[[dict[str, Any], Any], Any]


class InvocationError(Exception):
    """The function raised, timed out, or returned something Lambda could not serialise."""


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """The ARN the function would have in moto's account and the local region."""
        return f"arn:aws:lambda:{config.REGION}:{config.ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """Where CloudWatch would keep the function's logs."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A stream name in Lambda's format; locally the logs go to stdout."""
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


@dataclass(frozen=True)
class Invocation:
    """What one invocation returned, and how long it took."""

    payload: Any
    duration_seconds: float
    request_id: str


class LocalFunction:
    """One function: its factory's import string, its asset folder, its timeout.

    ``settings`` reads the settings the factory is called with (by default from the
    environment the stack sets for its functions).
    """

    def __init__(
        self,
        name: str,
        factory: str,
        code_dir: str,
        timeout_seconds: float,
        memory_mb: int = 512,
        settings: Callable[[], Settings] = Settings.from_env,
    ) -> None:
        self.name = name
        self.handler_path = factory
        self._settings = settings
        self.code_dir = config.REPO_ROOT / code_dir
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.import_seconds: float | None = None
        self._handler: Handler | None = None
        self._lock = threading.Lock()

    def load(self) -> float:
        """Build the handler (its factory imported with its asset folder on ``sys.path``, and
        called with the settings of the environment); return the time it took.

        Raises ``InvocationError`` naming the folder and import string when it fails.
        """
        if self._handler is not None:
            return self.import_seconds or 0.0
        module_name, _, attribute = self.handler_path.rpartition(".")
        if not self.code_dir.is_dir():
            raise InvocationError(
                f"{self.name}: code folder {self.code_dir} does not exist "
                f"(handler {self.handler_path!r})"
            )
        if str(self.code_dir) not in sys.path:
            sys.path.insert(0, str(self.code_dir))
        started = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            handler = getattr(module, attribute)(self._settings())
        except Exception as exc:
            raise InvocationError(
                f"{self.name}: cannot import {self.handler_path!r} from {self.code_dir}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not callable(handler):
            raise InvocationError(f"{self.name}: {self.handler_path!r} is not callable")
        self.import_seconds = time.perf_counter() - started
        self._handler = handler
        return self.import_seconds

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run the handler on ``event`` as one synchronous Lambda invocation.

        Raises ``InvocationError`` when the handler raises (its traceback is logged, as Lambda
        logs it), exceeds the timeout, or returns a value that is not JSON-serialisable.
        """
        self.load()
        handler = self._handler
        assert handler is not None
        with self._lock:
            context = LambdaContext(self.name, self.memory_mb, self.timeout_seconds)
            started = time.monotonic()
            try:
                payload = handler(event, context)
            except Exception as exc:
                _log.error(
                    "%s: invocation %s failed:\n%s",
                    self.name,
                    context.aws_request_id,
                    traceback.format_exc(),
                )
                raise InvocationError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
            duration = time.monotonic() - started
        if duration > self.timeout_seconds:
            _log.error(
                "%s: invocation %s ran %.1f s: Task timed out after %g s",
                self.name,
                context.aws_request_id,
                duration,
                self.timeout_seconds,
            )
            raise InvocationError(f"{self.name}: Task timed out after {self.timeout_seconds:g} s")
        try:
            payload = json.loads(json.dumps(payload))
        except (TypeError, ValueError) as exc:
            raise InvocationError(
                f"{self.name}: the handler's return value is not JSON-serialisable: {exc}"
            ) from exc
        return Invocation(payload, duration, context.aws_request_id)

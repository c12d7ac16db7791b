"""The local stack as one object: start moto, create the topology, serve and drive the handlers.

>>> stack = LocalStack(StackOptions(api_port=0, aws_port=0))  # doctest: +SKIP
>>> stack.start()  # doctest: +SKIP
>>> stack.api_url  # doctest: +SKIP
'http://127.0.0.1:40123'
>>> stack.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from moto.server import ThreadedMotoServer

from local_stack import aws, config
from local_stack.bus_log import BusLog
from local_stack.docs_page import DocsPage
from local_stack.dynamodb_local import DynamoDBLocal, start_dynamodb_local
from local_stack.event_source import SqsEventSource
from local_stack.functions import InvocationError, LocalFunction
from local_stack.http_server import LocalApiServer
from local_stack.poller import Poller
from local_stack.resources import LocalResources, create_resources
from local_stack.seed import load_samples
from local_stack.stream_source import DynamoDBStreamEventSource
from records_service import names, topology

_log = logging.getLogger("local_stack")

API_FUNCTION_NAME = "records-api"


class StackError(RuntimeError):
    """The stack could not start; the message says why and what to do."""


@dataclass(frozen=True)
class StackOptions:
    """How to run the stack. Port 0 picks a free port."""

    api_port: int = config.DEFAULT_API_PORT
    aws_port: int = config.DEFAULT_AWS_PORT
    dynamodb_endpoint: str | None = None  # None: moto serves DynamoDB too
    dynamodb_local: bool = False  # start DynamoDB Local (local_stack.dynamodb_local)
    visibility_timeout_seconds: int = config.DEFAULT_VISIBILITY_TIMEOUT_SECONDS
    seed: bool = True
    table_name: str = config.TABLE_NAME
    bus_name: str = config.BUS_NAME


class _MotoServer(ThreadedMotoServer):
    """moto's threaded server, reporting a failed bind instead of waiting for it forever."""

    error: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        except BaseException as exc:
            self.error = exc
            self._server_ready_event.set()  # moto's start() waits on it


def _set_handler_environment(environment: dict[str, str]) -> None:
    for name in config.HANDLER_ENV_REMOVED:
        os.environ.pop(name, None)
    os.environ.update(environment)
    for name, value in config.HANDLER_ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)


class LocalStack:
    """Everything ``make dev`` runs, in this process; ``start()`` then ``stop()``."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.aws_url = ""
        self.dynamodb_url = ""
        self.resources: LocalResources | None = None
        self.seed_problems: list[str] = []
        self.docs = DocsPage(config.SWAGGER_UI_DIR)
        self.api = LocalFunction(
            API_FUNCTION_NAME,
            names.API_FACTORY,
            names.API_CODE_DIR,
            topology.API_FUNCTION_TIMEOUT_SECONDS,
        )
        self.queue_functions = {
            route.name: LocalFunction(
                route.name, route.factory, route.code_dir, route.function_timeout_seconds
            )
            for route in topology.QUEUE_ROUTES
        }
        stream_route = topology.STREAM_CONSUMER
        self.stream_function = LocalFunction(
            stream_route.name,
            stream_route.factory,
            stream_route.code_dir,
            stream_route.function_timeout_seconds,
        )
        self.event_sources: list[SqsEventSource] = []
        self.stream_source: DynamoDBStreamEventSource | None = None
        self.bus_log: BusLog | None = None
        self._api_server: LocalApiServer | None = None
        self._moto: _MotoServer | None = None
        self._dynamodb_local: DynamoDBLocal | None = None
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        """The API's base URL (empty before ``start``)."""
        return self._api_server.url if self._api_server else ""

    def _start_moto(self) -> None:
        moto = _MotoServer(ip_address=config.HOST, port=self.options.aws_port, verbose=False)
        moto.start()
        if moto.error is not None:
            raise StackError(
                f"cannot serve SQS/EventBridge on {config.HOST}:{self.options.aws_port}: "
                f"{moto.error}. Use --aws-port 0 for a free port."
            )
        self._moto = moto
        host, port = moto.get_host_and_port()
        self.aws_url = f"http://{host}:{port}"

    def _start_dynamodb(self) -> None:
        if self.options.dynamodb_local:
            try:
                self._dynamodb_local = start_dynamodb_local()
            except RuntimeError as exc:
                raise StackError(f"--dynamodb-local: {exc}") from exc
            self.dynamodb_url = self._dynamodb_local.endpoint_url
        else:
            self.dynamodb_url = self.options.dynamodb_endpoint or self.aws_url

    def _load_functions(self) -> None:
        for function in self._functions():
            try:
                seconds = function.load()
            except InvocationError as exc:
                raise StackError(str(exc)) from exc
            _log.info(
                "loaded %s (%s) in %.0f ms", function.name, function.handler_path, seconds * 1e3
            )

    def _functions(self) -> tuple[LocalFunction, ...]:
        return (self.api, *self.queue_functions.values(), self.stream_function)

    def _pollers(self) -> list[Poller]:
        extra = [p for p in (self.stream_source, self.bus_log) if p is not None]
        return [*self.event_sources, *extra]

    def start(self) -> None:
        """Start everything; raise ``StackError`` (after stopping what started) on failure."""
        try:
            self._start()
        except Exception:
            self.stop()
            raise

    def _start(self) -> None:
        options = self.options
        try:
            self._api_server = LocalApiServer(self.api, self.docs, port=options.api_port)
        except OSError as exc:
            raise StackError(
                f"cannot serve the API on {config.HOST}:{options.api_port}: {exc}. "
                "Use --port 0 for a free port."
            ) from exc
        self._start_moto()
        self._start_dynamodb()
        try:
            self.resources = create_resources(
                dynamodb=aws.dynamodb_client(self.dynamodb_url),
                sqs=aws.sqs_client(self.aws_url),
                events=aws.events_client(self.aws_url),
                visibility_timeout_seconds=options.visibility_timeout_seconds,
                table_name=options.table_name,
                bus_name=options.bus_name,
            )
        except Exception as exc:
            raise StackError(f"creating the table, bus and queues failed: {exc}") from exc
        _set_handler_environment(
            config.handler_environment(
                table_name=self.resources.table_name,
                bus_name=self.resources.bus_name,
                dynamodb_endpoint=self.dynamodb_url,
                events_endpoint=self.aws_url,
            )
        )
        self._load_functions()
        self._api_server.start()
        if options.seed:
            self.seed_problems = load_samples(self.api, f"{config.HOST}:{self._api_server.port}")
            for problem in self.seed_problems:
                _log.warning("loading the sample data failed: %s", problem)
        for route in topology.QUEUE_ROUTES:
            pair = self.resources.queues[route.name]
            source = SqsEventSource(
                route=route,
                function=self.queue_functions[route.name],
                sqs=aws.sqs_client(self.aws_url),
                queue_url=pair.url,
                queue_arn=pair.arn,
            )
            source.start()
            self.event_sources.append(source)
        self._start_stream_and_bus_log(self.resources)

    def _start_stream_and_bus_log(self, resources: LocalResources) -> None:
        self.bus_log = BusLog(aws.sqs_client(self.aws_url), resources.bus_log_url)
        self.bus_log.start()
        self.stream_source = DynamoDBStreamEventSource(
            route=topology.STREAM_CONSUMER,
            function=self.stream_function,
            streams=aws.dynamodbstreams_client(self.dynamodb_url),
            sqs=aws.sqs_client(self.aws_url),
            stream_arn=resources.stream_arn,
            on_failure_queue_url=resources.stream_dlq_url,
        )
        self.stream_source.start()

    def stop(self) -> None:
        """Stop pollers, the API server, moto and DynamoDB Local; safe to call twice."""
        with self._lock:
            pollers = self._pollers()
            for poller in pollers:  # all at once: each may be in a 1 s long poll
                poller.request_stop()
            for poller in pollers:
                poller.stop()
            self.event_sources = []
            self.stream_source = None
            self.bus_log = None
            if self._api_server is not None:
                self._api_server.stop()
                self._api_server = None
            if self._moto is not None:
                with contextlib.suppress(Exception):
                    self._moto.stop()
                self._moto = None
            if self._dynamodb_local is not None:
                self._dynamodb_local.stop()
                self._dynamodb_local = None

    def describe(self) -> dict[str, Any]:
        """Endpoints and resource names, as JSON-ready data (the ``--ready-file`` content)."""
        resources = self.resources
        queues = {}
        if resources is not None:
            queues = {
                name: {
                    "detail_type": pair.route.detail_type,
                    "url": pair.url,
                    "arn": pair.arn,
                    "dlq_url": pair.dlq_url,
                    "dlq_arn": pair.dlq_arn,
                }
                for name, pair in resources.queues.items()
            }
        functions = self._functions()
        return {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "aws_url": self.aws_url,
            "dynamodb_url": self.dynamodb_url,
            "region": config.REGION,
            "table_name": resources.table_name if resources else None,
            "bus_name": resources.bus_name if resources else None,
            "bus_arn": resources.bus_arn if resources else None,
            "visibility_timeout_seconds": self.options.visibility_timeout_seconds,
            "queues": queues,
            "stream_arn": resources.stream_arn if resources else None,
            "stream_dlq_url": resources.stream_dlq_url if resources else None,
            "bus_log_url": resources.bus_log_url if resources else None,
            "import_seconds": {f.name: f.import_seconds for f in functions},
            "seed_problems": self.seed_problems,
            "docs_available": self.docs.available,
        }

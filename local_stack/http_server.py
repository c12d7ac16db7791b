"""The local API endpoint: an HTTP server that plays API Gateway in front of the API function.

Every request except the documentation page becomes a REST proxy event
(``local_stack.apigateway``) for the API function; its answer becomes the HTTP response. As
API Gateway does, a function that raises, times out, answers malformed JSON or answers more than
Lambda's 6 MB response limit gives ``502 {"message": "Internal server error"}``, and a body over
10 MB gives 413 without invoking it. ``/docs`` and ``/docs/<asset>`` serve Swagger UI
(``local_stack.docs_page``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from local_stack import config
from local_stack.apigateway import (
    MAX_REQUEST_BODY_BYTES,
    HttpRequest,
    HttpResponse,
    InvalidProxyResponseError,
    build_proxy_event,
    gateway_error,
    parse_proxy_response,
)
from local_stack.docs_page import DOCS_PATH, DocsPage
from local_stack.functions import InvocationError, LocalFunction
from records_service.topology import LAMBDA_MAX_RESPONSE_BYTES

_log = logging.getLogger("local_stack.api")


class _BodyTooLargeError(Exception):
    pass


class _BadRequestError(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], function: LocalFunction, docs: DocsPage, stage: str
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.function = function
        self.docs = docs
        self.stage = stage


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect of API Gateway
    timeout = 60  # close idle keep-alive connections
    # Headers and body leave in one segment (the stdlib flushes after each request): two small
    # writes would meet the client's delayed ACK and cost 40 ms a request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: _Server

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).strip()
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError as exc:
                raise _BadRequestError("malformed chunked body") from exc
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_REQUEST_BODY_BYTES:
                raise _BodyTooLargeError
            chunks.append(self.rfile.read(size))
            self.rfile.readline(16)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError as exc:
            raise _BadRequestError("invalid Content-Length") from exc
        if length < 0:
            raise _BadRequestError("invalid Content-Length")
        if length > MAX_REQUEST_BODY_BYTES:
            raise _BodyTooLargeError
        return self.rfile.read(length)

    def _send(self, response: HttpResponse, request_id: str) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _docs(self, path: str) -> HttpResponse | None:
        docs = self.server.docs
        if path in (DOCS_PATH, DOCS_PATH + "/"):
            status, html = docs.page()
            return HttpResponse(status, [("Content-Type", "text/html; charset=utf-8")], html)
        if path.startswith(DOCS_PATH + "/"):
            asset = docs.asset(path[len(DOCS_PATH) + 1 :])
            if asset is None:
                return gateway_error(404, "Not Found", "NotFoundException")
            body, content_type = asset
            return HttpResponse(
                200, [("Content-Type", content_type), ("Cache-Control", "max-age=3600")], body
            )
        return None

    def _invoke(self, body: bytes, request_id: str) -> HttpResponse:
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
        )
        event = build_proxy_event(request, stage=self.server.stage, request_id=request_id)
        try:
            invocation = self.server.function.invoke(event)
            # Lambda counts the serialized payload (the body is a JSON string inside it).
            size = len(json.dumps(invocation.payload, separators=(",", ":")).encode("utf-8"))
            if size > LAMBDA_MAX_RESPONSE_BYTES:
                _log.error(
                    "the function answered %d bytes, over Lambda's %d-byte response limit",
                    size,
                    LAMBDA_MAX_RESPONSE_BYTES,
                )
                return gateway_error(502, "Internal server error", "InternalServerErrorException")
            return parse_proxy_response(invocation.payload)
        except InvocationError:
            return gateway_error(502, "Internal server error", "InternalServerErrorException")
        except InvalidProxyResponseError as exc:
            _log.error("malformed Lambda proxy response: %s", exc)
            return gateway_error(502, "Internal server error", "InternalServerErrorException")

    def _handle(self) -> None:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        path = urlsplit(self.path).path
        try:
            body = self._read_body()
        except _BodyTooLargeError:
            self.close_connection = True
            response = gateway_error(413, "Request Too Long", "RequestEntityTooLargeException")
        except _BadRequestError as exc:
            self.close_connection = True
            response = gateway_error(400, str(exc), "BadRequestException")
        else:
            docs = self._docs(path) if self.command in ("GET", "HEAD") else None
            response = docs or self._invoke(body, request_id)
        self._send(response, request_id)
        _log.info(
            "%s %s -> %d (%.0f ms)",
            self.command,
            self.path,
            response.status,
            (time.monotonic() - started) * 1000,
        )

    # The methods API Gateway's ANY forwards to the function.
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle  # noqa: N815

    def _not_forwarded(self) -> None:
        self.close_connection = True
        response = gateway_error(405, f"{self.command} is not forwarded", "MethodNotAllowed")
        # RFC 9110: a 405 lists what is allowed (the function's own 405 narrows it per path).
        allow = ("Allow", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")
        self._send(HttpResponse(405, [*response.headers, allow], response.body), str(uuid.uuid4()))

    def __getattr__(self, name: str) -> object:
        # Any other method (TRACE, CONNECT, made-up ones) never reaches the function.
        if name.startswith("do_"):
            return self._not_forwarded
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own errors (414 URI too long, 400 malformed request) as gateway JSON."""
        self.close_connection = True
        response = gateway_error(code, message or explain or "error", "BadRequestException")
        with contextlib.suppress(OSError):  # the client may already be gone
            self._send(response, str(uuid.uuid4()))

    def log_message(self, format: str, *args: object) -> None:
        """Silence the stdlib's access log: ``_handle`` logs each request once."""


class LocalApiServer:
    """Serves the API function on ``http://127.0.0.1:<port>`` from a background thread."""

    def __init__(
        self,
        function: LocalFunction,
        docs: DocsPage,
        *,
        port: int = config.DEFAULT_API_PORT,
        stage: str = config.STAGE,
    ) -> None:
        self._server = _Server((config.HOST, port), function, docs, stage)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-api", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port (the chosen one when started with port 0)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:3000``."""
        return f"http://{config.HOST}:{self.port}"

    def start(self) -> None:
        """Accept requests from now on."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting requests and close the listening socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

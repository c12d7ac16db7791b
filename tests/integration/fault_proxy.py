"""An HTTP proxy in front of DynamoDB Local that misbehaves on purpose, for the lean transport.

Each request is handed to a ``Plan``: a function of the request's number (1-based, over the
proxy's life), its operation and its headers, answering one of the ``Fault``\\ s:

- ``PASS``: forward to DynamoDB Local and relay the answer;
- ``THROTTLE``: answer 400 ``ProvisionedThroughputExceededException`` without forwarding;
- ``FAIL_500``: answer 500 ``InternalServerError`` without forwarding;
- ``DROP_BEFORE``: close the connection without forwarding (the request never arrived);
- ``DROP_AFTER``: forward, then close the connection instead of answering (the write happened,
  the client cannot know);
- ``EXPIRED``: answer 400 ``ExpiredTokenException``;
- ``SKEWED``: answer 400 ``InvalidSignatureException`` with a ``Date`` an hour ahead;
- ``CLOSE_IDLE``: forward and answer as usual (keep-alive), then close the connection, as a
  server does with a connection idle too long.

The proxy records every request's operation and access key id, never a signature.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Fault", "FaultProxy", "Plan", "Seen"]


class Fault(Enum):
    """What the proxy does with one request."""

    PASS = "pass"
    THROTTLE = "throttle"
    FAIL_500 = "500"
    DROP_BEFORE = "drop-before"
    DROP_AFTER = "drop-after"
    EXPIRED = "expired"
    SKEWED = "skewed"
    CLOSE_IDLE = "close-idle"


Plan = Callable[[int, str, dict[str, str]], Fault]

_ERRORS: dict[Fault, tuple[int, str, str]] = {
    Fault.THROTTLE: (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    Fault.FAIL_500: (500, "InternalServerError", "Internal server error"),
    Fault.EXPIRED: (400, "ExpiredTokenException", "The security token included has expired"),
    Fault.SKEWED: (400, "InvalidSignatureException", "Signature expired"),
}


@dataclass
class Seen:
    """One request as the proxy saw it, and what it did with it."""

    number: int
    operation: str
    access_key: str
    fault: Fault


@dataclass
class _State:
    upstream: str
    plan: Plan
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _access_key(authorization: str) -> str:
    # "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ..."
    return authorization.partition("Credential=")[2].partition("/")[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is the assertions."""

    def do_POST(self) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = dict(self.headers.items())
        operation = headers.get("X-Amz-Target", "").rpartition(".")[2]
        with state.lock:
            number = len(state.seen) + 1
            fault = state.plan(number, operation, headers)
            key = _access_key(headers.get("Authorization", ""))
            state.seen.append(Seen(number, operation, key, fault))
        if fault is Fault.DROP_BEFORE:
            self.close_connection = True
            return
        if fault in _ERRORS:
            status, code, message = _ERRORS[fault]
            payload = (
                f'{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"{message}"}}'
            ).encode()
            date = formatdate(time() + 3600 if fault is Fault.SKEWED else time(), usegmt=True)
            self._answer(status, {"Date": date}, payload)
            return
        status, answer_headers, payload = self._forward(state.upstream, headers, body)
        if fault is Fault.DROP_AFTER:
            self.close_connection = True
            return
        self._answer(status, answer_headers, payload)
        if fault is Fault.CLOSE_IDLE:
            self.close_connection = True

    def _forward(
        self, upstream: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(upstream)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = {
                name: value
                for name, value in response.getheaders()
                if name.lower() in {"x-amz-crc32", "x-amzn-requestid", "content-type", "date"}
            }
            return response.status, kept, payload
        finally:
            connection.close()

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        headers.setdefault("Content-Type", "application/x-amz-json-1.0")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FaultProxy:
    """The proxy, serving on a free 127.0.0.1 port from a thread until ``close``."""

    def __init__(self, upstream: str, plan: Plan) -> None:
        self._state = _State(upstream, plan)
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        """Where clients send their requests."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def seen(self) -> list[Seen]:
        """Every request so far, in arrival order."""
        with self._state.lock:
            return list(self._state.seen)

    def replan(self, plan: Plan) -> None:
        """Misbehave differently from the next request on."""
        with self._state.lock:
            self._state.plan = plan

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

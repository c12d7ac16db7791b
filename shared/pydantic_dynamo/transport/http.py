"""The lean transport's HTTP: kept-alive connections to one endpoint, reused last-in first-out.

Connections are the standard library's ``http.client`` ones: driven directly, a request costs
about half the client CPU of urllib3's pool (measured here: 110 against 200 microseconds per
GetItem to DynamoDB Local), which is most of what a lean small request spends. What urllib3's
pool adds that matters here is kept: a pooled connection that the server closed while it sat
idle is detected before reuse (urllib3's own ``wait_for_read`` check) and replaced; at most
``max_connections`` idle connections are kept (botocore's default is 10); sockets have
``TCP_NODELAY``; HTTPS verifies certificates and host names against the bundle botocore would
use (``AWS_CA_BUNDLE`` when set, else certifi's or botocore's own). Nothing is retried here:
retrying is the transport's decision (:mod:`pydantic_dynamo.transport.retries`).
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.util.wait import wait_for_read

__all__ = ["ConnectionFailedError", "HttpAnswer", "HttpPool"]


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An HTTP response, fully read; header names lower-cased."""

    status_code: int
    headers: dict[str, str]
    content: bytes


class ConnectionFailedError(Exception):
    """No answer: the connection could not be made, was dropped, or timed out.

    ``kind`` is ``"connect"`` (nothing was sent), ``"closed"`` or ``"read-timeout"`` (the
    request may have reached DynamoDB).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class HttpPool:
    """POSTs bodies to one endpoint over reused connections (thread-safe)."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        max_connections: int = 10,
        connect_timeout: float = 60.0,
        read_timeout: float = 60.0,
    ) -> None:
        parts = urlsplit(endpoint_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.context: ssl.SSLContext | None = None
        if self.https:
            from botocore.httpsession import get_cert_path

            bundle = os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True)
            self.context = ssl.create_default_context(cafile=bundle)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:
        """POST ``body`` to ``/``; raises :class:`ConnectionFailedError` when no answer came."""
        connection = self._take()
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as error:
            connection.close()
            raise ConnectionFailedError("read-timeout", type(error).__name__) from error
        except (http.client.HTTPException, OSError) as error:
            connection.close()
            raise ConnectionFailedError("closed", type(error).__name__) from error
        answer = HttpAnswer(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            content,
        )
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return answer

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect()
            sock = connection.sock
            # Readable while idle means the server closed it (or sent junk): never reuse it.
            if sock is not None and not wait_for_read(sock, timeout=0.0):
                return connection
            connection.close()

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.max_connections:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self.context is not None:
            connection = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.connect_timeout, context=self.context
            )
        else:
            connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.connect_timeout
            )
        try:
            connection.connect()
        except OSError as error:
            connection.close()
            raise ConnectionFailedError("connect", type(error).__name__) from error
        sock = connection.sock
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.read_timeout)
        return connection

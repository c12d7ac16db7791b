"""The lean transport's HTTP/1.1: kept-alive connections to one endpoint, reused last-in first-out.

A request is written with one ``sendall`` (head and body together) and its answer read straight
from the socket into the sans-I/O parser (:mod:`~pydantic_dynamo.transport.http_parser`, which
the asyncio pool, :mod:`~pydantic_dynamo.transport.async_http`, shares): the status line and
headers are split by hand and the body read to its ``Content-Length`` (or its chunks), never
past it. The standard library's ``http.client``
costs more per request, most of it in ``email``'s header parser, and urllib3's pool
(botocore's) more again; for a small request that is most of what the client spends
(``python -m benchmarks.transport_bench`` measures it; the figures are in
docs/lean-transport.md).

What urllib3's pool adds that matters here is kept: a pooled connection that the server closed
while it sat idle is detected before reuse (a zero-timeout poll, as urllib3's
``wait_for_read``) and replaced; at most ``max_connections`` idle connections are kept
(botocore's default is 10); sockets have ``TCP_NODELAY``; HTTPS verifies certificates and host
names against the bundle botocore would use (``AWS_CA_BUNDLE`` when set, else certifi's or
botocore's own). A connection goes back to the pool only after a complete, well-formed answer
that did not ask to close. Nothing is retried here: retrying is the transport's decision
(:mod:`pydantic_dynamo.transport.retries`).

Through a proxy (:mod:`pydantic_dynamo.transport.proxies`), each connection starts as a
``CONNECT`` tunnel to the endpoint, TLS then running inside it to the endpoint itself (the
certificate and host name checked against the endpoint's host, never the proxy's).
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic_dynamo.transport.http_parser import (
    READ_SIZE,
    AnswerParser,
    HttpAnswer,
    MalformedAnswerError,
    connect_request,
    request_bytes,
    tunnel_refusal,
)

if TYPE_CHECKING:
    from pydantic_dynamo.transport.proxies import Proxy

__all__ = [
    "ConnectionFailedError",
    "HttpAnswer",
    "HttpPool",
    "PoolSettings",
    "readable_now",
    "tls_context",
]


class ConnectionFailedError(Exception):
    """No answer: the connection could not be made, was dropped, or timed out.

    ``kind`` is ``"connect"`` (nothing was sent), ``"proxy"`` (the proxy could not be reached
    or refused the tunnel: nothing was sent either), ``"closed"`` or ``"read-timeout"`` (the
    request may have reached the service).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class PoolSettings:
    """Where a pool connects and how patiently: the endpoint's host, port and TLS context, the
    proxy, the idle limit and the timeouts (shared by the sync and the asyncio pool)."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        max_connections: int = 10,
        connect_timeout: float = 60.0,
        read_timeout: float = 60.0,
        proxy: Proxy | None = None,
    ) -> None:
        parts = urlsplit(endpoint_url)
        self.proxy = proxy
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.context = tls_context() if self.https else None


class HttpPool(PoolSettings):
    """POSTs bodies to one endpoint over reused connections (thread-safe); arguments are
    :class:`PoolSettings`'."""

    def __init__(self, endpoint_url: str, **settings: Any) -> None:
        super().__init__(endpoint_url, **settings)
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:
        """POST ``body`` to ``/``; raises :class:`ConnectionFailedError` when no answer came.

        ``Content-Length`` is added; header names and values must not hold CR or LF.
        """
        request = request_bytes(headers, body)
        sock = self._take()
        # One deadline for sending the request and reading the whole answer: a server that
        # trickles its answer cannot hold a call past read_timeout (as a per-read timeout would).
        deadline = time.monotonic() + self.read_timeout
        try:
            try:
                sock.settimeout(self.read_timeout)
                sock.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                # The server may have answered early (a 413, say) and closed before reading the
                # whole body: that answer, when it came, is the outcome, as urllib3 reads it.
                answer = _read(_Reader(sock, deadline), AnswerParser()).answer()
                sock.close()
                return answer
            parser = _read(_Reader(sock, deadline), AnswerParser())
        except TimeoutError as error:
            sock.close()
            raise ConnectionFailedError("read-timeout", type(error).__name__) from error
        except (OSError, MalformedAnswerError) as error:
            sock.close()
            raise ConnectionFailedError("closed", type(error).__name__) from error
        except BaseException:
            sock.close()
            raise
        if parser.reusable and not _pending(sock):
            self._give_back(sock)
        else:  # asked to close, or bytes past the answer: the stream is out of step
            sock.close()
        return parser.answer()

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()

    def _take(self) -> socket.socket:
        while True:
            with self._lock:
                sock = self._idle.pop() if self._idle else None
            if sock is None:
                return self._connect()
            # Readable while idle means the server closed it (or sent junk): never reuse it.
            if not _pending(sock) and not readable_now(sock.fileno()):
                return sock
            sock.close()

    def _give_back(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self.max_connections:
                self._idle.append(sock)
                return
        sock.close()

    def _connect(self) -> socket.socket:
        proxy = self.proxy
        address = (self.host, self.port) if proxy is None else (proxy.host, proxy.port)
        try:
            sock = socket.create_connection(address, timeout=self.connect_timeout)
        except OSError as error:
            kind = "connect" if proxy is None else "proxy"
            raise ConnectionFailedError(kind, type(error).__name__) from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if proxy is not None:
                self._open_tunnel(sock, proxy)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except ConnectionFailedError:
            sock.close()
            raise
        except OSError as error:  # ssl.SSLError included: nothing was sent yet
            sock.close()
            raise ConnectionFailedError("connect", type(error).__name__) from error
        sock.settimeout(self.read_timeout)
        return sock

    def _open_tunnel(self, sock: socket.socket, proxy: Proxy) -> None:
        """Ask the proxy for a tunnel to the endpoint (``CONNECT``); raise unless it opened."""
        reader = _Reader(sock, time.monotonic() + self.connect_timeout)
        try:
            sock.sendall(connect_request(self.host, self.port, proxy.authorization))
            parser = _read(reader, AnswerParser(head_only=True))
        except (OSError, MalformedAnswerError) as error:
            raise ConnectionFailedError("proxy", type(error).__name__) from error
        refusal = tunnel_refusal(parser)
        if refusal is not None:
            raise ConnectionFailedError("proxy", refusal)


def _pending(sock: socket.socket) -> bool:
    """Whether TLS holds decrypted bytes not read yet (a poll of the socket cannot see them)."""
    pending = getattr(sock, "pending", None)
    return bool(pending()) if pending is not None else False


def readable_now(fd: int) -> bool:
    """Whether reading ``fd`` would not block now: data, or the peer's close (poll, else select).

    A pooled connection readable while idle was closed by the server (or sent junk): the
    asyncio pool asks the same of its sockets.
    """
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def tls_context() -> ssl.SSLContext:
    """Certificates and host names verified against the bundle botocore would use."""
    from botocore.httpsession import get_cert_path

    bundle = os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True)
    return ssl.create_default_context(cafile=bundle)


class _Reader:
    """Reads from a socket until a deadline (``time.monotonic()``), then raises TimeoutError."""

    __slots__ = ("deadline", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def _wait(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the answer did not arrive within read_timeout")
        self.sock.settimeout(remaining)

    def recv(self, size: int = READ_SIZE) -> bytes:
        self._wait()
        return self.sock.recv(size)


def _read(reader: _Reader, parser: AnswerParser) -> AnswerParser:
    """Feed ``parser`` from the socket until its answer is complete."""
    while not parser.complete:
        data = reader.recv(parser.read_size())
        if data:
            parser.feed(data)
        else:
            parser.feed_eof()
    return parser

"""The lean transport's HTTP/1.1: kept-alive connections to one endpoint, reused last-in first-out.

A request is written with one ``sendall`` (head and body together) and its answer read straight
from the socket: the status line and headers are split by hand and the body read to its
``Content-Length`` (or its chunks) into one buffer. The standard library's ``http.client``
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
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pydantic_dynamo.transport.proxies import Proxy

__all__ = ["ConnectionFailedError", "HttpAnswer", "HttpPool"]

# Limits on what a server may send: DynamoDB's heads are well under 1 kB, and its largest
# answers (a BatchGetItem of 16 MB of items, as JSON) well under the body limit.
_MAX_HEAD_BYTES = 64 * 1024
_MAX_BODY_BYTES = 64 * 1024 * 1024
_RECV_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An HTTP response, fully read; header names lower-cased."""

    status_code: int
    headers: dict[str, str]
    content: bytes


class ConnectionFailedError(Exception):
    """No answer: the connection could not be made, was dropped, or timed out.

    ``kind`` is ``"connect"`` (nothing was sent), ``"proxy"`` (the proxy could not be reached
    or refused the tunnel: nothing was sent either), ``"closed"`` or ``"read-timeout"`` (the
    request may have reached the service).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class _MalformedAnswerError(Exception):
    """The server's bytes are not an HTTP/1.x answer (the connection is then dropped)."""


class HttpPool:
    """POSTs bodies to one endpoint over reused connections (thread-safe)."""

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
        self.context: ssl.SSLContext | None = None
        if self.https:
            from botocore.httpsession import get_cert_path

            bundle = os.environ.get("AWS_CA_BUNDLE") or get_cert_path(True)
            self.context = ssl.create_default_context(cafile=bundle)
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:
        """POST ``body`` to ``/``; raises :class:`ConnectionFailedError` when no answer came.

        ``Content-Length`` is added; header names and values must not hold CR or LF.
        """
        head = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        # Each line ends in the one CRLF: any other CR or LF is a value trying to add a header.
        if head.count("\n") != len(headers) or head.count("\r") != len(headers):
            raise ValueError("HTTP header names and values cannot hold CR or LF")
        request = f"POST / HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
        sock = self._take()
        # One deadline for sending the request and reading the whole answer: a server that
        # trickles its answer cannot hold a call past read_timeout (as a per-read timeout would).
        deadline = time.monotonic() + self.read_timeout
        try:
            try:
                sock.settimeout(self.read_timeout)
                sock.sendall(request + body)
            except (BrokenPipeError, ConnectionResetError):
                # The server may have answered early (a 413, say) and closed before reading the
                # whole body: that answer, when it came, is the outcome, as urllib3 reads it.
                answer, _ = _read_answer(_Reader(sock, deadline))
                sock.close()
                return answer
            answer, keep = _read_answer(_Reader(sock, deadline))
        except TimeoutError as error:
            sock.close()
            raise ConnectionFailedError("read-timeout", type(error).__name__) from error
        except (OSError, _MalformedAnswerError) as error:
            sock.close()
            raise ConnectionFailedError("closed", type(error).__name__) from error
        except BaseException:
            sock.close()
            raise
        if keep and not _pending(sock):
            self._give_back(sock)
        else:  # asked to close, or bytes past the answer: the stream is out of step
            sock.close()
        return answer

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
            if not _pending(sock) and not _readable(sock):
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
        host = f"[{self.host}]" if ":" in self.host else self.host
        target = f"{host}:{self.port}"
        head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
        if proxy.authorization is not None:
            head += f"Proxy-Authorization: {proxy.authorization}\r\n"
        reader = _Reader(sock, time.monotonic() + self.connect_timeout)
        try:
            sock.sendall((head + "\r\n").encode("latin-1"))
            data = b""
            while (end := data.find(b"\r\n\r\n")) < 0:
                if len(data) > _MAX_HEAD_BYTES:
                    raise _MalformedAnswerError("proxy answer's head too long")
                chunk = reader.recv(_RECV_BYTES)
                if not chunk:
                    raise ConnectionResetError("the proxy closed the connection")
                data += chunk
        except (OSError, _MalformedAnswerError) as error:
            raise ConnectionFailedError("proxy", type(error).__name__) from error
        status_line = data[: data.find(b"\r\n")].decode("latin-1")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        # Bytes past the head: the endpoint cannot have spoken before the client did.
        if not (version.startswith("HTTP/1.") and code.startswith("2")) or data[end + 4 :]:
            raise ConnectionFailedError("proxy", f"the proxy refused the tunnel: {status_line}")


def _pending(sock: socket.socket) -> bool:
    """Whether TLS holds decrypted bytes not read yet (a poll of the socket cannot see them)."""
    pending = getattr(sock, "pending", None)
    return bool(pending()) if pending is not None else False


def _readable(sock: socket.socket) -> bool:
    """Whether reading would not block now: data, or the peer's close (poll, else select)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


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

    def recv(self, size: int) -> bytes:
        self._wait()
        return self.sock.recv(size)

    def recv_into(self, view: memoryview) -> int:
        self._wait()
        return self.sock.recv_into(view)


def _read_answer(sock: _Reader) -> tuple[HttpAnswer, bool]:
    """Read one whole answer; also whether the connection may carry another request."""
    data = b""
    while True:  # 1xx answers (none expected: no "Expect" is sent) are skipped
        end = data.find(b"\r\n\r\n")
        while end < 0:
            if len(data) > _MAX_HEAD_BYTES:
                raise _MalformedAnswerError("header section too long")
            chunk = sock.recv(_RECV_BYTES)
            if not chunk:
                raise ConnectionResetError("connection closed before the answer's head")
            data += chunk
            end = data.find(b"\r\n\r\n")
        lines = data[:end].decode("latin-1").split("\r\n")
        data = data[end + 4 :]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not (version.startswith("HTTP/1.") and len(code) == 3 and _is_number(code)):
            raise _MalformedAnswerError("bad status line")
        status = int(code)
        if status >= 200:
            break
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise _MalformedAnswerError("bad header line")
        name = name.strip().lower()
        value = value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise _MalformedAnswerError("conflicting Content-Length headers")
        headers[name] = value  # a repeated header: the last one wins, as http.client's dict did
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    keep = "close" not in tokens and version != "HTTP/1.0"
    codings = [c.strip().lower() for c in headers.get("transfer-encoding", "").split(",") if c]
    # RFC 9112's order: bodiless statuses, then Transfer-Encoding (chunked last, else the body
    # runs to the close), then Content-Length, else to the close.
    if status in (204, 304):
        content = b""
        keep = keep and not data
    elif codings:
        if codings[-1] == "chunked" and len(codings) == 1:
            content, leftover = _read_chunked(sock, data)
            keep = keep and not leftover
        else:  # another coding (none is asked for): read it all, never reuse the connection
            content = _read_to_close(sock, data)
            keep = False
    elif "content-length" in headers:
        length = headers["content-length"]
        if not _is_number(length) or int(length) > _MAX_BODY_BYTES:
            raise _MalformedAnswerError("bad or too large Content-Length")
        content = _read_exactly(sock, data, int(length))
    else:  # no length: the body runs to the end of the connection
        content = _read_to_close(sock, data)
        keep = False
    return HttpAnswer(status, headers, content), keep


def _is_number(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes ``²``, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def _read_exactly(sock: _Reader, start: bytes, length: int) -> bytes:
    if len(start) >= length:
        if len(start) > length:  # bytes past the answer: the stream is out of step
            raise _MalformedAnswerError("more bytes than Content-Length")
        return start
    buffer = bytearray(length)
    buffer[: len(start)] = start
    view = memoryview(buffer)
    filled = len(start)
    while filled < length:
        got = sock.recv_into(view[filled:])
        if not got:
            raise ConnectionResetError("connection closed inside the answer's body")
        filled += got
    return bytes(buffer)


def _read_chunked(sock: _Reader, data: bytes) -> tuple[bytes, bytes]:
    """The body, and whatever came after it (which must be nothing on a reusable connection)."""
    parts: list[bytes] = []
    total = 0
    while True:
        end = data.find(b"\r\n")
        while end < 0:
            if len(data) > _MAX_HEAD_BYTES:
                raise _MalformedAnswerError("chunk size line too long")
            data += _recv_more(sock)
            end = data.find(b"\r\n")
        size_text = data[:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _MalformedAnswerError("bad chunk size") from None
        data = data[end + 2 :]
        if size == 0:  # the last chunk, then trailers up to an empty line
            while not (data.startswith(b"\r\n") or b"\r\n\r\n" in data):
                if len(data) > _MAX_HEAD_BYTES:
                    raise _MalformedAnswerError("trailers too long")
                data += _recv_more(sock)
            end = 2 if data.startswith(b"\r\n") else data.index(b"\r\n\r\n") + 4
            return b"".join(parts), data[end:]
        total += size
        if total > _MAX_BODY_BYTES:
            raise _MalformedAnswerError("chunked body too large")
        while len(data) < size + 2:
            data += _recv_more(sock)
        if data[size : size + 2] != b"\r\n":
            raise _MalformedAnswerError("chunk without its CRLF")
        parts.append(data[:size])
        data = data[size + 2 :]


def _recv_more(sock: _Reader) -> bytes:
    chunk = sock.recv(_RECV_BYTES)
    if not chunk:
        raise ConnectionResetError("connection closed inside a chunked body")
    return chunk


def _read_to_close(sock: _Reader, data: bytes) -> bytes:
    parts = [data]
    total = len(data)
    while chunk := sock.recv(_RECV_BYTES):
        total += len(chunk)
        if total > _MAX_BODY_BYTES:
            raise _MalformedAnswerError("body too large")
        parts.append(chunk)
    return b"".join(parts)

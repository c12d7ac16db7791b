"""HTTP/1.1 as bytes in and out, with no sockets: the request writer and the answer parser.

Both HTTP shells, the sync socket loop (:mod:`~pydantic_dynamo.transport.http`) and the asyncio
protocol (:mod:`~pydantic_dynamo.transport.async_http`), write requests with
:func:`request_bytes` (or :func:`connect_request` for a proxy's tunnel) and feed whatever bytes
arrive to an :class:`AnswerParser`, as httpcore's loops sit on h11: the framing rules live here
once, and are tested with bytes in any chunking.

The parser follows RFC 9112's order: 1xx answers are skipped; 204 and 304 have no body; a
``Transfer-Encoding`` ending in ``chunked`` (alone) is read chunk by chunk, trailers skipped;
another coding, or no length at all, runs to the connection's close; else ``Content-Length``.
Anything malformed (a bad status or header line, a bad, conflicting, non-ASCII or huge length,
a bad chunk, a head past 64 KiB, a body past 64 MiB, the connection closed inside the answer)
raises :class:`MalformedAnswerError`. Bytes past a complete answer never raise: the answer
stands, and the connection is not reusable (the stream is out of step).

>>> parser = AnswerParser()
>>> parser.feed(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r")
>>> parser.complete
False
>>> parser.feed(b"\\n{}")
>>> parser.complete, parser.reusable, parser.answer()
(True, True, HttpAnswer(status_code=200, headers={'content-length': '2'}, content=b'{}'))
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "READ_SIZE",
    "AnswerParser",
    "HttpAnswer",
    "MalformedAnswerError",
    "connect_request",
    "request_bytes",
    "tunnel_refusal",
]

# Limits on what a server may send: DynamoDB's heads are well under 1 kB, and its largest
# answers (a BatchGetItem of 16 MB of items, as JSON) well under the body limit.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
# How much a shell reads at once when the answer's remaining size is unknown.
READ_SIZE = 64 * 1024
# At most this much is read at once into a body of known length.
_MAX_BODY_READ = 256 * 1024

_HEX_DIGITS = b"0123456789abcdefABCDEF"

_HEAD = 0
_BODY = 1
_CHUNK_SIZE = 2
_CHUNK_DATA = 3
_CHUNK_END = 4
_TRAILERS = 5
_TO_CLOSE = 6
_DONE = 7


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An HTTP response, fully read; header names lower-cased."""

    status_code: int
    headers: dict[str, str]
    content: bytes


class MalformedAnswerError(Exception):
    """The server's bytes are not an HTTP/1.x answer (the connection is then dropped)."""


def request_bytes(headers: dict[str, str], body: bytes) -> bytes:
    """``POST /`` with ``headers``, ``Content-Length`` and ``body``, as one buffer.

    Header names and values must not hold CR or LF (:class:`ValueError` otherwise).

    >>> request_bytes({"Host": "h"}, b"{}")
    b'POST / HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 2\\r\\n\\r\\n{}'
    """
    head = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    # Each line ends in the one CRLF: any other CR or LF is a value trying to add a header.
    if head.count("\n") != len(headers) or head.count("\r") != len(headers):
        raise ValueError("HTTP header names and values cannot hold CR or LF")
    start = f"POST / HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
    return start + body


def connect_request(host: str, port: int, authorization: str | None) -> bytes:
    """A proxy's ``CONNECT`` to ``host:port`` (with ``Proxy-Authorization`` when given).

    >>> connect_request("::1", 8000, None)
    b'CONNECT [::1]:8000 HTTP/1.1\\r\\nHost: [::1]:8000\\r\\n\\r\\n'
    """
    shown = f"[{host}]" if ":" in host else host
    target = f"{shown}:{port}"
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if authorization is not None:
        head += f"Proxy-Authorization: {authorization}\r\n"
    return (head + "\r\n").encode("latin-1")


def tunnel_refusal(parser: AnswerParser) -> str | None:
    """Why a proxy's complete answer to ``CONNECT`` (parsed ``head_only``) opened no tunnel.

    ``None`` when it opened one: a 2xx answer, and nothing past its head (the endpoint cannot
    have spoken before the client did).
    """
    if 200 <= parser.status < 300 and not parser.leftover:
        return None
    return f"the proxy refused the tunnel: {parser.status_line}"


def _is_number(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes ``²``, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


class AnswerParser:
    """One HTTP/1.x answer, assembled from the bytes fed to it (see the module doc).

    Feed what arrives with :meth:`feed`, the peer's close with :meth:`feed_eof`; once
    :attr:`complete`, :meth:`answer` is the answer and :attr:`reusable` says whether the
    connection may carry another request. ``head_only`` stops after the head (a proxy's answer
    to ``CONNECT`` has no body). :meth:`read_size` is how much a shell should read next, so
    that a body of known length is never read past.
    """

    __slots__ = (
        "_data",
        "_head_only",
        "_keep",
        "_parts",
        "_remaining",
        "_state",
        "_total",
        "headers",
        "leftover",
        "reusable",
        "status",
        "status_line",
    )

    def __init__(self, *, head_only: bool = False) -> None:
        self._state = _HEAD
        self._head_only = head_only
        self._data = b""
        self._parts: list[bytes] = []
        self._remaining = 0
        self._total = 0
        self._keep = False
        self.status = 0
        self.status_line = ""
        self.headers: dict[str, str] = {}
        self.leftover = b""
        self.reusable = False

    @property
    def complete(self) -> bool:
        """Whether the whole answer has arrived."""
        return self._state == _DONE

    def read_size(self) -> int:
        """How many bytes to read next (never past a body of known length)."""
        if self._state == _BODY:
            return min(self._remaining, _MAX_BODY_READ)
        return READ_SIZE

    def answer(self) -> HttpAnswer:
        """The answer (once :attr:`complete`)."""
        if self._state != _DONE:
            raise RuntimeError("the answer is not complete")
        parts = self._parts
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        return HttpAnswer(self.status, self.headers, content)

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the stream."""
        if self._state == _DONE:
            if data:
                self.leftover += data
                self.reusable = False
            return
        self._data += data
        self._advance()

    def feed_eof(self) -> None:
        """The peer closed the connection: a body running to the close ends here."""
        if self._state == _TO_CLOSE:
            self._finish(b"")
        elif self._state != _DONE:
            raise MalformedAnswerError("the connection closed inside the answer")
        self.reusable = False

    # -- the states ------------------------------------------------------------------------------

    def _advance(self) -> None:
        while self._state != _DONE:
            state = self._state
            if state == _HEAD:
                if not self._head():
                    return
            elif state in (_BODY, _CHUNK_DATA):
                data = self._data
                if len(data) < self._remaining:
                    if data:
                        self._parts.append(data)
                        self._remaining -= len(data)
                        self._data = b""
                    return
                self._parts.append(data[: self._remaining])
                self._data = data[self._remaining :]
                self._remaining = 0
                if state == _BODY:
                    self._finish(self._data)
                else:
                    self._state = _CHUNK_END
            elif state == _CHUNK_SIZE:
                if not self._chunk_size():
                    return
            elif state == _CHUNK_END:
                if len(self._data) < 2:
                    return
                if not self._data.startswith(b"\r\n"):
                    raise MalformedAnswerError("chunk without its CRLF")
                self._data = self._data[2:]
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                if not self._trailers():
                    return
            else:  # _TO_CLOSE
                self._total += len(self._data)
                if self._total > MAX_BODY_BYTES:
                    raise MalformedAnswerError("body too large")
                if self._data:
                    self._parts.append(self._data)
                    self._data = b""
                return

    def _finish(self, rest: bytes) -> None:
        self._state = _DONE
        self._data = b""
        self.leftover = rest
        self.reusable = self._keep and not rest

    def _head(self) -> bool:
        data = self._data
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > MAX_HEAD_BYTES:
                raise MalformedAnswerError("header section too long")
            return False
        lines = data[:end].decode("latin-1").split("\r\n")
        rest = data[end + 4 :]
        version, _, text = lines[0].partition(" ")
        code = text[:3]
        if not (version.startswith("HTTP/1.") and len(code) == 3 and _is_number(code)):
            raise MalformedAnswerError("bad status line")
        status = int(code)
        if status < 200:  # 1xx answers (none expected: no "Expect" is sent) are skipped
            self._data = rest
            return True
        self.status = status
        self.status_line = lines[0]
        headers = self.headers
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise MalformedAnswerError("bad header line")
            name = name.strip().lower()
            value = value.strip()
            if name == "content-length" and headers.get(name, value) != value:
                raise MalformedAnswerError("conflicting Content-Length headers")
            headers[name] = value  # a repeated header: the last one wins, as http.client's did
        tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        self._keep = "close" not in tokens and version != "HTTP/1.0"
        self._data = rest
        if self._head_only or status in (204, 304):
            self._finish(rest)
            return True
        codings = [c.strip().lower() for c in headers.get("transfer-encoding", "").split(",") if c]
        if codings:
            if codings == ["chunked"]:
                self._state = _CHUNK_SIZE
            else:  # another coding (none is asked for): read it all, never reuse the connection
                self._keep = False
                self._state = _TO_CLOSE
        elif "content-length" in headers:
            length = headers["content-length"]
            if not _is_number(length) or int(length) > MAX_BODY_BYTES:
                raise MalformedAnswerError("bad or too large Content-Length")
            self._remaining = int(length)
            self._state = _BODY
        else:  # no length: the body runs to the end of the connection
            self._keep = False
            self._state = _TO_CLOSE
        return True

    def _chunk_size(self) -> bool:
        data = self._data
        end = data.find(b"\r\n")
        if end < 0:
            if len(data) > MAX_HEAD_BYTES:
                raise MalformedAnswerError("chunk size line too long")
            return False
        size_text = data[:end].split(b";", 1)[0].strip()
        # Hex digits only: int() would also take a sign, "0x" and underscores.
        if not size_text or size_text.strip(_HEX_DIGITS):
            raise MalformedAnswerError("bad chunk size")
        size = int(size_text, 16)
        self._data = data[end + 2 :]
        if size == 0:  # the last chunk, then trailers up to an empty line
            self._state = _TRAILERS
            return True
        self._total += size
        if self._total > MAX_BODY_BYTES:
            raise MalformedAnswerError("chunked body too large")
        self._remaining = size
        self._state = _CHUNK_DATA
        return True

    def _trailers(self) -> bool:
        data = self._data
        if data.startswith(b"\r\n"):
            self._finish(data[2:])
            return True
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > MAX_HEAD_BYTES:
                raise MalformedAnswerError("trailers too long")
            return False
        self._finish(data[end + 4 :])
        return True

"""The lean transport's HTTP/1.1 reader and writer, against a scripted server on loopback."""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pydantic_dynamo.transport.http import ConnectionFailedError, HttpPool

# After the answer, the script's server closes the connection.
CLOSE = b"<close>"
# Inside an answer: send what came before as its own write (its own TLS record), then the rest.
FLUSH = b"<flush>"


class ScriptedServer:
    """Answers each request with the next scripted bytes; records requests and connections."""

    def __init__(self, answers: list[bytes], tls: ssl.SSLContext | None = None) -> None:
        self.answers = list(answers)
        self.tls = tls
        self.requests: list[bytes] = []
        self.connections = 0
        self.connection_ended = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        # A thread per connection: a client that wrongly abandons one can still open the next.
        while self.answers:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):  # the client refused our certificate
                conn.close()
                self.connection_ended.set()
                return
        with conn, contextlib.suppress(OSError):  # OSError: the client closed it
            self._serve_connection(conn)
        self.connection_ended.set()

    def _serve_connection(self, conn: socket.socket) -> None:
        data = b""
        while self.answers:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(data) < length:
                data += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + data[:length])
            data = data[length:]
            with self._lock:
                answer = self.answers.pop(0)
            closing = answer.endswith(CLOSE)
            for part in answer.removesuffix(CLOSE).split(FLUSH):
                conn.sendall(part)
                time.sleep(0.05 if FLUSH in answer else 0)
            if closing:
                return

    def close(self) -> None:
        self._listener.close()


@contextmanager
def scripted(*answers: bytes) -> Iterator[tuple[ScriptedServer, HttpPool]]:
    server = ScriptedServer(list(answers))
    pool = HttpPool(server.url, read_timeout=5.0)
    try:
        yield server, pool
    finally:
        pool.close()
        server.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"


def test_a_request_is_one_post_with_its_length_and_the_connection_is_reused() -> None:
    with scripted(OK, OK) as (server, pool):
        first = pool.post({"Host": "h", "X-Amz-Target": "T"}, b'{"a":1}')
        second = pool.post({"Host": "h"}, b"{}")
    assert first.status_code == 200
    assert first.content == second.content == b"{}"
    assert first.headers["content-type"] == "application/x-amz-json-1.0"
    assert server.requests[0] == (
        b'POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Target: T\r\nContent-Length: 7\r\n\r\n{"a":1}'
    )
    assert server.connections == 1


def test_a_large_body_arrives_whole() -> None:
    body = b"x" * 3_000_000
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with scripted(answer) as (_, pool):
        assert pool.post({}, b"{}").content == body


def test_chunked_answers_and_informational_answers_are_read() -> None:
    chunked = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n'
    )
    with scripted(chunked, OK) as (server, pool):
        assert pool.post({}, b"{}").content == b'{"a":1}'
        assert pool.post({}, b"{}").content == b"{}"
    assert server.connections == 1


def test_an_answer_without_a_length_runs_to_the_close() -> None:
    with scripted(b"HTTP/1.0 500 Oops\r\nDate: x\r\n\r\nnot json" + CLOSE, OK) as (server, pool):
        answer = pool.post({}, b"{}")
        assert (answer.status_code, answer.content) == (500, b"not json")
        assert pool.post({}, b"{}").status_code == 200
    assert server.connections == 2


def test_connection_close_is_honoured() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}" + CLOSE
    with scripted(closing, OK) as (server, pool):
        pool.post({}, b"{}")
        pool.post({}, b"{}")
    assert server.connections == 2


def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    with scripted(OK + CLOSE, OK) as (server, pool):
        pool.post({}, b"{}")
        # The server closed it after answering; the pool notices before reusing it.
        assert server.connection_ended.wait(5.0)
        assert pool.post({}, b"{}").status_code == 200
    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage\r\n\r\n" + CLOSE,
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n" + CLOSE,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" + CLOSE,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}" + CLOSE,
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n" + CLOSE,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + CLOSE,
        b"" + CLOSE,
    ],
    ids=["status", "header", "truncated", "two-lengths", "bad-length", "bad-chunk", "empty"],
)
def test_a_broken_answer_is_a_closed_connection_not_a_response(answer: bytes) -> None:
    with scripted(answer) as (_, pool), pytest.raises(ConnectionFailedError) as failed:
        pool.post({}, b"{}")
    assert failed.value.kind == "closed"


def test_a_silent_server_is_a_read_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        pool = HttpPool(f"http://127.0.0.1:{listener.getsockname()[1]}", read_timeout=0.2)
        with pytest.raises(ConnectionFailedError) as failed:
            pool.post({}, b"{}")
        assert failed.value.kind == "read-timeout"
    finally:
        listener.close()


def test_nothing_listening_is_a_connect_failure() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(ConnectionFailedError) as failed:
        HttpPool(f"http://127.0.0.1:{port}").post({}, b"{}")
    assert failed.value.kind == "connect"


@pytest.mark.parametrize("value", ["a\r\nInjected: 1", "a\nb", "a\rb"])
def test_header_values_cannot_smuggle_headers(value: str) -> None:
    pool = HttpPool("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="CR or LF"):
        pool.post({"X-Amz-Security-Token": value}, b"{}")


def _certificates(folder: Path, host: str) -> tuple[Path, ssl.SSLContext]:
    """A CA (its PEM file) and a server context with a certificate for ``host`` it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(
        subject: str,
        issuer: str,
        key: ec.EllipticCurvePrivateKey,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("test CA", "test CA", ca_key, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = build(host, "test CA", server_key, ca_key, ca=False)
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = folder / "server.pem"
    chain.write_bytes(
        server.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain)
    return ca_file, context


@pytest.mark.parametrize(
    ("certified_host", "trusted", "works"),
    [("localhost", True, True), ("localhost", False, False), ("elsewhere.test", True, False)],
    ids=["trusted", "unknown-ca", "wrong-host"],
)
def test_https_talks_only_to_a_certificate_it_trusts_for_that_host(
    certified_host: str,
    trusted: bool,
    works: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca_file, context = _certificates(tmp_path, certified_host)
    if trusted:
        monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    else:
        monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    server = ScriptedServer([OK], tls=context)
    pool = HttpPool(f"https://localhost:{server.port}", read_timeout=5.0)
    try:
        if works:
            assert pool.post({"Host": "localhost"}, b"{}").content == b"{}"
        else:
            with pytest.raises(ConnectionFailedError) as failed:
                pool.post({"Host": "localhost"}, b"{}")
            assert failed.value.kind == "connect"
    finally:
        pool.close()
        server.close()


def test_an_early_answer_to_a_request_the_server_would_not_read_is_returned() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def refuse() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 13\r\n"
                b'Connection: close\r\n\r\n{"message":1}'
            )

    server = threading.Thread(target=refuse, daemon=True)
    server.start()
    try:
        pool = HttpPool(f"http://127.0.0.1:{listener.getsockname()[1]}", read_timeout=5.0)
        answer = pool.post({}, b"x" * 8_000_000)
        assert (answer.status_code, answer.content) == (413, b'{"message":1}')
    finally:
        server.join(5)
        listener.close()


@pytest.mark.parametrize(
    ("first", "connections"),
    [
        (
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\n{}",
            2,
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}" + CLOSE, 2),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 1),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\njunk",
            2,
        ),
    ],
    ids=["close-token", "other-coding", "bodiless-status", "bytes-after-chunks"],
)
def test_framing_decides_reuse(first: bytes, connections: int) -> None:
    with scripted(first, OK) as (server, pool):
        pool.post({}, b"{}")
        assert pool.post({}, b"{}").content == b"{}"
    assert server.connections == connections


@pytest.mark.parametrize(
    "length", ["1000000000000000", "\u00b2"], ids=["beyond-the-limit", "not-ascii-digits"]
)
def test_an_unreasonable_length_is_a_closed_connection(length: str) -> None:
    answer = f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode() + CLOSE
    with scripted(answer) as (_, pool), pytest.raises(ConnectionFailedError) as failed:
        pool.post({}, b"{}")
    assert failed.value.kind == "closed"


def test_bytes_tls_holds_past_the_answer_are_never_read_as_the_next_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, context = _certificates(tmp_path, "localhost")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    forged = b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"x":"y"}'
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + FLUSH + b"{}" + forged
    server = ScriptedServer([first, OK], tls=context)
    pool = HttpPool(f"https://localhost:{server.port}", read_timeout=5.0)
    try:
        assert pool.post({"Host": "localhost"}, b"{}").content == b"{}"
        assert pool.post({"Host": "localhost"}, b"{}").content == b"{}"
        assert server.connections == 2
    finally:
        pool.close()
        server.close()

"""The lean transport through an HTTP proxy: CONNECT tunnels, proxy auth, NO_PROXY, TLS inside."""

from __future__ import annotations

import base64
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError, ProxyConnectionError

from pydantic_dynamo.transport import LeanClient, TransportRetries
from pydantic_dynamo.transport.proxies import (
    Proxy,
    ProxyUnsupportedError,
    bypasses_proxy,
    proxy_for,
)
from tests.unit.test_transport_http import ScriptedServer, _certificates

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"
SECRET = "s3cr#t"  # percent-encoded in the proxy URL ("%23")


class ConnectProxy:
    """A loopback CONNECT proxy: every host name it is asked for is 127.0.0.1 to it.

    It records each CONNECT head, answers ``407`` when ``credentials`` are required and not
    given, and otherwise relays bytes both ways until either side closes.
    """

    def __init__(self, credentials: str | None = None) -> None:
        self.credentials = credentials
        self.heads: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.heads.append(head)
            lines = head.split(b"\r\n")
            method, target, _ = lines[0].split(b" ")
            authorization = next(
                (
                    line.split(b":", 1)[1].strip()
                    for line in lines
                    if line.lower().startswith(b"proxy-authorization:")
                ),
                None,
            )
            if self.credentials is not None:
                expected = b"Basic " + base64.b64encode(self.credentials.encode())
                if authorization != expected:
                    conn.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
                    )
                    return
            assert method == b"CONNECT"
            port = int(target.rsplit(b":", 1)[1])
            upstream = socket.create_connection(("127.0.0.1", port))
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay = threading.Thread(target=_pipe, args=(upstream, conn), daemon=True)
            relay.start()
            _pipe(conn, upstream)
            relay.join(5.0)

    def close(self) -> None:
        self._listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    server = ConnectProxy(credentials=f"me:{SECRET}")
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def _client(endpoint: str, attempts: int = 1) -> LeanClient:
    return LeanClient(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="A",
        aws_secret_access_key="B",
        retries=TransportRetries(max_attempts=attempts, base_delay=0.01, max_delay=0.01),
    )


def test_an_http_endpoint_is_reached_through_a_connect_tunnel_with_proxy_auth(
    proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ScriptedServer([OK, OK])
    monkeypatch.setenv("HTTP_PROXY", proxy.url(f"me:{SECRET.replace('#', '%23')}@"))
    # A host name only the proxy can resolve: the request must have gone through it.
    client = _client(f"http://dynamodb.test:{server.port}")
    try:
        assert client.get_item(TableName="t", Key={})["ResponseMetadata"]["HTTPStatusCode"] == 200
        client.get_item(TableName="t", Key={})
    finally:
        client.close()
        server.close()
    assert len(proxy.heads) == 1  # one tunnel, kept alive for both requests
    head = proxy.heads[0].decode()
    assert head.startswith(f"CONNECT dynamodb.test:{server.port} HTTP/1.1\r\n")
    assert f"Host: dynamodb.test:{server.port}\r\n" in head
    # Inside the tunnel: the endpoint's own request, signed for the endpoint's host.
    assert server.requests[0].startswith(b"POST / HTTP/1.1\r\nHost: dynamodb.test:")


@pytest.mark.parametrize(
    ("certified_host", "works"),
    [("dynamodb.test", True), ("proxy.test", False)],
    ids=["endpoint-certificate", "certificate-for-another-host"],
)
def test_tls_runs_inside_the_tunnel_and_verifies_the_endpoint_not_the_proxy(
    certified_host: str,
    works: bool,
    proxy: ConnectProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca_file, context = _certificates(tmp_path, certified_host)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    monkeypatch.setenv("https_proxy", proxy.url(f"me:{SECRET.replace('#', '%23')}@"))
    server = ScriptedServer([OK], tls=context)
    client = _client(f"https://dynamodb.test:{server.port}")
    try:
        if works:
            assert client.get_item(TableName="t", Key={})["ResponseMetadata"]["RetryAttempts"] == 0
        else:
            with pytest.raises(EndpointConnectionError):
                client.get_item(TableName="t", Key={})
    finally:
        client.close()
        server.close()
    assert proxy.heads[0].startswith(f"CONNECT dynamodb.test:{server.port} ".encode())


def test_no_proxy_sends_straight_to_the_endpoint(
    proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ScriptedServer([OK])
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.1")
    client = _client(server.url)
    try:
        client.get_item(TableName="t", Key={})
    finally:
        client.close()
        server.close()
    assert proxy.heads == []
    assert server.connections == 1


def test_a_refused_tunnel_is_a_proxy_error_that_never_shows_the_password(
    proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HTTP_PROXY", proxy.url("me:wrong-password@"))
    client = _client("http://dynamodb.test:1", attempts=2)
    with pytest.raises(ProxyConnectionError) as raised:
        client.get_item(TableName="t", Key={})
    client.close()
    assert "407" in str(raised.value.kwargs["error"])
    assert len(proxy.heads) == 2  # refused tunnels are retried, as connection errors are
    shown = f"{raised.value} {raised.value.kwargs} {client._proxy!r} {caplog.text}"
    assert "wrong-password" not in shown
    assert base64.b64encode(b"me:wrong-password").decode() not in shown


def test_a_proxy_that_does_not_answer_is_a_proxy_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{port}")
    client = _client("https://dynamodb.us-east-1.amazonaws.com")
    with pytest.raises(ProxyConnectionError, match=f"127.0.0.1:{port}"):
        client.get_item(TableName="t", Key={})


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypassed"),
    [
        ("https://dynamodb.eu-west-1.amazonaws.com", "amazonaws.com", True),
        ("https://dynamodb.eu-west-1.amazonaws.com", ".amazonaws.com", True),
        ("https://dynamodb.eu-west-1.amazonaws.com", "notamazonaws.com", False),
        ("https://dynamodb.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com:443", True),
        (
            "https://dynamodb.eu-west-1.amazonaws.com",
            "dynamodb.eu-west-1.amazonaws.com:8443",
            False,
        ),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8001", False),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://localhost:8000", " other , LOCALHOST ", True),
        ("http://anything.test", "*", True),
        ("http://anything.test", "", False),
    ],
)
def test_no_proxy_matches_hosts_their_subdomains_and_ports(
    url: str, no_proxy: str, bypassed: bool
) -> None:
    assert bypasses_proxy(url, no_proxy) is bypassed


def test_the_proxy_is_the_one_for_the_endpoints_scheme_lower_case_first() -> None:
    environ = {
        "HTTPS_PROXY": "http://upper:1",
        "https_proxy": "http://lower:2",
        "HTTP_PROXY": "http://plain:3",
    }
    https = proxy_for("https://dynamodb.us-east-1.amazonaws.com", environ=environ)
    assert https is not None
    assert (https.host, https.port) == ("lower", 2)
    plain = proxy_for("http://127.0.0.1:8000", environ=environ)
    assert plain is not None
    assert plain.host == "plain"
    # An empty lower-case variable means "no proxy", as the standard library reads it.
    assert proxy_for("https://x.test", environ={**environ, "https_proxy": ""}) is None


def test_a_configured_proxy_wins_over_the_environment() -> None:
    from botocore.config import Config

    config = Config(proxies={"https": "http://configured:8080"})
    found = proxy_for(
        "https://x.test", config, environ={"HTTPS_PROXY": "http://env:1", "NO_PROXY": "*"}
    )
    assert found is not None
    assert found.host == "configured"


def test_an_https_proxy_is_refused_with_the_way_out() -> None:
    with pytest.raises(ProxyUnsupportedError, match="PYDANTIC_DYNAMO_TRANSPORT=boto3"):
        Proxy("https://proxy.test:3129")

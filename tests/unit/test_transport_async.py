"""The asyncio lean transport: its pool against scripted servers, its client against moto.

The pool is held to the sync pool's framing and reuse decisions (the same scripted servers,
:mod:`tests.unit.test_transport_http`), its deadlines, TLS verification and proxy tunnel; the
client to the sync client's requests, errors, retries, hooks and observers, and to the
repository's construction from aioboto3 (0.4.2's) or from nothing.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ProxyConnectionError
from moto.server import ThreadedMotoServer
from pydantic import BaseModel

from pydantic_dynamo import DynamoRepository, PartitionedContent, UpdateCommand
from pydantic_dynamo.transport import AsyncLeanClient, LeanClient, TransportRetries
from pydantic_dynamo.transport.async_http import AsyncHttpPool
from pydantic_dynamo.transport.http import ConnectionFailedError
from pydantic_dynamo.transport.observers import add_observer, remove_observer
from tests.unit.test_transport_http import CLOSE, FLUSH, OK, ScriptedServer, _certificates
from tests.unit.test_transport_observers import THROTTLED, Recorder
from tests.unit.test_transport_proxy import SECRET, ConnectProxy

T = TypeVar("T")
KEYS = {"aws_access_key_id": "AKIDASYNC", "aws_secret_access_key": "async-secret"}


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


async def posts(pool: AsyncHttpPool, count: int, body: bytes = b"{}") -> list[Any]:
    """``count`` POSTs in turn, then the pool closed: each answer or the failure it raised."""
    outcomes: list[Any] = []
    try:
        for _ in range(count):
            try:
                outcomes.append(await pool.post({"Host": "h"}, body))
            except ConnectionFailedError as failure:
                outcomes.append(failure)
    finally:
        await pool.close()
    return outcomes


# -- the pool: framing and reuse, as the sync pool decides them ---------------------------------

CHUNKED = (
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n'
)
# (script, contents of the two answers, connections the server saw)
REUSE = {
    "kept-alive": ([OK, OK], [b"{}", b"{}"], 1),
    "chunked-and-informational": ([CHUNKED, OK], [b'{"a":1}', b"{}"], 1),
    "read-to-close": ([b"HTTP/1.0 500 Oops\r\n\r\nnot json" + CLOSE, OK], [b"not json", b"{}"], 2),
    "connection-close": (
        [b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\n{}", OK],
        [b"{}", b"{}"],
        2,
    ),
    "bytes-after-chunks": (
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\njunk", OK],
        [b"{}", b"{}"],
        2,
    ),
    "bodiless-status": (
        [b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", OK],
        [b"", b"{}"],
        1,
    ),
    "closed-while-idle": ([OK + CLOSE, OK], [b"{}", b"{}"], 2),
}


@pytest.mark.parametrize(("script", "contents", "connections"), REUSE.values(), ids=REUSE.keys())
def test_framing_decides_reuse_as_in_the_sync_pool(
    script: list[bytes], contents: list[bytes], connections: int
) -> None:
    server = ScriptedServer(script)

    async def two() -> list[Any]:
        pool = AsyncHttpPool(server.url, read_timeout=5.0)
        first = await pool.post({"Host": "h"}, b'{"a":1}')
        await asyncio.sleep(0.1)  # a close after the first answer reaches the idle connection
        return [first, *await posts(pool, 1)]

    try:
        answers = run(two())
    finally:
        server.close()
    assert [answer.content for answer in answers] == contents
    assert server.connections == connections
    assert server.requests[0] == (b'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n{"a":1}')


BROKEN = [
    b"garbage\r\n\r\n" + CLOSE,
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n" + CLOSE,
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" + CLOSE,
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}" + CLOSE,
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + CLOSE,
    b"" + CLOSE,
]


@pytest.mark.parametrize(
    "answer", BROKEN, ids=["status", "header", "truncated", "two-lengths", "bad-chunk", "empty"]
)
def test_a_broken_answer_is_a_closed_connection(answer: bytes) -> None:
    server = ScriptedServer([answer])
    try:
        (outcome,) = run(posts(AsyncHttpPool(server.url, read_timeout=5.0), 1))
    finally:
        server.close()
    assert isinstance(outcome, ConnectionFailedError)
    assert outcome.kind == "closed"


def test_a_trickling_server_is_a_read_timeout_of_the_whole_answer() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            for _ in range(40):
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                threading.Event().wait(0.05)

    threading.Thread(target=trickle, daemon=True).start()
    pool = AsyncHttpPool(f"http://127.0.0.1:{listener.getsockname()[1]}", read_timeout=0.3)
    try:
        (outcome,) = run(posts(pool, 1))
    finally:
        listener.close()
    assert isinstance(outcome, ConnectionFailedError)
    assert outcome.kind == "read-timeout"


def test_nothing_listening_is_a_connect_failure() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    (outcome,) = run(posts(AsyncHttpPool(f"http://127.0.0.1:{port}"), 1))
    assert isinstance(outcome, ConnectionFailedError)
    assert outcome.kind == "connect"


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

    thread = threading.Thread(target=refuse, daemon=True)
    thread.start()
    pool = AsyncHttpPool(f"http://127.0.0.1:{listener.getsockname()[1]}", read_timeout=5.0)
    try:
        (answer,) = run(posts(pool, 1, b"x" * 8_000_000))
    finally:
        thread.join(5)
        listener.close()
    assert (answer.status_code, answer.content) == (413, b'{"message":1}')


def test_connections_of_a_finished_event_loop_are_not_reused() -> None:
    server = ScriptedServer([OK, OK])
    pool = AsyncHttpPool(server.url, read_timeout=5.0)
    try:
        first = run(pool.post({"Host": "h"}, b"{}"))
        second = run(posts(pool, 1))
    finally:
        server.close()
    assert [first.content, second[0].content] == [b"{}", b"{}"]
    assert server.connections == 2


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
    try:
        (outcome,) = run(posts(AsyncHttpPool(f"https://localhost:{server.port}"), 1))
    finally:
        server.close()
    if works:
        assert outcome.content == b"{}"
    else:
        assert isinstance(outcome, ConnectionFailedError)
        assert outcome.kind == "connect"


def test_bytes_tls_holds_past_the_answer_are_never_read_as_the_next_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, context = _certificates(tmp_path, "localhost")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    forged = b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"x":"y"}'
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + FLUSH + b"{}" + forged
    server = ScriptedServer([first, OK], tls=context)
    try:
        answers = run(posts(AsyncHttpPool(f"https://localhost:{server.port}"), 2))
    finally:
        server.close()
    assert [answer.content for answer in answers] == [b"{}", b"{}"]
    assert server.connections == 2


@pytest.fixture
def connect_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectProxy]:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    server = ConnectProxy(credentials=f"me:{SECRET}")
    yield server
    server.close()


def test_an_endpoint_is_reached_through_a_connect_tunnel_kept_for_two_requests(
    connect_proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ScriptedServer([OK, OK])
    monkeypatch.setenv("HTTP_PROXY", connect_proxy.url(f"me:{SECRET.replace('#', '%23')}@"))
    # A host name only the proxy resolves: the requests must have gone through it.
    client = AsyncLeanClient(
        endpoint_url=f"http://dynamodb.test:{server.port}", region_name="us-east-1", **KEYS
    )

    async def two() -> None:
        async with client:
            await client.get_item(TableName="t", Key={})
            await client.get_item(TableName="t", Key={})

    try:
        run(two())
    finally:
        server.close()
    assert len(connect_proxy.heads) == 1
    assert connect_proxy.heads[0].startswith(b"CONNECT dynamodb.test:")


def test_a_refused_tunnel_is_botocores_proxy_error_without_the_password(
    connect_proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", connect_proxy.url("me:wrong@"))
    client = AsyncLeanClient(
        endpoint_url="http://dynamodb.test:9",
        region_name="us-east-1",
        retries=TransportRetries(max_attempts=1),
        **KEYS,
    )
    with pytest.raises(ProxyConnectionError) as raised:
        run(client.get_item(TableName="t", Key={}))
    assert "wrong" not in str(raised.value)
    assert "407" in str(raised.value.kwargs["error"])


# -- the client ----------------------------------------------------------------------------------


def _client(endpoint: str, attempts: int = 3, **kwargs: Any) -> AsyncLeanClient:
    return AsyncLeanClient(
        endpoint_url=endpoint,
        region_name="eu-west-1",
        retries=TransportRetries(max_attempts=attempts, base_delay=0.001, max_delay=0.001),
        **{**KEYS, **kwargs},
    )


def test_a_request_is_the_sync_clients_request_byte_for_byte() -> None:
    server = ScriptedServer([OK, OK])
    params = {"TableName": "films", "Key": {"PK": {"S": "a"}, "blob": {"B": b"\x00"}}}
    try:
        sync = LeanClient(endpoint_url=server.url, region_name="eu-west-1", **KEYS)
        sync.get_item(**params)
        run(_client(server.url).get_item(**params))
    finally:
        server.close()
    sync_head, _, sync_body = server.requests[0].partition(b"\r\n\r\n")
    async_head, _, async_body = server.requests[1].partition(b"\r\n\r\n")
    assert sync_body == async_body
    names = [line.split(b":")[0] for line in sync_head.split(b"\r\n")]
    assert names == [line.split(b":")[0] for line in async_head.split(b"\r\n")]
    assert b"Credential=AKIDASYNC/" in async_head


def test_throttling_is_retried_and_observed_as_one_call() -> None:
    server = ScriptedServer([THROTTLED, OK])
    recorder = Recorder()
    add_observer(recorder)
    try:
        answer = run(_client(server.url).get_item(TableName="films", Key={}))
    finally:
        remove_observer(recorder)
        server.close()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [(f["call"], f["status"], f["retries"]) for f in recorder.finished] == [
        ("dynamodb:GetItem", 200, 1)
    ]


def test_errors_past_the_last_try_are_the_sync_clients_classes() -> None:
    server = ScriptedServer([THROTTLED, THROTTLED])
    client = _client(server.url, attempts=2)
    try:
        with pytest.raises(client.exceptions.ThrottlingException) as raised:
            run(client.get_item(TableName="films", Key={}))
    finally:
        server.close()
    assert isinstance(raised.value, ClientError)
    metadata: dict[str, Any] = dict(raised.value.response["ResponseMetadata"])
    assert metadata["MaxAttemptsReached"] is True


def test_no_answer_after_every_try_is_botocores_connection_error() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    recorder = Recorder()
    add_observer(recorder)
    try:
        with pytest.raises(EndpointConnectionError):
            run(_client(f"http://127.0.0.1:{port}", attempts=2).put_item(TableName="t", Item={}))
    finally:
        remove_observer(recorder)
    assert [(f["status"], f["retries"]) for f in recorder.finished] == [(None, 1)]


def test_hooks_fire_as_on_the_sync_client_and_may_answer() -> None:
    client = _client("http://127.0.0.1:9")
    seen: list[str] = []

    def before_call(params: dict[str, Any], **kwargs: Any) -> Any:
        seen.append(params["ClientRequestToken"])
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        return AWSResponse("http://hooked.invalid", 200, HTTPHeaders(), None), {"hooked": True}

    client.meta.events.register("before-call.dynamodb", before_call)
    assert run(client.transact_write_items(TransactItems=[])) == {"hooked": True}
    assert len(seen[0]) == 36


def test_aiobotocore_credentials_are_awaited_and_refreshed_when_expired() -> None:
    from aiobotocore.credentials import AioRefreshableCredentials

    keys = iter(["KEYTWO", "KEYTHREE"])

    async def metadata() -> dict[str, str]:
        return {
            "access_key": next(keys),
            "secret_key": "s",
            "token": "t",
            "expiry_time": "2099-01-01T00:00:00Z",
        }

    body = b'{"__type":"ExpiredTokenException","message":"x"}'
    expired = b"HTTP/1.1 400 Bad\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    server = ScriptedServer([expired, OK])

    async def call() -> None:
        credentials = AioRefreshableCredentials.create_from_metadata(
            {
                "access_key": "KEYONE",
                "secret_key": "s",
                "token": "t",
                "expiry_time": "2099-01-01T00:00:00Z",
            },
            metadata,
            "test",
        )
        client = AsyncLeanClient(
            endpoint_url=server.url, region_name="us-east-1", credentials=credentials
        )
        async with client:
            await client.get_item(TableName="films", Key={})

    try:
        run(call())
    finally:
        server.close()
    assert [b"Credential=KEYONE/" in r for r in server.requests] == [True, False]
    assert b"Credential=KEYTWO/" in server.requests[1]


# -- against moto, and the repository's construction ---------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    LeanClient(endpoint_url=url, region_name="us-east-1", **KEYS).create_table(
        TableName="films",
        KeySchema=[
            {"AttributeName": "PARTITION_KEY", "KeyType": "HASH"},
            {"AttributeName": "SORT_KEY", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PARTITION_KEY", "AttributeType": "S"},
            {"AttributeName": "SORT_KEY", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield url
    server.stop()


def test_every_data_plane_method_against_moto(moto_url: str) -> None:
    key = {"PARTITION_KEY": {"S": "p"}, "SORT_KEY": {"S": "s"}}
    item = {**key, "blob": {"B": b"\x00\xff"}, "n": {"N": "1"}}

    async def calls() -> list[Any]:
        async with AsyncLeanClient(endpoint_url=moto_url, region_name="us-east-1", **KEYS) as c:
            await c.put_item(TableName="films", Item=item)
            return [
                (await c.get_item(TableName="films", Key=key))["Item"],
                (
                    await c.update_item(
                        TableName="films",
                        Key=key,
                        UpdateExpression="ADD n :one",
                        ExpressionAttributeValues={":one": {"N": "1"}},
                        ReturnValues="ALL_NEW",
                    )
                )["Attributes"]["n"],
                (
                    await c.query(
                        TableName="films",
                        KeyConditionExpression="PARTITION_KEY = :p",
                        ExpressionAttributeValues={":p": {"S": "p"}},
                    )
                )["Count"],
                (await c.scan(TableName="films"))["Count"],
                (await c.batch_get_item(RequestItems={"films": {"Keys": [key]}}))["Responses"][
                    "films"
                ][0]["blob"],
                (
                    await c.transact_get_items(
                        TransactItems=[{"Get": {"TableName": "films", "Key": key}}]
                    )
                )["Responses"][0]["Item"]["n"],
                (await c.delete_item(TableName="films", Key=key, ReturnValues="ALL_OLD"))[
                    "Attributes"
                ]["n"],
                (
                    await c.batch_write_item(
                        RequestItems={"films": [{"PutRequest": {"Item": item}}]}
                    )
                )["UnprocessedItems"],
                (
                    await c.transact_write_items(
                        TransactItems=[{"Delete": {"TableName": "films", "Key": key}}]
                    )
                )["ResponseMetadata"]["HTTPStatusCode"],
            ]

    assert run(calls()) == [
        item,
        {"N": "2"},
        1,
        1,
        {"B": b"\x00\xff"},
        {"N": "2"},
        {"N": "2"},
        {},
        200,
    ]


class Film(BaseModel):
    id: str
    count: int = 0


def _film_repo(**construction: Any) -> DynamoRepository[Film]:
    return DynamoRepository[Film](
        item_class=Film,
        partition_prefix="test",
        partition_name="films",
        content_type="film",
        table_name="films",
        partition_key="PARTITION_KEY",
        sort_key="SORT_KEY",
        **construction,
    )


async def _round_trip(repo: DynamoRepository[Film], film_id: str) -> int:
    content = PartitionedContent[Film](
        partition_ids=[], content_ids=[film_id], item=Film(id=film_id)
    )
    await repo.put(content)
    updated = await repo.update(None, [film_id], UpdateCommand(increment_attrs={"count": 2}))
    fetched = (await repo.get(None, [film_id])).content
    assert fetched is not None
    assert fetched.item == updated.item
    return updated.item.count


def test_a_repository_given_nothing_builds_a_lean_client_from_the_environment(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.delenv("PYDANTIC_DYNAMO_TRANSPORT", raising=False)

    closed: list[AsyncLeanClient] = []
    close = AsyncLeanClient.close

    async def recorded_close(self: AsyncLeanClient) -> None:
        closed.append(self)
        await close(self)

    monkeypatch.setattr(AsyncLeanClient, "close", recorded_close)

    async def scenario() -> tuple[int, Any]:
        async with _film_repo() as repo:
            return await _round_trip(repo, "env"), repo.client

    count, client = run(scenario())
    assert count == 2
    assert isinstance(client, AsyncLeanClient)
    assert client.meta.endpoint_url == moto_url
    assert closed == [client], "leaving the repository closed the client it made"


@pytest.mark.parametrize("transport", ["lean", "boto3"])
def test_the_042_construction_reaches_the_resources_endpoint(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    import aioboto3

    monkeypatch.setenv("PYDANTIC_DYNAMO_TRANSPORT", transport)

    async def scenario() -> tuple[int, Any]:
        session = aioboto3.Session()
        async with session.resource(
            "dynamodb", endpoint_url=moto_url, region_name="us-east-1", **KEYS
        ) as resource:
            repo = _film_repo(table=await resource.Table("films"), resource=resource)
            async with repo:
                return await _round_trip(repo, f"resource-{transport}"), repo.client

    count, client = run(scenario())
    assert count == 2
    assert isinstance(client, AsyncLeanClient) is (transport == "lean")
    assert client.meta.endpoint_url == moto_url
    if transport == "lean":
        assert client.client_kwargs()["aws_access_key_id"] == "AKIDASYNC"


def test_a_repository_given_nothing_with_boto3_chosen_says_what_to_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYDANTIC_DYNAMO_TRANSPORT", "boto3")
    with pytest.raises(TypeError, match="resource="):
        _ = _film_repo().client

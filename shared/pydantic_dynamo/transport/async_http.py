"""The lean transport's HTTP/1.1 under asyncio: kept-alive connections, reused last-in first-out.

The asyncio twin of :class:`~pydantic_dynamo.transport.http.HttpPool`, on the same sans-I/O
parser (:mod:`~pydantic_dynamo.transport.http_parser`): each connection is an
:class:`asyncio.Protocol` that writes the request in one ``write`` and feeds every byte the loop
hands it to an :class:`~pydantic_dynamo.transport.http_parser.AnswerParser`, waking the caller
when the answer is whole. No stream reader sits between them, so an answer costs one wake-up.

What the sync pool guarantees, this one does too: one deadline (``read_timeout``) for sending
the request and reading its whole answer; ``connect_timeout`` for the connection, the proxy's
``CONNECT`` tunnel and the TLS handshake; TLS verified as the sync pool verifies it
(:func:`~pydantic_dynamo.transport.http.tls_context`, through the tunnel to the endpoint's own
host name); a connection goes back to the pool only after a complete, well-formed answer that
did not ask to close, with nothing past it; one the server closed or wrote to while idle (the
loop saw it, or a zero-timeout poll of its socket does) is never reused; at most
``max_connections`` idle; an early answer to a request the server stopped reading is returned.
Failures are the sync pool's :class:`~pydantic_dynamo.transport.http.ConnectionFailedError`
kinds. Connections belong to the event loop that made them: used from another loop, the pool
starts afresh. Nothing is retried here.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, cast

from pydantic_dynamo.transport.http import ConnectionFailedError, PoolSettings, readable_now
from pydantic_dynamo.transport.http_parser import (
    AnswerParser,
    HttpAnswer,
    MalformedAnswerError,
    connect_request,
    request_bytes,
    tunnel_refusal,
)

if TYPE_CHECKING:
    from pydantic_dynamo.transport.proxies import Proxy

__all__ = ["AsyncHttpPool"]


class _Connection(asyncio.Protocol):
    """One connection: the parser of the answer in flight, and whether the stream stays usable."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser: AnswerParser | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.dirty = False  # bytes arrived with no request in flight

    # -- what the loop tells it ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None:
            self.dirty = True
            return
        try:
            parser.feed(data)
        except MalformedAnswerError as error:
            self._wake(error)
            return
        if parser.complete:
            self._wake(None)

    def eof_received(self) -> bool:
        self._ended(None)
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    def _ended(self, exc: Exception | None) -> None:
        self.closed = True
        parser = self.parser
        if parser is None or parser.complete:
            return
        try:
            parser.feed_eof()
        except MalformedAnswerError as error:
            self._wake(exc or error)
            return
        self._wake(None)

    def _wake(self, error: BaseException | None) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)

    # -- what the pool asks of it ----------------------------------------------------------------

    async def exchange(self, request: bytes, parser: AnswerParser) -> AnswerParser:
        """Write ``request`` and wait until ``parser`` holds the whole answer (or fails)."""
        transport = self.transport
        if transport is None or self.closed:
            raise ConnectionResetError("the connection is closed")
        self.parser = parser
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            transport.write(request)
            await self.waiter
        finally:
            self.waiter = None
        return parser

    def release(self) -> None:
        """The answer is read: bytes from now on are out of step."""
        self.parser = None

    def usable(self) -> bool:
        """Whether an idle connection may carry a request (the server neither closed it nor
        wrote to it)."""
        transport = self.transport
        if transport is None or self.closed or self.dirty or transport.is_closing():
            return False
        sock = transport.get_extra_info("socket")
        return sock is not None and not readable_now(sock.fileno())

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class AsyncHttpPool(PoolSettings):
    """POSTs bodies to one endpoint over reused connections, from one event loop at a time;
    arguments are :class:`~pydantic_dynamo.transport.http.PoolSettings`'."""

    def __init__(self, endpoint_url: str, **settings: Any) -> None:
        super().__init__(endpoint_url, **settings)
        self._idle: list[_Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:
        """POST ``body`` to ``/``; raises :class:`ConnectionFailedError` when no answer came.

        ``Content-Length`` is added; header names and values must not hold CR or LF.
        """
        request = request_bytes(headers, body)
        connection = await self._take()
        try:
            # One deadline for sending the request and reading the whole answer.
            async with asyncio.timeout(self.read_timeout):
                parser = await connection.exchange(request, AnswerParser())
        except TimeoutError as error:
            connection.close()
            raise ConnectionFailedError("read-timeout", type(error).__name__) from error
        except (OSError, MalformedAnswerError) as error:
            connection.close()
            raise ConnectionFailedError("closed", type(error).__name__) from error
        except BaseException:
            connection.close()
            raise
        connection.release()
        if parser.reusable and not connection.closed and len(self._idle) < self.max_connections:
            self._idle.append(connection)
        else:  # asked to close, or bytes past the answer: the stream is out of step
            connection.close()
        return parser.answer()

    async def close(self) -> None:
        """Close every idle connection."""
        idle, self._idle = self._idle, []
        for connection in idle:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing left to close
                connection.close()

    async def _take(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections of another (finished) loop cannot serve here
            await self.close()
            self._loop = loop
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return await self._connect(loop)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        proxy = self.proxy
        kind = "connect" if proxy is None else "proxy"
        try:
            async with asyncio.timeout(self.connect_timeout):
                if proxy is None:
                    transport, connection = await loop.create_connection(
                        _Connection,
                        self.host,
                        self.port,
                        ssl=self.context,
                        server_hostname=self.host if self.context is not None else None,
                    )
                    return connection
                transport, connection = await loop.create_connection(
                    _Connection, proxy.host, proxy.port
                )
                try:
                    await self._open_tunnel(connection, proxy)
                    kind = "connect"  # the tunnel is open: what fails now is the endpoint's
                    if self.context is not None:
                        secured = await loop.start_tls(
                            transport, connection, self.context, server_hostname=self.host
                        )
                        if secured is None:
                            raise ConnectionResetError("the TLS handshake did not complete")
                        connection.transport = secured
                except BaseException:
                    connection.close()
                    raise
                return connection
        except ConnectionFailedError:
            raise
        except (OSError, TimeoutError) as error:  # ssl.SSLError included: nothing was sent yet
            raise ConnectionFailedError(kind, type(error).__name__) from error

    async def _open_tunnel(self, connection: _Connection, proxy: Proxy) -> None:
        """Ask the proxy for a tunnel to the endpoint (``CONNECT``); raise unless it opened."""
        request = connect_request(self.host, self.port, proxy.authorization)
        try:
            parser = await connection.exchange(request, AnswerParser(head_only=True))
        except (OSError, MalformedAnswerError) as error:
            raise ConnectionFailedError("proxy", type(error).__name__) from error
        connection.release()
        refusal = tunnel_refusal(parser)
        if refusal is not None:
            raise ConnectionFailedError("proxy", refusal)

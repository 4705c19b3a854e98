"""httpcore2's additions that httpx2 relies on: ``is_connected()`` on every connection
kind, and a request body iterator that is closed when sending it fails or is cancelled
(an unclosed async generator makes trio warn, and its ``finally`` would run late).

Async tests run on asyncio and trio, with the native backends and ``AnyIOBackend``.
"""

from __future__ import annotations

import ssl
import typing
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import anyio.lowlevel
import pytest

import httpcore_fast
from tests import async_servers
from tests.proxy_servers import PProxyServer
from tests.servers import ScriptedServer, ServerConnection, UvicornServer

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = [pytest.mark.network]

anyio_backend = async_servers.anyio_backend
network_backend = async_servers.network_backend
Backend = async_servers.Backend

CHUNK = b"x" * 65536
MAX_CHUNKS = 2000  # 128 MiB: far beyond what loopback buffers hold for a peer not reading


def close_mid_body(conn: ServerConnection) -> None:
    """Read the request head and a little of the body, then drop the connection unread
    (the client's later writes fail)."""
    if conn.read_until(b"\r\n\r\n") is not None:
        conn.read_until(b"x" * 1000)
    conn.close()


class BodyProbe:
    """A request body generator that records how far it got and whether its ``finally``
    ran (it runs when the generator is closed, or exhausted)."""

    def __init__(self) -> None:
        self.yielded = 0
        self.finalized = False

    async def agen(
        self, first_sent: anyio.Event | None = None, *, checkpoint: bool = True
    ) -> AsyncIterator[bytes]:
        try:
            for _ in range(MAX_CHUNKS):
                if checkpoint:
                    # A real body source awaits (a file, a queue): let the event loop
                    # run, which also delivers the connection loss to asyncio's transport.
                    await anyio.lowlevel.checkpoint()
                self.yielded += 1
                if self.yielded == 2 and first_sent is not None:
                    first_sent.set()
                yield CHUNK
        finally:
            self.finalized = True

    def gen(self) -> Iterator[bytes]:
        try:
            for _ in range(MAX_CHUNKS):
                self.yielded += 1
                yield CHUNK
        finally:
            self.finalized = True


# --- closing the request body ---------------------------------------------------------


@pytest.mark.anyio
async def test_body_generator_closed_when_the_server_drops_mid_body(
    scripted_server: Callable[..., ScriptedServer], network_backend: Backend
) -> None:
    server = scripted_server(close_mid_body)
    probe = BodyProbe()
    body = probe.agen()
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        with pytest.raises((httpcore_fast.RemoteProtocolError, httpcore_fast.ReadError)):
            await pool.request("POST", server.url("/"), content=body)
        # Closed by the time the request failed, not later by the garbage collector
        # (``body`` is still referenced here).
        assert probe.finalized and body.ag_frame is None
        assert 1 <= probe.yielded < MAX_CHUNKS


@pytest.mark.anyio
async def test_body_generator_closed_when_sending_is_cancelled(
    scripted_server: Callable[..., ScriptedServer], network_backend: Backend
) -> None:
    server = scripted_server(lambda conn: conn.hold(10.0))  # never reads: writes block
    probe = BodyProbe()
    first_sent = anyio.Event()
    # No checkpoint in the generator: the cancellation arrives where the client waits
    # for the peer to take more bytes (the write), not inside the generator.
    body = probe.agen(first_sent, checkpoint=False)
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        async with anyio.create_task_group() as tasks:

            async def post() -> None:
                await pool.request("POST", server.url("/"), content=body)

            tasks.start_soon(post)
            await first_sent.wait()
            tasks.cancel_scope.cancel()
        assert probe.finalized and body.ag_frame is None
        assert pool.connections == []


@pytest.mark.anyio
async def test_only_a_generator_iterator_is_closed_when_sending_fails(
    scripted_server: Callable[..., ScriptedServer], network_backend: Backend
) -> None:
    # As httpcore2 (``aclosing`` an async-generator iterator only): a body object with
    # ``aclose()`` (a file, say) is the caller's and stays open; the async generator its
    # ``__aiter__`` returned is closed.
    server = scripted_server(close_mid_body)
    probe = BodyProbe()

    class Body:
        closed = False

        def __aiter__(self) -> AsyncIterator[bytes]:
            return probe.agen()

        async def aclose(self) -> None:  # pragma: no cover - must not be called
            self.closed = True

    body = Body()
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        with pytest.raises((httpcore_fast.RemoteProtocolError, httpcore_fast.ReadError)):
            await pool.request(
                "POST", server.url("/"), content=body, headers={"Content-Length": "999999999"}
            )
    assert not body.closed and probe.finalized


@pytest.mark.anyio
async def test_an_iterator_that_is_not_a_generator_is_left_open(
    scripted_server: Callable[..., ScriptedServer], network_backend: Backend
) -> None:
    server = scripted_server(close_mid_body)

    class Chunks:
        closed = False
        sent = 0

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> bytes:
            self.sent += 1
            if self.sent > 10_000:  # pragma: no cover - the server hangs up long before
                raise StopAsyncIteration
            return b"x" * 65536

        async def aclose(self) -> None:  # pragma: no cover - must not be called
            self.closed = True

    body = Chunks()
    errors = (
        httpcore_fast.RemoteProtocolError,
        httpcore_fast.ReadError,
        httpcore_fast.WriteError,
    )
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        with pytest.raises(errors):
            await pool.request(
                "POST", server.url("/"), content=body, headers={"Content-Length": "999999999"}
            )
    assert body.sent >= 1 and not body.closed


def test_sync_body_generator_left_to_its_owner_when_the_server_drops_mid_body(
    scripted_server: Callable[..., ScriptedServer],
) -> None:
    # httpcore and httpcore2 close nothing in sync code: the generator is the caller's
    # (garbage collection closes it when it is dropped).
    server = scripted_server(close_mid_body)
    probe = BodyProbe()
    body = probe.gen()
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises((httpcore_fast.RemoteProtocolError, httpcore_fast.ReadError)):
            pool.request("POST", server.url("/"), content=body)
        assert not probe.finalized and body.gi_frame is not None
    body.close()
    assert probe.finalized


@pytest.mark.anyio
async def test_body_generator_left_alone_when_sending_succeeds(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        response = await pool.request("POST", http_server.url("/echo"), content=body())
    assert response.status == 200 and b'"body": "ab"' in response.content


# --- is_connected() -----------------------------------------------------------------------


def all_connection_kinds(
    http_server: UvicornServer, https_server: UvicornServer, pproxy_server: PProxyServer
) -> list[tuple[str, dict[str, typing.Any], str]]:
    """(name, pool keyword arguments, URL) for each connection kind."""
    return [
        ("direct", {}, http_server.url("/")),
        (
            "forward",
            {"proxy": httpcore_fast.Proxy(pproxy_server.url("http"))},
            http_server.url("/"),
        ),
        (
            "tunnel",
            {"proxy": httpcore_fast.Proxy(pproxy_server.url("http"))},
            https_server.url("/"),
        ),
        (
            "socks",
            {"proxy": httpcore_fast.Proxy(pproxy_server.url("socks5"))},
            https_server.url("/"),
        ),
    ]


@pytest.mark.anyio
async def test_is_connected_for_every_connection_kind(
    http_server: UvicornServer,
    https_server: UvicornServer,
    pproxy_server: PProxyServer,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
) -> None:
    for name, kwargs, url in all_connection_kinds(http_server, https_server, pproxy_server):
        pool = httpcore_fast.AsyncConnectionPool(
            ssl_context=client_ssl_context, network_backend=network_backend, **kwargs
        )
        async with pool:
            connection = pool.create_connection(httpcore_fast.URL(url).origin)
            assert not connection.is_connected(), name  # nothing opened yet
            async with pool.stream("GET", url) as response:
                [connection] = pool.connections
                assert connection.is_connected(), name  # mid-response
                await response.aread()
            assert connection.is_connected() and connection.is_idle(), name
        assert not connection.is_connected(), name  # closed with the pool


@pytest.mark.anyio
async def test_is_connected_false_after_a_failed_connect(
    closed_port: int, network_backend: Backend
) -> None:
    for proxy in (None, f"http://127.0.0.1:{closed_port}", f"socks5://127.0.0.1:{closed_port}"):
        url = f"http://127.0.0.1:{closed_port}/"
        kwargs = {} if proxy is None else {"proxy": httpcore_fast.Proxy(proxy)}
        async with httpcore_fast.AsyncConnectionPool(
            network_backend=network_backend, **kwargs
        ) as pool:
            connection = pool.create_connection(httpcore_fast.URL(url).origin)
            with pytest.raises(httpcore_fast.ConnectError):
                await connection.handle_async_request(httpcore_fast.Request("GET", url))
            assert not connection.is_connected(), proxy


def test_sync_is_connected(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        connection = pool.create_connection(httpcore_fast.URL(http_server.url("/")).origin)
        assert not connection.is_connected()
        pool.request("GET", http_server.url("/"))
        [connection] = pool.connections
        assert connection.is_connected()
    assert not connection.is_connected()

"""A pool (or a stream) that outlives its event loop: reused across ``asyncio.run`` calls.

A connection opened on a loop that has since closed, or that is not the running loop,
must be discarded and replaced, never used (httpcore fails with ``RuntimeError: Event
loop is closed``). The asyncio streams (native, anyio on asyncio) report themselves
readable then, which the HTTP/1.1 connection treats as expired, and their ``aclose()``
closes the socket without the dead loop, without raising or warning. trio streams are not
bound to a run: a pool reused across ``trio.run`` calls keeps its connection.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import ssl
import sys
import threading
import typing

import pytest
import trio
import trustme

import httpcore_fast
from httpcore_fast._backends.anyio import AnyIOBackend
from httpcore_fast._backends.asyncio import AsyncIOBackend
from httpcore_fast._backends.base import AsyncNetworkBackend, AsyncNetworkStream
from httpcore_fast._exceptions import ReadError, WriteError
from tests.servers import ScriptedServer, ServerConnection, http_response

pytestmark = pytest.mark.network

JOIN_TIMEOUT = 10.0


def open_fds() -> int | None:
    if not os.path.isdir("/proc/self/fd"):  # pragma: no cover - not Linux
        return None
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def serve_requests(tls: ssl.SSLContext | None) -> typing.Callable[[ServerConnection], None]:
    """A keep-alive script (over TLS if ``tls``) answering every request with "ok"."""

    def script(conn: ServerConnection) -> None:
        if tls is not None:
            conn.sock.settimeout(JOIN_TIMEOUT)
            conn.sock = tls.wrap_socket(conn.sock, server_side=True)
            conn.sock.settimeout(conn.POLL)
        for _ in range(100):
            if conn.read_request(timeout=30) is None:
                return
            conn.send(http_response(b"ok"))

    return script


@pytest.fixture(params=["http", "https"])
def server(request: pytest.FixtureRequest, ca: trustme.CA) -> typing.Iterator[ScriptedServer]:
    tls = None
    if request.param == "https":
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(tls)
    scripted = ScriptedServer(serve_requests(tls)).start()
    scripted.scheme = request.param  # type: ignore[attr-defined]
    yield scripted
    scripted.stop()
    assert scripted.errors == []


def make_pool(
    server: ScriptedServer, ca: trustme.CA, backend: AsyncNetworkBackend | None
) -> tuple[httpcore_fast.AsyncConnectionPool, str]:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    pool = httpcore_fast.AsyncConnectionPool(ssl_context=context, network_backend=backend)
    scheme = server.scheme  # type: ignore[attr-defined]
    return pool, f"{scheme}://127.0.0.1:{server.port}/"


@pytest.mark.parametrize("backend", ["native", "anyio"])
def test_pool_reused_across_asyncio_run(
    backend: str, server: ScriptedServer, ca: trustme.CA
) -> None:
    pool, url = make_pool(server, ca, AnyIOBackend() if backend == "anyio" else None)

    async def get() -> tuple[int, bytes]:
        response = await pool.request("GET", url)
        return response.status, response.content

    assert asyncio.run(get()) == (200, b"ok")
    first = pool.connections[0]
    assert asyncio.run(get()) == (200, b"ok")  # the first loop is closed now
    assert server.connection_count == 2  # a new connection ...
    assert server.connections[0].eof.wait(JOIN_TIMEOUT)  # ... and the old one closed
    assert len(pool.connections) == 1 and pool.connections[0] is not first
    assert asyncio.run(get()) == (200, b"ok")
    assert server.connection_count == 3
    asyncio.run(pool.aclose())
    assert server.connections[2].eof.wait(JOIN_TIMEOUT)
    del first  # the pool holds no connection after aclose()
    gc.collect()  # a transport that still held its socket would warn here (an error)


@pytest.mark.parametrize("backend", ["auto", "anyio"])
def test_pool_reused_across_trio_run(backend: str, server: ScriptedServer, ca: trustme.CA) -> None:
    # trio streams belong to no particular run: the connection is simply reused.
    pool, url = make_pool(server, ca, AnyIOBackend() if backend == "anyio" else None)

    async def get() -> tuple[int, bytes]:
        response = await pool.request("GET", url)
        return response.status, response.content

    assert trio.run(get) == (200, b"ok")
    first = pool.connections[0]
    assert trio.run(get) == (200, b"ok")
    assert server.connection_count == 1
    assert pool.connections == [first]
    trio.run(pool.aclose)
    assert server.connections[0].eof.wait(JOIN_TIMEOUT)


# -- the streams themselves ------------------------------------------------------------------


@pytest.fixture
def listener() -> typing.Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(JOIN_TIMEOUT)
    yield sock
    sock.close()


BACKENDS: dict[str, typing.Callable[[], AsyncNetworkBackend]] = {
    "native": AsyncIOBackend,
    "anyio": AnyIOBackend,
}


def peer_closed(conn: socket.socket) -> bool:
    """True once the client closed its end (EOF or reset)."""
    conn.settimeout(JOIN_TIMEOUT)
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_stream_of_a_closed_loop(backend: str, listener: socket.socket) -> None:
    baseline = open_fds()

    async def connect() -> AsyncNetworkStream:
        return await BACKENDS[backend]().connect_tcp(*listener.getsockname())

    stream = asyncio.run(connect())
    conn, _ = listener.accept()
    try:

        async def use() -> None:
            assert stream.get_extra_info("is_readable") is True
            if backend == "native":
                assert stream._is_readable() is True
                with pytest.raises(ReadError):
                    await stream.read(10, timeout=5)
                with pytest.raises(WriteError):
                    await stream.write(b"x", timeout=5)
            await stream.aclose()
            await stream.aclose()  # idempotent

        asyncio.run(use())
        assert peer_closed(conn)
    finally:
        conn.close()
    gc.collect()
    assert open_fds() == baseline


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_stream_of_a_stopped_loop(backend: str, listener: socket.socket) -> None:
    """A loop that is still open but not running (``run_until_complete`` returned): the
    stream is closed without it and unregistered from its selector."""
    loop = asyncio.new_event_loop()
    try:
        stream = loop.run_until_complete(BACKENDS[backend]().connect_tcp(*listener.getsockname()))
        conn, _ = listener.accept()
        loop.run_until_complete(asyncio.sleep(0))  # the transport registers its reader
        fd = stream.get_extra_info("socket").fileno()
        if backend == "native":  # (anyio reads only while receiving)
            assert fd in loop._selector.get_map()  # type: ignore[attr-defined]
        try:

            async def close() -> None:
                assert stream.get_extra_info("is_readable") is True
                await stream.aclose()

            asyncio.run(close())
            assert fd not in loop._selector.get_map()  # type: ignore[attr-defined]
            assert peer_closed(conn)
        finally:
            conn.close()
        loop.run_until_complete(asyncio.sleep(0))  # the old loop runs again: nothing breaks
    finally:
        loop.close()
    gc.collect()


def test_stream_of_a_loop_in_another_thread(listener: socket.socket) -> None:
    """The loop runs in another thread: the close is handed to it (thread-safe)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        future = asyncio.run_coroutine_threadsafe(
            AsyncIOBackend().connect_tcp(*listener.getsockname()), loop
        )
        stream = future.result(JOIN_TIMEOUT)
        conn, _ = listener.accept()
        try:

            async def close() -> None:
                assert stream.get_extra_info("is_readable") is True
                await stream.aclose()

            asyncio.run(close())
            assert peer_closed(conn)
        finally:
            conn.close()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive()
        loop.close()
    gc.collect()


@pytest.mark.skipif(sys.platform == "win32", reason="fd counting is POSIX")
def test_open_loop_stream_still_works_normally(listener: socket.socket) -> None:
    """The checks do not misfire on the stream's own loop."""

    async def main() -> None:
        stream = await AsyncIOBackend().connect_tcp(*listener.getsockname())
        conn, _ = listener.accept()
        try:
            assert stream.get_extra_info("is_readable") is False
            assert stream._is_readable() is False
            await stream.write(b"ping", timeout=5)
            assert conn.recv(4) == b"ping"
        finally:
            await stream.aclose()
            conn.close()

    asyncio.run(main())

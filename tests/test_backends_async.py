"""The async network backends against real sockets on 127.0.0.1 (and Unix sockets).

Every test runs on asyncio and on trio (anyio's pytest plugin) and, through the
``network_backend`` fixture, on the native backend of that library (``AsyncIOBackend`` /
``TrioBackend``), on ``AnyIOBackend`` and on ``AutoBackend``.

The peer side is a plain blocking socket driven synchronously from the test: the kernel
completes TCP handshakes on the listener's backlog, so ``accept()`` right after
``connect_tcp`` returns at once, and small sends/receives on loopback never block. TLS
needs a concurrent handshake, so its peer is an echo server in a thread.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import typing

import anyio
import pytest
import trustme

from httpcore_fast._backends import asyncio as asyncio_backend
from httpcore_fast._backends.anyio import AnyIOBackend
from httpcore_fast._backends.asyncio import AsyncIOBackend, AsyncIOStream
from httpcore_fast._backends.auto import AutoBackend, current_async_library
from httpcore_fast._backends.base import AsyncNetworkBackend, AsyncNetworkStream
from httpcore_fast._backends.trio import TrioBackend
from httpcore_fast._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from tests.async_servers import wait_until

pytestmark = pytest.mark.network


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return typing.cast(str, request.param)


@pytest.fixture(params=["native", "anyio", "auto"])
def network_backend(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncNetworkBackend:
    if request.param == "anyio":
        return AnyIOBackend()
    if request.param == "auto":
        return AutoBackend()
    return AsyncIOBackend() if anyio_backend == "asyncio" else TrioBackend()


class Peer:
    """A listening socket plus the server ends it accepted (all closed at teardown)."""

    def __init__(self, family: int = socket.AF_INET, path: str | None = None) -> None:
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.settimeout(5)
        self.listener.bind(path if path is not None else ("127.0.0.1", 0))
        self.listener.listen(8)
        self.address = self.listener.getsockname()
        self.accepted: list[socket.socket] = []

    @property
    def port(self) -> int:
        return typing.cast(int, self.address[1])

    def accept(self) -> socket.socket:
        conn, _ = self.listener.accept()
        conn.settimeout(5)
        self.accepted.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.listener.close()


@pytest.fixture
def peer() -> typing.Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        assert chunk, "peer saw EOF early"
        data += chunk
    return data


async def read_exactly(stream: AsyncNetworkStream, n: int) -> bytes:
    data = b""
    for _ in range(1000):
        if len(data) >= n:
            break
        chunk = await stream.read(n - len(data), timeout=5)
        assert chunk, "stream saw EOF early"
        data += chunk
    assert len(data) == n
    return data


def wait_is_readable(stream: AsyncNetworkStream, expected: bool = True) -> None:
    """Poll ``is_readable`` for up to 2 s *without* yielding to the event loop (so the
    transport cannot consume what the peer sent before we look)."""
    deadline = time.monotonic() + 2.0
    while readable(stream) is not expected:
        assert time.monotonic() < deadline, f"is_readable never became {expected}"
        time.sleep(0.001)


def readable(stream: AsyncNetworkStream) -> bool:
    """``get_extra_info("is_readable")``, checked to agree with the pool's fast path
    (``_is_readable``, a poll object kept per stream) where the stream has one."""
    answer = stream.get_extra_info("is_readable")
    fast = getattr(stream, "_is_readable", None)
    if fast is not None:
        assert fast() is answer
    return typing.cast(bool, answer)


def reset(conn: socket.socket) -> None:
    """Close ``conn`` with an RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


# -- plain TCP ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_write_read_eof(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        await stream.write(b"hello", timeout=5)
        await stream.write(b"")
        await stream.write(bytearray(b" world"))
        assert recv_exactly(conn, 11) == b"hello world"
        conn.sendall(b"response")
        assert await read_exactly(stream, 8) == b"response"
        conn.sendall(b"abcdef")
        assert await read_exactly(stream, 2) == b"ab"
        assert await read_exactly(stream, 4) == b"cdef"
        conn.shutdown(socket.SHUT_WR)
        assert await stream.read(100, timeout=5) == b""
        assert await stream.read(100, timeout=5) == b""
    finally:
        await stream.aclose()
    await stream.aclose()  # idempotent


@pytest.mark.anyio
async def test_extra_info(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        assert stream.get_extra_info("server_addr") == peer.address
        assert stream.get_extra_info("client_addr") == conn.getpeername()
        sock = stream.get_extra_info("socket")
        assert sock.fileno() >= 0
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert stream.get_extra_info("ssl_object") is None
        assert stream.get_extra_info("no such thing") is None
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_read_timeout_then_reuse(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port, timeout=5)
    conn = peer.accept()
    try:
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            await stream.read(10, timeout=0.05)
        assert time.monotonic() - started < 2
        conn.sendall(b"late")
        assert await read_exactly(stream, 4) == b"late"
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_cancelled_read_then_reuse(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        with anyio.move_on_after(0.05) as scope:
            await stream.read(10)
        assert scope.cancelled_caught
        # cancelled from another task this time
        async with anyio.create_task_group() as tg:

            async def reader() -> None:
                await stream.read(10)

            tg.start_soon(reader)
            await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
        conn.sendall(b"still here")
        assert await read_exactly(stream, 10) == b"still here"
        await stream.write(b"ok")
        assert recv_exactly(conn, 2) == b"ok"
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_aclose_while_cancelled(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            await stream.read(10)
        finally:
            with anyio.CancelScope(shield=True):
                await stream.aclose()
    assert scope.cancelled_caught


@pytest.mark.anyio
async def test_use_after_close(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()
    await stream.aclose()
    with pytest.raises(ReadError):
        await stream.read(10)
    with pytest.raises(WriteError):
        await stream.write(b"x")
    await stream.aclose()


@pytest.mark.anyio
async def test_peer_reset_is_read_error(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        reset(conn)
        with pytest.raises(ReadError):
            for _ in range(10):  # bounded: a reset must surface at once
                await stream.read(10, timeout=5)
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_write_timeout(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()  # ... and never reads: the socket buffers fill up
    try:
        with pytest.raises(WriteTimeout):
            await stream.write(b"x" * (64 * 1024 * 1024), timeout=0.2)
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_writes_after_a_send_failed_inside_the_transport(
    network_backend: AsyncNetworkBackend, peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    """The peer reset the connection: the next send fails inside the transport, which
    closes, but asyncio delivers ``connection_lost`` only with the next loop iteration.
    A writer that never waits otherwise (a request body generator whose writes do not
    fill the socket) must get ``WriteError`` at the next write, not push on into the dead
    transport (which drops the bytes and logs "socket.send() raised exception.")."""
    caplog.set_level(logging.WARNING, logger="asyncio")
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    reset(peer.accept())
    writes = 0
    try:
        with pytest.raises(WriteError):
            for writes in range(1, 2001):  # bounded
                await stream.write(b"x" * 65536, timeout=5)
    finally:
        await stream.aclose()
    assert writes <= 10, writes
    assert not [r for r in caplog.records if "socket.send() raised" in r.getMessage()]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("backend_name", ["native", "anyio"])
@pytest.mark.anyio
async def test_cancelled_write_hands_all_its_bytes_over(backend_name: str, peer: Peer) -> None:
    """On asyncio a write hands all its bytes to the transport before it can wait (for a
    paused transport to drain), so a cancelled write sent everything, whichever moment
    it was cancelled at: HTTP/2 and TLS rely on that. Here the peer does not read, so the
    transport stays paused; a second write, started while the first one's bytes are still
    queued, is cancelled too; then the peer reads: it gets both, whole and in order (anyio's
    own ``send`` waited *before* writing, and lost the second)."""
    backend: AsyncNetworkBackend = AsyncIOBackend() if backend_name == "native" else AnyIOBackend()
    small_buffer = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)]
    stream = await backend.connect_tcp("127.0.0.1", peer.port, socket_options=small_buffer)
    conn = peer.accept()  # not reading yet
    big = bytes(range(256)) * 4096  # 1 MiB: more than the socket buffers hold
    small = b"written while the transport was paused"
    received = bytearray()

    def read_until_end() -> None:
        for _ in range(100_000):  # bounded
            chunk = conn.recv(65536)
            received.extend(chunk)
            if not chunk or received.endswith(b"END"):
                return

    reader = threading.Thread(target=read_until_end, daemon=True)
    try:
        for data in (big, small):
            task = asyncio.ensure_future(stream.write(data, timeout=5))
            await asyncio.sleep(0)  # one loop iteration: the write runs up to its wait
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        reader.start()
        await stream.write(b"END", timeout=5)
        await wait_until(lambda: not reader.is_alive())
    finally:
        await stream.aclose()
        if reader.is_alive():  # pragma: no cover - the assertion above failed
            reader.join(5)
    assert len(received) == len(big) + len(small) + 3
    assert bytes(received) == big + small + b"END"


@pytest.mark.anyio
async def test_is_readable(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        assert readable(stream) is False
        conn.sendall(b"data")
        wait_is_readable(stream)
        assert await read_exactly(stream, 4) == b"data"
        assert readable(stream) is False
        conn.close()
        wait_is_readable(stream)
        assert await stream.read(10, timeout=5) == b""
    finally:
        await stream.aclose()
    assert readable(stream) is True


@pytest.mark.anyio
async def test_connect_refused(network_backend: AsyncNetworkBackend) -> None:
    with socket.socket() as placeholder:  # bound, not listening: connecting is refused
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        with pytest.raises(ConnectError):
            await network_backend.connect_tcp("127.0.0.1", port, timeout=5)


@pytest.mark.anyio
async def test_connect_by_name(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("localhost", peer.port, timeout=5)
    try:
        assert stream.get_extra_info("server_addr")[1] == peer.port
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_socket_options(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 0),
    ]
    stream = await network_backend.connect_tcp(
        "127.0.0.1", peer.port, socket_options=iter(options)
    )
    try:
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        assert not sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_bad_socket_option_is_connect_error(
    network_backend: AsyncNetworkBackend, peer: Peer
) -> None:
    with pytest.raises(ConnectError):
        await network_backend.connect_tcp(
            "127.0.0.1", peer.port, socket_options=[(socket.SOL_SOCKET, 54321, 1)]
        )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is Linux-only")
@pytest.mark.anyio
async def test_local_address(network_backend: AsyncNetworkBackend, peer: Peer) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port, local_address="127.0.0.2")
    conn = peer.accept()
    try:
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.2"
        assert conn.getpeername()[0] == "127.0.0.2"
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_sleep(network_backend: AsyncNetworkBackend) -> None:
    started = time.monotonic()
    await network_backend.sleep(0.02)
    # a timer may fire up to one clock tick early (15.6 ms on Windows)
    tick = max(time.get_clock_info("monotonic").resolution, 0.005)
    assert time.monotonic() - started >= 0.02 - tick


# -- Unix sockets ------------------------------------------------------------------------


@pytest.fixture
def unix_peer() -> typing.Iterator[Peer]:
    directory = tempfile.mkdtemp(prefix="hcf-")  # short: Unix socket paths are limited
    path = os.path.join(directory, "s")
    p = Peer(socket.AF_UNIX, path)
    yield p
    p.close()
    os.unlink(path)
    os.rmdir(directory)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
@pytest.mark.anyio
async def test_unix_socket(network_backend: AsyncNetworkBackend, unix_peer: Peer) -> None:
    stream = await network_backend.connect_unix_socket(
        unix_peer.address, timeout=5, socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)]
    )
    conn = unix_peer.accept()
    try:
        await stream.write(b"over unix")
        assert recv_exactly(conn, 9) == b"over unix"
        conn.sendall(b"back")
        assert await read_exactly(stream, 4) == b"back"
        assert stream.get_extra_info("is_readable") is False
        conn.close()
        assert await stream.read(10, timeout=5) == b""
    finally:
        await stream.aclose()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
@pytest.mark.anyio
async def test_unix_socket_missing(network_backend: AsyncNetworkBackend) -> None:
    with pytest.raises(ConnectError):
        await network_backend.connect_unix_socket("/nonexistent/httpcore-fast.sock")


# -- TLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def echo_inner_tls(outer: ssl.SSLSocket, context: ssl.SSLContext, alpn: list[str | None]) -> None:
    """Server side of TLS inside TLS: a memory-BIO session over ``outer``, echoing."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    inner = context.wrap_bio(incoming, outgoing, server_side=True)

    def pump(operation: typing.Callable[..., typing.Any], *args: typing.Any) -> typing.Any:
        for _ in range(1000):
            try:
                return operation(*args)
            except ssl.SSLWantReadError:
                pass
            finally:
                records = outgoing.read()
                if records:
                    outer.sendall(records)
            data = outer.recv(65536)
            if not data:
                raise ConnectionResetError("EOF inside the inner TLS session")
            incoming.write(data)
        raise RuntimeError("inner TLS session made no progress")

    pump(inner.do_handshake)
    alpn.append(inner.selected_alpn_protocol())
    for _ in range(1000):
        pump(inner.write, pump(inner.read, 65536))  # SSLZeroReturnError ends it


class TLSEchoServer:
    """Accepts connections one at a time in a thread; handshakes and echoes (inside a
    second, nested TLS session if ``inner_context`` is given)."""

    def __init__(
        self, context: ssl.SSLContext, inner_context: ssl.SSLContext | None = None
    ) -> None:
        self.context = context
        self.inner_context = inner_context
        self.peer = Peer()
        self.peer.listener.settimeout(0.05)
        self.stopping = threading.Event()
        self.alpn: list[str | None] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.peer.listener.accept()
            except OSError:  # timeout: look at the stop flag again
                continue
            with conn:
                conn.settimeout(5)
                try:
                    with self.context.wrap_socket(conn, server_side=True) as tls:
                        self.alpn.append(tls.selected_alpn_protocol())
                        if self.inner_context is not None:
                            echo_inner_tls(tls, self.inner_context, self.alpn)
                            continue
                        for _ in range(1000):
                            data = tls.recv(65536)
                            if not data:
                                break
                            tls.sendall(data)
                except OSError:  # failed handshakes, resets: the client's business
                    pass

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.peer.close()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture
def tls_server(ca: trustme.CA) -> typing.Iterator[TLSEchoServer]:
    server = TLSEchoServer(server_context(ca, "localhost", "127.0.0.1"))
    yield server
    server.close()


@pytest.fixture
def tls_in_tls_server(ca: trustme.CA) -> typing.Iterator[TLSEchoServer]:
    outer = server_context(ca, "proxy.example")
    server = TLSEchoServer(outer, inner_context=server_context(ca, "target.example"))
    yield server
    server.close()


@pytest.mark.parametrize("alpn", ["http/1.1", "h2"])
@pytest.mark.anyio
async def test_tls(
    network_backend: AsyncNetworkBackend,
    tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    alpn: str,
) -> None:
    client_context.set_alpn_protocols([alpn])
    stream = await network_backend.connect_tcp("127.0.0.1", tls_server.peer.port)
    try:
        tls = await stream.start_tls(client_context, server_hostname="localhost", timeout=5)
    except BaseException:
        await stream.aclose()
        raise
    try:
        ssl_object = tls.get_extra_info("ssl_object")
        assert ssl_object.selected_alpn_protocol() == alpn
        assert ssl_object.server_hostname == "localhost"
        assert tls.get_extra_info("server_addr") == tls_server.peer.address
        assert tls.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert tls.get_extra_info("socket").fileno() >= 0
        await tls.write(b"ping " * 1000, timeout=5)
        assert await read_exactly(tls, 5000) == b"ping " * 1000
        assert tls.get_extra_info("is_readable") is False
    finally:
        await tls.aclose()
    await tls.aclose()
    assert tls_server.alpn[-1:] == [alpn] or tls_server.alpn == []  # server may lag


@pytest.mark.anyio
async def test_tls_wrong_hostname(
    network_backend: AsyncNetworkBackend,
    tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", tls_server.peer.port)
    try:
        with pytest.raises(ConnectError):
            await stream.start_tls(client_context, server_hostname="example.org", timeout=5)
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_tls_untrusted(
    network_backend: AsyncNetworkBackend, tls_server: TLSEchoServer
) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", tls_server.peer.port)
    try:
        with pytest.raises(ConnectError):
            await stream.start_tls(ssl.create_default_context(), server_hostname="localhost")
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_tls_handshake_timeout(
    network_backend: AsyncNetworkBackend, peer: Peer, client_context: ssl.SSLContext
) -> None:
    stream = await network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()  # ... and never answers the ClientHello
    try:
        with pytest.raises(ConnectTimeout):
            await stream.start_tls(client_context, server_hostname="localhost", timeout=0.1)
    finally:
        await stream.aclose()


@pytest.mark.parametrize("check", ["data", "close_after_fork"])
@pytest.mark.anyio
async def test_tls_in_tls(
    check: str,
    network_backend: AsyncNetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    """TLS to a proxy, then TLS to the target through it (an HTTPS proxy tunnel)."""
    await TLS_IN_TLS_CHECKS[check](network_backend, tls_in_tls_server, client_context, ca)


@pytest.mark.parametrize("check", ["data", "close_after_fork"])
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_tls_in_tls_memory_bio_fallback(
    check: str,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same through AsyncIOBackend's memory-BIO layering (Python 3.10's path)."""
    monkeypatch.setattr(asyncio_backend, "_can_layer_tls", lambda transport: False)
    await TLS_IN_TLS_CHECKS[check](AsyncIOBackend(), tls_in_tls_server, client_context, ca)


async def open_tls_in_tls(
    network_backend: AsyncNetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> tuple[AsyncNetworkStream, AsyncNetworkStream]:
    """(outer, inner): TLS to "proxy.example", and inside it TLS to "target.example"."""
    inner_context = ssl.create_default_context()
    ca.configure_trust(inner_context)
    inner_context.set_alpn_protocols(["h2"])
    stream = await network_backend.connect_tcp("127.0.0.1", tls_in_tls_server.peer.port)
    try:
        outer = await stream.start_tls(client_context, "proxy.example", timeout=5)
    except BaseException:
        await stream.aclose()
        raise
    try:
        inner = await outer.start_tls(inner_context, "target.example", timeout=5)
    except BaseException:
        await outer.aclose()
        raise
    return outer, inner


async def check_tls_in_tls(
    network_backend: AsyncNetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    outer, inner = await open_tls_in_tls(network_backend, tls_in_tls_server, client_context, ca)
    try:
        ssl_object = inner.get_extra_info("ssl_object")
        assert ssl_object.server_hostname == "target.example"
        assert ssl_object.selected_alpn_protocol() == "h2"
        assert outer.get_extra_info("ssl_object").server_hostname == "proxy.example"
        assert inner.get_extra_info("server_addr") == tls_in_tls_server.peer.address
        await inner.write(b"nested " * 3000, timeout=5)
        assert await read_exactly(inner, 21000) == b"nested " * 3000
        assert inner.get_extra_info("is_readable") is False
    finally:
        await inner.aclose()
    with pytest.raises(ReadError):
        await inner.read(10)


async def check_close_after_fork_tls_in_tls(
    network_backend: AsyncNetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    """``_close_after_fork()`` (called here without a fork) on a TLS stream inside TLS
    closes the socket under both layers and leaves a stream whose later ``aclose()``
    and collection neither raise nor warn."""
    outer, inner = await open_tls_in_tls(network_backend, tls_in_tls_server, client_context, ca)
    sock = inner.get_extra_info("socket")
    fd = sock.fileno()
    assert fd >= 0
    inner._close_after_fork()
    inner._close_after_fork()  # idempotent
    assert sock.fileno() == -1
    with pytest.raises(OSError):
        os.fstat(fd)
    await inner.aclose()  # nothing left to close: no error
    del outer, inner, sock
    gc.collect()  # a transport still holding its socket would warn here (an error)


TLS_IN_TLS_CHECKS = {
    "data": check_tls_in_tls,
    "close_after_fork": check_close_after_fork_tls_in_tls,
}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_tls_in_tls_handshake_failure(
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asyncio_backend, "_can_layer_tls", lambda transport: False)
    stream = await AsyncIOBackend().connect_tcp("127.0.0.1", tls_in_tls_server.peer.port)
    outer = await stream.start_tls(client_context, "proxy.example", timeout=5)
    try:
        with pytest.raises(ConnectError):
            await outer.start_tls(client_context, "wrong.example", timeout=5)
    finally:
        await outer.aclose()


# -- AutoBackend -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_auto_backend_picks_native(anyio_backend: str, peer: Peer) -> None:
    backend = AutoBackend()
    assert current_async_library() == anyio_backend
    stream = await backend.connect_tcp("127.0.0.1", peer.port)
    await stream.aclose()
    expected = AsyncIOBackend if anyio_backend == "asyncio" else TrioBackend
    assert type(backend._backend) is expected
    stream = await backend.connect_tcp("127.0.0.1", peer.port)  # cached choice
    await stream.aclose()
    assert type(backend._backend) is expected


def test_auto_backend_outside_async() -> None:
    with pytest.raises(RuntimeError):
        current_async_library()


# -- native asyncio specifics ------------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_recv_into(peer: Peer) -> None:
    stream = await AsyncIOBackend().connect_tcp("127.0.0.1", peer.port)
    assert isinstance(stream, AsyncIOStream)
    conn = peer.accept()
    buffer = memoryview(bytearray(4))
    try:
        with pytest.raises(ReadTimeout):
            await stream._recv_into(buffer, timeout=0.01)
        conn.sendall(b"abcdef")
        received = b""
        while len(received) < 6:
            n = await stream._recv_into(buffer, timeout=5)
            assert 0 < n <= 4
            received += buffer[:n].tobytes()
        assert received == b"abcdef"
        conn.close()
        assert await stream._recv_into(buffer, timeout=5) == 0
    finally:
        await stream.aclose()
    with pytest.raises(ReadError):
        await stream._recv_into(buffer)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_buffered_data_is_readable(peer: Peer) -> None:
    stream = await AsyncIOBackend().connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        conn.sendall(b"xy")
        assert isinstance(stream, AsyncIOStream)
        protocol = stream._protocol
        # until the transport has moved both bytes into our buffer (the socket is empty)
        await wait_until(lambda: protocol._end - protocol._start == 2)
        assert not asyncio_backend.socket_is_readable(stream.get_extra_info("socket"))
        assert stream.get_extra_info("is_readable") is True
        assert await stream.read(1) == b"x"
        assert stream.get_extra_info("is_readable") is True
        assert await stream.read(1) == b"y"
        assert stream.get_extra_info("is_readable") is False
    finally:
        await stream.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_large_transfer_with_backpressure(peer: Peer) -> None:
    """Several MiB arrive while nobody reads (the receive buffer grows, then reading is
    paused); small reads then drain it all, in order."""
    payload = bytes(range(256)) * (4 * 4096)  # 4 MiB
    stream = await AsyncIOBackend().connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    sender = threading.Thread(target=conn.sendall, args=(payload,), daemon=True)
    sender.start()
    try:
        assert isinstance(stream, AsyncIOStream)
        protocol = stream._protocol
        await wait_until(lambda: protocol._reading_paused)  # our buffer is full
        assert protocol._end - protocol._start >= asyncio_backend._MAX_BUFFERED
        received = bytearray()
        buffer = memoryview(bytearray(70000))
        for i in range(100000):
            if len(received) >= len(payload):
                break
            if i % 2:
                received += await stream.read(50000, timeout=5)
            else:
                n = await stream._recv_into(buffer, timeout=5)
                received += buffer[:n]
        assert received == payload
    finally:
        sender.join(10)
        await stream.aclose()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_concurrent_reads_refused(peer: Peer) -> None:
    stream = await AsyncIOBackend().connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(stream.read, 10)
            await anyio.sleep(0.02)
            with pytest.raises(RuntimeError):
                await stream.read(10)
            conn.sendall(b"z")
        assert stream.get_extra_info("is_readable") is False
    finally:
        await stream.aclose()

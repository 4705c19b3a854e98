"""The network backends against real sockets on 127.0.0.1 (and Unix sockets).

Async: every test runs on asyncio and on trio (anyio's pytest plugin) and, through the
``network_backend`` fixture, on the native backend of that library (``IOBackend`` /
``TrioBackend``), on ``AnyIOBackend`` and on ``SyncBackend``. Sync: ``SyncBackend``. What
only one side has is marked async-only here (cancellation, ``SyncBackend``, the native
asyncio stream's buffer) or lives in ``tests/test_sync_backend.py`` (``SyncStream``'s
timeout caching and its TLS-in-TLS stream).

The peer side is a plain blocking socket driven synchronously from the test: the kernel
completes TCP handshakes on the listener's backlog, so ``accept()`` right after
``connect_tcp`` returns at once, and small sends/receives on loopback never block. TLS
needs a concurrent handshake, so its peer is an echo server in a thread.

Generated from ``tests/_async/test_backends.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

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

from httpcore_fast._backends.sync import SyncBackend

import pytest
import trustme

from httpcore_fast._backends.base import (
    NetworkBackend,
    NetworkStream,
)
from httpcore_fast._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from tests._sync.support import wait_until
from tests.servers import BlackHole

pytestmark = [pytest.mark.network]
# A timer may fire up to one clock tick early (15.6 ms on Windows): lower bounds allow that.
TICK = max(time.get_clock_info("monotonic").resolution, 0.005)


@pytest.fixture
def network_backend() -> NetworkBackend:
    return SyncBackend()


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


def read_exactly(stream: NetworkStream, n: int) -> bytes:
    data = b""
    for _ in range(1000):
        if len(data) >= n:
            break
        chunk = stream.read(n - len(data), timeout=5)
        assert chunk, "stream saw EOF early"
        data += chunk
    assert len(data) == n
    return data


def wait_is_readable(stream: NetworkStream, expected: bool = True) -> None:
    """Poll ``is_readable`` for up to 2 s *without* yielding to the event loop (so the
    transport cannot consume what the peer sent before we look)."""
    deadline = time.monotonic() + 2.0
    while readable(stream) is not expected:
        assert time.monotonic() < deadline, f"is_readable never became {expected}"
        time.sleep(0.001)


def readable(stream: NetworkStream) -> bool:
    """``get_extra_info("is_readable")``, checked to agree with ``_is_readable()`` (what
    the pool asks; a poll object kept per stream where the stream has its own)."""
    answer = stream.get_extra_info("is_readable")
    assert stream._is_readable() is answer
    return typing.cast(bool, answer)


def reset(conn: socket.socket) -> None:
    """Close ``conn`` with an RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


# -- plain TCP ---------------------------------------------------------------------------


def test_write_read_eof(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        stream.write(b"hello", timeout=5)
        stream.write(b"")
        stream.write(bytearray(b" world"))
        assert recv_exactly(conn, 11) == b"hello world"
        conn.sendall(b"response")
        assert read_exactly(stream, 8) == b"response"
        conn.sendall(b"abcdef")
        assert read_exactly(stream, 2) == b"ab"
        assert read_exactly(stream, 4) == b"cdef"
        conn.shutdown(socket.SHUT_WR)
        assert stream.read(100, timeout=5) == b""
        assert stream.read(100, timeout=5) == b""
    finally:
        stream.close()
    stream.close()  # idempotent


def test_extra_info(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
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
        stream.close()


def test_read_timeout_then_reuse(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port, timeout=5)
    conn = peer.accept()
    try:
        # nothing is sent: only the timeout can end the read (no elapsed-time bound)
        with pytest.raises(ReadTimeout):
            stream.read(10, timeout=0.05)
        conn.sendall(b"late")
        assert read_exactly(stream, 4) == b"late"
    finally:
        stream.close()


def test_use_after_close(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()
    stream.close()
    with pytest.raises(ReadError):
        stream.read(10)
    with pytest.raises(WriteError):
        stream.write(b"x")
    stream.close()


def test_peer_reset_is_read_error(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        reset(conn)
        with pytest.raises(ReadError):
            for _ in range(10):  # bounded: a reset must surface at once
                stream.read(10, timeout=5)
    finally:
        stream.close()


def test_write_timeout(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()  # ... and never reads: the socket buffers fill up
    try:
        with pytest.raises(WriteTimeout):
            stream.write(b"x" * (64 * 1024 * 1024), timeout=0.2)
    finally:
        stream.close()


def test_writes_after_a_send_failed_inside_the_transport(
    network_backend: NetworkBackend, peer: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    """The peer reset the connection: a write fails (WriteError) within a few writes, and
    so does every later one. On asyncio the send fails inside the transport, which
    closes, but ``connection_lost`` arrives only with the next loop iteration: a writer
    that never waits otherwise (a request body generator whose writes do not fill the
    socket) must still get ``WriteError`` at the next write, not push on into the dead
    transport (which drops the bytes and logs "socket.send() raised exception.")."""
    caplog.set_level(logging.WARNING, logger="asyncio")
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    reset(peer.accept())
    writes = 0
    try:
        with pytest.raises(WriteError):
            for writes in range(1, 2001):  # bounded
                stream.write(b"x" * 65536, timeout=5)
        with pytest.raises(WriteError):
            stream.write(b"again", timeout=5)
    finally:
        stream.close()
    assert writes <= 10, writes
    assert not [r for r in caplog.records if "socket.send() raised" in r.getMessage()]


def test_large_write_is_complete(network_backend: NetworkBackend, peer: Peer) -> None:
    """4 MiB in one write, far beyond the socket buffers: the peer gets all of it, in
    order."""
    payload = os.urandom(4 * 1024 * 1024)
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    received = bytearray()

    def read_to_eof() -> None:
        for _ in range(100_000):  # bounded
            chunk = conn.recv(65536)
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read_to_eof, daemon=True)
    reader.start()
    try:
        stream.write(payload, timeout=10)
        # everything arrives (asyncio's transport may still hold the last bytes when the
        # write returns: it sends them while the loop runs)
        wait_until(lambda: len(received) >= len(payload), timeout=10)
    finally:
        stream.close()
    # then the EOF (asyncio closes the socket with the next loop iteration)
    wait_until(lambda: not reader.is_alive(), timeout=10)
    assert bytes(received) == payload


def test_is_readable(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    conn = peer.accept()
    try:
        assert readable(stream) is False
        conn.sendall(b"data")
        wait_is_readable(stream)  # pending data: readable
        assert read_exactly(stream, 4) == b"data"
        assert readable(stream) is False
        conn.close()
        wait_is_readable(stream)  # EOF: readable
        assert stream.read(10, timeout=5) == b""
    finally:
        stream.close()
    assert readable(stream) is True  # closed: readable (EOF)


def test_connect_refused(network_backend: NetworkBackend) -> None:
    with socket.socket() as placeholder:  # bound, not listening: connecting is refused
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        with pytest.raises(ConnectError) as info:
            network_backend.connect_tcp("127.0.0.1", port, timeout=5)
    assert type(info.value) is ConnectError  # refused at once: not a timeout
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux drops the SYNs")
def test_connect_timeout(network_backend: NetworkBackend) -> None:
    # A real connect that never completes (a listener whose accept queue is full): only
    # the connect timeout ends it.
    hole = BlackHole()
    try:
        with pytest.raises(ConnectTimeout):
            network_backend.connect_tcp(*hole.address, timeout=0.05)
    finally:
        hole.close()


def test_connect_by_name(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("localhost", peer.port, timeout=5)
    try:
        assert stream.get_extra_info("server_addr")[1] == peer.port
    finally:
        stream.close()


def test_connect_bad_host(network_backend: NetworkBackend) -> None:
    with pytest.raises(ConnectError):
        network_backend.connect_tcp("host.invalid.", 80, timeout=5.0)


def test_socket_options(network_backend: NetworkBackend, peer: Peer) -> None:
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.IPPROTO_TCP, socket.TCP_NODELAY, 0),
    ]
    stream = network_backend.connect_tcp(
        "127.0.0.1", peer.port, socket_options=iter(options)
    )
    try:
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        # as httpcore's SyncBackend: TCP_NODELAY is set after the caller's options
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        stream.close()


def test_bad_socket_option_is_connect_error(
    network_backend: NetworkBackend, peer: Peer
) -> None:
    with pytest.raises(ConnectError):
        network_backend.connect_tcp(
            "127.0.0.1", peer.port, socket_options=[(socket.SOL_SOCKET, 54321, 1)]
        )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is Linux-only")
def test_local_address(network_backend: NetworkBackend, peer: Peer) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port, local_address="127.0.0.2")
    conn = peer.accept()
    try:
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.2"
        assert conn.getpeername()[0] == "127.0.0.2"
    finally:
        stream.close()


def test_sleep(network_backend: NetworkBackend) -> None:
    started = time.monotonic()
    network_backend.sleep(0.02)
    assert time.monotonic() - started >= 0.02 - TICK  # it did sleep (no upper bound)


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
def test_unix_socket(network_backend: NetworkBackend, unix_peer: Peer) -> None:
    stream = network_backend.connect_unix_socket(
        unix_peer.address, timeout=5, socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)]
    )
    conn = unix_peer.accept()
    try:
        stream.write(b"over unix")
        assert recv_exactly(conn, 9) == b"over unix"
        conn.sendall(b"back")
        assert read_exactly(stream, 4) == b"back"
        assert stream.get_extra_info("is_readable") is False
        conn.close()
        assert stream.read(10, timeout=5) == b""
    finally:
        stream.close()


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_unix_socket_missing(network_backend: NetworkBackend) -> None:
    with pytest.raises(ConnectError):
        network_backend.connect_unix_socket("/nonexistent/httpcore-fast.sock")


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
def test_tls(
    network_backend: NetworkBackend,
    tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    alpn: str,
) -> None:
    client_context.set_alpn_protocols([alpn])
    stream = network_backend.connect_tcp("127.0.0.1", tls_server.peer.port)
    try:
        tls = stream.start_tls(client_context, server_hostname="localhost", timeout=5)
    except BaseException:
        stream.close()
        raise
    try:
        ssl_object = tls.get_extra_info("ssl_object")
        assert ssl_object.selected_alpn_protocol() == alpn
        assert ssl_object.server_hostname == "localhost"
        assert tls.get_extra_info("server_addr") == tls_server.peer.address
        assert tls.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert tls.get_extra_info("socket").fileno() >= 0
        tls.write(b"ping " * 1000, timeout=5)
        assert read_exactly(tls, 5000) == b"ping " * 1000
        assert tls.get_extra_info("is_readable") is False
    finally:
        tls.close()
    tls.close()
    assert tls_server.alpn[-1:] == [alpn] or tls_server.alpn == []  # server may lag


def test_tls_wrong_hostname(
    network_backend: NetworkBackend,
    tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", tls_server.peer.port)
    try:
        with pytest.raises(ConnectError):
            stream.start_tls(client_context, server_hostname="example.org", timeout=5)
    finally:
        stream.close()


def test_tls_untrusted(
    network_backend: NetworkBackend, tls_server: TLSEchoServer
) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", tls_server.peer.port)
    try:
        with pytest.raises(ConnectError):
            stream.start_tls(ssl.create_default_context(), server_hostname="localhost")
    finally:
        stream.close()


def test_tls_handshake_timeout(
    network_backend: NetworkBackend, peer: Peer, client_context: ssl.SSLContext
) -> None:
    stream = network_backend.connect_tcp("127.0.0.1", peer.port)
    peer.accept()  # ... and never answers the ClientHello
    try:
        with pytest.raises(ConnectTimeout):
            stream.start_tls(client_context, server_hostname="localhost", timeout=0.1)
    finally:
        stream.close()


@pytest.mark.parametrize("check", ["data", "close_after_fork"])
def test_tls_in_tls(
    check: str,
    network_backend: NetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    """TLS to a proxy, then TLS to the target through it (an HTTPS proxy tunnel)."""
    TLS_IN_TLS_CHECKS[check](network_backend, tls_in_tls_server, client_context, ca)


def test_tls_in_tls_handshake_failure(
    network_backend: NetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
) -> None:
    """The inner handshake fails (the target's certificate is not for the name asked):
    ConnectError, as for a direct connection."""
    stream = network_backend.connect_tcp("127.0.0.1", tls_in_tls_server.peer.port)
    outer = stream.start_tls(client_context, "proxy.example", timeout=5)
    try:
        with pytest.raises(ConnectError):
            outer.start_tls(client_context, "wrong.example", timeout=5)
    finally:
        outer.close()


def open_tls_in_tls(
    network_backend: NetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> tuple[NetworkStream, NetworkStream]:
    """(outer, inner): TLS to "proxy.example", and inside it TLS to "target.example"."""
    inner_context = ssl.create_default_context()
    ca.configure_trust(inner_context)
    inner_context.set_alpn_protocols(["h2"])
    stream = network_backend.connect_tcp("127.0.0.1", tls_in_tls_server.peer.port)
    try:
        outer = stream.start_tls(client_context, "proxy.example", timeout=5)
    except BaseException:
        stream.close()
        raise
    try:
        inner = outer.start_tls(inner_context, "target.example", timeout=5)
    except BaseException:
        outer.close()
        raise
    return outer, inner


def check_tls_in_tls(
    network_backend: NetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    outer, inner = open_tls_in_tls(network_backend, tls_in_tls_server, client_context, ca)
    try:
        ssl_object = inner.get_extra_info("ssl_object")
        assert ssl_object.server_hostname == "target.example"
        assert ssl_object.selected_alpn_protocol() == "h2"
        assert outer.get_extra_info("ssl_object").server_hostname == "proxy.example"
        assert inner.get_extra_info("server_addr") == tls_in_tls_server.peer.address
        inner.write(b"nested " * 3000, timeout=5)
        assert read_exactly(inner, 21000) == b"nested " * 3000
        assert inner.get_extra_info("is_readable") is False
    finally:
        inner.close()
    with pytest.raises(ReadError):
        inner.read(10)


def check_close_after_fork_tls_in_tls(
    network_backend: NetworkBackend,
    tls_in_tls_server: TLSEchoServer,
    client_context: ssl.SSLContext,
    ca: trustme.CA,
) -> None:
    """``_close_after_fork()`` (called here without a fork) on a TLS stream inside TLS
    closes the socket under both layers and leaves a stream whose later ``close()``
    and collection neither raise nor warn."""
    outer, inner = open_tls_in_tls(network_backend, tls_in_tls_server, client_context, ca)
    sock = inner.get_extra_info("socket")
    fd = sock.fileno()
    assert fd >= 0
    inner._close_after_fork()
    inner._close_after_fork()  # idempotent
    assert sock.fileno() == -1
    with pytest.raises(OSError):
        os.fstat(fd)
    inner.close()  # nothing left to close: no error
    del outer, inner, sock
    gc.collect()  # a transport still holding its socket would warn here (an error)


TLS_IN_TLS_CHECKS = {
    "data": check_tls_in_tls,
    "close_after_fork": check_close_after_fork_tls_in_tls,
}



"""Happy Eyeballs (RFC 8305) on every backend: a host whose first address hangs.

The first address is a loopback listener whose accept queue is full (listen backlog 0,
filled by a connection nobody accepts): Linux then drops further SYNs, so a connect to it
hangs, exactly like a dual-stack host whose first address black-holes packets. The second
address is a plain listener on another loopback address (127.0.0.2). Only the name ->
addresses step is faked (``socket.getaddrinfo``, ``loop.getaddrinfo``, trio's custom
resolver); every connection attempt is a real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import threading
import time
import typing

import pytest
import trio

import httpcore_fast
from httpcore_fast._backends import asyncio as asyncio_backend
from httpcore_fast._backends import sync as sync_backend
from httpcore_fast._backends.anyio import AnyIOBackend
from httpcore_fast._backends.asyncio import AsyncIOBackend
from httpcore_fast._backends.base import HAPPY_EYEBALLS_DELAY, AsyncNetworkBackend
from httpcore_fast._backends.sync import SyncBackend, interleave_families
from httpcore_fast._backends.trio import TrioBackend
from httpcore_fast._exceptions import ConnectError, ConnectTimeout
from tests.servers import BlackHole

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"),
        reason="needs Linux: a full accept queue drops SYNs, 127.0.0.2 is local",
    ),
]

NAME = "dual-stack.test"
# A timer may fire up to one clock tick early: elapsed-time lower bounds allow that much.
TICK = max(time.get_clock_info("monotonic").resolution, 0.005)
AddrInfo = typing.Tuple[int, int, int, str, typing.Tuple[typing.Any, ...]]


class Listener:
    """A plain listener on ``host`` (port ``port``, 0: any); the test accepts (the
    kernel completes handshakes)."""

    def __init__(self, host: str = "127.0.0.2", port: int = 0) -> None:
        self.listener = socket.socket()
        self.listener.bind((host, port))
        self.listener.listen(8)
        self.address = self.listener.getsockname()
        self.accepted: list[socket.socket] = []

    def accept(self) -> socket.socket:
        self.listener.settimeout(5)
        conn, _ = self.listener.accept()
        conn.settimeout(5)
        self.accepted.append(conn)
        return conn

    def has_pending(self) -> bool:
        self.listener.setblocking(False)
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return False
        self.accepted.append(conn)
        return True

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.listener.close()


@pytest.fixture
def pair() -> typing.Iterator[tuple[BlackHole, Listener]]:
    """A black hole on 127.0.0.1 and a listener on 127.0.0.2 with the same port, as one
    host's two addresses are (anyio connects every address on the requested port)."""
    for _ in range(20):
        hole = BlackHole()
        try:
            listener = Listener("127.0.0.2", hole.address[1])
        except OSError:  # pragma: no cover - the port is taken on 127.0.0.2
            hole.close()
            continue
        break
    else:  # pragma: no cover
        raise AssertionError("no port free on both 127.0.0.1 and 127.0.0.2")
    yield hole, listener
    listener.close()
    hole.close()


@pytest.fixture
def black_hole(pair: tuple[BlackHole, Listener]) -> BlackHole:
    return pair[0]


@pytest.fixture
def server(pair: tuple[BlackHole, Listener]) -> Listener:
    return pair[1]


def v4(address: tuple[typing.Any, ...]) -> AddrInfo:
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)


def v6(host: str, port: int) -> AddrInfo:
    return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0))


def free_port(host: str = "127.0.0.2") -> int:
    """A port nobody listens on at ``host`` (connects to it are refused)."""
    probe = socket.socket()
    probe.bind((host, 0))
    port = typing.cast(int, probe.getsockname()[1])
    probe.close()
    return port


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# getaddrinfo's order (v6, v6, v4, v4), and the order of the attempts (RFC 8305 §4).
def four_addresses(port: int) -> list[AddrInfo]:
    return [
        v6("::1", port),
        v6("::ffff:127.0.0.2", port),
        v4(("127.0.0.3", port)),
        v4(("127.0.0.4", port)),
    ]


INTERLEAVED = ["::1", "127.0.0.3", "::ffff:127.0.0.2", "127.0.0.4"]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def patch_sync_resolver(monkeypatch: pytest.MonkeyPatch, infos: list[AddrInfo]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(
        host: typing.Any, port: typing.Any, *args: typing.Any, **kw: typing.Any
    ) -> typing.Any:
        if host == NAME:
            return list(infos)  # each with its own port: the listeners' ports differ
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# -- sync ----------------------------------------------------------------------------------


def test_interleave_families() -> None:
    a6, b6, c6 = (v6(f"::{n}", 1) for n in (1, 2, 3))
    a4, b4 = v4(("127.0.0.1", 1)), v4(("127.0.0.2", 1))
    assert interleave_families([a6, b6, c6, a4, b4]) == [a6, a4, b6, b4, c6]
    assert interleave_families([a4, a6, b6, b4]) == [a4, a6, b4, b6]
    assert interleave_families([a4, b4]) == [a4, b4]


class Attempts:
    """Records each connection attempt's socket, and whether every earlier attempt's
    socket was still open (still connecting) when it started: a race, not a sequence."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.addresses: list[typing.Any] = []
        self.overlapped: list[bool] = []

    def started(self, sock: socket.socket, address: typing.Any) -> None:
        self.overlapped.append(all(s.fileno() != -1 for s in self.sockets))
        self.sockets.append(sock)
        self.addresses.append(address)


def record_sync_attempts(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    attempts = Attempts()
    real_connect_ex = socket.socket.connect_ex

    def connect_ex(sock: socket.socket, address: typing.Any) -> int:
        attempts.started(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


def test_sync_second_address_wins(
    black_hole: BlackHole, server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_sync_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)])
    attempts = record_sync_attempts(monkeypatch)
    baseline = open_fds()
    started = time.monotonic()
    stream = SyncBackend().connect_tcp(NAME, server.address[1], timeout=10)
    elapsed = time.monotonic() - started
    try:
        # The second attempt started only after the first had hung for the delay.
        assert elapsed >= HAPPY_EYEBALLS_DELAY - TICK
        assert attempts.overlapped == [True, True]  # the first was still connecting
        assert stream.get_extra_info("server_addr") == server.address
        assert attempts.sockets[0].fileno() == -1
        assert open_fds() == baseline + 1  # the hanging attempt's socket is closed
        conn = server.accept()
        stream.write(b"ping", timeout=5)
        assert conn.recv(4) == b"ping"
        conn.sendall(b"pong")
        assert stream.read(4, timeout=5) == b"pong"
    finally:
        stream.close()
    assert open_fds() == baseline + 1  # the server's end of the connection


def test_sync_connect_timeout_before_the_next_attempt(
    black_hole: BlackHole, server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_sync_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)])
    baseline = open_fds()
    timeout = HAPPY_EYEBALLS_DELAY / 2
    started = time.monotonic()
    with pytest.raises(ConnectTimeout):
        SyncBackend().connect_tcp(NAME, server.address[1], timeout=timeout)
    assert time.monotonic() - started >= timeout - TICK
    assert open_fds() == baseline
    assert not server.has_pending()  # the second attempt never started


def test_sync_refused_addresses_fail_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A refused attempt starts the next one at once (RFC 8305 §5): with an hour-long
    # stagger, waiting for it would end in ConnectTimeout instead.
    monkeypatch.setattr(sync_backend, "HAPPY_EYEBALLS_DELAY", 3600.0)
    port = free_port()
    patch_sync_resolver(monkeypatch, [v4(("127.0.0.2", port)), v4(("127.0.0.3", port))])
    baseline = open_fds()
    with pytest.raises(ConnectError) as info:
        SyncBackend().connect_tcp(NAME, port, timeout=30)
    cause = info.value.__cause__
    assert isinstance(cause, ConnectionRefusedError)
    assert "127.0.0.2" in str(cause) and "127.0.0.3" in str(cause)
    assert open_fds() == baseline


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_sync_attempt_order_is_interleaved(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port("127.0.0.1")
    infos = four_addresses(port)
    patch_sync_resolver(monkeypatch, infos)
    attempts = record_sync_attempts(monkeypatch)
    with pytest.raises(ConnectError):
        SyncBackend().connect_tcp(NAME, port, timeout=30)
    assert [a[0] for a in attempts.addresses] == INTERLEAVED


# A local address and a socket option, for the second (winning) attempt to show.
CONNECT_SETTINGS: dict[str, typing.Any] = {
    "timeout": 10,
    "local_address": "127.0.0.1",
    "socket_options": [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
}


def check_settings(sock: typing.Any) -> None:
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert sock.getsockname()[0] == "127.0.0.1"


def test_sync_options_and_binding_apply_to_later_attempts(
    black_hole: BlackHole, server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_sync_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)])
    stream = SyncBackend().connect_tcp(NAME, server.address[1], **CONNECT_SETTINGS)
    try:
        check_settings(stream.get_extra_info("socket"))
        assert stream.get_extra_info("socket").gettimeout() == 10
    finally:
        stream.close()


# -- async: native asyncio, trio, anyio on both ---------------------------------------------


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return typing.cast(str, request.param)


@pytest.fixture(params=["native", "anyio"])
def network_backend(request: pytest.FixtureRequest, anyio_backend: str) -> AsyncNetworkBackend:
    if request.param == "anyio":
        return AnyIOBackend()
    return AsyncIOBackend() if anyio_backend == "asyncio" else TrioBackend()


class _TrioResolver(trio.abc.HostnameResolver):
    def __init__(self, infos: list[AddrInfo]) -> None:
        self.infos = infos

    async def getaddrinfo(
        self, host: typing.Any, port: typing.Any, *args: typing.Any
    ) -> typing.Any:
        return list(self.infos)

    async def getnameinfo(self, sockaddr: typing.Any, flags: int) -> typing.Any:
        raise NotImplementedError  # pragma: no cover


@contextlib.contextmanager
def patched_async_resolver(
    monkeypatch: pytest.MonkeyPatch, infos: list[AddrInfo]
) -> typing.Iterator[None]:
    """Answer ``NAME`` with ``infos`` on the running asyncio loop, or in this trio run."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        previous = trio.socket.set_custom_hostname_resolver(_TrioResolver(infos))
        try:
            yield
        finally:
            trio.socket.set_custom_hostname_resolver(previous)
        return
    real = loop.getaddrinfo

    async def getaddrinfo(host: typing.Any, port: typing.Any, **kw: typing.Any) -> typing.Any:
        if host in (NAME, NAME.encode()):
            return list(infos)
        return await real(host, port, **kw)  # pragma: no cover

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    yield


def record_asyncio_attempts(monkeypatch: pytest.MonkeyPatch) -> Attempts:
    attempts = Attempts()
    loop = asyncio.get_running_loop()
    real_sock_connect = loop.sock_connect

    async def sock_connect(sock: socket.socket, address: typing.Any) -> None:
        attempts.started(sock, address)
        await real_sock_connect(sock, address)

    monkeypatch.setattr(loop, "sock_connect", sock_connect)
    return attempts


@pytest.mark.anyio
async def test_async_second_address_wins(
    network_backend: AsyncNetworkBackend,
    black_hole: BlackHole,
    server: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts = None
    if isinstance(network_backend, AsyncIOBackend):
        attempts = record_asyncio_attempts(monkeypatch)
    with patched_async_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)]):
        baseline = open_fds()
        started = time.monotonic()
        stream = await network_backend.connect_tcp(NAME, server.address[1], timeout=10)
        elapsed = time.monotonic() - started
    try:
        assert elapsed >= HAPPY_EYEBALLS_DELAY - TICK
        if attempts is not None:  # native asyncio: the first was still connecting
            assert attempts.overlapped == [True, True]
            assert attempts.sockets[0].fileno() == -1
        assert stream.get_extra_info("server_addr") == server.address
        assert open_fds() == baseline + 1  # the hanging attempt's socket is closed
        conn = server.accept()
        await stream.write(b"ping", timeout=5)
        assert conn.recv(4) == b"ping"
        conn.sendall(b"pong")
        assert await stream.read(4, timeout=5) == b"pong"
    finally:
        await stream.aclose()


@pytest.mark.anyio
async def test_async_connect_timeout_before_the_next_attempt(
    network_backend: AsyncNetworkBackend,
    black_hole: BlackHole,
    server: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with patched_async_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)]):
        baseline = open_fds()
        timeout = HAPPY_EYEBALLS_DELAY / 2
        started = time.monotonic()
        with pytest.raises(ConnectTimeout):
            await network_backend.connect_tcp(NAME, server.address[1], timeout=timeout)
        assert time.monotonic() - started >= timeout - TICK
    assert open_fds() == baseline
    assert not server.has_pending()  # the second attempt never started


@pytest.mark.anyio
async def test_async_refused_addresses(
    network_backend: AsyncNetworkBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    infos = [v4(("127.0.0.2", port)), v4(("127.0.0.3", port))]
    if isinstance(network_backend, AsyncIOBackend):
        # Ours: a refused attempt starts the next at once (RFC 8305 §5); with an
        # hour-long stagger, waiting for it would end in ConnectTimeout instead.
        monkeypatch.setattr(asyncio_backend, "HAPPY_EYEBALLS_DELAY", 3600.0)
    with patched_async_resolver(monkeypatch, infos):
        baseline = open_fds()
        with pytest.raises(ConnectError) as info:
            await network_backend.connect_tcp(NAME, port, timeout=30)
    assert open_fds() == baseline
    if isinstance(network_backend, AsyncIOBackend):
        cause = info.value.__cause__
        assert isinstance(cause, ConnectionRefusedError)
        assert "127.0.0.2" in str(cause) and "127.0.0.3" in str(cause)


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_attempt_order_is_interleaved(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port("127.0.0.1")
    infos = four_addresses(port)
    attempts = record_asyncio_attempts(monkeypatch)
    with patched_async_resolver(monkeypatch, infos), pytest.raises(ConnectError):
        await AsyncIOBackend().connect_tcp(NAME, port, timeout=30)
    assert [a[0] for a in attempts.addresses] == INTERLEAVED


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_options_and_binding_apply_to_later_attempts(
    black_hole: BlackHole, server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    with patched_async_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)]):
        stream = await AsyncIOBackend().connect_tcp(NAME, server.address[1], **CONNECT_SETTINGS)
    try:
        check_settings(stream.get_extra_info("socket"))
    finally:
        await stream.aclose()


# -- through the pool: a whole request ------------------------------------------------------


def answer_one_request(server: Listener) -> threading.Thread:
    """Accept one connection on ``server`` and answer one request with "ok" (thread)."""

    def serve() -> None:
        conn = server.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_sync_pool_request_reaches_the_second_address(
    black_hole: BlackHole, server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_sync_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)])
    thread = answer_one_request(server)
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request(
            "GET", f"http://{NAME}:{server.address[1]}/", extensions={"timeout": {"connect": 10}}
        )
    thread.join(10)
    assert response.status == 200 and response.content == b"ok"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_pool_request_reaches_the_second_address(
    black_hole: BlackHole, server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = answer_one_request(server)
    with patched_async_resolver(monkeypatch, [v4(black_hole.address), v4(server.address)]):
        async with httpcore_fast.AsyncConnectionPool() as pool:
            response = await pool.request(
                "GET",
                f"http://{NAME}:{server.address[1]}/",
                extensions={"timeout": {"connect": 10}},
            )
    thread.join(10)
    assert response.status == 200 and response.content == b"ok"

"""``_close_after_fork()`` on a stream of every backend, in a real forked child.

The child calls it (twice) on streams it inherited: their descriptors must be closed,
nothing raised or warned, and no stale object may later close a reused descriptor number.
The parent's streams must still work afterwards (no TLS close_notify, no shutdown, no
change to the parent's event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import ssl
import sys
import threading
import traceback
import typing
import warnings

import pytest
import trio
import trustme

from httpcore_fast._backends.anyio import AnyIOBackend
from httpcore_fast._backends.asyncio import AsyncIOBackend
from httpcore_fast._backends.base import AsyncNetworkStream, NetworkStream
from httpcore_fast._backends.mock import AsyncMockStream, MockStream
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast._backends.trio import TrioBackend
from tests.test_fork import read_and_reap

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only"),
]

JOIN_TIMEOUT = 10.0
Stream = typing.Union[NetworkStream, AsyncNetworkStream]


class EchoServer:
    """Echoes every byte back, on plain TCP or TLS, one thread per connection."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self.tls = tls
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:  # pragma: no cover - closed
                return
            self.connections.append(conn)
            thread = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _echo(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.settimeout(JOIN_TIMEOUT)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                self.connections.append(conn)
            conn.settimeout(0.05)
            while not self.stopping.is_set():
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    return
                conn.sendall(data)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(JOIN_TIMEOUT)
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT)
        for conn in self.connections:
            conn.close()
        self.listener.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def servers(ca: trustme.CA) -> typing.Iterator[tuple[EchoServer, EchoServer]]:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    plain, secure = EchoServer(None), EchoServer(tls)
    yield plain, secure
    plain.stop()
    secure.stop()


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def stream_fd(stream: Stream) -> int:
    return int(stream.get_extra_info("socket").fileno())


def fd_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def child_checks(streams: dict[str, Stream]) -> str:
    """Run in the child: close every stream's descriptors; return "ok" or what failed."""
    problems: list[str] = []
    unraisable: list[str] = []
    sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")
    warnings.simplefilter("error")
    fds = {name: stream_fd(stream) for name, stream in streams.items()}
    for name, stream in streams.items():
        try:
            stream._close_after_fork()
            stream._close_after_fork()  # idempotent
        except BaseException:  # pragma: no cover - reported to the parent
            problems.append(f"{name} raised {traceback.format_exc()}")
    for name, fd in fds.items():
        if fd_is_open(fd):
            problems.append(f"{name}: fd {fd} still open")
    # Reuse the numbers, then let every stale object go: none may close them again.
    reused = [os.open(os.devnull, os.O_RDONLY) for _ in fds]
    streams.clear()
    gc.collect()
    problems += [f"{fd} (reused) was closed" for fd in reused if not fd_is_open(fd)]
    problems += [f"warned: {text}" for text in unraisable]
    return "; ".join(problems) or "ok"


def fork_and_check(streams: dict[str, Stream]) -> None:
    """Fork; the child runs :func:`child_checks` on ``streams``; the parent asserts it
    reported "ok" and exited 0."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(read_fd)
            report = child_checks(streams)
            os.write(write_fd, report.encode()[:4000])
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        report, status = read_and_reap(read_fd, pid)
    finally:
        os.close(read_fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, report)
    assert report == b"ok"


def sync_roundtrip(stream: NetworkStream) -> None:
    stream.write(b"still works", timeout=JOIN_TIMEOUT)
    data = b""
    for _ in range(100):
        if len(data) >= 11:
            break
        data += stream.read(100, timeout=JOIN_TIMEOUT)
    assert data == b"still works"


async def async_roundtrip(stream: AsyncNetworkStream) -> None:
    await stream.write(b"still works", timeout=JOIN_TIMEOUT)
    data = b""
    for _ in range(100):
        if len(data) >= 11:
            break
        data += await stream.read(100, timeout=JOIN_TIMEOUT)
    assert data == b"still works"


def test_close_after_fork_every_backend(
    servers: tuple[EchoServer, EchoServer], client_context: ssl.SSLContext
) -> None:
    plain, secure = servers
    streams: dict[str, Stream] = {}

    # sync: plain, TLS, TLS inside TLS is covered by tests/test_sync_backend.py's own servers
    backend = SyncBackend()
    streams["sync"] = backend.connect_tcp("127.0.0.1", plain.port, timeout=JOIN_TIMEOUT)
    raw = backend.connect_tcp("127.0.0.1", secure.port, timeout=JOIN_TIMEOUT)
    streams["sync-tls"] = raw.start_tls(client_context, "127.0.0.1", timeout=JOIN_TIMEOUT)

    # asyncio (native and anyio), opened on a loop that stays open but is not running
    loop = asyncio.new_event_loop()

    async def open_asyncio() -> None:
        for name, make in (("asyncio", AsyncIOBackend), ("anyio-asyncio", AnyIOBackend)):
            streams[name] = await make().connect_tcp("127.0.0.1", plain.port)
            tls_raw = await make().connect_tcp("127.0.0.1", secure.port)
            streams[name + "-tls"] = await tls_raw.start_tls(client_context, "127.0.0.1")

    # trio (native and anyio): trio sockets belong to no particular run
    async def open_trio() -> None:
        for name, make in (("trio", TrioBackend), ("anyio-trio", AnyIOBackend)):
            streams[name] = await make().connect_tcp("127.0.0.1", plain.port)
            tls_raw = await make().connect_tcp("127.0.0.1", secure.port)
            streams[name + "-tls"] = await tls_raw.start_tls(client_context, "127.0.0.1")

    try:
        loop.run_until_complete(open_asyncio())
        trio.run(open_trio)
        streams["mock"] = MockStream([b"x"])
        streams["async-mock"] = AsyncMockStream([b"x"])
        fds_before = {name: stream_fd(s) for name, s in streams.items() if "mock" not in name}

        children = {name: s for name, s in streams.items() if "mock" not in name}
        fork_and_check(children)
        for stream in (streams["mock"], streams["async-mock"]):
            stream._close_after_fork()  # no descriptors: a no-op that does not raise

        # The parent's streams are untouched and still work.
        assert {name: stream_fd(streams[name]) for name in fds_before} == fds_before
        sync_roundtrip(typing.cast(NetworkStream, streams["sync"]))
        sync_roundtrip(typing.cast(NetworkStream, streams["sync-tls"]))

        async def use_asyncio() -> None:
            for name in ("asyncio", "asyncio-tls", "anyio-asyncio", "anyio-asyncio-tls"):
                stream = typing.cast(AsyncNetworkStream, streams[name])
                await async_roundtrip(stream)
                await stream.aclose()

        async def use_trio() -> None:
            for name in ("trio", "trio-tls", "anyio-trio", "anyio-trio-tls"):
                stream = typing.cast(AsyncNetworkStream, streams[name])
                await async_roundtrip(stream)
                await stream.aclose()

        loop.run_until_complete(use_asyncio())
        trio.run(use_trio)
    finally:
        typing.cast(NetworkStream, streams["sync"]).close()
        typing.cast(NetworkStream, streams["sync-tls"]).close()
        loop.run_until_complete(asyncio.sleep(0))  # let aborted transports finish closing
        loop.close()


def test_close_after_fork_inside_a_running_loop(servers: tuple[EchoServer, EchoServer]) -> None:
    """Forked from a coroutine (as a pool's at-fork hook runs): the child shares the
    parent's epoll descriptor, so closing must not unregister anything from it."""
    plain, _ = servers

    async def main() -> None:
        stream = await AsyncIOBackend().connect_tcp("127.0.0.1", plain.port)
        try:
            await async_roundtrip(stream)
            fork_and_check({"asyncio": stream})
            await async_roundtrip(stream)  # the parent's loop still watches the socket
        finally:
            await stream.aclose()

    asyncio.run(main())

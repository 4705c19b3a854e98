"""A pool used before os.fork() shares no socket with the child (the child starts empty).

Every pool kind is forked with an idle connection: sync, native asyncio, anyio on asyncio
and trio; direct, through an HTTP proxy (forwarding and tunnelling), through SOCKS, and
HTTP/2. In the child the pool starts empty, the child's copies of the parent's sockets are
closed, and a new request works; the parent keeps its connection (a relay in front of the
server counts the connections: the parent opens no new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import ssl
import threading
import time
import typing
import warnings
from collections.abc import Callable

import pytest

import httpcore_fast
from tests.proxy_servers import PProxyServer, TCPRelay
from tests.servers import UvicornServer

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only"),
]


CHILD_TIMEOUT = 30.0  # seconds the child may take to report and exit
EXTENSIONS = {"timeout": {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}}


def read_and_reap(read_fd: int, pid: int) -> tuple[bytes, int]:
    """The child's report (read until it closes the pipe) and its wait status, within
    ``CHILD_TIMEOUT`` seconds; a child that overruns is killed, reaped, and the test fails."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    report = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([read_fd], [], [], max(remaining, 0))
            if not readable:
                raise AssertionError(f"the child reported nothing in {CHILD_TIMEOUT} s")
            data = os.read(read_fd, 100)
            if not data:  # the child exited (or closed its end)
                break
            report += data
        while True:
            reaped, status = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return report, status
            if time.monotonic() > deadline:
                raise AssertionError(f"the child did not exit in {CHILD_TIMEOUT} s")
            time.sleep(0.01)
    except BaseException:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)  # reaped: SIGKILL cannot be ignored
        raise


def fork_and_report(child: Callable[[], bytes]) -> bytes:
    """Fork; the child runs ``child()`` and writes what it returns to a pipe, then exits
    (status 1 if it raised). Returns the child's report; fails unless it exited with 0."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a threaded process (the test servers run in
        # threads) may deadlock; the child here only uses its own pool.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(read_fd)
            os.write(write_fd, child())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        report, status = read_and_reap(read_fd, pid)
    finally:
        os.close(read_fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, report)
    return report


def test_child_starts_with_an_empty_pool_and_parent_keeps_its_connection(
    http_server: UvicornServer,
) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        assert pool.request("GET", http_server.url("/")).status == 200
        parent_connection = pool.connections[0]

        def child() -> bytes:
            inherited = len(pool.connections)
            response = pool.request("GET", http_server.url("/"))
            return b"%d %d %d" % (inherited, response.status, len(pool.connections))

        assert fork_and_report(child) == b"0 200 1"
        # The parent's connection was not disturbed by the child.
        assert pool.connections == [parent_connection]
        response = pool.request("GET", http_server.url("/"))
        assert response.status == 200
        assert pool.connections == [parent_connection]
        assert "Request Count: 2" in repr(parent_connection)


# --- every pool kind ----------------------------------------------------------------------

MODES = ["sync", "asyncio", "anyio", "trio"]
KINDS = ["direct", "forward", "tunnel", "socks", "http2"]


class Setup(typing.NamedTuple):
    url: str
    relay: TCPRelay  # every connection of the pool goes through it
    pool_kwargs: dict[str, typing.Any]
    http_version: bytes


@pytest.fixture
def setup(
    request: pytest.FixtureRequest,
    tcp_relay: Callable[..., TCPRelay],
    http_server: UvicornServer,
    https_server: UvicornServer,
    pproxy_server: PProxyServer,
    client_ssl_context: ssl.SSLContext,
) -> Setup:
    kind = request.param
    tls = {"ssl_context": client_ssl_context}
    if kind == "direct":
        relay = tcp_relay(http_server.port)
        return Setup(relay.url("http") + "/", relay, {}, b"HTTP/1.1")
    if kind == "http2":
        h2_origin = request.getfixturevalue("h2_origin")
        relay = tcp_relay(h2_origin.port)
        return Setup(relay.url("https") + "/", relay, {**tls, "http2": True}, b"HTTP/2")
    relay = tcp_relay(pproxy_server.port)
    scheme, url = {
        "forward": ("http", http_server.url("/")),
        "tunnel": ("http", https_server.url("/")),
        "socks": ("socks5", https_server.url("/")),
    }[kind]
    proxy = httpcore_fast.Proxy(relay.url(scheme))
    return Setup(url, relay, {**tls, "proxy": proxy}, b"HTTP/1.1")


def socket_fds(pool: typing.Any) -> list[int]:
    """The file descriptors of the pool's connections (their ``network_stream``s)."""
    fds = []
    for connection in pool.connections:
        inner = connection
        while getattr(inner, "_connection", None) is not None:
            inner = inner._connection
        stream = inner._network_stream
        fds.append(stream.get_extra_info("socket").fileno())
    return fds


def closed(fds: list[int]) -> bool:
    """True if none of ``fds`` is open in this process."""
    for fd in fds:
        try:
            os.fstat(fd)
        except OSError:
            continue
        return False
    return True


def run_in_fresh_thread(mode: str, work: Callable[[], typing.Any]) -> typing.Any:
    """``work()`` (sync) or ``work`` as the main coroutine of a new event loop of ``mode``,
    in a new thread (a forked child cannot re-enter the parent's running loop), with every
    warning recorded. Returns (result, number of warnings)."""
    outcome: list[typing.Any] = []

    def target() -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if mode == "sync":
                result = work()
            elif mode == "trio":
                import trio

                result = trio.run(work)
            else:
                result = asyncio.run(work())  # type: ignore[arg-type]
        outcome.append((result, len(caught)))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(CHILD_TIMEOUT)
    return outcome[0]


def child_report(
    pool: typing.Any, mode: str, setup: Setup, fds: list[int]
) -> typing.Callable[[], bytes]:
    def child() -> bytes:
        inherited = len(pool.connections)
        fds_closed = closed(fds)

        def sync_work() -> tuple[int, bytes, int]:
            with pool:
                response = pool.request("GET", setup.url, extensions=EXTENSIONS)
                return response.status, response.extensions["http_version"], len(pool.connections)

        async def async_work() -> tuple[int, bytes, int]:
            async with pool:
                response = await pool.request("GET", setup.url, extensions=EXTENSIONS)
                return response.status, response.extensions["http_version"], len(pool.connections)

        work = sync_work if mode == "sync" else async_work
        (status, version, count), warned = run_in_fresh_thread(mode, work)
        return b"%d %r %d %b %d %d" % (inherited, fds_closed, status, version, count, warned)

    return child


def expected_report(setup: Setup) -> bytes:
    return b"0 True 200 %b 1 0" % setup.http_version


def check_parent_after_fork(pool: typing.Any, setup: Setup, connection: typing.Any) -> None:
    """The parent's pool still has its one connection and the relay saw two connections
    in all (the parent's and the child's): the parent's next request opened none."""
    assert pool.connections == [connection]
    assert setup.relay.accepted == 2
    assert connection.is_connected()


def parent_sync(setup: Setup) -> None:
    with httpcore_fast.ConnectionPool(**setup.pool_kwargs) as pool:
        response = pool.request("GET", setup.url, extensions=EXTENSIONS)
        assert response.extensions["http_version"] == setup.http_version
        [connection] = pool.connections
        report = fork_and_report(child_report(pool, "sync", setup, socket_fds(pool)))
        assert report == expected_report(setup)
        assert pool.request("GET", setup.url, extensions=EXTENSIONS).status == 200
        check_parent_after_fork(pool, setup, connection)


async def parent_async(setup: Setup, mode: str) -> None:
    backend = httpcore_fast.AnyIOBackend() if mode == "anyio" else None
    async with httpcore_fast.AsyncConnectionPool(
        **setup.pool_kwargs, network_backend=backend
    ) as pool:
        response = await pool.request("GET", setup.url, extensions=EXTENSIONS)
        assert response.extensions["http_version"] == setup.http_version
        [connection] = pool.connections
        # The parent blocks its own event loop while the child runs: nothing of the
        # parent's needs to run meanwhile (the servers are in other threads).
        report = fork_and_report(child_report(pool, mode, setup, socket_fds(pool)))
        assert report == expected_report(setup)
        assert (await pool.request("GET", setup.url, extensions=EXTENSIONS)).status == 200
        check_parent_after_fork(pool, setup, connection)


@pytest.mark.parametrize("setup", KINDS, indirect=True)
@pytest.mark.parametrize("mode", MODES)
def test_every_pool_kind_survives_fork(mode: str, setup: Setup) -> None:
    if mode == "sync":
        parent_sync(setup)
    elif mode == "trio":
        import trio

        trio.run(parent_async, setup, mode)
    else:
        asyncio.run(parent_async(setup, mode))


def test_a_failing_connection_does_not_stop_the_reset(http_server: UvicornServer) -> None:
    # The at-fork hook closes every inherited connection and resets every pool even when
    # one connection's clean-up raises: here the first connection of the first pool.
    class Broken:
        def _close_after_fork(self) -> None:
            raise RuntimeError("broken")

    with httpcore_fast.ConnectionPool() as first, httpcore_fast.ConnectionPool() as second:
        for pool in (first, second):
            assert pool.request("GET", http_server.url("/")).status == 200
        fds = socket_fds(first) + socket_fds(second)
        broken = Broken()
        connections = dict(first._pool)
        first._pool.clear()
        first._pool[broken] = next(iter(connections.values()))  # type: ignore[index]
        first._pool.update(connections)

        def child() -> bytes:
            return b"%d %d %r" % (len(first.connections), len(second.connections), closed(fds))

        try:
            assert fork_and_report(child) == b"0 0 True"
        finally:
            del first._pool[broken]  # type: ignore[arg-type]

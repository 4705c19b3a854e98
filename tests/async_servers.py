"""Helpers for the client tests (``tests/_async/`` and their sync twins, the soaks, the
shield tests).

* :func:`anyio_backend` -- the fixture anyio's pytest plugin reads: every
  ``@pytest.mark.anyio`` test runs on asyncio and on trio. Import it into a test module
  (``from tests.async_servers import anyio_backend``) so that it overrides anyio's
  asyncio-only default there and nowhere else.
* :func:`network_backend` -- ``None`` (the pool's default: the native backend of the
  running library, ``AsyncIOBackend`` or ``TrioBackend``) or ``AnyIOBackend()``; with the
  two libraries that covers all four async network stacks.
* :class:`DelayServer` -- an asyncio HTTP/1.1 server in a thread, for the cancellation
  soak: every request says (in its query) how long to wait before the head and in the
  middle of the body, so thousands of requests cost little and each can be cancelled in
  a chosen phase.
* :func:`open_fd_count`, :func:`wait_until` -- file descriptor accounting and bounded
  async polling (``tests/_async/support.py`` has the generated-for-sync versions).

The loopback servers of ``tests/servers.py`` (uvicorn, trustme, scripted raw sockets)
are used as they are, through ``pytest_plugins = ["tests.conftest_servers"]``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import typing
from urllib.parse import parse_qs

import anyio
import anyio.lowlevel
import pytest

import httpcore_fast
from tests.servers import HOST

# Request bodies given as bytes iterate as an async generator (ByteStream, as in httpcore
# 1.0.9); a request cancelled mid-body can leave it un-exhausted, and under trio its garbage
# collection is reported as a ResourceWarning. Response bodies are iterator objects and
# leave nothing behind. Tests that cancel inside a request body may tolerate that warning
# for ByteStream only.
_BODY_GENERATORS = "ByteStream[.]__aiter__"
_F = typing.TypeVar("_F", bound=typing.Callable[..., typing.Any])


def tolerate_unexhausted_body_generators(test: _F) -> _F:
    """Decorate a test that cancels inside a request body (see ``_BODY_GENERATORS``)."""
    unraisable = pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <async_generator object (" + _BODY_GENERATORS + ") "
        ":pytest.PytestUnraisableExceptionWarning"
    )
    direct = pytest.mark.filterwarnings(
        "ignore:Async generator 'httpcore_fast[.]_[a-z0-9_.]+[.](" + _BODY_GENERATORS + ")' "
        "was garbage collected:ResourceWarning"
    )
    return typing.cast(_F, unraisable(direct(test)))


STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 10.0


Backend = typing.Optional[httpcore_fast.AsyncNetworkBackend]  # noqa: UP045 - runtime alias
IDLE_POOL = "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, {} idle]>"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The async library a ``@pytest.mark.anyio`` test runs on."""
    return typing.cast(str, request.param)


@pytest.fixture(params=["native", "anyio"])
def network_backend(
    request: pytest.FixtureRequest, anyio_backend: str
) -> httpcore_fast.AsyncNetworkBackend | None:
    """The pool's ``network_backend``: None (the native default) or ``AnyIOBackend()``."""
    if request.param == "anyio":
        return httpcore_fast.AnyIOBackend()
    return None


def open_fd_count() -> int | None:
    """The number of file descriptors open in this process (None without /proc)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # pragma: no cover - not Linux
        return None


async def wait_until(predicate: typing.Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` (letting the event loop run) until true; AssertionError after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await anyio.sleep(0.002)


async def settle_fds(baseline: int | None, slack: int = 2, timeout: float = 5.0) -> int | None:
    """Let the event loop run (asyncio releases sockets one iteration after ``abort``)
    until at most ``baseline + slack`` descriptors are open; return the final count."""
    if baseline is None:  # pragma: no cover - not Linux
        return None
    deadline = time.monotonic() + timeout
    for _ in range(10):
        await anyio.lowlevel.checkpoint()
    count = open_fd_count()
    while count is not None and count > baseline + slack and time.monotonic() < deadline:
        await anyio.sleep(0.005)
        count = open_fd_count()
    return count


# ---------------------------------------------------------------------------------------
# A cheap server with per-request delays


def delay_url(
    port: int,
    *,
    head: float = 0.0,
    body: float = 0.0,
    size: int = 64,
    tag: str = "",
    count: bool = False,
) -> str:
    """The URL asking :class:`DelayServer` to wait ``head`` seconds before the response
    head and ``body`` seconds after the first half of a ``size``-byte body; with
    ``count`` the request counts in ``in_flight`` / ``max_in_flight``."""
    url = f"http://{HOST}:{port}/?head={head}&body={body}&size={size}&tag={tag}"
    return url + "&count=1" if count else url


def delay_body(size: int) -> bytes:
    """The body :class:`DelayServer` sends for ``size``."""
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


class DelayServer:
    """HTTP/1.1 keep-alive server on 127.0.0.1 run by asyncio in a background thread.

    ``GET /?head=<s>&body=<s>&size=<n>[&count=1]``: waits ``head`` seconds, sends the head and the
    first half of an ``n``-byte body (Content-Length framing), waits ``body`` seconds,
    sends the rest. Requests carry no body. Counts accepted and currently open
    connections, requests answered in full, and ``count`` requests being answered at once. While
    it waits it watches the connection, so a client that hangs up is noticed at once.
    """

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.accepted = 0
        self.open_connections = 0
        self.completed = 0
        self.in_flight = 0  # requests with ``count`` in their query being answered now
        self.max_in_flight = 0  # the most of those answered at once (reset it at will)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delay-server", daemon=True)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((HOST, 0))
        self._sock.listen(512)
        self.port = self._sock.getsockname()[1]

    def url(self, **kwargs: typing.Any) -> str:
        return delay_url(self.port, **kwargs)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, sock=self._sock)
        self._started.set()
        await self._stopping.wait()
        self._server.close()
        # A connection accepted just before close() has a handler task that has not run
        # yet, so it is not in _tasks: let it start (and register) before cancelling.
        await asyncio.sleep(0)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_TIMEOUT)
        await self._server.wait_closed()

    async def _pause(self, reader: asyncio.StreamReader, delay: float) -> bool:
        """Wait ``delay`` seconds unless the client closes first; False if it did (or
        sent something unexpected: requests here carry no body and are not pipelined)."""
        try:
            await asyncio.wait_for(reader.read(1), delay)
        except asyncio.TimeoutError:
            return True
        return False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self.open_connections += 1
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for _ in range(1_000_000):  # bounded: one request per iteration
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode("latin-1")
                query = parse_qs(target.partition("?")[2])
                head_delay = float(query.get("head", ["0"])[0])
                body_delay = float(query.get("body", ["0"])[0])
                size = int(query.get("size", ["64"])[0])
                body = delay_body(size)
                counted = "count" in query
                if counted:
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    if head_delay and not await self._pause(reader, head_delay):
                        return
                    half = size // 2
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (size, body[:half])
                    )
                    await writer.drain()
                    if body_delay and not await self._pause(reader, body_delay):
                        return
                    writer.write(body[half:])
                    await writer.drain()
                finally:
                    if counted:
                        self.in_flight -= 1
                self.completed += 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            writer.transport.abort()
            self._tasks.discard(task)

    def start(self) -> DelayServer:
        self._thread.start()
        if not self._started.wait(STARTUP_TIMEOUT):  # pragma: no cover - broken loop
            raise RuntimeError("delay server did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(SHUTDOWN_TIMEOUT)
        self._sock.close()


@pytest.fixture
def delay_server() -> typing.Iterator[DelayServer]:
    """A fresh :class:`DelayServer` (function scope: its counters belong to one test)."""
    server = DelayServer().start()
    try:
        yield server
    finally:
        server.stop()

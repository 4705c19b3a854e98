"""Clean-up that a cancellation must not cut short, on asyncio as on trio.

``with AsyncShieldCancellation():`` protects a block against trio and anyio cancel scopes
only: on asyncio a task cannot shield part of itself from a native ``task.cancel()``
(``asyncio.timeout()``, ``TaskGroup``, ``wait_for``). The clean-up that awaits and must
finish therefore runs through ``await AsyncShieldCancellation.run(...)``: closing the
connections the pool drops (``pool.aclose()``, a release, an eviction), closing a
connection that ends with its response, closing a request body (user code: a generator's
``finally``), closing an HTTP/2 connection when its last stream ends, and the
``response_closed`` trace callback around an HTTP/2 stream's bookkeeping.

Each test cancels while that clean-up is suspended at a point the test controls: a
network backend of the test's own wraps the real one (native or ``AnyIOBackend``), and its
streams' ``aclose()`` (or ``write()``) waits for a gate the test opens only after the
cancellation was delivered. The clean-up must still complete: every stream really closed
(the loopback server sees it), the pool empty or at rest, the slot back (a second request
on a ``max_connections=1`` pool succeeds), the generator's ``finally`` run to its end, and
the cancellation raised afterwards (``CancelledError``, asyncio.timeout's
``TimeoutError``, a cancel scope's cancellation).

Cancellations: ``task.cancel()`` and ``asyncio.timeout()`` on asyncio (the old ``with``
block fails these), an anyio cancel scope on asyncio and on trio (which the ``with`` block
already covered: regression checks that ``run`` keeps that protection).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import typing
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import httpcore_fast
from httpcore_fast import _synchronization
from tests import async_servers
from tests.async_servers import DelayServer, wait_until

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server

pytest_plugins = ["tests.conftest_servers", "tests.h2_servers"]
pytestmark = [pytest.mark.network, pytest.mark.anyio]

delay_server = async_servers.delay_server
WAIT = 10.0  # seconds: bound of every wait for an event (never reached when things work)

# (async library, how the clean-up is cancelled)
CANCELLERS = [
    pytest.param(("asyncio", "task.cancel"), id="asyncio-task.cancel"),
    pytest.param(
        ("asyncio", "asyncio.timeout"),
        id="asyncio-timeout",
        marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout: 3.11+"),
    ),
    pytest.param(("asyncio", "cancel-scope"), id="asyncio-anyio-scope"),
    pytest.param(("trio", "cancel-scope"), id="trio-scope"),
]
ASYNCIO_CANCELLERS = CANCELLERS[:3]


@pytest.fixture(params=CANCELLERS)
def canceller(request: pytest.FixtureRequest) -> tuple[str, str]:
    return typing.cast("tuple[str, str]", request.param)


@pytest.fixture
def anyio_backend(canceller: tuple[str, str]) -> str:
    return canceller[0]


@pytest.fixture(params=["native", "anyio"])
def inner_backend(request: pytest.FixtureRequest) -> str:
    return typing.cast(str, request.param)


# ---------------------------------------------------------------------------------------
# A network backend whose close (or write) waits for the test


class Gate:
    """Closed until :meth:`open`; ``waiting`` is set when something starts waiting."""

    def __init__(self) -> None:
        self.armed = False
        self.waiting = anyio.Event()
        self._opened = anyio.Event()

    def arm(self) -> None:
        self.armed = True

    def open(self) -> None:
        self._opened.set()

    async def wait(self) -> None:
        if self.armed and not self._opened.is_set():
            self.waiting.set()
            await self._opened.wait()


class GatedStream(httpcore_fast.AsyncNetworkStream):
    """The real stream, except that ``aclose()`` first waits for ``close_gate`` and
    ``write()`` waits for ``write_gate`` after handing the bytes on (as an asyncio
    transport's drain would). ``closed``: the real stream's close completed."""

    def __init__(self, inner: httpcore_fast.AsyncNetworkStream, backend: GatedBackend) -> None:
        self.inner = inner
        self.backend = backend
        self.closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.inner.write(buffer, timeout)
        await self.backend.write_gate.wait()

    async def aclose(self) -> None:
        await self.backend.close_gate.wait()
        await self.inner.aclose()
        self.closed = True

    async def start_tls(self, *args: Any, **kwargs: Any) -> httpcore_fast.AsyncNetworkStream:
        return GatedStream(await self.inner.start_tls(*args, **kwargs), self.backend)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class GatedBackend(httpcore_fast.AsyncNetworkBackend):
    """Opens real connections with ``inner`` (None: the library's native backend) and
    wraps them in :class:`GatedStream`; ``streams`` lists them in opening order."""

    def __init__(self, inner: str) -> None:
        self.inner = httpcore_fast.AnyIOBackend() if inner == "anyio" else None
        self.close_gate = Gate()
        self.write_gate = Gate()
        self.streams: list[GatedStream] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore_fast.AsyncNetworkStream:
        inner = self.inner
        if inner is None:  # the native backend of the running library
            from httpcore_fast._backends.auto import AutoBackend

            inner = AutoBackend()
        stream = GatedStream(
            await inner.connect_tcp(host, port, timeout, local_address, socket_options), self
        )
        self.streams.append(stream)
        return stream

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore_fast.AsyncNetworkStream:  # pragma: no cover - not used here
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:  # pragma: no cover - no retries here
        await anyio.sleep(seconds)


# ---------------------------------------------------------------------------------------
# Cancelling at a chosen moment


async def cancel_while(
    how: str,
    action: typing.Callable[[], typing.Coroutine[Any, Any, Any]],
    started: anyio.Event,
    gate: Gate,
    *,
    wait_for_end_before_opening: bool = False,
) -> None:
    """Run ``action()``; once ``started`` is set, cancel it (``how``), then open
    ``gate``; check that the action ended by that cancellation.

    ``wait_for_end_before_opening``: the action must end while the gate is still closed
    (it must not wait for what the gate holds), then the gate is opened.
    """
    if how == "cancel-scope":
        scope = anyio.CancelScope()
        ended = anyio.Event()

        async def scoped() -> None:
            try:
                with scope:
                    try:
                        await action()
                    except Exception:
                        pass  # its own error (the cancellation was held off meanwhile)
                    # A shielded clean-up keeps the cancellation pending: it lands here.
                    await anyio.lowlevel.checkpoint()
            finally:
                ended.set()

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(scoped)
                await started.wait()
                scope.cancel()
                if wait_for_end_before_opening:
                    await ended.wait()
                gate.open()
        assert scope.cancelled_caught
        return

    loop = asyncio.get_running_loop()
    timeouts: list[Any] = []

    async def timed() -> None:
        async with asyncio.timeout(None) as timeout:  # type: ignore[attr-defined]
            timeouts.append(timeout)
            await action()

    task = loop.create_task(timed() if how == "asyncio.timeout" else action())
    with anyio.fail_after(WAIT):
        await started.wait()
    if how == "task.cancel":
        task.cancel()
    else:
        timeouts[0].reschedule(loop.time())
        await wait_until(timeouts[0].expired, timeout=WAIT)
    if wait_for_end_before_opening:
        await asyncio.wait({task}, timeout=WAIT)
        assert task.done(), "the cancelled action waited for the gate"
    gate.open()
    await asyncio.wait({task}, timeout=WAIT)
    assert task.done()
    if how == "task.cancel":
        assert task.cancelled()
    else:
        with pytest.raises(TimeoutError):
            task.result()


# ---------------------------------------------------------------------------------------
# The pool


async def open_response(
    pool: httpcore_fast.AsyncConnectionPool, url: str, extensions: dict[str, Any] | None = None
) -> httpcore_fast.Response:
    """A GET's response with its body unread (the test closes it)."""
    request = httpcore_fast.Request(
        "GET", url, headers={"Host": url.split("/")[2]}, extensions=extensions
    )
    return await pool.handle_async_request(request)


async def test_pool_aclose_cancelled_while_closing(
    delay_server: DelayServer, canceller: tuple[str, str], inner_backend: str
) -> None:
    """A cancellation while ``pool.aclose()`` waits for the first of three closes:
    every connection is still closed (the server sees all three go) and the pool is
    empty."""
    backend = GatedBackend(inner_backend)
    pool = httpcore_fast.AsyncConnectionPool(max_connections=3, network_backend=backend)
    async with contextlib.AsyncExitStack() as stack:  # three responses open at once
        for i in range(3):
            response = await stack.enter_async_context(
                pool.stream("GET", delay_server.url(tag=str(i)))
            )
            await response.aread()
    assert len(pool.connections) == 3 and len(backend.streams) == 3
    await wait_until(lambda: delay_server.open_connections == 3)
    connections = pool.connections

    backend.close_gate.arm()
    await cancel_while(canceller[1], pool.aclose, backend.close_gate.waiting, backend.close_gate)

    assert [stream.closed for stream in backend.streams] == [True, True, True]
    assert all(connection.is_closed() for connection in connections)
    assert pool.connections == []
    await wait_until(lambda: delay_server.open_connections == 0)


async def test_response_close_cancelled_while_releasing(
    delay_server: DelayServer, canceller: tuple[str, str], inner_backend: str
) -> None:
    """A response closed with its body unread ends its connection: a cancellation while
    that close waits still closes the socket, and the slot comes back (a second request
    on a ``max_connections=1`` pool gets a connection, no ``PoolTimeout``)."""
    backend = GatedBackend(inner_backend)
    async with httpcore_fast.AsyncConnectionPool(
        max_connections=1, network_backend=backend
    ) as pool:
        response = await open_response(pool, delay_server.url(size=100_000))
        assert response.status == 200
        await wait_until(lambda: delay_server.open_connections == 1)

        backend.close_gate.arm()
        await cancel_while(
            canceller[1], response.aclose, backend.close_gate.waiting, backend.close_gate
        )

        assert backend.streams[0].closed
        assert pool.connections == []
        second = await pool.request(
            "GET", delay_server.url(), extensions={"timeout": {"pool": WAIT}}
        )
        assert second.status == 200
        assert len(backend.streams) == 2
        await wait_until(lambda: delay_server.open_connections == 1)  # the second only
        assert repr(pool) == async_servers.IDLE_POOL.format(1)


async def test_eviction_cancelled_while_closing(
    delay_server: DelayServer, canceller: tuple[str, str], inner_backend: str
) -> None:
    """A full pool (``max_connections=1``) closes its idle connection to one origin to
    open one to another; a cancellation while that close waits still closes it, and
    the new connection, taken but never used, is given back (the next request to that
    origin gets it, no ``PoolTimeout``)."""
    other = DelayServer().start()
    try:
        backend = GatedBackend(inner_backend)
        async with httpcore_fast.AsyncConnectionPool(
            max_connections=1, network_backend=backend
        ) as pool:
            assert (await pool.request("GET", delay_server.url())).status == 200
            backend.close_gate.arm()
            await cancel_while(
                canceller[1],
                lambda: pool.request("GET", other.url()),
                backend.close_gate.waiting,
                backend.close_gate,
            )
            assert backend.streams[0].closed
            await wait_until(lambda: delay_server.open_connections == 0)
            assert "0 active, 0 queued" in repr(pool)
            response = await pool.request(
                "GET", other.url(), extensions={"timeout": {"pool": WAIT}}
            )
            assert response.status == 200
        await wait_until(lambda: other.open_connections == 0)
    finally:
        other.stop()


@pytest.mark.parametrize("http2", [False, True], ids=["http11", "http2"])
async def test_request_body_finally_completes(
    delay_server: DelayServer, h2_server: Any, canceller: tuple[str, str], http2: bool
) -> None:
    """A request body generator is closed when sending fails (here: more bytes than its
    Content-Length); a cancellation while its ``finally`` awaits lets that ``finally``
    finish, then is raised."""
    gate = Gate()
    gate.arm()
    finished: list[str] = []

    async def body() -> typing.AsyncIterator[bytes]:
        try:
            yield b"hello"
            yield b"world"  # beyond Content-Length: 5
        finally:
            await gate.wait()
            finished.append("finally")

    async def post(pool: httpcore_fast.AsyncConnectionPool, url: str) -> None:
        await pool.request("POST", url, headers={"Content-Length": "5"}, content=body())

    url = h2_server().url("/echo") if http2 else delay_server.url()
    async with httpcore_fast.AsyncConnectionPool(http1=not http2, http2=http2) as pool:
        await cancel_while(canceller[1], lambda: post(pool, url), gate.waiting, gate)
        assert finished == ["finally"]
        assert "0 active, 0 queued" in repr(pool)
    if not http2:  # the failed request's connection was closed
        await wait_until(lambda: delay_server.accepted == 1 and delay_server.open_connections == 0)


# ---------------------------------------------------------------------------------------
# HTTP/2


def h2_pool(backend: GatedBackend, **kwargs: Any) -> httpcore_fast.AsyncConnectionPool:
    return httpcore_fast.AsyncConnectionPool(
        http1=False, http2=True, network_backend=backend, **kwargs
    )


async def test_http2_last_stream_after_goaway_closes_the_connection(
    h2_server: Any, canceller: tuple[str, str], inner_backend: str
) -> None:
    """The server sent GOAWAY: closing its last stream (RST_STREAM pending) closes the
    connection, and a cancellation while that close waits does not leave it open."""
    backend = GatedBackend(inner_backend)
    server: H2Server = h2_server(goaway_every=1)
    async with h2_pool(backend) as pool:
        response = await open_response(pool, server.url("/hang"))
        assert response.status == 200
        connection = pool.connections[0]
        assert not connection.is_available()  # the GOAWAY arrived with the head

        backend.close_gate.arm()
        await cancel_while(
            canceller[1], response.aclose, backend.close_gate.waiting, backend.close_gate
        )

        assert backend.streams[0].closed
        assert connection.is_closed()
        assert pool.connections == []
        assert "0 active, 0 queued" in repr(pool)


@pytest.mark.parametrize("canceller", ASYNCIO_CANCELLERS, indirect=True)
async def test_http2_stream_close_cancelled_while_its_rst_write_waits(
    h2_server: Any, canceller: tuple[str, str], inner_backend: str
) -> None:
    """Closing a stream early writes its RST_STREAM; a cancellation while that write
    waits (a server that stopped reading) ends the close at once, without waiting for
    the write (clean-up never waits on a write under a shield). The stream's place is
    free and, the bytes having been handed to the transport (asyncio), the connection
    goes on: the server gets the RST_STREAM and the next request uses the same
    connection."""
    backend = GatedBackend(inner_backend)
    server: H2Server = h2_server(max_streams=1)
    async with h2_pool(backend) as pool:
        response = await open_response(pool, server.url("/hang"))
        assert response.status == 200

        backend.write_gate.arm()
        await cancel_while(
            canceller[1],
            response.aclose,
            backend.write_gate.waiting,
            backend.write_gate,
            wait_for_end_before_opening=True,
        )

        await wait_until(lambda: ("/hang", 8) in server.reset_paths)  # CANCEL
        second = await pool.request(
            "GET", server.url("/after"), extensions={"timeout": {"pool": WAIT}}
        )
        assert second.content == b"path=/after"
        assert server.connections == 1 and len(backend.streams) == 1


@pytest.mark.parametrize("canceller", ASYNCIO_CANCELLERS, indirect=True)
async def test_http2_traced_stream_close_cancelled_in_the_trace_callback(
    h2_server: Any, canceller: tuple[str, str]
) -> None:
    """With a trace callback that awaits at ``http2.response_closed.started``, a
    cancellation there must not skip the stream's bookkeeping: the RST_STREAM is queued
    and sent, and the stream's place (the server allows one) is free for the next
    request."""
    gate = Gate()
    gate.arm()

    async def trace(name: str, info: dict[str, Any]) -> None:
        if name == "http2.response_closed.started":
            await gate.wait()

    backend = GatedBackend("native")
    server: H2Server = h2_server(max_streams=1)
    async with h2_pool(backend) as pool:
        response = await open_response(pool, server.url("/hang"), {"trace": trace})
        assert response.status == 200
        await cancel_while(canceller[1], response.aclose, gate.waiting, gate)

        second = await pool.request(
            "GET", server.url("/after"), extensions={"timeout": {"pool": WAIT}}
        )
        assert second.content == b"path=/after"
        await wait_until(lambda: ("/hang", 8) in server.reset_paths)
        assert server.connections == 1


# ---------------------------------------------------------------------------------------
# What the shield costs: nothing on the usual path


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_usual_request_and_release_start_no_shielded_clean_up(
    delay_server: DelayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``AsyncShieldCancellation.run`` costs a task and a loop iteration on asyncio: the
    usual path (keep-alive requests read to the end, or streamed and closed after their
    body) never calls it; a response closed with its body unread (its connection then
    closes) calls it once."""
    calls: list[str] = []
    run = _synchronization.AsyncShieldCancellation.run

    async def counting_run(fn: typing.Callable[..., typing.Any], *args: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await run(fn, *args)

    monkeypatch.setattr(
        _synchronization.AsyncShieldCancellation, "run", staticmethod(counting_run)
    )
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        for i in range(20):
            response = await pool.request("GET", delay_server.url(tag=str(i)))
            assert response.status == 200
            async with pool.stream("GET", delay_server.url(size=1000)) as streamed:
                await streamed.aread()
        assert calls == []
        assert delay_server.accepted == 1
        async with pool.stream("GET", delay_server.url(size=100_000)):
            pass  # closed unread: the connection closes
        assert calls == ["aclose"]
        assert pool.connections == []

"""Cancellation and timeouts never leak a pool slot, a connection or a file descriptor.

Each await point of a request is cancelled on purpose -- waiting for a slot, right after
being handed a connection, connecting (TCP and TLS), sending the body, waiting for the
response head, reading the body, user code inside ``stream()`` -- and then the pool must
have no active or queued request, hold only idle connections, serve ``max_connections``
concurrent requests at once, and the process must be back to its file descriptor count.

The soak test runs about a thousand requests per (library, network backend, kernel),
cancelled or timed out at random points by ``move_on_after`` / ``fail_after`` / a
sibling task / the ``timeout`` extension, against :class:`tests.async_servers.DelayServer`.

Everything runs on asyncio and trio, with the native backend and with ``AnyIOBackend``.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import time
import typing
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

import httpcore_fast
from tests import async_servers
from tests.async_servers import (
    DelayServer,
    open_fd_count,
    settle_fds,
    wait_until,
)

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network, pytest.mark.anyio]

anyio_backend = async_servers.anyio_backend
network_backend = async_servers.network_backend
delay_server = async_servers.delay_server

Backend = async_servers.Backend
IDLE_POOL = async_servers.IDLE_POOL
HOLD = 30.0  # seconds a server waits when told to wait "forever" (it notices hang-ups)


def assert_pool_at_rest(pool: httpcore_fast.AsyncConnectionPool, limit: int) -> None:
    """No request active or queued; only idle connections, at most ``limit``."""
    connections = pool.connections
    assert len(connections) <= limit
    assert repr(pool) == IDLE_POOL.format(len(connections)), [repr(c) for c in connections]
    for connection in connections:
        assert connection.is_idle(), repr(connection)
        assert not connection.is_closed(), repr(connection)


async def assert_full_capacity(
    pool: httpcore_fast.AsyncConnectionPool, server: DelayServer, limit: int
) -> None:
    """``limit`` concurrent requests all succeed, and the server answers all of them at
    the same time (none was left waiting for a slot that leaked)."""
    results: list[bytes] = []
    server.max_in_flight = 0

    async def one(i: int) -> None:
        response = await pool.request(
            "GET",
            server.url(head=0.1, size=32, tag=f"burst{i}", count=True),
            extensions={"timeout": {"pool": 10, "connect": 10, "read": 10}},
        )
        assert response.status == 200
        results.append(response.content)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for i in range(limit):
                tg.start_soon(one, i)
    assert results == [async_servers.delay_body(32)] * limit
    assert server.max_in_flight == limit
    assert_pool_at_rest(pool, limit)


async def check_recovered(
    pool: httpcore_fast.AsyncConnectionPool,
    server: DelayServer,
    limit: int,
    fds_before: int | None,
) -> None:
    assert_pool_at_rest(pool, limit)
    await assert_full_capacity(pool, server, limit)
    await pool.aclose()
    assert pool.connections == []
    await wait_until(lambda: server.open_connections == 0)
    fds_after = await settle_fds(fds_before)
    if fds_before is not None:
        assert fds_after is not None and fds_after <= fds_before + 2, (fds_before, fds_after)


async def cancel_when(
    predicate: typing.Callable[[], bool], action: typing.Callable[[], typing.Awaitable[Any]]
) -> anyio.CancelScope:
    """Run ``action()`` and cancel it (from a sibling task) as soon as ``predicate()`` is
    true -- an event, not a wall clock, so a loaded machine cannot move the cancellation
    to another await point. Returns the cancel scope ``action`` ran in."""
    scope = anyio.CancelScope()

    async def watch() -> None:
        await wait_until(predicate, timeout=HOLD / 2)
        scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        with scope:
            await action()
        tg.cancel_scope.cancel()  # the action finished first: stop watching
    return scope


# --- each await point, cancelled on purpose --------------------------------------------------


async def test_cancel_while_waiting_for_a_slot(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    async with pool.stream("GET", delay_server.url()) as held:
        for _ in range(3):
            scope = await cancel_when(
                lambda: "1 queued" in repr(pool),
                lambda: pool.request("GET", delay_server.url(tag="waiter")),
            )
            assert scope.cancelled_caught
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
        await held.aread()
    await check_recovered(pool, delay_server, 1, fds)


@pytest.mark.parametrize("reusable", [True, False], ids=["idle-connection", "fresh-slot"])
async def test_cancelled_right_after_being_handed_a_connection(
    delay_server: DelayServer, network_backend: Backend, reusable: bool
) -> None:
    """The held response is closed and its connection (or, if it cannot be reused, its
    slot) goes to the waiter; the waiter is cancelled before it resumes."""
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    waiting = anyio.Event()
    outcome: list[str] = []

    async def waiter(scope: anyio.CancelScope) -> None:
        with scope:
            waiting.set()
            await pool.request("GET", delay_server.url(tag="waiter"))
            outcome.append("served")  # pragma: no cover - cancelled first
        outcome.append("cancelled" if scope.cancelled_caught else "not cancelled")

    held = await pool.handle_async_request(
        httpcore_fast.Request("GET", delay_server.url(size=64), headers=[(b"Host", b"127.0.0.1")])
    )
    scope = anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter, scope)
        await waiting.wait()
        await wait_until(lambda: "1 queued" in repr(pool))
        if reusable:
            await held.aread()  # the connection is handed to the waiter ...
        await held.aclose()  # ... or closed, and the freed slot is granted to it
        scope.cancel()  # before the waiter runs again
    assert outcome == ["cancelled"]
    await check_recovered(pool, delay_server, 1, fds)


def native_backend(anyio_backend: str) -> httpcore_fast.AsyncNetworkBackend:
    if anyio_backend == "trio":
        return httpcore_fast.TrioBackend()
    from httpcore_fast._backends.asyncio import AsyncIOBackend

    return AsyncIOBackend()


async def test_cancel_while_connecting_tcp(delay_server: DelayServer, anyio_backend: str) -> None:
    fds = open_fd_count()
    backend = async_servers.ScriptedBackend(native_backend(anyio_backend), connect_delay=HOLD)
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=backend)
    scope = await cancel_when(
        lambda: backend.attempts == 1,  # inside connect_tcp
        lambda: pool.request("GET", delay_server.url()),
    )
    assert scope.cancelled_caught
    assert pool.connections == []
    assert repr(pool) == IDLE_POOL.format(0)
    backend.connect_delay = 0
    await check_recovered(pool, delay_server, 1, fds)


async def test_cancel_during_the_tls_handshake(
    scripted_server: Any,
    delay_server: DelayServer,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
) -> None:
    tls = scripted_server(lambda conn: conn.wait_for_eof(10))  # never answers the hello
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(
        max_connections=1, ssl_context=client_ssl_context, network_backend=network_backend
    )
    scope = await cancel_when(  # once the ClientHello has arrived: mid-handshake
        lambda: tls.connection_count == 1 and len(tls.connections[0].received) > 0,
        lambda: pool.request("GET", f"https://127.0.0.1:{tls.port}/"),
    )
    assert scope.cancelled_caught
    assert pool.connections == []
    assert repr(pool) == IDLE_POOL.format(0)
    await wait_until(lambda: tls.connection_count == 1 and tls.connections[0].eof.is_set())
    assert tls.connections[0].received.startswith(b"\x16\x03")  # a TLS ClientHello
    await check_recovered(pool, delay_server, 1, fds)


async def test_cancel_while_sending_the_body(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    sent_first = anyio.Event()

    async def body() -> typing.AsyncIterator[bytes]:
        yield b"first"
        sent_first.set()
        await anyio.sleep(HOLD)
        yield b"never"  # pragma: no cover - cancelled

    async with anyio.create_task_group() as tg:

        async def upload() -> None:
            await pool.request("POST", delay_server.url(), content=body())

        tg.start_soon(upload)
        await sent_first.wait()
        await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    assert pool.connections == []
    await check_recovered(pool, delay_server, 1, fds)


async def test_cancel_while_a_write_is_blocked(
    scripted_server: Any, delay_server: DelayServer, network_backend: Backend
) -> None:
    never_reads = scripted_server(lambda conn: conn.hold(10))
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    big = b"x" * (64 << 20)  # far more than the socket buffers hold
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    # from here on the 64 MiB go out (with the head, or right after it): far more than
    # the socket buffers hold, so the write is blocked whenever the cancellation lands
    scope = await cancel_when(
        lambda: "http11.send_request_headers.started" in events,
        lambda: pool.request(
            "POST", never_reads.url("/upload"), content=big, extensions={"trace": trace}
        ),
    )
    assert scope.cancelled_caught
    assert pool.connections == []
    assert repr(pool) == IDLE_POOL.format(0)
    await check_recovered(pool, delay_server, 1, fds)


async def test_cancel_while_waiting_for_the_response_head(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=2, network_backend=network_backend)
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    accepted = [0]

    def sent_and_held() -> bool:
        """The request is sent and the server holds the connection."""
        return (
            "http11.receive_response_headers.started" in events
            and delay_server.accepted == accepted[0]
        )

    for n in range(1, 4):
        events.clear()
        accepted[0] = n
        scope = await cancel_when(
            sent_and_held,
            lambda: pool.request("GET", delay_server.url(head=HOLD), extensions={"trace": trace}),
        )
        assert scope.cancelled_caught
        assert repr(pool) == IDLE_POOL.format(0)
    await wait_until(lambda: delay_server.open_connections == 0)
    assert delay_server.accepted == 3
    await check_recovered(pool, delay_server, 2, fds)


async def test_cancel_while_reading_the_body(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    received: list[bytes] = []
    with anyio.CancelScope() as scope:
        async with pool.stream("GET", delay_server.url(body=HOLD, size=1000)) as response:
            assert response.status == 200
            async for part in response.aiter_stream():
                received.append(part)
                if sum(map(len, received)) >= 500:  # the server now holds the rest
                    scope.cancel()
    assert scope.cancelled_caught
    assert b"".join(received) == async_servers.delay_body(1000)[:500]
    assert pool.connections == []
    assert repr(pool) == IDLE_POOL.format(0)
    await check_recovered(pool, delay_server, 1, fds)


async def test_cancel_inside_the_stream_block(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    with anyio.CancelScope() as scope:
        async with pool.stream("GET", delay_server.url()):
            scope.cancel()
            await anyio.sleep(HOLD)  # user code, cancelled with the body unread
    assert scope.cancelled_caught
    assert pool.connections == []  # an unread body: the connection is not reused
    await check_recovered(pool, delay_server, 1, fds)


async def test_cancel_with_an_async_trace_callback_that_yields(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    """A trace callback may await (log to an async sink, say); cancellation arriving
    while the clean-up path awaits it must not leave the connection behind."""
    fds = open_fd_count()
    events: list[str] = []
    scope = anyio.CancelScope()

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)
        if name == "http11.receive_response_headers.started":
            scope.cancel()  # delivered at the checkpoint below, inside the callback
        await anyio.lowlevel.checkpoint()

    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    with scope:
        await pool.request("GET", delay_server.url(head=HOLD), extensions={"trace": trace})
    assert scope.cancelled_caught
    assert "http11.receive_response_headers.started" in events
    assert pool.connections == []
    assert repr(pool) == IDLE_POOL.format(0)
    await check_recovered(pool, delay_server, 1, fds)


async def test_fail_after_and_timeout_extensions(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.05):
            await pool.request("GET", delay_server.url(head=HOLD))
    with pytest.raises(httpcore_fast.ReadTimeout):
        await pool.request(
            "GET", delay_server.url(head=HOLD), extensions={"timeout": {"read": 0.05}}
        )
    async with pool.stream("GET", delay_server.url()) as held:
        with pytest.raises(httpcore_fast.PoolTimeout):
            await pool.request("GET", delay_server.url(), extensions={"timeout": {"pool": 0.05}})
        await held.aread()
    await check_recovered(pool, delay_server, 1, fds)


async def test_pool_aclose_while_cancelled_closes_every_connection(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=4, network_backend=network_backend)
    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(pool.request, "GET", delay_server.url(head=0.05, tag=str(i)))
    connections = pool.connections
    assert len(connections) == 4
    with anyio.CancelScope() as scope:
        scope.cancel()
        await pool.aclose()  # inside an already-cancelled scope
    assert all(connection.is_closed() for connection in connections)
    assert pool.connections == []
    await wait_until(lambda: delay_server.open_connections == 0)
    fds_after = await settle_fds(fds)
    if fds is not None:
        assert fds_after is not None and fds_after <= fds + 2, (fds, fds_after)


# --- the soak --------------------------------------------------------------------------------

SOAK_REQUESTS = 1000
SOAK_SECONDS = 8.0  # wall-time bound per run
SOAK_WORKERS = 12
SOAK_LIMIT = 6


class SoakStats:
    def __init__(self) -> None:
        self.started = 0
        self.completed = 0
        self.cancelled = 0
        self.timeouts = 0


async def soak_one(
    pool: httpcore_fast.AsyncConnectionPool,
    server: DelayServer,
    rng: random.Random,
    stats: SoakStats,
    tg: anyio.abc.TaskGroup,
) -> None:
    """One request, maybe slow in its head or its body, maybe cancelled or timed out."""
    kind = rng.random()
    head = rng.choice([0.0, 0.0, 0.001, 0.005, 0.02])
    body = rng.choice([0.0, 0.0, 0.002, 0.01])
    url = server.url(head=head, body=body, size=rng.choice([16, 1000, 70_000]))
    deadline = rng.uniform(0.0, 0.03)
    extensions: dict[str, Any] = {"timeout": {"pool": 10.0, "read": 10.0}}
    mode = rng.choice(["request", "stream", "stream-then-wait"])

    async def run() -> None:
        if mode == "request":
            response = await pool.request("GET", url, extensions=extensions)
            assert response.status == 200
        else:
            async with pool.stream("GET", url, extensions=extensions) as response:
                if mode == "stream-then-wait":  # user code waits with the body unread
                    await anyio.sleep(rng.choice([0.0, 0.005, 0.02]))
                async for _ in response.aiter_stream():
                    if rng.random() < 0.1:
                        await anyio.lowlevel.checkpoint()

    stats.started += 1
    if kind < 0.35:  # left alone
        await run()
    elif kind < 0.55:  # cancelled by its own deadline
        with anyio.move_on_after(deadline):
            await run()
            stats.completed += 1
            return
        stats.cancelled += 1
        return
    elif kind < 0.65:  # fail_after
        try:
            with anyio.fail_after(deadline):
                await run()
        except TimeoutError:
            stats.timeouts += 1
            return
    elif kind < 0.8:  # cancelled by another task at a random moment
        scope = anyio.CancelScope()

        async def cancel_later() -> None:
            await anyio.sleep(deadline)
            scope.cancel()

        tg.start_soon(cancel_later)
        with scope:
            await run()
            stats.completed += 1
            return
        stats.cancelled += 1
        return
    elif kind < 0.9:  # the timeout extension
        extensions["timeout"] = {"pool": deadline, "read": deadline}
        try:
            await run()
        except (httpcore_fast.ReadTimeout, httpcore_fast.PoolTimeout):
            stats.timeouts += 1
            return
    else:  # cancelled at the very first await
        with anyio.CancelScope() as scope:
            scope.cancel()
            await run()
        stats.cancelled += 1
        return
    stats.completed += 1


async def test_cancellation_soak(
    delay_server: DelayServer,
    network_backend: Backend,
    anyio_backend: str,
    kernel: Any,
) -> None:
    seed = int(os.environ.get("HCF_SOAK_SEED") or random.randrange(1 << 30))
    print(f"soak seed={seed} (set HCF_SOAK_SEED to replay the same choices)")
    rng = random.Random(seed)
    fds_before = open_fd_count()
    stats = SoakStats()
    pool = httpcore_fast.AsyncConnectionPool(
        max_connections=SOAK_LIMIT,
        max_keepalive_connections=SOAK_LIMIT - 2,
        network_backend=network_backend,
    )
    ends = time.monotonic() + SOAK_SECONDS
    budget = [SOAK_REQUESTS]

    async def worker(tg: anyio.abc.TaskGroup) -> None:
        while budget[0] > 0 and time.monotonic() < ends:
            budget[0] -= 1
            await soak_one(pool, delay_server, rng, stats, tg)

    with anyio.fail_after(SOAK_SECONDS + 20):
        async with anyio.create_task_group() as tg:
            for _ in range(SOAK_WORKERS):
                tg.start_soon(worker, tg)
    message = (
        f"soak seed={seed} requests={stats.started} completed={stats.completed} "
        f"cancelled={stats.cancelled} timeouts={stats.timeouts} "
        f"server-connections={delay_server.accepted}"
    )
    assert stats.started >= min(SOAK_REQUESTS, 300), message
    assert stats.started == stats.completed + stats.cancelled + stats.timeouts, message
    assert stats.cancelled + stats.timeouts >= stats.started // 10, message
    assert stats.completed >= stats.started // 4, message
    assert_pool_at_rest(pool, SOAK_LIMIT)
    print(message)  # captured: pytest shows it (with the seed) if what follows fails
    await check_recovered(pool, delay_server, SOAK_LIMIT, fds_before)


# --- plain asyncio cancellation (no anyio cancel scope involved) --------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_native_asyncio_cancellation(
    delay_server: DelayServer, network_backend: Backend
) -> None:
    """``asyncio.wait_for`` and ``Task.cancel()`` at each phase: one ``CancelledError``,
    delivered once, as asyncio code without anyio cancels."""
    fds = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(max_connections=1, network_backend=network_backend)

    async def trace(name: str, info: dict[str, Any]) -> None:
        await asyncio.sleep(0)

    async def read_body() -> None:
        async with pool.stream("GET", delay_server.url(body=HOLD, size=100)) as response:
            await response.aread()

    for phase in [
        pool.request("GET", delay_server.url(head=HOLD)),
        pool.request("GET", delay_server.url(head=HOLD), extensions={"trace": trace}),
        read_body(),
    ]:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(phase, 0.05)
        assert_pool_at_rest(pool, 1)
    async with pool.stream("GET", delay_server.url()) as held:
        waiter = asyncio.ensure_future(pool.request("GET", delay_server.url()))
        await wait_until(lambda: "1 queued" in repr(pool))
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await held.aread()
    await check_recovered(pool, delay_server, 1, fds)

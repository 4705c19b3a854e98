"""Cancellation and timeouts never leak a pool slot, a connection or a file descriptor.

Each point where a request waits is cancelled on purpose -- for a slot, right after
being handed a connection, connecting (TCP and TLS), during an HTTP proxy's CONNECT and a
SOCKS handshake, waiting for an HTTP/2 stream slot, sending the body, waiting for the
response head, reading the body, user code inside ``stream()`` -- and then the pool must
have no active or queued request, hold only idle connections, serve ``max_connections``
concurrent requests at once, and the process must be back to its file descriptor count.
Every cancellation happens on an event (the server got the request, the proxy got the
CONNECT line, ...), never after a wall-clock delay.

The soak test runs about a thousand requests per (library, network backend), cancelled or
timed out at random points (a fixed seed: tests/seeds.py) by ``move_on_after`` /
``fail_after`` / a sibling task / the ``timeout`` extension, against
:class:`tests.async_servers.DelayServer`.

Everything runs on asyncio and trio, with the native backend and with ``AnyIOBackend``;
asyncio's own ``task.cancel()`` too where it matters. Cancellation exists on the async side
only: the sync twin keeps the timeouts (the ``timeout`` extension at each phase, then the
same recovery checks).

Generated from ``tests/_async/test_cancellation.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

import httpcore_fast
from tests._sync.support import (
    IDLE_POOL,
    Backend,
    settle_fds,
    wait_until,
)
from tests.async_servers import DelayServer, delay_body, open_fd_count
from tests.concurrency import Nursery


pytest_plugins = ["tests.conftest_servers", "tests.h2_servers"]
pytestmark = [pytest.mark.network]

HOLD = 30.0  # seconds a server waits when told to wait "forever" (it notices hang-ups)


def assert_pool_at_rest(pool: httpcore_fast.ConnectionPool, limit: int) -> None:
    """No request active or queued; only idle connections, at most ``limit``."""
    connections = pool.connections
    assert len(connections) <= limit
    assert repr(pool) == IDLE_POOL.format(len(connections)), [repr(c) for c in connections]
    for connection in connections:
        assert connection.is_idle(), repr(connection)
        assert not connection.is_closed(), repr(connection)


def assert_full_capacity(
    pool: httpcore_fast.ConnectionPool, server: DelayServer, limit: int
) -> None:
    """``limit`` concurrent requests all succeed, and the server answers all of them at
    the same time (none was left waiting for a slot that leaked)."""
    results: list[bytes] = []
    server.max_in_flight = 0

    def one(i: int) -> None:
        response = pool.request(
            "GET",
            server.url(head=0.1, size=32, tag=f"burst{i}", count=True),
            extensions={"timeout": {"pool": 10, "connect": 10, "read": 10}},
        )
        assert response.status == 200
        results.append(response.content)

    with Nursery(timeout=20) as nursery:
        for i in range(limit):
            nursery.start_soon(one, i)
    assert results == [delay_body(32)] * limit
    assert server.max_in_flight == limit
    assert_pool_at_rest(pool, limit)


def check_recovered(
    pool: httpcore_fast.ConnectionPool,
    server: DelayServer,
    limit: int,
    fds_before: int | None,
) -> None:
    assert_pool_at_rest(pool, limit)
    assert_full_capacity(pool, server, limit)
    pool.close()
    assert pool.connections == []
    wait_until(lambda: server.open_connections == 0)
    fds_after = settle_fds(fds_before)
    if fds_before is not None:
        assert fds_after is not None and fds_after <= fds_before + 2, (fds_before, fds_after)


# --- timeouts at each phase (both sides) -------------------------------------------------


def test_timeout_extensions_at_each_phase(
    delay_server: DelayServer,
    network_backend: Backend,
    scripted_server: Any,
    client_ssl_context: ssl.SSLContext,
) -> None:
    """The ``timeout`` extension ends a request in each phase (the server holds for far
    longer): waiting for a slot, the TLS handshake, a blocked write, the response head,
    the body. Each time the pool is at rest afterwards, and in the end it serves its full
    capacity and leaves no file descriptor behind."""
    silent = scripted_server(lambda conn: conn.wait_for_eof(HOLD))  # reads, never answers
    never_reads = scripted_server(lambda conn: conn.hold(HOLD))
    fds = open_fd_count()
    pool = httpcore_fast.ConnectionPool(
        max_connections=1, ssl_context=client_ssl_context, network_backend=network_backend
    )
    with pool.stream("GET", delay_server.url()) as held:
        with pytest.raises(httpcore_fast.PoolTimeout):
            pool.request("GET", delay_server.url(), extensions={"timeout": {"pool": 0.05}})
        held.read()
    assert_pool_at_rest(pool, 1)
    with pytest.raises(httpcore_fast.ConnectTimeout):
        pool.request(
            "GET", f"https://127.0.0.1:{silent.port}/", extensions={"timeout": {"connect": 0.1}}
        )
    assert_pool_at_rest(pool, 1)
    with pytest.raises(httpcore_fast.WriteTimeout):
        pool.request(
            "POST",
            never_reads.url("/upload"),
            content=b"x" * (64 << 20),  # far more than the socket buffers hold
            extensions={"timeout": {"write": 0.1}},
        )
    assert_pool_at_rest(pool, 1)
    with pytest.raises(httpcore_fast.ReadTimeout):
        pool.request(
            "GET", delay_server.url(head=HOLD), extensions={"timeout": {"read": 0.05}}
        )
    assert_pool_at_rest(pool, 1)
    with pool.stream(
        "GET", delay_server.url(body=HOLD, size=100), extensions={"timeout": {"read": 0.05}}
    ) as response:
        with pytest.raises(httpcore_fast.ReadTimeout):
            response.read()
    assert pool.connections == []
    (handshake,) = silent.connections
    wait_until(handshake.eof.is_set)  # the client hung up after its ClientHello
    assert handshake.received.startswith(b"\x16\x03")
    check_recovered(pool, delay_server, 1, fds)



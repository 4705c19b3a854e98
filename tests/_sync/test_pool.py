"""Connection pool behaviour on real loopback servers: reuse, reprs, closing, limits, FIFO
fairness, expiry, timeouts, retries.

Concurrency: tasks on the async side (asyncio and trio), threads on the sync side
(:mod:`tests.concurrency`). HTTP/1.1 edge cases against scripted servers are in
``test_edge_cases.py``.

Generated from ``tests/_async/test_pool.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import time
import typing
from contextlib import closing
from typing import Any

import pytest

import httpcore_fast
from httpcore_fast._backends.sync import SyncBackend
from tests._sync.support import IDLE_POOL, ScriptedBackend, Backend, wait_until
from tests.async_servers import DelayServer, delay_body
from tests.concurrency import Nursery
from tests.servers import HELLO, ServerConnection, UvicornServer, client_port, keepalive_script

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network]
# A timer may fire up to one clock tick early (15.6 ms on Windows): lower bounds allow that.
TICK = max(time.get_clock_info("monotonic").resolution, 0.005)


# --- reuse, reprs and closing -------------------------------------------------------------


def test_keep_alive_reuses_one_connection(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        assert repr(pool) == IDLE_POOL.format(0)
        ports = set()
        for _ in range(5):
            ports.add(client_port(pool.request("GET", http_server.url("/"))))
        assert len(ports) == 1
        assert len(pool.connections) == 1
        assert repr(pool) == IDLE_POOL.format(1)
        assert repr(pool.connections[0]) == (
            f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, IDLE, Request Count: 5]>"
        )
        assert pool.connections[0].info() == (
            f"'{http_server.origin}', HTTP/1.1, IDLE, Request Count: 5"
        )


def test_connections_are_per_origin(
    http_server: UvicornServer, https_server: UvicornServer, client_ssl_context: Any
) -> None:
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context) as pool:
        for _ in range(2):
            assert (pool.request("GET", http_server.url("/"))).content == HELLO
            assert (pool.request("GET", https_server.url("/"))).content == HELLO
        origins = sorted(repr(c) for c in pool.connections)
        assert origins == sorted(
            [
                f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, IDLE, Request Count: 2]>",
                f"<HTTPConnection ['{https_server.origin}', HTTP/1.1, IDLE, Request Count: 2]>",
            ]
        )


def test_repr_while_a_response_is_open(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", http_server.url("/")) as response:
            assert repr(pool) == (
                "<ConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            assert repr(pool.connections[0]) == (
                f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, ACTIVE, "
                "Request Count: 1]>"
            )
            assert not pool.connections[0].is_idle()
            assert response.read() == HELLO
        assert repr(pool) == IDLE_POOL.format(1)
        assert pool.connections[0].is_idle()


def test_two_open_responses_use_two_connections(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", http_server.url("/")) as first:
            with pool.stream("GET", http_server.url("/")) as second:
                assert client_port(first) != client_port(second)
                assert repr(pool) == (
                    "<ConnectionPool [Requests: 2 active, 0 queued | "
                    "Connections: 2 active, 0 idle]>"
                )
                assert repr(pool.connections[0]) == (
                    f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, ACTIVE, "
                    "Request Count: 1]>"
                )
                second.read()
            first.read()
        assert repr(pool) == IDLE_POOL.format(2)


def test_close_pool_closes_connections(http_server: UvicornServer) -> None:
    pool = httpcore_fast.ConnectionPool()
    pool.request("GET", http_server.url("/"))
    with pool.stream("GET", http_server.url("/")) as response:
        with pool.stream("GET", http_server.url("/")) as other:
            other.read()
        response.read()
    connections = pool.connections
    assert len(connections) == 2
    pool.close()
    assert pool.connections == []
    assert all(c.is_closed() for c in connections)
    assert repr(connections[0]).endswith(", HTTP/1.1, CLOSED, Request Count: 2]>")
    assert repr(pool) == IDLE_POOL.format(0)


def test_close_pool_while_a_response_is_open(delay_server: DelayServer) -> None:
    pool = httpcore_fast.ConnectionPool()
    with pool.stream("GET", delay_server.url(body=5.0, size=100)) as response:
        pool.close()
        assert pool.connections == []
        with pytest.raises(httpcore_fast.ReadError):
            response.read()
    assert repr(pool) == IDLE_POOL.format(0)


def test_context_manager_exit_closes_connections(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", http_server.url("/"))
        connection = pool.connections[0]
        response = pool.request("GET", http_server.url("/"))
        sock = response.extensions["network_stream"].get_extra_info("socket")
    assert connection.is_closed()
    assert pool.connections == []
    # the socket is released (asyncio does it one loop iteration after the close)
    wait_until(lambda: sock.fileno() == -1)


# --- limits ---------------------------------------------------------------------------------


def test_max_keepalive_connections(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool(
        max_connections=4, max_keepalive_connections=2
    ) as pool:
        responses = []
        for _ in range(4):
            request = httpcore_fast.Request(
                "GET", http_server.url("/"), headers=[(b"Host", b"127.0.0.1")]
            )
            responses.append(pool.handle_request(request))
        assert len({client_port(r) for r in responses}) == 4
        assert len(pool.connections) == 4
        for response in responses:
            response.read()
            response.close()
        # all four were released; only two may stay idle
        assert repr(pool) == IDLE_POOL.format(2)
        assert all(not c.is_closed() for c in pool.connections)


def test_max_keepalive_connections_zero_closes_every_connection(
    http_server: UvicornServer,
) -> None:
    with httpcore_fast.ConnectionPool(max_keepalive_connections=0) as pool:
        ports = set()
        for _ in range(3):
            ports.add(client_port(pool.request("GET", http_server.url("/"))))
        assert len(ports) == 3
        assert pool.connections == []


def test_keepalive_expiry(http_server: UvicornServer) -> None:
    # an expiry far longer than two loopback requests, so the quick reuse cannot miss it
    with httpcore_fast.ConnectionPool(keepalive_expiry=1.0) as pool:
        first_port = client_port(pool.request("GET", http_server.url("/")))
        first = pool.connections[0]
        # quick reuse is still fine
        assert client_port(pool.request("GET", http_server.url("/"))) == first_port
        wait_until(first.has_expired, timeout=10)
        assert client_port(pool.request("GET", http_server.url("/"))) != first_port
        assert first.is_closed()
        assert len(pool.connections) == 1 and pool.connections[0] is not first


@pytest.mark.parametrize(
    "keepalive",
    [
        pytest.param(None, id="keepalive-unlimited"),
        # surplus idle connections are closed while others wait: encode/httpcore#1110
        pytest.param(1, id="keepalive-1"),
    ],
)
def test_concurrent_requests_share_max_connections(
    delay_server: DelayServer, network_backend: Backend, keepalive: int | None
) -> None:
    """32 concurrent users, 4 connections: counted on the server, never more than 4
    requests are answered at once (each one on its own connection), and without a
    keep-alive limit no more than 4 connections are ever opened."""
    users, per_user, limit = 32, 10, 4
    done = [0] * users

    with httpcore_fast.ConnectionPool(
        max_connections=limit,
        max_keepalive_connections=keepalive,
        network_backend=network_backend,
    ) as pool:

        def user(index: int) -> None:
            for j in range(per_user):
                response = pool.request(
                    "GET",
                    # held 10 ms at the server, so that requests overlap there
                    delay_server.url(head=0.01, tag=f"{index}-{j}", count=True),
                    extensions={"timeout": {"pool": 30, "read": 30}},
                )
                assert response.content == delay_body(64)
                done[index] += 1

        with Nursery(timeout=60) as nursery:
            for i in range(users):
                nursery.start_soon(user, i)
        assert done == [per_user] * users
        assert 1 < delay_server.max_in_flight <= limit
        assert len(pool.connections) <= (limit if keepalive is None else keepalive)
        assert repr(pool).startswith(
            "<ConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active"
        )
    if keepalive is None:
        assert delay_server.accepted <= limit  # connections are kept: never more


def test_waiting_requests_are_served_first_in_first_out(scripted_server: Any) -> None:
    server = scripted_server(keepalive_script(b"ok"))
    served: list[int] = []
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:

        def waiter(index: int) -> None:
            response = pool.request("GET", server.url(f"/queued/{index}"))
            assert response.status == 200
            served.append(index)

        with Nursery() as nursery:
            with pool.stream("GET", server.url("/held")) as held:
                for i in range(5):
                    nursery.start_soon(waiter, i)
                    queued = f"Requests: 1 active, {i + 1} queued"
                    wait_until(lambda queued=queued: queued in repr(pool))
                held.read()
        assert sorted(served) == list(range(5))
    # one connection, and the server saw the waiters in the order they queued
    assert server.connection_count == 1
    paths = [r.split(b" ")[1] for r in server.connections[0].requests]
    assert paths == [b"/held"] + [f"/queued/{i}".encode() for i in range(5)]


def test_idle_connection_is_closed_to_make_room_for_another_origin(
    http_server: UvicornServer, scripted_server: Any
) -> None:
    other = scripted_server(keepalive_script(b"other"))
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        assert (pool.request("GET", http_server.url("/"))).content == HELLO
        first = pool.connections[0]
        response = pool.request("GET", other.url("/"), extensions={"timeout": {"pool": 2}})
        assert response.content == b"other"
        assert first.is_closed()
        assert len(pool.connections) == 1
        assert pool.connections[0].can_handle_request(
            httpcore_fast.Origin(b"http", b"127.0.0.1", other.port)
        )


# --- timeouts -------------------------------------------------------------------------------


def test_pool_timeout(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", http_server.url("/")) as held:
            started = time.monotonic()
            with pytest.raises(httpcore_fast.PoolTimeout) as info:
                pool.request(
                    "GET", http_server.url("/"), extensions={"timeout": {"pool": 0.2}}
                )
            assert type(info.value) is httpcore_fast.PoolTimeout
            # it waited (no upper bound: a loaded machine may take longer)
            assert time.monotonic() - started >= 0.2 - TICK
            # the request that gave up left no trace in the queue
            assert repr(pool) == (
                "<ConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            held.read()
        response = pool.request(
            "GET", http_server.url("/"), extensions={"timeout": {"pool": 2}}
        )
        assert response.content == HELLO
        assert len(pool.connections) == 1


def test_pool_timeout_with_stream(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", http_server.url("/")) as held:
            with pytest.raises(httpcore_fast.PoolTimeout):
                with pool.stream(
                    "GET", http_server.url("/"), extensions={"timeout": {"pool": 0.05}}
                ):
                    pass  # pragma: no cover - never entered
            held.read()
        assert repr(pool) == IDLE_POOL.format(1)


def test_read_timeout(delay_server: DelayServer, network_backend: Backend) -> None:
    # The server holds for 5 s, far beyond the 0.1 s read timeout: only the timeout can
    # end these waits (no elapsed-time bound).
    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with pytest.raises(httpcore_fast.ReadTimeout) as info:
            pool.request(
                "GET", delay_server.url(head=5.0), extensions={"timeout": {"read": 0.1}}
            )
        assert type(info.value) is httpcore_fast.ReadTimeout
        # the connection is in an unknown state: it was closed and dropped
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)
        # in the middle of the body
        with pool.stream(
            "GET", delay_server.url(body=5.0, size=100), extensions={"timeout": {"read": 0.1}}
        ) as response:
            with pytest.raises(httpcore_fast.ReadTimeout):
                response.read()
        assert pool.connections == []
        # a generous timeout works on the same pool
        ok = pool.request(
            "GET", delay_server.url(head=0.05), extensions={"timeout": {"read": 5}}
        )
        assert ok.content == delay_body(64)


def test_connect_error_for_a_closed_port(closed_port: int, network_backend: Backend) -> None:
    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError) as info:
            pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"timeout": {"connect": 2}}
            )
        assert type(info.value) is httpcore_fast.ConnectError
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


def test_write_timeout_when_the_server_does_not_read(
    scripted_server: Any, network_backend: Backend
) -> None:
    server = scripted_server(lambda conn: conn.hold(10))

    def body() -> typing.Iterator[bytes]:
        for _ in range(256):  # 256 MiB at most; the socket buffers fill long before
            yield b"x" * (1 << 20)

    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with closing(body()) as content:
            with pytest.raises(httpcore_fast.WriteTimeout):
                pool.request(
                    "POST",
                    server.url("/upload"),
                    content=content,
                    extensions={"timeout": {"write": 0.2}},
                )
        assert pool.connections == []


def test_timeouts_never_leak_a_pool_slot(scripted_server: Any) -> None:
    def never_respond(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.hold(10)

    server = scripted_server(never_respond)
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        for _ in range(5):
            with pytest.raises(httpcore_fast.ReadTimeout):
                pool.request(
                    "GET", server.url("/"), extensions={"timeout": {"read": 0.02, "pool": 1}}
                )
            assert repr(pool) == IDLE_POOL.format(0)
    assert server.connection_count == 5


def test_exception_in_user_code_inside_stream_releases_the_connection(
    scripted_server: Any,
) -> None:
    server = scripted_server(keepalive_script(b"ok"))
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        with pytest.raises(ZeroDivisionError):
            with pool.stream("GET", server.url("/")):
                1 / 0  # noqa: B018
        assert repr(pool).startswith("<ConnectionPool [Requests: 0 active, 0 queued")
        response = pool.request("GET", server.url("/"), extensions={"timeout": {"pool": 1}})
        assert response.content == b"ok"


# --- retries ------------------------------------------------------------------------------


def test_retries_recover_from_connect_failures(http_server: UvicornServer) -> None:
    backend = ScriptedBackend(SyncBackend(), failures=2)
    events: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    with httpcore_fast.ConnectionPool(retries=2, network_backend=backend) as pool:
        response = pool.request("GET", http_server.url("/"), extensions={"trace": trace})
        assert response.content == HELLO
    assert backend.attempts == 3
    assert backend.sleeps == [0, 0.5]  # httpcore's exponential backoff: 0, 0.5, 1, 2, ...
    assert events[:10] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
    ]


def test_retries_exhausted(http_server: UvicornServer) -> None:
    backend = ScriptedBackend(SyncBackend(), failures=3)
    with httpcore_fast.ConnectionPool(retries=2, network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError, match="scripted failure 3"):
            pool.request("GET", http_server.url("/"))
        assert pool.connections == []
    assert backend.attempts == 3


def test_no_retries_by_default(http_server: UvicornServer) -> None:
    backend = ScriptedBackend(SyncBackend(), failures=1)
    with httpcore_fast.ConnectionPool(network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", http_server.url("/"))
        # the pool itself is fine: the next request connects
        assert (pool.request("GET", http_server.url("/"))).content == HELLO
    assert backend.attempts == 2
    assert backend.sleeps == []


def test_retries_against_a_closed_port(closed_port: int) -> None:
    backend = ScriptedBackend(SyncBackend())  # real connects, backoff recorded
    with httpcore_fast.ConnectionPool(retries=3, network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", f"http://127.0.0.1:{closed_port}/")
    assert backend.attempts == 4
    assert backend.sleeps == [0, 0.5, 1.0]


def test_retries_with_real_backoff_against_a_closed_port(
    closed_port: int, network_backend: Backend
) -> None:
    # Two retries: the backoff sleeps 0 s, then 0.5 s, for real, on the backend in use.
    backend = ScriptedBackend(network_backend or SyncBackend(), sleep_for_real=True)
    events: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    with httpcore_fast.ConnectionPool(retries=2, network_backend=backend) as pool:
        started = time.monotonic()
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"trace": trace}
            )
        assert time.monotonic() - started >= 0.5 - TICK  # the 0.5 s backoff was slept
    assert backend.sleeps == [0, 0.5]
    assert events == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
    ]


# --- invalid requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/file", "Request URL has an unsupported protocol 'ftp://'."),
        ("127.0.0.1/path", "Request URL is missing an 'http://' or 'https://' protocol."),
    ],
)
def test_unsupported_protocol(url: str, message: str) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.UnsupportedProtocol) as info:
            pool.request("GET", url)
        assert str(info.value) == message
        with pytest.raises(httpcore_fast.UnsupportedProtocol):
            with pool.stream("GET", url):
                pass  # pragma: no cover - never entered
        assert repr(pool) == IDLE_POOL.format(0)

"""Sync ConnectionPool behaviour on real loopback servers: reuse, limits, fairness,
expiry, timeouts, retries, reprs and closing."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Any

import pytest

import httpcore_fast
from tests.servers import (
    HELLO,
    IDLE_POOL,
    ScriptedServer,
    UvicornServer,
    client_port,
    keepalive_script,
    wait_until,
)

pytest_plugins = ["tests.conftest_servers"]
pytestmark = pytest.mark.network


# --- reuse, reprs and closing -------------------------------------------------------------


def test_keep_alive_reuses_one_connection(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        assert repr(pool) == IDLE_POOL.format(0)
        ports = {client_port(pool.request("GET", http_server.url("/"))) for _ in range(5)}
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
            assert pool.request("GET", http_server.url("/")).content == HELLO
            assert pool.request("GET", https_server.url("/")).content == HELLO
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
                "<ConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
            assert repr(pool.connections[0]) == (
                f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, ACTIVE, Request Count: 1]>"
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


def test_context_manager_exit_closes_connections(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", http_server.url("/"))
        connection = pool.connections[0]
        stream = pool.request("GET", http_server.url("/")).extensions["network_stream"]
        sock = stream.get_extra_info("socket")
    assert connection.is_closed()
    assert pool.connections == []
    assert sock.fileno() == -1


# --- limits ---------------------------------------------------------------------------------


def test_max_keepalive_connections(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool(max_connections=4, max_keepalive_connections=2) as pool:
        with contextlib.ExitStack() as stack:
            responses = [
                stack.enter_context(pool.stream("GET", http_server.url("/"))) for _ in range(4)
            ]
            assert len({client_port(r) for r in responses}) == 4
            assert len(pool.connections) == 4
            for response in responses:
                response.read()
        # all four were released; only two may stay idle
        assert repr(pool) == IDLE_POOL.format(2)
        assert all(not c.is_closed() for c in pool.connections)


def test_max_keepalive_connections_zero_closes_every_connection(
    http_server: UvicornServer,
) -> None:
    with httpcore_fast.ConnectionPool(max_keepalive_connections=0) as pool:
        ports = {client_port(pool.request("GET", http_server.url("/"))) for _ in range(3)}
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
        second_port = client_port(pool.request("GET", http_server.url("/")))
        assert second_port != first_port
        assert first.is_closed()
        assert len(pool.connections) == 1
        assert pool.connections[0] is not first


@pytest.mark.parametrize(
    ("requests_n", "keepalive"),
    [
        pytest.param(50, None, id="keepalive-unlimited"),
        # surplus idle connections are closed while other threads wait: encode/httpcore#1110
        pytest.param(50, 1, id="keepalive-1"),
    ],
)
def test_many_threads_share_max_connections(
    http_server: UvicornServer, requests_n: int, keepalive: int | None
) -> None:
    threads_n, limit = 16, 4
    errors: list[BaseException] = []
    ports: set[int] = set()
    done = [0] * threads_n
    max_seen = [0]
    stop_monitor = threading.Event()

    with httpcore_fast.ConnectionPool(
        max_connections=limit, max_keepalive_connections=keepalive
    ) as pool:
        barrier = threading.Barrier(threads_n)

        def worker(index: int) -> None:
            try:
                barrier.wait(5)
                for j in range(requests_n):
                    response = pool.request(
                        "GET",
                        http_server.url(f"/echo?t={index}&r={j}"),
                        extensions={"timeout": {"pool": 10, "read": 5}},
                    )
                    assert response.status == 200
                    assert f'"query": "t={index}&r={j}"'.encode() in response.content
                    ports.add(client_port(response))
                    done[index] += 1
            except BaseException as exc:  # reported below
                errors.append(exc)

        def monitor() -> None:
            while not stop_monitor.is_set():
                max_seen[0] = max(max_seen[0], len(pool.connections))
                time.sleep(0.001)

        watcher = threading.Thread(target=monitor)
        watcher.start()
        workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(60)
        stop_monitor.set()
        watcher.join(5)
        assert not any(t.is_alive() for t in workers)
        assert errors == []
        assert done == [requests_n] * threads_n
        if keepalive is None:
            assert len(ports) <= limit  # connections are kept: never more than the limit
        assert 1 <= max_seen[0] <= limit
        assert len(pool.connections) <= (limit if keepalive is None else keepalive)
        assert repr(pool).startswith("<ConnectionPool [Requests: 0 active, 0 queued | ")


def test_waiting_requests_are_served_first_in_first_out(scripted_server: Any) -> None:
    server: ScriptedServer = scripted_server(keepalive_script(b"ok"))
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:

        def waiter(index: int) -> None:
            try:
                response = pool.request("GET", server.url(f"/queued/{index}"))
                results.append((index, response.status))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = []
        with pool.stream("GET", server.url("/held")) as held:
            for i in range(5):
                thread = threading.Thread(target=waiter, args=(i,))
                thread.start()
                threads.append(thread)
                queued = f"Requests: 1 active, {i + 1} queued"
                wait_until(lambda queued=queued: queued in repr(pool))
            held.read()
        for thread in threads:
            thread.join(10)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert sorted(results) == [(i, 200) for i in range(5)]
    assert server.connection_count == 1
    paths = [r.split(b" ")[1] for r in server.connections[0].requests]
    assert paths == [b"/held"] + [f"/queued/{i}".encode() for i in range(5)]


# --- timeouts -------------------------------------------------------------------------------


def test_pool_timeout(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", http_server.url("/")) as held:
            started = time.monotonic()
            with pytest.raises(httpcore_fast.PoolTimeout) as info:
                pool.request("GET", http_server.url("/"), extensions={"timeout": {"pool": 0.2}})
            elapsed = time.monotonic() - started
            assert type(info.value) is httpcore_fast.PoolTimeout
            assert 0.15 <= elapsed < 2.0
            # the request that gave up left no trace in the queue
            assert repr(pool) == (
                "<ConnectionPool [Requests: 1 active, 0 queued | Connections: 1 active, 0 idle]>"
            )
            held.read()
        response = pool.request("GET", http_server.url("/"), extensions={"timeout": {"pool": 2}})
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


def test_read_timeout_on_a_slow_server(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        # (a server answering within the timeout would not raise: no elapsed-time bound)
        with pytest.raises(httpcore_fast.ReadTimeout) as info:
            pool.request(
                "GET", http_server.url("/slow?delay=1.0"), extensions={"timeout": {"read": 0.1}}
            )
        assert type(info.value) is httpcore_fast.ReadTimeout
        # the connection is in an unknown state: it was closed and dropped
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)
        # a generous timeout works on the same pool
        response = pool.request(
            "GET", http_server.url("/slow?delay=0.05"), extensions={"timeout": {"read": 5}}
        )
        assert response.content == b"slow"


def test_connect_error_for_a_closed_port(closed_port: int) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.ConnectError) as info:
            pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"timeout": {"connect": 2}}
            )
        assert type(info.value) is httpcore_fast.ConnectError
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


def test_write_timeout_when_the_server_does_not_read(scripted_server: Any) -> None:
    server = scripted_server(lambda conn: conn.hold(10))

    def body() -> Any:
        for _ in range(256):  # 256 MiB at most; the socket buffers fill long before
            yield b"x" * (1 << 20)

    with httpcore_fast.ConnectionPool() as pool:
        started = time.monotonic()
        with pytest.raises(httpcore_fast.WriteTimeout):
            pool.request(
                "POST", server.url("/upload"), content=body(), extensions={"timeout": {"write": 0.2}}
            )
        assert time.monotonic() - started < 5
        assert pool.connections == []


# --- retries ------------------------------------------------------------------------------


class CountingBackend(httpcore_fast.NetworkBackend):
    """Fails the first ``failures`` TCP connects, then delegates to the sync backend.

    Backoff sleeps are recorded, not slept.
    """

    def __init__(self, failures: int) -> None:
        self.backend = httpcore_fast.SyncBackend()
        self.failures = failures
        self.attempts = 0
        self.sleeps: list[float] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore_fast.NetworkStream:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise httpcore_fast.ConnectError(f"scripted failure {self.attempts}")
        return self.backend.connect_tcp(host, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore_fast.NetworkStream:  # pragma: no cover - not used here
        return self.backend.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_retries_recover_from_connect_failures(http_server: UvicornServer) -> None:
    backend = CountingBackend(failures=2)
    events: list[str] = []
    with httpcore_fast.ConnectionPool(retries=2, network_backend=backend) as pool:
        response = pool.request(
            "GET",
            http_server.url("/"),
            extensions={"trace": lambda name, info: events.append(name)},
        )
        assert response.content == HELLO
    assert backend.attempts == 3
    assert backend.sleeps == [0, 0.5]  # httpcore's exponential backoff: 0, 0.5, 1, 2, ...
    assert events[:7] == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.failed",
        "connection.retry.started",
    ]
    assert events[7:10] == [
        "connection.retry.complete",
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
    ]


def test_retries_exhausted(http_server: UvicornServer) -> None:
    backend = CountingBackend(failures=3)
    with httpcore_fast.ConnectionPool(retries=2, network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError, match="scripted failure 3"):
            pool.request("GET", http_server.url("/"))
        assert pool.connections == []
    assert backend.attempts == 3


def test_no_retries_by_default(http_server: UvicornServer) -> None:
    backend = CountingBackend(failures=1)
    with httpcore_fast.ConnectionPool(network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", http_server.url("/"))
        # the pool itself is fine: the next request connects
        assert pool.request("GET", http_server.url("/")).content == HELLO
    assert backend.attempts == 2
    assert backend.sleeps == []


def test_retries_against_a_closed_port(closed_port: int) -> None:
    class Recording(CountingBackend):
        pass

    backend = Recording(failures=0)
    with httpcore_fast.ConnectionPool(retries=3, network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", f"http://127.0.0.1:{closed_port}/")
    assert backend.attempts == 4
    assert backend.sleeps == [0, 0.5, 1.0]


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


def test_socket_option_with_bytes_value(http_server: UvicornServer) -> None:
    linger = struct.pack("ii", 1, 5)  # struct linger {l_onoff=1, l_linger=5}
    options = [(socket.SOL_SOCKET, socket.SO_LINGER, linger)]
    with httpcore_fast.ConnectionPool(socket_options=options) as pool:
        response = pool.request("GET", http_server.url("/"))
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)) == (1, 5)


def test_idle_connection_is_closed_to_make_room_for_another_origin(
    http_server: UvicornServer, scripted_server: Any
) -> None:
    other = scripted_server(keepalive_script(b"other"))
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        assert pool.request("GET", http_server.url("/")).content == HELLO
        first = pool.connections[0]
        response = pool.request("GET", other.url("/"), extensions={"timeout": {"pool": 2}})
        assert response.content == b"other"
        assert first.is_closed()
        assert len(pool.connections) == 1
        assert pool.connections[0].can_handle_request(
            httpcore_fast.Origin(b"http", b"127.0.0.1", other.port)
        )

"""The pool for crawls (issue 14) on real loopback servers: stale keep-alive connections
retried, per-origin limits, many origins at the global cap, statistics, pool-wait trace
events, HTTP/1.1 trailers.

Stale connections are made by servers that answer a first request and then, as the next
request arrives on the kept-alive connection, end the connection without a byte of
response: with a FIN, with a reset, or with a reset while the client is still writing the
request body. Open client sockets are counted by a backend that wraps the real one
(:class:`CountingBackend`): a socket counts from its connect until it is closed.

Concurrency: tasks on the async side (asyncio and trio), threads on the sync side
(:mod:`tests.concurrency`).

Generated from ``tests/_async/test_crawl_pool.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import logging
import random
import socket
import struct
import threading
import time
import typing
from typing import Any

import pytest

import httpcore_fast
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast._core.pool import OriginStats
from tests._sync.support import first_connection_then, wait_until
from tests.concurrency import Nursery
from tests.proxy_servers import PProxyServer
from tests.servers import HELLO, ServerConnection, UvicornServer, http_response, keepalive_script

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers", "tests.h2_servers"]
pytestmark = [pytest.mark.network]
TIMEOUTS = {"timeout": {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}}
STALE_MESSAGE = "Server disconnected without sending a response."


# --- helpers ------------------------------------------------------------------------------


def reset(conn: ServerConnection) -> None:
    """End the server side of ``conn`` with a TCP reset (RST) instead of a FIN."""
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.sock.close()


def stale_after_first(how: str) -> typing.Callable[[ServerConnection], None]:
    """A script for the first connection: answer one request (keep-alive), then end the
    connection as the next request arrives, without a byte of response: ``"fin"`` reads
    the request and closes, ``"rst"`` reads it and resets, ``"rst-head"`` resets after
    the request head only (the client is still writing the body), ``"half-head"`` sends
    half a response head and closes (a response byte arrived: not stale)."""

    def script(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        conn.send(http_response(b"first"))
        if how == "rst-head":
            if conn.read_until(b"\r\n\r\n") is None:
                return
        elif conn.read_request() is None:
            return
        if how.startswith("rst"):
            reset(conn)
            return
        if how == "half-head":
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Le")
        conn.close()

    return script


def close_at_once(conn: ServerConnection) -> None:
    """Read a request and close without answering (on a connection's first request)."""
    conn.read_request()
    conn.close()


class CountedStream(httpcore_fast.NetworkStream):
    """A stream of :class:`CountingBackend`: counts as open until closed."""

    def __init__(
        self, stream: httpcore_fast.NetworkStream, backend: CountingBackend
    ) -> None:
        self._stream = stream
        self._backend = backend
        self._open = True

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        if self._open:
            self._open = False
            with self._backend.lock:
                self._backend.live -= 1
        self._stream.close()

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        return self._stream._recv_into(buffer, timeout)

    def _is_readable(self) -> bool:
        return self._stream._is_readable()


class CountingBackend(httpcore_fast.NetworkBackend):
    """The default backend, counting TCP connections: ``opened``, ``live`` (open now)
    and ``peak`` (the most open at once)."""

    def __init__(self) -> None:
        self.backend = SyncBackend()
        self.lock = threading.Lock()
        self.opened = self.live = self.peak = 0

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore_fast.NetworkStream:
        stream = self.backend.connect_tcp(host, port, timeout, local_address, socket_options)
        with self.lock:
            self.opened += 1
            self.live += 1
            self.peak = max(self.peak, self.live)
        return CountedStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore_fast.NetworkStream:  # pragma: no cover - not used by the tests
        raise NotImplementedError

    def sleep(self, seconds: float) -> None:  # pragma: no cover - no retries here
        self.backend.sleep(seconds)


def queued(pool: httpcore_fast.ConnectionPool, count: int) -> typing.Callable[[], bool]:
    """A predicate: ``count`` requests are queued in ``pool``."""
    return lambda: pool.stats().total.queued_requests == count


def recorder() -> tuple[list[str], Any]:
    events: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    return events, trace


# --- 1. stale keep-alive connections --------------------------------------------------------


@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("how", ["fin", "rst", "rst-head"])
def test_a_stale_connection_is_retried_on_a_new_one(
    scripted_server: Any, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server ends a kept-alive connection as the next request arrives: the request
    is sent again, once, on a new connection, and the caller sees only the response."""
    caplog.set_level(logging.DEBUG, logger="httpcore.connection")
    server = scripted_server(first_connection_then(stale_after_first(how)))
    method, content = ("PUT", b"x" * (16 << 20)) if how == "rst-head" else ("GET", None)
    events, trace = recorder()
    with httpcore_fast.ConnectionPool() as pool:
        assert (pool.request("GET", server.url("/1"))).content == b"first"
        response = pool.request(
            method, server.url("/2"), content=content, extensions={**TIMEOUTS, "trace": trace}
        )
        assert response.content == b"fresh"
        stats = pool.stats().total
        assert (stats.opened, stats.retried, stats.closed_by_server) == (2, 1, 1)
    assert server.connection_count == 2
    assert [r.split(b" ")[1] for r in server.connections[1].requests] == [b"/2"]
    assert events.count("connection.retry_stale.started") == 1
    assert events.count("connection.retry_stale.complete") == 1
    assert events.index("connection.retry_stale.started") < events.index(
        "connection.connect_tcp.started"
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "httpcore.connection"]
    assert any(line.startswith("retry_stale.started request=") for line in lines), lines


@pytest.mark.usefixtures("kernel")
def test_a_request_is_sent_again_only_once(scripted_server: Any) -> None:
    """The new connection fails too (its first use): that error is the caller's."""
    server = scripted_server(first_connection_then(stale_after_first("fin"), close_at_once))
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", server.url("/1"))
        with pytest.raises(httpcore_fast.RemoteProtocolError, match=STALE_MESSAGE):
            pool.request("GET", server.url("/2"), extensions=TIMEOUTS)
        assert pool.stats().total.retried == 1
    assert server.connection_count == 2


@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize(
    ("method", "extensions", "retried"),
    [
        pytest.param("POST", {}, False, id="post"),
        pytest.param("PATCH", {"retry_stale": False}, False, id="patch"),
        pytest.param("POST", {"retry_stale": True}, True, id="post-opted-in"),
        pytest.param("DELETE", {}, True, id="delete"),
        pytest.param("OPTIONS", {}, True, id="options"),
    ],
)
def test_which_methods_are_sent_again(
    scripted_server: Any, method: str, extensions: dict[str, Any], retried: bool
) -> None:
    """Idempotent methods (RFC 9110 §9.2.2) are; others only with ``retry_stale``."""
    server = scripted_server(first_connection_then(stale_after_first("fin")))
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", server.url("/1"))
        url = server.url("/2")
        if retried:
            response = pool.request(
                method, url, content=b"body", extensions={**TIMEOUTS, **extensions}
            )
            assert response.content == b"fresh"
        else:
            with pytest.raises(httpcore_fast.RemoteProtocolError, match=STALE_MESSAGE):
                pool.request(
                    method, url, content=b"body", extensions={**TIMEOUTS, **extensions}
                )
    assert server.connection_count == (2 if retried else 1)


@pytest.mark.usefixtures("kernel")
def test_a_streamed_body_is_not_sent_again(scripted_server: Any) -> None:
    server = scripted_server(first_connection_then(stale_after_first("fin")))

    def body() -> typing.Iterator[bytes]:
        yield b"part"

    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", server.url("/1"))
        with pytest.raises(httpcore_fast.RemoteProtocolError, match=STALE_MESSAGE):
            pool.request("PUT", server.url("/2"), content=body(), extensions=TIMEOUTS)
    assert server.connection_count == 1


@pytest.mark.usefixtures("kernel")
def test_retry_stale_connections_false_raises_as_httpcore(scripted_server: Any) -> None:
    server = scripted_server(first_connection_then(stale_after_first("rst")))
    with httpcore_fast.ConnectionPool(retry_stale_connections=False) as pool:
        pool.request("GET", server.url("/1"))
        with pytest.raises((httpcore_fast.ReadError, httpcore_fast.RemoteProtocolError)):
            pool.request("GET", server.url("/2"), extensions=TIMEOUTS)
        assert pool.stats().total.retried == 0
    assert server.connection_count == 1


@pytest.mark.usefixtures("kernel")
def test_never_sent_again_after_a_response_byte(scripted_server: Any) -> None:
    server = scripted_server(first_connection_then(stale_after_first("half-head")))
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", server.url("/1"))
        with pytest.raises(httpcore_fast.RemoteProtocolError, match="complete response head"):
            pool.request("GET", server.url("/2"), extensions=TIMEOUTS)
    assert server.connection_count == 1


@pytest.mark.usefixtures("kernel")
def test_a_first_use_failure_is_not_retried(scripted_server: Any) -> None:
    """A connection's first request failing is not a stale connection: the error is
    httpcore's, unchanged."""
    server = scripted_server(close_at_once)
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError) as info:
            pool.request("GET", server.url("/"), extensions=TIMEOUTS)
        assert str(info.value) == STALE_MESSAGE
        assert pool.stats().total.retried == 0
    assert server.connection_count == 1


# --- 2. per-origin limits -------------------------------------------------------------------


def test_a_slow_origin_at_its_limit_does_not_hold_up_others(
    scripted_server: Any, http_server: UvicornServer
) -> None:
    """Six requests to a slow origin (it answers when the test opens the gate) with two
    connections allowed per origin: two reach the server, four queue; a request to
    another origin is served meanwhile, and the queue is still there after it."""
    gate = threading.Event()

    def slow(conn: ServerConnection) -> None:
        for _ in range(100):
            if conn.read_request() is None:
                return
            gate.wait(30)
            conn.send(http_response(b"slow"))

    server = scripted_server(slow)
    limit, requests = 2, 6
    with httpcore_fast.ConnectionPool(
        max_connections=10, max_connections_per_origin=limit
    ) as pool:
        done: list[int] = []

        def fetch(index: int) -> None:
            response = pool.request("GET", server.url(f"/{index}"), extensions=TIMEOUTS)
            assert response.content == b"slow"
            done.append(index)

        with Nursery(timeout=60) as nursery:
            for index in range(requests):
                nursery.start_soon(fetch, index)
            wait_until(queued(pool, requests - limit))
            assert (pool.request("GET", http_server.url("/"))).content == HELLO
            stats = pool.stats()
            slow_origin = stats.origins[f"http://127.0.0.1:{server.port}"]
            assert (slow_origin.queued_requests, slow_origin.active_requests) == (4, 2)
            assert done == []
            gate.set()
        assert sorted(done) == list(range(requests))
        slow_origin = pool.stats().origins[f"http://127.0.0.1:{server.port}"]
        assert slow_origin.opened == limit and slow_origin.waited == requests - limit
        assert slow_origin.wait_time > 0
    assert server.connection_count == limit


def test_waiters_of_one_origin_are_served_in_order(scripted_server: Any) -> None:
    server = scripted_server(keepalive_script(b"ok"))
    served: list[int] = []
    with httpcore_fast.ConnectionPool(
        max_connections=None, max_connections_per_origin=1
    ) as pool:

        def waiter(index: int) -> None:
            response = pool.request("GET", server.url(f"/queued/{index}"))
            assert response.status == 200
            served.append(index)

        with Nursery() as nursery:
            with pool.stream("GET", server.url("/held")) as held:
                for i in range(5):
                    nursery.start_soon(waiter, i)
                    wait_until(queued(pool, i + 1))
                held.read()
        assert sorted(served) == list(range(5))
    assert server.connection_count == 1
    paths = [r.split(b" ")[1] for r in server.connections[0].requests]
    assert paths == [b"/held"] + [f"/queued/{i}".encode() for i in range(5)]


def test_max_connections_per_origin_is_validated() -> None:
    with pytest.raises(ValueError, match="max_connections_per_origin"):
        httpcore_fast.ConnectionPool(max_connections_per_origin=0)


# --- 3. many origins at the global cap ------------------------------------------------------


def test_many_origins_never_open_more_sockets_than_the_cap(scripted_server: Any) -> None:
    """Twelve origins through a pool of four connections, four requests in flight, in a
    shuffled (seeded) order: every request succeeds, idle connections of other origins
    are evicted to make room, and no more than four sockets are ever open."""
    origins = [scripted_server(keepalive_script(b"origin-%d" % i)) for i in range(12)]
    order = [index for index in range(len(origins)) for _ in range(4)]
    random.Random(20261207).shuffle(order)
    backend = CountingBackend()
    with httpcore_fast.ConnectionPool(max_connections=4, network_backend=backend) as pool:
        jobs = iter(order)

        def worker() -> None:
            for index in jobs:
                response = pool.request("GET", origins[index].url("/"), extensions=TIMEOUTS)
                assert response.content == b"origin-%d" % index

        with Nursery(timeout=60) as nursery:
            for _ in range(4):
                nursery.start_soon(worker)
        stats = pool.stats().total
        assert stats.closed_evicted > 0
        assert stats.opened == backend.opened
        assert stats.opened == stats.closed_evicted + stats.idle_connections
    assert backend.peak <= 4
    assert backend.live == 0


def test_a_released_connection_goes_to_a_waiter_of_its_own_origin(
    scripted_server: Any,
) -> None:
    """Two connections, both busy; a request for a third origin queues first, one for the
    first origin behind it. Releasing the first origin's connection serves its own waiter
    on that connection (no new handshake); the third origin gets the next free slot."""
    a, b, c = (scripted_server(keepalive_script(b"%d" % i)) for i in range(3))
    backend = CountingBackend()
    with httpcore_fast.ConnectionPool(max_connections=2, network_backend=backend) as pool:
        results: dict[str, bytes] = {}

        def fetch(name: str, server: Any) -> None:
            results[name] = (pool.request("GET", server.url("/"), extensions=TIMEOUTS)).content

        with Nursery() as nursery:
            with pool.stream("GET", a.url("/")) as held_a:
                with pool.stream("GET", b.url("/")) as held_b:
                    nursery.start_soon(fetch, "c", c)
                    wait_until(queued(pool, 1))
                    nursery.start_soon(fetch, "a", a)
                    wait_until(queued(pool, 2))
                    held_a.read()
                    held_a.close()
                    wait_until(lambda: "a" in results)
                    held_b.read()
        # a's waiter was served first although c's queued first
        assert list(results.items()) == [("a", b"0"), ("c", b"2")]
    assert a.connection_count == 1  # the waiter for a reused the released connection
    assert backend.peak <= 2


# --- 6. statistics and the pool-wait trace --------------------------------------------------


def test_stats_count_reuse_closes_and_waits(scripted_server: Any) -> None:
    def close_after_one(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(b"bye", headers=[(b"Connection", b"close")]))

    keep, close = scripted_server(keepalive_script(b"ok")), scripted_server(close_after_one)
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        for _ in range(3):
            assert (pool.request("GET", keep.url("/"))).content == b"ok"
        assert (pool.request("GET", close.url("/"))).content == b"bye"
        stats = pool.stats()
        assert stats.total == OriginStats(
            opened=2, reused=2, closed_evicted=1, closed_by_server=1
        )
        assert stats.origins == {}  # both origins' connections are gone
        assert (pool.request("GET", keep.url("/"))).content == b"ok"
        (name,) = pool.stats().origins
        assert name == f"http://127.0.0.1:{keep.port}"
    assert pool.stats().total.closed_pool == 1


def test_waiting_for_a_connection_is_traced(http_server: UvicornServer) -> None:
    events, trace = recorder()
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", http_server.url("/")) as held:
            with pytest.raises(httpcore_fast.PoolTimeout):
                pool.request(
                    "GET", http_server.url("/"), extensions={"timeout": {"pool": 0.05}, "trace": trace}
                )
            assert events == ["connection.pool_wait.started", "connection.pool_wait.failed"]
            with Nursery() as nursery:
                def wait_for_it() -> None:
                    response = pool.request(
                        "GET", http_server.url("/"), extensions={**TIMEOUTS, "trace": trace}
                    )
                    assert response.content == HELLO

                nursery.start_soon(wait_for_it)
                wait_until(queued(pool, 1))
                held.read()
                held.close()
        assert events[2:4] == ["connection.pool_wait.started", "connection.pool_wait.complete"]
        stats = pool.stats().total
        assert stats.waited == 2 and stats.wait_time > 0


def test_a_refused_http2_stream_sent_again_is_counted_as_retried(
    h2_server: Any,
) -> None:
    """REFUSED_STREAM makes the connection raise ConnectionNotAvailable: the pool sends
    the request again (on the same connection) and counts it in ``retried``."""
    server = h2_server()
    with httpcore_fast.ConnectionPool(http1=False, http2=True) as pool:
        response = pool.request("GET", server.url("/refuse-once/a"), extensions=TIMEOUTS)
        assert response.content == b"path=/refuse-once/a"
        stats = pool.stats().total
        assert (stats.opened, stats.reused, stats.retried) == (1, 1, 1)
    assert server.requests.count("/refuse-once/a") == 2


def test_close_reasons_of_http11_connections(scripted_server: Any) -> None:
    """What an HTTP/1.1 connection (through the pool's lazy connection) says about why
    it closed reaches the statistics: ``Connection: close`` (the server's), an expired
    idle connection, a malformed response head, a failed connect."""

    def close_after_one(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(http_response(b"bye", headers=[(b"Connection", b"close")]))

    def garbage(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"NOT HTTP\r\n\r\n")

    keep = scripted_server(keepalive_script(b"ok"))
    close, bad = scripted_server(close_after_one), scripted_server(garbage)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused_port = unused.getsockname()[1]
    with httpcore_fast.ConnectionPool(keepalive_expiry=0.2) as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError):
            pool.request("GET", bad.url("/"), extensions=TIMEOUTS)
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", f"http://127.0.0.1:{refused_port}/", extensions=TIMEOUTS)

        with pool.stream("GET", close.url("/")) as response:
            (connection,) = pool.connections
            assert connection._close_reason() is None
            response.read()
        assert connection._close_reason() == "closed_by_server"

        assert (pool.request("GET", keep.url("/"))).content == b"ok"
        (connection,) = pool.connections
        assert connection._close_reason() is None
        time.sleep(0.3)  # past keepalive_expiry (a blocking sleep: nothing else runs)
        assert connection._close_reason() == "expired"
        assert (pool.request("GET", keep.url("/"))).content == b"ok"
        assert connection.is_closed() and connection._close_reason() == "expired"
        stats = pool.stats().total
        assert (stats.closed_by_server, stats.closed_expired, stats.closed_error) == (1, 1, 2)
        assert stats.opened == 5 and stats.idle_connections == 1


def test_close_reason_of_a_connection_that_failed_to_connect() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/"
    connection = httpcore_fast.HTTPConnection(httpcore_fast.URL(url).origin)
    assert connection._close_reason() is None
    with pytest.raises(httpcore_fast.ConnectError):
        connection.request("GET", url, extensions=TIMEOUTS)
    assert connection._close_reason() == "error"


def test_close_reason_of_http2_passes_through_the_lazy_connection(h2_server: Any) -> None:
    """An HTTP/2 connection told GOAWAY reports ``closed_by_server`` through the pool's
    connection, and the statistics count it so."""
    server = h2_server(goaway_every=1)
    with httpcore_fast.ConnectionPool(http1=False, http2=True) as pool:
        with pool.stream("GET", server.url("/a"), extensions=TIMEOUTS) as response:
            (connection,) = pool.connections
            assert response.read() == b"path=/a"
        wait_until(connection.has_expired)
        assert connection._close_reason() == "closed_by_server"
        assert (pool.request("GET", server.url("/b"))).content == b"path=/b"
        wait_until(lambda: not pool.connections)  # told GOAWAY too
        stats = pool.stats().total
        assert (stats.opened, stats.closed_by_server, stats.closed_error) == (2, 2, 0)


def test_close_reason_of_a_forwarding_proxy_connection(
    pproxy_server: PProxyServer, http_server: UvicornServer
) -> None:
    """A connection forwarding through an HTTP proxy says why its connection to the
    proxy closed: here, idle past ``keepalive_expiry``."""
    with httpcore_fast.HTTPProxy(
        pproxy_server.url("http"), keepalive_expiry=0.2
    ) as proxy:
        assert (proxy.request("GET", http_server.url("/"))).content == HELLO
        (connection,) = proxy.connections
        assert connection._close_reason() is None
        time.sleep(0.3)  # past keepalive_expiry (a blocking sleep: nothing else runs)
        assert connection._close_reason() == "expired"
        assert (proxy.request("GET", http_server.url("/"))).content == HELLO
        stats = proxy.stats().total
        assert (stats.opened, stats.closed_expired, stats.closed_by_server) == (2, 1, 0)


def test_resolve_reaches_the_pools_connections(scripted_server: Any) -> None:
    """``resolve=`` (like curl's --resolve): a name the pool's resolver answers."""
    server = scripted_server(keepalive_script(b"resolved"))
    with httpcore_fast.ConnectionPool(
        resolve={"crawl.invalid": ["127.0.0.1"]}
    ) as pool:
        response = pool.request(
            "GET", f"http://crawl.invalid:{server.port}/", extensions=TIMEOUTS
        )
        assert response.content == b"resolved"


# --- 7. trailers ----------------------------------------------------------------------------


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"


def answer(*responses: bytes) -> typing.Callable[[ServerConnection], None]:
    """A script answering the connection's requests with ``responses`` in turn."""

    def script(conn: ServerConnection) -> None:
        for response in responses:
            if conn.read_request() is None:
                return
            conn.send(response)

    return script


@pytest.mark.usefixtures("kernel")
def test_trailers_after_the_body(scripted_server: Any) -> None:
    server = scripted_server(
        answer(
            CHUNKED_HEAD + b"Trailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\n"
            b"X-Checksum: abc \r\nx-other:1\r\n\r\n",
            CHUNKED_HEAD + b"\r\n5\r\nhello\r\n0\r\n\r\n",
            http_response(b"hello"),
            http_response(b"", status=b"204 No Content"),
        )
    )
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", server.url("/")) as response:
            assert "trailers" not in response.extensions  # not before the body's end
            chunks = [chunk for chunk in response.iter_stream()]
            assert b"".join(chunks) == b"hello"
            assert response.extensions["trailers"] == [
                (b"X-Checksum", b"abc"),
                (b"x-other", b"1"),
            ]
        for _ in range(3):  # chunked without trailers, Content-Length, no body
            response = pool.request("GET", server.url("/"))
            assert response.extensions["trailers"] == []
    assert server.connection_count == 1


@pytest.mark.usefixtures("kernel")
def test_no_trailers_when_the_body_is_not_read_to_its_end(scripted_server: Any) -> None:
    server = scripted_server(answer(CHUNKED_HEAD + b"\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"))
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", server.url("/")) as response:
            for chunk in response.iter_stream():
                assert chunk == b"hello"
                break
        assert "trailers" not in response.extensions

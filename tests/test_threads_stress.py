"""Threads hammering one sync ``ConnectionPool``: N threads x M requests against a loopback
HTTP/1.1 server (plain and TLS), with a few connections for many threads (requests queue,
idle connections are evicted), responses that close their connection, chunked and large
bodies, POST bodies, responses closed before their end, two origins (an IP literal and
``localhost``, resolved through the pool's DNS cache with a short TTL) and TLS sessions
resumed from the pool's cache.

Every response body is checked byte for byte (the server derives it from the request's
target and body length, so a response handed to the wrong request shows); while the
threads run a monitor thread checks every ``pool.stats()`` snapshot (``opened ==
sum(closed_*) + active + idle``, the limits); at the end no request or connection is
left, and the server sees every connection closed.

Small by default (a few seconds, part of the normal suite). ``FT_STRESS_THREADS`` and
``FT_STRESS_REQUESTS`` (per thread) make it larger: ``scripts/freethreaded`` runs it so on a
free-threaded interpreter with ``PYTHON_GIL=0``. Every loop is bounded in count and time.
"""

from __future__ import annotations

import os
import selectors
import socket
import ssl
import sys
import threading
import time
import typing
from collections.abc import Callable, Iterator

import pytest
import trustme

import httpcore_fast
from httpcore_fast._core.pool import OriginKey, OriginStats, PoolCore, PoolStats
from tests.h2_servers import H2Server
from tests.servers import wait_until

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network]

THREADS = int(os.environ.get("FT_STRESS_THREADS", "6"))
REQUESTS = int(os.environ.get("FT_STRESS_REQUESTS", "30"))  # per thread
RUN_TIMEOUT = 100.0  # seconds for all the threads (pytest's own timeout is 120)
SOCKET_TIMEOUT = 20.0
EXTENSIONS = {"timeout": {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 30.0}}
MAX_MONITOR_SNAPSHOTS = 20_000
CLOSED_FIELDS = (
    "closed_expired",
    "closed_by_server",
    "closed_error",
    "closed_evicted",
    "closed_pool",
)


def expected_body(target: bytes, body_length: int, size: int) -> bytes:
    """The body the server sends for ``target`` after a request body of ``body_length``
    bytes: a seed naming both, repeated to at least ``size`` bytes (whole seeds)."""
    seed = b"%s#%d;" % (target, body_length)
    return seed * max(1, -(-size // len(seed)))


class StressServer:
    """HTTP/1.1 keep-alive server on 127.0.0.1 (and ::1 when the machine has it, on the
    same port), one thread per connection, optionally over TLS.

    ``<any path>?size=<n>[&close=1][&chunked=1]`` answers :func:`expected_body`; ``close``
    adds ``Connection: close`` and closes after the response; ``chunked`` sends the body
    in 1,000-byte chunks. Counts accepted and open connections, and records handler errors
    other than a client hanging up."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.accepted = 0
        self.open_connections = 0
        self.errors: list[BaseException] = []
        self._count_lock = threading.Lock()
        self._stopping = threading.Event()
        self._handlers: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._listeners = [socket.create_server(("127.0.0.1", 0), backlog=512)]
        self.port = self._listeners[0].getsockname()[1]
        if socket.has_ipv6:
            try:
                six = socket.create_server(("::1", self.port), family=socket.AF_INET6, backlog=512)
            except OSError:
                pass  # no IPv6 loopback here: localhost is 127.0.0.1 only
            else:
                self._listeners.append(six)
        self._acceptor = threading.Thread(target=self._accept, name="stress-accept", daemon=True)

    def url(self, host: str, target: str) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host}:{self.port}{target}"

    def __enter__(self) -> StressServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._acceptor.join(SOCKET_TIMEOUT)
        for listener in self._listeners:
            listener.close()
        with self._count_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for handler in list(self._handlers):
            handler.join(SOCKET_TIMEOUT)
        assert not any(h.is_alive() for h in self._handlers), "server handlers still running"

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            for listener in self._listeners:
                listener.setblocking(False)
                selector.register(listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select(0.05):
                    try:
                        conn, _ = typing.cast(socket.socket, key.fileobj).accept()
                    except (BlockingIOError, OSError):
                        continue
                    conn.setblocking(True)
                    with self._count_lock:
                        self.accepted += 1
                        self.open_connections += 1
                        self._conns.add(conn)
                    handler = threading.Thread(
                        target=self._handle, args=(conn,), name="stress-conn", daemon=True
                    )
                    self._handlers.append(handler)
                    handler.start()

    def _handle(self, raw: socket.socket) -> None:
        conn = raw
        try:
            raw.settimeout(SOCKET_TIMEOUT)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                conn = self.ssl_context.wrap_socket(raw, server_side=True)
            buffer = b""
            for _ in range(100_000):  # bounded: one request per iteration
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                target = lines[0].split(b" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                buffer = buffer[length:]
                query = dict(
                    part.split(b"=", 1) for part in target.partition(b"?")[2].split(b"&") if part
                )
                body = expected_body(target, length, int(query.get(b"size", b"16")))
                close = query.get(b"close") == b"1"
                head_lines = [b"HTTP/1.1 200 OK"]
                if close:
                    head_lines.append(b"Connection: close")
                if query.get(b"chunked") == b"1":
                    head_lines.append(b"Transfer-Encoding: chunked")
                    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
                    payload = (
                        b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
                    )
                else:
                    head_lines.append(b"Content-Length: %d" % len(body))
                    payload = body
                conn.sendall(b"\r\n".join(head_lines) + b"\r\n\r\n" + payload)
                if close:
                    return
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError) as exc:
            if not self._stopping.is_set() and not isinstance(
                exc, (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError)
            ):
                # A client closing a TLS connection mid-response can show as other
                # SSLError/OSError kinds: recorded, judged by the test.
                self.errors.append(exc)
        except BaseException as exc:  # a server bug: fail the test
            self.errors.append(exc)
        finally:
            try:
                conn.close()
            finally:
                raw.close()
                with self._count_lock:
                    self.open_connections -= 1
                    self._conns.discard(raw)


@pytest.fixture(params=["http", "https"])
def stress_server(
    request: pytest.FixtureRequest,
    tls_certificate_authority: trustme.CA,
) -> Iterator[StressServer]:
    context = None
    if request.param == "https":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert = tls_certificate_authority.issue_cert("localhost", "127.0.0.1", "::1")
        cert.configure_cert(context)
    with StressServer(context) as server:
        yield server


class Plan(typing.NamedTuple):
    method: bytes
    host: str
    target: str
    content: bytes
    size: int
    stream_early_close: bool


def plan(thread: int, index: int) -> Plan:
    """The request ``index`` of ``thread``: a deterministic mix of every kind."""
    k = thread * 1_000_003 + index * 7919
    size = 100_000 if index % 13 == 7 else 16 + (k % 2_000)
    query = f"size={size}"
    if index % 7 == 3:
        query += "&close=1"
    if index % 5 == 2:
        query += "&chunked=1"
    content = b"p" * (k % 300 + 1) if index % 3 == 1 else b""
    return Plan(
        method=b"POST" if content else b"GET",
        host="localhost" if index % 2 else "127.0.0.1",
        target=f"/t{thread}/r{index}?{query}",
        content=content,
        size=size,
        stream_early_close=index % 11 == 5 and size > 1_000,
    )


def check_snapshot(stats: PoolStats, max_connections: int, http2: bool = False) -> None:
    """The invariants of one ``pool.stats()`` snapshot (an HTTP/2 connection carries
    several requests, and holds those waiting for a stream slot)."""
    total = stats.total
    closed = sum(getattr(total, name) for name in CLOSED_FIELDS)
    assert total.opened == closed + total.active_connections + total.idle_connections, total
    held = total.active_connections + total.idle_connections + total.closing_connections
    assert held <= max_connections, total
    if not http2:
        assert total.active_requests <= total.active_connections, total
    assert total.queued_requests >= 0 and total.active_requests >= 0, total
    for name, origin in stats.origins.items():
        assert origin.active_connections + origin.idle_connections >= 0, (name, origin)


def hammer(
    pool: httpcore_fast.ConnectionPool,
    max_connections: int,
    request_one: Callable[[int, int], None],
    http2: bool = False,
) -> None:
    """Run ``request_one(thread, index)`` for ``index`` in ``range(REQUESTS)`` in each of
    ``THREADS`` threads at once, while a monitor thread checks every ``pool.stats()``
    snapshot; re-raise the first failure (after closing the pool, so that the failure is
    what the test reports, not sockets left unclosed)."""
    stop_monitor = threading.Event()
    errors: list[BaseException] = []
    done = [0] * THREADS
    snapshots = 0

    def monitor() -> None:
        nonlocal snapshots
        try:
            while not stop_monitor.is_set() and snapshots < MAX_MONITOR_SNAPSHOTS:
                check_snapshot(pool.stats(), max_connections, http2=http2)
                assert len(pool.connections) <= max_connections
                snapshots += 1
                time.sleep(0.001)
        except BaseException as exc:
            errors.append(exc)

    def work(thread: int) -> None:
        try:
            for index in range(REQUESTS):
                request_one(thread, index)
                done[thread] += 1
        except BaseException as exc:
            errors.append(exc)

    watcher = threading.Thread(target=monitor, name="stress-monitor", daemon=True)
    workers = [
        threading.Thread(target=work, args=(t,), name=f"stress-{t}", daemon=True)
        for t in range(THREADS)
    ]
    started = time.monotonic()
    watcher.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(0.0, RUN_TIMEOUT - (time.monotonic() - started)))
    stop_monitor.set()
    watcher.join(SOCKET_TIMEOUT)
    alive = [w.name for w in workers if w.is_alive()]
    if alive or errors:
        pool.close()
    assert not alive, f"threads still running after {RUN_TIMEOUT}s: {alive}, done={done}"
    if errors:
        raise errors[0]
    assert done == [REQUESTS] * THREADS
    assert snapshots > 0


def check_closed(pool: httpcore_fast.ConnectionPool) -> None:
    """After ``pool.close()``: nothing open, every connection opened counted closed."""
    after = pool.stats().total
    assert after.idle_connections == after.active_connections == 0, after
    assert after.opened == sum(getattr(after, name) for name in CLOSED_FIELDS), after
    assert pool.stats().origins == {}
    assert pool.connections == []


def report(kind: str, total: OriginStats) -> None:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"{kind} {THREADS}x{REQUESTS} on {sys.version.split()[0]} gil={gil}: {total}")


def test_threads_share_one_pool(
    stress_server: StressServer, client_ssl_context: ssl.SSLContext
) -> None:
    max_connections = max(2, THREADS // 2)
    pool = httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max(1, THREADS // 4),
        dns_cache_ttl=0.05,
    )

    def request_one(thread: int, index: int) -> None:
        p = plan(thread, index)
        url = stress_server.url(p.host, p.target)
        want = expected_body(p.target.encode(), len(p.content), p.size)
        if p.stream_early_close:
            with pool.stream(p.method, url, content=p.content, extensions=EXTENSIONS) as r:
                assert r.status == 200
                first = next(iter(r.iter_stream()))
                assert want.startswith(first), (p, first[:80])
        else:
            response = pool.request(p.method, url, content=p.content, extensions=EXTENSIONS)
            assert response.status == 200, p
            assert response.content == want, (p, response.content[:80])

    hammer(pool, max_connections, request_one)
    stats = pool.stats()
    check_snapshot(stats, max_connections)
    total = stats.total
    assert (total.active_requests, total.queued_requests, total.active_connections) == (0, 0, 0)
    assert total.closing_connections == 0
    # Every request went out on a connection the pool opened for it or reused.
    assert total.opened + total.reused >= THREADS * REQUESTS, total
    assert total.opened <= stress_server.accepted
    pool.close()
    check_closed(pool)
    # No connection leaked: the server saw every one closed.
    wait_until(lambda: stress_server.open_connections == 0, timeout=10.0)
    assert stress_server.errors == [], stress_server.errors[:3]
    report(stress_server.url("", "").partition(":")[0], total)


def test_threads_share_one_http2_pool() -> None:
    """The same over HTTP/2 (h2c, prior knowledge): streams of many threads multiplexed on
    few connections, at most 4 concurrent streams each (the rest wait for a slot), and a
    GOAWAY every 40 streams (requests beyond it are retried on a new connection)."""
    max_connections = 2
    with (
        H2Server(max_streams=4, goaway_every=40) as server,
        httpcore_fast.ConnectionPool(
            http1=False, http2=True, max_connections=max_connections
        ) as pool,
    ):

        def request_one(thread: int, index: int) -> None:
            if index % 3 == 1:
                content = b"t%dr%d;" % (thread, index) * (index % 50 + 1)
                url = server.url(f"/echo?t{thread}r{index}")
                response = pool.request("POST", url, content=content, extensions=EXTENSIONS)
                assert response.content == content, (thread, index)
            else:
                path, want = f"/t{thread}/r{index}", b"path=/t%d/r%d" % (thread, index)
                if index % 5 == 2:  # answered 5 ms later: streams overlap
                    path = f"/delay/5?t{thread}r{index}"
                    want = path.encode()
                response = pool.request("GET", server.url(path), extensions=EXTENSIONS)
                assert response.content == want, (thread, index)
            assert response.status == 200

        hammer(pool, max_connections, request_one, http2=True)
        total = pool.stats().total
        check_snapshot(pool.stats(), max_connections, http2=True)
        assert (total.active_requests, total.queued_requests) == (0, 0), total
        assert total.opened + total.reused >= THREADS * REQUESTS, total
        assert server.max_open <= 4
        assert server.errors == [], server.errors[:3]
    check_closed(pool)
    report("h2", total)


class _HTTP2Connection:
    """What the pool's core sees of an HTTP/2 connection: it takes several requests until
    it is closed (a GOAWAY, the server's EOF)."""

    closed = False

    def is_available(self) -> bool:
        return not self.closed

    def has_expired(self) -> bool:
        return self.closed

    def is_idle(self) -> bool:
        return False

    def is_closed(self) -> bool:
        return self.closed

    def _may_multiplex(self) -> bool:
        return True

    def _close_reason(self) -> str | None:
        return "closed_by_server" if self.closed else None


def test_requests_still_on_an_http2_connection_another_request_dropped_are_released() -> None:
    """What the HTTP/2 stress test above found (with the GIL too, at 16 x 200): requests
    sharing an HTTP/2 connection that ends (GOAWAY) are released one by one; the first
    release unlists the connection, and each later one must still give back its
    request's count (else ``active_requests`` never returns to 0, and the origin is never
    retired from the pool's state)."""
    key: OriginKey = (b"http", b"h2.example", 80)
    request = httpcore_fast.Request("GET", "http://h2.example/")
    core: PoolCore[_HTTP2Connection] = PoolCore(
        lambda request: _HTTP2Connection(), offers_http2=True
    )
    closing: list[_HTTP2Connection] = []
    first = core.acquire(key, request, closing)
    second = core.acquire(key, request, closing)
    assert first is not None and first is second
    assert core.active_requests() == 2
    first.closed = True
    core.release(first, closing)
    assert core.active_requests() == 1
    core.release(second, closing)
    assert core.active_requests() == 0
    stats = core.stats()
    assert stats.origins == {}
    assert (stats.total.opened, stats.total.closed_by_server, stats.total.reused) == (1, 1, 1)

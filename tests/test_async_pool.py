"""AsyncConnectionPool behaviour on real loopback servers, on asyncio and trio: reuse,
reprs, closing, limits, FIFO fairness, expiry, timeouts, retries, servers that close
idle connections, leftover bytes, malformed responses, disconnects."""

from __future__ import annotations

import threading
import time
import typing
from contextlib import aclosing
from typing import Any

import anyio
import pytest

import httpcore_fast
from tests import async_servers
from tests.async_servers import DelayServer, wait_until
from tests.servers import HELLO, ServerConnection, UvicornServer, http_response, keepalive_script

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network, pytest.mark.anyio]

anyio_backend = async_servers.anyio_backend
network_backend = async_servers.network_backend
delay_server = async_servers.delay_server

Backend = async_servers.Backend
IDLE_POOL = async_servers.IDLE_POOL


def client_port(response: httpcore_fast.Response) -> int:
    values = [v for k, v in response.headers if k == b"x-client-port"]
    assert len(values) == 1
    return int(values[0])


def first_connection_then(first: Any, then: Any = None) -> Any:
    """A script running ``first`` on the first connection and ``then`` on later ones."""
    then = then or keepalive_script(b"fresh")

    def script(conn: ServerConnection) -> None:
        (first if conn.index == 0 else then)(conn)

    return script


# --- reuse, reprs and closing -------------------------------------------------------------


async def test_keep_alive_reuses_one_connection(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        assert repr(pool) == IDLE_POOL.format(0)
        ports = set()
        for _ in range(5):
            ports.add(client_port(await pool.request("GET", http_server.url("/"))))
        assert len(ports) == 1
        assert repr(pool) == IDLE_POOL.format(1)
        assert repr(pool.connections[0]) == (
            f"<AsyncHTTPConnection ['{http_server.origin}', HTTP/1.1, IDLE, Request Count: 5]>"
        )
        assert pool.connections[0].info() == (
            f"'{http_server.origin}', HTTP/1.1, IDLE, Request Count: 5"
        )


async def test_two_open_responses_use_two_connections(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        async with pool.stream("GET", http_server.url("/")) as first:
            async with pool.stream("GET", http_server.url("/")) as second:
                assert client_port(first) != client_port(second)
                assert repr(pool) == (
                    "<AsyncConnectionPool [Requests: 2 active, 0 queued | "
                    "Connections: 2 active, 0 idle]>"
                )
                assert repr(pool.connections[0]) == (
                    f"<AsyncHTTPConnection ['{http_server.origin}', HTTP/1.1, ACTIVE, "
                    "Request Count: 1]>"
                )
                await second.aread()
            await first.aread()
        assert repr(pool) == IDLE_POOL.format(2)


async def test_aclose_pool_closes_connections(http_server: UvicornServer) -> None:
    pool = httpcore_fast.AsyncConnectionPool()
    async with pool.stream("GET", http_server.url("/")) as response:
        async with pool.stream("GET", http_server.url("/")) as other:
            await other.aread()
        await response.aread()
    connections = pool.connections
    assert len(connections) == 2
    await pool.aclose()
    assert pool.connections == []
    assert all(c.is_closed() for c in connections)
    assert repr(connections[0]).endswith(", HTTP/1.1, CLOSED, Request Count: 1]>")
    assert repr(pool) == IDLE_POOL.format(0)


async def test_aclose_pool_while_a_response_is_open(delay_server: DelayServer) -> None:
    pool = httpcore_fast.AsyncConnectionPool()
    async with pool.stream("GET", delay_server.url(body=5.0, size=100)) as response:
        await pool.aclose()
        assert pool.connections == []
        with pytest.raises(httpcore_fast.ReadError):
            await response.aread()
    assert repr(pool) == IDLE_POOL.format(0)


# --- limits ---------------------------------------------------------------------------------


async def test_max_keepalive_connections(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool(
        max_connections=4, max_keepalive_connections=2
    ) as pool:
        responses = []
        for _ in range(4):
            request = httpcore_fast.Request(
                "GET", http_server.url("/"), headers=[(b"Host", b"127.0.0.1")]
            )
            responses.append(await pool.handle_async_request(request))
        assert len({client_port(r) for r in responses}) == 4
        for response in responses:
            await response.aread()
            await response.aclose()
        assert repr(pool) == IDLE_POOL.format(2)
        assert all(not c.is_closed() for c in pool.connections)


async def test_max_keepalive_connections_zero(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool(max_keepalive_connections=0) as pool:
        ports = set()
        for _ in range(3):
            ports.add(client_port(await pool.request("GET", http_server.url("/"))))
        assert len(ports) == 3
        assert pool.connections == []


async def test_keepalive_expiry(http_server: UvicornServer) -> None:
    # an expiry far longer than two loopback requests, so the quick reuse cannot miss it
    async with httpcore_fast.AsyncConnectionPool(keepalive_expiry=1.0) as pool:
        first_port = client_port(await pool.request("GET", http_server.url("/")))
        first = pool.connections[0]
        assert client_port(await pool.request("GET", http_server.url("/"))) == first_port
        await wait_until(first.has_expired, timeout=10)
        assert client_port(await pool.request("GET", http_server.url("/"))) != first_port
        assert first.is_closed()
        assert len(pool.connections) == 1 and pool.connections[0] is not first


@pytest.mark.parametrize("keepalive", [None, 1], ids=["keepalive-unlimited", "keepalive-1"])
async def test_many_tasks_share_max_connections(
    delay_server: DelayServer, network_backend: Backend, keepalive: int | None
) -> None:
    tasks_n, per_task, limit = 32, 10, 4
    done = [0] * tasks_n
    max_seen = [0]

    async with httpcore_fast.AsyncConnectionPool(
        max_connections=limit,
        max_keepalive_connections=keepalive,
        network_backend=network_backend,
    ) as pool:

        async def worker(index: int) -> None:
            for j in range(per_task):
                response = await pool.request(
                    "GET",
                    delay_server.url(head=0.001, tag=f"{index}-{j}"),
                    extensions={"timeout": {"pool": 30, "read": 30}},
                )
                assert response.content == async_servers.delay_body(64)
                max_seen[0] = max(max_seen[0], len(pool.connections))
                done[index] += 1

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for i in range(tasks_n):
                    tg.start_soon(worker, i)
        assert done == [per_task] * tasks_n
        assert 1 <= max_seen[0] <= limit
        assert len(pool.connections) <= (limit if keepalive is None else keepalive)
        assert repr(pool).startswith(
            "<AsyncConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active"
        )
    if keepalive is None:
        assert delay_server.accepted <= limit


async def test_waiting_requests_are_served_first_in_first_out(scripted_server: Any) -> None:
    server = scripted_server(keepalive_script(b"ok"))
    order: list[int] = []
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:

        async def waiter(index: int) -> None:
            response = await pool.request("GET", server.url(f"/queued/{index}"))
            assert response.status == 200
            order.append(index)

        async with (
            anyio.create_task_group() as tg,
            pool.stream("GET", server.url("/held")) as held,
        ):
            for i in range(5):
                tg.start_soon(waiter, i)
                queued = f"Requests: 1 active, {i + 1} queued"
                await wait_until(lambda queued=queued: queued in repr(pool))
            await held.aread()
        assert order == list(range(5))
    assert server.connection_count == 1
    paths = [r.split(b" ")[1] for r in server.connections[0].requests]
    assert paths == [b"/held"] + [f"/queued/{i}".encode() for i in range(5)]


async def test_idle_connection_is_closed_to_make_room_for_another_origin(
    http_server: UvicornServer, scripted_server: Any
) -> None:
    other = scripted_server(keepalive_script(b"other"))
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        assert (await pool.request("GET", http_server.url("/"))).content == HELLO
        first = pool.connections[0]
        response = await pool.request("GET", other.url("/"), extensions={"timeout": {"pool": 2}})
        assert response.content == b"other"
        assert first.is_closed()
        assert len(pool.connections) == 1
        assert pool.connections[0].can_handle_request(
            httpcore_fast.Origin(b"http", b"127.0.0.1", other.port)
        )


# --- timeouts -------------------------------------------------------------------------------


async def test_pool_timeout(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        async with pool.stream("GET", http_server.url("/")) as held:
            started = time.monotonic()
            with pytest.raises(httpcore_fast.PoolTimeout) as info:
                await pool.request(
                    "GET", http_server.url("/"), extensions={"timeout": {"pool": 0.2}}
                )
            assert type(info.value) is httpcore_fast.PoolTimeout
            assert 0.15 <= time.monotonic() - started < 2.0
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
            await held.aread()
        response = await pool.request(
            "GET", http_server.url("/"), extensions={"timeout": {"pool": 2}}
        )
        assert response.content == HELLO


async def test_read_timeout(delay_server: DelayServer, network_backend: Backend) -> None:
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        started = time.monotonic()
        with pytest.raises(httpcore_fast.ReadTimeout) as info:
            await pool.request(
                "GET", delay_server.url(head=5.0), extensions={"timeout": {"read": 0.1}}
            )
        assert type(info.value) is httpcore_fast.ReadTimeout
        assert time.monotonic() - started < 3
        assert pool.connections == []
        # in the middle of the body
        async with pool.stream(
            "GET", delay_server.url(body=5.0, size=100), extensions={"timeout": {"read": 0.1}}
        ) as response:
            with pytest.raises(httpcore_fast.ReadTimeout):
                await response.aread()
        assert pool.connections == []
        ok = await pool.request(
            "GET", delay_server.url(head=0.05), extensions={"timeout": {"read": 5}}
        )
        assert ok.content == async_servers.delay_body(64)


TRICKLE = b"abcdefghijklmnopqrstuvwxy"  # sent a byte at a time


async def test_read_timeout_is_per_read(scripted_server: Any) -> None:
    def trickle(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(TRICKLE))
        for byte in TRICKLE:  # 25 gaps of 0.05 s: 1.25 s in all
            time.sleep(0.05)
            conn.send(bytes([byte]))
        conn.wait_for_eof(5)

    server = scripted_server(trickle)
    async with httpcore_fast.AsyncConnectionPool() as pool:
        # the whole body takes more than one read timeout (1.25 s > 1.0 s), while no
        # single read waits longer than a gap (0.05 s, 20 times less than the timeout)
        response = await pool.request(
            "GET", server.url("/"), extensions={"timeout": {"read": 1.0}}
        )
        assert response.content == TRICKLE


async def test_connect_error_for_a_closed_port(closed_port: int, network_backend: Backend) -> None:
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError) as info:
            await pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"timeout": {"connect": 2}}
            )
        assert type(info.value) is httpcore_fast.ConnectError
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


async def test_write_timeout_when_the_server_does_not_read(
    scripted_server: Any, network_backend: Backend
) -> None:
    server = scripted_server(lambda conn: conn.hold(10))

    async def body() -> typing.AsyncIterator[bytes]:
        for _ in range(256):  # 256 MiB at most; the socket buffers fill long before
            yield b"x" * (1 << 20)

    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        started = time.monotonic()
        async with aclosing(body()) as content:
            with pytest.raises(httpcore_fast.WriteTimeout):
                await pool.request(
                    "POST",
                    server.url("/upload"),
                    content=content,
                    extensions={"timeout": {"write": 0.2}},
                )
        assert time.monotonic() - started < 5
        assert pool.connections == []


async def test_timeouts_never_leak_a_pool_slot(scripted_server: Any) -> None:
    def never_respond(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.hold(10)

    server = scripted_server(never_respond)
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        for _ in range(5):
            with pytest.raises(httpcore_fast.ReadTimeout):
                await pool.request(
                    "GET", server.url("/"), extensions={"timeout": {"read": 0.02, "pool": 1}}
                )
            assert repr(pool) == IDLE_POOL.format(0)
    assert server.connection_count == 5


async def test_exception_in_user_code_inside_stream_releases_the_connection(
    scripted_server: Any,
) -> None:
    server = scripted_server(keepalive_script(b"ok"))
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        with pytest.raises(ZeroDivisionError):
            async with pool.stream("GET", server.url("/")):
                1 / 0  # noqa: B018
        assert repr(pool).startswith("<AsyncConnectionPool [Requests: 0 active, 0 queued")
        response = await pool.request("GET", server.url("/"), extensions={"timeout": {"pool": 1}})
        assert response.content == b"ok"


# --- retries ------------------------------------------------------------------------------


async def test_retries_recover_from_connect_failures(http_server: UvicornServer) -> None:
    backend = async_servers.ScriptedBackend(httpcore_fast.AnyIOBackend(), failures=2)
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    async with httpcore_fast.AsyncConnectionPool(retries=2, network_backend=backend) as pool:
        response = await pool.request("GET", http_server.url("/"), extensions={"trace": trace})
        assert response.content == HELLO
    assert backend.attempts == 3
    assert backend.sleeps == [0, 0.5]
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


async def test_retries_exhausted(http_server: UvicornServer) -> None:
    backend = async_servers.ScriptedBackend(httpcore_fast.AnyIOBackend(), failures=3)
    async with httpcore_fast.AsyncConnectionPool(retries=2, network_backend=backend) as pool:
        with pytest.raises(httpcore_fast.ConnectError, match="scripted failure 3"):
            await pool.request("GET", http_server.url("/"))
        assert pool.connections == []
        # no retries by default, and the pool is fine afterwards
        assert (await pool.request("GET", http_server.url("/"))).content == HELLO
    assert backend.attempts == 4


async def test_retries_with_real_backoff_against_a_closed_port(
    closed_port: int, network_backend: Backend
) -> None:
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    async with httpcore_fast.AsyncConnectionPool(
        retries=1, network_backend=network_backend
    ) as pool:
        started = time.monotonic()
        with pytest.raises(httpcore_fast.ConnectError):
            await pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"trace": trace}
            )
        assert time.monotonic() - started < 3
    assert events == [
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
async def test_unsupported_protocol(url: str, message: str) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore_fast.UnsupportedProtocol) as info:
            await pool.request("GET", url)
        assert str(info.value) == message
        with pytest.raises(httpcore_fast.UnsupportedProtocol):
            async with pool.stream("GET", url):
                pass  # pragma: no cover - never entered
        assert repr(pool) == IDLE_POOL.format(0)


# --- servers that close, misbehave or hang up ---------------------------------------------------


async def test_server_closes_idle_keepalive_connection(scripted_server: Any) -> None:
    idle = threading.Event()
    closed = threading.Event()

    def answer_once_then_close_when_idle(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(http_response(b"first"))
        idle.wait(5)
        conn.close()
        closed.set()

    server = scripted_server(first_connection_then(answer_once_then_close_when_idle))
    async with httpcore_fast.AsyncConnectionPool() as pool:
        assert (await pool.request("GET", server.url("/1"))).content == b"first"
        old = pool.connections[0]
        assert old.is_idle()
        idle.set()
        await wait_until(closed.is_set)
        await wait_until(old.has_expired)  # the FIN has reached the client socket
        response = await pool.request("GET", server.url("/2"))
        assert response.content == b"fresh"
        assert old.is_closed()
        assert len(pool.connections) == 1 and pool.connections[0] is not old
    assert server.connection_count == 2


async def test_connection_close_header_is_honoured(scripted_server: Any) -> None:
    def answer_with_close(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.send(http_response(b"bye", headers=[(b"Connection", b"close")]))

    server = scripted_server(answer_with_close)
    async with httpcore_fast.AsyncConnectionPool() as pool:
        for _ in range(3):
            assert (await pool.request("GET", server.url("/"))).content == b"bye"
            assert pool.connections == []
    assert server.connection_count == 3
    await wait_until(lambda: all(conn.eof.is_set() for conn in server.connections))


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(http_response(b"stale"), id="a-whole-second-response"),
        pytest.param(b"junk\r\n", id="junk"),
        pytest.param(b"H", id="one-byte"),
    ],
)
async def test_leftover_bytes_mean_the_connection_is_not_reused(
    scripted_server: Any, extra: bytes
) -> None:
    def answer_with_leftovers(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(http_response(b"first") + extra)
        while conn.read_request() is not None:  # should the client (wrongly) come back
            conn.send(http_response(b"reused"))

    server = scripted_server(first_connection_then(answer_with_leftovers))
    async with httpcore_fast.AsyncConnectionPool() as pool:
        assert (await pool.request("GET", server.url("/1"))).content == b"first"
        second = await pool.request("GET", server.url("/2"))
        assert (second.status, second.content) == (200, b"fresh")
        assert len(pool.connections) == 1
    assert server.connection_count == 2
    await wait_until(server.connections[0].eof.is_set)
    assert len(server.connections[0].requests) == 1


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="not-http"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", id="signed-length"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
            id="hex-prefix-chunk",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nok\r\n0\r\n\r\n",
            id="length-and-chunked",
        ),
    ],
)
async def test_malformed_response_is_remote_protocol_error(
    scripted_server: Any, raw: bytes
) -> None:
    def malformed(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(raw)
        conn.wait_for_eof(5)

    server = scripted_server(first_connection_then(malformed))
    async with httpcore_fast.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError) as info:
            await pool.request("GET", server.url("/bad"), extensions={"timeout": {"read": 5}})
        assert type(info.value) is httpcore_fast.RemoteProtocolError
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)
        assert (await pool.request("GET", server.url("/good"))).content == b"fresh"
    assert server.connection_count == 2


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", id="inside-head"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", id="short-body"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", id="no-last-chunk"
        ),
    ],
)
async def test_server_disconnects_mid_response(scripted_server: Any, partial: bytes) -> None:
    def partial_then_hang_up(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        if partial:
            conn.send(partial)
        conn.close()

    server = scripted_server(first_connection_then(partial_then_hang_up))
    async with httpcore_fast.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError) as info:
            await pool.request("GET", server.url("/"))
        if not partial:
            assert str(info.value) == "Server disconnected without sending a response."
        assert pool.connections == []
        assert (await pool.request("GET", server.url("/"))).content == b"fresh"
    assert server.connection_count == 2


async def test_http10_close_delimited_body(scripted_server: Any) -> None:
    def close_delimited(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        conn.send(b"close-")
        conn.send(b"delimited")
        conn.close()

    server = scripted_server(first_connection_then(close_delimited))
    async with httpcore_fast.AsyncConnectionPool() as pool:
        response = await pool.request("GET", server.url("/"))
        assert response.content == b"close-delimited"
        assert response.extensions["http_version"] == b"HTTP/1.0"
        assert pool.connections == []
        assert (await pool.request("GET", server.url("/"))).content == b"fresh"


async def test_no_body_for_head_304_and_204_despite_content_length(scripted_server: Any) -> None:
    def reply_in_turn(conn: ServerConnection) -> None:
        for raw in (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            http_response(b"after"),
        ):
            if conn.read_request() is None:
                return
            conn.send(raw)
        conn.wait_for_eof(5)

    server = scripted_server(reply_in_turn)
    timeout = {"timeout": {"read": 2}}
    async with httpcore_fast.AsyncConnectionPool() as pool:
        head = await pool.request("HEAD", server.url("/"), extensions=timeout)
        assert (head.status, head.content) == (200, b"")
        cached = await pool.request("GET", server.url("/"), extensions=timeout)
        assert (cached.status, cached.content) == (304, b"")
        empty = await pool.request("DELETE", server.url("/"), extensions=timeout)
        assert (empty.status, empty.content) == (204, b"")
        assert (await pool.request("GET", server.url("/"))).content == b"after"
        assert len(pool.connections) == 1
    assert server.connection_count == 1


async def test_switching_protocols_hands_over_the_stream(scripted_server: Any) -> None:
    def upgrade(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: Upgrade\r\n\r\n"
            b"early bytes"
        )
        assert conn.read_until(b"ping") == b"ping"
        conn.send(b"pong")
        conn.wait_for_eof(5)

    server = scripted_server(upgrade)
    async with httpcore_fast.AsyncConnectionPool() as pool:
        async with pool.stream(
            "GET", server.url("/"), headers=[(b"Upgrade", b"custom"), (b"Connection", b"Upgrade")]
        ) as response:
            assert response.status == 101
            stream = response.extensions["network_stream"]
            received = b""
            while len(received) < len(b"early bytes"):
                chunk = await stream.read(1024, timeout=5)
                assert chunk
                received += chunk
            assert received == b"early bytes"
            await stream.write(b"ping", timeout=5)
            assert await stream.read(1024, timeout=5) == b"pong"
        assert pool.connections == []

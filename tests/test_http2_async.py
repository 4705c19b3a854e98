"""HTTP/2 through the async pool against real servers on loopback, on asyncio and trio.

hypercorn covers ALPN (h2, and the fall back to HTTP/1.1), prior knowledge (h2c), large
bodies and bursts; :class:`tests.h2_servers.H2Server` the failure modes: GOAWAY every few
streams, small stream limits, RST_STREAM, REFUSED_STREAM, a response that never ends.
"""

from __future__ import annotations

import asyncio
import ssl
import typing

import anyio
import pytest

import httpcore_fast as httpcore

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server, HypercornServer

from tests.async_servers import wait_until

pytest_plugins = ["tests.h2_servers"]
pytestmark = pytest.mark.network

CANCEL = 0x8  # RST_STREAM error code (RFC 9113 §7)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return typing.cast(str, request.param)


def h2c_pool(**kwargs: typing.Any) -> httpcore.AsyncConnectionPool:
    return httpcore.AsyncConnectionPool(http1=False, http2=True, **kwargs)


async def gather(
    count: int, fn: typing.Callable[[int], typing.Coroutine[typing.Any, typing.Any, None]]
) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(fn, i)


@pytest.mark.anyio
async def test_alpn_negotiates_h2(
    hypercorn_tls: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    async with httpcore.AsyncConnectionPool(
        ssl_context=h2_client_ssl_context, http2=True
    ) as pool:
        response = await pool.request("GET", hypercorn_tls.url("/"))
        assert response.status == 200
        assert response.content == b"Hello, world!"
        assert (b"content-length", b"13") in response.headers
        assert (b"x-http-version", b"2") in response.headers
        extensions = response.extensions
        assert extensions["http_version"] == b"HTTP/2"
        assert extensions["stream_id"] == 1
        assert "reason_phrase" not in extensions
        assert extensions["network_stream"].get_extra_info("ssl_object") is not None
        (connection,) = pool.connections
        origin = f"'https://127.0.0.1:{hypercorn_tls.port}'"
        assert connection.info() == f"{origin}, HTTP/2, IDLE, Request Count: 1"
        assert repr(connection) == (
            f"<AsyncHTTPConnection [{origin}, HTTP/2, IDLE, Request Count: 1]>"
        )
        response = await pool.request("GET", hypercorn_tls.url("/"))
        assert response.extensions["stream_id"] == 3
        assert connection.info() == f"{origin}, HTTP/2, IDLE, Request Count: 2"


@pytest.mark.anyio
async def test_alpn_falls_back_to_http11(
    hypercorn_tls_http11: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    async with httpcore.AsyncConnectionPool(
        ssl_context=h2_client_ssl_context, http2=True
    ) as pool:
        response = await pool.request("GET", hypercorn_tls_http11.url("/"))
        assert response.content == b"Hello, world!"
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert (b"x-http-version", b"1.1") in response.headers


@pytest.mark.anyio
async def test_h2c_prior_knowledge(hypercorn_h2c: HypercornServer) -> None:
    async with h2c_pool() as pool:
        response = await pool.request("GET", hypercorn_h2c.url("/"))
        assert response.content == b"Hello, world!"
        assert response.extensions["http_version"] == b"HTTP/2"
        assert (b"x-http-version", b"2") in response.headers
    # Without http1=False, http:// stays HTTP/1.1.
    async with httpcore.AsyncConnectionPool(http2=True) as pool:
        response = await pool.request("GET", hypercorn_h2c.url("/"))
        assert response.extensions["http_version"] == b"HTTP/1.1"


@pytest.mark.anyio
async def test_large_bodies_both_ways(hypercorn_h2c: HypercornServer) -> None:
    upload = hypercorn_h2c.pattern(3 * 1024 * 1024 + 17)
    async with h2c_pool() as pool:
        response = await pool.request("POST", hypercorn_h2c.url("/echo"), content=upload)
        assert response.content == upload

        async def chunks() -> typing.AsyncIterator[bytes]:
            for start in range(0, len(upload), 100_000):
                yield upload[start : start + 100_000]

        response = await pool.request("POST", hypercorn_h2c.url("/echo"), content=chunks())
        assert response.content == upload
        size = 5 * 1024 * 1024
        response = await pool.request("GET", hypercorn_h2c.url(f"/large?size={size}"))
        assert response.content == hypercorn_h2c.pattern(size)
        assert len(pool.connections) == 1


@pytest.mark.anyio
async def test_burst_of_first_requests_opens_one_connection(
    hypercorn_tls: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    async with httpcore.AsyncConnectionPool(
        ssl_context=h2_client_ssl_context, http2=True
    ) as pool:
        stream_ids = []

        async def fetch(i: int) -> None:
            response = await pool.request("GET", hypercorn_tls.url("/slow?delay=0.05"))
            assert response.content == b"slow"
            stream_ids.append(response.extensions["stream_id"])

        await gather(20, fetch)
        assert len(pool.connections) == 1
        assert sorted(stream_ids) == list(range(1, 41, 2))


@pytest.mark.anyio
async def test_multiplexed_requests_share_one_connection(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:

        async def fetch(i: int) -> None:
            response = await pool.request("GET", server.url(f"/delay/{100 + i}"))
            assert response.content == f"/delay/{100 + i}".encode()

        await gather(30, fetch)
        assert len(pool.connections) == 1
        assert server.connections == 1
        assert server.max_open > 10  # they really were in flight together


@pytest.mark.anyio
@pytest.mark.parametrize("limit", [1, 2])
async def test_server_stream_limit_is_respected(h2_server: typing.Any, limit: int) -> None:
    server: H2Server = h2_server(max_streams=limit)
    async with h2c_pool() as pool:
        done = []

        async def fetch(i: int) -> None:
            response = await pool.request("GET", server.url(f"/delay/{20}?{i}"))
            assert response.status == 200
            done.append(i)

        await gather(12, fetch)
        assert sorted(done) == list(range(12))
        assert server.max_open == limit
        assert server.connections == 1
        assert len(pool.connections) == 1


@pytest.mark.anyio
async def test_goaway_every_few_streams_loses_no_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(goaway_every=5)
    async with h2c_pool(max_connections=4) as pool:
        done = []

        async def fetch(i: int) -> None:
            response = await pool.request("GET", server.url(f"/delay/{i % 7 * 5}?{i}"))
            assert response.content == f"/delay/{i % 7 * 5}?{i}".encode()
            done.append(i)

        await gather(60, fetch)
        assert sorted(done) == list(range(60))
        assert server.connections >= 60 // 5
        # Connections that were told to go away are not kept.
        assert all(not connection.is_closed() for connection in pool.connections)


@pytest.mark.anyio
async def test_idle_connection_closed_by_goaway_is_replaced(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(goaway_every=1)
    async with h2c_pool() as pool:
        for i in range(5):
            response = await pool.request("GET", server.url(f"/{i}"))
            assert response.content == f"path=/{i}".encode()
            # the GOAWAY (sent before the response) retires the connection
            await wait_until(lambda: all(c.has_expired() for c in pool.connections))
        assert server.connections == 5
        assert len(pool.connections) <= 1


@pytest.mark.anyio
async def test_rst_stream_fails_only_that_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        outcomes: dict[int, object] = {}

        async def fetch(i: int) -> None:
            path = "/reset" if i % 3 == 0 else f"/delay/30?{i}"
            try:
                response = await pool.request("GET", server.url(path))
            except httpcore.RemoteProtocolError as exc:
                outcomes[i] = exc
            else:
                outcomes[i] = response.status

        await gather(9, fetch)
        for i, outcome in outcomes.items():
            if i % 3 == 0:
                assert isinstance(outcome, httpcore.RemoteProtocolError)
            else:
                assert outcome == 200
        assert len(outcomes) == 9
        assert server.connections == 1
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"


@pytest.mark.anyio
async def test_refused_stream_is_retried(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        response = await pool.request("GET", server.url("/refuse-once/a"))
        assert response.content == b"path=/refuse-once/a"
        assert server.requests.count("/refuse-once/a") == 2


@pytest.mark.anyio
async def test_trailers_are_accepted(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        response = await pool.request("GET", server.url("/trailers"))
        assert response.content == b"with trailers"
        response = await pool.request("GET", server.url("/next"))
        assert response.content == b"path=/next"


@pytest.mark.anyio
async def test_cancel_mid_stream_resets_only_that_stream(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(max_streams=1)
    async with h2c_pool() as pool:
        with anyio.move_on_after(0.3) as scope:
            async with pool.stream("GET", server.url("/hang")) as response:
                async for chunk in response.aiter_stream():
                    assert chunk == b"first part"
        assert scope.cancelled_caught
        # The single stream the server allows is free again, on the same connection.
        with anyio.fail_after(5):
            response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert server.connections == 1
        assert CANCEL in server.resets


@pytest.mark.anyio
async def test_read_timeout_fails_only_its_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        results: dict[str, object] = {}

        async def slow() -> None:
            try:
                await pool.request(
                    "GET", server.url("/delay/2000"), extensions={"timeout": {"read": 0.2}}
                )
            except httpcore.ReadTimeout as exc:
                results["slow"] = exc

        async def fast() -> None:
            response = await pool.request("GET", server.url("/delay/400"))
            results["fast"] = response.content

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            tg.start_soon(fast)
        assert isinstance(results["slow"], httpcore.ReadTimeout)
        assert results["fast"] == b"/delay/400"
        # The same connection takes the next request; only the slow stream was reset.
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert server.connections == 1
        assert server.reset_paths == [("/delay/2000", CANCEL)]


@pytest.mark.anyio
async def test_stream_limit_wait_honours_pool_timeout(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(max_streams=1)
    async with h2c_pool() as pool:
        await pool.request("GET", server.url("/warm-up"))  # SETTINGS known
        async with pool.stream("GET", server.url("/hang")):
            with pytest.raises(httpcore.PoolTimeout):
                await pool.request(
                    "GET", server.url("/queued"), extensions={"timeout": {"pool": 0.1}}
                )
        response = await pool.request("GET", server.url("/after"))
        assert response.status == 200


@pytest.mark.anyio
async def test_keepalive_expiry(hypercorn_h2c: HypercornServer) -> None:
    async with h2c_pool(keepalive_expiry=1.0) as pool:
        await pool.request("GET", hypercorn_h2c.url("/"))
        (first,) = pool.connections
        assert not first.has_expired()
        await wait_until(first.has_expired, timeout=10)
        await pool.request("GET", hypercorn_h2c.url("/"))
        assert pool.connections[0] is not first
        assert len(pool.connections) == 1


@pytest.mark.anyio
async def test_trace_events(hypercorn_h2c: HypercornServer) -> None:
    events: list[tuple[str, dict[str, typing.Any]]] = []

    async def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    async with h2c_pool() as pool:
        await pool.request("GET", hypercorn_h2c.url("/"), extensions={"trace": trace})
        names = [name for name, _ in events]
        assert names[:2] == ["connection.connect_tcp.started", "connection.connect_tcp.complete"]
        http2 = [name for name in names if name.startswith("http2.")]
        assert http2[:8] == [
            "http2.send_connection_init.started",
            "http2.send_connection_init.complete",
            "http2.send_request_headers.started",
            "http2.send_request_headers.complete",
            "http2.send_request_body.started",
            "http2.send_request_body.complete",
            "http2.receive_response_headers.started",
            "http2.receive_remote_settings.started",
        ]
        assert http2[-4:] == [
            "http2.receive_response_body.started",
            "http2.receive_response_body.complete",
            "http2.response_closed.started",
            "http2.response_closed.complete",
        ]
        info = dict(events)
        assert info["http2.send_request_headers.started"]["stream_id"] == 1
        status, headers = info["http2.receive_response_headers.complete"]["return_value"]
        assert status == 200 and (b"content-length", b"13") in headers
        assert info["http2.response_closed.started"] == {"stream_id": 1}

        events.clear()
        await pool.request("GET", hypercorn_h2c.url("/"), extensions={"trace": trace})
        assert "http2.send_connection_init.started" not in [name for name, _ in events]


@pytest.mark.anyio
async def test_request_fields_lowercase_and_credentials_never_indexed(
    h2_server: typing.Any,
) -> None:
    """h2's own normalisation is off (CONFIG): names are lowercased, connection-specific
    fields dropped and credentials sent as never-indexed literals here."""
    server: H2Server = h2_server()
    headers = [
        (b"X-Mixed-Case", b"1"),
        (b"Authorization", b"Bearer secret"),
        (b"Cookie", b"short=1"),
        (b"Cookie", b"a-long-cookie=0123456789abcdef"),
        (b"Connection", b"keep-alive"),
        (b"TE", b"gzip"),
    ]
    async with h2c_pool() as pool:
        for _ in range(2):  # the second time, through hpack's dynamic table
            response = await pool.request("GET", server.url("/fields"), headers=headers)
            assert response.content == b"path=/fields"
            fields = server.request_fields["/fields"]
            assert [name for name, _ in fields] == [
                b":method", b":authority", b":scheme", b":path",
                b"x-mixed-case", b"authorization", b"cookie", b"cookie",
            ]
            kinds = {name + b"=" + value: type(field).__name__ for field in fields
                     for name, value in [field]}
            assert kinds[b"authorization=Bearer secret"] == "NeverIndexedHeaderTuple"
            assert kinds[b"cookie=short=1"] == "NeverIndexedHeaderTuple"
            assert kinds[b"cookie=a-long-cookie=0123456789abcdef"] == "HeaderTuple"
            assert kinds[b"x-mixed-case=1"] == "HeaderTuple"
        with pytest.raises(httpcore.LocalProtocolError):
            await pool.request("CONNECT", server.url("/"))
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    assert server.errors == []


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/bad-value", "/bad-status"])
async def test_invalid_response_head_is_a_remote_protocol_error(
    h2_server: typing.Any, path: str
) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        with pytest.raises(httpcore.RemoteProtocolError, match="Invalid HTTP/2"):
            await pool.request("GET", server.url(path))
        # Only that stream failed: the connection goes on.
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert server.connections == 1


@pytest.mark.anyio
async def test_concurrent_requests_share_writes(h2_server: typing.Any) -> None:
    """Requests started while another is about to read leave their frames to its write
    (one write for many streams) — and every one of them is answered."""
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        await pool.request("GET", server.url("/warm-up"))
        (connection,) = pool.connections
        stream = connection._connection._network_stream  # type: ignore[attr-defined]
        writes = []
        write = stream.write

        async def counting_write(data: bytes, timeout: float | None = None) -> None:
            writes.append(len(data))
            await write(data, timeout)

        stream.write = counting_write

        async def fetch(i: int) -> None:
            for j in range(5):
                response = await pool.request("GET", server.url(f"/{i}-{j}"))
                assert response.content == f"path=/{i}-{j}".encode()

        await gather(20, fetch)
        assert len(server.requests) == 101 and server.connections == 1
        assert len(writes) < 100 // 2, writes


@pytest.mark.anyio
async def test_cancellation_resets_only_its_stream(h2_server: typing.Any) -> None:
    """A request cancelled while it waits for its response (the server has it): only its
    stream is reset, a request in flight beside it completes, and the next request uses
    the same connection. (Under trio the RST_STREAM leaves with the connection's next
    write: a cancelled request never waits on a write.)"""
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        await pool.request("GET", server.url("/warm-up"))
        results: dict[str, object] = {}
        scope = anyio.CancelScope()

        async def cancelled() -> None:
            with scope:
                await pool.request("GET", server.url("/delay/5000"))
            results["cancelled"] = scope.cancelled_caught

        async def other() -> None:
            results["other"] = (await pool.request("GET", server.url("/delay/300"))).content

        async with anyio.create_task_group() as tg:
            tg.start_soon(cancelled)
            tg.start_soon(other)
            await wait_until(lambda: "/delay/5000" in server.requests)
            scope.cancel()
        assert results == {"cancelled": True, "other": b"/delay/300"}
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert len(pool.connections) == 1
    assert server.connections == 1
    assert server.reset_paths == [("/delay/5000", CANCEL)]


@pytest.mark.anyio
async def test_write_interrupted_by_cancellation(
    h2_server: typing.Any, anyio_backend: str
) -> None:
    """A cancellation that interrupts a write after the stream took the bytes (as
    asyncio's transports always do: only the wait for the buffer to drain can be
    interrupted). asyncio: the framing is intact, the connection goes on, and only the
    cancelled stream is reset. trio: a socket write is interrupted only while part of the
    buffer may still be unsent, so the connection is failed and the next request opens a
    new one."""
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        await pool.request("GET", server.url("/warm-up"))
        (connection,) = pool.connections
        stream = connection._connection._network_stream  # type: ignore[attr-defined]
        write = stream.write
        cut: list[bool] = []

        async def write_then_hang(data: bytes, timeout: float | None = None) -> None:
            await write(data, timeout)
            if cut and cut.pop():
                await anyio.sleep_forever()

        stream.write = write_then_hang
        with anyio.CancelScope() as scope:
            cut.append(True)
            async with anyio.create_task_group() as tg:
                tg.start_soon(pool.request, "GET", server.url("/delay/5000"))
                await wait_until(lambda: "/delay/5000" in server.requests)
                scope.cancel()
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    if anyio_backend == "asyncio":
        assert server.connections == 1
        assert server.reset_paths == [("/delay/5000", CANCEL)]
    else:
        assert server.connections == 2


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "headers", "error"), [
    # The server resets the stream while the body is sent (beyond the first window).
    ("/reset-early", [], httpcore.RemoteProtocolError),
    # More body than its Content-Length (RFC 9113 §8.1.1).
    ("/echo", [(b"Content-Length", b"5")], httpcore.LocalProtocolError),
])
async def test_request_body_is_closed_when_sending_it_fails(
    h2_server: typing.Any,
    path: str,
    headers: list[tuple[bytes, bytes]],
    error: type[Exception],
) -> None:
    """An async generator body that is not sent to its end is closed at once: its
    ``finally`` runs, and trio has no unclosed generator to warn about."""
    server: H2Server = h2_server()
    events = []

    async def body() -> typing.AsyncIterator[bytes]:
        try:
            for _ in range(100):  # 1.6 MB: more than the server's first stream window
                yield b"x" * 16384
            events.append("exhausted")
        finally:
            events.append("finally")

    async with h2c_pool() as pool:
        with pytest.raises(error):
            await pool.request("POST", server.url(path), headers=headers, content=body())
        assert events == ["finally"]
        response = await pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    assert server.connections == 1


@pytest.mark.anyio
async def test_is_connected(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    async with h2c_pool() as pool:
        await pool.request("GET", server.url("/"))
        (connection,) = pool.connections
        http2_connection = connection._connection  # type: ignore[attr-defined]
        assert isinstance(http2_connection, httpcore.AsyncHTTP2Connection)
        assert http2_connection.is_connected() and connection.is_connected()
    assert not http2_connection.is_connected() and http2_connection.is_closed()


@pytest.mark.parametrize("backend", ["native", "anyio"])
def test_idle_connection_of_a_closed_event_loop_is_replaced(
    h2_server: typing.Any, backend: str
) -> None:
    """A pool used across two ``asyncio.run()`` calls: the idle HTTP/2 connection of the
    first (its loop closed) is discarded and the second request opens a new one."""
    server: H2Server = h2_server()
    network_backend = httpcore.AnyIOBackend() if backend == "anyio" else None
    pool = httpcore.AsyncConnectionPool(
        http1=False, http2=True, network_backend=network_backend
    )
    first: list[typing.Any] = []

    async def run(i: int) -> None:
        response = await pool.request("GET", server.url(f"/run/{i}"))
        assert response.content == f"path=/run/{i}".encode()
        assert response.extensions["http_version"] == b"HTTP/2"
        first.extend(pool.connections)

    asyncio.run(run(1))
    asyncio.run(run(2))
    assert first[0].has_expired() and first[0].is_closed()
    asyncio.run(pool.aclose())
    assert server.connections == 2
    assert server.requests == ["/run/1", "/run/2"]

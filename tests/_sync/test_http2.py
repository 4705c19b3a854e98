"""HTTP/2 through the pool against real servers on loopback.

hypercorn covers ALPN (h2, and the fall back to HTTP/1.1), prior knowledge (h2c), large
bodies and bursts; :class:`tests.h2_servers.H2Server` the failure modes: GOAWAY every few
streams, small stream limits, RST_STREAM, REFUSED_STREAM, a response that never ends.
Concurrency: tasks on asyncio and trio, threads on the sync side (:mod:`tests.concurrency`).

Generated from ``tests/_async/test_http2.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import ssl
import typing
from contextlib import closing

import importlib.util
import pathlib
import sys

import pytest

import httpcore_fast as httpcore
from tests._sync.support import wait_until
from tests.concurrency import Nursery

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server, HypercornServer

pytest_plugins = ["tests.h2_servers"]
# Once per kernel: the Cython kernel brings the native HTTP/2 layer, the Python one h2.
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("kernel")]

CANCEL = 0x8  # RST_STREAM error code (RFC 9113 §7)


def h2c_pool(**kwargs: typing.Any) -> httpcore.ConnectionPool:
    return httpcore.ConnectionPool(http1=False, http2=True, **kwargs)


def gather(
    count: int, fn: typing.Callable[[int], typing.Awaitable[typing.Any]]
) -> None:
    """``fn(i)`` for i in range(count), all at once (tasks, or threads)."""
    with Nursery() as nursery:
        for i in range(count):
            nursery.start_soon(fn, i)


def test_alpn_negotiates_h2(
    hypercorn_tls: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(
        ssl_context=h2_client_ssl_context, http2=True
    ) as pool:
        response = pool.request("GET", hypercorn_tls.url("/"))
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
            f"<HTTPConnection [{origin}, HTTP/2, IDLE, Request Count: 1]>"
        )
        assert connection.is_available() and connection.is_idle()
        assert not connection.has_expired() and not connection.is_closed()
        response = pool.request("GET", hypercorn_tls.url("/"))
        assert response.extensions["stream_id"] == 3
        assert connection.info() == f"{origin}, HTTP/2, IDLE, Request Count: 2"


def test_alpn_falls_back_to_http11(
    hypercorn_tls_http11: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(
        ssl_context=h2_client_ssl_context, http2=True
    ) as pool:
        response = pool.request("GET", hypercorn_tls_http11.url("/"))
        assert response.content == b"Hello, world!"
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert (b"x-http-version", b"1.1") in response.headers


def test_h2c_prior_knowledge(hypercorn_h2c: HypercornServer) -> None:
    with h2c_pool() as pool:
        response = pool.request("GET", hypercorn_h2c.url("/"))
        assert response.content == b"Hello, world!"
        assert response.extensions["http_version"] == b"HTTP/2"
        assert (b"x-http-version", b"2") in response.headers
    # Without http1=False, http:// stays HTTP/1.1.
    with httpcore.ConnectionPool(http2=True) as pool:
        response = pool.request("GET", hypercorn_h2c.url("/"))
        assert response.extensions["http_version"] == b"HTTP/1.1"


def test_large_bodies_both_ways(hypercorn_h2c: HypercornServer) -> None:
    upload = hypercorn_h2c.pattern(3 * 1024 * 1024 + 17)
    with h2c_pool() as pool:
        response = pool.request("POST", hypercorn_h2c.url("/echo"), content=upload)
        assert response.extensions["http_version"] == b"HTTP/2"
        assert response.content == upload

        def chunks() -> typing.Iterator[bytes]:
            for start in range(0, len(upload), 100_000):
                yield upload[start : start + 100_000]

        response = pool.request("POST", hypercorn_h2c.url("/echo"), content=chunks())
        assert response.content == upload
        size = 5 * 1024 * 1024
        response = pool.request("GET", hypercorn_h2c.url(f"/large?size={size}"))
        assert response.content == hypercorn_h2c.pattern(size)
        assert len(pool.connections) == 1


def test_burst_of_first_requests_opens_one_connection(
    hypercorn_tls: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(
        ssl_context=h2_client_ssl_context, http2=True
    ) as pool:
        stream_ids = []

        def fetch(i: int) -> None:
            response = pool.request("GET", hypercorn_tls.url("/slow?delay=0.05"))
            assert response.content == b"slow"
            stream_ids.append(response.extensions["stream_id"])

        gather(20, fetch)
        assert len(pool.connections) == 1
        assert sorted(stream_ids) == list(range(1, 41, 2))


def test_multiplexed_requests_share_one_connection(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:

        def fetch(i: int) -> None:
            response = pool.request("GET", server.url(f"/delay/{100 + i}"))
            assert response.content == f"/delay/{100 + i}".encode()

        gather(30, fetch)
        assert len(pool.connections) == 1
        assert server.connections == 1
        assert server.max_open > 10  # they really were in flight together


@pytest.mark.parametrize("limit", [1, 2])
def test_server_stream_limit_is_respected(h2_server: typing.Any, limit: int) -> None:
    server: H2Server = h2_server(max_streams=limit)
    with h2c_pool() as pool:
        done = []

        def fetch(i: int) -> None:
            response = pool.request("GET", server.url(f"/delay/{20}?{i}"))
            assert response.content == f"/delay/20?{i}".encode()
            done.append(i)

        gather(12, fetch)
        assert sorted(done) == list(range(12))
        assert server.max_open == limit
        assert server.connections == 1
        assert len(pool.connections) == 1


def test_goaway_every_few_streams_loses_no_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(goaway_every=5)
    with h2c_pool(max_connections=4) as pool:
        done = []

        def fetch(i: int) -> None:
            response = pool.request("GET", server.url(f"/delay/{i % 7 * 5}?{i}"))
            assert response.content == f"/delay/{i % 7 * 5}?{i}".encode()
            done.append(i)

        gather(60, fetch)
        assert sorted(done) == list(range(60))
        assert server.connections >= 60 // 5
        # A connection told to go away is closed when its last stream ends and leaves the
        # pool: each one still kept was never told (it takes new streams) and is open.
        assert len(pool.connections) <= 4
        assert all(
            connection.is_available() and not connection.is_closed()
            for connection in pool.connections
        )


def test_idle_connection_closed_by_goaway_is_replaced(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(goaway_every=1)
    with h2c_pool() as pool:
        for i in range(5):
            response = pool.request("GET", server.url(f"/{i}"))
            assert response.content == f"path=/{i}".encode()
            # the GOAWAY (sent before the response) retires the connection
            wait_until(lambda: all(c.has_expired() for c in pool.connections))
        assert server.connections == 5
        assert len(pool.connections) <= 1


def test_rst_stream_fails_only_that_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        outcomes: dict[int, object] = {}

        def fetch(i: int) -> None:
            path = "/reset" if i % 3 == 0 else f"/delay/30?{i}"
            try:
                response = pool.request("GET", server.url(path))
            except httpcore.RemoteProtocolError as exc:
                outcomes[i] = exc
            else:
                outcomes[i] = response.status

        gather(9, fetch)
        for i, outcome in outcomes.items():
            if i % 3 == 0:
                assert isinstance(outcome, httpcore.RemoteProtocolError)
            else:
                assert outcome == 200
        assert len(outcomes) == 9
        assert server.connections == 1
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"


def test_refused_stream_is_retried(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        response = pool.request("GET", server.url("/refuse-once/a"))
        assert response.content == b"path=/refuse-once/a"
        assert server.requests.count("/refuse-once/a") == 2

        # refused streams beside reset ones, at once: each gets its own outcome
        def fetch(i: int) -> None:
            path = "/reset" if i % 2 == 0 else f"/refuse-once/{i}"
            try:
                outcomes[i] = (pool.request("GET", server.url(path))).content
            except httpcore.RemoteProtocolError as exc:
                outcomes[i] = exc

        outcomes: dict[int, object] = {}
        gather(8, fetch)
        for i in range(8):
            if i % 2 == 0:
                assert isinstance(outcomes[i], httpcore.RemoteProtocolError)
            else:
                assert outcomes[i] == f"path=/refuse-once/{i}".encode()
        assert server.connections == 1


def test_trailers_are_accepted(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        response = pool.request("GET", server.url("/trailers"))
        assert response.content == b"with trailers"
        response = pool.request("GET", server.url("/next"))
        assert response.content == b"path=/next"


def test_closing_a_response_early_resets_its_stream(h2_server: typing.Any) -> None:
    """The body is an iterator object, not a generator: a reader that stops early leaves
    nothing suspended behind (trio would warn when collecting it; warnings are errors)."""
    server: H2Server = h2_server(max_streams=1)
    with h2c_pool() as pool:
        with pool.stream("GET", server.url("/hang")) as response:
            with closing(response.iter_stream()) as parts:
                assert parts.__next__() == b"first part"
        # The single stream the server allows is free again, on the same connection.
        response = pool.request("GET", server.url("/large/300000"))
        assert response.content == server.pattern(300000)
        assert server.connections == 1
        assert CANCEL in server.resets


def test_a_body_far_beyond_the_receive_window_gets_credit_in_batches(
    h2_server: typing.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body 15 times the receive window we advertise: the server keeps getting credit
    as the body is consumed (no stall: the read timeout would fail the request), in
    WINDOW_UPDATEs for about half a window each (RFC 9113 §6.9), not one per frame; the
    body arrives whole, in parts larger than a frame."""
    from httpcore_fast._core import http2 as core_module

    window = 64 * 1024
    monkeypatch.setattr(core_module, "RECEIVE_WINDOW", window)
    server: H2Server = h2_server()
    size = 15 * window
    with h2c_pool() as pool:
        with pool.stream(
            "GET", server.url(f"/large/{size}"), extensions={"timeout": {"read": 10}}
        ) as response:
            parts = [part for part in response.iter_stream()]
    assert b"".join(parts) == server.pattern(size)
    stream_updates = [delta for stream_id, delta in server.window_updates if stream_id]
    assert sum(stream_updates) >= size - window  # all the credit the body needed
    assert len(stream_updates) <= 2 * size // window + 1  # 16 KiB frames: 60
    assert len(parts) < size // 16384


def _h2_response(stream_id: int, body: bytes, settings: bool = False) -> bytes:
    """A server's frames for one response (RFC 9113 §4.1): SETTINGS first if asked,
    HEADERS ``:status 200`` (HPACK static index 8), DATA frames of 16 KiB, END_STREAM."""

    def frame(kind: int, flags: int, payload: bytes) -> bytes:
        return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream_id.to_bytes(
            4, "big") + payload

    frames = [b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"] if settings else []
    frames.append(frame(1, 4, b"\x88"))
    for at in range(0, len(body), 16384):
        frames.append(frame(0, 1 if at + 16384 >= len(body) else 0, body[at:at + 16384]))
    return b"".join(frames)


def test_reads_grow_while_they_fill_their_buffer_and_shrink_back() -> None:
    """A body that keeps every read's buffer full is read in larger reads (up to
    MAX_READ_NUM_BYTES, so parts larger than 64 KiB); reads that come back short shrink
    the next ones again."""
    asked: list[int] = []

    class Stream(httpcore.MockStream):
        def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
            asked.append(len(buffer))
            return super()._recv_into(buffer, timeout)

    class Backend(httpcore.MockBackend):
        def connect_tcp(self, *args: typing.Any, **kwargs: typing.Any) -> Stream:
            return Stream(list(self._buffer), http2=self._http2)

    big = bytes(range(256)) * 8192  # 2 MiB
    replies = [_h2_response(1, big, settings=True)] + [
        _h2_response(stream_id, b"small") for stream_id in range(3, 13, 2)]
    low, high = (httpcore.HTTP2Connection.READ_NUM_BYTES,
                 httpcore.HTTP2Connection.MAX_READ_NUM_BYTES)
    with httpcore.ConnectionPool(
        http2=True, network_backend=Backend(replies, http2=True)
    ) as pool:
        with pool.stream("GET", "https://example.com/big") as response:
            parts = [part for part in response.iter_stream()]
        assert b"".join(parts) == big and max(map(len, parts)) > low
        after_big = len(asked)
        for _ in range(5):
            assert (pool.request("GET", "https://example.com/")).content == b"small"
    assert asked[0] == low and max(asked) == high
    assert all(asked[i + 1] in (asked[i], min(2 * asked[i], high)) for i in range(after_big - 1))
    assert asked[-1] == low  # short reads: back to the start


def test_read_timeout_fails_only_its_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        results: dict[str, object] = {}

        def fetch(i: int) -> None:
            if i == 0:
                try:
                    pool.request(
                        "GET", server.url("/delay/2000"), extensions={"timeout": {"read": 0.2}}
                    )
                except httpcore.ReadTimeout as exc:
                    results["slow"] = exc
            else:
                response = pool.request("GET", server.url("/delay/400"))
                results["fast"] = response.content

        gather(2, fetch)
        assert isinstance(results["slow"], httpcore.ReadTimeout)
        assert results["fast"] == b"/delay/400"
        # The same connection takes the next request; only the slow stream was reset.
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert server.connections == 1
        assert server.reset_paths == [("/delay/2000", CANCEL)]


def test_stream_limit_wait_honours_pool_timeout(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(max_streams=1)
    with h2c_pool() as pool:
        pool.request("GET", server.url("/warm-up"))  # SETTINGS known
        with pool.stream("GET", server.url("/hang")):
            with pytest.raises(httpcore.PoolTimeout):
                pool.request(
                    "GET", server.url("/queued"), extensions={"timeout": {"pool": 0.1}}
                )
        response = pool.request("GET", server.url("/after"))
        assert response.status == 200


def test_keepalive_expiry(hypercorn_h2c: HypercornServer) -> None:
    with h2c_pool(keepalive_expiry=1.0) as pool:
        pool.request("GET", hypercorn_h2c.url("/"))
        (first,) = pool.connections
        assert not first.has_expired()
        wait_until(first.has_expired, timeout=10)
        pool.request("GET", hypercorn_h2c.url("/"))
        assert pool.connections[0] is not first
        assert len(pool.connections) == 1


def test_trace_of_a_response_closed_before_its_end(h2_server: typing.Any) -> None:
    """Closing early ends the body step (failed with GeneratorExit, as httpcore's body
    generator reports once closed) before the stream's response_closed step."""
    server: H2Server = h2_server()
    events: list[tuple[str, dict[str, typing.Any]]] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    with h2c_pool() as pool:
        with pool.stream("GET", server.url("/hang"), extensions={"trace": trace}) as response:
            with closing(response.iter_stream()) as parts:
                assert parts.__next__() == b"first part"
        http2 = [(name, info) for name, info in events if name.startswith("http2.")]
        assert [name for name, _ in http2[-4:]] == [
            "http2.receive_response_body.started",
            "http2.receive_response_body.failed",
            "http2.response_closed.started",
            "http2.response_closed.complete",
        ]
        assert http2[-4][1]["stream_id"] == 1
        assert type(http2[-3][1]["exception"]) is GeneratorExit


def test_trace_events(hypercorn_h2c: HypercornServer) -> None:
    events: list[tuple[str, dict[str, typing.Any]]] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    with h2c_pool() as pool:
        pool.request("GET", hypercorn_h2c.url("/"), extensions={"trace": trace})
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
        assert "http2.receive_remote_settings.complete" in http2
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
        pool.request("GET", hypercorn_h2c.url("/"), extensions={"trace": trace})
        assert "http2.send_connection_init.started" not in [name for name, _ in events]


def test_request_fields_lowercase_and_credentials_never_indexed(
    h2_server: typing.Any,
) -> None:
    """h2's own normalisation is off (CONFIG): names are lowercased, connection-specific
    fields dropped and credentials sent as never-indexed literals here."""
    server: H2Server = h2_server()
    headers = [
        (b"X-Mixed-Case", b"1"),
        (b"Authorization", b"Bearer secret"),
        (b"Proxy-Authorization", b"Basic eA=="),
        (b"Cookie", b"short=1"),
        (b"Cookie", b"a-long-cookie=0123456789abcdef"),
        (b"Connection", b"keep-alive"),
        (b"TE", b"gzip"),
    ]
    with h2c_pool() as pool:
        for _ in range(2):  # the second time, through hpack's dynamic table
            response = pool.request("GET", server.url("/fields"), headers=headers)
            assert response.content == b"path=/fields"
            fields = server.request_fields["/fields"]
            assert [name for name, _ in fields] == [
                b":method", b":authority", b":scheme", b":path", b"x-mixed-case",
                b"authorization", b"proxy-authorization", b"cookie", b"cookie",
            ]
            kinds = {name + b"=" + value: type(field).__name__ for field in fields
                     for name, value in [field]}
            assert kinds[b"authorization=Bearer secret"] == "NeverIndexedHeaderTuple"
            assert kinds[b"proxy-authorization=Basic eA=="] == "NeverIndexedHeaderTuple"
            assert kinds[b"cookie=short=1"] == "NeverIndexedHeaderTuple"
            assert kinds[b"cookie=a-long-cookie=0123456789abcdef"] == "HeaderTuple"
            assert kinds[b"x-mixed-case=1"] == "HeaderTuple"
        with pytest.raises(httpcore.LocalProtocolError):
            pool.request("CONNECT", server.url("/"))
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    assert server.errors == []


@pytest.mark.parametrize("path", ["/bad-value", "/bad-status"])
def test_invalid_response_head_is_a_remote_protocol_error(
    h2_server: typing.Any, path: str
) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        with pytest.raises(httpcore.RemoteProtocolError, match="Invalid HTTP/2"):
            pool.request("GET", server.url(path))
        # Only that stream failed: the connection goes on.
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert server.connections == 1
    assert server.errors == []


@pytest.mark.parametrize(("path", "headers", "error"), [
    # The server resets the stream while the body is sent (beyond the first window).
    ("/reset-early", [], httpcore.RemoteProtocolError),
    # More body than its Content-Length (RFC 9113 §8.1.1).
    ("/echo", [(b"Content-Length", b"5")], httpcore.LocalProtocolError),
])
def test_request_body_is_closed_when_sending_it_fails(
    h2_server: typing.Any,
    path: str,
    headers: list[tuple[bytes, bytes]],
    error: type[Exception],
) -> None:
    """A generator body that is not sent to its end is closed at once: its ``finally``
    runs (and trio has no unclosed async generator to warn about); the connection goes
    on."""
    server: H2Server = h2_server()
    events = []

    def body() -> typing.Iterator[bytes]:
        try:
            for _ in range(100):  # 1.6 MB: more than the server's first stream window
                yield b"x" * 16384
            events.append("exhausted")
        finally:
            events.append("finally")

    with h2c_pool() as pool:
        with pytest.raises(error):
            pool.request("POST", server.url(path), headers=headers, content=body())
        assert events == ["finally"]
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    assert server.connections == 1


def test_is_connected(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        pool.request("GET", server.url("/"))
        (connection,) = pool.connections
        http2_connection = connection._connection  # type: ignore[attr-defined]
        assert isinstance(http2_connection, httpcore.HTTP2Connection)
        assert http2_connection.is_connected() and connection.is_connected()
    assert not http2_connection.is_connected() and http2_connection.is_closed()


def test_import_without_h2_raises_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without h2 the module fails with ImportError, so that ``httpcore_fast`` falls back
    to its stand-ins."""
    for name in ["h2", "h2.config", "h2.connection", "h2.events", "h2.exceptions",
                 "h2.settings", "h2.errors"]:
        monkeypatch.setitem(sys.modules, name, None)
    import httpcore_fast._sync as package

    path = pathlib.Path(package.__file__).parent / "http2.py"
    spec = importlib.util.spec_from_file_location("httpcore_fast._sync._http2_probe", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError):
        spec.loader.exec_module(module)



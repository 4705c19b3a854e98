"""HTTP/2 trailers, and what the pool's statistics need of HTTP/2 (issue 14, points 7 and
6), against real h2 servers on loopback; asyncio, trio and sync.

* Trailers (RFC 9113 §8.1): ``response.extensions["trailers"]`` once the body has been
  read to its end, from :class:`tests.h2_servers.H2Server` and from :class:`H2Script`, an
  h2 server with h2's outbound header checks off, so that it sends what h2 would refuse to
  (pseudo-header fields in trailers).
* Close reasons: the HTTP/2 connection's ``_close_reason()`` after a GOAWAY, an end of
  file, a protocol error, an expiry, and while usable.
* Retries: a request the server did not process (REFUSED_STREAM, a stream above a GOAWAY's
  last stream, an idle connection the server closed) is the ``http2.request_not_processed``
  trace step, with its DEBUG log line; the pool sends it again.

Generated from ``tests/_async/test_http2_trailers_and_stats.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import typing

import h2.config
import h2.connection
import h2.events
import hyperframe.frame
import pytest

import httpcore_fast as httpcore
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast._limits import ResponseLimits
from tests._sync.support import wait_until
from tests.concurrency import Nursery
from tests.servers import ServerConnection

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server
    from tests.servers import ScriptedServer

pytest_plugins = ["tests.conftest_servers", "tests.h2_servers"]
# Once per kernel: the Cython kernel brings the native HTTP/2 layer, the Python one h2.
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("kernel")]

Events = list[tuple[str, dict[str, typing.Any]]]

# ---------------------------------------------------------------------------------------
# An h2 server script that sends what h2 would not

# Outbound header checks off: trailers may carry pseudo-header fields.
SERVER_CONFIG = h2.config.H2Configuration(
    client_side=False, validate_outbound_headers=False, normalize_outbound_headers=False
)
TRAILERS = {
    "/trailers/several": [(b"x-checksum", b"abc"), (b"x-count", b"2"), (b"x-checksum", b"def")],
    "/trailers/status": [(b"x-checksum", b"abc"), (b":status", b"200")],
    "/trailers/path": [(b":path", b"/"), (b"x-checksum", b"abc")],
}
# A SETTINGS frame of length 1 (RFC 9113 §6.5: a FRAME_SIZE_ERROR).
BAD_FRAME = b"\x00\x00\x01\x04\x00\x00\x00\x00\x00\x00"


class H2Script:
    """A :class:`tests.servers.ScriptedServer` script speaking h2c's server side, one
    connection per call. Paths:

    ====================  ==========================================================
    ``/trailers/<name>``  a body, then the trailer fields ``TRAILERS[path]``
    ``/only-trailers``    a head, then the trailer field ``x-only: 1``, no DATA
    ``/then-close``       a response, then the end of the connection (no GOAWAY)
    ``/garbage``          an invalid frame (a protocol error), then the end
    anything else         ``path=<path>``
    ====================  ==========================================================

    ``goaway_after``: on the first connection, wait for that many requests, then send
    GOAWAY with the first request's stream as the last, answer that one alone and end.
    Records ``paths`` (each request received).
    """

    def __init__(self, goaway_after: int = 0) -> None:
        self.goaway_after = goaway_after
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, conn: ServerConnection) -> None:
        server = h2.connection.H2Connection(config=SERVER_CONFIG)
        server.initiate_connection()
        conn.send(server.data_to_send())
        waiting: list[tuple[int, str]] = []
        goaway_after = self.goaway_after if conn.index == 0 else 0
        deadline = time.monotonic() + 10.0  # no connection outlives a test
        while time.monotonic() < deadline and not conn.server.stopping.is_set():
            try:
                data = conn.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            for event in server.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    path = dict(event.headers)[b":path"].decode()
                    with self.lock:
                        self.paths.append(path)
                    waiting.append((event.stream_id, path))
            if goaway_after:
                if len(waiting) >= goaway_after:
                    stream_id, path = waiting[0]
                    goaway = hyperframe.frame.GoAwayFrame(0, last_stream_id=stream_id)
                    conn.send(server.data_to_send() + goaway.serialize())
                    self._answer(server, stream_id, path)
                    return self._end(conn, server.data_to_send())
            else:
                for stream_id, path in waiting:
                    if path == "/garbage":
                        return self._end(conn, server.data_to_send() + BAD_FRAME)
                    self._answer(server, stream_id, path)
                    if path == "/then-close":
                        return self._end(conn, server.data_to_send())
                waiting.clear()
            conn.send(server.data_to_send())

    @staticmethod
    def _answer(server: h2.connection.H2Connection, stream_id: int, path: str) -> None:
        if path == "/only-trailers":
            server.send_headers(stream_id, [(b":status", b"200")])
            server.send_headers(stream_id, [(b"x-only", b"1")], end_stream=True)
        elif path in TRAILERS:
            server.send_headers(stream_id, [(b":status", b"200")])
            server.send_data(stream_id, b"body")
            server.send_headers(stream_id, TRAILERS[path], end_stream=True)
        else:
            body = b"path=" + path.encode()
            server.send_headers(
                stream_id, [(b":status", b"200"), (b"content-length", b"%d" % len(body))]
            )
            server.send_data(stream_id, body, end_stream=True)

    @staticmethod
    def _end(conn: ServerConnection, data: bytes) -> None:
        """Send ``data``, then end the connection: our side first (the client reads an
        end of file), then read until the client closes (a close with unread bytes would
        reset the connection and could lose what was sent)."""
        conn.send(data)
        conn.sock.shutdown(socket.SHUT_WR)
        conn.wait_for_eof(timeout=5.0)


def h2c_pool(**kwargs: typing.Any) -> httpcore.ConnectionPool:
    return httpcore.ConnectionPool(http1=False, http2=True, **kwargs)


def open_h2(
    port: int, keepalive_expiry: float | None = None
) -> httpcore.HTTP2Connection:
    """An HTTP/2 connection to 127.0.0.1:``port``, without a pool."""
    stream = SyncBackend().connect_tcp("127.0.0.1", port, timeout=5)
    origin = httpcore.Origin(b"http", b"127.0.0.1", port)
    return httpcore.HTTP2Connection(origin, stream, keepalive_expiry)


def not_processed(events: Events) -> list[dict[str, typing.Any]]:
    """The info of each ``http2.request_not_processed.started`` event, checking that each
    is followed by its ``complete``."""
    names = [name for name, _ in events]
    started = [i for i, name in enumerate(names) if name == "http2.request_not_processed.started"]
    for i in started:
        assert names[i + 1] == "http2.request_not_processed.complete"
    return [events[i][1] for i in started]


# ---------------------------------------------------------------------------------------
# Trailers


def test_trailers_after_the_body_is_read(h2_server: typing.Any) -> None:
    """``request()`` reads the body: the trailers are there; a response without any has
    ``[]``; the connection goes on."""
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        response = pool.request("GET", server.url("/trailers"))
        assert response.content == b"with trailers"
        assert response.extensions["trailers"] == [(b"x-checksum", b"42")]
        response = pool.request("GET", server.url("/next"))
        assert response.content == b"path=/next"
        assert response.extensions["trailers"] == []
        assert response.extensions["http_version"] == b"HTTP/2"
    assert server.connections == 1


def test_trailers_appear_at_the_end_of_a_streamed_body(h2_server: typing.Any) -> None:
    """Absent while the body is read (and after the last DATA frame's bytes), present once
    the reader has seen the end."""
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        for path, expected in (("/trailers", [(b"x-checksum", b"42")]), ("/large/300000", [])):
            with pool.stream("GET", server.url(path)) as response:
                assert "trailers" not in response.extensions
                parts = []
                for part in response.iter_stream():
                    assert "trailers" not in response.extensions
                    parts.append(part)
                assert response.extensions["trailers"] == expected
            assert len(b"".join(parts)) == (13 if path == "/trailers" else 300000)
    assert server.connections == 1


def test_no_trailers_when_the_body_is_closed_early(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:
        with pool.stream("GET", server.url("/hang")) as response:
            for part in response.iter_stream():
                assert part == b"first part"
                break
        assert "trailers" not in response.extensions
        response = pool.request("GET", server.url("/after"))
        assert response.extensions["trailers"] == []


def test_trailer_fields_in_order_and_without_data(scripted_server: typing.Any) -> None:
    """Several fields, a name repeated: in the order sent, as sent; trailers right after
    the head (no DATA) are trailers too."""
    server: ScriptedServer = scripted_server(H2Script())
    with h2c_pool() as pool:
        response = pool.request("GET", server.url("/trailers/several"))
        assert response.content == b"body"
        assert response.extensions["trailers"] == TRAILERS["/trailers/several"]
        response = pool.request("GET", server.url("/only-trailers"))
        assert response.content == b""
        assert response.extensions["trailers"] == [(b"x-only", b"1")]
    assert server.connection_count == 1


@pytest.mark.parametrize("path", ["/trailers/status", "/trailers/path"])
def test_pseudo_header_field_in_trailers_fails_only_its_request(
    scripted_server: typing.Any, path: str
) -> None:
    """RFC 9113 §8.1: trailers must not include pseudo-header fields (httpcore drops
    trailers unread). Reading the body fails with ``RemoteProtocolError``; the response
    has no trailers; the connection takes the next request."""
    server: ScriptedServer = scripted_server(H2Script())
    with h2c_pool() as pool:
        with pool.stream("GET", server.url(path)) as response:
            with pytest.raises(httpcore.RemoteProtocolError, match="Pseudo-header field b':"):
                response.read()
        assert "trailers" not in response.extensions
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
        assert len(pool.connections) == 1
    assert server.connection_count == 1


def test_trailers_over_max_trailer_size_fail_their_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool(limits=ResponseLimits(max_trailer_size=100)) as pool:
        response = pool.request("GET", server.url("/big-trailers/10"))
        assert response.extensions["trailers"] == [(b"x-t", b"t" * 10)]
        with pool.stream("GET", server.url("/big-trailers/200")) as response:
            with pytest.raises(httpcore.RemoteProtocolError, match="MAX_HEADER_LIST_SIZE"):
                response.read()
        assert "trailers" not in response.extensions
        response = pool.request("GET", server.url("/after"))
        assert response.content == b"path=/after"
    assert server.connections == 1


# ---------------------------------------------------------------------------------------
# Close reasons


def test_close_reason_of_a_usable_connection_is_none(h2_server: typing.Any) -> None:
    """None while usable, and still None once we closed it (the pool's eviction)."""
    server: H2Server = h2_server()
    connection = open_h2(server.port, keepalive_expiry=60.0)
    with connection:
        assert connection._close_reason() is None
        connection.request("GET", server.url("/"))
        assert connection.is_idle() and connection._close_reason() is None
    assert connection.is_closed() and connection._close_reason() is None


def test_close_reason_expired(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    connection = open_h2(server.port, keepalive_expiry=0.1)
    with connection:
        connection.request("GET", server.url("/"))
        wait_until(connection.has_expired)
        assert connection._close_reason() == "expired"
    assert connection.is_closed() and connection._close_reason() == "expired"


def test_close_reason_goaway(h2_server: typing.Any) -> None:
    """The server says GOAWAY after the first stream (then closes the connection)."""
    server: H2Server = h2_server(goaway_every=1)
    connection = open_h2(server.port)
    with connection:
        response = connection.request("GET", server.url("/a"))
        assert response.content == b"path=/a"
        wait_until(connection.has_expired)
        assert connection._close_reason() == "closed_by_server"
        with pytest.raises(httpcore.ConnectionNotAvailable, match="the server sent GOAWAY"):
            connection.request("GET", server.url("/b"))
    assert connection._close_reason() == "closed_by_server"


def test_close_reason_error(scripted_server: typing.Any) -> None:
    server: ScriptedServer = scripted_server(H2Script())
    connection = open_h2(server.port)
    with connection:
        with pytest.raises(httpcore.RemoteProtocolError):
            connection.request("GET", server.url("/garbage"))
        assert connection.has_expired()
        assert connection._close_reason() == "error"
    assert connection._close_reason() == "error"


def test_idle_connection_closed_by_the_server_is_retried_and_traced(
    scripted_server: typing.Any,
) -> None:
    """HTTP/2's stale connection: the server ends an idle connection (no GOAWAY); the
    next request finds the end of file before sending, the connection reports
    ``closed_by_server``, and the pool sends the request on a new connection (the
    ``request_not_processed`` step says so)."""
    script = H2Script()
    server: ScriptedServer = scripted_server(script)
    events: Events = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    with h2c_pool() as pool:
        response = pool.request("GET", server.url("/then-close"))
        assert response.content == b"path=/then-close"
        stream = response.extensions["network_stream"]
        wait_until(lambda: bool(stream.get_extra_info("is_readable")))
        (first,) = pool.connections
        response = pool.request("GET", server.url("/again"), extensions={"trace": trace})
        assert response.content == b"path=/again"
        assert first not in pool.connections
        http2 = first._connection  # type: ignore[attr-defined]
        assert http2.is_closed() and http2._close_reason() == "closed_by_server"
    (info,) = not_processed(events)
    assert info["stream_id"] == 0
    assert info["reason"] == "The HTTP/2 connection takes no new streams: the server closed it"
    assert script.paths == ["/then-close", "/again"]
    assert server.connection_count == 2


# ---------------------------------------------------------------------------------------
# Retries made visible


def test_refused_stream_retry_is_traced_and_logged(
    h2_server: typing.Any, caplog: pytest.LogCaptureFixture
) -> None:
    server: H2Server = h2_server()
    events: Events = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    caplog.set_level(logging.DEBUG, logger="httpcore")
    reason = "The server refused stream 1 (REFUSED_STREAM, RFC 9113 §8.7)"
    with h2c_pool() as pool:
        response = pool.request(
            "GET", server.url("/refuse-once/a"), extensions={"trace": trace}
        )
        assert response.content == b"path=/refuse-once/a"
        assert response.extensions["stream_id"] == 3  # sent again on the same connection
    (info,) = not_processed(events)
    assert info["stream_id"] == 1 and info["reason"] == reason
    assert info["request"].url.target == b"/refuse-once/a"
    names = [name for name, _ in events]
    # After the stream's own steps: its head failed, then its stream was closed.
    i = names.index("http2.request_not_processed.started")
    assert names[i - 3 : i] == [
        "http2.receive_response_headers.failed",
        "http2.response_closed.started",
        "http2.response_closed.complete",
    ]
    messages = [r.getMessage() for r in caplog.records if r.name == "httpcore.http2"]
    assert (
        f"request_not_processed.started request=<Request [b'GET']> stream_id=1 "
        f"reason={reason!r}"
    ) in messages
    assert "request_not_processed.complete" in messages
    assert server.requests.count("/refuse-once/a") == 2 and server.connections == 1


def test_stream_above_goaway_retry_is_traced(scripted_server: typing.Any) -> None:
    """Two requests share a connection; the server says GOAWAY with the first one's
    stream as the last: the second was not processed, is traced as such, and is sent
    again on a new connection."""
    script = H2Script(goaway_after=2)
    server: ScriptedServer = scripted_server(script)
    events: Events = []
    contents: dict[int, bytes] = {}

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    with h2c_pool() as pool:

        def fetch(i: int) -> None:
            response = pool.request(
                "GET", server.url(f"/r{i}"), extensions={"trace": trace}
            )
            contents[i] = response.content

        with Nursery() as nursery:
            for i in range(2):
                nursery.start_soon(fetch, i)
    assert contents == {0: b"path=/r0", 1: b"path=/r1"}
    (info,) = not_processed(events)
    assert info["stream_id"] == 3
    assert info["reason"] == "The server did not process stream 3 (GOAWAY, RFC 9113 §6.8)"
    retried = info["request"].url.target.decode()
    assert sorted(script.paths[:2]) == ["/r0", "/r1"] and script.paths[2:] == [retried]
    assert server.connection_count == 2

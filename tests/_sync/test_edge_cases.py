"""HTTP/1.1 against scripted raw-socket servers, on both kernels (tests/conftest.py): servers
that close idle connections, leftover bytes, malformed responses, 1xx and 101, disconnects,
servers that never answer or trickle, and unusual but valid responses.

Generated from ``tests/_async/test_edge_cases.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import httpcore_fast
from tests._sync.support import IDLE_POOL, first_connection_then, wait_until
from tests.servers import ServerConnection, http_response, keepalive_script

pytest_plugins = ["tests.conftest_servers"]
# A timer may fire up to one clock tick early (15.6 ms on Windows): lower bounds allow that.
TICK = max(time.get_clock_info("monotonic").resolution, 0.005)
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("kernel")]


# --- the server closes connections ------------------------------------------------------


def test_server_closes_idle_keepalive_connection(scripted_server: Any) -> None:
    idle = threading.Event()  # set by the test once the first response is done
    closed = threading.Event()

    def answer_once_then_close_when_idle(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(http_response(b"first"))  # no "Connection: close": looks reusable
        idle.wait(5)
        conn.close()
        closed.set()

    server = scripted_server(first_connection_then(answer_once_then_close_when_idle))
    with httpcore_fast.ConnectionPool() as pool:
        assert (pool.request("GET", server.url("/1"))).content == b"first"
        old = pool.connections[0]
        assert old.is_idle()
        idle.set()
        wait_until(closed.is_set)
        wait_until(old.has_expired)  # the FIN has reached the client socket
        response = pool.request("GET", server.url("/2"))
        assert response.status == 200
        assert response.content == b"fresh"
        assert old.is_closed()
        assert len(pool.connections) == 1 and pool.connections[0] is not old
    assert server.connection_count == 2
    assert len(server.connections[0].requests) == 1
    assert len(server.connections[1].requests) == 1


def test_connection_close_header_is_honoured(scripted_server: Any) -> None:
    def answer_with_close(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.send(http_response(b"bye", headers=[(b"Connection", b"close")]))

    server = scripted_server(answer_with_close)
    with httpcore_fast.ConnectionPool() as pool:
        for _ in range(3):
            response = pool.request("GET", server.url("/"))
            assert response.content == b"bye"
            assert pool.connections == []
    assert server.connection_count == 3
    for conn in server.connections:
        wait_until(conn.eof.is_set)  # the client closed each connection
        assert len(conn.requests) == 1


def test_http10_response_with_close_delimited_body(scripted_server: Any) -> None:
    def close_delimited(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        conn.send(b"close-")
        conn.send(b"delimited")
        conn.close()

    server = scripted_server(first_connection_then(close_delimited))
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", server.url("/"))
        assert response.status == 200
        assert response.content == b"close-delimited"
        assert response.extensions["http_version"] == b"HTTP/1.0"
        assert response.extensions["reason_phrase"] == b"OK"
        assert pool.connections == []
        assert (pool.request("GET", server.url("/"))).content == b"fresh"
    assert server.connection_count == 2


# --- leftover bytes after a complete response ---------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(http_response(b"stale"), id="a-whole-second-response"),
        pytest.param(b"junk\r\n", id="junk"),
        pytest.param(b"H", id="one-byte"),
    ],
)
def test_leftover_bytes_mean_the_connection_is_not_reused(
    scripted_server: Any, extra: bytes
) -> None:
    def answer_with_leftovers(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(http_response(b"first") + extra)  # one write: the client reads both at once
        while conn.read_request() is not None:  # should the client (wrongly) come back
            conn.send(http_response(b"reused"))

    server = scripted_server(first_connection_then(answer_with_leftovers))
    with httpcore_fast.ConnectionPool() as pool:
        first = pool.request("GET", server.url("/1"))
        assert first.content == b"first"
        second = pool.request("GET", server.url("/2"))
        assert second.status == 200
        assert second.content == b"fresh"
        assert len(pool.connections) == 1
    assert server.connection_count == 2
    wait_until(server.connections[0].eof.is_set)
    assert len(server.connections[0].requests) == 1


# --- malformed responses --------------------------------------------------------------------

MALFORMED = {
    "not-http": b"NOT HTTP AT ALL\r\n\r\n",
    "bad-status-code": b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok",
    "bad-version": b"HTTP/9 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "header-without-colon": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBroken Header\r\n\r\nok",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "bad-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok",
    "signed-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    "conflicting-content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    ),
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    "hex-prefix-chunk-size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n"
    ),
    "chunk-without-crlf": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n"
    ),
    "unsupported-transfer-encoding": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok"
    ),
    "content-length-and-chunked": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n"
    ),
    "oversized-head": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 300_000 + b"\r\nContent-Length: 2\r\n\r\nok"
    ),
}


@pytest.mark.parametrize("raw", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_response_is_remote_protocol_error(scripted_server: Any, raw: bytes) -> None:
    def malformed(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(raw)
        conn.wait_for_eof(5)

    server = scripted_server(first_connection_then(malformed))
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError) as info:
            pool.request("GET", server.url("/bad"), extensions={"timeout": {"read": 5}})
        assert type(info.value) is httpcore_fast.RemoteProtocolError
        assert isinstance(info.value, httpcore_fast.ProtocolError)
        # the connection that failed is closed and forgotten, never reused
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)
        wait_until(server.connections[0].eof.is_set)
        response = pool.request("GET", server.url("/good"))
        assert response.content == b"fresh"
    assert server.connection_count == 2


def test_malformed_response_in_stream(scripted_server: Any) -> None:
    def bad_chunk_later(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        time.sleep(0.05)
        conn.send(b"nothex\r\n")
        conn.wait_for_eof(5)

    server = scripted_server(bad_chunk_later)
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", server.url("/")) as response:
            assert response.status == 200
            received = []
            with pytest.raises(httpcore_fast.RemoteProtocolError):
                for part in response.iter_stream():
                    received.append(part)
            assert b"".join(received) == b"abc"
        assert pool.connections == []


def test_informational_response_is_skipped(scripted_server: Any) -> None:
    def continue_then_ok(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.1 100 Continue\r\n\r\n" + http_response(b"final"))

    server = scripted_server(continue_then_ok)
    with httpcore_fast.ConnectionPool() as pool:
        for _ in range(2):
            response = pool.request("POST", server.url("/"), content=b"data")
            assert response.status == 200
            assert response.content == b"final"
        assert len(pool.connections) == 1
    assert server.connection_count == 1


def test_switching_protocols_hands_over_the_stream(scripted_server: Any) -> None:
    def upgrade(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\nConnection: Upgrade\r\n\r\n"
            b"early bytes"
        )
        assert conn.read_until(b"ping") == b"ping"  # the client now speaks the new protocol
        conn.send(b"pong")
        conn.wait_for_eof(5)

    server = scripted_server(upgrade)
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream(
            "GET", server.url("/"), headers=[(b"Upgrade", b"custom"), (b"Connection", b"Upgrade")]
        ) as response:
            assert response.status == 101
            assert response.extensions["reason_phrase"] == b"Switching Protocols"
            stream = response.extensions["network_stream"]
            received = b""
            while len(received) < len(b"early bytes"):
                chunk = stream.read(1024, timeout=5)
                assert chunk
                received += chunk
            assert received == b"early bytes"
            stream.write(b"ping", timeout=5)
            assert stream.read(1024, timeout=5) == b"pong"
        assert pool.connections == []


@pytest.mark.parametrize(
    ("headers", "upgrades"),
    [
        ([(b"uPgRaDe", b"custom"), (b"Connection", b"upgrade")], True),  # any case
        ([(b"X-Upgrade", b"custom"), (b"X-Note", b"upgrade: custom")], False),
        ([(b"Upgrade", b"")], False),  # an empty list proposes nothing (h11 agrees)
        ([], False),
    ],
)
def test_101_only_answers_a_request_that_proposed_an_upgrade(
    scripted_server: Any, headers: list[tuple[bytes, bytes]], upgrades: bool
) -> None:
    # RFC 9110 §15.2.2 / §7.8: a server sends 101 only to switch to a protocol the request
    # listed in its Upgrade field. Fields that merely mention "upgrade", or an Upgrade
    # field listing nothing, do not count.
    def switch(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: custom\r\n\r\n")
        conn.wait_for_eof(5)

    server = scripted_server(switch)
    with httpcore_fast.ConnectionPool() as pool:
        if upgrades:
            with pool.stream("GET", server.url("/"), headers=headers) as response:
                assert response.status == 101
        else:
            with pytest.raises(httpcore_fast.RemoteProtocolError, match="101"):
                pool.request("GET", server.url("/"), headers=headers)
        assert pool.connections == []


# --- disconnects ----------------------------------------------------------------------------


def test_server_disconnects_without_response(scripted_server: Any) -> None:
    def read_and_hang_up(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.close()

    server = scripted_server(first_connection_then(read_and_hang_up))
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError) as info:
            pool.request("GET", server.url("/"))
        assert type(info.value) is httpcore_fast.RemoteProtocolError
        assert str(info.value) == "Server disconnected without sending a response."
        assert pool.connections == []
        assert (pool.request("GET", server.url("/"))).content == b"fresh"


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", id="inside-head"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", id="short-body"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", id="inside-chunk"
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n", id="no-last-chunk"
        ),
    ],
)
def test_server_disconnects_mid_response(scripted_server: Any, partial: bytes) -> None:
    def partial_then_hang_up(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(partial)
        conn.close()

    server = scripted_server(first_connection_then(partial_then_hang_up))
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError):
            pool.request("GET", server.url("/"))
        assert pool.connections == []
        assert (pool.request("GET", server.url("/"))).content == b"fresh"
    assert server.connection_count == 2


# --- servers that never answer ----------------------------------------------------------------


def test_read_timeout_when_the_server_never_responds(scripted_server: Any) -> None:
    def never_respond(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.hold(10)

    server = scripted_server(first_connection_then(never_respond))
    with httpcore_fast.ConnectionPool() as pool:
        started = time.monotonic()
        with pytest.raises(httpcore_fast.ReadTimeout) as info:
            pool.request("GET", server.url("/"), extensions={"timeout": {"read": 0.2}})
        elapsed = time.monotonic() - started
        assert type(info.value) is httpcore_fast.ReadTimeout
        assert isinstance(info.value, httpcore_fast.TimeoutException)
        # the timeout, not the server (which holds for 10 s), ended the wait: no upper
        # bound on the time, which a loaded machine could exceed; one clock tick early
        assert elapsed >= 0.2 - TICK
        assert pool.connections == []
        assert (pool.request("GET", server.url("/"))).content == b"fresh"


def test_read_timeout_in_the_middle_of_the_body(scripted_server: Any) -> None:
    def stall_mid_body(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        conn.hold(10)

    server = scripted_server(stall_mid_body)
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", server.url("/"), extensions={"timeout": {"read": 0.2}}) as r:
            assert r.status == 200
            with pytest.raises(httpcore_fast.ReadTimeout):
                r.read()
        assert pool.connections == []


TRICKLE = b"abcdefghijklmnopqrstuvwxy"  # sent a byte at a time


def test_read_timeout_is_per_read_not_per_response(scripted_server: Any) -> None:
    def trickle(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(TRICKLE))
        for byte in TRICKLE:  # 25 gaps of 0.05 s: 1.25 s in all
            time.sleep(0.05)
            conn.send(bytes([byte]))
        conn.wait_for_eof(5)

    server = scripted_server(trickle)
    with httpcore_fast.ConnectionPool() as pool:
        # the whole body takes more than one read timeout (1.25 s > 1.0 s), while no
        # single read waits longer than a gap (0.05 s, 20 times less than the timeout)
        response = pool.request("GET", server.url("/"), extensions={"timeout": {"read": 1.0}})
        assert response.content == TRICKLE


# --- well-formed but unusual responses ----------------------------------------------------------


def reply_in_turn(*responses: bytes) -> Any:
    """A keep-alive script answering the n-th request on a connection with ``responses[n]``."""

    def script(conn: ServerConnection) -> None:
        for raw in responses:
            if conn.read_request() is None:
                return
            conn.send(raw)
        conn.wait_for_eof(5)

    return script


def test_header_fields_come_back_as_sent(scripted_server: Any) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\n"
        b"Set-Cookie: a=1\r\n"
        b"X-MiXeD-CaSe:   spaced value \t\r\n"
        b"set-cookie: b=2\r\n"
        b"X-Empty:\r\n"
        b"Content-Length: 2\r\n"
        b"\r\nok"
    )
    server = scripted_server(reply_in_turn(raw))
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", server.url("/"))
    assert response.headers == [
        (b"Set-Cookie", b"a=1"),
        (b"X-MiXeD-CaSe", b"spaced value"),
        (b"set-cookie", b"b=2"),
        (b"X-Empty", b""),
        (b"Content-Length", b"2"),
    ]
    assert response.content == b"ok"


@pytest.mark.parametrize(
    ("status_line", "status", "reason"),
    [
        (b"HTTP/1.1 200 OK", 200, b"OK"),
        (b"HTTP/1.1 201 Created And More Words", 201, b"Created And More Words"),
        (b"HTTP/1.1 299 ", 299, b""),
        (b"HTTP/1.1 418 I'm a teapot", 418, b"I'm a teapot"),
    ],
)
def test_status_line_forms(
    scripted_server: Any, status_line: bytes, status: int, reason: bytes
) -> None:
    server = scripted_server(reply_in_turn(status_line + b"\r\nContent-Length: 1\r\n\r\nx"))
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", server.url("/"))
    assert response.status == status
    assert response.extensions["reason_phrase"] == reason
    assert response.content == b"x"


def test_chunked_body_with_extensions_and_trailers_keeps_the_connection(
    scripted_server: Any,
) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;name=value\r\nabc\r\n"
        b"A\r\n0123456789\r\n"
        b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    server = scripted_server(reply_in_turn(chunked, http_response(b"next")))
    with httpcore_fast.ConnectionPool() as pool:
        assert (pool.request("GET", server.url("/1"))).content == b"abc0123456789"
        assert (pool.request("GET", server.url("/2"))).content == b"next"
        assert len(pool.connections) == 1
    assert server.connection_count == 1


def test_chunked_body_trickling_byte_by_byte(scripted_server: Any) -> None:
    body = b"".join(b"%x\r\n%s\r\n" % (n, b"z" * n) for n in (1, 5, 16, 2)) + b"0\r\n\r\n"

    def trickle(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(len(body)):
            conn.send(body[i : i + 1])
            time.sleep(0.001)
        assert conn.read_request() is not None  # the connection is reused
        conn.send(http_response(b"again"))
        conn.wait_for_eof(5)

    server = scripted_server(trickle)
    with httpcore_fast.ConnectionPool() as pool:
        assert (pool.request("GET", server.url("/"))).content == b"z" * 24
        assert (pool.request("GET", server.url("/"))).content == b"again"
    assert server.connection_count == 1


def test_no_body_for_head_and_304_despite_content_length(scripted_server: Any) -> None:
    server = scripted_server(
        reply_in_turn(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",  # answer to HEAD
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            http_response(b"after"),
        )
    )
    with httpcore_fast.ConnectionPool() as pool:
        head = pool.request("HEAD", server.url("/"), extensions={"timeout": {"read": 2}})
        assert (head.status, head.content) == (200, b"")
        cached = pool.request("GET", server.url("/"), extensions={"timeout": {"read": 2}})
        assert (cached.status, cached.content) == (304, b"")
        empty = pool.request("DELETE", server.url("/"), extensions={"timeout": {"read": 2}})
        assert (empty.status, empty.content) == (204, b"")
        assert (pool.request("GET", server.url("/"))).content == b"after"
        assert len(pool.connections) == 1
    assert server.connection_count == 1


def test_http10_response_is_not_reused(scripted_server: Any) -> None:
    server = scripted_server(
        first_connection_then(reply_in_turn(http_response(b"old", version=b"HTTP/1.0")))
    )
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", server.url("/"))
        assert response.extensions["http_version"] == b"HTTP/1.0"
        assert response.content == b"old"
        assert pool.connections == []
        assert (pool.request("GET", server.url("/"))).content == b"fresh"
    assert server.connection_count == 2


def test_server_closes_several_idle_connections(scripted_server: Any) -> None:
    idle = threading.Event()
    closed: list[int] = []

    def answer_once_then_close_when_idle(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(http_response(b"first"))
        idle.wait(5)
        conn.close()
        closed.append(conn.index)

    def script(conn: ServerConnection) -> None:
        if conn.index < 3:
            answer_once_then_close_when_idle(conn)
        else:
            keepalive_script(b"fresh")(conn)

    server = scripted_server(script)
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", server.url("/a")) as a:
            with pool.stream("GET", server.url("/b")) as b:
                with pool.stream("GET", server.url("/c")) as c:
                    for response in (a, b, c):
                        assert response.read() == b"first"
        assert repr(pool) == IDLE_POOL.format(3)
        old = pool.connections
        idle.set()
        wait_until(lambda: len(closed) == 3)
        assert sorted(closed) == [0, 1, 2]
        # the FINs have reached the client sockets
        wait_until(lambda: all(connection.has_expired() for connection in old))
        # every idle connection is dead; each request must find that out and go on
        for _ in range(3):
            response = pool.request("GET", server.url("/again"))
            assert response.content == b"fresh"
        assert len(pool.connections) == 1
        assert repr(pool) == IDLE_POOL.format(1)
    assert server.connection_count == 4
    assert len(server.connections[3].requests) == 3

"""ResponseLimits: configurable bounds on what a server may send, through the pool."""

from __future__ import annotations

import time
from typing import Any

import pytest

import httpcore_fast
from httpcore_fast._limits import ResponseLimits
from tests.servers import ServerConnection, http_response

pytest_plugins = ["tests.conftest_servers"]
pytestmark = pytest.mark.network


def answer(raw: bytes) -> Any:
    def script(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(raw)
        conn.wait_for_eof(5)

    return script


def test_defaults_are_httpcores() -> None:
    limits = ResponseLimits()
    assert limits.max_head_size == httpcore_fast.HTTP11Connection.MAX_INCOMPLETE_EVENT_SIZE
    assert limits.head_timeout is None


@pytest.mark.parametrize(
    ("limits", "raw", "name"),
    [
        (
            ResponseLimits(max_field_count=3),
            http_response(b"x", headers=[(b"X-%d" % i, b"v") for i in range(5)]),
            "max_field_count",
        ),
        (
            ResponseLimits(max_field_line_size=64),
            http_response(b"x", headers=[(b"X-Big", b"v" * 100)]),
            "max_field_line_size",
        ),
        (
            ResponseLimits(max_head_size=200),
            http_response(b"x", headers=[(b"X-%d" % i, b"v" * 20) for i in range(10)]),
            "max_head_size",
        ),
        (
            ResponseLimits(max_status_line_size=20),
            b"HTTP/1.1 200 " + b"O" * 40 + b"\r\nContent-Length: 0\r\n\r\n",
            "max_status_line_size",
        ),
    ],
    ids=["field-count", "field-line", "head", "status-line"],
)
def test_exceeding_a_limit_names_it(
    scripted_server: Any, limits: ResponseLimits, raw: bytes, name: str
) -> None:
    server = scripted_server(answer(raw))
    with httpcore_fast.ConnectionPool(limits=limits) as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError, match=name):
            pool.request("GET", server.url("/"), extensions={"timeout": {"read": 5}})
        assert pool.connections == []


def test_the_same_response_passes_with_default_limits(scripted_server: Any) -> None:
    raw = http_response(b"x", headers=[(b"X-%d" % i, b"v" * 20) for i in range(10)])
    server = scripted_server(answer(raw))
    with httpcore_fast.ConnectionPool() as pool:
        assert pool.request("GET", server.url("/")).content == b"x"


def test_head_timeout_stops_a_server_dripping_its_head(scripted_server: Any) -> None:
    def drip(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
            try:
                conn.send(bytes([byte]))
            except OSError:
                return  # the client gave up, as it should
            time.sleep(0.01)

    server = scripted_server(drip)
    limits = ResponseLimits(head_timeout=0.3)
    with httpcore_fast.ConnectionPool(limits=limits) as pool:
        with pytest.raises(httpcore_fast.ReadTimeout, match="head_timeout"):
            # Each byte arrives well within the read timeout; only the deadline stops it
            # (without it the drip would end in a closed connection, not a timeout).
            pool.request("GET", server.url("/"), extensions={"timeout": {"read": 1.0}})
        assert pool.connections == []

"""ResponseLimits: configurable bounds on what a server may send, through the pool."""

from __future__ import annotations

import time
from typing import Any

import pytest

import httpcore_fast
from httpcore_fast._limits import ResponseLimits
from tests.kernel_helpers import HTTPCORE_SUB_100KB_READS
from tests.servers import ServerConnection, http_response

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("kernel")]  # both kernels


def answer(raw: bytes) -> Any:
    def script(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(raw)
        conn.wait_for_eof(5)

    return script


def test_defaults_are_httpcores() -> None:
    """The defaults accept what httpcore's h11 settings accept under any read split:
    its incomplete-event size plus one read, for every section."""
    limits = ResponseLimits()
    connection = httpcore_fast.HTTP11Connection
    assert limits == ResponseLimits.from_httpcore(
        connection.MAX_INCOMPLETE_EVENT_SIZE, connection.READ_NUM_BYTES
    )
    assert limits.max_head_size == 102400 + 65536
    assert limits.max_field_count == (102400 + 65536) // 3
    assert limits.max_informational == 100
    assert limits.head_timeout is None


def test_from_httpcore_scales_every_size_limit() -> None:
    limits = ResponseLimits.from_httpcore(1000, 24)
    assert limits.parser_kwargs() == {
        "max_status_line_size": 1024,
        "max_field_line_size": 1024,
        "max_head_size": 1024,
        "max_field_count": 341,
        "max_chunk_size_line": 1024,
        "max_trailer_size": 1024,
        "max_informational": 100,
    }
    with pytest.raises(ValueError):
        ResponseLimits.from_httpcore(-1, 10)


@pytest.mark.parametrize("limits", [None, ResponseLimits()], ids=["default", "explicit"])
def test_httpcore_header_sub_100kb(limits: ResponseLimits | None) -> None:
    origin = httpcore_fast.Origin(b"https", b"example.com", 443)
    stream = httpcore_fast.MockStream(list(HTTPCORE_SUB_100KB_READS))
    with httpcore_fast.HTTP11Connection(
        origin=origin, stream=stream, keepalive_expiry=5.0, limits=limits
    ) as conn:
        response = conn.request("GET", "https://example.com/")
        assert response.status == 200
        assert response.content == b""


def big_head(size: int) -> bytes:
    """A response whose head is exactly ``size`` bytes, body ``x``."""
    head = http_response(b"x", headers=[(b"X-Fill", b"")])
    end = head.index(b"\r\n\r\n") + 4
    return head[: end - 4] + b"f" * (size - end) + head[end - 4 :]


def test_a_head_of_the_default_limit_passes(scripted_server: Any) -> None:
    """167936 bytes: what h11 accepts under httpcore when the last read starts at byte
    102400 (here it arrives however the kernel's reads split it)."""
    raw = big_head(102400 + 65536)
    server = scripted_server(answer(raw))
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", server.url("/"), extensions={"timeout": {"read": 5}})
        assert response.content == b"x"
        assert len(response.headers[-1][1]) > 100000


def test_one_byte_more_is_rejected(scripted_server: Any) -> None:
    server = scripted_server(answer(big_head(102400 + 65536 + 1)))
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(
            httpcore_fast.RemoteProtocolError,
            match=r"response head exceeds max_head_size \(167936 bytes\)",
        ):
            pool.request("GET", server.url("/"), extensions={"timeout": {"read": 5}})
        assert pool.connections == []


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

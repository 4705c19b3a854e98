"""The ``trace`` extension (``async def`` callbacks) and the DEBUG log lines of the async
client, on asyncio and trio against real servers."""

from __future__ import annotations

import logging
import re
import ssl
from typing import Any

import pytest

import httpcore_fast
from tests import async_servers
from tests.servers import HELLO, UvicornServer

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network, pytest.mark.anyio]

anyio_backend = async_servers.anyio_backend

HTTP11_EVENTS = [
    "http11.send_request_headers.started",
    "http11.send_request_headers.complete",
    "http11.send_request_body.started",
    "http11.send_request_body.complete",
    "http11.receive_response_headers.started",
    "http11.receive_response_headers.complete",
    "http11.receive_response_body.started",
    "http11.receive_response_body.complete",
    "http11.response_closed.started",
    "http11.response_closed.complete",
]


class Recorder:
    """An ``async def`` trace callback recording ``(name, info)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        self.events.append((name, dict(info)))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def info(self, name: str) -> dict[str, Any]:
        found = [info for n, info in self.events if n == name]
        assert len(found) == 1, (name, self.names)
        return found[0]


async def test_trace_https_get_on_a_fresh_pool(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    trace = Recorder()
    async with httpcore_fast.AsyncConnectionPool(ssl_context=client_ssl_context) as pool:
        response = await pool.request("GET", https_server.url("/"), extensions={"trace": trace})
        assert response.content == HELLO
    assert trace.names == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.complete",
        *HTTP11_EVENTS,
    ]
    assert trace.info("connection.connect_tcp.started") == {
        "host": "127.0.0.1",
        "port": https_server.port,
        "local_address": None,
        "timeout": None,
        "socket_options": None,
    }
    tcp_stream = trace.info("connection.connect_tcp.complete")["return_value"]
    assert isinstance(tcp_stream, httpcore_fast.AsyncNetworkStream)
    assert trace.info("connection.start_tls.started") == {
        "ssl_context": client_ssl_context,
        "server_hostname": "127.0.0.1",
        "timeout": None,
    }
    tls_stream = trace.info("connection.start_tls.complete")["return_value"]
    assert tls_stream is response.extensions["network_stream"]
    request = trace.info("http11.send_request_headers.started")["request"]
    assert isinstance(request, httpcore_fast.Request)
    assert request.url == httpcore_fast.URL(https_server.url("/"))
    http_version, status, reason, headers = trace.info("http11.receive_response_headers.complete")[
        "return_value"
    ]
    assert (http_version, status, reason) == (b"HTTP/1.1", 200, b"OK")
    assert headers == response.headers
    assert trace.info("http11.response_closed.started") == {}


async def test_trace_reused_connection_and_stream(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        await pool.request("GET", http_server.url("/"))
        trace = Recorder()
        async with pool.stream(
            "GET", http_server.url("/stream?chunks=3"), extensions={"trace": trace}
        ) as response:
            assert trace.names[-1] == "http11.receive_response_headers.complete"
            body = await response.aread()
            assert trace.names[-1] == "http11.receive_response_body.complete"
    assert trace.names == HTTP11_EVENTS
    assert len(body) == 3 * 16


async def test_trace_failed_events(http_server: UvicornServer, closed_port: int) -> None:
    trace = Recorder()
    async with httpcore_fast.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore_fast.ReadTimeout):
            await pool.request(
                "GET",
                http_server.url("/slow?delay=1"),
                extensions={"trace": trace, "timeout": {"read": 0.05}},
            )
    assert trace.names[-4:] == [
        "http11.receive_response_headers.started",
        "http11.receive_response_headers.failed",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]
    exc = trace.info("http11.receive_response_headers.failed")["exception"]
    assert type(exc) is httpcore_fast.ReadTimeout

    trace = Recorder()
    async with httpcore_fast.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            await pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"trace": trace}
            )
    assert trace.names == ["connection.connect_tcp.started", "connection.connect_tcp.failed"]


async def test_sync_trace_callback_is_rejected(http_server: UvicornServer) -> None:
    def sync_callback(name: str, info: dict[str, Any]) -> None:
        pass  # pragma: no cover - never called with a result that is awaited

    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        with pytest.raises(TypeError, match="asynchronous function"):
            await pool.request("GET", http_server.url("/"), extensions={"trace": sync_callback})
        assert repr(pool).startswith("<AsyncConnectionPool [Requests: 0 active, 0 queued")
        # the slot is free again
        response = await pool.request(
            "GET", http_server.url("/"), extensions={"timeout": {"pool": 2}}
        )
        assert response.content == HELLO


async def test_debug_log_lines(
    http_server: UvicornServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    async with httpcore_fast.AsyncConnectionPool() as pool:
        response = await pool.request("GET", http_server.url("/"))
    lines = [(r.name, r.getMessage()) for r in caplog.records if r.name.startswith("httpcore.")]
    obj = r"<.+>"
    expected = [
        (
            "httpcore.connection",
            re.escape(
                f"connect_tcp.started host='127.0.0.1' port={http_server.port} "
                "local_address=None timeout=None socket_options=None"
            ),
        ),
        ("httpcore.connection", "connect_tcp.complete return_value=" + obj),
        ("httpcore.http11", re.escape("send_request_headers.started request=<Request [b'GET']>")),
        ("httpcore.http11", "send_request_headers.complete"),
        ("httpcore.http11", re.escape("send_request_body.started request=<Request [b'GET']>")),
        ("httpcore.http11", "send_request_body.complete"),
        (
            "httpcore.http11",
            re.escape("receive_response_headers.started request=<Request [b'GET']>"),
        ),
        (
            "httpcore.http11",
            re.escape(
                "receive_response_headers.complete return_value="
                f"(b'HTTP/1.1', 200, b'OK', {response.headers!r})"
            ),
        ),
        ("httpcore.http11", re.escape("receive_response_body.started request=<Request [b'GET']>")),
        ("httpcore.http11", "receive_response_body.complete"),
        ("httpcore.http11", "response_closed.started"),
        ("httpcore.http11", "response_closed.complete"),
        ("httpcore.connection", "close.started"),
        ("httpcore.connection", "close.complete"),
    ]
    assert [name for name, _ in lines] == [name for name, _ in expected], lines
    for (_, message), (_, pattern) in zip(lines, expected):
        assert re.fullmatch(pattern, message), (message, pattern)

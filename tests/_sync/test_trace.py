"""The ``trace`` extension and the DEBUG log lines of the client, against real servers
(``def`` callbacks on the async side, plain functions on the sync side).

Generated from ``tests/_async/test_trace.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import logging
import re
import ssl
from typing import Any

import pytest

import httpcore_fast
from tests.servers import HELLO, UvicornServer

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network]

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
    """A trace callback recording ``(name, info)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.server_addr: Any = None

    def __call__(self, name: str, info: dict[str, Any]) -> None:
        assert isinstance(name, str)
        assert isinstance(info, dict)
        self.events.append((name, dict(info)))
        if name == "connection.connect_tcp.complete":
            # what httpx's CLI reads, at the moment it reads it (TLS later wraps the socket)
            self.server_addr = info["return_value"].get_extra_info("server_addr")

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def info(self, name: str) -> dict[str, Any]:
        found = [info for n, info in self.events if n == name]
        assert len(found) == 1, (name, self.names)
        return found[0]


def test_trace_https_get_on_a_fresh_pool(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    trace = Recorder()
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context) as pool:
        response = pool.request("GET", https_server.url("/"), extensions={"trace": trace})
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
    assert isinstance(tcp_stream, httpcore_fast.NetworkStream)
    assert trace.server_addr == ("127.0.0.1", https_server.port)
    assert trace.info("connection.start_tls.started") == {
        "ssl_context": client_ssl_context,
        "server_hostname": "127.0.0.1",
        "timeout": None,
    }
    tls_stream = trace.info("connection.start_tls.complete")["return_value"]
    assert tls_stream is response.extensions["network_stream"]
    request = trace.info("http11.send_request_headers.started")["request"]
    assert isinstance(request, httpcore_fast.Request)
    assert request.method == b"GET"
    assert request.url == httpcore_fast.URL(https_server.url("/"))
    for name in (
        "http11.send_request_body.started",
        "http11.receive_response_headers.started",
        "http11.receive_response_body.started",
    ):
        assert trace.info(name) == {"request": request}
    http_version, status, reason, headers = trace.info(
        "http11.receive_response_headers.complete"
    )["return_value"]
    assert (http_version, status, reason) == (b"HTTP/1.1", 200, b"OK")
    assert headers == response.headers
    assert trace.info("http11.response_closed.started") == {}
    for name in ("http11.send_request_headers.complete", "http11.response_closed.complete"):
        assert trace.info(name) == {"return_value": None}


def test_trace_reused_connection_has_no_connect_events(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", http_server.url("/"))
        trace = Recorder()
        pool.request("GET", http_server.url("/"), extensions={"trace": trace})
    assert trace.names == HTTP11_EVENTS


def test_trace_sees_timeouts_and_options(http_server: UvicornServer) -> None:
    trace = Recorder()
    timeouts = {"connect": 3.0, "read": 4.0, "write": 5.0, "pool": 6.0}
    with httpcore_fast.ConnectionPool(local_address="127.0.0.1") as pool:
        pool.request(
            "GET", http_server.url("/"), extensions={"trace": trace, "timeout": timeouts}
        )
    info = trace.info("connection.connect_tcp.started")
    assert info["timeout"] == 3.0
    assert info["local_address"] == "127.0.0.1"


def test_trace_of_a_streamed_response(http_server: UvicornServer) -> None:
    trace = Recorder()
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream(
            "GET", http_server.url("/stream?chunks=3"), extensions={"trace": trace}
        ) as response:
            assert trace.names[-1] == "http11.receive_response_headers.complete"
            parts = [part for part in response.iter_stream()]
            assert trace.names[-2:] == [
                "http11.receive_response_body.started",
                "http11.receive_response_body.complete",
            ]
        assert trace.names[-2:] == [
            "http11.response_closed.started",
            "http11.response_closed.complete",
        ]
    assert trace.names == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        *HTTP11_EVENTS,
    ]
    assert len(b"".join(parts)) == 3 * 16


def test_trace_of_a_response_closed_before_its_end(http_server: UvicornServer) -> None:
    """The body step ends when the response is closed early: failed with GeneratorExit
    (what httpcore's body generator reports once closed), then response_closed."""
    trace = Recorder()
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream(
            "GET", http_server.url("/stream?chunks=3"), extensions={"trace": trace}
        ) as response:
            for part in response.iter_stream():
                assert part
                break
            assert trace.names[-1] == "http11.receive_response_body.started"
    assert trace.names[-3:] == [
        "http11.receive_response_body.failed",
        "http11.response_closed.started",
        "http11.response_closed.complete",
    ]
    assert type(trace.info("http11.receive_response_body.failed")["exception"]) is GeneratorExit


def test_trace_failed_event_on_read_timeout(http_server: UvicornServer) -> None:
    trace = Recorder()
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.ReadTimeout):
            pool.request(
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


def test_trace_failed_event_on_connect_error(closed_port: int) -> None:
    trace = Recorder()
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request(
                "GET", f"http://127.0.0.1:{closed_port}/", extensions={"trace": trace}
            )
    assert trace.names == ["connection.connect_tcp.started", "connection.connect_tcp.failed"]
    exc = trace.info("connection.connect_tcp.failed")["exception"]
    assert type(exc) is httpcore_fast.ConnectError


# The wrong kind of callback for the API is a TypeError, and frees the slot it took.
def test_async_trace_callback_is_rejected(http_server: UvicornServer) -> None:
    created = []

    async def noop() -> None:
        pass  # pragma: no cover - never awaited

    def returns_a_coroutine(name: str, info: dict[str, Any]) -> Any:
        coroutine = noop()
        created.append(coroutine)
        return coroutine

    try:
        with httpcore_fast.ConnectionPool(max_connections=1) as pool:
            with pytest.raises(TypeError):
                pool.request(
                    "GET", http_server.url("/"), extensions={"trace": returns_a_coroutine}
                )
            assert pool.connections == []
            # the slot is free again
            response = pool.request(
                "GET", http_server.url("/"), extensions={"timeout": {"pool": 2}}
            )
            assert response.content == HELLO
    finally:
        for coroutine in created:
            coroutine.close()  # no "never awaited" RuntimeWarning
    assert created


# --- logging ---------------------------------------------------------------------------------

OBJECT_REPR = r"<.+>"  # a stream's repr (asyncio's nests its transport's)


def test_debug_log_lines(
    http_server: UvicornServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", http_server.url("/"))
    records = [r for r in caplog.records if r.name.startswith("httpcore.")]
    assert all(r.levelno == logging.DEBUG for r in records)
    lines = [(r.name, r.getMessage()) for r in records]
    expected = [
        (
            "httpcore.connection",
            re.escape(
                f"connect_tcp.started host='127.0.0.1' port={http_server.port} "
                "local_address=None timeout=None socket_options=None"
            ),
        ),
        ("httpcore.connection", "connect_tcp.complete return_value=" + OBJECT_REPR),
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


def test_debug_log_lines_https_start_tls(
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context) as pool:
        pool.request("GET", https_server.url("/"), extensions={"sni_hostname": "localhost"})
    messages = [r.getMessage() for r in caplog.records if r.name == "httpcore.connection"]
    assert re.fullmatch(
        r"start_tls\.started ssl_context=<ssl\.SSLContext object at 0x[0-9a-fA-F]+> "
        r"server_hostname='localhost' timeout=None",
        messages[2],
    ), messages
    assert re.fullmatch(r"start_tls\.complete return_value=" + OBJECT_REPR, messages[3])


def test_debug_log_of_a_failure(closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.ConnectError) as info:
            pool.request("GET", f"http://127.0.0.1:{closed_port}/")
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("httpcore.")]
    assert messages[1] == f"connect_tcp.failed exception={info.value!r}"


def test_no_log_records_above_debug(
    http_server: UvicornServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpcore")
    with httpcore_fast.ConnectionPool() as pool:
        pool.request("GET", http_server.url("/"))
    assert [r for r in caplog.records if r.name.startswith("httpcore")] == []

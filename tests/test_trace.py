"""Trace: callback events, TypeErrors for the wrong callback kind, exact DEBUG lines."""

from __future__ import annotations

import asyncio
import logging
import typing

import pytest

from httpcore_fast._models import Request
from httpcore_fast._trace import Trace, tracing_enabled

CONNECT_KWARGS = {
    "host": "example.com",
    "port": 80,
    "local_address": None,
    "timeout": None,
    "socket_options": None,
}


@pytest.fixture
def logger() -> logging.Logger:
    return logging.getLogger("httpcore.connection")


def request_with(callback: typing.Any) -> Request:
    return Request("GET", "http://example.com/", extensions={"trace": callback})


def test_log_lines(caplog: pytest.LogCaptureFixture, logger: logging.Logger) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    with Trace("connect_tcp", logger, None, CONNECT_KWARGS) as trace:
        trace.return_value = "<stream>"
    with Trace("close", logger, None, {}):
        pass
    with Trace("start_tls", logger, None, {"timeout": 5.0}):
        pass  # return value stays None
    with pytest.raises(ValueError):
        with Trace("retry", logger, None, {"n": b"x"}):
            raise ValueError("boom")
    with Trace("x", logger, None, None) as trace:
        trace.return_value = 0  # falsy but not None: still logged
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            "httpcore.connection",
            logging.DEBUG,
            "connect_tcp.started host='example.com' port=80 local_address=None "
            "timeout=None socket_options=None",
        ),
        ("httpcore.connection", logging.DEBUG, "connect_tcp.complete return_value='<stream>'"),
        ("httpcore.connection", logging.DEBUG, "close.started"),
        ("httpcore.connection", logging.DEBUG, "close.complete"),
        ("httpcore.connection", logging.DEBUG, "start_tls.started timeout=5.0"),
        ("httpcore.connection", logging.DEBUG, "start_tls.complete"),
        ("httpcore.connection", logging.DEBUG, "retry.started n=b'x'"),
        ("httpcore.connection", logging.DEBUG, "retry.failed exception=ValueError('boom')"),
        ("httpcore.connection", logging.DEBUG, "x.started"),
        ("httpcore.connection", logging.DEBUG, "x.complete return_value=0"),
    ]


def test_no_log_when_not_debug(caplog: pytest.LogCaptureFixture, logger: logging.Logger) -> None:
    caplog.set_level(logging.INFO, logger="httpcore")
    with Trace("connect_tcp", logger, None, CONNECT_KWARGS) as trace:
        assert trace.should_trace is False
    assert caplog.records == []


def test_callback_events(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpcore")
    events: list[tuple[str, dict[str, typing.Any]]] = []
    request = request_with(lambda name, info: events.append((name, info)))
    kwargs = {"request": request}
    logger = logging.getLogger("httpcore.http11")
    with Trace("send_request_headers", logger, request, kwargs) as trace:
        assert trace.should_trace is True
    with Trace("receive_response_headers", logger, request, kwargs) as trace:
        trace.return_value = (b"HTTP/1.1", 200, b"OK", [])
    error = RuntimeError("x")
    with pytest.raises(RuntimeError):
        with Trace("receive_response_body", logger, request, kwargs):
            raise error
    assert events == [
        ("http11.send_request_headers.started", {"request": request}),
        ("http11.send_request_headers.complete", {"return_value": None}),
        ("http11.receive_response_headers.started", {"request": request}),
        (
            "http11.receive_response_headers.complete",
            {"return_value": (b"HTTP/1.1", 200, b"OK", [])},
        ),
        ("http11.receive_response_body.started", {"request": request}),
        ("http11.receive_response_body.failed", {"exception": error}),
    ]
    assert events[0][1] is kwargs  # the started info is the caller's dict
    assert caplog.records == []
    # The prefix is the last part of the logger's name.
    names: list[str] = []
    with Trace("setup", logging.getLogger("a.b.socks"), request_with(lambda n, i: names.append(n))):
        pass
    assert names == ["socks.setup.started", "socks.setup.complete"]


def test_async_callback_in_sync_api_is_a_type_error(logger: logging.Logger) -> None:
    async def callback(name: str, info: dict[str, typing.Any]) -> None:
        pass  # pragma: no cover

    with pytest.raises(TypeError) as info:
        with Trace("connect_tcp", logger, request_with(callback), {}):
            pass  # pragma: no cover
    assert str(info.value) == (
        "If you are using a synchronous interface, the callback of the `trace` "
        "extension should be a normal function instead of an asynchronous function."
    )
    # (and the coroutine was closed: no "never awaited" warning, which would fail here)


def test_async_trace(caplog: pytest.LogCaptureFixture, logger: logging.Logger) -> None:
    caplog.set_level(logging.DEBUG, logger="httpcore")
    events: list[str] = []

    async def callback(name: str, info: dict[str, typing.Any]) -> None:
        events.append(name)

    async def main() -> None:
        async with Trace("connect_tcp", logger, request_with(callback), CONNECT_KWARGS) as trace:
            trace.return_value = "s"
        with pytest.raises(KeyError):
            async with Trace("start_tls", logger, request_with(callback), {}):
                raise KeyError("k")

    asyncio.run(main())
    assert events == [
        "connection.connect_tcp.started",
        "connection.connect_tcp.complete",
        "connection.start_tls.started",
        "connection.start_tls.failed",
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "httpcore.connection"] == [
        "connect_tcp.started host='example.com' port=80 local_address=None "
        "timeout=None socket_options=None",
        "connect_tcp.complete return_value='s'",
        "start_tls.started",
        "start_tls.failed exception=KeyError('k')",
    ]


def test_sync_callback_in_async_api_is_a_type_error(logger: logging.Logger) -> None:
    def callback(name: str, info: dict[str, typing.Any]) -> None:
        pass

    async def main() -> None:
        with pytest.raises(TypeError) as info:
            async with Trace("connect_tcp", logger, request_with(callback), {}):
                pass  # pragma: no cover
        assert str(info.value) == (
            "If you're using an asynchronous interface, the callback of the `trace` "
            "extension should be an asynchronous function rather than a normal function."
        )

    asyncio.run(main())


def test_tracing_enabled(caplog: pytest.LogCaptureFixture, logger: logging.Logger) -> None:
    caplog.set_level(logging.INFO, logger="httpcore")
    plain = Request("GET", "http://a/")
    traced = request_with(lambda n, i: None)
    assert tracing_enabled(plain, logger) is False
    assert tracing_enabled(None, logger) is False
    assert tracing_enabled(traced, logger) is True
    assert tracing_enabled(Request("GET", "http://a/", extensions={"trace": None}), logger) is False
    caplog.set_level(logging.DEBUG, logger="httpcore")
    assert tracing_enabled(plain, logger) is True
    assert tracing_enabled(None, logger) is True

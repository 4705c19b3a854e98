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


# --- logging under alias names (httpcore2.*) while served as httpcore2 -------------------
# Our own names here ("hcf-ours.*" served as "hcf-alias.*"), so that the test process's
# httpcore.* loggers, shared with the real httpcore, are never touched.

OURS, ALIAS = "hcf-ours", "hcf-alias"
SERVED_NAMES = [f"{OURS}.http11", f"{OURS}.connection"]


class Collect(logging.Handler):
    """Keeps ``(logger name, message)`` of every record it handles."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.getMessage()))


@pytest.fixture
def served(caplog: pytest.LogCaptureFixture) -> typing.Iterator[logging.Logger]:
    """``hcf-ours.http11`` (and ``.connection``) served as ``hcf-alias.*``; restores every
    level, handler, filter and propagate flag it may have changed, and stops serving."""
    from httpcore_fast._trace import serve_logs_as, stop_serving_logs

    touched = [OURS, ALIAS, *SERVED_NAMES, *(n.replace(OURS, ALIAS) for n in SERVED_NAMES)]
    serve_logs_as([OURS, ALIAS], SERVED_NAMES)
    try:
        yield logging.getLogger(f"{OURS}.http11")
    finally:
        stop_serving_logs(SERVED_NAMES)
        for name in touched:
            logger = logging.getLogger(name)
            logger.setLevel(logging.NOTSET)
            logger.handlers.clear()
            logger.filters.clear()
            logger.propagate = True
            logger.disabled = False


def emit_lines(logger: logging.Logger) -> list[str]:
    """Trace two steps on ``logger``; return the DEBUG lines a plain logger would log."""
    with Trace("send_request_headers", logger, None, {"request": "<Request>"}):
        pass
    with pytest.raises(ValueError):
        with Trace("receive_response_body", logger, None, {}):
            raise ValueError("x")
    return [
        "send_request_headers.started request='<Request>'",
        "send_request_headers.complete",
        "receive_response_body.started",
        "receive_response_body.failed exception=ValueError('x')",
    ]


def on(name: str, level: int = logging.DEBUG) -> Collect:
    handler = Collect()
    logging.getLogger(name).addHandler(handler)
    logging.getLogger(name).setLevel(level)
    return handler


def test_logger_names_are_those_of_the_modules() -> None:
    """LOGGER_NAMES (what install() serves) is exactly the set of loggers our modules use."""
    import importlib
    import pkgutil

    import httpcore_fast
    from httpcore_fast._trace import LOGGER_NAMES

    used = set()
    for info in pkgutil.walk_packages(httpcore_fast.__path__, "httpcore_fast."):
        if info.name.endswith(("__main__", ".httpx")):
            continue
        module = importlib.import_module(info.name)
        used |= {v.name for v in vars(module).values() if isinstance(v, logging.Logger)}
    assert used == set(LOGGER_NAMES)
    assert {name.partition(".")[2] for name in LOGGER_NAMES} == {
        "connection", "http11", "http2", "proxy", "socks"  # httpcore2's last parts too
    }


def test_alias_configured_gets_the_lines_under_its_names(served: logging.Logger) -> None:
    """``getLogger("httpcore2").setLevel(DEBUG)`` + a handler there: the same lines, as
    ``httpcore2.*`` records; nothing under our names (not configured, not enabled)."""
    alias = on(ALIAS)
    ours = Collect()
    logging.getLogger(OURS).addHandler(ours)  # a handler, but our level stays WARNING
    assert tracing_enabled(None, served) is True
    lines = emit_lines(served)
    assert alias.seen == [(f"{ALIAS}.http11", line) for line in lines]
    assert ours.seen == []


def test_ours_configured_gets_the_lines_under_our_names(served: logging.Logger) -> None:
    ours = on(OURS)
    alias = Collect()
    logging.getLogger(ALIAS).addHandler(alias)
    lines = emit_lines(served)
    assert ours.seen == [(f"{OURS}.http11", line) for line in lines]
    assert alias.seen == []


def test_shared_root_handler_gets_each_line_once(
    served: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """The root logger's handler is reached from both names: one record per line, named
    after the configured namespace; with none configured, after ours."""
    caplog.set_level(logging.DEBUG)  # the root logger and caplog's handler on it
    lines = emit_lines(served)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (f"{OURS}.http11", line) for line in lines
    ]
    caplog.clear()
    logging.getLogger(ALIAS).setLevel(logging.DEBUG)
    emit_lines(served)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (f"{ALIAS}.http11", line) for line in lines
    ]


def test_both_configured_each_handler_once_under_its_name(
    served: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ours, alias = on(OURS), on(ALIAS)
    lines = emit_lines(served)
    assert ours.seen == [(f"{OURS}.http11", line) for line in lines]
    assert alias.seen == [(f"{ALIAS}.http11", line) for line in lines]
    assert [r.name for r in caplog.records] == [f"{OURS}.http11"] * len(lines)


def test_silencing_the_configured_alias_silences_it(
    served: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """An httpx2 user quieting ``httpcore2`` under a DEBUG root gets no lines, not ours."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger(ALIAS).setLevel(logging.WARNING)
    emit_lines(served)
    assert caplog.records == []


def test_alias_filters_and_propagate(served: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    alias = on(ALIAS)
    twin = logging.getLogger(f"{ALIAS}.http11")
    twin.addFilter(lambda record: "complete" in record.getMessage())
    emit_lines(served)
    assert [m for _, m in alias.seen] == ["send_request_headers.complete"]
    assert [r.name for r in caplog.records] == [f"{ALIAS}.http11"]
    alias.seen.clear()
    caplog.clear()
    twin.filters.clear()
    logging.getLogger(ALIAS).propagate = False  # the root handler is not reached from it
    lines = emit_lines(served)
    assert [m for _, m in alias.seen] == lines
    assert caplog.records == []


def test_enabled_check_is_cached_and_follows_level_changes(
    served: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit is the logger's level cache alone (the per-request check on the hot path);
    any setLevel or logging.disable clears it."""
    from httpcore_fast import _trace

    assert "isEnabledFor" in vars(served) and type(served) is logging.Logger
    assert served.isEnabledFor(logging.DEBUG) is False
    logging.getLogger(f"{ALIAS}.http11").setLevel(logging.DEBUG)
    assert served.isEnabledFor(logging.DEBUG) is True
    with monkeypatch.context() as patch:
        patch.setattr(_trace, "_fill_cache", None)  # a miss would now raise TypeError
        assert served.isEnabledFor(logging.DEBUG) is True
    logging.disable(logging.DEBUG)
    try:
        assert served.isEnabledFor(logging.DEBUG) is False
    finally:
        logging.disable(logging.NOTSET)
    assert served.isEnabledFor(logging.DEBUG) is True
    logging.getLogger(f"{ALIAS}.http11").disabled = True
    logging.getLogger(ALIAS).setLevel(logging.INFO)  # any level change refreshes the cache
    assert served.isEnabledFor(logging.DEBUG) is False


def test_stop_serving_restores_plain_logging(served: logging.Logger) -> None:
    from httpcore_fast._trace import stop_serving_logs

    alias = on(ALIAS)
    stop_serving_logs(SERVED_NAMES)
    stop_serving_logs(SERVED_NAMES)  # idempotent
    assert "isEnabledFor" not in vars(served) and "handle" not in vars(served)
    assert served.isEnabledFor(logging.DEBUG) is False
    emit_lines(served)
    assert alias.seen == []

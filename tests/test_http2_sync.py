"""HTTP/2 through the sync pool against real servers on loopback; concurrency by threads.

The same scenarios as ``test_http2_async.py`` where they make sense with threads, plus the
``ImportError`` that lets ``httpcore_fast`` fall back to its stand-ins without ``h2``.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import pathlib
import ssl
import sys
import typing

import pytest

import httpcore_fast as httpcore

if typing.TYPE_CHECKING:
    from tests.h2_servers import H2Server, HypercornServer

from tests.servers import wait_until

pytest_plugins = ["tests.h2_servers"]
pytestmark = pytest.mark.network

CANCEL = 0x8  # RST_STREAM error code (RFC 9113 §7)


def h2c_pool(**kwargs: typing.Any) -> httpcore.ConnectionPool:
    return httpcore.ConnectionPool(http1=False, http2=True, **kwargs)


def run_threads(count: int, fn: typing.Callable[[int], typing.Any]) -> list[typing.Any]:
    """``fn(i)`` for i in range(count), each in its own thread; results in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as executor:
        return list(executor.map(fn, range(count), timeout=30))


def test_alpn_negotiates_h2(
    hypercorn_tls: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=h2_client_ssl_context, http2=True) as pool:
        response = pool.request("GET", hypercorn_tls.url("/"))
        assert response.content == b"Hello, world!"
        assert response.extensions["http_version"] == b"HTTP/2"
        assert response.extensions["stream_id"] == 1
        assert "reason_phrase" not in response.extensions
        (connection,) = pool.connections
        origin = f"'https://127.0.0.1:{hypercorn_tls.port}'"
        assert repr(connection) == (
            f"<HTTPConnection [{origin}, HTTP/2, IDLE, Request Count: 1]>"
        )
        assert connection.is_available() and connection.is_idle()
        assert not connection.has_expired() and not connection.is_closed()


def test_alpn_falls_back_to_http11(
    hypercorn_tls_http11: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=h2_client_ssl_context, http2=True) as pool:
        response = pool.request("GET", hypercorn_tls_http11.url("/"))
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert response.content == b"Hello, world!"


def test_h2c_prior_knowledge_and_large_bodies(hypercorn_h2c: HypercornServer) -> None:
    upload = hypercorn_h2c.pattern(2 * 1024 * 1024 + 5)
    with h2c_pool() as pool:
        response = pool.request("POST", hypercorn_h2c.url("/echo"), content=upload)
        assert response.extensions["http_version"] == b"HTTP/2"
        assert response.content == upload

        def chunks() -> typing.Iterator[bytes]:
            for start in range(0, len(upload), 70_000):
                yield upload[start : start + 70_000]

        response = pool.request("POST", hypercorn_h2c.url("/echo"), content=chunks())
        assert response.content == upload
        size = 4 * 1024 * 1024
        response = pool.request("GET", hypercorn_h2c.url(f"/large?size={size}"))
        assert response.content == hypercorn_h2c.pattern(size)
        assert len(pool.connections) == 1


def test_burst_of_first_requests_opens_one_connection(
    hypercorn_tls: HypercornServer, h2_client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore.ConnectionPool(ssl_context=h2_client_ssl_context, http2=True) as pool:

        def fetch(i: int) -> int:
            response = pool.request("GET", hypercorn_tls.url("/slow?delay=0.05"))
            assert response.content == b"slow"
            return typing.cast(int, response.extensions["stream_id"])

        stream_ids = run_threads(16, fetch)
        assert len(pool.connections) == 1
        assert sorted(stream_ids) == list(range(1, 33, 2))


@pytest.mark.parametrize("limit", [1, 2, 100])
def test_multiplexing_within_the_stream_limit(h2_server: typing.Any, limit: int) -> None:
    server: H2Server = h2_server(max_streams=limit)
    with h2c_pool() as pool:

        def fetch(i: int) -> bytes:
            return pool.request("GET", server.url(f"/delay/30?{i}")).content

        assert run_threads(12, fetch) == [f"/delay/30?{i}".encode() for i in range(12)]
        assert server.connections == 1
        assert len(pool.connections) == 1
        if limit < 12:
            assert server.max_open == limit
        else:
            assert server.max_open > 2


def test_goaway_every_few_streams_loses_no_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(goaway_every=4)
    with h2c_pool(max_connections=3) as pool:

        def fetch(i: int) -> bytes:
            return pool.request("GET", server.url(f"/delay/{i % 5 * 4}?{i}")).content

        assert run_threads(40, fetch) == [f"/delay/{i % 5 * 4}?{i}".encode() for i in range(40)]
        assert server.connections >= 10


def test_idle_connection_closed_by_goaway_is_replaced(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(goaway_every=1)
    with h2c_pool() as pool:
        for i in range(4):
            assert pool.request("GET", server.url(f"/{i}")).content == f"path=/{i}".encode()
            # the GOAWAY (sent before the response) retires the connection
            wait_until(lambda: all(c.has_expired() for c in pool.connections))
        assert server.connections == 4


def test_rst_stream_and_refused_stream(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:

        def fetch(i: int) -> object:
            path = "/reset" if i % 2 == 0 else f"/refuse-once/{i}"
            try:
                return pool.request("GET", server.url(path)).content
            except httpcore.RemoteProtocolError as exc:
                return exc

        results = run_threads(8, fetch)
        for i, result in enumerate(results):
            if i % 2 == 0:
                assert isinstance(result, httpcore.RemoteProtocolError)
            else:
                assert result == f"path=/refuse-once/{i}".encode()
        assert server.connections == 1


def test_closing_a_response_early_resets_its_stream(h2_server: typing.Any) -> None:
    server: H2Server = h2_server(max_streams=1)
    with h2c_pool() as pool:
        with pool.stream("GET", server.url("/hang")) as response:
            for chunk in response.iter_stream():
                assert chunk == b"first part"
                break
        response = pool.request("GET", server.url("/large/300000"))
        assert response.content == server.pattern(300000)
        assert server.connections == 1
        assert CANCEL in server.resets


def test_read_timeout_fails_only_its_request(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with h2c_pool() as pool:

        def fetch(i: int) -> object:
            try:
                return pool.request(
                    "GET",
                    server.url("/delay/2000" if i == 0 else "/delay/300"),
                    extensions={"timeout": {"read": 0.2 if i == 0 else 5.0}},
                ).content
            except httpcore.ReadTimeout as exc:
                return exc

        slow, fast = run_threads(2, fetch)
        assert isinstance(slow, httpcore.ReadTimeout)
        assert fast == b"/delay/300"
        # Only the slow stream was reset; the connection takes the next request.
        assert pool.request("GET", server.url("/after")).content == b"path=/after"
        assert server.connections == 1
        assert server.reset_paths == [("/delay/2000", CANCEL)]


def test_trailers_and_trace(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    names: list[str] = []
    with h2c_pool() as pool:
        response = pool.request(
            "GET", server.url("/trailers"), extensions={"trace": lambda n, i: names.append(n)}
        )
        assert response.content == b"with trailers"
    assert "http2.send_connection_init.complete" in names
    assert "http2.receive_remote_settings.complete" in names
    assert names[-2:] == ["http2.response_closed.started", "http2.response_closed.complete"]


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


def test_request_fields_and_invalid_response_head(h2_server: typing.Any) -> None:
    server: H2Server = h2_server()
    with httpcore.ConnectionPool(http1=False, http2=True) as pool:
        headers = [(b"X-Mixed-Case", b"1"), (b"Proxy-Authorization", b"Basic eA==")]
        response = pool.request("GET", server.url("/fields"), headers=headers)
        assert response.content == b"path=/fields"
        fields = server.request_fields["/fields"][4:]
        assert fields == [(b"x-mixed-case", b"1"), (b"proxy-authorization", b"Basic eA==")]
        assert type(fields[1]).__name__ == "NeverIndexedHeaderTuple"
        for path in ("/bad-value", "/bad-status"):
            with pytest.raises(httpcore.RemoteProtocolError, match="Invalid HTTP/2"):
                pool.request("GET", server.url(path))
        assert pool.request("GET", server.url("/after")).content == b"path=/after"
    assert server.errors == []


@pytest.mark.parametrize(("path", "headers", "error"), [
    ("/reset-early", [], httpcore.RemoteProtocolError),
    ("/echo", [(b"Content-Length", b"5")], httpcore.LocalProtocolError),
])
def test_request_body_is_closed_when_sending_it_fails(
    h2_server: typing.Any,
    path: str,
    headers: list[tuple[bytes, bytes]],
    error: type[Exception],
) -> None:
    """A generator body that is not sent to its end is closed at once (its ``finally``
    runs); the connection goes on."""
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
        assert pool.request("GET", server.url("/after")).content == b"path=/after"
    assert server.connections == 1

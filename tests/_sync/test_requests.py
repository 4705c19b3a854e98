"""Client behaviour against real loopback servers: requests, responses, bodies, TLS,
connection options; on both HTTP/1.1 kernels (tests/conftest.py).

The async tests run on asyncio and on trio; those that take a ``network_backend`` also run
on ``AnyIOBackend`` (so: native asyncio, trio, anyio on asyncio, anyio on trio).

Generated from ``tests/_async/test_requests.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import socket
import ssl
import struct
import typing
from contextlib import closing
from typing import Any

import pytest

import httpcore_fast
from httpcore_fast._backends.sync import SyncBackend
from tests._sync.support import IDLE_POOL, Backend
from tests.servers import (
    HELLO,
    UvicornServer,
    echo,
    echoed_header,
    header,
    keepalive_script,
    large_body,
    stream_chunk,
)

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network, pytest.mark.usefixtures("kernel")]


# --- GET over HTTP and HTTPS ----------------------------------------------------------


def test_get_plain_http(http_server: UvicornServer, network_backend: Backend) -> None:
    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        response = pool.request("GET", http_server.url("/"))
        assert isinstance(response, httpcore_fast.Response)
        assert response.status == 200
        assert response.content == HELLO
        assert header(response, b"content-type") == b"text/plain"
        assert header(response, b"content-length") == b"13"
        assert header(response, b"server") == b"uvicorn"
        # header names come back exactly as sent, as a list of bytes pairs
        assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in response.headers)
        assert [k for k, _ in response.headers][-2:] == [b"content-type", b"content-length"]
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert response.extensions["reason_phrase"] == b"OK"
        stream = response.extensions["network_stream"]
        assert isinstance(stream, httpcore_fast.NetworkStream)
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", http_server.port)
        client_addr = stream.get_extra_info("client_addr")
        assert client_addr[0] == "127.0.0.1"
        assert str(client_addr[1]).encode() == header(response, b"x-client-port")
        assert stream.get_extra_info("ssl_object") is None
        # a socket.socket, or asyncio's TransportSocket wrapper of one (as anyio gives)
        sock = stream.get_extra_info("socket")
        assert sock.family == socket.AF_INET and sock.type == socket.SOCK_STREAM
        assert sock.getpeername() == ("127.0.0.1", http_server.port)
        assert stream.get_extra_info("no-such-key") is None
        assert repr(pool) == IDLE_POOL.format(1)


def test_get_https(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        response = pool.request("GET", https_server.url("/"))
        assert response.status == 200
        assert response.content == HELLO
        assert response.extensions["http_version"] == b"HTTP/1.1"
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object is not None
        assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
        assert ssl_object.server_hostname == "127.0.0.1"
        assert ssl_object.getpeercert()["subjectAltName"] == (
            ("DNS", "localhost"),
            ("IP Address", "127.0.0.1"),
        )
        assert repr(pool.connections[0]) == (
            f"<HTTPConnection ['{https_server.origin}', HTTP/1.1, IDLE, Request Count: 1]>"
        )
        # the TLS connection is kept alive and reused
        again = pool.request("GET", https_server.url("/"))
        assert header(again, b"x-client-port") == header(response, b"x-client-port")
        assert len(pool.connections) == 1


def test_https_untrusted_certificate_is_connect_error(
    https_server: UvicornServer, network_backend: Backend
) -> None:
    untrusting = ssl.create_default_context()  # does not know the trustme CA
    with httpcore_fast.ConnectionPool(
        ssl_context=untrusting, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", https_server.url("/"))
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


def test_https_via_localhost_name(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", https_server.port)}
    if "127.0.0.1" not in addresses:  # pragma: no cover - a host without IPv4 localhost
        pytest.skip(f"localhost resolves to {sorted(addresses)}, not 127.0.0.1")
    url = f"https://localhost:{https_server.port}/"
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        response = pool.request("GET", url)
    assert response.content == HELLO


def test_sni_hostname_sets_server_hostname(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        response = pool.request(
            "GET", https_server.url("/"), extensions={"sni_hostname": "localhost"}
        )
        assert response.content == HELLO
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object.server_hostname == "localhost"


def test_sni_hostname_is_used_for_verification(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    # The certificate is valid for 127.0.0.1 but not for example.org: the name given
    # as sni_hostname must be the one checked.
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request(
                "GET", https_server.url("/"), extensions={"sni_hostname": "example.org"}
            )
        assert pool.connections == []


def test_http2_enabled_falls_back_to_http11_without_alpn(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, http2=True
    ) as pool:
        response = pool.request("GET", https_server.url("/"))
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert response.content == HELLO
        assert repr(pool.connections[0]).startswith(
            f"<HTTPConnection ['{https_server.origin}', HTTP/1.1, IDLE"
        )


def test_tls_to_a_plain_http_server_is_connect_error(
    http_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    url = f"https://127.0.0.1:{http_server.port}/"
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            pool.request("GET", url, extensions={"timeout": {"connect": 5}})
        assert pool.connections == []


def test_tls_handshake_timeout_is_connect_timeout(
    scripted_server: Any, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    # The server accepts TCP and never speaks TLS for longer than the test would wait
    # (10 s): only the 0.2 s connect timeout can end the handshake.
    server = scripted_server(lambda conn: conn.hold(10))
    url = f"https://127.0.0.1:{server.port}/"
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectTimeout) as info:
            pool.request("GET", url, extensions={"timeout": {"connect": 0.2}})
        assert type(info.value) is httpcore_fast.ConnectTimeout
        assert pool.connections == []
    assert server.connection_count == 1


# --- URL and request forms ------------------------------------------------------------


def test_url_as_str_bytes_and_url_object(http_server: UvicornServer) -> None:
    url = http_server.url("/echo?a=1&b=two")
    urls: list[Any] = [
        url,
        url.encode(),
        httpcore_fast.URL(url),
        httpcore_fast.URL(
            scheme=b"http", host=b"127.0.0.1", port=http_server.port, target=b"/echo?a=1&b=two"
        ),
    ]
    with httpcore_fast.ConnectionPool() as pool:
        for u in urls:
            data = echo(pool.request(b"GET", u))
            assert (data["method"], data["path"], data["query"]) == ("GET", "/echo", "a=1&b=two")
        assert len(pool.connections) == 1


def test_handle_request_with_request_object(http_server: UvicornServer) -> None:
    # A Request built by hand gets no Host header added (only .request()/.stream() do that)
    request = httpcore_fast.Request(
        "GET", http_server.url("/"), headers={"Host": f"127.0.0.1:{http_server.port}"}
    )
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.handle_request(request)
        try:
            assert response.status == 200
            with pytest.raises(RuntimeError):
                response.content  # noqa: B018 - not read yet
            assert response.read() == HELLO
            assert response.content == HELLO
        finally:
            response.close()
        assert repr(pool) == IDLE_POOL.format(1)


def test_request_headers_reach_the_server(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        data = echo(
            pool.request(
                "GET",
                http_server.url("/echo"),
                headers=[(b"X-Custom", b"value 1"), ("Accept", "text/plain")],
            )
        )
    assert echoed_header(data, "host") == [f"127.0.0.1:{http_server.port}"]
    assert echoed_header(data, "x-custom") == ["value 1"]
    assert echoed_header(data, "accept") == ["text/plain"]
    assert echoed_header(data, "content-length") == []
    assert echoed_header(data, "transfer-encoding") == []


def test_explicit_host_header_is_kept(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        data = echo(
            pool.request("GET", http_server.url("/echo"), headers={"Host": "example.org"})
        )
    assert echoed_header(data, "host") == ["example.org"]


# The module-level request()/stream() exist in the sync API only (as in httpcore).


def test_top_level_request(http_server: UvicornServer) -> None:
    response = httpcore_fast.request("GET", http_server.url("/"))
    assert response.status == 200
    assert response.content == HELLO
    assert response.extensions["reason_phrase"] == b"OK"


def test_top_level_request_with_body(http_server: UvicornServer) -> None:
    data = echo(httpcore_fast.request("PUT", http_server.url("/echo"), content=b"top-level"))
    assert data["method"] == "PUT"
    assert data["body"] == "top-level"


def test_top_level_stream(http_server: UvicornServer) -> None:
    with httpcore_fast.stream("GET", http_server.url("/stream?chunks=3&size=4")) as response:
        assert response.status == 200
        body = b"".join(response.iter_stream())
    assert body == b"0000" + b"1111" + b"2222"


# --- request bodies -------------------------------------------------------------------


def test_post_bytes_body(http_server: UvicornServer) -> None:
    body = b"hello \x00\xff world" * 100
    with httpcore_fast.ConnectionPool() as pool:
        data = echo(pool.request("POST", http_server.url("/echo"), content=body))
    assert data["method"] == "POST"
    assert data["body"].encode("latin-1") == body
    assert echoed_header(data, "content-length") == [str(len(body))]
    assert echoed_header(data, "transfer-encoding") == []


def test_post_empty_bytes_body(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        data = echo(pool.request("POST", http_server.url("/echo"), content=b""))
    assert data["body"] == ""
    assert echoed_header(data, "content-length") == ["0"]


def test_post_iterator_body_is_chunked(http_server: UvicornServer) -> None:
    parts = [b"first,", b"", b"second,", b"x" * 70_000, b"last"]

    def body() -> typing.Iterator[bytes]:
        for part in parts:
            # a real suspension between chunks
            yield part

    with httpcore_fast.ConnectionPool() as pool:
        data = echo(pool.request("POST", http_server.url("/echo"), content=body()))
    assert data["body"].encode("latin-1") == b"".join(parts)
    assert echoed_header(data, "transfer-encoding") == ["chunked"]
    assert echoed_header(data, "content-length") == []


class IterableBody:
    """An iterable that is not a generator (as httpx's byte streams)."""

    def __iter__(self) -> typing.Iterator[bytes]:
        yield b"abc"
        yield b"def"


def generator_body() -> typing.Iterator[bytes]:
    yield b"abc"
    yield b"def"


@pytest.mark.parametrize("body", [generator_body, IterableBody], ids=["generator", "iterable"])
def test_post_body_with_explicit_content_length(
    http_server: UvicornServer, body: typing.Callable[[], typing.Any]
) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        data = echo(
            pool.request(
                "POST", http_server.url("/echo"), headers={"Content-Length": "6"}, content=body()
            )
        )
    assert data["body"] == "abcdef"
    assert echoed_header(data, "content-length") == ["6"]
    assert echoed_header(data, "transfer-encoding") == []


def test_body_shorter_than_content_length_is_local_protocol_error(
    scripted_server: Any,
) -> None:
    server = scripted_server(keepalive_script(b"ok"))

    def body() -> typing.Iterator[bytes]:
        yield b"abc"

    with httpcore_fast.ConnectionPool() as pool:
        with pytest.raises(httpcore_fast.LocalProtocolError):
            pool.request(
                "POST", server.url("/"), headers={"Content-Length": "10"}, content=body()
            )
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


def test_large_upload_and_download_on_one_connection(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    upload = large_body(3 * 65536 + 11)
    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        data = echo(pool.request("POST", http_server.url("/echo"), content=upload))
        assert data["body"].encode("latin-1") == upload
        size = (1 << 20) + 7
        response = pool.request("GET", http_server.url(f"/large?size={size}"))
        assert response.content == large_body(size)
        assert len(pool.connections) == 1


def test_large_body(http_server: UvicornServer) -> None:
    size = 4 * (1 << 20) + 3
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", http_server.url(f"/large?size={size}"))
    assert header(response, b"content-length") == str(size).encode()
    assert response.content == large_body(size)


# --- responses ------------------------------------------------------------------------


def test_head_has_no_body(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("HEAD", http_server.url("/"))
        assert (response.status, response.content) == (200, b"")
        assert header(response, b"content-length") == b"13"
        # the body that HEAD announced is not waited for: the connection is reusable
        again = pool.request("GET", http_server.url("/"))
        assert again.content == HELLO
        assert header(again, b"x-client-port") == header(response, b"x-client-port")


@pytest.mark.parametrize(
    ("code", "reason", "content"),
    [
        (204, b"No Content", b""),
        (304, b"Not Modified", b""),
        (404, b"Not Found", b"status 404"),
        (500, b"Internal Server Error", b"status 500"),
    ],
)
def test_status_codes(
    http_server: UvicornServer, code: int, reason: bytes, content: bytes
) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        first = pool.request("GET", http_server.url(f"/status/{code}"))
        assert first.status == code
        assert first.extensions["reason_phrase"] == reason
        assert first.content == content
        if code == 304:
            assert header(first, b"etag") == b'"v1"'
        # framing was right: the same connection serves the next request
        second = pool.request("GET", http_server.url("/"))
        assert second.content == HELLO
        assert header(second, b"x-client-port") == header(first, b"x-client-port")
        assert len(pool.connections) == 1


def test_fifty_header_fields(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", http_server.url("/headers?n=50"))
    custom = [(k, v) for k, v in response.headers if k.startswith(b"x-header-")]
    assert custom == [(f"x-header-{i}".encode(), f"value-{i}".encode()) for i in range(50)]
    assert len(response.headers) == 50 + 4  # date, server, x-client-port, content-length
    assert response.content == b"ok"


# --- streaming ------------------------------------------------------------------------


def test_stream_chunked_download(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    chunks, size = 6, 1000
    expected = b"".join(stream_chunk(i, size) for i in range(chunks))
    url = http_server.url(f"/stream?chunks={chunks}&size={size}&delay=0.02")
    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with pool.stream("GET", url) as response:
            assert response.status == 200
            # header names keep the server's case (uvicorn writes this one capitalised)
            assert (b"Transfer-Encoding", b"chunked") in response.headers
            with pytest.raises(RuntimeError):
                response.content  # noqa: B018 - not read yet
            received = [part for part in response.iter_stream()]
            assert all(isinstance(part, bytes) for part in received)
        assert b"".join(received) == expected
        # the server paused between chunks, so they cannot all arrive in one piece
        assert len([p for p in received if p]) >= 2
        # fully read and closed: the connection went back to the pool
        assert repr(pool) == IDLE_POOL.format(1)


def test_stream_read_inside_context(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        with pool.stream("GET", http_server.url("/stream?chunks=4&size=3")) as response:
            assert response.read() == b"000111222333"
            assert response.content == b"000111222333"


# Stopping early leaves body generators un-exhausted (see async_servers).
def test_stream_closed_early_releases_the_connection(http_server: UvicornServer) -> None:
    url = http_server.url("/stream?chunks=40&size=10&delay=0.5")  # 20 s if read fully
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        with pool.stream("GET", url) as response:
            with closing(response.iter_stream()) as parts:
                first = parts.__next__()
            assert first.startswith(b"0")
            assert repr(pool) == (
                "<ConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
        # closing aborts the half-read response: the connection was closed and dropped
        # (draining it would have taken 20 s and kept it), and the only slot is free
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)
        response = pool.request(
            "GET", http_server.url("/"), extensions={"timeout": {"pool": 2}}
        )
        assert response.content == HELLO


def test_response_close_without_reading(http_server: UvicornServer) -> None:
    with httpcore_fast.ConnectionPool(max_connections=1) as pool:
        host = f"127.0.0.1:{http_server.port}"
        request = httpcore_fast.Request("GET", http_server.url("/large"), headers={"Host": host})
        response = pool.handle_request(request)
        response.close()
        assert repr(pool).startswith("<ConnectionPool [Requests: 0 active, 0 queued")
        assert (pool.request("GET", http_server.url("/"))).content == HELLO


# --- connection classes used directly ---------------------------------------------------


def test_http_connection_directly(http_server: UvicornServer) -> None:
    origin = httpcore_fast.Origin(b"http", b"127.0.0.1", http_server.port)
    with httpcore_fast.HTTPConnection(origin=origin) as connection:
        assert isinstance(connection, httpcore_fast.ConnectionInterface)
        assert repr(connection) == "<HTTPConnection [CONNECTING]>"
        assert connection.can_handle_request(origin)
        assert not connection.can_handle_request(
            httpcore_fast.Origin(b"https", b"127.0.0.1", http_server.port)
        )
        response = connection.request("GET", http_server.url("/"))
        assert response.content == HELLO
        assert repr(connection) == (
            f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, IDLE, Request Count: 1]>"
        )
        assert connection.is_idle() and connection.is_available()
        assert not connection.is_closed() and not connection.has_expired()
        with connection.stream("GET", http_server.url("/")) as streamed:
            assert repr(connection) == (
                f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, ACTIVE, "
                "Request Count: 2]>"
            )
            assert not connection.is_idle()
            assert streamed.read() == HELLO
    assert connection.is_closed()
    assert repr(connection) == (
        f"<HTTPConnection ['{http_server.origin}', HTTP/1.1, CLOSED, Request Count: 2]>"
    )


def test_http_connection_rejects_other_origin(http_server: UvicornServer) -> None:
    origin = httpcore_fast.Origin(b"http", b"127.0.0.1", http_server.port)
    with httpcore_fast.HTTPConnection(origin=origin) as connection:
        with pytest.raises(RuntimeError):
            connection.request("GET", f"http://127.0.0.1:{http_server.port + 1}/")


def test_http11_connection_over_a_backend_stream(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    backend = network_backend or SyncBackend()
    origin = httpcore_fast.Origin(b"http", b"127.0.0.1", http_server.port)
    stream = backend.connect_tcp("127.0.0.1", http_server.port)
    with httpcore_fast.HTTP11Connection(origin=origin, stream=stream) as connection:
        assert repr(connection) == (
            f"<HTTP11Connection ['{http_server.origin}', NEW, Request Count: 0]>"
        )
        for _ in range(3):
            response = connection.request("GET", http_server.url("/"))
            assert response.content == HELLO
            assert response.extensions["network_stream"] is stream
        assert repr(connection) == (
            f"<HTTP11Connection ['{http_server.origin}', IDLE, Request Count: 3]>"
        )
        assert connection.info() == f"'{http_server.origin}', HTTP/1.1, IDLE, Request Count: 3"
    assert connection.is_closed()
    assert repr(connection) == (
        f"<HTTP11Connection ['{http_server.origin}', CLOSED, Request Count: 3]>"
    )


def test_mock_backend_through_the_pool() -> None:
    backend = httpcore_fast.MockBackend(
        [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 4\r\n\r\n", b"mock"]
    )
    with httpcore_fast.ConnectionPool(network_backend=backend) as pool:
        response = pool.request("GET", "https://example.com/")
        assert response.content == b"mock"
        stream = response.extensions["network_stream"]
        assert repr(stream) == "<httpcore.MockStream>"
        assert repr(pool.connections[0]) == (
            "<HTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
        )


# --- connection options, on every backend -------------------------------------------------


def test_local_address(http_server: UvicornServer, network_backend: Backend) -> None:
    events: list[tuple[str, dict[str, Any]]] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append((name, info))

    with httpcore_fast.ConnectionPool(
        local_address="127.0.0.1", network_backend=network_backend
    ) as pool:
        data = echo(
            pool.request("GET", http_server.url("/echo"), extensions={"trace": trace})
        )
    assert data["client"][0] == "127.0.0.1"
    started = [info for name, info in events if name == "connection.connect_tcp.started"]
    assert started[0]["local_address"] == "127.0.0.1"


def test_socket_options(http_server: UvicornServer, network_backend: Backend) -> None:
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.SOL_SOCKET, socket.SO_RCVBUF, 32768),
    ]
    with httpcore_fast.ConnectionPool(
        socket_options=options, network_backend=network_backend
    ) as pool:
        response = pool.request("GET", http_server.url("/"))
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 32768
        assert response.content == HELLO


def test_socket_option_with_bytes_value(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    linger = struct.pack("ii", 1, 5)  # struct linger {l_onoff=1, l_linger=5}
    options = [(socket.SOL_SOCKET, socket.SO_LINGER, linger)]
    with httpcore_fast.ConnectionPool(
        socket_options=options, network_backend=network_backend
    ) as pool:
        response = pool.request("GET", http_server.url("/"))
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)) == (
            1,
            5,
        )
        assert response.content == HELLO


def test_unix_domain_socket(
    scripted_server: Any, uds_path: str, network_backend: Backend
) -> None:
    server = scripted_server(keepalive_script(b"over uds"), uds_path=uds_path)
    events: list[tuple[str, dict[str, Any]]] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append((name, info))

    with httpcore_fast.ConnectionPool(
        uds=uds_path, network_backend=network_backend
    ) as pool:
        for _ in range(3):
            response = pool.request(
                "GET", "http://localhost/uds", extensions={"trace": trace}
            )
            assert (response.status, response.content) == (200, b"over uds")
        assert len(pool.connections) == 1
    assert server.connection_count == 1
    requests = server.connections[0].requests
    assert len(requests) == 3
    assert requests[0].startswith(b"GET /uds HTTP/1.1\r\n")
    assert b"\r\nHost: localhost\r\n" in requests[0]
    names = [name for name, _ in events]
    assert names.count("connection.connect_unix_socket.started") == 1
    assert "connection.connect_tcp.started" not in names
    assert dict(events)["connection.connect_unix_socket.started"] == {
        "path": uds_path,
        "timeout": None,
        "socket_options": None,
    }

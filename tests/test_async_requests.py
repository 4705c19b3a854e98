"""Async client behaviour against real loopback servers: requests, responses, bodies, TLS,
connection options. Every test runs on asyncio and on trio; those that take a
``network_backend`` also run on ``AnyIOBackend`` (so: native asyncio, trio, anyio on
asyncio, anyio on trio).

Issue: "Async client: AsyncConnectionPool on asyncio and trio ...".
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import time
import typing
from contextlib import aclosing
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import httpcore_fast
from tests import async_servers
from tests.servers import HELLO, UvicornServer, keepalive_script, large_body, stream_chunk

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network, pytest.mark.anyio]

anyio_backend = async_servers.anyio_backend
network_backend = async_servers.network_backend

Backend = async_servers.Backend
IDLE_POOL = async_servers.IDLE_POOL


def header(response: httpcore_fast.Response, name: bytes) -> bytes:
    values = [v for k, v in response.headers if k.lower() == name]
    assert len(values) == 1, (name, response.headers)
    return values[0]


def echo(response: httpcore_fast.Response) -> dict[str, Any]:
    assert response.status == 200
    data: dict[str, Any] = json.loads(response.content)
    return data


def echoed_header(data: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in data["headers"] if k == name]


# --- GET over HTTP and HTTPS ----------------------------------------------------------


async def test_get_plain_http(http_server: UvicornServer, network_backend: Backend) -> None:
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        response = await pool.request("GET", http_server.url("/"))
        assert isinstance(response, httpcore_fast.Response)
        assert response.status == 200
        assert response.content == HELLO
        assert header(response, b"content-type") == b"text/plain"
        assert header(response, b"content-length") == b"13"
        assert header(response, b"server") == b"uvicorn"
        assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in response.headers)
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert response.extensions["reason_phrase"] == b"OK"
        stream = response.extensions["network_stream"]
        assert isinstance(stream, httpcore_fast.AsyncNetworkStream)
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


async def test_get_https(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        response = await pool.request("GET", https_server.url("/"))
        assert response.status == 200
        assert response.content == HELLO
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object is not None
        assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
        assert ssl_object.server_hostname == "127.0.0.1"
        assert repr(pool.connections[0]) == (
            f"<AsyncHTTPConnection ['{https_server.origin}', HTTP/1.1, IDLE, Request Count: 1]>"
        )
        # the TLS connection is kept alive and reused
        again = await pool.request("GET", https_server.url("/"))
        assert header(again, b"x-client-port") == header(response, b"x-client-port")
        assert len(pool.connections) == 1


async def test_https_untrusted_certificate_is_connect_error(
    https_server: UvicornServer, network_backend: Backend
) -> None:
    untrusting = ssl.create_default_context()
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=untrusting, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            await pool.request("GET", https_server.url("/"))
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


async def test_sni_hostname(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        response = await pool.request(
            "GET", https_server.url("/"), extensions={"sni_hostname": "localhost"}
        )
        assert response.content == HELLO
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object.server_hostname == "localhost"
    # the certificate is not valid for example.org: the SNI name is the one verified
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            await pool.request(
                "GET", https_server.url("/"), extensions={"sni_hostname": "example.org"}
            )
        assert pool.connections == []


async def test_http2_enabled_falls_back_to_http11_without_alpn(
    https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=client_ssl_context, http2=True
    ) as pool:
        response = await pool.request("GET", https_server.url("/"))
        assert response.extensions["http_version"] == b"HTTP/1.1"
        assert response.content == HELLO


async def test_tls_to_a_plain_http_server_is_connect_error(
    http_server: UvicornServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    url = f"https://127.0.0.1:{http_server.port}/"
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            await pool.request("GET", url, extensions={"timeout": {"connect": 5}})
        assert pool.connections == []


async def test_tls_handshake_timeout_is_connect_timeout(
    scripted_server: Any, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    server = scripted_server(lambda conn: conn.hold(10))  # accepts TCP, never speaks TLS
    url = f"https://127.0.0.1:{server.port}/"
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        started = time.monotonic()
        with pytest.raises(httpcore_fast.ConnectTimeout) as info:
            await pool.request("GET", url, extensions={"timeout": {"connect": 0.2}})
        assert type(info.value) is httpcore_fast.ConnectTimeout
        assert time.monotonic() - started < 3
        assert pool.connections == []


# --- URL and request forms ------------------------------------------------------------


async def test_url_as_str_bytes_and_url_object(http_server: UvicornServer) -> None:
    url = http_server.url("/echo?a=1&b=two")
    urls: list[Any] = [
        url,
        url.encode(),
        httpcore_fast.URL(url),
        httpcore_fast.URL(
            scheme=b"http", host=b"127.0.0.1", port=http_server.port, target=b"/echo?a=1&b=two"
        ),
    ]
    async with httpcore_fast.AsyncConnectionPool() as pool:
        for u in urls:
            data = echo(await pool.request(b"GET", u))
            assert (data["method"], data["path"], data["query"]) == ("GET", "/echo", "a=1&b=two")
        assert len(pool.connections) == 1


async def test_handle_async_request_with_request_object(http_server: UvicornServer) -> None:
    request = httpcore_fast.Request(
        "GET", http_server.url("/"), headers={"Host": f"127.0.0.1:{http_server.port}"}
    )
    async with httpcore_fast.AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(request)
        try:
            assert response.status == 200
            with pytest.raises(RuntimeError):
                response.content  # noqa: B018 - not read yet
            # the sync API on an async response is an error, not a hang
            with pytest.raises(RuntimeError):
                response.read()
            assert await response.aread() == HELLO
            assert response.content == HELLO
        finally:
            await response.aclose()
        assert repr(pool) == IDLE_POOL.format(1)


async def test_request_headers_reach_the_server(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        data = echo(
            await pool.request(
                "GET",
                http_server.url("/echo"),
                headers=[(b"X-Custom", b"value 1"), ("Accept", "text/plain")],
            )
        )
        explicit = echo(
            await pool.request("GET", http_server.url("/echo"), headers={"Host": "example.org"})
        )
    assert echoed_header(data, "host") == [f"127.0.0.1:{http_server.port}"]
    assert echoed_header(data, "x-custom") == ["value 1"]
    assert echoed_header(data, "accept") == ["text/plain"]
    assert echoed_header(data, "content-length") == []
    assert echoed_header(data, "transfer-encoding") == []
    assert echoed_header(explicit, "host") == ["example.org"]


# --- request bodies -------------------------------------------------------------------


async def test_post_bytes_body(http_server: UvicornServer) -> None:
    body = b"hello \x00\xff world" * 100
    async with httpcore_fast.AsyncConnectionPool() as pool:
        data = echo(await pool.request("POST", http_server.url("/echo"), content=body))
        empty = echo(await pool.request("POST", http_server.url("/echo"), content=b""))
    assert data["method"] == "POST"
    assert data["body"].encode("latin-1") == body
    assert echoed_header(data, "content-length") == [str(len(body))]
    assert echoed_header(data, "transfer-encoding") == []
    assert empty["body"] == ""
    assert echoed_header(empty, "content-length") == ["0"]


async def test_post_async_iterator_body_is_chunked(http_server: UvicornServer) -> None:
    parts = [b"first,", b"", b"second,", b"x" * 70_000, b"last"]

    async def body() -> typing.AsyncIterator[bytes]:
        for part in parts:
            await anyio.lowlevel.checkpoint()  # a real suspension between chunks
            yield part

    async with httpcore_fast.AsyncConnectionPool() as pool:
        data = echo(await pool.request("POST", http_server.url("/echo"), content=body()))
    assert data["body"].encode("latin-1") == b"".join(parts)
    assert echoed_header(data, "transfer-encoding") == ["chunked"]
    assert echoed_header(data, "content-length") == []


async def test_post_async_iterable_object_with_content_length(
    http_server: UvicornServer,
) -> None:
    class Body:
        """An async iterable that is not a generator (as httpx's AsyncByteStream)."""

        async def __aiter__(self) -> typing.AsyncIterator[bytes]:
            yield b"abc"
            yield b"def"

    async with httpcore_fast.AsyncConnectionPool() as pool:
        data = echo(
            await pool.request(
                "POST", http_server.url("/echo"), headers={"Content-Length": "6"}, content=Body()
            )
        )
    assert data["body"] == "abcdef"
    assert echoed_header(data, "content-length") == ["6"]
    assert echoed_header(data, "transfer-encoding") == []


async def test_body_shorter_than_content_length_is_local_protocol_error(
    scripted_server: Any,
) -> None:
    server = scripted_server(keepalive_script(b"ok"))

    async def body() -> typing.AsyncIterator[bytes]:
        yield b"abc"

    async with httpcore_fast.AsyncConnectionPool() as pool:
        with pytest.raises(httpcore_fast.LocalProtocolError):
            await pool.request(
                "POST", server.url("/"), headers={"Content-Length": "10"}, content=body()
            )
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)


async def test_large_upload_and_download_on_one_connection(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    upload = large_body(3 * 65536 + 11)
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        data = echo(await pool.request("POST", http_server.url("/echo"), content=upload))
        assert data["body"].encode("latin-1") == upload
        size = (1 << 20) + 7
        response = await pool.request("GET", http_server.url(f"/large?size={size}"))
        assert response.content == large_body(size)
        assert len(pool.connections) == 1


# --- responses ------------------------------------------------------------------------


async def test_head_has_no_body(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        response = await pool.request("HEAD", http_server.url("/"))
        assert (response.status, response.content) == (200, b"")
        assert header(response, b"content-length") == b"13"
        again = await pool.request("GET", http_server.url("/"))
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
async def test_status_codes(
    http_server: UvicornServer, code: int, reason: bytes, content: bytes
) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        first = await pool.request("GET", http_server.url(f"/status/{code}"))
        assert first.status == code
        assert first.extensions["reason_phrase"] == reason
        assert first.content == content
        second = await pool.request("GET", http_server.url("/"))
        assert second.content == HELLO
        assert header(second, b"x-client-port") == header(first, b"x-client-port")
        assert len(pool.connections) == 1


async def test_fifty_header_fields(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        response = await pool.request("GET", http_server.url("/headers?n=50"))
    custom = [(k, v) for k, v in response.headers if k.startswith(b"x-header-")]
    assert custom == [(f"x-header-{i}".encode(), f"value-{i}".encode()) for i in range(50)]
    assert response.content == b"ok"


# --- streaming ------------------------------------------------------------------------


async def test_stream_chunked_download(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    chunks, size = 6, 1000
    expected = b"".join(stream_chunk(i, size) for i in range(chunks))
    url = http_server.url(f"/stream?chunks={chunks}&size={size}&delay=0.02")
    async with httpcore_fast.AsyncConnectionPool(network_backend=network_backend) as pool:
        async with pool.stream("GET", url) as response:
            assert response.status == 200
            assert (b"Transfer-Encoding", b"chunked") in response.headers
            with pytest.raises(RuntimeError):
                response.content  # noqa: B018 - not read yet
            received = [part async for part in response.aiter_stream()]
            assert all(isinstance(part, bytes) for part in received)
        assert b"".join(received) == expected
        assert len([p for p in received if p]) >= 2
        assert repr(pool) == IDLE_POOL.format(1)


async def test_stream_aread_inside_context(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        async with pool.stream("GET", http_server.url("/stream?chunks=4&size=3")) as response:
            assert await response.aread() == b"000111222333"
            assert response.content == b"000111222333"
        # sync iteration of an async response is refused
        with pytest.raises(RuntimeError):
            list(response.iter_stream())


# Stopping early leaves body generators un-exhausted (see async_servers).
async def test_stream_closed_early_releases_the_connection(http_server: UvicornServer) -> None:
    url = http_server.url("/stream?chunks=40&size=10&delay=0.5")  # 20 s if read fully
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        started = time.monotonic()
        async with pool.stream("GET", url) as response:
            async with aclosing(response.aiter_stream()) as parts:
                first = await parts.__anext__()
            assert first.startswith(b"0")
            assert repr(pool) == (
                "<AsyncConnectionPool [Requests: 1 active, 0 queued | "
                "Connections: 1 active, 0 idle]>"
            )
        # closing aborts the stream; draining it would take 20 s
        assert time.monotonic() - started < 10
        assert pool.connections == []
        assert repr(pool) == IDLE_POOL.format(0)
        response = await pool.request(
            "GET", http_server.url("/"), extensions={"timeout": {"pool": 2}}
        )
        assert response.content == HELLO


async def test_response_aclose_without_reading(http_server: UvicornServer) -> None:
    async with httpcore_fast.AsyncConnectionPool(max_connections=1) as pool:
        host = f"127.0.0.1:{http_server.port}"
        request = httpcore_fast.Request("GET", http_server.url("/large"), headers={"Host": host})
        response = await pool.handle_async_request(request)
        await response.aclose()
        assert repr(pool).startswith("<AsyncConnectionPool [Requests: 0 active, 0 queued")
        assert (await pool.request("GET", http_server.url("/"))).content == HELLO


# --- connection classes used directly ---------------------------------------------------


async def test_async_http_connection_directly(http_server: UvicornServer) -> None:
    origin = httpcore_fast.Origin(b"http", b"127.0.0.1", http_server.port)
    async with httpcore_fast.AsyncHTTPConnection(origin=origin) as connection:
        assert isinstance(connection, httpcore_fast.AsyncConnectionInterface)
        assert repr(connection) == "<AsyncHTTPConnection [CONNECTING]>"
        assert connection.can_handle_request(origin)
        assert not connection.can_handle_request(
            httpcore_fast.Origin(b"https", b"127.0.0.1", http_server.port)
        )
        response = await connection.request("GET", http_server.url("/"))
        assert response.content == HELLO
        assert repr(connection) == (
            f"<AsyncHTTPConnection ['{http_server.origin}', HTTP/1.1, IDLE, Request Count: 1]>"
        )
        assert connection.is_idle() and connection.is_available()
        assert not connection.is_closed() and not connection.has_expired()
        async with connection.stream("GET", http_server.url("/")) as streamed:
            assert repr(connection) == (
                f"<AsyncHTTPConnection ['{http_server.origin}', HTTP/1.1, ACTIVE, "
                "Request Count: 2]>"
            )
            assert not connection.is_idle()
            assert await streamed.aread() == HELLO
        with pytest.raises(RuntimeError):
            await connection.request("GET", f"http://127.0.0.1:{http_server.port + 1}/")
    assert connection.is_closed()
    assert repr(connection) == (
        f"<AsyncHTTPConnection ['{http_server.origin}', HTTP/1.1, CLOSED, Request Count: 2]>"
    )


async def test_async_http11_connection_over_a_backend_stream(
    http_server: UvicornServer, anyio_backend: str
) -> None:
    backend: httpcore_fast.AsyncNetworkBackend
    if anyio_backend == "trio":
        backend = httpcore_fast.TrioBackend()
    else:
        backend = httpcore_fast.AnyIOBackend()
    origin = httpcore_fast.Origin(b"http", b"127.0.0.1", http_server.port)
    stream = await backend.connect_tcp("127.0.0.1", http_server.port)
    async with httpcore_fast.AsyncHTTP11Connection(origin=origin, stream=stream) as connection:
        assert repr(connection) == (
            f"<AsyncHTTP11Connection ['{http_server.origin}', NEW, Request Count: 0]>"
        )
        for _ in range(3):
            response = await connection.request("GET", http_server.url("/"))
            assert response.content == HELLO
            assert response.extensions["network_stream"] is stream
        assert connection.info() == f"'{http_server.origin}', HTTP/1.1, IDLE, Request Count: 3"
    assert connection.is_closed()
    assert repr(connection) == (
        f"<AsyncHTTP11Connection ['{http_server.origin}', CLOSED, Request Count: 3]>"
    )


async def test_mock_backend_through_the_pool() -> None:
    backend = httpcore_fast.AsyncMockBackend(
        [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 4\r\n\r\n", b"mock"]
    )
    async with httpcore_fast.AsyncConnectionPool(network_backend=backend) as pool:
        response = await pool.request("GET", "https://example.com/")
        assert response.content == b"mock"
        stream = response.extensions["network_stream"]
        assert repr(stream) == "<httpcore.AsyncMockStream>"
        assert repr(pool.connections[0]) == (
            "<AsyncHTTPConnection ['https://example.com:443', HTTP/1.1, IDLE, Request Count: 1]>"
        )


# --- connection options, on every backend -------------------------------------------------


async def test_local_address(http_server: UvicornServer, network_backend: Backend) -> None:
    events: list[tuple[str, dict[str, Any]]] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append((name, info))

    async with httpcore_fast.AsyncConnectionPool(
        local_address="127.0.0.1", network_backend=network_backend
    ) as pool:
        data = echo(
            await pool.request("GET", http_server.url("/echo"), extensions={"trace": trace})
        )
    assert data["client"][0] == "127.0.0.1"
    started = [info for name, info in events if name == "connection.connect_tcp.started"]
    assert started[0]["local_address"] == "127.0.0.1"


async def test_socket_options(http_server: UvicornServer, network_backend: Backend) -> None:
    linger = struct.pack("ii", 1, 5)
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.SOL_SOCKET, socket.SO_RCVBUF, 32768),
        (socket.SOL_SOCKET, socket.SO_LINGER, linger),
    ]
    async with httpcore_fast.AsyncConnectionPool(
        socket_options=options, network_backend=network_backend
    ) as pool:
        response = await pool.request("GET", http_server.url("/"))
        sock = response.extensions["network_stream"].get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 32768
        assert struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)) == (
            1,
            5,
        )
        assert response.content == HELLO


async def test_unix_domain_socket(
    scripted_server: Any, uds_path: str, network_backend: Backend
) -> None:
    server = scripted_server(keepalive_script(b"over uds"), uds_path=uds_path)
    events: list[tuple[str, dict[str, Any]]] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append((name, info))

    async with httpcore_fast.AsyncConnectionPool(
        uds=uds_path, network_backend=network_backend
    ) as pool:
        for _ in range(3):
            response = await pool.request(
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

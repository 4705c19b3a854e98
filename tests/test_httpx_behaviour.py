"""httpx's client behaviour on top of httpcore_fast, against real loopback servers.

A representative slice of what httpx's own client tests check (GET/POST, bodies, TLS,
streaming both ways, redirects, keep-alive, timeouts, exception mapping, event hooks, the
trace extension), sync and async (asyncio and trio), with httpx and with httpx2.

Two ways of putting httpcore_fast under the client:

* ``transport`` (this process): ``Client(transport=httpcore_fast.httpx.HTTPTransport(...))``;
* ``install`` (a child pytest run started by ``tests/test_httpx_install.py``, with
  ``HTTPCORE_FAST_TEST_HTTPX_MODE=install``): ``install()`` runs before httpx's core is
  imported, and clients are built the ordinary way, ``Client(verify=...)``.
"""

from __future__ import annotations

import importlib
import json
import os
import ssl
import sys
import typing
from collections.abc import AsyncIterator, Iterator
from types import ModuleType

import pytest

MODE = os.environ.get("HTTPCORE_FAST_TEST_HTTPX_MODE", "transport")
if MODE == "install":  # before anything imports httpx's core
    from httpcore_fast._install import install

    install()

import httpx  # noqa: E402,F401

import httpcore_fast  # noqa: E402
from httpcore_fast.httpx import AsyncHTTPTransport, HTTPTransport  # noqa: E402
from tests.async_servers import anyio_backend  # noqa: E402,F401
from tests.proxy_servers import SocksServer  # noqa: E402
from tests.servers import (  # noqa: E402
    HELLO,
    ScriptedServer,
    ServerConnection,
    UvicornServer,
    http_response,
    keepalive_script,
    large_body,
    stream_chunk,
)

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = pytest.mark.network

# httpx2 (a dev dependency there) needs Python >= 3.11: on those versions it is one of the
# libraries, and a missing httpx2 fails its tests instead of silently dropping them.
HTTPX2_REQUIRED = sys.version_info >= (3, 11)
LIBRARIES = ["httpx"] + (["httpx2"] if HTTPX2_REQUIRED else [])


@pytest.fixture(params=LIBRARIES)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    """The client package: httpx or httpx2."""
    return importlib.import_module(request.param)


# Keywords that go to the transport in "transport" mode (to the client, whose own transport
# takes them, in "install" mode).
TRANSPORT_KEYWORDS = ("limits", "http2", "proxy", "retries")


def make_client(
    lib: ModuleType, ssl_context: ssl.SSLContext, sync: bool, **kwargs: typing.Any
) -> typing.Any:
    """A Client / AsyncClient of ``lib`` on httpcore_fast, the way the current MODE puts it
    there; ``retries`` needs a transport in install mode too (httpx's own, as a user would
    write it): ``transport=lib.HTTPTransport(retries=...)``."""
    transport_kwargs: dict[str, typing.Any] = {"verify": ssl_context}
    for name in TRANSPORT_KEYWORDS:
        if name in kwargs:
            transport_kwargs[name] = kwargs.pop(name)
    if MODE == "install":
        pool_class = httpcore_fast.ConnectionPool if sync else httpcore_fast.AsyncConnectionPool
        if "retries" in transport_kwargs:
            transport_class = lib.HTTPTransport if sync else lib.AsyncHTTPTransport
            kwargs["transport"] = transport_class(**transport_kwargs)
            client = (lib.Client if sync else lib.AsyncClient)(**kwargs)
        else:
            client = (lib.Client if sync else lib.AsyncClient)(**transport_kwargs, **kwargs)
        pool = client._transport._pool
        if "proxy" not in transport_kwargs:
            assert type(pool) is pool_class
        else:
            assert type(pool).__module__ == "httpcore_fast"
    else:
        transport = (HTTPTransport if sync else AsyncHTTPTransport)(**transport_kwargs)
        client = (lib.Client if sync else lib.AsyncClient)(transport=transport, **kwargs)
    return client


@pytest.fixture
def client(lib: ModuleType, client_ssl_context: ssl.SSLContext) -> typing.Callable[..., typing.Any]:
    """``client(sync, **kwargs)``: a Client / AsyncClient of ``lib`` on httpcore_fast.

    ``kwargs`` go to the client, except ``limits`` / ``http2`` / ``proxy`` / ``retries``,
    which go where each mode takes them (see :func:`make_client`).
    """

    def make(sync: bool, **kwargs: typing.Any) -> typing.Any:
        return make_client(lib, client_ssl_context, sync, **kwargs)

    return make


def redirect_script(conn: ServerConnection) -> None:
    """``/redirect/<n>`` answers 302 to ``/redirect/<n-1>``, ``/redirect/0`` to ``/final``."""
    for _ in range(20):
        request = conn.read_request()
        if request is None:
            return
        path = request.split(b" ", 2)[1]
        if path.startswith(b"/redirect/"):
            n = int(path.rsplit(b"/", 1)[1])
            location = b"/final" if n == 0 else b"/redirect/%d" % (n - 1)
            conn.send(http_response(b"", status=b"302 Found", headers=[(b"Location", location)]))
        else:
            conn.send(http_response(b"final " + path))


def garbage_script(conn: ServerConnection) -> None:
    if conn.read_request() is not None:
        conn.send(b"this is not HTTP\r\n\r\n")


def short_body_script(conn: ServerConnection) -> None:
    if conn.read_request() is not None:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a few bytes")


# --- sync ------------------------------------------------------------------------------


def test_get_post(client: typing.Callable[..., typing.Any], lib: ModuleType, http_server: UvicornServer) -> None:
    with client(True) as c:
        response = c.get(http_server.url("/"), params={"q": "1"})
        assert type(response) is lib.Response
        assert response.status_code == 200 and response.text == HELLO.decode()
        assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"
        assert response.headers["content-type"] == "text/plain"
        assert response.headers["Content-Length"] == "13"
        data = c.post(http_server.url("/echo"), json={"a": [1, 2]}, headers={"X-Test": "yes"}).json()
        assert data["method"] == "POST" and json.loads(data["body"]) == {"a": [1, 2]}
        headers = dict(data["headers"])
        assert headers["x-test"] == "yes" and headers["content-type"] == "application/json"
        assert headers["host"] == f"127.0.0.1:{http_server.port}"
        form = c.post(http_server.url("/echo?x=y"), data={"k": "v w"}).json()
        assert form["body"] == "k=v+w" and form["query"] == "x=y"
        assert c.head(http_server.url("/")).content == b""
        assert c.put(http_server.url("/echo"), content=b"\x00\xff").json()["body"] == "\x00\xff"


def test_https_and_keepalive(
    client: typing.Callable[..., typing.Any], https_server: UvicornServer
) -> None:
    with client(True) as c:
        first = c.get(https_server.url("/"))
        second = c.get(https_server.url("/"))
        assert first.text == second.text == HELLO.decode()
        assert first.headers["x-client-port"] == second.headers["x-client-port"]  # reused
        ssl_object = second.extensions["network_stream"].get_extra_info("ssl_object")
        assert ssl_object is not None and ssl_object.version().startswith("TLS")


def test_streaming(client: typing.Callable[..., typing.Any], http_server: UvicornServer) -> None:
    with client(True) as c:
        with c.stream("GET", http_server.url("/stream?chunks=4&size=1000")) as response:
            body = b"".join(response.iter_bytes())
        assert body == b"".join(stream_chunk(i, 1000) for i in range(4))
        assert response.is_closed
        with c.stream("GET", http_server.url("/large?size=300000")) as response:
            assert response.num_bytes_downloaded == 0
            assert b"".join(response.iter_raw(65536)) == large_body(300000)

        def upload() -> Iterator[bytes]:
            yield b"part one, "
            yield b"part two"

        data = c.post(http_server.url("/echo"), content=upload()).json()
        assert data["body"] == "part one, part two"
        assert dict(data["headers"])["transfer-encoding"] == "chunked"


def test_redirects(client: typing.Callable[..., typing.Any], scripted_server: typing.Callable[..., ScriptedServer]) -> None:
    server = scripted_server(redirect_script)
    with client(True, follow_redirects=True) as c:
        response = c.get(server.url("/redirect/2"))
        assert response.status_code == 200 and response.text == "final /final"
        assert [r.status_code for r in response.history] == [302, 302, 302]
        assert response.url == server.url("/final")
    with client(True) as c:
        response = c.get(server.url("/redirect/0"))
        assert response.status_code == 302 and response.is_redirect
        assert response.next_request.url == server.url("/final")


def test_timeouts(client: typing.Callable[..., typing.Any], lib: ModuleType, http_server: UvicornServer) -> None:
    with client(True, limits=lib.Limits(max_connections=1)) as c:
        with pytest.raises(lib.ReadTimeout) as info:
            c.get(http_server.url("/slow?delay=0.4"), timeout=0.1)
        assert isinstance(info.value.__cause__, httpcore_fast.ReadTimeout)
        with c.stream("GET", http_server.url("/stream?chunks=2&delay=0.5")):
            with pytest.raises(lib.PoolTimeout):
                c.get(http_server.url("/"), timeout=lib.Timeout(5.0, pool=0.05))
        assert c.get(http_server.url("/")).status_code == 200  # the slot came back


def test_exception_mapping(
    client: typing.Callable[..., typing.Any],
    lib: ModuleType,
    closed_port: int,
    scripted_server: typing.Callable[..., ScriptedServer],
) -> None:
    with client(True) as c:
        with pytest.raises(lib.ConnectError) as connect:
            c.get(f"http://127.0.0.1:{closed_port}/")
        assert isinstance(connect.value.__cause__, httpcore_fast.ConnectError)
        assert connect.value.request.url == f"http://127.0.0.1:{closed_port}/"
        garbage = scripted_server(garbage_script)
        with pytest.raises(lib.RemoteProtocolError):
            c.get(garbage.url("/"))
        with c.stream("GET", scripted_server(short_body_script).url("/")) as response:
            assert response.status_code == 200
            with pytest.raises(lib.RemoteProtocolError) as short:
                response.read()
        assert isinstance(short.value.__cause__, httpcore_fast.RemoteProtocolError)
        with pytest.raises(lib.LocalProtocolError):
            c.get(garbage.url("/"), headers={"x-bad": "a\x00b"})


def test_event_hooks_and_trace(
    client: typing.Callable[..., typing.Any], lib: ModuleType, http_server: UvicornServer
) -> None:
    seen: list[tuple[str, typing.Any]] = []
    trace: list[str] = []

    def on_request(request: typing.Any) -> None:
        seen.append(("request", request.url.path))

    def on_response(response: typing.Any) -> None:
        seen.append(("response", response.status_code))
        response.raise_for_status()

    hooks = {"request": [on_request], "response": [on_response]}
    with client(True, event_hooks=hooks) as c:
        response = c.get(http_server.url("/"), extensions={"trace": lambda name, info: trace.append(name)})
        assert response.status_code == 200
        with pytest.raises(lib.HTTPStatusError):
            c.get(http_server.url("/status/404"))
    assert seen == [("request", "/"), ("response", 200), ("request", "/status/404"), ("response", 404)]
    assert trace[0] == "connection.connect_tcp.started"
    assert "http11.receive_response_headers.complete" in trace


# --- what each way in keeps: the rows of docs/migration.md's table -------------------------

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def forward_proxy_script(conn: ServerConnection) -> None:
    """A forward proxy that answers every request itself: ``via proxy <request line>``."""
    for _ in range(10):
        request = conn.read_request()
        if request is None:
            return
        conn.send(http_response(b"via proxy " + request.split(b"\r\n", 1)[0]))


@pytest.mark.parametrize("no_proxy", [False, True], ids=["proxied", "no_proxy"])
def test_environment_proxies(
    client: typing.Callable[..., typing.Any],
    scripted_server: typing.Callable[..., ScriptedServer],
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: bool,
) -> None:
    """``HTTP_PROXY`` / ``NO_PROXY``: honoured through install() (httpx builds the
    transports, on our HTTPProxy); ignored with ``transport=`` (httpx reads them only for
    the transports it builds itself): docs/migration.md."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    proxy = scripted_server(forward_proxy_script)
    origin = scripted_server(keepalive_script(b"direct"))
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with client(True) as c:
        text = c.get(origin.url("/x")).text
    if MODE == "install" and not no_proxy:
        assert text == f"via proxy GET {origin.url('/x')} HTTP/1.1"
    else:
        assert text == "direct"


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks_proxy_gets_the_name(
    client: typing.Callable[..., typing.Any],
    http_server: UvicornServer,
    socks_server: typing.Callable[..., SocksServer],
    scheme: str,
) -> None:
    """``proxy="socks5://..."`` and ``"socks5h://..."``: in both ways the proxy gets the
    origin's host name to resolve (httpcore's behaviour: ``.onion`` names work, no local
    DNS lookup leaks)."""
    socks = socks_server()
    with client(True, proxy=socks.url(scheme)) as c:
        response = c.get(f"http://localhost:{http_server.port}/")
    assert response.text == HELLO.decode()
    assert [(r.version, r.address_type, r.host) for r in socks.requests] == [
        (5, "domain", "localhost")
    ]


def test_http2(client: typing.Callable[..., typing.Any], h2_origin: typing.Any) -> None:
    """``http2=True`` (the client's keyword through install(), the transport's with
    ``transport=``) negotiates HTTP/2 by ALPN."""
    with client(True, http2=True) as c:
        first = c.get(h2_origin.url("/"))
        second = c.get(h2_origin.url("/"))
    assert first.http_version == second.http_version == "HTTP/2"
    assert first.status_code == 200


def test_retries(
    client: typing.Callable[..., typing.Any], lib: ModuleType, closed_port: int
) -> None:
    """``retries=`` (a transport keyword in both ways) retries a failed connect."""
    names: list[str] = []
    with client(True, retries=2) as c:
        with pytest.raises(lib.ConnectError):
            c.get(
                f"http://127.0.0.1:{closed_port}/",
                extensions={"trace": lambda name, info: names.append(name)},
            )
    assert names.count("connection.connect_tcp.started") == 3
    assert names.count("connection.retry.started") == 2


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
def test_respx_mocks(client_ssl_context: ssl.SSLContext, http_server: UvicornServer, using: str) -> None:
    """respx's default mocker patches httpcore's classes by name: it mocks through
    install() (those names are ours) but not a ``transport=`` client (our classes are not
    under httpcore's names). ``respx.mock(using="httpx")`` replaces the client's transport
    and mocks both. (respx mocks httpx only, not httpx2.)"""
    import respx

    url = http_server.url("/")
    with respx.mock(using=using, assert_all_called=False) as router:
        route = router.get(url).respond(201, text="mocked")
        with make_client(httpx, client_ssl_context, True) as c:
            response = c.get(url)
    if MODE == "install" or using == "httpx":
        assert route.called and (response.status_code, response.text) == (201, "mocked")
    else:
        assert not route.called and response.text == HELLO.decode()


# --- async (asyncio and trio) ----------------------------------------------------------


@pytest.mark.anyio
async def test_async_get_post(
    client: typing.Callable[..., typing.Any], lib: ModuleType, https_server: UvicornServer
) -> None:
    async with client(False) as c:
        response = await c.get(https_server.url("/"))
        assert type(response) is lib.Response
        assert response.text == HELLO.decode() and response.http_version == "HTTP/1.1"
        data = (await c.post(https_server.url("/echo"), json={"b": 1})).json()
        assert json.loads(data["body"]) == {"b": 1}
        again = await c.get(https_server.url("/"))
        assert again.headers["x-client-port"] == response.headers["x-client-port"]


@pytest.mark.anyio
async def test_async_streaming(client: typing.Callable[..., typing.Any], http_server: UvicornServer) -> None:
    async with client(False) as c:
        async with c.stream("GET", http_server.url("/stream?chunks=3&size=500")) as response:
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
        assert body == b"".join(stream_chunk(i, 500) for i in range(3))

        async def upload() -> AsyncIterator[bytes]:
            yield b"async "
            yield b"upload"

        data = (await c.post(http_server.url("/echo"), content=upload())).json()
        assert data["body"] == "async upload"


@pytest.mark.anyio
async def test_async_redirects_and_hooks(
    client: typing.Callable[..., typing.Any], scripted_server: typing.Callable[..., ScriptedServer]
) -> None:
    server = scripted_server(redirect_script)
    seen: list[str] = []

    async def on_response(response: typing.Any) -> None:
        seen.append(str(response.url))

    async with client(False, follow_redirects=True, event_hooks={"response": [on_response]}) as c:
        response = await c.get(server.url("/redirect/1"))
        assert response.text == "final /final" and len(response.history) == 2
    assert seen == [server.url("/redirect/1"), server.url("/redirect/0"), server.url("/final")]


@pytest.mark.anyio
async def test_async_timeouts_and_errors(
    client: typing.Callable[..., typing.Any],
    lib: ModuleType,
    http_server: UvicornServer,
    closed_port: int,
    scripted_server: typing.Callable[..., ScriptedServer],
) -> None:
    async with client(False, limits=lib.Limits(max_connections=1)) as c:
        with pytest.raises(lib.ReadTimeout) as info:
            await c.get(http_server.url("/slow?delay=0.4"), timeout=0.1)
        assert isinstance(info.value.__cause__, httpcore_fast.ReadTimeout)
        async with c.stream("GET", http_server.url("/stream?chunks=2&delay=0.5")):
            with pytest.raises(lib.PoolTimeout):
                await c.get(http_server.url("/"), timeout=lib.Timeout(5.0, pool=0.05))
        with pytest.raises(lib.ConnectError):
            await c.get(f"http://127.0.0.1:{closed_port}/")
        async with c.stream("GET", scripted_server(short_body_script).url("/")) as response:
            with pytest.raises(lib.RemoteProtocolError):
                await response.aread()
        assert (await c.get(http_server.url("/"))).status_code == 200

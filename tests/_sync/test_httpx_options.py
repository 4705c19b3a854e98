"""httpcore_fast's pool options through the httpx transports (``httpcore_fast.httpx``),
checked on the wire through ``httpx.Client(transport=...)`` / ``httpx.Client(...)``
(and httpx2's), for a direct connection and through an HTTP proxy (forwarding and
tunnelling) and SOCKS5; and the environment's proxies kept with ``mounts_from_env``.

(How the keywords map onto the pools: tests/test_httpx_transport.py.)

Generated from ``tests/_async/test_httpx_options.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import importlib
import ssl
import typing
from types import ModuleType

import pytest

import httpcore_fast
from httpcore_fast import ResponseLimits
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast.httpx import HTTPTransport
from tests._sync.support import ScriptedBackend, first_connection_then
from tests._sync.test_crawl_pool import stale_after_first
from tests.proxy_servers import PProxyServer, SocksServer, TCPRelay
from tests.servers import UvicornServer
from tests.test_httpx_behaviour import LIBRARIES, PROXY_VARIABLES

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = [pytest.mark.network]
KINDS = ["direct", "forward", "tunnel", "socks5"]
MADE_UP = "made-up.test"  # .test never resolves (RFC 6761): only resolve= can reach it


@pytest.fixture(params=LIBRARIES)
def lib(request: pytest.FixtureRequest) -> ModuleType:
    """The client package: httpx or httpx2."""
    return importlib.import_module(request.param)


class Kind:
    """How requests reach the origin: directly (``http_server``), or through the HTTP
    proxy (forwarding to ``http_server``, tunnelling to ``https_server``), or through it
    as a SOCKS5 proxy (to ``https_server``)."""

    def __init__(self, name: str, http: UvicornServer, https: UvicornServer, proxy: PProxyServer):
        self.name = name
        self.origin = http if name in ("direct", "forward") else https
        self.scheme = "http" if name in ("direct", "forward") else "https"
        self.proxy = proxy
        self.first_hop = self.origin.port if name == "direct" else proxy.port

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.origin.port}{path}"

    def route(
        self, path: str = "/", first_hop: str = "127.0.0.1"
    ) -> tuple[str, dict[str, typing.Any]]:
        """The URL to request and the transport keywords when the first hop (the server,
        or the proxy) is called ``first_hop``."""
        if self.name == "direct":
            return self.url(path, host=first_hop), {}
        proxy_scheme = "socks5" if self.name == "socks5" else "http"
        return self.url(path), {"proxy": f"{proxy_scheme}://{first_hop}:{self.proxy.port}"}


@pytest.fixture(params=KINDS)
def kind(
    request: pytest.FixtureRequest,
    http_server: UvicornServer,
    https_server: UvicornServer,
    pproxy_server: PProxyServer,
) -> Kind:
    return Kind(request.param, http_server, https_server, pproxy_server)


def client(
    lib: ModuleType, ssl_context: ssl.SSLContext, **transport_options: typing.Any
) -> typing.Any:
    """An ``Client`` of ``lib`` on an ``HTTPTransport(**transport_options)``."""
    return on(lib, HTTPTransport(verify=ssl_context, **transport_options))


def on(lib: ModuleType, transport: HTTPTransport) -> typing.Any:
    """An ``Client`` of ``lib`` on ``transport``."""
    return lib.Client(transport=transport, timeout=10.0)


class RecordingBackend(ScriptedBackend):
    """The default backend, recording each ``connect_tcp`` as ``(host, port)``; a
    third-party backend: it has no ``_connect_tcp_with_resolver`` of its own."""

    def __init__(self) -> None:
        super().__init__(SyncBackend())
        self.connects: list[tuple[str, int]] = []

    def connect_tcp(
        self, host: str, port: int, **kwargs: typing.Any
    ) -> httpcore_fast.NetworkStream:
        self.connects.append((host, port))
        return super().connect_tcp(host, port, **kwargs)


# --- the options, for each kind of connection ------------------------------------------------


def test_network_backend(
    lib: ModuleType, kind: Kind, client_ssl_context: ssl.SSLContext
) -> None:
    backend = RecordingBackend()
    url, options = kind.route()
    with client(lib, client_ssl_context, network_backend=backend, **options) as c:
        assert (c.get(url)).status_code == 200
    assert backend.connects == [("127.0.0.1", kind.first_hop)]


@pytest.mark.parametrize("third_party_backend", [False, True], ids=["default", "third-party"])
def test_resolve(
    lib: ModuleType, kind: Kind, client_ssl_context: ssl.SSLContext, third_party_backend: bool
) -> None:
    """``resolve=`` maps a made-up name of the first hop (the origin, or the proxy) to
    the loopback server, on our backends and on a third-party one (which is handed the
    address); without it the name does not resolve."""
    url, options = kind.route("/echo", first_hop=MADE_UP)
    if third_party_backend:
        options["network_backend"] = backend = RecordingBackend()
    resolve = {MADE_UP: ["127.0.0.1"]}
    with client(lib, client_ssl_context, resolve=resolve, **options) as c:
        response = c.get(url)
    assert response.status_code == 200
    host = dict(response.json()["headers"])["host"]
    assert host == f"{MADE_UP if kind.name == 'direct' else '127.0.0.1'}:{kind.origin.port}"
    if third_party_backend:
        assert backend.connects == [("127.0.0.1", kind.first_hop)]
    options.pop("network_backend", None)
    with client(lib, client_ssl_context, **options) as c:
        with pytest.raises(lib.ConnectError):
            c.get(url)


def test_response_limits(
    lib: ModuleType, kind: Kind, client_ssl_context: ssl.SSLContext
) -> None:
    """``response_limits=`` refuses a response head over ``max_head_size`` (50 fields of
    about 25 bytes); ``limits=`` stays httpx's ``Limits``."""
    url, options = kind.route("/headers?n=50")
    with client(lib, client_ssl_context, **options) as c:
        assert (c.get(url)).status_code == 200  # within the default limits
    small = ResponseLimits(max_head_size=1000)
    with client(
        lib,
        client_ssl_context,
        response_limits=small,
        limits=lib.Limits(max_connections=1),
        **options,
    ) as c:
        with pytest.raises(lib.RemoteProtocolError, match="max_head_size"):
            c.get(url)
        assert (c.get(kind.url("/"))).status_code == 200  # a small head passes


@pytest.mark.parametrize("per_origin", [None, 1])
def test_max_connections_per_origin(
    lib: ModuleType, kind: Kind, client_ssl_context: ssl.SSLContext, per_origin: int | None
) -> None:
    """While a response holds the origin's one connection, a second request to that
    origin waits (and times out waiting for the pool) but one to another origin (the same
    server called ``localhost``) does not; without the option both go through."""
    url, options = kind.route("/stream?chunks=2&delay=0.2")
    transport = HTTPTransport(
        verify=client_ssl_context, max_connections_per_origin=per_origin, **options
    )
    pool_timeout = lib.Timeout(10.0, pool=0.05)
    with on(lib, transport) as c:
        with c.stream("GET", url) as held:
            if per_origin == 1:
                with pytest.raises(lib.PoolTimeout):
                    c.get(kind.url("/"), timeout=pool_timeout)
            else:
                assert (c.get(kind.url("/"), timeout=pool_timeout)).status_code == 200
            other = c.get(kind.url("/", host="localhost"), timeout=pool_timeout)
            assert other.status_code == 200
            held.read()  # the connection goes back to the pool, kept alive
        assert (c.get(kind.url("/"), timeout=pool_timeout)).status_code == 200
    stats = transport.stats().total
    assert (stats.opened, stats.waited) == ((2, 1) if per_origin == 1 else (3, 0))


# --- options of direct connections -----------------------------------------------------------


@pytest.mark.parametrize("retry", [True, False])
def test_retry_stale_connections(
    lib: ModuleType, scripted_server: typing.Any, retry: bool
) -> None:
    """The server closes the kept-alive connection as the second request arrives: sent
    again on a new connection by default, raised as httpx's error with False."""
    server = scripted_server(first_connection_then(stale_after_first("fin")))
    transport = HTTPTransport(retry_stale_connections=retry)
    with on(lib, transport) as c:
        assert (c.get(server.url("/1"))).text == "first"
        if retry:
            assert (c.get(server.url("/2"))).text == "fresh"
        else:
            with pytest.raises(lib.RemoteProtocolError):
                c.get(server.url("/2"))
        assert transport.stats().total.retried == (1 if retry else 0)


@pytest.mark.parametrize("cache", [True, False])
def test_tls_session_cache(
    lib: ModuleType, https_server: UvicornServer, client_ssl_context: ssl.SSLContext, cache: bool
) -> None:
    """A second connection to the origin offers the first one's TLS session (the
    ``resume_tls_session`` trace step) unless ``tls_session_cache=False``."""
    steps: list[str] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        steps.append(name)

    transport = HTTPTransport(verify=client_ssl_context, tls_session_cache=cache)
    with on(lib, transport) as c:
        for _ in range(2):  # Connection: close, so the second request opens a new one
            response = c.get(
                https_server.url("/"), headers={"Connection": "close"}, extensions={"trace": trace}
            )
            assert response.status_code == 200
        assert transport.stats().total.opened == 2
    offered = steps.count("connection.resume_tls_session.started")
    assert offered == (1 if cache else 0)


# --- the environment's proxies -----------------------------------------------------------------


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """``monkeypatch`` with no proxy variable set (either case)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    return monkeypatch


def through_us(response: typing.Any) -> bool:
    """Whether ``response`` came through an httpcore_fast connection."""
    return type(response.extensions["network_stream"]).__module__.startswith("httpcore_fast")


@pytest.mark.parametrize("lower_case", [False, True], ids=["upper", "lower"])
def test_mounts_from_env(
    lib: ModuleType,
    proxy_env: pytest.MonkeyPatch,
    http_server: UvicornServer,
    https_server: UvicornServer,
    pproxy_server: PProxyServer,
    tcp_relay: typing.Callable[..., TCPRelay],
    client_ssl_context: ssl.SSLContext,
    lower_case: bool,
) -> None:
    """``HTTP_PROXY`` and ``HTTPS_PROXY`` route through the proxy (a relay in front of it
    counts the connections), ``NO_PROXY`` names go direct on the client's transport; all
    on httpcore_fast, with the options given."""
    relay = tcp_relay(pproxy_server.port)
    env = {
        "HTTP_PROXY": f"http://127.0.0.1:{relay.port}",
        "HTTPS_PROXY": f"127.0.0.1:{relay.port}",  # no scheme: http://
        "NO_PROXY": "example.com, localhost",
    }
    for name, value in env.items():
        proxy_env.setenv(name.lower() if lower_case else name, value)
    options: dict[str, typing.Any] = {
        "verify": client_ssl_context,
        "max_connections_per_origin": 1,
    }
    mounts = HTTPTransport.mounts_from_env(package=lib.__name__, **options)
    assert sorted(mounts) == ["all://*example.com", "all://localhost", "http://", "https://"]
    transport = HTTPTransport(**options)
    with lib.Client(transport=transport, mounts=mounts, timeout=10.0) as c:
        proxied = c.get(http_server.url("/echo"))
        assert relay.accepted == 1
        tunnelled = c.get(https_server.url("/"))
        assert relay.accepted == 2
        direct = c.get(f"http://localhost:{http_server.port}/")
        direct_tls = c.get(f"https://localhost:{https_server.port}/")
        assert relay.accepted == 2
    assert [r.status_code for r in (proxied, tunnelled, direct, direct_tls)] == [200] * 4
    assert all(map(through_us, (proxied, tunnelled, direct, direct_tls)))
    assert transport.stats().total.opened == 2  # the NO_PROXY requests, on transport=
    https_pool = mounts["https://"]
    assert https_pool is not None and https_pool.stats().total.opened == 1


def test_mounts_from_env_all_proxy_socks(
    lib: ModuleType,
    proxy_env: pytest.MonkeyPatch,
    https_server: UvicornServer,
    socks_server: typing.Callable[..., SocksServer],
    client_ssl_context: ssl.SSLContext,
) -> None:
    """``ALL_PROXY=socks5://...`` routes every scheme through the SOCKS proxy; ``NO_PROXY``
    with an IP address sends that address direct."""
    socks = socks_server()
    proxy_env.setenv("ALL_PROXY", socks.url("socks5"))
    proxy_env.setenv("NO_PROXY", "127.0.0.1")
    mounts = HTTPTransport.mounts_from_env(package=lib.__name__, verify=client_ssl_context)
    transport = HTTPTransport(verify=client_ssl_context)
    with lib.Client(transport=transport, mounts=mounts, timeout=10.0) as c:
        assert (c.get(f"https://localhost:{https_server.port}/")).status_code == 200
        assert (c.get(https_server.url("/"))).status_code == 200
    assert [(r.version, r.host) for r in socks.requests] == [(5, "localhost")]


def test_mounts_from_env_without_proxies(proxy_env: pytest.MonkeyPatch) -> None:
    """No proxy variable, ``NO_PROXY=*``, or ``trust_env=False``: no mounts (the client's
    transport serves everything)."""
    assert HTTPTransport.mounts_from_env() == {}
    proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert HTTPTransport.mounts_from_env(trust_env=False) == {}
    assert list(HTTPTransport.mounts_from_env()) == ["http://"]
    proxy_env.setenv("NO_PROXY", "localhost,*")
    assert HTTPTransport.mounts_from_env() == {}
    with pytest.raises(TypeError, match="proxy="):
        HTTPTransport.mounts_from_env(proxy="http://127.0.0.1:9")

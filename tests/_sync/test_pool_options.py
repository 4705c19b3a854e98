"""Every pool option takes effect for every connection kind, checked by what it does on
the wire (never by reading a private attribute), so that the check outlives any change in
how the options travel from the pool to the connections.

Connection kinds: direct HTTP/1.1, direct HTTP/2, forwarding and tunnelling through an
HTTP proxy, SOCKS5; all built by a pool from its options (``proxy=Proxy(...)`` for the
proxied ones). Options: ``local_address`` (the address the first hop sees), ``uds`` (the
first hop reached over a Unix socket), ``socket_options`` (``getsockopt`` on the
connection's socket), ``retries`` (a refused connect retried; it also shows that the
``network_backend`` is the one connecting), ``keepalive_expiry`` (an expired connection is
replaced), ``limits`` (an over-limit response refused), ``ssl_context`` and
``http1``/``http2`` (for the kinds that speak TLS to the origin).

A :class:`~tests.proxy_servers.TCPRelay` in front of the first hop (the server, or the
proxy) counts connections and records the client's address.

Generated from ``tests/_async/test_pool_options.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import socket
import ssl
import typing
from collections.abc import Callable

import pytest

import httpcore_fast
from httpcore_fast import ResponseLimits
from httpcore_fast._backends.sync import SyncBackend
from tests.proxy_servers import PProxyServer, TCPRelay
from tests.servers import UvicornServer

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = [pytest.mark.network]
EXTENSIONS = {"timeout": {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}}
KINDS = ["direct-http1", "direct-http2", "forward", "tunnel", "socks"]
TLS_KINDS = ["direct-http2", "tunnel", "socks"]  # TLS to the origin, ALPN decides the version


class Kind:
    """How a connection kind reaches its origin: ``first_hop`` is the port of the server
    (direct) or of the proxy; :meth:`route` gives the URL and pool keyword arguments when
    the first hop is reached at 127.0.0.1:``port`` instead (a relay in front of it)."""

    def __init__(
        self, name: str, servers: dict[str, typing.Any], origin: typing.Any = None
    ) -> None:
        self.name = name
        proxied = name in ("forward", "tunnel", "socks")
        default_origin = {
            "direct-http1": servers["http"],
            "direct-http2": servers["h2"],
            "forward": servers["http"],
            "tunnel": servers["https"],
            "socks": servers["https"],
        }[name]
        self.origin = default_origin if origin is None else origin
        self.first_hop: int = servers["proxy"].port if proxied else self.origin.port
        self.http_version = b"HTTP/2" if name == "direct-http2" else b"HTTP/1.1"

    def route(self, port: int, path: str = "/") -> tuple[str, dict[str, typing.Any]]:
        scheme = "https" if self.name in TLS_KINDS else "http"
        if self.name.startswith("direct"):
            kwargs = {"http2": True} if self.name == "direct-http2" else {}
            return f"{scheme}://127.0.0.1:{port}{path}", kwargs
        proxy_scheme = "socks5" if self.name == "socks" else "http"
        proxy = httpcore_fast.Proxy(f"{proxy_scheme}://127.0.0.1:{port}")
        return f"{scheme}://127.0.0.1:{self.origin.port}{path}", {"proxy": proxy}


@pytest.fixture
def servers(
    http_server: UvicornServer,
    https_server: UvicornServer,
    h2_origin: typing.Any,
    pproxy_server: PProxyServer,
) -> dict[str, typing.Any]:
    return {"http": http_server, "https": https_server, "h2": h2_origin, "proxy": pproxy_server}


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest, servers: dict[str, typing.Any]) -> Kind:
    return Kind(request.param, servers)


@pytest.fixture(params=TLS_KINDS)
def tls_kind(request: pytest.FixtureRequest, servers: dict[str, typing.Any]) -> Kind:
    return Kind(request.param, servers)


def get(pool: httpcore_fast.ConnectionPool, url: str) -> httpcore_fast.Response:
    return pool.request("GET", url, extensions=EXTENSIONS)


# --- local_address, uds, socket_options ----------------------------------------------------


def test_local_address(
    kind: Kind, tcp_relay: Callable[..., TCPRelay], client_ssl_context: ssl.SSLContext
) -> None:
    relay = tcp_relay(kind.first_hop)
    url, kwargs = kind.route(relay.port)
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, local_address="127.0.0.2", **kwargs
    ) as pool:
        response = get(pool, url)
    assert response.status == 200
    assert response.extensions["http_version"] == kind.http_version
    # The server (direct) or the proxy saw the connection come from 127.0.0.2.
    assert [peer[0] for peer in relay.peers] == ["127.0.0.2"]


def test_uds(
    kind: Kind,
    tcp_relay: Callable[..., TCPRelay],
    uds_path: str,
    client_ssl_context: ssl.SSLContext,
) -> None:
    relay = tcp_relay(kind.first_hop, uds_path=uds_path)
    url, kwargs = kind.route(port=9)  # the host and port in the URL are not dialled
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, uds=uds_path, **kwargs
    ) as pool:
        response = get(pool, url)
    assert response.status == 200
    assert response.extensions["http_version"] == kind.http_version
    assert relay.accepted == 1


def test_socket_options(kind: Kind, client_ssl_context: ssl.SSLContext) -> None:
    url, kwargs = kind.route(kind.first_hop)
    keepalive = []
    for options in (None, [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]):
        with httpcore_fast.ConnectionPool(
            ssl_context=client_ssl_context, socket_options=options, **kwargs
        ) as pool:
            with pool.stream("GET", url, extensions=EXTENSIONS) as response:
                response.read()
                sock = response.extensions["network_stream"].get_extra_info("socket")
                keepalive.append(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))
    assert keepalive[0] == 0 and keepalive[1] != 0  # off by default, on when asked


# --- retries and network_backend --------------------------------------------------------------


class RefusingFirstBackend(httpcore_fast.NetworkBackend):
    """The default backend, except that the first ``refusals`` connects go to a port
    nothing listens on (a real refused connect). Counts the attempts."""

    def __init__(self, closed_port: int, refusals: int) -> None:
        self._backend = SyncBackend()
        self._closed_port = closed_port
        self._refusals = refusals
        self.attempts = 0

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore_fast.SOCKET_OPTION] | None = None,
    ) -> httpcore_fast.NetworkStream:
        self.attempts += 1
        if self.attempts <= self._refusals:
            port = self._closed_port
        return self._backend.connect_tcp(host, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore_fast.SOCKET_OPTION] | None = None,
    ) -> httpcore_fast.NetworkStream:  # pragma: no cover - TCP only here
        return self._backend.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def test_retries_and_network_backend(
    kind: Kind, closed_port: int, client_ssl_context: ssl.SSLContext
) -> None:
    url, kwargs = kind.route(kind.first_hop)
    backend = RefusingFirstBackend(closed_port, refusals=1)
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, retries=1, network_backend=backend, **kwargs
    ) as pool:
        response = get(pool, url)
    assert response.status == 200
    assert backend.attempts == 2  # refused once, retried once, through our backend
    backend = RefusingFirstBackend(closed_port, refusals=1)
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=backend, **kwargs
    ) as pool:
        with pytest.raises(httpcore_fast.ConnectError):
            get(pool, url)
    assert backend.attempts == 1  # retries=0: no second attempt


# --- keepalive_expiry -----------------------------------------------------------------------


def test_keepalive_expiry(
    kind: Kind, tcp_relay: Callable[..., TCPRelay], client_ssl_context: ssl.SSLContext
) -> None:
    relay = tcp_relay(kind.first_hop)
    url, kwargs = kind.route(relay.port)
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context, **kwargs) as pool:
        for _ in range(2):
            assert (get(pool, url)).status == 200
    assert relay.accepted == 1  # without an expiry the connection is reused
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, keepalive_expiry=0.2, **kwargs
    ) as pool:
        assert (get(pool, url)).status == 200
        [connection] = pool.connections
        backend = SyncBackend()
        for _ in range(500):  # bounded wait (5 s) for the expiry to pass
            if connection.has_expired():
                break
            backend.sleep(0.01)
        assert (get(pool, url)).status == 200
        assert pool.connections != [connection]
    assert relay.accepted == 3  # the expired connection was replaced by a new one


# --- limits ---------------------------------------------------------------------------------


def test_limits(kind: Kind, client_ssl_context: ssl.SSLContext) -> None:
    if kind.name == "direct-http2":
        limits, path = ResponseLimits(max_field_count=1), "/"  # hypercorn sends 2+ fields
    else:
        limits, path = ResponseLimits(max_field_count=10), "/headers?n=50"
    url, kwargs = kind.route(kind.first_hop, path)
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context, **kwargs) as pool:
        assert (get(pool, url)).status == 200  # within the default limits
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, limits=limits, **kwargs
    ) as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError):
            get(pool, url)


# --- ssl_context, http1 / http2 (TLS to the origin) -----------------------------------------


def causes(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling (bounded)."""
    chain = []
    for _ in range(10):
        if exc is None:
            break
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def test_ssl_context(tls_kind: Kind, client_ssl_context: ssl.SSLContext) -> None:
    url, kwargs = tls_kind.route(tls_kind.first_hop)
    with httpcore_fast.ConnectionPool(**kwargs) as pool:
        # The default context does not trust the test CA.
        with pytest.raises(httpcore_fast.ConnectError) as raised:
            get(pool, url)
    assert "CERTIFICATE_VERIFY_FAILED" in " ".join(map(str, causes(raised.value)))
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context, **kwargs) as pool:
        assert (get(pool, url)).status == 200


@pytest.mark.parametrize(
    ("http1", "http2", "version"),
    [(True, False, b"HTTP/1.1"), (True, True, b"HTTP/2"), (False, True, b"HTTP/2")],
)
def test_http_versions(
    tls_kind: Kind,
    servers: dict[str, typing.Any],
    http1: bool,
    http2: bool,
    version: bytes,
    client_ssl_context: ssl.SSLContext,
) -> None:
    kind = Kind(tls_kind.name, servers, origin=servers["h2"])  # offers h2 and http/1.1
    url, kwargs = kind.route(kind.first_hop)
    kwargs.update(http1=http1, http2=http2)
    with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context, **kwargs) as pool:
        response = get(pool, url)
    assert response.status == 200 and response.extensions["http_version"] == version

"""pytest fixtures starting the proxy servers of :mod:`tests.proxy_servers`.

Load with ``pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]``
(the first provides the trustme CA used for the TLS proxy).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator

import pytest
import trustme

from tests.proxy_servers import (
    PROXY_PASSWORD,
    PROXY_USER,
    PProxyServer,
    SocksServer,
    TCPRelay,
)


@pytest.fixture(scope="session")
def proxy_pem(
    tls_certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Certificate + key (PEM) for a TLS proxy on 127.0.0.1 / localhost."""
    cert = tls_certificate_authority.issue_cert("127.0.0.1", "localhost")
    path = tmp_path_factory.mktemp("proxy-tls") / "proxy.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def pproxy_server() -> Iterator[PProxyServer]:
    """pproxy: HTTP (forward + CONNECT), SOCKS4 and SOCKS5 without credentials."""
    with PProxyServer("http+socks4+socks5") as server:
        yield server


@pytest.fixture(scope="session")
def pproxy_auth_server() -> Iterator[PProxyServer]:
    """pproxy: HTTP and SOCKS5 requiring ``PROXY_USER:PROXY_PASSWORD``."""
    with PProxyServer("http+socks5", auth=f"{PROXY_USER}:{PROXY_PASSWORD}") as server:
        yield server


@pytest.fixture(scope="session")
def pproxy_tls_server(proxy_pem: str) -> Iterator[PProxyServer]:
    """pproxy: an HTTP proxy reached over TLS (``https://`` proxy URL)."""
    with PProxyServer("http+ssl", pem=proxy_pem) as server:
        yield server


@pytest.fixture(scope="session")
def pproxy_blocking_server() -> Iterator[PProxyServer]:
    """pproxy refusing every target whose host is ``localhost`` (it drops the client)."""
    with PProxyServer("http+socks5", block="localhost") as server:
        yield server


def _started_servers(
    make: Callable[..., SocksServer | TCPRelay],
) -> Iterator[Callable[..., typing.Any]]:
    """A factory starting ``make(...)`` servers; all are stopped at teardown, and an
    unexpected server-side exception fails the test."""
    servers: list[SocksServer | TCPRelay] = []

    def start(*args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        server = make(*args, **kwargs).start()
        servers.append(server)
        return server

    yield start
    errors = []
    for server in servers:
        server.stop()
        errors.extend(server.errors)
    if errors:
        raise errors[0]


@pytest.fixture
def socks_server() -> Iterator[Callable[..., SocksServer]]:
    """A factory ``socks_server(rules=None)`` starting a :class:`SocksServer`."""
    yield from _started_servers(SocksServer)


@pytest.fixture(scope="session")
def shared_socks_server() -> Iterator[SocksServer]:
    """One :class:`SocksServer` without rules, for the whole session."""
    with SocksServer() as server:
        yield server


@pytest.fixture
def tcp_relay() -> Iterator[Callable[..., TCPRelay]]:
    """A factory ``tcp_relay(port, uds_path=None)`` starting a :class:`TCPRelay` to
    127.0.0.1:``port`` (counting connections, recording client addresses)."""

    def make(port: int, *, uds_path: str | None = None) -> TCPRelay:
        return TCPRelay(("127.0.0.1", port), uds_path=uds_path)

    yield from _started_servers(make)


@pytest.fixture(scope="session")
def h2_origin(tls_certificate_authority: trustme.CA, proxy_pem: str) -> Iterator[typing.Any]:
    """hypercorn over TLS offering ``h2`` and ``http/1.1`` (certificate for 127.0.0.1 from
    the CA that ``client_ssl_context`` trusts)."""
    from tests.h2_servers import HypercornServer  # imported late: another module's plugin

    with HypercornServer(certfile=proxy_pem) as server:
        yield server

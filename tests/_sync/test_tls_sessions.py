"""TLS session resumption (issue 14 point 4) against real TLS servers on loopback.

"A per-origin TLS session cache in the pool: a new connection to an origin resumes a
session that an earlier connection obtained (RFC 8446 §2.2 tickets; RFC 5077 for TLS
1.2), on every backend that can; a trace event says whether a handshake resumed.
Sessions are never shared across origins, SNI names or SSL contexts."

The server (``tests/tls_session_servers.py``) is Python's ``ssl`` in a thread; it
records whether each handshake resumed, so every test checks both sides: the client's
``resume_tls_session`` trace step (its return value) and the server's
``session_reused``. Its responses say ``Connection: close``, so each request opens a new
connection. HTTP/2 runs against hypercorn over TLS. Async: asyncio and trio, each with
its native backend and ``AnyIOBackend``; sync: ``SyncBackend``.

Generated from ``tests/_async/test_tls_sessions.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import dataclasses
import ssl
import typing

import pytest

import httpcore_fast
from httpcore_fast import ConnectError, Origin
from httpcore_fast._core.config import tls_session_key

from httpcore_fast._sync.connection import connection_config, http_connection

from tests.proxy_servers import PProxyServer
from tests.tls_session_servers import ResumingServer

pytest_plugins = [
    "tests.conftest_servers",
    "tests.conftest_proxy_servers",
    "tests.h2_servers",
    "tests.conftest_tls_sessions",
]
pytestmark = [pytest.mark.network]

Backend = typing.Optional[httpcore_fast.NetworkBackend]  # noqa: UP045 - runtime alias
StartServer = typing.Callable[..., ResumingServer]

VERSIONS = {
    "tls13-ticket": (ssl.TLSVersion.TLSv1_3, True),
    "tls12-ticket": (ssl.TLSVersion.TLSv1_2, True),
    "tls12-session-id": (ssl.TLSVersion.TLSv1_2, False),
}


class Steps:
    """A trace callback recording the ``resume_tls_session`` results of one request
    (True: the server resumed the offered session) and the steps' names."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.resumed: list[bool] = []

    def __call__(self, name: str, info: dict[str, typing.Any]) -> None:
        self.names.append(name)
        if name.endswith("resume_tls_session.complete"):
            self.resumed.append(info["return_value"])

    @property
    def offered(self) -> bool:
        """True if a session was offered (the resume step started)."""
        return any(name.endswith("resume_tls_session.started") for name in self.names)


def get(
    client: typing.Any, url: str, **extensions: typing.Any
) -> tuple[httpcore_fast.Response, Steps]:
    """GET ``url`` with a fresh :class:`Steps` as its trace; checks the status."""
    steps = Steps()
    response = client.request("GET", url, extensions={"trace": steps, **extensions})
    assert response.status == 200 and response.content == b"ok"
    return response, steps


def reused(server: ResumingServer) -> list[bool]:
    return [handshake.reused for handshake in server.handshakes]


@pytest.mark.parametrize("version", list(VERSIONS))
def test_the_next_connection_to_an_origin_resumes(
    resuming_server: StartServer,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
    version: str,
) -> None:
    max_version, tickets = VERSIONS[version]
    server = resuming_server(max_version=max_version, tickets=tickets)
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        _, first = get(pool, server.url())
        _, second = get(pool, server.url())
        _, third = get(pool, server.url())
    assert not first.offered and first.resumed == []  # nothing to offer yet
    assert second.resumed == [True] and third.resumed == [True]
    assert reused(server) == [False, True, True]  # the server agrees
    expected = "TLSv1.3" if max_version is ssl.TLSVersion.TLSv1_3 else "TLSv1.2"
    assert {handshake.version for handshake in server.handshakes} == {expected}
    # The resumption step wraps the start_tls step.
    names = [name.split(".", 1)[1] for name in second.names if "tls" in name]
    assert names == [
        "resume_tls_session.started",
        "start_tls.started",
        "start_tls.complete",
        "resume_tls_session.complete",
    ]


def test_sessions_stay_with_their_origin_and_sni_name(
    resuming_server: StartServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    server = resuming_server()
    by_name, by_ip = server.url(host="localhost"), server.url(host="127.0.0.1")
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend
    ) as pool:
        _, name_first = get(pool, by_name)
        _, ip_first = get(pool, by_ip)  # another origin (same server)
        _, sni_first = get(pool, by_name, sni_hostname="tls.test")  # another SNI name
        _, name_again = get(pool, by_name)
        _, sni_again = get(pool, by_name, sni_hostname="tls.test")
        _, ip_again = get(pool, by_ip)
    assert [s.offered for s in (name_first, ip_first, sni_first)] == [False, False, False]
    assert name_again.resumed == sni_again.resumed == ip_again.resumed == [True]
    assert reused(server) == [False, False, False, True, True, True]
    assert [handshake.sni for handshake in server.handshakes] == [
        "localhost",
        None,  # no SNI for an IP address (RFC 6066 §3)
        "tls.test",
        "localhost",
        "tls.test",
        None,
    ]


def test_sessions_stay_with_their_ssl_context(
    resuming_server: StartServer,
    tls_certificate_authority: typing.Any,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
) -> None:
    # Connections of one pool share its cache; a config derived for another context
    # (as a per-origin setting would be) shares it too, and must not offer the first
    # context's session (Python would refuse it: ValueError).
    server = resuming_server()
    other_context = ssl.create_default_context()
    tls_certificate_authority.configure_trust(other_context)
    config = connection_config(ssl_context=client_ssl_context, network_backend=network_backend)
    other = dataclasses.replace(config, ssl_context=other_context)
    origin = Origin(b"https", b"localhost", server.port)
    steps = []
    for connection_config_ in (config, other, other, config):
        with http_connection(origin, connection_config_) as connection:
            steps.append((get(connection, server.url()))[1])
    assert [s.offered for s in steps] == [False, False, True, True]
    assert [s.resumed for s in steps[2:]] == [[True], [True]]
    assert reused(server) == [False, False, True, True]
    assert config.tls_sessions is not None and len(config.tls_sessions) == 2


def test_a_session_the_server_refuses_leaves_the_cache(
    resuming_server: StartServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    server = resuming_server(refuse=True)  # new ticket keys for every connection
    config = connection_config(ssl_context=client_ssl_context, network_backend=network_backend)
    sessions = config.tls_sessions
    assert sessions is not None
    origin = Origin(b"https", b"localhost", server.port)
    key = tls_session_key(httpcore_fast.Request("GET", server.url()), origin, config)
    with http_connection(origin, config) as connection:
        get(connection, server.url())
    first = sessions.get(key)
    assert len(sessions) == 1 and first is not None
    with http_connection(origin, config) as connection:
        _, refused = get(connection, server.url())
    assert refused.resumed == [False]
    assert reused(server) == [False, False]
    # The refused session is gone; the second connection's own session replaced it.
    kept = sessions.get(key)
    assert len(sessions) == 1 and kept is not None and kept.id != first.id


def test_a_failed_handshake_drops_the_offered_session(
    resuming_server: StartServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    server = resuming_server(hang_up_from=1)
    config = connection_config(ssl_context=client_ssl_context, network_backend=network_backend)
    assert config.tls_sessions is not None
    origin = Origin(b"https", b"localhost", server.port)
    with http_connection(origin, config) as connection:
        get(connection, server.url())
    assert len(config.tls_sessions) == 1
    steps = Steps()
    with http_connection(origin, config) as connection:
        with pytest.raises(ConnectError):
            connection.request("GET", server.url(), extensions={"trace": steps})
    assert steps.offered and steps.resumed == []  # the step failed, no result
    assert any(name.endswith("resume_tls_session.failed") for name in steps.names)
    assert len(config.tls_sessions) == 0


def test_without_the_cache_no_session_is_offered(
    resuming_server: StartServer, client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    server = resuming_server()
    with httpcore_fast.ConnectionPool(
        ssl_context=client_ssl_context, network_backend=network_backend, tls_session_cache=False
    ) as pool:
        results = [get(pool, server.url()) for _ in range(3)]
    assert not any(steps.offered for _, steps in results)
    assert reused(server) == [False, False, False]


def test_http2_connections_resume(
    hypercorn_tls: typing.Any, h2_client_ssl_context: ssl.SSLContext, network_backend: Backend
) -> None:
    with httpcore_fast.ConnectionPool(
        ssl_context=h2_client_ssl_context,
        network_backend=network_backend,
        http2=True,
        keepalive_expiry=0,  # the next request opens a new connection
    ) as pool:
        results = []
        for _ in range(3):
            steps = Steps()
            response = pool.request("GET", hypercorn_tls.url("/"), extensions={"trace": steps})
            assert response.status == 200 and response.extensions["http_version"] == b"HTTP/2"
            results.append(steps)
    assert not results[0].offered
    assert results[1].resumed == results[2].resumed == [True]


def https_proxy(
    proxy: PProxyServer, context: ssl.SSLContext, network_backend: Backend
) -> httpcore_fast.HTTPProxy:
    """A proxy pool tunnelling through ``proxy`` over TLS (one context for both)."""
    return httpcore_fast.HTTPProxy(
        proxy.url("https"),
        ssl_context=context,
        proxy_ssl_context=context,
        network_backend=network_backend,
    )


def test_the_connection_to_an_https_proxy_resumes(
    pproxy_tls_server: PProxyServer,
    resuming_server: StartServer,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
) -> None:
    server = resuming_server()
    with https_proxy(pproxy_tls_server, client_ssl_context, network_backend) as proxy:
        results = [get(proxy, server.url()) for _ in range(3)]
    # The TLS to the proxy (traced by the connection to it) resumes from the second on.
    proxy_steps = [
        [name for name in steps.names if name.startswith("connection.resume_tls_session")]
        for _, steps in results
    ]
    assert proxy_steps[0] == []
    assert results[1][1].resumed[:1] == [True] and results[2][1].resumed[:1] == [True]


def test_tls_to_the_origin_through_an_https_proxy_tunnel_resumes(
    pproxy_tls_server: PProxyServer,
    resuming_server: StartServer,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
) -> None:
    server = resuming_server()
    with https_proxy(pproxy_tls_server, client_ssl_context, network_backend) as proxy:
        for _ in range(3):
            get(proxy, server.url())
    assert reused(server) == [False, True, True]


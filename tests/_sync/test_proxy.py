"""Proxies against real proxy servers on loopback: HTTP forwarding and CONNECT tunnels
(plain and TLS proxies), SOCKS5 / SOCKS5h / SOCKS4 / SOCKS4a, with real origins (uvicorn,
HTTP and HTTPS) behind them.

Generated from ``tests/_async/test_proxy.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

Issue: "Proxies: HTTP forward and CONNECT tunnels, HTTPS proxies, SOCKS4/4a/5/5h, tested
against real proxy servers".
"""

from __future__ import annotations

import json
import ssl
import typing

import pytest

import httpcore_fast
from httpcore_fast import ProxyError
from tests._sync.support import wait_until
from tests.proxy_servers import (
    PROXY_PASSWORD,
    PROXY_USER,
    PProxyServer,
    SocksRules,
    SocksServer,
)
from tests.servers import HELLO, ScriptedServer, ServerConnection, UvicornServer, stream_chunk

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = [pytest.mark.network]
AUTH = (PROXY_USER, PROXY_PASSWORD)
SOCKS_SCHEMES = ["socks5", "socks5h", "socks4"]  # what pproxy speaks
ORIGIN_SCHEMES = ["http", "https"]


def echo(response: httpcore_fast.Response) -> dict[str, typing.Any]:
    assert response.status == 200, response.content
    data: dict[str, typing.Any] = json.loads(response.content)
    return data


def origin_for(scheme: str, http_server: UvicornServer, https_server: UvicornServer) -> str:
    return http_server.origin if scheme == "http" else https_server.origin


# --- HTTP proxy: forwarding (http:// origins) ---------------------------------------------


def test_forward_get_reuses_the_connection(
    pproxy_server: PProxyServer, http_server: UvicornServer
) -> None:
    with httpcore_fast.HTTPProxy(pproxy_server.url("http")) as proxy:
        first = proxy.request("GET", http_server.url("/echo?x=1"))
        second = proxy.request("GET", http_server.url("/"))
        assert echo(first)["path"] == "/echo" and echo(first)["query"] == "x=1"
        assert second.status == 200 and second.content == HELLO
        # One connection to the proxy carried both requests.
        [connection] = proxy.connections
        assert repr(connection) == (
            f"<ForwardHTTPConnection ['http://127.0.0.1:{pproxy_server.port}', "
            "HTTP/1.1, IDLE, Request Count: 2]>"
        )
        assert dict(first.headers)[b"x-client-port"] == dict(second.headers)[b"x-client-port"]


def test_forward_sends_absolute_form_and_proxy_headers(
    scripted_server: typing.Callable[..., ScriptedServer],
) -> None:
    def script(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    proxy_server = scripted_server(script)
    with httpcore_fast.HTTPProxy(
        proxy_server.url(),
        proxy_auth=("user", "pass"),
        proxy_headers={"X-Proxy": "1", "Accept": "proxy/*"},
    ) as proxy:
        response = proxy.request(
            "GET", "http://example.org:8080/path?q=1", headers={"Accept": "text/plain"}
        )
    assert response.status == 200 and response.content == b"ok"
    [request] = proxy_server.connections[0].requests
    lines = request.split(b"\r\n")
    assert lines[0] == b"GET http://example.org:8080/path?q=1 HTTP/1.1"
    # Host first (as the kernel always writes it), then Proxy-Authorization and the
    # proxy headers the request does not override, then the request's own fields.
    assert lines[1:5] == [
        b"Host: example.org:8080",
        b"Proxy-Authorization: Basic dXNlcjpwYXNz",
        b"X-Proxy: 1",
        b"Accept: text/plain",
    ]


def test_forward_post_bytes_and_streamed_body(
    pproxy_server: PProxyServer, http_server: UvicornServer
) -> None:
    def body() -> typing.Iterator[bytes]:
        for part in (b"chunk-1;", b"chunk-2;", b"chunk-3"):
            yield part

    with httpcore_fast.HTTPProxy(pproxy_server.url("http")) as proxy:
        sized = proxy.request("POST", http_server.url("/echo"), content=b"x" * 100_000)
        streamed = proxy.request("POST", http_server.url("/echo"), content=body())
    assert echo(sized)["body"] == "x" * 100_000
    assert echo(streamed)["body"] == "chunk-1;chunk-2;chunk-3"


def test_forward_streaming_response(
    pproxy_server: PProxyServer, http_server: UvicornServer
) -> None:
    with httpcore_fast.HTTPProxy(pproxy_server.url("http")) as proxy:
        with proxy.stream("GET", http_server.url("/stream?chunks=4&size=1000")) as response:
            received = b"".join([part for part in response.iter_stream()])
    assert received == b"".join(stream_chunk(i, 1000) for i in range(4))


# --- HTTP proxy: CONNECT tunnels (https:// origins) ----------------------------------------


def test_tunnel_get_post_stream_and_pool_per_origin(
    pproxy_server: PProxyServer, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    with httpcore_fast.HTTPProxy(
        pproxy_server.url("http"), ssl_context=client_ssl_context
    ) as proxy:
        response = proxy.request("GET", https_server.url("/"))
        assert response.status == 200 and response.content == HELLO
        posted = proxy.request("POST", https_server.url("/echo"), content=b"tunnelled")
        assert echo(posted)["body"] == "tunnelled"
        with proxy.stream("GET", https_server.url("/stream?chunks=3&size=500")) as streamed:
            parts = [part for part in streamed.iter_stream()]
        assert b"".join(parts) == b"".join(stream_chunk(i, 500) for i in range(3))
        # Same origin: one tunnel, reused. Another origin (localhost): its own tunnel.
        [tunnel] = proxy.connections
        assert repr(tunnel) == (
            f"<TunnelHTTPConnection ['{https_server.origin}', HTTP/1.1, IDLE, "
            "Request Count: 3]>"
        )
        other = proxy.request("GET", f"https://localhost:{https_server.port}/")
        assert other.status == 200
        assert [str(c._remote_origin) for c in proxy.connections] == [  # type: ignore[attr-defined]
            https_server.origin,
            f"https://localhost:{https_server.port}",
        ]


def test_tunnel_refused_raises_proxy_error_and_closes(
    scripted_server: typing.Callable[..., ScriptedServer],
) -> None:
    def script(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\ndenied")
            conn.wait_for_eof()

    proxy_server = scripted_server(script)
    with httpcore_fast.HTTPProxy(
        proxy_server.url(), proxy_auth=(b"user", b"pass"), proxy_headers=[(b"X-Proxy", b"1")]
    ) as proxy:
        with pytest.raises(ProxyError, match="^403 Forbidden$"):
            proxy.request("GET", "https://example.org/")
        assert proxy.connections == []
    connection = proxy_server.connections[0]
    wait_until(connection.eof.is_set)  # the client closed its connection to the proxy
    lines = connection.requests[0].split(b"\r\n")
    assert lines[0] == b"CONNECT example.org:443 HTTP/1.1"
    assert lines[1:5] == [
        b"Host: example.org:443",
        b"Accept: */*",
        b"Proxy-Authorization: Basic dXNlcjpwYXNz",
        b"X-Proxy: 1",
    ]


def test_proxy_auth_success_and_failure(
    pproxy_auth_server: PProxyServer,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    url = pproxy_auth_server.url("http")
    with httpcore_fast.HTTPProxy(
        url, proxy_auth=AUTH, ssl_context=client_ssl_context
    ) as proxy:
        assert (proxy.request("GET", http_server.url("/"))).content == HELLO
        assert (proxy.request("GET", https_server.url("/"))).content == HELLO
    with httpcore_fast.HTTPProxy(
        url, proxy_auth=(PROXY_USER, "wrong"), ssl_context=client_ssl_context
    ) as proxy:
        # Forwarded: the proxy's answer is the response.
        response = proxy.request("GET", http_server.url("/"))
        assert response.status == 407
        # Tunnelled: a refused CONNECT is a ProxyError, and nothing stays in the pool.
        with pytest.raises(ProxyError, match="^407 Proxy Authentication Required$"):
            proxy.request("GET", https_server.url("/"))
        assert all(c.is_closed() for c in proxy.connections)


def test_tls_proxy_forward_and_tls_in_tls_tunnel(
    pproxy_tls_server: PProxyServer,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    with httpcore_fast.HTTPProxy(
        pproxy_tls_server.url("https"),
        ssl_context=client_ssl_context,
        proxy_ssl_context=client_ssl_context,
    ) as proxy:
        forwarded = proxy.request("GET", http_server.url("/"))
        tunnelled = proxy.request("POST", https_server.url("/echo"), content=b"tls in tls")
    assert forwarded.content == HELLO
    assert echo(tunnelled)["body"] == "tls in tls"


def test_pool_with_proxy_argument(
    pproxy_auth_server: PProxyServer,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    for url in (pproxy_auth_server.url("http"), pproxy_auth_server.url("socks5h")):
        proxy = httpcore_fast.Proxy(url, auth=AUTH)
        with httpcore_fast.ConnectionPool(
            proxy=proxy, ssl_context=client_ssl_context
        ) as pool:
            assert (pool.request("GET", http_server.url("/"))).content == HELLO
            assert (pool.request("GET", https_server.url("/"))).content == HELLO
            assert len(pool.connections) == 2


def test_proxy_down(closed_port: int, http_server: UvicornServer) -> None:
    for url in (f"http://127.0.0.1:{closed_port}", f"socks5h://127.0.0.1:{closed_port}"):
        pool = httpcore_fast.ConnectionPool(proxy=httpcore_fast.Proxy(url))
        with pool:
            for target in (http_server.url("/"), "https://example.org/"):
                with pytest.raises(httpcore_fast.ConnectError):
                    pool.request("GET", target)
            assert pool.connections == []


def test_blocking_proxy_drops_the_tunnel(pproxy_blocking_server: PProxyServer) -> None:
    # pproxy answers a blocked CONNECT by closing the connection: as httpcore, that is a
    # RemoteProtocolError, and the slot is freed.
    with httpcore_fast.HTTPProxy(pproxy_blocking_server.url("http")) as proxy:
        with pytest.raises(httpcore_fast.RemoteProtocolError):
            proxy.request("GET", "https://localhost:1/")
        assert proxy.connections == []


def test_proxy_dropping_mid_response_frees_the_slot(
    scripted_server: typing.Callable[..., ScriptedServer], http_server: UvicornServer
) -> None:
    def script(conn: ServerConnection) -> None:
        if conn.index == 0:
            if conn.read_request() is not None:
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            return  # the connection is closed mid-body
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    proxy_server = scripted_server(script)
    with httpcore_fast.HTTPProxy(proxy_server.url(), max_connections=1) as proxy:
        with pytest.raises(httpcore_fast.RemoteProtocolError):
            proxy.request("GET", http_server.url("/"))
        assert proxy.connections == []
        # The only slot is free again: the next request gets a new connection.
        response = proxy.request("GET", http_server.url("/"), extensions={
            "timeout": {"pool": 2.0}
        })
        assert response.content == b"ok"


def test_keepalive_limits_through_a_proxy(
    pproxy_server: PProxyServer, http_server: UvicornServer
) -> None:
    with httpcore_fast.HTTPProxy(
        pproxy_server.url("http"), max_keepalive_connections=0
    ) as proxy:
        assert (proxy.request("GET", http_server.url("/"))).status == 200
        assert proxy.connections == []


def test_trace_events_of_a_tunnel(
    pproxy_server: PProxyServer, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    events: list[str] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append(name)

    with httpcore_fast.HTTPProxy(
        pproxy_server.url("http"), ssl_context=client_ssl_context
    ) as proxy:
        proxy.request("GET", https_server.url("/"), extensions={"trace": trace})
    started = [name.rsplit(".", 1)[0] for name in events if name.endswith(".started")]
    assert started == [
        "connection.connect_tcp",
        "http11.send_request_headers",  # CONNECT
        "http11.send_request_body",
        "http11.receive_response_headers",
        "proxy.start_tls",
        "http11.send_request_headers",  # GET, through the tunnel
        "http11.send_request_body",
        "http11.receive_response_headers",
        "http11.receive_response_body",
        "http11.response_closed",
    ]


def test_http2_through_a_tunnel_and_socks(
    pproxy_server: PProxyServer, h2_origin: typing.Any, client_ssl_context: ssl.SSLContext
) -> None:
    url = f"https://127.0.0.1:{h2_origin.port}/"
    for proxy in (
        httpcore_fast.HTTPProxy(
            pproxy_server.url("http"), ssl_context=client_ssl_context, http2=True
        ),
        httpcore_fast.SOCKSProxy(
            pproxy_server.url("socks5h"), ssl_context=client_ssl_context, http2=True
        ),
    ):
        with proxy:
            for _ in range(3):
                response = proxy.request("GET", url)
                assert response.extensions["http_version"] == b"HTTP/2"
                assert response.content == HELLO
            [connection] = proxy.connections
            assert f"'https://127.0.0.1:{h2_origin.port}', HTTP/2, IDLE" in repr(connection)


def test_socks_handshake_timeout_is_a_connect_timeout(
    scripted_server: typing.Callable[..., ScriptedServer],
) -> None:
    silent = scripted_server(lambda conn: conn.hold(5.0))  # accepts, never answers
    with httpcore_fast.SOCKSProxy(silent.url().replace("http", "socks5h")) as proxy:
        with pytest.raises(httpcore_fast.ConnectTimeout):
            proxy.request(
                "GET", "http://example.org/", extensions={"timeout": {"connect": 0.2}}
            )
        assert proxy.connections == []


def test_http_proxy_construction() -> None:
    proxy = httpcore_fast.HTTPProxy(
        httpcore_fast.URL(scheme=b"http", host=b"127.0.0.1", port=8080, target=b"/")
    )
    assert isinstance(proxy, httpcore_fast.ConnectionPool)
    assert proxy._proxy_url == httpcore_fast.URL(
        scheme=b"http", host=b"127.0.0.1", port=8080, target="/"
    )
    with pytest.raises(RuntimeError, match="proxy_ssl_context"):
        httpcore_fast.HTTPProxy(
            "http://127.0.0.1:8080", proxy_ssl_context=ssl.create_default_context()
        )


# --- SOCKS ------------------------------------------------------------------------------


@pytest.mark.parametrize("origin_scheme", ORIGIN_SCHEMES)
@pytest.mark.parametrize("scheme", SOCKS_SCHEMES)
def test_socks_get_post_stream(
    scheme: str,
    origin_scheme: str,
    pproxy_server: PProxyServer,
    http_server: UvicornServer,
    https_server: UvicornServer,
    client_ssl_context: ssl.SSLContext,
) -> None:
    origin = origin_for(origin_scheme, http_server, https_server)
    with httpcore_fast.SOCKSProxy(
        pproxy_server.url(scheme), ssl_context=client_ssl_context
    ) as proxy:
        assert (proxy.request("GET", origin + "/")).content == HELLO
        posted = proxy.request("POST", origin + "/echo", content=b"via " + scheme.encode())
        assert echo(posted)["body"] == f"via {scheme}"
        with proxy.stream("GET", origin + "/stream?chunks=3&size=100") as response:
            parts = [part for part in response.iter_stream()]
        assert b"".join(parts) == b"".join(stream_chunk(i, 100) for i in range(3))
        [connection] = proxy.connections
        name = "Socks4Connection" if scheme == "socks4" else "Socks5Connection"
        assert repr(connection) == f"<{name} ['{origin}', HTTP/1.1, IDLE, Request Count: 3]>"


@pytest.mark.parametrize(
    ("scheme", "local_dns", "version", "address_type"),
    [
        # httpcore's meaning: socks5 and socks5h both send the name to the proxy.
        ("socks5", False, 5, "domain"),
        ("socks5h", False, 5, "domain"),
        ("socks5", True, 5, "ipv4"),  # the explicit opt-in
        ("socks4a", False, 4, "domain"),
        ("socks4", False, 4, "ipv4"),
        ("socks4", True, 4, "ipv4"),
    ],
)
def test_socks_name_resolution(
    scheme: str,
    local_dns: bool,
    version: int,
    address_type: str,
    socks_server: typing.Callable[..., SocksServer],
    http_server: UvicornServer,
) -> None:
    server = socks_server()
    with httpcore_fast.SOCKSProxy(server.url(scheme), local_dns=local_dns) as proxy:
        response = proxy.request("GET", f"http://localhost:{http_server.port}/")
    assert response.content == HELLO
    [request] = server.requests
    assert (request.version, request.address_type) == (version, address_type)
    assert request.host == ("localhost" if address_type == "domain" else "127.0.0.1")


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks5_names_the_proxy_alone_can_resolve(
    scheme: str, socks_server: typing.Callable[..., SocksServer]
) -> None:
    # A .onion name resolves nowhere but at (a Tor) proxy: with socks5 as with socks5h it
    # must reach the proxy as a name (local resolution would fail with ConnectError first),
    # both through SOCKSProxy and through a pool with proxy=Proxy(...).
    server = socks_server(SocksRules(refuse_hosts={"hidden.onion": 0x04}))
    for pool in (
        httpcore_fast.SOCKSProxy(server.url(scheme)),
        httpcore_fast.ConnectionPool(proxy=httpcore_fast.Proxy(server.url(scheme))),
    ):
        with pool:
            with pytest.raises(ProxyError, match="^Proxy Server could not connect: Host unr"):
                pool.request("GET", "https://hidden.onion/")
    assert [(r.address_type, r.host, r.port) for r in server.requests] == [
        ("domain", "hidden.onion", 443)
    ] * 2


def test_local_dns_only_where_names_could_be_resolved_locally() -> None:
    for scheme in ("socks5h", "socks4a"):
        with pytest.raises(ValueError, match="local_dns=True contradicts"):
            httpcore_fast.SOCKSProxy(f"{scheme}://127.0.0.1:1", local_dns=True)


def test_socks5_auth_success_and_failure(
    pproxy_auth_server: PProxyServer,
    socks_server: typing.Callable[..., SocksServer],
    http_server: UvicornServer,
) -> None:
    with httpcore_fast.SOCKSProxy(
        pproxy_auth_server.url("socks5"), proxy_auth=AUTH
    ) as proxy:
        assert (proxy.request("GET", http_server.url("/"))).content == HELLO
    # pproxy drops a client with wrong credentials without a reply.
    with httpcore_fast.SOCKSProxy(
        pproxy_auth_server.url("socks5"), proxy_auth=(PROXY_USER, "wrong")
    ) as proxy:
        with pytest.raises(ProxyError, match="closed the connection during the SOCKS"):
            proxy.request("GET", http_server.url("/"))
        assert proxy.connections == []
    # A server that answers (RFC 1929 status, RFC 1928 NO ACCEPTABLE METHODS).
    server = socks_server(SocksRules(users={b"user": b"pass"}))
    url = server.url("socks5h")
    with httpcore_fast.SOCKSProxy(url, proxy_auth=("user", "pass")) as proxy:
        assert (proxy.request("GET", http_server.url("/"))).content == HELLO
        assert server.requests[-1].user == b"user"
    with httpcore_fast.SOCKSProxy(url, proxy_auth=("user", "no")) as proxy:
        with pytest.raises(ProxyError, match="^Invalid username/password$"):
            proxy.request("GET", http_server.url("/"))
    with httpcore_fast.SOCKSProxy(url) as proxy:
        with pytest.raises(
            ProxyError,
            match="^Requested NO AUTHENTICATION REQUIRED from proxy server, but got NO "
            "ACCEPTABLE METHODS.$",
        ):
            proxy.request("GET", http_server.url("/"))


@pytest.mark.parametrize(
    ("scheme", "code", "reason"),
    [
        ("socks5h", 0x02, "Connection not allowed by ruleset"),
        ("socks5h", 0x04, "Host unreachable"),
        ("socks4a", 0x5B, "Request rejected or failed"),
    ],
)
def test_socks_proxy_refusing_a_target(
    scheme: str,
    code: int,
    reason: str,
    socks_server: typing.Callable[..., SocksServer],
) -> None:
    server = socks_server(SocksRules(refuse_hosts={"blocked.example": code}))
    with httpcore_fast.SOCKSProxy(server.url(scheme)) as proxy:
        with pytest.raises(ProxyError, match=f"^Proxy Server could not connect: {reason}.$"):
            proxy.request("GET", "https://blocked.example/")
        assert proxy.connections == []


def test_socks_target_down(
    socks_server: typing.Callable[..., SocksServer], closed_port: int
) -> None:
    server = socks_server()
    with httpcore_fast.SOCKSProxy(server.url("socks5")) as proxy:
        with pytest.raises(ProxyError, match="Connection refused"):
            proxy.request("GET", f"http://127.0.0.1:{closed_port}/")


def test_socks_trace_events(
    pproxy_server: PProxyServer, https_server: UvicornServer, client_ssl_context: ssl.SSLContext
) -> None:
    events: list[tuple[str, dict[str, typing.Any]]] = []

    def trace(name: str, info: dict[str, typing.Any]) -> None:
        events.append((name, info))

    with httpcore_fast.SOCKSProxy(
        pproxy_server.url("socks5h"), ssl_context=client_ssl_context
    ) as proxy:
        proxy.request("GET", https_server.url("/"), extensions={"trace": trace})
    names = [name for name, _ in events]
    assert names[:6] == [
        "socks.connect_tcp.started",
        "socks.connect_tcp.complete",
        "socks.setup_socks5_connection.started",
        "socks.setup_socks5_connection.complete",
        "socks.start_tls.started",
        "socks.start_tls.complete",
    ]
    assert events[0][1] == {
        "host": "127.0.0.1",
        "port": pproxy_server.port,
        "local_address": None,
        "timeout": None,
        "socket_options": None,
    }
    assert set(events[2][1]) == {"stream", "host", "port", "auth"}
    assert names[6] == "http11.send_request_headers.started"


def test_origin_bytes_that_arrive_with_the_socks_reply_are_kept() -> None:
    # A stream may return more than the reply's length in one read (httpcore's mock
    # streams return whole chunks; a proxy may send the reply and the origin's first bytes
    # in one segment): those bytes are the origin's and must not be lost.
    reply = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"
    origin = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    backend = httpcore_fast.MockBackend([b"\x05\x00", reply + origin])
    with httpcore_fast.ConnectionPool(
        proxy=httpcore_fast.Proxy("socks5://127.0.0.1:1080"), network_backend=backend
    ) as pool:
        response = pool.request("GET", "http://example.org/")
        assert response.status == 200 and response.content == b"ok"
    # Before TLS they cannot be replayed into the handshake: refused, not silently lost.
    backend = httpcore_fast.MockBackend([b"\x05\x00", reply + b"\x16\x03\x01"])
    with httpcore_fast.ConnectionPool(
        proxy=httpcore_fast.Proxy("socks5://127.0.0.1:1080"), network_backend=backend
    ) as pool:
        with pytest.raises(ProxyError, match="^3 bytes received after the tunnel was opened"):
            pool.request("GET", "https://example.org/")


def test_socks_proxy_construction() -> None:
    # Built without a proxy running, as httpx does eagerly; nothing connects.
    proxy = httpcore_fast.SOCKSProxy("socks5://127.0.0.1:1", proxy_auth=("u", "p"))
    assert isinstance(proxy, httpcore_fast.ConnectionPool)
    assert proxy._proxy_auth == (b"u", b"p")
    assert repr(proxy) == (
        "<SOCKSProxy [Requests: 0 active, 0 queued | Connections: 0 active, 0 idle]>"
    )
    with pytest.raises(httpcore_fast.UnsupportedProtocol):
        httpcore_fast.SOCKSProxy("ftp://127.0.0.1:1")

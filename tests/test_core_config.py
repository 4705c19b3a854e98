"""``ConnectionConfig`` (``httpcore_fast/_core/config.py``): its defaults are httpcore's,
it is frozen, and every connection kind (direct, HTTP forward, CONNECT tunnel, SOCKS5,
SOCKS4; through ``Proxy(...)`` and through the proxy classes) gets the pool's settings.
No sockets: recording mock backends stand in for the network. The same options are
checked by behaviour against real servers in tests/_async/test_pool_options.py."""

from __future__ import annotations

import dataclasses
import inspect
import ssl
import typing

import httpcore
import pytest

import httpcore_fast
from httpcore_fast import ResponseLimits
from httpcore_fast._async.connection import connection_config as async_connection_config
from httpcore_fast._backends.auto import AutoBackend
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast._core.resolver import Resolver
from httpcore_fast._core.tls_sessions import TLSSessionCache
from httpcore_fast._core.config import ConnectionConfig
from httpcore_fast._sync.connection import connection_config

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
TUNNEL_OK = b"HTTP/1.1 200 Connection established\r\n\r\n"
SOCKS5_REPLIES = [b"\x05\x00", b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"]
SOCKS4_REPLIES = [b"\x00\x5a\x00\x00\x00\x00\x00\x00"]
FIELDS = [
    "ssl_context",
    "keepalive_expiry",
    "http1",
    "http2",
    "retries",
    "local_address",
    "uds",
    "socket_options",
    "network_backend",
    "limits",
]


def test_fields_and_defaults_are_httpcores() -> None:
    config: ConnectionConfig[typing.Any] = ConnectionConfig()
    # Ours after httpcore's: the pool-wide resolver and TLS session cache (None in a
    # bare config: the backend resolves names, every handshake is a full one).
    assert [field.name for field in dataclasses.fields(config)] == [
        *FIELDS,
        "resolver",
        "tls_sessions",
    ]
    assert (config.resolver, config.tls_sessions) == (None, None)
    for constructor in (httpcore.HTTPConnection, httpcore.ConnectionPool):
        parameters = inspect.signature(constructor).parameters
        for name in FIELDS:
            if name != "limits":  # ours: None is httpcore's acceptance
                assert getattr(config, name) == parameters[name].default, name
    assert config.limits is None


def test_frozen_slotted_keyword_only() -> None:
    config: typing.Any = ConnectionConfig(http2=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.http2 = False
    assert not hasattr(config, "__dict__")
    with pytest.raises(TypeError):
        typing.cast(typing.Any, ConnectionConfig)(None)
    # A setting for some connections only is a derived config; the original is untouched.
    derived = dataclasses.replace(config, retries=3)
    assert (derived.retries, derived.http2, config.retries) == (3, True, 0)
    assert derived == ConnectionConfig(http2=True, retries=3) and hash(derived) == hash(
        ConnectionConfig(http2=True, retries=3)
    )


def test_connection_config_from_httpcore_arguments() -> None:
    """An iterator of socket options serves every connection (a tuple is kept), and a
    missing backend is the default one of the calling code."""
    options = iter([(1, 2, 3)])
    config = connection_config(socket_options=options, local_address="127.0.0.2")
    assert config.socket_options == ((1, 2, 3),)
    assert isinstance(config.network_backend, SyncBackend)
    assert isinstance(async_connection_config().network_backend, AutoBackend)
    assert connection_config().socket_options is None
    backend = httpcore_fast.MockBackend([])
    assert connection_config(network_backend=backend).network_backend is backend


def test_pools_keep_one_config_and_httpcores_private_names() -> None:
    """The pool builds its config once; httpcore's private attribute names read it
    (code written for httpcore overrides create_connection with them)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    limits = ResponseLimits(max_head_size=1000)
    backend = httpcore_fast.MockBackend([])
    settings: dict[str, typing.Any] = {
        "ssl_context": context,
        "keepalive_expiry": 2.5,
        "http1": False,
        "http2": True,
        "retries": 4,
        "local_address": "127.0.0.3",
        "uds": "/tmp/x.sock",
        "network_backend": backend,
        "limits": limits,
    }
    pool: typing.Any = httpcore_fast.ConnectionPool(**settings, socket_options=[(1, 2, 3)])
    expected = ConnectionConfig(**settings, socket_options=((1, 2, 3),))
    # One resolver and one session cache per pool, made by the pool.
    assert isinstance(pool._config.resolver, Resolver)
    assert isinstance(pool._config.tls_sessions, TLSSessionCache)
    assert pool._config == dataclasses.replace(
        expected, resolver=pool._config.resolver, tls_sessions=pool._config.tls_sessions
    )
    for name in FIELDS:
        assert getattr(pool, f"_{name}") == getattr(expected, name), name
    with pytest.raises(AttributeError):
        pool._http2 = False


# --- what each connection kind receives ------------------------------------------------


class RecordingStream(httpcore_fast.MockStream):
    def __init__(self, backend: RecordingBackend, buffer: list[bytes]) -> None:
        super().__init__(buffer, http2=False)
        self.backend = backend

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore_fast.NetworkStream:
        self.backend.calls.append(("start_tls", ssl_context, server_hostname))
        return self


class RecordingBackend(httpcore_fast.MockBackend):
    """Records each connect and TLS start; the first ``failures`` connects fail."""

    def __init__(self, buffer: list[bytes], failures: int = 0) -> None:
        super().__init__(buffer)
        self.calls: list[tuple[typing.Any, ...]] = []
        self.failures = failures

    def _connect(self, *call: typing.Any) -> httpcore_fast.NetworkStream:
        self.calls.append(call)
        if self.failures:
            self.failures -= 1
            raise httpcore_fast.ConnectError("refused")
        return RecordingStream(self, list(self._buffer))

    # Called with keyword arguments (connect_stream's), recorded by name.
    def connect_tcp(self, *args: typing.Any, **kw: typing.Any) -> httpcore_fast.NetworkStream:
        return self._connect("tcp", kw["host"], kw["port"], kw["local_address"], kw["socket_options"])

    def connect_unix_socket(self, *args: typing.Any, **kw: typing.Any) -> httpcore_fast.NetworkStream:
        return self._connect("unix", kw["path"], kw["socket_options"])


ORIGIN_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
PROXY_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Kind(typing.NamedTuple):
    url: str  # the request's
    proxy: httpcore_fast.Proxy | None
    replies: list[bytes]  # what the first hop says before the origin's response
    first_hop: tuple[str, int]
    tls: list[tuple[ssl.SSLContext, str]]  # each start_tls: context, server name


KINDS = {
    "direct": Kind("https://example.com/", None, [], ("example.com", 443), [(ORIGIN_CONTEXT, "example.com")]),
    "forward": Kind(
        "http://example.com/", httpcore_fast.Proxy("http://proxy.test:3128"), [], ("proxy.test", 3128), []
    ),
    "forward-tls": Kind(
        "http://example.com/",
        httpcore_fast.Proxy("https://proxy.test:3129", ssl_context=PROXY_CONTEXT),
        [],
        ("proxy.test", 3129),
        [(PROXY_CONTEXT, "proxy.test")],
    ),
    "tunnel": Kind(
        "https://example.com/",
        httpcore_fast.Proxy("https://proxy.test:3129", ssl_context=PROXY_CONTEXT),
        [TUNNEL_OK],
        ("proxy.test", 3129),
        [(PROXY_CONTEXT, "proxy.test"), (ORIGIN_CONTEXT, "example.com")],
    ),
    "socks5": Kind(
        "https://example.com/",
        httpcore_fast.Proxy("socks5://proxy.test"),
        SOCKS5_REPLIES,
        ("proxy.test", 1080),
        [(ORIGIN_CONTEXT, "example.com")],
    ),
    "socks4": Kind(
        "http://127.0.0.1:8080/", httpcore_fast.Proxy("socks4://proxy.test:1081"), SOCKS4_REPLIES, ("proxy.test", 1081), []
    ),
}


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_connects_with_the_pools_settings(name: str) -> None:
    """Backend, local address, socket options (a tuple, even from an iterator), retries
    and the TLS context reach the first hop of every connection kind."""
    kind = KINDS[name]
    backend = RecordingBackend([*kind.replies, OK, OK], failures=2)
    with httpcore_fast.ConnectionPool(
        proxy=kind.proxy,
        ssl_context=ORIGIN_CONTEXT,
        retries=2,
        local_address="127.0.0.2",
        socket_options=iter([(6, 1, 1)]),
        network_backend=backend,
    ) as pool:
        for _ in range(2):  # the second request reuses the connection
            assert pool.request("GET", kind.url).content == b"ok"
        assert len(pool.connections) == 1
    connect = ("tcp", *kind.first_hop, "127.0.0.2", ((6, 1, 1),))
    assert backend.calls == [connect, connect, connect, *(("start_tls", *tls) for tls in kind.tls)]


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_connects_over_uds(name: str) -> None:
    kind = KINDS[name]
    backend = RecordingBackend([*kind.replies, OK])
    with httpcore_fast.ConnectionPool(
        proxy=kind.proxy, uds="/run/hop.sock", network_backend=backend
    ) as pool:
        assert pool.request("GET", kind.url).content == b"ok"
    assert backend.calls[0] == ("unix", "/run/hop.sock", None)


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_applies_the_response_limits(name: str) -> None:
    kind = KINDS[name]
    backend = RecordingBackend([*kind.replies, b"HTTP/1.1 200 OK\r\nX-Long: " + b"x" * 200 + b"\r\n\r\n"])
    limits = ResponseLimits(max_field_line_size=100)
    with httpcore_fast.ConnectionPool(proxy=kind.proxy, network_backend=backend, limits=limits) as pool:
        with pytest.raises(httpcore_fast.RemoteProtocolError):
            pool.request("GET", kind.url)


@pytest.mark.parametrize("name", list(KINDS))
def test_what_each_kind_holds(name: str) -> None:
    """Direct, tunnel and SOCKS connections hold the pool's config itself; a forwarding
    connection's connection to the proxy holds it with the proxy's TLS context and
    HTTP/1.1 only (so does a tunnel's)."""
    kind = KINDS[name]
    pool: typing.Any
    with httpcore_fast.ConnectionPool(proxy=kind.proxy, http2=True, retries=1) as pool:
        origin = httpcore_fast.URL(kind.url).origin
        connection: typing.Any = pool.create_connection(origin)
        proxy_hop = dataclasses.replace(
            pool._config,
            ssl_context=None if kind.proxy is None else kind.proxy.ssl_context,
            http1=True,
            http2=False,
        )
        if name.startswith("forward"):
            assert type(connection).__name__ == "ForwardHTTPConnection"
            assert connection._connection._config == proxy_hop
            return
        assert connection._config is pool._config
        if name == "tunnel":
            assert connection._proxy_connection._config == proxy_hop


@pytest.mark.parametrize("kind", ["http", "socks"])
def test_proxy_classes_hand_their_settings_on(kind: str) -> None:
    """HTTPProxy / SOCKSProxy take fewer of the options; what they take reaches the
    connections, and their own settings (credentials) reach the proxy."""
    if kind == "http":
        replies = [TUNNEL_OK]
    else:  # username/password chosen (RFC 1928 §3) and accepted (RFC 1929 §2)
        replies = [b"\x05\x02", b"\x01\x00", SOCKS5_REPLIES[1]]
    backend = RecordingBackend([*replies, OK], failures=1)
    options: dict[str, typing.Any] = {
        "ssl_context": ORIGIN_CONTEXT,
        "retries": 1,
        "network_backend": backend,
        "proxy_auth": ("user", "pass"),
    }
    pool: typing.Any
    if kind == "http":
        pool = httpcore_fast.HTTPProxy("http://proxy.test:3128", **options)
    else:
        pool = httpcore_fast.SOCKSProxy("socks5://proxy.test", **options)
    with pool:
        assert pool.request("GET", "https://example.com/").content == b"ok"
    first_hop = ("tcp", "proxy.test", 3128 if kind == "http" else 1080, None, None)
    tls = ("start_tls", ORIGIN_CONTEXT, "example.com")
    assert backend.calls == [first_hop, first_hop, tls]
    if kind == "http":
        assert pool._proxy_headers == [(b"Proxy-Authorization", b"Basic dXNlcjpwYXNz")]
    else:
        assert pool._proxy_auth == (b"user", b"pass")


def test_basic_proxy_credentials_are_written_once_for_both_ways() -> None:
    """``Proxy(auth=...)`` and ``HTTPProxy(proxy_auth=...)`` write the same field
    (RFC 7617), as httpcore does; type errors name each one's argument."""
    ours = httpcore_fast.Proxy("http://p:1", auth=("user", b"pass")).headers
    theirs = httpcore.Proxy("http://p:1", auth=("user", b"pass")).headers
    assert ours == theirs == [(b"Proxy-Authorization", b"Basic dXNlcjpwYXNz")]
    with pytest.raises(TypeError, match="^auth must be bytes or str"):
        httpcore_fast.Proxy("http://p:1", auth=typing.cast(typing.Any, (1, "x")))
    with pytest.raises(TypeError, match="^proxy_auth must be bytes or str"):
        httpcore_fast.HTTPProxy("http://p:1", proxy_auth=typing.cast(typing.Any, ("x", 1)))
    with pytest.raises(TypeError, match="^proxy_auth strings may not include unicode"):
        httpcore_fast.SOCKSProxy("socks5://p:1", proxy_auth=("é", "x"))

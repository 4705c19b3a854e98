"""httpcore_fast.httpx transport construction: httpx's keywords mapped onto the pool.

(Requests through the transports: tests/test_httpx_behaviour.py.)
"""

from __future__ import annotations

import importlib
import inspect
import os
import ssl
import typing
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import trustme

import httpcore_fast
from httpcore_fast.httpx import DEFAULT_LIMITS, AsyncHTTPTransport, HTTPTransport, environment_proxies
from tests.test_httpx_behaviour import LIBRARIES

TRANSPORTS = [(HTTPTransport, httpx.HTTPTransport), (AsyncHTTPTransport, httpx.AsyncHTTPTransport)]


# httpcore_fast's pool options, keyword-only after httpx's keywords.
EXTRA_KEYWORDS = [
    ("max_connections_per_origin", "None"),
    ("retry_stale_connections", "True"),
    ("resolve", "None"),
    ("dns_cache_ttl", "None"),
    ("tls_session_cache", "True"),
    ("network_backend", "None"),
    ("response_limits", "None"),
]


@pytest.mark.parametrize(("ours", "theirs"), TRANSPORTS)
def test_signature_extends_httpx(ours: type, theirs: type) -> None:
    """httpx's keywords, in httpx's order with httpx's defaults, then ours keyword-only."""

    def shape(cls: type) -> list[tuple[str, str, str]]:
        return [
            (p.name, p.kind.name, repr(p.default))
            for p in inspect.signature(cls).parameters.values()
        ]

    theirs_shape = shape(theirs)
    assert shape(ours) == theirs_shape + [
        (name, "KEYWORD_ONLY", default) for name, default in EXTRA_KEYWORDS
    ]
    assert isinstance(ours(), httpx.BaseTransport if ours is HTTPTransport else httpx.AsyncBaseTransport)


@pytest.mark.parametrize(("ours", "pool_class"), [(HTTPTransport, httpcore_fast.ConnectionPool), (AsyncHTTPTransport, httpcore_fast.AsyncConnectionPool)])
def test_pool_keywords(ours: type, pool_class: type) -> None:
    transport = ours(
        http2=True,
        limits=httpx.Limits(max_connections=7, max_keepalive_connections=3, keepalive_expiry=1.5),
        retries=2,
        local_address="127.0.0.1",
        socket_options=[(1, 2, 3)],
    )
    pool = transport._pool
    assert type(pool) is pool_class
    assert (pool._max_connections, pool._max_keepalive_connections, pool._keepalive_expiry) == (7, 3, 1.5)
    assert (pool._http1, pool._http2, pool._retries, pool._local_address) == (True, True, 2, "127.0.0.1")
    assert list(pool._socket_options) == [(1, 2, 3)]
    default = ours(uds="/tmp/x.sock")._pool
    assert (default._max_connections, default._max_keepalive_connections) == (100, 20)
    assert default._keepalive_expiry == 5.0 and default._uds == "/tmp/x.sock"


def ca_listed(context: ssl.SSLContext, ca: trustme.CA) -> bool:
    return ca.cert_pem.bytes() in {
        ssl.DER_cert_to_PEM_cert(der).encode() for der in context.get_ca_certs(True)
    }


def test_verify_and_cert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TLS context is the one httpx builds (httpx.create_ssl_context): the same trust
    anchors (certifi), the same SSL_CERT_FILE handling, the same deprecation warnings."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    default = HTTPTransport()._pool._ssl_context
    assert default.cert_store_stats() == httpx.create_ssl_context().cert_store_stats()
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    context = ssl.create_default_context()
    assert HTTPTransport(verify=context)._pool._ssl_context is context
    off = HTTPTransport(verify=False)._pool._ssl_context
    assert off.verify_mode == ssl.CERT_NONE and not off.check_hostname
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    for trust_env in (True, False):
        ours = AsyncHTTPTransport(trust_env=trust_env)._pool._ssl_context
        theirs = httpx.create_ssl_context(trust_env=trust_env)
        assert ca_listed(ours, ca) is ca_listed(theirs, ca) is trust_env
        assert ours.cert_store_stats() == theirs.cert_store_stats()
    with pytest.warns(DeprecationWarning, match="verify=<str>"):
        assert ca_listed(HTTPTransport(verify=str(ca_file))._pool._ssl_context, ca)
    cert_file = tmp_path / "client.pem"
    ca.issue_cert("client.example").private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    with pytest.warns(DeprecationWarning, match="cert="):
        with_cert = HTTPTransport(cert=str(cert_file))._pool._ssl_context
    assert with_cert is not None


@pytest.mark.parametrize("lib_name", LIBRARIES)
def test_proxy_keywords(lib_name: str) -> None:
    lib: ModuleType = importlib.import_module(lib_name)
    proxy = lib.Proxy("http://user:pw@127.0.0.1:3128", headers={"X-Proxy": "1"})
    pool = HTTPTransport(proxy=proxy)._pool
    assert type(pool) is httpcore_fast.HTTPProxy
    assert pool._proxy_url == httpcore_fast.URL(scheme=b"http", host=b"127.0.0.1", port=3128, target=b"/")
    async_pool = AsyncHTTPTransport(proxy="http://127.0.0.1:3128")._pool
    assert type(async_pool) is httpcore_fast.AsyncHTTPProxy
    socks = HTTPTransport(proxy=lib.URL("socks5://127.0.0.1:1080"))._pool
    assert type(socks) is httpcore_fast.SOCKSProxy
    with pytest.raises(ValueError, match="[Ss]cheme"):  # as httpx: the Proxy model refuses it
        HTTPTransport(proxy=lib.Proxy("ftp://127.0.0.1:21"))


class Recorder:
    """Stands in for a pool class: records the keyword arguments it is built with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, typing.Any]]] = []

    def pool_class(self, name: str) -> type:
        recorder = self

        class Pool:
            def __init__(self, **kwargs: typing.Any) -> None:
                recorder.calls.append((name, kwargs))

        return Pool


POOL_CLASSES = {
    True: ("ConnectionPool", "HTTPProxy", "SOCKSProxy"),
    False: ("AsyncConnectionPool", "AsyncHTTPProxy", "AsyncSOCKSProxy"),
}


@pytest.mark.parametrize("ours", [HTTPTransport, AsyncHTTPTransport])
def test_pool_options_reach_every_pool(ours: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool options go to the pool of every kind (direct, HTTP proxy, SOCKS proxy),
    with httpx's own keywords for that kind unchanged (the proxy pools get no ``uds``,
    ``local_address`` or ``retries``, as in httpx); ``response_limits`` as ``limits``."""
    recorder = Recorder()
    for name in POOL_CLASSES[ours is HTTPTransport]:
        monkeypatch.setattr(httpcore_fast, name, recorder.pool_class(name))
    backend = httpcore_fast.SyncBackend() if ours is HTTPTransport else httpcore_fast.AnyIOBackend()
    response_limits = httpcore_fast.ResponseLimits(max_field_count=7)
    options = dict(
        max_connections_per_origin=3,
        retry_stale_connections=False,
        resolve={"example.test": ["127.0.0.1"]},
        dns_cache_ttl=30.0,
        tls_session_cache=False,
        network_backend=backend,
    )
    for proxy in (None, "http://127.0.0.1:3128", "socks5://127.0.0.1:1080"):
        ours(proxy=proxy, retries=2, uds="/tmp/x.sock", response_limits=response_limits, **options)
    expected = {**options, "limits": response_limits}
    assert [name for name, _ in recorder.calls] == list(POOL_CLASSES[ours is HTTPTransport])
    for name, kwargs in recorder.calls:
        assert {key: kwargs[key] for key in expected} == expected
        assert ("retries" in kwargs, "uds" in kwargs) == ((True, True) if "Pool" in name else (False, False))
    recorder.calls.clear()
    ours()
    [(_, defaults)] = recorder.calls
    assert {key: defaults[key] for key in expected} == {
        "max_connections_per_origin": None,
        "retry_stale_connections": True,
        "resolve": None,
        "dns_cache_ttl": None,
        "tls_session_cache": True,
        "network_backend": None,
        "limits": None,
    }


def test_bad_limits_keywords() -> None:
    """``limits=`` is httpx's ``Limits``; a ``ResponseLimits`` there (or an ``httpx.Limits``
    in ``response_limits=``) is a clear TypeError, not an AttributeError later."""
    with pytest.raises(TypeError, match="response_limits="):
        HTTPTransport(limits=httpcore_fast.ResponseLimits())
    with pytest.raises(TypeError, match="response_limits= takes a ResponseLimits"):
        AsyncHTTPTransport(response_limits=httpx.Limits())
    with pytest.raises(ValueError, match="max_connections_per_origin"):
        HTTPTransport(max_connections_per_origin=0)
    with pytest.raises(TypeError):
        HTTPTransport(True, None, True, True, False, DEFAULT_LIMITS, None, None, None, 0, None, 3)


def test_stats() -> None:
    transport = HTTPTransport(proxy="http://127.0.0.1:3128")
    stats = transport.stats()
    assert stats == transport._pool.stats() and stats.total.opened == 0 and stats.origins == {}


# --- environment proxies: the same mounts as httpx's own rules ------------------------------

ENVIRONMENTS = [
    {},
    {"HTTP_PROXY": "http://127.0.0.1:3128"},
    {"HTTPS_PROXY": "127.0.0.1:3128"},
    {"ALL_PROXY": "socks5://127.0.0.1:1080", "NO_PROXY": "localhost"},
    {"http_proxy": "http://lower:1", "HTTP_PROXY": "http://upper:2"},
    {"https_proxy": "https://secure:3", "no_proxy": "example.com"},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": ".example.com, 192.168.0.1,::1 ,10.0.0.0/8"},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": "LOCALHOST,http://direct.test,,  "},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": "a.test,*"},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": "fe80::1/64,[::1],fe80::1%eth0,*.a.test"},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/x,a.test/8,[::1]/200,http://[::1"},
    {"HTTP_PROXY": "", "HTTPS_PROXY": "http://p:1"},
    {"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"},  # CGI: HTTP_PROXY is a header
]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=range(len(ENVIRONMENTS)))
@pytest.mark.parametrize("lib_name", LIBRARIES)
def test_environment_proxies_match_httpx(
    env: dict[str, str], lib_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``environment_proxies()`` gives what httpx's (and httpx2's) client takes from the
    environment (their private ``_utils.get_environment_proxies``), key for key."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    theirs = importlib.import_module(f"{lib_name}._utils").get_environment_proxies()
    assert environment_proxies(lib_name) == theirs
    assert list(environment_proxies(lib_name)) == list(theirs)

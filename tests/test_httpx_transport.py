"""httpcore_fast.httpx transport construction: httpx's keywords mapped onto the pool.

(Requests through the transports: tests/test_httpx_behaviour.py.)
"""

from __future__ import annotations

import importlib
import inspect
import ssl
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import trustme

import httpcore_fast
from httpcore_fast.httpx import AsyncHTTPTransport, HTTPTransport
from tests.test_httpx_behaviour import LIBRARIES

TRANSPORTS = [(HTTPTransport, httpx.HTTPTransport), (AsyncHTTPTransport, httpx.AsyncHTTPTransport)]


@pytest.mark.parametrize(("ours", "theirs"), TRANSPORTS)
def test_signature_matches_httpx(ours: type, theirs: type) -> None:
    def shape(cls: type) -> list[tuple[str, str, str]]:
        return [
            (p.name, p.kind.name, repr(p.default))
            for p in inspect.signature(cls).parameters.values()
        ]

    assert shape(ours) == shape(theirs)
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

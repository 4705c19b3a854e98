"""default_ssl_context() and the process-wide shared contexts."""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading
import typing

import pytest
import trustme

from httpcore_fast import _ssl
from httpcore_fast._ssl import default_ssl_context, shared_ssl_context


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return monkeypatch


@pytest.fixture
def ca_file(clean_env: pytest.MonkeyPatch) -> typing.Iterator[tuple[trustme.CA, str]]:
    ca = trustme.CA()
    with ca.cert_pem.tempfile() as path:
        yield ca, path


def test_default_context_is_new_and_verifying(clean_env: pytest.MonkeyPatch) -> None:
    first, second = default_ssl_context(), default_ssl_context()
    assert first is not second
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname is True
    assert first.cert_store_stats()["x509_ca"] > 10  # the certifi bundle


def test_ssl_cert_file(ca_file: tuple[trustme.CA, str], clean_env: pytest.MonkeyPatch) -> None:
    ca, path = ca_file
    clean_env.setenv("SSL_CERT_FILE", path)
    context = default_ssl_context()
    assert context.cert_store_stats()["x509_ca"] == 1  # only the file's CA
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert _handshake(ca, context) is None  # no ALPN offered by default
    assert default_ssl_context(_trust_env=False).cert_store_stats()["x509_ca"] > 10


def test_ssl_cert_dir(clean_env: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as directory:
        clean_env.setenv("SSL_CERT_DIR", directory)
        # A CA directory is read lazily: nothing is loaded up front, no certifi.
        assert default_ssl_context().cert_store_stats()["x509_ca"] == 0
        assert default_ssl_context(_trust_env=False).cert_store_stats()["x509_ca"] > 10
        clean_env.setenv("SSL_CERT_FILE", "")  # empty means unset
        assert default_ssl_context().cert_store_stats()["x509_ca"] == 0


def test_ssl_cert_file_missing(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SSL_CERT_FILE", os.path.join(tempfile.gettempdir(), "no-such-ca.pem"))
    with pytest.raises(OSError):
        default_ssl_context()


def test_shared_context_is_cached_per_alpn(
    ca_file: tuple[trustme.CA, str], clean_env: pytest.MonkeyPatch
) -> None:
    ca, path = ca_file
    clean_env.setattr(_ssl, "_shared", {})
    clean_env.setenv("SSL_CERT_FILE", path)
    h11 = shared_ssl_context(False)
    h2 = shared_ssl_context(True)
    assert h11 is shared_ssl_context(False)
    assert h2 is shared_ssl_context(True)
    assert h11 is not h2
    assert _handshake(ca, h11) == "http/1.1"
    assert _handshake(ca, h2) == "h2"


def test_shared_context_built_once_across_threads(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(_ssl, "_shared", {})
    calls = []
    real = _ssl.default_ssl_context

    def counting(*, _trust_env: bool = True) -> ssl.SSLContext:
        calls.append(1)
        return real(_trust_env=_trust_env)

    clean_env.setattr(_ssl, "default_ssl_context", counting)
    results: list[ssl.SSLContext] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait(10)
        results.append(shared_ssl_context(False))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert len(calls) == 1


def _handshake(ca: trustme.CA, client: ssl.SSLContext) -> str | None:
    """TLS handshake against a trustme server offering h2 and http/1.1; returns the
    ALPN protocol the client ended up with."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    server_context.set_alpn_protocols(["h2", "http/1.1"])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            with client.wrap_socket(raw, server_hostname="localhost") as tls:
                protocol = tls.selected_alpn_protocol()
                tls.sendall(b"x")
    finally:
        thread.join(10)
        listener.close()
    assert not errors, errors
    return protocol

"""pytest fixtures starting the loopback servers of :mod:`tests.servers`.

Load with ``pytest_plugins = ["tests.conftest_servers"]`` in a test module.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import tempfile
from collections.abc import Callable, Iterator

import pytest
import trustme

from tests.servers import HOST, Script, ScriptedServer, UvicornServer

@pytest.fixture(scope="session")
def http_server() -> Iterator[UvicornServer]:
    """uvicorn serving :func:`asgi_app` over plain HTTP on 127.0.0.1."""
    with UvicornServer() as server:
        yield server


@pytest.fixture(scope="session")
def tls_certificate_authority() -> trustme.CA:
    """A throwaway CA (trustme)."""
    return trustme.CA()


@pytest.fixture(scope="session")
def client_ssl_context(tls_certificate_authority: trustme.CA) -> ssl.SSLContext:
    """A client SSLContext that trusts :func:`tls_certificate_authority` only."""
    context = ssl.create_default_context()
    tls_certificate_authority.configure_trust(context)
    return context


@pytest.fixture(scope="session")
def https_server(
    tls_certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UvicornServer]:
    """uvicorn serving :func:`asgi_app` over TLS; certificate for localhost and 127.0.0.1."""
    cert = tls_certificate_authority.issue_cert("localhost", "127.0.0.1")
    pem = tmp_path_factory.mktemp("tls") / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    with UvicornServer(certfile=str(pem), keyfile=str(pem)) as server:
        yield server


@pytest.fixture
def scripted_server() -> Iterator[Callable[..., ScriptedServer]]:
    """A factory: ``scripted_server(script, uds_path=None)`` starts a :class:`ScriptedServer`.

    Every server started is stopped at teardown; an exception raised by a script (other
    than socket errors) fails the test.
    """
    servers: list[ScriptedServer] = []

    def start(script: Script, *, uds_path: str | None = None) -> ScriptedServer:
        server = ScriptedServer(script, uds_path=uds_path).start()
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
def uds_path() -> Iterator[str]:
    """A fresh unix-socket path in a short private directory (sun_path is ~108 bytes)."""
    directory = tempfile.mkdtemp(prefix="hcf-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        yield os.path.join(directory, "server.sock")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])

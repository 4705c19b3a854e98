"""A TLS stream whose first operation after the handshake is a read.

The native asyncio backend leaves the client's last handshake flight (its Finished, TLS
1.3) in the TLS engine until the first write, so that it leaves with the request in one
``send``; a read that has to wait must send it first, or a server that only speaks once
its handshake is complete (Python's ``ssl``, any TLS 1.3 server) would wait for it while
the client waits for the server. Checked on every backend, with TLS 1.3 and 1.2, against
a thread that completes the server's handshake and then writes first.

Generated from ``tests/_async/test_tls_first_read.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import ssl
import typing

import pytest
import trustme

import httpcore_fast
from httpcore_fast._backends.sync import SyncBackend
from tests.servers import HOST, ScriptedServer, ServerConnection

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network]


def speaks_first(ca: trustme.CA, version: ssl.TLSVersion) -> ScriptedServer:
    """A server that, once its TLS handshake is complete, writes ``hello`` and then
    expects ``bye``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = version
    ca.issue_cert("localhost").configure_cert(context)

    def script(conn: ServerConnection) -> None:
        conn.sock.settimeout(5.0)
        tls = context.wrap_socket(conn.sock, server_side=True)  # the whole handshake
        tls.sendall(b"hello")
        assert tls.recv(3) == b"bye"
        tls.close()

    return ScriptedServer(script).start()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_the_server_speaks_first(
    tls_certificate_authority: trustme.CA,
    client_ssl_context: ssl.SSLContext,
    network_backend: typing.Optional[httpcore_fast.NetworkBackend],  # noqa: UP045
    version: ssl.TLSVersion,
) -> None:
    server = speaks_first(tls_certificate_authority, version)
    try:
        backend = network_backend if network_backend is not None else SyncBackend()
        stream = backend.connect_tcp(HOST, server.port, timeout=5)
        tls = stream.start_tls(client_ssl_context, server_hostname="localhost", timeout=5)
        try:
            assert tls.read(5, timeout=5) == b"hello"
            tls.write(b"bye", timeout=5)
        finally:
            tls.close()
        assert server.wait_for_connections(1)
    finally:
        server.stop()
    assert not server.errors, server.errors

"""A resumed connection's TLS session is not read where the server reuses tickets.

Reading ``SSLObject.session`` costs about 0.2 ms of CPU (CPython copies the session
through ``i2d``/``d2i``, parsing the certificate again): the pool's session cache
(``_core/tls_sessions.py``) keeps the session it offered after a resumed handshake, and
once the server has resumed it twice, never reads a resumed connection's session again.
Checked against the loopback TLS server of ``tests/tls_session_servers.py`` (each response
closes its connection), on every backend: every connection after the first resumes, and
the cache still holds the first connection's session object (a read would have replaced
it). The single-use-ticket side (a server refusing a session's second use) is unit-tested
in ``tests/test_core_tls_session_reuse.py``.

Generated from ``tests/_async/test_tls_session_reads.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import ssl
import pytest

import httpcore_fast
from httpcore_fast import Origin
from httpcore_fast._core.config import tls_session_key

from httpcore_fast._sync.connection import connection_config, http_connection

from tests._sync.test_tls_sessions import VERSIONS, Backend, StartServer

pytest_plugins = ["tests.conftest_servers", "tests.conftest_tls_sessions"]
pytestmark = [pytest.mark.network]


@pytest.mark.parametrize("tls", list(VERSIONS))
def test_resumed_connections_keep_the_first_session(
    resuming_server: StartServer,
    client_ssl_context: ssl.SSLContext,
    network_backend: Backend,
    tls: str,
) -> None:
    server = resuming_server(max_version=VERSIONS[tls][0], tickets=VERSIONS[tls][1])
    config = connection_config(ssl_context=client_ssl_context, network_backend=network_backend)
    sessions = config.tls_sessions
    assert sessions is not None
    origin = Origin(b"https", b"localhost", server.port)
    key = tls_session_key(httpcore_fast.Request("GET", server.url()), origin, config)
    kept = []
    for _ in range(5):
        with http_connection(origin, config) as connection:
            response = connection.request("GET", server.url())
            assert response.status == 200 and response.content == b"ok"
        kept.append(sessions.get(key))
    assert [h.reused for h in server.handshakes] == [False, True, True, True, True]
    first = kept[0]
    assert isinstance(first, ssl.SSLSession)
    assert all(session is first for session in kept)  # never read again
    assert len(sessions) == 1

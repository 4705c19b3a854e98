"""The pytest fixture starting :class:`tests.tls_session_servers.ResumingServer`.

Load with ``pytest_plugins = ["tests.conftest_servers", "tests.conftest_tls_sessions"]``
(the first provides the trustme CA).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator

import pytest
import trustme

from tests.tls_session_servers import ResumingServer


@pytest.fixture
def resuming_server(
    tls_certificate_authority: trustme.CA,
) -> Iterator[Callable[..., ResumingServer]]:
    """A factory: ``resuming_server(**options)`` starts a :class:`ResumingServer`
    (stopped at teardown; an exception in its threads fails the test)."""
    servers: list[ResumingServer] = []

    def start(**options: typing.Any) -> ResumingServer:
        server = ResumingServer(tls_certificate_authority, **options)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert not server.errors, server.errors

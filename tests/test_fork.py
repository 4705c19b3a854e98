"""A pool used before os.fork() shares no socket with the child (the child starts empty)."""

from __future__ import annotations

import os
import warnings

import pytest

import httpcore_fast
from tests.servers import UvicornServer

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only"),
]


def test_child_starts_with_an_empty_pool_and_parent_keeps_its_connection(
    http_server: UvicornServer,
) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        assert pool.request("GET", http_server.url("/")).status == 200
        parent_connection = pool.connections[0]
        read_fd, write_fd = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a threaded process (the test server runs in
            # a thread) may deadlock; the child here only uses its own pool.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.close(read_fd)
                inherited = len(pool.connections)
                response = pool.request("GET", http_server.url("/"))
                ok = inherited == 0 and response.status == 200 and len(pool.connections) == 1
                os.write(write_fd, b"%d %d" % (inherited, response.status))
                code = 0 if ok else 1
            finally:
                os._exit(code)
        os.close(write_fd)
        try:
            report = os.read(read_fd, 100)
        finally:
            os.close(read_fd)
            _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0, report
        assert report == b"0 200"
        # The parent's connection was not disturbed by the child.
        assert pool.connections == [parent_connection]
        response = pool.request("GET", http_server.url("/"))
        assert response.status == 200
        assert pool.connections == [parent_connection]
        assert "Request Count: 2" in repr(parent_connection)

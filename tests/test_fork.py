"""A pool used before os.fork() shares no socket with the child (the child starts empty)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
import warnings

import pytest

import httpcore_fast
from tests.servers import UvicornServer

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only"),
]


CHILD_TIMEOUT = 30.0  # seconds the child may take to report and exit


def read_and_reap(read_fd: int, pid: int) -> tuple[bytes, int]:
    """The child's report (read until it closes the pipe) and its wait status, within
    ``CHILD_TIMEOUT`` seconds; a child that overruns is killed, reaped, and the test fails."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    report = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([read_fd], [], [], max(remaining, 0))
            if not readable:
                raise AssertionError(f"the child reported nothing in {CHILD_TIMEOUT} s")
            data = os.read(read_fd, 100)
            if not data:  # the child exited (or closed its end)
                break
            report += data
        while True:
            reaped, status = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return report, status
            if time.monotonic() > deadline:
                raise AssertionError(f"the child did not exit in {CHILD_TIMEOUT} s")
            time.sleep(0.01)
    except BaseException:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)  # reaped: SIGKILL cannot be ignored
        raise


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
            report, status = read_and_reap(read_fd, pid)
        finally:
            os.close(read_fd)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, report)
        assert report == b"0 200"
        # The parent's connection was not disturbed by the child.
        assert pool.connections == [parent_connection]
        response = pool.request("GET", http_server.url("/"))
        assert response.status == 200
        assert pool.connections == [parent_connection]
        assert "Request Count: 2" in repr(parent_connection)

"""Helpers of the tests in this directory.

Generated from ``tests/_async/support.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import time
import typing


import httpcore_fast
from tests.async_servers import open_fd_count
from tests.servers import ServerConnection, keepalive_script

# The pool's ``network_backend`` fixture: None (the default) or a backend instance.
Backend = typing.Optional[httpcore_fast.NetworkBackend]  # noqa: UP045 - runtime alias
IDLE_POOL = "<ConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, {} idle]>"
Script = typing.Callable[[ServerConnection], None]


def wait_until(predicate: typing.Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` (letting the event loop run) until true; AssertionError after
    ``timeout`` seconds (a bound for a hang, not a speed requirement)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


def settle_fds(baseline: int | None, slack: int = 2, timeout: float = 5.0) -> int | None:
    """Let the event loop run (asyncio releases a socket one iteration after ``abort``)
    until at most ``baseline + slack`` file descriptors are open, for at most ``timeout``
    seconds; return the final count (None without ``/proc``)."""
    if baseline is None:  # pragma: no cover - not Linux
        return None
    deadline = time.monotonic() + timeout
    count = open_fd_count()
    while count is not None and count > baseline + slack and time.monotonic() < deadline:
        time.sleep(0.005)
        count = open_fd_count()
    return count


def first_connection_then(first: Script, then: Script | None = None) -> Script:
    """A script running ``first`` on the first connection and ``then`` (default: a
    keep-alive server answering ``fresh``) on later ones."""
    later = then or keepalive_script(b"fresh")

    def script(conn: ServerConnection) -> None:
        (first if conn.index == 0 else later)(conn)

    return script


class ScriptedBackend(httpcore_fast.NetworkBackend):
    """Wraps ``backend``: the first ``failures`` TCP connects raise ``ConnectError``,
    each connect first waits ``connect_delay`` seconds, and backoff sleeps are recorded
    instead of slept (unless ``sleep_for_real``)."""

    def __init__(
        self,
        backend: httpcore_fast.NetworkBackend,
        *,
        failures: int = 0,
        connect_delay: float = 0.0,
        sleep_for_real: bool = False,
    ) -> None:
        self.backend = backend
        self.failures = failures
        self.connect_delay = connect_delay
        self.sleep_for_real = sleep_for_real
        self.attempts = 0
        self.sleeps: list[float] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Any = None,
    ) -> httpcore_fast.NetworkStream:
        self.attempts += 1
        if self.connect_delay:
            time.sleep(self.connect_delay)
        if self.attempts <= self.failures:
            raise httpcore_fast.ConnectError(f"scripted failure {self.attempts}")
        return self.backend.connect_tcp(host, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Any = None
    ) -> httpcore_fast.NetworkStream:  # pragma: no cover - not used by the tests
        return self.backend.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.sleep_for_real:
            self.backend.sleep(seconds)

"""Sync pools shared by threads: requests started at the same instant on a new HTTP/2
origin share one connection (the lazy connection's connect lock exists before any
thread can race to make it).

The interpreter's thread switch interval is cut to a microsecond while the threads run,
so that a check-then-set race between threads shows up in a bounded number of rounds
instead of once in a blue moon.
"""

from __future__ import annotations

import ssl
import sys
import threading
import typing
from collections.abc import Callable, Iterator

import pytest

import httpcore_fast
from tests.proxy_servers import TCPRelay

pytest_plugins = ["tests.conftest_servers", "tests.conftest_proxy_servers"]
pytestmark = [pytest.mark.network]

THREADS = 8
ROUNDS = 10
JOIN_TIMEOUT = 30.0  # seconds for all threads of one round
EXTENSIONS = {"timeout": {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}}


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_together(count: int, work: Callable[[int], typing.Any]) -> list[typing.Any]:
    """Run ``work(i)`` in ``count`` threads released at once by a barrier; return the
    results in order (an exception in a thread is re-raised here)."""
    barrier = threading.Barrier(count, timeout=JOIN_TIMEOUT)
    results: list[typing.Any] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "threads did not finish"
    if errors:
        raise errors[0]
    return results


@pytest.mark.usefixtures("fast_thread_switching")
def test_threads_starting_together_on_a_new_http2_origin_share_one_connection(
    h2_origin: typing.Any,
    client_ssl_context: ssl.SSLContext,
    tcp_relay: Callable[..., TCPRelay],
) -> None:
    relay = tcp_relay(h2_origin.port)
    url = relay.url("https") + "/"
    for round_number in range(ROUNDS):
        accepted = relay.accepted
        with httpcore_fast.ConnectionPool(ssl_context=client_ssl_context, http2=True) as pool:

            def get(_: int) -> tuple[int, bytes]:
                response = pool.request("GET", url, extensions=EXTENSIONS)
                return response.status, response.extensions["http_version"]

            results = run_together(THREADS, get)
            assert results == [(200, b"HTTP/2")] * THREADS
            assert len(pool.connections) == 1, round_number
        # Exactly one TCP connection reached the server in this round.
        assert relay.accepted - accepted == 1, round_number

"""The pool's resolver (issue 14 point 5) on every backend, against loopback servers.

"A per-pool resolver cache with a configurable TTL, concurrent lookups of one name
coalesced into one, and ``resolve=`` overrides (host name -> addresses, like curl's
``--resolve``), on every backend and through the httpx transports."

Names under ``.test`` (RFC 6761: never resolvable) reach uvicorn on 127.0.0.1 either by
``resolve=`` or through a fake lookup that stands in for the backend's own
``getaddrinfo`` (the module function its ``_connect_tcp_with_resolver`` hands to the
resolver, patched by the ``lookup`` fixture) and counts the lookups. Everything else is
real: the pool, the backend's connects, the server. The sans-I/O rules (validation,
expiry on an injected clock, the bound of the cache) are ``tests/test_core_resolver.py``.

Async: asyncio and trio, each with its native backend and ``AnyIOBackend``; sync:
``SyncBackend`` (threads stand in for tasks).

Generated from ``tests/_async/test_resolver.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import typing

import httpx
import pytest

import httpcore_fast
from httpcore_fast import ConnectError, Origin
from httpcore_fast.httpx import HTTPTransport

from httpcore_fast._sync.connection import PoolResolver, connection_config, http_connection

from httpcore_fast._backends import base as base_module
from httpcore_fast._backends import sync as sync_backend_module
from httpcore_fast._backends.sync import SyncBackend
from httpcore_fast._core.resolver import Resolver
from tests._sync.support import settle_fds
from tests.async_servers import open_fd_count
from tests.concurrency import Nursery
from tests.servers import HELLO, BlackHole, UvicornServer, echo, echoed_header

pytest_plugins = ["tests.conftest_servers"]
pytestmark = [pytest.mark.network]

Backend = typing.Optional[httpcore_fast.NetworkBackend]  # noqa: UP045 - runtime alias
# A timer may fire up to one clock tick early: elapsed-time lower bounds allow that much.
TICK = max(time.get_clock_info("monotonic").resolution, 0.005)


class FakeLookup:
    """Stands in for the backend's ``getaddrinfo``: every name is 127.0.0.1, after
    ``delays[i]`` seconds for the i-th call (``delay`` after the listed ones); raises
    ``error`` instead when set. ``calls`` lists the names looked up."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.delays: list[float] = []
        self.delay = 0.0
        self.error: OSError | None = None

    def __call__(self, host: str, port: int) -> list[typing.Any]:
        index = len(self.calls)
        self.calls.append(host)
        delay = self.delays[index] if index < len(self.delays) else self.delay
        if delay:
            time.sleep(delay)
        if self.error is not None:
            raise self.error
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]


@pytest.fixture
def lookup(monkeypatch: pytest.MonkeyPatch) -> FakeLookup:
    fake = FakeLookup()
    monkeypatch.setattr(sync_backend_module, "_getaddrinfo", fake)
    return fake


def url(server: UvicornServer, host: str, path: str = "/") -> str:
    return f"http://{host}:{server.port}{path}"


# -- resolve= overrides ------------------------------------------------------------------


def test_an_override_reaches_a_loopback_server(
    http_server: UvicornServer, network_backend: Backend
) -> None:
    with httpcore_fast.ConnectionPool(
        network_backend=network_backend, resolve={"Made-Up.test": ["127.0.0.1"]}
    ) as pool:
        response = pool.request("GET", url(http_server, "made-up.test", "/echo"))
    # The request still names the host: only the address comes from the override.
    assert echoed_header(echo(response), "host") == [f"made-up.test:{http_server.port}"]


def test_override_addresses_are_tried_in_order(
    http_server: UvicornServer, network_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on 127.0.0.3: refused, and the next address is tried at once (RFC
    # 8305 §5), not after the attempt delay (an hour here: waiting for it would end in
    # ConnectTimeout).
    monkeypatch.setattr(base_module, "HAPPY_EYEBALLS_DELAY", 3600.0)
    monkeypatch.setattr(sync_backend_module, "HAPPY_EYEBALLS_DELAY", 3600.0)
    with httpcore_fast.ConnectionPool(
        network_backend=network_backend, resolve={"two.test": ["127.0.0.3", "127.0.0.1"]}
    ) as pool:
        response = pool.request(
            "GET", url(http_server, "two.test"), extensions={"timeout": {"connect": 10}}
        )
    assert response.content == HELLO


def test_an_override_whose_addresses_all_fail_is_a_connect_error(
    network_backend: Backend,
) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with httpcore_fast.ConnectionPool(
        network_backend=network_backend, resolve={"down.test": ["127.0.0.3", "127.0.0.1"]}
    ) as pool:
        with pytest.raises(ConnectError):
            pool.request("GET", f"http://down.test:{port}/")


def test_a_first_address_that_hangs_loses_the_race(network_backend: Backend) -> None:
    # RFC 8305 §5: the second address is tried 250 ms after the first, which never
    # answers (a full accept queue drops SYNs), and wins; the first attempt is closed.
    hole = BlackHole("127.0.0.1")
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.2", hole.address[1]))
        listener.listen(8)
        backend = network_backend or SyncBackend()
        resolver = PoolResolver(Resolver({"dual.test": ["127.0.0.1", "127.0.0.2"]}))
        baseline = open_fd_count()
        started = time.monotonic()
        stream = backend._connect_tcp_with_resolver(
            resolver, "dual.test", hole.address[1], timeout=10
        )
        elapsed = time.monotonic() - started
        try:
            assert stream.get_extra_info("server_addr") == ("127.0.0.2", hole.address[1])
            assert elapsed >= 0.25 - TICK
            # The hanging attempt's socket is closed: only the winner's stays open (at
            # most: a fixture server's thread may close one of its own meanwhile).
            count = settle_fds(baseline, slack=1)
            assert baseline is None or (count is not None and count <= baseline + 1)
        finally:
            stream.close()
    finally:
        listener.close()
        hole.close()


def test_overrides_through_the_httpx_transport(http_server: UvicornServer) -> None:
    transport = HTTPTransport(resolve={"via-httpx.test": ["127.0.0.1"]})
    with httpx.Client(transport=transport) as client:
        response = client.get(url(http_server, "via-httpx.test"))
    assert response.status_code == 200 and response.content == HELLO


# -- the DNS cache ------------------------------------------------------------------------


def test_lookups_are_cached_for_the_ttl(
    http_server: UvicornServer, network_backend: Backend, lookup: FakeLookup
) -> None:
    now = [0.0]
    config = connection_config(network_backend=network_backend)
    config = dataclasses.replace(config, resolver=Resolver(ttl=10, clock=lambda: now[0]))
    origin = Origin(b"http", b"cached.test", http_server.port)
    counts = []
    for advance in (0, 9.9, 0.1, 1):
        now[0] += advance
        with http_connection(origin, config) as connection:
            response = connection.request("GET", url(http_server, "cached.test"))
            assert response.content == HELLO
        counts.append(len(lookup.calls))
    assert counts == [1, 1, 2, 2]  # expired at exactly 10 s, then cached again


def test_without_a_ttl_every_connection_looks_up(
    http_server: UvicornServer, network_backend: Backend, lookup: FakeLookup
) -> None:
    with httpcore_fast.ConnectionPool(
        network_backend=network_backend, max_keepalive_connections=0
    ) as pool:
        for _ in range(2):
            assert (pool.request("GET", url(http_server, "fresh.test"))).content == HELLO
    assert lookup.calls == ["fresh.test", "fresh.test"]


def test_the_pool_ttl_reaches_the_resolver(
    http_server: UvicornServer, network_backend: Backend, lookup: FakeLookup
) -> None:
    with httpcore_fast.ConnectionPool(
        network_backend=network_backend, max_keepalive_connections=0, dns_cache_ttl=60
    ) as pool:
        for _ in range(3):
            assert (pool.request("GET", url(http_server, "ttl.test"))).content == HELLO
    assert lookup.calls == ["ttl.test"]


# -- lookups in flight -----------------------------------------------------------------------


def test_concurrent_connects_to_one_name_share_one_lookup(
    http_server: UvicornServer, network_backend: Backend, lookup: FakeLookup
) -> None:
    lookup.delay = 0.3  # long enough for every connect to start meanwhile
    statuses: list[int] = []

    def fetch(pool: httpcore_fast.ConnectionPool) -> None:
        response = pool.request("GET", url(http_server, "shared.test"))
        statuses.append(response.status)

    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with Nursery(timeout=30) as nursery:
            for _ in range(5):
                nursery.start_soon(fetch, pool)
        assert len(pool.connections) == 5  # five connections, one lookup
    assert statuses == [200] * 5
    assert lookup.calls == ["shared.test"]


def test_a_failed_lookup_fails_every_connect_waiting_for_it(
    network_backend: Backend, lookup: FakeLookup
) -> None:
    lookup.delay = 0.3
    lookup.error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    errors: list[BaseException] = []

    def fetch(pool: httpcore_fast.ConnectionPool) -> None:
        try:
            pool.request("GET", "http://nowhere.test:8080/")
        except ConnectError as exc:
            errors.append(exc)

    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with Nursery(timeout=30) as nursery:
            for _ in range(4):
                nursery.start_soon(fetch, pool)
    assert lookup.calls == ["nowhere.test"]
    assert len(errors) == 4
    causes = [error.args[0] for error in errors]  # ConnectError(the lookup's error)
    assert all(isinstance(cause, socket.gaierror) for cause in causes), causes
    assert {cause.errno for cause in causes} == {socket.EAI_NONAME}
    assert len({id(cause) for cause in causes}) == 4  # each its own exception object


def test_a_waiter_that_times_out_leaves_the_lookup_to_its_owner(
    http_server: UvicornServer, network_backend: Backend, lookup: FakeLookup
) -> None:
    lookup.delay = 1.0
    outcomes: dict[str, typing.Any] = {}

    def owner(pool: httpcore_fast.ConnectionPool) -> None:
        response = pool.request("GET", url(http_server, "patient.test"))
        outcomes["owner"] = response.status

    def waiter(pool: httpcore_fast.ConnectionPool) -> None:
        time.sleep(0.2)  # the owner's lookup is running
        with pytest.raises(httpcore_fast.ConnectTimeout):
            pool.request(
                "GET", url(http_server, "patient.test"), extensions={"timeout": {"connect": 0.2}}
            )
        outcomes["waiter"] = "timed out"

    with httpcore_fast.ConnectionPool(network_backend=network_backend) as pool:
        with Nursery(timeout=30) as nursery:
            nursery.start_soon(owner, pool)
            nursery.start_soon(waiter, pool)
    assert outcomes == {"owner": 200, "waiter": "timed out"}
    assert lookup.calls == ["patient.test"]



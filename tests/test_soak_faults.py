"""Fault tests against a misbehaving loopback server (:mod:`tests.hostile_servers`).

* The server restarts (FIN or RST on every connection) while the pool holds idle
  connections: the stale connections are noticed and replaced, every request succeeds.
* The server closes keep-alive connections at random moments (before the response, in
  the head, in the body, in a chunk, while idle), resets them mid-body (``SO_LINGER`` 0)
  or sends bytes nobody asked for: the request in flight fails with a clear error
  (``RemoteProtocolError`` for an early close, ``RemoteProtocolError`` or ``ReadError``
  for a reset), every other response arrives whole and is the right one, and a
  connection that went wrong is never used again.

Sync (one thread and a few), asyncio and trio, on the default kernel (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import random
import threading
import typing
from typing import Any

import anyio
import pytest

import httpcore_fast
from tests import async_servers
from tests.hostile_servers import FAILING, HostileServer, body_for
from tests.seeds import soak_seed
from tests.servers import wait_until

pytestmark = pytest.mark.network

anyio_backend = async_servers.anyio_backend

EXPECTED_ERRORS = (httpcore_fast.RemoteProtocolError, httpcore_fast.ReadError)
# An idle connection the server has just closed may be taken before its FIN arrives
# (the server closes after sending the response: a race on every client); that request
# then fails as it does with httpcore.
RACED_ERRORS = (
    httpcore_fast.RemoteProtocolError,
    httpcore_fast.ReadError,
    httpcore_fast.WriteError,
)
TIMEOUTS = {"timeout": {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}}

# the mix of the random-close storm: mostly good answers, every kind of failure
WEIGHTS = {
    "ok": 40, "chunked": 14, "idle-close": 12, "extra-bytes": 6, "close-before": 5,
    "close-mid-head": 5, "close-mid-body": 5, "close-mid-chunk": 5, "rst-mid-body": 4,
    "rst-before": 4,
}  # fmt: skip
STORM_REQUESTS = 240


@pytest.fixture
def server() -> typing.Iterator[HostileServer]:
    with HostileServer() as server:
        yield server
    assert server.violations == []


def storm_seed() -> int:
    """A fixed seed, or ``HCF_SOAK_SEED`` (:mod:`tests.seeds`)."""
    return soak_seed("storm")


KEEPS_OPEN = frozenset({"ok", "chunked", "extra-bytes"})  # the other actions close


def server_closed_what_it_was_told(server: HostileServer) -> bool:
    """True once every connection whose last request told the server to close it is
    closed (its thread has finished, so the FIN or RST is out). One server generation:
    connection ``i`` is served by ``threads[i]``."""
    generation = server._generation
    assert generation is not None and server.restarts == 0
    last: dict[int, str] = {}
    for index, _, action in list(server.requests):
        last[index] = action
    with generation.lock:
        threads = list(generation.threads)
    return all(
        not threads[index].is_alive() for index, action in last.items() if action not in KEEPS_OPEN
    )


def assert_pool_at_rest(pool: Any) -> None:
    for connection in pool.connections:
        assert connection.is_idle() and not connection.is_closed(), repr(connection)


def assert_never_reused_after(server: HostileServer, request_ids: set[int]) -> None:
    """The connection that carried each of ``request_ids`` carried no later request."""
    for request_id in request_ids:
        (connection,) = server.connections_of({request_id})
        later = [
            rid for conn, rid, _ in server.requests if conn == connection and rid > request_id
        ]
        assert later == [], (request_id, connection, later)


class Storm:
    """The bookkeeping of a random-close storm, shared by the sync and async tests."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.actions: dict[int, str] = {}
        self.ok = 0
        self.failed = 0
        self.raced = 0
        self.errors: list[str] = []
        self.results: dict[int, bytes | BaseException] = {}
        self.lock = threading.Lock()

    def next_action(self, request_id: int) -> str:
        with self.lock:
            action = self.rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
            self.actions[request_id] = action
            return action

    def outcome(self, request_id: int, result: bytes | BaseException) -> None:
        with self.lock:
            self.results[request_id] = result

    def check(self, server: HostileServer) -> str:
        """Classify every result against what the server saw; return a summary."""
        received = {rid for _, rid, _ in server.requests}
        for request_id, action in sorted(self.actions.items()):
            result = self.results.get(request_id)
            if request_id not in received:
                # Sent on an idle connection the server had just closed, before its FIN
                # or RST arrived (the server closes right after a response: a race on
                # every client). The request fails as with httpcore; never silently.
                if isinstance(result, RACED_ERRORS):
                    self.raced += 1
                else:
                    self.errors.append(f"{request_id} {action}: never received, {result!r}")
            elif isinstance(result, bytes):
                if action in FAILING:
                    self.errors.append(f"{request_id} {action}: succeeded")
                elif result != body_for(request_id):
                    self.errors.append(f"{request_id} {action}: wrong body {result!r}")
                else:
                    self.ok += 1
            elif action in FAILING:
                early_close = action.startswith("close-")
                expected = httpcore_fast.RemoteProtocolError if early_close else EXPECTED_ERRORS
                if isinstance(result, expected):
                    self.failed += 1
                else:
                    self.errors.append(f"{request_id} {action}: {result!r}")
            else:
                self.errors.append(f"{request_id} {action}: {result!r}")
        summary = (
            f"seed={self.seed} requests={len(self.actions)} ok={self.ok} "
            f"failed-as-told={self.failed} raced-idle-close={self.raced} "
            f"server-connections={server.accepted}"
        )
        assert self.errors == [], (summary, self.errors[:5])
        assert server.violations == [], server.violations
        assert self.ok + self.failed + self.raced == len(self.actions), summary
        # a race needs an idle-close before it; most idle closes are noticed in time
        idle_closes = sum(a == "idle-close" for a in self.actions.values())
        assert self.raced <= idle_closes, summary
        assert self.ok >= len(self.actions) // 3 and self.failed >= len(self.actions) // 10
        return summary


# --- server restarts ----------------------------------------------------------------------

RESTART_ROUNDS = 3
IDLE = 4


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_restart_replaces_stale_idle_connections_sync(server: HostileServer, reset: bool) -> None:
    request_id = 0
    with httpcore_fast.ConnectionPool(max_connections=IDLE) as pool:
        for _ in range(RESTART_ROUNDS):
            with contextlib.ExitStack() as stack:  # IDLE connections at once
                responses = []
                for _ in range(IDLE):
                    request_id += 1
                    responses.append(
                        stack.enter_context(pool.stream("GET", server.url(request_id)))
                    )
                for response in responses:
                    response.read()
            stale = list(pool.connections)
            assert len(stale) == IDLE and all(c.is_idle() for c in stale)
            server.restart(reset=reset)
            first_new = request_id + 1
            for _ in range(2 * IDLE):
                request_id += 1
                response = pool.request("GET", server.url(request_id), extensions=TIMEOUTS)
                assert response.status == 200
                assert response.content == body_for(request_id)
            assert not set(pool.connections) & set(stale)
            assert all(c.is_closed() for c in stale)
            assert_pool_at_rest(pool)
            # the requests after the restart went to the new server only
            before = server.connections_of(set(range(1, first_new)))
            assert not server.connections_of(set(range(first_new, request_id + 1))) & before
    assert server.restarts == RESTART_ROUNDS


@pytest.mark.anyio
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_restart_replaces_stale_idle_connections_async(
    server: HostileServer, reset: bool
) -> None:
    request_id = 0
    async with httpcore_fast.AsyncConnectionPool(max_connections=IDLE) as pool:
        for _ in range(RESTART_ROUNDS):
            async with contextlib.AsyncExitStack() as stack:
                responses = []
                for _ in range(IDLE):
                    request_id += 1
                    responses.append(
                        await stack.enter_async_context(pool.stream("GET", server.url(request_id)))
                    )
                for response in responses:
                    await response.aread()
            stale = list(pool.connections)
            assert len(stale) == IDLE and all(c.is_idle() for c in stale)
            server.restart(reset=reset)
            for _ in range(2 * IDLE):
                request_id += 1
                with anyio.fail_after(10):
                    response = await pool.request(
                        "GET", server.url(request_id), extensions=TIMEOUTS
                    )
                assert response.status == 200
                assert response.content == body_for(request_id)
            assert not set(pool.connections) & set(stale)
            assert all(c.is_closed() for c in stale)
            assert_pool_at_rest(pool)
    assert server.restarts == RESTART_ROUNDS


# --- a reset in the middle of a body -------------------------------------------------------


def test_reset_mid_body_is_a_clear_error_and_the_connection_is_dropped_sync(
    server: HostileServer,
) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        assert pool.request("GET", server.url(1)).content == body_for(1)
        for request_id in (2, 4, 6):
            with pytest.raises(EXPECTED_ERRORS):
                pool.request("GET", server.url(request_id, "rst-mid-body"), extensions=TIMEOUTS)
            assert pool.connections == []
            response = pool.request("GET", server.url(request_id + 1), extensions=TIMEOUTS)
            assert response.content == body_for(request_id + 1)
        assert_never_reused_after(server, {2, 4, 6})


@pytest.mark.anyio
async def test_reset_mid_body_is_a_clear_error_and_the_connection_is_dropped_async(
    server: HostileServer,
) -> None:
    async with httpcore_fast.AsyncConnectionPool() as pool:
        assert (await pool.request("GET", server.url(1))).content == body_for(1)
        for request_id in (2, 4, 6):
            with pytest.raises(EXPECTED_ERRORS), anyio.fail_after(10):
                async with pool.stream(
                    "GET", server.url(request_id, "rst-mid-body"), extensions=TIMEOUTS
                ) as response:
                    async for _ in response.aiter_stream():
                        pass
            assert pool.connections == []
            response = await pool.request("GET", server.url(request_id + 1), extensions=TIMEOUTS)
            assert response.content == body_for(request_id + 1)
        assert_never_reused_after(server, {2, 4, 6})


def test_unsolicited_bytes_make_the_connection_unusable_sync(server: HostileServer) -> None:
    with httpcore_fast.ConnectionPool() as pool:
        response = pool.request("GET", server.url(1, "extra-bytes"))
        assert response.content == body_for(1)
        assert pool.connections == []  # closed, not returned to the pool
        assert pool.request("GET", server.url(2)).content == body_for(2)
    assert_never_reused_after(server, {1})
    # the fixture checks server.violations: nothing arrived on the tainted connection


# --- the random-close storm -----------------------------------------------------------------


def storm_request_sync(
    pool: httpcore_fast.ConnectionPool, server: HostileServer, storm: Storm, request_id: int
) -> None:
    action = storm.next_action(request_id)
    try:
        if storm.rng.random() < 0.5:
            response = pool.request("GET", server.url(request_id, action), extensions=TIMEOUTS)
            content = response.content
        else:
            with pool.stream("GET", server.url(request_id, action), extensions=TIMEOUTS) as r:
                content = b"".join(r.iter_stream())
    except Exception as exc:  # noqa: BLE001 - classified by Storm.outcome
        storm.outcome(request_id, exc)
        return
    storm.outcome(request_id, content)


@pytest.mark.parametrize("threads", [1, 4])
def test_random_closes_and_resets_sync(server: HostileServer, threads: int) -> None:
    storm = Storm(storm_seed())
    ids = iter(range(1, STORM_REQUESTS + 1))
    ids_lock = threading.Lock()
    with httpcore_fast.ConnectionPool(max_connections=3) as pool:

        def worker() -> None:
            while True:
                with ids_lock:
                    request_id = next(ids, None)
                if request_id is None:
                    return
                storm_request_sync(pool, server, storm, request_id)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(60)
        assert not any(thread.is_alive() for thread in workers)
        summary = storm.check(server)
        assert_pool_at_rest(pool)
        # the pool still works (once the last closes the server was told to make are out)
        wait_until(lambda: server_closed_what_it_was_told(server), timeout=10)
        assert pool.request("GET", server.url(10_000)).content == body_for(10_000), summary


@pytest.mark.anyio
async def test_random_closes_and_resets_async(server: HostileServer, anyio_backend: str) -> None:
    storm = Storm(storm_seed())
    ids = iter(range(1, STORM_REQUESTS + 1))
    async with httpcore_fast.AsyncConnectionPool(max_connections=3) as pool:

        async def one(request_id: int) -> None:
            action = storm.next_action(request_id)
            url = server.url(request_id, action)
            try:
                if storm.rng.random() < 0.5:
                    content = (await pool.request("GET", url, extensions=TIMEOUTS)).content
                else:
                    async with pool.stream("GET", url, extensions=TIMEOUTS) as response:
                        content = b"".join([part async for part in response.aiter_stream()])
            except Exception as exc:  # noqa: BLE001 - classified by Storm.outcome
                storm.outcome(request_id, exc)
                return
            storm.outcome(request_id, content)

        async def worker() -> None:
            for request_id in ids:
                await one(request_id)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(worker)
        summary = storm.check(server)
        assert_pool_at_rest(pool)
        # the pool still works (once the last closes the server was told to make are out)
        await async_servers.wait_until(lambda: server_closed_what_it_was_told(server), timeout=10)
        response = await pool.request("GET", server.url(10_000))
        assert response.content == body_for(10_000), summary

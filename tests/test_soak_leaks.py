"""10,000 requests with random cancellations and timeouts leak nothing.

Against :class:`tests.async_servers.DelayServer` (per-request delays before the head and
in the middle of the body), a pool serves 10,000 requests per run, a share of them
cancelled (async: ``move_on_after``, a sibling task cancelling a scope, ``fail_after``,
cancelled at the first await) or timed out (the ``timeout`` extension: read and pool
timeouts; sync: the only way to abandon a request). Afterwards:

* the pool is at rest (no active or queued request, only idle open connections) and
  still serves requests;
* once the pool is closed, the process has at most 2 more file descriptors open than
  before the pool existed (``/proc/self/fd``);
* the resident set grew by less than 10 MiB between the end of a 1,000-request warm-up
  and the end of the 10,000 requests (``/proc/self/statm``, after ``gc.collect()``).

Runs: sync (worker threads), asyncio and trio, once each on the default kernel (the
kernel plays no part here: tests/conftest.py): 10,000 requests on the Cython kernel, 3,000
where only the Python one is built. The random choices come from a fixed seed
(:mod:`tests.seeds`).
The numbers are printed (``-s`` or the captured output) for the record.
"""

from __future__ import annotations

import gc
import os
import random
import threading
import time
import typing
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

import httpcore_fast
from httpcore_fast import _kernel
from tests import async_servers
from tests.async_servers import (
    DelayServer,
    delay_body,
    open_fd_count,
    settle_fds,
    tolerate_unexhausted_body_generators,
)
from tests.seeds import soak_seed

pytestmark = pytest.mark.network

anyio_backend = async_servers.anyio_backend
delay_server = async_servers.delay_server

REQUESTS = {"cython": 10_000, "python": 3_000}  # per run: the big one once per backend
WARMUP = 1_000
MAX_GROWTH = 10 * 1024 * 1024  # bytes of resident memory
FD_SLACK = 2
WALL_LIMIT = 40.0  # seconds per phase (warm-up, soak): a hang bound, two fit the test timeout
WORKERS = 16
SYNC_WORKERS = 6
MAX_CONNECTIONS = 6
IDLE_POOL = "<{}ConnectionPool [Requests: 0 active, 0 queued | Connections: 0 active, {} idle]>"


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Stats:
    def __init__(self) -> None:
        self.started = 0
        self.completed = 0
        self.cancelled = 0
        self.timeouts = 0
        self.lock = threading.Lock()

    def add(self, field: str) -> None:
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)

    def check(self) -> str:
        summary = (
            f"requests={self.started} completed={self.completed} "
            f"cancelled={self.cancelled} timeouts={self.timeouts}"
        )
        assert self.started == self.completed + self.cancelled + self.timeouts, summary
        assert self.cancelled + self.timeouts >= self.started // 10, summary
        assert self.completed >= self.started // 2, summary
        return summary


def pick(rng: random.Random, server: DelayServer, slow: bool) -> tuple[str, float, int]:
    """(url, deadline, body size) of one random request; a ``slow`` one waits before
    its head or in its body for longer than any deadline."""
    head = rng.choice([0.0, 0.0, 0.0, 0.0, 0.001, 0.004])
    body = rng.choice([0.0, 0.0, 0.0, 0.002])
    if slow:
        head, body = rng.choice([(0.01, 0.0), (0.0, 0.01)])
    size = rng.choice([16, 16, 2000, 70_000])
    url = server.url(head=head, body=body, size=size)
    return url, rng.uniform(0.0005, 0.004), size


def check_leaks(
    report: str,
    server: DelayServer,
    fds_before: int | None,
    fds_after: int | None,
    growth: int,
) -> None:
    """Hold the soak's numbers to the bounds (the report, with the seed, is in every
    assertion message and printed, so pytest shows it on failure only)."""
    report += (
        f" server-connections={server.accepted} fds before={fds_before} after={fds_after}"
        f" rss growth={growth / 1024:.0f} KiB"
    )
    print(report)
    assert fds_after is not None and fds_before is not None
    assert fds_after <= fds_before + FD_SLACK, report
    assert growth < MAX_GROWTH, report


# --- sync ----------------------------------------------------------------------------------


def sync_one(
    pool: httpcore_fast.ConnectionPool, server: DelayServer, rng: random.Random, stats: Stats
) -> None:
    kind = rng.random()
    url, deadline, size = pick(rng, server, slow=kind < 0.12)
    stats.add("started")
    timeouts = {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    if kind < 0.12:
        timeouts["read"] = deadline
    elif kind < 0.17:
        timeouts["pool"] = deadline / 4
    try:
        if rng.random() < 0.5:
            response = pool.request("GET", url, extensions={"timeout": timeouts})
            assert response.content == delay_body(size)
        else:
            with pool.stream("GET", url, extensions={"timeout": timeouts}) as response:
                for _ in response.iter_stream():
                    pass
    except (httpcore_fast.ReadTimeout, httpcore_fast.PoolTimeout):
        stats.add("timeouts")
        return
    stats.add("completed")


def run_sync(
    pool: httpcore_fast.ConnectionPool, server: DelayServer, count: int, seed: int, stats: Stats
) -> None:
    budget = [count]
    lock = threading.Lock()
    errors: list[BaseException] = []
    ends = time.monotonic() + WALL_LIMIT

    def worker(index: int) -> None:
        rng = random.Random(seed * 100 + index)
        try:
            while time.monotonic() < ends:
                with lock:
                    if budget[0] == 0:
                        return
                    budget[0] -= 1
                sync_one(pool, server, rng, stats)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(SYNC_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WALL_LIMIT + 10)
    assert not any(thread.is_alive() for thread in threads), f"a worker hung, seed={seed}"
    if errors:
        raise errors[0]
    assert budget[0] == 0, (
        f"stalled: {budget[0]} of {count} requests never started within {WALL_LIMIT} s "
        f"(a hang bound, far above the normal run time) seed={seed}"
    )


def test_sync_soak_leaks_nothing(delay_server: DelayServer) -> None:
    seed = soak_seed("sync soak")
    fds_before = open_fd_count()
    pool = httpcore_fast.ConnectionPool(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS - 2
    )
    with pool:
        run_sync(pool, delay_server, WARMUP, seed, Stats())
        gc.collect()
        rss_before = rss_bytes()
        stats = Stats()
        started = time.monotonic()
        run_sync(pool, delay_server, REQUESTS[_kernel.kernel_name()], seed + 1, stats)
        elapsed = time.monotonic() - started
        gc.collect()
        growth = rss_bytes() - rss_before
        summary = stats.check()
        assert repr(pool) == IDLE_POOL.format("", len(pool.connections))
        assert all(c.is_idle() and not c.is_closed() for c in pool.connections)
        assert pool.request("GET", delay_server.url()).content == delay_body(64)
    async_servers_wait(lambda: delay_server.open_connections == 0)
    fds_after = settle_fds_sync(fds_before)
    report = f"sync soak seed={seed} {summary} in {elapsed:.1f}s"
    check_leaks(report, delay_server, fds_before, fds_after, growth)


def async_servers_wait(predicate: typing.Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.002)


def settle_fds_sync(baseline: int | None, timeout: float = 5.0) -> int | None:
    deadline = time.monotonic() + timeout
    count = open_fd_count()
    while (
        baseline is not None
        and count is not None
        and count > baseline + FD_SLACK
        and time.monotonic() < deadline
    ):
        time.sleep(0.005)
        count = open_fd_count()
    return count


# --- async ---------------------------------------------------------------------------------


async def async_one(
    pool: httpcore_fast.AsyncConnectionPool,
    server: DelayServer,
    rng: random.Random,
    stats: Stats,
    tg: anyio.abc.TaskGroup,
) -> None:
    kind = rng.random()
    url, deadline, size = pick(rng, server, slow=kind < 0.32 and rng.random() < 0.5)
    stats.add("started")
    timeouts: dict[str, Any] = {"connect": 10.0, "read": 10.0, "write": 10.0, "pool": 10.0}
    stream = rng.random() < 0.5

    async def run() -> None:
        if stream:
            async with pool.stream("GET", url, extensions={"timeout": timeouts}) as response:
                async for _ in response.aiter_stream():
                    await anyio.lowlevel.checkpoint()
        else:
            response = await pool.request("GET", url, extensions={"timeout": timeouts})
            assert response.content == delay_body(size)

    if kind < 0.1:  # its own deadline
        with anyio.move_on_after(deadline) as scope:
            await run()
        stats.add("cancelled" if scope.cancelled_caught else "completed")
    elif kind < 0.17:  # cancelled by a sibling task at a random moment
        scope = anyio.CancelScope()

        async def cancel_later() -> None:
            await anyio.sleep(deadline)
            scope.cancel()

        tg.start_soon(cancel_later)
        with scope:
            await run()
        stats.add("cancelled" if scope.cancelled_caught else "completed")
    elif kind < 0.2:  # cancelled at the first await
        with anyio.CancelScope() as scope:
            scope.cancel()
            await run()
        stats.add("cancelled")
    elif kind < 0.25:  # fail_after
        try:
            with anyio.fail_after(deadline):
                await run()
        except TimeoutError:
            stats.add("timeouts")
        else:
            stats.add("completed")
    else:  # the timeout extension (sometimes short), or left alone
        if kind < 0.32:
            timeouts["read"] = deadline
        elif kind < 0.36:
            timeouts["pool"] = deadline / 4
        try:
            await run()
        except (httpcore_fast.ReadTimeout, httpcore_fast.PoolTimeout):
            stats.add("timeouts")
        else:
            stats.add("completed")


async def run_async(
    pool: httpcore_fast.AsyncConnectionPool,
    server: DelayServer,
    count: int,
    seed: int,
    stats: Stats,
) -> None:
    rng = random.Random(seed)
    budget = [count]

    async def worker(tg: anyio.abc.TaskGroup) -> None:
        while budget[0] > 0:
            budget[0] -= 1
            await async_one(pool, server, rng, stats, tg)

    with anyio.fail_after(WALL_LIMIT):
        async with anyio.create_task_group() as tg:
            for _ in range(WORKERS):
                tg.start_soon(worker, tg)


@pytest.mark.anyio
@tolerate_unexhausted_body_generators
async def test_async_soak_leaks_nothing(
    delay_server: DelayServer,
    anyio_backend: str,
) -> None:
    seed = soak_seed(f"{anyio_backend} soak")
    fds_before = open_fd_count()
    pool = httpcore_fast.AsyncConnectionPool(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS - 2
    )
    async with pool:
        await run_async(pool, delay_server, WARMUP, seed, Stats())
        gc.collect()
        rss_before = rss_bytes()
        stats = Stats()
        started = time.monotonic()
        await run_async(pool, delay_server, REQUESTS[_kernel.kernel_name()], seed + 1, stats)
        elapsed = time.monotonic() - started
        gc.collect()
        growth = rss_bytes() - rss_before
        summary = stats.check()
        assert repr(pool) == IDLE_POOL.format("Async", len(pool.connections))
        assert all(c.is_idle() and not c.is_closed() for c in pool.connections)
        assert (await pool.request("GET", delay_server.url())).content == delay_body(64)
    await async_servers.wait_until(lambda: delay_server.open_connections == 0)
    fds_after = await settle_fds(fds_before, FD_SLACK)
    report = f"{anyio_backend} soak seed={seed} {summary} in {elapsed:.1f}s"
    check_leaks(report, delay_server, fds_before, fds_after, growth)

"""The pool's bookkeeping alone (``httpcore_fast/_core/pool.py``): what acquiring and
releasing a connection cost, and the memory it keeps per idle connection and per origin,
with many idle connections across many origins (issue 14, point 3: "10,000 idle
connections across 5,000 origins must not make acquire or release slower").

No sockets, no driver: connections are minimal fakes made before measuring, so only the
core's own work and memory are counted. Each case fills a ``PoolCore`` with idle
connections, then times bounded rounds of one operation:

* ``reuse``: acquire an idle connection of an origin and release it (it becomes idle
  again): always the same origin (the other connections stay idle: does their number
  slow the operation down?), or origins in turn (the idle list's order keeps changing,
  as in a crawl; every origin's state is touched in turn, so the CPU caches miss more);
* ``evict``: the pool is at ``max_connections`` with every connection idle; a request for
  an origin with none evicts the least recently used idle connection (of another origin),
  opens a new one, releases it, and the evicted one is reported closed.

The garbage collector is off while a round is timed (its passes over the benchmark's own
objects would land in random rounds). Printed: the median and best of the rounds' µs per
acquire+release, for 0, 100 and 10,000
idle connections across 1 and 5,000 origins; then tracemalloc's count of the bytes the core
keeps per idle connection (one origin, 10,000 connections) and per origin (5,000 origins
with one connection each, less their connections' share), and what is left after every
connection has been closed (origins with no connection are forgotten; the dicts' tables
stay at their peak size, as CPython never shrinks a dict when entries are deleted).

    .venv/bin/python benchmarks/bench_pool.py [--ops 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpcore_fast import Request  # noqa: E402
from httpcore_fast._core.pool import OriginKey, PoolCore  # noqa: E402


class Conn:
    """An HTTP/1.1-like connection as the core sees it: idle or busy, never expiring."""

    __slots__ = ("busy", "key")

    def __init__(self, key: OriginKey) -> None:
        self.key = key
        self.busy = False

    def is_available(self) -> bool:
        return not self.busy

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return not self.busy

    def is_closed(self) -> bool:
        return False

    def _may_multiplex(self) -> bool:
        return False

    def _close_reason(self) -> str | None:
        return None


def origin_keys(count: int) -> list[OriginKey]:
    return [(b"https", b"origin-%d.example" % i, 443) for i in range(count)]


class Factory:
    """Hands out connections made beforehand (their memory is not the core's)."""

    def __init__(self, spare: int) -> None:
        self.spare = [Conn((b"", b"", 0)) for _ in range(spare)]

    def __call__(self, request: Request) -> Conn:
        if self.spare:
            return self.spare.pop()
        return Conn((b"", b"", 0))


def filled_core(
    idle: int, origins: int, max_connections: int | None = None, spare: int = 0
) -> tuple[PoolCore[Conn], list[OriginKey], dict[OriginKey, Request]]:
    """A core holding ``idle`` idle connections spread evenly over ``origins`` origins."""
    factory = Factory(idle + spare)
    core: PoolCore[Conn] = PoolCore(factory, max_connections=max_connections)
    keys = origin_keys(origins)
    requests = {key: Request("GET", b"https://%s/" % key[1]) for key in keys}
    closing: list[Conn] = []
    held = []
    for index in range(idle):
        key = keys[index % origins]
        connection = core.acquire(key, requests[key], closing)
        assert connection is not None and not closing
        connection.busy = True
        held.append(connection)
    for connection in held:
        connection.busy = False
        core.release(connection, closing)
    assert not closing and len(core._idle) == idle
    return core, keys, requests


def time_reuse(
    idle: int, origins: int, ops: int, rounds: int, one_origin: bool = False
) -> list[float]:
    """µs per acquire+release of an idle connection (a new one when ``idle`` is 0: then
    the one connection it opens is reused by every later request). Origins in turn, or
    ``one_origin``: always the first (the others' connections stay idle meanwhile)."""
    core, keys, requests = filled_core(idle, origins)
    if idle == 0 or one_origin:
        keys = keys[:1]
    acquire, release = core.acquire, core.release
    closing: list[Conn] = []
    count = len(keys)
    results = []
    for _ in range(rounds):
        sequence = [keys[i % count] for i in range(ops)]
        gc.disable()
        start = time.perf_counter_ns()
        for key in sequence:
            connection = acquire(key, requests[key], closing)
            release(connection, closing)  # type: ignore[arg-type]
        results.append((time.perf_counter_ns() - start) / ops / 1000)
        gc.enable()
        assert not closing
    return results


def time_evict(idle: int, origins: int, ops: int, rounds: int) -> list[float]:
    """µs per acquire (evicting the least recently used idle connection) + release +
    closed(), at ``max_connections == idle``."""
    core, keys, requests = filled_core(idle, origins, max_connections=idle, spare=ops * rounds)
    acquire, release, closed = core.acquire, core.release, core.closed
    results = []
    for round_ in range(rounds):
        # Origins never seen before, so every acquire must evict.
        fresh = origin_keys(origins + (round_ + 1) * ops)[origins + round_ * ops :]
        fresh_requests = [(key, Request("GET", b"https://%s/" % key[1])) for key in fresh]
        gc.collect()
        gc.disable()
        start = time.perf_counter_ns()
        for key, request in fresh_requests:
            closing: list[Conn] = []
            connection = acquire(key, request, closing)
            assert connection is not None and len(closing) == 1
            release(connection, closing)
            closed(closing[:1], closing)
        results.append((time.perf_counter_ns() - start) / ops / 1000)
        gc.enable()
    return results


def core_bytes(idle: int, origins: int) -> tuple[int, int]:
    """Bytes tracemalloc counts for the core's state with ``idle`` idle connections over
    ``origins`` origins, and what is left once every connection was closed."""
    gc.collect()
    factory = Factory(idle)
    keys = origin_keys(origins)
    requests = {key: Request("GET", b"https://%s/" % key[1]) for key in keys}
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        core: PoolCore[Conn] = PoolCore(factory)
        closing: list[Conn] = []
        held = []
        for index in range(idle):
            key = keys[index % origins]
            connection = core.acquire(key, requests[key], closing)
            assert connection is not None
            connection.busy = True
            held.append(connection)
        for connection in held:
            connection.busy = False
            core.release(connection, closing)
        del held, connection
        gc.collect()
        full = tracemalloc.get_traced_memory()[0] - base
        core.close_all(closing)
        core.closed(closing, [])
        closing.clear()
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return full, left


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20000, help="operations per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per case")
    args = parser.parse_args(argv)
    ops, rounds = max(1, min(args.ops, 1_000_000)), max(1, min(args.rounds, 100))

    print(
        f"PoolCore acquire+release, µs per operation: median (best) of {rounds} rounds of {ops:,}"
    )
    print(
        f"{'idle connections':>17} {'origins':>8} {'reuse, one origin':>18} "
        f"{'reuse, in turn':>16} {'evict at cap':>16}"
    )
    for idle, origins in ((0, 1), (100, 1), (100, 100), (10_000, 1), (10_000, 5_000)):
        cells = []
        for one_origin in (True, False):
            reuse = time_reuse(idle, origins, ops, rounds, one_origin)
            cells.append(f"{statistics.median(reuse):7.2f} ({min(reuse):5.2f})")
        if idle:
            evict = time_evict(idle, origins, ops, rounds)
            cells.append(f"{statistics.median(evict):7.2f} ({min(evict):5.2f})")
        else:
            cells.append("-")
        print(f"{idle:>17,} {origins:>8,} {cells[0]:>18} {cells[1]:>16} {cells[2]:>16}")

    per_conn_total, left_conn = core_bytes(10_000, 1)
    per_origin_total, left_origin = core_bytes(5_000, 5_000)
    per_connection = per_conn_total / 10_000
    per_origin = (per_origin_total - 5_000 * per_connection) / 5_000
    print()
    print("Memory the core keeps (tracemalloc; connections and requests not counted):")
    print(
        f"  per idle connection: {per_connection:6.0f} bytes (10,000 idle, one origin; "
        f"{per_conn_total / 1024:,.0f} KiB)"
    )
    print(
        f"  per origin:          {per_origin:6.0f} bytes (5,000 origins with one idle "
        f"connection each; {per_origin_total / 1024:,.0f} KiB in all)"
    )
    print(
        f"  after closing them all: {left_conn / 1024:,.0f} and {left_origin / 1024:,.0f} KiB: "
        "no origin state is kept; what stays is the core's dict tables at their peak"
    )
    print("  size (CPython never shrinks a dict on delete), so bounded by max_connections")


if __name__ == "__main__":
    main()

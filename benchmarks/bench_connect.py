#!/usr/bin/env python3
"""Per-connection client CPU on asyncio: connect, TLS handshake, one request, close.

One loopback nginx (crawl_server.CrawlNginx with two origins: one plain, one HTTPS with a
throw-away CA) on one CPU, this process on the other. Every request opens a new
connection (``Connection: close``), so what is measured is what the crawl pays per new
connection. Modes, interleaved over rounds in one process:

* ``raw-tcp`` / ``raw-tls``: ``asyncio.open_connection`` (``ssl=`` for TLS: asyncio's own
  TLS transport, no session resumption), write the request, read to the end: the ceiling;
* ``backend-tcp`` / ``backend-tls``: httpcore_fast's native asyncio backend alone
  (``connect_tcp``, ``start_tls``, ``write``, ``read`` to the end);
* ``pool-tcp`` / ``pool-tls``: ``AsyncConnectionPool.request`` (resolver, TLS session
  cache: resumed handshakes after the first);
* ``pool-tls-nocache``: the same with ``tls_session_cache=False`` (full handshakes).

Printed per mode: client CPU µs per connection (``time.process_time``: steadier than wall
time on a loaded machine), wall µs per connection, medians over rounds. ``--profile FILE``
runs one mode under cProfile instead (``--mode``).

    .venv/bin/python benchmarks/bench_connect.py [--connections 300] [--rounds 5]
        [--concurrency 1] [--modes raw-tls,pool-tls] [--profile out.prof --mode pool-tls]

Bounded: ``--connections`` per mode and round (after a warm-up of 20); nothing is
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import ssl
import statistics
import sys
import time
import typing

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# BENCH_TREE=<dir>: import httpcore_fast from another copy (a before/after comparison).
sys.path.insert(0, os.environ.get("BENCH_TREE") or os.path.dirname(HERE))

from crawl_server import PAGE, CrawlNginx  # noqa: E402
from nginx import find_nginx  # noqa: E402

import httpcore_fast  # noqa: E402
from httpcore_fast._backends.asyncio import AsyncIOBackend  # noqa: E402

MODES = (
    "raw-tcp",
    "raw-tls",
    "backend-tcp",
    "backend-tls",
    "pool-tcp",
    "pool-tls",
    "pool-tls-nocache",
)
WARMUP = 20


def request_bytes(port: int) -> bytes:
    return (
        f"GET /c/connect/x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ).encode()


class Target:
    def __init__(self, scheme: str, port: int, ctx: ssl.SSLContext) -> None:
        self.scheme, self.port, self.ctx = scheme, port, ctx
        self.url = f"{scheme}://127.0.0.1:{port}/c/connect/x"
        self.raw = request_bytes(port)


async def one_raw(t: Target) -> None:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", t.port, ssl=t.ctx if t.scheme == "https" else None
    )
    writer.write(t.raw)
    data = b""
    for _ in range(1000):  # bounded: a 2 KiB answer
        chunk = await reader.read(65536)
        if not chunk:
            break
        data += chunk
    writer.close()
    assert data.endswith(PAGE), data[-100:]


async def one_backend(t: Target, backend: AsyncIOBackend) -> None:
    stream = await backend.connect_tcp("127.0.0.1", t.port, timeout=10)
    if t.scheme == "https":
        stream = await stream.start_tls(t.ctx, server_hostname="127.0.0.1", timeout=10)
    await stream.write(t.raw)
    data = b""
    for _ in range(1000):  # bounded
        chunk = await stream.read(65536, timeout=10)
        if not chunk:
            break
        data += chunk
    await stream.aclose()
    assert data.endswith(PAGE), data[-100:]


def make_runner(mode: str, targets: dict[str, Target]) -> typing.Any:
    """(one(), close()) coroutines functions for ``mode``."""
    t = targets["https" if mode.endswith(("tls", "nocache")) else "http"]
    if mode.startswith("raw"):
        return (lambda: one_raw(t)), None
    if mode.startswith("backend"):
        backend = AsyncIOBackend()
        return (lambda: one_backend(t, backend)), None
    pool = httpcore_fast.AsyncConnectionPool(
        ssl_context=t.ctx, tls_session_cache=mode != "pool-tls-nocache"
    )
    headers = [(b"Connection", b"close")]

    async def one() -> None:
        r = await pool.request(b"GET", t.url, headers=headers)
        assert r.status == 200 and r.content == PAGE

    return one, pool.aclose


async def run_mode(
    mode: str, targets: dict[str, Target], n: int, concurrency: int
) -> tuple[float, float]:
    """(CPU µs, wall µs) per connection for ``n`` connections, ``concurrency`` at once."""
    one, close = make_runner(mode, targets)
    for _ in range(WARMUP):
        await one()
    left = [n]

    async def worker() -> None:
        for _ in range(n):  # bounded
            if left[0] <= 0:
                return
            left[0] -= 1
            await one()

    c0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    if close is not None:
        await close()
    return cpu / n * 1e6, wall / n * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", "-n", type=int, default=300)
    p.add_argument("--rounds", "-r", type=int, default=5)
    p.add_argument("--concurrency", "-c", type=int, default=1)
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--profile", help="write a cProfile of --mode to this file")
    p.add_argument("--mode", default="pool-tls", help="the mode --profile runs")
    p.add_argument("--no-pin", action="store_true")
    args = p.parse_args()
    n = max(1, min(args.connections, 100_000))
    rounds = max(1, min(args.rounds, 100))
    modes = [m for m in args.modes.split(",") if m]
    for m in modes + [args.mode]:
        if m not in MODES:
            p.error(f"unknown mode {m!r}: {', '.join(MODES)}")
    cpus = sorted(os.sched_getaffinity(0))
    client_cpu = server_cpu = None
    if not args.no_pin and len(cpus) >= 2:
        client_cpu, server_cpu = cpus[0], cpus[1]
    server = CrawlNginx(find_nginx(None), server_cpu, 2, 14, 20.0)
    try:
        server.start()
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        targets = {o.scheme: Target(o.scheme, o.port, ctx) for o in server.origins}
        print(
            f"{server.version}; client on CPU {client_cpu}, nginx on {server_cpu}; "
            f"{n} connections x {rounds} rounds, {args.concurrency} at once; "
            f"load {os.getloadavg()[0]:.2f}; {ssl.OPENSSL_VERSION}; {httpcore_fast.__file__}"
        )
        if args.profile:
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            asyncio.run(run_mode(args.mode, targets, n, args.concurrency))
            prof.disable()
            prof.dump_stats(args.profile)
            print(f"profile of {args.mode} written to {args.profile}")
            return 0
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
        for r in range(rounds):
            order = modes[r % len(modes) :] + modes[: r % len(modes)]
            for m in order:
                results[m].append(asyncio.run(run_mode(m, targets, n, args.concurrency)))
        print(f"{'mode':<18}{'CPU µs/conn':>12}{'min':>8}{'max':>8}{'wall µs/conn':>14}")
        for m in modes:
            cpu = [c for c, _ in results[m]]
            wall = [w for _, w in results[m]]
            print(
                f"{m:<18}{statistics.median(cpu):>12.0f}{min(cpu):>8.0f}{max(cpu):>8.0f}"
                f"{statistics.median(wall):>14.0f}"
            )
        print(f"load at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

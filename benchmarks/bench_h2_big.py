"""A 100 MiB body over one HTTP/2 stream against the same body over HTTP/1.1 (issue 16).

One nginx (benchmarks/nginx.py: TLS with ALPN h2 and http/1.1, the 100 MiB file) serves
``/big``; each measurement is one ``GET /big`` on a fresh pool whose connection was opened
(and warmed with ``GET /small``) before the clock starts, the body read with
``iter_stream()`` / ``aiter_stream()`` and counted. Both protocols go over TLS through the
same pool type (``ConnectionPool`` / ``AsyncConnectionPool``; ``http1=False, http2=True``
for HTTP/2), for each HTTP/2 layer (``native``: ``_h2_c``; ``h2``: the h2 library, selected
with ``HTTPCORE_FAST_H2_NATIVE``), sync and asyncio (``--loop uvloop`` for uvloop).

The cases of one round run in a shuffled order (rounds alternate the protocols and the
layers); each case's median MB/s (1 MB = 10^6 bytes) over the rounds is printed with its
ratio to HTTP/1.1 of the same mode, from this run. ``--chunk-size`` sets nginx's
``http2_chunk_size`` (its DATA frame payload; nginx's default is 8k, what compare.py's
server uses). Bounded: ``--rounds`` (1-50) and ``--deadline`` seconds for the whole run.

    .venv/bin/python benchmarks/bench_h2_big.py [--rounds 5] [--modes sync,asyncio]
        [--layers native,h2] [--loop asyncio|uvloop] [--chunk-size 8k] [--cpu N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import nginx  # noqa: E402 - after the path set-up
from scenarios import BIG_SIZE  # noqa: E402

import httpcore_fast  # noqa: E402
from httpcore_fast._core.http2_framing import NATIVE_ENV, h2_layer  # noqa: E402


def _with_chunk_size(render: Any, chunk_size: str | None) -> Any:
    """nginx's config with ``http2_chunk_size`` set in the TLS server (None: its default)."""

    def render_conf(*args: Any) -> str:
        conf = str(render(*args))
        if chunk_size:
            marker = "http2_max_concurrent_streams"
            conf = conf.replace(marker, f"http2_chunk_size {chunk_size};\n        {marker}", 1)
        return conf

    return render_conf


class Case:
    def __init__(self, mode: str, proto: str, layer: str):
        self.mode, self.proto, self.layer = mode, proto, layer
        self.seconds: list[float] = []
        self.chunks: list[int] = []

    @property
    def label(self) -> str:
        return f"{self.mode:7s} {self.proto:8s} " + (self.layer if self.proto == "HTTP/2" else "-")


def _pool_kwargs(proto: str, ctx: ssl.SSLContext) -> dict[str, Any]:
    if proto == "HTTP/2":
        return {"http1": False, "http2": True, "ssl_context": ctx, "max_connections": 1}
    return {"http1": True, "http2": False, "ssl_context": ctx, "max_connections": 1}


def _check(version: Any, proto: str, got: int) -> None:
    want = b"HTTP/2" if proto == "HTTP/2" else b"HTTP/1.1"
    if version != want:
        raise SystemExit(f"asked for {proto}, got {version!r}")
    if got != BIG_SIZE:
        raise SystemExit(f"{proto}: read {got} bytes, want {BIG_SIZE}")


def run_sync(case: Case, base: str, ctx: ssl.SSLContext) -> None:
    with httpcore_fast.ConnectionPool(**_pool_kwargs(case.proto, ctx)) as pool:
        pool.request(b"GET", base + "/small")
        chunks = got = 0
        start = time.perf_counter()
        with pool.stream(b"GET", base + "/big") as r:
            for chunk in r.iter_stream():
                got += len(chunk)
                chunks += 1
        case.seconds.append(time.perf_counter() - start)
        case.chunks.append(chunks)
        _check(r.extensions.get("http_version"), case.proto, got)


async def run_async(case: Case, base: str, ctx: ssl.SSLContext) -> None:
    async with httpcore_fast.AsyncConnectionPool(**_pool_kwargs(case.proto, ctx)) as pool:
        await pool.request(b"GET", base + "/small")
        chunks = got = 0
        start = time.perf_counter()
        async with pool.stream(b"GET", base + "/big") as r:
            async for chunk in r.aiter_stream():
                got += len(chunk)
                chunks += 1
        case.seconds.append(time.perf_counter() - start)
        case.chunks.append(chunks)
        _check(r.extensions.get("http_version"), case.proto, got)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="sync,asyncio")
    parser.add_argument("--layers", default="native,h2")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--chunk-size", default=None, help="nginx http2_chunk_size (8k)")
    parser.add_argument("--cpu", type=int, default=None, help="pin nginx to this CPU")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds, whole run")
    parser.add_argument("--nginx", default=None)
    args = parser.parse_args()
    if not 1 <= args.rounds <= 50:
        raise SystemExit("--rounds: 1 to 50")
    modes = [m for m in args.modes.split(",") if m]
    layers = [x for x in args.layers.split(",") if x]
    if not set(modes) <= {"sync", "asyncio"} or not set(layers) <= {"native", "h2"}:
        raise SystemExit("--modes: sync,asyncio; --layers: native,h2")
    loop_factory: Any = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop

    nginx.render_nginx_conf = _with_chunk_size(nginx.render_nginx_conf, args.chunk_size)
    server = nginx.NginxServer(nginx.find_nginx(args.nginx), args.cpu, None, 10.0, True, True)
    cases = []
    for mode in modes:
        cases.append(Case(mode, "HTTP/1.1", "-"))
        cases.extend(Case(mode, "HTTP/2", layer) for layer in layers)
    deadline = time.monotonic() + args.deadline
    rounds = 0
    try:
        server.start()
        if server.ca_pem is None or server.tls_port is None:
            raise SystemExit(f"no TLS server: {server.tls_note}")
        ctx = ssl.create_default_context(cadata=server.ca_pem.decode())
        base = f"https://127.0.0.1:{server.tls_port}"
        print(f"{server.version}; http2_chunk_size {args.chunk_size or 'default (8k)'}; "
              f"loop {args.loop}; {BIG_SIZE / 2**20:.0f} MiB per download")
        order = random.Random(16)
        for rounds in range(1, args.rounds + 1):
            shuffled = cases[:]
            order.shuffle(shuffled)
            for case in shuffled:
                os.environ[NATIVE_ENV] = "h2" if case.layer == "h2" else "native"
                if case.proto == "HTTP/2" and h2_layer() != case.layer:
                    raise SystemExit(f"asked for the {case.layer} layer, got {h2_layer()}")
                if case.mode == "sync":
                    run_sync(case, base, ctx)
                elif loop_factory is not None:
                    with asyncio.Runner(loop_factory=loop_factory) as runner:
                        runner.run(run_async(case, base, ctx))
                else:
                    asyncio.run(run_async(case, base, ctx))
            print(f"round {rounds}: " + ", ".join(
                f"{c.mode}/{c.proto}/{c.layer} {BIG_SIZE / c.seconds[-1] / 1e6:.0f}"
                for c in cases))
            if time.monotonic() > deadline:
                print(f"deadline reached after {rounds} rounds")
                break
    finally:
        server.cleanup()
        os.environ.pop(NATIVE_ENV, None)

    print(f"\nmedians of {rounds} rounds (MB/s; ratio: HTTP/2 / HTTP/1.1, same mode):")
    for mode in modes:
        h1 = statistics.median(
            next(c for c in cases if c.mode == mode and c.proto == "HTTP/1.1").seconds
        )
        for case in (c for c in cases if c.mode == mode):
            median = statistics.median(case.seconds)
            chunks = statistics.median(case.chunks)
            ratio = h1 / median
            print(f"  {case.label:28s} {BIG_SIZE / median / 1e6:7.0f} MB/s  "
                  f"x{ratio:4.2f}  ({chunks:.0f} chunks, "
                  f"{BIG_SIZE / chunks / 1024:.1f} KiB each)")


if __name__ == "__main__":
    main()

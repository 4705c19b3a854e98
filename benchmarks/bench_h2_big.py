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

``--server memory`` replaces nginx and TLS by an in-memory stream that hands out a canned
response (HTTP/1.1 with Content-Length; HTTP/2: SETTINGS, HEADERS and 8 KiB DATA frames)
in reads of at most ``--read-size`` bytes (default: 16 KiB for sync, as a TLS socket
returns one record per read, 64 KiB for asyncio, as the native TLS stream fills its
buffer): the client's own CPU per body without the network and TLS, steadier on a loaded
machine (compare ``best`` between trees).

    .venv/bin/python benchmarks/bench_h2_big.py [--rounds 5] [--modes sync,asyncio]
        [--layers native,h2] [--loop asyncio|uvloop] [--chunk-size 8k] [--cpu N]
    [--server nginx|memory] [--read-size N]
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
        self.cpu: list[float] = []
        self.chunks: list[int] = []

    @property
    def label(self) -> str:
        return f"{self.mode:7s} {self.proto:8s} " + (self.layer if self.proto == "HTTP/2" else "-")


def _frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """One HTTP/2 frame (RFC 9113 §4.1)."""
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream_id.to_bytes(
        4, "big") + payload


def canned_responses(frame_size: int = 8192) -> dict[str, bytes]:
    """What the in-memory server sends on a connection: the response to ``/big``
    (BIG_SIZE bytes), for each protocol."""
    import hpack

    body = (bytes(range(256)) * (BIG_SIZE // 256 + 1))[:BIG_SIZE]
    h1 = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
    encoder = hpack.Encoder()
    parts = [_frame(0x4, 0, 0, b"")]  # the server's SETTINGS (the defaults)

    def h2_response(stream_id: int, data: bytes) -> None:
        head = [(b":status", b"200"), (b"content-length", b"%d" % len(data))]
        parts.append(_frame(0x1, 0x4, stream_id, encoder.encode(head)))
        view = memoryview(data)
        for at in range(0, len(data), frame_size):
            end = at + frame_size >= len(data)
            parts.append(_frame(0x0, 0x1 if end else 0, stream_id, bytes(view[at:at + frame_size])))

    h2_response(1, body)
    return {
        "HTTP/1.1": h1 % BIG_SIZE + body,
        "HTTP/2": b"".join(parts),
    }


def memory_backends(blob: bytes, read_size: int) -> tuple[Any, Any]:
    """(sync, async) network backends whose every stream reads ``blob``, in reads of
    at most ``read_size`` bytes, and ignores what is written."""

    class Reader:
        def __init__(self) -> None:
            self.view = memoryview(blob)
            self.at = 0

        def read(self, max_bytes: int) -> bytes:
            end = min(self.at + min(max_bytes, read_size), len(blob))
            data = bytes(self.view[self.at:end])
            self.at = end
            return data

        def recv_into(self, buffer: memoryview) -> int:
            n = min(len(buffer), read_size, len(blob) - self.at)
            buffer[:n] = self.view[self.at:self.at + n]
            self.at += n
            return n

    class Stream(httpcore_fast.NetworkStream):
        def __init__(self) -> None:
            self.reader = Reader()

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.reader.read(max_bytes)

        def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
            return self.reader.recv_into(buffer)

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            pass

        def close(self) -> None:
            pass

        def get_extra_info(self, info: str) -> Any:
            return False if info == "is_readable" else None

    class AsyncStream(httpcore_fast.AsyncNetworkStream):
        def __init__(self) -> None:
            self.reader = Reader()

        async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.reader.read(max_bytes)

        async def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
            return self.reader.recv_into(buffer)

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            pass

        async def aclose(self) -> None:
            pass

        def get_extra_info(self, info: str) -> Any:
            return False if info == "is_readable" else None

    class Backend(httpcore_fast.NetworkBackend):
        def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            return Stream()

    class AsyncBackend(httpcore_fast.AsyncNetworkBackend):
        async def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            return AsyncStream()

    return Backend(), AsyncBackend()


def _pool_kwargs(proto: str, ctx: Any) -> dict[str, Any]:
    """TLS with ``ctx`` an ``ssl.SSLContext``; else ``ctx`` is the in-memory backends
    (sync, async) of ``proto``, over plain http:// (HTTP/2 with prior knowledge)."""
    kwargs: dict[str, Any] = {"max_connections": 1}
    if isinstance(ctx, ssl.SSLContext):
        kwargs["ssl_context"] = ctx
    if proto == "HTTP/2":
        return {**kwargs, "http1": False, "http2": True}
    return {**kwargs, "http1": True, "http2": False}


def _check(version: Any, proto: str, got: int) -> None:
    want = b"HTTP/2" if proto == "HTTP/2" else b"HTTP/1.1"
    if version != want:
        raise SystemExit(f"asked for {proto}, got {version!r}")
    if got != BIG_SIZE:
        raise SystemExit(f"{proto}: read {got} bytes, want {BIG_SIZE}")


def _record(
    case: Case, start: float, cpu: float, chunks: int, version: Any, got: int
) -> None:
    """Keep one download's wall and CPU seconds (since ``start`` / ``cpu``) and chunk
    count in ``case``, after checking its protocol and size."""
    case.seconds.append(time.perf_counter() - start)
    case.cpu.append(time.process_time() - cpu)
    case.chunks.append(chunks)
    _check(version, case.proto, got)


def run_sync(case: Case, base: str, ctx: Any) -> None:
    kwargs = _pool_kwargs(case.proto, ctx)
    if not isinstance(ctx, ssl.SSLContext):
        kwargs["network_backend"] = ctx[case.proto][0]
    with httpcore_fast.ConnectionPool(**kwargs) as pool:
        if isinstance(ctx, ssl.SSLContext):  # (the in-memory server answers once)
            pool.request(b"GET", base + "/small")
        chunks = got = 0
        start, cpu = time.perf_counter(), time.process_time()
        with pool.stream(b"GET", base + "/big") as r:
            for chunk in r.iter_stream():
                got += len(chunk)
                chunks += 1
        _record(case, start, cpu, chunks, r.extensions.get("http_version"), got)


async def run_async(case: Case, base: str, ctx: Any) -> None:
    kwargs = _pool_kwargs(case.proto, ctx)
    if not isinstance(ctx, ssl.SSLContext):
        kwargs["network_backend"] = ctx[case.proto][1]
    async with httpcore_fast.AsyncConnectionPool(**kwargs) as pool:
        if isinstance(ctx, ssl.SSLContext):  # (the in-memory server answers once)
            await pool.request(b"GET", base + "/small")
        chunks = got = 0
        start, cpu = time.perf_counter(), time.process_time()
        async with pool.stream(b"GET", base + "/big") as r:
            async for chunk in r.aiter_stream():
                got += len(chunk)
                chunks += 1
        _record(case, start, cpu, chunks, r.extensions.get("http_version"), got)


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
    parser.add_argument("--server", choices=("nginx", "memory"), default="nginx")
    parser.add_argument("--read-size", type=int, default=None,
                        help="memory server: bytes per read (16384 sync, 65536 asyncio)")
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

    server: Any = None
    if args.server == "nginx":
        nginx.render_nginx_conf = _with_chunk_size(nginx.render_nginx_conf, args.chunk_size)
        server = nginx.NginxServer(nginx.find_nginx(args.nginx), args.cpu, None, 10.0, True,
                                   True)
    cases = []
    for mode in modes:
        cases.append(Case(mode, "HTTP/1.1", "-"))
        cases.extend(Case(mode, "HTTP/2", layer) for layer in layers)
    deadline = time.monotonic() + args.deadline
    rounds = 0
    targets: dict[str, tuple[str, Any]] = {}  # mode: (base URL, SSL context or backends)
    try:
        if server is not None:
            server.start()
            if server.ca_pem is None or server.tls_port is None:
                raise SystemExit(f"no TLS server: {server.tls_note}")
            ctx = ssl.create_default_context(cadata=server.ca_pem.decode())
            for mode in modes:
                targets[mode] = (f"https://127.0.0.1:{server.tls_port}", ctx)
            print(f"{server.version}; http2_chunk_size {args.chunk_size or 'default (8k)'}; "
                  f"loop {args.loop}; {BIG_SIZE / 2**20:.0f} MiB per download")
        else:
            blobs = canned_responses()
            for mode in modes:
                size = args.read_size or (16384 if mode == "sync" else 65536)
                backends = {proto: memory_backends(blob, size) for proto, blob in blobs.items()}
                targets[mode] = ("http://127.0.0.1:8000", backends)
                print(f"in-memory server, {mode}: reads of at most {size} bytes")
        order = random.Random(16)
        for rounds in range(1, args.rounds + 1):
            shuffled = cases[:]
            order.shuffle(shuffled)
            for case in shuffled:
                os.environ[NATIVE_ENV] = "h2" if case.layer == "h2" else "native"
                if case.proto == "HTTP/2" and h2_layer() != case.layer:
                    raise SystemExit(f"asked for the {case.layer} layer, got {h2_layer()}")
                base, ctx = targets[case.mode]
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
        if server is not None:
            server.cleanup()
        os.environ.pop(NATIVE_ENV, None)

    print(f"\nmedians of {rounds} rounds: MB/s and its ratio to HTTP/1.1 of the same mode; "
          f"the client's CPU (ms per download, this process) and HTTP/1.1's CPU over it; "
          f"the best round's MB/s")
    for mode in modes:
        h1_case = next(c for c in cases if c.mode == mode and c.proto == "HTTP/1.1")
        h1, h1_cpu = statistics.median(h1_case.seconds), statistics.median(h1_case.cpu)
        for case in (c for c in cases if c.mode == mode):
            median, cpu = statistics.median(case.seconds), statistics.median(case.cpu)
            chunks = statistics.median(case.chunks)
            print(f"  {case.label:28s} {BIG_SIZE / median / 1e6:6.0f} MB/s x{h1 / median:4.2f}"
                  f"  cpu {cpu * 1e3:5.0f} ms x{h1_cpu / cpu:4.2f}"
                  f"  best {BIG_SIZE / min(case.seconds) / 1e6:6.0f}  ({chunks:.0f} chunks of "
                  f"{BIG_SIZE / chunks / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()

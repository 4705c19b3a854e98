"""httpcore_fast's own CPU per HTTP/2 request, without the network: a noise-free regression
check for the HTTP/2 client (bench_overhead.py is its HTTP/1.1 twin).

The network is replaced by an in-memory stream whose peer answers the client's preface with
SETTINGS (and acknowledges the client's), and every request HEADERS frame that ends its
stream with a canned response: HEADERS (nginx-like fields, HPACK dynamic table size 0) and
DATA (100 bytes, END_STREAM). The peer's frame scan is a few hundred ns per request, the same
for every client, so what remains is the client's own work per ``pool.request()``: the pool,
the HTTP/2 core and framing, HPACK, the driver's reads and writes, the models.

* sync: sequential requests on one ``ConnectionPool(http1=False, http2=True)``;
* asyncio: ``--concurrency`` tasks sharing one ``AsyncConnectionPool`` (one connection,
  that many streams at once).

Each kernel of httpcore_fast is measured, and httpcore 1.0.9 through the same fake peer
when it is installed. Every loop is bounded: ``--requests`` per round (100 to 200,000),
``--rounds`` rounds (1 to 50) after a warm-up; the best and the median round are printed,
in µs of client CPU per request.

    .venv/bin/python benchmarks/bench_overhead_h2.py [--requests 2000] [--rounds 5]
        [--concurrency 50]

To compare two trees, run each tree's copy of this script (it imports the package from the
tree it sits in).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hpack  # noqa: E402 - after the path set-up, as the package is

# Frame types and flags (RFC 9113 §6).
_DATA, _HEADERS, _SETTINGS = 0x0, 0x1, 0x4
_END_STREAM = _ACK = 0x1
_END_HEADERS = 0x4
_PREFACE_SIZE = 24  # b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4)
_HEAD = [
    (b":status", b"200"),
    (b"server", b"nginx"),
    (b"date", b"Wed, 25 Nov 2026 15:00:00 GMT"),
    (b"content-type", b"text/plain"),
    (b"content-length", b"100"),
]
_BODY = b"x" * 100


def _frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """One frame (RFC 9113 §4.1): 24-bit length, type, flags, stream identifier."""
    return b"%b%c%c%b%b" % (
        len(payload).to_bytes(3, "big"), kind, flags, stream_id.to_bytes(4, "big"), payload
    )


# SETTINGS_MAX_CONCURRENT_STREAMS (0x3) 128, SETTINGS_INITIAL_WINDOW_SIZE (0x4) 65536.
_SERVER_SETTINGS = _frame(_SETTINGS, 0, 0, bytes.fromhex("000300000080" "000400010000"))
_SETTINGS_ACK = _frame(_SETTINGS, _ACK, 0, b"")


def _header_blocks() -> tuple[bytes, bytes]:
    """The response header block of a connection's first response (with the dynamic
    table size update to 0) and of the later ones."""
    encoder = hpack.Encoder()
    encoder.header_table_size = 0
    return encoder.encode(_HEAD), encoder.encode(_HEAD)


_FIRST_BLOCK, _BLOCK = _header_blocks()


def _response(stream_id: int, block: bytes) -> bytes:
    return _frame(_HEADERS, _END_HEADERS, stream_id, block) + _frame(
        _DATA, _END_STREAM, stream_id, _BODY
    )


class Peer:
    """The server side of one connection: scans what the client writes (whole frames,
    as every client here writes them) and queues the answers."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.preface_seen = False
        self.block = _FIRST_BLOCK

    def received(self, data: bytes) -> None:
        data = bytes(data)
        i = 0
        if not self.preface_seen:
            i = _PREFACE_SIZE
            self.preface_seen = True
            self.out += _SERVER_SETTINGS
        while i < len(data):
            length = int.from_bytes(data[i : i + 3], "big")
            kind, flags = data[i + 3], data[i + 4]
            stream_id = int.from_bytes(data[i + 5 : i + 9], "big") & 0x7FFFFFFF
            if kind == _SETTINGS and not flags & _ACK:
                self.out += _SETTINGS_ACK
            elif kind in (_DATA, _HEADERS) and flags & _END_STREAM and stream_id:
                self.out += _response(stream_id, self.block)
                self.block = _BLOCK
            i += 9 + length

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.out[:max_bytes])
        del self.out[:max_bytes]
        if not data:
            raise RuntimeError("the client read with nothing to read: it would block")
        return data


def sync_backend(module: Any) -> Any:
    class Stream(module.NetworkStream):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.peer = Peer()

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.peer.received(buffer)

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.peer.take(max_bytes)

        def get_extra_info(self, info: str) -> Any:
            return False if info == "is_readable" else None

        def close(self) -> None:
            pass

    class Backend(module.NetworkBackend):  # type: ignore[misc, name-defined]
        def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            return Stream()

    return Backend()


def async_backend(module: Any) -> Any:
    class Stream(module.AsyncNetworkStream):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.peer = Peer()

        async def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.peer.received(buffer)

        async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.peer.take(max_bytes)

        def get_extra_info(self, info: str) -> Any:
            return False if info == "is_readable" else None

        async def aclose(self) -> None:
            pass

    class Backend(module.AsyncNetworkBackend):  # type: ignore[misc, name-defined]
        async def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            return Stream()

    return Backend()


URL = "http://example.com/small"


def measure_sync(module: Any, requests: int, rounds: int) -> list[float]:
    """µs per request of each round of ``requests`` sequential requests."""
    results = []
    pool = module.ConnectionPool(http1=False, http2=True, network_backend=sync_backend(module))
    with pool:
        for _ in range(min(200, requests)):  # warm-up: the connection and its caches
            assert pool.request("GET", URL).status == 200
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(requests):
                response = pool.request("GET", URL)
                assert len(response.content) == 100
            results.append((time.perf_counter() - started) / requests * 1e6)
    return results


def measure_asyncio(module: Any, requests: int, rounds: int, concurrency: int) -> list[float]:
    """µs per request of each round of ``requests`` requests made by ``concurrency``
    tasks sharing one pool."""

    async def main() -> list[float]:
        results = []
        backend = async_backend(module)
        async with module.AsyncConnectionPool(
            http1=False, http2=True, network_backend=backend
        ) as pool:

            async def worker(count: int) -> None:
                for _ in range(count):
                    response = await pool.request("GET", URL)
                    assert len(response.content) == 100

            await asyncio.gather(*[worker(4) for _ in range(concurrency)])  # warm-up
            per_task = max(1, requests // concurrency)
            for _ in range(rounds):
                started = time.perf_counter()
                await asyncio.gather(*[worker(per_task) for _ in range(concurrency)])
                elapsed = time.perf_counter() - started
                results.append(elapsed / (per_task * concurrency) * 1e6)
        return results

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="asyncio tasks sharing the connection"
    )
    args = parser.parse_args()
    requests = max(100, min(args.requests, 200_000))
    rounds = max(1, min(args.rounds, 50))
    concurrency = max(1, min(args.concurrency, 500))

    import httpcore_fast
    from httpcore_fast import _kernel

    clients: list[tuple[str, Any, str | None]] = [
        ("httpcore_fast[cython]", httpcore_fast, "cython"),
        ("httpcore_fast[python]", httpcore_fast, "python"),
    ]
    try:
        import httpcore

        clients.append(("httpcore 1.0.9", httpcore, None))
    except ImportError:
        print("httpcore: not installed, skipped")
    print(f"µs of client CPU per HTTP/2 request; asyncio: {concurrency} tasks on one connection")
    print(f"{'client':24} {'sync best':>10} {'median':>8} {'asyncio best':>13} {'median':>8}")
    for name, module, kernel in clients:
        if kernel is not None:
            try:
                _kernel.set_kernel(kernel)
            except ImportError as exc:
                print(f"{name:24} unavailable ({exc})")
                continue
        sync = measure_sync(module, requests, rounds)
        concurrent = measure_asyncio(module, requests, rounds, concurrency)
        print(
            f"{name:24} {min(sync):10.2f} {statistics.median(sync):8.2f} "
            f"{min(concurrent):13.2f} {statistics.median(concurrent):8.2f}"
        )


if __name__ == "__main__":
    main()

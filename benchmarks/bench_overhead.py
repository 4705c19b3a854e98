"""httpcore_fast's own CPU per request, without the network: a noise-free regression check.

The comparison runner (compare.py) measures whole requests against nginx, where the loopback
round trip and the syscalls dominate and a shared machine adds noise. This script replaces the
network with an in-memory stream that answers every request with a canned response (a small
Content-Length body, optionally 50 extra header fields), so what remains is exactly the
client's own work per ``pool.request()``: argument checks, pool acquire/release, request head
serialisation, response parsing, models. It prints the best of several bounded rounds, in µs
per request, for each kernel, and for httpcore 1.0.9 when it is installed (through the same
fake stream, so the same work is measured).

    .venv/bin/python benchmarks/bench_overhead.py [--requests 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def canned_response(extra_fields: int) -> bytes:
    fields = b"".join(b"X-Header-%d: value-%d\r\n" % (i, i) for i in range(extra_fields))
    return (
        b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Wed, 25 Nov 2026 15:00:00 GMT\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 100\r\nConnection: keep-alive\r\n"
        + fields
        + b"\r\n"
        + b"x" * 100
    )


def make_backend(module: Any, response: bytes) -> Any:
    class Stream(module.NetworkStream):  # type: ignore[misc, name-defined]
        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            pass

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return response

        def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
            buffer[: len(response)] = response
            return len(response)

        def _is_readable(self) -> bool:
            return False

        def get_extra_info(self, info: str) -> Any:
            return False if info == "is_readable" else None

        def close(self) -> None:
            pass

    class Backend(module.NetworkBackend):  # type: ignore[misc, name-defined]
        def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            return Stream()

    return Backend()


def measure(module: Any, response: bytes, requests: int, rounds: int) -> float:
    """Best µs per request over ``rounds`` rounds of ``requests`` requests."""
    pool = module.ConnectionPool(network_backend=make_backend(module, response))
    url = "http://example.com/"
    try:
        for _ in range(min(2000, requests)):
            assert pool.request(b"GET", url).status == 200
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(requests):
                pool.request(b"GET", url)
            best = min(best, (time.perf_counter() - started) / requests * 1e6)
        return best
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    requests = max(100, min(args.requests, 1_000_000))
    rounds = max(1, min(args.rounds, 50))

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
    print(f"{'client':24} {'small':>10} {'50 fields':>10}   (µs of client CPU per request)")
    for name, module, kernel in clients:
        if kernel is not None:
            try:
                _kernel.set_kernel(kernel)
            except ImportError as exc:
                print(f"{name:24} unavailable ({exc})")
                continue
        small = measure(module, canned_response(0), requests, rounds)
        fields = measure(module, canned_response(50), requests, rounds)
        print(f"{name:24} {small:10.2f} {fields:10.2f}")


if __name__ == "__main__":
    main()

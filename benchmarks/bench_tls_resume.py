"""What TLS session resumption saves per new connection, on every backend.

A TLS server (Python's ``ssl``, TLS 1.3 with tickets by default) runs in its own process
on 127.0.0.1 and answers each request with ``Connection: close``, so every request is a
new TCP connection and a new handshake. For each client stack (sync, asyncio native,
asyncio through anyio, trio native, trio through anyio) the same requests run with
``tls_session_cache=False`` (a full handshake each time, httpcore's behaviour) and with the
cache (the handshake resumes the previous connection's session). Printed: the median
wall time of a request (connect, handshake, request, response), both ways, and their
ratio, and the client process's CPU time per request (``time.process_time``, all its
threads: steadier than wall time on a loaded machine; the server's is not in it).

    .venv/bin/python benchmarks/bench_tls_resume.py [--requests 200] [--tls12] [--rsa]

Bounded: ``--requests`` per stack and mode after 10 warm-up requests; nothing is asserted.

What to expect on loopback (no round trip to save): about nothing, or a little more client
CPU. OpenSSL's resumed client handshake is cheaper (measured here, memory BIOs, OpenSSL
3.0: 0.95 -> 0.32 ms for TLS 1.3, 0.78 -> 0.10 ms for TLS 1.2), but CPython copies a
session through ``i2d``/``d2i_SSL_SESSION`` (the peer certificate is parsed again) both
when it hands one out (``SSLObject.session``, read once per new connection) and when it
offers one (``wrap_bio(session=)``), about 0.3 ms each in the pool's path. What resumption
saves is elsewhere: a round trip for TLS 1.2 (RFC 5077), the server's signature and the
certificate bytes for TLS 1.3.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import ssl
import statistics
import sys
import tempfile
import time
import typing

import anyio
import trustme

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import httpcore_fast  # noqa: E402

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
WARMUP = 10


def serve(pem: str, tls12: bool, ready: typing.Any) -> None:
    """The server process: one connection at a time (the client is sequential)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    listener = socket.create_server(("127.0.0.1", 0))
    ready.send(listener.getsockname()[1])
    while True:
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stalls
        sock.settimeout(10)
        try:
            tls = context.wrap_socket(sock, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            tls.sendall(RESPONSE)
            tls.unwrap()
        except OSError:
            pass
        finally:
            sock.close()


Timings = typing.Tuple[typing.List[float], float]  # wall times, CPU seconds per request


def timed_sync(url: str, context: ssl.SSLContext, cache: bool, n: int) -> Timings:
    times = []
    with httpcore_fast.ConnectionPool(ssl_context=context, tls_session_cache=cache) as pool:
        for i in range(WARMUP + n):
            if i == WARMUP:
                cpu = time.process_time()
            started = time.perf_counter()
            pool.request("GET", url)
            if i >= WARMUP:
                times.append(time.perf_counter() - started)
    return times, (time.process_time() - cpu) / n


async def timed_async(
    url: str, context: ssl.SSLContext, cache: bool, n: int, backend: typing.Any
) -> Timings:
    times = []
    async with httpcore_fast.AsyncConnectionPool(
        ssl_context=context, tls_session_cache=cache, network_backend=backend
    ) as pool:
        for i in range(WARMUP + n):
            if i == WARMUP:
                cpu = time.process_time()
            started = time.perf_counter()
            await pool.request("GET", url)
            if i >= WARMUP:
                times.append(time.perf_counter() - started)
    return times, (time.process_time() - cpu) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--tls12", action="store_true", help="TLS 1.2 (RFC 5077 tickets)")
    parser.add_argument("--rsa", action="store_true", help="RSA 2048 keys (default ECDSA)")
    args = parser.parse_args()
    ca = trustme.CA(key_type=trustme.KeyType.RSA if args.rsa else trustme.KeyType.ECDSA)
    with tempfile.TemporaryDirectory() as tmp:
        pem = os.path.join(tmp, "server.pem")
        ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(pem)
        receive, send = multiprocessing.Pipe(duplex=False)
        server = multiprocessing.Process(target=serve, args=(pem, args.tls12, send), daemon=True)
        server.start()
        try:
            port = receive.recv()
            url = f"https://127.0.0.1:{port}/"  # no name lookup in the timings
            context = ssl.create_default_context()
            ca.configure_trust(context)
            stacks: list[tuple[str, typing.Callable[[bool], Timings]]] = [
                ("sync", lambda cache: timed_sync(url, context, cache, args.requests)),
            ]
            for library in ("asyncio", "trio"):
                for name, make in (("native", lambda: None), ("anyio", httpcore_fast.AnyIOBackend)):

                    def run(cache: bool, library: str = library, make: typing.Any = make) -> Timings:
                        return anyio.run(
                            timed_async, url, context, cache, args.requests, make(), backend=library
                        )

                    stacks.append((f"{library} {name}", run))
            version = "TLS 1.2" if args.tls12 else "TLS 1.3"
            print(f"{version}, {args.requests} requests each, ms per new connection")
            print(f"{'':16} {'median wall time':^24}  {'client CPU':^24}")
            print(f"{'stack':16} {'full':>8} {'resumed':>8} {'ratio':>6}" * 1, end="  ")
            print(f"{'full':>8} {'resumed':>8} {'ratio':>6}")
            for label, run_stack in stacks:
                full_times, full_cpu = run_stack(False)
                resumed_times, resumed_cpu = run_stack(True)
                full = statistics.median(full_times) * 1000
                resumed = statistics.median(resumed_times) * 1000
                print(f"{label:16} {full:8.3f} {resumed:8.3f} {resumed / full:6.2f}", end="  ")
                print(f"{full_cpu * 1000:8.3f} {resumed_cpu * 1000:8.3f} {resumed_cpu / full_cpu:6.2f}")
        finally:
            server.terminate()
            server.join(5)


if __name__ == "__main__":
    main()

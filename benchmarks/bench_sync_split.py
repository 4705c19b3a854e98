"""Where a sync request's CPU goes: user and kernel time, context switches and syscalls per
request, for httpcore_fast and its sync peers on one local nginx (issue 15 points 2 and 3).

compare.py gives throughput and total CPU per request; this splits that CPU. Each client
run is a fresh child process pinned to CPU 0 (nginx on CPU 1, as compare.py pins them) that
warms up, then times a bounded number of requests and reports from ``getrusage``: req/s,
CPU µs per request as user + system, and voluntary context switches per request (with ten
threads, each switch beyond the one a blocking receive needs is a GIL hand-off). Clients
run interleaved, round by round; the medians of the rounds are printed. ``--strace`` also
runs each client once under ``strace -c -f`` and prints its syscalls per request (strace
slows every syscall, so only its counts are used, never its times).

    .venv/bin/python benchmarks/bench_sync_split.py [--rounds 5] [--requests 4000]
        [--modes seq,threads,seq-tls,threads-tls] [--clients fast,pycurl,pyreqwest,raw]
        [--strace]

``BENCH_TREE=/path/to/checkout`` imports httpcore_fast from another checkout (its
extension built there) for a before/after in one run: ``--clients fast,fast-base``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
THREADS = 10
WARMUP = 100


# ---- the child: one client, one mode, one timed run -----------------------------------


def _getter(client: str, url: str, port: int, tls: bool, ca: str, pool: Any) -> Callable[[], int]:
    """A function that makes one GET of ``url`` and returns the body length."""
    if client in ("fast", "fast-base"):
        request = pool.request
        return lambda: len(request(b"GET", url).content)
    if client == "pyreqwest":
        get = pool.get
        return lambda: len(get(url).build().send().bytes())
    if client == "pycurl":
        import pycurl  # type: ignore[import-untyped]

        curl = pycurl.Curl()  # one handle per thread
        chunks: list[bytes] = []
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
        if tls:
            curl.setopt(pycurl.CAINFO, ca)

        def get() -> int:
            chunks.clear()
            curl.perform()
            return sum(len(chunk) for chunk in chunks)

        return get
    # raw: a prebuilt request, recv_into until the response's known length
    sock: Any = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname="localhost")
    host = "localhost" if tls else "127.0.0.1"
    data = f"GET /small HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sock.sendall(data)
    first = b""
    for _ in range(1000):  # bounded: the first response, whole
        first += sock.recv(65536)
        end = first.find(b"\r\n\r\n")
        if end >= 0 and len(first) >= end + 4 + 100:  # /small has a 100-byte body
            break
    total, buf = len(first), memoryview(bytearray(65536))

    def get_raw() -> int:
        sock.sendall(data)
        got = 0
        while got < total:
            n = sock.recv_into(buf[got:])
            if not n:
                raise ConnectionError("raw: connection closed")
            got += n
        return got

    return get_raw


def child(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {0})
    tls = args.mode.endswith("-tls")
    threads = THREADS if args.mode.startswith("threads") else 1
    port = args.tls_port if tls else args.port
    url = f"https://localhost:{port}/small" if tls else f"http://127.0.0.1:{port}/small"
    pool: Any = None
    if args.client in ("fast", "fast-base"):
        import httpcore_fast

        context = ssl.create_default_context(cafile=args.ca) if tls else None
        pool = httpcore_fast.ConnectionPool(max_connections=threads, ssl_context=context)
    elif args.client == "pyreqwest":
        from pyreqwest.client import SyncClientBuilder

        builder = SyncClientBuilder()
        if tls:
            builder = builder.http1_only().add_root_certificate_pem(Path(args.ca).read_bytes())
        pool = builder.build()
    per = args.requests // threads
    ready = threading.Barrier(threads + 1, timeout=60)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            get = _getter(args.client, url, port, tls, args.ca, pool)
            for _ in range(WARMUP):
                get()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            ready.abort()
            return
        ready.wait()
        for _ in range(per):
            get()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    ready.wait()
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for w in workers:
        w.join(timeout=120)
    t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    if errors or any(w.is_alive() for w in workers):
        raise SystemExit(f"{args.client} {args.mode}: {errors[:1] or 'timed out'}")
    n = per * threads
    print(json.dumps({
        "rps": n / (t1 - t0),
        "user": (r1.ru_utime - r0.ru_utime) / n * 1e6,
        "sys": (r1.ru_stime - r0.ru_stime) / n * 1e6,
        "vcsw": (r1.ru_nvcsw - r0.ru_nvcsw) / n,
    }))


# ---- the parent: nginx, rounds, tables ------------------------------------------------


def run_child(client: str, mode: str, srv: Any, ca: str, n: int, prefix: list[str]) -> str:
    env = dict(os.environ)
    tree = os.environ.get("BENCH_TREE") if client == "fast-base" else str(REPO)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tree, env.get("PYTHONPATH")) if p)
    argv = [sys.executable, __file__, "--child", client, mode, str(srv.port),
            str(srv.tls_port or 0), ca, str(n)]  # fmt: skip
    out = subprocess.run(prefix + argv, capture_output=True, text=True, timeout=300, env=env,
                         cwd=tempfile.gettempdir())  # fmt: skip
    if out.returncode:
        raise RuntimeError(out.stderr.strip()[-500:])
    return out.stdout


def strace_counts(client: str, mode: str, srv: Any, ca: str, n: int) -> str:
    """The syscalls per request of one run under strace, the most frequent first (the
    warm-up's and start-up's included: they are small against ``n`` requests)."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as f:
        run_child(client, mode, srv, ca, n, ["strace", "-f", "-c", "-o", f.name])
        rows = []
        for line in Path(f.name).read_text().splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[3].isdigit() and parts[-1] != "total":
                rows.append((int(parts[3]), parts[-1]))
    rows.sort(reverse=True)
    total = sum(count for count, _ in rows) / n
    top = ", ".join(f"{name} {count / n:.1f}" for count, name in rows[:6] if count / n >= 0.1)
    return f"{total:.1f} per request ({top})"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        client, mode, port, tls_port, ca, n = sys.argv[2:8]
        child(argparse.Namespace(client=client, mode=mode, port=int(port),
                                 tls_port=int(tls_port), ca=ca, requests=int(n)))  # fmt: skip
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--modes", default="seq,threads,seq-tls,threads-tls")
    parser.add_argument("--clients", default="fast,pycurl,pyreqwest,raw")
    parser.add_argument("--strace", action="store_true")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 50))
    n = max(THREADS * 10, min(args.requests, 1_000_000))
    clients = args.clients.split(",")
    if "fast-base" in clients and not os.environ.get("BENCH_TREE"):
        raise SystemExit("fast-base needs BENCH_TREE=/path/to/another/checkout")
    sys.path.insert(0, str(HERE))
    from nginx import NginxServer, find_nginx

    cpu = 1 if (os.cpu_count() or 1) > 1 else None
    srv = NginxServer(find_nginx(None), cpu, None, 15, False, True)
    srv.start()
    try:
        ca = str(srv.tmp / "ca.pem")
        Path(ca).write_bytes(srv.ca_pem or b"")
        for mode in args.modes.split(","):
            results: dict[str, list[dict[str, float]]] = {c: [] for c in clients}
            skipped: dict[str, str] = {}
            for _ in range(rounds):
                for client in clients:
                    if client in skipped:
                        continue
                    try:
                        results[client].append(json.loads(run_child(client, mode, srv, ca, n, [])))
                    except (RuntimeError, ValueError) as exc:
                        skipped[client] = str(exc).splitlines()[-1][:120]
            print(f"\n== {mode}: {n} requests x {rounds} rounds (medians)")
            print(f"{'client':10} {'req/s':>8} {'CPU µs':>8} {'user':>7} {'sys':>7} {'vcsw':>6}")
            for client, rows in results.items():
                if not rows:
                    print(f"{client:10} skipped: {skipped.get(client)}")
                    continue
                med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
                print(f"{client:10} {med['rps']:8.0f} {med['user'] + med['sys']:8.1f} "
                      f"{med['user']:7.1f} {med['sys']:7.1f} {med['vcsw']:6.2f}")  # fmt: skip
            if args.strace and shutil.which("strace"):
                for client in clients:
                    if client not in skipped:
                        print(f"  syscalls {client}: {strace_counts(client, mode, srv, ca, n)}")
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()

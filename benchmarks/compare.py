#!/usr/bin/env python3
"""Client comparison benchmark: httpcore_fast against httpcore 1.0.9 and every peer, on nginx.

Starts nginx on 127.0.0.1 (a generated config in a temp dir, one worker, keep-alive, plus a
TLS+HTTP/2 server with a throw-away CA), pins it and this process to different CPUs, then
runs each scenario (sequential GETs, 10 threads on one pool, 50/1 concurrent asyncio, trio,
100 MiB bodies with Content-Length and chunked, 50 header fields, 50 HTTP/2 streams) for
every client that can do it, interleaved round by round. Reports the median throughput per
client with ratios to httpcore 1.0.9 and to a raw-socket / raw-asyncio.Protocol ceiling,
checks the project's targets (--targets), and writes JSON and a PNG bar chart.

    python benchmarks/compare.py            # full run (several minutes)
    python benchmarks/compare.py --quick    # under a minute: small GET, 50 header fields, 50/1 concurrent asyncio
    python benchmarks/compare.py --help

See benchmarks/README.md for what is measured and how to read the output.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import gc
import importlib
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

# --------------------------------------------------------------------------------------
# Server payloads. Plain ASCII without '"', '$', '\\' or ';' so they sit safely inside an
# nginx quoted string.

SMALL_BODY = (b"httpcore_fast benchmark payload: " + b"0123456789abcdefghij" * 4)[:99] + b"\n"
BODY_2K = (b"2k-payload-" + b"abcdefghijklmnopqrstuvwxyz0123456789" * 57)[:2047] + b"\n"
N_EXTRA_HEADERS = 50
EXTRA_HEADERS = [
    (f"X-Bench-Field-{i:02d}", f"value-{i:02d}-lorem-ipsum-dolor-sit-amet-{i * 7919:06d}")
    for i in range(1, N_EXTRA_HEADERS + 1)
]
assert len(SMALL_BODY) == 100 and len(BODY_2K) == 2048
BIG_SIZE = 100 * 1024 * 1024  # the large-body scenarios: 100 MiB
BIG_BLOCK = 64 * 1024


def big_block(i: int, base: bytes) -> bytes:
    """Block i of the large file: its index, then fixed pseudo-random bytes."""
    return i.to_bytes(8, "big") + base[8:]


def write_big_file(path: Path) -> int:
    """Write the 100 MiB file nginx serves; return its CRC-32 (checked once per client)."""
    base = (bytes(range(256)) * (BIG_BLOCK // 256))
    base = bytes((b * 131 + 7) & 0xFF for b in base)
    crc = 0
    with open(path, "wb") as f:
        for i in range(BIG_SIZE // BIG_BLOCK):
            block = big_block(i, base)
            crc = zlib.crc32(block, crc)
            f.write(block)
    return crc


# --------------------------------------------------------------------------------------
# Scenarios. `kind` says how a client is driven:
#   seq      sync, one connection, each request after the previous response is read
#   threads  sync, `concurrency` threads sharing one client/pool
#   async    asyncio, `concurrency` tasks sharing one client/pool of that size
#   trio     trio, the same
#   big      sync, stream one 100 MiB body (MB/s)
#   abig     asyncio, the same
#   h2       asyncio over TLS + HTTP/2, `concurrency` streams on one connection


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    path: str
    title: str
    concurrency: int = 1
    body_len: int = 100
    min_headers: int = 1
    body: bytes | None = SMALL_BODY  # exact body to check (None: CRC-32 of the big file)

    @property
    def unit(self) -> str:
        return "MB/s" if self.kind in ("big", "abig") else "req/s"


def _s(name: str, kind: str, path: str, title: str, **kw: Any) -> Scenario:
    return Scenario(name, kind, path, title, **kw)


SCENARIOS = {
    s.name: s
    for s in [
        _s("small", "seq", "/small", "sequential keep-alive GET, 100 B body, sync"),
        _s("2k", "seq", "/2k", "sequential keep-alive GET, 2 KB body, sync",
           body_len=2048, body=BODY_2K),
        _s("headers50", "seq", "/headers50",
           f"sequential GET, {N_EXTRA_HEADERS} extra header fields + 100 B body, sync",
           min_headers=N_EXTRA_HEADERS),
        _s("threads10", "threads", "/small", "10 threads on one sync pool, GET 100 B",
           concurrency=10),
        _s("async50", "async", "/small", "50 concurrent asyncio requests, pool of 50, GET 100 B",
           concurrency=50),
        _s("async1", "async", "/small", "1 asyncio request at a time, GET 100 B",
           concurrency=1),
        _s("trio50", "trio", "/small", "50 concurrent trio requests, pool of 50, GET 100 B",
           concurrency=50),
        _s("big", "big", "/big", "100 MiB body, Content-Length, sync (streamed)",
           body_len=BIG_SIZE, body=None),
        _s("big-chunked", "big", "/big-chunked", "100 MiB body, chunked, sync (streamed)",
           body_len=BIG_SIZE, body=None),
        _s("abig", "abig", "/big", "100 MiB body, Content-Length, asyncio (streamed)",
           body_len=BIG_SIZE, body=None),
        _s("abig-chunked", "abig", "/big-chunked", "100 MiB body, chunked, asyncio (streamed)",
           body_len=BIG_SIZE, body=None),
        _s("h2-50", "h2", "/small", "HTTP/2 over TLS: 50 concurrent streams, one connection",
           concurrency=50),
    ]
}
FULL_SCENARIOS = list(SCENARIOS)
QUICK_SCENARIOS = ["small", "headers50", "async50", "async1"]


# --------------------------------------------------------------------------------------
# nginx


def _nginx_quote(data: bytes) -> str:
    text = data.decode("ascii")
    assert not set(text) & set('"$\\;{}'), "payload must be nginx-safe"
    return '"' + text.replace("\n", "\\n") + '"'


def render_nginx_conf(
    tmp: Path, port: int, tls_port: int | None, temp_path_directives: list[str]
) -> str:
    headers = "\n".join(
        f"            add_header {name} {_nginx_quote(value.encode())};"
        for name, value in EXTRA_HEADERS
    )
    temp_paths = "\n".join(
        f"    {d} {tmp / ('tmp_' + d.split('_')[0])};" for d in temp_path_directives
    )
    tls = ""
    if tls_port:
        tls = f"""
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        server_name localhost;
        default_type text/plain;
        ssl_certificate {tmp / "server.pem"};
        ssl_certificate_key {tmp / "server.key"};
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_concurrent_streams 128;
        location = /small {{
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        location / {{
            return 404;
        }}
    }}"""
    return f"""# generated by benchmarks/compare.py; lives only in this temp dir
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{
    worker_connections 512;
}}
http {{
    access_log off;
    server_tokens off;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    tcp_nodelay on;
    gzip off;
{temp_paths}
    server {{
        listen 127.0.0.1:{port} reuseport;
        server_name localhost;
        default_type text/plain;
        location = /small {{
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        location = /2k {{
            return 200 {_nginx_quote(BODY_2K)};
        }}
        location = /headers50 {{
{headers}
            return 200 {_nginx_quote(SMALL_BODY)};
        }}
        # 100 MiB with Content-Length, straight from the page cache (sendfile).
        location = /big {{
            default_type application/octet-stream;
            alias {tmp / "big.bin"};
            sendfile on;
        }}
        # The same file, chunked: the addition filter (an empty add_after_body) drops
        # Content-Length, so nginx sends Transfer-Encoding: chunked; sendfile off with 32 KiB
        # output buffers gives chunks of 32-64 KiB, as a dynamic source would.
        location = /big-chunked {{
            default_type application/octet-stream;
            alias {tmp / "big.bin"};
            sendfile off;
            output_buffers 2 32k;
            addition_types application/octet-stream;
            add_after_body /empty;
        }}
        location = /empty {{
            default_type application/octet-stream;
            alias {tmp / "empty.bin"};
        }}
        location / {{
            return 404;
        }}
    }}{tls}
}}
"""


def find_nginx(explicit: str | None) -> str:
    if explicit:
        return explicit
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(
        "nginx not found: install it (apt-get install -y nginx-light) or run scripts/bench, "
        "or pass --nginx /path/to/nginx"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_of(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return kids


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def _die_with_parent() -> None:
    """Linux: have the kernel send nginx's master SIGTERM if this process dies, even by
    SIGKILL, so no nginx outlives the runner (the master then stops its worker)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the finally-blocks in run() are the only guard


class NginxServer:
    """One nginx master (+1 worker) that this process starts and stops by PID."""

    def __init__(
        self,
        binary: str,
        cpu: int | None,
        port: int | None,
        start_timeout: float,
        want_big: bool,
        want_tls: bool,
    ):
        self.binary = binary
        self.cpu = cpu
        self.requested_port = port
        self.start_timeout = start_timeout
        self.want_big = want_big
        self.want_tls = want_tls
        self.tmp = Path(tempfile.mkdtemp(prefix="httpcore_fast_bench_nginx_"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.tls_port: int | None = None
        self.version = ""
        self.big_crc: int | None = None
        self.ca_pem: bytes | None = None  # the throw-away CA that signed the TLS server
        self.tls_note = ""

    # -- inputs -----------------------------------------------------------------------
    def _prepare(self) -> None:
        # nginx's worker drops root to an unprivileged user: it must be able to read these.
        os.chmod(self.tmp, 0o755)
        (self.tmp / "empty.bin").write_bytes(b"")
        if self.want_big:
            self.big_crc = write_big_file(self.tmp / "big.bin")
        if self.want_tls:
            try:
                import trustme

                ca = trustme.CA()
                cert = ca.issue_cert("127.0.0.1", "localhost")
                cert.private_key_pem.write_to_path(str(self.tmp / "server.key"))
                with open(self.tmp / "server.pem", "wb") as f:
                    for blob in cert.cert_chain_pems:
                        f.write(blob.bytes())
                self.ca_pem = ca.cert_pem.bytes()
            except Exception as exc:  # noqa: BLE001 - no TLS scenario then, with a note
                self.tls_note = f"no TLS server: trustme failed ({type(exc).__name__}: {exc})"
                self.want_tls = False

    def ssl_context(self) -> ssl.SSLContext:
        assert self.ca_pem is not None
        ctx = ssl.create_default_context(cadata=self.ca_pem.decode())
        return ctx

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        out = subprocess.run([self.binary, "-v"], capture_output=True, timeout=10)
        self.version = (out.stderr or out.stdout).decode(errors="replace").strip()
        self._prepare()
        directives = [
            "client_body_temp_path",
            "proxy_temp_path",
            "fastcgi_temp_path",
            "uwsgi_temp_path",
            "scgi_temp_path",
        ]
        last_error = ""
        for attempt in range(3):  # bounded: a port race or a missing module
            self.port = self.requested_port or free_port()
            self.tls_port = free_port() if self.want_tls else None
            conf = self.tmp / "nginx.conf"
            # Drop temp-path directives of modules this nginx build lacks (bounded).
            for _ in range(len(directives) + 2):
                conf.write_text(render_nginx_conf(self.tmp, self.port, self.tls_port, directives))
                test = subprocess.run(
                    self._argv(conf) + ["-t", "-q"], capture_output=True, timeout=20
                )
                if test.returncode == 0:
                    break
                err = test.stderr.decode(errors="replace")
                unknown = re.search(r'unknown directive "(\w+_temp_path)"', err)
                if unknown and unknown.group(1) in directives:
                    directives.remove(unknown.group(1))
                    continue
                if self.tls_port and ("ssl" in err or "http2" in err):
                    self.tls_note = f"no TLS/HTTP/2 server: nginx said {err.strip()[:200]}"
                    self.want_tls, self.tls_port = False, None
                    continue
                raise RuntimeError(f"nginx rejected the generated config:\n{err}")
            self._spawn(conf)
            try:
                self._wait_ready()
                return
            except RuntimeError as exc:
                last_error = str(exc)
                self.stop()
                if self.requested_port:
                    break
                print(f"note: nginx start attempt {attempt + 1} failed, retrying: {exc}")
        raise RuntimeError(f"nginx did not start: {last_error}")

    def _argv(self, conf: Path) -> list[str]:
        log = str(self.tmp / "error.log")
        return [self.binary, "-p", str(self.tmp), "-c", str(conf), "-e", log]

    def _spawn(self, conf: Path) -> None:
        cpu = self.cpu

        def pin() -> None:  # runs in the child before exec; the worker inherits it
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            _die_with_parent()

        self.proc = subprocess.Popen(
            self._argv(conf) + ["-g", "daemon off; master_process on;"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "stderr.log", "wb"),
            start_new_session=True,  # Ctrl-C reaches us, and we stop nginx ourselves
            preexec_fn=pin,
        )

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        request = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(request)
                    data = b""
                    while len(data) < 1_000_000:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                if data.startswith(b"HTTP/1.1 200") and data.endswith(SMALL_BODY):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nginx not answering within {self.start_timeout}s: {self.logs()}")

    def logs(self) -> str:
        text = []
        for name in ("error.log", "stderr.log"):
            p = self.tmp / name
            if p.exists():
                text.append(p.read_text(errors="replace")[-2000:])
        return "\n".join(t for t in text if t.strip()) or "(no log output)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        workers = _children_of(proc.pid)
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)  # nginx: fast shutdown
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        for pid in workers:  # normally gone with the master; never leave one behind
            deadline = time.monotonic() + 2
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------
# Measurement. A client is an adapter (sync or async) that can fetch a URL whole (for
# verification), return a fast "get" callable that fetches and returns the body length
# (the timed loops), and stream a large body chunk by chunk. The runners below build
# everything outside the timed region, verify, warm up, collect garbage, then time a
# bounded number of requests, and finally check the bytes the timed loop read.


class ClientUnavailable(Exception):
    """The client can't run here (not installed, or the library lacks the API yet)."""


class VerificationError(Exception):
    """The client returned a wrong response."""


class ClientTimeout(Exception):
    pass


@dataclass
class Job:
    host: str
    port: int
    sc: Scenario
    n: int  # timed requests (request scenarios) or downloads (big scenarios)
    warmup: int
    verify: bool  # verify a whole response first (always for small bodies; once for big)
    deadline: float  # time.monotonic() after which loops give up
    tls_port: int | None = None
    ca_pem: bytes | None = None
    big_crc: int | None = None

    @property
    def h2(self) -> bool:
        return self.sc.kind == "h2"

    @property
    def url(self) -> str:
        if self.h2:
            return f"https://localhost:{self.tls_port}{self.sc.path}"
        return f"http://{self.host}:{self.port}{self.sc.path}"

    @property
    def warm_url(self) -> str:
        """A small response on the same origin (opens and warms the connection)."""
        if self.h2:
            return f"https://localhost:{self.tls_port}/small"
        return f"http://{self.host}:{self.port}/small"

    def ssl_context(self) -> ssl.SSLContext:
        if self.ca_pem is None:
            raise ClientUnavailable("no TLS server (see the note at the start)")
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def remaining(self) -> float:
        return max(0.1, self.deadline - time.monotonic())


def _path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _check(
    name: str,
    sc: Scenario,
    status: int,
    body: bytes | None,
    n_headers: int | None,
    version: str | None = None,
    url_path: str | None = None,
) -> None:
    if url_path == "/small" and sc.path != "/small":  # warm-up URL of a big scenario
        want_len, want_body, min_headers = len(SMALL_BODY), SMALL_BODY, 1
    else:
        want_len, want_body, min_headers = sc.body_len, sc.body, sc.min_headers
    got_len = len(body) if body is not None else -1
    if status != 200 or got_len != want_len:
        raise VerificationError(
            f"{name}: got status {status}, body {got_len} B; want 200, {want_len} B"
        )
    if want_body is not None and body is not None and bytes(body) != want_body:
        raise VerificationError(f"{name}: body differs from what the server sent")
    if n_headers is not None and n_headers < min_headers:
        raise VerificationError(f"{name}: got {n_headers} header fields, want >= {min_headers}")
    if sc.kind == "h2" and version is not None and "2" not in str(version):  # "HTTP/2(.0)"
        raise VerificationError(f"{name}: response came over {version!r}, not HTTP/2")


def _check_total(name: str, got: int, want: int) -> None:
    if got != want:
        raise VerificationError(f"{name}: timed loop read {got} body bytes, want {want}")


class _Crc:
    """A download sink that checks the large body's CRC-32 and length."""

    def __init__(self) -> None:
        self.crc = 0
        self.n = 0

    def __call__(self, chunk: Any) -> None:
        self.crc = zlib.crc32(chunk, self.crc)
        self.n += len(chunk)

    def check(self, name: str, job: Job, status: int) -> None:
        if status != 200 or self.n != BIG_SIZE or self.crc != job.big_crc:
            raise VerificationError(
                f"{name}: large body: status {status}, {self.n} B, crc {self.crc:#x}; "
                f"want 200, {BIG_SIZE} B, crc {job.big_crc:#x}"
            )


def _timed(loop: Callable[[], int]) -> tuple[float, float, int]:
    gc.collect()
    c0 = time.process_time()
    t0 = time.perf_counter()
    got = loop()
    t1 = time.perf_counter()
    c1 = time.process_time()
    return t1 - t0, c1 - c0, got


class SyncAdapter:
    """Base for sync clients. `getter` is the timed path; `full` the verified one."""

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        raise NotImplementedError

    def getter(self, url: str) -> Callable[[], int]:
        raise NotImplementedError

    def thread_getter(self, url: str) -> Callable[[], int]:
        return self.getter(url)  # pools: every thread shares the one client

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        """Stream url's body; return (status, body bytes). sink sees every chunk."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class AsyncAdapter:
    async def open(self) -> None:
        pass

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        raise NotImplementedError

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        raise NotImplementedError

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


def _drain(chunks: Any, sink: Callable[[Any], None] | None) -> int:
    """Consume a body's chunks; return the byte count (sink, if any, sees every chunk)."""
    got = 0
    if sink is None:
        for chunk in chunks:
            got += len(chunk)
    else:
        for chunk in chunks:
            got += len(chunk)
            sink(chunk)
    return got


async def _adrain(chunks: Any, sink: Callable[[Any], None] | None) -> int:
    """`_drain` for an async iterator of chunks."""
    got = 0
    async for chunk in chunks:
        got += len(chunk)
        if sink is not None:
            sink(chunk)
    return got


async def _aiter_calls(read: Callable[[], Awaitable[Any]]) -> Any:
    """Async iterator over `await read()` until it returns None (bounded)."""
    for _ in range(100_000_000):
        chunk = await read()
        if chunk is None:
            return
        yield chunk


def _verify_sync(name: str, ad: SyncAdapter, job: Job) -> None:
    status, body, nh, ver = ad.full(job.url)
    _check(name, job.sc, status, body, nh, ver)


def run_seq(name: str, ad: SyncAdapter, job: Job) -> tuple[float, float]:
    _verify_sync(name, ad, job)
    get = ad.getter(job.url)

    def loop(count: int) -> int:
        got = 0
        for _ in range(count):
            got += get()
        return got

    loop(job.warmup)
    wall, cpu, got = _timed(lambda: loop(job.n))
    _check_total(name, got, job.n * job.sc.body_len)
    return wall, cpu


def run_threads(name: str, ad: SyncAdapter, job: Job) -> tuple[float, float]:
    _verify_sync(name, ad, job)
    url, c = job.url, job.sc.concurrency
    per, warm = job.n // c, max(1, job.warmup // c)
    warmed = threading.Barrier(c + 1)  # all threads warmed up: collect garbage
    go = threading.Barrier(c + 1)  # the clock is running: start
    totals = [0] * c
    errors: list[BaseException] = []
    deadline = job.deadline

    def worker(i: int) -> None:
        try:
            get = ad.thread_getter(url)
            for _ in range(warm):
                get()
            warmed.wait(timeout=60)
            go.wait(timeout=60)
            got = 0
            for k in range(per):
                got += get()
                if not k & 63 and time.monotonic() > deadline:
                    raise ClientTimeout("thread passed the client deadline")
            totals[i] = got
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            warmed.abort()
            go.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(c)]
    for t in threads:
        t.start()
    try:
        warmed.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    gc.collect()  # every worker is parked at `go` (or failed)
    c0 = time.process_time()
    t0 = time.perf_counter()
    try:
        go.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    t1 = time.perf_counter()
    c1 = time.process_time()
    if errors:
        raise errors[0]
    if any(t.is_alive() for t in threads):
        raise ClientTimeout("threads still running at the client deadline")
    _check_total(name, sum(totals), per * c * job.sc.body_len)
    return t1 - t0, c1 - c0


def run_big(name: str, ad: SyncAdapter, job: Job) -> tuple[float, float]:
    status, body, nh, ver = ad.full(job.warm_url)  # opens the connection
    _check(name, job.sc, status, body, nh, ver, url_path="/small")
    if job.verify:
        crc = _Crc()
        status, _ = ad.download(job.url, crc)
        crc.check(name, job, status)
    url = job.url

    def loop() -> int:
        got = 0
        for _ in range(job.n):
            status, k = ad.download(url, None)
            if status != 200:
                raise VerificationError(f"{name}: status {status}")
            got += k
        return got

    wall, cpu, got = _timed(loop)
    _check_total(name, got, job.n * BIG_SIZE)
    return wall, cpu


async def _asyncio_gather(coros: list[Awaitable[int]]) -> list[int]:
    return list(await asyncio.gather(*coros))


async def _trio_gather(coros: list[Awaitable[int]]) -> list[int]:
    import trio

    out = [0] * len(coros)

    async def one(i: int, coro: Awaitable[int]) -> None:
        out[i] = await coro

    async with trio.open_nursery() as nursery:
        for i, coro in enumerate(coros):
            nursery.start_soon(one, i, coro)
    return out


async def _concurrent(
    name: str,
    factory: Callable[[Job], AsyncAdapter],
    job: Job,
    gather: Callable[[list[Awaitable[int]]], Awaitable[list[int]]],
) -> tuple[float, float]:
    ad = factory(job)
    await ad.open()
    try:
        status, body, nh, ver = await ad.full(job.url)
        _check(name, job.sc, status, body, nh, ver)
        c = job.sc.concurrency
        per, warm = job.n // c, max(1, job.warmup // c)
        getters = [await ad.task_getter(job.url) for _ in range(c)]

        async def worker(get: Callable[[], Awaitable[int]], count: int) -> int:
            got = 0
            for _ in range(count):
                got += await get()
            return got

        # Warm up with the full concurrency, so the pool holds its connections.
        await gather([worker(g, warm) for g in getters])
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        got = await gather([worker(g, per) for g in getters])
        t1 = time.perf_counter()
        c1 = time.process_time()
        _check_total(name, sum(got), per * c * job.sc.body_len)
        return t1 - t0, c1 - c0
    finally:
        await ad.close()


async def _abig(
    name: str, factory: Callable[[Job], AsyncAdapter], job: Job
) -> tuple[float, float]:
    ad = factory(job)
    await ad.open()
    try:
        status, body, nh, ver = await ad.full(job.warm_url)
        _check(name, job.sc, status, body, nh, ver, url_path="/small")
        if job.verify:
            crc = _Crc()
            status, _ = await ad.download(job.url, crc)
            crc.check(name, job, status)
        url = job.url
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        got = 0
        for _ in range(job.n):
            status, k = await ad.download(url, None)
            if status != 200:
                raise VerificationError(f"{name}: status {status}")
            got += k
        t1 = time.perf_counter()
        c1 = time.process_time()
        _check_total(name, got, job.n * BIG_SIZE)
        return t1 - t0, c1 - c0
    finally:
        await ad.close()


def run_async(name: str, factory: Callable[[Job], AsyncAdapter], job: Job) -> tuple[float, float]:
    async def main() -> tuple[float, float]:
        coro = (
            _abig(name, factory, job)
            if job.sc.kind == "abig"
            else _concurrent(name, factory, job, _asyncio_gather)
        )
        try:
            return await asyncio.wait_for(coro, timeout=job.remaining())
        except asyncio.TimeoutError as exc:
            raise ClientTimeout("passed the client deadline") from exc

    return asyncio.run(main())


def run_trio(name: str, factory: Callable[[Job], AsyncAdapter], job: Job) -> tuple[float, float]:
    trio = _require("trio")

    async def main() -> tuple[float, float]:
        try:
            with trio.fail_after(job.remaining()):
                return await _concurrent(name, factory, job, _trio_gather)
        except trio.TooSlowError as exc:
            raise ClientTimeout("passed the client deadline") from exc

    return trio.run(main)


def _require(module: str) -> Any:
    """Import an optional peer, or say why it is unavailable."""
    try:
        return importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure means "unavailable"
        raise ClientUnavailable(f"{type(exc).__name__}: {exc}") from exc


# ---- the ceilings: a raw socket (sync) and a bare asyncio protocol (async) -------------


def _request_bytes(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()


def _read_head(sock: socket.socket) -> tuple[int, dict[bytes, bytes], int, bytes]:
    """Read a response head; return (status, fields by lower-case name, field count, the
    bytes already received after the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > 65536:
            raise VerificationError("raw: response head too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise VerificationError("raw: connection closed during the head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    fields = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        fields[k.strip().lower()] = v.strip()
    return status, fields, len(lines) - 1, rest


class RawSync(SyncAdapter):
    """The sync ceiling: sendall of a prebuilt request, recv_into until the known length."""

    def __init__(self, job: Job):
        self.job = job
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        self.dl_sock: socket.socket | None = None
        self.dl_buf = memoryview(bytearray(1 << 20))

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.job.host, self.job.port), timeout=30)
        with self.lock:
            self.socks.append(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _learn(self, sock: socket.socket, request: bytes) -> tuple[int, bytes, int, int]:
        sock.sendall(request)
        status, fields, n_fields, rest = _read_head(sock)
        length = int(fields[b"content-length"])
        body = rest
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise VerificationError("raw socket: connection closed during the body")
            body += chunk
        # Measure one more exchange's exact length: nginx's responses to the same URL are
        # byte-for-byte the same length (its Date header is fixed-width).
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head_len = data.index(b"\r\n\r\n") + 4
        total = head_len + length
        while len(data) < total:
            data += sock.recv(65536)
        return status, body, n_fields, total

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        sock = self._connect()
        status, body, n_fields, _ = self._learn(
            sock, _request_bytes(self.job.host, self.job.port, _path_of(url))
        )
        return status, body, n_fields, "HTTP/1.1"

    def getter(self, url: str) -> Callable[[], int]:
        sock = self._connect()
        request = _request_bytes(self.job.host, self.job.port, _path_of(url))
        _, body, _, total = self._learn(sock, request)
        body_len = len(body)
        view = memoryview(bytearray(max(65536, 2 * total)))
        sendall, recv_into = sock.sendall, sock.recv_into

        def get() -> int:
            sendall(request)
            got = 0
            while got < total:
                k = recv_into(view[got:])
                if not k:
                    raise VerificationError("raw socket: connection closed")
                got += k
            if got != total:
                raise VerificationError(f"raw socket: response length changed ({got})")
            return body_len

        return get

    thread_getter = getter  # each thread: its own connection (the ceiling has no pool)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        if self.dl_sock is None:
            self.dl_sock = self._connect()
        sock = self.dl_sock
        sock.sendall(_request_bytes(self.job.host, self.job.port, _path_of(url)))
        status, fields, _, rest = _read_head(sock)
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            return status, self._chunked(sock, rest, sink)
        length = int(fields[b"content-length"])
        if sink is not None and rest:
            sink(rest)
        got = len(rest)
        view, recv_into = self.dl_buf, sock.recv_into
        while got < length:
            k = recv_into(view[: min(len(view), length - got)])
            if not k:
                raise VerificationError("raw socket: connection closed during the body")
            if sink is not None:
                sink(view[:k])
            got += k
        return status, got

    def _chunked(
        self, sock: socket.socket, rest: bytes, sink: Callable[[Any], None] | None
    ) -> int:
        """A minimal chunked decoder over one receive buffer (no copies of the data)."""
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        buf[: len(rest)] = rest
        start, end = 0, len(rest)
        recv_into = sock.recv_into

        def fill() -> None:
            nonlocal start, end
            if start == end:
                start = end = 0
            elif end > len(buf) - 65536:
                buf[: end - start] = buf[start:end]
                end, start = end - start, 0
            k = recv_into(view[end:])
            if not k:
                raise VerificationError("raw socket: connection closed in a chunked body")
            end += k

        got = 0
        for _ in range(10_000_000):  # bounded: one pass per chunk
            i = buf.find(b"\r\n", start, end)
            while i < 0:
                fill()
                i = buf.find(b"\r\n", start, end)
            size = int(bytes(buf[start:i]).split(b";")[0], 16)
            start = i + 2
            if size == 0:
                while buf.find(b"\r\n", start, end) < 0:  # no trailers from nginx
                    fill()
                return got
            left = size
            while left:
                if start == end:
                    fill()
                take = min(left, end - start)
                if sink is not None:
                    sink(view[start : start + take])
                got += take
                start += take
                left -= take
            while end - start < 2:
                fill()
            start += 2
        raise VerificationError("raw socket: too many chunks")

    def close(self) -> None:
        for s in self.socks:
            s.close()


class _RawProtocol(asyncio.BufferedProtocol):
    """Counts bytes into one buffer; wakes the waiting request at the expected total."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = memoryview(bytearray(1 << 20))
        self.waiter: asyncio.Future[int] | None = None
        self.need = 0
        self.got = 0
        self.head: bytes | None = b""  # None once a download's head is parsed
        self.sink: Callable[[Any], None] | None = None
        self.lost: BaseException | None = None
        self.status = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        if self.head is not None and self.sink is not None:  # a download: find the head
            data = self.head + bytes(self.buf[:nbytes])
            i = data.find(b"\r\n\r\n")
            if i < 0:
                self.head = data
                return
            self.head = None
            head = data[:i].decode("latin-1").lower()
            self.status = int(head[9:12])
            m = re.search(r"\r\ncontent-length:\s*(\d+)", head)
            if m is None:
                raise VerificationError("raw asyncio: only Content-Length bodies")
            self.need = i + 4 + int(m.group(1))
            body = data[i + 4 :]
            if body:
                self.sink(body)
            self.got += len(data)
        else:
            if self.sink is not None:
                self.sink(self.buf[:nbytes])
            self.got += nbytes
        if self.got >= self.need and self.waiter is not None:
            w, self.waiter = self.waiter, None
            if not w.done():
                w.set_result(self.got)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or ConnectionError("closed")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(VerificationError("raw asyncio: connection lost"))


class RawAsync(AsyncAdapter):
    """The async ceiling: a BufferedProtocol per connection, a Future per request."""

    def __init__(self, job: Job):
        self.job = job
        self.transports: list[Any] = []
        self.totals: dict[str, tuple[int, int]] = {}
        self.dl: _RawProtocol | None = None

    def _probe(self, url: str) -> tuple[int, bytes, int, int]:
        raw = RawSync(self.job)
        try:
            sock = raw._connect()
            return raw._learn(sock, _request_bytes(self.job.host, self.job.port, _path_of(url)))
        finally:
            raw.close()

    async def _connect(self) -> _RawProtocol:
        loop = asyncio.get_running_loop()
        transport, proto = await loop.create_connection(
            _RawProtocol, self.job.host, self.job.port
        )
        self.transports.append(transport)
        return proto

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        status, body, n_fields, total = self._probe(url)  # blocking, outside timing
        self.totals[url] = (total, len(body))
        return status, body, n_fields, "HTTP/1.1"

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        total, body_len = self.totals[url]
        proto = await self._connect()
        request = _request_bytes(self.job.host, self.job.port, _path_of(url))
        write = proto.transport.write
        create_future = asyncio.get_running_loop().create_future

        async def get() -> int:
            proto.got = 0
            proto.need = total
            fut = proto.waiter = create_future()
            write(request)
            got = await fut
            if got != total:
                raise VerificationError(f"raw asyncio: response length changed ({got})")
            return body_len

        return get

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        if self.dl is None:
            self.dl = await self._connect()
        proto = self.dl
        counted = [0]

        def count(chunk: Any) -> None:
            counted[0] += len(chunk)
            if sink is not None:
                sink(chunk)

        proto.got, proto.need, proto.head, proto.sink = 0, 1 << 62, b"", count
        proto.waiter = asyncio.get_running_loop().create_future()
        proto.transport.write(_request_bytes(self.job.host, self.job.port, _path_of(url)))
        got = await proto.waiter
        proto.sink = None
        if got != proto.need:
            raise VerificationError(f"raw asyncio: read {got} bytes, want {proto.need}")
        return proto.status, counted[0]

    async def close(self) -> None:
        for t in self.transports:
            t.close()
        await asyncio.sleep(0)


# ---- httpcore-shaped pools: httpcore_fast (both kernels), httpcore 1.0.9, httpcore2 ----


def _pool_size(job: Job) -> int:
    return max(10, job.sc.concurrency)


class PoolSync(SyncAdapter):
    def __init__(self, mod: Any, job: Job):
        self.pool = mod.ConnectionPool(max_connections=_pool_size(job))

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.pool.request(b"GET", url)
        return r.status, r.content, len(r.headers), r.extensions.get("http_version")

    def getter(self, url: str) -> Callable[[], int]:
        request = self.pool.request
        return lambda: len(request(b"GET", url).content)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        with self.pool.stream(b"GET", url) as r:
            got = _drain(r.iter_stream(), sink)
        return r.status, got

    def close(self) -> None:
        self.pool.close()


class PoolAsync(AsyncAdapter):
    def __init__(self, mod: Any, job: Job):
        if job.h2:  # one HTTP/2 connection carries every stream
            self.pool = mod.AsyncConnectionPool(
                http1=False, http2=True, ssl_context=job.ssl_context(), max_connections=1
            )
        else:
            self.pool = mod.AsyncConnectionPool(max_connections=_pool_size(job))

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = await self.pool.request(b"GET", url)
        return r.status, r.content, len(r.headers), r.extensions.get("http_version")

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        request = self.pool.request

        async def get() -> int:
            return len((await request(b"GET", url)).content)

        return get

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.pool.stream(b"GET", url) as r:
            got = await _adrain(r.aiter_stream(), sink)
        return r.status, got

    async def close(self) -> None:
        await self.pool.aclose()


_FAST_IMPORT: tuple[Any, Any] | None = None


def _import_httpcore_fast() -> tuple[Any, Any]:
    """Import httpcore_fast (installed, else from the repo tree) and its kernel selector."""
    global _FAST_IMPORT
    if _FAST_IMPORT is None:
        try:
            import httpcore_fast  # noqa: F401
        except ImportError:
            if str(REPO_ROOT) not in sys.path:
                sys.path.insert(0, str(REPO_ROOT))
        try:
            import httpcore_fast
            from httpcore_fast import _kernel
        except Exception as exc:  # noqa: BLE001 - any failure means "unavailable"
            raise ClientUnavailable(f"{type(exc).__name__}: {exc}") from exc
        _FAST_IMPORT = (httpcore_fast, _kernel)
    return _FAST_IMPORT


def _fast(kernel: str | None, job: Job) -> Any:
    """httpcore_fast with the given kernel selected (None: leave the default)."""
    fast, selector = _import_httpcore_fast()
    if not hasattr(fast, "ConnectionPool"):
        raise ClientUnavailable("httpcore_fast has no ConnectionPool yet")
    if job.h2 and importlib.util.find_spec("httpcore_fast._async.http2") is None:
        raise ClientUnavailable("httpcore_fast has no HTTP/2 yet (httpcore_fast/_async/http2.py)")
    if kernel is not None:
        try:
            selector.set_kernel(kernel)
        except Exception as exc:  # noqa: BLE001
            raise ClientUnavailable(f"set_kernel({kernel!r}): {exc}") from exc
        if selector.kernel_name() != kernel:
            raise ClientUnavailable(f"asked for the {kernel} kernel, got {selector.kernel_name()}")
    return fast


# ---- httpx and httpx2: their own transports, or httpcore_fast's -----------------------


def _fast_transport(mod: Any, job: Job, asynchronous: bool, limits: Any) -> Any:
    _fast("cython", job)
    try:
        adapter = importlib.import_module("httpcore_fast.httpx")
    except Exception as exc:  # noqa: BLE001
        raise ClientUnavailable(
            f"httpcore_fast.httpx not importable yet ({type(exc).__name__}: {exc})"
        ) from exc
    cls = getattr(adapter, "AsyncHTTPTransport" if asynchronous else "HTTPTransport", None)
    if cls is None:
        raise ClientUnavailable("httpcore_fast.httpx has no (Async)HTTPTransport")
    kw: dict[str, Any] = {"limits": limits}
    if job.h2:
        kw.update(http1=False, http2=True, verify=job.ssl_context())
    try:
        return cls(**kw)
    except TypeError as exc:
        raise ClientUnavailable(f"{cls.__name__}({', '.join(kw)}): {exc}") from exc


class _ClientSync(SyncAdapter):
    """A client with httpx's shape: get(url) -> .status_code/.content; stream("GET", url)."""

    client: Any
    iter_name = "iter_raw"

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.client.get(url)
        return r.status_code, r.content, len(r.headers), getattr(r, "http_version", None)

    def getter(self, url: str) -> Callable[[], int]:
        get = self.client.get
        return lambda: len(get(url).content)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        with self.client.stream("GET", url) as r:
            got = _drain(getattr(r, self.iter_name)(), sink)
        return r.status_code, got

    def close(self) -> None:
        self.client.close()


class _ClientAsync(AsyncAdapter):
    """The async twin of _ClientSync."""

    client: Any
    aiter_name = "aiter_raw"

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = await self.client.get(url)
        return r.status_code, r.content, len(r.headers), getattr(r, "http_version", None)

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        get = self.client.get

        async def g() -> int:
            return len((await get(url)).content)

        return g

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.client.stream("GET", url) as r:
            got = await _adrain(getattr(r, self.aiter_name)(), sink)
        return r.status_code, got


class HttpxSync(_ClientSync):
    def __init__(self, mod: Any, job: Job, on_fast: bool):
        n = _pool_size(job)
        limits = mod.Limits(max_connections=n, max_keepalive_connections=n)
        if on_fast:
            self.client = mod.Client(transport=_fast_transport(mod, job, False, limits))
        else:
            self.client = mod.Client(limits=limits)


class HttpxAsync(_ClientAsync):
    def __init__(self, mod: Any, job: Job, on_fast: bool):
        n = 1 if job.h2 else _pool_size(job)
        limits = mod.Limits(max_connections=n, max_keepalive_connections=n)
        if on_fast:
            self.client = mod.AsyncClient(transport=_fast_transport(mod, job, True, limits))
        elif job.h2:
            self.client = mod.AsyncClient(
                http1=False, http2=True, verify=job.ssl_context(), limits=limits
            )
        else:
            self.client = mod.AsyncClient(limits=limits)

    async def close(self) -> None:
        await self.client.aclose()


# ---- aiohttp ----------------------------------------------------------------------------


class AiohttpAsync(AsyncAdapter):
    def __init__(self, job: Job):
        self.aiohttp = _require("aiohttp")
        self.limit = _pool_size(job)
        self.session: Any = None

    async def open(self) -> None:
        a = self.aiohttp
        self.session = a.ClientSession(connector=a.TCPConnector(limit=self.limit))

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        async with self.session.get(url) as r:
            body = await r.read()
            return r.status, body, len(r.headers), f"HTTP/{r.version.major}.{r.version.minor}"

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        get = self.session.get

        async def g() -> int:
            async with get(url) as r:
                return len(await r.read())

        return g

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.session.get(url) as r:
            got = await _adrain(r.content.iter_any(), sink)
            return r.status, got

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


# ---- urllib3 ------------------------------------------------------------------------------


class Urllib3Sync(SyncAdapter):
    def __init__(self, job: Job):
        urllib3 = _require("urllib3")
        self.pool = urllib3.HTTPConnectionPool(
            job.host, job.port, maxsize=max(1, job.sc.concurrency), block=True,
            retries=False, timeout=30,
        )

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.pool.request("GET", _path_of(url))
        return r.status, r.data, len(r.headers), f"HTTP/{r.version / 10}"

    def getter(self, url: str) -> Callable[[], int]:
        request, path = self.pool.request, _path_of(url)
        return lambda: len(request("GET", path).data)

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        r = self.pool.request("GET", _path_of(url), preload_content=False)
        try:
            got = _drain(r.stream(1 << 20, decode_content=False), sink)
        finally:
            r.release_conn()
        return r.status, got

    def close(self) -> None:
        self.pool.close()


# ---- pycurl (libcurl) ------------------------------------------------------------------


class PycurlSync(SyncAdapter):
    def __init__(self, job: Job):
        self.pycurl = _require("pycurl")
        self.curl = self.pycurl.Curl()
        self.curl.setopt(self.pycurl.TIMEOUT, 60)

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        p, c = self.pycurl, self.curl
        chunks: list[bytes] = []
        lines: list[bytes] = []
        c.setopt(p.URL, url)
        c.setopt(p.WRITEFUNCTION, chunks.append)
        c.setopt(p.HEADERFUNCTION, lines.append)
        c.perform()
        c.unsetopt(p.HEADERFUNCTION)  # libcurl still parses them; we don't copy
        n_fields = sum(1 for ln in lines[1:] if b":" in ln)
        return c.getinfo(p.RESPONSE_CODE), b"".join(chunks), n_fields, None

    def getter(self, url: str) -> Callable[[], int]:
        p, c = self.pycurl, self.curl
        chunks: list[bytes] = []
        c.setopt(p.URL, url)
        c.setopt(p.WRITEFUNCTION, chunks.append)
        perform, clear = c.perform, chunks.clear

        def get() -> int:
            clear()
            perform()
            got = 0
            for ch in chunks:
                got += len(ch)
            return got

        return get

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        p, c = self.pycurl, self.curl
        got = [0]

        def write(chunk: bytes) -> None:
            got[0] += len(chunk)
            if sink is not None:
                sink(chunk)

        c.setopt(p.URL, url)
        c.setopt(p.BUFFERSIZE, 512 * 1024)  # libcurl's maximum; its default is 16 KiB
        c.setopt(p.WRITEFUNCTION, write)
        c.perform()
        return c.getinfo(p.RESPONSE_CODE), got[0]

    def close(self) -> None:
        self.curl.close()


# ---- pyreqwest (Rust reqwest) ----------------------------------------------------------


class PyreqwestSync(SyncAdapter):
    def __init__(self, job: Job):
        client = _require("pyreqwest.client")
        self.client = client.SyncClientBuilder().build()

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = self.client.get(url).build().send()
        return r.status, bytes(r.bytes()), len(r.headers), r.version

    def getter(self, url: str) -> Callable[[], int]:
        get = self.client.get
        return lambda: len(get(url).build().send().bytes())

    def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        with self.client.get(url).build_streamed() as r:
            return r.status, _drain(iter(r.body_reader.read_chunk, None), sink)

    def close(self) -> None:
        self.client.close()


class PyreqwestAsync(AsyncAdapter):
    def __init__(self, job: Job):
        client = _require("pyreqwest.client")
        b = client.ClientBuilder()
        if job.h2:
            if job.ca_pem is None:
                raise ClientUnavailable("no TLS server")
            b = b.http2(True).add_root_certificate_pem(job.ca_pem)
        self.client = b.build()

    async def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        r = await self.client.get(url).build().send()
        return r.status, bytes(await r.bytes()), len(r.headers), r.version

    async def task_getter(self, url: str) -> Callable[[], Awaitable[int]]:
        get = self.client.get

        async def g() -> int:
            r = await get(url).build().send()
            return len(await r.bytes())

        return g

    async def download(self, url: str, sink: Callable[[Any], None] | None) -> tuple[int, int]:
        async with self.client.get(url).build_streamed() as r:
            return r.status, await _adrain(_aiter_calls(r.body_reader.read_chunk), sink)

    async def close(self) -> None:
        await self.client.close()


# ---- curl_cffi (libcurl via cffi) ------------------------------------------------------


class CurlCffiSync(_ClientSync):
    iter_name = "iter_content"

    def __init__(self, job: Job):
        self.client = _require("curl_cffi.requests").Session()


class CurlCffiAsync(_ClientAsync):
    aiter_name = "aiter_content"

    def __init__(self, job: Job):
        self.requests = _require("curl_cffi.requests")
        self.n = _pool_size(job)
        self.client: Any = None

    async def open(self) -> None:
        self.client = self.requests.AsyncSession(max_clients=self.n)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


# ---- h11 over a socket ------------------------------------------------------------------


class H11Sync(SyncAdapter):
    def __init__(self, job: Job):
        self.h11 = _require("h11")
        self.job = job
        self.sock = socket.create_connection((job.host, job.port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = self.h11.Connection(self.h11.CLIENT)

    def _one(self, path: str) -> tuple[int, int, list[bytes]]:
        h11, conn, sock = self.h11, self.conn, self.sock
        headers = [("Host", f"{self.job.host}:{self.job.port}"), ("Accept", "*/*")]
        sock.sendall(
            conn.send(h11.Request(method="GET", target=path, headers=headers))
            + conn.send(h11.EndOfMessage())
        )
        status = n_headers = 0
        body: list[bytes] = []
        for _ in range(100_000):  # bounded event loop
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif type(ev) is h11.Response:
                status, n_headers = ev.status_code, len(ev.headers)
            elif type(ev) is h11.Data:
                body.append(ev.data)
            elif type(ev) is h11.EndOfMessage:
                conn.start_next_cycle()
                return status, n_headers, body
            else:
                raise VerificationError(f"h11: unexpected event {ev!r}")
        raise VerificationError("h11: response did not end")

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        status, n_headers, body = self._one(_path_of(url))
        return status, b"".join(body), n_headers, "HTTP/1.1"

    def getter(self, url: str) -> Callable[[], int]:
        path, one = _path_of(url), self._one

        def get() -> int:
            return sum(len(b) for b in one(path)[2])

        return get

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------------------
# The clients


SYNC_KINDS = frozenset({"seq", "threads", "big"})
ASYNC_KINDS = frozenset({"async", "abig", "h2"})
ALL_KINDS = SYNC_KINDS | ASYNC_KINDS | {"trio"}


@dataclass
class ClientSpec:
    key: str
    label: str
    sync: Callable[[Job], SyncAdapter] | None
    aio: Callable[[Job], AsyncAdapter] | None
    kinds: frozenset[str]
    optional: bool  # optional peers are skipped with a note if not importable
    async_label: str = ""
    skip: frozenset[str] = frozenset()  # scenario names it can't do

    def supports(self, sc: Scenario) -> bool:
        return sc.kind in self.kinds and sc.name not in self.skip

    def label_for(self, sc: Scenario) -> str:
        return self.async_label if self.async_label and sc.kind not in SYNC_KINDS else self.label


def _mod(name: str) -> Callable[[Job], Any]:
    return lambda job: _require(name)


def _pool_spec(key: str, label: str, get_mod: Callable[[Job], Any], kinds: frozenset[str],
               optional: bool) -> ClientSpec:
    return ClientSpec(
        key, label,
        lambda job: PoolSync(get_mod(job), job),
        lambda job: PoolAsync(get_mod(job), job),
        kinds, optional,
    )


def _httpx_spec(key: str, label: str, module: str, on_fast: bool) -> ClientSpec:
    kinds = frozenset({"seq", "threads", "big", "async", "abig", "h2"})
    return ClientSpec(
        key, label,
        lambda job: HttpxSync(_require(module), job, on_fast),
        lambda job: HttpxAsync(_require(module), job, on_fast),
        kinds, True,
    )


CLIENTS = [
    _pool_spec("fast-cython", "httpcore_fast[cython]", lambda j: _fast("cython", j),
               ALL_KINDS, False),
    _pool_spec("fast-python", "httpcore_fast[python]", lambda j: _fast("python", j),
               ALL_KINDS, False),
    _pool_spec("httpcore", "httpcore 1.0.9", _mod("httpcore"), ALL_KINDS, False),
    _pool_spec("httpcore2", "httpcore2", _mod("httpcore2"), ALL_KINDS - {"trio"}, True),
    ClientSpec("raw", "raw socket (ceiling)", RawSync, RawAsync,
               frozenset({"seq", "threads", "big", "async", "abig"}), False,
               async_label="asyncio.Protocol (ceiling)", skip=frozenset({"abig-chunked"})),
    _httpx_spec("httpx", "httpx", "httpx", False),
    _httpx_spec("httpx-fast", "httpx on httpcore_fast", "httpx", True),
    _httpx_spec("httpx2", "httpx2", "httpx2", False),
    _httpx_spec("httpx2-fast", "httpx2 on httpcore_fast", "httpx2", True),
    ClientSpec("aiohttp", "aiohttp", None, AiohttpAsync, frozenset({"async", "abig"}), True),
    ClientSpec("urllib3", "urllib3", Urllib3Sync, None,
               frozenset({"seq", "threads", "big"}), True),
    ClientSpec("pycurl", "pycurl", PycurlSync, None, frozenset({"seq", "big"}), True),
    ClientSpec("pyreqwest", "pyreqwest", PyreqwestSync, PyreqwestAsync,
               frozenset({"seq", "threads", "big", "async", "abig", "h2"}), True,
               async_label="pyreqwest (async)"),
    ClientSpec("curl_cffi", "curl_cffi", CurlCffiSync, CurlCffiAsync,
               frozenset({"seq", "big", "async", "abig"}), True,
               async_label="curl_cffi (async)"),
    ClientSpec("h11", "h11+socket", H11Sync, None, frozenset({"seq"}), True),
]
CLIENT_KEYS = {c.key: c for c in CLIENTS}
REFERENCE_KEY = "httpcore"
CEILING_KEY = "raw"
FAST_KEY = "fast-cython"


def run_client(spec: ClientSpec, job: Job) -> tuple[float, float]:
    name = spec.label_for(job.sc)
    kind = job.sc.kind
    if kind in SYNC_KINDS:
        assert spec.sync is not None
        ad = spec.sync(job)
        try:
            runner = {"seq": run_seq, "threads": run_threads, "big": run_big}[kind]
            return runner(name, ad, job)
        finally:
            ad.close()
    assert spec.aio is not None
    if kind == "trio":
        return run_trio(name, spec.aio, job)
    return run_async(name, spec.aio, job)


def units_done(job: Job) -> float:
    """What one run delivered: requests, or MB (10^6 bytes) for the large bodies."""
    if job.sc.kind in ("big", "abig"):
        return job.n * BIG_SIZE / 1e6
    c = job.sc.concurrency
    return float((job.n // c) * c)


# --------------------------------------------------------------------------------------
# Targets (issue "Benchmarks against every peer"): measured ratio, PASS or MISS.


@dataclass(frozen=True)
class TargetSpec:
    text: str
    num: tuple[str, str]  # (scenario, client)
    den: tuple[str, str]
    threshold: float


TARGETS = [
    TargetSpec("sequential small GET (sync) >= 0.8x raw socket",
               ("small", FAST_KEY), ("small", "raw"), 0.8),
    TargetSpec("10 threads on one pool >= 4x httpcore",
               ("threads10", FAST_KEY), ("threads10", "httpcore"), 4.0),
    TargetSpec("10 threads on one pool >= 3x urllib3",
               ("threads10", FAST_KEY), ("threads10", "urllib3"), 3.0),
    TargetSpec("10 threads on one pool >= 0.8x pyreqwest (stretch)",
               ("threads10", FAST_KEY), ("threads10", "pyreqwest"), 0.8),
    TargetSpec("50 concurrent asyncio >= 1.5x aiohttp",
               ("async50", FAST_KEY), ("async50", "aiohttp"), 1.5),
    TargetSpec("50 concurrent asyncio >= 1.2x pyreqwest async",
               ("async50", FAST_KEY), ("async50", "pyreqwest"), 1.2),
    TargetSpec("no collapse: 50 concurrent asyncio >= 1x 1 concurrent",
               ("async50", FAST_KEY), ("async1", FAST_KEY), 1.0),
    TargetSpec("100 MiB body, Content-Length (sync) >= 0.9x raw socket",
               ("big", FAST_KEY), ("big", "raw"), 0.9),
    TargetSpec("100 MiB body, chunked (sync) >= 0.9x raw socket",
               ("big-chunked", FAST_KEY), ("big-chunked", "raw"), 0.9),
    TargetSpec("100 MiB body (async) >= 1.0x pyreqwest async",
               ("abig", FAST_KEY), ("abig", "pyreqwest"), 1.0),
    TargetSpec("50 header fields >= 0.75x raw socket",
               ("headers50", FAST_KEY), ("headers50", "raw"), 0.75),
    TargetSpec("HTTP/2 50 streams >= 2.5x httpcore2",
               ("h2-50", FAST_KEY), ("h2-50", "httpcore2"), 2.5),
]


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in TARGETS:
        def row_of(ref: tuple[str, str]) -> tuple[dict[str, Any] | None, str]:
            sc, key = ref
            row = report.get(sc, {}).get("clients", {}).get(key)
            if row is None:
                return None, f"{sc} not run" if sc not in report else f"{key} not run on {sc}"
            if "median" not in row:
                return None, f"{row['label']} {row['status']} on {sc}: {row.get('note', '')[:80]}"
            return row, ""

        a, why_a = row_of(t.num)
        b, why_b = row_of(t.den)
        if a is None or b is None or not b["median"]:
            out.append({"target": t.text, "ratio": None, "verdict": "N/A",
                        "why": why_a or why_b, "threshold": t.threshold})
        else:
            r = a["median"] / b["median"]
            # The same comparison in CPU per request/body (steadier on a loaded machine):
            # how many times less CPU the httpcore_fast client spent than the other side.
            cpu = b["cpu_median"] / a["cpu_median"] if a["cpu_median"] else None
            out.append({"target": t.text, "ratio": r, "threshold": t.threshold,
                        "verdict": "PASS" if r >= t.threshold else "MISS", "why": "",
                        "cpu_ratio": cpu})
    return out


def print_targets(rows: list[dict[str, Any]]) -> None:
    print()
    print("== targets (httpcore_fast[cython], medians of this run)")
    print(f"{'':5} {'ratio':>7} {'CPU':>6}")
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        cpu = f"{r['cpu_ratio']:.2f}x" if r.get("cpu_ratio") else "-"
        extra = f"  ({r['why']})" if r["why"] else ""
        print(f"{r['verdict']:<5} {ratio:>7} {cpu:>6}  {r['target']}{extra}")
    print("ratio: median throughput over the other side's (the verdict); CPU: the other "
          "side's CPU per request/body over httpcore_fast's (>1: httpcore_fast spends less).")
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("PASS", "MISS", "N/A")}
    print(f"targets: {counts['PASS']} PASS, {counts['MISS']} MISS, {counts['N/A']} N/A")


# --------------------------------------------------------------------------------------
# Runner


class _Alarm(BaseException):
    """SIGALRM backstop for a client that ignores its deadline (BaseException, so no
    library's `except Exception` swallows it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm("client exceeded --client-timeout")


def _on_term(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclass
class Result:
    spec: ClientSpec
    label: str
    samples: list[float] = field(default_factory=list)  # req/s or MB/s, one per round
    cpu: list[float] = field(default_factory=list)  # CPU µs per request / ms per 100 MiB
    status: str = "ok"  # ok | unavailable | failed
    note: str = ""
    verified: bool = False


def pin_cpus(no_pin: bool) -> tuple[int | None, int | None, str]:
    """Return (client cpu, server cpu, description) and pin this process."""
    if no_pin or not hasattr(os, "sched_setaffinity"):
        return None, None, "no pinning"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, f"no pinning (only CPU {cpus} available)"
    client_cpu, server_cpu = cpus[0], cpus[1]
    os.sched_setaffinity(0, {client_cpu})
    return client_cpu, server_cpu, f"client on CPU {client_cpu}, nginx on CPU {server_cpu}"


def _describe_fast() -> str:
    try:
        fast, selector = _import_httpcore_fast()
    except ClientUnavailable as exc:
        return f"unavailable ({exc})"
    extra = "" if hasattr(fast, "ConnectionPool") else ", no ConnectionPool yet"
    cy = getattr(selector, "_kernel_c", None)
    h2 = importlib.util.find_spec("httpcore_fast._async.http2") is not None
    hx = importlib.util.find_spec("httpcore_fast.httpx") is not None
    return (
        f"{fast.__file__} (cython kernel {'built' if cy is not None else 'NOT available'}"
        f"{extra}; http2 {'yes' if h2 else 'not yet'}; httpx transport "
        f"{'yes' if hx else 'not yet'})"
    )


PEER_DISTS = ("httpcore", "httpcore2", "httpx", "httpx2", "aiohttp", "urllib3", "pycurl",
              "pyreqwest", "curl_cffi", "h11", "h2", "anyio", "trio", "httpcore-fast")


def peer_versions() -> dict[str, str]:
    """Installed versions of the peers (importlib.metadata; nothing is imported)."""
    from importlib import metadata

    out = {}
    for dist in PEER_DISTS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor() or "?",
        "kernel": f"{platform.system()} {platform.release()}",
        "python": f"{sys.version.split()[0]} ({platform.python_implementation()})",
        "machine": platform.machine(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            timeout=10,
        )
        return out.stdout.decode().strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def summarise(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    out = {"median": statistics.median(s), "min": s[0], "max": s[-1]}
    if len(s) >= 4:
        q = statistics.quantiles(s, n=4, method="inclusive")
        out["q1"], out["q3"] = q[0], q[2]
    return out


def _n_for(sc: Scenario, args: argparse.Namespace) -> tuple[int, int]:
    """(timed requests or downloads, warm-up requests) for one client run."""
    if sc.kind in ("big", "abig"):
        return args.big_downloads, 0
    if sc.kind == "threads":
        # The fast clients do 30-60k req/s here: twice as many, so a run lasts long enough.
        return 2 * args.requests, args.warmup
    return max(sc.concurrency, args.requests), args.warmup


def run(args: argparse.Namespace) -> int:
    selected = [c for c in CLIENTS if not args.clients or c.key in args.clients]
    scenarios = [SCENARIOS[s] for s in args.scenarios]
    client_cpu, server_cpu, pin_note = pin_cpus(args.no_pin)
    m = machine()
    print(f"machine     {m['nproc']} CPUs ({m['cpu_model']}), {m['kernel']}, Python "
          f"{m['python']}; {pin_note}")
    print(f"httpcore_fast {_describe_fast()}")
    print("peers       " + ", ".join(f"{k} {v}" for k, v in peer_versions().items()))
    print(f"repo        {_git_commit() or '?'}; load average {os.getloadavg()[0]:.2f}")
    print(f"plan        {len(scenarios)} scenario(s) x {args.rounds} rounds; {args.requests} "
          f"requests (+{args.warmup} warm-up) per request run, {args.big_downloads} x 100 MiB "
          f"per body run; clients interleaved per round")

    want_big = any(s.kind in ("big", "abig") for s in scenarios)
    want_tls = any(s.kind == "h2" for s in scenarios)
    server = NginxServer(find_nginx(args.nginx), server_cpu, args.port, args.start_timeout,
                         want_big, want_tls)
    old_term = signal.signal(signal.SIGTERM, _on_term)
    old_alarm = signal.signal(signal.SIGALRM, _on_alarm)
    started = time.monotonic()
    results: dict[str, dict[str, Result]] = {}
    truncated = ""
    said: set[tuple[str, str]] = set()
    try:
        server.start()
        tls = f", TLS+HTTP/2 on :{server.tls_port}" if server.tls_port else ""
        print(f"server      {server.version}, 1 worker, 127.0.0.1:{server.port}{tls}, "
              f"keep-alive (temp dir {server.tmp})")
        if server.tls_note:
            print(f"note: {server.tls_note}")
        print()
        for sc in scenarios:
            results[sc.name] = {
                c.key: Result(c, c.label_for(sc)) for c in selected if c.supports(sc)
            }
        for r in range(args.rounds):
            if time.monotonic() - started > args.budget:
                truncated = f"stopped after {r} rounds: --budget {args.budget}s exceeded"
                print(f"note: {truncated}")
                break
            for sc in scenarios:
                n, warmup = _n_for(sc, args)
                per = [c for c in selected if c.supports(sc)]
                # Rotate the order each round so no client always runs first or last.
                order = per[r % len(per):] + per[: r % len(per)] if per else []
                for spec in order:
                    res = results[sc.name][spec.key]
                    if res.status != "ok":
                        continue
                    job = Job("127.0.0.1", server.port, sc, n, warmup,
                              verify=not res.verified,
                              deadline=time.monotonic() + args.client_timeout,
                              tls_port=server.tls_port, ca_pem=server.ca_pem,
                              big_crc=server.big_crc)
                    signal.alarm(args.client_timeout + 10)
                    try:
                        wall, cpu = run_client(spec, job)
                    except ClientUnavailable as exc:
                        res.status, res.note = "unavailable", str(exc)
                        if (spec.key, str(exc)) not in said:
                            said.add((spec.key, str(exc)))
                            print(f"{res.label}: unavailable for {sc.name} ({exc})")
                        continue
                    except (Exception, _Alarm) as exc:  # noqa: BLE001 - a broken client
                        res.status, res.note = "failed", f"{type(exc).__name__}: {exc}"
                        print(f"{res.label}: FAILED on {sc.name} ({res.note[:300]}); dropped")
                        continue
                    finally:
                        signal.alarm(0)
                    res.verified = True
                    done = units_done(job)
                    res.samples.append(done / wall)
                    if sc.unit == "MB/s":
                        res.cpu.append(cpu / job.n * 1e3)  # ms per 100 MiB body
                    else:
                        res.cpu.append(cpu / done * 1e6)  # µs per request
            print(f"round {r + 1}/{args.rounds} done ({time.monotonic() - started:.0f}s)",
                  flush=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_alarm)
        signal.signal(signal.SIGTERM, old_term)
        server.cleanup()

    report = report_tables(scenarios, results, args)
    targets = evaluate_targets(report)
    if args.targets:
        print_targets(targets)
    stamp = f"{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    write_json(args, stamp, scenarios, report, targets, server, pin_note, truncated)
    write_png(args, stamp, scenarios, report)
    bad = [res for per in results.values() for res in per.values()
           if res.status == "failed" and not res.spec.optional]
    return 1 if bad else 0


def report_tables(
    scenarios: list[Scenario], results: dict[str, dict[str, Result]], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    report: dict[str, dict[str, Any]] = {}
    for sc in scenarios:
        per = results.get(sc.name, {})
        stats = {k: summarise(r.samples) for k, r in per.items() if r.samples}
        ref = stats.get(REFERENCE_KEY, {}).get("median")
        ceil = stats.get(CEILING_KEY, {}).get("median")
        n_rounds = max((len(r.samples) for r in per.values()), default=0)
        n, _ = _n_for(sc, args)
        amount = f"{n} x 100 MiB" if sc.unit == "MB/s" else f"{n} requests"
        print()
        print(f"== {sc.name}: {sc.title} ({amount} x {n_rounds} rounds)")
        cpu_head = "CPU ms/body" if sc.unit == "MB/s" else "CPU µs/req"
        head = (f"{'client':<27}{sc.unit + ' median':>13}{'min':>9}{'max':>9}{'IQR':>15}"
                f"{cpu_head:>12}{'x httpcore':>11}{'x ceiling':>10}")
        print(head)
        print("-" * len(head))
        rows: dict[str, Any] = {}
        order = sorted(per, key=lambda k: -stats[k]["median"] if k in stats else 0.0)
        for key in order:
            res = per[key]
            if key not in stats:
                print(f"{res.label:<27}  {res.status}: {res.note[:80]}")
                rows[key] = {"label": res.label, "status": res.status, "note": res.note}
                continue
            st = stats[key]
            med = st["median"]
            iqr = f"{st['q1']:.0f}-{st['q3']:.0f}" if "q1" in st else "-"
            cpu = statistics.median(res.cpu)
            vs_ref = med / ref if ref else None
            vs_ceil = med / ceil if ceil else None
            mark = "*" if key.startswith("fast") or key.endswith("-fast") else " "
            print(f"{mark}{res.label:<26}{med:>13.0f}{st['min']:>9.0f}{st['max']:>9.0f}"
                  f"{iqr:>15}{cpu:>12.1f}"
                  f"{(f'{vs_ref:.2f}' if vs_ref else '-'):>11}"
                  f"{(f'{vs_ceil:.2f}' if vs_ceil else '-'):>10}")
            rows[key] = {
                "label": res.label,
                "status": res.status,
                "note": res.note,
                "median": med,
                "stats": st,
                "samples": res.samples,
                "cpu_median": cpu,
                "cpu_samples": res.cpu,
                "ratio_to_httpcore": vs_ref,
                "ratio_to_ceiling": vs_ceil,
            }
        report[sc.name] = {
            "title": sc.title,
            "kind": sc.kind,
            "path": sc.path,
            "unit": sc.unit,
            "cpu_unit": "ms per 100 MiB body" if sc.unit == "MB/s" else "µs per request",
            "concurrency": sc.concurrency,
            "clients": rows,
        }
    print()
    print("* = httpcore_fast. Higher is better. x httpcore / x ceiling: median divided by "
          "httpcore 1.0.9's / the raw socket's (sync) or asyncio.Protocol's (async) median. "
          "CPU: this process's user+sys CPU (median); MB = 10^6 bytes.")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other load moves wall-clock "
          "numbers; the ratios are measured in the same run)")
    return report


def write_json(
    args: argparse.Namespace,
    stamp: str,
    scenarios: list[Scenario],
    report: dict[str, Any],
    targets: list[dict[str, Any]],
    server: NginxServer,
    pin_note: str,
    truncated: str,
) -> None:
    if args.no_json:
        return
    path = Path(args.json) if args.json else RESULTS_DIR / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "timestamp": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": _git_commit(),
        "machine": machine(),
        "python": sys.version,
        "platform": platform.platform(),
        "pinning": pin_note,
        "load_average_end": os.getloadavg(),
        "server": {"version": server.version, "port": server.port, "workers": 1,
                   "tls_port": server.tls_port, "note": server.tls_note},
        "httpcore_fast": _describe_fast(),
        "versions": peer_versions(),
        "settings": {
            "requests": args.requests,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "big_downloads": args.big_downloads,
            "scenarios": [s.name for s in scenarios],
            "clients": args.clients or [c.key for c in CLIENTS],
            "quick": args.quick,
        },
        "truncated": truncated,
        "scenarios": report,
        "targets": targets,
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"results written to {path}")


def write_png(
    args: argparse.Namespace,
    stamp: str,
    scenarios: list[Scenario],
    report: dict[str, Any],
    meta: tuple[dict[str, Any], str] | None = None,  # (machine, date) of an earlier run
) -> None:
    if args.no_png:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as exc:  # noqa: BLE001
        print(f"note: no chart (matplotlib: {type(exc).__name__}: {exc}); "
              "pip install -e '.[bench]'")
        return
    shown = [s for s in scenarios if any("median" in r for r in
                                          report.get(s.name, {}).get("clients", {}).values())]
    if not shown:
        return
    cols = 2 if len(shown) > 1 else 1
    rows = (len(shown) + cols - 1) // cols
    heights = [
        max(len(report[s.name]["clients"]), 3) * 0.28 + 0.9 for s in shown
    ]
    fig_h = sum(max(heights[i:i + cols]) for i in range(0, len(shown), cols))
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, fig_h), squeeze=False)
    for ax, sc in zip(axes.flat, shown, strict=False):  # more axes than panels
        rows_ = [r for r in report[sc.name]["clients"].items() if "median" in r[1]]
        rows_.sort(key=lambda kv: kv[1]["median"])
        labels = [r["label"] for _, r in rows_]
        meds = [r["median"] for _, r in rows_]
        lo = [r["median"] - r["stats"].get("q1", r["median"]) for _, r in rows_]
        hi = [r["stats"].get("q3", r["median"]) - r["median"] for _, r in rows_]
        colors = [
            "#d62728" if k == FAST_KEY else "#ff9896" if k.startswith("fast") or
            k.endswith("-fast") else "#7f7f7f" if k == CEILING_KEY else "#1f77b4"
            for k, _ in rows_
        ]
        ax.barh(labels, meds, xerr=[lo, hi], color=colors, capsize=2)
        ref = report[sc.name]["clients"].get(REFERENCE_KEY, {}).get("median")
        for i, v in enumerate(meds):
            txt = f"{v:,.0f}" + (f"  ({v / ref:.2f}x httpcore)" if ref else "")
            ax.text(v, i, " " + txt, va="center", fontsize=7)
        ax.set_title(f"{sc.name}: {sc.title}", fontsize=9)
        ax.set_xlabel(f"{sc.unit} (median, IQR bars)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0, max(meds) * 1.45)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    m, day = meta or (machine(), _dt.date.today().isoformat())
    fig.suptitle(
        f"httpcore_fast vs peers on nginx (loopback), {m['nproc']} CPUs {m['cpu_model']}, "
        f"Python {m['python']}, {day}",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig_h))  # room for the suptitle
    path = Path(args.png) if args.png else RESULTS_DIR / f"{stamp}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    try:  # a 64-colour palette: the chart stays sharp at a fraction of the bytes
        from PIL import Image

        with Image.open(path) as im:
            small = im.convert("RGB").quantize(colors=64)
        small.save(path, optimize=True)
    except Exception:  # noqa: BLE001 - Pillow comes with matplotlib; if not, keep RGBA
        pass
    print(f"chart written to {path}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Compare httpcore_fast against httpcore 1.0.9 and peers on a local nginx."
    )
    p.add_argument("--quick", action="store_true",
                   help=f"short run (<1 min): {', '.join(QUICK_SCENARIOS)}, fewer rounds")
    p.add_argument("--requests", "-n", type=int,
                   help="timed requests per client per round (threads10: twice as many)")
    p.add_argument("--warmup", type=int, help="untimed requests before each timed run")
    p.add_argument("--rounds", "-r", type=int, help="rounds (each client once per round)")
    p.add_argument("--big-downloads", type=int,
                   help="100 MiB downloads per client per round (default 2, --quick 1)")
    p.add_argument("--scenarios",
                   help=f"comma list of {', '.join(SCENARIOS)} (default: all; "
                   f"--quick: {','.join(QUICK_SCENARIOS)})")
    p.add_argument("--clients", default="",
                   help=f"comma list of {', '.join(c.key for c in CLIENTS)} (default: all)")
    p.add_argument("--targets", action=argparse.BooleanOptionalAction, default=True,
                   help="print the targets summary at the end (default: on)")
    p.add_argument("--nginx", help="path to the nginx binary (default: from PATH)")
    p.add_argument("--port", type=int, help="port for nginx on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-pin", action="store_true", help="don't pin client and server to CPUs")
    p.add_argument("--client-timeout", type=int,
                   help="seconds one client run may take before it is dropped "
                   "(default 20 with --quick, else 60)")
    p.add_argument("--budget", type=float,
                   help="stop starting new rounds after this many seconds")
    p.add_argument("--start-timeout", type=float, default=15.0,
                   help="seconds to wait for nginx to answer")
    p.add_argument("--json", help="write JSON here instead of benchmarks/results/<stamp>.json")
    p.add_argument("--no-json", action="store_true", help="don't write a JSON file")
    p.add_argument("--png", help="write the chart here instead of benchmarks/results/<stamp>.png")
    p.add_argument("--no-png", action="store_true", help="don't draw a chart")
    p.add_argument("--replot", metavar="JSON",
                   help="only draw the chart of an earlier run's JSON (with --png PATH)")
    args = p.parse_args(argv)
    if args.quick:
        defaults = {"requests": 1000, "warmup": 200, "rounds": 3, "budget": 45.0,
                    "client_timeout": 20, "big_downloads": 1}
    else:
        defaults = {"requests": 2000, "warmup": 300, "rounds": 9, "budget": 1500.0,
                    "client_timeout": 60, "big_downloads": 2}
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.scenarios is None:
        args.scenarios = ",".join(QUICK_SCENARIOS if args.quick else FULL_SCENARIOS)
    # Bounds: every loop here is finite and so is the whole run.
    args.requests = max(50, min(args.requests, 1_000_000))
    args.warmup = max(0, min(args.warmup, 100_000))
    args.rounds = max(1, min(args.rounds, 100))
    args.big_downloads = max(1, min(args.big_downloads, 100))
    args.client_timeout = max(1, args.client_timeout)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in args.scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}; choose from {', '.join(SCENARIOS)}")
    args.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in args.clients:
        if c not in CLIENT_KEYS:
            p.error(f"unknown client {c!r}; choose from {', '.join(CLIENT_KEYS)}")
    return args


def replot(args: argparse.Namespace) -> int:
    """Draw the chart of an earlier run from its JSON (--replot)."""
    doc = json.loads(Path(args.replot).read_text())
    report = doc["scenarios"]
    scenarios = [SCENARIOS[name] for name in report if name in SCENARIOS]
    meta = (doc.get("machine") or machine(), str(doc.get("timestamp", "?"))[:10])
    write_png(args, Path(args.replot).stem, scenarios, report, meta)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.replot:
        return replot(args)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; nginx stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

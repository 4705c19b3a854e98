"""The crawl benchmark's worker: one client crawls the URL list in a fresh process.

crawl.py starts `python benchmarks/crawl_clients.py` once per client run, pinned to the
client CPU, and talks to it over stdin/stdout, one line at a time:

1. crawl.py writes the job (JSON: client key, URLs in crawl order, pool cap, per-host limit,
   requests in flight, threads, CA file, per-request timeout, deadline);
2. the worker imports its library, builds the client (pool, session, multi handle; no
   connection is opened) and prints `CRAWL-READY`;
3. crawl.py notes the sockets the process already has (an event loop's self-pipe, libcurl's
   wake-up pair), starts sampling /proc/<pid>/fd, and writes `GO`;
4. the worker crawls: `concurrency` tasks (or `threads` threads, or that many libcurl easy
   handles) take the next URL from one shared list until it is empty, each failure counted by
   exception type, each response checked (status 200 and the exact body); then it closes the
   client and prints `CRAWL-RESULT <json>`: requests ok, failures by type with one message
   each, wall and CPU seconds of the crawl, and "ok", "timeout" (the deadline passed:
   partial counts), "unavailable" (the library can't be imported) or "error".

Profiling: with `CRAWL_PROFILE=<dir>` in the environment (crawl.py's `--profile <dir>`), the
worker runs the crawl under cProfile (every thread of the sync client; timed in each
thread's CPU time, so waiting and other processes' load are not counted) and writes
`<dir>/<client>-cap<cap>.prof` (read it with `python -m pstats`); the numbers of such a run
are not comparable to the others.

Every client is built as its documentation suggests for many origins, with the same pool
cap, per-host limit (where the library has one) and per-request timeout; see CLIENTS and
benchmarks/README.md ("The crawl"). Nothing here runs unless crawl.py asks for it.
"""

from __future__ import annotations

import asyncio
import cProfile
import dataclasses
import importlib
import json
import os
import pstats
import resource
import ssl
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from crawl_server import PAGE
from harness import REPO_ROOT, ClientUnavailable, require

READY, GO, RESULT = "CRAWL-READY", "GO", "CRAWL-RESULT "


def require_fast(module: str = "httpcore_fast") -> Any:
    """httpcore_fast (installed, else from this checkout), or a submodule of it; from the
    copy in ``CRAWL_ALT_TREE`` for the ``fast-async-alt`` client (crawl.py --alt-tree)."""
    if ALT_TREE and "httpcore_fast" not in sys.modules:
        sys.path.insert(0, ALT_TREE)
    try:
        importlib.import_module("httpcore_fast")
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT))
    return require(module)


@dataclass
class Job:
    client: str
    urls: list[str]
    cap: int  # pool cap: max connections (or the library's nearest knob)
    per_host: int  # per-origin connection limit, where the library has one
    concurrency: int  # requests in flight (async tasks, libcurl handles)
    threads: int  # threads of the sync client
    ca_file: str
    timeout: float  # per request, seconds
    deadline: float  # seconds the crawl may take

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def exc_name(exc: BaseException) -> str:
    """`package.ExceptionName`: where the exception class comes from and what it is."""
    return f"{type(exc).__module__.split('.')[0]}.{type(exc).__name__}"


class Tally:
    """Requests that succeeded and failures by type (one example message per type)."""

    def __init__(self) -> None:
        self.ok = 0
        self.failed: Counter[str] = Counter()
        self.examples: dict[str, str] = {}
        self.lock = threading.Lock()

    def response(self, status: int, body: bytes) -> None:
        if status == 200 and body == PAGE:
            with self.lock:
                self.ok += 1
        else:
            self.error("BadResponse", f"status {status}, {len(body)} B body")

    def exception(self, exc: BaseException) -> None:
        self.error(exc_name(exc), str(exc) or repr(exc))

    def error(self, name: str, message: str) -> None:
        with self.lock:
            self.failed[name] += 1
            self.examples.setdefault(name, message[:200])


def wait_for_go() -> None:
    print(READY, flush=True)
    line = sys.stdin.readline().strip()
    if line != GO:
        raise SystemExit(f"crawl worker: expected {GO!r}, got {line!r}")


# --------------------------------------------------------------------------------------
# Async clients: open() inside the event loop, get(url) -> (status, body), close().


class AsyncCrawler:
    def __init__(self, job: Job) -> None:
        self.job = job

    async def open(self) -> None:
        pass

    async def get(self, url: str) -> tuple[int, bytes]:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class HttpcorePool(AsyncCrawler):
    """httpcore_fast, httpcore 1.0.9, httpcore2: `AsyncConnectionPool(ssl_context=...,
    max_connections=cap)`, a timeout extension on every request, the library's defaults
    otherwise (no keep-alive expiry)."""

    def __init__(self, job: Job, module: str):
        super().__init__(job)
        mod = require_fast() if module == "httpcore_fast" else require(module)
        self.pool = mod.AsyncConnectionPool(ssl_context=job.ssl_context(), max_connections=job.cap)
        t = job.timeout
        self.ext = {"timeout": {"connect": t, "read": t, "write": t, "pool": t}}

    async def get(self, url: str) -> tuple[int, bytes]:
        r = await self.pool.request(b"GET", url, extensions=self.ext)
        return r.status, r.content

    async def close(self) -> None:
        save_pool_stats(self.pool, self.job)
        await self.pool.aclose()


class Httpx(AsyncCrawler):
    """httpx `AsyncClient(verify=ctx, limits=Limits(max_connections=cap,
    max_keepalive_connections=cap), timeout=t)` (httpx's default keep-alive expiry, 5 s), on
    its own transport or on httpcore_fast's."""

    def __init__(self, job: Job, on_fast: bool):
        super().__init__(job)
        httpx = require("httpx")
        limits = httpx.Limits(max_connections=job.cap, max_keepalive_connections=job.cap)
        ctx = job.ssl_context()
        if on_fast:
            transport = require_fast("httpcore_fast.httpx").AsyncHTTPTransport(
                verify=ctx, limits=limits
            )
            self.client = httpx.AsyncClient(transport=transport, timeout=job.timeout)
        else:
            self.client = httpx.AsyncClient(verify=ctx, limits=limits, timeout=job.timeout)

    async def get(self, url: str) -> tuple[int, bytes]:
        r = await self.client.get(url)
        return r.status_code, r.content

    async def close(self) -> None:
        await self.client.aclose()


class Aiohttp(AsyncCrawler):
    """aiohttp `ClientSession(connector=TCPConnector(limit=cap, limit_per_host=per_host,
    ssl=ctx), timeout=ClientTimeout(total=t))`: aiohttp's `limit` counts connections in use,
    and it keeps idle ones beyond it (its default keep-alive expiry, 15 s)."""

    def __init__(self, job: Job):
        super().__init__(job)
        self.aiohttp = require("aiohttp")
        self.session: Any = None

    async def open(self) -> None:
        a, job = self.aiohttp, self.job
        connector = a.TCPConnector(
            limit=job.cap, limit_per_host=job.per_host, ssl=job.ssl_context()
        )
        self.session = a.ClientSession(
            connector=connector, timeout=a.ClientTimeout(total=job.timeout)
        )

    async def get(self, url: str) -> tuple[int, bytes]:
        async with self.session.get(url) as r:
            return r.status, await r.read()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


class Pyreqwest(AsyncCrawler):
    """pyreqwest `ClientBuilder().add_root_certificate_pem(ca).max_connections(cap)
    .timeout(t)`: reqwest's `max_connections` bounds requests in flight, not sockets (hyper's
    pool keeps idle connections per host, 90 s by default)."""

    def __init__(self, job: Job):
        super().__init__(job)
        client = require("pyreqwest.client")
        self.client = (
            client.ClientBuilder()
            .add_root_certificate_pem(Path(job.ca_file).read_bytes())
            .max_connections(job.cap)
            .timeout(timedelta(seconds=job.timeout))
            .build()
        )

    async def get(self, url: str) -> tuple[int, bytes]:
        r = await self.client.get(url).build().send()
        return r.status, bytes(await r.bytes())

    async def close(self) -> None:
        await self.client.close()


async def crawl_async(crawler: AsyncCrawler, job: Job, tally: Tally) -> str:
    """`job.concurrency` tasks take URLs from one list; return "ok" or "timeout"."""
    urls = iter(job.urls)

    async def worker() -> None:
        for url in urls:  # shared: each URL goes to exactly one task
            try:
                status, body = await crawler.get(url)
            except Exception as exc:  # noqa: BLE001 - a failed request is a result
                tally.exception(exc)
                continue
            tally.response(status, body)

    tasks = [asyncio.ensure_future(worker()) for _ in range(job.concurrency)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=job.deadline)
    except asyncio.TimeoutError:
        return "timeout"
    return "ok"


def run_async(factory: Callable[[Job], AsyncCrawler], job: Job, tally: Tally) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        crawler = factory(job)
        await crawler.open()
        try:
            wait_for_go()
            c0, t0 = time.process_time(), time.perf_counter()
            status = await crawl_async(crawler, job, tally)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        finally:
            try:
                await asyncio.wait_for(crawler.close(), timeout=10)
            except Exception as exc:  # noqa: BLE001 - reported, the numbers stand
                tally.error("close:" + exc_name(exc), str(exc))
        return {"status": status, "wall": wall, "cpu": cpu}

    out: dict[str, Any] = asyncio.run(main())
    return out


# --------------------------------------------------------------------------------------
# httpcore_fast's sync pool, shared by `job.threads` threads


def run_fast_sync(job: Job, tally: Tally) -> dict[str, Any]:
    """`ConnectionPool(ssl_context=..., max_connections=cap)`, `job.threads` threads."""
    fast = require_fast()
    pool = fast.ConnectionPool(ssl_context=job.ssl_context(), max_connections=job.cap)
    t = job.timeout
    ext = {"timeout": {"connect": t, "read": t, "write": t, "pool": t}}
    urls = iter(job.urls)
    take = threading.Lock()
    go = threading.Event()
    end = [0.0]

    profiles: list[cProfile.Profile] = []

    def worker() -> None:
        if PROFILE_DIR:
            profile = cProfile.Profile(time.thread_time)
            profiles.append(profile)
            profile.enable()
        go.wait(60)
        crawl()
        if PROFILE_DIR:
            profile.disable()

    def crawl() -> None:
        for _ in range(len(job.urls)):  # bounded; stops when the list is empty
            with take:
                url = next(urls, None)
            if url is None or time.monotonic() > end[0]:
                return
            try:
                r = pool.request(b"GET", url, extensions=ext)
            except Exception as exc:  # noqa: BLE001 - a failed request is a result
                tally.exception(exc)
                continue
            tally.response(r.status, r.content)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(job.threads)]
    for th in threads:
        th.start()
    wait_for_go()
    c0, t0 = time.process_time(), time.perf_counter()
    end[0] = time.monotonic() + job.deadline
    go.set()
    for th in threads:
        th.join(timeout=max(0.1, end[0] - time.monotonic()))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    hung = any(th.is_alive() for th in threads)
    if not hung:
        save_pool_stats(pool, job)
        pool.close()
    if PROFILE_DIR and profiles:
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(profile_path(job))
    timed_out = hung or time.monotonic() > end[0]
    return {"status": "timeout" if timed_out else "ok", "wall": wall, "cpu": cpu}


# --------------------------------------------------------------------------------------
# pycurl's multi interface


def run_pycurl_multi(job: Job, tally: Tally) -> dict[str, Any]:
    """`CurlMulti` with `M_MAXCONNECTS` (its connection cache) and `M_MAX_TOTAL_CONNECTIONS`
    at the cap and `M_MAX_HOST_CONNECTIONS` at the per-host limit; `job.concurrency` easy
    handles, each reused for the next URL when its transfer ends (libcurl keeps connections
    and TLS sessions in the multi handle); driven with perform / info_read / select."""
    pycurl = require("pycurl")
    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAXCONNECTS, job.cap)
    multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, job.cap)
    multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, job.per_host)
    free: list[Any] = []
    chunks: dict[int, list[bytes]] = {}
    for _ in range(job.concurrency):
        c = pycurl.Curl()
        buf: list[bytes] = []
        chunks[id(c)] = buf
        c.setopt(pycurl.WRITEFUNCTION, buf.append)
        c.setopt(pycurl.CAINFO, job.ca_file)
        c.setopt(pycurl.TIMEOUT_MS, int(job.timeout * 1000))
        c.setopt(pycurl.NOSIGNAL, 1)
        free.append(c)
    handles = list(free)
    urls = iter(job.urls)
    wait_for_go()
    c0, t0 = time.process_time(), time.perf_counter()
    end = time.monotonic() + job.deadline
    status, active = "ok", 0
    for _ in range(100 * len(job.urls) + 100_000):  # bounded; normally ends on the list
        while free:
            url = next(urls, None)
            if url is None:
                break
            c = free.pop()
            chunks[id(c)].clear()
            c.setopt(pycurl.URL, url)
            multi.add_handle(c)
            active += 1
        if not active:
            break
        if time.monotonic() > end:
            status = "timeout"
            break
        multi.select(0.05)
        for _ in range(1000):  # bounded: until libcurl has no more to do right now
            ret, _ = multi.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break
        for _ in range(len(handles) + 1):  # bounded: every finished transfer
            queued, ok_list, err_list = multi.info_read()
            for c in ok_list:
                multi.remove_handle(c)
                tally.response(c.getinfo(pycurl.RESPONSE_CODE), b"".join(chunks[id(c)]))
                free.append(c)
                active -= 1
            for c, errno, message in err_list:
                multi.remove_handle(c)
                tally.error(f"pycurl.error({errno})", message)
                free.append(c)
                active -= 1
            if not queued:
                break
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    for c in handles:
        if c not in free:
            multi.remove_handle(c)
        c.close()
    multi.close()
    return {"status": status, "wall": wall, "cpu": cpu}


# --------------------------------------------------------------------------------------
# The registry: client key -> (label, how it runs). crawl.py lists and labels them.


def _async(factory: Callable[[Job], AsyncCrawler]) -> Callable[[Job, Tally], dict[str, Any]]:
    return lambda job, tally: run_async(factory, job, tally)


CLIENTS: dict[str, tuple[str, Callable[[Job, Tally], dict[str, Any]]]] = {
    "fast-async": ("httpcore_fast (asyncio)",
                   _async(lambda job: HttpcorePool(job, "httpcore_fast"))),
    "fast-async-alt": ("httpcore_fast (asyncio, --alt-tree)",
                       _async(lambda job: HttpcorePool(job, "httpcore_fast"))),
    "fast-sync": ("httpcore_fast (sync, threads)", run_fast_sync),
    "httpx-fast": ("httpx on httpcore_fast", _async(lambda job: Httpx(job, on_fast=True))),
    "httpcore": ("httpcore 1.0.9", _async(lambda job: HttpcorePool(job, "httpcore"))),
    "httpcore2": ("httpcore2", _async(lambda job: HttpcorePool(job, "httpcore2"))),
    "httpx": ("httpx", _async(lambda job: Httpx(job, on_fast=False))),
    "aiohttp": ("aiohttp", _async(Aiohttp)),
    "pyreqwest": ("pyreqwest (async)", _async(Pyreqwest)),
    "pycurl-multi": ("pycurl multi", run_pycurl_multi),
}  # fmt: skip


PROFILE_DIR = os.environ.get("CRAWL_PROFILE", "")
ALT_TREE = os.environ.get("CRAWL_ALT_TREE", "")  # only for the fast-async-alt client
STATS_DIR = os.environ.get("CRAWL_STATS", "") or PROFILE_DIR


def profile_path(job: Job) -> str:
    return os.path.join(PROFILE_DIR, f"{job.client}-cap{job.cap}.prof")


def save_pool_stats(pool: Any, job: Job) -> None:
    """With CRAWL_STATS (or CRAWL_PROFILE): httpcore_fast's ``pool.stats().total`` at the end
    of the crawl, as ``<dir>/<client>-cap<cap>.stats.json`` (why connections were opened and
    closed)."""
    if STATS_DIR and hasattr(pool, "stats"):
        total = dataclasses.asdict(pool.stats().total)
        path = os.path.join(STATS_DIR, f"{job.client}-cap{job.cap}.stats.json")
        with open(path, "w") as out:
            json.dump(total, out, indent=1)


def main() -> int:
    global ALT_TREE
    job = Job(**json.loads(sys.stdin.readline()))
    if job.client != "fast-async-alt":
        ALT_TREE = ""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # room for a big pool
    tally = Tally()
    result: dict[str, Any]
    run = CLIENTS[job.client][1]
    try:
        if PROFILE_DIR and job.client != "fast-sync":  # fast-sync profiles its threads
            profile = cProfile.Profile(time.thread_time)
            result = profile.runcall(run, job, tally)
            profile.dump_stats(profile_path(job))
        else:
            result = run(job, tally)
    except ClientUnavailable as exc:
        result = {"status": "unavailable", "note": str(exc)}
    except Exception as exc:  # noqa: BLE001 - reported to crawl.py, which goes on
        result = {"status": "error", "note": f"{exc_name(exc)}: {exc}"[:300]}
    result.update(ok=tally.ok, failed=dict(tally.failed), examples=tally.examples)
    print(RESULT + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

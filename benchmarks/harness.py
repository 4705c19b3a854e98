"""The harness: jobs, adapters' interface, verification, timed runners, rounds.

A client is an adapter (`SyncAdapter` or `AsyncAdapter`, implemented in clients.py) that can
fetch a URL whole (for verification), return a fast "get" callable that fetches and returns
the body length (the timed loops), and stream a large body chunk by chunk. A `ClientSpec`
names a client and says which scenario kinds it can do. For each scenario, round and client,
`run_rounds` builds a `Job` and `run_client` picks the runner for the scenario's kind: the
runners build everything outside the timed region, verify, warm up, collect garbage, then
time a bounded number of requests, and finally check the bytes the timed loop read.

Every loop is bounded in count; a client run is bounded in time by its deadline (threads and
tasks check it, asyncio/trio runs are wrapped in `wait_for` / `fail_after`) with `SIGALRM`
as the backstop.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import os
import signal
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from nginx import NginxServer
from scenarios import BIG_SIZE, BODY_KINDS, SMALL_BODY, SYNC_KINDS, Scenario

REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------
# What a client is given (a Job) and what it implements (an adapter, a spec)


class ClientUnavailable(Exception):
    """The client can't run here (not installed, or the library lacks the API yet)."""


class VerificationError(Exception):
    """The client returned a wrong response."""


class ClientTimeout(Exception):
    """The client run passed its deadline (--client-timeout)."""


def require(module: str) -> Any:
    """Import an optional peer, or say why it is unavailable."""
    try:
        return importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure means "unavailable"
        raise ClientUnavailable(f"{type(exc).__name__}: {exc}") from exc


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
    h2c_port: int | None = None  # nginx's cleartext HTTP/2 port (prior knowledge)

    @property
    def h2(self) -> bool:
        """HTTP/2 only (`http1=False`): over TLS (ALPN h2), or cleartext when `h2c`."""
        return self.sc.http2

    @property
    def h2c(self) -> bool:
        return self.sc.http2 and self.sc.h2c

    @property
    def tls(self) -> bool:
        """Over nginx's TLS server: HTTP/2 (unless h2c), or HTTP/1.1 for a scenario with
        `tls`."""
        return (self.h2 and not self.h2c) or self.sc.tls

    def _origin(self) -> str:
        if self.tls:
            return f"https://localhost:{self.tls_port}"
        if self.h2c:
            if self.h2c_port is None:
                raise ClientUnavailable("no h2c server (see the note at the start)")
            return f"http://{self.host}:{self.h2c_port}"
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self._origin() + self.sc.path

    @property
    def warm_url(self) -> str:
        """A small response on the same origin (opens and warms the connection)."""
        return self._origin() + "/small"

    def ssl_context(self) -> ssl.SSLContext:
        if self.ca_pem is None:
            raise ClientUnavailable("no TLS server (see the note at the start)")
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def remaining(self) -> float:
        return max(0.1, self.deadline - time.monotonic())


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
    """Base for async clients (asyncio, and trio where the library runs on it). The spec's
    factory builds it inside the event loop; `open` is awaited before use, `close` after.
    `task_getter` is called once per concurrent task (the timed path); `full` the verified
    one; `download` as in SyncAdapter."""

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


class DrivenAdapter:
    """Base for clients that drive their own concurrency without an event loop: pycurl's
    `CurlMulti`, the h2load tool. They do the concurrent kinds (async, h2): `run(url,
    count)` completes `count` requests with `job.sc.concurrency` in flight and returns the
    body bytes read. `verify` checks one response (default: `full` and the usual checks);
    `timed_run` may measure itself (an external tool reports its own time and CPU)."""

    def full(self, url: str) -> tuple[int, bytes, int | None, str | None]:
        raise NotImplementedError

    def verify(self, name: str, job: Job) -> None:
        status, body, nh, ver = self.full(job.url)
        _check(name, job.sc, status, body, nh, ver)

    def run(self, url: str, count: int) -> int:
        raise NotImplementedError

    def timed_run(self, url: str, count: int) -> tuple[float, float, int] | None:
        """(wall s, CPU s, body bytes) if the client times itself, else None."""
        return None

    def close(self) -> None:
        pass


@dataclass
class ClientSpec:
    """One client of the comparison (a row of clients.CLIENTS): its `--clients` key, its
    label in the report, the factories of its sync and async adapters, and the scenario
    kinds (scenarios.py) it can do."""

    key: str
    label: str
    sync: Callable[[Job], SyncAdapter] | None
    aio: Callable[[Job], AsyncAdapter] | None
    kinds: frozenset[str]
    optional: bool  # optional peers are skipped with a note if not importable
    async_label: str = ""
    skip: frozenset[str] = frozenset()  # scenario names it can't do
    driven: Callable[[Job], DrivenAdapter] | None = None  # replaces `aio` when set

    def supports(self, sc: Scenario) -> bool:
        return sc.kind in self.kinds and sc.name not in self.skip

    def label_for(self, sc: Scenario) -> str:
        return self.async_label if self.async_label and sc.kind not in SYNC_KINDS else self.label


# --------------------------------------------------------------------------------------
# Verification and the timed runners, one per scenario kind


def _check(
    name: str,
    sc: Scenario,
    status: int,
    body: bytes | None,
    n_headers: int | None,
    version: str | None = None,
    url_path: str | None = None,
) -> None:
    want_body: bytes | None
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
    if sc.http2 and version is not None and "2" not in str(version):  # "HTTP/2(.0)"
        raise VerificationError(f"{name}: response came over {version!r}, not HTTP/2")
    if sc.http2 and version is None:  # every HTTP/2 adapter must say what it spoke
        raise VerificationError(f"{name}: adapter did not report the HTTP version")
    if not sc.http2 and version is not None and "2" in str(version):
        raise VerificationError(f"{name}: response came over {version!r}, not HTTP/1.1")


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
            if job.sc.kind in BODY_KINDS
            else _concurrent(name, factory, job, _asyncio_gather)
        )
        try:
            return await asyncio.wait_for(coro, timeout=job.remaining())
        except asyncio.TimeoutError as exc:
            raise ClientTimeout("passed the client deadline") from exc

    if job.sc.loop == "uvloop":
        uvloop = require("uvloop")
        if hasattr(asyncio, "Runner"):  # 3.11+
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(main())
        loop = uvloop.new_event_loop()  # pragma: no cover - Python 3.10
        try:
            asyncio.set_event_loop(loop)
            return loop.run_until_complete(main())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
    return asyncio.run(main())


def run_trio(name: str, factory: Callable[[Job], AsyncAdapter], job: Job) -> tuple[float, float]:
    trio = require("trio")

    async def main() -> tuple[float, float]:
        try:
            with trio.fail_after(job.remaining()):
                return await _concurrent(name, factory, job, _trio_gather)
        except trio.TooSlowError as exc:
            raise ClientTimeout("passed the client deadline") from exc

    result: tuple[float, float] = trio.run(main)
    return result


def run_driven(name: str, ad: DrivenAdapter, job: Job) -> tuple[float, float]:
    """The concurrent kinds for a client that drives its own concurrency: verify, warm up
    (`warmup` requests with the full concurrency, so the connections are open), then time
    `n` requests (rounded down to a multiple of the concurrency, as the task runners do)."""
    ad.verify(name, job)
    c = job.sc.concurrency
    per, warm = job.n // c, max(1, job.warmup // c)
    ad.run(job.url, warm * c)
    measured = ad.timed_run(job.url, per * c)
    if measured is None:
        wall, cpu, got = _timed(lambda: ad.run(job.url, per * c))
    else:
        wall, cpu, got = measured
    _check_total(name, got, per * c * job.sc.body_len)
    return wall, cpu


def run_client(spec: ClientSpec, job: Job) -> tuple[float, float]:
    name = spec.label_for(job.sc)
    kind = job.sc.kind
    if spec.driven is not None:
        ad_d = spec.driven(job)
        try:
            return run_driven(name, ad_d, job)
        finally:
            ad_d.close()
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
    if job.sc.kind in BODY_KINDS:
        return job.n * BIG_SIZE / 1e6
    c = job.sc.concurrency
    return float((job.n // c) * c)


def n_for(sc: Scenario, args: argparse.Namespace) -> tuple[int, int]:
    """(timed requests or downloads, warm-up requests) for one client run."""
    if sc.kind in BODY_KINDS:
        return args.big_downloads, 0
    if sc.kind == "threads":
        # The fast clients do 30-60k req/s here: twice as many, so a run lasts long enough.
        return 2 * args.requests, args.warmup
    return max(sc.concurrency, args.requests), args.warmup


# --------------------------------------------------------------------------------------
# Rounds


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


def run_rounds(
    args: argparse.Namespace,
    scenarios: list[Scenario],
    selected: list[ClientSpec],
    server: NginxServer,
) -> tuple[dict[str, dict[str, Result]], str]:
    """Start `server`, run every round (each scenario, each client that supports it, in an
    order rotated each round), and always clean the server up. Return the results by
    scenario name and client key, and why the run stopped early ("" if it did not)."""
    old_term = signal.signal(signal.SIGTERM, _on_term)
    old_alarm = signal.signal(signal.SIGALRM, _on_alarm)
    started = time.monotonic()
    results: dict[str, dict[str, Result]] = {}
    truncated = ""
    said: set[tuple[str, str]] = set()
    try:
        server.start()
        tls = f", TLS+HTTP/2 on :{server.tls_port}" if server.tls_port else ""
        tls += f", h2c on :{server.h2c_port}" if server.h2c_port else ""
        print(
            f"server      {server.version}, 1 worker, 127.0.0.1:{server.port}{tls}, "
            f"keep-alive (temp dir {server.tmp})"
        )
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
                n, warmup = n_for(sc, args)
                per = [c for c in selected if c.supports(sc)]
                # Rotate the order each round so no client always runs first or last.
                order = per[r % len(per) :] + per[: r % len(per)] if per else []
                for spec in order:
                    res = results[sc.name][spec.key]
                    if res.status != "ok":
                        continue
                    job = Job(
                        "127.0.0.1",
                        server.port,
                        sc,
                        n,
                        warmup,
                        verify=not res.verified,
                        deadline=time.monotonic() + args.client_timeout,
                        tls_port=server.tls_port,
                        ca_pem=server.ca_pem,
                        big_crc=server.big_crc,
                        h2c_port=server.h2c_port,
                    )
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
            print(
                f"round {r + 1}/{args.rounds} done ({time.monotonic() - started:.0f}s)", flush=True
            )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_alarm)
        signal.signal(signal.SIGTERM, old_term)
        server.cleanup()
    return results, truncated

#!/usr/bin/env python3
"""Crawl benchmark: many origins through one pool, over TLS, against servers that drop idle
connections (issue 14, point 9).

One nginx serves `--origins` origins on 127.0.0.1 (one port each, every other one HTTPS with
a throw-away CA that every client trusts), each closing idle keep-alive connections after its
own timeout (100 ms to 75 s). Each client fetches `--requests` URLs spread evenly over the
origins in a seeded shuffled order, `--concurrency` in flight (the sync client: `--threads`
threads), once with a pool cap below the number of origins and once with a cap that keeps
idle connections (`--caps`). Reported per client: throughput, failed requests by exception
type, connections opened, requests per connection, peak open sockets, TLS handshakes and how
many resumed a session, CPU per request; then the issue's targets, and a JSON file.

    python benchmarks/crawl.py --quick      # about a minute: one round
    python benchmarks/crawl.py              # 3 rounds (a few minutes)
    python benchmarks/crawl.py --help
    # before/after in one run: an older httpcore_fast copied to /tmp/base/httpcore_fast
    python benchmarks/crawl.py --clients fast-async,fast-async-alt --alt-tree /tmp/base \
        --stats /tmp/stats      # + pool.stats() of each httpcore_fast run, unprofiled

How it measures (benchmarks/README.md, "The crawl", says more): every client run is a fresh
process (crawl_clients.py) pinned to the client CPU, nginx to the other one, and this process
(which only samples and counts) beside nginx. Connections and TLS resumption are counted by
nginx (stub_status accepts, an access log with `$connection` and `$ssl_session_reused`), so
every client is measured the same way; open sockets are sampled from the worker's
/proc/<pid>/fd. Every run has a deadline: a client that passes it is stopped by its PID and
reported as "timeout" (partial counts) or "hung" (no answer at all). The server side is in
crawl_server.py, the clients in crawl_clients.py.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from crawl_clients import CLIENTS, GO, READY, RESULT
from crawl_server import CrawlNginx, Origin
from nginx import _die_with_parent, find_nginx
from report import RESULTS_DIR, git_commit, machine, peer_versions

HERE = Path(__file__).resolve().parent
WORKER = HERE / "crawl_clients.py"
FAST_KEY = "fast-async"  # the httpcore_fast client the targets are about
FAST_KEYS = ("fast-async", "fast-sync", "httpx-fast")
DEFAULT_CLIENTS = [k for k in CLIENTS if k not in ("httpx-fast", "fast-async-alt")]
QUICK_CLIENTS = ["fast-async", "fast-sync", "aiohttp", "pyreqwest", "pycurl-multi", "httpcore"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Crawl many loopback origins (half HTTPS, varied idle timeouts) with "
        "httpcore_fast and its peers; count connections and TLS resumption on the server."
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="about a minute: 1 round, fewer clients, a 15 s deadline per run",
    )
    p.add_argument("--origins", type=int, default=200, help="origins (half HTTPS; default 200)")
    p.add_argument(
        "--requests",
        "-n",
        type=int,
        help="GETs per client run, spread evenly over the origins (default 4000)",
    )
    p.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    p.add_argument(
        "--threads",
        type=int,
        default=16,
        help="threads of httpcore_fast's sync client (default 16)",
    )
    p.add_argument(
        "--caps",
        default="64,1000",
        help="pool caps, comma list (default 64,1000: below and above the origins)",
    )
    p.add_argument(
        "--per-host",
        type=int,
        default=10,
        help="per-origin connection limit where a client has one (aiohttp "
        "limit_per_host, libcurl MAX_HOST_CONNECTIONS; default 10)",
    )
    p.add_argument("--rounds", "-r", type=int, help="rounds (default 3, --quick 1)")
    p.add_argument(
        "--clients",
        help=f"comma list of {', '.join(CLIENTS)} "
        f"(default: all but httpx-fast; --quick: {','.join(QUICK_CLIENTS)})",
    )
    p.add_argument("--seed", type=int, default=14, help="seed of the order and the timeouts")
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="per-request timeout given to every client, seconds (default 10)",
    )
    p.add_argument(
        "--client-timeout",
        type=float,
        help="seconds one client run's crawl may take (default 60, --quick 15)",
    )
    p.add_argument(
        "--budget",
        type=float,
        help="stop starting rounds after this many seconds (default 900, --quick 75)",
    )
    p.add_argument(
        "--sample-ms",
        type=float,
        default=10.0,
        help="how often the worker's open sockets are counted (default 10 ms)",
    )
    p.add_argument("--nginx", help="path to the nginx binary (default: from PATH)")
    p.add_argument("--no-pin", action="store_true", help="don't pin client and server to CPUs")
    p.add_argument(
        "--start-timeout", type=float, default=20.0, help="seconds to wait for nginx to answer"
    )
    p.add_argument(
        "--json", help="write JSON here instead of benchmarks/results/crawl-<stamp>.json"
    )
    p.add_argument("--no-json", action="store_true", help="don't write a JSON file")
    p.add_argument(
        "--profile",
        help="run each client under cProfile, writing <dir>/<client>-cap<cap>.prof "
        "(slower: its numbers are not comparable)",
    )
    p.add_argument(
        "--stats",
        help="write httpcore_fast's pool.stats().total at the end of each of its runs to "
        "<dir>/<client>-cap<cap>.stats.json (without --profile's cost)",
    )
    p.add_argument(
        "--alt-tree",
        help="the fast-async-alt client imports httpcore_fast from this directory (a copy "
        "of another commit): a before/after comparison in one run",
    )
    args = p.parse_args(argv)
    quick = args.quick
    for name, full, short in (
        ("requests", 4000, 4000),
        ("rounds", 3, 1),
        ("client_timeout", 60.0, 15.0),
        ("budget", 900.0, 75.0),
    ):
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    if args.clients is None:
        args.clients = ",".join(QUICK_CLIENTS if quick else DEFAULT_CLIENTS)
    args.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in args.clients:
        if c not in CLIENTS:
            p.error(f"unknown client {c!r}; choose from {', '.join(CLIENTS)}")
    try:
        args.caps = [int(c) for c in args.caps.split(",") if c.strip()]
    except ValueError:
        p.error("--caps takes integers, e.g. 64,1000")
    # Bounds: every loop is finite and so is the run.
    args.origins = max(2, min(args.origins, 5000))
    args.requests = max(args.origins, min(args.requests, 1_000_000))
    args.concurrency = max(1, min(args.concurrency, 1000))
    args.threads = max(1, min(args.threads, 256))
    args.rounds = max(1, min(args.rounds, 50))
    args.caps = [max(1, min(c, 100_000)) for c in args.caps] or [64, 1000]
    args.sample_ms = max(1.0, args.sample_ms)
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        os.environ["CRAWL_PROFILE"] = os.path.abspath(args.profile)  # the workers inherit it
    if args.alt_tree:
        os.environ["CRAWL_ALT_TREE"] = os.path.abspath(args.alt_tree)
    if args.stats:
        os.makedirs(args.stats, exist_ok=True)
        os.environ["CRAWL_STATS"] = os.path.abspath(args.stats)
    return args


# --------------------------------------------------------------------------------------
# The plan: URLs in crawl order


def crawl_urls(origins: list[Origin], n: int, seed: int, tag: str) -> list[str]:
    """n GETs spread evenly over the origins (the first n % len(origins) get one more), in
    an order shuffled with `seed` (the same order for every client), under the run's tag."""
    picks = [origins[i % len(origins)] for i in range(n)]
    random.Random(seed).shuffle(picks)
    return [f"{o.base}/c/{tag}/{k}" for k, o in enumerate(picks)]


# --------------------------------------------------------------------------------------
# One client run in a worker process


def socket_inodes(pid: int) -> set[str]:
    """The sockets a process holds (`socket:[inode]` links in /proc/<pid>/fd)."""
    out: set[str] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for name in names:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if link.startswith("socket:"):
            out.add(link)
    return out


class Worker:
    """A crawl_clients.py process pinned to `cpu`, spoken to in lines (see its docstring)."""

    def __init__(self, cpu: int | None, stderr_path: Path):
        def setup() -> None:  # in the child before exec
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            _die_with_parent()

        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=str(HERE.parent),
                start_new_session=True,
                preexec_fn=setup,
            )
        self.buf = b""

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def read_line(self, timeout: float) -> str | None:
        """The next line from the worker, or None if none came within `timeout` s (or the
        worker exited)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        end = time.monotonic() + timeout
        for _ in range(100_000):  # bounded: each pass reads or waits
            if b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                return line.decode(errors="replace")
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None
                self.buf += chunk
        return None

    def stop(self) -> None:
        """Kill the worker by its PID if it is still running, and reap it."""
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass

    def stderr_tail(self) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace").strip()
        except OSError:
            return ""
        return text.splitlines()[-1][:300] if text else ""


def run_client(
    args: argparse.Namespace,
    server: CrawlNginx,
    client: str,
    cap: int,
    tag: str,
    client_cpu: int | None,
) -> dict[str, Any]:
    """Crawl once with `client` at pool cap `cap`; return the run's record."""
    urls = crawl_urls(server.origins, args.requests, args.seed, tag)
    job = {
        "client": client,
        "urls": urls,
        "cap": cap,
        "per_host": args.per_host,
        "concurrency": args.concurrency,
        "threads": args.threads,
        "ca_file": str(server.ca_file),
        "timeout": args.timeout,
        "deadline": args.client_timeout,
    }
    rec: dict[str, Any] = {"client": client, "cap": cap, "tag": tag, "peak_sockets": 0}
    offset = server.log_size()
    accepts0 = server.accepts()
    worker = Worker(client_cpu, server.tmp / f"worker-{tag}.err")
    line: str | None = None
    try:
        try:
            worker.send(json.dumps(job))
            line = _next_protocol_line(worker, timeout=60.0)
            if line == READY:
                baseline = socket_inodes(worker.proc.pid)
                worker.send(GO)
                line = _sample_until_result(worker, baseline, rec, args)
        except BrokenPipeError:  # the worker died; its stderr says why
            rec.update(status="error", note="")
        if line is not None and line.startswith(RESULT):
            rec.update(json.loads(line[len(RESULT) :]))
        elif rec.get("status") != "error":
            rec.update(
                status="hung",
                note="no result within the deadline (crawl "
                f"{args.client_timeout:.0f}s + 15s); killed. {worker.stderr_tail()}",
            )
    finally:
        worker.stop()
    if rec.get("status") == "error" and not rec.get("note"):
        rec["note"] = worker.stderr_tail()
    if rec.get("status") == "timeout":
        done = rec.get("ok", 0) + sum(rec.get("failed", {}).values())
        rec["note"] = f"passed the {args.client_timeout:g}s deadline after {done} of {len(urls)}"
    if rec.get("status") in ("ok", "timeout", "hung"):
        counts = server.read_log(offset, tag, expect=int(rec.get("ok", 0)))
        rec.update(
            accepted=server.accepts() - accepts0 - 1,  # minus the second probe itself
            served=counts.requests,
            connections=counts.connections,
            tls_connections=counts.tls_connections,
            resumed=counts.resumed,
            statuses=counts.statuses,
        )
        if rec.get("wall"):
            rec["req_s"] = rec["ok"] / rec["wall"]
            rec["cpu_us_per_req"] = rec["cpu"] / max(1, rec["ok"]) * 1e6
    return rec


def _next_protocol_line(worker: Worker, timeout: float) -> str | None:
    """The next READY or RESULT line (a library may print other lines; they are skipped)."""
    end = time.monotonic() + timeout
    for _ in range(10_000):  # bounded
        line = worker.read_line(max(0.0, end - time.monotonic()))
        if line is None or line == READY or line.startswith(RESULT):
            return line
    return None


def _sample_until_result(
    worker: Worker, baseline: set[str], rec: dict[str, Any], args: argparse.Namespace
) -> str | None:
    """Count the worker's new sockets every --sample-ms until its RESULT line comes, or the
    deadline (the crawl's, plus 15 s for closing the client) passes."""
    pid, step = worker.proc.pid, args.sample_ms / 1000.0
    end = time.monotonic() + args.client_timeout + 15.0
    peak = 0
    for _ in range(int((args.client_timeout + 15.0) / step) + 10):  # bounded, and by `end`
        peak = max(peak, len(socket_inodes(pid) - baseline))
        rec["peak_sockets"] = peak
        line = worker.read_line(min(step, max(0.0, end - time.monotonic())))
        if line is not None and (line == READY or line.startswith(RESULT)):
            return line
        exited = worker.proc.poll() is not None and b"\n" not in worker.buf
        if exited or time.monotonic() > end:
            return worker.read_line(0.5)
    return None


# --------------------------------------------------------------------------------------
# Rounds, summary, tables, targets, JSON


def pin(no_pin: bool) -> tuple[int | None, int | None, str]:
    """(client CPU, server CPU, description). This process goes beside nginx: it only
    samples and counts, and the client CPU stays the worker's alone."""
    if no_pin or not hasattr(os, "sched_setaffinity"):
        return None, None, "no pinning"
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None, f"no pinning (only CPU {cpus} available)"
    os.sched_setaffinity(0, {cpus[1]})
    return cpus[0], cpus[1], f"client on CPU {cpus[0]}, nginx and the sampler on CPU {cpus[1]}"


def run_rounds(
    args: argparse.Namespace, server: CrawlNginx, client_cpu: int | None
) -> tuple[list[dict[str, Any]], str]:
    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    dropped: set[str] = set()  # clients that are unavailable here
    truncated = ""
    for r in range(args.rounds):
        if time.monotonic() - started > args.budget:
            truncated = f"stopped after {r} rounds: --budget {args.budget:.0f}s exceeded"
            print(f"note: {truncated}")
            break
        order = args.clients[r % len(args.clients) :] + args.clients[: r % len(args.clients)]
        for cap in args.caps:
            for client in order:
                if client in dropped:
                    continue
                tag = f"r{r}-c{cap}-{client}"
                rec = run_client(args, server, client, cap, tag, client_cpu)
                rec["round"] = r
                runs.append(rec)
                status = rec.get("status")
                if status == "unavailable":
                    dropped.add(client)
                    print(f"{CLIENTS[client][0]}: unavailable ({rec.get('note', '')})")
                elif status != "ok":
                    print(f"{CLIENTS[client][0]} at cap {cap}: {status} ({rec.get('note', '')})")
        print(f"round {r + 1}/{args.rounds} done ({time.monotonic() - started:.0f}s)", flush=True)
    return runs, truncated


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(runs: list[dict[str, Any]], caps: list[int], clients: list[str]) -> dict[str, Any]:
    """Per cap and client: medians over rounds (throughput, connections, TLS), failures
    summed over rounds, the peak of open sockets over rounds."""
    out: dict[str, Any] = {}
    for cap in caps:
        per: dict[str, Any] = {}
        for client in clients:
            mine = [r for r in runs if r["cap"] == cap and r["client"] == client]
            if not mine:
                continue
            measured = [r for r in mine if "req_s" in r]
            failed: dict[str, int] = {}
            examples: dict[str, str] = {}
            for r in mine:
                for k, v in r.get("failed", {}).items():
                    failed[k] = failed.get(k, 0) + v
                for k, v in r.get("examples", {}).items():
                    examples.setdefault(k, v)
            statuses = sorted({r.get("status", "?") for r in mine})
            row: dict[str, Any] = {
                "label": CLIENTS[client][0],
                "status": "ok" if statuses == ["ok"] else ",".join(statuses),
                "note": next((r["note"] for r in mine if r.get("note")), ""),
                "rounds": len(mine),
                "failed": sum(failed.values()),
                "failed_by_type": failed,
                "failure_examples": examples,
            }
            if measured:
                samples = [r["req_s"] for r in measured]
                conns = [float(r["accepted"]) for r in measured]
                per_conn = [r["served"] / r["accepted"] for r in measured if r["accepted"]]
                tls = [float(r["tls_connections"]) for r in measured]
                resumed = [float(r["resumed"]) for r in measured]
                row.update(
                    req_s=statistics.median(samples),
                    req_s_min=min(samples),
                    req_s_max=max(samples),
                    samples=samples,
                    connections_opened=_median(conns),
                    requests_per_connection=_median(per_conn),
                    peak_sockets=max(r["peak_sockets"] for r in measured),
                    tls_handshakes=_median(tls),
                    tls_resumed=_median(resumed),
                    cpu_us_per_req=_median([r["cpu_us_per_req"] for r in measured]),
                )
            per[client] = row
        out[str(cap)] = per
    return out


def print_tables(summary: dict[str, Any], args: argparse.Namespace) -> None:
    https = args.origins // 2
    for cap, per in summary.items():
        kind = "below" if int(cap) < args.origins else "above"
        print()
        print(
            f"== crawl, pool cap {cap} ({kind} the {args.origins} origins, {https} HTTPS): "
            f"{args.requests} GETs, {args.concurrency} in flight, {args.rounds} round(s)"
        )
        head = (
            f"{'client':<31}{'req/s median':>13}{'min':>7}{'max':>7}{'failed':>8}"
            f"{'opened':>8}{'req/conn':>9}{'peak socks':>11}{'TLS hs':>8}{'resumed':>8}"
            f"{'CPU µs/req':>11}"
        )
        print(head)
        print("-" * len(head))
        order = sorted(per, key=lambda k: -per[k].get("req_s", -1.0))
        for key in order:
            row = per[key]
            mark = "*" if key in FAST_KEYS else " "
            if "req_s" not in row:
                print(f"{mark}{row['label']:<30}  {row['status']}: {row['note'][:90]}")
                continue
            status = "" if row["status"] == "ok" else f"  ({row['status']})"
            print(
                f"{mark}{row['label']:<30}{row['req_s']:>13.0f}{row['req_s_min']:>7.0f}"
                f"{row['req_s_max']:>7.0f}{row['failed']:>8}{row['connections_opened']:>8.0f}"
                f"{row['requests_per_connection'] or 0:>9.1f}{row['peak_sockets']:>11}"
                f"{row['tls_handshakes']:>8.0f}{row['tls_resumed']:>8.0f}"
                f"{row['cpu_us_per_req']:>11.0f}{status}"
            )
        for key in order:
            row = per[key]
            if row["failed"]:
                kinds = "; ".join(
                    f"{n} x {name} ({row['failure_examples'].get(name, '')[:70]!r})"
                    for name, n in sorted(row["failed_by_type"].items(), key=lambda kv: -kv[1])
                )
                print(f"  failed, {row['label']}: {kinds}")
    print()
    print(
        "* = httpcore_fast. req/s: responses checked OK per second of the crawl (median over "
        "rounds); failed: summed over rounds; opened: TCP connections nginx accepted; "
        "req/conn: requests per opened connection; peak socks: most sockets the client "
        f"process held at once (sampled every {args.sample_ms:g} ms, max over rounds); TLS hs "
        "/ resumed: TLS connections that carried requests / of them resumed a session "
        "(nginx's $ssl_session_reused); CPU: the client process, all threads."
    )


def _target(text: str, verdict: str, why: str = "", ratio: float | None = None) -> dict[str, Any]:
    return {"target": text, "verdict": verdict, "ratio": ratio, "why": why}


def evaluate_targets(summary: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Issue 14's targets for the crawl, on httpcore_fast's asyncio pool (and zero failures
    for both of its pools). The capped run is the smallest cap below the number of origins,
    the idle-kept run the largest cap at or above it."""
    caps = sorted(int(c) for c in summary)
    capped = next((c for c in caps if c < args.origins), None)
    kept = next((c for c in reversed(caps) if c >= args.origins), None)
    out: list[dict[str, Any]] = []

    def row(cap: int | None, key: str) -> dict[str, Any] | None:
        r = summary.get(str(cap), {}).get(key) if cap is not None else None
        return r if r and "req_s" in r else None

    for key in ("fast-async", "fast-sync"):
        rows = [r for r in (summary.get(str(c), {}).get(key) for c in caps) if r]
        text = f"{CLIENTS[key][0]}: zero failed requests (all GETs, idempotent)"
        n = sum(r["failed"] for r in rows)
        verdict = "N/A" if not rows else "PASS" if n == 0 else "MISS"
        out.append(_target(text, verdict, f"{n} failed" if rows else "not run"))
    for cap, other, threshold in (
        (kept, "pyreqwest", 1.0),
        (kept, "aiohttp", 2.0),
        (capped, "pycurl-multi", 1.0),
    ):
        which = "idle kept" if cap == kept else "capped"
        text = f"{which} (cap {cap}): >= {threshold:.1f}x {CLIENTS[other][0]}"
        a, b = row(cap, FAST_KEY), row(cap, other)
        if a is None or b is None or not b["req_s"]:
            out.append(_target(text, "N/A", f"{FAST_KEY} or {other} not measured at that cap"))
            continue
        r = a["req_s"] / b["req_s"]
        out.append(_target(text, "PASS" if r >= threshold else "MISS", ratio=r))
    a = row(capped, FAST_KEY)
    text = f"capped (cap {capped}): never more open sockets than the cap"
    if a is None or capped is None:
        out.append(_target(text, "N/A", "not measured"))
    else:
        peak = a["peak_sockets"]
        out.append(_target(text, "PASS" if peak <= capped else "MISS", f"peak {peak}"))
    return out


def print_targets(targets: list[dict[str, Any]]) -> None:
    print()
    print(f"== crawl targets (issue 14; {CLIENTS[FAST_KEY][0]}, medians of this run)")
    for t in targets:
        ratio = f"{t['ratio']:.2f}x" if t["ratio"] is not None else "-"
        why = f"  ({t['why']})" if t["why"] else ""
        print(f"{t['verdict']:<5} {ratio:>7}  {t['target']}{why}")


def run(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    """One crawl benchmark: start nginx, run the rounds, print the tables and targets.
    Return the JSON document and the exit status (1 if an httpcore_fast client errored,
    hung or was unavailable, else 0; failed requests are results, not errors)."""
    old_affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    client_cpu, server_cpu, pin_note = pin(args.no_pin)
    m = machine()
    print(f"machine     {m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}; {pin_note}")
    print("peers       " + ", ".join(f"{k} {v}" for k, v in peer_versions().items()))
    print(f"repo        {git_commit() or '?'}; load average {os.getloadavg()[0]:.2f}")
    print(
        f"plan        {args.origins} origins (half HTTPS), {args.requests} GETs per run, "
        f"{args.concurrency} in flight ({args.threads} threads for the sync client), caps "
        f"{', '.join(map(str, args.caps))}, {args.rounds} round(s), clients "
        f"{', '.join(args.clients)}"
    )
    server = CrawlNginx(
        find_nginx(args.nginx), server_cpu, args.origins, args.seed, args.start_timeout
    )
    try:
        server.start()
        timeouts = sorted({o.keepalive_ms for o in server.origins})
        print(
            f"server      {server.version}, 1 worker, {args.origins} origins on 127.0.0.1 "
            f"(keep-alive timeouts {timeouts} ms)"
        )
        runs, truncated = run_rounds(args, server, client_cpu)
        origins = [
            {"port": o.port, "scheme": o.scheme, "keepalive_ms": o.keepalive_ms}
            for o in server.origins
        ]
        version = server.version
    finally:
        server.cleanup()
        if old_affinity is not None:
            os.sched_setaffinity(0, old_affinity)
    summary = summarise(runs, args.caps, args.clients)
    print_tables(summary, args)
    targets = evaluate_targets(summary, args)
    print_targets(targets)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    doc = {
        "timestamp": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": git_commit(),
        "machine": m,
        "pinning": pin_note,
        "load_average_end": os.getloadavg(),
        "server": {"version": version, "workers": 1, "origins": origins},
        "versions": peer_versions(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "no_json")},
        "truncated": truncated,
        "runs": runs,
        "summary": summary,
        "targets": targets,
    }
    broken = ("error", "hung", "unavailable")
    bad = [r for r in runs if r["client"] in FAST_KEYS and r.get("status") in broken]
    return doc, 1 if bad else 0


def write_json(doc: dict[str, Any], args: argparse.Namespace) -> None:
    if args.no_json:
        return
    stamp = f"{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path = Path(args.json) if args.json else RESULTS_DIR / f"crawl-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"results written to {path}")


def _on_term(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)  # stop nginx and the worker on the way out
    try:
        doc, status = run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; nginx and the worker stopped", file=sys.stderr)
        return 130
    write_json(doc, args)
    return status


if __name__ == "__main__":
    sys.exit(main())

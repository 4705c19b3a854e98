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
    python benchmarks/compare.py --quick    # about a minute: small GET, 50 header fields,
                                            # 50/1 concurrent asyncio
    python benchmarks/compare.py --help

This file is the command: its options and `main()`. The work is in its sibling modules
(imported as top-level modules: Python puts this script's directory first on sys.path):
scenarios.py (payloads, scenarios, the nginx config), nginx.py (running nginx), harness.py
(jobs, adapters' interface, timed runners, rounds), clients.py (one adapter per peer, the
registry), report.py (tables, targets, JSON, PNG). See benchmarks/README.md for what is
measured, how to read the output, and how to add a peer or a scenario.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from typing import Any

from clients import CLIENT_KEYS, CLIENTS, describe_fast
from harness import pin_cpus, run_rounds
from nginx import NginxServer, find_nginx
from report import (
    evaluate_targets,
    print_header,
    print_summary_table,
    print_targets,
    replot,
    report_tables,
    reprint_table,
    write_json,
    write_png,
)
from scenarios import BODY_KINDS, FULL_SCENARIOS, QUICK_SCENARIOS, SCENARIOS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Compare httpcore_fast against httpcore 1.0.9 and peers on a local nginx."
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"short run (about 1 min): {', '.join(QUICK_SCENARIOS)}, fewer rounds",
    )
    p.add_argument(
        "--requests",
        "-n",
        type=int,
        help="timed requests per client per round (threads10: twice as many)",
    )
    p.add_argument("--warmup", type=int, help="untimed requests before each timed run")
    p.add_argument("--rounds", "-r", type=int, help="rounds (each client once per round)")
    p.add_argument(
        "--big-downloads",
        type=int,
        help="100 MiB downloads per client per round (default 2, --quick 1)",
    )
    p.add_argument(
        "--scenarios",
        help=f"comma list of {', '.join(SCENARIOS)} (default: all; "
        f"--quick: {','.join(QUICK_SCENARIOS)})",
    )
    p.add_argument(
        "--clients",
        default="",
        help=f"comma list of {', '.join(c.key for c in CLIENTS)} (default: all)",
    )
    p.add_argument(
        "--targets",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print the targets summary at the end (default: on)",
    )
    p.add_argument(
        "--crawl",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="after the scenarios, run the crawl benchmark (benchmarks/crawl.py with its "
        "defaults: 200 origins, caps 64 and 1000, 3 rounds; a few minutes) and add it to the "
        "JSON (default: on for a full run of every scenario, off with --quick or --scenarios)",
    )
    p.add_argument("--nginx", help="path to the nginx binary (default: from PATH)")
    p.add_argument("--port", type=int, help="port for nginx on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-pin", action="store_true", help="don't pin client and server to CPUs")
    p.add_argument(
        "--client-timeout",
        type=int,
        help="seconds one client run may take before it is dropped "
        "(default 20 with --quick, else 60)",
    )
    p.add_argument("--budget", type=float, help="stop starting new rounds after this many seconds")
    p.add_argument(
        "--start-timeout", type=float, default=15.0, help="seconds to wait for nginx to answer"
    )
    p.add_argument("--json", help="write JSON here instead of benchmarks/results/<stamp>.json")
    p.add_argument("--no-json", action="store_true", help="don't write a JSON file")
    p.add_argument("--png", help="write the chart here instead of benchmarks/results/<stamp>.png")
    p.add_argument("--no-png", action="store_true", help="don't draw a chart")
    p.add_argument(
        "--replot",
        metavar="JSON",
        help="only draw the chart of an earlier run's JSON (with --png PATH)",
    )
    p.add_argument(
        "--table",
        metavar="JSON",
        help="only print the README's markdown table of an earlier run's JSON",
    )
    args = p.parse_args(argv)
    if args.quick:
        defaults = {
            # Three rounds must fit the budget on a loaded 2-core machine (a median of two
            # is a mean): about 20 s a round here.
            "requests": 700,
            "warmup": 150,
            "rounds": 3,
            "budget": 75.0,
            "client_timeout": 20,
            "big_downloads": 1,
        }
    else:
        defaults = {
            "requests": 2000,
            "warmup": 300,
            "rounds": 9,
            "budget": 1500.0,
            "client_timeout": 60,
            "big_downloads": 2,
        }
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.crawl is None:
        args.crawl = not args.quick and args.scenarios is None
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


def run(args: argparse.Namespace) -> int:
    """One comparison run: start nginx, run the rounds, print and save the report. Return
    the exit status (1 if a required client failed verification or broke, else 0)."""
    selected = [c for c in CLIENTS if not args.clients or c.key in args.clients]
    scenarios = [SCENARIOS[s] for s in args.scenarios]
    all_cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    _, server_cpu, pin_note = pin_cpus(args.no_pin)
    fast = describe_fast()
    print_header(args, scenarios, pin_note, fast)

    want_big = any(s.kind in BODY_KINDS for s in scenarios)
    want_tls = any((s.http2 and not s.h2c) or s.tls for s in scenarios)
    want_h2c = any(s.http2 and s.h2c for s in scenarios)
    server = NginxServer(
        find_nginx(args.nginx),
        server_cpu,
        args.port,
        args.start_timeout,
        want_big,
        want_tls,
        want_h2c,
    )
    results, truncated = run_rounds(args, scenarios, selected, server)

    report = report_tables(scenarios, results, args)
    targets = evaluate_targets(report)
    if args.targets:
        print_targets(targets)
    print_summary_table(report)
    crawl_doc, crawl_status = None, 0
    if args.crawl:
        if all_cpus is not None:  # the crawl pins its own processes
            os.sched_setaffinity(0, all_cpus)
        crawl_doc, crawl_status = run_crawl(args)
    stamp = f"{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    write_json(
        args,
        stamp,
        scenarios,
        report,
        targets,
        server,
        pin_note,
        truncated,
        fast,
        [c.key for c in CLIENTS],
        extra={"crawl": crawl_doc} if crawl_doc is not None else None,
    )
    write_png(args, stamp, scenarios, report)
    bad = [
        res
        for per in results.values()
        for res in per.values()
        if res.status == "failed" and not res.spec.optional
    ]
    return 1 if bad or crawl_status else 0


def run_crawl(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    """The crawl benchmark (crawl.py) with its full defaults, after the scenarios: its own
    nginx (200 origins), its own tables and targets; its JSON goes into this run's."""
    import crawl

    print()
    print("== crawl benchmark (benchmarks/crawl.py)")
    argv = ["--no-json"] + (["--nginx", args.nginx] if args.nginx else [])
    argv += ["--no-pin"] if args.no_pin else []
    return crawl.run(crawl.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.table:
        return reprint_table(args.table)
    if args.replot:
        return replot(args)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; nginx stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

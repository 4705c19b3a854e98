"""The report: summaries, ratios, tables, targets, the JSON and the PNG chart.

`report_tables` turns the per-round samples of harness.run_rounds into the printed tables
and the JSON's "scenarios" (median, min, max, IQR, CPU, ratios to httpcore 1.0.9 and to the
ceiling); `evaluate_targets` checks `TARGETS` against it; `write_json` / `write_png` save the
run, and `replot` redraws the chart of an earlier run's JSON. The JSON schema is described in
benchmarks/README.md ("Reading the output"); keep it stable, `--replot` reads old files.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import REPO_ROOT, Result, n_for
from nginx import NginxServer
from scenarios import SCENARIOS, Scenario

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

# The client keys (clients.py) the report compares against and highlights.
REFERENCE_KEY = "httpcore"
# The ceiling of a scenario: the first of these that ran in it (the raw socket / bare
# asyncio.Protocol for HTTP/1.1, h2load for the HTTP/2 request scenarios).
CEILING_KEYS = ("raw", "h2load")
FAST_KEY = "fast-cython"


def _is_fast(key: str) -> bool:
    """httpcore_fast itself, or a client on its transport (marked `*` in the tables)."""
    return key.startswith("fast") or key.endswith("-fast")


# --------------------------------------------------------------------------------------
# The run's environment


PEER_DISTS = (
    "httpcore",
    "httpcore2",
    "httpx",
    "httpx2",
    "aiohttp",
    "urllib3",
    "pycurl",
    "pyreqwest",
    "curl_cffi",
    "h11",
    "uvloop",
    "h2",
    "anyio",
    "trio",
    "httpcore-fast",
)


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


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            timeout=10,
        )
        return out.stdout.decode().strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def print_header(
    args: argparse.Namespace, scenarios: list[Scenario], pin_note: str, fast: str
) -> None:
    """The lines before the run: machine, httpcore_fast, peers, repo and load, the plan."""
    m = machine()
    print(
        f"machine     {m['nproc']} CPUs ({m['cpu_model']}), {m['kernel']}, Python "
        f"{m['python']}; {pin_note}"
    )
    print(f"httpcore_fast {fast}")
    print("peers       " + ", ".join(f"{k} {v}" for k, v in peer_versions().items()))
    print(f"repo        {git_commit() or '?'}; load average {os.getloadavg()[0]:.2f}")
    print(
        f"plan        {len(scenarios)} scenario(s) x {args.rounds} rounds; {args.requests} "
        f"requests (+{args.warmup} warm-up) per request run, {args.big_downloads} x 100 MiB "
        f"per body run; clients interleaved per round"
    )


# --------------------------------------------------------------------------------------
# Summaries and tables


def summarise(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    out = {"median": statistics.median(s), "min": s[0], "max": s[-1]}
    if len(s) >= 4:
        q = statistics.quantiles(s, n=4, method="inclusive")
        out["q1"], out["q3"] = q[0], q[2]
    return out


def report_tables(
    scenarios: list[Scenario], results: dict[str, dict[str, Result]], args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    report: dict[str, dict[str, Any]] = {}
    for sc in scenarios:
        per = results.get(sc.name, {})
        stats = {k: summarise(r.samples) for k, r in per.items() if r.samples}
        ref = stats.get(REFERENCE_KEY, {}).get("median")
        ceil = next((stats[k]["median"] for k in CEILING_KEYS if k in stats), None)
        n_rounds = max((len(r.samples) for r in per.values()), default=0)
        n, _ = n_for(sc, args)
        amount = f"{n} x 100 MiB" if sc.unit == "MB/s" else f"{n} requests"
        print()
        print(f"== {sc.name}: {sc.title} ({amount} x {n_rounds} rounds)")
        cpu_head = "CPU ms/body" if sc.unit == "MB/s" else "CPU µs/req"
        head = (
            f"{'client':<27}{sc.unit + ' median':>13}{'min':>9}{'max':>9}{'IQR':>15}"
            f"{cpu_head:>12}{'x httpcore':>11}{'x ceiling':>10}"
        )
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
            mark = "*" if _is_fast(key) else " "
            print(
                f"{mark}{res.label:<26}{med:>13.0f}{st['min']:>9.0f}{st['max']:>9.0f}"
                f"{iqr:>15}{cpu:>12.1f}"
                f"{(f'{vs_ref:.2f}' if vs_ref else '-'):>11}"
                f"{(f'{vs_ceil:.2f}' if vs_ceil else '-'):>10}"
            )
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
    print(
        "* = httpcore_fast. Higher is better. x httpcore / x ceiling: median divided by "
        "httpcore 1.0.9's / the raw socket's (sync), asyncio.Protocol's (async) or h2load's "
        "(HTTP/2) median. CPU: this process's user+sys CPU (median; h2load's: its own "
        "process's, start-up and connection included); MB = 10^6 bytes."
    )
    print(
        f"load average at the end: {os.getloadavg()[0]:.2f} (other load moves wall-clock "
        "numbers; the ratios are measured in the same run)"
    )
    return report


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
    TargetSpec("100 MiB over one HTTP/2 stream (TLS) >= 0.9x the same over HTTP/1.1",
               ("h2-big", FAST_KEY), ("abig-tls", FAST_KEY), 0.9),
]  # fmt: skip


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
            out.append(
                {
                    "target": t.text,
                    "ratio": None,
                    "verdict": "N/A",
                    "why": why_a or why_b,
                    "threshold": t.threshold,
                }
            )
        else:
            r = a["median"] / b["median"]
            # The same comparison in CPU per request/body (steadier on a loaded machine):
            # how many times less CPU the httpcore_fast client spent than the other side.
            cpu = b["cpu_median"] / a["cpu_median"] if a["cpu_median"] else None
            out.append(
                {
                    "target": t.text,
                    "ratio": r,
                    "threshold": t.threshold,
                    "verdict": "PASS" if r >= t.threshold else "MISS",
                    "why": "",
                    "cpu_ratio": cpu,
                }
            )
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
    print(
        "ratio: median throughput over the other side's (the verdict); CPU: the other "
        "side's CPU per request/body over httpcore_fast's (>1: httpcore_fast spends less)."
    )
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("PASS", "MISS", "N/A")}
    print(f"targets: {counts['PASS']} PASS, {counts['MISS']} MISS, {counts['N/A']} N/A")


# --------------------------------------------------------------------------------------
# The README's table: one row per scenario, from one run


def _fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def summary_table(report: dict[str, Any]) -> str:
    """The run as the README's markdown table: per scenario, httpcore_fast (Cython),
    httpcore 1.0.9, their ratio, the ceiling and the best other peer (no httpcore_fast
    client, reference or ceiling), followed by the other peers the targets name for that
    scenario. Every number comes from `report` (one run)."""
    target_peers: dict[str, list[str]] = {}
    for t in TARGETS:
        sc, key = t.den
        peer = not _is_fast(key) and key != REFERENCE_KEY and key not in CEILING_KEYS
        if peer and key not in target_peers.get(sc, []):
            target_peers.setdefault(sc, []).append(key)
    lines = [
        "| scenario | httpcore_fast (Cython) | httpcore 1.0.9 | ratio | ceiling | best other peer |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, sc in report.items():
        rows = sc["clients"]
        med = {k: r["median"] for k, r in rows.items() if "median" in r}
        if not med:
            continue
        fast, ref = med.get(FAST_KEY), med.get(REFERENCE_KEY)
        ceil_key = next((k for k in CEILING_KEYS if k in med), None)
        others = sorted(
            (k for k in med if not _is_fast(k) and k != REFERENCE_KEY and k not in CEILING_KEYS),
            key=lambda k: -med[k],
        )
        shown = others[:1]
        shown += sorted(
            (k for k in target_peers.get(name, []) if k in med and k not in shown),
            key=lambda k: -med[k],
        )
        peers = "; ".join(f"{rows[k]['label']} {med[k]:,.0f}" for k in shown)
        ceiling = f"{med[ceil_key]:,.0f}" if ceil_key else ""
        lines.append(
            f"| {name}: {sc['title']} ({sc['unit']}) | {f'{fast:,.0f}' if fast else ''} | "
            f"{f'{ref:,.0f}' if ref else ''} | {_fmt_ratio(fast / ref) if fast and ref else ''} "
            f"| {ceiling} | {peers} |"
        )
    return "\n".join(lines)


def print_summary_table(report: dict[str, Any]) -> None:
    print()
    print("== the README table (markdown, this run only)")
    print(summary_table(report))


# --------------------------------------------------------------------------------------
# JSON and chart


def write_json(
    args: argparse.Namespace,
    stamp: str,
    scenarios: list[Scenario],
    report: dict[str, Any],
    targets: list[dict[str, Any]],
    server: NginxServer,
    pin_note: str,
    truncated: str,
    fast: str,
    client_keys: list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the run's JSON (unless --no-json). `fast` describes the httpcore_fast under
    test; `client_keys` are all the clients' keys (the settings' default); `extra` adds
    top-level keys (the crawl benchmark's document under "crawl")."""
    if args.no_json:
        return
    path = Path(args.json) if args.json else RESULTS_DIR / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "timestamp": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": git_commit(),
        "machine": machine(),
        "python": sys.version,
        "platform": platform.platform(),
        "pinning": pin_note,
        "load_average_end": os.getloadavg(),
        "server": {
            "version": server.version,
            "port": server.port,
            "workers": 1,
            "tls_port": server.tls_port,
            "note": server.tls_note,
        },
        "httpcore_fast": fast,
        "versions": peer_versions(),
        "settings": {
            "requests": args.requests,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "big_downloads": args.big_downloads,
            "scenarios": [s.name for s in scenarios],
            "clients": args.clients or client_keys,
            "quick": args.quick,
        },
        "truncated": truncated,
        "scenarios": report,
        "summary_table": summary_table(report),
        "targets": targets,
        **(extra or {}),
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
        print(
            f"note: no chart (matplotlib: {type(exc).__name__}: {exc}); pip install -e '.[bench]'"
        )
        return
    shown = [
        s
        for s in scenarios
        if any("median" in r for r in report.get(s.name, {}).get("clients", {}).values())
    ]
    if not shown:
        return
    cols = 2 if len(shown) > 1 else 1
    rows = (len(shown) + cols - 1) // cols
    heights = [max(len(report[s.name]["clients"]), 3) * 0.28 + 0.9 for s in shown]
    fig_h = sum(max(heights[i : i + cols]) for i in range(0, len(shown), cols))
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, fig_h), squeeze=False)
    for ax, sc in zip(axes.flat, shown, strict=False):  # more axes than panels
        rows_ = [r for r in report[sc.name]["clients"].items() if "median" in r[1]]
        rows_.sort(key=lambda kv: kv[1]["median"])
        labels = [r["label"] for _, r in rows_]
        meds = [r["median"] for _, r in rows_]
        lo = [r["median"] - r["stats"].get("q1", r["median"]) for _, r in rows_]
        hi = [r["stats"].get("q3", r["median"]) - r["median"] for _, r in rows_]
        colors = [
            "#d62728"
            if k == FAST_KEY
            else "#ff9896"
            if _is_fast(k)
            else "#7f7f7f"
            if k in CEILING_KEYS
            else "#1f77b4"
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
    for ax in list(axes.flat)[len(shown) :]:
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


def reprint_table(path: str) -> int:
    """Print the README table of an earlier run from its JSON (--table)."""
    doc = json.loads(Path(path).read_text())
    print(summary_table(doc["scenarios"]))
    return 0


def replot(args: argparse.Namespace) -> int:
    """Draw the chart of an earlier run from its JSON (--replot)."""
    doc = json.loads(Path(args.replot).read_text())
    report = doc["scenarios"]
    scenarios = [SCENARIOS[name] for name in report if name in SCENARIOS]
    meta = (doc.get("machine") or machine(), str(doc.get("timestamp", "?"))[:10])
    write_png(args, Path(args.replot).stem, scenarios, report, meta)
    return 0

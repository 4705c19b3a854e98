#!/usr/bin/env python3
"""Import time: `import httpcore_fast` against httpcore, httpcore2, urllib3, aiohttp (and
httpx, httpx2 for reference), each in fresh interpreters (issue 15, point 4).

    python benchmarks/bench_import.py              # 15 runs per module
    python benchmarks/bench_import.py --runs 31 --modules httpcore_fast,urllib3
    python benchmarks/bench_import.py --help
    # before/after a change, interleaved: the old tree as a second "module"
    git archive HEAD~1 httpcore_fast | tar -x -C /tmp/before
    cp httpcore_fast/*.so /tmp/before/httpcore_fast/   # the built kernels, if any
    python benchmarks/bench_import.py --modules httpcore_fast,httpcore_fast@/tmp/before

Three measurements per module, each the median over `--runs` fresh interpreters, the modules
interleaved run by run (so a slow moment of a shared machine hits every module). A module
given as ``name@DIR`` is imported with DIR first on ``PYTHONPATH`` (another checkout of the
same package, e.g. before a change) and reported under that label:

* **import ms** (the headline): `time.perf_counter()` around `__import__(name)` inside a
  fresh interpreter that has done nothing else. Interpreter start-up and shutdown are outside
  the timed region by construction, so nothing needs subtracting, and nothing instruments the
  import machinery.
* **-X importtime ms**: the cumulative time CPython's `-X importtime` gives the top-level
  `import name` line. This too excludes start-up (the interpreter's own imports are separate
  lines), so subtracting a bare interpreter would count start-up twice; it is a little higher
  than the headline, since the instrumentation writes a line per module.
* **wall - bare ms**: the wall time of the whole process (`-c "import name"`, leaving with
  `os._exit(0)` so the teardown of the extra modules is not counted) minus the median wall
  time of the same process without the import: what a command-line user waits for. It
  carries the noise of process creation, so read it as a cross-check.

Then, for `--detail` (default httpcore_fast): the tree of what the import pulls in, every
module whose median cumulative time is at least `--min-ms` (default 1 ms), with a note on
the ones that only some programs need (HTTP/2, trio, anyio, SOCKS, proxies, the other half of
sync/async), which are the candidates to load on first use. Writes JSON to
benchmarks/results/import-<stamp>.json (or --json PATH, --no-json).
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DEFAULT_MODULES = [
    "httpcore_fast",
    "httpcore",
    "httpcore2",
    "urllib3",
    "aiohttp",
    "httpx",
    "httpx2",
]
SUBPROCESS_TIMEOUT = 60.0  # seconds one interpreter may take before it is killed

# The timed child: imports only what a bare interpreter has already (sys, time, os are
# loaded by start-up), times the import, reports what it added to sys.modules, and leaves
# without tearing the modules down.
_CHILD = """\
import os, sys, time
name = sys.argv[1]
before = set(sys.modules)
t0 = time.perf_counter()
if name:
    __import__(name)
t1 = time.perf_counter()
new = sorted(set(sys.modules) - before)
sys.stdout.write(repr((t1 - t0, new)))
sys.stdout.flush()
os._exit(0)
"""

# What only some programs need, by module-name prefix: candidates to load on first use.
LAZY_HINTS = [
    (("h2", "hpack", "hyperframe"), "HTTP/2 only"),
    (("httpcore_fast._async.http2", "httpcore_fast._sync.http2", "httpcore_fast._core.http2"),
     "HTTP/2 only"),
    (("trio", "outcome", "sortedcontainers"), "trio only"),
    (("anyio", "sniffio"), "anyio backend only"),
    (("socksio", "httpcore_fast._async.socks_proxy", "httpcore_fast._sync.socks_proxy",
      "httpcore_fast._core.socks"), "SOCKS proxies only"),
    (("httpcore_fast._async.http_proxy", "httpcore_fast._sync.http_proxy"), "HTTP proxies only"),
    (("httpcore_fast._async", "httpcore_fast._backends.auto", "asyncio"),
     "async programs only (a sync program never needs it)"),
    (("httpcore_fast._sync", "httpcore_fast._backends.sync"),
     "sync programs only (an async program never needs it)"),
    (("httpcore_fast._backends.mock",), "tests only"),
    (("httpcore_fast._kernel_py",), "the pure-Python kernel (the Cython one is used when built)"),
    (("certifi",), "only when a default SSL context is built"),
    (("ssl", "_ssl"), "TLS only"),
    (("logging",), "only when a program logs (or configures logging)"),
    (("httpcore_fast.httpx",), "httpx users only"),
]  # fmt: skip


def lazy_hint(name: str) -> str:
    for prefixes, hint in LAZY_HINTS:
        for p in prefixes:
            if name == p or name.startswith(p + "."):
                return hint
    return ""


# --------------------------------------------------------------------------------------
# Running interpreters


# Bytecode caches are written and read as for an installed package: a shell that sets
# PYTHONDONTWRITEBYTECODE would otherwise make every run compile the modules whose .pyc is
# missing or stale (a checkout being edited) from source, and time the compiler.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _split(module: str) -> tuple[str, dict[str, str]]:
    """``name`` or ``name@DIR`` -> (the module name, the environment to import it in)."""
    name, _, directory = module.partition("@")
    if not directory:
        return name, _ENV
    path = os.pathsep.join([directory, _ENV.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return name, {**_ENV, "PYTHONPATH": path}


def _run(
    argv: list[str], cpu: int | None, env: dict[str, str] = _ENV
) -> subprocess.CompletedProcess[bytes]:
    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    return subprocess.run(
        argv,
        capture_output=True,
        timeout=SUBPROCESS_TIMEOUT,
        cwd=tempfile.gettempdir(),  # no checkout on sys.path[0] but what is installed
        preexec_fn=pin if cpu is not None else None,
        env=env,
    )


def timed_import(python: str, name: str, cpu: int | None) -> tuple[float, float, list[str]]:
    """(seconds inside the import, wall seconds of the process, modules it added);
    ``name`` may be ``module@DIR``."""
    name, env = _split(name)
    t0 = time.perf_counter()
    out = _run([python, "-c", _CHILD, name], cpu, env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"import {name}: {out.stderr.decode(errors='replace')[-300:]}")
    inside, new = ast.literal_eval(out.stdout.decode())
    return float(inside), wall, list(new)


_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass
class Node:
    name: str
    depth: int
    self_us: int
    cum_us: int
    children: list[Node] = field(default_factory=list)


def importtime(python: str, name: str, cpu: int | None) -> Node:
    """The `-X importtime` tree of `import name` (its root is the top-level line);
    ``name`` may be ``module@DIR``."""
    name, env = _split(name)
    out = _run([python, "-X", "importtime", "-c", f"import {name}"], cpu, env)
    if out.returncode != 0:
        raise RuntimeError(f"import {name}: {out.stderr.decode(errors='replace')[-300:]}")
    # Lines come children first: a line at depth d adopts the lines at depth d+1 before it.
    pending: dict[int, list[Node]] = {}
    for line in out.stderr.decode(errors="replace").splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        depth = (len(m.group(3)) - 1) // 2
        node = Node(m.group(4), depth, int(m.group(1)), int(m.group(2)))
        node.children = pending.pop(depth + 1, [])
        if depth == 0 and node.name == name:
            return node
        pending.setdefault(depth, []).append(node)
    raise RuntimeError(f"-X importtime printed no top-level line for {name}")


def walk(node: Node) -> list[Node]:
    out = [node]
    for child in node.children:
        out.extend(walk(child))
    return out


# --------------------------------------------------------------------------------------
# The runs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Import time of httpcore_fast and its peers, in fresh interpreters."
    )
    p.add_argument("--runs", "-n", type=int, default=15, help="interpreters per module (15)")
    p.add_argument(
        "--modules",
        default=",".join(DEFAULT_MODULES),
        help=f"comma list of modules to import (default {','.join(DEFAULT_MODULES)})",
    )
    p.add_argument(
        "--detail",
        default="httpcore_fast",
        help="comma list of modules whose import tree is shown (default httpcore_fast)",
    )
    p.add_argument("--min-ms", type=float, default=1.0, help="tree: show modules >= this (1 ms)")
    p.add_argument("--python", default=sys.executable, help="interpreter (default: this one)")
    p.add_argument("--cpu", type=int, help="pin the interpreters to this CPU (default: none)")
    p.add_argument("--budget", type=float, default=600.0, help="stop after this many seconds")
    p.add_argument("--json", help="write JSON here instead of benchmarks/results/import-*.json")
    p.add_argument("--no-json", action="store_true", help="don't write a JSON file")
    args = p.parse_args(argv)
    args.runs = max(1, min(args.runs, 1000))
    args.modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    args.detail = [m.strip() for m in args.detail.split(",") if m.strip()]
    return args


def _median_ms(values: list[float]) -> float | None:
    return statistics.median(values) * 1e3 if values else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    py = args.python
    version = _run([py, "-c", "import sys; print(sys.version.split()[0])"], None)
    print(f"python      {py} ({version.stdout.decode().strip()}), {args.runs} runs per module")
    print(f"load        {os.getloadavg()[0]:.2f}")
    inside: dict[str, list[float]] = {m: [] for m in args.modules}
    wall: dict[str, list[float]] = {m: [] for m in args.modules + [""]}
    cum: dict[str, list[float]] = {m: [] for m in args.modules}
    added: dict[str, list[str]] = {}
    trees: dict[str, list[Node]] = {m: [] for m in args.modules}
    errors: dict[str, str] = {}
    # Warm-up: write the .pyc files that are missing or stale, fill the page cache (not
    # counted).
    for m in args.modules:
        try:
            timed_import(py, m, args.cpu)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            errors[m] = str(exc).strip().splitlines()[-1][:200]
            print(f"{m}: unavailable ({errors[m]})")
    modules = [m for m in args.modules if m not in errors]
    started = time.monotonic()
    done = 0
    for r in range(args.runs):
        if time.monotonic() - started > args.budget:
            print(f"note: stopped after {r} runs: --budget {args.budget:.0f}s exceeded")
            break
        order = ["", *modules]
        order = order[r % len(order) :] + order[: r % len(order)]  # rotate each run
        for m in order:
            t_in, t_wall, new = timed_import(py, m, args.cpu)
            wall[m].append(t_wall)
            if m:
                inside[m].append(t_in)
                added[m] = new
                tree = importtime(py, m, args.cpu)
                cum[m].append(tree.cum_us / 1e6)
                trees[m].append(tree)
        done = r + 1
    bare = _median_ms(wall[""]) or 0.0
    rows: dict[str, Any] = {}
    for m in modules:
        stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
        name = _split(m)[0]
        top = sorted(
            {n.split(".")[0] for n in added.get(m, [])} - set(stdlib) - {name, "_" + name}
        )
        wall_ms = _median_ms(wall[m])
        rows[m] = {
            "import_ms": _median_ms(inside[m]),
            "import_ms_min": min(inside[m]) * 1e3 if inside[m] else None,
            "importtime_ms": _median_ms(cum[m]),
            "wall_minus_bare_ms": wall_ms - bare if wall_ms is not None else None,
            "modules_added": len(added.get(m, [])),
            "packages_pulled_in": [p for p in top if not p.startswith("_")],
            "samples_ms": [x * 1e3 for x in inside[m]],
        }
    doc: dict[str, Any] = {
        "timestamp": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": version.stdout.decode().strip(),
        "runs": done,
        "bare_interpreter_wall_ms": bare,
        "modules": rows,
        "unavailable": errors,
        "detail": {m: detail(trees[m], args.min_ms) for m in args.detail if trees.get(m)},
    }
    print_report(doc, args)
    return doc


def detail(trees: list[Node], min_ms: float) -> list[dict[str, Any]]:
    """The import tree, pre-order, every module whose median cumulative time (over the
    runs) is >= min_ms; a module below the line hides its subtree."""
    per_name: dict[str, list[int]] = {}
    self_of: dict[str, list[int]] = {}
    for tree in trees:
        for n in walk(tree):
            per_name.setdefault(n.name, []).append(n.cum_us)
            self_of.setdefault(n.name, []).append(n.self_us)
    out: list[dict[str, Any]] = []

    def visit(n: Node, level: int) -> None:
        ms = statistics.median(per_name[n.name]) / 1e3
        if ms < min_ms:
            return
        out.append(
            {
                "module": n.name,
                "level": level,
                "cumulative_ms": ms,
                "self_ms": statistics.median(self_of[n.name]) / 1e3,
                "hint": lazy_hint(n.name),
            }
        )
        for c in sorted(n.children, key=lambda c: -statistics.median(per_name[c.name])):
            visit(c, level + 1)

    visit(trees[0], 0)
    return out


def print_report(doc: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(
        f"== import time, median of {doc['runs']} fresh interpreters (Python {doc['python']}; "
        f"a bare interpreter runs {doc['bare_interpreter_wall_ms']:.1f} ms wall)"
    )
    rows = doc["modules"]
    width = max([15, *map(len, rows)])  # a name@DIR label may be long
    head = f"{'module':<{width + 1}}{'import ms':>10}{'min':>7}{'-X importtime':>15}{'wall - bare':>13}"
    head += f"{'modules':>9}  packages pulled in"
    print(head)
    print("-" * len(head))
    for m in sorted(rows, key=lambda k: rows[k]["import_ms"] or 0.0):
        r = rows[m]
        mark = "*" if m == "httpcore_fast" else " "
        print(
            f"{mark}{m:<{width}}{r['import_ms']:>10.1f}{r['import_ms_min']:>7.1f}"
            f"{r['importtime_ms']:>15.1f}{r['wall_minus_bare_ms']:>13.1f}"
            f"{r['modules_added']:>9}  {', '.join(r['packages_pulled_in']) or '-'}"
        )
    print(
        "import ms: perf_counter around the import inside the interpreter (start-up and "
        "teardown excluded); -X importtime: its cumulative time of the top-level import; "
        "wall - bare: the process's wall time minus a bare interpreter's (os._exit, no "
        "teardown); modules: entries it added to sys.modules."
    )
    for m, rows_ in doc["detail"].items():
        print()
        print(f"== what `import {m}` pulls in (median cumulative >= {args.min_ms:g} ms)")
        print(f"{'cumulative ms':>13}{'self ms':>9}  module")
        for r in rows_:
            hint = f"   <- {r['hint']}" if r["hint"] else ""
            indent = "  " * r["level"]
            print(f"{r['cumulative_ms']:>13.1f}{r['self_ms']:>9.1f}  {indent}{r['module']}{hint}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    doc = run(args)
    if not args.no_json:
        stamp = f"{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        path = Path(args.json) if args.json else RESULTS_DIR / f"import-{stamp}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nresults written to {path}")
    return 1 if "httpcore_fast" in doc["unavailable"] else 0


if __name__ == "__main__":
    sys.exit(main())

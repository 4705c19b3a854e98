#!/usr/bin/env python3
"""Run httpcore 1.0.9's own test suite against httpcore_fast (or against httpcore itself).

httpcore's sdist on PyPI ships its ``tests/``. This script fetches that sdist with pip (the
version and the sha256 are pinned below), extracts ``tests/`` and ``pyproject.toml`` (its
pytest configuration) into ``.cache/``, and runs pytest there with
``tests/httpcore_suite/hcf_upstream_plugin.py``, which makes ``import httpcore`` resolve to
httpcore_fast (``httpcore_fast.install()``), runs every async test on asyncio and trio, and
marks the deliberate differences listed in ``tests/httpcore_suite/expected_failures.txt`` as
strict expected failures.

    python scripts/httpcore_suite.py fetch                 # download, check, extract (idempotent)
    python scripts/httpcore_suite.py run --kernel cython   # httpcore_fast, Cython kernel
    python scripts/httpcore_suite.py run --kernel python   # httpcore_fast, pure-Python kernel
    python scripts/httpcore_suite.py run --reference       # the real httpcore 1.0.9
    python scripts/httpcore_suite.py run --kernel cython --results out.json -- -x -k socks

``run`` exits with pytest's status; ``--results`` writes ``{test id: outcome}`` as JSON
(outcomes: passed, failed, xfailed, skipped). ``tests/test_httpcore_suite.py`` runs the
reference and both kernels and compares the outcomes test by test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = "1.0.9"
SDIST = f"httpcore-{VERSION}.tar.gz"
SHA256 = "6e34463af53fd2ab5d807f399a9b45ea31c3dfa2276f15a2c3f00afff6e176e8"
CACHE = ROOT / ".cache" / "httpcore-suite"
SUITE = CACHE / f"httpcore-{VERSION}"
PLUGIN_DIR = ROOT / "tests" / "httpcore_suite"
# Per test: bounded, so a hang fails one test instead of the run.
TEST_TIMEOUT = 60


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch() -> Path:
    """Make sure the suite is extracted in ``SUITE``; returns that directory.

    Downloads the sdist with pip in hash-checking mode (``--require-hashes``) unless a copy
    with the pinned hash is cached, checks the hash again, and extracts ``tests/`` and
    ``pyproject.toml`` only. Raises ``SystemExit`` with pip's message if the download fails.
    """
    marker = SUITE / ".sha256"
    if marker.is_file() and marker.read_text().strip() == SHA256:
        return SUITE
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / SDIST
    if not archive.is_file() or _sha256(archive) != SHA256:
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text(f"httpcore=={VERSION} --hash=sha256:{SHA256}\n")
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--require-hashes",
                "-r",
                str(requirements),
                "-d",
                tmp,
            ]
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
            downloaded = Path(tmp) / SDIST
            if result.returncode != 0 or not downloaded.is_file():
                raise SystemExit(
                    f"could not download {SDIST} with pip:\n{result.stdout}{result.stderr}"
                )
            shutil.move(str(downloaded), archive)
    if _sha256(archive) != SHA256:
        archive.unlink()
        raise SystemExit(f"{SDIST}: sha256 mismatch (expected {SHA256})")
    if SUITE.exists():
        shutil.rmtree(SUITE)
    prefix = f"httpcore-{VERSION}/"
    with tarfile.open(archive) as tar:
        members = [
            member
            for member in tar.getmembers()
            if member.isfile()
            and (
                member.name.startswith(prefix + "tests/")
                or member.name == prefix + "pyproject.toml"
            )
        ]
        for member in members:
            target = CACHE / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
    marker.write_text(SHA256 + "\n")
    return SUITE


def run(kernel: str | None, reference: bool, results: str | None, pytest_args: list[str]) -> int:
    """Run the suite in a subprocess; returns pytest's exit status."""
    suite = fetch()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PLUGIN_DIR), str(suite)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.pop("HTTPCORE_FAST_NO_EXTENSIONS", None)
    if reference:
        env["HCF_UPSTREAM_TARGET"] = "httpcore"
    else:
        env["HCF_UPSTREAM_TARGET"] = "httpcore_fast"
        env["HCF_UPSTREAM_KERNEL"] = kernel or "cython"
        if kernel == "python":
            env["HTTPCORE_FAST_NO_EXTENSIONS"] = "1"
    if results:
        env["HCF_UPSTREAM_RESULTS"] = str(Path(results).resolve())
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "hcf_upstream_plugin",
        "-p",
        "no:cacheprovider",
        # pytest-benchmark (in the bench extra, often in the same venv) is no part of
        # httpcore's suite, and with it loaded test_h2_timeout_during_request[trio], a
        # 10 ms deadline, failed every run on the pure-Python kernel here.
        "-p",
        "no:benchmark",
        f"--timeout={TEST_TIMEOUT}",
        "-q",
        "tests",
        *pytest_args,
    ]
    return subprocess.run(command, cwd=suite, env=env).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download, check and extract the suite")
    run_parser = commands.add_parser("run", help="run the suite")
    target = run_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--kernel", choices=["cython", "python"])
    target.add_argument("--reference", action="store_true", help="run against real httpcore")
    run_parser.add_argument("--results", help="write {test id: outcome} JSON here")
    run_parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(fetch())
        return 0
    return run(args.kernel, args.reference, args.results, args.pytest_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

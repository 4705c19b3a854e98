"""tests/test_httpx_behaviour.py once more, with httpx and httpx2 on httpcore_fast through
the install switch (``install()`` before their core is imported, clients built as usual).

The test process itself cannot do that: it has imported the real httpcore already (the parity
tests, and respx's pytest plugin, import it). So a child pytest runs the module with
``HTTPCORE_FAST_TEST_HTTPX_MODE=install``, on this process's default kernel (the kernel
plays no part in installing: tests/conftest.py), with respx's plugin disabled.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_httpx_behaviour import LIBRARIES

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT = 100.0  # below the pytest timeout of this test (120 s)

pytestmark = pytest.mark.network


def test_httpx_behaviour_through_install() -> None:
    env = dict(os.environ)
    env["HTTPCORE_FAST_TEST_HTTPX_MODE"] = "install"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_httpx_behaviour.py",
            "-p",
            "no:respx",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfE",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    # "N passed in 12.34s", or "... in 65.43s (0:01:05)" past a minute
    match = re.fullmatch(r"(\d+) passed in [\d.]+s( \(\d+:\d\d:\d\d\))?", summary)
    assert match is not None, result.stdout  # nothing failed, skipped or xfailed
    # every test of the module ran, on one kernel: per client library, 13 sync cases
    # (7 tests, 2 environment-proxy cases, 2 SOCKS schemes, http2, retries) and 4 async
    # tests x 2 async libraries (asyncio, trio); and 2 respx cases (httpx only)
    assert int(match.group(1)) == (13 + 4 * 2) * len(LIBRARIES) + 2

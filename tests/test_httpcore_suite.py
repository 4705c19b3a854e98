"""httpcore 1.0.9's own test suite against httpcore_fast, compared test by test with httpcore.

``scripts/httpcore_suite.py`` runs httpcore's ``tests/`` (from its sdist, fetched and
hash-checked by ``scripts/test``) with ``import httpcore`` resolving to httpcore_fast, every
async test on asyncio and trio. Here it runs once against the real httpcore 1.0.9 (the
reference, on this machine's loopback) and once per kernel against httpcore_fast: every test
that passes on httpcore must pass on httpcore_fast, except the deliberate differences in
``tests/httpcore_suite/expected_failures.txt``, which must fail (and pass on httpcore).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "httpcore_suite.py"
PLUGIN = ROOT / "tests" / "httpcore_suite" / "hcf_upstream_plugin.py"
# httpcore 1.0.9's suite: 220 tests with every async test on asyncio and trio.
TEST_COUNT = 220
RUN_TIMEOUT = 600  # seconds for one whole run; each test is bounded at 60 s by the script


def _plugin() -> typing.Any:
    spec = importlib.util.spec_from_file_location("hcf_upstream_plugin", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPECTED_FAILURES: dict[str, str] = _plugin().load_expected_failures()


def run_suite(target: list[str], tmp_path: Path) -> dict[str, str]:
    """Run the suite with ``target`` arguments; returns ``{test id: outcome}``. The script
    fetches the suite first if ``scripts/test`` has not (pip, hash-checked)."""
    results = tmp_path / "results.json"
    process = subprocess.run(
        [sys.executable, str(SCRIPT), "run", *target, "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    if not results.is_file():
        pytest.fail(f"the suite did not run:\n{process.stdout[-5000:]}\n{process.stderr[-5000:]}")
    outcomes: dict[str, str] = json.loads(results.read_text())
    assert len(outcomes) == TEST_COUNT, (len(outcomes), process.stdout[-3000:])
    return outcomes


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Outcomes of the suite on the real httpcore 1.0.9."""
    return run_suite(["--reference"], tmp_path_factory.mktemp("reference"))


def test_expected_failures_pass_on_httpcore(reference: dict[str, str]) -> None:
    # A listed test is a deliberate difference: httpcore itself must pass it.
    assert EXPECTED_FAILURES, "the list is read"
    for test_id in EXPECTED_FAILURES:
        assert reference.get(test_id) == "passed", test_id


def test_httpcore_suite(kernel: typing.Any, reference: dict[str, str], tmp_path: Path) -> None:
    outcomes = run_suite(["--kernel", kernel.KERNEL_NAME], tmp_path)
    assert set(outcomes) == set(reference)
    problems = []
    for test_id, on_httpcore in sorted(reference.items()):
        ours = outcomes[test_id]
        if test_id in EXPECTED_FAILURES:
            wanted = "xfailed"
        elif on_httpcore == "passed":
            wanted = "passed"
        else:
            continue  # fails on httpcore here too (e.g. a flaky network step): not a drop-in gap
        if ours != wanted:
            problems.append(f"{test_id}: {ours}, expected {wanted} (httpcore: {on_httpcore})")
    assert not problems, "\n".join(problems)

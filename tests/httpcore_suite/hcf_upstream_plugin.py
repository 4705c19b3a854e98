"""pytest plugin for running httpcore 1.0.9's own ``tests/`` (``scripts/httpcore_suite.py``).

Environment (set by the script):

* ``HCF_UPSTREAM_TARGET``: ``httpcore_fast`` (``import httpcore`` resolves to httpcore_fast
  through ``httpcore_fast.install()``) or ``httpcore`` (the real package, the reference run);
* ``HCF_UPSTREAM_KERNEL``: the kernel httpcore_fast must have picked (``cython`` or
  ``python``); a mismatch stops the run before any test;
* ``HCF_UPSTREAM_RESULTS``: where to write ``{test id: outcome}`` as JSON.

Every async test runs on asyncio and on trio (httpcore's own CI runs both). httpcore marks
three HTTP/2 cancellation tests ``xfail`` because they were flaky for it; the marker is
dropped here, so a failure of those counts like any other (the reference run passes them on
this machine's loopback, and httpcore2 fixed the cause). With httpcore_fast as the target, the
test ids in ``expected_failures.txt`` (next to this file) are marked ``xfail(strict=True)``
with their reason: each must fail, and an id that no longer exists stops the run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

TARGET = os.environ.get("HCF_UPSTREAM_TARGET")  # None: imported as a library, not a plugin
EXPECTED_FAILURES = Path(__file__).with_name("expected_failures.txt")

_outcomes: dict[str, str] = {}


def load_expected_failures(path: Path = EXPECTED_FAILURES) -> dict[str, str]:
    """``{test id: reason}`` from ``path``: one ``test id | reason`` per line, ``#`` comments."""
    expected: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, separator, reason = (part.strip() for part in line.partition("|"))
        if not separator or not test_id or not reason:
            raise ValueError(f"{path.name}:{number}: expected 'test id | reason'")
        expected[test_id] = reason
    return expected


if TARGET == "httpcore_fast":
    # At import, before the plugins found by entry points (respx's imports httpcore): ``-p``
    # plugins are imported first.
    import httpcore_fast

    httpcore_fast.install()


def pytest_configure(config: pytest.Config) -> None:
    if TARGET == "httpcore_fast":
        wanted = os.environ.get("HCF_UPSTREAM_KERNEL")
        if wanted and httpcore_fast.KERNEL != wanted:
            raise pytest.UsageError(
                f"httpcore_fast picked the {httpcore_fast.KERNEL} kernel, expected {wanted}"
            )
    elif TARGET != "httpcore":
        raise pytest.UsageError(f"HCF_UPSTREAM_TARGET={TARGET!r}: httpcore_fast or httpcore")


def pytest_report_header(config: pytest.Config) -> str:
    import httpcore

    served = getattr(httpcore, "KERNEL", None)
    return f"httpcore served by {httpcore.__name__}" + (f" ({served} kernel)" if served else "")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expected = load_expected_failures() if TARGET == "httpcore_fast" else {}
    seen = set()
    for item in items:
        item.own_markers[:] = [mark for mark in item.own_markers if mark.name != "xfail"]
        reason = expected.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
            seen.add(item.nodeid)
    unknown = sorted(set(expected) - seen)
    if unknown and not config.getoption("keyword") and not config.getoption("markexpr"):
        raise pytest.UsageError(f"{EXPECTED_FAILURES.name} lists unknown tests: {unknown}")


# A test's outcome is its worst phase: a teardown error fails a test whose call passed.
_RANK = {"passed": 0, "xfailed": 1, "skipped": 2, "failed": 3}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        outcome = "failed"  # a strict XPASS is reported as a failure too
    elif report.skipped and hasattr(report, "wasxfail"):
        # The expected failure must be the test's own, not an error in its set-up or
        # teardown (pytest reports those as xfailed too).
        outcome = "xfailed" if report.when == "call" else "failed"
    elif report.skipped:
        outcome = "skipped"
    else:
        outcome = "passed"
    previous = _outcomes.get(report.nodeid, "passed")
    _outcomes[report.nodeid] = max(previous, outcome, key=_RANK.__getitem__)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("HCF_UPSTREAM_RESULTS")
    if path:
        Path(path).write_text(json.dumps(_outcomes, indent=1, sort_keys=True) + "\n")

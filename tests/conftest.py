"""Shared fixtures, and the rule for running a test on both HTTP/1.1 kernels.

The rule: a test runs once per kernel (ids ``c`` and ``py``) where it exercises a kernel,
and once, on the default kernel, everywhere else. It opts in by taking the ``kernel``
fixture as an argument, or a whole module does with
``pytestmark = pytest.mark.usefixtures("kernel")``. The tests that opt in:

* the kernel tables and the differential and fuzz tests (``tests/test_kernel*.py``,
  ``tests/test_fuzz_*.py``);
* the HTTP/1.1 request and response tests, whose bytes go through the kernel's parser and
  serialiser: ``tests/_async/test_requests.py`` and ``tests/_async/test_edge_cases.py``
  (and their generated sync twins), ``tests/test_limits.py``;
* httpcore's own suite (``tests/test_httpcore_suite.py``, one child run per kernel);
* the HTTP/2 behaviour tests (``tests/_async/test_http2*.py`` and their sync twins,
  ``tests/test_http2_limits.py``): the kernel selects the HTTP/2 layer too, the native one
  (``_h2_c.CFraming``) with the Cython kernel, h2 with the Python one
  (``_core/http2_framing.py``), so these run on both layers. Tests of h2's hooks and
  classes take the ``h2_only`` fixture instead.

Everything else (pools, proxies, backends, cancellation, tracing, fork, install,
soak, parity, models) runs once, on the default kernel: the Cython one when it is built.
There the kernel only carries bytes whose handling the tests above pin down.

The ``kernel`` fixture switches ``httpcore_fast._kernel`` so that every connection created
inside the test uses that kernel, and yields the kernel module (the facade-fixture pattern of
aio-libs/multidict). With ``HTTPCORE_FAST_NO_EXTENSIONS`` set only ``py`` runs; otherwise
a Cython kernel that fails to import makes every ``c`` run fail (``set_kernel`` raises
``ImportError``: never a skip), and ``tests/test_kernel_selection.py`` fails because the
default is not the Cython kernel.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from httpcore_fast import _kernel

KERNEL_IDS = ["py"] if _kernel.NO_EXTENSIONS else ["c", "py"]
_NAMES = {"c": "cython", "py": "python"}


@pytest.fixture(params=KERNEL_IDS)
def kernel(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The active kernel module for this test (``_kernel_c`` or ``_kernel_py``)."""
    previous = _kernel.kernel_name()
    _kernel.set_kernel(_NAMES[request.param])
    try:
        yield _kernel.get_kernel()
    finally:
        _kernel.set_kernel(previous)


@pytest.fixture
def h2_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """New HTTP/2 connections get h2 and hpack even with the Cython kernel (whose default
    is the native layer, ``_h2_c.CFraming``): for the tests of h2's hooks and classes."""
    monkeypatch.setenv("HTTPCORE_FAST_H2_NATIVE", "h2")

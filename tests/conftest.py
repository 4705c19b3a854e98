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
* httpcore's own suite (``tests/test_httpcore_suite.py``, one child run per kernel).

Everything else (pools, proxies, HTTP/2, backends, cancellation, tracing, fork, install,
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

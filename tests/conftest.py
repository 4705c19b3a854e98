"""Shared fixtures.

Every test runs once per kernel (ids ``c`` and ``py``), the facade-fixture pattern of
aio-libs/multidict: the autouse ``kernel`` fixture switches ``httpcore_fast._kernel`` so
that every connection created inside the test uses that kernel, and yields the kernel
module. With ``HTTPCORE_FAST_NO_EXTENSIONS`` set only ``py`` runs; otherwise a Cython
kernel that fails to import makes every ``c`` test fail (never skip).
"""

from __future__ import annotations

import pytest

from httpcore_fast import _kernel

KERNEL_IDS = ["py"] if _kernel.NO_EXTENSIONS else ["c", "py"]
_NAMES = {"c": "cython", "py": "python"}


@pytest.fixture(params=KERNEL_IDS, autouse=True)
def kernel(request: pytest.FixtureRequest):
    """The active kernel module for this test (``_kernel_c`` or ``_kernel_py``)."""
    previous = _kernel.kernel_name()
    _kernel.set_kernel(_NAMES[request.param])
    try:
        yield _kernel.get_kernel()
    finally:
        _kernel.set_kernel(previous)

"""Which kernel is active, and how it is chosen (DESIGN.md §3 selection)."""

from __future__ import annotations

import os
import subprocess
import sys
from types import ModuleType

import pytest

import httpcore_fast
from httpcore_fast import _kernel, _kernel_py


def _kernel_in_subprocess(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "HTTPCORE_FAST_NO_EXTENSIONS"}
    environ.update(env)
    result = subprocess.run(
        [sys.executable, "-c", "import httpcore_fast; print(httpcore_fast.KERNEL)"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_env_var_forces_the_python_kernel() -> None:
    assert _kernel_in_subprocess(HTTPCORE_FAST_NO_EXTENSIONS="1") == "python"


@pytest.mark.skipif(_kernel.NO_EXTENSIONS, reason="this run builds no extension on purpose")
def test_cython_kernel_is_the_default_when_built() -> None:
    # A Cython kernel that fails to import is a failure here, not a silent fallback.
    assert _kernel.CYTHON_IMPORT_ERROR is None
    assert _kernel_in_subprocess() == "cython"


def test_fixture_kernel_is_the_one_connections_get(kernel: ModuleType) -> None:
    assert _kernel.get_kernel() is kernel
    assert httpcore_fast.KERNEL == kernel.KERNEL_NAME
    connection = httpcore_fast.HTTP11Connection(
        origin=httpcore_fast.Origin(b"http", b"example.com", 80),
        stream=httpcore_fast.MockStream([]),
    )
    assert type(connection._parser).__module__ == kernel.__name__


def test_set_kernel_rejects_unknown_names() -> None:
    with pytest.raises(ValueError):
        _kernel.set_kernel("rust")


def test_python_kernel_is_always_available() -> None:
    assert _kernel_py.KERNEL_NAME == "python"

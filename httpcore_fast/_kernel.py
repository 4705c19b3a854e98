"""The kernel selector: picks the Cython or the pure-Python kernel, as one unit.

``HTTPCORE_FAST_NO_EXTENSIONS=1`` (any non-empty value) or a non-CPython interpreter
selects the pure-Python kernel; otherwise the compiled ``httpcore_fast._kernel_c`` is
used, falling back to pure Python if it cannot be imported (``KERNEL`` then says
``"python"``; the test suite treats that as a failure).

Connections call :func:`get_kernel` when they are created, never ``from ... import`` at
module import time, so :func:`set_kernel` (used by the test fixtures) takes effect for
every connection created afterwards.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from . import _kernel_py

NO_EXTENSIONS = bool(os.environ.get("HTTPCORE_FAST_NO_EXTENSIONS")) or (
    sys.implementation.name != "cpython"
)

_kernel_c: ModuleType | None
CYTHON_IMPORT_ERROR: ImportError | None = None
if NO_EXTENSIONS:
    _kernel_c = None
else:
    try:
        from . import _kernel_c  # type: ignore[no-redef]
    except ImportError as exc:  # pragma: no cover - depends on the build
        _kernel_c = None
        CYTHON_IMPORT_ERROR = exc

_current: ModuleType = _kernel_c if _kernel_c is not None else _kernel_py


def get_kernel() -> ModuleType:
    """Return the active kernel module (``_kernel_c`` or ``_kernel_py``)."""
    return _current


def kernel_name() -> str:
    """Return ``"cython"`` or ``"python"``: which kernel new connections use."""
    return "cython" if _current is _kernel_c else "python"


def set_kernel(name: str) -> None:
    """Select the kernel for connections created from now on.

    ``name`` is ``"cython"`` or ``"python"``. Raises ``ImportError`` if the Cython kernel
    is asked for but not available, ``ValueError`` for any other name.
    """
    global _current
    if name == "python":
        _current = _kernel_py
    elif name == "cython":
        if _kernel_c is None:
            raise ImportError(
                "the Cython kernel httpcore_fast._kernel_c is not available"
                + (f": {CYTHON_IMPORT_ERROR}" if CYTHON_IMPORT_ERROR else "")
            )
        _current = _kernel_c
    else:
        raise ValueError(f"unknown kernel {name!r}: expected 'cython' or 'python'")

"""Sync twins of async test modules.

``tests/test_<name>_sync.py`` (or another sync path) is generated from an async test module
with ``scripts/unasync.py``'s rewriting rules, minus what only the async module needs:
blocks between ``# --- async only ---`` and ``# --- end async only ---`` lines, and single
lines ending in ``# async only``. The sync twin is marked ``pytest.mark.network`` (the
async module's own ``pytestmark`` sits in an async-only block). Each async module checks
its twin in a test and rewrites it when run as a script.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK_START = "# --- async only ---"
BLOCK_END = "# --- end async only ---"
LINE_MARK = "# async only"


def _unasync() -> object:
    spec = importlib.util.spec_from_file_location("_unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sync_twin_text(async_path: Path) -> str:
    """The text of the sync twin of the async test module at ``async_path``."""
    kept = []
    skipping = False
    for line in async_path.read_text().splitlines(keepends=True):
        if line.startswith(BLOCK_START):
            skipping = True
        elif line.startswith(BLOCK_END):
            skipping = False
        elif not skipping and not line.rstrip().endswith(LINE_MARK):
            kept.append(line)
    body: str = _unasync().unasync_text("".join(kept))  # type: ignore[attr-defined]
    assert body.startswith('"""')
    marks = "pytestmark = [pytest.mark.network]\n"
    body = body.replace("pytest_plugins = [", marks + "pytest_plugins = [", 1)
    return f'"""Generated from tests/{async_path.name}: do not edit.\n\n' + body[3:]

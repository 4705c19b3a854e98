"""The sync modules are generated from the async ones: fail on any drift."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_sync_modules_match_their_async_source() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unasync_rewrites_the_async_tokens() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import unasync
    finally:
        sys.path.pop(0)
    source = (
        "async def f(self):\n"
        "    async with AsyncThreadLock():\n"
        "        await self.aclose()\n"
        "    async for x in AsyncIterator: pass\n"
    )
    assert unasync.unasync_text(source) == (
        "def f(self):\n    with ThreadLock():\n        self.close()\n    for x in Iterator: pass\n"
    )


def _unasync_module():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import unasync
    finally:
        sys.path.pop(0)
    return unasync


def test_marked_blocks_and_lines() -> None:
    unasync = _unasync_module()
    source = (
        "import asyncio  # async only\n"
        "async def f():\n"
        "    # --- async only ---\n"
        "    await asyncio.sleep(0)\n"
        "    # --- end async only ---\n"
        "    # --- sync only ---\n"
        "    # time.sleep(0)\n"
        "    #\n"
        "    # --- end sync only ---\n"
        "    await g()\n"
    )
    assert unasync.unasync_text(source) == "def f():\n    time.sleep(0)\n\n    g()\n"


@pytest.mark.parametrize(
    "source",
    [
        "# --- async only ---\n",  # never closed
        "# --- end async only ---\n",  # closes nothing
        "# --- async only ---\n# --- sync only ---\n",  # nested
        "# --- sync only ---\nx = 1\n# --- end sync only ---\n",  # not a comment
    ],
    ids=["unclosed", "closes-nothing", "nested", "sync-line-not-a-comment"],
)
def test_bad_markers_are_refused(source: str) -> None:
    with pytest.raises(ValueError):
        _unasync_module().unasync_text(source)

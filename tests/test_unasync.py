"""The sync modules are generated from the async ones: fail on any drift."""

import subprocess
import sys
from pathlib import Path

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
        "def f(self):\n"
        "    with ThreadLock():\n"
        "        self.close()\n"
        "    for x in Iterator: pass\n"
    )

"""One generator for the library and the tests (``scripts/unasync.py``): the sync modules
(``httpcore_fast/_sync/``, ``tests/_sync/``) are generated from the async ones; any drift
fails here."""

import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _unasync_module() -> types.ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import unasync
    finally:
        sys.path.pop(0)
    return unasync


def test_sync_modules_match_their_async_source() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_covers_library_and_tests() -> None:
    unasync = _unasync_module()
    assert [(source.relative_to(ROOT), target.relative_to(ROOT), tests) for source, target, tests in unasync.PAIRS] == [
        (Path("httpcore_fast/_async"), Path("httpcore_fast/_sync"), False),
        (Path("tests/_async"), Path("tests/_sync"), True),
    ]
    outputs = unasync.expected_outputs()
    assert ROOT / "tests" / "_sync" / "test_requests.py" in outputs
    # each side has its own conftest: never generated, never stale
    assert ROOT / "tests" / "_sync" / "conftest.py" not in outputs
    assert (ROOT / "tests" / "_sync" / "conftest.py").is_file()
    assert unasync.stale_outputs() == []


def test_unasync_rewrites_the_async_tokens() -> None:
    source = (
        "async def f(self):\n"
        "    async with AsyncThreadLock():\n"
        "        await self.aclose()\n"
        "    async for x in AsyncIterator: pass\n"
    )
    assert _unasync_module().unasync_text(source) == (
        "def f(self):\n    with ThreadLock():\n        self.close()\n    for x in Iterator: pass\n"
    )


def test_test_modules_get_the_test_rewrites_too() -> None:
    unasync = _unasync_module()
    source = (
        "from tests._async.support import wait_until\n"
        "pytestmark = [pytest.mark.network, pytest.mark.anyio]\n"
        "async def test_x():\n"
        "    async with aclosing(AsyncNursery()) as n:\n"
        "        await anyio.sleep(0.01)\n"
    )
    assert unasync.unasync_text(source, tests=True) == (
        "from tests._sync.support import wait_until\n"
        "pytestmark = [pytest.mark.network]\n"
        "def test_x():\n"
        "    with closing(Nursery()) as n:\n"
        "        time.sleep(0.01)\n"
    )
    # the library is not rewritten by the test rules
    assert unasync.unasync_text("await anyio.sleep(0)\n") == "anyio.sleep(0)\n"


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

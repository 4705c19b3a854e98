"""Fixtures of the sync tests (not generated: ``tests/_async/conftest.py`` is the async
side's).

* ``network_backend``: the pool's ``network_backend``, ``None`` (``SyncBackend``), the one
  sync stack (the async side also runs ``AnyIOBackend``);
* ``delay_server``: a fresh :class:`tests.async_servers.DelayServer`.
"""

from __future__ import annotations

import pytest

import httpcore_fast
from tests.async_servers import delay_server

__all__ = ["delay_server", "network_backend"]


@pytest.fixture
def network_backend() -> httpcore_fast.NetworkBackend | None:
    """The pool's ``network_backend``: None, the default."""
    return None

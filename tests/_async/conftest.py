"""Fixtures of the async tests (not generated: ``tests/_sync/conftest.py`` is the sync
side's).

* ``anyio_backend``: every coroutine test (module mark ``pytest.mark.anyio``) runs on
  asyncio and on trio;
* ``network_backend``: the pool's ``network_backend``, ``None`` (the running library's
  native backend) or ``AnyIOBackend()``; with the two libraries, all four async stacks;
* ``delay_server``: a fresh :class:`tests.async_servers.DelayServer`.
"""

from tests.async_servers import anyio_backend, delay_server, network_backend

__all__ = ["anyio_backend", "delay_server", "network_backend"]

"""``AutoBackend``: picks the native backend of the running async library.

asyncio -> :class:`~.asyncio.AsyncIOBackend` (native, no anyio needed),
trio -> :class:`~.trio.TrioBackend`. The choice is made on first use and kept by the
instance, so later calls cost one attribute check.
"""

from __future__ import annotations

import sys
import typing

from .base import SOCKET_OPTION, AsyncNetworkBackend, AsyncNetworkStream

__all__ = ["AutoBackend", "current_async_library"]


def current_async_library() -> str:
    """Return ``"asyncio"`` or ``"trio"`` for the library running the current task.

    Libraries that are not imported cannot be running, so nothing is imported here.
    sniffio's override (set e.g. by trio-asyncio or trio guest mode) is honoured when
    sniffio is loaded. Raises RuntimeError outside asyncio and trio.
    """
    sniffio = sys.modules.get("sniffio")
    if sniffio is not None:
        name = sniffio.thread_local.name or sniffio.current_async_library_cvar.get()
        if name in ("asyncio", "trio"):
            return typing.cast(str, name)
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio._get_running_loop() is not None:
        return "asyncio"
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            pass
        else:
            return "trio"
    raise RuntimeError("Running under an unsupported async environment.")


class AutoBackend(AsyncNetworkBackend):
    """Delegates to the backend of the async library it is first used under."""

    def __init__(self) -> None:
        self._backend: AsyncNetworkBackend | None = None

    def _detect(self) -> AsyncNetworkBackend:
        backend: AsyncNetworkBackend
        if current_async_library() == "trio":
            from .trio import TrioBackend

            backend = TrioBackend()
        else:
            from .asyncio import AsyncIOBackend

            backend = AsyncIOBackend()
        self._backend = backend
        return backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`AsyncNetworkBackend.connect_tcp`; RuntimeError outside
        asyncio and trio."""
        backend = self._backend or self._detect()
        return await backend.connect_tcp(
            host,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`AsyncNetworkBackend.connect_unix_socket`."""
        backend = self._backend or self._detect()
        return await backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        """Suspend for ``seconds`` seconds under the running library."""
        backend = self._backend or self._detect()
        await backend.sleep(seconds)

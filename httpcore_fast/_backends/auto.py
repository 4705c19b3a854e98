"""``AutoBackend``: picks the native backend of the running async library.

asyncio -> :class:`~.asyncio.AsyncIOBackend` (native, no anyio needed),
trio -> :class:`~.trio.TrioBackend`. The choice is made on first use and kept by the
instance, so later calls cost one attribute check.
"""

from __future__ import annotations

import typing

from .._synchronization import current_async_library
from .base import SOCKET_OPTION, AsyncNameResolver, AsyncNetworkBackend, AsyncNetworkStream

__all__ = ["AutoBackend", "current_async_library"]


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

    async def _connect_tcp_with_resolver(
        self,
        resolver: AsyncNameResolver,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """The chosen backend's ``_connect_tcp_with_resolver`` (see
        :meth:`AsyncNetworkBackend._connect_tcp_with_resolver`)."""
        backend = self._backend or self._detect()
        return await backend._connect_tcp_with_resolver(
            resolver,
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

"""In-memory backends for tests: each stream replays a list of byte chunks.

``MockBackend(buffer, http2=False)`` (and ``AsyncMockBackend``) hand every connection a
``MockStream(list(buffer), http2=...)``: ``read`` returns the next chunk (``b""`` once
they are used up; ``ReadError`` after ``close``), ``write`` discards, ``start_tls``
returns the same stream and ``get_extra_info("ssl_object")`` returns an object whose
``selected_alpn_protocol()`` is ``"h2"`` if ``_http2`` else ``"http/1.1"``.

Users subclass these (e.g. flipping ``_http2`` in ``start_tls``), so the private
attributes ``_buffer`` and ``_http2`` are part of the contract.
"""

from __future__ import annotations

import typing

from .._exceptions import ReadError

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl
from .base import (
    SOCKET_OPTION,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    NetworkBackend,
    NetworkStream,
    copy_into,
)

__all__ = ["AsyncMockBackend", "AsyncMockStream", "MockBackend", "MockSSLObject", "MockStream"]


class MockSSLObject:
    """Stands in for ``ssl.SSLObject``: only ``selected_alpn_protocol()``."""

    def __init__(self, http2: bool) -> None:
        self._http2 = http2

    def selected_alpn_protocol(self) -> str:
        """``"h2"`` or ``"http/1.1"``."""
        return "h2" if self._http2 else "http/1.1"


class MockStream(NetworkStream):
    """A stream that returns the chunks of ``buffer`` (a list, consumed) in order."""

    def __init__(self, buffer: list[bytes], http2: bool = False) -> None:
        self._buffer = buffer
        self._http2 = http2
        self._closed = False

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Pop the next chunk whatever ``max_bytes`` is; ``b""`` when none is left.

        Raises:
            ReadError: after :meth:`close`.
        """
        if self._closed:
            raise ReadError("Connection closed")
        return self._buffer.pop(0) if self._buffer else b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Discard ``buffer``."""

    def close(self) -> None:
        self._closed = True

    def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """The next chunk into ``buffer``; what does not fit stays first in line (for
        this method and :meth:`read`)."""
        n, rest = copy_into(buffer, self.read(len(buffer), timeout))
        if rest:
            self._buffer.insert(0, rest)
        return n


    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """Return this same stream."""
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        """A :class:`MockSSLObject` for ``"ssl_object"``, None for anything else."""
        if info == "ssl_object":
            return MockSSLObject(http2=self._http2)
        return None

    def __repr__(self) -> str:
        return "<httpcore.MockStream>"


class MockBackend(NetworkBackend):
    """Every connect returns ``MockStream(list(buffer), http2=http2)``; sleep returns
    at once."""

    def __init__(self, buffer: list[bytes], http2: bool = False) -> None:
        self._buffer = buffer
        self._http2 = http2

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        return MockStream(list(self._buffer), http2=self._http2)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        return MockStream(list(self._buffer), http2=self._http2)

    def sleep(self, seconds: float) -> None:
        pass


class AsyncMockStream(AsyncNetworkStream):
    """Async twin of :class:`MockStream`."""

    def __init__(self, buffer: list[bytes], http2: bool = False) -> None:
        self._buffer = buffer
        self._http2 = http2
        self._closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Pop the next chunk; ``b""`` when none is left; ``ReadError`` after close."""
        if self._closed:
            raise ReadError("Connection closed")
        return self._buffer.pop(0) if self._buffer else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Discard ``buffer``."""

    async def aclose(self) -> None:
        self._closed = True

    async def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """See :meth:`MockStream._recv_into`."""
        n, rest = copy_into(buffer, await self.read(len(buffer), timeout))
        if rest:
            self._buffer.insert(0, rest)
        return n


    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        """Return this same stream."""
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        """A :class:`MockSSLObject` for ``"ssl_object"``, None for anything else."""
        if info == "ssl_object":
            return MockSSLObject(http2=self._http2)
        return None

    def __repr__(self) -> str:
        return "<httpcore.AsyncMockStream>"


class AsyncMockBackend(AsyncNetworkBackend):
    """Async twin of :class:`MockBackend`."""

    def __init__(self, buffer: list[bytes], http2: bool = False) -> None:
        self._buffer = buffer
        self._http2 = http2

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return AsyncMockStream(list(self._buffer), http2=self._http2)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return AsyncMockStream(list(self._buffer), http2=self._http2)

    async def sleep(self, seconds: float) -> None:
        pass

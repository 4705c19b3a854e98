"""The network backend interfaces of httpcore 1.0.x (sync and async).

A backend opens streams (``connect_tcp``, ``connect_unix_socket``) and sleeps; a stream
reads, writes, upgrades to TLS and answers ``get_extra_info``. Connections speak only to
these interfaces, so users can plug in their own (as httpcore's mock backends do).
"""

from __future__ import annotations

import socket
import ssl
import time
import typing

SOCKET_OPTION = typing.Union[
    typing.Tuple[int, int, int],
    typing.Tuple[int, int, typing.Union[bytes, bytearray]],
    typing.Tuple[int, int, None, int],
]

# RFC 8305 §5 "Connection Attempt Delay": a connection attempt to the next address starts
# this many seconds after the previous one if that has not finished (or at once if it
# failed). 250 ms is the RFC's recommended value (trio and anyio use it too).
HAPPY_EYEBALLS_DELAY = 0.25


def close_socket_after_fork(stream: typing.Any) -> None:
    """The default ``_close_after_fork()``: close ``stream.get_extra_info("socket")`` if it
    is a ``socket.socket`` (an ``ssl.SSLSocket`` included: closing it sends no
    close_notify). Never raises."""
    try:
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            sock.close()
    except Exception:  # noqa: BLE001 - the contract: never raise in an at-fork hook
        pass


class NetworkStream:
    """A connected byte stream (blocking I/O). Timeouts are in seconds, None = no limit."""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes; ``b""`` at end of stream.

        Raises ``ReadTimeout`` / ``ReadError``.
        """
        raise NotImplementedError()  # pragma: nocover

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer``. Raises ``WriteTimeout`` / ``WriteError``."""
        raise NotImplementedError()  # pragma: nocover

    def close(self) -> None:
        raise NotImplementedError()  # pragma: nocover

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """Return a TLS stream over this one. Raises ``ConnectTimeout`` / ``ConnectError``."""
        raise NotImplementedError()  # pragma: nocover

    def get_extra_info(self, info: str) -> typing.Any:
        """``"ssl_object"``, ``"client_addr"``, ``"server_addr"``, ``"socket"``,
        ``"is_readable"``; None for anything else."""
        return None  # pragma: nocover

    def _cancelled_write_sent_all(self) -> bool:
        """True if a :meth:`write` interrupted by a cancellation never stops part way: it
        has handed all of its bytes on (they will be sent), or none. HTTP/2 keeps a
        connection whose write was cut by a cancellation only then (with part of a frame
        sent, the framing is broken and the connection must fail). Default: True, what
        httpcore assumes of every stream (its own test streams included); the streams
        known to stop part way (trio's sockets, anyio's Unix sockets, TLS inside TLS over
        memory BIOs) say False."""
        return True

    def _close_after_fork(self) -> None:
        """Release this process's copies of the stream's file descriptors, in a child
        process forked while the stream was open (the parent keeps using the stream).

        No protocol action: no TLS close_notify, no write, nothing that reaches the
        parent's event loop. Never raises, idempotent, and leaves nothing that later
        warns (``ResourceWarning``) or closes a file descriptor number again. Default:
        close ``get_extra_info("socket")`` if it is a ``socket.socket``; streams whose
        socket is something else override it.
        """
        close_socket_after_fork(self)


class NetworkBackend:
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        raise NotImplementedError()  # pragma: nocover

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        raise NotImplementedError()  # pragma: nocover

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)  # pragma: nocover


class AsyncNetworkStream:
    """The async twin of :class:`NetworkStream`."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        raise NotImplementedError()  # pragma: nocover

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        raise NotImplementedError()  # pragma: nocover

    async def aclose(self) -> None:
        raise NotImplementedError()  # pragma: nocover

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        raise NotImplementedError()  # pragma: nocover

    def get_extra_info(self, info: str) -> typing.Any:
        return None  # pragma: nocover

    def _cancelled_write_sent_all(self) -> bool:
        """See :meth:`NetworkStream._cancelled_write_sent_all`. Default: True."""
        return True

    def _close_after_fork(self) -> None:
        """A plain (not async) method: see :meth:`NetworkStream._close_after_fork`."""
        close_socket_after_fork(self)


class AsyncNetworkBackend:
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise NotImplementedError()  # pragma: nocover

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise NotImplementedError()  # pragma: nocover

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError()  # pragma: nocover

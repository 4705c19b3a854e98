"""The trio network backend, on trio directly (no anyio layer).

trio is imported here only, when this module is imported. Socket options are applied
right after connecting (``trio.open_tcp_stream`` opens the socket itself, with happy
eyeballs and ``TCP_NODELAY``).

The pool's connections resolve names through its resolver
(:meth:`TrioBackend._connect_tcp_with_resolver`: ``trio.socket.getaddrinfo``, then a
Happy Eyeballs race over the addresses, :func:`~.base.staggered_connect`, as trio offers
no connect over a list of addresses) and offer TLS sessions for resumption
(:meth:`TrioStream._start_tls_with_session`: trio's ``SSLStream`` takes no session, so
it gets a context whose ``wrap_bio`` offers one, :func:`~.base.offering_session`).
"""

from __future__ import annotations

import os
import socket
import ssl
import typing

import trio

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .base import (
    SOCKET_OPTION,
    AddrInfo,
    AsyncNameResolver,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    address_text,
    offering_session,
    set_socket_options,
    socket_is_readable,
    staggered_connect,
)

__all__ = ["TrioBackend", "TrioStream"]

# trio wraps socket and TLS failures in BrokenResourceError; use after close is
# ClosedResourceError; OSError covers name resolution and connect failures.
_FAILURES = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)

_T = typing.TypeVar("_T")


async def _bounded(
    operation: typing.Awaitable[_T],
    timeout: float | None,
    on_timeout: type[Exception],
    on_failure: type[Exception],
) -> _T:
    """Await ``operation``, failing after ``timeout`` seconds (None: never) with
    ``on_timeout``; trio's stream and socket errors become ``on_failure``."""
    try:
        if timeout is None:
            return await operation
        with trio.fail_after(max(timeout, 0.0)):
            return await operation
    except trio.TooSlowError as exc:
        raise on_timeout(exc) from exc
    except _FAILURES as exc:
        raise on_failure(exc) from exc


class TrioStream(AsyncNetworkStream):
    """A connected trio stream (``trio.SocketStream`` or ``trio.SSLStream``)."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes, ``b""`` at end of stream. ``timeout`` in
        seconds (None: no limit). Raises ``ReadTimeout`` or ``ReadError``."""
        data = await _bounded(
            self._stream.receive_some(max_bytes), timeout, ReadTimeout, ReadError
        )
        return bytes(data)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer``. ``timeout`` in seconds (None: no limit). Raises
        ``WriteTimeout`` or ``WriteError``."""
        if buffer:
            await _bounded(self._stream.send_all(buffer), timeout, WriteTimeout, WriteError)

    async def aclose(self) -> None:
        """Close the stream (and the socket below it)."""
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        """Handshake TLS over this stream and return the TLS stream. ``timeout`` in
        seconds (None: no limit). Raises ``ConnectTimeout`` or ``ConnectError``; this
        stream is closed on failure."""
        return await self._start_tls_with_session(ssl_context, server_hostname, timeout)

    async def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> AsyncNetworkStream:
        """:meth:`start_tls` offering ``session`` (from an earlier handshake with
        ``ssl_context``) for resumption; see
        :meth:`AsyncNetworkStream._start_tls_with_session`."""
        tls_stream = trio.SSLStream(
            self._stream,
            offering_session(ssl_context, session),
            server_hostname=server_hostname,
            server_side=False,
            https_compatible=True,  # tolerate peers that skip close_notify
        )
        try:
            await _bounded(tls_stream.do_handshake(), timeout, ConnectTimeout, ConnectError)
        except BaseException:
            with trio.CancelScope(shield=True):
                await self._stream.aclose()
            raise
        return TrioStream(tls_stream)

    def _cancelled_write_sent_all(self) -> bool:
        """False: a trio socket write can be cancelled after the socket took part of
        the buffer."""
        return False

    def _close_after_fork(self) -> None:
        """In a forked child: close the child's copy of the socket. ``detach()`` takes
        the descriptor away from the trio socket (whose own ``close()`` would call into
        the inherited trio run's I/O manager, whose epoll is the parent's too), so that a
        later close is a no-op; no TLS close_notify. See
        :meth:`AsyncNetworkStream._close_after_fork`."""
        try:
            socket_stream = self._socket_stream()
            if socket_stream is not None:
                fd = socket_stream.socket.detach()
                if fd >= 0:
                    os.close(fd)
        except Exception:  # noqa: BLE001 - never raise in an at-fork hook
            pass

    def _socket_stream(self) -> trio.SocketStream | None:
        stream = self._stream
        while isinstance(stream, trio.SSLStream):
            stream = stream.transport_stream
        return stream if isinstance(stream, trio.SocketStream) else None

    def get_extra_info(self, info: str) -> typing.Any:
        """``"ssl_object"``, ``"client_addr"``, ``"server_addr"``, ``"socket"`` (trio
        socket), ``"is_readable"`` (bool, checked without blocking); None otherwise."""
        if info == "ssl_object":
            if isinstance(self._stream, trio.SSLStream):
                # trio offers no public accessor for the SSLObject it drives.
                return getattr(self._stream, "_ssl_object", None)
            return None
        if info not in ("client_addr", "server_addr", "socket", "is_readable"):
            return None
        socket_stream = self._socket_stream()
        sock = socket_stream.socket if socket_stream is not None else None
        if info == "socket":
            return sock
        if info == "is_readable":
            if isinstance(self._stream, trio.SSLStream) and self._stream.pending():
                return True
            return socket_is_readable(sock)
        if sock is None:
            return None
        try:
            return sock.getsockname() if info == "client_addr" else sock.getpeername()
        except OSError:  # closed
            return None


async def _opened(
    connect: typing.Awaitable[trio.SocketStream],
    timeout: float | None,
    socket_options: typing.Iterable[SOCKET_OPTION] | None,
) -> TrioStream:
    stream = await _bounded(connect, timeout, ConnectTimeout, ConnectError)
    await set_socket_options(stream, socket_options, stream.aclose)
    return TrioStream(stream)


async def _getaddrinfo(host: str, port: int) -> list[AddrInfo]:
    """The TCP addresses of ``host`` (trio's ``getaddrinfo``: a worker thread for a
    name, none for an IP literal; ``OSError`` if none)."""
    infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return typing.cast("list[AddrInfo]", infos)


async def _discard(stream: trio.SocketStream) -> None:
    with trio.CancelScope(shield=True):
        await stream.aclose()


async def _connect_resolved(
    resolver: AsyncNameResolver, host: str, port: int, local_address: str | None
) -> trio.SocketStream:
    """Resolve ``host`` through ``resolver`` (with :func:`_getaddrinfo`), then race
    the addresses (:func:`~.base.staggered_connect`): each attempt is
    ``trio.open_tcp_stream`` of one IP address (no lookup), so trio still sets
    ``TCP_NODELAY`` and binds ``local_address``."""
    infos = await resolver.resolve(host, port, _getaddrinfo)

    def attempt(info: AddrInfo) -> typing.Awaitable[trio.SocketStream]:
        return trio.open_tcp_stream(address_text(info), info[4][1], local_address=local_address)

    return await staggered_connect(
        infos,
        attempt,
        _discard,
        open_group=trio.open_nursery,
        make_event=trio.Event,
        move_on_after=trio.move_on_after,
    )


class TrioBackend(AsyncNetworkBackend):
    """Network backend for code running under trio."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a TCP connection (happy eyeballs across resolved addresses).

        ``timeout`` in seconds (None: no limit); ``local_address`` is a host to bind
        to; ``socket_options`` are ``setsockopt`` tuples applied once connected. Raises
        ``ConnectTimeout`` or ``ConnectError``.
        """
        connect = trio.open_tcp_stream(host, port, local_address=local_address)
        return await _opened(connect, timeout, socket_options)

    async def _connect_tcp_with_resolver(
        self,
        resolver: AsyncNameResolver,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`AsyncNetworkBackend._connect_tcp_with_resolver`: trio's lookup
        through the ``resolver``, then :func:`_connect_resolved`; ``timeout`` (seconds)
        is one deadline for the wait, the lookup and the race."""
        connect = _connect_resolved(resolver, host, port, local_address)
        return await _opened(connect, timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a connection to the Unix socket at ``path``; ``timeout`` in seconds.
        Raises ``ConnectTimeout`` or ``ConnectError``."""
        return await _opened(trio.open_unix_socket(path), timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        """Suspend for ``seconds`` seconds."""
        await trio.sleep(seconds)

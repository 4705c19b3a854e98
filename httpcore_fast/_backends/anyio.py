"""The anyio network backend: the same interface over anyio 4 (asyncio or trio below).

The default on asyncio is the native backend (:mod:`.asyncio`), which avoids anyio's
per-operation cost; this one is kept for users who pass ``AnyIOBackend()`` explicitly
(it is public API) or run anyio on a loop the native backend does not cover. anyio is
imported here only, when this module is imported.

Socket options are applied right after connecting (anyio opens the socket itself).

The pool's connections resolve names through its resolver
(:meth:`AnyIOBackend._connect_tcp_with_resolver`: ``anyio.getaddrinfo``, then a Happy
Eyeballs race over the addresses, :func:`~.base.staggered_connect`, as anyio offers no
connect over a list of addresses) and offer TLS sessions for resumption
(:meth:`AnyIOStream._start_tls_with_session`: anyio's ``TLSStream.wrap`` takes no
session, so it gets a context whose ``wrap_bio`` offers one,
:func:`~.base.offering_session`; anyio calls the ``wrap_bio`` of a context that is not
exactly ``ssl.SSLContext`` in a worker thread, so a resumed handshake costs one thread
hop more than a full one).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import typing

import anyio
import anyio.abc
import anyio.lowlevel
from anyio.streams.tls import TLSAttribute, TLSStream

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .asyncio import _close_foreign, _detach_transport
from .base import (
    SOCKET_OPTION,
    AddrInfo,
    AsyncNameResolver,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    address_text,
    close_socket_after_fork,
    offering_session,
    set_socket_options,
    socket_is_readable,
    staggered_connect,
)

__all__ = ["AnyIOBackend", "AnyIOStream"]

# anyio reports socket failures as BrokenResourceError, use after close as
# ClosedResourceError; OSError (ssl.SSLError included) covers what slips through.
_FAILURES = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)

_T = typing.TypeVar("_T")


async def _guarded(
    operation: typing.Awaitable[_T],
    timeout: float | None,
    on_timeout: type[Exception],
    on_failure: type[Exception],
) -> _T:
    """Await ``operation`` within ``timeout`` seconds (None: no limit), mapping anyio's
    timeout to ``on_timeout`` and stream failures to ``on_failure``."""
    try:
        if timeout is None:
            return await operation
        with anyio.fail_after(timeout):
            return await operation
    except TimeoutError as exc:
        raise on_timeout(exc) from exc
    except _FAILURES as exc:
        raise on_failure(exc) from exc


class _HandOffFirst(anyio.abc.ByteStream):
    """anyio's asyncio socket stream, whose ``send`` hands the bytes to the transport
    before it can wait, as the native backend's ``write`` does.

    anyio's own ``send`` first waits for a paused transport to drain (and checks for a
    pending anyio cancellation), so a write cancelled there sent nothing, while every
    other cancelled write sent everything: the bytes are in the transport, which sends
    them. HTTP/2 relies on one rule for asyncio (a cancelled write sent all of its bytes,
    so the framing and the flow-control state are intact); TLS too (a record lost from
    the middle breaks the connection). Here a write is all or nothing: it fails
    (``BrokenResourceError``, ``ClosedResourceError``) before the transport takes
    anything, or the transport takes all of it and what follows is only waiting (for the
    transport to drain, then a checkpoint, as anyio's ``send`` ends). Everything else is
    the wrapped stream's (``transport_stream``).
    """

    def __init__(self, stream: typing.Any) -> None:
        self.transport_stream = stream  # also how _asyncio_transport() finds the transport
        self._transport = stream._transport
        self._protocol = stream._protocol

    @classmethod
    def wrap(cls, stream: anyio.abc.ByteStream) -> anyio.abc.ByteStream:
        """``stream`` wrapped if it is anyio's asyncio socket stream (its transport,
        protocol with ``write_event`` and ``_closed`` flag found), else ``stream``."""
        if asyncio._get_running_loop() is None:
            return stream  # trio: its writes are the socket's own
        protocol = getattr(stream, "_protocol", None)
        if (
            hasattr(stream, "_transport")
            and hasattr(stream, "_closed")
            and isinstance(getattr(protocol, "write_event", None), asyncio.Event)
        ):
            return cls(stream)
        return stream  # pragma: no cover - an anyio release with other internals

    def _check(self) -> None:
        if self.transport_stream._closed:
            raise anyio.ClosedResourceError
        exception = self._protocol.exception
        if exception is not None:
            raise anyio.BrokenResourceError from exception

    async def send(self, item: bytes) -> None:
        self._check()
        transport = self._transport
        if transport.is_closing():
            # A send failed inside the transport: connection_lost is still to come.
            raise anyio.BrokenResourceError
        transport.write(item)
        write_event = self._protocol.write_event  # pause_writing() replaces it
        if write_event.is_set():
            await anyio.lowlevel.checkpoint()
        else:
            await write_event.wait()
            self._check()

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return typing.cast(bytes, await self.transport_stream.receive(max_bytes))

    async def send_eof(self) -> None:
        await self.transport_stream.send_eof()

    async def aclose(self) -> None:
        await self.transport_stream.aclose()

    @property
    def extra_attributes(self) -> typing.Mapping[typing.Any, typing.Callable[[], typing.Any]]:
        return typing.cast(
            typing.Mapping[typing.Any, typing.Callable[[], typing.Any]],
            self.transport_stream.extra_attributes,
        )


class AnyIOStream(AsyncNetworkStream):
    """A connected anyio byte stream (socket or TLS).

    On asyncio the stream belongs to the event loop it was opened on: once that loop is
    closed or is not the running one (a pool reused across ``asyncio.run`` calls), it
    reads as readable (so the pool discards it) and :meth:`aclose` closes its socket
    without that loop.
    """

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        # The asyncio loop the stream was opened on (None under trio).
        self._loop = asyncio._get_running_loop()

    def _foreign_loop(self) -> bool:
        """True on asyncio when this stream's loop is closed or not the running one."""
        return self._loop is not None and self._loop is not asyncio._get_running_loop()

    def _asyncio_transport(self) -> typing.Any:
        """The asyncio transport under the (TLS) stream layers, or None."""
        stream: typing.Any = self._stream
        while hasattr(stream, "transport_stream"):  # anyio's TLSStream (memory BIO)
            stream = stream.transport_stream
        return getattr(stream, "_transport", None)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes, ``b""`` at end of stream. ``timeout`` in
        seconds (None: no limit). Raises ``ReadTimeout`` or ``ReadError``."""
        try:
            return await _guarded(self._stream.receive(max_bytes), timeout, ReadTimeout, ReadError)
        except anyio.EndOfStream:
            return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer``. ``timeout`` in seconds (None: no limit). Raises
        ``WriteTimeout`` or ``WriteError``."""
        if buffer:
            await _guarded(self._stream.send(buffer), timeout, WriteTimeout, WriteError)

    async def aclose(self) -> None:
        """Close the stream (and any stream below it). On a closed or foreign asyncio
        loop: close the socket without that loop, without raising or warning."""
        if self._foreign_loop():
            assert self._loop is not None
            transport = self._asyncio_transport()
            if transport is not None:
                _close_foreign(self._loop, transport)
            return
        await self._stream.aclose()

    def _cancelled_write_sent_all(self) -> bool:
        """True when the stream (or the stream under its TLS layers) is anyio's asyncio
        socket stream wrapped by :class:`_HandOffFirst`: every send hands all its bytes
        to the transport before it can wait. False under trio and for anyio's Unix socket
        streams (their ``send`` loops over ``sock.send`` and can stop part way)."""
        stream: typing.Any = self._stream
        while not isinstance(stream, _HandOffFirst) and hasattr(stream, "transport_stream"):
            stream = stream.transport_stream
        return isinstance(stream, _HandOffFirst)

    def _close_after_fork(self) -> None:
        """In a forked child: close the child's copy of the socket, with no TLS
        close_notify and nothing reaching the inherited event loop or trio run. See
        :meth:`AsyncNetworkStream._close_after_fork`."""
        try:
            transport = self._asyncio_transport()
            if transport is not None:  # asyncio: the raw socket is inside the transport
                _detach_transport(transport, unregister=False)
            else:  # trio: the raw socket is a socket.socket, closed as it is
                close_socket_after_fork(self)
        except Exception:  # noqa: BLE001 - never raise in an at-fork hook
            pass

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
        handshake = TLSStream.wrap(
            self._stream,
            ssl_context=offering_session(ssl_context, session),
            hostname=server_hostname,
            server_side=False,
            standard_compatible=False,  # HTTP peers often skip close_notify
        )
        try:
            try:
                tls_stream = await _guarded(handshake, timeout, ConnectTimeout, ConnectError)
            except anyio.EndOfStream as exc:  # the peer hung up mid-handshake
                raise ConnectError(exc) from exc
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stream.aclose()
            raise
        return AnyIOStream(tls_stream)

    def get_extra_info(self, info: str) -> typing.Any:
        """``"ssl_object"``, ``"client_addr"``, ``"server_addr"``, ``"socket"``,
        ``"is_readable"`` (bool, checked without blocking; True on a closed or foreign
        asyncio loop); None for anything else."""
        extra = self._stream.extra
        if info == "ssl_object":
            return extra(TLSAttribute.ssl_object, None)
        if info == "client_addr":
            return extra(anyio.abc.SocketAttribute.local_address, None)
        if info == "server_addr":
            return extra(anyio.abc.SocketAttribute.remote_address, None)
        if info == "socket":
            return extra(anyio.abc.SocketAttribute.raw_socket, None)
        if info == "is_readable":
            if self._foreign_loop():
                return True
            ssl_object = extra(TLSAttribute.ssl_object, None)
            if ssl_object is not None and ssl_object.pending():
                return True
            return socket_is_readable(extra(anyio.abc.SocketAttribute.raw_socket, None))
        return None


async def _with_options(
    connect: typing.Awaitable[anyio.abc.SocketStream],
    timeout: float | None,
    socket_options: typing.Iterable[SOCKET_OPTION] | None,
) -> AnyIOStream:
    stream = await _guarded(connect, timeout, ConnectTimeout, ConnectError)
    sock = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    await set_socket_options(sock, socket_options, stream.aclose)
    return AnyIOStream(_HandOffFirst.wrap(stream))


async def _getaddrinfo(host: str, port: int) -> list[AddrInfo]:
    """The TCP addresses of ``host`` (``anyio.getaddrinfo``: IDNA 2008, an IPv6 scope
    id kept in the address text; ``OSError`` if none)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return typing.cast("list[AddrInfo]", infos)


async def _discard(stream: anyio.abc.SocketStream) -> None:
    with anyio.CancelScope(shield=True):
        await stream.aclose()


async def _connect_resolved(
    resolver: AsyncNameResolver, host: str, port: int, local_address: str | None
) -> anyio.abc.SocketStream:
    """Resolve ``host`` through ``resolver`` (with :func:`_getaddrinfo`), then race
    the addresses (:func:`~.base.staggered_connect`): each attempt is
    ``anyio.connect_tcp`` of one IP address (no lookup)."""
    infos = await resolver.resolve(host, port, _getaddrinfo)

    def attempt(info: AddrInfo) -> typing.Awaitable[anyio.abc.SocketStream]:
        return anyio.connect_tcp(address_text(info), info[4][1], local_host=local_address)

    return await staggered_connect(
        infos,
        attempt,
        _discard,
        open_group=anyio.create_task_group,
        make_event=anyio.Event,
        move_on_after=anyio.move_on_after,
    )


class AnyIOBackend(AsyncNetworkBackend):
    """Network backend over anyio (works on asyncio and on trio)."""

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
        connect = anyio.connect_tcp(host, port, local_host=local_address)
        return await _with_options(connect, timeout, socket_options)

    async def _connect_tcp_with_resolver(
        self,
        resolver: AsyncNameResolver,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`AsyncNetworkBackend._connect_tcp_with_resolver`: anyio's lookup
        through the ``resolver``, then :func:`_connect_resolved` (one deadline of
        ``timeout`` seconds for all of it)."""
        connect = _connect_resolved(resolver, host, port, local_address)
        return await _with_options(connect, timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a connection to the Unix socket at ``path``; ``timeout`` in seconds.
        Raises ``ConnectTimeout`` or ``ConnectError``."""
        return await _with_options(anyio.connect_unix(path), timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        """Suspend for ``seconds`` seconds."""
        await anyio.sleep(seconds)

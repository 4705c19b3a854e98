"""The network backend interfaces of httpcore 1.0.x (sync and async).

A backend opens streams (``connect_tcp``, ``connect_unix_socket``) and sleeps; a stream
reads, writes, upgrades to TLS and answers ``get_extra_info``. Connections speak only to
these interfaces, so users can plug in their own (as httpcore's mock backends do).

Beyond httpcore's interface, a stream declares optional capabilities as underscore
methods with defaults that are right for any stream (built on the public methods), which
our streams override with faster or more precise versions:

==============================  =============================  ============================
capability                      default                        overridden by
==============================  =============================  ============================
``_recv_into(buffer, timeout)`` ``read(len(buffer))`` copied   the sync streams, the native
(receive into the caller's      into ``buffer`` (the rest of   asyncio stream, the mock
buffer: HTTP/1.1's parser)      a longer read kept, handed     streams, the upgrade stream
                                on by ``_take_unread()``)
``_is_readable()`` (an idle     ``get_extra_info(              the sync stream, the native
connection's liveness check)    "is_readable")``, or True      asyncio stream, the upgrade
                                with bytes kept by             stream
                                ``_recv_into``
``_socket()``                   ``get_extra_info("socket")``   the sync streams, the
                                                               upgrade stream
``_cancelled_write_sent_all()`` True (httpcore's assumption)   trio, anyio (False under
                                                               trio and for Unix sockets),
                                                               memory-BIO TLS, the upgrade
                                                               stream
``_close_after_fork()``         close ``_socket()`` if it is   the native asyncio, anyio,
                                a ``socket.socket``            trio, memory-BIO TLS and
                                                               upgrade streams
``_start_tls_with_session(...,  ``start_tls(...)``: no         the sync, native asyncio,
session)`` (offer a TLS         session offered, a full        anyio and trio streams
session to resume)              handshake
==============================  =============================  ============================

The upgrade stream (``_async/http11.py``: the stream after a 101, a CONNECT or a SOCKS
handshake) passes every capability on to the stream below it, so TLS to an origin inside a
proxy tunnel resumes too.

A backend declares one optional capability the same way:

======================================  ========================  ==========================
capability                              default                   overridden by
======================================  ========================  ==========================
``_connect_tcp_with_resolver(resolver,  the ``resolve=``          the sync, native asyncio,
host, port, ...)`` (connect through     override addresses of     anyio and trio backends
the pool's resolver: overrides, DNS     ``host`` tried in order   (and ``AutoBackend``,
cache, coalesced lookups)               with ``connect_tcp``,     which passes it on)
                                        else ``connect_tcp(host,
                                        ...)``
======================================  ========================  ==========================

So a third-party backend keeps resolving names in its own ``connect_tcp`` (httpcore's
interface, unchanged) and still honours ``resolve=``; the overriding ones look names up
through the resolver (:class:`AsyncNameResolver` / :class:`NameResolver`) and connect to
the addresses it gives with Happy Eyeballs (RFC 8305): the sync backend with its own
``poll`` race, the native asyncio backend with ``aiohappyeyeballs``, trio and anyio with :func:`staggered_connect` (neither library connects
over a given address list).
"""

from __future__ import annotations

import itertools
import select
import socket
import sys
import time
import typing

from .._exceptions import ConnectError

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl
    from collections.abc import Awaitable, Callable, Sequence

SOCKET_OPTION = typing.Union[
    typing.Tuple[int, int, int],
    typing.Tuple[int, int, typing.Union[bytes, bytearray]],
    typing.Tuple[int, int, None, int],
]

AddrInfo = typing.Tuple[int, int, int, str, typing.Tuple[typing.Any, ...]]
"""One ``socket.getaddrinfo`` result: ``(family, type, proto, canonname, sockaddr)``."""


class NameResolver(typing.Protocol):
    """The pool's resolver, as a sync backend's ``_connect_tcp_with_resolver`` sees it
    (``_sync/connection.py``'s ``PoolResolver``)."""

    def override_addresses(self, host: str) -> Sequence[str] | None:
        """The ``resolve=`` addresses of ``host`` (IP literals, in order), or None."""

    def resolve(
        self,
        host: str,
        port: int,
        lookup: Callable[[str, int], list[AddrInfo]],
        timeout: float | None = None,
    ) -> list[AddrInfo]:
        """The addresses of ``host`` with ``port``: from the overrides, an IP literal,
        the cache, a lookup of the same name another thread runs now (waiting at most
        ``timeout`` seconds, then ``TimeoutError``), or ``lookup(host, port)`` (the
        backend's ``getaddrinfo``, whose ``OSError`` propagates)."""
        ...


class AsyncNameResolver(typing.Protocol):
    """The pool's resolver, as an async backend's ``_connect_tcp_with_resolver`` sees it
    (``_async/connection.py``'s ``AsyncPoolResolver``)."""

    def override_addresses(self, host: str) -> Sequence[str] | None:
        """See :meth:`NameResolver.override_addresses`."""

    async def resolve(
        self,
        host: str,
        port: int,
        lookup: Callable[[str, int], Awaitable[list[AddrInfo]]],
        timeout: float | None = None,
    ) -> list[AddrInfo]:
        """See :meth:`NameResolver.resolve` (async backends bound the whole connect with
        their own timeout and pass None)."""
        ...


def interleave_families(infos: typing.Sequence[AddrInfo]) -> list[AddrInfo]:
    """Order ``getaddrinfo`` results for connection attempts (RFC 8305 §4, "First
    Address Family Count" 1): the first address's family first, then alternating with
    the other family (v6, v4, v6, v4 ... for a v6-first answer), each family keeping
    its own order. Returns a new list."""
    by_family: dict[int, list[AddrInfo]] = {}
    for info in infos:
        by_family.setdefault(info[0], []).append(info)
    rounds = itertools.zip_longest(*by_family.values())
    return [info for round_ in rounds for info in round_ if info is not None]


def address_text(info: AddrInfo) -> str:
    """The IP address of a ``getaddrinfo`` result as text that ``connect_tcp`` of any
    library accepts (an IPv6 scope id as ``%<number>``)."""
    sockaddr = info[4]
    if info[0] == socket.AF_INET6 and len(sockaddr) > 3 and sockaddr[3]:
        return f"{sockaddr[0]}%{sockaddr[3]}"
    return str(sockaddr[0])


# RFC 8305 §5 "Connection Attempt Delay": a connection attempt to the next address starts
# this many seconds after the previous one if that has not finished (or at once if it
# failed). 250 ms is the RFC's recommended value (trio and anyio use it too).
HAPPY_EYEBALLS_DELAY = 0.25


_S = typing.TypeVar("_S")


async def staggered_connect(
    infos: Sequence[AddrInfo],
    attempt: Callable[[AddrInfo], Awaitable[_S]],
    discard: Callable[[_S], Awaitable[object]],
    *,
    open_group: Callable[[], typing.AsyncContextManager[typing.Any]],
    make_event: Callable[[], typing.Any],
    move_on_after: Callable[[float], typing.ContextManager[typing.Any]],
    delay: float | None = None,
) -> _S:
    """Connect to the first address of ``infos`` that answers (RFC 8305 §5), for an
    async library that offers no connect over a given address list (trio, anyio: their
    ``open_tcp_stream`` / ``connect_tcp`` resolve the name themselves).

    Attempts start in :func:`interleave_families` order, each ``delay`` seconds (None:
    :data:`HAPPY_EYEBALLS_DELAY`, 250 ms) after the previous one or at once when that
    one fails, each as a task of one task group; the first to connect wins, the group
    is cancelled (the library closes the sockets of cancelled attempts) and an attempt
    that connected too late is ``discard``-ed (it must close its stream even when
    cancelled). One address: ``attempt`` alone, no task. The caller bounds the whole
    race with one deadline (a cancellation of the race cancels every attempt).

    Args:
        infos: ``getaddrinfo`` results with the port to connect to (at least one).
        attempt: connects to one address (``address_text(info)``, ``info[4][1]``);
            ``OSError`` when it fails.
        discard: closes a stream that lost the race.
        open_group, make_event, move_on_after: the library's task group (with
            ``start_soon`` and ``cancel_scope``), event and timeout scope
            (``trio.open_nursery``, ``trio.Event``, ``trio.move_on_after``; or anyio's).

    Returns the winner's stream. Raises the attempts' ``OSError`` (the first one's type,
    with every message when there were several).
    """
    ordered = interleave_families(infos)
    if len(ordered) == 1:
        return await attempt(ordered[0])
    pause = HAPPY_EYEBALLS_DELAY if delay is None else delay
    winners: list[_S] = []
    errors: list[OSError] = []

    async def run(info: AddrInfo, failed: typing.Any, group: typing.Any) -> None:
        try:
            stream = await attempt(info)
        except OSError as exc:
            errors.append(exc)
            failed.set()
            return
        if winners:  # two attempts connected: the later one loses
            await discard(stream)
            return
        winners.append(stream)
        group.cancel_scope.cancel()

    try:
        async with open_group() as group:
            for info in ordered:
                failed = make_event()
                group.start_soon(run, info, failed, group)
                with move_on_after(pause):
                    await failed.wait()
    except BaseException:  # cancelled from outside (the deadline) after a win, too
        for stream in winners:
            await discard(stream)
        raise
    if winners:
        return winners[0]
    from .sync import _combined_error  # the sync backend's race reports the same way

    raise _combined_error(errors)


class _SessionOffer:
    """An ``ssl.SSLContext`` whose ``wrap_bio`` offers a TLS session: what trio's
    ``SSLStream`` and anyio's ``TLSStream`` take as their context, since neither takes
    a session, while both make their ``SSLObject`` with ``ssl_context.wrap_bio(...)``
    (trio with keyword arguments; anyio positionally, in a worker thread, for a context
    that is not exactly ``ssl.SSLContext``). Every other attribute is the context's."""

    __slots__ = ("_context", "_session")

    def __init__(self, context: ssl.SSLContext, session: ssl.SSLSession) -> None:
        self._context = context
        self._session = session

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        return self._context.wrap_bio(
            incoming,
            outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=self._session if session is None else session,
        )

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self._context, name)


def offering_session(
    ssl_context: ssl.SSLContext, session: ssl.SSLSession | None
) -> ssl.SSLContext:
    """``ssl_context`` itself (``session`` None), or a stand-in for it whose ``wrap_bio``
    offers ``session`` for resumption (RFC 8446 §2.2, RFC 5077): for a TLS library
    that makes its ``SSLObject`` with ``ssl_context.wrap_bio`` and takes no session."""
    if session is None:
        return ssl_context
    return typing.cast("ssl.SSLContext", _SessionOffer(ssl_context, session))


# poll() where there is one: no FD_SETSIZE limit (unlike select).
_HAS_POLL = sys.platform != "win32" and hasattr(select, "poll")


class ReadablePoller:
    """Answers "would a ``recv`` on this socket not block?" (bytes or end of stream
    pending) with a zero-timeout ``poll``; the poll object is made on the first question
    and kept (the pool asks this of every idle connection it hands out)."""

    __slots__ = ("_poll",)

    def __init__(self) -> None:
        self._poll: typing.Any = None

    def readable(self, sock: typing.Any) -> bool:
        """``sock``: a socket-like object with ``fileno()`` (a ``socket.socket``,
        asyncio's ``TransportSocket``), the same one at every call, or None. A missing or
        closed socket counts as readable (its next read ends the stream); so do decrypted
        bytes already buffered in an ``ssl.SSLSocket``."""
        if sock is None:
            return True
        fd = sock.fileno()
        if fd < 0 or _tls_pending(sock):
            return True
        if not _HAS_POLL:  # pragma: no cover - Windows, or poll() unavailable (eventlet)
            return bool(select.select([fd], [], [], 0)[0])
        poll = self._poll
        if poll is None:
            poll = self._poll = select.poll()
            poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))


# ``ssl.SSLSocket`` once ssl is imported (by anyone: no socket can be one before), looked
# up by _tls_pending; ssl itself (about 6 ms to import) is not imported here.
_SSLSocket: type[ssl.SSLSocket] | None = None


def _tls_pending(sock: typing.Any) -> bool:
    """True if ``sock`` is an ``ssl.SSLSocket`` holding decrypted bytes not yet read."""
    global _SSLSocket
    ssl_socket = _SSLSocket
    if ssl_socket is None:
        ssl_module = sys.modules.get("ssl")
        if ssl_module is None:
            return False
        ssl_socket = _SSLSocket = ssl_module.SSLSocket
    if not isinstance(sock, ssl_socket):
        return False
    has_tls_layer = sock._sslobj is not None  # type: ignore[union-attr]
    return has_tls_layer and sock.pending() > 0


def socket_is_readable(sock: typing.Any) -> bool:
    """Return True if a ``recv`` on ``sock`` would not block (see
    :meth:`ReadablePoller.readable`, without keeping a poll object): the check every
    stream's ``get_extra_info("is_readable")`` makes."""
    return ReadablePoller().readable(sock)


def close_socket_after_fork(stream: NetworkStream | AsyncNetworkStream) -> None:
    """The default ``_close_after_fork()``: close ``stream._socket()`` if it is a
    ``socket.socket`` (an ``ssl.SSLSocket`` included: closing it sends no
    close_notify). Never raises."""
    try:
        sock = stream._socket()
        if isinstance(sock, socket.socket):
            sock.close()
    except Exception:  # noqa: BLE001 - the contract: never raise in an at-fork hook
        pass


async def set_socket_options(
    sock: typing.Any,
    socket_options: typing.Iterable[SOCKET_OPTION] | None,
    aclose: typing.Callable[[], typing.Awaitable[object]],
) -> None:
    """Apply ``socket_options`` (``setsockopt`` argument tuples) to ``sock``, a socket
    that a library opened and connected itself (anyio, trio). If one fails, ``aclose()``
    the stream over it and raise ``ConnectError``."""
    if socket_options is None:
        return
    try:
        for option in socket_options:
            sock.setsockopt(*option)
    except OSError as exc:
        await aclose()
        raise ConnectError(exc) from exc


def copy_into(buffer: memoryview, data: bytes) -> tuple[int, bytes]:
    """Copy the start of ``data`` into ``buffer``; return how many bytes were copied and
    the bytes that did not fit (a ``read`` that returned more than asked)."""
    n = len(data)
    if n <= len(buffer):
        buffer[:n] = data
        return n, b""
    n = len(buffer)
    buffer[:n] = data[:n]
    return n, data[n:]


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

    # -- optional capabilities (see the module docstring) ------------------------------

    # Bytes a ``read`` returned beyond what the default ``_recv_into`` asked for.
    _unread = b""

    def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Receive into ``buffer`` (a writable byte memoryview): write up to
        ``len(buffer)`` bytes at its start and return how many, 0 at end of stream; same
        timeout (seconds) and exceptions as :meth:`read` (``ReadTimeout``,
        ``ReadError``). HTTP/1.1 parses straight from its own buffer with it.

        Default: :meth:`read` of ``len(buffer)`` bytes, copied; bytes a ``read`` returns
        beyond that (as httpcore's mock streams do) come first on the next call, and
        :meth:`_take_unread` hands them to a caller that goes on with :meth:`read`."""
        data = self._unread or self.read(len(buffer), timeout)
        n, self._unread = copy_into(buffer, data)
        return n

    def _take_unread(self) -> bytes:
        """The bytes the default :meth:`_recv_into` received beyond its buffers and has
        not handed out yet (usually none), taken from it: what a caller switching to
        :meth:`read` (a tunnel after an HTTP/1.1 101 or CONNECT) must use first."""
        unread, self._unread = self._unread, b""
        return unread

    def _is_readable(self) -> bool:
        """True if a read would not block: the peer sent bytes or closed the stream (or
        it is closed). The pool asks it of an idle connection before handing it out.
        Default: ``bool(get_extra_info("is_readable"))``, or True while the default
        :meth:`_recv_into` holds bytes nobody asked for yet."""
        return bool(self._unread) or bool(self.get_extra_info("is_readable"))

    def _socket(self) -> typing.Any:
        """The socket under the stream (a ``socket.socket``, or the socket-like object
        of the stream's library), or None. Default: ``get_extra_info("socket")``."""
        return self.get_extra_info("socket")

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
        close :meth:`_socket` if it is a ``socket.socket``; streams whose socket is
        something else override it.
        """
        close_socket_after_fork(self)

    def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> NetworkStream:
        """:meth:`start_tls`, offering ``session`` (from an earlier connection with the
        same ``ssl_context``) for resumption (RFC 8446 §2.2, RFC 5077); the returned
        stream's ``get_extra_info("ssl_object").session_reused`` says whether the server
        resumed it. Same exceptions as :meth:`start_tls`. Default: :meth:`start_tls`,
        the session not offered (a full handshake)."""
        return self.start_tls(ssl_context, server_hostname, timeout)


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

    # -- optional capability (see the module docstring) --------------------------------

    def _connect_tcp_with_resolver(
        self,
        resolver: NameResolver,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """:meth:`connect_tcp` with names resolved by the pool's ``resolver`` (its
        ``resolve=`` overrides, DNS cache and coalesced lookups). Same arguments (seconds
        for ``timeout``), result and exceptions as :meth:`connect_tcp`.

        Default (a backend that resolves names in its own ``connect_tcp``): the override
        addresses of ``host``, if any, each tried with ``connect_tcp`` in order until one
        connects (the first ``ConnectError`` is raised if none does), else
        ``connect_tcp(host, ...)``: no cache, no coalescing."""
        # Keyword arguments, as httpcore calls connect_tcp (third-party backends rely on it).
        addresses = resolver.override_addresses(host)
        if not addresses:
            return self.connect_tcp(
                host=host,
                port=port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )
        options = None if socket_options is None else list(socket_options)
        first_error: ConnectError | None = None
        for address in addresses:
            try:
                return self.connect_tcp(
                    host=address,
                    port=port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except ConnectError as exc:
                first_error = first_error or exc
        assert first_error is not None
        raise first_error


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

    # -- optional capabilities (see the module docstring) ------------------------------

    _unread = b""

    async def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """See :meth:`NetworkStream._recv_into`. Default: :meth:`read`, copied."""
        data = self._unread or await self.read(len(buffer), timeout)
        n, self._unread = copy_into(buffer, data)
        return n

    def _take_unread(self) -> bytes:
        """See :meth:`NetworkStream._take_unread`."""
        unread, self._unread = self._unread, b""
        return unread

    def _is_readable(self) -> bool:
        """A plain (not async) method: see :meth:`NetworkStream._is_readable`."""
        return bool(self._unread) or bool(self.get_extra_info("is_readable"))

    def _socket(self) -> typing.Any:
        """See :meth:`NetworkStream._socket`."""
        return self.get_extra_info("socket")

    def _cancelled_write_sent_all(self) -> bool:
        """See :meth:`NetworkStream._cancelled_write_sent_all`. Default: True."""
        return True

    def _close_after_fork(self) -> None:
        """A plain (not async) method: see :meth:`NetworkStream._close_after_fork`."""
        close_socket_after_fork(self)

    async def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`NetworkStream._start_tls_with_session`. Default: :meth:`start_tls`,
        the session not offered."""
        return await self.start_tls(ssl_context, server_hostname, timeout)


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

    # -- optional capability (see the module docstring) --------------------------------

    async def _connect_tcp_with_resolver(
        self,
        resolver: AsyncNameResolver,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`NetworkBackend._connect_tcp_with_resolver` (same default)."""
        addresses = resolver.override_addresses(host)
        if not addresses:
            return await self.connect_tcp(
                host=host,
                port=port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )
        options = None if socket_options is None else list(socket_options)
        first_error: ConnectError | None = None
        for address in addresses:
            try:
                return await self.connect_tcp(
                    host=address,
                    port=port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except ConnectError as exc:
                first_error = first_error or exc
        assert first_error is not None
        raise first_error

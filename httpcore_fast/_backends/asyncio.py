"""The native asyncio network backend (the default when running on asyncio).

It talks to the event loop directly, without anyio or asyncio streams in between:

* each connection is an ``asyncio.BufferedProtocol`` that receives straight into a
  bytearray it owns; ``read`` hands out what is buffered without creating a future, and
  only when the buffer is empty does it park on one (plus a ``call_later`` timer, and only
  if a timeout was given);
* ``write`` hands the bytes to ``transport.write`` (which sends at once when the socket
  has room) and only waits when the transport has paused us (flow control);
* ``aclose`` aborts the transport synchronously, so it never suspends and is safe to call
  from cancellation cleanup, any number of times.

Sockets are created here: socket options are set and ``local_address`` is bound *before*
connecting, ``TCP_NODELAY`` is on. A name with several addresses is connected with Happy
Eyeballs (RFC 8305, through aiohappyeyeballs). Errors are mapped to httpcore's exceptions: connecting
(TCP, Unix, TLS handshake) raises ``ConnectTimeout`` / ``ConnectError``, reading
``ReadTimeout`` / ``ReadError``, writing ``WriteTimeout`` / ``WriteError``.

Connections may use the optional fast path :meth:`AsyncIOStream._recv_into`, which copies
received bytes into a caller-owned buffer instead of allocating a ``bytes`` per read.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import typing

import aiohappyeyeballs

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .._core.resolver import numeric_addrinfo
from .base import (
    HAPPY_EYEBALLS_DELAY,
    SOCKET_OPTION,
    AddrInfo,
    AsyncNameResolver,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    ReadablePoller,
)

__all__ = ["AsyncIOBackend", "AsyncIOStream"]

# The receive buffer starts at this size (allocated on the first receive). A receive
# that fills all the room offered (the socket had more: a large body) grows it once to
# _LARGE_BUFFER_SIZE, asyncio's own receive size, so that one loop iteration and one
# recv() serve several 64 KiB reads of the connection (each loop iteration costs more
# than copying 64 KiB). It also doubles when a reader leaves more than half unread.
_INITIAL_BUFFER_SIZE = 65536
_LARGE_BUFFER_SIZE = 262144
# Unread bytes above this pause the transport's reading until the reader has taken half
# of them: well above one receive, so a reader that keeps up never pauses (each pause and
# resume is a selector update, two system calls).
_MAX_BUFFERED = 1048576

_TIMEOUT_ERRORS = (asyncio.TimeoutError, TimeoutError)  # distinct classes on 3.10

_T = typing.TypeVar("_T")

_FOREIGN_LOOP = "the stream's event loop is closed or is not the one running here"

if sys.version_info >= (3, 11):

    async def _with_timeout(awaitable: typing.Awaitable[typing.Any], timeout: float) -> typing.Any:
        async with asyncio.timeout(timeout):
            return await awaitable

else:  # pragma: no cover - Python 3.10

    async def _with_timeout(awaitable: typing.Awaitable[typing.Any], timeout: float) -> typing.Any:
        return await asyncio.wait_for(awaitable, timeout)


def _settle(waiter: asyncio.Future[typing.Any]) -> None:
    """Wake ``waiter`` (timer callback): the woken side re-checks the state."""
    if not waiter.done():
        waiter.set_result(None)


def _expire(waiter: asyncio.Future[typing.Any]) -> None:
    """Wake ``waiter`` with False: its deadline passed (see :func:`_wait_writable`)."""
    if not waiter.done():
        waiter.set_result(False)


async def _bounded(
    awaitable: typing.Awaitable[_T], loop: asyncio.AbstractEventLoop, deadline: float | None
) -> _T:
    """Await ``awaitable`` until ``deadline`` (``loop.time()`` seconds; None: no limit),
    then ``TimeoutError``."""
    if deadline is None:
        return await awaitable
    return typing.cast(_T, await _with_timeout(awaitable, deadline - loop.time()))


_get_running_loop = asyncio._get_running_loop


def _detach_transport(transport: typing.Any, unregister: bool) -> bool:
    """Close the socket under an asyncio ``transport`` (plain, or TLS layers over one)
    without going through its event loop: no callback is scheduled, no TLS close_notify
    is sent, and the transports count as closed so that they never warn ("unclosed
    transport") nor close the descriptor again.

    For a transport whose loop is closed or not usable here, and for the child's copy
    after ``fork()``. ``unregister``: also remove the descriptor from the loop's
    selector (only for a loop that is open and not running in another thread; never
    after fork, where the selector is shared with the parent). Returns False if
    ``transport`` is not one of asyncio's selector transports (e.g. uvloop's), which this
    cannot take apart; True once the socket is closed (or was already).
    """
    layer = transport
    while hasattr(layer, "_ssl_protocol"):  # asyncio's TLS transport (sslproto)
        layer._closed = True  # counts as closed: no ResourceWarning from its __del__
        layer = getattr(layer._ssl_protocol, "_transport", None)
        if layer is None:  # the TLS layer already lost its transport
            return True
    if not hasattr(layer, "_sock") or not hasattr(layer, "_conn_lost"):
        return False
    sock = layer._sock
    if sock is None:  # already closed
        return True
    loop = getattr(layer, "_loop", None)
    if unregister and loop is not None and not loop.is_closed():
        fd = sock.fileno()
        loop._remove_reader(fd)
        loop._remove_writer(fd)
    layer._closing = True
    layer._conn_lost += 1  # a later abort() or close() returns at once
    layer._sock = None  # its __del__ warns about a socket it still holds
    sock.close()
    return True


def _close_foreign(loop: asyncio.AbstractEventLoop, transport: typing.Any) -> None:
    """Close ``transport`` of ``loop``, which is not the loop running in this thread:
    closed (``asyncio.run`` has returned), stopped, or running in another thread.
    Never raises and never warns (see :func:`_detach_transport`)."""
    if loop.is_running() and not loop.is_closed():  # another thread's: let it close
        try:
            loop.call_soon_threadsafe(transport.abort)
            return
        except RuntimeError:  # pragma: no cover - it closed in between
            pass
    if not _detach_transport(transport, unregister=True):  # pragma: no cover - uvloop
        try:
            transport.abort()
        except RuntimeError:  # its loop is closed
            pass


class _StreamProtocol(asyncio.BufferedProtocol):
    """Receives into an owned bytearray; keeps at most one read and one drain waiter.

    Unread bytes are ``_view[_start:_end]``; ``_start == _end`` means empty (both are
    then reset to 0 so the next receive starts at the front).
    """

    __slots__ = (
        "_loop",
        "_transport",
        "_buf",
        "_view",
        "_start",
        "_end",
        "_eof",
        "_lost",
        "_exc",
        "_closed",
        "_tls",
        "_read_waiter",
        "_drain_waiter",
        "_write_paused",
        "_reading_paused",
        "_grow",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, tls: bool = False) -> None:
        self._loop = loop
        self._transport: typing.Any = None
        self._buf = bytearray()
        self._view = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._eof = False  # the peer sent EOF (FIN or TLS close_notify)
        self._lost = False  # connection_lost() was called
        self._exc: BaseException | None = None  # ... with this error
        self._closed = False  # we closed (or upgraded) the stream
        self._tls = tls
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._grow = False  # the last receive filled the buffer: grow it (once)

    # -- asyncio protocol callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._end == len(self._buf) or self._grow:
            self._make_room()
        return self._view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        end = self._end = self._end + nbytes
        if end < _LARGE_BUFFER_SIZE and end == len(self._buf):
            self._grow = True
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._end - self._start >= _MAX_BUFFERED and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake(self._read_waiter)
        # Keep a plain TCP transport open after the peer's FIN, as a socket would (we may
        # still write); asyncio's TLS layer ignores the answer and warns about True.
        return not self._tls

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._exc = exc
        self._wake(self._read_waiter)
        self._wake(self._drain_waiter)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake(self._drain_waiter)

    # -- helpers for the stream ----------------------------------------------------------

    @staticmethod
    def _wake(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _make_room(self) -> None:
        """The tail is full, or a receive filled the buffer: move unread bytes to the
        front, or grow (over half full, or to ``_LARGE_BUFFER_SIZE`` once)."""
        start, end = self._start, self._end
        unread = end - start
        size = len(self._buf)
        grow, self._grow = self._grow, False
        if not grow and start and unread <= size // 2:
            self._buf[:unread] = self._buf[start:end]  # same size: allowed while exported
        else:
            new_size = max(size * 2, _INITIAL_BUFFER_SIZE)
            buf = bytearray(max(new_size, _LARGE_BUFFER_SIZE) if grow else new_size)
            buf[:unread] = self._view[start:end]
            self._buf = buf
            self._view = memoryview(buf)
        self._start = 0
        self._end = unread

    def _take(self, max_bytes: int) -> tuple[int, int]:
        """Mark up to ``max_bytes`` unread bytes as consumed; return their span in
        ``_view``. The caller copies them out at once (before yielding to the loop)."""
        start = self._start
        stop = start + max_bytes
        if stop >= self._end:
            stop = self._end
            self._start = self._end = 0
        else:
            self._start = stop
        return start, stop

    def _maybe_resume_reading(self) -> None:
        """Called after consuming while reading is paused: resume once half drained."""
        if self._end - self._start < _MAX_BUFFERED // 2:
            self._reading_paused = False
            if not self._lost:
                self._transport.resume_reading()

    async def _wait(self, waiter: asyncio.Future[None], timeout: float | None) -> None:
        if timeout is None:
            await waiter
            return
        timer = self._loop.call_later(timeout, _settle, waiter)
        try:
            await waiter
        finally:
            timer.cancel()

    async def _wait_data(self, timeout: float | None) -> bool:
        """Called with an empty buffer: wait until bytes, EOF or an error arrive.

        Returns True if bytes are buffered, False at EOF. Raises ``ReadTimeout`` after
        ``timeout`` seconds without any, ``ReadError`` if the stream is closed or broke.
        A cancelled wait leaves the protocol as it was (the waiter is cleared).
        """
        if not (self._eof or self._lost or self._closed):
            if self._loop is not _get_running_loop():
                raise ReadError(_FOREIGN_LOOP)
            if self._read_waiter is not None:
                raise RuntimeError("another coroutine is already reading from this stream")
            waiter = self._loop.create_future()
            self._read_waiter = waiter
            try:
                if timeout is None:  # (once per response: no second coroutine)
                    await waiter
                else:
                    await self._wait(waiter, timeout)
            finally:
                self._read_waiter = None
            if self._end != self._start:
                return True
            if not (self._eof or self._lost or self._closed):
                raise ReadTimeout(f"no data received within {timeout} seconds")
        if self._closed:
            raise ReadError("the stream is closed")
        if self._exc is not None:
            raise ReadError(self._exc) from self._exc
        return False

    async def _drain(self, timeout: float | None) -> None:
        """Wait until the transport resumes writing; WriteTimeout / WriteError."""
        if self._loop is not _get_running_loop():
            raise WriteError(_FOREIGN_LOOP)
        if self._drain_waiter is not None:
            raise RuntimeError("another coroutine is already writing to this stream")
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        try:
            await self._wait(waiter, timeout)
        finally:
            self._drain_waiter = None
        if self._closed or self._lost:
            self._raise_write_error()
        if self._write_paused:
            raise WriteTimeout(f"could not send within {timeout} seconds")

    def _raise_write_error(self) -> typing.NoReturn:
        if self._closed:
            raise WriteError("the stream is closed")
        exc = self._exc
        if exc is None:
            raise WriteError("the connection was closed")
        raise WriteError(exc) from exc


class AsyncIOStream(AsyncNetworkStream):
    """A connected stream on an asyncio transport (plain TCP, Unix or TLS).

    Made by :class:`AsyncIOBackend` (or by :meth:`start_tls`); not constructed by users.
    """

    def __init__(
        self,
        transport: asyncio.Transport,
        protocol: _StreamProtocol,
        sock: socket.socket | None = None,
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self._poller = ReadablePoller()
        self._detached = False  # closed without the event loop (see _close)
        # The transport's own socket, on asyncio's selector loops only (see _recv_into).
        self._sock = sock
        # For the readability check the pool makes before each reuse: the socket itself
        # where we have it (its fileno() is C, a TransportSocket's is Python), else what
        # get_extra_info("socket") gives (fixed per transport); -1 once closed, either way.
        self._poll_socket = sock if sock is not None else transport.get_extra_info("socket")
        self._streaming = False  # the last read filled the reader's buffer

    def _is_readable(self) -> bool:
        """``get_extra_info("is_readable")`` without the dispatch, with a poll object
        made once per stream: the pool asks this of every idle connection it hands out.

        Also True when the stream's event loop is closed or is not the one running here
        (a pool reused across ``asyncio.run`` calls): an idle connection that reads as
        readable is discarded, and :meth:`aclose` closes it without that loop."""
        p = self._protocol
        if p._end != p._start or p._eof or p._lost or p._closed:
            return True
        if p._loop is not _get_running_loop():
            return True
        return self._poller.readable(self._poll_socket)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._transport!r}>"

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes (at least one), or ``b""`` at end of stream.

        ``timeout`` is in seconds (None: wait forever) and only matters when nothing is
        buffered. Raises ``ReadTimeout``, or ``ReadError`` if the connection broke or the
        stream was closed.
        """
        p = self._protocol
        if p._end == p._start and not await p._wait_data(timeout):
            return b""
        start, stop = p._take(max_bytes)
        data = p._view[start:stop].tobytes()
        if p._reading_paused:
            p._maybe_resume_reading()
        return data

    async def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Fast path for connections: copy received bytes into ``buffer``.

        ``buffer`` is a writable byte memoryview (e.g. over the connection's own
        bytearray); up to ``len(buffer)`` bytes are written at its start. Returns how many
        (at least 1), or 0 at end of stream. Same waiting, timeout (seconds) and
        exceptions as :meth:`read` (``ReadTimeout``, ``ReadError``), without allocating a
        ``bytes`` object.
        """
        p = self._protocol
        if p._end == p._start:
            if self._streaming and self._sock is not None:
                # A large body is arriving (the last read filled the reader's buffer):
                # receive straight into the reader's buffer, without a loop iteration
                # or a copy through the protocol's. The transport reads the same
                # non-blocking socket only in loop iterations, always after the reader
                # has taken what the protocol holds, so the bytes stay in order.
                n = self._recv_now(buffer)
                if n > 0:
                    self._streaming = n == len(buffer)
                    return n
            if not await p._wait_data(timeout):
                return 0
        size = len(buffer)
        start, stop = p._take(size)
        n = stop - start
        buffer[:n] = p._view[start:stop]
        self._streaming = n == size
        if p._reading_paused:
            p._maybe_resume_reading()
        return n

    def _recv_now(self, buffer: memoryview) -> int:
        """One non-blocking ``recv_into`` of the transport's socket: the count, or -1
        (nothing there, end of stream, or the stream is not usable here: the caller
        waits on the protocol, which reports those). A socket error is ``ReadError``."""
        p = self._protocol
        if p._eof or p._lost or p._closed or p._loop is not _get_running_loop():
            return -1
        try:
            n = self._sock.recv_into(buffer)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            self._streaming = False
            return -1
        except OSError as exc:
            raise ReadError(exc) from exc
        return n if n else -1  # EOF: the transport's next read reports it

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer`` (bytes-like).

        Returns once the transport has taken the bytes; waits (up to ``timeout`` seconds,
        None: no limit) only while flow control has paused writing. Raises
        ``WriteTimeout``, or ``WriteError`` if the connection broke or the stream was
        closed.

        A send that failed inside the transport closes it at once, but its
        ``connection_lost`` only comes with the next loop iteration: a closing transport
        counts as broken here, so a writer that never awaits (a request body generator)
        stops at the next write instead of pushing everything into a dead transport.
        """
        if not buffer:
            return
        p = self._protocol
        if p._closed or p._lost or self._transport.is_closing():
            p._raise_write_error()
        if p._loop is not _get_running_loop():
            raise WriteError(_FOREIGN_LOOP)
        if type(buffer) is not bytes:
            # The transport may keep a view of what it could not send yet: never let it
            # hold on to (and pin) a mutable buffer the caller will reuse.
            buffer = bytes(buffer)
        self._transport.write(buffer)
        if p._write_paused:
            await p._drain(timeout)

    async def aclose(self) -> None:
        """Close the connection at once (unsent bytes are dropped). Never suspends, so it
        is safe in cancellation cleanup; idempotent; raises nothing.

        A stream whose event loop is closed or is not the one running here (a pool
        reused across ``asyncio.run`` calls) is closed without that loop: its socket is
        closed directly, without raising or warning (or, if that loop runs in another
        thread, the close is handed to it)."""
        self._close()

    def _close(self) -> None:
        p = self._protocol
        if p._closed and self._detached:
            return
        p._closed = True
        p._start = p._end = 0
        loop = p._loop
        if loop is _get_running_loop():
            self._transport.abort()
        else:
            self._detached = True
            _close_foreign(loop, self._transport)

    def _cancelled_write_sent_all(self) -> bool:
        """True: :meth:`write` hands all of its bytes to the transport before it can wait
        (for the transport to drain), so a cancellation never cuts a write in part."""
        return True

    def _close_after_fork(self) -> None:
        """In a forked child: close the child's copy of the socket without any TLS
        close_notify and without touching the inherited event loop (its selector is the
        parent's too); the transports then count as closed and never close or warn again.
        See :meth:`AsyncNetworkStream._close_after_fork`."""
        p = self._protocol
        p._closed = True
        p._start = p._end = 0
        self._detached = True
        try:
            _detach_transport(self._transport, unregister=False)
        except Exception:  # noqa: BLE001 - never raise in an at-fork hook
            pass

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        """Run a TLS handshake over this connection and return the TLS stream
        (:class:`AsyncIOTLSStream`).

        ``ssl_context`` carries verification and ALPN settings; ``server_hostname`` is
        used for SNI and certificate matching; ``timeout`` in seconds (None: no limit).
        Raises ``ConnectTimeout`` or ``ConnectError`` (handshake or certificate failure);
        the connection is closed then. This stream must not be used afterwards.
        """
        return await self._start_tls_with_session(ssl_context, server_hostname, timeout)

    async def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> AsyncNetworkStream:
        """:meth:`start_tls`, offering ``session`` for resumption
        (``SSLContext.wrap_bio(session=)``: asyncio's ``loop.start_tls`` takes none)."""
        handshake = _tls_handshake(self, ssl_context, server_hostname, session, timeout)
        try:
            return await _connecting(handshake, None)  # the handshake keeps its timeout
        except BaseException:
            self._close()
            raise

    def get_extra_info(self, info: str) -> typing.Any:
        """``"ssl_object"`` (``ssl.SSLObject`` or None), ``"client_addr"``,
        ``"server_addr"`` (socket addresses), ``"socket"`` (asyncio's transport socket),
        ``"is_readable"`` (bool: bytes or EOF pending, checked without blocking, or the
        stream's event loop is closed or not the running one); None for anything
        else."""
        if info == "is_readable":
            return self._is_readable()
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncIOTLSStream(AsyncNetworkStream):
    """TLS over a plain :class:`AsyncIOStream`'s transport, run by this stream with an
    ``ssl.SSLObject`` over memory BIOs rather than by asyncio's TLS transport.

    Why: ``loop.start_tls`` cannot offer a session to resume, ``SSLContext.wrap_bio``
    can (``session=``), and this is also cheaper per request than asyncio's TLS layer (one
    ``SSLObject`` call per read or write, no second protocol in between). Ciphertext
    arrives in the plain stream's protocol buffer; a read moves it into the incoming BIO
    and decrypts straight into the caller's buffer (``_recv_into``); a write encrypts
    and hands every record to the transport before it can wait (so a cancelled write
    sent all or nothing, and records leave in the order they were made, also when a
    read's post-handshake reply and a write interleave). A missing close_notify reads as
    end of stream and closing sends none (as trio's ``https_compatible``; as the plain
    stream, closing aborts the transport and never suspends).
    """

    def __init__(
        self,
        plain: AsyncIOStream,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
    ) -> None:
        self._plain = plain
        self._transport = plain._transport
        self._protocol = plain._protocol
        self._ssl = ssl_object
        # The TLS engine under ssl.SSLObject (CPython's _ssl._SSLSocket): the same read,
        # write, pending and do_handshake with the same exceptions, without the Python
        # frame ssl.py adds to each call (two to four calls per request).
        self._engine: typing.Any = getattr(ssl_object, "_sslobj", ssl_object)
        self._incoming = incoming
        self._outgoing = outgoing
        self._eof = False  # end of the TLS stream reached (close_notify or none)
        self._scratch: memoryview | None = None  # read()'s reused decryption buffer

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._transport!r}>"

    # -- moving ciphertext --------------------------------------------------------------

    def _flush(self) -> None:
        """Hand the records the TLS engine produced to the transport."""
        records = self._outgoing.read()
        if records:
            self._transport.write(records)

    def _take_ciphertext(self) -> None:
        """Move every received ciphertext byte from the protocol buffer into the TLS
        engine's incoming BIO (one copy; the protocol buffer is then empty)."""
        p = self._protocol
        self._incoming.write(p._view[p._start : p._end])
        p._start = p._end = 0
        if p._reading_paused:
            p._maybe_resume_reading()

    async def _wait_ciphertext(self, deadline: float | None) -> None:
        """Wait (until ``deadline``, ``loop.time()`` seconds; None: no limit) until
        ciphertext is buffered, or mark the incoming BIO's end at the transport's end of
        stream. Raises ``ReadTimeout`` / ``ReadError`` as the plain stream's reads."""
        p = self._protocol
        timeout = None if deadline is None else deadline - p._loop.time()
        if not await p._wait_data(timeout):
            self._incoming.write_eof()

    async def _handshake(self, deadline: float | None) -> None:
        """Run the client handshake, waiting for the server until ``deadline``
        (``loop.time()`` seconds, None: no limit: then ``ReadTimeout``); ``ssl.SSLError``
        / ``ReadError`` / ``WriteError`` on failure (the caller maps them all to
        ``ConnectTimeout`` / ``ConnectError``). The timeout is the stream's own timer
        (no ``asyncio.timeout`` scope around the handshake).

        The client's last flight (its Finished: TLS 1.3, a resumed TLS 1.2 handshake)
        stays in the outgoing BIO: the first write sends it with the request in one
        ``send``, and a read that has to wait sends it first (:meth:`_recv_into`)."""
        engine, p = self._engine, self._protocol
        while True:
            try:
                engine.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                if p._end == p._start:
                    await self._wait_ciphertext(deadline)
                if p._end != p._start:
                    self._take_ciphertext()
                continue
            return

    # -- the stream interface -------------------------------------------------------------

    async def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Decrypt into ``buffer`` (a writable byte memoryview) and return how many bytes
        (at least 1), or 0 at end of stream. ``timeout`` (seconds, None: no limit)
        bounds each wait for ciphertext. Raises ``ReadTimeout``, or ``ReadError`` if the
        connection broke, the stream was closed, or TLS failed.

        Decrypts everything already received, record after record, until ``buffer`` is
        full; waits only while not one byte could be decrypted."""
        engine, incoming, p = self._engine, self._incoming, self._protocol
        size = len(buffer)
        filled = 0
        while not self._eof:
            if p._end != p._start:  # ciphertext arrived: all of it into the engine's BIO
                incoming.write(p._view[p._start : p._end])
                p._start = p._end = 0
                if p._reading_paused:
                    p._maybe_resume_reading()
            # Nothing to decrypt? (After a short read the engine holds no plaintext:
            # SSL_read returns all of a record that fits.)
            elif not incoming.pending and (filled or not engine.pending()):
                if filled:
                    break
                if self._outgoing.pending:  # the handshake's last flight (see _handshake)
                    self._flush()
                if not await p._wait_data(timeout):
                    incoming.write_eof()
                continue
            try:
                # Returns an int when given a buffer (typeshed knows the bytes form only).
                n: int = engine.read(size - filled, buffer[filled:] if filled else buffer)
            except ssl.SSLWantReadError:  # a partial record: wait for the rest
                if self._outgoing.pending:
                    self._flush()
                if filled:
                    break
                if p._end == p._start and not await p._wait_data(timeout):
                    incoming.write_eof()
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self._eof = True
                break
            except ssl.SSLError as exc:
                if filled:  # the error again at the next read, after these bytes
                    break
                raise ReadError(exc) from exc
            if self._outgoing.pending:  # a reply to a post-handshake message
                self._flush()
            if n == 0:
                self._eof = True
                break
            filled += n
            if filled == size:
                break
        if filled:
            return filled
        if p._closed:
            raise ReadError("the stream is closed")
        return 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to ``max_bytes`` decrypted bytes (at least one), ``b""`` at end of stream;
        see :meth:`_recv_into` for ``timeout`` and the exceptions."""
        scratch = self._scratch
        if scratch is None or len(scratch) < max_bytes:
            scratch = self._scratch = memoryview(bytearray(max(max_bytes, 1)))
        n = await self._recv_into(scratch[:max_bytes], timeout)
        return scratch[:n].tobytes()

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Encrypt all of ``buffer`` and hand the records to the transport; waits (up
        to ``timeout`` seconds, None: no limit) only while flow control has paused
        writing. Raises ``WriteTimeout``, or ``WriteError`` if the connection broke, the
        stream was closed, or TLS failed."""
        if not buffer:
            return
        p = self._protocol
        if p._closed or p._lost or self._transport.is_closing():
            p._raise_write_error()
        if p._loop is not _get_running_loop():
            raise WriteError(_FOREIGN_LOOP)
        try:
            sent = self._engine.write(buffer)
            while sent < len(buffer):  # pragma: no cover - memory BIOs take everything
                sent += self._engine.write(memoryview(buffer)[sent:])
        except ssl.SSLError as exc:
            raise WriteError(exc) from exc
        self._transport.write(self._outgoing.read())
        if p._write_paused:
            await p._drain(timeout)

    async def aclose(self) -> None:
        """Close the connection at once, without close_notify: see
        :meth:`AsyncIOStream.aclose`."""
        self._plain._close()

    def _is_readable(self) -> bool:
        """True with decrypted bytes, ciphertext or end of stream pending, or the plain
        stream readable (see :meth:`AsyncIOStream._is_readable`)."""
        return (
            self._engine.pending() > 0 or self._incoming.pending > 0 or self._plain._is_readable()
        )

    def _cancelled_write_sent_all(self) -> bool:
        """True: :meth:`write` hands every record to the transport before it can wait."""
        return True

    def _close_after_fork(self) -> None:
        """See :meth:`AsyncIOStream._close_after_fork` (no close_notify)."""
        self._plain._close_after_fork()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        """TLS inside this TLS stream (an HTTPS proxy's tunnel): see
        :class:`_MemoryBIOTLSStream`."""
        return await self._start_tls_with_session(ssl_context, server_hostname, timeout)

    async def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> AsyncNetworkStream:
        """:meth:`start_tls` offering ``session`` for resumption."""
        return await _layer_tls(self, ssl_context, server_hostname, timeout, session)

    def get_extra_info(self, info: str) -> typing.Any:
        """As :meth:`AsyncIOStream.get_extra_info`, ``"ssl_object"`` being this
        stream's ``ssl.SSLObject``."""
        if info == "ssl_object":
            return self._ssl
        if info == "is_readable":
            return self._is_readable()
        return self._plain.get_extra_info(info)


async def _tls_handshake(
    plain: AsyncIOStream,
    ssl_context: ssl.SSLContext,
    server_hostname: str | None,
    session: ssl.SSLSession | None,
    timeout: float | None,
) -> AsyncIOTLSStream:
    """The client handshake over ``plain``, offering ``session``, within ``timeout``
    seconds (None: no limit); OSError (``ssl.SSLError`` included), ``ConnectTimeout`` or
    ``ConnectError`` on failure."""
    deadline = None if timeout is None else plain._protocol._loop.time() + timeout
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    ssl_object = ssl_context.wrap_bio(
        incoming, outgoing, server_side=False, server_hostname=server_hostname, session=session
    )
    stream = AsyncIOTLSStream(plain, ssl_object, incoming, outgoing)
    try:
        await stream._handshake(deadline)
    except ReadTimeout as exc:
        raise ConnectTimeout(f"TLS handshake not complete within {timeout} seconds") from exc
    except (ReadError, WriteError) as exc:
        raise ConnectError(exc) from exc
    return stream


class _MemoryBIOTLSStream(AsyncNetworkStream):
    """TLS run with memory BIOs over another stream: TLS inside TLS (to the origin
    through an HTTPS proxy's tunnel, over the :class:`AsyncIOTLSStream` to the proxy).
    Like trio's ``https_compatible`` mode, a missing close_notify reads as end of stream
    and closing sends none.
    """

    def __init__(
        self,
        stream: AsyncNetworkStream,
        ssl_object: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
    ) -> None:
        self._stream = stream
        self._ssl_object = ssl_object
        self._incoming = incoming
        self._outgoing = outgoing

    async def _run(
        self,
        operation: typing.Callable[..., typing.Any],
        argument: typing.Any,
        timeout: float | None,
    ) -> typing.Any:
        """Call an SSLObject method, moving records through the stream until it is done;
        ``timeout`` (seconds) bounds each read and write of the stream below."""
        while True:
            try:
                result = operation(argument) if argument is not None else operation()
                wants_more = False
            except ssl.SSLWantReadError:
                wants_more = True
            records = self._outgoing.read()
            if records:
                await self._stream.write(records, timeout)
            if not wants_more:
                return result
            data = await self._stream.read(65536, timeout)
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to ``max_bytes`` decrypted bytes, ``b""`` at end of stream; ``timeout`` in
        seconds. Raises ``ReadTimeout`` or ``ReadError``."""
        try:
            return typing.cast(bytes, await self._run(self._ssl_object.read, max_bytes, timeout))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""
        except ssl.SSLError as exc:
            raise ReadError(exc) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Encrypt and send all of ``buffer``; ``timeout`` in seconds. Raises
        ``WriteTimeout`` or ``WriteError``."""
        if buffer:
            try:
                await self._run(self._ssl_object.write, buffer, timeout)
            except ssl.SSLError as exc:
                raise WriteError(exc) from exc

    async def aclose(self) -> None:
        """Close the stream below (without close_notify). Never suspends on asyncio."""
        await self._stream.aclose()

    def _cancelled_write_sent_all(self) -> bool:
        """False: a write runs the TLS layer and awaits the stream below, which a
        cancellation can interrupt with part of the records sent."""
        return False

    def _close_after_fork(self) -> None:
        """Release the stream below's descriptors (no close_notify on either layer)."""
        self._stream._close_after_fork()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        """One more TLS layer; see :meth:`AsyncIOStream.start_tls`."""
        return await self._start_tls_with_session(ssl_context, server_hostname, timeout)

    async def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> AsyncNetworkStream:
        """:meth:`start_tls` offering ``session`` for resumption."""
        return await _layer_tls(self, ssl_context, server_hostname, timeout, session)

    def get_extra_info(self, info: str) -> typing.Any:
        """As :meth:`AsyncIOStream.get_extra_info`, ``"ssl_object"`` being this layer's."""
        if info == "ssl_object":
            return self._ssl_object
        if info == "is_readable" and self._ssl_object.pending():
            return True
        return self._stream.get_extra_info(info)


async def _layer_tls(
    stream: AsyncNetworkStream,
    ssl_context: ssl.SSLContext,
    server_hostname: str | None,
    timeout: float | None,
    session: ssl.SSLSession | None,
) -> AsyncNetworkStream:
    """TLS inside the TLS ``stream`` (a :class:`_MemoryBIOTLSStream`), offering
    ``session``; ``timeout`` in seconds. Raises ``ConnectTimeout`` / ``ConnectError``
    (``stream`` closed)."""
    try:
        handshake = _memory_bio_tls(stream, ssl_context, server_hostname, session)
        return await _connecting(handshake, timeout)
    except BaseException:
        await stream.aclose()
        raise


async def _memory_bio_tls(
    stream: AsyncNetworkStream,
    ssl_context: ssl.SSLContext,
    server_hostname: str | None,
    session: ssl.SSLSession | None,
) -> _MemoryBIOTLSStream:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    ssl_object = ssl_context.wrap_bio(
        incoming, outgoing, server_side=False, server_hostname=server_hostname, session=session
    )
    tls_stream = _MemoryBIOTLSStream(stream, ssl_object, incoming, outgoing)
    try:
        await tls_stream._run(ssl_object.do_handshake, None, None)
    except (ReadError, WriteError) as exc:
        raise ConnectError(exc) from exc
    return tls_stream


async def _open_stream(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> AsyncIOStream:
    """Wrap a connected socket in a transport + protocol; closes ``sock`` on failure.

    On asyncio's selector loops the transport is made at once (what
    ``loop.create_connection(sock=)`` does, without waiting two loop iterations for
    ``connection_made``: the protocol knows its transport already, the transport writes
    at once, and it starts reading with the next iteration, before any wait for data
    can end). asyncio's selector loops read ``sock`` itself (once per loop iteration),
    so a reader may too; other loops (uvloop reads until the socket is empty, the
    proactor) keep theirs to themselves, and are asked for a transport as usual."""
    protocol = _StreamProtocol(loop)
    try:
        if isinstance(loop, _SelectorLoop):
            sock.setblocking(False)
            # The factory create_connection() calls (in every CPython since 3.4).
            transport = loop._make_socket_transport(sock, protocol)  # type: ignore[attr-defined]
            protocol._transport = transport
            return AsyncIOStream(transport, protocol, sock)
        transport, _ = await loop.create_connection(lambda: protocol, sock=sock)
    except BaseException:
        sock.close()
        raise
    return AsyncIOStream(transport, protocol, None)


_SelectorLoop = asyncio.selector_events.BaseSelectorEventLoop


def _socket_factory(
    options: list[SOCKET_OPTION], local_address: str | None
) -> typing.Callable[[typing.Any], socket.socket]:
    """The socket factory for :func:`aiohappyeyeballs.start_connection`: each attempt's
    socket gets ``TCP_NODELAY``, the socket options and the ``local_address`` binding
    before it connects (``loop.create_connection`` offers no way to do that)."""

    def make_socket(info: typing.Any) -> socket.socket:
        family, type_, proto, _, _ = info
        sock = socket.socket(family, type_, proto)
        try:
            if family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in options:
                sock.setsockopt(*option)
            if local_address is not None:
                sock.bind((local_address, 0))
        except BaseException:
            sock.close()
            raise
        return sock

    return make_socket


async def _connect_one(
    loop: asyncio.AbstractEventLoop,
    info: AddrInfo,
    factory: typing.Callable[[typing.Any], socket.socket],
    deadline: float | None,
) -> socket.socket:
    """Connect a socket from ``factory`` to the one address ``info`` by ``deadline``
    (``loop.time()`` seconds; None: no limit; then ``TimeoutError``): what
    ``aiohappyeyeballs.start_connection`` does for a single address (the same socket,
    the same exception), without its race machinery. On asyncio's selector loops the
    wait is what ``loop.sock_connect`` does (writable, then ``SO_ERROR``), with the
    deadline as its own timer instead of an ``asyncio.timeout`` scope. Closes the socket
    on failure."""
    sock = factory(info)
    address = info[4]
    try:
        sock.setblocking(False)
        if isinstance(loop, _SelectorLoop):
            try:
                sock.connect(address)
            except (BlockingIOError, InterruptedError):
                await _wait_writable(loop, sock, deadline)
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, f"Connect call failed {address}") from None
        else:
            await _bounded(loop.sock_connect(sock, address), loop, deadline)
    except BaseException:
        sock.close()
        raise
    return sock


async def _wait_writable(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, deadline: float | None
) -> None:
    """Wait until ``sock`` is writable (a non-blocking connect ended: connected or
    failed), or raise ``TimeoutError`` at ``deadline``."""
    waiter: asyncio.Future[bool | None] = loop.create_future()
    fd = sock.fileno()
    loop.add_writer(fd, _settle, waiter)
    timer = None if deadline is None else loop.call_at(deadline, _expire, waiter)
    try:
        await waiter
    finally:
        loop.remove_writer(fd)
        if timer is not None:
            timer.cancel()
    if waiter.result() is False:
        raise TimeoutError("TCP connect not complete in time")


async def _getaddrinfo(host: str, port: int) -> list[AddrInfo]:
    """The TCP addresses of ``host`` (the loop's ``getaddrinfo``, in a worker thread)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return typing.cast("list[AddrInfo]", infos)


async def _connect_tcp(
    host: str,
    port: int,
    local_address: str | None,
    options: list[SOCKET_OPTION],
    timeout: float | None,
    resolver: AsyncNameResolver | None = None,
) -> AsyncIOStream:
    """Resolve ``host`` (IP literals without a thread) and connect with Happy Eyeballs
    (RFC 8305): attempts 250 ms apart (§5), address families interleaved (§4), the first
    to connect wins and every other attempt's socket is closed. All of it within
    ``timeout`` seconds (None: no limit), else ``TimeoutError``: each step that waits is
    bounded by what is left (a name known or an IP literal costs no timer).

    The race is aiohappyeyeballs' ``start_connection`` (aiohttp's): it takes a socket
    factory, so our options are set before ``connect``, and its own ``staggered_race``
    avoids the bugs of ``asyncio.staggered.staggered_race`` on the Python versions we
    support (3.10-3.14): two attempts that both connect leave the second socket open,
    eager task factories crash it (3.12 before 3.12.8, 3.13.0), a cancelled race leaks
    tasks and logs their errors (before 3.12.9 / 3.13.2).
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    numeric = numeric_addrinfo(host, port)  # an IP literal needs no lookup (no thread)
    if resolver is not None:
        resolving = resolver.resolve(host, port, _getaddrinfo)
        if numeric is None:  # a name: a lookup may run or be waited for
            infos = await _bounded(resolving, loop, deadline)
        else:  # the override or the literal itself: answered at once
            infos = await resolving
    elif numeric is None:
        infos = await _bounded(_getaddrinfo(host, port), loop, deadline)
    else:
        infos = numeric
    factory = _socket_factory(options, local_address)
    if len(infos) == 1:  # nothing to race (an IP literal, most names)
        sock = await _connect_one(loop, infos[0], factory, deadline)
    else:
        race = aiohappyeyeballs.start_connection(
            infos,
            happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY,
            interleave=1,
            socket_factory=factory,
        )
        sock = await _bounded(race, loop, deadline)
    if isinstance(loop, _SelectorLoop):
        stream = await _open_stream(loop, sock)  # never suspends there
    else:
        stream = await _bounded(_open_stream(loop, sock), loop, deadline)
    # asyncio turns TCP_NODELAY on in its transports: an explicit choice wins.
    for option in options:
        if option[0] == socket.IPPROTO_TCP and option[1] == socket.TCP_NODELAY:
            sock.setsockopt(*option)
    return stream


async def _connect_unix(path: str, options: list[SOCKET_OPTION]) -> AsyncIOStream:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        for option in options:
            sock.setsockopt(*option)
        await loop.sock_connect(sock, path)
    except BaseException:
        sock.close()
        raise
    return await _open_stream(loop, sock)


_S = typing.TypeVar("_S", bound=AsyncNetworkStream)


async def _connecting(connect: typing.Awaitable[_S], timeout: float | None) -> _S:
    """Await a connect step (TCP, Unix, TLS handshake) within ``timeout`` seconds,
    mapping timeouts to ConnectTimeout and OS errors (ssl.SSLError included) to
    ConnectError."""
    try:
        if timeout is None:
            return await connect
        return typing.cast(_S, await _with_timeout(connect, timeout))
    except _TIMEOUT_ERRORS as exc:
        raise ConnectTimeout(exc) from exc
    except OSError as exc:
        raise ConnectError(exc) from exc


class AsyncIOBackend(AsyncNetworkBackend):
    """Network backend on the running asyncio event loop (no anyio needed)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a TCP connection to ``host`` (name or IP literal) on ``port``.

        ``timeout`` in seconds covers resolving and connecting (None: no limit);
        ``local_address`` is a host to bind to (port 0) before connecting;
        ``socket_options`` are ``setsockopt`` argument tuples applied before connecting.
        Several resolved addresses are raced as RFC 8305 says (see :func:`_connect_tcp`).
        Returns an :class:`AsyncIOStream`. Raises ``ConnectTimeout`` (the whole
        connect, resolution included, took longer than ``timeout``) or ``ConnectError``
        (every address failed: the first error, or one listing all of them).
        """
        options = list(socket_options) if socket_options is not None else []
        return await _connecting(_connect_tcp(host, port, local_address, options, timeout), None)

    async def _connect_tcp_with_resolver(
        self,
        resolver: AsyncNameResolver,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """See :meth:`AsyncNetworkBackend._connect_tcp_with_resolver`: the loop's lookup
        through the ``resolver``, then the race of :func:`_connect_tcp`."""
        options = list(socket_options) if socket_options is not None else []
        connect = _connect_tcp(host, port, local_address, options, timeout, resolver)
        return await _connecting(connect, None)  # the connect keeps its timeout

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        """Open a connection to the Unix domain socket at ``path``.

        ``timeout`` in seconds (None: no limit); ``socket_options`` are applied before
        connecting. Returns an :class:`AsyncIOStream`. Raises ``ConnectTimeout`` or
        ``ConnectError``.
        """
        options = list(socket_options) if socket_options is not None else []
        return await _connecting(_connect_unix(path, options), timeout)

    async def sleep(self, seconds: float) -> None:
        """Suspend for ``seconds`` seconds."""
        await asyncio.sleep(seconds)

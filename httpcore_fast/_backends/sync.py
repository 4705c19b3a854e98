"""The blocking-socket network backend (``SyncBackend``) and its streams.

Exceptions, as in httpcore: connecting and the TLS handshake raise ``ConnectTimeout``
(``socket.timeout``) or ``ConnectError`` (any other ``OSError``, including DNS
failures and certificate errors); reads raise ``ReadTimeout`` / ``ReadError``; writes
``WriteTimeout`` / ``WriteError``. The original exception is chained as ``__cause__``.
Timeouts are in seconds; None means block without limit.

Hot-path notes: ``read`` / ``write`` / ``_recv_into`` call ``settimeout`` only when
the timeout differs from the last one applied (each call is a syscall for blocking
sockets), and map exceptions with a bare ``try``/``except`` around the raw socket call
(no context manager on the success path).
"""

from __future__ import annotations

import collections
import errno
import select
import selectors
import socket
import ssl
import sys
import time
import typing

from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)
from .base import (
    HAPPY_EYEBALLS_DELAY,
    SOCKET_OPTION,
    AddrInfo,
    NameResolver,
    NetworkBackend,
    NetworkStream,
    ReadablePoller,
    interleave_families,
    socket_is_readable,
)

__all__ = ["SyncBackend", "SyncStream", "TLSinTLSStream", "interleave_families"]


class SyncStream(NetworkStream):
    """A blocking TCP or Unix socket, optionally wrapped in TLS (``ssl.SSLSocket``)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        # The timeout currently applied to the socket, to skip redundant settimeout().
        self._timeout: float | None = sock.gettimeout()
        self._poller = ReadablePoller()
        # A plain socket's own poll object (``_is_readable``); TLS sockets ask the poller.
        self._poll: typing.Any = None
        self._plain_poll = _HAS_POLL and not isinstance(sock, ssl.SSLSocket)

    def _is_readable(self) -> bool:
        """``get_extra_info("is_readable")`` without the dispatch, with a poll object
        made once per stream: the pool asks this of every idle connection it hands out.
        A plain socket is polled here (one call: it has no decrypted bytes to count);
        otherwise as ``ReadablePoller.readable``. A closed socket is readable."""
        sock = self._sock
        fd = sock.fileno()
        if fd < 0 or not self._plain_poll:
            return self._poller.readable(sock)
        poll = self._poll
        if poll is None:
            poll = self._poll = select.poll()
            poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))

    def _socket(self) -> socket.socket:
        return self._sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` bytes; ``b""`` at end of stream.

        Raises:
            ReadTimeout: nothing arrived within ``timeout`` seconds.
            ReadError: any other socket error.
        """
        try:
            if timeout != self._timeout:
                self._sock.settimeout(timeout)
                self._timeout = timeout
            return self._sock.recv(max_bytes)
        except socket.timeout as exc:
            raise ReadTimeout(exc) from exc
        except OSError as exc:
            raise ReadError(exc) from exc

    def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Receive into ``buffer`` (a writable memoryview, up to ``len(buffer)`` bytes)
        and return the number of bytes written; 0 at end of stream.

        Raises ``ReadTimeout`` / ``ReadError`` like :meth:`read`.
        """
        try:
            if timeout != self._timeout:
                self._sock.settimeout(timeout)
                self._timeout = timeout
            return self._sock.recv_into(buffer)
        except socket.timeout as exc:
            raise ReadTimeout(exc) from exc
        except OSError as exc:
            raise ReadError(exc) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer`` (bytes-like). ``timeout`` bounds each wait for the
        socket to accept more bytes, not the whole transfer.

        Raises:
            WriteTimeout: the socket accepted nothing for ``timeout`` seconds.
            WriteError: any other socket error (e.g. connection reset).
        """
        if not buffer:
            return
        sock = self._sock
        try:
            if timeout != self._timeout:
                sock.settimeout(timeout)
                self._timeout = timeout
            sent = sock.send(buffer)
            if sent < len(buffer):
                view = memoryview(buffer)
                while sent < len(view):
                    sent += sock.send(view[sent:])
        except socket.timeout as exc:
            raise WriteTimeout(exc) from exc
        except OSError as exc:
            raise WriteError(exc) from exc

    _sendall = write

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """Perform a TLS client handshake and return the TLS stream.

        Args:
            ssl_context: the client context (its ALPN list is offered).
            server_hostname: SNI and certificate host name (None: no SNI, and the
                context must not check host names).
            timeout: seconds for the whole handshake.

        This stream must not be used afterwards. If it is already TLS (HTTPS proxy),
        the new session runs inside the existing one (:class:`TLSinTLSStream`). On
        failure the socket is closed.

        Raises:
            ConnectTimeout: the handshake did not finish within ``timeout``.
            ConnectError: handshake failure (certificate, protocol, reset...).
        """
        return self._start_tls_with_session(ssl_context, server_hostname, timeout)

    def _start_tls_with_session(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: ssl.SSLSession | None = None,
    ) -> NetworkStream:
        """:meth:`start_tls` offering ``session`` for resumption
        (``SSLContext.wrap_socket(session=)``, or ``wrap_bio(session=)`` inside TLS)."""
        try:
            if isinstance(self._sock, ssl.SSLSocket):
                return TLSinTLSStream(
                    self._sock, ssl_context, server_hostname, timeout, session=session
                )
            self._sock.settimeout(timeout)
            self._timeout = timeout
            sock = ssl_context.wrap_socket(
                self._sock, server_hostname=server_hostname, session=session
            )
        except socket.timeout as exc:
            self.close()
            raise ConnectTimeout(exc) from exc
        except OSError as exc:
            self.close()
            raise ConnectError(exc) from exc
        except BaseException:
            self.close()
            raise
        return SyncStream(sock)

    def get_extra_info(self, info: str) -> typing.Any:
        """``"ssl_object"`` (the TLS object, or None for plain sockets),
        ``"client_addr"`` / ``"server_addr"`` (socket addresses), ``"socket"``,
        ``"is_readable"`` (bool, see :func:`~.base.socket_is_readable`); None otherwise."""
        if info == "ssl_object":
            if isinstance(self._sock, ssl.SSLSocket):
                return self._sock._sslobj  # type: ignore[attr-defined]  # as httpcore exposes
            return None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return socket_is_readable(self._sock)
        return None


class TLSinTLSStream(NetworkStream):
    """A TLS session carried inside an existing TLS socket (TLS to a target through an
    HTTPS proxy), driven through ``ssl.SSLObject`` and memory BIOs because
    ``SSLContext.wrap_socket`` cannot wrap an ``SSLSocket``.

    The handshake runs in the constructor (``timeout`` seconds), offering ``session``
    (None: none) for resumption; the caller maps its errors (see
    :meth:`SyncStream.start_tls`). End of stream (clean or not) reads as
    ``b""``, as with ``ssl.SSLSocket``'s default ``suppress_ragged_eofs``.
    """

    # The largest TLS record plaintext (RFC 8449), a good receive size.
    TLS_RECORD_SIZE = 16384

    def __init__(
        self,
        sock: ssl.SSLSocket,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
        *,
        session: ssl.SSLSession | None = None,
    ) -> None:
        self._sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl_object = ssl_context.wrap_bio(
            self._incoming, self._outgoing, server_hostname=server_hostname, session=session
        )
        self._sock.settimeout(timeout)
        self._timeout = timeout
        self._run(self._ssl_object.do_handshake)

    def _run(self, operation: typing.Callable[..., typing.Any], *args: typing.Any) -> typing.Any:
        # Retry ``operation`` until the TLS engine stops asking for input, moving
        # ciphertext between the BIOs and the socket as it goes.
        while True:
            want_read = False
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                want_read = True
            pending = self._outgoing.read()
            if pending:
                self._sock.sendall(pending)
            if not want_read:
                return result
            data = self._sock.recv(self.TLS_RECORD_SIZE)
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()

    def _set_timeout(self, timeout: float | None) -> None:
        if timeout != self._timeout:
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Return up to ``max_bytes`` decrypted bytes; ``b""`` at end of stream.
        Raises ``ReadTimeout`` / ``ReadError``."""
        try:
            self._set_timeout(timeout)
            return typing.cast(bytes, self._run(self._ssl_object.read, max_bytes))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""
        except socket.timeout as exc:
            raise ReadTimeout(exc) from exc
        except OSError as exc:
            raise ReadError(exc) from exc

    def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Like :meth:`SyncStream._recv_into`: decrypted bytes into ``buffer``; 0 at
        end of stream."""
        try:
            self._set_timeout(timeout)
            return typing.cast(int, self._run(self._ssl_object.read, len(buffer), buffer))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return 0
        except socket.timeout as exc:
            raise ReadTimeout(exc) from exc
        except OSError as exc:
            raise ReadError(exc) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Encrypt and send all of ``buffer``. Raises ``WriteTimeout`` / ``WriteError``."""
        if not buffer:
            return
        view = memoryview(buffer)
        try:
            self._set_timeout(timeout)
            while view:
                sent = self._run(self._ssl_object.write, view)
                view = view[sent:]
        except socket.timeout as exc:
            raise WriteTimeout(exc) from exc
        except OSError as exc:
            raise WriteError(exc) from exc

    _sendall = write

    def close(self) -> None:
        """Close the underlying socket (no TLS close_notify is sent)."""
        self._sock.close()

    def _socket(self) -> socket.socket:
        """The outer TLS socket (closing it after fork sends no close_notify on either
        TLS layer)."""
        return self._sock

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """Not supported (a third TLS layer); raises ``NotImplementedError``."""
        raise NotImplementedError()

    def get_extra_info(self, info: str) -> typing.Any:
        """As :meth:`SyncStream.get_extra_info`; ``"ssl_object"`` is the inner
        session's ``ssl.SSLObject``."""
        if info == "ssl_object":
            return self._ssl_object
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return (
                self._ssl_object.pending() > 0
                or self._incoming.pending > 0
                or socket_is_readable(self._sock)
            )
        return None


# poll() exists (not on Windows, nor where eventlet removed it).
_HAS_POLL = hasattr(select, "poll")
# A non-blocking connect() that has started but not finished.
_IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN})
# poll() where there is one: no descriptor of its own (unlike epoll) and no FD_SETSIZE
# limit (unlike select).
_Selector: type[selectors.BaseSelector] = getattr(
    selectors, "PollSelector", selectors.SelectSelector
)


def _start_attempt(
    info: AddrInfo, options: typing.Iterable[SOCKET_OPTION], local_address: str | None
) -> tuple[socket.socket, bool]:
    """Create a socket for ``info``, apply ``options`` then ``TCP_NODELAY``, bind
    ``local_address``, and start a non-blocking connect. Returns ``(socket, connected)``;
    raises ``OSError`` (the socket closed) if the attempt failed at once."""
    family, type_, proto, _, address = info
    sock = socket.socket(family, type_, proto)
    try:
        for option in options:
            sock.setsockopt(*option)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if local_address is not None:
            sock.bind((local_address, 0))
        sock.setblocking(False)
        err = sock.connect_ex(address)
        if err not in _IN_PROGRESS and err != 0:
            raise OSError(err, f"Connect call failed {address}")
    except BaseException:
        sock.close()
        raise
    return sock, err == 0


def _combined_error(errors: list[OSError]) -> OSError:
    """One error for failed attempts: the first one, or (several) an ``OSError`` of the
    first one's errno (so the same subclass, e.g. ``ConnectionRefusedError``) whose
    message lists every attempt's."""
    if len(errors) == 1:
        return errors[0]
    messages = "; ".join(str(exc) for exc in errors)
    return OSError(errors[0].errno, f"all {len(errors)} connection attempts failed: {messages}")


def happy_eyeballs_connect(
    infos: typing.Sequence[AddrInfo],
    deadline: float | None,
    options: typing.Iterable[SOCKET_OPTION] = (),
    local_address: str | None = None,
    delay: float | None = None,
) -> socket.socket:
    """Connect to the first address of ``infos`` that answers (RFC 8305 §5).

    Attempts start in :func:`interleave_families` order, each ``delay`` seconds after
    the previous one, or at once when the previous one fails; the first connected socket
    wins and every other attempt's socket is closed. All of them are non-blocking
    sockets waited on together with one ``poll`` selector in this thread: no threads
    (a blocking ``connect`` in a thread cannot be abandoned cleanly), no descriptor
    beyond the sockets themselves.

    Args:
        infos: ``getaddrinfo`` results (at least one).
        deadline: ``time.monotonic()`` value after which to give up (None: never).
        options: ``setsockopt`` argument tuples applied to each socket before
            connecting, then ``TCP_NODELAY``.
        local_address: address to bind each socket to (port 0), or None.
        delay: the RFC 8305 "Connection Attempt Delay", in seconds (None:
            ``HAPPY_EYEBALLS_DELAY``, 0.25).

    Returns the connected socket, non-blocking. Raises ``socket.timeout`` at the
    deadline, else the attempts' ``OSError`` (see :func:`_combined_error`).
    """
    if delay is None:
        delay = HAPPY_EYEBALLS_DELAY
    pending = collections.deque(interleave_families(infos))
    attempts: dict[socket.socket, typing.Any] = {}  # connecting socket -> its address
    errors: list[OSError] = []
    next_start = 0.0
    try:
        with _Selector() as selector:
            while pending or attempts:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise socket.timeout("timed out")
                if pending and (not attempts or now >= next_start):
                    info = pending.popleft()
                    try:
                        sock, connected = _start_attempt(info, options, local_address)
                    except OSError as exc:
                        errors.append(exc)
                        continue
                    if connected:
                        return sock
                    attempts[sock] = info[4]
                    selector.register(sock, selectors.EVENT_WRITE)
                    next_start = now + delay
                    continue
                wait = next_start - now if pending else None
                if deadline is not None:
                    wait = deadline - now if wait is None else min(wait, deadline - now)
                for key, _ in selector.select(wait):
                    sock = typing.cast(socket.socket, key.fileobj)
                    selector.unregister(sock)
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err == 0:
                        del attempts[sock]
                        return sock
                    address = attempts.pop(sock)
                    errors.append(OSError(err, f"Connect call failed {address}"))
                    sock.close()
                    next_start = 0.0  # a failed attempt starts the next one at once
    finally:
        for sock in attempts:  # the losers (the winner was removed before returning)
            sock.close()
    if not errors:  # pragma: no cover - getaddrinfo never answers with nothing
        errors.append(OSError("no address to connect to"))
    raise _combined_error(errors)


def _getaddrinfo(host: str, port: int) -> list[AddrInfo]:
    """The TCP addresses of ``host`` (blocking ``getaddrinfo``; ``OSError`` if none)."""
    return typing.cast("list[AddrInfo]", socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))


class SyncBackend(NetworkBackend):
    """Opens blocking sockets. Every TCP connection gets ``TCP_NODELAY``."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """Connect to ``(host, port)`` and return a :class:`SyncStream`.

        Args:
            host: name or address, resolved with ``getaddrinfo``; when it has several
                addresses they are raced as RFC 8305 says (Happy Eyeballs, see
                :func:`happy_eyeballs_connect`).
            port: TCP port.
            timeout: seconds for the whole connect, resolution included (a running
                ``getaddrinfo`` cannot be interrupted, but the time it took counts);
                also the socket's initial timeout. None: no limit.
            local_address: local IP address to bind to (port 0), or None.
            socket_options: ``setsockopt`` argument tuples, applied before connecting,
                then ``TCP_NODELAY``.

        Raises:
            ConnectTimeout: not connected within ``timeout``.
            ConnectError: resolution failure, refusal, unreachable host, bad option...
                (every address failed: the first address's error type, see
                :func:`_combined_error`).
        """
        return self._connect_tcp_with_resolver(
            None, host, port, timeout, local_address, socket_options
        )

    def _connect_tcp_with_resolver(
        self,
        resolver: NameResolver | None,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """:meth:`connect_tcp`, the addresses of ``host`` given by the pool's
        ``resolver`` (its overrides, cache, or a lookup it coalesces with other threads'
        lookups of the name: the time spent waiting for one counts in ``timeout``), or
        by ``getaddrinfo`` when ``resolver`` is None."""
        deadline = None if timeout is None else time.monotonic() + timeout
        options = list(socket_options) if socket_options is not None else []
        try:
            if resolver is None:
                infos = _getaddrinfo(host, port)
            else:
                infos = resolver.resolve(host, port, _getaddrinfo, timeout)
            sock = happy_eyeballs_connect(infos, deadline, options, local_address)
        except socket.timeout as exc:
            raise ConnectTimeout(exc) from exc
        except OSError as exc:
            raise ConnectError(exc) from exc
        sock.settimeout(timeout)
        return SyncStream(sock)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> NetworkStream:
        """Connect to the Unix domain socket at ``path``; options are applied before
        connecting. Raises ``ConnectTimeout`` / ``ConnectError``, and ``RuntimeError``
        on Windows."""
        if sys.platform == "win32":  # pragma: no cover
            raise RuntimeError("Attempted to connect to a UNIX socket on a Windows system.")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if socket_options is not None:
                for option in socket_options:
                    sock.setsockopt(*option)
            sock.settimeout(timeout)
            sock.connect(path)
        except BaseException as exc:
            sock.close()
            if isinstance(exc, socket.timeout):
                raise ConnectTimeout(exc) from exc
            if isinstance(exc, OSError):
                raise ConnectError(exc) from exc
            raise
        return SyncStream(sock)

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        time.sleep(seconds)

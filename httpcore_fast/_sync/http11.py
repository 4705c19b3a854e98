"""HTTP/1.1 over one network stream, driven by the sans-I/O kernel.

Generated from ``httpcore_fast/_async/http11.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

Per request the hot path is: one kernel call that validates and serialises the request
head, one ``write`` of head + body when the body is known bytes, ``recv_into`` the
kernel's own buffer, one kernel call that parses the whole response head, and one more
per body chunk. Trace objects are only built when a ``trace`` callback is given or the
``httpcore.http11`` logger is enabled for DEBUG (``_trace.tracer``); otherwise each traced
step costs one ``is None`` test.
"""

from __future__ import annotations

import enum
import time
import typing

from .._backends.base import NetworkStream, copy_into
from .._core.origin import check_origin
from .._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
)
from .._kernel import get_kernel
from .._limits import ResponseLimits
from .._models import ByteStream, Origin, Request, Response, connection_info, connection_repr
from .._synchronization import ShieldCancellation, ThreadLock
from .._trace import Tracer, module_logger, tracer
from .interfaces import ConnectionByteStream, ConnectionInterface, mark_stale_failure

if typing.TYPE_CHECKING:
    from .._core.http2 import CloseReason

logger = module_logger("httpcore.http11", globals())

# Bodies up to this size are sent in the same write as the request head.
_COALESCE_LIMIT = 64 * 1024


class HTTPConnectionState(enum.IntEnum):
    NEW = 0
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


NEW = HTTPConnectionState.NEW
ACTIVE = HTTPConnectionState.ACTIVE
IDLE = HTTPConnectionState.IDLE
CLOSED = HTTPConnectionState.CLOSED


def close_request_body(iterator: typing.Any) -> None:
    """Sending a request body failed, was cancelled or stopped early: if the iterator
    taken from the body is an async generator, close it now, as httpcore2 does, so that
    its clean-up code runs at once (left open, it would run late, and trio warns about
    it). Its own errors are dropped (the request raises its own). The body object and any
    other iterator belong to the caller and are left as they are (a file object passed as
    ``content`` stays open), and the sync twin closes nothing, as in httpcore2.

    The close is user code that can suspend (a generator's ``finally``): it runs under
    ``ShieldCancellation.run``, so that a cancellation arriving meanwhile waits for it
    to finish instead of cutting it short; it is raised after.
    """




class HTTP11Connection(ConnectionInterface):
    """One HTTP/1.1 connection over an already connected ``NetworkStream``.

    ``origin``: the ``Origin`` it serves; ``keepalive_expiry``: seconds an idle
    connection may be kept before ``has_expired()`` reports it (None: no limit);
    ``limits``: a ``ResponseLimits`` (default: ``ResponseLimits.from_httpcore(
    MAX_INCOMPLETE_EVENT_SIZE, READ_NUM_BYTES)`` of the class attributes, which accepts every
    response httpcore accepts).
    Requests run one at a time; a second concurrent request raises
    ``ConnectionNotAvailable`` (the pool then uses another connection).

    A reused connection (not its first request) that fails before any byte of the
    response arrived, with EOF or a reset (the server closed it while it was idle; a
    broken pipe while writing ends the same way), marks the exception it raises
    (``interfaces.mark_stale_failure``): the pool may send the request again (RFC 9110
    §9.2.2). The exception itself is the one httpcore raises.

    After the body has been read to its end, the response's ``extensions["trailers"]`` is
    the trailer section of a chunked body (RFC 9112 §7.1.2) as a list of ``(name, value)``
    bytes pairs, ``[]`` when it had none or the body was not chunked (Content-Length,
    close-delimited, no body).
    """

    READ_NUM_BYTES = 64 * 1024
    MAX_INCOMPLETE_EVENT_SIZE = 100 * 1024

    def __init__(
        self,
        origin: Origin,
        stream: NetworkStream,
        keepalive_expiry: float | None = None,
        *,
        limits: ResponseLimits | None = None,
    ) -> None:
        self._origin = origin
        self._network_stream = stream
        self._keepalive_expiry = keepalive_expiry
        self._expire_at: float | None = None
        self._state = NEW
        self._state_lock = ThreadLock()
        self._request_count = 0
        kernel = get_kernel()
        self._serialize_request_head = kernel.serialize_request_head
        if limits is None:
            limits = ResponseLimits.from_httpcore(
                self.MAX_INCOMPLETE_EVENT_SIZE, self.READ_NUM_BYTES
            )
        self._parser = kernel.ResponseParser(**limits.parser_kwargs())
        self._head_timeout: float | None = limits.head_timeout
        self._recv_into = stream._recv_into
        self._body_length = 0
        self._request_close = False
        self._response_complete = False
        self._response_started = False  # a byte of the response arrived
        self._closed_by: CloseReason | None = None  # see _close_reason

    # ------------------------------------------------------------------ requests

    def handle_request(self, request: Request) -> Response:
        """Send ``request`` and return the response with its body still unread.

        Raises ``RuntimeError`` for a request to another origin,
        ``ConnectionNotAvailable`` if the connection is busy or closed,
        ``LocalProtocolError`` for a request that is not valid HTTP/1.1, and the
        network / timeout / ``RemoteProtocolError`` exceptions of the exchange (after
        which the connection is closed).
        """
        check_origin(request.url, self._origin)

        with self._state_lock:
            if self._state is NEW or self._state is IDLE:
                self._request_count += 1
                self._state = ACTIVE
                self._expire_at = None
            else:
                raise ConnectionNotAvailable()

        extensions = request.extensions
        timeouts = extensions.get("timeout")
        if timeouts:
            read_timeout = timeouts.get("read", None)
            write_timeout = timeouts.get("write", None)
        else:
            read_timeout = write_timeout = None

        trace = tracer(request, logger)
        try:
            try:
                body = self._send_request_headers(request, write_timeout, trace)
                if body is not None or trace is not None:
                    self._send_request_body(request, body, write_timeout, trace)
            except WriteError:
                # The server may have answered (and closed) before reading the whole
                # request, e.g. 413: read that response rather than fail, but never
                # reuse the connection (the server may still expect the rest of the body).
                self._request_close = True
            head = self._receive_response_head(request, read_timeout, trace)

            status = head[1]
            network_stream = self._network_stream
            if status == 101 or (200 <= status < 300 and request.method == b"CONNECT"):
                network_stream = HTTP11UpgradeStream(
                    network_stream, self._parser.take_pending() + network_stream._take_unread()
                )
            response_extensions = {
                "http_version": head[0],
                "reason_phrase": head[2],
                "network_stream": network_stream,
            }
            body = HTTP11ConnectionByteStream(self, request, read_timeout, trace)
            body._extensions = response_extensions
            return Response._from_parser(status, head[3], body, response_extensions)
        except BaseException as exc:
            if (
                self._request_count > 1
                and not self._response_started
                and isinstance(exc, (ReadError, RemoteProtocolError))
            ):
                # Reused, and the server closed it before answering: a stale connection.
                mark_stale_failure(exc)
                self._closed_by = "closed_by_server"
            else:
                self._closed_by = "error"
            # Bookkeeping first, then a close that cannot be cut short (see
            # _response_closed); a trace callback around it runs shielded too.
            if trace is None:
                self._response_closed()
            else:
                ShieldCancellation.run(self._response_closed_traced, trace)
            raise exc

    def _send_request_headers(
        self, request: Request, timeout: float | None, trace: Tracer | None
    ) -> typing.Any:
        """Write the request head; with a small bytes body, write both at once (the
        ``send_request_headers`` step with ``trace``).

        Returns the body stream still to be sent, or None if nothing is left.
        """
        if trace is not None:
            with trace.step("send_request_headers", {"request": request}):
                return self._send_request_headers(request, timeout, None)
        method = request.method
        self._response_complete = False
        self._response_started = False
        head, body_length, close, upgrade = self._serialize_request_head(
            method, request.url.target, request.headers
        )
        self._body_length = body_length
        self._request_close = close
        if upgrade:
            # An Upgrade proposal (RFC 9110 §7.8): only then may a 101 answer it.
            self._parser.start_response(
                method == b"HEAD", method == b"CONNECT", upgrade_request=True
            )
        else:
            self._parser.start_response(method == b"HEAD", method == b"CONNECT")
        stream = request.stream
        if type(stream) is ByteStream:
            content = stream.content
            if len(content) == body_length:
                if body_length <= _COALESCE_LIMIT:
                    self._network_stream.write(head + content if content else head, timeout)
                else:
                    self._network_stream.write(head, timeout)
                    self._network_stream.write(content, timeout)
                return None
        self._network_stream.write(head, timeout)
        return stream

    def _send_request_body(
        self, request: Request, stream: typing.Any, timeout: float | None, trace: Tracer | None
    ) -> None:
        """Write the body from ``stream`` (None: nothing left to send) framed as the head
        declared (the ``send_request_body`` step with ``trace``, even with nothing to send).

        Raises ``LocalProtocolError`` if the body does not match its Content-Length. If
        sending fails or is cancelled, the body is closed (:func:`close_request_body`)
        before the exception propagates.
        """
        if trace is not None:
            with trace.step("send_request_body", {"request": request}):
                if stream is not None:
                    self._send_request_body(request, stream, timeout, None)
            return
        write = self._network_stream.write
        body_length = self._body_length
        iterator = stream.__iter__()
        try:
            if body_length < 0:  # Transfer-Encoding: chunked (RFC 9112 §7.1)
                for chunk in iterator:
                    if chunk:
                        write(b"%x\r\n%b\r\n" % (len(chunk), chunk), timeout)
                write(b"0\r\n\r\n", timeout)
                return
            sent = 0
            for chunk in iterator:
                if not chunk:
                    continue
                sent += len(chunk)
                if sent > body_length:
                    raise LocalProtocolError("Too much data for declared Content-Length")
                write(chunk, timeout)
            if sent < body_length:
                raise LocalProtocolError("Too little data for declared Content-Length")
        except BaseException:
            close_request_body(iterator)
            raise

    def _receive_more(self, timeout: float | None) -> int:
        """Read once from the network into the parser's buffer; returns the number of
        bytes read (0: EOF)."""
        parser = self._parser
        received: int = self._recv_into(parser.get_buffer(self.READ_NUM_BYTES), timeout)
        parser.buffer_updated(received)
        return received

    def _receive_response_head(
        self, request: Request, timeout: float | None, trace: Tracer | None
    ) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
        """The response head ``(http_version, status, reason, headers)`` (the
        ``receive_response_headers`` step with ``trace``). Raises ``ReadTimeout`` past
        ``timeout`` or the ``head_timeout``, and the parser's ``RemoteProtocolError``."""
        if trace is not None:
            with trace.step("receive_response_headers", {"request": request}) as step:
                head = self._receive_response_head(request, timeout, None)
                step.return_value = head
            return head
        parser = self._parser
        if self._head_timeout is None:
            # Nothing of this response is buffered yet (a connection is only reused with
            # an empty buffer): read first, then parse.
            while True:
                if self._receive_more(timeout):
                    self._response_started = True
                head = parser.receive_head()
                if head is not None:
                    return head  # type: ignore[no-any-return]
        head = parser.receive_head()
        # A deadline for the whole head, so a server cannot drip it forever.
        deadline = time.monotonic() + self._head_timeout
        while head is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReadTimeout(
                    f"response head not received within head_timeout ({self._head_timeout} s)"
                )
            try:
                if self._receive_more(
                    remaining if timeout is None else min(timeout, remaining)
                ):
                    self._response_started = True
            except ReadTimeout:
                if timeout is None or remaining < timeout:
                    raise ReadTimeout(
                        f"response head not received within head_timeout "
                        f"({self._head_timeout} s)"
                    ) from None
                raise
            head = parser.receive_head()
        return head  # type: ignore[no-any-return]

    def _response_closed(self) -> None:
        """Return to IDLE if the exchange ended cleanly and may be reused, else close.

        Reuse needs: the whole response received, keep-alive on both sides
        (RFC 9112 §9.3), and no bytes buffered beyond the response (bytes nobody asked
        for would otherwise be read as the next response).
        """
        parser = self._parser
        with self._state_lock:
            if self._state is ACTIVE:
                if not self._response_complete:
                    # A response without body (HEAD, 204, 304) ends at its head.
                    try:
                        self._response_complete = parser.receive_body() == b""
                    except Exception:
                        self._response_complete = False
                if (
                    self._response_complete
                    and parser.keep_alive
                    and not self._request_close
                    and not parser.pending()
                ):
                    self._state = IDLE
                    if self._keepalive_expiry is not None:
                        self._expire_at = time.monotonic() + self._keepalive_expiry
                    return
                if self._response_complete and self._closed_by is None:
                    # Connection: close, HTTP/1.0, or bytes after the response.
                    self._closed_by = "closed_by_server"
        # Closing may suspend (a custom stream; TLS close_notify): a cancellation then
        # waits for it rather than leave the socket open. A reusable connection (above)
        # never gets here, so the usual response close starts no task.
        ShieldCancellation.run(self.close)

    def _response_closed_traced(self, trace: Tracer) -> None:
        """:meth:`_response_closed` as the ``response_closed`` step of ``trace``."""
        with trace.step("response_closed"):
            self._response_closed()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection and its network stream (idempotent)."""
        if self._state is not CLOSED:
            if self._closed_by is None:
                self._closed_by = self._close_reason()  # an expired one stays expired
            self._state = CLOSED
            self._network_stream.close()

    def _close_after_fork(self) -> None:
        self._network_stream._close_after_fork()

    def can_handle_request(self, origin: Origin) -> bool:
        """True if ``origin`` is this connection's ``Origin``."""
        return origin == self._origin

    def is_available(self) -> bool:
        """True if a request can be sent now: HTTP/1.1 carries one request at a time,
        so available means idle."""
        return self._state is IDLE

    def has_expired(self) -> bool:
        """True if the connection must not be reused: ``keepalive_expiry`` seconds have
        passed since it became idle, or, idle, it is readable (the server closed it or
        sent bytes nobody asked for; checked with a zero-timeout poll, one syscall)."""
        if self._expire_at is not None and time.monotonic() > self._expire_at:
            return True
        # An idle connection the server closed, or wrote to, is readable.
        if self._state is not IDLE:
            return False
        return self._network_stream._is_readable()

    def is_idle(self) -> bool:
        """True between requests (keep-alive)."""
        return self._state is IDLE

    def _close_reason(self) -> CloseReason | None:
        """Why the connection is, or is to be, closed, for the pool's statistics:
        ``"expired"`` (idle past ``keepalive_expiry``), ``"closed_by_server"`` (a
        stale connection: the server closed it as a request was sent; or the response
        ended it: ``Connection: close``, HTTP/1.0, bytes after the response), ``"error"``
        (an exchange failed, timed out or was cancelled before its response head), or
        None: still usable, closed by its user or the pool, closed with a response not
        read to its end, or idle with the server's close not yet seen (the pool tells
        that from ``has_expired()``, without another readability check here)."""
        if self._state is CLOSED:
            return self._closed_by
        expire_at = self._expire_at
        if expire_at is not None and self._state is IDLE and time.monotonic() > expire_at:
            return "expired"
        return None

    def is_closed(self) -> bool:
        """True once closed (by ``close()``, an error, or a response that ends the
        connection)."""
        return self._state is CLOSED

    def info(self) -> str:
        """``"'http://host:port', HTTP/1.1, IDLE, Request Count: N"`` (httpcore's format)."""
        return connection_info(self._origin, "HTTP/1.1", self._state.name, self._request_count)

    def __repr__(self) -> str:
        return connection_repr(self, self._origin, self._state.name, self._request_count)


class HTTP11ConnectionByteStream(ConnectionByteStream):
    """The response body of one HTTP/1.1 exchange, read from the connection's parser;
    closing it ends the exchange (see :class:`ConnectionByteStream`):
    ``HTTP11ConnectionByteStream(connection, request, read_timeout, trace)``. The
    connection then sets ``_extensions``, the response's extensions dict: at the end of
    the body the parser's trailer section goes to ``_extensions["trailers"]``."""

    _connection: HTTP11Connection
    _extensions: dict[str, typing.Any]

    def _receive_part(self) -> bytes:
        connection = self._connection
        parser = connection._parser
        while True:
            data = parser.receive_body()
            if data is None:
                connection._receive_more(self._timeout)
            else:
                if not data:
                    connection._response_complete = True
                    self._extensions["trailers"] = parser.trailers
                return data  # type: ignore[no-any-return]

    def _receive_rest(self) -> bytes:
        connection = self._connection
        parser = connection._parser
        chunks = []
        while True:
            data = parser.receive_body()
            if data is None:
                connection._receive_more(self._timeout)
            elif data:
                chunks.append(data)
            else:
                connection._response_complete = True
                self._extensions["trailers"] = parser.trailers
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _end_exchange(self) -> None:
        """Return the connection to IDLE or close it (``_response_closed``); with a
        tracer, as the ``response_closed`` step, shielded: a cancellation while the
        trace callback awaits cannot skip the close."""
        if self._trace is None:
            self._connection._response_closed()
        else:
            ShieldCancellation.run(
                self._connection._response_closed_traced, self._trace
            )


class HTTP11UpgradeStream(NetworkStream):
    """The network stream after a 101 or a 2xx CONNECT (or a SOCKS handshake): first
    replays the bytes already read past the response head (or the SOCKS reply), then
    reads the stream."""

    def __init__(self, stream: NetworkStream, leading_data: bytes) -> None:
        self._stream = stream
        self._leading_data = leading_data

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._leading_data:
            data = self._leading_data[:max_bytes]
            self._leading_data = self._leading_data[max_bytes:]
            return data
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """TLS over the tunnel (``timeout`` in seconds). Raises ``ProxyError`` if bytes
        arrived after the 101/2xx response head and before TLS started: the TLS
        handshake would otherwise silently lose them."""
        return self._start_tls_with_session(ssl_context, server_hostname, timeout)

    def _start_tls_with_session(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
        session: typing.Any = None,
    ) -> NetworkStream:
        """:meth:`start_tls` offering ``session`` (the stream's own capability)."""
        if self._leading_data:
            raise ProxyError(
                f"{len(self._leading_data)} bytes received after the tunnel was opened, "
                "before TLS started"
            )
        return self._stream._start_tls_with_session(
            ssl_context, server_hostname, timeout, session
        )

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)

    def _recv_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """The replayed bytes first, then the stream's own ``_recv_into``."""
        if self._leading_data:
            n, self._leading_data = copy_into(buffer, self._leading_data)
            return n
        return self._stream._recv_into(buffer, timeout)

    def _take_unread(self) -> bytes:
        return self._stream._take_unread()

    def _is_readable(self) -> bool:
        return bool(self._leading_data) or self._stream._is_readable()

    def _socket(self) -> typing.Any:
        return self._stream._socket()

    def _cancelled_write_sent_all(self) -> bool:
        return self._stream._cancelled_write_sent_all()

    def _close_after_fork(self) -> None:
        self._stream._close_after_fork()

"""HTTP/2 over one network stream: the I/O driver of the sans-I/O HTTP/2 core.

Generated from ``httpcore_fast/_async/http2.py`` by
``scripts/unasync.py``: do not edit, edit the async source. Importing it raises ``ImportError``
when ``h2`` (the ``http2`` extra) is not installed.

The rules live in :class:`httpcore_fast._core.http2.HTTP2Core` (stream table, slot
scheduler, GOAWAY and REFUSED_STREAM, limits, reader election and write batching, idle
and expiry) over the framing layer of :mod:`httpcore_fast._core.http2_framing` (h2).
What is here reads, writes, waits, times out and traces:

* streams are limited to min(server, client) ``SETTINGS_MAX_CONCURRENT_STREAMS``; a request
  beyond that waits, first in first out, for a stream to end (its ``pool`` timeout applies)
  instead of failing;
* there is no background task: whichever request needs bytes from the network reads them
  (one reader at a time, the others wait for it to finish a round), and every frame read is
  handed to the stream it belongs to;
* a GOAWAY (RFC 9113 §6.8) lets the streams up to its ``last_stream_id`` finish; the others
  were not processed and raise ``ConnectionNotAvailable`` so that the pool retries them on
  another connection, as it does for a stream refused with ``REFUSED_STREAM`` (§8.7);
* a stream reset by the server fails only its own request (``RemoteProtocolError``);
  closing, cancelling or timing out a request resets only its stream (``RST_STREAM``
  CANCEL), handing back its flow-control credit and its place: the other requests go on
  and the connection stays usable;
* a network error, a write that failed or timed out (how much of it left is unknown), an
  end of file or a protocol error from the server fails the connection and every request
  on it;
* a response's trailer fields (RFC 9113 §8.1) are ``response.extensions["trailers"]``
  once its body has been read to its end (see :class:`HTTP2ConnectionByteStream`).

For the pool's statistics, a connection says why it is done with (:meth:`_close_reason`)
and a request the server did not process, which the pool retries elsewhere, is the trace
step ``http2.request_not_processed`` (with its DEBUG log line).
"""

from __future__ import annotations

import time
import typing

import h2  # noqa: F401 - ImportError without the http2 extra, even once the core is imported

from .._backends.base import NetworkStream
from .._core.http2 import CLOSED, IDLE, CloseReason, HTTP2Core, Stream, copy_error
from .._core.http2 import HTTPConnectionState as HTTPConnectionState  # httpcore's name
from .._core.http2_framing import CONFIG, FramingError, h2_hooks
from .._core.origin import REQUEST_PORTS, check_origin
from .._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
)
from .._limits import ResponseLimits
from .._models import ByteStream, Origin, Request, Response, connection_info, connection_repr
from .._synchronization import Event, Lock, ShieldCancellation, ThreadLock
from .._trace import Tracer, module_logger, step, tracer
from .http11 import close_request_body
from .interfaces import ConnectionByteStream, ConnectionInterface


logger = module_logger("httpcore.http2", globals())


def _write_timeout(request: Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    return timeouts.get("write", None)


def _wake(wakers: list[Event]) -> None:
    for waker in wakers:
        waker.set()


class HTTP2Connection(ConnectionInterface):
    """One HTTP/2 connection over an already connected ``NetworkStream``.

    ``origin``: the ``Origin`` it serves; ``keepalive_expiry``: seconds an idle connection
    may be kept before ``has_expired()`` reports it (None: no limit). Requests run
    concurrently, each on its own stream (see the module docstring).

    ``limits`` (keyword-only, a ``ResponseLimits``; None: httpcore's 64 KiB header list
    and the ``ResponseLimits`` defaults for the rest) bounds what the server may send, as
    far as each bound has an HTTP/2 meaning:

    ============================  ============================================================
    ``ResponseLimits``            HTTP/2
    ============================  ============================================================
    ``max_head_size``             SETTINGS_MAX_HEADER_LIST_SIZE advertised in the preface
                                  (RFC 9113 §6.5.2), enforced on every received header block
                                  by its RFC 7541 §4.1 size (name + value + 32 per field,
                                  pseudo-header fields included). A block over it is decoded
                                  (HPACK state kept, RFC 9113 §4.3) and fails its stream only
                                  (``RemoteProtocolError``, RST_STREAM CANCEL); one over
                                  ``DECODED_HEADER_LIST_FACTOR`` times it fails the connection
    ``max_field_count``           regular (non-pseudo) fields in one header block
    ``max_field_line_size``       one field as its HTTP/1.1 line ``name: value`` would be
                                  (name + value + 2 octets)
    ``max_trailer_size``          the trailer block's RFC 7541 §4.1 size (the header list
                                  bound applies too)
    ``max_informational``         1xx HEADERS (RFC 9113 §8.1) before the final response
    ``head_timeout``              seconds from sending the request (headers and body) to the
                                  response HEADERS: ``ReadTimeout`` for that request only
    ``max_status_line_size``,     no HTTP/2 meaning (``:status`` is three digits, there is no
    ``max_chunk_size_line``       chunked coding): not used
    ============================  ============================================================

    Exceeding a bound raises ``RemoteProtocolError`` naming it, for that request only.
    """

    READ_NUM_BYTES = 64 * 1024
    # Reads grow up to this while they fill their buffer (a large body streaming in:
    # fewer, larger reads, and the TLS layer's pending records drained at once), and
    # shrink back to READ_NUM_BYTES when they do not.
    MAX_READ_NUM_BYTES = 256 * 1024
    CONFIG = CONFIG

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
        authority = origin.host
        if origin.port != REQUEST_PORTS.get(origin.scheme):
            authority += b":%d" % origin.port
        self._core: HTTP2Core[Event] = HTTP2Core(
            h2_hooks().new_state(self.CONFIG),
            keepalive_expiry=keepalive_expiry,
            limits=limits,
            authority=authority,
        )
        # Guards the core; never held across I/O.
        self._lock = ThreadLock()
        self._init_lock = Lock()
        self._write_lock = Lock()
        self._sent_connection_init = False
        self._read_size = self.READ_NUM_BYTES

    # ------------------------------------------------------------------ requests

    def handle_request(self, request: Request) -> Response:
        """Send ``request`` on a new stream; return the response with its body unread.

        Raises ``RuntimeError`` for a request to another origin; ``ConnectionNotAvailable``
        if the connection cannot take it or the server did not process it (GOAWAY,
        REFUSED_STREAM: safe to retry elsewhere); ``PoolTimeout`` if no stream became free
        within the ``pool`` timeout; ``LocalProtocolError`` for an invalid request;
        ``RemoteProtocolError`` if the server reset the stream, broke the protocol or sent
        a response head over the ``limits``; ``ReadTimeout`` past the ``read`` timeout or
        the ``head_timeout``; the network and timeout exceptions of the exchange. A
        request that fails, times out or is cancelled resets only its own stream.

        The response's ``extensions``: ``http_version`` (``b"HTTP/2"``),
        ``network_stream``, ``stream_id`` (int), and ``trailers`` once the body has been
        read to its end (see :class:`HTTP2ConnectionByteStream`).

        A ``ConnectionNotAvailable`` is also the ``request_not_processed`` trace step
        (info: ``request``, ``stream_id``, 0 if the request had none yet, and ``reason``,
        the exception's message), after the request's stream has been closed.
        """
        check_origin(request.url, self._origin)
        trace = tracer(request, logger)
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read", None)
        write_timeout = timeouts.get("write", None)
        core = self._core
        with self._lock:
            was_idle = core.begin_request()

        slot = False
        stream_id = 0
        try:
            if not self._sent_connection_init:
                self._init_connection(request, trace)
            elif was_idle:
                self._check_idle_connection(request, read_timeout)
            self._acquire_slot(timeouts.get("pool", None))
            slot = True
            headers, body_length = core.request_fields(request)
            body = request.stream if body_length != 0 else None
            with self._lock:
                stream_id, stream = core.new_stream()
                body = core.send_headers(stream_id, stream, headers, body, body_length)
            if body is not None or trace is not None:
                self._send_request_headers(request, stream_id, write_timeout, trace)
                self._send_request_body(
                    request, stream_id, stream, body, body_length, read_timeout, write_timeout,
                    trace,
                )
            # Else the frames go with the connection's next write: at the latest when this
            # request reads, or waits for a reader (_read_until), so that requests started
            # together leave in one write.
            status, response_headers = self._receive_response_head(
                request, stream_id, stream, read_timeout, trace
            )
        except BaseException as exc:
            not_taken = isinstance(exc, ConnectionNotAvailable)
            if not_taken:
                with self._lock:
                    core.request_not_taken()
            self._leave(trace, stream_id, slot, write_timeout)
            if not_taken and trace is not None:
                kwargs = {"request": request, "stream_id": stream_id, "reason": str(exc)}
                with trace.step("request_not_processed", kwargs):
                    pass
            if isinstance(exc, FramingError):
                raise LocalProtocolError(exc) from exc
            raise

        extensions = {
            "http_version": b"HTTP/2",
            "network_stream": self._network_stream,
            "stream_id": stream_id,
        }
        return Response(
            status=status,
            headers=response_headers,
            content=HTTP2ConnectionByteStream(self, request, stream_id, trace, extensions),
            extensions=extensions,
        )

    def _init_connection(self, request: Request, trace: Tracer | None) -> None:
        with self._init_lock:
            if self._sent_connection_init:
                return
            if not self._core.accepting:
                raise self._core.not_available()
            try:
                with step(trace, "send_connection_init", {"request": request}):
                    with self._lock:
                        self._core.start()
                    self._flush(_write_timeout(request))
            except BaseException:
                ShieldCancellation.run(self.close)
                raise
            self._sent_connection_init = True

    def _check_idle_connection(self, request: Request, timeout: float | None) -> None:
        """Before reusing an idle connection the server wrote to (a GOAWAY, a PING, or the
        end of the connection), read what it sent.

        Any failure (a ``RuntimeError`` from a stream whose event loop has gone included)
        means the connection is dead: it is closed, ``has_expired()`` is true from then
        on, and ``ConnectionNotAvailable`` is raised so that the pool retries the request
        on a new connection; so it is if the server said GOAWAY. (The server closing it
        is its :meth:`_close_reason`, ``"closed_by_server"``.)
        """
        try:
            if self._network_stream._is_readable():
                with self._lock:
                    reader = self._core.take_reader_role(False)
                if reader:
                    try:
                        self._read_once(request, timeout)
                    except ReadTimeout:
                        pass
                    finally:
                        self._end_read_round()
                    self._flush(_write_timeout(request))
        except Exception as exc:
            self._fail(exc)
            if self._mark_closed():
                try:
                    ShieldCancellation.run(self._network_stream.close)
                except Exception:
                    pass
            raise self._core.not_available() from None
        if not self._core.accepting:
            raise self._core.not_available()

    def _acquire_slot(self, timeout: float | None) -> None:
        """Take a stream slot, waiting first in first out.

        Raises ``PoolTimeout`` after ``timeout`` seconds, ``ConnectionNotAvailable`` if the
        connection stops taking streams meanwhile.
        """
        core = self._core
        with self._lock:
            if core.take_slot():
                return
            ticket = core.queue_for_slot(Event())
        try:
            ticket.waker.wait(timeout)
        except BaseException:
            with self._lock:
                core.leave_slot_queue(ticket)
                if core.wakeups:  # slot waiters granted or refused a place
                    _wake(core.take_wakeups())
            raise
        if not ticket.granted:
            raise self._core.not_available()

    # ------------------------------------------------------------------ sending

    def _send_request_headers(
        self, request: Request, stream_id: int, timeout: float | None, trace: Tracer | None
    ) -> None:
        """Write the request's HEADERS (and whatever else is queued) now: the
        ``send_request_headers`` step with ``trace``."""
        if trace is not None:
            with trace.step(
                "send_request_headers", {"request": request, "stream_id": stream_id}
            ):
                self._flush(timeout)
            return
        self._flush(timeout)

    def _send_request_body(
        self,
        request: Request,
        stream_id: int,
        stream: Stream,
        body: typing.Any,
        body_length: int,
        read_timeout: float | None,
        write_timeout: float | None,
        trace: Tracer | None,
    ) -> None:
        """Send the body (None: nothing left to send) in DATA frames within the
        flow-control windows (RFC 9113 §5.2), then END_STREAM: the ``send_request_body``
        step with ``trace``, even with nothing to send. Stops early if the server already
        ended or reset the stream.

        If sending fails, is cancelled or stops early, the body's iterator and the body
        itself are closed (``close()``, when they have one) before this returns or
        raises. Raises ``LocalProtocolError`` if the body does not match its
        Content-Length (RFC 9113 §8.1.1).
        """
        if trace is not None:
            with trace.step(
                "send_request_body", {"request": request, "stream_id": stream_id}
            ):
                if body is not None:
                    self._send_request_body(
                        request, stream_id, stream, body, body_length, read_timeout,
                        write_timeout, None,
                    )
            return
        core = self._core
        iterator = body.__iter__()
        sent_all = False
        try:
            sent = 0
            replayable = type(body) is ByteStream
            for chunk in iterator:
                if not chunk:
                    continue
                if not replayable:
                    stream.body_started = True
                sent += len(chunk)
                if body_length >= 0 and sent > body_length:
                    raise LocalProtocolError("Too much data for declared Content-Length")
                while chunk:
                    window = self._wait_for_window(
                        request, stream_id, stream, read_timeout
                    )
                    if not window:
                        return
                    with self._lock:
                        core.send_data(stream_id, chunk[:window])
                    chunk = chunk[window:]
                    self._flush(write_timeout)
            if body_length >= 0 and sent < body_length:
                raise LocalProtocolError("Too little data for declared Content-Length")
            sent_all = True
        finally:
            if not sent_all:
                close_request_body(iterator)
        with self._lock:
            if not core.end_body(stream_id, stream):
                return
        self._flush(write_timeout)

    def _wait_for_window(
        self, request: Request, stream_id: int, stream: Stream, timeout: float | None
    ) -> int:
        """Bytes that may be sent on the stream now (at most a frame), reading until the
        server grants some; 0 if the stream needs no more data (ended or reset)."""
        core = self._core
        window = 0

        def ready() -> bool:
            nonlocal window
            available = core.send_window(stream_id, stream)
            if available is None:
                return False
            window = available
            return True

        self._read_until(request, timeout, ready)
        return window

    def _flush(self, timeout: float | None) -> None:
        """Write whatever is queued. A write that fails leaves the framing unknown: the
        connection is then failed (see :meth:`_write`)."""
        if not self._core.has_output():
            return  # (frames taken by a write still in progress are its to write)
        with self._write_lock:
            with self._lock:
                data = self._core.data_to_send()
            if data:
                self._write(data, timeout)


    def _send_soon(self, timeout: float | None) -> None:
        """Like ``_flush(timeout)``, for frames that may wait a moment (RST_STREAM,
        WINDOW_UPDATE): if a request about to read has yet to write, it writes them;
        nothing on a failed or closed connection. A write error is dropped (the
        connection's requests see it); a cancellation is raised, the frames then going
        with the connection's next write."""
        if self._core.may_defer_output():
            return
        try:
            self._flush(timeout)
        except Exception:
            pass

    def _write(self, data: bytes, timeout: float | None) -> None:
        """Under the write lock: write ``data``.

        A write that fails (``WriteError``, ``WriteTimeout``...) may have sent part of
        ``data``: the connection is failed. One interrupted by a cancellation fails it
        too unless the stream says a cancelled write hands everything on
        (``_cancelled_write_sent_all()``: the native asyncio stream, ``AnyIOBackend``'s
        asyncio socket streams and any stream that does not say otherwise, as httpcore
        assumes; not trio's sockets, anyio's Unix sockets or TLS over memory BIOs, nor a
        ``KeyboardInterrupt`` in a blocking ``sendall``); then the HPACK dynamic tables
        are emptied with the next header block (RFC 7541 §4.2), in step whether or not
        the server got every block of ``data``.
        """
        try:
            self._network_stream.write(data, timeout)
        except Exception as exc:
            self._fail(exc)
            raise
        except BaseException as exc:
            if not self._cut_write_kept_framing(exc):
                self._fail(WriteError("Interrupted write"))
            raise

    def _cut_write_kept_framing(self, exc: BaseException) -> bool:
        """A write interrupted by ``exc`` (not an ``Exception``): True if the stream took
        all of its bytes (then the HPACK tables are re-synchronised); never in sync code
        (a ``KeyboardInterrupt`` in a blocking ``sendall`` may leave part of a frame)."""
        return False

    # ------------------------------------------------------------------ receiving

    def _read_until(
        self,
        request: Request,
        timeout: float | None,
        ready: typing.Callable[[], object],
        deadline: float | None = None,
    ) -> None:
        """Return once ``ready()`` is true, reading from the network meanwhile: one
        request reads at a time, the others wait for its round to end and look again.

        Frames queued and not yet written are written before reading or waiting: by the
        reader, which first lets the other runnable requests queue theirs (one write for
        all); by a request about to wait, unless the reader has yet to write.

        Raises the connection's error if it failed, ``ReadTimeout`` after ``timeout``
        seconds without progress or once ``deadline`` (``time.monotonic()``, the
        ``head_timeout``) has passed.
        """
        core = self._core
        while True:
            write_first = False
            with self._lock:
                if ready():
                    return
                error = core.connection_error
                if error is not None:
                    raise copy_error(error)
                waiter: Event | None = None
                if not core.take_reader_role(True):
                    waiter = Event()
                    write_first = core.wait_for_reader(waiter)
            wait = timeout
            head_deadline = False  # True if the deadline ends this wait, not the timeout
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    if waiter is not None:
                        self._forget_read_waiter(waiter)
                    else:
                        self._end_read_round()
                    raise self._timed_out(True)
                if timeout is None or left < timeout:
                    wait = left
                    head_deadline = True
            if waiter is not None:
                try:
                    if write_first:
                        self._flush(_write_timeout(request))
                    waiter.wait(wait)
                except PoolTimeout:
                    self._forget_read_waiter(waiter)
                    raise self._timed_out(head_deadline) from None
                except BaseException:
                    self._forget_read_waiter(waiter)
                    raise
                continue
            try:
                self._write_before_read(request)
                self._read_once(request, wait)
            except ReadTimeout:
                if head_deadline:
                    raise self._timed_out(True) from None
                raise
            finally:
                self._end_read_round()
            self._flush(None)

    def _timed_out(self, head_deadline: bool) -> ReadTimeout:
        if head_deadline:
            return ReadTimeout(
                f"HTTP/2 response head not received within head_timeout "
                f"({self._core.head_timeout} s)"
            )
        return ReadTimeout("Timed out waiting for the HTTP/2 stream")

    def _write_before_read(self, request: Request) -> None:
        """The reader writes every frame queued so far (its own request's, and those of
        requests that left theirs to it), bounded by its ``write`` timeout."""
        with self._lock:
            if not self._core.reader_output_pending():
                return  # (the common case while a body streams in)
        with self._write_lock:
            with self._lock:
                data = self._core.output_for_reader()
            if data:
                self._write(data, _write_timeout(request))

    def _forget_read_waiter(self, waiter: Event) -> None:
        with self._lock:
            self._core.forget_read_waiter(waiter)

    def _end_read_round(self) -> None:
        with self._lock:
            waiters = self._core.end_read_round()
        if waiters:
            _wake(waiters)

    def _read_once(self, request: Request, timeout: float | None) -> None:
        """Read once from the network and feed the core.

        A read timeout is the caller's alone; any other failure fails the connection.
        """
        core = self._core
        size = self._read_size
        with self._lock:
            view = core.receive_buffer(size)
        try:
            # Into the framing layer's buffer: no copy of the bytes read.
            received = self._network_stream._recv_into(view, timeout)
        except ReadTimeout:
            raise
        except Exception as exc:
            self._fail(exc)
            raise
        finally:
            del view
        if received == size:
            self._read_size = min(2 * size, self.MAX_READ_NUM_BYTES)
        elif received < size // 4:
            self._read_size = max(size // 2, self.READ_NUM_BYTES)
        error: RemoteProtocolError | None = None
        settings_changes: list[typing.Any] = []
        with self._lock:
            if not received:
                error = core.connection_lost()
            else:
                try:
                    settings_changes = core.received(received)
                except RemoteProtocolError as exc:
                    error = exc
            if core.wakeups:  # slot waiters granted or refused a place
                _wake(core.take_wakeups())
        if error is not None:
            if received:
                try:
                    # The GOAWAY for the error: a courtesy, not shielded (clean-up never
                    # waits on a write under a shield), bounded by the write timeout.
                    self._flush(_write_timeout(request))
                except Exception:
                    pass
            raise copy_error(error)
        if settings_changes:
            trace = tracer(request, logger)
            if trace is not None:
                for event in settings_changes:
                    with trace.step("receive_remote_settings") as traced:
                        traced.return_value = event

    def _receive_response_head(
        self,
        request: Request,
        stream_id: int,
        stream: Stream,
        timeout: float | None,
        trace: Tracer | None,
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Wait for the response head ``(status, headers)`` (the
        ``receive_response_headers`` step with ``trace``); see ``HTTP2Core.next_head``
        for what it raises; ``ReadTimeout`` past ``head_timeout``."""
        if trace is not None:
            kwargs = {"request": request, "stream_id": stream_id}
            with trace.step("receive_response_headers", kwargs) as traced:
                head = self._receive_response_head(request, stream_id, stream, timeout, None)
                traced.return_value = head
            return head
        core = self._core
        deadline = None
        if core.head_timeout is not None:
            deadline = time.monotonic() + core.head_timeout
        events = stream.events
        while True:
            if events:
                with self._lock:
                    received = core.next_head(stream_id, stream)
                if received is not None:
                    return received
            self._read_until(request, timeout, events.__len__, deadline)

    # ------------------------------------------------------------------ ending requests

    def _end_request(self, stream_id: int, slot: bool) -> bool:
        """A request leaves (0: it has no stream yet; ``slot``: it holds a place): see
        ``HTTP2Core.end_request``. Returns True if the connection must now be closed."""
        core = self._core
        with self._lock:
            close = core.end_request(stream_id, slot, time.monotonic())
            if core.wakeups:  # slot waiters granted or refused a place
                _wake(core.take_wakeups())
        return close

    def _end_request_traced(self, trace: Tracer, stream_id: int, slot: bool) -> bool:
        """:meth:`_end_request` as the ``response_closed`` step of ``trace``, then the
        connection closed if it must be; returns whether it was. Run shielded: a
        cancellation while the trace callback awaits must not skip the bookkeeping."""
        with trace.step("response_closed", {"stream_id": stream_id}):
            close = self._end_request(stream_id, slot)
        if close:
            self.close()
        return close

    def _leave(
        self, trace: Tracer | None, stream_id: int, slot: bool, write_timeout: float | None
    ) -> None:
        """A request is done (its response closed, or it failed): its stream's
        bookkeeping at once (RST_STREAM queued, credit, place: :meth:`_end_request`; with
        ``trace`` and a stream, as the ``response_closed`` step, run shielded), the
        connection closed (shielded) if it must be, then the frames written, not under
        the shield: a cancelled request never waits on a write, its frames then go with
        the connection's next write."""
        if stream_id and trace is not None:
            close = ShieldCancellation.run(
                self._end_request_traced, trace, stream_id, slot
            )
        else:
            close = self._end_request(stream_id, slot)
            if close:
                ShieldCancellation.run(self.close)
        if not close:
            self._send_soon(write_timeout)

    def _fail(self, exc: Exception) -> None:
        """The connection is unusable: every request on it will raise ``exc`` (or
        ``ConnectionNotAvailable`` if the server never processed it)."""
        core = self._core
        with self._lock:
            core.fail(exc)
            if core.wakeups:  # slot waiters granted or refused a place
                _wake(core.take_wakeups())

    # ------------------------------------------------------------------ lifecycle

    def _mark_closed(self) -> bool:
        """Set the state to CLOSED; False if it already was."""
        core = self._core
        now = time.monotonic()
        with self._lock:
            closed = core.mark_closed(now)
            if core.wakeups:  # slot waiters granted or refused a place
                _wake(core.take_wakeups())
        return closed

    def close(self) -> None:
        """Close the connection and its network stream (idempotent)."""
        if self._mark_closed():
            self._network_stream.close()

    def _close_after_fork(self) -> None:
        """In a forked child: release this process's copies of the network stream's file
        descriptors (the stream's ``_close_after_fork()``), nothing else: no GOAWAY, no
        write, no state change (the parent still uses the connection). Never raises."""
        self._network_stream._close_after_fork()

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        """True while new streams may be opened (requests beyond the server's stream
        limit wait inside the connection)."""
        return self._core.accepting

    def has_expired(self) -> bool:
        """True once the connection must not be handed out again: closed, failed, or
        idle after a GOAWAY or past ``keepalive_expiry``."""
        return self._core.has_expired(time.monotonic())

    def _close_reason(self) -> CloseReason | None:
        """Why the connection is, or is to be, closed, for the pool's statistics:
        ``"closed_by_server"`` (end of file, GOAWAY, ``MAX_REFUSED_STREAMS`` refused
        streams), ``"error"`` (a network error, a write cut short, a protocol error of
        the server's), ``"expired"`` (idle past ``keepalive_expiry``, or every stream
        identifier used), or None: still usable, or closed while usable (by the pool
        or its user). The first cause is kept; see ``HTTP2Core.close_reason``."""
        return self._core.close_reason(time.monotonic())

    def is_idle(self) -> bool:
        return self._core.state is IDLE

    def is_closed(self) -> bool:
        return self._core.state is CLOSED

    def can_multiplex(self) -> bool:
        """True: HTTP/2 carries concurrent requests (httpcore2's method)."""
        return True

    def is_connected(self) -> bool:
        """True while the network stream is open: from creation (the stream is already
        connected) until :meth:`close` (httpcore2's method)."""
        return self._core.state is not CLOSED

    # httpcore's private names that its own test suite reads (tests/_async/test_http2.py,
    # test_http2_remote_max_streams_update), read-only, as the pool's _ssl_context & co.
    @property
    def _h2_state(self) -> typing.Any:
        """The h2 connection state machine (our framing layer: ``_core.framing``)."""
        return self._core.framing

    @property
    def _max_streams(self) -> int:
        """min(server, client) SETTINGS_MAX_CONCURRENT_STREAMS (``_core.max_streams``)."""
        return self._core.max_streams

    def info(self) -> str:
        """``"'https://host:port', HTTP/2, IDLE, Request Count: N"`` (httpcore's format)."""
        core = self._core
        return connection_info(self._origin, "HTTP/2", core.state.name, core.request_count)

    def __repr__(self) -> str:
        core = self._core
        return connection_repr(self, self._origin, core.state.name, core.request_count)


class HTTP2ConnectionByteStream(ConnectionByteStream):
    """The response body of one stream; closing it ends the stream (resets it if the
    body was not read to its end) and frees its place on the connection (see
    :class:`ConnectionByteStream`; the trace steps' info has the ``stream_id``).

    ``extensions``: the response's extensions dict. Once the body has been read to its
    end, ``extensions["trailers"]`` is the response's trailer fields (RFC 9113 §8.1), a
    list of ``(name, value)`` bytes pairs in the order received (names lowercase, as
    HTTP/2 sends them), ``[]`` if it had none; absent before, and absent if the body was
    closed, or failed, before its end. A trailer block with a pseudo-header field (a
    malformed response, RFC 9113 §8.1.1) or over ``max_trailer_size`` fails the read with
    ``RemoteProtocolError``.
    """

    _connection: HTTP2Connection

    def __init__(
        self,
        connection: HTTP2Connection,
        request: Request,
        stream_id: int,
        trace: Tracer | None,
        extensions: dict[str, typing.Any],
    ) -> None:
        timeouts = request.extensions.get("timeout") or {}
        super().__init__(connection, request, timeouts.get("read", None), trace)
        self._stream_id = stream_id
        self._extensions = extensions
        self._ended = False

    def _trace_info(self) -> dict[str, typing.Any]:
        return {"request": self._request, "stream_id": self._stream_id}

    def _receive_part(self) -> bytes:
        """The next bytes of the stream's response body, reading meanwhile; ``b""`` at
        its end. Consumed bytes hand their flow-control credit back (written soon).
        Raises as ``HTTP2Core.next_body`` does, ``RuntimeError`` once the response is
        closed, ``ReadTimeout`` after the read timeout without progress."""
        if self._ended:
            return b""
        connection = self._connection
        core = connection._core
        stream_id = self._stream_id
        stream = core.streams.get(stream_id)
        if stream is None:
            raise RuntimeError("The response was closed: its body can no longer be read.")
        events = stream.events
        while True:
            with connection._lock:
                part = core.next_body(stream_id, stream)
            if part is None:
                connection._read_until(self._request, self._timeout, events.__len__)
                continue
            data, flush = part
            if data is None:
                self._ended = True
                trailers = stream.trailers
                self._extensions["trailers"] = [] if trailers is None else trailers
                return b""
            if flush:
                connection._send_soon(_write_timeout(self._request))
            if data:
                return data

    def _end_exchange(self) -> None:
        """A cancellation while the RST_STREAM is being written leaves it to the
        connection's next write."""
        request = self._request
        self._connection._leave(
            self._trace, self._stream_id, True, _write_timeout(request)
        )

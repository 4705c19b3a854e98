"""The HTTP/2 connection (RFC 9113) as a sans-I/O state machine: every rule of the
client connection that does not wait for the network.

:class:`HTTP2Core` holds the stream table, the slot scheduler, reader election and
write batching, the GOAWAY / REFUSED_STREAM / RST_STREAM rules, the ``limits``, idle
and expiry decisions and the request fields. It never reads, writes, waits, locks or
looks at a clock: the I/O driver (``_async/http2.py``, generated into ``_sync/``) calls
it under the connection's lock, writes the bytes it says to write, feeds it what it
reads, waits on the events it names and passes in clock values. Frames and HPACK are
the framing layer's (:class:`.http2_framing.Framing`; h2 by default).

What the driver does with the answers:

* bytes to write: ``HTTP2Core.data_to_send()`` (or :meth:`~HTTP2Core.output_for_reader`)
  whenever ``has_output()``; frames that may wait for the reader's next
  write: :meth:`~HTTP2Core.may_defer_output`;
* stream events: :meth:`~HTTP2Core.next_head` and :meth:`~HTTP2Core.next_body` return
  what a stream has (or None: read, then ask again), and raise the stream's failure;
* waiters to wake: the wakers :meth:`~HTTP2Core.take_wakeups` and
  :meth:`~HTTP2Core.end_read_round` return (the driver's events, opaque here);
* connection failure: :meth:`~HTTP2Core.fail` records it as ``connection_error``; each
  request it ends raises a :func:`copy_error` of it;
* why the connection is done with, for the pool's statistics: :meth:`~HTTP2Core.close_reason`;
* a response's trailer fields (RFC 9113 §8.1), once its body has ended: ``Stream.trailers``.

Never generated, never awaits; unit-tested without sockets (``tests/test_core_http2.py``).
"""

from __future__ import annotations

import collections
import enum
import typing

from hpack import NeverIndexedHeaderTuple

from .._exceptions import ConnectionNotAvailable, LocalProtocolError, RemoteProtocolError
from .._kernel import get_kernel
from .._limits import ResponseLimits
from .._models import ByteStream, Request
from .http2_framing import (
    DATA,
    ENDED,
    GOAWAY,
    INFORMATIONAL,
    RESET,
    RESPONSE,
    SETTINGS,
    TRAILERS,
    Framing,
    FramingError,
    NoAvailableStreamIDError,
    StreamClosedError,
)
from .http2_hpack import DECODED_HEADER_LIST_FACTOR

__all__ = [
    "ACTIVE",
    "CLOSED",
    "CLOSED_BY_SERVER",
    "DECODED_HEADER_LIST_FACTOR",
    "ERROR",
    "EXPIRED",
    "IDLE",
    "LOCAL_MAX_CONCURRENT_STREAMS",
    "LOCAL_MAX_HEADER_LIST_SIZE",
    "MAX_BODY_PART",
    "MAX_REFUSED_STREAMS",
    "RECEIVE_WINDOW",
    "CloseReason",
    "HTTP2Core",
    "HTTPConnectionState",
    "SlotTicket",
    "Stream",
    "copy_error",
]

# Client settings (RFC 9113 §6.5.2) sent in the connection preface, as httpcore sends them:
# no server push, at most 100 concurrent streams, header lists up to 64 KiB (without
# ``limits``; with them, ``ResponseLimits.max_head_size``).
LOCAL_MAX_CONCURRENT_STREAMS = 100
LOCAL_MAX_HEADER_LIST_SIZE = 64 * 1024
# Receive windows (bytes): the connection's is raised to this plus the default 65,535, and
# every stream's to this; credit goes back to the server as the body is consumed.
RECEIVE_WINDOW = 2**24
# The most bytes of DATA one ``HTTP2Core.next_body`` part joins (the DATA events queued
# one after another on a stream; one event, several frames of the native layer, may be
# larger).
MAX_BODY_PART = 256 * 1024
# A connection whose server refused this many streams takes no more (the pool then opens
# another connection) rather than being retried on without end.
MAX_REFUSED_STREAMS = 16

# RST_STREAM REFUSED_STREAM (RFC 9113 §7): the server did not process the stream.
_REFUSED_STREAM = 0x7
# RST_STREAM CANCEL (RFC 9113 §7): we no longer need the stream.
_CANCEL = 0x8

# Connection-specific header fields (RFC 9113 §8.2.2) are dropped from requests; ``Host``
# becomes ``:authority``.
_DROPPED_REQUEST_HEADERS = frozenset(
    [b"host", b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding",
     b"upgrade"]
)
# Sent as never-indexed literals (RFC 7541 §7.1.3), like h2's own normalisation: always
# for credentials, for cookies below 20 bytes (easy to guess through compression).
_NEVER_INDEXED_REQUEST_HEADERS = frozenset([b"authorization", b"proxy-authorization"])
_SPECIAL_REQUEST_HEADERS = (
    _DROPPED_REQUEST_HEADERS | _NEVER_INDEXED_REQUEST_HEADERS | {b"te", b"cookie"}
)


class HTTPConnectionState(enum.IntEnum):
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


ACTIVE = HTTPConnectionState.ACTIVE
IDLE = HTTPConnectionState.IDLE
CLOSED = HTTPConnectionState.CLOSED

# Why a connection is done with (:meth:`HTTP2Core.close_reason`), in the words of the pool's
# statistics: it expired, the server closed it, or it failed. (A connection closed while
# still usable has no reason of its own: the pool evicted or closed it.)
CloseReason = typing.Literal["expired", "closed_by_server", "error"]
EXPIRED: CloseReason = "expired"
CLOSED_BY_SERVER: CloseReason = "closed_by_server"
ERROR: CloseReason = "error"

# The core's own event kind, after the framing layer's (``http2_framing.RESPONSE``...).
_REFUSED_KIND = 100


class _Refused:
    """Queued on a stream that the server will not process (GOAWAY below its id)."""

    __slots__ = ()


_REFUSED = _Refused()

# ``next_body``'s answer at the end of the body.
_BODY_END: tuple[None, bool] = (None, False)

W = typing.TypeVar("W")


class Stream:
    """Our side of one open stream: the events read for it and not yet consumed, and
    what is known of it. The driver sets ``body_started`` when it has sent part of a
    body that cannot be sent again (the request can then not be retried elsewhere).
    ``trailers``: the response's trailer fields once :meth:`HTTP2Core.next_body` has
    consumed them, ``[(name, value), ...]`` of bytes; None if the response had none."""

    __slots__ = (
        "events", "head_received", "remote_ended", "local_ended", "reset", "body_started",
        "informational", "trailers",
    )

    def __init__(self) -> None:
        self.events: collections.deque[typing.Any] = collections.deque()
        self.head_received = False
        self.remote_ended = False
        self.local_ended = False  # our END_STREAM is queued: the request is all sent
        self.reset = False
        # Part of a body that cannot be replayed was sent: a retry is impossible.
        self.body_started = False
        self.informational = 0  # 1xx heads received
        self.trailers: list[tuple[bytes, bytes]] | None = None


class SlotTicket(typing.Generic[W]):
    """A request waiting for a stream slot: ``granted`` once a place is its; ``waker``
    is the driver's (what it waits on), handed back by :meth:`HTTP2Core.take_wakeups`."""

    __slots__ = ("waker", "granted")

    def __init__(self, waker: W) -> None:
        self.waker = waker
        self.granted = False


def copy_error(exc: Exception) -> Exception:
    """A fresh exception like ``exc``, raised in each request that the failure ends
    (``__cause__``: ``exc``)."""
    try:
        copy = type(exc)(*exc.args)
    except Exception:  # pragma: nocover - an exception type with another signature
        return RemoteProtocolError(str(exc))
    copy.__cause__ = exc
    return copy


class HTTP2Core(typing.Generic[W]):
    """The state of one client HTTP/2 connection; ``W`` is the driver's waker type
    (an event with ``set()``; the core only stores and returns wakers).

    ``framing``: the framing layer (:class:`.http2_framing.Framing`);
    ``keepalive_expiry``: seconds an idle connection may be kept (None: no limit);
    ``limits``: the ``ResponseLimits`` (None: httpcore's 64 KiB header list and the
    defaults for the rest; see ``AsyncHTTP2Connection`` for what each bound means here);
    ``authority``: the ``:authority`` of a request without ``Host`` (``host[:port]``).

    Not thread-safe: the driver serialises every call (its lock); none blocks. Public
    attributes are for reading; they change through the methods.

    The framing layer's ``has_output()`` (True if frames may be queued; always True for
    a framing layer that cannot tell), ``data_to_send()`` (take every queued byte, to
    write now) and ``send_data(stream_id, data)`` (queue DATA, at most
    :meth:`send_window` bytes) are attributes of the core.
    """

    def __init__(
        self,
        framing: Framing,
        *,
        keepalive_expiry: float | None = None,
        limits: ResponseLimits | None = None,
        authority: bytes = b"",
    ) -> None:
        self.framing = framing
        self.has_output = framing.has_output
        self.data_to_send = framing.data_to_send
        self.send_data = framing.send_data
        kinds = dict(framing.EVENT_KINDS)
        kinds[_Refused] = _REFUSED_KIND
        self._kinds = kinds
        self._validate = get_kernel().validate_request_fields
        self.authority = authority
        self.keepalive_expiry = keepalive_expiry
        bounds = limits or ResponseLimits()
        self.max_header_list_size = (
            LOCAL_MAX_HEADER_LIST_SIZE if limits is None else limits.max_head_size
        )
        self.max_trailer_list_size = min(self.max_header_list_size, bounds.max_trailer_size)
        self.max_field_count = bounds.max_field_count
        self.max_field_line_size = bounds.max_field_line_size
        self.max_informational = bounds.max_informational
        self.head_timeout = bounds.head_timeout
        self.state = IDLE
        self.expire_at: float | None = None
        self.request_count = 0
        self.in_progress = 0  # requests accepted and not finished
        # Until the server's SETTINGS arrive, one stream at a time.
        self.max_streams = 1
        self.open_slots = 0
        self.slot_waiters: collections.deque[SlotTicket[W]] = collections.deque()
        self.wakeups: list[W] = []
        self.streams: dict[int, Stream] = {}
        self.reading = False
        # True while the request that reads has yet to write what is queued before its
        # read: frames queued meanwhile can wait for that write (one write for many).
        self.reader_writes = False
        self.read_waiters: list[W] = []
        self.goaway_last_stream_id: int | None = None
        self.connection_error: Exception | None = None
        self.used_all_stream_ids = False
        self.refused_streams = 0
        # True while new streams may be opened: not closed or failed, no GOAWAY, stream
        # identifiers left, fewer than MAX_REFUSED_STREAMS refusals. Once False, for good.
        self.accepting = True
        # Why it stopped taking streams (the first cause), or was closed when expired;
        # None if we closed it while it was usable (see close_reason).
        self.stop_reason: CloseReason | None = None

    # ------------------------------------------------------------------ the connection

    def start(self) -> None:
        """Queue the connection preface with our SETTINGS (RFC 9113 §3.4) and the
        connection's receive window."""
        self.framing.start(
            max_concurrent_streams=LOCAL_MAX_CONCURRENT_STREAMS,
            max_header_list_size=self.max_header_list_size,
            window=RECEIVE_WINDOW,
        )

    def fail(self, exc: Exception, reason: CloseReason = ERROR) -> None:
        """The connection is unusable: every request on it will raise a copy of ``exc``
        (or ``ConnectionNotAvailable`` if the server never processed it). The first
        failure is kept, and the first ``reason`` (see :meth:`close_reason`). Wakes the
        slot waiters (:meth:`take_wakeups`)."""
        if self.connection_error is None:
            self.connection_error = exc
        self._stop(reason)
        self._wake_slot_waiters()

    def _stop(self, reason: CloseReason) -> None:
        """No new streams, for ``reason`` (kept unless one is known already)."""
        self.accepting = False
        if self.stop_reason is None:
            self.stop_reason = reason

    def close_reason(self, now: float) -> CloseReason | None:
        """Why the connection is, or is to be, closed (``now``: the clock that
        :meth:`end_request` was given), for the pool's statistics:

        * ``"closed_by_server"``: the server ended the connection (end of file), sent
          GOAWAY (RFC 9113 §6.8) or refused ``MAX_REFUSED_STREAMS`` streams;
        * ``"error"``: a network error, a write cut short, or a protocol error of the
          server's;
        * ``"expired"``: idle past ``keepalive_expiry``, or every stream identifier used
          (RFC 9113 §5.1.1);
        * None: none of these; the connection was usable when closed (or still is).

        The first cause is kept: a connection that failed after a GOAWAY was closed by
        the server."""
        reason = self.stop_reason
        if reason is not None:
            return reason
        if self.state is IDLE and self.expire_at is not None and now > self.expire_at:
            return EXPIRED
        return None

    def not_available(self) -> ConnectionNotAvailable:
        """The ``ConnectionNotAvailable`` of a request that finds the connection taking
        no new streams (the pool retries it elsewhere), saying why."""
        if self.goaway_last_stream_id is not None:
            why = "the server sent GOAWAY (RFC 9113 §6.8)"
        elif self.refused_streams >= MAX_REFUSED_STREAMS:
            why = f"the server refused {self.refused_streams} streams"
        elif self.used_all_stream_ids:
            why = "every stream identifier is used (RFC 9113 §5.1.1)"
        elif self.stop_reason == CLOSED_BY_SERVER:
            why = "the server closed it"
        elif self.connection_error is not None:
            why = f"it failed ({self.connection_error!r})"
        else:
            why = "it is closed"
        return ConnectionNotAvailable(f"The HTTP/2 connection takes no new streams: {why}")

    def mark_closed(self, now: float | None = None) -> bool:
        """Set the state to CLOSED; False if it already was. Wakes the slot waiters.
        ``now`` (the clock that :meth:`end_request` was given): an idle connection closed
        past ``keepalive_expiry`` keeps ``"expired"`` as its :meth:`close_reason`."""
        if self.state is CLOSED:
            return False
        if now is not None and self.stop_reason is None:
            self.stop_reason = self.close_reason(now)
        self.state = CLOSED
        self.accepting = False
        self._wake_slot_waiters()
        return True

    def has_expired(self, now: float) -> bool:
        """True once the connection must not be handed out again: closed, failed, or
        idle after a GOAWAY or past ``keepalive_expiry`` (``now``: the clock that
        :meth:`end_request` was given)."""
        if self.state is CLOSED or self.connection_error is not None:
            return True
        if self.state is IDLE:
            if not self.accepting:
                return True
            if self.expire_at is not None and now > self.expire_at:
                return True
        return False

    # ------------------------------------------------------------------ requests

    def begin_request(self) -> bool:
        """A request arrives. Returns True if it reuses a connection that was idle
        (the driver then reads what the server may have sent meanwhile). Raises
        ``ConnectionNotAvailable`` if no new stream may be opened."""
        if not self.accepting:
            raise self.not_available()
        was_idle = self.in_progress == 0 and self.request_count > 0
        self.request_count += 1
        self.in_progress += 1
        self.state = ACTIVE
        self.expire_at = None
        return was_idle

    def request_not_taken(self) -> None:
        """The request that began ends with ``ConnectionNotAvailable``: it does not
        count as one this connection handled (call before :meth:`end_request`)."""
        self.request_count -= 1

    def request_fields(self, request: Request) -> tuple[list[tuple[bytes, bytes]], int]:
        """The request's HTTP/2 header list and its body length (Content-Length, -1 for
        chunked, 0 for none).

        Validates the method, target and fields with the kernel's HTTP/1.1 rules
        (``validate_request_fields``, docs/kernel.md), then: pseudo-header fields first
        (RFC 9113 §8.3.1), names lowercased (§8.2.1), connection-specific fields dropped
        (§8.2.2), credentials and short cookies never indexed (RFC 7541 §7.1.3).

        Raises ``LocalProtocolError`` for an invalid request or for CONNECT (a tunnel
        over an HTTP/2 stream, §8.5, is not supported).
        """
        method = request.method
        url = request.url
        body_length, _, _ = self._validate(method, url.target, request.headers)
        if method == b"CONNECT":
            raise LocalProtocolError("Ordinary CONNECT MUST NOT include :scheme or :path")
        authority = None
        fields: list[tuple[bytes, bytes]] = []
        for name, value in request.headers:
            name = name.lower()
            if name in _SPECIAL_REQUEST_HEADERS:
                if name in _DROPPED_REQUEST_HEADERS:
                    if name == b"host" and authority is None:
                        authority = value
                    continue
                if name == b"te":
                    if value.lower() != b"trailers":
                        continue
                elif name != b"cookie" or len(value) < 20:
                    fields.append(NeverIndexedHeaderTuple(name, value))
                    continue
            fields.append((name, value))
        if authority is None:  # pragma: nocover - the kernel requires Host
            authority = self.authority
        headers = [
            (b":method", method),
            (b":authority", authority),
            (b":scheme", url.scheme),
            (b":path", url.target),
            *fields,
        ]
        return headers, body_length

    def new_stream(self) -> tuple[int, Stream]:
        """A new stream for a request holding a slot (nothing queued yet: see
        :meth:`send_headers`). Raises ``ConnectionNotAvailable`` if no stream may be
        opened (GOAWAY, failure, identifiers used up)."""
        if not self.accepting:
            raise self.not_available()
        try:
            stream_id = self.framing.get_next_available_stream_id()
        except NoAvailableStreamIDError:
            self.used_all_stream_ids = True
            self._stop(EXPIRED)
            raise self.not_available() from None
        stream = self.streams[stream_id] = Stream()
        return stream_id, stream

    def send_headers(
        self,
        stream_id: int,
        stream: Stream,
        headers: list[tuple[bytes, bytes]],
        body: typing.Any,
        body_length: int,
    ) -> typing.Any:
        """Queue the request's HEADERS (with END_STREAM if ``body`` is None) and, for a
        ``ByteStream`` body that fits the flow-control windows, its DATA and END_STREAM
        (they leave in the same write). Returns None once the whole request is queued,
        else ``body``: what :meth:`send_window` / :meth:`send_data` must still send."""
        self.framing.send_headers(stream_id, headers, end_stream=body is None)
        if body is None:
            stream.local_ended = True
        elif type(body) is ByteStream:
            body = self._send_bytes_now(stream_id, body, body_length)
            stream.local_ended = body is None
        return body

    def _send_bytes_now(
        self, stream_id: int, body: ByteStream, body_length: int
    ) -> ByteStream | None:
        """Right after the headers: queue a bytes body that fits the flow control
        windows. Returns None if it was queued, else ``body``."""
        content = body.content
        length = len(content)
        if length != body_length and body_length >= 0:
            return body  # the mismatch is reported when the body is sent
        framing = self.framing
        frame_size = framing.max_outbound_frame_size
        if length > framing.local_flow_control_window(stream_id):
            return body
        for start in range(0, length, frame_size):
            framing.send_data(stream_id, content[start : start + frame_size])
        framing.end_stream(stream_id)
        return None

    def end_request(self, stream_id: int, slot: bool, now: float) -> bool:
        """A request leaves (``stream_id`` 0: it has no stream yet; ``slot``: it holds
        a place; ``now``: the clock, for ``keepalive_expiry``).

        Its stream, if still open, is reset (RST_STREAM CANCEL queued), the credit of
        the data nobody read is handed back and its place freed (waking the next slot
        waiter). Returns True if the connection must now be closed: idle, and failed or
        taking no more streams.
        """
        if stream_id:
            stream = self.streams.pop(stream_id, None)
            if stream is None:
                return False  # already ended
            if self.connection_error is None:
                framing = self.framing
                try:
                    unread = sum(
                        event.flow_controlled_length
                        for event in stream.events
                        if self._kinds.get(type(event)) == DATA
                    )
                    if unread:  # the connection's credit comes back even when closed
                        framing.acknowledge_received_data(unread, stream_id)
                    if not (stream.remote_ended and stream.local_ended):
                        # Not after a complete exchange: the stream is closed on both
                        # sides (RFC 9113 §5.1), the framing layer would raise.
                        framing.reset_stream(stream_id, _CANCEL)
                except StreamClosedError:
                    pass  # closed on both sides: nothing to reset (RFC 9113 §5.1)
                except FramingError:  # pragma: nocover - defensive
                    pass
            self._release_slot()
        elif slot:
            self._release_slot()
        self.in_progress -= 1
        if self.in_progress or self.state is CLOSED:
            return False
        if self.connection_error is not None or not self.accepting:
            return True
        self.state = IDLE
        if self.keepalive_expiry is not None:
            self.expire_at = now + self.keepalive_expiry
        return False

    # ------------------------------------------------------------------ stream slots

    def take_slot(self) -> bool:
        """Take one of the ``max_streams`` places if one is free and nobody waits
        (first in first out); False: queue with :meth:`queue_for_slot`. Raises
        ``ConnectionNotAvailable`` if no new stream may be opened."""
        if not self.accepting:
            raise self.not_available()
        if self.open_slots < self.max_streams and not self.slot_waiters:
            self.open_slots += 1
            return True
        return False

    def queue_for_slot(self, waker: W) -> SlotTicket[W]:
        """Queue a request for a place; ``waker`` comes back from :meth:`take_wakeups`
        when the ticket is granted, or when no more streams may be opened (then not
        granted)."""
        ticket = SlotTicket(waker)
        self.slot_waiters.append(ticket)
        return ticket

    def leave_slot_queue(self, ticket: SlotTicket[W]) -> None:
        """A queued request gives up (cancelled, timed out): a place granted meanwhile
        goes to the next waiter; a ticket still queued leaves the queue (one woken
        empty-handed has left it already)."""
        if ticket.granted:
            self._release_slot()
        elif ticket in self.slot_waiters:
            self.slot_waiters.remove(ticket)

    def take_wakeups(self) -> list[W]:
        """The wakers of slot tickets granted or refused since the last call (also
        ``wakeups``, to look without taking)."""
        wakeups = self.wakeups
        self.wakeups = []
        return wakeups

    def _release_slot(self) -> None:
        self.open_slots -= 1
        self._wake_slot_waiters()

    def _wake_slot_waiters(self) -> None:
        """Grant free places in order; if no more streams may be opened, wake every
        waiter empty-handed."""
        waiters = self.slot_waiters
        if not waiters:
            return
        wakeups = self.wakeups
        if not self.accepting:
            while waiters:
                wakeups.append(waiters.popleft().waker)
            return
        while waiters and self.open_slots < self.max_streams:
            ticket = waiters.popleft()
            ticket.granted = True
            self.open_slots += 1
            wakeups.append(ticket.waker)

    # ------------------------------------------------------------------ reading, writing

    def take_reader_role(self, writes: bool) -> bool:
        """True if the caller is now the one request that reads (until
        :meth:`end_read_round`); ``writes``: it writes what is queued before it reads,
        so frames queued meanwhile may wait for that write. False: another request
        reads; wait for its round with :meth:`wait_for_reader`."""
        if self.reading:
            return False
        self.reading = True
        self.reader_writes = writes
        return True

    def wait_for_reader(self, waker: W) -> bool:
        """Wait for the reader's round to end (``waker`` comes back from
        :meth:`end_read_round`). Returns True if the caller must first write what is
        queued (the reader has written already)."""
        self.read_waiters.append(waker)
        return not self.reader_writes and self.framing.has_output()

    def forget_read_waiter(self, waker: W) -> None:
        """A waiter that stopped waiting (timed out, cancelled)."""
        if waker in self.read_waiters:
            self.read_waiters.remove(waker)

    def end_read_round(self) -> list[W]:
        """The reader is done: returns every waiter of the round, to wake."""
        self.reading = False
        self.reader_writes = False
        waiters = self.read_waiters
        self.read_waiters = []
        return waiters

    def may_defer_output(self) -> bool:
        """True if queued frames need not be written now: the reader is about to write
        them, or the connection failed or is closed (nothing more is written)."""
        return self.reader_writes or self.connection_error is not None or self.state is CLOSED

    def output_for_reader(self) -> bytes:
        """The reader takes every queued byte before it reads."""
        self.reader_writes = False
        return self.framing.data_to_send()

    def reader_output_pending(self) -> bool:
        """True if frames are queued for the reader to write before it reads (take
        them with :meth:`output_for_reader`); False: nothing to write, and frames
        queued from now on are written by whoever queues them (as after
        :meth:`output_for_reader`), so the reader reads at once."""
        if self.framing.has_output():
            return True
        self.reader_writes = False
        return False

    def resync_hpack(self) -> None:
        """A write was cut short after the stream took all of it (the peer may not get
        it all): empty both HPACK tables with the next header block (RFC 7541 §4.2)."""
        self.framing.resync_hpack()

    # ------------------------------------------------------------------ receiving

    def receive(self, data: bytes) -> list[typing.Any]:
        """Feed bytes read from the server; each event goes to its stream, SETTINGS and
        GOAWAY apply (waking slot waiters). Returns the framing layer's SETTINGS events
        (for tracing).

        Raises ``RemoteProtocolError`` for a protocol error of the server's, after
        failing the connection (a GOAWAY is then queued: write it, then raise a copy)."""
        return self._dispatch(self._framed(self.framing.receive_data, data))

    def _framed(
        self, feed: typing.Callable[[typing.Any], list[typing.Any]], argument: typing.Any
    ) -> list[typing.Any]:
        """The framing layer's events for what it is fed; a protocol error of the
        server's fails the connection (``RemoteProtocolError``)."""
        try:
            return feed(argument)
        except FramingError as exc:
            error = RemoteProtocolError(exc)
            self.fail(error)
            raise error from exc

    def receive_buffer(self, size: int) -> memoryview:
        """A writable view of ``size`` bytes to read into, then :meth:`received`
        (the framing layer's buffer: the bytes are framed where they were read)."""
        return self.framing.get_buffer(size)

    def received(self, nbytes: int) -> list[typing.Any]:
        """:meth:`receive` for ``nbytes`` (at least 1) read into the start of the last
        :meth:`receive_buffer` view; same answer and exceptions."""
        return self._dispatch(self._framed(self.framing.buffer_updated, nbytes))

    def connection_lost(self) -> RemoteProtocolError:
        """The server closed the connection (a read returned no bytes): fail it; returns
        the failure (raise a :func:`copy_error` of it)."""
        disconnected = RemoteProtocolError("Server disconnected")
        self.fail(disconnected, CLOSED_BY_SERVER)
        return disconnected

    def _dispatch(self, events: list[typing.Any]) -> list[typing.Any]:
        settings_changes = []
        streams = self.streams
        kinds = self._kinds
        for event in events:
            kind = kinds.get(type(event))
            if kind is None:
                continue
            if kind <= TRAILERS:  # a stream's event
                stream = streams.get(event.stream_id)
                if stream is None:
                    # A stream we already closed: hand back its flow-control credit.
                    if kind == DATA and event.flow_controlled_length:
                        self.framing.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    continue
                stream.events.append(event)
                if kind == ENDED:
                    stream.remote_ended = True
                elif kind == RESPONSE:
                    stream.head_received = True
                elif kind == RESET:
                    stream.reset = True
            elif kind == SETTINGS:
                self.max_streams = self.framing.concurrent_streams_limit()
                self._wake_slot_waiters()
                settings_changes.append(event)
            elif kind == GOAWAY:
                self._receive_goaway(event.last_stream_id or 0)
        return settings_changes

    def _receive_goaway(self, last_stream_id: int) -> None:
        """No new streams; those above ``last_stream_id`` were not processed (RFC 9113
        §6.8) and are told so."""
        previous = self.goaway_last_stream_id
        if previous is not None and previous <= last_stream_id:
            return
        self.goaway_last_stream_id = last_stream_id
        self._stop(CLOSED_BY_SERVER)
        for stream_id, stream in self.streams.items():
            if stream_id > last_stream_id:
                stream.events.append(_REFUSED)
        self._wake_slot_waiters()

    def next_head(
        self, stream_id: int, stream: Stream
    ) -> tuple[int, list[tuple[bytes, bytes]]] | None:
        """The response head ``(status, headers)`` once the stream has it, skipping 1xx
        heads (RFC 9113 §8.1); None: no event queued yet (read, then ask again).

        Raises ``RemoteProtocolError`` for a missing or invalid ``:status``, an invalid
        field value or a header block over the ``limits`` (see :meth:`field_block`), more
        1xx responses than ``max_informational``, a reset stream;
        ``ConnectionNotAvailable`` if the server did not process the stream (GOAWAY,
        REFUSED_STREAM; safe to retry elsewhere).
        """
        events = stream.events
        kinds = self._kinds
        while events:
            event = events.popleft()
            kind = kinds.get(type(event))
            if kind == RESPONSE:
                status, headers = self.field_block(event.headers, self.max_header_list_size)
                if status is None or len(status) != 3 or not status.isdigit():
                    raise RemoteProtocolError(f"Invalid HTTP/2 response status {status!r}")
                return int(status), headers
            if kind == INFORMATIONAL:
                stream.informational += 1
                if stream.informational > self.max_informational:
                    raise RemoteProtocolError(
                        f"More than max_informational ({self.max_informational}) "
                        f"informational responses"
                    )
                self.field_block(event.headers, self.max_header_list_size)
                continue
            if kind == ENDED or kind == TRAILERS:
                continue  # pragma: nocover - h2 reports these only after a response
            raise self._stream_failed(stream_id, stream, event, kind)
        return None

    def next_body(self, stream_id: int, stream: Stream) -> tuple[bytes | None, bool] | None:
        """The stream's next body part: ``(data, flush)``, where ``data`` may be empty
        and ``flush`` says frames are queued (WINDOW_UPDATE handing back the credit of
        what was consumed, RFC 9113 §6.9: write them soon); ``(None, False)`` at the end
        of the body; None: no event queued yet (read, then ask again). Trailer fields
        (RFC 9113 §8.1) are checked (:meth:`trailer_fields`), then kept as
        ``stream.trailers``, before the end of the body is returned.

        The DATA frames queued one after another on the stream make one part (up to
        ``MAX_BODY_PART`` bytes): a large body crosses the driver and the byte streams
        above it once per read, not once per frame (nginx sends 8 KiB frames), and
        their credit is handed back at once. The framing layer queues a WINDOW_UPDATE
        only once half a window was consumed (as h2 does), not for every frame.

        Raises as :meth:`next_head` does for a failed stream or an invalid trailer block.
        """
        events = stream.events
        kinds = self._kinds
        while events:
            event = events.popleft()
            kind = kinds.get(type(event))
            if kind == DATA:
                length = event.flow_controlled_length
                data = event.data
                if events and type(events[0]) is type(event):
                    parts = [data]
                    size = len(data)
                    while events and type(events[0]) is type(event) and size < MAX_BODY_PART:
                        event = events.popleft()
                        length += event.flow_controlled_length
                        data = event.data
                        size += len(data)
                        parts.append(data)
                    data = b"".join(parts)
                if length:
                    framing = self.framing
                    framing.acknowledge_received_data(length, stream_id)
                    return data, framing.has_output()
                return data, False
            if kind == ENDED:
                return _BODY_END
            if kind == TRAILERS:
                stream.trailers = self.trailer_fields(event.headers)
                continue
            raise self._stream_failed(stream_id, stream, event, kind)
        return None

    def _stream_failed(
        self, stream_id: int, stream: Stream, event: typing.Any, kind: int | None
    ) -> Exception:
        """The exception for an event that ends a stream without a response: a stream
        the server did not process may be retried elsewhere (``ConnectionNotAvailable``)
        unless its response started or a body that cannot be replayed was partly sent."""
        retry = not stream.head_received and not stream.body_started
        if kind == _REFUSED_KIND:
            if retry:
                return ConnectionNotAvailable(
                    f"The server did not process stream {stream_id} (GOAWAY, RFC 9113 §6.8)"
                )
            return RemoteProtocolError(
                f"The server stopped processing stream {stream_id} (GOAWAY)"
            )
        if kind == RESET and event.error_code == _REFUSED_STREAM and retry:
            self.refused_streams += 1
            if self.refused_streams >= MAX_REFUSED_STREAMS:
                self._stop(CLOSED_BY_SERVER)
            return ConnectionNotAvailable(
                f"The server refused stream {stream_id} (REFUSED_STREAM, RFC 9113 §8.7)"
            )
        return RemoteProtocolError(event)

    def trailer_fields(
        self, fields: typing.Iterable[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        """Check a trailer block and return its fields, ``[(name, value), ...]`` of bytes
        in the order received.

        Raises ``RemoteProtocolError`` for a pseudo-header field (trailers must not have
        any, RFC 9113 §8.1: the response is malformed, §8.1.1), and as :meth:`field_block`
        does, with ``max_trailer_size`` (and the header list size) as the size bound.
        """
        fields = list(fields)
        for name, _ in fields:
            if name[:1] == b":":
                raise RemoteProtocolError(
                    f"Pseudo-header field {name!r} in HTTP/2 trailers (RFC 9113 §8.1)"
                )
        return self.field_block(fields, self.max_trailer_list_size)[1]

    def field_block(
        self, fields: typing.Iterable[tuple[bytes, bytes]], list_limit: int
    ) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
        """Check one received header block (a response head, a 1xx head or trailers) and
        return its ``:status`` (None if absent) and its regular fields.

        Raises ``RemoteProtocolError`` for a field value with CR, LF or NUL (RFC 9113
        §8.2.1), or a block over the ``limits``: its RFC 7541 §4.1 size over
        ``list_limit`` (SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 §6.5.2), more regular
        fields than ``max_field_count``, a field over ``max_field_line_size`` (as the
        line ``name: value``).
        """
        status = None
        headers = []
        size = 0
        max_length = self.max_field_line_size - 2  # name + value, without ": "
        for name, value in fields:
            length = len(name) + len(value)
            size += length + 32
            if name[:1] == b":":
                if name == b":status":
                    status = value
                continue
            # CR, LF, NUL as ints: ``b"\r" in value`` costs ~6 times more (bytes
            # membership tries the needle as an int first, raising and clearing an error).
            if 13 in value or 10 in value or 0 in value:
                raise RemoteProtocolError(f"Invalid HTTP/2 header value for {name!r}")
            if length > max_length:
                raise RemoteProtocolError(
                    f"HTTP/2 header field {name!r} exceeds max_field_line_size "
                    f"({self.max_field_line_size})"
                )
            headers.append((name, value))
        if size > list_limit:
            raise RemoteProtocolError(
                f"HTTP/2 header list of {size} bytes exceeds the advertised "
                f"SETTINGS_MAX_HEADER_LIST_SIZE ({list_limit}) (RFC 9113 §6.5.2)"
            )
        if len(headers) > self.max_field_count:
            raise RemoteProtocolError(
                f"HTTP/2 header block with {len(headers)} fields exceeds max_field_count "
                f"({self.max_field_count})"
            )
        return status, headers

    # ------------------------------------------------------------------ sending bodies

    def send_window(self, stream_id: int, stream: Stream) -> int | None:
        """Bytes of body that may be sent on the stream now (at most a frame); 0 if the
        stream needs no more data (the server ended, reset or did not process it); None:
        none until the server grants credit (read, then ask again)."""
        events = stream.events
        if stream.remote_ended or stream.reset or (events and events[-1] is _REFUSED):
            return 0
        framing = self.framing
        try:
            window = min(
                framing.local_flow_control_window(stream_id), framing.max_outbound_frame_size
            )
        except StreamClosedError:
            return 0
        return window if window > 0 else None

    def end_body(self, stream_id: int, stream: Stream) -> bool:
        """Queue END_STREAM after the body; False (nothing queued) if the server
        already ended or reset the stream."""
        if stream.remote_ended or stream.reset:
            return False
        self.framing.end_stream(stream_id)
        stream.local_ended = True
        return True


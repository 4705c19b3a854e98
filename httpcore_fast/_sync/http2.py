"""HTTP/2 over one network stream: framing by the ``h2`` library, the rest is ours.

Generated from ``httpcore_fast/_async/http2.py`` by
``scripts/unasync.py``: do not edit, edit the async source. Importing it raises ``ImportError``
when ``h2`` (the ``http2`` extra) is not installed.

One connection carries many requests at once (RFC 9113 §5), each on its own stream:

* streams are limited to min(server, client) ``SETTINGS_MAX_CONCURRENT_STREAMS``; a request
  beyond that waits, first in first out, for a stream to end (its ``pool`` timeout applies)
  instead of failing;
* there is no background task: whichever request needs bytes from the network reads them
  (one reader at a time, the others wait for it to finish a round), and every frame read is
  handed to the stream it belongs to;
* a GOAWAY (§6.8) lets the streams up to its ``last_stream_id`` finish; the others were
  not processed and raise ``ConnectionNotAvailable`` so that the pool retries them on
  another connection, as it does for a stream refused with ``REFUSED_STREAM`` (§8.7);
* a stream reset by the server fails only its own request (``RemoteProtocolError``);
  closing or cancelling a request early resets only its stream (``RST_STREAM`` CANCEL),
  handing back its flow-control credit and its place;
* a read timeout fails only the request that timed out; a network error, an end of file or
  a protocol error from the server fails the connection and every request on it.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
import sys
import time
import types
import typing

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
from h2.errors import ErrorCodes
from hpack import NeverIndexedHeaderTuple
from hpack.table import HeaderTable, table_entry_size

from .._backends.base import NetworkStream
from .._exceptions import (
    ConnectionNotAvailable,
    LocalProtocolError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
)
from .._kernel import get_kernel
from .._models import ByteStream, Origin, Request, Response
from .._synchronization import Event, Lock, ShieldCancellation, ThreadLock
from .._trace import Trace
from .http11 import DEFAULT_PORTS, check_origin
from .interfaces import ConnectionInterface

logger = logging.getLogger("httpcore.http2")
_DEBUG = logging.DEBUG

# Client settings (RFC 9113 §6.5.2) sent in the connection preface, as httpcore sends them:
# no server push, at most 100 concurrent streams, header lists up to 64 KiB.
LOCAL_MAX_CONCURRENT_STREAMS = 100
LOCAL_MAX_HEADER_LIST_SIZE = 64 * 1024
# Receive windows (bytes): the connection's is raised to this plus the default 65,535, and
# every stream's to this; credit goes back to the server as the body is consumed.
RECEIVE_WINDOW = 2**24
# A connection whose server refused this many streams takes no more (the pool then opens
# another connection) rather than being retried on without end.
MAX_REFUSED_STREAMS = 16

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

_ResponseReceived = h2.events.ResponseReceived
_DataReceived = h2.events.DataReceived
_StreamEnded = h2.events.StreamEnded
_StreamReset = h2.events.StreamReset
_TrailersReceived = h2.events.TrailersReceived
_STREAM_EVENTS = (_ResponseReceived, _DataReceived, _StreamEnded, _StreamReset, _TrailersReceived)


class HTTPConnectionState(enum.IntEnum):
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


ACTIVE = HTTPConnectionState.ACTIVE
IDLE = HTTPConnectionState.IDLE
CLOSED = HTTPConnectionState.CLOSED


class _Table(HeaderTable):
    """An HPACK dynamic table (RFC 7541 §2.3.2) that counts its changes in
    ``generation``: a header block coded while it stays unchanged codes the same again."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0

    def add(self, name: bytes, value: bytes) -> None:
        # Adding a field larger than the table to an empty table leaves it empty (§4.4):
        # what nginx does with every field once it has set the table size to 0.
        if self.dynamic_entries or table_entry_size(name, value) <= self._maxsize:
            self.generation += 1
        super().add(name, value)

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @maxsize.setter
    def maxsize(self, newmax: int) -> None:
        if newmax != self._maxsize:
            self.generation += 1
        HeaderTable.maxsize.fset(self, newmax)  # type: ignore[attr-defined]


# Header blocks remembered per encoder or decoder (a new one clears them past this).
_MAX_CACHED_BLOCKS = 64


class _Encoder(hpack.Encoder):
    """hpack's encoder, remembering the block of each header list that left the dynamic
    table as it was (all its fields already indexed): a request repeating a header list
    costs a dictionary look-up. Lists with never-indexed fields are always encoded."""

    def __init__(self) -> None:
        super().__init__()
        self.header_table = _Table()
        self._blocks: dict[tuple[typing.Any, ...], bytes] = {}
        self._generation = 0

    header_table: _Table

    def encode(self, headers: typing.Any, huffman: bool = True) -> bytes:
        table = self.header_table
        if type(headers) is not list or table.resized:
            return super().encode(headers, huffman)
        for field in headers:
            if type(field) is not tuple:
                return super().encode(headers, huffman)
        blocks = self._blocks
        generation = table.generation
        if generation != self._generation:
            blocks.clear()
            self._generation = generation
        key = (huffman, *headers)
        block = blocks.get(key)
        if block is None:
            block = super().encode(headers, huffman)
            if table.generation == generation:
                if len(blocks) >= _MAX_CACHED_BLOCKS:
                    blocks.clear()
                blocks[key] = block
        return block


class _Decoder(hpack.Decoder):
    """hpack's decoder, remembering the fields of each header block whose decoding left
    the dynamic table as it was: a server repeating a response head (nginx's, with a
    table of size 0, differ only when the ``date`` does) costs a dictionary look-up."""

    def __init__(self) -> None:
        super().__init__()
        self.header_table = _Table()
        self._blocks: dict[bytes, list[typing.Any]] = {}
        self._state: tuple[int, int, int] = (0, 0, 0)

    header_table: _Table

    def decode(self, data: typing.Any, raw: bool = False) -> typing.Any:
        if not raw or type(data) is not bytes:
            return super().decode(data, raw)
        table = self.header_table
        generation = table.generation
        state = (generation, self.max_allowed_table_size, self.max_header_list_size)
        blocks = self._blocks
        if state != self._state:
            blocks.clear()
            self._state = state
        fields = blocks.get(data)
        if fields is None:
            fields = list(super().decode(data, raw))
            if table.generation != generation:
                return fields
            if len(blocks) >= _MAX_CACHED_BLOCKS:
                blocks.clear()
            blocks[data] = fields
        return list(fields)


class _H2State(h2.connection.H2Connection):
    """h2's connection state machine, except for a received GOAWAY.

    h2 closes its state machine on GOAWAY and then rejects every later frame, so the
    streams the server promised to finish (up to ``last_stream_id``, RFC 9113 §6.8) could
    not be read. Here a GOAWAY only produces its ``ConnectionTerminated`` event; the
    connection stops opening streams itself.

    Its HPACK encoder and decoder remember the header blocks that repeat (see
    :class:`_Encoder`, :class:`_Decoder`).
    """

    def __init__(self, config: h2.config.H2Configuration) -> None:
        super().__init__(config=config)
        decoder = _Decoder()
        decoder.max_header_list_size = self.decoder.max_header_list_size
        self.encoder = _Encoder()
        self.decoder = decoder

    def has_output(self) -> bool:
        """True if frames wait to be written (``data_to_send()`` would return bytes)."""
        return bool(self._data_to_send)

    def _receive_goaway_frame(self, frame: typing.Any) -> typing.Any:
        event = h2.events.ConnectionTerminated()
        try:
            event.error_code = ErrorCodes(frame.error_code)
        except ValueError:
            event.error_code = frame.error_code
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [event]


class _Refused:
    """Queued on a stream that the server will not process (GOAWAY below its id)."""

    __slots__ = ()


_REFUSED = _Refused()


class _Stream:
    """Our side of one open stream: the events read for it and not yet consumed."""

    __slots__ = ("events", "head_received", "remote_ended", "reset", "body_started")

    def __init__(self) -> None:
        self.events: collections.deque[typing.Any] = collections.deque()
        self.head_received = False
        self.remote_ended = False
        self.reset = False
        # Part of a body that cannot be replayed was sent: a retry is impossible.
        self.body_started = False


class _SlotWaiter:
    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = Event()
        self.granted = False


class _NoTrace:
    """Stands in for a ``Trace`` when nobody listens (``with``; ``return_value``
    assignments are dropped)."""

    __slots__ = ()

    @property
    def return_value(self) -> None:
        return None

    @return_value.setter
    def return_value(self, value: typing.Any) -> None:
        pass

    def __enter__(self) -> _NoTrace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        return None


_NO_TRACE = _NoTrace()


class _Pause:
    """``_PAUSE`` lets every other runnable task run once first (asyncio: one pass
    of the event loop; trio: a checkpoint, which may also raise a cancellation). In the
    generated sync code the statement is a bare name, which does nothing."""

    __slots__ = ()

    def __await__(self) -> typing.Generator[typing.Any, None, None]:
        if asyncio._get_running_loop() is None:
            yield from sys.modules["trio"].lowlevel.checkpoint().__await__()
        else:
            yield  # a bare yield: the asyncio task runs again on the loop's next pass


_PAUSE = _Pause()


def _trace(
    tracing: bool, name: str, request: Request | None, kwargs: dict[str, typing.Any] | None = None
) -> typing.Any:
    return Trace(name, logger, request, kwargs) if tracing else _NO_TRACE


def _write_timeout(request: Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    return timeouts.get("write", None)


def _copy_error(exc: Exception) -> Exception:
    """A fresh exception like ``exc``, raised in each request that the failure ends."""
    try:
        copy = type(exc)(*exc.args)
    except Exception:  # pragma: nocover - an exception type with another signature
        return RemoteProtocolError(str(exc))
    copy.__cause__ = exc
    return copy


class HTTP2Connection(ConnectionInterface):
    """One HTTP/2 connection over an already connected ``NetworkStream``.

    ``origin``: the ``Origin`` it serves; ``keepalive_expiry``: seconds an idle connection
    may be kept before ``has_expired()`` reports it (None: no limit). Requests run
    concurrently, each on its own stream (see the module docstring).
    """

    READ_NUM_BYTES = 64 * 1024
    # Client side. Outbound headers are neither validated nor normalised by h2: the kernel
    # validates the request fields and :meth:`_request_headers` builds the HTTP/2 list
    # (lowercase names, pseudo-header fields first, no connection-specific fields,
    # credentials never indexed). Inbound header validation off, as in httpcore: the
    # response fields are checked here instead.
    CONFIG = h2.config.H2Configuration(
        validate_inbound_headers=False,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )

    def __init__(
        self,
        origin: Origin,
        stream: NetworkStream,
        keepalive_expiry: float | None = None,
    ) -> None:
        self._origin = origin
        self._network_stream = stream
        self._keepalive_expiry = keepalive_expiry
        self._h2_state = _H2State(config=self.CONFIG)
        self._state = IDLE
        self._expire_at: float | None = None
        self._request_count = 0
        self._serialize_request_head = get_kernel().serialize_request_head
        # Guards the h2 state and everything below; never held across I/O.
        self._lock = ThreadLock()
        self._init_lock = Lock()
        self._write_lock = Lock()
        self._sent_connection_init = False
        # Until the server's SETTINGS arrive, one stream at a time.
        self._max_streams = 1
        self._open_slots = 0
        self._slot_waiters: collections.deque[_SlotWaiter] = collections.deque()
        self._in_progress = 0  # requests accepted and not finished
        self._streams: dict[int, _Stream] = {}
        self._reading = False
        # True while the request that reads has yet to write what is queued before its
        # read: frames queued meanwhile can wait for that write (one write for many).
        self._reader_writes = False
        self._read_waiters: list[Event] = []
        self._goaway_last_stream_id: int | None = None
        self._connection_error: Exception | None = None
        self._used_all_stream_ids = False
        self._refused_streams = 0

    # ------------------------------------------------------------------ requests

    def handle_request(self, request: Request) -> Response:
        """Send ``request`` on a new stream; return the response with its body unread.

        Raises ``RuntimeError`` for a request to another origin; ``ConnectionNotAvailable``
        if the connection cannot take it or the server did not process it (GOAWAY,
        REFUSED_STREAM: safe to retry elsewhere); ``PoolTimeout`` if no stream became free
        within the ``pool`` timeout; ``LocalProtocolError`` for an invalid request;
        ``RemoteProtocolError`` if the server reset the stream or broke the protocol; the
        network and timeout exceptions of the exchange.
        """
        check_origin(request.url, self._origin)
        extensions = request.extensions
        tracing = extensions.get("trace") is not None or logger.isEnabledFor(_DEBUG)
        timeouts = extensions.get("timeout") or {}
        read_timeout = timeouts.get("read", None)
        write_timeout = timeouts.get("write", None)

        with self._lock:
            if not self._accepting():
                raise ConnectionNotAvailable()
            was_idle = self._in_progress == 0 and self._request_count > 0
            self._request_count += 1
            self._in_progress += 1
            self._state = ACTIVE
            self._expire_at = None

        slot = False
        stream_id = 0
        try:
            if not self._sent_connection_init:
                self._init_connection(request, tracing)
            elif was_idle:
                self._check_idle_connection(request, read_timeout)
            self._acquire_slot(timeouts.get("pool", None))
            slot = True

            method = request.method
            url = request.url
            _, body_length, _ = self._serialize_request_head(method, url.target, request.headers)
            headers = self._request_headers(request)
            body = request.stream if body_length != 0 else None
            with self._lock:
                if not self._accepting():
                    raise ConnectionNotAvailable()
                try:
                    stream_id = self._h2_state.get_next_available_stream_id()
                except h2.exceptions.NoAvailableStreamIDError:
                    self._used_all_stream_ids = True
                    raise ConnectionNotAvailable() from None
                stream = self._streams[stream_id] = _Stream()
                self._h2_state.send_headers(stream_id, headers, end_stream=body is None)
                if type(body) is ByteStream:
                    body = self._send_bytes_now(stream_id, body, body_length)

            if tracing:
                kwargs = {"request": request, "stream_id": stream_id}
                with Trace("send_request_headers", logger, request, kwargs):
                    self._flush(write_timeout)
                with Trace("send_request_body", logger, request, kwargs):
                    if body is not None:
                        self._send_request_body(
                            request, stream_id, stream, body, body_length, read_timeout,
                            write_timeout,
                        )
                with Trace("receive_response_headers", logger, request, kwargs) as trace:
                    status, response_headers = self._receive_response_head(
                        request, stream_id, stream, read_timeout
                    )
                    trace.return_value = (status, response_headers)
            else:
                if body is not None:
                    self._flush(write_timeout)
                    self._send_request_body(
                        request, stream_id, stream, body, body_length, read_timeout, write_timeout
                    )
                # Else the frames go with the connection's next write: at the latest when
                # this request reads, or waits for a reader (_read_until), so that requests
                # started together leave in one write.
                status, response_headers = self._receive_response_head(
                    request, stream_id, stream, read_timeout
                )
        except BaseException as exc:
            with ShieldCancellation():
                if stream_id:
                    with _trace(
                        tracing, "response_closed", request, {"stream_id": stream_id}
                    ):
                        self._close_stream(stream_id)
                else:
                    self._abandon(slot)
            if isinstance(exc, ConnectionNotAvailable):
                with self._lock:
                    self._request_count -= 1
            if isinstance(exc, h2.exceptions.ProtocolError):
                raise LocalProtocolError(exc) from exc
            raise

        return Response(
            status=status,
            headers=response_headers,
            content=HTTP2ConnectionByteStream(self, request, stream_id, tracing),
            extensions={
                "http_version": b"HTTP/2",
                "network_stream": self._network_stream,
                "stream_id": stream_id,
            },
        )

    def _request_headers(self, request: Request) -> list[tuple[bytes, bytes]]:
        """The request's header list for HTTP/2: pseudo-header fields first (RFC 9113
        §8.3.1), names lowercased (§8.2.1), connection-specific fields dropped (§8.2.2),
        credentials and short cookies never indexed (RFC 7541 §7.1.3).

        Raises ``LocalProtocolError`` for CONNECT (a tunnel over an HTTP/2 stream, §8.5,
        is not supported)."""
        url = request.url
        if request.method == b"CONNECT":
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
            authority = self._origin.host
            if self._origin.port != DEFAULT_PORTS.get(self._origin.scheme):
                authority += b":%d" % self._origin.port
        return [
            (b":method", request.method),
            (b":authority", authority),
            (b":scheme", url.scheme),
            (b":path", url.target),
            *fields,
        ]

    def _init_connection(self, request: Request, tracing: bool) -> None:
        with self._init_lock:
            if self._sent_connection_init:
                return
            if not self._accepting():
                raise ConnectionNotAvailable()
            try:
                with _trace(tracing, "send_connection_init", request, {"request": request}):
                    self._send_connection_init(request)
            except BaseException:
                with ShieldCancellation():
                    self.close()
                raise
            self._sent_connection_init = True

    def _send_connection_init(self, request: Request) -> None:
        """Write the connection preface with our SETTINGS (RFC 9113 §3.4)."""
        timeouts = request.extensions.get("timeout") or {}
        with self._lock:
            h2_state = self._h2_state
            h2_state.local_settings = h2.settings.Settings(
                client=True,
                initial_values={
                    h2.settings.SettingCodes.ENABLE_PUSH: 0,
                    h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: LOCAL_MAX_CONCURRENT_STREAMS,
                    h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: LOCAL_MAX_HEADER_LIST_SIZE,
                    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW,
                },
            )
            # Some servers reject this setting (RFC 8441) in a client's preface.
            del h2_state.local_settings[h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL]
            h2_state.initiate_connection()
            h2_state.increment_flow_control_window(RECEIVE_WINDOW)
        self._flush(timeouts.get("write", None))

    def _check_idle_connection(self, request: Request, timeout: float | None) -> None:
        """Before reusing an idle connection the server wrote to (a GOAWAY, a PING, or the
        end of the connection), read what it sent."""
        if not self._network_stream.get_extra_info("is_readable"):
            return
        with self._lock:
            if self._reading:
                return
            self._reading = True
        try:
            self._read_once(request, timeout)
        except ReadTimeout:
            pass
        except Exception:
            raise ConnectionNotAvailable() from None
        finally:
            self._end_read_round()
        self._flush(None)
        if not self._accepting():
            raise ConnectionNotAvailable()

    # ------------------------------------------------------------------ stream slots

    def _accepting(self) -> bool:
        """Under the lock: True if new streams may be opened."""
        return (
            self._state is not CLOSED
            and self._connection_error is None
            and self._goaway_last_stream_id is None
            and not self._used_all_stream_ids
            and self._refused_streams < MAX_REFUSED_STREAMS
        )

    def _acquire_slot(self, timeout: float | None) -> None:
        """Take one of the ``_max_streams`` places, waiting first in first out.

        Raises ``PoolTimeout`` after ``timeout`` seconds, ``ConnectionNotAvailable`` if the
        connection stops taking streams meanwhile.
        """
        with self._lock:
            if not self._accepting():
                raise ConnectionNotAvailable()
            if self._open_slots < self._max_streams and not self._slot_waiters:
                self._open_slots += 1
                return
            waiter = _SlotWaiter()
            self._slot_waiters.append(waiter)
        try:
            waiter.event.wait(timeout)
        except BaseException:
            with self._lock:
                if waiter.granted:
                    self._release_slot()
                else:
                    self._slot_waiters.remove(waiter)
            raise
        if not waiter.granted:
            raise ConnectionNotAvailable()

    def _release_slot(self) -> None:
        """Under the lock: give a place back and hand it to the next waiter."""
        self._open_slots -= 1
        self._wake_slot_waiters()

    def _wake_slot_waiters(self) -> None:
        """Under the lock: grant free places in order; if no more streams may be opened,
        wake every waiter empty-handed."""
        waiters = self._slot_waiters
        if not waiters:
            return
        if not self._accepting():
            while waiters:
                waiters.popleft().event.set()
            return
        while waiters and self._open_slots < self._max_streams:
            waiter = waiters.popleft()
            waiter.granted = True
            self._open_slots += 1
            waiter.event.set()

    # ------------------------------------------------------------------ sending

    def _send_bytes_now(
        self, stream_id: int, body: ByteStream, body_length: int
    ) -> ByteStream | None:
        """Under the lock, right after the headers: queue a bytes body that fits the flow
        control windows (it then goes out in the same write). Returns None if it was
        queued, else ``body`` (to be sent by :meth:`_send_request_body`)."""
        content = body._content
        length = len(content)
        if length != body_length and body_length >= 0:
            return body  # the mismatch is reported by _send_request_body
        h2_state = self._h2_state
        frame_size = h2_state.max_outbound_frame_size
        if length > h2_state.local_flow_control_window(stream_id):
            return body
        for start in range(0, length, frame_size):
            h2_state.send_data(stream_id, content[start : start + frame_size])
        h2_state.end_stream(stream_id)
        return None

    def _send_request_body(
        self,
        request: Request,
        stream_id: int,
        stream: _Stream,
        body: typing.Any,
        body_length: int,
        read_timeout: float | None,
        write_timeout: float | None,
    ) -> None:
        """Send the body in DATA frames within the flow-control windows (RFC 9113 §5.2),
        then END_STREAM. Stops early if the server already ended or reset the stream.

        Raises ``LocalProtocolError`` if the body does not match its Content-Length.
        """
        sent = 0
        replayable = type(body) is ByteStream
        for chunk in body:
            if not chunk:
                continue
            if not replayable:
                stream.body_started = True
            sent += len(chunk)
            if body_length >= 0 and sent > body_length:
                raise LocalProtocolError("Too much data for declared Content-Length")
            while chunk:
                window = self._wait_for_window(request, stream_id, stream, read_timeout)
                if not window:
                    return
                with self._lock:
                    self._h2_state.send_data(stream_id, chunk[:window])
                chunk = chunk[window:]
                self._flush(write_timeout)
        if body_length >= 0 and sent < body_length:
            raise LocalProtocolError("Too little data for declared Content-Length")
        with self._lock:
            if stream.remote_ended or stream.reset:
                return
            self._h2_state.end_stream(stream_id)
        self._flush(write_timeout)

    def _wait_for_window(
        self, request: Request, stream_id: int, stream: _Stream, timeout: float | None
    ) -> int:
        """Bytes that may be sent on the stream now (at most a frame), reading until the
        server grants some; 0 if the stream needs no more data (ended or reset)."""
        h2_state = self._h2_state
        window = 0

        def ready() -> bool:
            nonlocal window
            events = stream.events
            if stream.remote_ended or stream.reset or (events and events[-1] is _REFUSED):
                window = 0
                return True
            try:
                window = min(
                    h2_state.local_flow_control_window(stream_id), h2_state.max_outbound_frame_size
                )
            except h2.exceptions.StreamClosedError:
                window = 0
                return True
            return window > 0

        self._read_until(request, timeout, ready)
        return window

    def _flush(self, timeout: float | None) -> None:
        """Write whatever h2 has queued. A write that fails or is interrupted once it has
        taken the bytes leaves the framing unknown: the connection is then failed."""
        if not self._h2_state.has_output():
            return  # (frames taken by a write still in progress are its to write)
        with self._write_lock:
            with self._lock:
                data = self._h2_state.data_to_send()
            if data:
                self._write(data, timeout)

    def _flush_soon(self) -> None:
        """Like ``_flush(None)``, for frames that may wait a moment (RST_STREAM,
        WINDOW_UPDATE): if a request about to read has yet to write, it writes them.
        (Should it be cancelled first, the next write of the connection does.)"""
        if not self._reader_writes:
            self._flush(None)

    def _write(self, data: bytes, timeout: float | None) -> None:
        """Under the write lock: write ``data``; on failure, fail the connection."""
        try:
            self._network_stream.write(data, timeout)
        except BaseException as exc:
            self._fail(exc if isinstance(exc, Exception) else WriteError("Interrupted write"))
            raise

    # ------------------------------------------------------------------ receiving

    def _read_until(
        self, request: Request, timeout: float | None, ready: typing.Callable[[], bool]
    ) -> None:
        """Return once ``ready()`` is true, reading from the network meanwhile: one
        request reads at a time, the others wait for its round to end and look again.

        Frames queued and not yet written are written before reading or waiting: by the
        reader, which first lets the other runnable requests queue theirs (one write for
        all); by a request about to wait, unless the reader has yet to write.

        Raises the connection's error if it failed, ``ReadTimeout`` after ``timeout``
        seconds without progress.
        """
        while True:
            with self._lock:
                if ready():
                    return
                error = self._connection_error
                if error is not None:
                    raise _copy_error(error)
                waiter: Event | None = None
                if self._reading:
                    waiter = Event()
                    self._read_waiters.append(waiter)
                    write_first = not self._reader_writes and self._h2_state.has_output()
                else:
                    self._reading = True
                    self._reader_writes = True
            if waiter is not None:
                try:
                    if write_first:
                        self._flush(_write_timeout(request))
                    waiter.wait(timeout)
                except PoolTimeout:
                    self._forget_read_waiter(waiter)
                    raise ReadTimeout("Timed out waiting for the HTTP/2 stream") from None
                except BaseException:
                    self._forget_read_waiter(waiter)
                    raise
                continue
            try:
                if self._in_progress > 1:
                    # The other requests that can run queue their frames first.
                    _PAUSE  # noqa: B018 (sync code: a bare name, no pause)
                self._write_before_read(request)
                self._read_once(request, timeout)
            finally:
                self._end_read_round()
            self._flush(None)

    def _write_before_read(self, request: Request) -> None:
        """The reader writes every frame queued so far (its own request's, and those of
        requests that left theirs to it), bounded by its ``write`` timeout."""
        with self._write_lock:
            with self._lock:
                self._reader_writes = False
                data = self._h2_state.data_to_send()
            if data:
                self._write(data, _write_timeout(request))

    def _forget_read_waiter(self, waiter: Event) -> None:
        with self._lock:
            if waiter in self._read_waiters:
                self._read_waiters.remove(waiter)

    def _end_read_round(self) -> None:
        with self._lock:
            self._reading = False
            self._reader_writes = False
            waiters = self._read_waiters
            self._read_waiters = []
        for waiter in waiters:
            waiter.set()

    def _read_once(self, request: Request, timeout: float | None) -> None:
        """Read once from the network, feed h2, and queue each event on its stream.

        A read timeout is the caller's alone; any other failure fails the connection.
        """
        try:
            data = self._network_stream.read(self.READ_NUM_BYTES, timeout)
        except ReadTimeout:
            raise
        except Exception as exc:
            self._fail(exc)
            raise
        if not data:
            disconnected = RemoteProtocolError("Server disconnected")
            self._fail(disconnected)
            raise _copy_error(disconnected)
        settings_changes = []
        error = None
        with self._lock:
            try:
                events = self._h2_state.receive_data(data)
            except h2.exceptions.ProtocolError as h2_exc:
                error = RemoteProtocolError(h2_exc)
            else:
                settings_changes = self._dispatch(events)
        if error is not None:
            self._fail(error)
            with ShieldCancellation():
                try:
                    self._flush(None)  # h2's GOAWAY for the error
                except Exception:
                    pass
            raise _copy_error(error)
        if settings_changes and (
            request.extensions.get("trace") is not None or logger.isEnabledFor(_DEBUG)
        ):
            for event in settings_changes:
                with Trace("receive_remote_settings", logger, request) as trace:
                    trace.return_value = event

    def _dispatch(self, events: list[typing.Any]) -> list[typing.Any]:
        """Under the lock: queue stream events on their streams, apply SETTINGS and
        GOAWAY. Returns the ``RemoteSettingsChanged`` events (for tracing)."""
        settings_changes = []
        streams = self._streams
        for event in events:
            if isinstance(event, _STREAM_EVENTS):
                stream = streams.get(event.stream_id)
                if stream is None:
                    # A stream we already closed: hand back its flow-control credit.
                    if type(event) is _DataReceived and event.flow_controlled_length:
                        self._h2_state.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    continue
                stream.events.append(event)
                kind = type(event)
                if kind is _StreamEnded:
                    stream.remote_ended = True
                elif kind is _ResponseReceived:
                    stream.head_received = True
                elif kind is _StreamReset:
                    stream.reset = True
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                h2_state = self._h2_state
                self._max_streams = min(
                    h2_state.remote_settings.max_concurrent_streams,
                    h2_state.local_settings.max_concurrent_streams,
                )
                self._wake_slot_waiters()
                settings_changes.append(event)
            elif isinstance(event, h2.events.ConnectionTerminated):
                self._receive_goaway(event.last_stream_id or 0)
        return settings_changes

    def _receive_goaway(self, last_stream_id: int) -> None:
        """Under the lock: no new streams; those above ``last_stream_id`` were not
        processed (RFC 9113 §6.8) and are told so."""
        previous = self._goaway_last_stream_id
        if previous is not None and previous <= last_stream_id:
            return
        self._goaway_last_stream_id = last_stream_id
        for stream_id, stream in self._streams.items():
            if stream_id > last_stream_id:
                stream.events.append(_REFUSED)
        self._wake_slot_waiters()

    def _fail(self, exc: Exception) -> None:
        """The connection is unusable: every request on it will raise ``exc`` (or
        ``ConnectionNotAvailable`` if the server never processed it)."""
        with self._lock:
            if self._connection_error is None:
                self._connection_error = exc
            self._wake_slot_waiters()

    def _next_event(
        self, request: Request, stream: _Stream, timeout: float | None
    ) -> typing.Any:
        events = stream.events
        if not events:
            self._read_until(request, timeout, events.__len__)  # type: ignore[arg-type]
        return events.popleft()

    def _stream_failed(self, stream_id: int, stream: _Stream, event: typing.Any) -> Exception:
        """The exception for an event that ends a stream without a response."""
        retry = not stream.head_received and not stream.body_started
        if event is _REFUSED:
            if retry:
                return ConnectionNotAvailable()
            return RemoteProtocolError(
                f"The server stopped processing stream {stream_id} (GOAWAY)"
            )
        if type(event) is _StreamReset and event.error_code == ErrorCodes.REFUSED_STREAM and retry:
            with self._lock:
                self._refused_streams += 1
            return ConnectionNotAvailable()
        return RemoteProtocolError(event)

    def _receive_response_head(
        self, request: Request, stream_id: int, stream: _Stream, timeout: float | None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Wait for the response HEADERS (1xx responses are skipped by h2's events).

        Raises ``RemoteProtocolError`` for a missing or invalid ``:status`` or a field
        value with CR, LF or NUL (RFC 9113 §8.2.1).
        """
        while True:
            event = self._next_event(request, stream, timeout)
            if type(event) is _ResponseReceived:
                break
            if type(event) is _StreamEnded or type(event) is _TrailersReceived:
                continue  # pragma: nocover - h2 reports these only after a response
            raise self._stream_failed(stream_id, stream, event)
        status = None
        headers = []
        for name, value in event.headers:
            if name[:1] == b":":
                if name == b":status":
                    status = value
                continue
            if b"\r" in value or b"\n" in value or b"\x00" in value:
                raise RemoteProtocolError(f"Invalid HTTP/2 header value for {name!r}")
            headers.append((name, value))
        if status is None or len(status) != 3 or not status.isdigit():
            raise RemoteProtocolError(f"Invalid HTTP/2 response status {status!r}")
        return int(status), headers

    def _receive_response_body(
        self, request: Request, stream_id: int, timeout: float | None
    ) -> typing.Iterator[bytes]:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise RuntimeError("The response was closed: its body can no longer be read.")
        while True:
            event = self._next_event(request, stream, timeout)
            kind = type(event)
            if kind is _DataReceived:
                length = event.flow_controlled_length
                if length:
                    with self._lock:
                        self._h2_state.acknowledge_received_data(length, stream_id)
                    self._flush_soon()
                if event.data:
                    yield event.data
            elif kind is _StreamEnded:
                return
            elif kind is _TrailersReceived:
                continue  # trailer fields are accepted and dropped, as in httpcore
            else:
                raise self._stream_failed(stream_id, stream, event)

    # ------------------------------------------------------------------ ending streams

    def _close_stream(self, stream_id: int) -> None:
        """A request is done with its stream: reset it if still open (RST_STREAM CANCEL),
        hand back the credit of data nobody read, free its place; close the connection
        when it is idle and can take no more streams."""
        with self._lock:
            stream = self._streams.pop(stream_id, None)
            if stream is None:
                return
            if self._connection_error is None:
                h2_state = self._h2_state
                try:
                    unread = sum(
                        event.flow_controlled_length
                        for event in stream.events
                        if type(event) is _DataReceived
                    )
                    if unread:
                        h2_state.acknowledge_received_data(unread, stream_id)
                    h2_stream = h2_state.streams.get(stream_id)
                    if h2_stream is not None and not h2_stream.closed:
                        h2_state.reset_stream(stream_id, ErrorCodes.CANCEL)
                except h2.exceptions.ProtocolError:  # pragma: nocover - defensive
                    pass
            self._release_slot()
        self._abandon(False)

    def _abandon(self, slot: bool) -> None:
        """A request leaves (its stream, if any, already closed): update the state, send
        any RST_STREAM / WINDOW_UPDATE queued, close the connection if it is done."""
        with self._lock:
            if slot:
                self._release_slot()
            self._in_progress -= 1
            close = False
            if self._in_progress == 0 and self._state is not CLOSED:
                if (
                    self._connection_error is not None
                    or not self._accepting()
                ):
                    close = True
                else:
                    self._state = IDLE
                    if self._keepalive_expiry is not None:
                        self._expire_at = time.monotonic() + self._keepalive_expiry
        if close:
            self.close()
            return
        if self._connection_error is None and self._state is not CLOSED:
            try:
                self._flush_soon()
            except Exception:
                pass  # the connection is failed; its requests see that error

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connection and its network stream (idempotent)."""
        with self._lock:
            if self._state is CLOSED:
                return
            self._state = CLOSED
            self._wake_slot_waiters()
        self._network_stream.close()

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def _multiplexed(self) -> bool:
        """HTTP/2 carries concurrent requests: the pool keeps it listed while available."""
        return True

    def is_available(self) -> bool:
        """True while new streams may be opened (requests beyond the server's stream
        limit wait inside the connection)."""
        return self._accepting()

    def has_expired(self) -> bool:
        """True once the connection must not be handed out again: closed, failed, or
        idle after a GOAWAY or past ``keepalive_expiry``."""
        if self._state is CLOSED or self._connection_error is not None:
            return True
        if self._state is IDLE:
            if not self._accepting():
                return True
            if self._expire_at is not None and time.monotonic() > self._expire_at:
                return True
        return False

    def is_idle(self) -> bool:
        return self._state is IDLE

    def is_closed(self) -> bool:
        return self._state is CLOSED

    def info(self) -> str:
        origin = str(self._origin)
        return (
            f"{origin!r}, HTTP/2, {self._state.name}, "
            f"Request Count: {self._request_count}"
        )

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        origin = str(self._origin)
        return (
            f"<{class_name} [{origin!r}, {self._state.name}, "
            f"Request Count: {self._request_count}]>"
        )

    def __enter__(self) -> HTTP2Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        self.close()


class HTTP2ConnectionByteStream:
    """The response body of one stream; closing it ends (or resets) the stream."""

    def __init__(
        self,
        connection: HTTP2Connection,
        request: Request,
        stream_id: int,
        tracing: bool,
    ) -> None:
        self._connection = connection
        self._request = request
        self._stream_id = stream_id
        self._tracing = tracing
        self._closed = False

    def __iter__(self) -> typing.Iterator[bytes]:
        request = self._request
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("read", None)
        kwargs = {"request": request, "stream_id": self._stream_id}
        try:
            with _trace(self._tracing, "receive_response_body", request, kwargs):
                for chunk in self._connection._receive_response_body(
                    request, self._stream_id, timeout
                ):
                    yield chunk
        except BaseException:
            with ShieldCancellation():
                self.close()
            raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            kwargs = {"stream_id": self._stream_id}
            with _trace(self._tracing, "response_closed", self._request, kwargs):
                self._connection._close_stream(self._stream_id)

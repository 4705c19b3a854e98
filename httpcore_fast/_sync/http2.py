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
  closing, cancelling or timing out a request resets only its stream (``RST_STREAM``
  CANCEL), handing back its flow-control credit and its place: the other requests go on
  and the connection stays usable;
* a network error, a write that failed or timed out (how much of it left is unknown), an
  end of file or a protocol error from the server fails the connection and every request
  on it.

Private parts of h2 and hpack used here (see :func:`_h2_hooks`) are checked once per
process before first use; a feature whose hook has gone falls back to plain h2/hpack
behaviour with one ``RuntimeWarning``.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import inspect
import logging
import sys
import threading
import time
import types
import typing
import warnings

import h2
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
from h2.errors import ErrorCodes
from hpack import NeverIndexedHeaderTuple
from hpack.table import HeaderTable

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
from .._limits import ResponseLimits
from .._models import ByteStream, Origin, Request, Response
from .._synchronization import Event, Lock, ShieldCancellation, ThreadLock
from .._trace import Trace
from .http11 import DEFAULT_PORTS, check_origin, close_request_body
from .interfaces import ConnectionInterface

logger = logging.getLogger("httpcore.http2")
_DEBUG = logging.DEBUG

# Client settings (RFC 9113 §6.5.2) sent in the connection preface, as httpcore sends them:
# no server push, at most 100 concurrent streams, header lists up to 64 KiB (without
# ``limits``; with them, ``ResponseLimits.max_head_size``).
LOCAL_MAX_CONCURRENT_STREAMS = 100
LOCAL_MAX_HEADER_LIST_SIZE = 64 * 1024
# A header block up to this many times the advertised SETTINGS_MAX_HEADER_LIST_SIZE is
# decoded in full (so the HPACK tables stay in step, RFC 9113 §4.3) and only its stream
# fails; a larger one fails the connection (h2 stops decoding it: memory stays bounded).
DECODED_HEADER_LIST_FACTOR = 4
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
_InformationalResponseReceived = h2.events.InformationalResponseReceived
_DataReceived = h2.events.DataReceived
_StreamEnded = h2.events.StreamEnded
_StreamReset = h2.events.StreamReset
_TrailersReceived = h2.events.TrailersReceived
_STREAM_EVENTS = (
    _ResponseReceived,
    _InformationalResponseReceived,
    _DataReceived,
    _StreamEnded,
    _StreamReset,
    _TrailersReceived,
)


class HTTPConnectionState(enum.IntEnum):
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


ACTIVE = HTTPConnectionState.ACTIVE
IDLE = HTTPConnectionState.IDLE
CLOSED = HTTPConnectionState.CLOSED


def _entry_size(name: bytes, value: bytes) -> int:
    """The size of a field as HPACK counts it (RFC 7541 §4.1): name and value octets
    plus 32."""
    return len(name) + len(value) + 32


# ------------------------------------------------------------------ HPACK


class _Table(HeaderTable):
    """An HPACK dynamic table (RFC 7541 §2.3.2) that counts its changes in
    ``generation``: a header block coded while it stays unchanged codes the same again.

    Relies on hpack's ``HeaderTable``: ``add()`` (called for every indexed field),
    the ``maxsize`` property, the ``_maxsize`` and ``dynamic_entries`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0

    def add(self, name: bytes, value: bytes) -> None:
        # Adding a field larger than the table to an empty table leaves it empty (§4.4):
        # what nginx does with every field once it has set the table size to 0.
        if self.dynamic_entries or _entry_size(name, value) <= self._maxsize:
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
    costs a dictionary look-up. Lists with never-indexed fields are always encoded.

    Relies on hpack's ``header_table`` attribute and its ``resized`` flag."""

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


class _LimitDecoder(hpack.Decoder):
    """hpack's decoder, decoding header blocks up to ``DECODED_HEADER_LIST_FACTOR`` times
    the ``max_header_list_size`` h2 gives it (our advertised SETTINGS_MAX_HEADER_LIST_SIZE,
    RFC 9113 §6.5.2): a block between the two is decoded in full, keeping the HPACK
    tables in step (RFC 9113 §4.3, §10.5.1), and the connection fails only its stream;
    a larger one stops decoding with hpack's ``OversizedHeaderListError`` (a connection
    error). Relies only on hpack's public ``max_header_list_size`` attribute."""

    @property
    def max_header_list_size(self) -> int:
        """The decoding bound: the size set, times ``DECODED_HEADER_LIST_FACTOR``."""
        return self._decoded_limit

    @max_header_list_size.setter
    def max_header_list_size(self, value: int) -> None:
        self._decoded_limit = value * DECODED_HEADER_LIST_FACTOR


class _Decoder(_LimitDecoder):
    """hpack's decoder, remembering the fields of each header block whose decoding left
    the dynamic table as it was: a server repeating a response head (nginx's, with a
    table of size 0, differ only when the ``date`` does) costs a dictionary look-up.

    Relies on hpack's ``header_table`` and ``max_allowed_table_size`` attributes."""

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


# ------------------------------------------------------------------ h2


class _H2Plain(h2.connection.H2Connection):
    """h2's connection state machine with the codec and the output check chosen by
    :func:`_h2_hooks` (GOAWAY handled as h2 does)."""

    def __init__(
        self,
        config: h2.config.H2Configuration,
        codec: tuple[type[hpack.Encoder], type[hpack.Decoder]] | None = None,
        peek: bool = True,
    ) -> None:
        super().__init__(config=config)
        if codec is not None:
            encoder_class, decoder_class = codec
            decoder = decoder_class()
            decoder.max_header_list_size = self.decoder.max_header_list_size
            self.encoder = encoder_class()
            self.decoder = decoder
        self._peek = peek

    def has_output(self) -> bool:
        """True if frames may wait to be written (``data_to_send()`` would return bytes;
        always True without the ``_data_to_send`` hook)."""
        return bool(self._data_to_send) if self._peek else True


class _H2State(_H2Plain):
    """h2's connection state machine, except for a received GOAWAY.

    h2 closes its state machine on GOAWAY and then rejects every later frame, so the
    streams the server promised to finish (up to ``last_stream_id``, RFC 9113 §6.8) could
    not be read. Here a GOAWAY only produces its ``ConnectionTerminated`` event; the
    connection stops opening streams itself.
    """

    def _receive_goaway_frame(self, frame: typing.Any) -> typing.Any:
        event = h2.events.ConnectionTerminated()
        try:
            event.error_code = ErrorCodes(frame.error_code)
        except ValueError:
            event.error_code = frame.error_code
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [event]


class _Hooks(typing.NamedTuple):
    """What :func:`_h2_hooks` found usable: the state class (with or without the GOAWAY
    override), the HPACK encoder/decoder classes (None: h2's own) and whether
    ``_data_to_send`` can be peeked at."""

    state_class: type[_H2Plain]
    codec: tuple[type[hpack.Encoder], type[hpack.Decoder]] | None
    peek: bool

    def new_state(self, config: h2.config.H2Configuration) -> _H2Plain:
        return self.state_class(config, self.codec, self.peek)


_hooks: _Hooks | None = None
_hooks_lock = threading.Lock()

# Frames for the GOAWAY probe (RFC 9113 §6.5, §6.8, §6.7): an empty SETTINGS, a GOAWAY
# with last_stream_id 1 and NO_ERROR, a PING.
_PROBE_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_PROBE_GOAWAY = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + b"\x00\x00\x00\x01" + b"\x00" * 4
_PROBE_PING = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"hcfprobe"
_PROBE_FIELDS = [(b":method", b"GET"), (b":path", b"/hook-probe"), (b"x-probe", b"1")]


def _version(module: types.ModuleType) -> str:
    return str(getattr(module, "__version__", "unknown"))


def _missing_goaway_hook(config: h2.config.H2Configuration) -> str | None:
    """None if h2 still calls ``H2Connection._receive_goaway_frame(frame)`` for a GOAWAY
    and our override keeps the connection readable; else what is missing."""
    method = getattr(h2.connection.H2Connection, "_receive_goaway_frame", None)
    if not inspect.isfunction(method):
        return "the method H2Connection._receive_goaway_frame"
    if len(inspect.signature(method).parameters) != 2:
        return "the signature H2Connection._receive_goaway_frame(self, frame)"
    try:
        state = _H2State(config)
        state.initiate_connection()
        state.send_headers(1, _PROBE_FIELDS, end_stream=True)
        events = state.receive_data(_PROBE_SETTINGS + _PROBE_GOAWAY)
        if not any(type(e) is h2.events.ConnectionTerminated for e in events):
            raise AssertionError("no ConnectionTerminated")
        state.receive_data(_PROBE_PING)  # plain h2 refuses frames after a GOAWAY
    except Exception:
        return "the call of H2Connection._receive_goaway_frame for each GOAWAY frame"
    return None


def _missing_peek_hook(config: h2.config.H2Configuration) -> str | None:
    """None if ``H2Connection._data_to_send`` is the buffer of queued frames."""
    state = h2.connection.H2Connection(config=config)
    if not isinstance(vars(state).get("_data_to_send"), (bytes, bytearray)):
        return "the attribute H2Connection._data_to_send (bytes)"
    state.initiate_connection()
    if not state._data_to_send:
        return "the attribute H2Connection._data_to_send (queued frames)"
    state.data_to_send()
    if state._data_to_send:
        return "the attribute H2Connection._data_to_send (emptied by data_to_send())"
    return None


def _missing_codec_hook(config: h2.config.H2Configuration) -> str | None:
    """None if h2 codes header blocks with its ``encoder`` and ``decoder`` attributes
    (hpack ``Encoder`` and ``Decoder`` instances we can replace)."""
    state = h2.connection.H2Connection(config=config)
    for name, kind in (("encoder", hpack.Encoder), ("decoder", hpack.Decoder)):
        if not isinstance(vars(state).get(name), kind):
            return f"the attribute H2Connection.{name} (an hpack.{kind.__name__})"
    if not isinstance(getattr(state.decoder, "max_header_list_size", None), int):
        return "the attribute hpack.Decoder.max_header_list_size"
    return None


def _missing_hpack_hook() -> str | None:
    """None if the HPACK block caches may be used: hpack's table and coders have the
    attributes :class:`_Table`, :class:`_Encoder` and :class:`_Decoder` rely on, and
    ours code a short sequence exactly as hpack's own do."""
    encoder, decoder = hpack.Encoder(), hpack.Decoder()
    table = encoder.header_table
    shape = vars(table)
    for name, kind in (("_maxsize", int), ("dynamic_entries", collections.deque),
                       ("resized", bool)):
        if not isinstance(shape.get(name), kind):
            return f"the attribute HeaderTable.{name} ({kind.__name__})"
    if not isinstance(inspect.getattr_static(type(table), "maxsize", None), property):
        return "the property HeaderTable.maxsize"
    if not callable(getattr(type(table), "add", None)):
        return "the method HeaderTable.add"
    if not isinstance(vars(decoder).get("max_allowed_table_size"), int):
        return "the attribute hpack.Decoder.max_allowed_table_size"
    try:
        ours, our_decoder, reference_decoder = _Encoder(), _Decoder(), hpack.Decoder()
        before = ours.header_table.generation
        for resize in (None, None, 0, 4096, None):
            if resize is not None:
                ours.header_table_size = encoder.header_table_size = resize
            block = ours.encode(list(_PROBE_FIELDS))
            if block != encoder.encode(list(_PROBE_FIELDS)):
                raise AssertionError("encoded differently")
            if our_decoder.decode(block, raw=True) != reference_decoder.decode(block, raw=True):
                raise AssertionError("decoded differently")
        if ours.header_table.generation == before or our_decoder.header_table.generation == 0:
            raise AssertionError("table changes not seen")
    except Exception:
        return "the calls of HeaderTable.add and HeaderTable.maxsize"
    return None


def _h2_hooks() -> _Hooks:
    """The h2/hpack hooks usable with the installed versions, checked on first use (once
    per process): a missing one turns its feature off, with one ``RuntimeWarning``.

    ========================================  =========================================
    hook (h2 3.x-4.x, hpack 3.x-4.x)          without it
    ========================================  =========================================
    ``H2Connection._receive_goaway_frame``    plain h2 GOAWAY: streams above
                                              ``last_stream_id`` are retried, the
                                              others fail with the connection
    ``H2Connection._data_to_send``            ``data_to_send()`` is called to find out
    ``H2Connection.encoder`` / ``decoder``    h2's own hpack coders (no block caches; a
                                              header list over the advertised size
                                              fails the connection)
    ``HeaderTable._maxsize``, ``resized``,    plain hpack coders (no block caches)
    ``dynamic_entries``, ``maxsize``, ``add``
    ========================================  =========================================
    """
    hooks = _hooks
    if hooks is not None:
        return hooks
    with _hooks_lock:  # threads making their first connections at once check once
        return _check_h2_hooks()


def _check_h2_hooks() -> _Hooks:
    """Under ``_hooks_lock``: :func:`_h2_hooks`' check."""
    global _hooks
    hooks = _hooks
    if hooks is not None:
        return hooks
    config = HTTP2Connection.CONFIG
    goaway = _missing_goaway_hook(config)
    peek = _missing_peek_hook(config)
    codec_hook = _missing_codec_hook(config)
    hpack_hook = None if codec_hook else _missing_hpack_hook()
    for missing, feature, module in (
        (goaway, "GOAWAY is handled as plain h2 does (a stream the server promised to "
                 "finish fails with the connection)", h2),
        (peek, "data_to_send() is called to find queued frames", h2),
        (codec_hook, "h2's own HPACK coders are used (no block caches; a header list over "
                     "the advertised size fails the connection)", h2),
        (hpack_hook, "hpack's own coders are used (no block caches)", hpack),
    ):
        if missing is not None:
            warnings.warn(
                f"httpcore_fast: {module.__name__} {_version(module)} lacks {missing}, "
                f"so {feature}",
                RuntimeWarning,
                stacklevel=4,
            )
    codec: tuple[type[hpack.Encoder], type[hpack.Decoder]] | None
    if codec_hook is not None:
        codec = None
    elif hpack_hook is not None:
        codec = (hpack.Encoder, _LimitDecoder)
    else:
        codec = (_Encoder, _Decoder)
    hooks = _hooks = _Hooks(
        state_class=_H2Plain if goaway else _H2State, codec=codec, peek=peek is None
    )
    return hooks


def _shared_hooks() -> typing.Any:
    """:func:`_h2_hooks` of the async module: one check (and one warning) per process
    for this module and its generated sync twin."""
    from .._async import http2

    return http2._h2_hooks()  # (typed Any: the sync twin's _Hooks is another class)


# ------------------------------------------------------------------ helpers


class _Refused:
    """Queued on a stream that the server will not process (GOAWAY below its id)."""

    __slots__ = ()


_REFUSED = _Refused()


class _Stream:
    """Our side of one open stream: the events read for it and not yet consumed."""

    __slots__ = (
        "events", "head_received", "remote_ended", "local_ended", "reset", "body_started"
    )

    def __init__(self) -> None:
        self.events: collections.deque[typing.Any] = collections.deque()
        self.head_received = False
        self.remote_ended = False
        self.local_ended = False  # our END_STREAM is queued: the request is all sent
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


class _RaiseIfCancelled:
    """``_RAISE_IF_CANCELLED`` raises a pending trio cancellation and otherwise does
    nothing, without suspending (trio's ``checkpoint_if_cancelled``): written just before
    bytes are taken from h2, so a write that a cancellation interrupts has begun sending.
    Nothing on asyncio (a cancellation arrives only where a task suspends); in the
    generated sync code a bare name."""

    __slots__ = ()

    def __await__(self) -> typing.Generator[typing.Any, None, None]:
        if asyncio._get_running_loop() is None:
            trio = sys.modules.get("trio")
            if trio is not None:
                yield from trio.lowlevel.checkpoint_if_cancelled().__await__()


_RAISE_IF_CANCELLED = _RaiseIfCancelled()


def _cut_write_kept_framing(stream: NetworkStream, exc: BaseException) -> bool:
    """A write interrupted by ``exc`` (not an ``Exception``): True if the stream took all
    of its bytes, so the HTTP/2 framing is intact and the connection may go on.

    Only for a cancellation (``CancelledError``, trio's ``Cancelled``), and only if the
    stream says a cancelled write never stops part way (``_cancelled_write_sent_all()``:
    the native asyncio stream, ``AnyIOBackend``'s asyncio socket streams, and any stream
    that does not say otherwise, as httpcore assumes); trio's sockets, anyio's Unix
    sockets and TLS over memory BIOs may have sent part of a frame, and so may
    ``KeyboardInterrupt`` in a blocking ``sendall``: no.
    """
    if isinstance(exc, asyncio.CancelledError):
        return stream._cancelled_write_sent_all()
    trio = sys.modules.get("trio")
    if trio is not None and isinstance(exc, trio.Cancelled):
        return stream._cancelled_write_sent_all()
    return False


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
        *,
        limits: ResponseLimits | None = None,
    ) -> None:
        self._origin = origin
        self._network_stream = stream
        self._keepalive_expiry = keepalive_expiry
        self._h2_state: _H2Plain = _shared_hooks().new_state(self.CONFIG)
        self._state = IDLE
        self._expire_at: float | None = None
        self._request_count = 0
        self._serialize_request_head = get_kernel().serialize_request_head
        bounds = limits or ResponseLimits()
        self._max_header_list_size = (
            LOCAL_MAX_HEADER_LIST_SIZE if limits is None else limits.max_head_size
        )
        self._max_trailer_list_size = min(self._max_header_list_size, bounds.max_trailer_size)
        self._max_field_count = bounds.max_field_count
        self._max_field_line_size = bounds.max_field_line_size
        self._max_informational = bounds.max_informational
        self._head_timeout = bounds.head_timeout
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
        ``RemoteProtocolError`` if the server reset the stream, broke the protocol or sent
        a response head over the ``limits``; ``ReadTimeout`` past the ``read`` timeout or
        the ``head_timeout``; the network and timeout exceptions of the exchange. A
        request that fails, times out or is cancelled resets only its own stream.
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
            _, body_length, _, _ = self._serialize_request_head(
                method, url.target, request.headers
            )
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
                if body is None:
                    stream.local_ended = True
                elif type(body) is ByteStream:
                    body = self._send_bytes_now(stream_id, body, body_length)
                    stream.local_ended = body is None

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
            # The stream's bookkeeping (RST_STREAM queued, credit, place) happens at once;
            # a trace callback around it, or closing the connection, runs shielded.
            if isinstance(exc, ConnectionNotAvailable):
                with self._lock:
                    self._request_count -= 1
            if stream_id and tracing:
                close = ShieldCancellation.run(
                    self._end_request_traced, request, stream_id, slot
                )
            else:
                close = self._end_request(stream_id, slot)
                if close:
                    ShieldCancellation.run(self.close)
            if not close:
                # RST_STREAM and credit now (not under the shield: a cancelled request
                # never waits on a write; its frames then go with the next write).
                self._send_soon(write_timeout)
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
                ShieldCancellation.run(self.close)
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
                    h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: self._max_header_list_size,
                    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW,
                },
            )
            # Some servers reject this setting (RFC 8441) in a client's preface.
            del h2_state.local_settings[h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL]
            # Initial values take effect at once, unacknowledged: h2 leaves its decoder
            # at its default size, so it is told here.
            decoder = getattr(h2_state, "decoder", None)
            if decoder is not None:
                decoder.max_header_list_size = self._max_header_list_size
            h2_state.initiate_connection()
            h2_state.increment_flow_control_window(RECEIVE_WINDOW)
        self._flush(timeouts.get("write", None))

    def _check_idle_connection(self, request: Request, timeout: float | None) -> None:
        """Before reusing an idle connection the server wrote to (a GOAWAY, a PING, or the
        end of the connection), read what it sent.

        Any failure (a ``RuntimeError`` from a stream whose event loop has gone included)
        means the connection is dead: it is closed, ``has_expired()`` is true from then
        on, and ``ConnectionNotAvailable`` is raised so that the pool retries the request
        on a new connection; so it is if the server said GOAWAY.
        """
        try:
            if self._network_stream.get_extra_info("is_readable"):
                with self._lock:
                    reading = self._reading
                    self._reading = True
                if not reading:
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
            raise ConnectionNotAvailable() from None
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
                elif waiter in self._slot_waiters:
                    # Still queued (a waiter woken empty-handed, when the connection
                    # stopped taking streams, has left the queue already).
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

        If sending fails, is cancelled or stops early, the body's iterator and the body
        itself are closed (``close()``, when they have one) before this returns or
        raises. Raises ``LocalProtocolError`` if the body does not match its
        Content-Length (RFC 9113 §8.1.1).
        """
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
                        self._h2_state.send_data(stream_id, chunk[:window])
                    chunk = chunk[window:]
                    self._flush(write_timeout)
            if body_length >= 0 and sent < body_length:
                raise LocalProtocolError("Too little data for declared Content-Length")
            sent_all = True
        finally:
            if not sent_all:
                close_request_body(iterator)
        with self._lock:
            if stream.remote_ended or stream.reset:
                return
            self._h2_state.end_stream(stream_id)
            stream.local_ended = True
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
        """Write whatever h2 has queued. A write that fails leaves the framing unknown:
        the connection is then failed (see :meth:`_write`)."""
        if not self._h2_state.has_output():
            return  # (frames taken by a write still in progress are its to write)
        with self._write_lock:
            _RAISE_IF_CANCELLED  # noqa: B018 (sync code: a bare name)
            with self._lock:
                data = self._h2_state.data_to_send()
            if data:
                self._write(data, timeout)

    def _send_soon(self, timeout: float | None) -> None:
        """Like ``_flush(timeout)``, for frames that may wait a moment (RST_STREAM,
        WINDOW_UPDATE): if a request about to read has yet to write, it writes them;
        nothing on a failed or closed connection. A write error is dropped (the
        connection's requests see it); a cancellation is raised, the frames then going
        with the connection's next write."""
        if self._reader_writes or self._connection_error is not None or self._state is CLOSED:
            return
        try:
            self._flush(timeout)
        except Exception:
            pass

    def _write(self, data: bytes, timeout: float | None) -> None:
        """Under the write lock: write ``data``.

        A write that fails (``WriteError``, ``WriteTimeout``...) may have sent part of
        ``data``: the connection is failed. One interrupted by a cancellation fails it
        too unless the stream took all of ``data`` (:func:`_cut_write_kept_framing`);
        then the HPACK dynamic tables are emptied with the next header block (RFC 7541
        §4.2), in step whether or not the server got every block of ``data``.
        """
        try:
            self._network_stream.write(data, timeout)
        except Exception as exc:
            self._fail(exc)
            raise
        except BaseException as exc:
            if _cut_write_kept_framing(self._network_stream, exc):
                self._resync_hpack()
            else:
                self._fail(WriteError("Interrupted write"))
            raise

    def _resync_hpack(self) -> None:
        """Queue two dynamic table size updates (0, then the current size) at the start
        of the next header block: both HPACK tables are then empty (RFC 7541 §4.2, §6.3).
        Not when a size update is already pending (at most two are allowed)."""
        with self._lock:
            encoder = self._h2_state.encoder
            size = encoder.header_table_size
            if size and getattr(encoder.header_table, "resized", True) is False:
                encoder.header_table_size = 0
                encoder.header_table_size = size

    # ------------------------------------------------------------------ receiving

    def _read_until(
        self,
        request: Request,
        timeout: float | None,
        ready: typing.Callable[[], bool],
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
                if self._in_progress > 1:
                    # The other requests that can run queue their frames first.
                    _PAUSE  # noqa: B018 (sync code: a bare name, no pause)
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
                f"({self._head_timeout} s)"
            )
        return ReadTimeout("Timed out waiting for the HTTP/2 stream")

    def _write_before_read(self, request: Request) -> None:
        """The reader writes every frame queued so far (its own request's, and those of
        requests that left theirs to it), bounded by its ``write`` timeout."""
        with self._write_lock:
            _RAISE_IF_CANCELLED  # noqa: B018 (sync code: a bare name)
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
            try:
                # h2's GOAWAY for the error: a courtesy, not shielded (clean-up never
                # waits on a write under a shield), bounded by the write timeout.
                self._flush(_write_timeout(request))
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
        self,
        request: Request,
        stream: _Stream,
        timeout: float | None,
        deadline: float | None = None,
    ) -> typing.Any:
        events = stream.events
        if not events:
            self._read_until(
                request, timeout, events.__len__, deadline  # type: ignore[arg-type]
            )
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

    def _field_block(
        self, fields: typing.Any, list_limit: int
    ) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
        """Check one received header block (a response head, a 1xx head or trailers) and
        return its ``:status`` (None if absent) and its regular fields.

        Raises ``RemoteProtocolError`` for a field value with CR, LF or NUL (RFC 9113
        §8.2.1), or a block over the ``limits``: its RFC 7541 §4.1 size over
        ``list_limit`` (SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 §6.5.2), more regular
        fields than ``max_field_count``, a field over ``max_field_line_size``.
        """
        status = None
        headers = []
        size = 0
        max_field_line_size = self._max_field_line_size
        for name, value in fields:
            size += len(name) + len(value) + 32
            if name[:1] == b":":
                if name == b":status":
                    status = value
                continue
            if b"\r" in value or b"\n" in value or b"\x00" in value:
                raise RemoteProtocolError(f"Invalid HTTP/2 header value for {name!r}")
            if len(name) + len(value) + 2 > max_field_line_size:
                raise RemoteProtocolError(
                    f"HTTP/2 header field {name!r} exceeds max_field_line_size "
                    f"({max_field_line_size})"
                )
            headers.append((name, value))
        if size > list_limit:
            raise RemoteProtocolError(
                f"HTTP/2 header list of {size} bytes exceeds the advertised "
                f"SETTINGS_MAX_HEADER_LIST_SIZE ({list_limit}) (RFC 9113 §6.5.2)"
            )
        if len(headers) > self._max_field_count:
            raise RemoteProtocolError(
                f"HTTP/2 header block with {len(headers)} fields exceeds max_field_count "
                f"({self._max_field_count})"
            )
        return status, headers

    def _receive_response_head(
        self, request: Request, stream_id: int, stream: _Stream, timeout: float | None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Wait for the response HEADERS, skipping 1xx responses (RFC 9113 §8.1).

        Raises ``RemoteProtocolError`` for a missing or invalid ``:status``, an invalid
        field value or a header block over the ``limits`` (see :meth:`_field_block`), more
        1xx responses than ``max_informational``; ``ReadTimeout`` past ``head_timeout``.
        """
        deadline = None
        if self._head_timeout is not None:
            deadline = time.monotonic() + self._head_timeout
        informational = 0
        while True:
            event = self._next_event(request, stream, timeout, deadline)
            kind = type(event)
            if kind is _ResponseReceived:
                break
            if kind is _InformationalResponseReceived:
                informational += 1
                if informational > self._max_informational:
                    raise RemoteProtocolError(
                        f"More than max_informational ({self._max_informational}) "
                        f"informational responses"
                    )
                self._field_block(event.headers, self._max_header_list_size)
                continue
            if kind is _StreamEnded or kind is _TrailersReceived:
                continue  # pragma: nocover - h2 reports these only after a response
            raise self._stream_failed(stream_id, stream, event)
        status, headers = self._field_block(event.headers, self._max_header_list_size)
        if status is None or len(status) != 3 or not status.isdigit():
            raise RemoteProtocolError(f"Invalid HTTP/2 response status {status!r}")
        return int(status), headers

    def _receive_response_body(
        self, request: Request, stream_id: int, timeout: float | None
    ) -> typing.Iterator[bytes]:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise RuntimeError("The response was closed: its body can no longer be read.")
        write_timeout = _write_timeout(request)
        while True:
            event = self._next_event(request, stream, timeout)
            kind = type(event)
            if kind is _DataReceived:
                length = event.flow_controlled_length
                if length:
                    with self._lock:
                        self._h2_state.acknowledge_received_data(length, stream_id)
                    self._send_soon(write_timeout)
                if event.data:
                    yield event.data
            elif kind is _StreamEnded:
                return
            elif kind is _TrailersReceived:
                # Trailer fields are checked, then dropped, as in httpcore.
                self._field_block(event.headers, self._max_trailer_list_size)
            else:
                raise self._stream_failed(stream_id, stream, event)

    # ------------------------------------------------------------------ ending requests

    def _end_request(self, stream_id: int, slot: bool) -> bool:
        """A request leaves (0: it has no stream yet; ``slot``: it holds a place).

        Its stream, if still open, is reset (RST_STREAM CANCEL queued), the credit of
        the data nobody read is handed back and its place freed. Returns True if the
        connection must now be closed: idle, and failed or taking no more streams.
        """
        with self._lock:
            if stream_id:
                stream = self._streams.pop(stream_id, None)
                if stream is None:
                    return False  # already ended
                if self._connection_error is None:
                    h2_state = self._h2_state
                    try:
                        unread = sum(
                            event.flow_controlled_length
                            for event in stream.events
                            if type(event) is _DataReceived
                        )
                        if unread:  # the connection's credit comes back even when closed
                            h2_state.acknowledge_received_data(unread, stream_id)
                        if not (stream.remote_ended and stream.local_ended):
                            # Not after a complete exchange: the stream is closed on both
                            # sides (RFC 9113 §5.1), h2 would raise and we would catch,
                            # per request.
                            h2_state.reset_stream(stream_id, ErrorCodes.CANCEL)
                    except h2.exceptions.StreamClosedError:
                        pass  # closed on both sides: nothing to reset (RFC 9113 §5.1)
                    except h2.exceptions.ProtocolError:  # pragma: nocover - defensive
                        pass
                self._release_slot()
            elif slot:
                self._release_slot()
            self._in_progress -= 1
            if self._in_progress or self._state is CLOSED:
                return False
            if self._connection_error is not None or not self._accepting():
                return True
            self._state = IDLE
            if self._keepalive_expiry is not None:
                self._expire_at = time.monotonic() + self._keepalive_expiry
            return False

    def _end_request_traced(self, request: Request, stream_id: int, slot: bool) -> bool:
        """:meth:`_end_request` inside the ``response_closed`` trace event, then the
        connection closed if it must be; returns whether it was. Run shielded: a
        cancellation while the trace callback awaits must not skip the bookkeeping."""
        with Trace("response_closed", logger, request, {"stream_id": stream_id}):
            close = self._end_request(stream_id, slot)
        if close:
            self.close()
        return close

    # ------------------------------------------------------------------ lifecycle

    def _mark_closed(self) -> bool:
        """Set the state to CLOSED; False if it already was."""
        with self._lock:
            if self._state is CLOSED:
                return False
            self._state = CLOSED
            self._wake_slot_waiters()
            return True

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

    def can_multiplex(self) -> bool:
        """True: HTTP/2 carries concurrent requests (httpcore2's method)."""
        return True

    def is_connected(self) -> bool:
        """True while the network stream is open: from creation (the stream is already
        connected) until :meth:`close` (httpcore2's method)."""
        return self._state is not CLOSED

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
            self.close()
            raise

    def close(self) -> None:
        """End the stream (reset it if the body was not read to its end) and free its
        place on the connection. A cancellation while the RST_STREAM is being written
        leaves it to the connection's next write."""
        if self._closed:
            return
        self._closed = True
        connection = self._connection
        stream_id = self._stream_id
        if self._tracing:
            close = ShieldCancellation.run(
                connection._end_request_traced, self._request, stream_id, True
            )
        else:
            close = connection._end_request(stream_id, True)
            if close:
                ShieldCancellation.run(connection.close)
        if not close:
            connection._send_soon(_write_timeout(self._request))

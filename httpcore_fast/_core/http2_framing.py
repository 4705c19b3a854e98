"""The HTTP/2 framing layer under :mod:`.http2`: what the connection core asks of it
(:class:`Framing`), and its implementation on the ``h2`` library (:class:`H2Framing`).

The framing layer turns bytes into events and requests into bytes: frames (RFC 9113 §4,
§6), HPACK (RFC 7541), stream states (§5.1), flow-control windows (§5.2) and SETTINGS.
The core (:class:`.http2.HTTP2Core`) holds every rule of ours above it (stream table,
slot scheduler, GOAWAY and REFUSED_STREAM, limits) and talks to the framing layer only
through :class:`Framing`, so a second implementation (a native one, with h2 as its pure
twin) can replace :class:`H2Framing` without touching the core.

Private parts of h2 and hpack used here (see :func:`check_h2_hooks`) are checked once per
process before first use (:func:`h2_hooks`); a feature whose hook has gone falls back to
plain h2/hpack behaviour with one ``RuntimeWarning``. Never generated, never awaits.

The native layer (``httpcore_fast._h2_c``, issue 16) goes with the Cython kernel: while it
is active, new connections get ``_h2_c.CFraming`` (frames, state machines and HPACK in
Cython: h2's twin, see :func:`native_framing`); with the Python kernel
(``HTTPCORE_FAST_NO_EXTENSIONS=1``, PyPy, or ``set_kernel("python")``) they get h2 and
hpack, so the one switch selects both layers. ``HTTPCORE_FAST_H2_NATIVE=h2`` (or ``0``)
keeps h2 with the Cython kernel; ``HTTPCORE_FAST_H2_NATIVE=hpack`` keeps h2's state
machine with the native HPACK coders (:func:`native_codec`). :func:`h2_layer` says which
layer new connections get.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import threading
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

from .._kernel import NO_EXTENSIONS, kernel_name
from .http2_hpack import (
    DECODED_HEADER_LIST_FACTOR,
    PROBE_FIELDS,
    Decoder,
    Encoder,
    LimitDecoder,
    missing_hpack_hook,
)

__all__ = [
    "CONFIG",
    "DATA",
    "ENDED",
    "GOAWAY",
    "INFORMATIONAL",
    "NATIVE_ENV",
    "RESET",
    "RESPONSE",
    "SETTINGS",
    "TRAILERS",
    "Framing",
    "FramingError",
    "H2Framing",
    "H2GoawayFraming",
    "Hooks",
    "NoAvailableStreamIDError",
    "StreamClosedError",
    "check_h2_hooks",
    "check_h2_hooks_once",
    "h2_hooks",
    "h2_layer",
    "native_codec",
    "native_framing",
]

# ------------------------------------------------------------------ the interface

# Event kinds: ``Framing.EVENT_KINDS[type(event)]`` for each event ``receive_data``
# returns (a type it does not list is of no interest to the core). The attributes each
# kind has:
#
#   RESPONSE, INFORMATIONAL, TRAILERS  ``stream_id``, ``headers``: the decoded header
#                                      block, ``[(name, value), ...]`` of bytes
#   DATA                               ``stream_id``, ``data`` (bytes),
#                                      ``flow_controlled_length`` (int, padding included)
#   ENDED                              ``stream_id``: the peer's END_STREAM
#   RESET                              ``stream_id``, ``error_code`` (int): RST_STREAM
#   SETTINGS                           the peer's SETTINGS took effect
#   GOAWAY                             ``last_stream_id`` (int), ``error_code`` (int)
RESPONSE = 1
INFORMATIONAL = 2
DATA = 3
ENDED = 4
RESET = 5
TRAILERS = 6
SETTINGS = 7
GOAWAY = 8

# Exceptions of the interface (a second implementation raises these classes).
FramingError = h2.exceptions.ProtocolError
"""A protocol error: raised by ``receive_data`` for the peer's (a GOAWAY is then queued),
by the send methods for a misuse of ours."""
StreamClosedError = h2.exceptions.StreamClosedError
"""A ``FramingError``: the stream is closed (RFC 9113 §5.1)."""
NoAvailableStreamIDError = h2.exceptions.NoAvailableStreamIDError
"""A ``FramingError``: every client stream identifier has been used (RFC 9113 §5.1.1)."""


class Framing(typing.Protocol):
    """What the HTTP/2 core asks of its framing layer: feed bytes, get events; queue
    frames, take the bytes to write; read the flow-control windows and the settings.

    Stream identifiers are ints; header lists are ``[(name, value), ...]`` of bytes (the
    core sends them lowercase, pseudo-header fields first, validated: the framing layer
    need not check or normalise them; an ``hpack.NeverIndexedHeaderTuple`` is coded as a
    never-indexed literal, RFC 7541 §6.2.3). Calls are serialised by the caller."""

    EVENT_KINDS: typing.ClassVar[typing.Mapping[type, int]]

    def start(
        self, *, max_concurrent_streams: int, max_header_list_size: int, window: int
    ) -> None:
        """Queue the client connection preface (RFC 9113 §3.4) with SETTINGS: no push,
        these limits, ``window`` as every stream's initial receive window, and a
        WINDOW_UPDATE raising the connection's window by ``window``. The limits apply
        at once (the peer's acknowledgement is not awaited)."""
        ...

    def receive_data(self, data: bytes) -> list[typing.Any]:
        """Feed bytes read from the peer; returns the events they complete, in order.
        Raises ``FramingError`` for a protocol error (a GOAWAY is queued)."""
        ...

    def get_buffer(self, size: int) -> memoryview:
        """A writable view of ``size`` bytes to receive the peer's bytes into (then
        :meth:`buffer_updated`), valid until the next call of a receiving method."""
        ...

    def buffer_updated(self, nbytes: int) -> list[typing.Any]:
        """``nbytes`` (at least 1) were written at the start of the last
        :meth:`get_buffer` view: feed them as :meth:`receive_data` does. Raises
        ``ValueError`` for a count beyond the view."""
        ...

    def send_headers(
        self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool = False
    ) -> None:
        """Open ``stream_id`` with a HEADERS frame (and CONTINUATIONs)."""
        ...

    def send_data(self, stream_id: int, data: bytes) -> None:
        """Queue DATA within the flow-control windows and the frame size."""
        ...

    def end_stream(self, stream_id: int) -> None:
        """Queue END_STREAM (an empty DATA frame)."""
        ...

    def reset_stream(self, stream_id: int, error_code: int = 0) -> None:
        """Queue RST_STREAM; raises ``StreamClosedError`` if the stream is closed."""
        ...

    def acknowledge_received_data(self, acknowledged_size: int, stream_id: int) -> None:
        """Hand back the credit of ``acknowledged_size`` flow-controlled bytes of the
        stream (and the connection), queueing WINDOW_UPDATE frames when due."""
        ...

    def get_next_available_stream_id(self) -> int:
        """The next client stream identifier; raises ``NoAvailableStreamIDError``."""
        ...

    def local_flow_control_window(self, stream_id: int) -> int:
        """Bytes of DATA that may be sent on the stream now; raises
        ``StreamClosedError`` if it is closed."""
        ...

    @property
    def max_outbound_frame_size(self) -> int:
        """The largest DATA payload the peer accepts in one frame."""
        ...

    def concurrent_streams_limit(self) -> int:
        """min(the peer's, our) SETTINGS_MAX_CONCURRENT_STREAMS."""
        ...

    def has_output(self) -> bool:
        """True if frames may be queued (``data_to_send()`` may return bytes)."""
        ...

    def data_to_send(self) -> bytes:
        """Take every queued byte."""
        ...

    def resync_hpack(self) -> None:
        """Start the next header block with two dynamic table size updates (0, then
        the current size): both HPACK tables are then empty (RFC 7541 §4.2, §6.3).
        Nothing if a size update is already pending."""
        ...


# ------------------------------------------------------------------ h2

# Client side. Outbound headers are neither validated nor normalised by h2: the core
# validates the request fields with the kernel and builds the HTTP/2 list (lowercase
# names, pseudo-header fields first, no connection-specific fields, credentials never
# indexed). Inbound header validation off, as in httpcore: the core checks the response
# fields instead.
CONFIG: h2.config.H2Configuration = h2.config.H2Configuration(
    validate_inbound_headers=False,
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
)


class H2Framing(h2.connection.H2Connection):
    """:class:`Framing` on h2's connection state machine, with the HPACK coders and the
    output check chosen by :func:`check_h2_hooks` (GOAWAY handled as h2 does)."""

    EVENT_KINDS: typing.ClassVar[typing.Mapping[type, int]] = {
        h2.events.ResponseReceived: RESPONSE,
        h2.events.InformationalResponseReceived: INFORMATIONAL,
        h2.events.DataReceived: DATA,
        h2.events.StreamEnded: ENDED,
        h2.events.StreamReset: RESET,
        h2.events.TrailersReceived: TRAILERS,
        h2.events.RemoteSettingsChanged: SETTINGS,
        h2.events.ConnectionTerminated: GOAWAY,
    }

    def __init__(
        self,
        config: h2.config.H2Configuration = CONFIG,
        codec: tuple[typing.Callable[[], typing.Any], typing.Callable[[], typing.Any]]
        | None = None,
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

    def start(
        self, *, max_concurrent_streams: int, max_header_list_size: int, window: int
    ) -> None:
        codes = h2.settings.SettingCodes
        self.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.MAX_CONCURRENT_STREAMS: max_concurrent_streams,
                codes.MAX_HEADER_LIST_SIZE: max_header_list_size,
                codes.INITIAL_WINDOW_SIZE: window,
            },
        )
        # Some servers reject this setting (RFC 8441) in a client's preface.
        del self.local_settings[codes.ENABLE_CONNECT_PROTOCOL]
        # Initial values take effect at once, unacknowledged: h2 leaves its decoder at
        # its default size, so it is told here.
        decoder = getattr(self, "decoder", None)
        if decoder is not None:
            decoder.max_header_list_size = max_header_list_size
        self.initiate_connection()
        self.increment_flow_control_window(window)

    _scratch: memoryview | None = None
    _view_size = 0

    def get_buffer(self, size: int) -> memoryview:
        size = max(size, 1)
        scratch = self._scratch
        if scratch is None or not size <= len(scratch) <= 4 * max(size, 16384):
            scratch = self._scratch = memoryview(bytearray(size))
        self._view_size = size
        return scratch[:size]

    def buffer_updated(self, nbytes: int) -> list[typing.Any]:
        if self._scratch is None or not 0 < nbytes <= self._view_size:
            raise ValueError(
                f"buffer_updated({nbytes}): not within the last get_buffer() view "
                f"({self._view_size} bytes)"
            )
        self._view_size = 0
        return self.receive_data(self._scratch[:nbytes].tobytes())

    def concurrent_streams_limit(self) -> int:
        return min(
            self.remote_settings.max_concurrent_streams,
            self.local_settings.max_concurrent_streams,
        )

    def has_output(self) -> bool:
        """True if frames may wait to be written (``data_to_send()`` would return bytes;
        always True without the ``_data_to_send`` hook)."""
        return bool(self._data_to_send) if self._peek else True

    def resync_hpack(self) -> None:
        encoder = self.encoder
        size = encoder.header_table_size
        pending = getattr(encoder, "size_update_pending", None)  # the native encoder's
        if pending is None:
            pending = getattr(encoder.header_table, "resized", True) is not False
        if size and not pending:
            encoder.header_table_size = 0
            encoder.header_table_size = size


class H2GoawayFraming(H2Framing):
    """:class:`H2Framing`, except for a received GOAWAY.

    h2 closes its state machine on GOAWAY and then rejects every later frame, so the
    streams the server promised to finish (up to ``last_stream_id``, RFC 9113 §6.8) could
    not be read. Here a GOAWAY only produces its ``ConnectionTerminated`` event; the
    core stops opening streams itself.
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


# ------------------------------------------------------------------ native layer

NATIVE_ENV = "HTTPCORE_FAST_H2_NATIVE"
"""Unset (or any other value): the native HTTP/2 layer with the Cython kernel; ``h2`` or
``0``: h2 and hpack; ``hpack``: h2 with the native HPACK coders (read for each new
connection)."""
_H2_ONLY = frozenset({"h2", "0"})


@functools.lru_cache(maxsize=None)
def _native_module() -> types.ModuleType | None:
    if NO_EXTENSIONS:
        return None
    try:
        return importlib.import_module("httpcore_fast._h2_c")
    except ImportError:  # pragma: no cover - depends on the build
        return None


def _native(choice: str) -> types.ModuleType | None:
    """``_h2_c`` if ``HTTPCORE_FAST_H2_NATIVE`` asks for ``choice`` ("framing" or
    "hpack"), the Cython kernel is active and the module is built."""
    value = os.environ.get(NATIVE_ENV, "")
    if value in _H2_ONLY or ("hpack" if value == "hpack" else "framing") != choice:
        return None
    if kernel_name() != "cython":
        return None
    return _native_module()


def native_framing() -> typing.Callable[[], typing.Any] | None:
    """The native framing layer's class (``_h2_c.CFraming``, a :class:`Framing`) when
    new connections use it: ``HTTPCORE_FAST_H2_NATIVE`` not ``h2``/``0``/``hpack``, the
    Cython kernel active (not ``HTTPCORE_FAST_NO_EXTENSIONS``) and
    ``httpcore_fast._h2_c`` built; else None."""
    module = _native("framing")
    return None if module is None else typing.cast(
        typing.Callable[[], typing.Any], module.CFraming
    )


def native_codec() -> (
    tuple[typing.Callable[[], typing.Any], typing.Callable[[], typing.Any]] | None
):
    """The native HPACK coders' factories ``(encoder, decoder)`` when new connections
    use them with h2: ``HTTPCORE_FAST_H2_NATIVE=hpack``, the Cython kernel active (not
    ``HTTPCORE_FAST_NO_EXTENSIONS``) and ``httpcore_fast._h2_c`` built; else None. The
    decoder decodes up to ``DECODED_HEADER_LIST_FACTOR`` times the advertised list size,
    as :class:`.http2_hpack.LimitDecoder` does."""
    module = _native("hpack")
    if module is None:
        return None
    return module.Encoder, functools.partial(
        module.Decoder, list_size_factor=DECODED_HEADER_LIST_FACTOR
    )


def h2_layer() -> str:
    """Which HTTP/2 layer new connections get: ``"native"`` (``_h2_c.CFraming``),
    ``"native-hpack"`` (h2's state machine, native HPACK coders) or ``"h2"``."""
    if native_framing() is not None:
        return "native"
    codec = h2_hooks().codec
    return "native-hpack" if codec is not None and native_codec() else "h2"


# ------------------------------------------------------------------ hooks


class Hooks(typing.NamedTuple):
    """What :func:`check_h2_hooks` found usable: the framing class (with or without the
    GOAWAY override), the HPACK encoder/decoder classes (None: h2's own) and whether
    ``_data_to_send`` can be peeked at."""

    state_class: type[H2Framing]
    codec: tuple[type[hpack.Encoder], type[hpack.Decoder]] | None
    peek: bool

    def new_state(self, config: h2.config.H2Configuration = CONFIG) -> typing.Any:
        """A new framing layer for one connection (a :class:`Framing`): the native one
        if selected (:func:`native_framing`; ``config`` is then :data:`CONFIG`'s; its
        ``coalesce_data`` on), else
        this state class, with the native HPACK coders if selected and h2's coders
        replaceable (:func:`native_codec`), else ``codec``."""
        framing = native_framing()
        if framing is not None:
            state = framing()
            # One event per stream and receive for DATA frames that follow one another
            # (the core joins h2's, one per frame, as it takes them: the same body).
            state.coalesce_data = True
            return state
        codec: typing.Any = self.codec
        if codec is not None:
            codec = native_codec() or codec
        return self.state_class(config, codec, self.peek)


# Frames for the GOAWAY probe (RFC 9113 §6.5, §6.8, §6.7): an empty SETTINGS, a GOAWAY
# with last_stream_id 1 and NO_ERROR, a PING.
_PROBE_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_PROBE_GOAWAY = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + b"\x00\x00\x00\x01" + b"\x00" * 4
_PROBE_PING = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"hcfprobe"


def _version(module: types.ModuleType) -> str:
    return str(getattr(module, "__version__", "unknown"))


def missing_goaway_hook(config: h2.config.H2Configuration = CONFIG) -> str | None:
    """None if h2 still calls ``H2Connection._receive_goaway_frame(frame)`` for a GOAWAY
    and our override keeps the connection readable; else what is missing."""
    method = getattr(h2.connection.H2Connection, "_receive_goaway_frame", None)
    if not inspect.isfunction(method):
        return "the method H2Connection._receive_goaway_frame"
    if len(inspect.signature(method).parameters) != 2:
        return "the signature H2Connection._receive_goaway_frame(self, frame)"
    try:
        state = H2GoawayFraming(config)
        state.initiate_connection()
        state.send_headers(1, PROBE_FIELDS, end_stream=True)
        events = state.receive_data(_PROBE_SETTINGS + _PROBE_GOAWAY)
        if not any(type(e) is h2.events.ConnectionTerminated for e in events):
            raise AssertionError("no ConnectionTerminated")
        state.receive_data(_PROBE_PING)  # plain h2 refuses frames after a GOAWAY
    except Exception:
        return "the call of H2Connection._receive_goaway_frame for each GOAWAY frame"
    return None


def missing_peek_hook(config: h2.config.H2Configuration = CONFIG) -> str | None:
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


def missing_codec_hook(config: h2.config.H2Configuration = CONFIG) -> str | None:
    """None if h2 codes header blocks with its ``encoder`` and ``decoder`` attributes
    (hpack ``Encoder`` and ``Decoder`` instances we can replace)."""
    state = h2.connection.H2Connection(config=config)
    for name, kind in (("encoder", hpack.Encoder), ("decoder", hpack.Decoder)):
        if not isinstance(vars(state).get(name), kind):
            return f"the attribute H2Connection.{name} (an hpack.{kind.__name__})"
    if not isinstance(getattr(state.decoder, "max_header_list_size", None), int):
        return "the attribute hpack.Decoder.max_header_list_size"
    return None


def check_h2_hooks(stacklevel: int = 2) -> Hooks:
    """Check the h2/hpack hooks with the installed versions (no cache: the caller
    keeps the result for the process); a missing one turns its feature off, with one
    ``RuntimeWarning`` each (``stacklevel`` as for ``warnings.warn``, counted from the
    caller of this function).

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
    goaway = missing_goaway_hook()
    peek = missing_peek_hook()
    codec_hook = missing_codec_hook()
    hpack_hook = None if codec_hook else missing_hpack_hook()
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
                stacklevel=stacklevel + 1,
            )
    codec: tuple[type[hpack.Encoder], type[hpack.Decoder]] | None
    if codec_hook is not None:
        codec = None
    elif hpack_hook is not None:
        codec = (hpack.Encoder, LimitDecoder)
    else:
        codec = (Encoder, Decoder)
    return Hooks(
        state_class=H2Framing if goaway else H2GoawayFraming, codec=codec, peek=peek is None
    )


_hooks_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def check_h2_hooks_once() -> Hooks:
    """:func:`check_h2_hooks`, cached: call :func:`h2_hooks` (which serialises the first
    check); ``check_h2_hooks_once.cache_clear()`` makes the next call check again."""
    return check_h2_hooks(stacklevel=3)  # warns where the first HTTP/2 connection is made


def h2_hooks() -> Hooks:
    """The hooks of the installed h2/hpack, checked once per process: the first call
    checks (and warns), later calls return its answer; threads making their first
    connections at once check once."""
    with _hooks_lock:
        return check_h2_hooks_once()

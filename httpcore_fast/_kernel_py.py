"""The pure-Python HTTP/1.1 kernel: the reference implementation and the fallback.

The contract (names, semantics, error rules and their order) is ``docs/kernel.md``;
``_ext/_kernel_c.pyx`` implements the same contract in Cython with the same check order, so
that both give the same results and the same exception type and message for every input
and every split of it into reads.
"""

from __future__ import annotations

import re
import typing
from operator import index as _index

from ._exceptions import LocalProtocolError, RemoteProtocolError

__all__ = [
    "KERNEL_NAME",
    "MAX_CHUNK_SIZE_LINE",
    "MAX_FIELD_COUNT",
    "MAX_FIELD_LINE_SIZE",
    "MAX_HEAD_SIZE",
    "MAX_INFORMATIONAL",
    "MAX_STATUS_LINE_SIZE",
    "MAX_TRAILER_SIZE",
    "MAX_VIEW_SIZE",
    "ResponseParser",
    "serialize_request_head",
    "validate_request_fields",
]

KERNEL_NAME = "python"

# httpcore 1.0.9 runs h11 with max_incomplete_event_size=102400 and reads at most 65536
# bytes at a time. h11 rejects a head (or chunk-size line, or trailer section) only when
# more than 102400 of its bytes are buffered and it is still incomplete, so the largest
# section h11 accepts under httpcore is 102400 + 65536 bytes (when the read that completes
# it starts at byte 102400). Our limits do not depend on how the bytes are split, so the
# default size limits are that sum: whatever h11 accepts under httpcore is accepted here,
# and nothing larger is ever buffered. docs/kernel.md, "Limits", has the exact rule.
HTTPCORE_MAX_INCOMPLETE_EVENT_SIZE = 102400
HTTPCORE_READ_NUM_BYTES = 65536
MAX_HEAD_SIZE = HTTPCORE_MAX_INCOMPLETE_EVENT_SIZE + HTTPCORE_READ_NUM_BYTES  # 167936
MAX_STATUS_LINE_SIZE = MAX_HEAD_SIZE
MAX_FIELD_LINE_SIZE = MAX_HEAD_SIZE
# h11 does not count field lines; a field line is at least 3 bytes ("a:" LF), so a head
# within MAX_HEAD_SIZE never has this many.
MAX_FIELD_COUNT = MAX_HEAD_SIZE // 3  # 55978
MAX_CHUNK_SIZE_LINE = MAX_HEAD_SIZE
MAX_TRAILER_SIZE = MAX_HEAD_SIZE
MAX_INFORMATIONAL = 100
# get_buffer() hands out at most this many bytes, whatever the size hint (16 MiB).
MAX_VIEW_SIZE = 1 << 24

# RFC 9110 §5.6.2 tchar.
_TCHAR = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Bytes allowed in a request field value (h11's rule): HTAB, SP, VCHAR, obs-text.
_VALUE_BYTES = bytes([0x09]) + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
# Bytes allowed in a request target: 0x21-0x7E.
_TARGET_BYTES = bytes(range(0x21, 0x7F))
# Control bytes forbidden in a response head once CRLF/LF terminators are removed
# (CTL other than HTAB, and DEL; CR appears here only as a bare CR).
_CTL_RE = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
_HEXDIGITS_RE = re.compile(rb"[0-9A-Fa-f]*")
# The common chunk-size line (digits only), matched in place in the receive buffer.
_PLAIN_CHUNK_LINE_RE = re.compile(rb"([0-9A-Fa-f]{1,15})\r\n")
# A LF that is not the end of a CRLF (chunked framing allows CRLF only).
_BARE_LF_RE = re.compile(rb"(?<!\r)\n")
_HEXVAL = {c: int(chr(c), 16) for c in b"0123456789abcdefABCDEF"}
_OWS = b" \t"

_HTTP11 = b"HTTP/1.1"
_HTTP10 = b"HTTP/1.0"

# Parser states.
_IDLE, _HEAD, _BODY, _DONE = 0, 1, 2, 3
# Body framings.
_NONE, _LENGTH, _CHUNKED, _CLOSE = 0, 1, 2, 3
# Chunked sub-states.
_CH_SIZE, _CH_DATA, _CH_CRLF, _CH_TRAILER = 0, 1, 2, 3

_MIN_CAPACITY = 4096
_EXCERPT = 64  # bytes of wire data quoted in error messages
_UNEXPECTED_101 = "Received 101 Switching Protocols without a pending Upgrade proposal"


def _decimal(item: bytes) -> int:
    """``1*18DIGIT`` -> its value; anything else -> -1 (explicit digits: no ``int()``)."""
    if not 0 < len(item) <= 18 or not item.isdigit():  # bytes.isdigit is ASCII-only
        return -1
    value = 0
    for c in item:
        value = value * 10 + (c - 48)
    return value


def _has_close_token(value: bytes) -> bool:
    """True if the comma-separated list ``value`` has the token ``close`` (any case)."""
    lowered = value.lower()
    if b"close" not in lowered:
        return False
    for item in lowered.split(b","):
        if item.strip(_OWS) == b"close":
            return True
    return False


# --------------------------------------------------------------------------------------
# Request side


def _header_pair(item: typing.Any) -> tuple[typing.Any, ...]:
    """One header item as a tuple, taken once (``tuple(item)``: one ``__iter__`` call, so
    an item that changes between looks cannot make the kernels disagree or overflow).
    Raises ``ValueError`` unless it has exactly 2 elements; ``TypeError`` (from ``tuple``)
    if it is not iterable. Shared by both kernels' ``serialize_request_head``."""
    pair = tuple(item)
    if len(pair) != 2:
        raise ValueError(f"a header must be a (name, value) pair, not {len(pair)} items")
    return pair


def serialize_request_head(
    method: bytes, target: bytes, headers: typing.Iterable[typing.Sequence[bytes]]
) -> tuple[bytes, int, bool, bool]:
    """Validate and serialise a request head in one pass (RFC 9112 §3, §5; RFC 9110 §5.6.2).

    ``method``, ``target``: bytes; ``headers``: ``[(name, value), ...]`` of bytes, names
    in the caller's case (any iterable of 2-item iterables; each is looked at once).
    Returns ``(head, body_length, close, upgrade)``: the head as bytes (request
    line, the ``Host`` field moved first, one ``name: value`` line per field, the empty
    line); ``body_length``: the declared Content-Length, ``-1`` for ``Transfer-Encoding:
    chunked`` (RFC 9112 §7.1), ``0`` if neither; ``close``: a ``Connection: close`` token
    was given (RFC 9112 §9.6); ``upgrade``: an ``Upgrade`` field lists at least one
    protocol, i.e. the request proposes an upgrade that a ``101`` may accept (RFC 9110
    §7.8; an empty list is no proposal, as in h11).

    Raises ``LocalProtocolError`` (nothing is produced) for a method that is not a token,
    a target with bytes outside 0x21-0x7E, a field name that is not a token, a field value
    with CR, LF, NUL or other control bytes or surrounding whitespace, a missing or repeated
    ``Host``, a malformed or conflicting Content-Length, a Transfer-Encoding other than
    ``chunked``, or both framing fields; ``TypeError`` for a method, target, name or value
    that is not exactly ``bytes`` (subclasses included); ``ValueError`` for a header item
    that is not a pair. The full rules and messages: docs/kernel.md.
    """
    return _request_head(method, target, headers, True)


def validate_request_fields(
    method: bytes, target: bytes, headers: typing.Iterable[typing.Sequence[bytes]]
) -> tuple[int, bool, bool]:
    """:func:`serialize_request_head`'s checks without building the head (HTTP/2 sends
    the fields in HEADERS frames): returns ``(body_length, close, upgrade)`` and raises
    exactly what :func:`serialize_request_head` raises for the same arguments (same
    checks, same order, same messages; docs/kernel.md)."""
    _, body_length, close, upgrade = _request_head(method, target, headers, False)
    return body_length, close, upgrade


def _request_head(
    method: bytes, target: bytes, headers: typing.Iterable[typing.Sequence[bytes]], build: bool
) -> tuple[bytes, int, bool, bool]:
    """The checks of both request entries, in their order; the head is built only if
    ``build`` (else ``b""`` is returned in its place)."""
    if type(method) is not bytes or type(target) is not bytes:
        raise TypeError("method and target must be bytes")
    if not method or method.translate(None, _TCHAR):
        raise LocalProtocolError(f"Illegal method {method!r}")
    if not target or target.translate(None, _TARGET_BYTES):
        raise LocalProtocolError(f"Illegal target {target!r}")
    parts = [method, b" ", target, b" HTTP/1.1\r\n"]
    host_line: list[bytes] = []
    host_seen = False
    content_length = -1
    chunked = False
    close = False
    upgrade = False
    for pair in headers:
        if type(pair) is not tuple or len(pair) != 2:
            pair = _header_pair(pair)
        name, value = pair
        if type(name) is not bytes or type(value) is not bytes:
            raise TypeError("header names and values must be bytes")
        if not name or name.translate(None, _TCHAR):
            raise LocalProtocolError(f"Illegal header name {name!r}")
        if value and (
            value.translate(None, _VALUE_BYTES)
            or value[0] in b" \t"
            or value[-1] in b" \t"
        ):
            raise LocalProtocolError(f"Illegal header value {value!r}")
        size = len(name)
        if size == 4 or size == 7 or size == 10 or size == 14 or size == 17:
            lname = name.lower()
            if lname == b"host":
                if host_seen:
                    raise LocalProtocolError("Multiple Host: headers")
                host_seen = True
                if build:
                    host_line = [name, b": ", value, b"\r\n"]
                continue
            if lname == b"content-length":
                for item in value.split(b","):
                    length = _decimal(item.strip(_OWS))
                    if length < 0:
                        raise LocalProtocolError(f"Invalid Content-Length {value!r}")
                    if content_length >= 0 and length != content_length:
                        raise LocalProtocolError("Conflicting Content-Length headers")
                    content_length = length
            elif lname == b"transfer-encoding":
                if value.strip(_OWS).lower() != b"chunked":
                    raise LocalProtocolError(f"Unsupported Transfer-Encoding {value!r}")
                if chunked:
                    raise LocalProtocolError("Multiple Transfer-Encoding headers")
                chunked = True
            elif lname == b"connection" and not close:
                close = _has_close_token(value)
            elif lname == b"upgrade" and not upgrade:
                upgrade = any(item.strip(_OWS) for item in value.split(b","))
        if build:
            parts += (name, b": ", value, b"\r\n")
    if not host_seen:
        raise LocalProtocolError("Missing mandatory Host: header")
    if chunked and content_length >= 0:
        raise LocalProtocolError("Content-Length and Transfer-Encoding both set")
    body_length = -1 if chunked else (content_length if content_length >= 0 else 0)
    if not build:
        return b"", body_length, close, upgrade
    parts[4:4] = host_line
    parts.append(b"\r\n")
    return b"".join(parts), body_length, close, upgrade


# --------------------------------------------------------------------------------------
# Response side


def _check_section(section: bytes, what: str) -> list[bytes]:
    """Reject bare CR, then (trailers only) bare LF, then control bytes; return the lines
    (terminators removed).

    ``section`` ends with its empty line; the returned list excludes it. ``what`` is
    ``"response head"`` (bare LF terminators allowed, as h11 does: RFC 9112 §2.2 MAY) or
    ``"trailer section"`` (CRLF only: RFC 9112 §7.1.2).
    """
    has_cr = b"\r" in section
    if has_cr and section.count(b"\r") != section.count(b"\r\n"):
        raise RemoteProtocolError(f"bare CR in {what}")
    if what == "trailer section":
        bare = _BARE_LF_RE.search(section)
        if bare is not None:
            if bare.start() == len(section) - 1:
                raise RemoteProtocolError("bare LF ending the trailer section")
            raise RemoteProtocolError("bare LF ending a trailer field line")
    if has_cr:
        section = section.replace(b"\r\n", b"\n")
    bad = _CTL_RE.search(section)
    if bad is not None:
        pos = bad.start()
        where = "status line" if what == "response head" and b"\n" not in section[:pos] else "field line"
        raise RemoteProtocolError(f"invalid control byte 0x{section[pos]:02x} in {where}")
    lines = section.split(b"\n")
    del lines[-2:]
    return lines


def _byte_view(data: typing.Any) -> memoryview:
    """``data`` (any bytes-like object) as a flat view of its bytes, so sizes count bytes,
    not items (an ``array('i')`` of 2 items is 8 bytes). Raises ``TypeError`` for an object
    without the buffer protocol, ``ValueError`` for a non-contiguous one. Shared by both
    kernels' ``feed()``."""
    view = memoryview(data)
    if not view.c_contiguous:
        raise ValueError("feed() needs a contiguous bytes-like object")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


class ResponseParser:
    """Parses the responses of one connection, one after the other (keep-alive).

    Keyword arguments (ints >= 0, bytes unless said otherwise): ``max_status_line_size``,
    ``max_field_line_size``, ``max_head_size``, ``max_field_count`` (field lines),
    ``max_chunk_size_line``, ``max_trailer_size``, ``max_informational`` (1xx responses
    skipped); exceeding one raises ``RemoteProtocolError`` naming it. ``ValueError`` for a
    negative limit.

    Bytes go in through ``get_buffer()`` / ``buffer_updated(n)`` (``recv_into`` its own
    buffer) or ``feed(data)``; ``0`` / ``b""`` means end of stream. Per request:
    ``start_response(head_request, connect_request, upgrade_request=False)``, then
    ``receive_head()`` (None until the whole head is in; then ``(http_version,
    status_code, reason_phrase, headers)``), then ``receive_body()`` (body bytes, ``b""``
    at the end of the message, None when more bytes are needed), framed as RFC 9112 §6.3
    says; ``trailers``, ``keep_alive`` and ``pending()`` tell what the connection may do
    next. Malformed or hostile input raises ``RemoteProtocolError`` (RFC 9112 §2.2, §4,
    §5, §6, §7.1, §11); the parser then stays failed. The Cython kernel
    (``httpcore_fast._kernel_c``) behaves identically. The full contract: docs/kernel.md.
    """

    __slots__ = (
        "_buf", "_mv", "_start", "_end", "_view_size", "_view_at", "_eof", "_error",
        "_state", "_scan", "_informational", "_head_request", "_connect_request",
        "_upgrade_request", "_framing", "_remaining", "_received", "_chunk_state",
        "keep_alive", "trailers",
        "_max_status_line", "_max_field_line", "_max_head", "_max_field_count",
        "_max_chunk_line", "_max_trailer", "_max_informational",
    )  # fmt: skip

    def __init__(
        self,
        *,
        max_status_line_size: int = MAX_STATUS_LINE_SIZE,
        max_field_line_size: int = MAX_FIELD_LINE_SIZE,
        max_head_size: int = MAX_HEAD_SIZE,
        max_field_count: int = MAX_FIELD_COUNT,
        max_chunk_size_line: int = MAX_CHUNK_SIZE_LINE,
        max_trailer_size: int = MAX_TRAILER_SIZE,
        max_informational: int = MAX_INFORMATIONAL,
    ) -> None:
        limits = (
            max_status_line_size, max_field_line_size, max_head_size, max_field_count,
            max_chunk_size_line, max_trailer_size, max_informational,
        )  # fmt: skip
        for value in limits:
            if _index(value) < 0:
                raise ValueError("parser limits must be >= 0")
        (
            self._max_status_line, self._max_field_line, self._max_head,
            self._max_field_count, self._max_chunk_line, self._max_trailer,
            self._max_informational,
        ) = (_index(value) for value in limits)  # fmt: skip
        self._buf = bytearray()
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._view_size = 0
        self._view_at = 0
        self._eof = False
        self._error: RemoteProtocolError | None = None
        self._state = _IDLE
        self._scan = 0
        self._informational = 0
        self._head_request = False
        self._connect_request = False
        self._upgrade_request = False
        self._framing = _NONE
        self._remaining = 0
        self._received = 0
        self._chunk_state = _CH_SIZE
        self.keep_alive = True
        self.trailers: list[tuple[bytes, bytes]] = []

    # ---------------------------------------------------------------- receive buffer

    def _check_error(self) -> None:
        if self._error is not None:
            raise RemoteProtocolError(str(self._error))

    def _reserve(self, size: int) -> None:
        """Make room for ``size`` more bytes after ``_end`` (amortised O(1) per byte)."""
        capacity = len(self._buf)
        if capacity - self._end >= size:
            return
        start = self._start
        used = self._end - start
        if start >= used and used + size <= capacity:
            # Compact in place (same-size slice assignment: no resize). The copy costs
            # at most the bytes consumed since the last compaction.
            self._buf[:used] = self._mv[start : self._end]
        else:
            new = bytearray(max(2 * capacity, used + size, _MIN_CAPACITY))
            new[:used] = self._mv[start : self._end]
            self._buf = new
            self._mv = memoryview(new)
        self._start = 0
        self._end = used

    def _consume(self, size: int) -> None:
        self._start += size
        if self._start == self._end:
            self._start = self._end = 0

    def get_buffer(self, size_hint: int = 65536) -> memoryview:
        """A writable view of free bytes at the buffer's end, for ``recv_into``.

        ``size_hint``: an int (``__index__``); the view has ``size_hint`` bytes, at least 1
        and at most ``MAX_VIEW_SIZE``. New storage is zero-filled; the view may show bytes
        this parser received earlier. Report what was written with ``buffer_updated()``
        before any other call. Raises ``RuntimeError`` after EOF, ``TypeError`` for a
        non-integer hint.
        """
        self._check_error()
        if self._eof:
            raise RuntimeError("get_buffer() called after EOF")
        size = _index(size_hint)
        if size < 1:
            size = 1
        elif size > MAX_VIEW_SIZE:
            size = MAX_VIEW_SIZE
        self._reserve(size)
        self._view_size = size
        self._view_at = self._end
        return self._mv[self._end : self._end + size]

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were written at the start of the last view; 0 means EOF.

        Raises ``ValueError`` unless ``0 < nbytes <= len(view)`` for a view of the last
        ``get_buffer()`` call that was not reported yet and is still at the buffer's end
        (``feed()``, ``take_pending()`` or consuming every buffered byte moves the end);
        ``RuntimeError`` for data after EOF.
        """
        self._check_error()
        nbytes = _index(nbytes)
        if nbytes == 0:
            self._eof = True
            self._view_size = 0
            return
        if self._eof:
            raise RuntimeError("buffer_updated() called after EOF")
        view = self._view_size
        if view == 0 or self._view_at != self._end:
            raise ValueError("buffer_updated(): no get_buffer() view to report")
        if not 0 < nbytes <= view:
            raise ValueError(
                f"buffer_updated(): nbytes must be 0 (EOF) or 1 to {view}, "
                "the size of the last get_buffer() view"
            )
        self._end += nbytes
        self._view_size = 0

    def feed(self, data: bytes) -> None:
        """Append ``data`` to the receive buffer; ``b""`` means EOF."""
        self._check_error()
        if type(data) is not bytes:
            data = _byte_view(data)  # type: ignore[assignment]
        size = len(data)
        if size == 0:
            self._eof = True
            return
        if self._eof:
            raise RuntimeError("feed() called after EOF")
        self._reserve(size)
        end = self._end
        self._buf[end : end + size] = data
        self._end = end + size
        self._view_size = 0

    def pending(self) -> int:
        """Bytes buffered and not yet consumed."""
        return self._end - self._start

    def take_pending(self) -> bytes:
        """Remove and return the buffered bytes (for 101 / CONNECT tunnels)."""
        data = bytes(self._mv[self._start : self._end])
        self._start = self._end = 0
        self._scan = 0
        return data

    # ---------------------------------------------------------------- message cycle

    def start_response(
        self, head_request: bool, connect_request: bool, *, upgrade_request: bool = False
    ) -> None:
        """The request has been sent: the next bytes are its response.

        ``head_request``: the method was HEAD (no body, RFC 9112 §6.3); ``connect_request``:
        the method was CONNECT (a 2xx answer is a tunnel); ``upgrade_request``: the request
        proposed a protocol switch (an ``Upgrade`` field, RFC 9110 §7.8), so a ``101``
        answer is final; without it a ``101`` raises ``RemoteProtocolError`` (RFC 9110
        §15.2.2: a server sends 101 only to a request with Upgrade). Raises
        ``RuntimeError`` if the previous response was not completely received.
        """
        self._check_error()
        if self._state != _IDLE and self._state != _DONE:
            raise RuntimeError(
                "start_response() called before the previous response was completely received"
            )
        self._state = _HEAD
        self._head_request = bool(head_request)
        self._connect_request = bool(connect_request)
        self._upgrade_request = bool(upgrade_request)
        self._informational = 0
        self._scan = 0
        self.keep_alive = True
        self.trailers = []

    def _fail(self, exc: RemoteProtocolError) -> None:
        self._error = exc
        self.keep_alive = False

    def _section_end(self, limit: int) -> int:
        """Absolute end of the section (head or trailers) that starts at ``_start``: the
        index after its empty line, searching at most ``limit`` bytes; -1 if not found."""
        buf = self._buf
        start = self._start
        stop = min(self._end, start + limit)
        scan = start + self._scan
        crlf = buf.find(b"\n\r\n", scan, stop)
        if crlf >= 0:
            lf = buf.find(b"\n\n", scan, crlf + 1)
            return lf + 2 if lf >= 0 else crlf + 3
        lf = buf.find(b"\n\n", scan, stop)
        if lf >= 0:
            return lf + 2
        self._scan = max(stop - start - 2, 0)
        return -1

    def _fields(self, lines: list[bytes], first: int, fields: list[tuple[bytes, bytes]]) -> None:
        """Parse ``lines[first:]`` as field lines, appending to ``fields``."""
        max_line = self._max_field_line
        max_count = self._max_field_count
        for i in range(first, len(lines)):
            line = lines[i]
            if len(line) > max_line:
                raise RemoteProtocolError(
                    f"field line exceeds max_field_line_size ({max_line} bytes)"
                )
            if line[0] == 32 or line[0] == 9:  # obs-fold (lines are never empty here)
                if not fields:
                    raise RemoteProtocolError("obs-fold at the start of the field section")
                more = line.strip(_OWS)
                if more:
                    name, value = fields[-1]
                    fields[-1] = (name, value + b" " + more if value else more)
                continue
            if len(fields) >= max_count:
                raise RemoteProtocolError(
                    f"too many field lines (exceeds max_field_count {max_count})"
                )
            colon = line.find(b":")
            if colon < 0:
                raise RemoteProtocolError(f"field line without colon {line[:_EXCERPT]!r}")
            name = line[:colon]
            if not name:
                raise RemoteProtocolError("empty field name")
            if name.translate(None, _TCHAR):
                raise RemoteProtocolError(f"invalid field name {name[:_EXCERPT]!r}")
            fields.append((name, line[colon + 1 :].strip(_OWS)))

    def _parse_head(self, end: int) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
        start = self._start
        section = bytes(self._mv[start:end])
        self._consume(end - start)
        self._scan = 0
        lines = _check_section(section, "response head")
        line = lines[0]
        if len(line) > self._max_status_line:
            raise RemoteProtocolError(
                f"status line exceeds max_status_line_size ({self._max_status_line} bytes)"
            )
        version = line[:8]
        if line[8:9] != b" " or (version != _HTTP11 and version != _HTTP10):
            sp = line.find(b" ")
            token = line if sp < 0 else line[:sp]
            if token[:5] == b"HTTP/" and token != _HTTP11 and token != _HTTP10:
                raise RemoteProtocolError(f"unsupported HTTP version {token[:32]!r}")
            raise RemoteProtocolError(f"malformed status line {line[:_EXCERPT]!r}")
        code = line[9:12]
        if len(code) != 3 or not code.isdigit() or code[0] == 48 or line[12:13] not in (b"", b" "):
            raise RemoteProtocolError(f"malformed status line {line[:_EXCERPT]!r}")
        status = code[0] * 100 + code[1] * 10 + code[2] - 5328  # 48 * 111
        headers: list[tuple[bytes, bytes]] = []
        self._fields(lines, 1, headers)
        return version, status, line[13:], headers

    def _framing_of(self, version: bytes, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """Validate the framing fields of a head and set up the body state."""
        content_length = -1
        chunked = False
        close = False
        for name, value in headers:
            size = len(name)
            if size != 10 and size != 14 and size != 17:
                continue
            lname = name.lower()
            if lname == b"content-length":
                for item in value.split(b","):
                    length = _decimal(item.strip(_OWS))
                    if length < 0:
                        raise RemoteProtocolError(
                            f"invalid Content-Length {value[:_EXCERPT]!r}"
                        )
                    if content_length >= 0 and length != content_length:
                        raise RemoteProtocolError("conflicting Content-Length values")
                    content_length = length
            elif lname == b"transfer-encoding":
                if value.lower() != b"chunked":
                    raise RemoteProtocolError(
                        f"unsupported Transfer-Encoding {value[:_EXCERPT]!r}"
                    )
                if chunked:
                    raise RemoteProtocolError("multiple Transfer-Encoding fields")
                chunked = True
            elif lname == b"connection" and not close:
                close = _has_close_token(value)
        if chunked:
            if version == _HTTP10:
                raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 response")
            if content_length >= 0:
                raise RemoteProtocolError("both Transfer-Encoding and Content-Length")
        keep_alive = version == _HTTP11 and not close
        if (
            self._head_request
            or status < 200
            or status == 204
            or status == 304
            or (self._connect_request and status < 300)
        ):
            framing = _NONE
            if status == 101 or (self._connect_request and 200 <= status < 300):
                keep_alive = False  # the stream is handed over
        elif chunked:
            framing = _CHUNKED
            self._chunk_state = _CH_SIZE
        elif content_length >= 0:
            framing = _LENGTH
            self._remaining = content_length
            self._received = 0
        else:
            framing = _CLOSE
            keep_alive = False
        self._framing = framing
        self.keep_alive = keep_alive

    def receive_head(self) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]] | None:
        """The final response head, or None if more bytes are needed."""
        self._check_error()
        if self._state != _HEAD:
            raise RuntimeError("receive_head() called when no response head is expected")
        try:
            while True:
                avail = self._end - self._start
                if avail == 0:
                    if self._eof:
                        raise RemoteProtocolError("Server disconnected without sending a response.")
                    return None
                if self._scan == 0:
                    first = self._buf[self._start]
                    if first == 10 or first == 13:
                        if first == 13:
                            if avail == 1:
                                if self._eof:
                                    raise RemoteProtocolError(
                                        "peer closed connection without sending complete response head"
                                    )
                                return None
                            if self._buf[self._start + 1] != 10:
                                raise RemoteProtocolError("bare CR in response head")
                        raise RemoteProtocolError("response head starts with an empty line")
                end = self._section_end(self._max_head)
                if end < 0:
                    if avail >= self._max_head:
                        raise RemoteProtocolError(
                            f"response head exceeds max_head_size ({self._max_head} bytes)"
                        )
                    if self._eof:
                        raise RemoteProtocolError(
                            "peer closed connection without sending complete response head"
                        )
                    return None
                version, status, reason, headers = self._parse_head(end)
                self._framing_of(version, status, headers)
                if status == 101 and not self._upgrade_request:
                    raise RemoteProtocolError(_UNEXPECTED_101)
                if 100 <= status < 200 and status != 101:
                    self._informational += 1
                    if self._informational > self._max_informational:
                        raise RemoteProtocolError(
                            "too many informational responses "
                            f"(exceeds max_informational {self._max_informational})"
                        )
                    continue
                self._state = _BODY
                return version, status, reason, headers
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise

    def receive_body(self) -> bytes | None:
        """The next body bytes, ``b""`` at end of message, or None if more are needed."""
        self._check_error()
        if self._state != _BODY:
            if self._state == _DONE:
                return b""
            raise RuntimeError("receive_body() called before receive_head() returned a response")
        try:
            framing = self._framing
            if framing == _LENGTH:
                return self._length_body()
            if framing == _CHUNKED:
                return self._chunked_body()
            if framing == _CLOSE:
                avail = self._end - self._start
                if avail:
                    return self._take(avail)
                if self._eof:
                    self._state = _DONE
                    return b""
                return None
            self._state = _DONE
            return b""
        except RemoteProtocolError as exc:
            self._fail(exc)
            raise

    def _take(self, size: int) -> bytes:
        start = self._start
        data = bytes(self._mv[start : start + size])
        self._consume(size)
        return data

    def _length_body(self) -> bytes | None:
        remaining = self._remaining
        if remaining == 0:
            self._state = _DONE
            return b""
        avail = self._end - self._start
        if avail == 0:
            if self._eof:
                raise RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    f"received {self._received} bytes, expected {self._received + remaining}"
                )
            return None
        size = avail if avail < remaining else remaining
        self._remaining = remaining - size
        self._received += size
        return self._take(size)

    def _incomplete_chunked(self) -> None:
        if self._eof:
            raise RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                "incomplete chunked read"
            )

    def _chunked_body(self) -> bytes | None:
        buf = self._buf
        while True:
            state = self._chunk_state
            avail = self._end - self._start
            if state == _CH_DATA:
                if avail == 0:
                    self._incomplete_chunked()
                    return None
                remaining = self._remaining
                size = avail if avail < remaining else remaining
                self._remaining = remaining - size
                if self._remaining == 0:
                    self._chunk_state = _CH_CRLF
                return self._take(size)
            if state == _CH_SIZE:
                start = self._start
                plain = _PLAIN_CHUNK_LINE_RE.match(buf, start, self._end)
                if plain is not None and plain.end(1) - start <= self._max_chunk_line:
                    # fast path, same result as the general one below
                    self._scan = 0
                    self._consume(plain.end() - start)
                    size = 0
                    for c in plain.group(1):
                        size = size * 16 + _HEXVAL[c]
                    if size == 0:
                        self._chunk_state = _CH_TRAILER
                    else:
                        self._remaining = size
                        self._chunk_state = _CH_DATA
                    continue
                limit = self._max_chunk_line + 2
                stop = self._end if avail < limit else start + limit
                lf = buf.find(b"\n", start + self._scan, stop)
                if lf < 0:
                    if avail >= limit:
                        raise RemoteProtocolError(
                            "chunk-size line exceeds max_chunk_size_line "
                            f"({self._max_chunk_line} bytes)"
                        )
                    self._incomplete_chunked()
                    self._scan = stop - start
                    return None
                self._scan = 0
                crlf = lf > start and buf[lf - 1] == 13
                line = bytes(self._mv[start : lf - 1 if crlf else lf])
                self._consume(lf + 1 - start)
                size = self._chunk_size(line)
                if not crlf:  # RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF
                    raise RemoteProtocolError(
                        "bare LF ending the last chunk" if size == 0
                        else "bare LF ending a chunk-size line"
                    )
                if size == 0:
                    self._chunk_state = _CH_TRAILER
                else:
                    self._remaining = size
                    self._chunk_state = _CH_DATA
            elif state == _CH_CRLF:
                if avail == 0:
                    self._incomplete_chunked()
                    return None
                first = buf[self._start]
                if first == 13:
                    if avail == 1:
                        self._incomplete_chunked()
                        return None
                    if buf[self._start + 1] != 10:
                        raise RemoteProtocolError("chunk data not followed by CRLF")
                    self._consume(2)
                elif first == 10:
                    raise RemoteProtocolError("bare LF after chunk data")
                else:
                    raise RemoteProtocolError("chunk data not followed by CRLF")
                self._chunk_state = _CH_SIZE
            else:
                return self._trailer_section(avail)

    def _chunk_size(self, line: bytes) -> int:
        if len(line) > self._max_chunk_line:
            raise RemoteProtocolError(
                f"chunk-size line exceeds max_chunk_size_line ({self._max_chunk_line} bytes)"
            )
        if b"\r" in line:
            raise RemoteProtocolError("bare CR in chunk-size line")
        digits = _HEXDIGITS_RE.match(line).end()  # type: ignore[union-attr]
        if digits == 0:
            raise RemoteProtocolError(f"invalid chunk-size line {line[:_EXCERPT]!r}")
        if digits > 15:
            raise RemoteProtocolError("chunk size has more than 15 hex digits")
        size = 0
        for c in line[:digits]:
            size = size * 16 + _HEXVAL[c]
        rest = line[digits:].lstrip(_OWS)
        if rest:
            if rest[0] != 59:  # ";"
                raise RemoteProtocolError(f"invalid chunk-size line {line[:_EXCERPT]!r}")
            bad = _CTL_RE.search(rest)
            if bad is not None:
                raise RemoteProtocolError(
                    f"invalid control byte 0x{rest[bad.start()]:02x} in chunk extension"
                )
        return size

    def _trailer_section(self, avail: int) -> bytes | None:
        buf = self._buf
        start = self._start
        if avail == 0:
            self._incomplete_chunked()
            return None
        if self._scan == 0:
            first = buf[start]
            if first == 10:
                raise RemoteProtocolError("bare LF ending the trailer section")
            if first == 13:
                if avail == 1:
                    self._incomplete_chunked()
                    return None
                if buf[start + 1] != 10:
                    raise RemoteProtocolError("bare CR in trailer section")
                self._consume(2)
                self._state = _DONE
                return b""
        end = self._section_end(self._max_trailer)
        if end < 0:
            if avail >= self._max_trailer:
                raise RemoteProtocolError(
                    f"trailer section exceeds max_trailer_size ({self._max_trailer} bytes)"
                )
            self._incomplete_chunked()
            return None
        section = bytes(self._mv[start:end])
        self._consume(end - start)
        self._scan = 0
        lines = _check_section(section, "trailer section")
        trailers: list[tuple[bytes, bytes]] = []
        self._fields(lines, 0, trailers)
        self.trailers = trailers
        self._state = _DONE
        return b""

"""One fuzz input -> both kernels -> the properties that must hold.

Shared by the atheris target (``fuzz/atheris_kernel.py``), the hypothesis campaign
(``fuzz/hypothesis_campaign.py``) and the CI tests (``tests/test_fuzz_kernels.py``), so a
finding of any engine is a file that every other one can replay.

Input format (everything is optional: any byte string is a valid input)::

    byte 0      flags. 0x80 set: request-head mode (see below). Otherwise
                0x01 EOF after the last piece, 0x02 feed through get_buffer()/
                buffer_updated(), 0x04 two message cycles (keep-alive), 0x08 HEAD request,
                0x10 CONNECT request (0x08 and 0x10 together: neither, but a request
                with an Upgrade field, ``upgrade_request``), 0x20 seven limit bytes
                follow, 0x40 split bytes follow
    [limits]    7 bytes: max_status_line_size, max_field_line_size, max_head_size / 4,
                max_field_count, max_chunk_size_line, max_trailer_size / 2,
                max_informational (each 0-255, scaled as said)
    [splits]    1 byte n: 255 = one byte per read; else n % 17 piece sizes follow, one
                byte each (size = byte + 1); the rest of the payload is the last piece
    payload     the bytes the server sends

Request-head mode: the payload is length-prefixed items (one length byte, then that many
bytes; a short tail is taken as is): method, target, then name/value pairs.

Properties checked (``AssertionError`` on violation, with both kernels' outputs):

* no crash: the only exception a kernel may raise is ``RemoteProtocolError``
  (``LocalProtocolError`` on the request side); no ``IndexError``, ``SystemError``, ...;
* identical results: the same events (heads, body pieces, trailers, keep-alive, pending
  bytes) or the same exception type and message, and the same state afterwards;
* errors are sticky: after a ``RemoteProtocolError`` every call re-raises its message;
* bounded memory: whenever a kernel asks for more bytes, what it buffers is below the
  limit of the section it is in (head: ``max_head_size``; chunk-size line:
  ``max_chunk_size_line`` + 2; trailers: ``max_trailer_size``; body data: nothing), so its
  buffer never holds more than that limit plus one read. For the Python kernel the
  capacity of its bytearray is checked too (at most twice that, or 4 KiB).

No hang: both kernels are O(n) in the input; the engines enforce a per-input time limit
(atheris ``-timeout``, hypothesis ``deadline``).
"""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any

from httpcore_fast import _kernel, _kernel_py
from httpcore_fast._exceptions import LocalProtocolError, RemoteProtocolError
from tests.kernel_helpers import Event, drive

FLAG_EOF = 0x01
FLAG_BUFFER = 0x02
FLAG_TWO = 0x04
FLAG_HEAD = 0x08
FLAG_CONNECT = 0x10
FLAG_LIMITS = 0x20
FLAG_SPLITS = 0x40
FLAG_REQUEST = 0x80

LIMIT_NAMES = (
    "max_status_line_size",
    "max_field_line_size",
    "max_head_size",
    "max_field_count",
    "max_chunk_size_line",
    "max_trailer_size",
    "max_informational",
)
_LIMIT_SCALE = (1, 1, 4, 1, 1, 2, 1)
BYTEWISE = 255
_MIN_CAPACITY = 4096  # the kernels' smallest buffer allocation


def kernels() -> list[ModuleType]:
    """The kernels to compare: Cython then Python (only Python without extensions)."""
    if _kernel.NO_EXTENSIONS:  # pragma: no cover - pure-Python installs
        return [_kernel_py]
    return [_kernel._kernel_c, _kernel_py]


# --------------------------------------------------------------------------------------
# The input format


@dataclasses.dataclass
class ResponseCase:
    payload: bytes
    eof: bool = True
    use_buffer: bool = False
    responses: int = 1
    head_request: bool = False
    connect_request: bool = False
    upgrade_request: bool = False  # encoded as HEAD and CONNECT together
    limits: dict[str, int] = dataclasses.field(default_factory=dict)
    sizes: list[int] | None = None  # piece sizes (the rest is one more piece); None: whole
    bytewise: bool = False

    def chunks(self) -> list[bytes]:
        data = self.payload
        if self.bytewise:
            return [data[i : i + 1] for i in range(len(data))]
        pieces = []
        pos = 0
        for size in self.sizes or []:
            if pos >= len(data):
                break
            pieces.append(data[pos : pos + size])
            pos += size
        if pos < len(data):
            pieces.append(data[pos:])
        return pieces


@dataclasses.dataclass
class RequestCase:
    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]


def encode_response(case: ResponseCase) -> bytes:
    """The input bytes that :func:`decode` turns back into ``case``."""
    flags = (
        (FLAG_EOF if case.eof else 0)
        | (FLAG_BUFFER if case.use_buffer else 0)
        | (FLAG_TWO if case.responses > 1 else 0)
        | (FLAG_HEAD if case.head_request or case.upgrade_request else 0)
        | (FLAG_CONNECT if case.connect_request or case.upgrade_request else 0)
    )
    out = bytearray()
    if case.limits:
        flags |= FLAG_LIMITS
        for name, scale in zip(LIMIT_NAMES, _LIMIT_SCALE):
            value = case.limits.get(name)
            out.append(255 if value is None else min(value // scale, 254))
    if case.bytewise or case.sizes:
        flags |= FLAG_SPLITS
        if case.bytewise:
            out.append(BYTEWISE)
        else:
            sizes = [min(max(s, 1), 256) for s in case.sizes or []][:16]
            out.append(len(sizes))
            out += bytes(s - 1 for s in sizes)
    return bytes([flags]) + bytes(out) + case.payload


def encode_request(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    items = [method, target] + [part for pair in headers for part in pair]
    return bytes([FLAG_REQUEST]) + b"".join(bytes([min(len(i), 255)]) + i[:255] for i in items)


def decode(data: bytes) -> ResponseCase | RequestCase:
    """Turn arbitrary bytes into a case (see the module docstring)."""
    if not data:
        return ResponseCase(b"")
    flags = data[0]
    pos = 1
    if flags & FLAG_REQUEST:
        items = []
        while pos < len(data):
            size = data[pos]
            items.append(data[pos + 1 : pos + 1 + size])
            pos += 1 + size
        items += [b""] * (2 - len(items)) if len(items) < 2 else []
        method, target, rest = items[0], items[1], items[2:]
        if len(rest) % 2:
            rest.append(b"")
        return RequestCase(method, target, list(zip(rest[::2], rest[1::2])))
    limits: dict[str, int] = {}
    if flags & FLAG_LIMITS:
        raw = data[pos : pos + 7]
        pos += 7
        for name, scale, value in zip(LIMIT_NAMES, _LIMIT_SCALE, raw):
            if value != 255:  # 255: that limit keeps its default
                limits[name] = value * scale
    sizes = None
    bytewise = False
    if flags & FLAG_SPLITS and pos < len(data):
        count = data[pos]
        pos += 1
        if count == BYTEWISE:
            bytewise = True
        else:
            count %= 17
            sizes = [b + 1 for b in data[pos : pos + count]]
            pos += count
    upgrade = flags & (FLAG_HEAD | FLAG_CONNECT) == FLAG_HEAD | FLAG_CONNECT
    return ResponseCase(
        payload=data[pos:],
        eof=bool(flags & FLAG_EOF),
        use_buffer=bool(flags & FLAG_BUFFER),
        responses=2 if flags & FLAG_TWO else 1,
        head_request=bool(flags & FLAG_HEAD) and not upgrade,
        connect_request=bool(flags & FLAG_CONNECT) and not upgrade,
        upgrade_request=upgrade,
        limits=limits,
        sizes=sizes,
        bytewise=bytewise,
    )


# --------------------------------------------------------------------------------------
# Checking one input


class BoundedParser:
    """A proxy for a ``ResponseParser`` that :func:`tests.kernel_helpers.drive` drives
    like the real one, checking the memory bound every time the parser asks for more."""

    def __init__(self, module: ModuleType, limits: dict[str, int]) -> None:
        self._parser = module.ResponseParser(**limits)
        self._module = module
        get = limits.get
        self._head_bound = get("max_head_size", module.MAX_HEAD_SIZE)
        self._body_bound = max(
            get("max_chunk_size_line", module.MAX_CHUNK_SIZE_LINE) + 2,
            get("max_trailer_size", module.MAX_TRAILER_SIZE),
            2,  # CR of a chunk's CRLF
        )
        self._largest_read = 1
        self.violations: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def feed(self, data: bytes) -> None:
        self._largest_read = max(self._largest_read, len(data))
        self._parser.feed(data)

    def get_buffer(self, size_hint: int = 65536) -> Any:
        self._largest_read = max(self._largest_read, size_hint)
        return self._parser.get_buffer(size_hint)

    def _check(self, what: str, bound: int) -> None:
        # A lone CR at the start of a section is kept until the next byte tells an
        # empty line from a bare CR, whatever the limit: hence at least 2.
        pending = self._parser.pending()
        if pending >= max(bound, 2):
            self.violations.append(
                f"{self._module.KERNEL_NAME}: {pending} bytes buffered waiting for {what} "
                f"(limit {bound})"
            )
        buf = getattr(self._parser, "_buf", None)  # the Python kernel's storage
        if isinstance(buf, bytearray):
            most = max(_MIN_CAPACITY, 2 * (max(bound, 2) + self._largest_read))
            if len(buf) > most:
                self.violations.append(
                    f"python: buffer capacity {len(buf)} > {most} waiting for {what}"
                )

    def receive_head(self) -> Any:
        head = self._parser.receive_head()
        if head is None:
            self._check("a head", self._head_bound)
        return head

    def receive_body(self) -> Any:
        data = self._parser.receive_body()
        if data is None:
            self._check("body bytes", self._body_bound)
        return data


def run_response(module: ModuleType, case: ResponseCase) -> list[Event]:
    """Drive one kernel over ``case``: the events, then the state afterwards."""
    parser = BoundedParser(module, case.limits)
    events = drive(
        parser,
        case.chunks(),
        eof=case.eof,
        use_buffer=case.use_buffer,
        responses=case.responses,
        head_request=case.head_request,
        connect_request=case.connect_request,
        upgrade_request=case.upgrade_request,
    )
    events += [("bound-violation", message) for message in parser.violations]
    events.append(("state", parser.keep_alive, parser.pending()))
    errors = [event for event in events if event[0] == "error"]
    if errors and errors[0][1] == "RemoteProtocolError":
        message = errors[0][2]
        for call in (
            lambda: parser.receive_head(),
            lambda: parser.receive_body(),
            lambda: parser.start_response(False, False),
            lambda: parser.feed(b"x"),
        ):
            try:
                call()
            except RemoteProtocolError as exc:
                events.append(("sticky", str(exc) == message))
            except Exception as exc:  # noqa: BLE001 - recorded and compared
                events.append(("sticky", type(exc).__name__, str(exc)))
            else:
                events.append(("sticky", "no error"))
    return events


def run_request(module: ModuleType, case: RequestCase) -> tuple[Any, ...]:
    try:
        return ("ok", module.serialize_request_head(case.method, case.target, case.headers))
    except Exception as exc:  # noqa: BLE001 - recorded and compared
        return ("error", type(exc).__name__, str(exc))


def _crash(events: list[Any], allowed: str) -> Any:
    for event in events:
        if event[0] == "error" and event[1] != allowed:
            return event
        if event[0] == "bound-violation":
            return event
        if event[0] == "sticky" and event[1:] != (True,):
            return event
    return None


def check(data: bytes) -> ResponseCase | RequestCase:
    """Run ``data`` through every kernel; AssertionError if a property fails."""
    case = decode(data)
    modules = kernels()
    if isinstance(case, RequestCase):
        results = [run_request(module, case) for module in modules]
        for module, result in zip(modules, results):
            if result[0] == "error" and result[1] != LocalProtocolError.__name__:
                raise AssertionError(f"{module.KERNEL_NAME} crashed on {case!r}: {result}")
    else:
        results = [run_response(module, case) for module in modules]  # type: ignore[misc]
        for module, events in zip(modules, results):
            bad = _crash(events, RemoteProtocolError.__name__)  # type: ignore[arg-type]
            if bad is not None:
                raise AssertionError(f"{module.KERNEL_NAME} failed on {case!r}: {bad}")
    if any(result != results[0] for result in results[1:]):
        raise AssertionError(
            f"kernels disagree on {case!r}:\n"
            + "\n".join(f"  {m.KERNEL_NAME}: {r!r}" for m, r in zip(modules, results))
        )
    return case

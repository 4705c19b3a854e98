"""Default limits against httpcore 1.0.9: every response h11 accepts, as httpcore drives it,
both kernels accept with the same result (docs/kernel.md, "Limits").

httpcore 1.0.9 runs h11 with ``max_incomplete_event_size=102400`` and reads at most 65536
bytes at a time. h11 raises only when more than 102400 bytes are buffered and no complete
event is among them, so what it accepts depends on the reads: a section (head, chunk-size
line, trailer section) of up to 102400 + 65536 = 167936 bytes passes when the read that
completes it starts within its first 102400 bytes. Our limits do not depend on the reads:
each section of at most 167936 bytes is accepted, anything larger rejected.

Here: httpcore's own ``test_http11_header_sub_100kb`` input, the largest sections h11 can
accept and one byte more, and a hypothesis differential test against h11 over
well-formed responses of sizes around both thresholds with random reads of at most 65536
bytes. The ``kernel`` fixture (module mark) runs each test on both kernel ids; the differential
test drives both kernel modules itself (a different seed per id).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import h11
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from httpcore_fast import _kernel, _kernel_py
from tests.kernel_helpers import HTTPCORE_SUB_100KB_READS, drive, merged

# Runs on both kernels (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("kernel")

INCOMPLETE_EVENT = 102400  # httpcore's HTTP11Connection.MAX_INCOMPLETE_EVENT_SIZE
READ = 65536  # httpcore's HTTP11Connection.READ_NUM_BYTES
LIMIT = INCOMPLETE_EVENT + READ  # 167936: the default of every section size limit
OK = b"HTTP/1.1 200 OK\r\n"
CHUNKED = OK + b"Transfer-Encoding: chunked\r\n\r\n"

SUB_100KB_READS = HTTPCORE_SUB_100KB_READS[:-1]  # without its EOF


class Disconnected(Exception):
    """EOF before the response (httpcore's "Server disconnected ...")."""


def h11_outcome(reads: list[bytes]) -> tuple[Any, ...]:
    """What httpcore 1.0.9 makes of ``reads`` after a GET: h11 with its settings, fed one
    read whenever h11 needs data (``_receive_event``). ``("ok", head, body, trailers)``
    or ``("error", message)``."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=INCOMPLETE_EVENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
    conn.send(h11.EndOfMessage())
    pending = iter(reads)

    def next_event() -> Any:
        for _ in range(len(reads) + 1_000_000):  # bounded: each turn consumes a read
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = next(pending, b"")
            if not data and conn.their_state == h11.SEND_RESPONSE:
                raise Disconnected
            conn.receive_data(data)
        raise AssertionError("h11 did not finish")  # pragma: no cover

    try:
        event = next_event()
        while isinstance(event, h11.InformationalResponse):
            event = next_event()
        head = (
            b"HTTP/" + event.http_version,
            event.status_code,
            bytes(event.reason),
            [(bytes(n), bytes(v)) for n, v in event.headers.raw_items()],
        )
        body = b""
        while True:
            event = next_event()
            if isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                trailers = [(bytes(n), bytes(v)) for n, v in event.headers.raw_items()]
                return ("ok", head, body, trailers)
    except (h11.ProtocolError, Disconnected) as exc:
        return ("error", str(exc))


def kernel_outcome(module: ModuleType, reads: list[bytes], use_buffer: bool = False) -> Any:
    """The same as :func:`h11_outcome` from one of our kernels, default limits."""
    events = merged(drive(module.ResponseParser(), reads, eof=False, use_buffer=use_buffer))
    if events[0][0] != "head" or events[-1][0] != "end":
        return ("error", events)
    body = b"".join(event[1] for event in events if event[0] == "data")
    return ("ok", events[0][1:5], body, events[-1][1])


def kernel_modules() -> list[ModuleType]:
    if _kernel.NO_EXTENSIONS:  # pragma: no cover - pure-Python installs
        return [_kernel_py]
    return [_kernel._kernel_c, _kernel_py]


def reads_of(data: bytes, cuts: list[int], most: int = READ) -> list[bytes]:
    """``data`` cut at ``cuts``, every piece then cut into reads of at most ``most``."""
    bounds = sorted({0, len(data), *(c for c in cuts if 0 < c < len(data))})
    reads = []
    for a, b in zip(bounds, bounds[1:]):
        reads += [data[i : min(i + most, b)] for i in range(a, b, most)]
    return reads


# --- httpcore's own test and the thresholds ----------------------------------------------


@pytest.mark.parametrize("use_buffer", [False, True], ids=["feed", "get_buffer"])
def test_httpcore_header_sub_100kb(kernel, use_buffer):
    """A head whose field lines add up to exactly 100 KiB: httpcore accepts it (the old
    102400-byte head limit rejected it)."""
    expected = h11_outcome(SUB_100KB_READS)
    assert expected[0] == "ok"
    assert expected[1][1] == 200
    got = kernel_outcome(kernel, SUB_100KB_READS, use_buffer)
    assert got == expected
    whole = [b"".join(SUB_100KB_READS)]
    assert kernel_outcome(kernel, whole, use_buffer) == expected


def largest(kind: str, size: int) -> tuple[bytes, int]:
    """A response whose ``kind`` section is exactly ``size`` bytes (terminators included;
    for a chunk-size line: with its CRLF); returns it and where that section starts."""
    if kind == "head":
        head = OK + b"Content-Length: 2\r\nX-Fill: \r\n\r\n"
        fill = size - len(head)
        return head[:-4] + b"f" * fill + b"\r\n\r\n" + b"ok", 0
    if kind == "chunk-size line":
        line = b"2;" + b"e" * (size - 4) + b"\r\n"
        return CHUNKED + line + b"ok\r\n0\r\n\r\n", len(CHUNKED)
    trailers = b"X-T: \r\n\r\n"
    trailers = trailers[:-4] + b"t" * (size - len(trailers)) + b"\r\n\r\n"
    return CHUNKED + b"2\r\nok\r\n0\r\n" + trailers, len(CHUNKED) + 10


def best_reads_for_h11(data: bytes, start: int, size: int) -> list[bytes]:
    """The reads that let h11 accept the largest section: 102400 of its bytes (in reads of
    at most 65536), then one read completing it."""
    return reads_of(data, [start, start + INCOMPLETE_EVENT, start + size])


@pytest.mark.parametrize("kind", ["head", "chunk-size line", "trailer section"])
def test_largest_section_h11_accepts_is_accepted(kernel, kind):
    data, start = largest(kind, LIMIT)
    reads = best_reads_for_h11(data, start, LIMIT)
    assert max(map(len, reads)) <= READ
    expected = h11_outcome(reads)
    assert expected[0] == "ok"
    assert expected[2] == b"ok"
    assert kernel_outcome(kernel, reads) == expected
    assert kernel_outcome(kernel, [data]) == expected
    assert kernel_outcome(kernel, reads_of(data, [], 997), use_buffer=True) == expected
    # h11 itself needs the right reads: with one more byte before the completing read, no
    assert h11_outcome(reads_of(data, [start + INCOMPLETE_EVENT + 1]))[0] == "error"


LIMIT_MESSAGES = {
    "head": "response head exceeds max_head_size (167936 bytes)",
    "chunk-size line": "chunk-size line exceeds max_chunk_size_line (167936 bytes)",
    "trailer section": "trailer section exceeds max_trailer_size (167936 bytes)",
}


@pytest.mark.parametrize("kind", list(LIMIT_MESSAGES))
def test_one_byte_more_is_rejected_by_both(kernel, kind):
    """One byte beyond: no read split of at most 65536 bytes lets h11 accept it (the
    completing read would have to be 65537 bytes), and we reject it however it is split."""
    size = LIMIT + 1 if kind != "chunk-size line" else LIMIT + 3  # line limit counts w/o CRLF
    data, start = largest(kind, size)
    reads = best_reads_for_h11(data, start, size)
    assert h11_outcome(reads) == ("error", "Receive buffer too long")
    for split in (reads, [data], reads_of(data, [], 4093)):
        events = drive(kernel.ResponseParser(), split, eof=False)
        assert events[-1] == ("error", "RemoteProtocolError", LIMIT_MESSAGES[kind])


def test_many_tiny_fields(kernel):
    """h11 does not count field lines: a head of 167936 bytes of 3-byte fields passes."""
    data = filled(OK + b"Content-Length: 0\r\n", LIMIT, b"\n", b"\r\n", "many fields")
    assert len(data) == LIMIT
    reads = best_reads_for_h11(data, 0, LIMIT)
    expected = h11_outcome(reads)
    assert expected[0] == "ok"
    assert len(expected[1][3]) == data.count(b"\n") - 2 > 55900
    assert kernel_outcome(kernel, reads) == expected


# --- the differential test ---------------------------------------------------------------

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
SEEDS = {"cython": 9112, "python": 9113}

# sizes of the big section: small, around h11's incomplete-event size, around our limit
section_sizes = st.one_of(
    st.integers(60, 3000),
    st.integers(INCOMPLETE_EVENT - 300, INCOMPLETE_EVENT + 300),
    st.integers(LIMIT - 300, LIMIT + 40),
    st.sampled_from([INCOMPLETE_EVENT, INCOMPLETE_EVENT + 1, LIMIT - 1, LIMIT, LIMIT + 1]),
)
tokens = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_!#.~", min_size=1, max_size=12)
values = st.text('abcdefxyz 0123456789,;=/"()\t\x80\xe9', max_size=20).map(
    lambda s: s.strip(" \t")
)


@st.composite
def fields(draw, eol: Any, count: int) -> bytes:
    out = b""
    for _ in range(count):
        name = draw(tokens).encode()
        if name.lower() in (b"content-length", b"transfer-encoding"):
            name = b"X-" + name
        out += name + b":" + draw(st.sampled_from([b"", b" ", b"\t "]))
        out += draw(values).encode("latin-1") + draw(eol)
    return out


def filled(prefix: bytes, size: int, line_end: bytes, end: bytes, how: str) -> bytes:
    """``prefix`` + filler field lines + ``end``, ``size`` bytes in all if it fits."""
    room = size - len(prefix) - len(end)
    if room < 6:
        return prefix + end
    if how == "one line":
        return prefix + b"X-Fill: " + b"f" * max(room - 8 - len(line_end), 0) + line_end + end
    unit = b"a:" + line_end  # many tiny fields (h11 does not count them)
    count, rest = divmod(room, len(unit))
    if rest and rest < len(b"b:") + len(line_end):
        count -= 1
        rest += len(unit)
    extra = b"b:" + b"v" * (rest - 2 - len(line_end)) + line_end if rest else b""
    return prefix + unit * count + extra + end


@st.composite
def responses(draw) -> tuple[bytes, list[int], int]:
    """A well-formed response with one section of a drawn size: the response, where
    h11's threshold lies in it (the section's start + 102400) and the size."""
    eol = st.sampled_from([b"\r\n", b"\r\n", b"\n"])  # bare LF in the head, as h11 allows
    big = draw(st.sampled_from(["head", "head", "chunk-size line", "trailer section"]))
    size = draw(section_sizes)
    how = draw(st.sampled_from(["one line", "many fields"]))
    parts = b""
    for _ in range(draw(st.integers(0, 2))):
        code = draw(st.sampled_from([b"100", b"102", b"103"]))
        parts += b"HTTP/1.1 " + code + b" Info" + draw(eol) + draw(fields(eol, 1)) + draw(eol)
    status = draw(
        st.sampled_from(
            [b"HTTP/1.1 200 OK", b"HTTP/1.1 404 Not Found", b"HTTP/1.0 200 OK", b"HTTP/1.1 201"]
        )
    )
    chunked = big != "head" or draw(st.booleans())
    if status.startswith(b"HTTP/1.0"):
        chunked = False
        big = "head"
    body = draw(st.binary(max_size=40))
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
    line_end = draw(eol)
    head = status + draw(eol) + draw(fields(eol, draw(st.integers(0, 3)))) + framing + line_end
    last = draw(eol)
    head_start = len(parts)
    if big == "head":
        head = filled(head, size, line_end, last, how)
    else:
        head += last
    parts += head
    if not chunked:
        return parts + body, [head_start, head_start + INCOMPLETE_EVENT], len(head)
    chunk_line = b"%x" % len(body)
    start = len(parts)
    if big == "chunk-size line" and size > len(chunk_line) + 4:
        chunk_line += b";" + b"e" * (size - len(chunk_line) - 3)
        size = len(chunk_line) + 2
    if body:
        parts += chunk_line + b"\r\n" + body + b"\r\n"
    trailer_start = len(parts) + 3
    parts += b"0\r\n"
    trailers = draw(fields(st.just(b"\r\n"), draw(st.integers(0, 2))))
    if big == "trailer section":
        trailers = filled(trailers, size, b"\r\n", b"\r\n", how)
        start = trailer_start
        size = len(trailers)
    else:
        trailers += b"\r\n"
    return parts + trailers, [start, start + INCOMPLETE_EVENT], size


@st.composite
def read_splits(draw, data: bytes, hot: list[int]) -> list[bytes]:
    """``data`` in reads of at most 65536 bytes, cut near the places that matter."""
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=3))
    for point in hot:
        if draw(st.integers(0, 4)):
            cuts.append(point + draw(st.integers(-3, 3)))
    most = draw(st.sampled_from([READ, READ, READ, READ - 1, 40000, 8192]))
    return reads_of(data, cuts, most)


STATS: dict[str, int] = {}


@SETTINGS
@given(data=st.data())
def differential(data: Any) -> None:
    raw, hot, size = data.draw(responses())
    reads = data.draw(read_splits(raw, hot))
    use_buffer = data.draw(st.booleans())
    expected = h11_outcome(reads)
    got = [kernel_outcome(module, reads, use_buffer) for module in kernel_modules()]
    assert all(result == got[0] for result in got[1:]), got
    if expected[0] == "ok":
        assert got[0] == expected
        STATS["accepted"] = STATS.get("accepted", 0) + 1
        if size > INCOMPLETE_EVENT + 1:  # beyond what h11 accepts under every split
            STATS["accepted-large"] = STATS.get("accepted-large", 0) + 1
    else:
        STATS["rejected"] = STATS.get("rejected", 0) + 1


def test_whatever_h11_accepts_both_kernels_accept(kernel):
    """Hypothesis: for well-formed responses around the thresholds and random reads of at
    most 65536 bytes, whenever h11 (as httpcore 1.0.9 drives it) accepts, both kernels
    with default limits give the same head, body and trailers; and they always agree."""
    STATS.clear()
    seed(SEEDS[kernel.KERNEL_NAME])(differential)()
    # the generator reaches both sides of h11's split-dependent threshold
    assert STATS.get("accepted-large", 0) >= 10, STATS
    assert STATS.get("rejected", 0) >= 5, STATS

"""Kernel tables: valid responses fed three ways, message cycles, the receive buffer.

Every test takes the ``kernel`` fixture (module mark), so it runs on the Cython and the Python
kernel. Hostile inputs are in test_kernel_errors.py, the request side in
test_kernel_request.py, the differential test in test_kernel_differential.py.
"""

from __future__ import annotations

import pytest

from httpcore_fast._exceptions import RemoteProtocolError
from tests.kernel_helpers import bytewise, drive, merged, parse, push

# Runs on both kernels (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("kernel")

CL_BODY = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!"

# (id, raw response, start_response kwargs, expected merged events; the last event is
# ("end", trailers, 0) unless the response is close-delimited)
VALID = [
    (
        "content-length",
        CL_BODY,
        {},
        [
            ("head", b"HTTP/1.1", 200, b"OK",
             [(b"Content-Type", b"text/plain"), (b"Content-Length", b"13")], True),
            ("data", b"Hello, world!"),
        ],
    ),
    (
        "content-length-zero",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 200, b"OK", [(b"Content-Length", b"0")], True)],
    ),
    (
        "content-length-list-of-identical-values",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\ncontent-length: 003\r\n\r\nabc",
        {},
        [
            ("head", b"HTTP/1.1", 200, b"OK",
             [(b"Content-Length", b"3, 3"), (b"content-length", b"003")], True),
            ("data", b"abc"),
        ],
    ),
    (
        "chunked-with-extensions-and-trailers",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
        b"5;name=value;x\r\nhello\r\n1A \t;q=\"a b\"\r\n" + b"z" * 26 + b"\r\n"
        b"0;last\r\nExpires: never\r\nX-Sum:  abc \r\n\r\n",
        {},
        [
            ("head", b"HTTP/1.1", 200, b"OK", [(b"Transfer-Encoding", b"Chunked")], True),
            ("data", b"hello" + b"z" * 26),
            ("end", [(b"Expires", b"never"), (b"X-Sum", b"abc")], 0),
        ],
    ),
    (
        # bare LF ends head lines (as in h11); chunked framing is CRLF only
        "bare-lf-head-crlf-chunks-uppercase-hex",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nA\r\n0123456789\r\n00\r\n\r\n",
        {},
        [
            ("head", b"HTTP/1.1", 200, b"OK", [(b"Transfer-Encoding", b"chunked")], True),
            ("data", b"0123456789"),
        ],
    ),
    (
        "close-delimited",
        b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end",
        {},
        [
            ("head", b"HTTP/1.1", 200, b"OK", [(b"Server", b"x")], False),
            ("data", b"until the end"),
        ],
    ),
    (
        "head-request-ignores-content-length",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        {"head_request": True},
        [("head", b"HTTP/1.1", 200, b"OK", [(b"Content-Length", b"1000")], True)],
    ),
    (
        "204",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 204, b"No Content", [(b"Content-Length", b"5")], True)],
    ),
    (
        "304-with-transfer-encoding",
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 304, b"Not Modified", [(b"Transfer-Encoding", b"chunked")],
          True)],
    ),
    (
        "1xx-skipped",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        {},
        [
            ("head", b"HTTP/1.1", 201, b"Created", [(b"Content-Length", b"2")], True),
            ("data", b"ok"),
        ],
    ),
    (
        "101-to-an-upgrade-request-returned",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        {"upgrade_request": True},
        [("head", b"HTTP/1.1", 101, b"Switching Protocols",
          [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")], False)],
    ),
    (
        "upgrade-request-answered-200",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno",
        {"upgrade_request": True},
        [("head", b"HTTP/1.1", 200, b"OK", [(b"Content-Length", b"2")], True),
         ("data", b"no")],
    ),
    (
        "1xx-before-101-to-an-upgrade-request",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
        {"upgrade_request": True},
        [("head", b"HTTP/1.1", 101, b"Switching Protocols", [(b"Upgrade", b"h2c")], False)],
    ),
    (
        "chunked-trailers-crlf",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1;a=b\r\nx\r\n0;end=1\r\nA: 1\r\nB:\t2\t\r\n\r\n",
        {},
        [
            ("head", b"HTTP/1.1", 200, b"OK", [(b"Transfer-Encoding", b"chunked")], True),
            ("data", b"x"),
            ("end", [(b"A", b"1"), (b"B", b"2")], 0),
        ],
    ),
    (
        "connect-2xx-is-a-tunnel",
        b"HTTP/1.1 200 Connection established\r\nContent-Length: 10\r\n\r\n",
        {"connect_request": True},
        [("head", b"HTTP/1.1", 200, b"Connection established", [(b"Content-Length", b"10")],
          False)],
    ),
    (
        "connect-407-has-a-body",
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno",
        {"connect_request": True},
        [
            ("head", b"HTTP/1.1", 407, b"Proxy Authentication Required",
             [(b"Content-Length", b"2")], True),
            ("data", b"no"),
        ],
    ),
    (
        "http10-content-length",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        {},
        [("head", b"HTTP/1.0", 200, b"OK", [(b"Content-Length", b"2")], False),
         ("data", b"hi")],
    ),
    (
        "obs-fold",
        b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n   second \r\n\tthird\r\nX-Empty:\r\n  later\r\n"
        b"Content-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 200, b"OK",
          [(b"X-Folded", b"first second third"), (b"X-Empty", b"later"),
           (b"Content-Length", b"0")], True)],
    ),
    (
        "bare-lf-terminators",
        b"HTTP/1.1 200 OK\nA: 1\r\nB: 2\n\r\nxy",
        {},
        [("head", b"HTTP/1.1", 200, b"OK", [(b"A", b"1"), (b"B", b"2")], False),
         ("data", b"xy")],
    ),
    (
        "duplicate-fields-kept-in-order",
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX: y\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 200, b"OK",
          [(b"Set-Cookie", b"a=1"), (b"X", b"y"), (b"set-cookie", b"b=2"),
           (b"Content-Length", b"0")], True)],
    ),
    (
        "connection-close-token",
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: x , CLOSE\r\n"
        b"Content-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 200, b"OK",
          [(b"Connection", b"keep-alive"), (b"Connection", b"x , CLOSE"),
           (b"Content-Length", b"0")], False)],
    ),
    (
        "connection-closed-is-not-close",
        b"HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 200, b"OK",
          [(b"Connection", b"closed"), (b"Content-Length", b"0")], True)],
    ),
    (
        "status-line-without-reason",
        b"HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 599, b"", [(b"Content-Length", b"0")], True)],
    ),
    (
        "reason-with-htab-obs-text-and-spaces",
        b"HTTP/1.1 404 Not\tFound \xe9 \r\nContent-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 404, b"Not\tFound \xe9 ", [(b"Content-Length", b"0")], True)],
    ),
    (
        "values-trimmed-empty-value-obs-text",
        b"HTTP/1.1 200 OK\r\nA:\r\nB: \t \r\nC:\t\xff\xfe v \t\r\nContent-Length: 0\r\n\r\n",
        {},
        [("head", b"HTTP/1.1", 200, b"OK",
          [(b"A", b""), (b"B", b""), (b"C", b"\xff\xfe v"), (b"Content-Length", b"0")],
          True)],
    ),
]


def _expected(events):
    """Complete the table's events with the final ("end", ...) event."""
    events = list(events)
    if events[-1][0] != "end":
        events.append(("end", [], 0))
    return events


@pytest.mark.parametrize("use_buffer", [False, True], ids=["feed", "get_buffer"])
@pytest.mark.parametrize("split", ["whole", "bytewise"])
@pytest.mark.parametrize(
    "raw, kwargs, events", [case[1:] for case in VALID], ids=[case[0] for case in VALID]
)
def test_valid_response(kernel, raw, kwargs, events, split, use_buffer):
    expected = _expected(events)
    assert parse(kernel, raw, split=split, use_buffer=use_buffer, **kwargs) == expected


# a close-delimited body takes every byte up to EOF: no trailing bytes for those
CLOSE_DELIMITED = {"close-delimited", "bare-lf-terminators"}
FRAMED = [case for case in VALID if case[0] not in CLOSE_DELIMITED]


@pytest.mark.parametrize("use_buffer", [False, True], ids=["feed", "get_buffer"])
@pytest.mark.parametrize(
    "raw, kwargs, events", [case[1:] for case in FRAMED], ids=[case[0] for case in FRAMED]
)
def test_valid_response_with_trailing_bytes(kernel, raw, kwargs, events, use_buffer):
    trailing = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    expected = _expected(events)
    expected[-1] = (*expected[-1][:2], len(trailing))
    got = parse(kernel, raw + trailing, eof=False, use_buffer=use_buffer, **kwargs)
    assert got == expected
    # split one byte at a time: the message ends before the trailing bytes are read; the
    # bytes left in the iterator then only show up in pending()
    parser = kernel.ResponseParser()
    pieces = iter(bytewise(raw + trailing))
    got = merged(drive(parser, pieces, eof=False, **kwargs))
    expected[-1] = (*expected[-1][:2], 0)
    assert got == expected
    for piece in pieces:
        parser.feed(piece)
    assert parser.pending() == len(trailing)
    assert parser.receive_body() == b""


def test_close_delimited_needs_eof(kernel):
    raw = b"HTTP/1.1 200 OK\r\n\r\nabc"
    assert parse(kernel, raw, eof=False) == [
        ("head", b"HTTP/1.1", 200, b"OK", [], False),
        ("data", b"abc"),
        ("need-data",),
    ]


def test_keep_alive_sequence_of_responses(kernel):
    raw = (
        CL_BODY
        + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        + b"HTTP/1.1 304 Not Modified\r\n\r\n"
    )
    for chunks in ([raw], bytewise(raw)):
        events = merged(drive(kernel.ResponseParser(), chunks, eof=False, responses=3))
        assert [e[0] for e in events] == ["head", "data", "end", "head", "data", "end",
                                         "head", "end"]
        assert events[1] == ("data", b"Hello, world!")
        assert events[4] == ("data", b"abc")
        assert events[6][2] == 304
        assert events[-1] == ("end", [], 0)
        if len(chunks) == 1:  # whole: the later responses are pending at each end
            assert events[2][2] == len(raw) - len(CL_BODY)


def test_head_and_body_in_one_read(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(CL_BODY)
    assert parser.receive_head()[1] == 200
    assert parser.pending() == 13
    assert parser.receive_body() == b"Hello, world!"
    assert parser.receive_body() == b""
    assert parser.receive_body() == b""  # end of message is sticky
    assert parser.pending() == 0
    assert parser.keep_alive is True


def test_chunked_returns_one_chunk_per_call(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert parser.receive_head() is not None
    assert parser.receive_body() == b"abc"
    assert parser.receive_body() == b"de"
    assert parser.receive_body() == b""
    assert parser.trailers == []


def test_content_length_body_returned_as_it_arrives(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab")
    assert parser.receive_head() is not None
    assert parser.receive_body() == b"ab"
    assert parser.receive_body() is None
    parser.feed(b"cdefXY")
    assert parser.receive_body() == b"cdef"
    assert parser.receive_body() == b""
    assert parser.pending() == 2
    assert parser.take_pending() == b"XY"
    assert parser.pending() == 0


def test_take_pending_after_101(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False, upgrade_request=True)
    parser.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n\x81\x05hello")
    assert parser.receive_head()[1] == 101
    assert parser.keep_alive is False
    assert parser.receive_body() == b""
    assert parser.take_pending() == b"\x81\x05hello"


def test_start_response_before_end_of_message_raises(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    with pytest.raises(RuntimeError, match="previous response"):
        parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n")
    assert parser.receive_head() is not None
    with pytest.raises(RuntimeError, match="previous response"):
        parser.start_response(False, False)


def test_calls_out_of_order_raise_runtime_error(kernel):
    parser = kernel.ResponseParser()
    with pytest.raises(RuntimeError):
        parser.receive_head()
    with pytest.raises(RuntimeError):
        parser.receive_body()
    parser.start_response(False, False)
    with pytest.raises(RuntimeError):
        parser.receive_body()
    parser.feed(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert parser.receive_head()[1] == 204
    with pytest.raises(RuntimeError):
        parser.receive_head()


def test_feed_after_eof_raises(kernel):
    parser = kernel.ResponseParser()
    parser.feed(b"")
    parser.feed(b"")  # EOF twice is harmless
    with pytest.raises(RuntimeError, match="EOF"):
        parser.feed(b"x")
    with pytest.raises(RuntimeError, match="EOF"):
        parser.get_buffer()
    parser = kernel.ResponseParser()
    parser.get_buffer(10)
    parser.buffer_updated(0)
    with pytest.raises(RuntimeError, match="EOF"):
        parser.feed(b"x")


def test_buffer_updated_larger_than_view_raises(kernel):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(8)
    assert len(view) == 8
    del view
    with pytest.raises(ValueError):
        parser.buffer_updated(9)


@pytest.mark.parametrize("hint", [-5, 0, 1, 7, 65536, 300000])
def test_get_buffer_size(kernel, hint):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(hint)
    assert len(view) == max(hint, 1)
    assert not view.readonly
    del view


def test_get_buffer_default_and_reuse(kernel):
    parser = kernel.ResponseParser()
    view = parser.get_buffer()
    assert 1 <= len(view) <= 65536
    view[:5] = b"HTTP/"
    del view
    parser.buffer_updated(5)
    assert parser.pending() == 5
    parser.start_response(False, False)
    assert parser.receive_head() is None
    view = parser.get_buffer(100)
    rest = b"1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    view[: len(rest)] = rest
    del view
    parser.buffer_updated(len(rest))
    assert parser.receive_head() == (b"HTTP/1.1", 200, b"OK", [(b"Content-Length", b"0")])


def test_old_view_stays_valid_after_growth(kernel):
    """A view kept (wrongly) across a growing get_buffer() must not corrupt the parser."""
    parser = kernel.ResponseParser()
    old = parser.get_buffer(16)
    old[:3] = b"abc"
    parser.buffer_updated(3)
    new = parser.get_buffer(1 << 20)  # forces a new allocation
    old[:3] = b"XYZ"  # writes into the old storage: harmless
    new[:2] = b"de"
    del new
    parser.buffer_updated(2)
    del old
    assert parser.take_pending() == b"abcde"


def test_large_body_in_many_pieces(kernel):
    body = bytes(range(256)) * 1024
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    parser = kernel.ResponseParser()
    pieces = [raw[i : i + 1000] for i in range(0, len(raw), 1000)]
    events = merged(drive(parser, pieces, eof=False, use_buffer=True))
    assert events[1] == ("data", body)
    assert events[2] == ("end", [], 0)


def test_head_in_small_pieces_is_linear(kernel):
    """A 90 kB head fed 7 bytes at a time parses (and fast: no quadratic rescans)."""
    raw = (
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(b"X-F%05d: %s\r\n" % (i, b"v" * 80) for i in range(1000))
        + b"Content-Length: 0\r\n\r\n"
    )
    assert len(raw) < 102400
    parser = kernel.ResponseParser()
    pieces = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    events = drive(parser, pieces, eof=False)
    assert events[0][0] == "head"
    assert len(events[0][4]) == 1001


def test_error_state_is_sticky(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/2.0 200 OK\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="unsupported HTTP version"):
        parser.receive_head()
    assert parser.keep_alive is False
    for call in (parser.receive_head, parser.receive_body,
                 lambda: parser.start_response(False, False), lambda: parser.feed(b"x")):
        with pytest.raises(RemoteProtocolError, match="unsupported HTTP version"):
            call()


def test_module_constants(kernel):
    assert kernel.KERNEL_NAME in ("cython", "python")
    # httpcore's h11 max_incomplete_event_size (100 KiB) + one httpcore read (64 KiB)
    assert kernel.HTTPCORE_MAX_INCOMPLETE_EVENT_SIZE == 102400
    assert kernel.HTTPCORE_READ_NUM_BYTES == 65536
    assert kernel.MAX_STATUS_LINE_SIZE == 167936
    assert kernel.MAX_FIELD_LINE_SIZE == 167936
    assert kernel.MAX_HEAD_SIZE == 167936
    assert kernel.MAX_FIELD_COUNT == 55978  # a head of 167936 bytes has fewer fields
    assert kernel.MAX_CHUNK_SIZE_LINE == 167936
    assert kernel.MAX_TRAILER_SIZE == 167936
    assert kernel.MAX_INFORMATIONAL == 100
    assert kernel.MAX_VIEW_SIZE == 1 << 24


def test_fixture_selects_the_kernel(kernel):
    from httpcore_fast import _kernel

    assert _kernel.get_kernel() is kernel
    assert kernel.KERNEL_NAME == _kernel.kernel_name()


def test_negative_limit_rejected(kernel):
    with pytest.raises(ValueError):
        kernel.ResponseParser(max_head_size=-1)


def test_push_helper_roundtrip(kernel):
    parser = kernel.ResponseParser()
    push(parser, b"abc", True)
    push(parser, b"def", False)
    assert parser.take_pending() == b"abcdef"


def test_huge_limits_accepted(kernel):
    import sys

    names = ["max_status_line_size", "max_field_line_size", "max_head_size",
             "max_field_count", "max_chunk_size_line", "max_trailer_size", "max_informational"]
    limits = dict.fromkeys(names, sys.maxsize)
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    assert parse(kernel, raw, limits=limits)[1:] == [("data", b"ok"), ("end", [], 0)]


def test_close_delimited_ids_exist():
    assert CLOSE_DELIMITED <= {case[0] for case in VALID}

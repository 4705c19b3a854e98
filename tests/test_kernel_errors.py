"""Hostile responses: every error rule of docs/kernel.md, exact type and message, on both
kernels, fed whole and one byte at a time (the error must not depend on the split)."""

from __future__ import annotations

import pytest

from httpcore_fast._exceptions import RemoteProtocolError
from tests.kernel_helpers import parse

# Runs on both kernels (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("kernel")

OK = b"HTTP/1.1 200 OK\r\n"
CHUNKED = OK + b"Transfer-Encoding: chunked\r\n\r\n"
INCOMPLETE_HEAD = "peer closed connection without sending complete response head"
INCOMPLETE_CHUNKED = (
    "peer closed connection without sending complete message body: incomplete chunked read"
)
UNEXPECTED_101 = "Received 101 Switching Protocols without a pending Upgrade proposal"
SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
DEFAULT_LIMIT = 167936  # httpcore's 100 KiB incomplete-event size + one 64 KiB read

# (id, raw response (EOF follows), start_response kwargs, exact message)
HOSTILE = [
    # EOF
    ("eof-before-anything", b"", {}, "Server disconnected without sending a response."),
    ("eof-after-1xx", b"HTTP/1.1 100 Continue\r\n\r\n", {},
     "Server disconnected without sending a response."),
    ("eof-in-status-line", b"HTTP/1.1 20", {}, INCOMPLETE_HEAD),
    ("eof-in-fields", OK + b"A: b\r\n", {}, INCOMPLETE_HEAD),
    ("eof-after-lone-cr", b"\r", {}, INCOMPLETE_HEAD),
    ("eof-in-content-length-body", OK + b"Content-Length: 10\r\n\r\nabc", {},
     "peer closed connection without sending complete message body: "
     "received 3 bytes, expected 10"),
    ("eof-in-chunk-size", CHUNKED + b"5", {}, INCOMPLETE_CHUNKED),
    ("eof-in-chunk-data", CHUNKED + b"5\r\nab", {}, INCOMPLETE_CHUNKED),
    ("eof-before-chunk-crlf", CHUNKED + b"2\r\nab", {}, INCOMPLETE_CHUNKED),
    ("eof-in-chunk-crlf", CHUNKED + b"2\r\nab\r", {}, INCOMPLETE_CHUNKED),
    ("eof-before-trailers", CHUNKED + b"0\r\n", {}, INCOMPLETE_CHUNKED),
    ("eof-in-trailers", CHUNKED + b"0\r\nA: b\r\n", {}, INCOMPLETE_CHUNKED),
    ("eof-after-trailer-cr", CHUNKED + b"0\r\n\r", {}, INCOMPLETE_CHUNKED),
    # status line
    ("http2-version", b"HTTP/2 200 OK\r\n\r\n", {}, "unsupported HTTP version b'HTTP/2'"),
    ("http09-version", b"HTTP/0.9 200 OK\r\n\r\n", {}, "unsupported HTTP version b'HTTP/0.9'"),
    ("http11-without-space", b"HTTP/1.1\r\n\r\n", {}, "malformed status line b'HTTP/1.1'"),
    ("lowercase-http", b"http/1.1 200 OK\r\n\r\n", {},
     "malformed status line b'http/1.1 200 OK'"),
    ("not-http", b"SSH-2.0-OpenSSH\r\n\r\n", {}, "malformed status line b'SSH-2.0-OpenSSH'"),
    ("two-digit-status", b"HTTP/1.1 20 OK\r\n\r\n", {}, "malformed status line b'HTTP/1.1 20 OK'"),
    ("four-digit-status", b"HTTP/1.1 2000 OK\r\n\r\n", {},
     "malformed status line b'HTTP/1.1 2000 OK'"),
    ("status-below-100", b"HTTP/1.1 099 X\r\n\r\n", {}, "malformed status line b'HTTP/1.1 099 X'"),
    ("status-with-sign", b"HTTP/1.1 +20 X\r\n\r\n", {}, "malformed status line b'HTTP/1.1 +20 X'"),
    ("status-unicode-digit", "HTTP/1.1 2٠0 X\r\n\r\n".encode(), {},
     "malformed status line b'HTTP/1.1 2\\xd9\\xa00 X'"),
    ("double-space", b"HTTP/1.1  200 OK\r\n\r\n", {}, "malformed status line b'HTTP/1.1  200 OK'"),
    ("tab-after-status", b"HTTP/1.1 200\tOK\r\n\r\n", {},
     "malformed status line b'HTTP/1.1 200\\tOK'"),
    ("nul-in-reason", b"HTTP/1.1 200 O\x00K\r\n\r\n", {}, "invalid control byte 0x00 in status line"),
    ("del-in-reason", b"HTTP/1.1 200 O\x7fK\r\n\r\n", {}, "invalid control byte 0x7f in status line"),
    ("esc-in-reason", b"HTTP/1.1 200 \x1b[31m\r\n\r\n", {}, "invalid control byte 0x1b in status line"),
    ("leading-crlf", b"\r\nHTTP/1.1 200 OK\r\n\r\n", {}, "response head starts with an empty line"),
    ("leading-lf", b"\nHTTP/1.1 200 OK\r\n\r\n", {}, "response head starts with an empty line"),
    ("leading-bare-cr", b"\rHTTP/1.1 200 OK\r\n\r\n", {}, "bare CR in response head"),
    ("empty-line-after-1xx", b"HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", {},
     "response head starts with an empty line"),
    # 101 to a request that did not propose an upgrade (RFC 9110 §15.2.2; h11 rejects it)
    ("101-without-upgrade", SWITCHING, {}, UNEXPECTED_101),
    ("101-without-upgrade-after-1xx", b"HTTP/1.1 100 Continue\r\n\r\n" + SWITCHING, {},
     UNEXPECTED_101),
    ("101-without-upgrade-no-reason", b"HTTP/1.0 101\r\n\r\n", {}, UNEXPECTED_101),
    ("101-to-connect-without-upgrade", SWITCHING, {"connect_request": True}, UNEXPECTED_101),
    ("101-to-head-without-upgrade", SWITCHING, {"head_request": True}, UNEXPECTED_101),
    ("101-framing-checked-first", b"HTTP/1.1 101 Switching\r\nContent-Length: x\r\n\r\n", {},
     "invalid Content-Length b'x'"),
    ("101-to-upgrade-bad-framing", b"HTTP/1.1 101 Switching\r\nContent-Length: x\r\n\r\n",
     {"upgrade_request": True}, "invalid Content-Length b'x'"),
    # field lines
    ("bare-cr-in-value", OK + b"A: b\rc\r\n\r\n", {}, "bare CR in response head"),
    ("bare-cr-line-end", OK + b"A: b\r\r\n\r\n", {}, "bare CR in response head"),
    ("bare-cr-in-status", b"HTTP/1.1 200 O\rK\r\n\r\n", {}, "bare CR in response head"),
    ("bare-cr-wins-over-ctl", OK + b"A: \x00\r\nB: \rx\r\n\r\n", {}, "bare CR in response head"),
    ("nul-in-value", OK + b"A: b\x00c\r\n\r\n", {}, "invalid control byte 0x00 in field line"),
    ("vt-in-value", OK + b"A: \x0b\r\n\r\n", {}, "invalid control byte 0x0b in field line"),
    ("del-in-value", OK + b"A: \x7f\r\n\r\n", {}, "invalid control byte 0x7f in field line"),
    ("ctl-in-name", OK + b"A\x01: b\r\n\r\n", {}, "invalid control byte 0x01 in field line"),
    ("no-colon", OK + b"NoColonHere\r\n\r\n", {}, "field line without colon b'NoColonHere'"),
    ("empty-name", OK + b": value\r\n\r\n", {}, "empty field name"),
    ("space-before-colon", OK + b"Name : value\r\n\r\n", {}, "invalid field name b'Name '"),
    ("non-token-name", OK + b"Na(me): value\r\n\r\n", {}, "invalid field name b'Na(me)'"),
    ("obs-text-in-name", OK + b"N\xe9: value\r\n\r\n", {}, "invalid field name b'N\\xe9'"),
    ("obs-fold-first", OK + b" folded: x\r\nA: b\r\n\r\n", {},
     "obs-fold at the start of the field section"),
    ("obs-fold-first-tab", OK + b"\tx\r\n\r\n", {}, "obs-fold at the start of the field section"),
    # framing
    ("content-length-letters", OK + b"Content-Length: 1a\r\n\r\n", {},
     "invalid Content-Length b'1a'"),
    ("content-length-sign", OK + b"Content-Length: +5\r\n\r\n", {}, "invalid Content-Length b'+5'"),
    ("content-length-underscore", OK + b"Content-Length: 1_0\r\n\r\n", {},
     "invalid Content-Length b'1_0'"),
    ("content-length-negative", OK + b"Content-Length: -1\r\n\r\n", {},
     "invalid Content-Length b'-1'"),
    ("content-length-empty", OK + b"Content-Length:\r\n\r\n", {}, "invalid Content-Length b''"),
    ("content-length-empty-item", OK + b"Content-Length: 5,,5\r\n\r\n", {},
     "invalid Content-Length b'5,,5'"),
    ("content-length-unicode-digit", OK + "Content-Length: ٣\r\n\r\n".encode(), {},
     "invalid Content-Length b'\\xd9\\xa3'"),
    ("content-length-inner-space", OK + b"Content-Length: 1 0\r\n\r\n", {},
     "invalid Content-Length b'1 0'"),
    ("content-length-19-digits", OK + b"Content-Length: 1000000000000000000\r\n\r\n", {},
     "invalid Content-Length b'1000000000000000000'"),
    ("content-length-conflict", OK + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", {},
     "conflicting Content-Length values"),
    ("content-length-conflict-list", OK + b"Content-Length: 5, 6\r\n\r\n", {},
     "conflicting Content-Length values"),
    ("content-length-folded", OK + b"Content-Length: 5\r\n 5\r\n\r\n", {},
     "invalid Content-Length b'5 5'"),
    ("bad-content-length-in-204", b"HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n", {},
     "invalid Content-Length b'x'"),
    ("bad-content-length-in-head", OK + b"Content-Length: x\r\n\r\n", {"head_request": True},
     "invalid Content-Length b'x'"),
    ("bad-content-length-in-1xx", b"HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\n", {},
     "invalid Content-Length b'x'"),
    ("transfer-encoding-gzip", OK + b"Transfer-Encoding: gzip\r\n\r\n", {},
     "unsupported Transfer-Encoding b'gzip'"),
    ("transfer-encoding-gzip-chunked", OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n", {},
     "unsupported Transfer-Encoding b'gzip, chunked'"),
    ("transfer-encoding-twice", OK + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
     b"\r\n\r\n", {}, "multiple Transfer-Encoding fields"),
    ("transfer-encoding-http10", b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {},
     "Transfer-Encoding in an HTTP/1.0 response"),
    ("transfer-encoding-and-content-length",
     OK + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", {},
     "both Transfer-Encoding and Content-Length"),
    # chunked body
    ("chunk-size-empty", CHUNKED + b"\r\n", {}, "invalid chunk-size line b''"),
    ("chunk-size-not-hex", CHUNKED + b"g\r\n", {}, "invalid chunk-size line b'g'"),
    ("chunk-size-0x", CHUNKED + b"0x5\r\nhello\r\n", {}, "invalid chunk-size line b'0x5'"),
    ("chunk-size-sign", CHUNKED + b"+5\r\nhello\r\n", {}, "invalid chunk-size line b'+5'"),
    ("chunk-size-underscore", CHUNKED + b"1_0\r\n", {}, "invalid chunk-size line b'1_0'"),
    ("chunk-size-leading-space", CHUNKED + b" 5\r\nhello\r\n", {}, "invalid chunk-size line b' 5'"),
    ("chunk-size-16-digits", CHUNKED + b"0000000000000005\r\nhello\r\n", {},
     "chunk size has more than 15 hex digits"),
    ("chunk-size-junk", CHUNKED + b"5 x\r\nhello\r\n", {}, "invalid chunk-size line b'5 x'"),
    ("chunk-size-bare-cr", CHUNKED + b"5\r;x\r\nhello\r\n", {}, "bare CR in chunk-size line"),
    ("chunk-ext-nul", CHUNKED + b"5;a\x00b\r\nhello\r\n", {},
     "invalid control byte 0x00 in chunk extension"),
    ("chunk-ext-del", CHUNKED + b"5;a=\x7f\r\nhello\r\n", {},
     "invalid control byte 0x7f in chunk extension"),
    ("chunk-data-no-crlf", CHUNKED + b"5\r\nhelloX\r\n0\r\n\r\n", {},
     "chunk data not followed by CRLF"),
    ("chunk-data-cr-no-lf", CHUNKED + b"5\r\nhello\rX0\r\n\r\n", {},
     "chunk data not followed by CRLF"),
    ("chunk-too-long", CHUNKED + b"3\r\nhello\r\n0\r\n\r\n", {}, "chunk data not followed by CRLF"),
    # chunked framing: every line terminator is CRLF (RFC 9112 §7.1, §7.1.2)
    ("chunk-size-bare-lf", CHUNKED + b"5\nhello\r\n0\r\n\r\n", {},
     "bare LF ending a chunk-size line"),
    ("chunk-size-ext-bare-lf", CHUNKED + b"5;a=b\nhello\r\n0\r\n\r\n", {},
     "bare LF ending a chunk-size line"),
    ("chunk-size-ows-bare-lf", CHUNKED + b"5 \t\nhello\r\n0\r\n\r\n", {},
     "bare LF ending a chunk-size line"),
    ("later-chunk-size-bare-lf", CHUNKED + b"1\r\na\r\n1\nb\r\n0\r\n\r\n", {},
     "bare LF ending a chunk-size line"),
    ("chunk-size-invalid-before-bare-lf", CHUNKED + b"zz\nhello\r\n", {},
     "invalid chunk-size line b'zz'"),
    ("chunk-size-too-long-before-bare-lf", CHUNKED + b"0" * 16 + b"\n", {},
     "chunk size has more than 15 hex digits"),
    ("chunk-size-cr-inside-bare-lf", CHUNKED + b"5\r;x\nhello\r\n", {},
     "bare CR in chunk-size line"),
    ("last-chunk-bare-lf", CHUNKED + b"0\n\r\n", {}, "bare LF ending the last chunk"),
    ("last-chunk-zeros-ext-bare-lf", CHUNKED + b"000;end\n\r\n", {},
     "bare LF ending the last chunk"),
    ("last-chunk-bare-lf-after-data", CHUNKED + b"2\r\nab\r\n0\n\n", {},
     "bare LF ending the last chunk"),
    ("chunk-data-bare-lf", CHUNKED + b"5\r\nhello\n0\r\n\r\n", {}, "bare LF after chunk data"),
    ("chunk-data-bare-lf-lf", CHUNKED + b"5\r\nhello\n\n", {}, "bare LF after chunk data"),
    ("trailer-section-bare-lf", CHUNKED + b"0\r\n\n", {}, "bare LF ending the trailer section"),
    ("trailer-section-bare-lf-then-more", CHUNKED + b"0\r\n\nHTTP/1.1 200 OK\r\n\r\n", {},
     "bare LF ending the trailer section"),
    ("trailer-end-bare-lf", CHUNKED + b"0\r\nA: b\r\n\n", {}, "bare LF ending the trailer section"),
    ("trailer-line-bare-lf", CHUNKED + b"0\r\nA: b\n\r\n", {},
     "bare LF ending a trailer field line"),
    ("trailer-second-line-bare-lf", CHUNKED + b"0\r\nA: b\r\nC: d\nE: f\r\n\r\n", {},
     "bare LF ending a trailer field line"),
    ("trailer-all-bare-lf", CHUNKED + b"0\r\nA: b\nB: c\n\n", {},
     "bare LF ending a trailer field line"),
    ("trailer-bare-cr-wins-over-bare-lf", CHUNKED + b"0\r\nA: b\nB: \rc\r\n\r\n", {},
     "bare CR in trailer section"),
    ("trailer-bare-lf-wins-over-ctl", CHUNKED + b"0\r\nA: \x00\r\nB: c\n\r\n", {},
     "bare LF ending a trailer field line"),
    ("trailer-bare-lf-wins-over-no-colon", CHUNKED + b"0\r\nbad\nB: c\r\n\r\n", {},
     "bare LF ending a trailer field line"),
    ("trailer-bare-cr-start", CHUNKED + b"0\r\n\rX", {}, "bare CR in trailer section"),
    ("trailer-bare-cr", CHUNKED + b"0\r\nA: b\rc\r\n\r\n", {}, "bare CR in trailer section"),
    ("trailer-nul", CHUNKED + b"0\r\nA: \x00\r\n\r\n", {}, "invalid control byte 0x00 in field line"),
    ("trailer-no-colon", CHUNKED + b"0\r\nbad\r\n\r\n", {}, "field line without colon b'bad'"),
    ("trailer-obs-fold-first", CHUNKED + b"0\r\n x\r\n\r\n", {},
     "obs-fold at the start of the field section"),
    # limits at their defaults
    ("default-max-head-size", OK + b"A: " + b"a" * DEFAULT_LIMIT + b"\r\n\r\n", {},
     "response head exceeds max_head_size (167936 bytes)"),
    ("default-max-head-size-unterminated", OK + b"A: " + b"a" * DEFAULT_LIMIT, {},
     "response head exceeds max_head_size (167936 bytes)"),
    ("default-max-chunk-size-line", CHUNKED + b"1;" + b"e" * DEFAULT_LIMIT + b"\r\nx\r\n", {},
     "chunk-size line exceeds max_chunk_size_line (167936 bytes)"),
    ("default-max-trailer-size", CHUNKED + b"0\r\nA: " + b"t" * DEFAULT_LIMIT + b"\r\n\r\n", {},
     "trailer section exceeds max_trailer_size (167936 bytes)"),
    ("default-max-informational", b"HTTP/1.1 100 Continue\r\n\r\n" * 101, {},
     "too many informational responses (exceeds max_informational 100)"),
]


@pytest.mark.parametrize("use_buffer", [False, True], ids=["feed", "get_buffer"])
@pytest.mark.parametrize("split", ["whole", "bytewise"])
@pytest.mark.parametrize(
    "raw, kwargs, message", [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE]
)
def test_hostile_response(kernel, raw, kwargs, message, split, use_buffer):
    if split == "bytewise" and len(raw) > 5000:
        split = "whole"  # the big inputs: tests/test_kernel_limits.py splits them
    events = parse(kernel, raw, split=split, use_buffer=use_buffer, **kwargs)
    assert events[-1] == ("error", "RemoteProtocolError", message)


# every error that does not come from EOF is the same when more bytes follow
WITHOUT_EOF = [case for case in HOSTILE if not case[0].startswith("eof-")]
TRAILING = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("split", ["whole", "bytewise"])
@pytest.mark.parametrize(
    "raw, kwargs, message",
    [case[1:] for case in WITHOUT_EOF],
    ids=[case[0] for case in WITHOUT_EOF],
)
def test_hostile_response_with_trailing_bytes(kernel, raw, kwargs, message, split):
    if split == "bytewise" and len(raw) > 5000:
        split = "whole"
    events = parse(kernel, raw + TRAILING, split=split, eof=False, **kwargs)
    assert events[-1] == ("error", "RemoteProtocolError", message)


# (limit keyword, value, raw response, message); each exceeds the limit by one byte/item,
# and the same response within the limit (value + 1) parses.
LIMITS = [
    ("max_status_line_size", 15, b"HTTP/1.1 200 OK!\r\n\r\n",
     "status line exceeds max_status_line_size (15 bytes)"),
    ("max_field_line_size", 11, OK + b"Abc: def\r\nA: 123456789\r\n\r\n",
     "field line exceeds max_field_line_size (11 bytes)"),
    ("max_head_size", 43, OK + b"A: b\r\nContent-Length: 0\r\n\r\n",
     "response head exceeds max_head_size (43 bytes)"),
    ("max_field_count", 2, OK + b"A: 1\r\nB: 2\r\n C\r\nContent-Length: 0\r\n\r\n",
     "too many field lines (exceeds max_field_count 2)"),
    ("max_chunk_size_line", 5, CHUNKED + b"1;abcd\r\nx\r\n0\r\n\r\n",
     "chunk-size line exceeds max_chunk_size_line (5 bytes)"),
    ("max_trailer_size", 13, CHUNKED + b"0\r\nA: 1\r\nB: 2\r\n\r\n",
     "trailer section exceeds max_trailer_size (13 bytes)"),
    ("max_field_count", 1, CHUNKED + b"0\r\nA: 1\r\nB: 2\r\n\r\n",
     "too many field lines (exceeds max_field_count 1)"),
    ("max_informational", 2, b"HTTP/1.1 100 Continue\r\n\r\n" * 3 + OK + b"Content-Length: 0\r\n\r\n",
     "too many informational responses (exceeds max_informational 2)"),
    ("max_informational", 0, b"HTTP/1.1 102 Processing\r\n\r\n" + OK + b"Content-Length: 0\r\n\r\n",
     "too many informational responses (exceeds max_informational 0)"),
]


@pytest.mark.parametrize("split", ["whole", "bytewise"])
@pytest.mark.parametrize(
    "name, value, raw, message", LIMITS, ids=[f"{c[0]}-{c[1]}" for c in LIMITS]
)
def test_limit_exceeded(kernel, name, value, raw, message, split):
    events = parse(kernel, raw, split=split, limits={name: value})
    assert events[-1] == ("error", "RemoteProtocolError", message)
    assert name in message
    ok = parse(kernel, raw, split=split, limits={name: value + 1})
    assert ok[-1][0] == "end", ok


@pytest.mark.parametrize(
    "limit, raw",
    [
        ("max_chunk_size_line", CHUNKED + b"1;" + b"e" * 20),  # no LF in sight
        ("max_head_size", OK + b"A: " + b"b" * 100),
        ("max_trailer_size", CHUNKED + b"0\r\nA: " + b"b" * 100),
    ],
)
def test_limit_hit_before_terminator_arrives(kernel, limit, raw):
    """An unterminated line or section is rejected as soon as it passes the limit."""
    for split in ("whole", "bytewise"):
        events = parse(kernel, raw, split=split, eof=False, limits={limit: 20})
        assert events[-1][:2] == ("error", "RemoteProtocolError")
        assert f"exceeds {limit} (20 bytes)" in events[-1][2]


def test_limit_exactly_reached_is_accepted(kernel):
    head = OK + b"Content-Length: 0\r\n\r\n"
    assert parse(kernel, head, limits={"max_head_size": len(head)})[-1] == ("end", [], 0)
    status = OK.rstrip(b"\r\n")
    assert parse(kernel, head, limits={"max_status_line_size": len(status)})[-1][0] == "end"
    chunked = CHUNKED + b"1;ab\r\nx\r\n0\r\n\r\n"
    assert parse(kernel, chunked, split="bytewise", limits={"max_chunk_size_line": 4})[-1][0] == "end"
    assert parse(kernel, chunked, limits={"max_chunk_size_line": 3})[-1][:2] == (
        "error", "RemoteProtocolError")


def test_continue_flood(kernel):
    """An endless stream of 100 Continue is cut off at max_informational."""
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    raised = None
    for _ in range(MAX_ROUNDS):
        parser.feed(b"HTTP/1.1 100 Continue\r\n\r\n" * 7)
        try:
            assert parser.receive_head() is None
        except RemoteProtocolError as exc:
            raised = exc
            break
    assert raised is not None
    assert str(raised) == "too many informational responses (exceeds max_informational 100)"


MAX_ROUNDS = 100


@pytest.mark.parametrize("size", [10, 18])
def test_content_length_18_digits_accepted(kernel, size):
    value = b"9" * size
    events = parse(kernel, OK + b"Content-Length: " + value + b"\r\n\r\nabc", eof=False)
    assert events[0][4] == [(b"Content-Length", value)]
    assert events[1:] == [("data", b"abc"), ("need-data",)]


def test_chunk_size_15_hex_digits_accepted(kernel):
    events = parse(kernel, CHUNKED + b"00000000000000F\r\n" + b"x" * 15 + b"\r\n0\r\n\r\n")
    assert events[1:] == [("data", b"x" * 15), ("end", [], 0)]

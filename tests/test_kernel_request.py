"""serialize_request_head: valid and invalid tables, on both kernels."""

from __future__ import annotations

import pytest

from httpcore_fast._exceptions import LocalProtocolError

HOST = (b"Host", b"example.com")

# (id, method, target, headers, expected head, body_length, close)
VALID = [
    ("minimal", b"GET", b"/", [HOST],
     b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, False),
    ("host-moved-first", b"POST", b"/submit?a=1", [(b"Accept", b"*/*"), (b"hOST", b"h:8080"),
                                                   (b"Content-Length", b"5")],
     b"POST /submit?a=1 HTTP/1.1\r\nhOST: h:8080\r\nAccept: */*\r\nContent-Length: 5\r\n\r\n",
     5, False),
    ("chunked", b"PUT", b"/x", [HOST, (b"Transfer-Encoding", b"Chunked")],
     b"PUT /x HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: Chunked\r\n\r\n", -1, False),
    ("connection-close", b"GET", b"*", [HOST, (b"Connection", b"keep-alive, Close")],
     b"GET * HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, Close\r\n\r\n", 0, True),
    ("connection-closed-is-not-close", b"GET", b"/", [HOST, (b"Connection", b"closed")],
     b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: closed\r\n\r\n", 0, False),
    ("content-length-list", b"POST", b"/", [HOST, (b"Content-Length", b"12, 12"),
                                            (b"content-length", b"012")],
     b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 12, 12\r\ncontent-length: 012"
     b"\r\n\r\n", 12, False),
    ("empty-value-obs-text-htab", b"GET", b"/", [HOST, (b"X-Empty", b""),
                                                 (b"X-Text", b"caf\xc3\xa9\tok")],
     b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Empty: \r\nX-Text: caf\xc3\xa9\tok\r\n\r\n",
     0, False),
    ("token-method-and-names", b"M-SEARCH!#$%&'*+.^_`|~", b"http://a/b%20c",
     [HOST, (b"!#$%&'*+-.^_`|~09azAZ", b"v")],
     b"M-SEARCH!#$%&'*+.^_`|~ http://a/b%20c HTTP/1.1\r\nHost: example.com\r\n"
     b"!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", 0, False),
    ("content-length-18-digits", b"POST", b"/", [HOST, (b"Content-Length", b"9" * 18)],
     b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: " + b"9" * 18 + b"\r\n\r\n",
     10**18 - 1, False),
]


@pytest.mark.parametrize(
    "method, target, headers, head, body_length, close",
    [case[1:] for case in VALID],
    ids=[case[0] for case in VALID],
)
def test_serialize_valid(kernel, method, target, headers, head, body_length, close):
    result = kernel.serialize_request_head(method, target, headers)
    assert result == (head, body_length, close)
    assert type(result[0]) is bytes


# (id, method, target, headers, exact message)
INVALID = [
    ("empty-method", b"", b"/", [HOST], "Illegal method b''"),
    ("space-in-method", b"GE T", b"/", [HOST], "Illegal method b'GE T'"),
    ("crlf-in-method", b"GET\r\n", b"/", [HOST], "Illegal method b'GET\\r\\n'"),
    ("method-before-target", b"G\x00", b"/\x00", [HOST], "Illegal method b'G\\x00'"),
    ("empty-target", b"GET", b"", [HOST], "Illegal target b''"),
    ("space-in-target", b"GET", b"/a b", [HOST], "Illegal target b'/a b'"),
    ("crlf-in-target", b"GET", b"/\r\nX: y", [HOST], "Illegal target b'/\\r\\nX: y'"),
    ("nul-in-target", b"GET", b"/\x00", [HOST], "Illegal target b'/\\x00'"),
    ("del-in-target", b"GET", b"/\x7f", [HOST], "Illegal target b'/\\x7f'"),
    ("non-ascii-target", b"GET", "/é".encode(), [HOST], "Illegal target b'/\\xc3\\xa9'"),
    ("empty-name", b"GET", b"/", [HOST, (b"", b"v")], "Illegal header name b''"),
    ("space-in-name", b"GET", b"/", [HOST, (b"X Y", b"v")], "Illegal header name b'X Y'"),
    ("colon-in-name", b"GET", b"/", [HOST, (b"X:", b"v")], "Illegal header name b'X:'"),
    ("crlf-in-name", b"GET", b"/", [HOST, (b"X\r\nY", b"v")], "Illegal header name b'X\\r\\nY'"),
    ("crlf-in-value", b"GET", b"/", [HOST, (b"X", b"a\r\nb")], "Illegal header value b'a\\r\\nb'"),
    ("lf-in-value", b"GET", b"/", [HOST, (b"X", b"a\nb")], "Illegal header value b'a\\nb'"),
    ("nul-in-value", b"GET", b"/", [HOST, (b"X", b"a\x00b")], "Illegal header value b'a\\x00b'"),
    ("del-in-value", b"GET", b"/", [HOST, (b"X", b"\x7f")], "Illegal header value b'\\x7f'"),
    ("leading-space-value", b"GET", b"/", [HOST, (b"X", b" a")], "Illegal header value b' a'"),
    ("trailing-tab-value", b"GET", b"/", [HOST, (b"X", b"a\t")], "Illegal header value b'a\\t'"),
    ("first-offending-field-wins", b"GET", b"/", [(b"X", b"\x00"), (b"Y Z", b"v")],
     "Illegal header value b'\\x00'"),
    ("missing-host", b"GET", b"/", [(b"Accept", b"*/*")], "Missing mandatory Host: header"),
    ("multiple-host", b"GET", b"/", [HOST, (b"host", b"b")], "Multiple Host: headers"),
    ("content-length-letters", b"POST", b"/", [HOST, (b"Content-Length", b"5a")],
     "Invalid Content-Length b'5a'"),
    ("content-length-sign", b"POST", b"/", [HOST, (b"Content-Length", b"+5")],
     "Invalid Content-Length b'+5'"),
    ("content-length-underscore", b"POST", b"/", [HOST, (b"Content-Length", b"1_000")],
     "Invalid Content-Length b'1_000'"),
    ("content-length-empty", b"POST", b"/", [HOST, (b"Content-Length", b"")],
     "Invalid Content-Length b''"),
    ("content-length-19-digits", b"POST", b"/", [HOST, (b"Content-Length", b"1" * 19)],
     "Invalid Content-Length b'1111111111111111111'"),
    ("content-length-conflict", b"POST", b"/", [HOST, (b"Content-Length", b"1"),
                                                (b"Content-Length", b"2")],
     "Conflicting Content-Length headers"),
    ("content-length-list-conflict", b"POST", b"/", [HOST, (b"Content-Length", b"1,2")],
     "Conflicting Content-Length headers"),
    ("transfer-encoding-gzip", b"POST", b"/", [HOST, (b"Transfer-Encoding", b"gzip")],
     "Unsupported Transfer-Encoding b'gzip'"),
    ("transfer-encoding-twice", b"POST", b"/", [HOST, (b"Transfer-Encoding", b"chunked"),
                                                (b"Transfer-Encoding", b"chunked")],
     "Multiple Transfer-Encoding headers"),
    ("content-length-and-transfer-encoding", b"POST", b"/",
     [HOST, (b"Content-Length", b"3"), (b"Transfer-Encoding", b"chunked")],
     "Content-Length and Transfer-Encoding both set"),
]


@pytest.mark.parametrize(
    "method, target, headers, message",
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_serialize_invalid(kernel, method, target, headers, message):
    with pytest.raises(LocalProtocolError) as info:
        kernel.serialize_request_head(method, target, headers)
    assert str(info.value) == message


@pytest.mark.parametrize("byte", [b for b in range(256) if b not in (9,) and (b < 0x20 or b == 0x7F)])
def test_every_control_byte_rejected_in_value(kernel, byte):
    value = b"a" + bytes([byte]) + b"b"
    with pytest.raises(LocalProtocolError, match="Illegal header value"):
        kernel.serialize_request_head(b"GET", b"/", [HOST, (b"X", value)])


@pytest.mark.parametrize(
    "method, target, headers",
    [
        ("GET", b"/", [HOST]),
        (b"GET", "/", [HOST]),
        (b"GET", b"/", [("Host", b"x")]),
        (b"GET", b"/", [(b"Host", "x")]),
        (bytearray(b"GET"), b"/", [HOST]),
    ],
)
def test_non_bytes_arguments_raise_type_error(kernel, method, target, headers):
    with pytest.raises(TypeError):
        kernel.serialize_request_head(method, target, headers)


def test_header_tuples_may_be_lists(kernel):
    head, _, _ = kernel.serialize_request_head(b"GET", b"/", [[b"Host", b"h"]])
    assert head == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"

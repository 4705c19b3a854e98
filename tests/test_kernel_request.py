"""serialize_request_head: valid and invalid tables, on both kernels."""

from __future__ import annotations

import pytest

from httpcore_fast._exceptions import LocalProtocolError

# Runs on both kernels (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("kernel")

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
    assert result == (head, body_length, close, False)
    assert type(result[0]) is bytes


# (id, Upgrade field values, the request proposes an upgrade): RFC 9110 §7.8, and h11's
# reading of the list (empty items dropped), which decides whether httpcore accepts a 101.
UPGRADE = [
    ("none", [], False),
    ("websocket", [(b"Upgrade", b"websocket")], True),
    ("any-case-name", [(b"uPgRaDe", b"h2c")], True),
    ("list", [(b"Upgrade", b"h2c, websocket")], True),
    ("empty", [(b"Upgrade", b"")], False),
    ("only-commas", [(b"Upgrade", b", ,\t,")], False),
    ("empty-then-real", [(b"Upgrade", b""), (b"Upgrade", b"websocket")], True),
    ("item-after-commas", [(b"Upgrade", b",, x")], True),
    ("other-name", [(b"X-Upgrade", b"websocket"), (b"Upgrades", b"x")], False),
    ("value-says-upgrade", [(b"Connection", b"upgrade")], False),
]


@pytest.mark.parametrize(
    "fields, upgrade", [case[1:] for case in UPGRADE], ids=[case[0] for case in UPGRADE]
)
def test_upgrade_proposal(kernel, fields, upgrade):
    head, _, close, proposed = kernel.serialize_request_head(b"GET", b"/", [HOST, *fields])
    assert proposed is upgrade
    assert close is False


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
    head, *_ = kernel.serialize_request_head(b"GET", b"/", [[b"Host", b"h"]])
    assert head == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


# --- hostile Python objects: each header item is looked at once (memory safety) ----------


class _FlipItem:
    """A header item whose iteration gives a longer value each time it is iterated."""

    def __init__(self) -> None:
        self.calls = 0

    def __iter__(self):
        self.calls += 1
        return iter((b"X-Flip", b"v" * (10**self.calls)))


class _IndexedItem:
    """A sequence without ``__iter__``: iterated through ``__getitem__``, which answers
    differently on every call."""

    def __init__(self) -> None:
        self.calls = 0

    def __getitem__(self, index: int) -> bytes:
        if index >= 2:
            raise IndexError(index)
        self.calls += 1
        return (b"X-Indexed", b"w" * self.calls)[index]


class _ShiftyList(list):
    """A list subclass whose iteration gives other (longer) items each time."""

    iterations = 0

    def __iter__(self):
        type(self).iterations += 1
        return iter([HOST, (b"X-Shifty", b"s" * (100 * type(self).iterations))])


class _LyingTuple(tuple):
    """A tuple subclass whose ``__iter__`` disagrees with its items."""

    def __iter__(self):
        return iter((b"X-Lie", b"from-iter"))


class _LongerThanItSays:
    def __len__(self) -> int:
        return 2

    def __iter__(self):
        return iter((b"X", b"y", b"z"))


class _BigBytes(bytes):
    def __len__(self) -> int:
        return 10**6


def test_item_iterated_once_even_if_it_changes(kernel):
    item = _FlipItem()
    head, *_ = kernel.serialize_request_head(b"GET", b"/", [HOST, item])
    assert item.calls == 1
    assert head == b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Flip: " + b"v" * 10 + b"\r\n\r\n"


def test_item_read_through_getitem_once(kernel):
    item = _IndexedItem()
    head, *_ = kernel.serialize_request_head(b"GET", b"/", [item, HOST])
    assert item.calls == 2  # index 0 and 1, each once
    assert head == b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Indexed: ww\r\n\r\n"


def test_list_subclass_iterated_once(kernel):
    _ShiftyList.iterations = 0
    head, *_ = kernel.serialize_request_head(b"GET", b"/", _ShiftyList([(b"A", b"b")]))
    assert _ShiftyList.iterations == 1
    assert head == b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Shifty: " + b"s" * 100 + b"\r\n\r\n"


def test_headers_list_emptied_by_an_item_while_iterated(kernel):
    """An item that clears the caller's list mid-iteration: the loop stops as Python's
    ``for`` does (no read past the list's end), in both kernels."""
    headers: list = []

    class Clearing:
        def __iter__(self):
            headers.clear()
            return iter((b"A", b"b"))

    headers += [HOST, Clearing(), (b"Never", b"seen"), (b"Nor", b"this")]
    head, *_ = kernel.serialize_request_head(b"GET", b"/", headers)
    assert head == b"GET / HTTP/1.1\r\nHost: example.com\r\nA: b\r\n\r\n"


def test_headers_list_grown_by_an_item_while_iterated(kernel):
    headers: list = []

    class Growing:
        def __iter__(self):
            if len(headers) < 6:
                headers.append(Growing())
            return iter((b"G", b"%d" % len(headers)))

    headers += [HOST, Growing()]
    head, *_ = kernel.serialize_request_head(b"GET", b"/", headers)
    assert head == (
        b"GET / HTTP/1.1\r\nHost: example.com\r\n"
        + b"".join(b"G: %d\r\n" % n for n in range(3, 7))
        + b"G: 6\r\n\r\n"
    )


def test_tuple_subclass_is_read_through_its_iter(kernel):
    head, *_ = kernel.serialize_request_head(
        b"GET", b"/", [HOST, _LyingTuple((b"X-Lie", b"from-items"))]
    )
    assert head == b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Lie: from-iter\r\n\r\n"


def test_headers_from_a_generator(kernel):
    head, length, *_ = kernel.serialize_request_head(
        b"POST", b"/", (pair for pair in [HOST, (b"Content-Length", b"3")])
    )
    assert head == b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\n"
    assert length == 3


# (id, header item, exception type, exact message)
BAD_ITEMS = [
    ("one-element", (b"Host",), ValueError, "a header must be a (name, value) pair, not 1 items"),
    ("three-elements", (b"X", b"y", b"z"), ValueError,
     "a header must be a (name, value) pair, not 3 items"),
    ("empty", (), ValueError, "a header must be a (name, value) pair, not 0 items"),
    ("list-of-three", [b"X", b"y", b"z"], ValueError,
     "a header must be a (name, value) pair, not 3 items"),
    ("len-lies", _LongerThanItSays(), ValueError,
     "a header must be a (name, value) pair, not 3 items"),
    ("not-iterable", 7, TypeError, "'int' object is not iterable"),
    ("two-byte-bytes", b"ab", TypeError, "header names and values must be bytes"),
    ("str-pair", ("Host", "x"), TypeError, "header names and values must be bytes"),
    ("bytes-subclass-name", (_BigBytes(b"X"), b"y"), TypeError,
     "header names and values must be bytes"),
    ("bytes-subclass-value", (b"X", _BigBytes(b"y")), TypeError,
     "header names and values must be bytes"),
    ("bytearray-value", (b"X", bytearray(b"y")), TypeError,
     "header names and values must be bytes"),
    ("none", None, TypeError, "'NoneType' object is not iterable"),
]


@pytest.mark.parametrize(
    "item, exc_type, message", [c[1:] for c in BAD_ITEMS], ids=[c[0] for c in BAD_ITEMS]
)
def test_bad_header_item(kernel, item, exc_type, message):
    with pytest.raises(exc_type) as info:
        kernel.serialize_request_head(b"GET", b"/", [HOST, item])
    assert type(info.value) is exc_type
    assert str(info.value) == message


def test_bad_item_after_an_invalid_field_is_not_reached(kernel):
    """Items are checked in order: the first offending item wins."""
    with pytest.raises(LocalProtocolError, match="Illegal header name"):
        kernel.serialize_request_head(b"GET", b"/", [(b"A B", b"v"), (b"X",)])

"""Hypothesis strategies for fuzzing the kernels: structured responses and request heads.

Builds on the generators of ``tests/test_kernel_differential.py`` (its ``responses``,
``mutated``, ``splits`` and ``limits``) and adds the structure those leave out: generated
status lines (versions, codes, reasons), field lines with every kind of separator, bad
bytes and obs-fold, framing headers (Content-Length lists, signs, 19-digit values,
Transfer-Encoding lists), informational responses before the final one, chunked bodies
with wrong sizes, extensions and trailers, pipelined responses, and byte-level mutation
of the whole. Every draw is turned into the input format of ``fuzz/harness.py`` so that a
failing example is a file any engine can replay.
"""

from __future__ import annotations

from hypothesis import strategies as st

from fuzz.harness import LIMIT_NAMES, ResponseCase, encode_request, encode_response
from tests.test_kernel_differential import limits as small_limits
from tests.test_kernel_differential import mutated
from tests.test_kernel_differential import responses as simple_responses

EOLS = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"\n\r", b""])

versions = st.sampled_from(
    [
        b"HTTP/1.1",
        b"HTTP/1.1",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/2",
        b"HTTP/2.0",
        b"HTTP/1.",
        b"HTTP/1.10",
        b"http/1.1",
        b"HTTP/1.1x",
        b"HTTP/",
        b"ICY",
        b"",
        b"HTTP/0.9",
    ]
)
codes = st.one_of(
    st.sampled_from([b"200", b"200", b"204", b"304", b"100", b"101", b"103", b"404", b"999"]),
    st.integers(0, 1200).map(lambda n: str(n).encode()),
    st.sampled_from([b"20", b"2000", b"099", b"-20", b" 200", b"2a0", b"\xd9\xa0\xd9\xa0"]),
)
reasons = st.one_of(
    st.sampled_from([b" OK", b"", b" ", b" Not Found", b" a\tb", b"  two  ", b" \x80\xff"]),
    st.binary(max_size=8).map(lambda b: b" " + b),
)
status_lines = st.one_of(
    st.builds(
        lambda v, sp, c, r: v + sp + c + r,
        versions,
        st.sampled_from([b" ", b" ", b"  ", b"\t", b""]),
        codes,
        reasons,
    ),
    st.binary(max_size=16),
)

names = st.one_of(
    st.sampled_from(
        [
            b"Content-Length",
            b"content-length",
            b"CONTENT-LENGTH",
            b"Transfer-Encoding",
            b"transfer-encoding",
            b"Connection",
            b"Upgrade",
            b"uPGRADE",
            b"Host",
            b"X-A",
            b"Set-Cookie",
            b"Trailer",
            b"Expires",
            b"Bad Name",
            b"",
            b"X\x00",
            b"Content-Length ",
            b" X",
            b"\xe9",
        ]
    ),
    st.text("abcXYZ-_!#.~:", min_size=1, max_size=8).map(str.encode),
)
separators = st.sampled_from([b":", b": ", b":  ", b":\t", b" :", b"", b"::", b": \t "])
content_lengths = st.one_of(
    st.integers(0, 40).map(lambda n: str(n).encode()),
    st.sampled_from(
        [
            b"",
            b" ",
            b"+5",
            b"-1",
            b"0x5",
            b"5 5",
            b"5,5",
            b"5, 5",
            b"5,,5",
            b"5,",
            b",5",
            b"05",
            b"5, 6",
            b"1" * 18,
            b"1" * 19,
            b"9" * 18,
            b"1_0",
            b"\xd9\xa5",
            b"5\x00",
        ]
    ),
)
transfer_encodings = st.sampled_from(
    [
        b"chunked",
        b"Chunked",
        b"CHUNKED",
        b" chunked ",
        b"gzip",
        b"gzip, chunked",
        b"chunked, chunked",
        b"identity",
        b"",
        b"chunk",
        b"chunked;q=1",
        b"\xe9chunked",
    ]
)
values = st.one_of(
    st.sampled_from(
        [
            b"close",
            b"keep-alive",
            b"Keep-Alive, Close",
            b"upgrade",
            b"websocket",
            b" , ,",
            b"",
            b"v",
            b"a\x00b",
            b"a\x7fb",
            b"a\rb",
            b"\x80\xff",
            b"a\tb",
            b" padded ",
        ]
    ),
    st.binary(max_size=10),
    st.text(' \tabc,;="0123456789', max_size=12).map(str.encode),
)


# Chunked framing allows CRLF only: a chunked body draws one of these for all its line ends
# (all CRLF, CRLF with an odd bare LF, or anything).
CHUNKED_EOLS = st.sampled_from(
    [
        st.just(b"\r\n"),
        st.just(b"\r\n"),
        st.sampled_from([b"\r\n"] * 9 + [b"\n"]),
        EOLS,
    ]
)


@st.composite
def field_lines(draw, *, trailer: bool = False, eols=EOLS):
    """Field lines (each with its terminator from ``eols``), sometimes folded or broken."""
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 15)) == 0:  # obs-fold continuation (maybe first: an error)
            lines.append(draw(st.sampled_from([b" ", b"\t", b"  "])) + draw(values) + draw(eols))
            continue
        name = draw(names)
        lower = name.lower()
        if lower == b"content-length":
            value = draw(content_lengths)
        elif lower == b"transfer-encoding":
            value = draw(transfer_encodings)
        else:
            value = draw(values)
        lines.append(name + draw(separators) + value + draw(eols))
    if trailer and draw(st.booleans()):
        lines.append(b"Expires: never\r\n")
    return b"".join(lines)


@st.composite
def chunked_body(draw):
    """Chunks (sizes right or wrong, extensions), the last chunk, maybe trailers."""
    eols = draw(CHUNKED_EOLS)
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        data = draw(st.binary(max_size=12))
        size = draw(
            st.one_of(
                st.just(b"%x" % len(data)),
                st.just(b"%X" % len(data)),
                st.just(b"%04x" % len(data)),
                st.sampled_from(
                    [
                        b"",
                        b"g",
                        b"-1",
                        b"+1",
                        b"0x1",
                        b"1_0",
                        b" 1",
                        b"f" * 16,
                        b"0" * 16 + b"1",
                        b"7fffffffffffffff",
                        b"ffffffffffffffff",
                    ]
                ),
            )
        )
        ext = draw(
            st.sampled_from(
                [
                    b"",
                    b"",
                    b";",
                    b";a=b",
                    b" ;a",
                    b'\t;x="y z"',
                    b";a\x00",
                    b";\x7f",
                    b" x",
                    b";\xff",
                ]
            )
        )
        parts += [size, ext, draw(eols), data, draw(eols)]
    if draw(st.integers(0, 7)):
        parts += [
            draw(st.sampled_from([b"0", b"00", b"0;end", b"000000000000000"])),
            draw(eols),
            draw(field_lines(trailer=True, eols=eols)),
            draw(eols),
        ]
    return b"".join(parts)


@st.composite
def structured_responses(draw):
    """Informational responses, a final response with its framing, maybe a second one."""
    parts = []
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0):
        parts += [
            b"HTTP/1.1 1",
            draw(st.sampled_from([b"00", b"03", b"02", b"99"])),
            b" Info\r\n",
            draw(field_lines()),
            b"\r\n",
        ]
    parts += [draw(status_lines), draw(EOLS), draw(field_lines())]
    kind = draw(st.sampled_from(["length", "chunked", "close", "none"]))
    body = draw(st.binary(max_size=16))
    if kind == "length":
        declared = draw(
            st.sampled_from([len(body), len(body), len(body) + 1, max(len(body) - 1, 0)])
        )
        parts += [b"Content-Length: %d" % declared, draw(EOLS), draw(EOLS), body]
    elif kind == "chunked":
        parts += [b"Transfer-Encoding: chunked", draw(EOLS), draw(EOLS), draw(chunked_body())]
    elif kind == "close":
        parts += [draw(EOLS), body]
    else:
        parts.append(draw(EOLS))
    if draw(st.integers(0, 3)) == 0:
        parts.append(
            draw(
                st.sampled_from(
                    [
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                        b"HTTP/1.1 204 No Content\r\n\r\n",
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                        b"garbage",
                        b"\r\n",
                        b"\n",
                    ]
                )
            )
        )
    return b"".join(parts)


@st.composite
def byte_mutated(draw, raw: bytes):
    """``raw`` with bytes flipped, inserted, deleted, duplicated or a range repeated."""
    data = bytearray(draw(mutated(raw)))
    if data and draw(st.integers(0, 4)) == 0:
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, min(len(data), start + 16)))
        data[end:end] = data[start:end] * draw(st.integers(1, 20))
    if data and draw(st.integers(0, 6)) == 0:
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


limits = st.one_of(
    st.just({}),
    st.just({}),
    small_limits,
    st.fixed_dictionaries({}, optional={name: st.integers(0, 60) for name in LIMIT_NAMES}),
)


@st.composite
def response_inputs(draw):
    """A harness input (bytes) for a structured or simple response, mutated and split."""
    raw = draw(st.one_of(structured_responses(), simple_responses()))
    if draw(st.booleans()):
        raw = draw(byte_mutated(raw))
    split = draw(st.integers(0, 5))
    # GET (half the time with an Upgrade field), HEAD or CONNECT
    method = draw(st.sampled_from(["GET", "GET", "GET", "upgrade", "upgrade", "HEAD", "CONNECT"]))
    case = ResponseCase(
        payload=raw,
        eof=draw(st.integers(0, 4)) > 0,
        use_buffer=draw(st.booleans()),
        responses=draw(st.integers(1, 2)),
        head_request=method == "HEAD",
        connect_request=method == "CONNECT",
        upgrade_request=method == "upgrade",
        limits=draw(limits),
        bytewise=split == 0,
        sizes=draw(st.lists(st.integers(1, 40), max_size=16)) if split > 1 else None,
    )
    return encode_response(case)


request_inputs = st.builds(
    encode_request,
    st.sampled_from([b"GET", b"POST", b"", b"G T", b"M\x00", b"CONNECT"]) | st.binary(max_size=4),
    st.sampled_from([b"/", b"*", b"", b"/a b", b"/\x7f", b"/\x80"]) | st.binary(max_size=4),
    st.lists(st.tuples(names, st.one_of(values, content_lengths, transfer_encodings)), max_size=6),
)

inputs = st.one_of(
    response_inputs(), response_inputs(), response_inputs(), request_inputs, st.binary(max_size=80)
)

"""Differential test: the Cython and the Python kernel give identical events (or identical
exception type and message) for generated and byte-mutated responses, random read splits,
both feeding paths, small random limits, and for generated request heads.

Bounded and derandomised so that CI is stable. The ``kernel`` fixture (module mark) runs each test
once per kernel id; the test itself always drives both kernel modules directly.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpcore_fast import _kernel, _kernel_py
from tests.kernel_helpers import drive

pytestmark = [
    pytest.mark.usefixtures("kernel"),  # both kernels (tests/conftest.py)
    pytest.mark.skipif(
        _kernel.NO_EXTENSIONS,
        reason="HTTPCORE_FAST_NO_EXTENSIONS is set: there is no Cython kernel to compare with",
    ),
]

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

INTERESTING = b"\r\n\t :;,0aF9\x00\x7f\x80\x0bHT/1.chunkedContent-Length"

# weighted towards valid status lines and names: the mutations supply most of the damage
status_lines = st.sampled_from([
    b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK",
    b"HTTP/1.0 200 OK", b"HTTP/1.1 204 No Content", b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 100 Continue", b"HTTP/1.1 101 Switching", b"HTTP/1.1 404",
    b"HTTP/1.1 500 Internal\tError", b"HTTP/2 200 OK",
])

field_names = st.sampled_from([
    b"Content-Length", b"content-length", b"Transfer-Encoding", b"Transfer-Encoding",
    b"Connection", b"Host", b"X-A", b"Set-Cookie", b"Trailer", b"X-B", b"Bad Name",
    b"Upgrade", b"UPGRADE",
])

field_values = st.one_of(
    st.sampled_from([b"0", b"5", b"13", b"5, 5", b"5,6", b"+5", b"chunked", b"Chunked",
                     b"gzip", b"close", b"keep-alive, close", b"", b"  v  ", b"a\tb",
                     b"websocket", b", ,"]),
    st.text("abc ,;=\t0123456789\xe9", max_size=12).map(lambda s: s.encode("latin-1")),
)

chunk_size_lines = st.one_of(
    st.sampled_from([b"0", b"5", b"a", b"1;ext=1", b"3 ;x", b"0x5", b"", b"ffffffffffffffff"]),
    st.binary(max_size=6),
)


@st.composite
def responses(draw):
    """A response: status line, fields, a body that may or may not fit its framing."""
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    kind = draw(st.sampled_from(["none", "bytes", "chunked"]))
    body = draw(st.binary(max_size=20)) if kind == "bytes" else b""
    parts = [draw(status_lines), eol]
    if kind == "chunked":
        parts += [b"Transfer-Encoding: chunked", eol]
    elif kind == "bytes" and draw(st.booleans()):
        parts += [b"Content-Length: %d" % len(body), eol]
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 19)) == 0:
            parts += [b" folded", eol]
        parts += [draw(field_names), b":", draw(st.sampled_from([b" ", b"", b"\t"])),
                  draw(field_values), eol]
    parts += [eol, body]
    if kind == "chunked":
        # chunked framing is CRLF only: mostly CRLF, sometimes a bare LF somewhere
        ceol = st.sampled_from([b"\r\n"] * 6 + [b"\n"])
        for _ in range(draw(st.integers(0, 3))):
            data = draw(st.binary(max_size=10))
            size = draw(st.just(b"%x" % len(data)) | chunk_size_lines)
            parts += [size, draw(ceol), data, draw(ceol)]
        parts += [b"0", draw(ceol)]
        if draw(st.booleans()):
            parts += [draw(field_names), b": ", draw(field_values), draw(ceol)]
        parts.append(draw(ceol))
    if draw(st.booleans()):  # a second response (keep-alive) or trailing garbage
        parts.append(draw(st.sampled_from([
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"garbage", b"\r\n"])))
    return b"".join(parts)


@st.composite
def mutated(draw, raw):
    """``raw`` with a few bytes replaced, inserted or deleted."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.sampled_from(list(INTERESTING)) | st.integers(0, 255))
        if op == "insert" or pos == len(data):
            data.insert(pos, byte)
        elif op == "replace":
            data[pos] = byte
        else:
            del data[pos]
    return bytes(data)


@st.composite
def splits(draw, data):
    """``data`` cut into pieces at random positions."""
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=8))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


limits = st.just({}) | st.fixed_dictionaries({}, optional={
    "max_status_line_size": st.integers(5, 40),
    "max_field_line_size": st.integers(5, 40),
    "max_head_size": st.integers(10, 300),
    "max_field_count": st.integers(0, 6),
    "max_chunk_size_line": st.integers(0, 12),
    "max_trailer_size": st.integers(0, 40),
    "max_informational": st.integers(0, 2),
})


def run_both(chunks, **kwargs):
    limit_kwargs = kwargs.pop("limits")
    results = []
    for module in (_kernel._kernel_c, _kernel_py):
        parser = module.ResponseParser(**limit_kwargs)
        results.append(drive(parser, list(chunks), **kwargs))
    return results


@SETTINGS
@given(data=st.data())
def test_differential_responses(data):
    raw = data.draw(responses().flatmap(mutated))
    chunks = data.draw(splits(raw))
    options = {
        "eof": data.draw(st.booleans()),
        "use_buffer": data.draw(st.booleans()),
        "responses": data.draw(st.integers(1, 2)),
        "head_request": data.draw(st.booleans()),
        "connect_request": data.draw(st.booleans()),
        "upgrade_request": data.draw(st.booleans()),
        "limits": data.draw(limits),
    }
    c_events, py_events = run_both(chunks, **options)
    assert c_events == py_events


@SETTINGS
@given(
    method=st.sampled_from([b"GET", b"POST", b"", b"G T", b"M\x00"]) | st.binary(max_size=4),
    target=st.sampled_from([b"/", b"*", b"", b"/a b", b"/\x7f"]) | st.binary(max_size=4),
    headers=st.lists(st.tuples(field_names, field_values), max_size=5),
)
def test_differential_request_heads(method, target, headers):
    outcomes = []
    for module in (_kernel._kernel_c, _kernel_py):
        try:
            outcomes.append(module.serialize_request_head(method, target, headers))
        except Exception as exc:  # noqa: BLE001 - compared below
            outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1]


def test_differential_covers_errors_and_successes(kernel):
    """Sanity check of the driver: the same hostile input gives the same error on both."""
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 1_0\r\n\r\n"
    c_events, py_events = run_both([raw], eof=True, limits={})
    assert c_events == py_events == [
        ("error", "RemoteProtocolError", "invalid Content-Length b'1_0'")
    ]

"""Kernel micro-benchmarks (pytest-benchmark): Cython kernel vs Python kernel vs h11.

    .venv/bin/python -m pytest benchmarks/bench_kernel.py -p no:cacheprovider \\
        --benchmark-columns=median,iqr,rounds --benchmark-group-by=group

Each benchmark parses one whole response that arrived in one read: feed the bytes, get the
head, the body and the end of message. The parser (or h11 connection) is prepared in an
untimed ``setup`` in the state a connection has when the response arrives: for our kernels
a parser that has already parsed one response (its buffer allocated) and had
``start_response()`` called; for h11 a client connection that has sent its request. The
timer brackets one call (``iterations=1``), so each figure includes the timer's own cost
(well under 0.1 µs). Inputs are built at import, outside the timed region; every loop is
bounded. Compare medians within a group, never lone numbers across machines.
"""

from __future__ import annotations

import pytest

from httpcore_fast import _kernel, _kernel_py

h11 = pytest.importorskip("h11")

ROUNDS = 3000

SMALL = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    b"Server: nginx/1.24.0\r\n"
    b"Content-Type: text/plain\r\n"
    b"Connection: keep-alive\r\n"
    b"Content-Length: 13\r\n"
    b"\r\n"
    b"Hello, world!"
)

FIFTY = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-Header-%02d: value-%02d-%s\r\n" % (i, i, b"v" * (i % 20)) for i in range(49))
    + b"Content-Length: 2\r\n\r\nok"
)

CHUNK = bytes(range(256)) * 4  # 1 KiB
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + (b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n") * 16
    + b"0\r\n\r\n"
)
MAX_EVENTS = 100  # bound for the body loops

KERNELS = [pytest.param(_kernel_py, id="python")]
if _kernel._kernel_c is not None:
    KERNELS.insert(0, pytest.param(_kernel._kernel_c, id="cython"))


def _kernel_setup(module, raw):
    def setup():
        parser = module.ResponseParser()
        parser.start_response(False, False)
        _kernel_parse(parser, raw)  # warm: the buffer is allocated, as on a reused connection
        parser.start_response(False, False)
        return (parser, raw), {}

    return setup


def _kernel_parse(parser, raw):
    parser.feed(raw)
    head = parser.receive_head()
    body = []
    for _ in range(MAX_EVENTS):
        data = parser.receive_body()
        if not data:
            break
        body.append(data)
    return head, body


def _h11_setup(raw):
    def setup():
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
        conn.send(h11.EndOfMessage())
        return (conn, raw), {}

    return setup


def _h11_parse(conn, raw):
    conn.receive_data(raw)
    head = conn.next_event()
    body = []
    for _ in range(MAX_EVENTS):
        event = conn.next_event()
        if type(event) is not h11.Data:
            break
        body.append(event.data)
    return head, body


def _check_kernel(result, raw):
    head, body = result
    assert head is not None and head[1] == 200
    assert b"".join(body) == raw[raw.index(b"\r\n\r\n") + 4 :] or b"".join(body) == CHUNK * 16


CASES = [("small-head", SMALL), ("50-field-head", FIFTY), ("chunked-16x1KiB", CHUNKED)]


@pytest.mark.parametrize("name, raw", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("module", KERNELS)
def test_kernel_parse(benchmark, module, name, raw):
    benchmark.group = name
    result = benchmark.pedantic(
        _kernel_parse, setup=_kernel_setup(module, raw), rounds=ROUNDS, iterations=1
    )
    _check_kernel(result, raw)


@pytest.mark.parametrize("name, raw", CASES, ids=[c[0] for c in CASES])
def test_h11_parse(benchmark, name, raw):
    benchmark.group = name
    head, body = benchmark.pedantic(_h11_parse, setup=_h11_setup(raw), rounds=ROUNDS, iterations=1)
    assert head.status_code == 200
    assert body

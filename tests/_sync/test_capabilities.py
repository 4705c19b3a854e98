"""The optional capabilities that streams and connections declare with defaults
(``_backends/base.py``, ``_async/interfaces.py``): a third-party network stream or
connection that implements only httpcore's interface gets the defaults, and they are
right: the plain read path, liveness, multiplexing, reading a body whole.

In-memory streams, no sockets.

Generated from ``tests/_async/test_capabilities.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import typing

import pytest

import httpcore_fast
from httpcore_fast import HTTPConnection

from httpcore_fast._sync.http11 import HTTP11UpgradeStream


pytestmark = pytest.mark.anyio

# Larger than what HTTP/1.1 asks a stream for at a time (64 KiB), so that one read of a
# stream that returns more than asked leaves bytes over.
LARGE = 150_000


def response(body: bytes, *fields: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
    return head + b"".join(field + b"\r\n" for field in fields) + b"\r\n" + body


class PlainStream(httpcore_fast.NetworkStream):
    """A third-party stream with httpcore's methods only: each ``read`` returns the next
    whole script entry, whatever ``max_bytes`` says (as httpcore's mock streams do); the
    server writes only when asked, so it is never readable while idle."""

    def __init__(self, script: list[bytes]) -> None:
        self.script = script
        self.reads = 0

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.reads += 1
        return self.script.pop(0) if self.script else b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def get_extra_info(self, info: str) -> typing.Any:
        return False if info == "is_readable" else None


class PlainBackend(httpcore_fast.NetworkBackend):
    """Each connect hands out an :class:`PlainStream` over the next script."""

    def __init__(self, *scripts: list[bytes]) -> None:
        self.scripts = list(scripts)
        self.streams: list[PlainStream] = []

    def connect_tcp(self, *args: typing.Any, **kwargs: typing.Any) -> PlainStream:
        stream = PlainStream(self.scripts.pop(0))
        self.streams.append(stream)
        return stream


def test_a_plain_stream_serves_http11_through_the_default_recv_into() -> None:
    """One read returns a whole response larger than the parser's buffer: the default
    ``_recv_into`` keeps what did not fit for its next call; the connection is reused."""
    first, second = b"a" * LARGE, b"b" * LARGE
    backend = PlainBackend([response(first), response(second)])
    with httpcore_fast.ConnectionPool(network_backend=backend) as pool:
        assert (pool.request("GET", "http://example.com/1")).content == first
        assert (pool.request("GET", "http://example.com/2")).content == second
    assert len(backend.streams) == 1
    assert backend.streams[0].reads == 2  # one read per response: the rest was kept


def test_bytes_kept_beyond_a_response_are_never_read_as_the_next_one() -> None:
    """The body ends exactly where the parser's second buffer ends and the same read
    goes on with bytes nobody asked for: they stay with the stream, which then reads as
    readable, so the idle connection is discarded rather than reused."""
    head_size = len(response(b"x" * 100_000)) - 100_000  # Content-Length of 6 digits
    body = b"x" * (2 * 65536 - head_size)
    garbage = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsmuggle" + b"." * 65536
    first = response(body)
    assert len(first) == 2 * 65536
    backend = PlainBackend([first + garbage], [response(b"fresh")])
    with httpcore_fast.ConnectionPool(network_backend=backend) as pool:
        assert (pool.request("GET", "http://example.com/1")).content == body
        assert (pool.request("GET", "http://example.com/2")).content == b"fresh"
    assert len(backend.streams) == 2


def test_a_tunnel_gets_the_bytes_kept_beyond_the_101_head() -> None:
    """A 101 whose one read carries more tunnel bytes than the parser's buffer holds:
    the upgraded stream replays all of them, in order, before reading the stream."""
    tunnel = bytes(range(256)) * 600  # 153,600 bytes
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: upgrade\r\n\r\n"
    backend = PlainBackend([head + tunnel, b"after"])
    headers = {"Upgrade": "test", "Connection": "upgrade"}
    with httpcore_fast.ConnectionPool(network_backend=backend) as pool:
        with pool.stream("GET", "http://example.com/", headers=headers) as upgraded:
            assert upgraded.status == 101
            stream = upgraded.extensions["network_stream"]
            received = b""
            for _ in range(10):  # bounded: 153,600 bytes in reads of at most 64 KiB
                if len(received) >= len(tunnel):
                    break
                received += stream.read(65536)
            assert received == tunnel
            assert stream.read(65536) == b"after"


def test_the_upgrade_stream_passes_on_the_capabilities_of_its_stream() -> None:
    class NoSentAll(PlainStream):
        def _cancelled_write_sent_all(self) -> bool:
            return False

    inner = NoSentAll([b"from the stream"])
    stream = HTTP11UpgradeStream(inner, b"replayed")
    assert stream._cancelled_write_sent_all() is False
    assert stream._is_readable() is True  # bytes to replay
    buffer = memoryview(bytearray(4))
    assert stream._recv_into(buffer) == 4 and buffer.tobytes() == b"repl"
    assert stream._recv_into(buffer) == 4 and buffer.tobytes() == b"ayed"
    received = b""
    for _ in range(8):
        n = stream._recv_into(buffer)
        if not n:
            break
        received += buffer[:n].tobytes()
    assert received == b"from the stream"
    assert stream._is_readable() is False


class PlainConnection(httpcore_fast.ConnectionInterface):
    """A third-party connection with httpcore's methods only, whose responses stream a
    plain async generator (no ``_read_all``)."""

    def __init__(self, origin: httpcore_fast.Origin) -> None:
        self.origin = origin
        self.requests = 0
        self.closed = False

    def handle_request(self, request: httpcore_fast.Request) -> httpcore_fast.Response:
        self.requests += 1

        def body() -> typing.Iterator[bytes]:
            yield b"plain "
            yield b"body"

        return httpcore_fast.Response(200, content=body())

    def close(self) -> None:
        self.closed = True

    def can_handle_request(self, origin: httpcore_fast.Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        return not self.closed

    def has_expired(self) -> bool:
        return self.closed

    def is_idle(self) -> bool:
        return not self.closed

    def is_closed(self) -> bool:
        return self.closed

    def info(self) -> str:
        return "plain"


def test_a_plain_connection_gets_the_declared_defaults() -> None:
    """The pool asks ``_may_multiplex()`` (default: ``can_multiplex()``, False) and
    reads the response whole through the body's iteration."""
    made: list[PlainConnection] = []

    class Pool(httpcore_fast.ConnectionPool):
        def create_connection(self, origin: httpcore_fast.Origin) -> PlainConnection:
            made.append(PlainConnection(origin))
            return made[-1]

    with Pool() as pool:
        for _ in range(3):
            assert (pool.request("GET", "http://example.com/")).content == b"plain body"
        assert made[0]._may_multiplex() is False
        made[0]._close_after_fork()  # declared: nothing to release
    assert len(made) == 1 and made[0].requests == 3 and made[0].closed


def test_may_multiplex_is_wider_than_can_multiplex_while_connecting() -> None:
    """``can_multiplex()`` (httpcore2's) is True only once HTTP/2 is up; the pool's
    ``_may_multiplex()`` already is while a connection that may become HTTP/2 connects."""
    https = httpcore_fast.Origin(b"https", b"example.com", 443)
    http2 = HTTPConnection(https, http2=True)
    assert http2._may_multiplex() is True and http2.can_multiplex() is False
    http1 = HTTPConnection(https)
    assert http1._may_multiplex() is False and http1.can_multiplex() is False
    backend = httpcore_fast.MockBackend([response(b"hi")])  # ALPN says http/1.1
    with HTTPConnection(https, http2=True, network_backend=backend) as connection:
        assert (connection.request("GET", "https://example.com/")).content == b"hi"
        assert connection._may_multiplex() is False  # it turned out HTTP/1.1

"""The receive buffer API against odd callers: get_buffer() size hints of any size,
buffer_updated() counts that do not match the view, stale views, and storage that must
never show uninitialised memory. Both kernels: the same results, the same exception type
and message (docs/kernel.md, "Receive buffer").

Every one of these was a memory-safety bug of the Cython kernel: a hint near
``sys.maxsize`` wrapped its size arithmetic and ``buffer_updated()`` then moved the end of
the buffer past the allocation (heap reads and writes); new storage was not zero-filled, so
an over-reported count parsed heap bytes.
"""

from __future__ import annotations

import sys

import pytest

from httpcore_fast._exceptions import RemoteProtocolError

# Runs on both kernels (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("kernel")

MAX_VIEW = 1 << 24
NO_VIEW = "buffer_updated(): no get_buffer() view to report"


def too_many(size: int) -> str:
    return (
        f"buffer_updated(): nbytes must be 0 (EOF) or 1 to {size}, "
        "the size of the last get_buffer() view"
    )


def refused(parser, nbytes) -> str:
    """The message of the ``ValueError`` that ``buffer_updated(nbytes)`` must raise."""
    with pytest.raises(ValueError) as info:
        parser.buffer_updated(nbytes)
    return str(info.value)


class Index:
    """An int-like object (``__index__``)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


@pytest.mark.parametrize(
    "hint, size",
    [
        (-(2**70), 1),
        (-sys.maxsize - 1, 1),
        (-1, 1),
        (0, 1),
        (1, 1),
        (True, 1),
        (Index(300), 300),
        (MAX_VIEW - 1, MAX_VIEW - 1),
        (MAX_VIEW, MAX_VIEW),
        (MAX_VIEW + 1, MAX_VIEW),
        (2**62, MAX_VIEW),
        (sys.maxsize - 5, MAX_VIEW),
        (sys.maxsize, MAX_VIEW),
        (2**64, MAX_VIEW),
        (2**200, MAX_VIEW),
    ],
)
def test_get_buffer_clamps_the_hint(kernel, hint, size):
    parser = kernel.ResponseParser()
    parser.feed(b"HTTP/1.1 200")  # data in the buffer: the growth path must keep it
    view = parser.get_buffer(hint)
    assert len(view) == size
    view[-1:] = b"!"
    del view
    parser.buffer_updated(size)
    assert parser.pending() == 12 + size
    data = parser.take_pending()
    assert data[:12] == b"HTTP/1.1 200"
    assert data[-1:] == b"!"


@pytest.mark.parametrize("hint", [1.5, "10", None, b"1"])
def test_get_buffer_rejects_a_non_integer_hint(kernel, hint):
    parser = kernel.ResponseParser()
    with pytest.raises(TypeError):
        parser.get_buffer(hint)
    assert len(parser.get_buffer(4)) == 4  # not poisoned


def test_huge_hint_then_huge_count(kernel):
    """The attack on the old Cython kernel: a huge hint after a consumed prefix, then a
    count beyond the allocation. Now the view is clamped and the count rejected."""
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert parser.receive_head() is not None
    assert parser.receive_body() == b"ok"
    parser.feed(b"HTTP/1.1")  # a prefix that a compaction would move
    view = parser.get_buffer(sys.maxsize - 5)
    assert len(view) == MAX_VIEW
    del view
    for count in (10**9, sys.maxsize, 2**64, MAX_VIEW + 1):
        assert refused(parser, count) == too_many(MAX_VIEW)
    assert parser.pending() == 8
    assert parser.take_pending() == b"HTTP/1.1"


@pytest.mark.parametrize("count", [9, 100, -1, -(2**70), 2**70])
def test_count_outside_the_view(kernel, count):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(8)
    view[:8] = b"HTTP/1.1"
    del view
    assert refused(parser, count) == too_many(8)
    assert parser.pending() == 0
    parser.buffer_updated(8)  # the view is still valid after a rejected count
    assert parser.take_pending() == b"HTTP/1.1"


def test_count_is_checked_against_the_view_given_not_the_hint(kernel):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(2**70)
    size = len(view)
    del view
    assert refused(parser, size + 1) == too_many(MAX_VIEW)


def test_two_counts_for_one_view(kernel):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(16)
    view[:4] = b"HTTP"
    del view
    parser.buffer_updated(4)
    assert refused(parser, 4) == NO_VIEW
    assert parser.take_pending() == b"HTTP"


def test_count_without_a_view(kernel):
    parser = kernel.ResponseParser()
    assert refused(parser, 1) == NO_VIEW
    assert refused(parser, -1) == NO_VIEW
    parser.buffer_updated(0)  # EOF needs no view
    parser.buffer_updated(0)


def test_feed_ends_the_view(kernel):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(16)
    del view  # (writing through it now would overwrite what feed() appends)
    parser.feed(b"HTTP/1.1 ")
    assert refused(parser, 3) == NO_VIEW
    assert parser.take_pending() == b"HTTP/1.1 "


def test_take_pending_that_moves_the_end_ends_the_view(kernel):
    parser = kernel.ResponseParser()
    parser.feed(b"abc")
    view = parser.get_buffer(16)
    assert parser.take_pending() == b"abc"
    del view
    assert refused(parser, 2) == NO_VIEW
    assert parser.pending() == 0


def test_take_pending_that_leaves_the_end_keeps_the_view(kernel):
    """The view's position is still the buffer's end: what it received counts."""
    parser = kernel.ResponseParser()
    view = parser.get_buffer(16)
    assert parser.take_pending() == b""
    view[:2] = b"ok"
    del view
    parser.buffer_updated(2)
    assert parser.take_pending() == b"ok"


def test_consuming_every_byte_ends_the_view(kernel):
    """Parsing that consumes all buffered bytes moves the end back to the start: a view
    handed out before points elsewhere, so counting its bytes is refused."""
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    assert parser.receive_head() is not None
    view = parser.get_buffer(16)
    assert parser.receive_body() == b"ab"
    view[:3] = b"cde"
    del view
    assert refused(parser, 3) == NO_VIEW
    parser.feed(b"cde")
    assert parser.receive_body() == b"cde"
    assert parser.receive_body() == b""


def test_parsing_that_leaves_bytes_keeps_the_view(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nh")
    view = parser.get_buffer(16)
    assert parser.receive_head() is not None  # consumes the head, not the buffer's end
    view[:4] = b"ello"
    del view
    parser.buffer_updated(4)
    assert parser.receive_body() == b"hello"


def test_eof_ends_the_view(kernel):
    parser = kernel.ResponseParser()
    view = parser.get_buffer(16)
    del view
    parser.buffer_updated(0)
    with pytest.raises(RuntimeError, match="after EOF"):
        parser.buffer_updated(3)
    with pytest.raises(RuntimeError, match="after EOF"):
        parser.get_buffer(3)


def test_count_after_an_error_is_the_error(kernel):
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/9 200 OK\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        parser.receive_head()
    for call in (lambda: parser.get_buffer(2**70), lambda: parser.buffer_updated(2**70)):
        with pytest.raises(RemoteProtocolError, match="unsupported HTTP version"):
            call()


@pytest.mark.parametrize("size", [1, 4096, 8192, 100_000])
def test_new_storage_is_zero_filled(kernel, size):
    """Freed, dirty heap blocks of the same size are about; the view must not show them."""
    dirty = [bytearray(b"\xaa" * size) for _ in range(20)]
    del dirty
    parser = kernel.ResponseParser()
    view = parser.get_buffer(size)
    assert bytes(view) == bytes(size)
    del view


def test_grown_storage_is_zero_filled(kernel):
    parser = kernel.ResponseParser()
    parser.feed(b"x" * 3000)
    dirty = [bytearray(b"\xbb" * 65536) for _ in range(20)]
    del dirty
    view = parser.get_buffer(50_000)  # more than the 4 KiB storage: a new allocation
    assert bytes(view) == bytes(50_000)
    del view
    assert parser.take_pending() == b"x" * 3000


def test_over_reported_count_shows_no_heap_bytes(kernel):
    """A caller that reports more bytes than it wrote (a bug) gets zeros, never memory
    of other objects, in the parsed data."""
    dirty = [bytearray(b"\xcc" * 8192) for _ in range(20)]
    del dirty
    parser = kernel.ResponseParser()
    view = parser.get_buffer(8192)
    view[:3] = b"abc"
    del view
    parser.buffer_updated(8192)
    assert parser.take_pending() == b"abc" + bytes(8189)


def test_compaction_keeps_the_unconsumed_bytes(kernel):
    """Many small reads with consumption in between: compaction moves only what is
    unconsumed, and each view lands right after it."""
    parser = kernel.ResponseParser()
    parser.start_response(False, False)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    assert parser.receive_head() is not None
    received = b""
    for i in range(200):
        view = parser.get_buffer(1000 + i)
        piece = bytes([65 + i % 26]) * 500
        view[:500] = piece
        del view
        parser.buffer_updated(500)
        data = parser.receive_body()
        assert data == piece
        received += data
    assert len(received) == 100_000
    assert parser.receive_body() == b""

"""The HPACK encoder and decoder of the HTTP/2 connection remember repeated header
blocks (``httpcore_fast._core.http2_hpack.Encoder`` / ``Decoder``): they must code every
sequence of header lists exactly as hpack's own do, whatever the dynamic table does."""

from __future__ import annotations

import typing

import hpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpcore_fast._core.http2_framing import CONFIG, H2GoawayFraming, h2_hooks
from httpcore_fast._core.http2_hpack import DECODED_HEADER_LIST_FACTOR, Decoder, Encoder

FIELDS = [
    (b":method", b"GET"),
    (b":path", b"/"),
    (b":path", b"/a-rather-longer-path-that-fills-the-table"),
    (b":authority", b"example.org"),
    (b"x-one", b"1"),
    (b"x-two", b"2" * 40),
    (b"date", b"Wed, 25 Nov 2026 15:50:25 GMT"),
]

header_lists = st.lists(st.sampled_from(FIELDS), min_size=1, max_size=5)
steps = st.lists(
    st.one_of(
        header_lists.map(lambda fields: ("encode", fields)),
        st.sampled_from([0, 64, 100, 4096]).map(lambda size: ("resize", size)),
        st.sampled_from(FIELDS).map(
            lambda field: ("secret", [hpack.NeverIndexedHeaderTuple(*field)])
        ),
    ),
    max_size=30,
)


@pytest.mark.usefixtures("h2_only")
def test_state_machine_uses_them() -> None:
    state = h2_hooks().new_state(CONFIG)
    assert type(state) is H2GoawayFraming
    assert type(state.encoder) is Encoder and type(state.decoder) is Decoder
    # h2 gives the decoder its advertised header list size; blocks are decoded up to
    # DECODED_HEADER_LIST_FACTOR times that (the connection fails only the stream).
    assert state.decoder.max_header_list_size == (
        hpack.Decoder().max_header_list_size * DECODED_HEADER_LIST_FACTOR
    )


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(steps)
def test_same_blocks_and_fields_as_hpack(program: list[tuple[str, typing.Any]]) -> None:
    ours, reference = Encoder(), hpack.Encoder()
    our_decoder, reference_decoder = Decoder(), hpack.Decoder()
    for kind, arg in program:
        if kind == "resize":
            # (Setting the size it already has clears hpack's pending size update: the
            # peer never learns of the first change. Not a sequence h2 produces.)
            if arg != reference.header_table_size:
                ours.header_table_size = reference.header_table_size = arg
            continue
        block = ours.encode(list(arg))
        assert block == reference.encode(list(arg))
        fields, expected = our_decoder.decode(block, raw=True), reference_decoder.decode(
            block, raw=True
        )
        assert fields == expected == [tuple(field) for field in arg]
        assert list(map(type, fields)) == list(map(type, expected))  # never-indexed kept
        for a, b in ((ours, reference), (our_decoder, reference_decoder)):
            assert list(a.header_table.dynamic_entries) == list(b.header_table.dynamic_entries)
            assert a.header_table.maxsize == b.header_table.maxsize


def test_repeated_blocks_come_from_the_cache() -> None:
    encoder, reference = Encoder(), hpack.Encoder()
    fields = [(b":method", b"GET"), (b":authority", b"example.org"), (b":path", b"/x")]
    first = encoder.encode(list(fields))  # adds :authority and :path to the table
    second = encoder.encode(list(fields))  # all indexed now: remembered
    assert encoder.encode(list(fields)) is second
    assert [first, second] == [reference.encode(list(fields)) for _ in range(2)]
    # A new entry shifts the indexes: the remembered block is dropped.
    new = [(b"x-new", b"shifts every index")]
    assert encoder.encode(list(new)) == reference.encode(list(new))
    third = encoder.encode(list(fields))
    assert third != second and third == reference.encode(list(fields))


def test_repeated_response_heads_with_an_empty_table() -> None:
    """nginx sets the table size to 0 and sends fields 'with incremental indexing'."""
    server = hpack.Encoder()
    server.header_table_size = 0
    head = [(b":status", b"200"), (b"server", b"nginx"), (b"content-length", b"100")]
    decoder = Decoder()
    blocks = [server.encode(head) for _ in range(3)]
    assert blocks[1] == blocks[2]
    decoded = [decoder.decode(block, raw=True) for block in blocks]
    assert decoded == [head] * 3
    # The first block resized the table (4096 -> 0): only the repeated one is remembered.
    assert list(decoder._blocks) == [blocks[1]]
    assert decoded[1] is not decoded[2]  # a fresh list each time
    with pytest.raises(hpack.HPACKError):
        decoder.decode(b"\xff\xff\xff\xff", raw=True)

"""HPACK (RFC 7541) coders for the HTTP/2 framing layer: hpack's own, remembering header
blocks that repeat while the dynamic table is unchanged, and a decoder that decodes a
header list a little over the advertised bound so that only its stream fails.

They rely on private parts of hpack (``HeaderTable._maxsize``, ``dynamic_entries``,
``resized``, ``maxsize``, ``add``; the coders' ``header_table``); :func:`missing_hpack_hook`
checks them and :mod:`.http2_framing` falls back to plain hpack when one has gone.
Never generated, never awaits.
"""

from __future__ import annotations

import collections
import inspect
import typing

import hpack
from hpack.table import HeaderTable

__all__ = [
    "DECODED_HEADER_LIST_FACTOR",
    "MAX_CACHED_BLOCKS",
    "Decoder",
    "Encoder",
    "LimitDecoder",
    "Table",
    "entry_size",
    "missing_hpack_hook",
]

# A header block up to this many times the advertised SETTINGS_MAX_HEADER_LIST_SIZE is
# decoded in full (so the HPACK tables stay in step, RFC 9113 §4.3) and only its stream
# fails; a larger one fails the connection (h2 stops decoding it: memory stays bounded).
DECODED_HEADER_LIST_FACTOR = 4

# Header blocks remembered per encoder or decoder (a new one clears them past this).
MAX_CACHED_BLOCKS = 64

# The header list coded by the probe of :func:`missing_hpack_hook`.
PROBE_FIELDS = [(b":method", b"GET"), (b":path", b"/hook-probe"), (b"x-probe", b"1")]


def entry_size(name: bytes, value: bytes) -> int:
    """The size of a field as HPACK counts it (RFC 7541 §4.1): name and value octets
    plus 32."""
    return len(name) + len(value) + 32


class Table(HeaderTable):
    """An HPACK dynamic table (RFC 7541 §2.3.2) that counts its changes in
    ``generation``: a header block coded while it stays unchanged codes the same again.

    Relies on hpack's ``HeaderTable``: ``add()`` (called for every indexed field),
    the ``maxsize`` property, the ``_maxsize`` and ``dynamic_entries`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0

    def add(self, name: bytes, value: bytes) -> None:
        # Adding a field larger than the table to an empty table leaves it empty (§4.4):
        # what nginx does with every field once it has set the table size to 0.
        if self.dynamic_entries or entry_size(name, value) <= self._maxsize:
            self.generation += 1
        super().add(name, value)

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @maxsize.setter
    def maxsize(self, newmax: int) -> None:
        if newmax != self._maxsize:
            self.generation += 1
        HeaderTable.maxsize.fset(self, newmax)  # type: ignore[attr-defined]


class Encoder(hpack.Encoder):
    """hpack's encoder, remembering the block of each header list that left the dynamic
    table as it was (all its fields already indexed): a request repeating a header list
    costs a dictionary look-up. Lists with never-indexed fields are always encoded.

    Relies on hpack's ``header_table`` attribute and its ``resized`` flag."""

    def __init__(self) -> None:
        super().__init__()
        self.header_table = Table()
        self._blocks: dict[tuple[typing.Any, ...], bytes] = {}
        self._generation = 0

    header_table: Table

    def encode(self, headers: typing.Any, huffman: bool = True) -> bytes:
        table = self.header_table
        if type(headers) is not list or table.resized:
            return super().encode(headers, huffman)
        for field in headers:
            if type(field) is not tuple:
                return super().encode(headers, huffman)
        blocks = self._blocks
        generation = table.generation
        if generation != self._generation:
            blocks.clear()
            self._generation = generation
        key = (huffman, *headers)
        block = blocks.get(key)
        if block is None:
            block = super().encode(headers, huffman)
            if table.generation == generation:
                if len(blocks) >= MAX_CACHED_BLOCKS:
                    blocks.clear()
                blocks[key] = block
        return block


class LimitDecoder(hpack.Decoder):
    """hpack's decoder, decoding header blocks up to ``DECODED_HEADER_LIST_FACTOR`` times
    the ``max_header_list_size`` h2 gives it (our advertised SETTINGS_MAX_HEADER_LIST_SIZE,
    RFC 9113 §6.5.2): a block between the two is decoded in full, keeping the HPACK
    tables in step (RFC 9113 §4.3, §10.5.1), and the connection fails only its stream;
    a larger one stops decoding with hpack's ``OversizedHeaderListError`` (a connection
    error). Relies only on hpack's public ``max_header_list_size`` attribute."""

    @property
    def max_header_list_size(self) -> int:
        """The decoding bound: the size set, times ``DECODED_HEADER_LIST_FACTOR``."""
        return self._decoded_limit

    @max_header_list_size.setter
    def max_header_list_size(self, value: int) -> None:
        self._decoded_limit = value * DECODED_HEADER_LIST_FACTOR


class Decoder(LimitDecoder):
    """hpack's decoder, remembering the fields of each header block whose decoding left
    the dynamic table as it was: a server repeating a response head (nginx's, with a
    table of size 0, differ only when the ``date`` does) costs a dictionary look-up.

    Relies on hpack's ``header_table`` and ``max_allowed_table_size`` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.header_table = Table()
        self._blocks: dict[bytes, list[typing.Any]] = {}
        self._state: tuple[int, int, int] = (0, 0, 0)

    header_table: Table

    def decode(self, data: typing.Any, raw: bool = False) -> typing.Any:
        if not raw or type(data) is not bytes:
            return super().decode(data, raw)
        table = self.header_table
        generation = table.generation
        state = (generation, self.max_allowed_table_size, self.max_header_list_size)
        blocks = self._blocks
        if state != self._state:
            blocks.clear()
            self._state = state
        fields = blocks.get(data)
        if fields is None:
            fields = list(super().decode(data, raw))
            if table.generation != generation:
                return fields
            if len(blocks) >= MAX_CACHED_BLOCKS:
                blocks.clear()
            blocks[data] = fields
        return list(fields)


def missing_hpack_hook() -> str | None:
    """None if the HPACK block caches may be used: hpack's table and coders have the
    attributes :class:`Table`, :class:`Encoder` and :class:`Decoder` rely on, and ours
    code a short sequence exactly as hpack's own do; else what is missing."""
    encoder, decoder = hpack.Encoder(), hpack.Decoder()
    table = encoder.header_table
    shape = vars(table)
    for name, kind in (("_maxsize", int), ("dynamic_entries", collections.deque),
                       ("resized", bool)):
        if not isinstance(shape.get(name), kind):
            return f"the attribute HeaderTable.{name} ({kind.__name__})"
    if not isinstance(inspect.getattr_static(type(table), "maxsize", None), property):
        return "the property HeaderTable.maxsize"
    if not callable(getattr(type(table), "add", None)):
        return "the method HeaderTable.add"
    if not isinstance(vars(decoder).get("max_allowed_table_size"), int):
        return "the attribute hpack.Decoder.max_allowed_table_size"
    try:
        ours, our_decoder, reference_decoder = Encoder(), Decoder(), hpack.Decoder()
        before = ours.header_table.generation
        for resize in (None, None, 0, 4096, None):
            if resize is not None:
                ours.header_table_size = encoder.header_table_size = resize
            block = ours.encode(list(PROBE_FIELDS))
            if block != encoder.encode(list(PROBE_FIELDS)):
                raise AssertionError("encoded differently")
            if our_decoder.decode(block, raw=True) != reference_decoder.decode(block, raw=True):
                raise AssertionError("decoded differently")
        if ours.header_table.generation == before or our_decoder.header_table.generation == 0:
            raise AssertionError("table changes not seen")
    except Exception:
        return "the calls of HeaderTable.add and HeaderTable.maxsize"
    return None

# HPACK (RFC 7541) for ``httpcore_fast._h2_c``: integers (§5.1), strings and the Huffman
# code (§5.2, Appendix B), the static and dynamic tables (§2.3, §4), size updates (§4.2,
# §6.3) and the field representations (§6.1, §6.2). Included by _h2_c.pyx.
#
# ``Encoder`` and ``Decoder`` are drop-in twins of ``hpack.Encoder`` / ``hpack.Decoder``
# as h2 uses them: the same bytes out of ``encode`` for the same calls, the same fields
# out of ``decode`` (``decode(block, raw=True)``) and the same exception classes.

include "_h2_c_huffman.pxi"

# ------------------------------------------------------------------ Huffman code

# Decoding runs a nibble at a time over the code's tree: the 256 internal nodes are the
# states; for each state and nibble, the next state, whether a symbol is emitted (at most
# one: codes are at least 5 bits long) and whether the nibble is invalid (it reaches EOS).
cdef unsigned char _HUF_NEXT[256 * 16]
cdef unsigned char _HUF_SYM[256 * 16]
cdef unsigned char _HUF_FLAGS[256 * 16]
# A string may end in a state reached by at most 7 one bits from the root (§5.2 padding).
cdef unsigned char _HUF_ACCEPT[256]
DEF _EMIT = 1
DEF _FAIL = 2


cdef int _build_huffman_fsm() except -1:
    cdef int child[256][2]
    cdef int nodes = 1, node, sym, i, bit, c, state, nibble, flags, out
    cdef unsigned int code
    memset(child, 0xFF, sizeof(child))  # -1: no child yet
    for sym in range(257):
        code = HUFFMAN_CODES[sym]
        node = 0
        for i in range(HUFFMAN_LENGTHS[sym] - 1, -1, -1):
            bit = (code >> i) & 1
            if i == 0:
                child[node][bit] = 1000 + sym  # a leaf
            else:
                if child[node][bit] == -1:
                    if nodes >= 256:
                        raise RuntimeError("HPACK Huffman table: too many nodes")
                    child[node][bit] = nodes
                    nodes += 1
                node = child[node][bit]
    memset(_HUF_ACCEPT, 0, sizeof(_HUF_ACCEPT))
    node = 0
    _HUF_ACCEPT[0] = 1
    for i in range(7):
        node = child[node][1]
        _HUF_ACCEPT[node] = 1
    for state in range(nodes):
        for nibble in range(16):
            node = state
            flags = 0
            out = 0
            for i in range(3, -1, -1):
                c = child[node][(nibble >> i) & 1]
                if c == -1 or c == 1256:  # no code, or EOS inside a string
                    flags = _FAIL
                    node = 0
                    break
                if c >= 1000:
                    flags |= _EMIT
                    out = c - 1000
                    node = 0
                else:
                    node = c
            _HUF_NEXT[state * 16 + nibble] = node
            _HUF_SYM[state * 16 + nibble] = out
            _HUF_FLAGS[state * 16 + nibble] = flags
    return 0


_build_huffman_fsm()


cdef bytes _huffman_decode(const unsigned char* data, Py_ssize_t length):
    """The Huffman-decoded string (RFC 7541 §5.2); HPACKDecodingError if invalid."""
    cdef char small[512]
    cdef char* out = small
    cdef Py_ssize_t i, count = 0
    cdef unsigned int state = 0, t
    cdef unsigned char byte
    cdef bytes result
    if length == 0:
        return b""
    if length * 8 // 5 + 1 > 512:
        out = <char*>PyMem_Malloc(length * 8 // 5 + 1)
        if out == NULL:
            raise MemoryError()
    try:
        for i in range(length):
            byte = data[i]
            t = state * 16 + (byte >> 4)
            if _HUF_FLAGS[t] & _FAIL:
                raise HPACKDecodingError("Invalid Huffman string")
            if _HUF_FLAGS[t] & _EMIT:
                out[count] = <char>_HUF_SYM[t]
                count += 1
            state = _HUF_NEXT[t]
            t = state * 16 + (byte & 0x0F)
            if _HUF_FLAGS[t] & _FAIL:
                raise HPACKDecodingError("Invalid Huffman string")
            if _HUF_FLAGS[t] & _EMIT:
                out[count] = <char>_HUF_SYM[t]
                count += 1
            state = _HUF_NEXT[t]
        if not _HUF_ACCEPT[state]:
            raise HPACKDecodingError("Incomplete Huffman string")
        result = PyBytes_FromStringAndSize(out, count)
    finally:
        if out != small:
            PyMem_Free(out)
    return result


def huffman_decode(data):
    """Decode an HPACK Huffman string (RFC 7541 §5.2, Appendix B): bytes-like in, bytes
    out. Raises ``hpack.HPACKDecodingError`` for an invalid code, EOS inside the string
    or padding that is not a prefix of EOS shorter than 8 bits."""
    cdef bytes raw = bytes(data)
    return _huffman_decode(<const unsigned char*>PyBytes_AS_STRING(raw), len(raw))


cdef Py_ssize_t _huffman_length(const unsigned char* data, Py_ssize_t length) noexcept nogil:
    cdef Py_ssize_t i, bits = 0
    for i in range(length):
        bits += HUFFMAN_LENGTHS[data[i]]
    return (bits + 7) >> 3


cdef void _huffman_encode_into(const unsigned char* data, Py_ssize_t length,
                               unsigned char* out) noexcept nogil:
    cdef uint64_t acc = 0
    cdef int bits = 0
    cdef Py_ssize_t i, k = 0
    cdef unsigned char sym
    for i in range(length):
        sym = data[i]
        acc = (acc << HUFFMAN_LENGTHS[sym]) | HUFFMAN_CODES[sym]
        bits += HUFFMAN_LENGTHS[sym]
        while bits >= 8:
            bits -= 8
            out[k] = <unsigned char>(acc >> bits)
            k += 1
        acc &= (<uint64_t>1 << bits) - 1
    if bits:
        out[k] = <unsigned char>((acc << (8 - bits)) | (0xFF >> bits))


def huffman_encode(data):
    """Encode bytes with the HPACK Huffman code (RFC 7541 §5.2), padded with the most
    significant bits of EOS; returns bytes."""
    cdef bytes raw = bytes(data)
    cdef Py_ssize_t n = len(raw)
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(raw)
    cdef Py_ssize_t size = _huffman_length(p, n)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, size)
    _huffman_encode_into(p, n, <unsigned char*>PyBytes_AS_STRING(out))
    return out


# ------------------------------------------------------------------ output buffer

cdef struct _Buf:
    unsigned char* data
    Py_ssize_t length
    Py_ssize_t capacity


cdef int _buf_reserve(_Buf* buf, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need = buf.length + extra
    cdef Py_ssize_t capacity
    cdef unsigned char* data
    if need <= buf.capacity:
        return 0
    capacity = buf.capacity * 2 if buf.capacity else 256
    while capacity < need:
        capacity *= 2
    data = <unsigned char*>PyMem_Realloc(buf.data, capacity)
    if data == NULL:
        raise MemoryError()
    buf.data = data
    buf.capacity = capacity
    return 0


cdef int _put_int(_Buf* buf, uint64_t value, int prefix, unsigned char flags) except -1:
    """An integer with a ``prefix``-bit prefix (RFC 7541 §5.1), ``flags`` in the first
    octet's high bits."""
    cdef uint64_t limit = (1 << prefix) - 1
    _buf_reserve(buf, 11)
    if value < limit:
        buf.data[buf.length] = flags | <unsigned char>value
        buf.length += 1
        return 0
    buf.data[buf.length] = flags | <unsigned char>limit
    buf.length += 1
    value -= limit
    while value >= 128:
        buf.data[buf.length] = <unsigned char>((value & 127) | 128)
        buf.length += 1
        value >>= 7
    buf.data[buf.length] = <unsigned char>value
    buf.length += 1
    return 0


cdef int _put_string(_Buf* buf, bytes value, bint huffman) except -1:
    """A string literal (RFC 7541 §5.2), Huffman-coded if ``huffman``."""
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value)
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef Py_ssize_t size
    if huffman:
        size = _huffman_length(p, n)
        _put_int(buf, size, 7, 0x80)
        _buf_reserve(buf, size)
        _huffman_encode_into(p, n, buf.data + buf.length)
        buf.length += size
    else:
        _put_int(buf, n, 7, 0)
        _buf_reserve(buf, n)
        memcpy(buf.data + buf.length, p, n)
        buf.length += n
    return 0


# ------------------------------------------------------------------ tables

_STATIC_FIELDS = (
    (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"),
    (b":path", b"/index.html"), (b":scheme", b"http"), (b":scheme", b"https"),
    (b":status", b"200"), (b":status", b"204"), (b":status", b"206"),
    (b":status", b"304"), (b":status", b"400"), (b":status", b"404"),
    (b":status", b"500"), (b"accept-charset", b""), (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""), (b"accept-ranges", b""), (b"accept", b""),
    (b"access-control-allow-origin", b""), (b"age", b""), (b"allow", b""),
    (b"authorization", b""), (b"cache-control", b""), (b"content-disposition", b""),
    (b"content-encoding", b""), (b"content-language", b""), (b"content-length", b""),
    (b"content-location", b""), (b"content-range", b""), (b"content-type", b""),
    (b"cookie", b""), (b"date", b""), (b"etag", b""), (b"expect", b""), (b"expires", b""),
    (b"from", b""), (b"host", b""), (b"if-match", b""), (b"if-modified-since", b""),
    (b"if-none-match", b""), (b"if-range", b""), (b"if-unmodified-since", b""),
    (b"last-modified", b""), (b"link", b""), (b"location", b""), (b"max-forwards", b""),
    (b"proxy-authenticate", b""), (b"proxy-authorization", b""), (b"range", b""),
    (b"referer", b""), (b"refresh", b""), (b"retry-after", b""), (b"server", b""),
    (b"set-cookie", b""), (b"strict-transport-security", b""),
    (b"transfer-encoding", b""), (b"user-agent", b""), (b"vary", b""), (b"via", b""),
    (b"www-authenticate", b""),
)
STATIC_TABLE = _STATIC_FIELDS
"""The static table (RFC 7541 Appendix A): ``(name, value)`` for indices 1 to 61."""
DEF _STATIC_LENGTH = 61
DEF _DEFAULT_TABLE_SIZE = 4096

# name -> (lowest index of the name, {value: index})
cdef dict _STATIC_BY_NAME = {}
for _i, (_name, _value) in enumerate(_STATIC_FIELDS, 1):
    _STATIC_BY_NAME.setdefault(_name, (_i, {}))[1].setdefault(_value, _i)


cdef class _Table:
    """The dynamic table (RFC 7541 §2.3.2, §4): entries newest first in index order,
    evicted oldest first. Entries are kept in a list by insertion number (``seq``);
    ``_base`` is the seq of the list's first slot. With ``indexed``, dictionaries find
    the newest entry of a field or a name (for the encoder)."""

    cdef list entries
    cdef long long inserted, evicted, base
    cdef Py_ssize_t size, maxsize
    cdef public bint resized  # a size change not yet signalled (hpack's flag)
    cdef bint indexed
    cdef dict by_field, by_name

    def __cinit__(self, bint indexed):
        self.entries = []
        self.maxsize = _DEFAULT_TABLE_SIZE
        self.indexed = indexed
        self.by_field = {}
        self.by_name = {}

    cdef inline Py_ssize_t count(self):
        return <Py_ssize_t>(self.inserted - self.evicted)

    cdef tuple get(self, uint64_t index):
        cdef uint64_t dynamic
        if index >= 1:
            if index <= _STATIC_LENGTH:
                return <tuple>PyTuple_GET_ITEM(_STATIC_FIELDS, index - 1)
            dynamic = index - _STATIC_LENGTH - 1
            if dynamic < <uint64_t>self.count():
                return <tuple>PyList_GET_ITEM(
                    self.entries, self.inserted - 1 - <long long>dynamic - self.base
                )
        raise _InvalidTableIndex(f"Invalid table index {index}")

    cdef inline Py_ssize_t index_of(self, long long seq):
        return _STATIC_LENGTH + 1 + <Py_ssize_t>(self.inserted - 1 - seq)

    cdef clear(self):
        self.entries = []
        self.evicted = self.base = self.inserted
        self.size = 0
        if self.indexed:
            self.by_field.clear()
            self.by_name.clear()

    cdef add(self, tuple field):
        cdef bytes name = <bytes>PyTuple_GET_ITEM(field, 0)
        cdef bytes value = <bytes>PyTuple_GET_ITEM(field, 1)
        cdef Py_ssize_t size = PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value) + 32
        if size > self.maxsize:
            self.clear()  # a field larger than the table empties it (§4.4)
            return
        self.entries.append(field)
        if self.indexed:
            self.by_field[field] = self.inserted
            self.by_name[name] = self.inserted
        self.inserted += 1
        self.size += size
        if self.size > self.maxsize:
            self.shrink()

    cdef shrink(self):
        cdef tuple field
        cdef object seq
        cdef Py_ssize_t drop
        while self.size > self.maxsize:
            field = <tuple>PyList_GET_ITEM(self.entries, self.evicted - self.base)
            self.size -= (PyBytes_GET_SIZE(<bytes>PyTuple_GET_ITEM(field, 0))
                          + PyBytes_GET_SIZE(<bytes>PyTuple_GET_ITEM(field, 1)) + 32)
            if self.indexed:
                seq = self.evicted
                if self.by_field.get(field) == seq:
                    del self.by_field[field]
                if self.by_name.get(field[0]) == seq:
                    del self.by_name[field[0]]
            self.entries[self.evicted - self.base] = None
            self.evicted += 1
        drop = <Py_ssize_t>(self.evicted - self.base)
        if drop > 32 and drop * 2 > PyList_GET_SIZE(self.entries):
            del self.entries[:drop]
            self.base = self.evicted

    cdef resize(self, Py_ssize_t maxsize):
        cdef Py_ssize_t old = self.maxsize
        self.maxsize = maxsize
        self.resized = maxsize != old
        if maxsize <= 0:
            self.clear()
        elif old > maxsize:
            self.shrink()

    def fields(self):
        """The dynamic entries, newest first: ``[(name, value), ...]``."""
        cdef long long seq
        return [self.entries[seq - self.base]
                for seq in range(self.inserted - 1, self.evicted - 1, -1)]


# ------------------------------------------------------------------ decoding

cdef inline uint64_t _read_int(const unsigned char* p, Py_ssize_t n, Py_ssize_t* pos,
                               int prefix) except? 0xFFFFFFFFFFFFFFFF:
    """An integer with a ``prefix``-bit prefix at ``pos[0]`` (RFC 7541 §5.1); at most
    five continuation octets (values below 2**35 + 255), as hpack accepts."""
    cdef Py_ssize_t i = pos[0]
    cdef uint64_t limit = (1 << prefix) - 1
    cdef uint64_t value
    cdef unsigned char byte
    cdef int shift = 0, count = 0
    if i >= n:
        raise HPACKDecodingError("Unable to decode HPACK integer: truncated")
    value = p[i] & limit
    i += 1
    if value == limit:
        while True:
            if i >= n:
                raise HPACKDecodingError("Unable to decode HPACK integer: truncated")
            byte = p[i]
            i += 1
            count += 1
            value += (<uint64_t>(byte & 127)) << shift
            if byte < 128:
                break
            shift += 7
            if count >= 5:
                raise HPACKDecodingError("HPACK integer representation is too long")
    pos[0] = i
    return value


cdef bytes _read_string(const unsigned char* p, Py_ssize_t n, Py_ssize_t* pos):
    cdef Py_ssize_t start
    cdef uint64_t length
    cdef bint huffman
    if pos[0] >= n:
        raise HPACKDecodingError("Unable to decode HPACK integer: truncated")
    huffman = p[pos[0]] & 0x80
    length = _read_int(p, n, pos, 7)
    start = pos[0]
    if length > <uint64_t>(n - start):
        raise HPACKDecodingError("Truncated header block")
    pos[0] = start + <Py_ssize_t>length
    if huffman:
        return _huffman_decode(p + start, <Py_ssize_t>length)
    return PyBytes_FromStringAndSize(<const char*>p + start, <Py_ssize_t>length)


cdef class Decoder:
    """An HPACK decoder (RFC 7541), the twin of ``hpack.Decoder`` as h2 uses it.

    ``max_header_list_size``: the largest decoded header list (RFC 7541 §4.1 sizes, in
    bytes) before ``hpack.OversizedHeaderListError``; set it to ``n`` and the bound is
    ``n * list_size_factor`` (``list_size_factor`` 1: hpack's behaviour; our
    ``LimitDecoder`` decodes up to ``DECODED_HEADER_LIST_FACTOR`` times the advertised
    size, see ``_core/http2_hpack.py``).
    ``max_allowed_table_size``: the largest dynamic table size the encoder may select
    (our acknowledged SETTINGS_HEADER_TABLE_SIZE, RFC 9113 §6.5.2); a size update above
    it, or a table left above it at the end of a block, raises
    ``hpack.InvalidTableSizeError``.
    """

    cdef _Table table
    cdef Py_ssize_t _max_list
    cdef Py_ssize_t _factor
    cdef public Py_ssize_t max_allowed_table_size

    def __cinit__(self, Py_ssize_t max_header_list_size=65536, Py_ssize_t list_size_factor=1):
        if list_size_factor < 1:
            raise ValueError("list_size_factor must be at least 1")
        self.table = _Table(False)
        self._factor = list_size_factor
        self._max_list = max_header_list_size * list_size_factor
        self.max_allowed_table_size = _DEFAULT_TABLE_SIZE

    @property
    def max_header_list_size(self):
        """The decoding bound, bytes: the size set times ``list_size_factor``."""
        return self._max_list

    @max_header_list_size.setter
    def max_header_list_size(self, Py_ssize_t value):
        self._max_list = value * self._factor

    @property
    def header_table_size(self):
        """The dynamic table's current maximum size, bytes (RFC 7541 §4.2)."""
        return self.table.maxsize

    @header_table_size.setter
    def header_table_size(self, Py_ssize_t value):
        self.table.resize(value)

    @property
    def header_table(self):
        """The dynamic table (``fields()``: its entries, newest first)."""
        return self.table

    def decode(self, data, bint raw=True):
        """Decode one complete header block: ``[(name, value), ...]`` in order, bytes
        (str with ``raw=False``); never-indexed fields (RFC 7541 §6.2.3) come as
        ``hpack.NeverIndexedHeaderTuple``.

        Raises ``hpack.OversizedHeaderListError`` past ``max_header_list_size``,
        ``hpack.InvalidTableSizeError`` for a size update above
        ``max_allowed_table_size`` (§4.2), ``hpack.InvalidTableIndexError`` for an
        index outside both tables (§2.3.3), ``hpack.HPACKDecodingError`` for anything
        else malformed (truncated, a size update after a field (§4.2), bad Huffman)."""
        cdef bytes block = data if type(data) is bytes else bytes(data)
        cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(block)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(block)
        cdef Py_ssize_t pos = 0, inflated = 0
        cdef uint64_t index, size
        cdef unsigned char c
        cdef list headers = []
        cdef object field  # a tuple, or a NeverIndexedHeaderTuple
        cdef bytes name, value
        cdef _Table table = self.table
        while pos < n:
            c = p[pos]
            if c & 0x80:  # indexed field (§6.1)
                index = _read_int(p, n, &pos, 7)
                field = table.get(index)
            elif c & 0x40:  # literal with incremental indexing (§6.2.1)
                index = _read_int(p, n, &pos, 6)
                if index:
                    name = <bytes>PyTuple_GET_ITEM(table.get(index), 0)
                else:
                    name = _read_string(p, n, &pos)
                value = _read_string(p, n, &pos)
                field = (name, value)
                table.add(<tuple>field)
            elif c & 0x20:  # dynamic table size update (§6.3)
                if headers:
                    raise HPACKDecodingError(
                        "Table size update not at the start of the block")
                size = _read_int(p, n, &pos, 5)
                if size > <uint64_t>self.max_allowed_table_size:
                    raise InvalidTableSizeError("Encoder exceeded max allowable table size")
                table.resize(<Py_ssize_t>size)
                continue
            else:  # literal without indexing (§6.2.2) or never indexed (§6.2.3)
                index = _read_int(p, n, &pos, 4)
                if index:
                    name = <bytes>PyTuple_GET_ITEM(table.get(index), 0)
                else:
                    name = _read_string(p, n, &pos)
                value = _read_string(p, n, &pos)
                if c & 0x10:
                    field = _NeverIndexedHeaderTuple(name, value)
                else:
                    field = (name, value)
            headers.append(field)
            inflated += (PyBytes_GET_SIZE(<bytes>PyTuple_GET_ITEM(<tuple>field, 0))
                         + PyBytes_GET_SIZE(<bytes>PyTuple_GET_ITEM(<tuple>field, 1)) + 32)
            if inflated > self._max_list:
                raise OversizedHeaderListError(
                    f"A header list larger than {self._max_list} has been received")
        if table.maxsize > self.max_allowed_table_size:
            raise InvalidTableSizeError("Encoder did not shrink table size to within the max")
        if not raw:
            try:
                return [
                    _NeverIndexedHeaderTuple(f[0].decode("utf-8"), f[1].decode("utf-8"))
                    if type(f) is not tuple else (f[0].decode("utf-8"), f[1].decode("utf-8"))
                    for f in headers
                ]
            except UnicodeDecodeError as exc:
                raise HPACKDecodingError("Unable to decode headers as UTF-8") from exc
        return headers


# ------------------------------------------------------------------ encoding

cdef inline bytes _as_bytes(object value):
    if type(value) is bytes:
        return <bytes>value
    if type(value) is not str:
        value = str(value)
    return (<str>value).encode("utf-8")


cdef class Encoder:
    """An HPACK encoder (RFC 7541), the twin of ``hpack.Encoder``: the same header block
    for the same calls. A field already in a table is indexed (§6.1); otherwise a
    literal with incremental indexing (§6.2.1) naming a table entry if one has the name;
    never-indexed literals (§6.2.3) for ``hpack.NeverIndexedHeaderTuple`` fields and
    ``(name, value, True)`` triples. Size changes set through ``header_table_size`` are
    signalled at the start of the next block (§4.2, §6.3), every one of them."""

    cdef _Table table
    cdef list _size_changes
    cdef dict __dict__  # instance attributes, as on hpack's (tests wrap ``encode``)

    def __cinit__(self):
        self.table = _Table(True)
        self._size_changes = []

    @property
    def header_table_size(self):
        """The dynamic table's maximum size, bytes (the peer's SETTINGS_HEADER_TABLE_SIZE,
        RFC 9113 §6.5.2)."""
        return self.table.maxsize

    @header_table_size.setter
    def header_table_size(self, Py_ssize_t value):
        self.table.resize(value)
        if self.table.resized:
            self._size_changes.append(value)

    @property
    def header_table(self):
        """The dynamic table (``fields()``: its entries, newest first)."""
        return self.table

    @property
    def size_update_pending(self):
        """True if the next block starts with a dynamic table size update."""
        return bool(self._size_changes)

    def encode(self, headers, bint huffman=True):
        """Encode a header list (``[(name, value), ...]``, bytes or str; HeaderTuple,
        NeverIndexedHeaderTuple or ``(name, value, sensitive)`` items) into one header
        block (bytes)."""
        cdef _Buf buf
        buf.data = NULL
        buf.length = buf.capacity = 0
        try:
            self._encode(&buf, headers, huffman)
            return PyBytes_FromStringAndSize(<const char*>buf.data, buf.length)
        finally:
            PyMem_Free(buf.data)

    cdef int _encode(self, _Buf* buf, object headers, bint huffman) except -1:
        cdef _Table table = self.table
        cdef object header, seq, static
        cdef tuple key
        cdef bytes name, value
        cdef bint sensitive
        cdef Py_ssize_t partial
        if self._size_changes:
            for size in self._size_changes:
                _put_int(buf, size, 5, 0x20)
            self._size_changes = []
            table.resized = False
        if isinstance(headers, dict):
            headers = sorted(headers.items(),
                             key=lambda item: not _as_bytes(item[0]).startswith(b":"))
        for header in headers:
            if type(header) is tuple and PyTuple_GET_SIZE(header) == 2 \
                    and type(<object>PyTuple_GET_ITEM(header, 0)) is bytes \
                    and type(<object>PyTuple_GET_ITEM(header, 1)) is bytes:
                key = <tuple>header
                name = <bytes>PyTuple_GET_ITEM(header, 0)
                value = <bytes>PyTuple_GET_ITEM(header, 1)
                sensitive = False
            else:
                if isinstance(header, _HeaderTuple):
                    sensitive = not header.indexable
                elif len(header) > 2:
                    sensitive = bool(header[2])
                else:
                    sensitive = False
                name = _as_bytes(header[0])
                value = _as_bytes(header[1])
                key = (name, value)
            partial = 0
            static = _STATIC_BY_NAME.get(name)
            if static is not None:
                seq = (<dict>(<tuple>static)[1]).get(value)
                if seq is not None:
                    _put_int(buf, <Py_ssize_t>seq, 7, 0x80)
                    continue
                partial = <Py_ssize_t>(<tuple>static)[0]
            seq = table.by_field.get(key)
            if seq is not None:
                _put_int(buf, table.index_of(<long long>seq), 7, 0x80)
                continue
            if not partial:
                seq = table.by_name.get(name)
                if seq is not None:
                    partial = table.index_of(<long long>seq)
            if partial:
                if sensitive:
                    _put_int(buf, partial, 4, 0x10)
                else:
                    _put_int(buf, partial, 6, 0x40)
            else:
                _buf_reserve(buf, 1)
                buf.data[buf.length] = 0x10 if sensitive else 0x40
                buf.length += 1
                _put_string(buf, name, huffman)
            _put_string(buf, value, huffman)
            if not sensitive:
                table.add(key)
        return 0

# The response parser of the Cython kernel (included by _kernel_c.pyx). Every method
# mirrors the method of the same name in httpcore_fast/_kernel_py.py, check for check.


cdef class ResponseParser:
    """Parses the responses of one connection (keep-alive): the same constructor
    limits, methods, results and ``RemoteProtocolError`` messages as
    ``httpcore_fast._kernel_py.ResponseParser`` (documented there and in docs/kernel.md;
    framing per RFC 9112 §6.3, chunked per §7.1), for every input and every split of it."""

    cdef bytearray _buf
    cdef object _mv
    cdef char* _data
    cdef Py_ssize_t _cap, _start, _end, _view_size, _view_at, _scan, _informational
    cdef bint _eof, _head_request, _connect_request, _upgrade_request, _http10
    cdef str _error
    cdef int _state, _framing, _chunk_state, _status
    cdef int64_t _remaining, _received
    cdef readonly bint keep_alive
    cdef readonly list trailers
    cdef Py_ssize_t _max_status_line, _max_field_line, _max_head, _max_field_count
    cdef Py_ssize_t _max_chunk_line, _max_trailer, _max_informational

    def __init__(
        self,
        *,
        max_status_line_size=MAX_STATUS_LINE_SIZE,
        max_field_line_size=MAX_FIELD_LINE_SIZE,
        max_head_size=MAX_HEAD_SIZE,
        max_field_count=MAX_FIELD_COUNT,
        max_chunk_size_line=MAX_CHUNK_SIZE_LINE,
        max_trailer_size=MAX_TRAILER_SIZE,
        max_informational=MAX_INFORMATIONAL,
    ):
        # Any int >= 0 (as in the Python kernel), clamped to _LIMIT_CAP: a limit beyond
        # Py_ssize_t is simply unreachable, not an OverflowError.
        limits = (
            max_status_line_size, max_field_line_size, max_head_size, max_field_count,
            max_chunk_size_line, max_trailer_size, max_informational,
        )
        for value in limits:
            if _index(value) < 0:
                raise ValueError("parser limits must be >= 0")
        self._max_status_line = min(_index(max_status_line_size), _LIMIT_CAP)
        self._max_field_line = min(_index(max_field_line_size), _LIMIT_CAP)
        self._max_head = min(_index(max_head_size), _LIMIT_CAP)
        self._max_field_count = min(_index(max_field_count), _LIMIT_CAP)
        self._max_chunk_line = min(_index(max_chunk_size_line), _LIMIT_CAP)
        self._max_trailer = min(_index(max_trailer_size), _LIMIT_CAP)
        self._max_informational = min(_index(max_informational), _LIMIT_CAP)
        self._buf = bytearray()
        self._mv = memoryview(self._buf)
        self._data = PyByteArray_AS_STRING(self._buf)
        self._cap = 0
        self._start = 0
        self._end = 0
        self._view_size = 0
        self._view_at = 0
        self._eof = False
        self._error = None
        self._state = _IDLE
        self._scan = 0
        self._informational = 0
        self._head_request = False
        self._connect_request = False
        self._upgrade_request = False
        self._framing = _NONE
        self._remaining = 0
        self._received = 0
        self._chunk_state = _CH_SIZE
        self.keep_alive = True
        self.trailers = []

    # ---------------------------------------------------------------- receive buffer

    cdef inline int _check_error(self) except -1:
        if self._error is not None:
            raise RemoteProtocolError(self._error)
        return 0

    cdef int _fail(self, str message) except -1:
        """Make the parser unusable and raise ``RemoteProtocolError(message)``."""
        self._error = message
        self.keep_alive = False
        raise RemoteProtocolError(message)

    cdef int _reserve(self, Py_ssize_t size) except -1:
        """Make room for ``size`` more bytes after ``_end`` (amortised O(1) per byte).

        The only place the buffer changes storage: a new bytearray replaces the old one
        (views handed out earlier keep the old one alive), or the data is moved to the
        front of the same bytearray (the caller has dropped its view by contract).
        ``0 <= size``; sums are checked against ``PY_SSIZE_T_MAX`` before they are formed,
        and new storage is zero-filled (never uninitialised heap bytes in a view).
        """
        cdef Py_ssize_t start = self._start
        cdef Py_ssize_t used = self._end - start
        cdef Py_ssize_t capacity = self._cap
        cdef Py_ssize_t need
        cdef bytearray new
        if capacity - self._end >= size:
            return 0
        if size > PY_SSIZE_T_MAX - used:
            raise MemoryError("receive buffer size overflows Py_ssize_t")
        need = used + size
        if start >= used and need <= capacity:
            memmove(self._data, self._data + start, used)
        else:
            if capacity > PY_SSIZE_T_MAX // 2:
                capacity = need
            else:
                capacity = max(2 * capacity, need, <Py_ssize_t>_MIN_CAPACITY)
            new = PyByteArray_FromStringAndSize(NULL, capacity)
            memcpy(PyByteArray_AS_STRING(new), self._data + start, used)
            memset(PyByteArray_AS_STRING(new) + used, 0, capacity - used)
            self._buf = new
            self._mv = memoryview(new)
            self._data = PyByteArray_AS_STRING(new)
            self._cap = capacity
        self._start = 0
        self._end = used
        return 0

    cdef inline void _consume(self, Py_ssize_t size) noexcept:
        self._start += size
        if self._start == self._end:
            self._start = self._end = 0

    def get_buffer(self, size_hint=65536):
        """A writable view of ``size_hint`` free bytes (clamped to 1..``MAX_VIEW_SIZE``)
        at the buffer's end; as ``httpcore_fast._kernel_py.ResponseParser.get_buffer``."""
        cdef Py_ssize_t size
        self._check_error()
        if self._eof:
            raise RuntimeError("get_buffer() called after EOF")
        if type(size_hint) is not int:
            size_hint = _index(size_hint)
        # compare as Python ints: no conversion to Py_ssize_t can overflow
        if size_hint < 1:
            size = 1
        elif size_hint > _MAX_VIEW:
            size = _MAX_VIEW
        else:
            size = size_hint
        self._reserve(size)
        self._view_size = size
        self._view_at = self._end
        return self._mv[self._end : self._end + size]

    def buffer_updated(self, nbytes_obj):
        """``nbytes`` were written at the start of the last view; 0 means EOF. Raises as
        ``httpcore_fast._kernel_py.ResponseParser.buffer_updated``. Safety: ``_end`` only
        grows by at most the size of a view that lies inside the storage."""
        cdef Py_ssize_t nbytes
        self._check_error()
        try:
            nbytes = nbytes_obj
        except OverflowError:
            nbytes = -1  # beyond any view: rejected below, after the EOF check
        if nbytes == 0:
            self._eof = True
            self._view_size = 0
            return
        if self._eof:
            raise RuntimeError("buffer_updated() called after EOF")
        if self._view_size == 0 or self._view_at != self._end:
            raise ValueError("buffer_updated(): no get_buffer() view to report")
        if not 0 < nbytes <= self._view_size:
            raise ValueError(
                f"buffer_updated(): nbytes must be 0 (EOF) or 1 to {self._view_size}, "
                "the size of the last get_buffer() view"
            )
        self._end += nbytes
        self._view_size = 0

    def feed(self, data):
        """Append ``data`` to the receive buffer; ``b""`` means EOF."""
        cdef Py_buffer view
        cdef Py_ssize_t size
        self._check_error()
        if type(data) is bytes:
            size = PyBytes_GET_SIZE(data)
        else:
            data = _byte_view(data)
            size = len(data)
        if size == 0:
            self._eof = True
            return
        if self._eof:
            raise RuntimeError("feed() called after EOF")
        self._reserve(size)
        if type(data) is bytes:
            memcpy(self._data + self._end, PyBytes_AS_STRING(data), size)
        else:
            PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
            try:
                if view.len != size:
                    raise ValueError("feed() needs a contiguous bytes-like object")
                memcpy(self._data + self._end, view.buf, size)
            finally:
                PyBuffer_Release(&view)
        self._end += size
        self._view_size = 0

    def pending(self):
        """Bytes buffered and not yet consumed."""
        return self._end - self._start

    def take_pending(self):
        """Remove and return the buffered bytes (for 101 / CONNECT tunnels)."""
        cdef bytes data = PyBytes_FromStringAndSize(self._data + self._start, self._end - self._start)
        self._start = self._end = 0
        self._scan = 0
        return data

    # ---------------------------------------------------------------- message cycle

    def start_response(self, head_request, connect_request, *, upgrade_request=False):
        """The request has been sent: the next bytes are its response (arguments and
        errors as ``httpcore_fast._kernel_py.ResponseParser.start_response``)."""
        self._check_error()
        if self._state != _IDLE and self._state != _DONE:
            raise RuntimeError(
                "start_response() called before the previous response was completely received"
            )
        self._state = _HEAD
        self._head_request = bool(head_request)
        self._connect_request = bool(connect_request)
        self._upgrade_request = bool(upgrade_request)
        self._informational = 0
        self._scan = 0
        self.keep_alive = True
        self.trailers = []

    cdef Py_ssize_t _section_end(self, Py_ssize_t limit) noexcept:
        """Absolute end of the section (head or trailers) that starts at ``_start``: the
        index after its empty line, searching at most ``limit`` bytes; -1 if not found."""
        cdef const char* data = self._data
        cdef Py_ssize_t start = self._start
        cdef Py_ssize_t stop = min(self._end, start + limit)
        cdef Py_ssize_t i = start + self._scan
        cdef const char* lf
        while i < stop:
            lf = <const char*>memchr(data + i, b'\n', stop - i)
            if lf == NULL:
                break
            i = lf - data
            if i + 1 < stop and data[i + 1] == b'\n':
                return i + 2
            if i + 2 < stop and data[i + 1] == b'\r' and data[i + 2] == b'\n':
                return i + 3
            i += 1
        self._scan = max(stop - start - 2, 0)
        return -1

    cdef int _check_section(self, const char* p, Py_ssize_t n, bint head) except -1:
        """Reject bare CR, then (trailers only) bare LF, then control bytes (the Python
        kernel's ``_check_section``)."""
        cdef Py_ssize_t i, bad = -1
        cdef unsigned char c
        for i in range(n):
            c = <unsigned char>p[i]
            if _SPECIAL_T[c]:
                if c == 13:
                    if i + 1 >= n or p[i + 1] != b'\n':
                        return self._fail(
                            "bare CR in response head" if head else "bare CR in trailer section"
                        )
                elif bad < 0:
                    bad = i
        if not head:  # RFC 9112 §7.1.2: trailer field lines end in CRLF
            for i in range(n):
                if p[i] == b'\n' and (i == 0 or p[i - 1] != b'\r'):
                    if i == n - 1:
                        return self._fail("bare LF ending the trailer section")
                    return self._fail("bare LF ending a trailer field line")
        if bad >= 0:
            where = "status line" if head and memchr(p, b'\n', bad) == NULL else "field line"
            return self._fail(
                f"invalid control byte 0x{<int>(<unsigned char>p[bad]):02x} in {where}"
            )
        return 0

    cdef int _fields(self, const char* p, Py_ssize_t pos, Py_ssize_t n, list fields) except -1:
        """Parse the field lines of ``p[:n]`` from ``pos`` up to the empty line (the
        section is already checked by ``_check_section``), appending to ``fields``."""
        cdef Py_ssize_t max_line = self._max_field_line
        cdef Py_ssize_t max_count = self._max_field_count
        cdef Py_ssize_t end, after, size, vstart, vend, count = len(fields)
        cdef const char* line
        cdef const char* colon
        cdef bytes name, value, joined
        cdef tuple last
        while True:
            end = <const char*>memchr(p + pos, b'\n', n - pos) - p  # found: p[:n] ends with LF
            after = end + 1
            if end > pos and p[end - 1] == b'\r':
                end -= 1
            if end == pos:
                return 0
            line = p + pos
            size = end - pos
            pos = after
            if size > max_line:
                return self._fail(f"field line exceeds max_field_line_size ({max_line} bytes)")
            if _is_ows(line[0]):  # obs-fold
                if count == 0:
                    return self._fail("obs-fold at the start of the field section")
                vstart = 0
                vend = size
                while vstart < vend and _is_ows(line[vstart]):
                    vstart += 1
                while vend > vstart and _is_ows(line[vend - 1]):
                    vend -= 1
                if vend > vstart:
                    last = <tuple>fields[count - 1]
                    value = <bytes>last[1]
                    if PyBytes_GET_SIZE(value):
                        joined = PyBytes_FromStringAndSize(
                            NULL, PyBytes_GET_SIZE(value) + 1 + vend - vstart
                        )
                        memcpy(PyBytes_AS_STRING(joined), PyBytes_AS_STRING(value),
                               PyBytes_GET_SIZE(value))
                        PyBytes_AS_STRING(joined)[PyBytes_GET_SIZE(value)] = b' '
                        memcpy(PyBytes_AS_STRING(joined) + PyBytes_GET_SIZE(value) + 1,
                               line + vstart, vend - vstart)
                    else:
                        joined = PyBytes_FromStringAndSize(line + vstart, vend - vstart)
                    fields[count - 1] = (last[0], joined)
                continue
            if count >= max_count:
                return self._fail(f"too many field lines (exceeds max_field_count {max_count})")
            colon = <const char*>memchr(line, b':', size)
            if colon == NULL:
                return self._fail(f"field line without colon {_excerpt(line, size, _EXCERPT)!r}")
            if colon == line:
                return self._fail("empty field name")
            if not _all_in(line, colon - line, _TCHAR_T):
                return self._fail(
                    f"invalid field name {_excerpt(line, colon - line, _EXCERPT)!r}"
                )
            vstart = colon + 1 - line
            vend = size
            while vstart < vend and _is_ows(line[vstart]):
                vstart += 1
            while vend > vstart and _is_ows(line[vend - 1]):
                vend -= 1
            name = PyBytes_FromStringAndSize(line, colon - line)
            value = PyBytes_FromStringAndSize(line + vstart, vend - vstart)
            fields.append((name, value))
            count += 1

    cdef tuple _parse_head(self, Py_ssize_t end):
        cdef Py_ssize_t start = self._start
        cdef const char* p = self._data + start
        cdef Py_ssize_t n = end - start, size, token, fields_start
        cdef const char* sp
        cdef bytes version, reason
        cdef list headers
        self._consume(n)  # moves indices only: p stays valid (no reallocation here)
        self._scan = 0
        self._check_section(p, n, True)
        sp = <const char*>memchr(p, b'\n', n)
        if sp == NULL:  # cannot happen: the section ends with its empty line
            raise AssertionError("response head without LF")
        fields_start = sp - p + 1
        size = sp - p
        if size > 0 and p[size - 1] == b'\r':
            size -= 1
        if size > self._max_status_line:
            self._fail(
                f"status line exceeds max_status_line_size ({self._max_status_line} bytes)"
            )
        if size >= 9 and p[8] == b' ' and memcmp(p, b"HTTP/1.", 7) == 0 and (
            p[7] == b'1' or p[7] == b'0'
        ):
            self._http10 = p[7] == b'0'
            version = _B_HTTP10 if self._http10 else _B_HTTP11
        else:
            sp = <const char*>memchr(p, b' ', size) if size > 0 else NULL
            token = (sp - p) if sp != NULL else size
            if token >= 5 and memcmp(p, b"HTTP/", 5) == 0 and not (
                token == 8 and (memcmp(p, b"HTTP/1.1", 8) == 0 or memcmp(p, b"HTTP/1.0", 8) == 0)
            ):
                self._fail(f"unsupported HTTP version {_excerpt(p, token, 32)!r}")
            self._fail(f"malformed status line {_excerpt(p, size, _EXCERPT)!r}")
        if (
            size < 12
            or p[9] < b'1' or p[9] > b'9'
            or p[10] < b'0' or p[10] > b'9'
            or p[11] < b'0' or p[11] > b'9'
            or (size > 12 and p[12] != b' ')
        ):
            self._fail(f"malformed status line {_excerpt(p, size, _EXCERPT)!r}")
        self._status = (p[9] - 48) * 100 + (p[10] - 48) * 10 + (p[11] - 48)
        if size <= 13:
            reason = _B_EMPTY
        elif size == 15 and p[13] == b'O' and p[14] == b'K':
            reason = _B_OK
        else:
            reason = PyBytes_FromStringAndSize(p + 13, size - 13)
        headers = []
        self._fields(p, fields_start, n, headers)
        return version, self._status, reason, headers

    cdef int _framing_of(self, list headers) except -1:
        """Validate the framing fields of a head and set up the body state."""
        cdef int64_t content_length = -1
        cdef bint chunked = False, close = False, keep_alive
        cdef Py_ssize_t i, size, vsize
        cdef object item, name, value
        cdef const char* np
        cdef const char* vp
        cdef int status = self._status, framing
        for i in range(PyList_GET_SIZE(headers)):
            item = <object>PyList_GET_ITEM(headers, i)
            name = <object>PyTuple_GET_ITEM(item, 0)
            size = PyBytes_GET_SIZE(name)
            if size != 10 and size != 14 and size != 17:
                continue
            np = PyBytes_AS_STRING(name)
            value = <object>PyTuple_GET_ITEM(item, 1)
            vp = PyBytes_AS_STRING(value)
            vsize = PyBytes_GET_SIZE(value)
            if _lower_eq(np, size, b"content-length", 14):
                try:
                    content_length = _content_length(vp, vsize, content_length, False)
                except RemoteProtocolError as exc:
                    return self._fail(str(exc))
            elif _lower_eq(np, size, b"transfer-encoding", 17):
                if not _lower_eq(vp, vsize, b"chunked", 7):
                    return self._fail(
                        f"unsupported Transfer-Encoding {_excerpt(vp, vsize, _EXCERPT)!r}"
                    )
                if chunked:
                    return self._fail("multiple Transfer-Encoding fields")
                chunked = True
            elif not close and _lower_eq(np, size, b"connection", 10):
                close = _has_close_token(vp, vsize)
        if chunked:
            if self._http10:
                return self._fail("Transfer-Encoding in an HTTP/1.0 response")
            if content_length >= 0:
                return self._fail("both Transfer-Encoding and Content-Length")
        keep_alive = not self._http10 and not close
        if (
            self._head_request
            or status < 200
            or status == 204
            or status == 304
            or (self._connect_request and status < 300)
        ):
            framing = _NONE
            if status == 101 or (self._connect_request and 200 <= status < 300):
                keep_alive = False  # the stream is handed over
        elif chunked:
            framing = _CHUNKED
            self._chunk_state = _CH_SIZE
        elif content_length >= 0:
            framing = _LENGTH
            self._remaining = content_length
            self._received = 0
        else:
            framing = _CLOSE
            keep_alive = False
        self._framing = framing
        self.keep_alive = keep_alive
        return 0

    def receive_head(self):
        """The final response head, or None if more bytes are needed."""
        cdef Py_ssize_t avail, end
        cdef char first
        cdef tuple head
        self._check_error()
        if self._state != _HEAD:
            raise RuntimeError("receive_head() called when no response head is expected")
        while True:
            avail = self._end - self._start
            if avail == 0:
                if self._eof:
                    self._fail("Server disconnected without sending a response.")
                return None
            if self._scan == 0:
                first = self._data[self._start]
                if first == b'\n' or first == b'\r':
                    if first == b'\r':
                        if avail == 1:
                            if self._eof:
                                self._fail(_INCOMPLETE_HEAD)
                            return None
                        if self._data[self._start + 1] != b'\n':
                            self._fail("bare CR in response head")
                    self._fail("response head starts with an empty line")
            end = self._section_end(self._max_head)
            if end < 0:
                if avail >= self._max_head:
                    self._fail(f"response head exceeds max_head_size ({self._max_head} bytes)")
                if self._eof:
                    self._fail(_INCOMPLETE_HEAD)
                return None
            head = self._parse_head(end)
            self._framing_of(<list>head[3])
            if self._status == 101 and not self._upgrade_request:
                self._fail(_UNEXPECTED_101)
            if 100 <= self._status < 200 and self._status != 101:
                self._informational += 1
                if self._informational > self._max_informational:
                    self._fail(
                        "too many informational responses "
                        f"(exceeds max_informational {self._max_informational})"
                    )
                continue
            self._state = _BODY
            return head

    def receive_body(self):
        """The next body bytes, ``b""`` at end of message, or None if more are needed."""
        cdef Py_ssize_t avail
        self._check_error()
        if self._state != _BODY:
            if self._state == _DONE:
                return _B_EMPTY
            raise RuntimeError("receive_body() called before receive_head() returned a response")
        if self._framing == _LENGTH:
            return self._length_body()
        if self._framing == _CHUNKED:
            return self._chunked_body()
        if self._framing == _CLOSE:
            avail = self._end - self._start
            if avail:
                return self._take(avail)
            if self._eof:
                self._state = _DONE
                return _B_EMPTY
            return None
        self._state = _DONE
        return _B_EMPTY

    cdef inline bytes _take(self, Py_ssize_t size):
        cdef bytes data = PyBytes_FromStringAndSize(self._data + self._start, size)
        self._consume(size)
        return data

    cdef object _length_body(self):
        cdef int64_t remaining = self._remaining
        cdef Py_ssize_t avail, size
        if remaining == 0:
            self._state = _DONE
            return _B_EMPTY
        avail = self._end - self._start
        if avail == 0:
            if self._eof:
                self._fail(
                    "peer closed connection without sending complete message body: "
                    f"received {self._received} bytes, expected {self._received + remaining}"
                )
            return None
        size = avail if avail < remaining else <Py_ssize_t>remaining
        self._remaining = remaining - size
        self._received += size
        return self._take(size)

    cdef inline int _incomplete_chunked(self) except -1:
        if self._eof:
            return self._fail(_INCOMPLETE_CHUNKED)
        return 0

    cdef object _chunked_body(self):
        cdef Py_ssize_t avail, start, limit, stop, lf, line_end, size
        cdef const char* found
        cdef int64_t chunk
        cdef char first
        cdef bint crlf
        while True:
            avail = self._end - self._start
            if self._chunk_state == _CH_DATA:
                if avail == 0:
                    self._incomplete_chunked()
                    return None
                size = avail if avail < self._remaining else <Py_ssize_t>self._remaining
                self._remaining -= size
                if self._remaining == 0:
                    self._chunk_state = _CH_CRLF
                return self._take(size)
            if self._chunk_state == _CH_SIZE:
                start = self._start
                limit = self._max_chunk_line + 2
                stop = self._end if avail < limit else start + limit
                found = <const char*>memchr(
                    self._data + start + self._scan, b'\n', stop - start - self._scan
                )
                if found == NULL:
                    if avail >= limit:
                        self._fail(
                            "chunk-size line exceeds max_chunk_size_line "
                            f"({self._max_chunk_line} bytes)"
                        )
                    self._incomplete_chunked()
                    self._scan = stop - start
                    return None
                self._scan = 0
                lf = found - self._data
                crlf = lf > start and self._data[lf - 1] == b'\r'
                line_end = lf - 1 if crlf else lf
                self._consume(lf + 1 - start)  # indices only: the bytes stay in place
                chunk = self._chunk_size(self._data + start, line_end - start)
                if not crlf:  # RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF
                    self._fail(
                        "bare LF ending the last chunk" if chunk == 0
                        else "bare LF ending a chunk-size line"
                    )
                if chunk == 0:
                    self._chunk_state = _CH_TRAILER
                else:
                    self._remaining = chunk
                    self._chunk_state = _CH_DATA
            elif self._chunk_state == _CH_CRLF:
                if avail == 0:
                    self._incomplete_chunked()
                    return None
                first = self._data[self._start]
                if first == b'\r':
                    if avail == 1:
                        self._incomplete_chunked()
                        return None
                    if self._data[self._start + 1] != b'\n':
                        self._fail("chunk data not followed by CRLF")
                    self._consume(2)
                elif first == b'\n':
                    self._fail("bare LF after chunk data")
                else:
                    self._fail("chunk data not followed by CRLF")
                self._chunk_state = _CH_SIZE
            else:
                return self._trailer_section(avail)

    cdef int64_t _chunk_size(self, const char* p, Py_ssize_t n) except -1:
        cdef Py_ssize_t digits = 0, i
        cdef int64_t size = 0
        if n > self._max_chunk_line:
            return self._fail(
                f"chunk-size line exceeds max_chunk_size_line ({self._max_chunk_line} bytes)"
            )
        if memchr(p, b'\r', n) != NULL:
            return self._fail("bare CR in chunk-size line")
        while digits < n and _HEX_T[<unsigned char>p[digits]] >= 0:
            digits += 1
        if digits == 0:
            return self._fail(f"invalid chunk-size line {_excerpt(p, n, _EXCERPT)!r}")
        if digits > 15:
            return self._fail("chunk size has more than 15 hex digits")
        for i in range(digits):
            size = size * 16 + _HEX_T[<unsigned char>p[i]]
        i = digits
        while i < n and _is_ows(p[i]):
            i += 1
        if i < n:
            if p[i] != b';':
                return self._fail(f"invalid chunk-size line {_excerpt(p, n, _EXCERPT)!r}")
            while i < n:
                if _SPECIAL_T[<unsigned char>p[i]]:
                    return self._fail(
                        f"invalid control byte 0x{<int>(<unsigned char>p[i]):02x} "
                        "in chunk extension"
                    )
                i += 1
        return size

    cdef object _trailer_section(self, Py_ssize_t avail):
        cdef Py_ssize_t start = self._start, end
        cdef const char* p
        cdef char first
        cdef list trailers
        if avail == 0:
            self._incomplete_chunked()
            return None
        if self._scan == 0:
            first = self._data[start]
            if first == b'\n':
                self._fail("bare LF ending the trailer section")
            if first == b'\r':
                if avail == 1:
                    self._incomplete_chunked()
                    return None
                if self._data[start + 1] != b'\n':
                    self._fail("bare CR in trailer section")
                self._consume(2)
                self._state = _DONE
                return _B_EMPTY
        end = self._section_end(self._max_trailer)
        if end < 0:
            if avail >= self._max_trailer:
                self._fail(
                    f"trailer section exceeds max_trailer_size ({self._max_trailer} bytes)"
                )
            self._incomplete_chunked()
            return None
        p = self._data + start
        self._consume(end - start)
        self._scan = 0
        self._check_section(p, end - start, False)
        trailers = []
        self._fields(p, 0, end - start, trailers)
        self.trailers = trailers
        self._state = _DONE
        return _B_EMPTY

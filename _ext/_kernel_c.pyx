# cython: language_level=3, freethreading_compatible=True
"""The Cython HTTP/1.1 kernel, compiled as ``httpcore_fast._kernel_c``.

A port of ``httpcore_fast/_kernel_py.py`` (the reference) that keeps its check order, so
that both kernels give the same results and the same exception type and message for every
input and every split of it into reads. The contract is ``docs/kernel.md``.

Receive buffer safety: the buffer is a ``bytearray``; ``get_buffer()`` hands out a
``memoryview`` slice of it, which holds a reference to that bytearray. The buffer is only
ever replaced (never resized or freed in place) and only inside ``get_buffer()`` /
``feed()``, so a view kept too long can never point at freed memory: at worst its writes go
to an old, no longer used bytearray.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t
from libc.string cimport memchr, memcmp, memcpy, memmove, memset

from operator import index as _index

from httpcore_fast._exceptions import LocalProtocolError, RemoteProtocolError

# The limits' defaults and the public names are defined once, in the reference kernel.
from httpcore_fast._kernel_py import (
    MAX_CHUNK_SIZE_LINE,
    MAX_FIELD_COUNT,
    MAX_FIELD_LINE_SIZE,
    MAX_HEAD_SIZE,
    MAX_INFORMATIONAL,
    MAX_STATUS_LINE_SIZE,
    MAX_TRAILER_SIZE,
    MAX_VIEW_SIZE,
    HTTPCORE_MAX_INCOMPLETE_EVENT_SIZE,
    HTTPCORE_READ_NUM_BYTES,
    __all__,
    _byte_view,
    _header_pair,
)

KERNEL_NAME = "cython"

include "_kernel_c_tables.pxi"

# Parser states, body framings and chunked sub-states (the Python kernel's values).
cdef enum:
    _IDLE = 0
    _HEAD = 1
    _BODY = 2
    _DONE = 3
cdef enum:
    _NONE = 0
    _LENGTH = 1
    _CHUNKED = 2
    _CLOSE = 3
cdef enum:
    _CH_SIZE = 0
    _CH_DATA = 1
    _CH_CRLF = 2
    _CH_TRAILER = 3
cdef enum:
    _MIN_CAPACITY = 4096
    _EXCERPT = 64

# Limits are clamped to this internally so that ``start + limit + 2`` cannot overflow; a
# limit that large can never be exceeded by a buffer anyway.
cdef Py_ssize_t _LIMIT_CAP = (<Py_ssize_t>1) << 60

cdef bytes _B_HTTP11 = b"HTTP/1.1"
cdef bytes _B_HTTP10 = b"HTTP/1.0"
cdef bytes _B_EMPTY = b""
cdef bytes _B_OK = b"OK"
cdef bytes _B_REQUEST_END = b" HTTP/1.1\r\n"
cdef Py_ssize_t _MAX_VIEW = MAX_VIEW_SIZE
cdef str _UNEXPECTED_101 = "Received 101 Switching Protocols without a pending Upgrade proposal"
cdef str _INCOMPLETE_HEAD = "peer closed connection without sending complete response head"
cdef str _INCOMPLETE_CHUNKED = (
    "peer closed connection without sending complete message body: incomplete chunked read"
)


cdef inline bytes _excerpt(const char* p, Py_ssize_t n, Py_ssize_t most):
    return PyBytes_FromStringAndSize(p, n if n < most else most)


cdef inline bint _is_ows(char c) noexcept:
    return c == b' ' or c == b'\t'


cdef inline bint _lower_eq(const char* p, Py_ssize_t n, const char* lower, Py_ssize_t m) noexcept:
    """ASCII case-insensitive ``p[:n] == lower[:m]`` (``lower`` is lowercase)."""
    cdef Py_ssize_t i
    cdef unsigned char c
    if n != m:
        return False
    for i in range(n):
        c = <unsigned char>p[i]
        if c >= b'A' and c <= b'Z':
            c += 32
        if c != <unsigned char>lower[i]:
            return False
    return True


cdef inline int64_t _decimal(const char* p, Py_ssize_t n) noexcept:
    """OWS-trimmed ``1*18DIGIT`` -> its value; anything else -> -1."""
    cdef Py_ssize_t i
    cdef int64_t value = 0
    while n and _is_ows(p[0]):
        p += 1
        n -= 1
    while n and _is_ows(p[n - 1]):
        n -= 1
    if n == 0 or n > 18:
        return -1
    for i in range(n):
        if p[i] < b'0' or p[i] > b'9':
            return -1
        value = value * 10 + (p[i] - 48)
    return value


cdef int64_t _content_length(const char* p, Py_ssize_t n, int64_t current, bint local) except -2:
    """Validate a Content-Length value (a list of identical values) against ``current``
    (-1 if none yet); return the length. Raises with the Python kernel's messages."""
    cdef const char* comma
    cdef const char* item = p
    cdef Py_ssize_t rest = n
    cdef int64_t length
    while True:
        comma = <const char*>memchr(item, b',', rest)
        length = _decimal(item, (comma - item) if comma != NULL else rest)
        if length < 0:
            if local:
                raise LocalProtocolError(f"Invalid Content-Length {p[:n]!r}")
            raise RemoteProtocolError(f"invalid Content-Length {_excerpt(p, n, _EXCERPT)!r}")
        if current >= 0 and length != current:
            if local:
                raise LocalProtocolError("Conflicting Content-Length headers")
            raise RemoteProtocolError("conflicting Content-Length values")
        current = length
        if comma == NULL:
            return current
        rest -= comma + 1 - item
        item = comma + 1


cdef bint _has_close_token(const char* p, Py_ssize_t n) noexcept:
    """True if the comma-separated list ``p[:n]`` has the token ``close`` (any case)."""
    cdef const char* comma
    cdef const char* item = p
    cdef Py_ssize_t rest = n, size
    while True:
        comma = <const char*>memchr(item, b',', rest)
        size = (comma - item) if comma != NULL else rest
        while size and _is_ows(item[0]):
            item += 1
            size -= 1
            rest -= 1
        while size and _is_ows(item[size - 1]):
            size -= 1
        if _lower_eq(item, size, b"close", 5):
            return True
        if comma == NULL:
            return False
        rest -= comma + 1 - item
        item = comma + 1


cdef bint _has_list_member(const char* p, Py_ssize_t n) noexcept:
    """True if the comma-separated list ``p[:n]`` has an item that is not empty once OWS
    is trimmed (h11's ``get_comma_header`` drops empty items)."""
    cdef Py_ssize_t i
    for i in range(n):
        if p[i] != b',' and not _is_ows(p[i]):
            return True
    return False


cdef inline bint _all_in(const char* p, Py_ssize_t n, const unsigned char* table) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        if not table[<unsigned char>p[i]]:
            return False
    return True


# --------------------------------------------------------------------------------------
# Request side


def serialize_request_head(method, target, headers):
    """Validate and serialise a request head in one pass; returns
    ``(head: bytes, body_length: int, close: bool, upgrade: bool)`` and raises ``LocalProtocolError``
    exactly as ``httpcore_fast._kernel_py.serialize_request_head`` (documented there and
    in docs/kernel.md; RFC 9112 §3, §5, §6.3, §7.1)."""
    return _request_head(method, target, headers, True)


def validate_request_fields(method, target, headers):
    """``serialize_request_head``'s checks without building the head; returns
    ``(body_length: int, close: bool, upgrade: bool)`` and raises exactly what
    ``serialize_request_head`` raises (docs/kernel.md)."""
    return _request_head(method, target, headers, False)


cdef tuple _request_head(object method, object target, object headers, bint build):
    """The checks of both request entries, in their order. Returns ``(head, body_length,
    close, upgrade)`` if ``build``, else ``(body_length, close, upgrade)`` (no head built).

    Memory safety: ``headers`` is iterated once and each item is looked at once; the
    names and values (exact ``bytes``, immutable) are kept in a private list, so the
    output size computed in the first pass is exactly what the second pass writes, however
    the caller's objects behave."""
    cdef Py_ssize_t total, i, count, host_index = -1, nsize, vsize
    cdef int64_t content_length = -1
    cdef bint chunked = False, close = False, upgrade = False
    cdef const char* np
    cdef const char* vp
    cdef char* out
    cdef bytes head
    cdef object name, value
    cdef list fields = []
    if type(method) is not bytes or type(target) is not bytes:
        raise TypeError("method and target must be bytes")
    if PyBytes_GET_SIZE(method) == 0 or not _all_in(
        PyBytes_AS_STRING(method), PyBytes_GET_SIZE(method), _TCHAR_T
    ):
        raise LocalProtocolError(f"Illegal method {method!r}")
    if PyBytes_GET_SIZE(target) == 0 or not _all_in(
        PyBytes_AS_STRING(target), PyBytes_GET_SIZE(target), _TARGET_T
    ):
        raise LocalProtocolError(f"Illegal target {target!r}")
    total = PyBytes_GET_SIZE(method) + PyBytes_GET_SIZE(target) + 14  # 2 SP, HTTP/1.1, 2 CRLF
    count = 0
    for item in headers:  # bounds-checked iteration, as Python's for loop
        if type(item) is not tuple or PyTuple_GET_SIZE(item) != 2:
            item = _header_pair(item)
        name = <object>PyTuple_GET_ITEM(item, 0)
        value = <object>PyTuple_GET_ITEM(item, 1)
        if type(name) is not bytes or type(value) is not bytes:
            raise TypeError("header names and values must be bytes")
        np = PyBytes_AS_STRING(name)
        nsize = PyBytes_GET_SIZE(name)
        vp = PyBytes_AS_STRING(value)
        vsize = PyBytes_GET_SIZE(value)
        if nsize == 0 or not _all_in(np, nsize, _TCHAR_T):
            raise LocalProtocolError(f"Illegal header name {name!r}")
        if vsize and (
            not _all_in(vp, vsize, _VALUE_T) or _is_ows(vp[0]) or _is_ows(vp[vsize - 1])
        ):
            raise LocalProtocolError(f"Illegal header value {value!r}")
        total += nsize + vsize + 4
        if nsize == 4 or nsize == 7 or nsize == 10 or nsize == 14 or nsize == 17:
            if _lower_eq(np, nsize, b"host", 4):
                if host_index >= 0:
                    raise LocalProtocolError("Multiple Host: headers")
                host_index = count
            elif _lower_eq(np, nsize, b"content-length", 14):
                content_length = _content_length(vp, vsize, content_length, True)
            elif _lower_eq(np, nsize, b"transfer-encoding", 17):
                if not _is_chunked(vp, vsize):
                    raise LocalProtocolError(f"Unsupported Transfer-Encoding {value!r}")
                if chunked:
                    raise LocalProtocolError("Multiple Transfer-Encoding headers")
                chunked = True
            elif not close and _lower_eq(np, nsize, b"connection", 10):
                close = _has_close_token(vp, vsize)
            elif not upgrade and _lower_eq(np, nsize, b"upgrade", 7):
                upgrade = _has_list_member(vp, vsize)
        if build:
            fields.append(name)
            fields.append(value)
        count += 1
    if host_index < 0:
        raise LocalProtocolError("Missing mandatory Host: header")
    if chunked and content_length >= 0:
        raise LocalProtocolError("Content-Length and Transfer-Encoding both set")
    if not build:
        return (-1 if chunked else (content_length if content_length >= 0 else 0), close, upgrade)
    head = PyBytes_FromStringAndSize(NULL, total)
    out = PyBytes_AS_STRING(head)
    out = _put(out, method)
    out[0] = b' '
    out = _put(out + 1, target)
    out = _put(out, _B_REQUEST_END)
    out = _put_field(out, fields, host_index)
    for i in range(count):
        if i != host_index:
            out = _put_field(out, fields, i)
    out[0] = b'\r'
    out[1] = b'\n'
    return (
        head,
        -1 if chunked else (content_length if content_length >= 0 else 0),
        close,
        upgrade,
    )


cdef inline bint _is_chunked(const char* p, Py_ssize_t n) noexcept:
    while n and _is_ows(p[0]):
        p += 1
        n -= 1
    while n and _is_ows(p[n - 1]):
        n -= 1
    return _lower_eq(p, n, b"chunked", 7)


cdef inline char* _put(char* out, bytes data) noexcept:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    memcpy(out, PyBytes_AS_STRING(data), n)
    return out + n


cdef inline char* _put_field(char* out, list fields, Py_ssize_t i) noexcept:
    """Write field ``i`` of the private ``[name0, value0, name1, ...]`` list (exact bytes)."""
    out = _put(out, <bytes>PyList_GET_ITEM(fields, 2 * i))
    out[0] = b':'
    out[1] = b' '
    out = _put(out + 2, <bytes>PyList_GET_ITEM(fields, 2 * i + 1))
    out[0] = b'\r'
    out[1] = b'\n'
    return out + 2


# --------------------------------------------------------------------------------------
# Response side

include "_kernel_c_parser.pxi"

# cython: language_level=3
"""The native HTTP/2 layer, compiled as ``httpcore_fast._h2_c``: HPACK (RFC 7541).

The pure-Python twin is ``hpack`` (under h2): ``Encoder`` and ``Decoder`` here code the
same blocks and raise the same exception classes, so either may serve the framing layer
(``httpcore_fast/_core/http2_framing.py``). Differential tests: ``tests/test_h2_native*.py``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

from hpack import HeaderTuple as _HeaderTuple
from hpack import NeverIndexedHeaderTuple as _NeverIndexedHeaderTuple
from hpack.exceptions import (
    HPACKDecodingError,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from hpack import exceptions as _hpack_exceptions

# hpack raises its deprecated subclass; so do we, for the same classes.
_InvalidTableIndex = getattr(
    _hpack_exceptions, "InvalidTableIndex", _hpack_exceptions.InvalidTableIndexError
)

__all__ = ["STATIC_TABLE", "Decoder", "Encoder", "huffman_decode", "huffman_encode"]

include "_h2_c_hpack.pxi"

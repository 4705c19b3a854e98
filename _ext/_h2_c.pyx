# cython: language_level=3, freethreading_compatible=True
"""The native HTTP/2 layer, compiled as ``httpcore_fast._h2_c``: HPACK (RFC 7541) and the
client side of RFC 9113 (``CFraming``).

The pure-Python twins are ``hpack`` and h2: ``Encoder`` and ``Decoder`` here code the same
blocks and raise the same exception classes as hpack's; ``CFraming`` gives the HTTP/2
core (``httpcore_fast/_core/http2.py``) the same events, errors and frames as
``_core.http2_framing.H2GoawayFraming``. Differential tests: ``tests/test_h2_native*.py``.
"""

from cpython.bytearray cimport (
    PyByteArray_AS_STRING,
    PyByteArray_FromStringAndSize,
    PyByteArray_GET_SIZE,
)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

from hpack import HeaderTuple as _HeaderTuple
from hpack import NeverIndexedHeaderTuple as _NeverIndexedHeaderTuple
from h2.errors import ErrorCodes as _ErrorCodes
from h2.events import ConnectionTerminated as _ConnectionTerminated
from h2.events import RemoteSettingsChanged as _RemoteSettingsChanged
from h2.events import StreamReset as _StreamResetEvent
from h2.exceptions import DenialOfServiceError as _DenialOfServiceError
from h2.exceptions import FlowControlError as _FlowControlError
from h2.exceptions import FrameDataMissingError as _FrameDataMissingError
from h2.exceptions import FrameTooLargeError as _FrameTooLargeError
from h2.exceptions import InvalidBodyLengthError as _InvalidBodyLengthError
from h2.exceptions import InvalidSettingsValueError as _InvalidSettingsValueError
from h2.exceptions import NoAvailableStreamIDError as _NoAvailableStreamIDError
from h2.exceptions import NoSuchStreamError as _NoSuchStreamError
from h2.exceptions import ProtocolError as _ProtocolError
from h2.exceptions import StreamClosedError as _StreamClosedError
from h2.exceptions import StreamIDTooLowError as _StreamIDTooLowError
from h2.exceptions import TooManyStreamsError as _TooManyStreamsError
from h2.settings import ChangedSetting as _ChangedSetting
from h2.settings import SettingCodes as _SettingCodes
from hpack.exceptions import (
    HPACKError,
    HPACKDecodingError,
    InvalidTableSizeError,
    OversizedHeaderListError,
)
from hpack import exceptions as _hpack_exceptions

# hpack raises its deprecated subclass; so do we, for the same classes.
_InvalidTableIndex = getattr(
    _hpack_exceptions, "InvalidTableIndex", _hpack_exceptions.InvalidTableIndexError
)

from httpcore_fast._core.http2_hpack import (
    DECODED_HEADER_LIST_FACTOR as _DECODED_HEADER_LIST_FACTOR,
)

__all__ = [
    "STATIC_TABLE",
    "CFraming",
    "DataReceived",
    "Decoder",
    "Encoder",
    "InformationalResponseReceived",
    "ResponseReceived",
    "StreamEnded",
    "TrailersReceived",
    "huffman_decode",
    "huffman_encode",
]

include "_h2_c_hpack.pxi"
include "_h2_c_framing.pxi"

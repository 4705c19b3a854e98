# Byte-class tables of the Cython kernel (included by _kernel_c.pyx), built once at import
# from the same byte sets as httpcore_fast/_kernel_py.py.

# RFC 9110 §5.6.2 tchar.
cdef unsigned char _TCHAR_T[256]
# Request field value bytes (h11's rule): HTAB, SP, VCHAR, obs-text.
cdef unsigned char _VALUE_T[256]
# Request target bytes: 0x21-0x7E.
cdef unsigned char _TARGET_T[256]
# Response section bytes that need a closer look: control bytes other than HTAB and LF
# (CR included: it must be followed by LF).
cdef unsigned char _SPECIAL_T[256]
# Hex digit values, -1 for other bytes.
cdef signed char _HEX_T[256]


cdef void _init_tables() noexcept:
    cdef int c
    cdef bytes tchar = (
        b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    )
    for c in range(256):
        _TCHAR_T[c] = 0
        _VALUE_T[c] = c == 0x09 or (0x20 <= c <= 0x7E) or c >= 0x80
        _TARGET_T[c] = 0x21 <= c <= 0x7E
        _SPECIAL_T[c] = (c < 0x20 and c != 0x09 and c != 0x0A) or c == 0x7F
        _HEX_T[c] = -1
    for c in tchar:
        _TCHAR_T[c] = 1
    for c in range(10):
        _HEX_T[48 + c] = c
    for c in range(6):
        _HEX_T[65 + c] = 10 + c
        _HEX_T[97 + c] = 10 + c


_init_tables()

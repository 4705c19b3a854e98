"""Limits on what a server may send, against hostile or broken servers.

All sizes are in bytes. The defaults accept every response that httpcore 1.0.9 accepts:
httpcore runs h11 with ``max_incomplete_event_size=102400`` (its
``MAX_INCOMPLETE_EVENT_SIZE``) and reads at most 65536 bytes at a time
(``READ_NUM_BYTES``); h11 fails only when more than 102400 bytes of an incomplete head,
chunk-size line or trailer section are buffered, so depending on how the bytes arrive it
accepts such a section of up to 102400 + 65536 = 167936 bytes. Our limits do not depend
on how the bytes arrive: each size limit is 167936 by default, and the field count limit
is more than a head of that size can hold. See docs/kernel.md, "Limits".
"""

from __future__ import annotations

import dataclasses

from ._kernel_py import (
    HTTPCORE_MAX_INCOMPLETE_EVENT_SIZE,
    HTTPCORE_READ_NUM_BYTES,
    MAX_CHUNK_SIZE_LINE,
    MAX_FIELD_COUNT,
    MAX_FIELD_LINE_SIZE,
    MAX_HEAD_SIZE,
    MAX_INFORMATIONAL,
    MAX_STATUS_LINE_SIZE,
    MAX_TRAILER_SIZE,
)


@dataclasses.dataclass(frozen=True)
class ResponseLimits:
    """Bounds on an HTTP/1.1 response (RFC 9112 §2.3, §5, §7.1; RFC 9110 §15.2).

    ``max_status_line_size``: the status line without its terminator (bytes);
    ``max_field_line_size``: one header or trailer field line without its terminator;
    ``max_head_size``: the whole head, from the first byte of the status line to the end
    of the empty line, terminators included; ``max_field_count``: field lines in the head,
    and separately in the trailer section (obs-fold continuations do not count);
    ``max_chunk_size_line``: a chunk-size line with its extensions, without its CRLF;
    ``max_trailer_size``: the whole trailer section, terminators included (not the last
    chunk's line); ``max_informational``: 1xx responses skipped before the final one;
    ``head_timeout``: seconds from sending the request to having the whole response head
    (None: no deadline; each read still has the ``read`` timeout), against servers that
    drip a head one byte at a time.

    A section within its limit is accepted however its bytes are split into reads.
    Exceeding a size or count raises ``RemoteProtocolError`` naming the limit; missing the
    ``head_timeout`` raises ``ReadTimeout``. Pass it as ``limits=`` to ``ConnectionPool``,
    ``HTTPConnection`` or ``HTTP11Connection`` (and their async twins).
    """

    max_status_line_size: int = MAX_STATUS_LINE_SIZE
    max_field_line_size: int = MAX_FIELD_LINE_SIZE
    max_head_size: int = MAX_HEAD_SIZE
    max_field_count: int = MAX_FIELD_COUNT
    max_chunk_size_line: int = MAX_CHUNK_SIZE_LINE
    max_trailer_size: int = MAX_TRAILER_SIZE
    max_informational: int = MAX_INFORMATIONAL
    head_timeout: float | None = None

    @classmethod
    def from_httpcore(
        cls,
        max_incomplete_event_size: int = HTTPCORE_MAX_INCOMPLETE_EVENT_SIZE,
        read_num_bytes: int = HTTPCORE_READ_NUM_BYTES,
    ) -> ResponseLimits:
        """The limits that accept whatever httpcore accepts with these class attributes
        of its ``HTTP11Connection`` (``MAX_INCOMPLETE_EVENT_SIZE``, ``READ_NUM_BYTES``;
        bytes, ints >= 0): every size limit is their sum (the largest section h11 can
        accept, when the read completing it starts at its last allowed byte), the field
        count a third of it (a field line is at least 3 bytes); ``max_informational`` and
        ``head_timeout`` keep their defaults. The defaults of this class are
        ``from_httpcore()`` with httpcore's values (102400, 65536). Raises ``ValueError``
        for a negative argument.
        """
        if max_incomplete_event_size < 0 or read_num_bytes < 0:
            raise ValueError("max_incomplete_event_size and read_num_bytes must be >= 0")
        size = max_incomplete_event_size + read_num_bytes
        return cls(
            max_status_line_size=size,
            max_field_line_size=size,
            max_head_size=size,
            max_field_count=size // 3,
            max_chunk_size_line=size,
            max_trailer_size=size,
        )

    def parser_kwargs(self) -> dict[str, int]:
        """The keyword arguments of the kernel's ``ResponseParser``."""
        return {
            "max_status_line_size": self.max_status_line_size,
            "max_field_line_size": self.max_field_line_size,
            "max_head_size": self.max_head_size,
            "max_field_count": self.max_field_count,
            "max_chunk_size_line": self.max_chunk_size_line,
            "max_trailer_size": self.max_trailer_size,
            "max_informational": self.max_informational,
        }

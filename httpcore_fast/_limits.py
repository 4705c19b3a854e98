"""Limits on what a server may send, against hostile or broken servers.

All sizes are in bytes and count the bytes of the lines without their terminators unless
said otherwise; defaults are httpcore's (its 100 KiB ``MAX_INCOMPLETE_EVENT_SIZE``) or
generous bounds where httpcore has none, so existing code behaves the same.
"""

from __future__ import annotations

import dataclasses

from ._kernel_py import (
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

    ``max_status_line_size``: status line (bytes); ``max_field_line_size``: one header or
    trailer field line; ``max_head_size``: the whole head, terminators included;
    ``max_field_count``: field lines in the head or the trailer section;
    ``max_chunk_size_line``: a chunk-size line with its extensions;
    ``max_trailer_size``: the whole trailer section; ``max_informational``: 1xx responses
    skipped before the final one; ``head_timeout``: seconds from sending the request to
    having the whole response head (None: no deadline; each read still has the ``read``
    timeout), against servers that drip a head one byte at a time.

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

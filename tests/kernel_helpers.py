"""Drivers shared by the kernel tests: feed a response to a parser in pieces, collect events."""

from __future__ import annotations

from types import ModuleType
from typing import Any, Iterable

Event = tuple[Any, ...]

# httpcore 1.0.9 tests/_sync/test_http11.py::test_http11_header_sub_100kb: a 102402-byte
# head (field lines of exactly 100 KiB, then the empty line) in the reads its MockStream
# gives (the last, b"", is EOF).
HTTPCORE_SUB_100KB_READS = [
    b"HTTP/1.1 200 OK\r\n",
    b"Content-Type: plain/text\r\n",
    b"Cookie: " + b"x" * (100 * 1024 - 72) + b"\r\n",
    b"Content-Length: 0\r\n",
    b"\r\n",
    b"",
]


def push(parser: Any, chunk: bytes, use_buffer: bool) -> None:
    """Give ``chunk`` to the parser via feed() or get_buffer()/buffer_updated()."""
    if not use_buffer:
        parser.feed(chunk)
        return
    view = parser.get_buffer(len(chunk) or 1)
    if chunk:
        view[: len(chunk)] = chunk
    del view
    parser.buffer_updated(len(chunk))


def drive(
    parser: Any,
    chunks: Iterable[bytes],
    *,
    eof: bool = True,
    use_buffer: bool = False,
    responses: int = 1,
    head_request: bool = False,
    connect_request: bool = False,
    upgrade_request: bool = False,
) -> list[Event]:
    """Run ``responses`` message cycles over ``chunks`` and return the event list.

    ``head_request``, ``connect_request``, ``upgrade_request``: ``start_response()``'s
    arguments for every cycle.

    Events: ``("head", version, status, reason, headers, keep_alive)``, ``("data", bytes)``,
    ``("end", trailers, pending)``, ``("need-data",)`` when input ran out without EOF,
    ``("error", type_name, message)``; the list stops at the first error.
    """
    pieces = iter(chunks)
    events: list[Event] = []
    fed_eof = False

    def more() -> bool:
        nonlocal fed_eof
        for piece in pieces:
            if piece:
                push(parser, piece, use_buffer)
                return True
        if eof and not fed_eof:
            fed_eof = True
            push(parser, b"", use_buffer)
            return True
        return False

    try:
        for _ in range(responses):
            parser.start_response(head_request, connect_request, upgrade_request=upgrade_request)
            while True:
                head = parser.receive_head()
                if head is not None:
                    events.append(("head", *head, parser.keep_alive))
                    break
                if not more():
                    events.append(("need-data",))
                    return events
            while True:
                data = parser.receive_body()
                if data is None:
                    if not more():
                        events.append(("need-data",))
                        return events
                    continue
                if data == b"":
                    events.append(("end", parser.trailers, parser.pending()))
                    break
                events.append(("data", data))
    except Exception as exc:  # noqa: BLE001 - the event records it
        events.append(("error", type(exc).__name__, str(exc)))
    return events


def merged(events: list[Event]) -> list[Event]:
    """Join consecutive data events so that results of different splits compare equal."""
    out: list[Event] = []
    for event in events:
        if event[0] == "data" and out and out[-1][0] == "data":
            out[-1] = ("data", out[-1][1] + event[1])
        else:
            out.append(event)
    return out


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def parse(
    kernel: ModuleType,
    data: bytes,
    *,
    split: str = "whole",
    use_buffer: bool = False,
    eof: bool = True,
    limits: dict[str, int] | None = None,
    **kwargs: Any,
) -> list[Event]:
    """Parse ``data`` fed whole or one byte at a time; return the merged events."""
    parser = kernel.ResponseParser(**(limits or {}))
    chunks = bytewise(data) if split == "bytewise" else [data]
    return merged(drive(parser, chunks, eof=eof, use_buffer=use_buffer, **kwargs))

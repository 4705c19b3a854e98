"""Differential harness for the native HTTP/2 framing layer (``httpcore_fast._h2_c.CFraming``)
against its pure twin (``_core.http2_framing``'s h2 state, as ``h2_hooks().new_state()``
makes it): both run the same program of client calls and server bytes, and must give the
same answers, the same events of the kinds the HTTP/2 core reads, the same exception
classes and the same bytes to send. A third client, the native layer as the HTTP/2 driver
uses it (``coalesce_data`` on, fed through ``get_buffer()`` / ``buffer_updated()``), must
give the same, except that its DATA events are h2's with neighbours of one stream merged
(:func:`merge_data`).

A program is a list of steps (see :func:`run`); server bytes come from an h2 server
connection fed with the client's output (valid frames) and from hand-made frames (any
type, flags, stream and payload). Used by ``tests/test_h2_native_framing.py``
(hypothesis) and ``fuzz/atheris_h2.py`` (atheris).
"""

from __future__ import annotations

import random
import typing

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from httpcore_fast import _h2_c
from httpcore_fast._core.http2_framing import CONFIG, h2_hooks

__all__ = ["Mismatch", "frame", "merge_data", "new_coalesced", "new_pair", "new_reference",
           "run", "server_connection"]

# DATA frames one coalesced DataReceived joins at most (the native MAX_DATA_SEGMENTS).
MAX_DATA_SEGMENTS = 64

START = {"max_concurrent_streams": 100, "max_header_list_size": 65536, "window": 2**24}


class Mismatch(AssertionError):
    """The two layers answered differently."""


def frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """One frame (RFC 9113 §4.1)."""
    return (len(payload).to_bytes(3, "big") + bytes([kind & 0xFF, flags & 0xFF])
            + (stream_id & 0xFFFFFFFF).to_bytes(4, "big") + payload)


def new_reference() -> typing.Any:
    """h2's framing layer as the core gets it with ``HTTPCORE_FAST_H2_NATIVE=h2``
    (``h2_hooks().new_state()`` would give the native layer, the default with the
    Cython kernel), not started."""
    hooks = h2_hooks()
    return hooks.state_class(CONFIG, hooks.codec, hooks.peek)


def new_pair(**start: int) -> tuple[typing.Any, typing.Any]:
    """(native, reference), both started with the core's settings (or ``start``)."""
    ours, reference = _h2_c.CFraming(), new_reference()
    for framing in (ours, reference):
        framing.start(**(start or START))
    return ours, reference


def new_coalesced(**start: int) -> typing.Any:
    """The native layer as the driver makes it (``h2_hooks().new_state()`` with the
    native layer selected: ``coalesce_data`` on), started like :func:`new_pair`'s."""
    framing = _h2_c.CFraming()
    framing.coalesce_data = True
    framing.start(**(start or START))
    return framing


def merge_data(events: list[tuple[typing.Any, ...]]) -> list[tuple[typing.Any, ...]]:
    """h2's events (as :func:`_event` gives them) as the coalescing native layer gives
    them: each run of DATA events of one stream that follow one another is one event
    (data joined, flow-controlled lengths summed), of at most MAX_DATA_SEGMENTS frames."""
    merged: list[tuple[typing.Any, ...]] = []
    count = 0
    for event in events:
        last = merged[-1] if merged else None
        if (event[0] == 3 and last is not None and last[0] == 3 and last[1] == event[1]
                and count < MAX_DATA_SEGMENTS):
            merged[-1] = (3, event[1], last[2] + event[2], last[3] + event[3])
            count += 1
        else:
            merged.append(event)
            count = 1
    return merged


def _receive_into(framing: typing.Any, data: bytes) -> list[typing.Any]:
    """``data`` through the framing layer's own buffer, as the driver reads."""
    view = framing.get_buffer(len(data))
    view[: len(data)] = data
    del view
    return list(framing.buffer_updated(len(data)))


def server_connection() -> h2.connection.H2Connection:
    config = h2.config.H2Configuration(
        client_side=False, validate_outbound_headers=False, validate_inbound_headers=False,
        normalize_outbound_headers=False,
    )
    server = h2.connection.H2Connection(config=config)
    server.initiate_connection()
    return server


def _event(framing: typing.Any, event: typing.Any) -> tuple[typing.Any, ...] | None:
    """An event as the core sees it: its kind and attributes (None: not the core's)."""
    kind = framing.EVENT_KINDS.get(type(event))
    if kind is None:
        return None
    if kind in (1, 2, 6):
        return (kind, event.stream_id, [tuple(field) for field in event.headers])
    if kind == 3:
        return (kind, event.stream_id, event.data, event.flow_controlled_length)
    if kind == 4:
        return (kind, event.stream_id)
    if kind == 5:
        return (kind, event.stream_id, int(event.error_code), event.remote_reset, repr(event))
    if kind == 7:
        return (kind, {int(code): (change.original_value, change.new_value)
                       for code, change in event.changed_settings.items()})
    return (kind, event.last_stream_id, int(event.error_code), event.additional_data)


def _call(framing: typing.Any, name: str, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
    try:
        return ("ok", getattr(framing, name)(*args, **kwargs))
    except Exception as exc:
        return ("error", type(exc))


class _Run:
    def __init__(self, ours: typing.Any, reference: typing.Any, coalesced: typing.Any) -> None:
        self.ours = ours
        self.reference = reference
        self.coalesced = coalesced
        self.streams: list[int] = []
        self.failed = False
        self.log: list[typing.Any] = []

    def same(self, name: str, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        mine = _call(self.ours, name, *args, **kwargs)
        theirs = _call(self.reference, name, *args, **kwargs)
        coalesced = _call(self.coalesced, name, *args, **kwargs)
        self.log.append((name, args, theirs))
        if mine != theirs:
            raise Mismatch(f"{name}{args}: native {mine!r}, h2 {theirs!r}")
        if coalesced != theirs:
            raise Mismatch(f"{name}{args}: native coalescing {coalesced!r}, h2 {theirs!r}")
        return mine

    def output(self) -> bytes:
        mine, theirs = self.ours.data_to_send(), self.reference.data_to_send()
        if mine != theirs:
            raise Mismatch(f"bytes to send: native {mine.hex()}, h2 {theirs.hex()}")
        coalesced = self.coalesced.data_to_send()
        if coalesced != theirs:
            raise Mismatch(f"bytes to send: native coalescing {coalesced.hex()}, "
                           f"h2 {theirs.hex()}")
        return mine

    def feed(self, data: bytes) -> bool:
        """Both receive ``data``; False once they failed (the same way)."""
        outcomes = []
        for framing, receive in ((self.ours, None), (self.reference, None),
                                 (self.coalesced, _receive_into)):
            try:
                received = receive(framing, data) if receive else framing.receive_data(data)
                events = [e for e in (_event(framing, e) for e in received) if e is not None]
                outcomes.append(("ok", events))
            except h2.exceptions.ProtocolError as exc:
                outcomes.append(("error", type(exc)))
        self.log.append(("receive", data.hex(), outcomes[1]))
        if outcomes[0] != outcomes[1]:
            raise Mismatch(f"receive {data.hex()}: native {outcomes[0]!r}, h2 {outcomes[1]!r}")
        merged = outcomes[1] if outcomes[1][0] == "error" else (
            "ok", merge_data(typing.cast(list, outcomes[1][1])))
        if outcomes[2] != merged:
            raise Mismatch(f"receive {data.hex()}: native coalescing {outcomes[2]!r}, "
                           f"h2 merged {merged!r}")
        if outcomes[0][0] == "error":
            self.failed = True
            return False
        # The core hands back the credit of what it read.
        for event in typing.cast(list, outcomes[0][1]):
            if event[0] == 3 and event[3]:
                self.same("acknowledge_received_data", event[3], event[1])
        return True


def run(steps: list[tuple[typing.Any, ...]], seed: int = 0) -> list[typing.Any]:
    """Run a program on both layers; raises :class:`Mismatch` where they differ. Returns
    the reference's log (for a failure report).

    Steps: ``("open", end_stream[, big])`` (``big``: an extra field of that many bytes), ``("data", i, size)``, ``("end", i)``,
    ``("reset", i, code)``, ``("ack", i, size)`` on the client's i-th stream (modulo
    the streams opened); ``("server", action...)`` for the h2 server (see
    :func:`_server_step`); ``("raw", kind, flags, i, payload)``: a hand-made frame on
    stream i (-1: stream 0, >= 100: that id); ``("flush", splits)``: the server's
    pending bytes to both clients, cut at the ``splits`` fractions."""
    rng = random.Random(seed)
    ours, reference = new_pair()
    coalesced = new_coalesced()
    state = _Run(ours, reference, coalesced)
    server: h2.connection.H2Connection | None = server_connection()
    server.receive_data(state.output())  # the client preface
    pending = bytearray(server.data_to_send())
    for step in steps:
        if state.failed:
            break
        kind = step[0]
        stream = state.streams[step[1] % len(state.streams)] if (
            kind in ("data", "end", "reset", "ack") and state.streams) else None
        if kind == "open":
            answer = state.same("get_next_available_stream_id")
            if answer[0] == "ok":
                stream_id = answer[1]
                headers = [(b":method", b"GET" if stream_id % 3 else b"HEAD"),
                           (b":authority", b"example.com"), (b":scheme", b"http"),
                           (b":path", b"/%d" % stream_id), (b"x-stream", b"%d" % stream_id)]
                if len(step) > 2:  # a header block over a frame: CONTINUATIONs
                    headers.append((b"x-big", bytes(rng.randrange(97, 123)
                                                    for _ in range(step[2]))))
                if state.same("send_headers", stream_id, headers, end_stream=step[1])[0] == "ok":
                    state.streams.append(stream_id)
        elif stream is not None and kind == "data":
            state.same("local_flow_control_window", stream)
            state.same("send_data", stream, b"d" * step[2])
        elif stream is not None and kind == "end":
            state.same("end_stream", stream)
        elif stream is not None and kind == "reset":
            state.same("reset_stream", stream, step[2])
        elif stream is not None and kind == "ack":
            state.same("acknowledge_received_data", step[2], stream)
        elif kind == "server" and server is not None:
            try:
                _server_step(server, state.streams, step[1:], rng)
            except Exception:
                pass  # an action the server's state refuses: skipped
            pending += server.data_to_send()
        elif kind == "raw":
            index = step[3]
            if index < 0:
                stream_id = 0
            elif index >= 100:
                stream_id = index
            else:
                stream_id = state.streams[index % len(state.streams)] if state.streams else 1
            pending += frame(step[1], step[2], stream_id, step[4])
        elif kind == "flush":
            data = bytes(pending)
            pending.clear()
            cuts = {int(len(data) * fraction) for fraction in step[1]}
            start = 0
            for cut in [*sorted(c for c in cuts if 0 < c < len(data)), len(data)]:
                if cut > start:
                    if not state.feed(data[start:cut]):
                        break
                    start = cut
        sent = state.output()
        if server is not None and sent:
            try:
                server.receive_data(sent)
                pending += server.data_to_send()
            except Exception:
                server = None  # the server gave up; hand-made frames go on
        for query in ("concurrent_streams_limit", "get_next_available_stream_id"):
            state.same(query)
        if not (ours.max_outbound_frame_size == reference.max_outbound_frame_size
                == coalesced.max_outbound_frame_size):
            raise Mismatch("max_outbound_frame_size")
        for stream_id in state.streams:
            state.same("local_flow_control_window", stream_id)
    return state.log


def _server_step(server: h2.connection.H2Connection, streams: list[int],
                 action: tuple[typing.Any, ...], rng: random.Random) -> None:
    """One action of the h2 server on the client's streams: ``("respond", i, end, status,
    fields)``, ``("data", i, size, pad, end)``, ``("trailers", i)``, ``("reset", i, code)``,
    ``("ping",)``, ``("settings", {code: value})``, ``("window", i or -1, increment)``,
    ``("goaway", last, code)``."""
    name = action[0]
    stream = streams[action[1] % len(streams)] if streams and len(action) > 1 and isinstance(
        action[1], int) else 1
    if name == "respond":
        status = action[3]
        fields = [(b":status", status)] + [
            (b"x-f%d" % i, b"v" * rng.randrange(0, 30)) for i in range(action[4])]
        if action[4] == 40:  # over a frame: CONTINUATIONs
            fields.append((b"x-big", bytes(rng.randrange(97, 123) for _ in range(40000))))
        if status == b"200" and action[4] % 3 == 1:
            fields.append((b"content-length", b"%d" % rng.randrange(0, 40)))
        server.send_headers(stream, fields, end_stream=action[2])
    elif name == "data":
        server.send_data(stream, b"b" * action[2], end_stream=action[4],
                         pad_length=action[3] if action[3] is not None else None)
    elif name == "trailers":
        server.send_headers(stream, [(b"x-trailer", b"1")], end_stream=True)
    elif name == "reset":
        server.reset_stream(stream, action[2])
    elif name == "ping":
        server.ping(b"12345678")
    elif name == "settings":
        server.update_settings(action[1])
    elif name == "window":
        server.increment_flow_control_window(action[2], None if action[1] < 0 else stream)
    elif name == "goaway":
        server.close_connection(action[2], last_stream_id=action[1])

"""The native framing layer (``httpcore_fast._h2_c.CFraming``) against h2 (the pure twin,
``_core.http2_framing``): the same programs of client calls and server frames, cut at
random places, give the same events, exceptions and bytes to send (``fuzz/h2_native.py``;
seeded slices here, longer runs with ``fuzz/atheris_h2.py``).
Then each hostile peer of issue 16 on its own: the error it gets, on both layers.
"""

from __future__ import annotations

import typing

import h2.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("httpcore_fast._h2_c", reason="the Cython build is required")

from fuzz.atheris_h2 import program  # noqa: E402 - after the build check
from fuzz.h2_native import (  # noqa: E402
    frame,
    merge_data,
    new_coalesced,
    new_pair,
    new_reference,
    run,
)

_index = st.integers(0, 7)
_fractions = st.lists(st.floats(0, 1), max_size=6)
_client_step = st.one_of(
    st.tuples(st.just("open"), st.booleans()),
    st.tuples(st.just("open"), st.booleans(), st.sampled_from([16000, 40000])),
    st.tuples(st.just("data"), _index, st.sampled_from([0, 1, 100, 20000, 70000])),
    st.tuples(st.just("end"), _index),
    st.tuples(st.just("reset"), _index, st.sampled_from([0, 1, 8])),
    st.tuples(st.just("ack"), _index, st.sampled_from([0, 10, 40000])),
)
_settings = st.dictionaries(
    st.sampled_from([1, 2, 3, 4, 5, 6, 8, 0x77]),
    st.sampled_from([0, 1, 2, 100, 4096, 16384, 65535, 70000, 2**24, 2**31 - 1]),
    max_size=3,
)
_server_step = st.one_of(
    st.tuples(st.just("server"), st.just("respond"), _index, st.booleans(),
              st.sampled_from([b"200", b"204", b"103", b"100"]), st.integers(0, 40)),
    st.tuples(st.just("server"), st.just("data"), _index,
              st.sampled_from([0, 1, 100, 16000]), st.sampled_from([None, 0, 5, 255]),
              st.booleans()),
    st.tuples(st.just("server"), st.just("trailers"), _index),
    st.tuples(st.just("server"), st.just("reset"), _index, st.sampled_from([0, 2, 7, 8])),
    st.tuples(st.just("server"), st.just("ping")),
    st.tuples(st.just("server"), st.just("settings"), _settings),
    st.tuples(st.just("server"), st.just("window"), st.integers(-1, 7),
              st.sampled_from([1, 1000, 2**31 - 1])),
    st.tuples(st.just("server"), st.just("goaway"), st.integers(0, 9),
              st.sampled_from([0, 1, 2])),
)
_raw_step = st.tuples(
    st.just("raw"),
    st.integers(0, 11),
    st.sampled_from([0, 1, 4, 5, 8, 0x20, 0x24, 0x25, 0x28, 0x2D, 0xFF]),
    st.sampled_from([-1, 0, 1, 2, 100, 102, 2**31 - 1]),
    st.one_of(st.binary(max_size=12), st.binary(min_size=5, max_size=40),
              st.sampled_from([b"\x00\x00\x00\x01", b"\x7f\xff\xff\xff", b"\x00" * 8,
                               b"\x00\x04\x00\x00\x00\x00", b"\x05\x00\x00\x00\x01",
                               b"\x82\x86\x84", b"\x88", b"\x48\x03\x31\x30\x33"])),
)
_flush = st.tuples(st.just("flush"), _fractions)
_program = st.lists(
    st.one_of(_client_step, _client_step, _server_step, _server_step, _server_step,
              _flush, _raw_step),
    max_size=40,
).map(lambda steps: [("open", False), ("open", True), *steps, ("flush", [])])
_valid_program = st.lists(
    st.one_of(_client_step, _server_step, _server_step, _flush), max_size=40,
).map(lambda steps: [("open", False), *steps, ("flush", [0.5])])


def _exchange(streams: int, sizes: list[int], trailers: bool, fractions: list[float],
              ack: bool) -> list[typing.Any]:
    """Typical traffic: requests, their responses and bodies (some large enough for
    WINDOW_UPDATEs), trailers or END_STREAM, cut at ``fractions``."""
    steps: list[typing.Any] = [("open", i % 2 == 0) for i in range(streams)]
    for i in range(streams):
        steps.append(("server", "respond", i, False, b"200", i))
    for n, size in enumerate(sizes):
        steps.append(("server", "data", n, size, None if n % 3 else 7, False))
        if ack:
            steps.append(("ack", n, size))
    for i in range(streams):
        steps.append(("server", "trailers", i) if trailers else
                     ("server", "data", i, 0, None, True))
    steps.append(("flush", fractions))
    return steps


_exchange_program = st.builds(
    _exchange, st.integers(1, 6), st.lists(st.sampled_from([0, 1, 1000, 16000]), max_size=30),
    st.booleans(), _fractions, st.booleans(),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_exchange_program, st.integers(0, 2**16))
def test_exchanges_match_h2(steps: list[typing.Any], seed: int) -> None:
    run(steps, seed)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_valid_program, st.integers(0, 2**16))
def test_valid_exchanges_match_h2(steps: list[typing.Any], seed: int) -> None:
    run(steps, seed)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_program, st.integers(0, 2**16))
def test_hostile_frames_match_h2(steps: list[typing.Any], seed: int) -> None:
    run(steps, seed)


# ------------------------------------------------------------------ hostile peers

REQUEST = [(b":method", b"GET"), (b":authority", b"a"), (b":scheme", b"http"),
           (b":path", b"/")]


def _both(*frames: bytes, opened: int = 1) -> list[typing.Any]:
    """Feed ``frames`` to both layers after ``opened`` requests; returns the two
    outcomes (an exception class, or the event count) and checks they are the same."""
    outcomes = []
    for framing in new_pair():
        framing.data_to_send()
        for i in range(opened):
            framing.send_headers(2 * i + 1, REQUEST, end_stream=True)
        framing.data_to_send()
        try:
            outcomes.append(len(framing.receive_data(b"".join(frames))))
        except h2.exceptions.ProtocolError as exc:
            outcomes.append(type(exc))
            assert framing.data_to_send()[3] == 7  # a GOAWAY was queued
    assert outcomes[0] == outcomes[1]
    return outcomes


def test_continuation_flood() -> None:
    """CVE-2024-27316 class: a header block that never ends is cut at 64 frames."""
    flood = [frame(1, 0, 1, b"\x88")] + [frame(9, 0, 1, b"")] * 100
    assert _both(*flood)[0] is h2.exceptions.ProtocolError


def test_hpack_bomb() -> None:
    """A small block that decodes to more than the header list bound (× the factor)."""
    literal = b"\x40\x01x\x7f\xa1\x1e" + b"a" * 4000  # x: 4000 bytes, indexed
    block = b"\x88" + literal + b"\xbe" * 100
    flood = [frame(1, 0, 1, block[:16000]), frame(9, 4, 1, block[16000:])]
    assert _both(*flood)[0] is h2.exceptions.DenialOfServiceError


def test_table_size_abuse() -> None:
    """A dynamic table size update above our SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §4.2)."""
    assert _both(frame(1, 5, 1, b"\x3f\xe1\xff\x03\x88"))[0] is h2.exceptions.ProtocolError


def test_window_overflow() -> None:
    """A WINDOW_UPDATE past 2**31 - 1 (RFC 9113 §6.9.1): the connection's fails it, a
    stream's resets the stream."""
    big = (2**31 - 1).to_bytes(4, "big")
    assert _both(frame(8, 0, 0, big))[0] is h2.exceptions.FlowControlError
    ours, reference = new_pair()
    for framing in (ours, reference):
        framing.send_headers(1, REQUEST)
        framing.data_to_send()
        events = framing.receive_data(frame(8, 0, 1, big))
        assert [int(event.error_code) for event in events] == [3]
        assert framing.data_to_send() == frame(3, 0, 1, b"\x00\x00\x00\x03")


def test_frames_on_closed_and_idle_streams() -> None:
    response = frame(1, 5, 1, b"\x88")
    # DATA on a stream that ended: a stream error, RST_STREAM STREAM_CLOSED
    assert _both(response, frame(0, 0, 1, b"x"))[0] == 2
    # HEADERS after END_STREAM on a stream we closed too: a connection error
    assert _both(response, frame(1, 5, 1, b"\x88"))[0] is h2.exceptions.StreamClosedError
    # a stream we never opened, an idle one, a server-initiated odd one
    assert _both(frame(0, 0, 9, b"x"))[0] is h2.exceptions.NoSuchStreamError
    assert _both(frame(1, 5, 3, b"\x88"))[0] is h2.exceptions.ProtocolError
    assert _both(frame(3, 0, 7, b"\x00\x00\x00\x08"))[0] == 0


def test_oversized_frame_fails_at_its_header() -> None:
    """Past SETTINGS_MAX_FRAME_SIZE: FrameTooLargeError once the frame header is in
    (h2 waits for the whole frame; the native layer never buffers it)."""
    ours, reference = new_pair()
    header = (20000).to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x01"
    with pytest.raises(h2.exceptions.FrameTooLargeError):
        ours.receive_data(header)
    with pytest.raises(h2.exceptions.FrameTooLargeError):
        reference.receive_data(header + b"x" * 20000)


def test_header_list_beyond_limit() -> None:
    """Over DECODED_HEADER_LIST_FACTOR times our SETTINGS_MAX_HEADER_LIST_SIZE."""
    outcomes = []
    for framing in new_pair(max_concurrent_streams=100, max_header_list_size=100,
                            window=2**16):
        framing.send_headers(1, REQUEST, end_stream=True)
        block = b"\x88" + b"\x00\x01x\x7f\xf5\x02" + b"v" * 500
        with pytest.raises(h2.exceptions.DenialOfServiceError):
            framing.receive_data(frame(1, 5, 1, block))
        outcomes.append(True)
    assert outcomes == [True, True]


@pytest.mark.parametrize("kind", ["ping", "settings"])
def test_ack_flood(kind: str) -> None:
    """Frames we must answer, never read back (no data_to_send()): past
    max_pending_acks the native layer fails the connection (h2 queues without end)."""
    ours, reference = new_pair()
    ours.max_pending_acks = 50
    one = frame(6, 0, 0, b"12345678") if kind == "ping" else frame(4, 0, 0, b"")
    reference.data_to_send()
    reference.receive_data(one * 60)
    assert len(reference.data_to_send()) == 60 * (17 if kind == "ping" else 9)
    with pytest.raises(h2.exceptions.DenialOfServiceError, match="max_pending_acks"):
        ours.receive_data(one * 60)
    ours, _ = new_pair()
    ours.max_pending_acks = 50
    for _ in range(3):  # taken each time: no flood
        ours.receive_data(one * 40)
        ours.data_to_send()


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.binary(min_size=4, max_size=400))
def test_atheris_programs_match_h2(data: bytes) -> None:
    """A seeded slice of what ``fuzz/atheris_h2.py`` runs: bytes decoded into programs."""
    steps, seed = program(data)
    run(steps, seed)


_BOMB = b"\x88\x40\x01x\x7f\xa1\x1e" + b"a" * 4000 + b"\xbe" * 100


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([frame(1, 0, 1, b"\x88")] + [frame(9, 0, 1, b"")] * 70,
         "Too many continuation frames"),
        ([frame(1, 4, 1, _BOMB)], "Oversized header block"),
        ([frame(1, 4, 1, b"\x3f\xe1\xff\x03\x88")], "Error decoding header block"),
        ([frame(6, 0, 0, b"12345678")] * 1001, "max_pending_acks"),
        ([frame(4, 0, 0, b"")] * 1001, "max_pending_acks"),
        # a stream we reset, then DATA on it again and again: an RST_STREAM each
        ([frame(3, 0, 1, b"\x00\x00\x00\x02")] + [frame(0, 0, 1, b"x")] * 1001,
         "frames on closed streams"),
        ([frame(8, 0, 0, (2**31 - 1).to_bytes(4, "big"))], "flow control window"),
        ([(20000).to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x01"], "overlong frame"),
        ([frame(4, 0, 0, b"\x00\x02\x00\x00\x00\x01")], "invalid value"),
    ],
)
def test_hostile_peer_fails_the_connection(frames: list[bytes], message: str) -> None:
    """Through the HTTP/2 core: a RemoteProtocolError naming the cause, the connection
    failed, a GOAWAY queued (RFC 9113 §5.4.1)."""
    import httpcore_fast
    from httpcore_fast import _h2_c
    from httpcore_fast._core.http2 import HTTP2Core

    core: HTTP2Core[str] = HTTP2Core(_h2_c.CFraming())
    core.start()
    core.framing.send_headers(1, REQUEST, end_stream=True)  # stream 1 is ours
    core.data_to_send()
    with pytest.raises(httpcore_fast.RemoteProtocolError, match=message):
        core.receive(b"".join(frames))
    assert core.connection_error is not None and not core.accepting
    goaway = core.data_to_send()[-17:]  # the last frame queued
    assert goaway[3] == 7 and goaway[-4:] != b"\x00\x00\x00\x00"  # GOAWAY, an error code


# ------------------------------------------------------------------ receiving into a buffer


def _layers() -> list[typing.Any]:
    """A started, connected client of each layer, stream 1 open, as the driver has it."""
    layers = [*new_pair(), new_coalesced()]
    for framing in layers:
        framing.send_headers(1, REQUEST, end_stream=True)
        framing.data_to_send()
    return layers


def _events(events: list[typing.Any]) -> list[tuple[typing.Any, ...]]:
    kinds = {"DataReceived": 3, "StreamEnded": 4, "ResponseReceived": 1}
    return [(kinds[type(e).__name__], e.stream_id, getattr(e, "data", None),
             getattr(e, "flow_controlled_length", None))
            for e in events if type(e).__name__ in kinds]


def _response(frames: int, size: int) -> bytes:
    head = frame(1, 4, 1, b"\x88")  # :status 200
    body = [frame(0, 0, 1, bytes([i % 256]) * size) for i in range(frames - 1)]
    return head + b"".join(body) + frame(0, 1, 1, b"end")


@pytest.mark.parametrize("read", [1, 7, 9, 100, 16393, 70000])
def test_get_buffer_gives_the_events_of_receive_data(read: int) -> None:
    """Bytes read into ``get_buffer()`` views and reported with ``buffer_updated()``, cut
    anywhere (inside a frame header, a payload), give ``receive_data``'s events on each
    layer: h2's, and the coalescing native layer's with neighbouring DATA merged."""
    data = _response(20, 16384)
    calls: list[list[list[tuple[typing.Any, ...]]]] = []  # per layer, per call: events
    for framing in _layers():
        calls.append([])
        for at in range(0, len(data), read):  # bounded by the data
            piece = data[at:at + read]
            view = framing.get_buffer(read)
            assert len(view) == read
            view[:len(piece)] = piece
            del view
            calls[-1].append(_events(framing.buffer_updated(len(piece))))
    native, reference, coalesced = calls
    assert native == reference
    assert coalesced == [merge_data(events) for events in reference]
    body = b"".join(e[2] for events in coalesced for e in events if e[0] == 3)
    assert body == b"".join(bytes([i % 256]) * 16384 for i in range(19)) + b"end"


def test_buffer_updated_checks_its_count() -> None:
    """A count of 0, or beyond the last view, or without a view, is a ValueError on each
    layer, and nothing is fed."""
    for framing in _layers():
        with pytest.raises(ValueError, match="get_buffer"):
            framing.buffer_updated(1)  # no view yet
        view = framing.get_buffer(10)
        view[:9] = frame(6, 0, 0, b"")[:9]
        with pytest.raises(ValueError, match="get_buffer"):
            framing.buffer_updated(11)
        with pytest.raises(ValueError, match="get_buffer"):
            framing.buffer_updated(0)
        framing.get_buffer(10)[:9] = frame(4, 1, 0, b"")  # a SETTINGS ACK
        assert _events(framing.buffer_updated(9)) == []
        with pytest.raises(ValueError, match="get_buffer"):
            framing.buffer_updated(1)  # the view was used


def test_coalesced_data_events() -> None:
    """The native layer with ``coalesce_data`` merges only DATA frames of one stream
    with nothing between them in the events (another stream's event, END_STREAM, a
    SETTINGS change keep them apart), at most 64 frames per event, padding counted in
    the flow-controlled length; DATA frames one receive_data apart stay apart."""
    framing = new_coalesced()
    for stream_id in (1, 3):
        framing.send_headers(stream_id, REQUEST, end_stream=True)
    framing.data_to_send()
    head = frame(1, 4, 1, b"\x88") + frame(1, 4, 3, b"\x88")
    data = (frame(0, 0, 1, b"a") + frame(0, 8, 1, b"\x02bc\x00\x00")  # padded: 5 counted
            + frame(6, 0, 0, b"p" * 8)  # a PING: no event
            + frame(0, 0, 1, b"d") + frame(0, 0, 3, b"x") + frame(0, 0, 1, b"e")
            + frame(4, 0, 0, b"") + frame(0, 0, 1, b"f") + frame(0, 1, 1, b"g")
            + frame(0, 0, 3, b"y"))
    got = _events(framing.receive_data(head + data))
    assert got[2:] == [(3, 1, b"abcd", 7), (3, 3, b"x", 1), (3, 1, b"e", 1),
                       (3, 1, b"fg", 2), (4, 1, None, None), (3, 3, b"y", 1)]
    assert _events(framing.receive_data(frame(0, 0, 3, b"z"))) == [(3, 3, b"z", 1)]
    many = b"".join(frame(0, 0, 3, bytes([i])) for i in range(130))
    sizes = [len(e[2]) for e in _events(framing.receive_data(many))]
    assert sizes == [64, 64, 2]
    reference = new_reference()  # h2: one event per frame
    reference.start(max_concurrent_streams=100, max_header_list_size=65536, window=2**24)
    for stream_id in (1, 3):
        reference.send_headers(stream_id, REQUEST, end_stream=True)
    events = _events(reference.receive_data(frame(1, 4, 3, b"\x88") + many[:45]))
    assert [e[2] for e in events] == [None, b"\x00", b"\x01", b"\x02", b"\x03"]


def test_acknowledging_data_of_closed_and_unknown_streams() -> None:
    """Acknowledging data of a closed stream is no error (only the connection's window
    counts it); of a stream never opened (past the highest identifier) it is h2's
    NoSuchStreamError; the same frames queued on each layer."""
    outputs = []
    for framing in [*new_pair(), new_coalesced()]:
        framing.send_headers(1, REQUEST, end_stream=True)
        framing.reset_stream(1, 8)
        framing.data_to_send()
        framing.acknowledge_received_data(40000, 1)  # closed: no error, no stream update
        with pytest.raises(h2.exceptions.NoSuchStreamError):
            framing.acknowledge_received_data(10, 5)
        outputs.append(framing.data_to_send())
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_receive_buffer_shrinks_once_reads_do() -> None:
    """After a large read, a small one gets a small buffer again (the memory of the
    large one is not kept for the rest of the connection), on each layer."""
    for framing in _layers():
        view = framing.get_buffer(1 << 20)
        assert len(view.obj) >= 1 << 20
        view[:9] = frame(4, 1, 0, b"")  # a SETTINGS ACK
        del view
        framing.buffer_updated(9)
        view = framing.get_buffer(65536)
        assert 65536 <= len(view) <= len(view.obj) < 1 << 18

"""The sans-I/O HTTP/2 core (``httpcore_fast._core.http2``) without sockets.

A server is played by h2's server side (or raw frames from hyperframe where h2 will not
send what a test needs): what the core queues is fed to it, what it answers is fed to the
core, and the tests check the core's answers (events per stream, exceptions, wakers to
wake, bytes to write, accept/expiry decisions). No sleeps, no I/O.
"""

from __future__ import annotations

import typing
import warnings

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import hpack
import hpack.table
import hyperframe.frame
import pytest

import httpcore_fast
from httpcore_fast._core import http2_framing
from httpcore_fast._core.http2 import (
    CLOSED,
    CLOSED_BY_SERVER,
    DECODED_HEADER_LIST_FACTOR,
    ERROR,
    EXPIRED,
    IDLE,
    LOCAL_MAX_HEADER_LIST_SIZE,
    MAX_REFUSED_STREAMS,
    HTTP2Core,
    SlotTicket,
    Stream,
)
from httpcore_fast._core.http2_framing import (
    H2Framing,
    H2GoawayFraming,
    Hooks,
    check_h2_hooks,
)
from httpcore_fast._core.http2_hpack import Decoder, Encoder, LimitDecoder
from httpcore_fast._limits import ResponseLimits

ORIGIN = b"http://example.com"
HOOKS = Hooks(state_class=H2GoawayFraming, codec=(Encoder, Decoder), peek=True)


class Peer:
    """The server: h2's server side, kept in step with the core."""

    def __init__(self, max_streams: int = 100) -> None:
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, validate_inbound_headers=False)
        )
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: max_streams},
        )
        self.h2.initiate_connection()
        self.events: list[typing.Any] = []

    def receive(self, core: HTTP2Core[typing.Any]) -> None:
        """Take what the core queued."""
        data = core.data_to_send()
        if data:
            self.events += self.h2.receive_data(data)

    def send(self, core: HTTP2Core[typing.Any]) -> list[typing.Any]:
        """Hand the core what the server queued; returns the core's SETTINGS events."""
        data = self.h2.data_to_send()
        return core.receive(data) if data else []

    def respond(self, stream_id: int, body: bytes = b"ok", **fields: bytes) -> None:
        headers: list[tuple[bytes | str, bytes | str]] = [(":status", "200")]
        headers += [(name.replace("_", "-"), value) for name, value in fields.items()]
        self.h2.send_headers(stream_id, headers)
        self.h2.send_data(stream_id, body, end_stream=True)


def new_core(limits: ResponseLimits | None = None, **kwargs: typing.Any) -> HTTP2Core[str]:
    core: HTTP2Core[str] = HTTP2Core(HOOKS.new_state(), limits=limits, **kwargs)
    core.start()
    return core


def connected(max_streams: int = 100, **kwargs: typing.Any) -> tuple[HTTP2Core[str], Peer]:
    """A core past the preface exchange: the server's SETTINGS applied and acknowledged."""
    core, peer = new_core(**kwargs), Peer(max_streams)
    peer.receive(core)
    peer.send(core)
    peer.receive(core)  # our SETTINGS ACK
    return core, peer


def request(path: str = "/", method: str = "GET", **kwargs: typing.Any) -> httpcore_fast.Request:
    headers = kwargs.pop("headers", [(b"Host", b"example.com")])
    return httpcore_fast.Request(method, ORIGIN + path.encode(), headers=headers, **kwargs)


def open_request(
    core: HTTP2Core[str], req: httpcore_fast.Request | None = None
) -> tuple[int, Stream]:
    """What the driver does for a request that gets a slot at once: its stream, HEADERS
    queued (END_STREAM: no body)."""
    core.begin_request()
    assert core.take_slot()
    headers, body_length = core.request_fields(req or request())
    stream_id, stream = core.new_stream()
    assert core.send_headers(stream_id, stream, headers, None, body_length) is None
    return stream_id, stream


def head(core: HTTP2Core[str], stream_id: int, stream: Stream) -> typing.Any:
    """The stream's response head, or the exception its events end with."""
    try:
        return core.next_head(stream_id, stream)
    except Exception as exc:  # noqa: BLE001 - compared by the tests
        return exc


def body(core: HTTP2Core[str], stream_id: int, stream: Stream) -> bytes:
    chunks: list[bytes] = []
    for _ in range(100):  # bounded
        part = core.next_body(stream_id, stream)
        assert part is not None, "the body has not ended"
        data, _ = part
        if data is None:
            return b"".join(chunks)
        chunks.append(data)
    raise AssertionError("no end")


# ---------------------------------------------------------------------------- GOAWAY


def test_goaway_splits_streams_into_completed_and_retried() -> None:
    """Streams up to last_stream_id finish (their frames are read after the GOAWAY);
    those above raise ConnectionNotAvailable (the pool retries them); no new stream."""
    core, peer = connected()
    streams = dict(open_request(core) for _ in range(3))  # 1, 3, 5
    assert sorted(streams) == [1, 3, 5]
    peer.receive(core)
    core.receive(hyperframe.frame.GoAwayFrame(0, last_stream_id=3).serialize())
    assert not core.accepting and core.goaway_last_stream_id == 3
    peer.respond(1)  # after the GOAWAY, as the server promised
    peer.respond(3)
    peer.send(core)
    for stream_id in (1, 3):
        assert head(core, stream_id, streams[stream_id])[0] == 200
        assert body(core, stream_id, streams[stream_id]) == b"ok"
    refused = head(core, 5, streams[5])
    assert isinstance(refused, httpcore_fast.ConnectionNotAvailable)
    assert str(refused) == "The server did not process stream 5 (GOAWAY, RFC 9113 §6.8)"
    with pytest.raises(httpcore_fast.ConnectionNotAvailable, match="the server sent GOAWAY"):
        core.begin_request()
    # The last request to leave closes the idle connection (it takes no more streams).
    assert [core.end_request(i, True, now=0.0) for i in (1, 3, 5)] == [False, False, True]


def test_goaway_after_a_response_started_is_not_retried() -> None:
    """A stream above last_stream_id whose non-replayable body was partly sent cannot be
    retried: RemoteProtocolError, not ConnectionNotAvailable."""
    core, peer = connected()
    stream_id, stream = open_request(core)
    stream.body_started = True  # what the driver records for a streamed body
    peer.receive(core)
    peer.h2.close_connection(last_stream_id=0)
    peer.send(core)
    assert core.send_window(stream_id, stream) == 0  # nothing more to send
    error = head(core, stream_id, stream)
    assert isinstance(error, httpcore_fast.RemoteProtocolError)
    assert "stopped processing stream 1" in str(error)


def test_second_goaway_only_lowers_last_stream_id() -> None:
    core, peer = connected()
    streams = dict(open_request(core) for _ in range(3))
    peer.receive(core)
    frames = b"".join(
        hyperframe.frame.GoAwayFrame(0, last_stream_id=last).serialize() for last in (5, 3, 5)
    )
    core.receive(frames)
    assert core.goaway_last_stream_id == 3
    assert [type(e).__name__ for e in streams[5].events] == ["_Refused"]  # told once
    assert not streams[1].events and not streams[3].events


# ---------------------------------------------------------------------------- REFUSED


def test_refused_stream_is_retried_and_refusals_are_counted() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
    peer.send(core)
    refused = head(core, stream_id, stream)
    assert isinstance(refused, httpcore_fast.ConnectionNotAvailable)
    assert str(refused) == "The server refused stream 1 (REFUSED_STREAM, RFC 9113 §8.7)"
    assert core.refused_streams == 1 and core.accepting
    assert core.close_reason(now=0.0) is None


def test_sixteen_refusals_stop_the_connection_taking_streams() -> None:
    core, peer = connected()
    for count in range(1, MAX_REFUSED_STREAMS + 1):
        assert core.accepting
        stream_id, stream = open_request(core)
        peer.receive(core)
        peer.h2.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
        peer.send(core)
        assert isinstance(head(core, stream_id, stream), httpcore_fast.ConnectionNotAvailable)
        core.request_not_taken()
        close = core.end_request(stream_id, True, now=0.0)
        assert core.refused_streams == count
    assert not core.accepting and close  # the last one leaves an unusable idle connection
    with pytest.raises(httpcore_fast.ConnectionNotAvailable, match="refused 16 streams"):
        core.take_slot()
    assert core.close_reason(now=0.0) == CLOSED_BY_SERVER


def test_other_resets_fail_only_their_stream() -> None:
    core, peer = connected()
    (reset_id, reset), (other_id, other) = open_request(core), open_request(core)
    peer.receive(core)
    peer.h2.reset_stream(reset_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
    peer.respond(other_id)
    peer.send(core)
    error = head(core, reset_id, reset)
    assert isinstance(error, httpcore_fast.RemoteProtocolError) and "StreamReset" in str(error)
    assert head(core, other_id, other)[0] == 200
    assert core.refused_streams == 0 and core.connection_error is None


def test_refused_after_the_head_is_not_retried() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200")])
    peer.h2.reset_stream(stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
    peer.send(core)
    assert head(core, stream_id, stream)[0] == 200
    with pytest.raises(httpcore_fast.RemoteProtocolError):
        core.next_body(stream_id, stream)
    assert core.refused_streams == 0


# ---------------------------------------------------------------------------- slots


def test_slot_scheduler_is_fifo_and_follows_settings() -> None:
    """One stream until the server's SETTINGS; then its SETTINGS_MAX_CONCURRENT_STREAMS,
    places granted in arrival order whenever one frees or the limit rises."""
    core, peer = new_core(), Peer(max_streams=2)
    assert core.max_streams == 1
    core.begin_request()
    assert core.take_slot()
    tickets = [core.queue_for_slot(name) for name in "abcd"]
    assert not core.take_slot()  # a free place would still go to the queue first
    peer.receive(core)
    settings = peer.send(core)
    assert [type(event).__name__ for event in settings] == ["RemoteSettingsChanged"]
    assert core.max_streams == 2
    assert core.take_wakeups() == ["a"]
    assert [t.granted for t in tickets] == [True, False, False, False]
    assert core.take_wakeups() == []  # taken once
    core.begin_request()
    assert not core.end_request(0, True, now=0.0)  # a place comes back: next in line
    assert core.take_wakeups() == ["b"]
    peer.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 10})
    peer.send(core)
    assert core.max_streams == 10
    assert core.take_wakeups() == ["c", "d"]
    assert core.open_slots == 4 and not core.slot_waiters


def test_slot_limit_lowered_by_settings_holds_new_requests() -> None:
    core, peer = connected(max_streams=3)
    for _ in range(2):
        open_request(core)
    peer.receive(core)
    peer.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
    peer.send(core)
    assert core.max_streams == 1
    core.begin_request()
    assert not core.take_slot()
    ticket = core.queue_for_slot("late")
    core.end_request(1, True, now=0.0)
    assert core.take_wakeups() == [] and not ticket.granted  # still 1 open, limit 1
    core.end_request(3, True, now=0.0)
    assert core.take_wakeups() == ["late"] and ticket.granted


def test_slot_waiter_cancelled_after_an_empty_handed_wake_up() -> None:
    """The connection closes while a request waits for a place: every waiter is woken
    empty-handed and leaves the queue; one cancelled before it resumes then gives up
    its ticket without error and takes no place."""
    core = new_core()
    core.begin_request()
    assert core.take_slot()  # another request holds the only place
    core.begin_request()
    assert not core.take_slot()
    ticket: SlotTicket[str] = core.queue_for_slot("waiter")
    assert len(core.slot_waiters) == 1
    assert core.mark_closed()
    assert core.take_wakeups() == ["waiter"]
    assert not ticket.granted and not core.slot_waiters
    core.leave_slot_queue(ticket)  # the cancelled waiter's clean-up
    assert core.open_slots == 1
    assert not core.mark_closed()  # once


def test_granted_ticket_given_up_goes_to_the_next_waiter() -> None:
    core = new_core()
    core.begin_request()
    assert core.take_slot()
    first, second = core.queue_for_slot("first"), core.queue_for_slot("second")
    core.begin_request()
    core.end_request(0, True, now=0.0)
    assert core.take_wakeups() == ["first"] and first.granted
    core.leave_slot_queue(first)  # timed out just as it was granted
    assert core.take_wakeups() == ["second"] and second.granted
    core.leave_slot_queue(SlotTicket("never queued"))  # nothing happens
    assert core.open_slots == 1


def test_failure_wakes_every_slot_waiter_empty_handed() -> None:
    core = new_core()
    core.begin_request()
    assert core.take_slot()
    tickets = [core.queue_for_slot(name) for name in "xy"]
    core.fail(httpcore_fast.ReadError("gone"))
    core.fail(httpcore_fast.WriteError("later"))  # the first failure is kept
    assert core.take_wakeups() == ["x", "y"]
    assert not any(t.granted for t in tickets)
    assert str(core.connection_error) == "gone"
    with pytest.raises(httpcore_fast.ConnectionNotAvailable):
        core.take_slot()


# ---------------------------------------------------------------------------- limits


def test_header_list_over_the_limit_fails_only_its_stream() -> None:
    """A block over max_head_size (but within DECODED_HEADER_LIST_FACTOR times it) is
    decoded, keeping HPACK in step, and fails its stream; the next stream is fine."""
    limit = 1000
    core, peer = connected(limits=ResponseLimits(max_head_size=limit))
    (big_id, big), (small_id, small) = open_request(core), open_request(core)
    peer.receive(core)
    peer.h2.send_headers(big_id, [(":status", "200"), ("x-big", "b" * 2000)])
    peer.respond(small_id, x_after=b"1")
    peer.send(core)
    error = head(core, big_id, big)
    assert isinstance(error, httpcore_fast.RemoteProtocolError)
    assert "SETTINGS_MAX_HEADER_LIST_SIZE (1000)" in str(error)
    assert head(core, small_id, small) == (200, [(b"x-after", b"1")])
    assert core.connection_error is None and core.accepting
    # The failed stream is reset when its request ends; the connection goes on.
    assert not core.end_request(big_id, True, now=0.0)
    peer.receive(core)
    assert any(type(e) is h2.events.StreamReset for e in peer.events)


def test_header_list_far_over_the_limit_fails_the_connection() -> None:
    limit = 1000
    core, peer = connected(limits=ResponseLimits(max_head_size=limit))
    stream_id, _ = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200"), ("x-big", "b" * 5000)])
    with pytest.raises(httpcore_fast.RemoteProtocolError):
        peer.send(core)
    assert core.connection_error is not None and not core.accepting
    assert core.has_output()  # the GOAWAY, to write before raising


def test_default_header_list_size_is_advertised_and_decoded_up_to_the_factor() -> None:
    core, peer = connected()
    assert peer.h2.remote_settings.max_header_list_size == LOCAL_MAX_HEADER_LIST_SIZE
    framing: typing.Any = core.framing
    assert framing.decoder.max_header_list_size == (
        LOCAL_MAX_HEADER_LIST_SIZE * DECODED_HEADER_LIST_FACTOR
    )


@pytest.mark.parametrize(
    ("fields", "limits", "message"),
    [
        ([("x-a", "1"), ("x-b", "2"), ("x-c", "3")], {"max_field_count": 2},
         "3 fields exceeds max_field_count (2)"),
        ([("x-long", "v" * 20)], {"max_field_line_size": 25},
         "b'x-long' exceeds max_field_line_size (25)"),
        ([("x-bad", "a\x00b")], {}, "Invalid HTTP/2 header value for b'x-bad'"),
    ],
)  # fmt: skip
def test_field_limits_fail_the_stream(
    fields: list[tuple[str, str]], limits: dict[str, int], message: str
) -> None:
    core, peer = connected(limits=ResponseLimits(**limits))
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200"), *fields], end_stream=True)
    peer.send(core)
    error = head(core, stream_id, stream)
    assert isinstance(error, httpcore_fast.RemoteProtocolError) and message in str(error)


def test_field_line_size_counts_name_value_and_two() -> None:
    core = new_core(limits=ResponseLimits(max_field_line_size=10))
    assert core.field_block([(b"abcd", b"efgh")], 1000) == (None, [(b"abcd", b"efgh")])  # 10
    with pytest.raises(httpcore_fast.RemoteProtocolError):
        core.field_block([(b"abcd", b"efghi")], 1000)  # 11
    # RFC 7541 §4.1 size: name + value + 32 per field, pseudo-header fields included.
    status, fields = core.field_block([(b":status", b"204"), (b"a", b"b")], 7 + 3 + 32 + 34)
    assert status == b"204" and fields == [(b"a", b"b")]
    with pytest.raises(httpcore_fast.RemoteProtocolError, match="header list of 76 bytes"):
        core.field_block([(b":status", b"204"), (b"a", b"b")], 75)


def test_informational_heads_are_skipped_and_counted() -> None:
    core, peer = connected(limits=ResponseLimits(max_informational=2))
    ok_id, ok = open_request(core)
    over_id, over = open_request(core)
    peer.receive(core)
    for _ in range(2):
        peer.h2.send_headers(ok_id, [(":status", "103"), ("link", "</a>")])
    peer.respond(ok_id)
    for _ in range(3):
        peer.h2.send_headers(over_id, [(":status", "103")])
    peer.send(core)
    assert head(core, ok_id, ok) == (200, [])
    assert ok.informational == 2
    error = head(core, over_id, over)
    assert isinstance(error, httpcore_fast.RemoteProtocolError)
    assert "max_informational (2)" in str(error)


def test_trailers_are_checked_and_kept() -> None:
    """Trailer fields are the stream's ``trailers`` once the body has ended, in order,
    repeats kept; a response without any has None; a block over ``max_trailer_size``
    fails its stream."""
    core, peer = connected(limits=ResponseLimits(max_trailer_size=160))
    (ok_id, ok), (big_id, big), (none_id, none) = (open_request(core) for _ in range(3))
    peer.receive(core)
    for stream_id, value in ((ok_id, "1"), (big_id, "x" * 60)):  # 120 and 179 bytes
        peer.h2.send_headers(stream_id, [(":status", "200")])
        peer.h2.send_data(stream_id, b"data")
        peer.h2.send_headers(stream_id, [("x-trailer", value), ("x-b", "2"), ("x-trailer", "3")],
                             end_stream=True)
    peer.respond(none_id)
    peer.send(core)
    assert head(core, ok_id, ok) == (200, []) and ok.trailers is None
    assert core.next_body(ok_id, ok) == (b"data", False) and ok.trailers is None
    assert core.next_body(ok_id, ok) == (None, False)  # the end of the body, after them
    assert ok.trailers == [(b"x-trailer", b"1"), (b"x-b", b"2"), (b"x-trailer", b"3")]
    assert head(core, big_id, big) == (200, [])
    assert core.next_body(big_id, big) == (b"data", False)
    with pytest.raises(httpcore_fast.RemoteProtocolError, match=r"\(160\)"):
        core.next_body(big_id, big)
    assert big.trailers is None
    assert head(core, none_id, none) == (200, []) and body(core, none_id, none) == b"ok"
    assert none.trailers is None


def test_trailers_without_data() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200")])
    peer.h2.send_headers(stream_id, [("x-only", "1")], end_stream=True)
    peer.send(core)
    assert head(core, stream_id, stream) == (200, [])
    assert body(core, stream_id, stream) == b""
    assert stream.trailers == [(b"x-only", b"1")]


@pytest.mark.parametrize("name", [":status", ":path", ":x"])
def test_pseudo_header_field_in_trailers_fails_the_stream(name: str) -> None:
    """RFC 9113 §8.1: trailers must not include pseudo-header fields (a malformed
    response, §8.1.1: a stream error): only that stream fails; the connection goes on."""
    core, peer = connected()
    peer.h2.config.validate_outbound_headers = False  # h2 would not send them
    (bad_id, bad), (ok_id, ok) = open_request(core), open_request(core)
    peer.receive(core)
    peer.h2.send_headers(bad_id, [(":status", "200")])
    peer.h2.send_data(bad_id, b"data")
    peer.h2.send_headers(bad_id, [("x-a", "1"), (name, "200")], end_stream=True)
    peer.respond(ok_id)
    peer.send(core)
    assert head(core, bad_id, bad) == (200, [])
    assert core.next_body(bad_id, bad) == (b"data", False)
    with pytest.raises(httpcore_fast.RemoteProtocolError, match="Pseudo-header field") as info:
        core.next_body(bad_id, bad)
    assert repr(name.encode()) in str(info.value) and "RFC 9113 §8.1" in str(info.value)
    assert bad.trailers is None
    assert head(core, ok_id, ok) == (200, []) and body(core, ok_id, ok) == b"ok"
    assert core.connection_error is None and core.accepting


def test_invalid_status_fails_the_stream() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "20x")], end_stream=True)
    peer.send(core)
    with pytest.raises(httpcore_fast.RemoteProtocolError, match="Invalid HTTP/2 response status"):
        core.next_head(stream_id, stream)


# ---------------------------------------------------------------------------- requests


def test_request_fields() -> None:
    core = new_core(authority=b"example.com")
    headers, body_length = core.request_fields(
        request(
            method="POST",
            headers=[
                (b"Host", b"example.com"), (b"Connection", b"keep-alive"),
                (b"Content-Length", b"3"), (b"TE", b"trailers"), (b"te", b"gzip"),
                (b"Authorization", b"secret"), (b"Cookie", b"short"),
                (b"Cookie", b"a-cookie-of-twenty-bytes-or-more"), (b"X-Mixed", b"v"),
            ],
        )
    )  # fmt: skip
    assert body_length == 3
    assert headers == [
        (b":method", b"POST"), (b":authority", b"example.com"), (b":scheme", b"http"),
        (b":path", b"/"), (b"content-length", b"3"), (b"te", b"trailers"),
        (b"authorization", b"secret"), (b"cookie", b"short"),
        (b"cookie", b"a-cookie-of-twenty-bytes-or-more"), (b"x-mixed", b"v"),
    ]  # fmt: skip
    never = [type(field) is hpack.NeverIndexedHeaderTuple for field in headers]
    assert never == [False] * 6 + [True, True, False, False]


def test_request_fields_are_validated_by_the_kernel() -> None:
    core = new_core()
    with pytest.raises(httpcore_fast.LocalProtocolError, match="Illegal header value"):
        core.request_fields(request(headers=[(b"Host", b"a"), (b"X", b"a\r\nb")]))
    with pytest.raises(httpcore_fast.LocalProtocolError, match="Missing mandatory Host"):
        core.request_fields(request(headers=[]))
    with pytest.raises(httpcore_fast.LocalProtocolError, match="CONNECT"):
        core.request_fields(request(method="CONNECT"))
    assert core.request_fields(
        request(headers=[(b"Host", b"a"), (b"Transfer-Encoding", b"chunked")])
    )[1] == -1


def post(core: HTTP2Core[str], content: bytes, length: int) -> tuple[int, Stream, typing.Any]:
    """A POST of ``content`` declaring Content-Length ``length``: its stream and what
    :meth:`HTTP2Core.send_headers` left to send."""
    core.begin_request()
    assert core.take_slot()
    req = request(method="POST", content=content,
                  headers=[(b"Host", b"a"), (b"Content-Length", b"%d" % length)])
    headers, body_length = core.request_fields(req)
    stream_id, stream = core.new_stream()
    return stream_id, stream, core.send_headers(stream_id, stream, headers, req.stream, length)


def test_small_bytes_body_leaves_with_its_headers() -> None:
    """A ByteStream body that fits the windows is queued right after HEADERS (one write);
    one that does not is left to the driver."""
    core, peer = connected()
    stream_id, stream, rest = post(core, b"hello", 5)
    assert rest is None and stream.local_ended
    peer.receive(core)
    kinds = [type(e).__name__ for e in peer.events if getattr(e, "stream_id", 0) == stream_id]
    # DATA, then END_STREAM on an empty DATA frame.
    assert kinds == ["RequestReceived", "DataReceived", "DataReceived", "StreamEnded"]
    # Content-Length disagrees with the bytes: left to the driver, which reports it.
    stream_id, stream, rest = post(core, b"hello", 9)
    assert rest is not None and not stream.local_ended
    assert core.send_window(stream_id, stream) == 16384  # a frame


def test_send_window_waits_for_credit_and_stops_when_the_server_ended() -> None:
    core, peer = connected()
    core.begin_request()
    assert core.take_slot()
    headers, _ = core.request_fields(request(method="POST", headers=[(b"Host", b"a"),
                                     (b"Transfer-Encoding", b"chunked")]))
    stream_id, stream = core.new_stream()
    core.send_headers(stream_id, stream, headers, iter([b"x"]), -1)
    for _ in range(3):  # the whole initial window, in frames of at most 16384 bytes
        core.send_data(stream_id, b"x" * 16384)
    core.send_data(stream_id, b"x" * (65535 - 3 * 16384))
    assert core.send_window(stream_id, stream) is None  # wait for WINDOW_UPDATE
    peer.receive(core)
    peer.h2.increment_flow_control_window(10)
    peer.h2.increment_flow_control_window(10, stream_id)
    peer.send(core)
    assert core.send_window(stream_id, stream) == 10
    peer.respond(stream_id)  # the server answers before the body is all sent
    peer.send(core)
    assert core.send_window(stream_id, stream) == 0
    assert not core.end_body(stream_id, stream)


# ---------------------------------------------------------------------------- ending


def test_ending_a_request_early_resets_its_stream_and_returns_credit() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200")])
    for _ in range(3):
        peer.h2.send_data(stream_id, b"u" * 13000)  # unread
    peer.send(core)
    assert head(core, stream_id, stream)[0] == 200
    window = peer.h2.local_flow_control_window(stream_id)

    assert not core.end_request(stream_id, True, now=100.0)
    assert core.state is IDLE and core.open_slots == 0 and stream_id not in core.streams
    peer.receive(core)
    resets = [e for e in peer.events if type(e) is h2.events.StreamReset]
    assert [(e.stream_id, e.error_code) for e in resets] == [(stream_id, 8)]  # CANCEL
    assert peer.h2.outbound_flow_control_window >= window  # the credit came back
    assert not core.end_request(stream_id, True, now=100.0)  # already ended: nothing


def test_complete_exchange_ends_without_a_reset() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.respond(stream_id)
    peer.send(core)
    assert head(core, stream_id, stream)[0] == 200 and body(core, stream_id, stream) == b"ok"
    core.end_request(stream_id, True, now=0.0)
    peer.receive(core)
    assert not any(type(e) is h2.events.StreamReset for e in peer.events)


def test_frames_of_a_closed_stream_return_their_credit() -> None:
    core, peer = connected()
    stream_id, stream = open_request(core)
    core.end_request(stream_id, True, now=0.0)
    peer.receive(core)
    before = peer.h2.outbound_flow_control_window
    data = hyperframe.frame.DataFrame(stream_id, data=b"z" * 16000).serialize()
    core.receive(data)
    peer.h2.receive_data(core.data_to_send())
    assert not stream.events
    assert peer.h2.outbound_flow_control_window >= before


def test_idle_expiry_and_closing_decisions() -> None:
    core, peer = connected(keepalive_expiry=5.0)
    stream_id, _ = open_request(core)
    assert not core.has_expired(now=1000.0)  # active
    core.end_request(stream_id, True, now=10.0)
    assert core.state is IDLE and core.expire_at == 15.0
    assert not core.has_expired(now=15.0) and core.has_expired(now=15.5)
    assert core.begin_request()  # reuse of an idle connection: the driver checks it
    assert core.expire_at is None and not core.has_expired(now=100.0)
    core.end_request(0, False, now=20.0)
    assert core.mark_closed() and core.state is CLOSED and core.has_expired(now=0.0)


def test_connection_lost_and_protocol_errors() -> None:
    core, peer = connected()
    error = core.connection_lost()
    assert str(error) == "Server disconnected" and core.connection_error is error
    assert core.may_defer_output()  # a failed connection writes nothing more
    broken = new_core()
    with pytest.raises(httpcore_fast.RemoteProtocolError):
        broken.receive(b"\x00\x00\x01\x04\x00\x00\x00\x00\x00\x00")  # SETTINGS, length 1
    assert broken.connection_error is not None


# ---------------------------------------------------------------------------- close reasons


def test_close_reason_of_a_usable_connection_is_none() -> None:
    """None while usable, and after we close it (the pool evicted or closed it)."""
    core, _ = connected(keepalive_expiry=5.0)
    stream_id, _ = open_request(core)
    assert core.close_reason(now=1e9) is None  # active: never expired
    core.end_request(stream_id, True, now=10.0)
    assert core.close_reason(now=15.0) is None
    assert core.mark_closed(now=15.0)  # before its expiry: by us (evicted)
    assert core.close_reason(now=15.0) is None and core.close_reason(now=99.0) is None
    with pytest.raises(httpcore_fast.ConnectionNotAvailable, match="it is closed"):
        core.begin_request()


def test_close_reason_expired() -> None:
    core, _ = connected(keepalive_expiry=5.0)
    stream_id, _ = open_request(core)
    core.end_request(stream_id, True, now=10.0)
    assert core.close_reason(now=15.5) == EXPIRED and core.has_expired(now=15.5)
    assert core.mark_closed(now=15.5)  # closed because it expired: the reason stays
    assert core.close_reason(now=15.5) == EXPIRED and core.close_reason(now=0.0) == EXPIRED
    # Every stream identifier used (RFC 9113 §5.1.1): its natural end.
    spent, _ = connected()
    framing: typing.Any = spent.framing  # h2's counter of the stream identifiers used
    framing.highest_outbound_stream_id = 2**31 - 1
    spent.begin_request()
    assert spent.take_slot()
    with pytest.raises(httpcore_fast.ConnectionNotAvailable, match="every stream identifier"):
        spent.new_stream()
    assert spent.close_reason(now=0.0) == EXPIRED


@pytest.mark.parametrize("how", ["eof", "goaway", "goaway-then-eof"])
def test_close_reason_closed_by_server(how: str) -> None:
    """The end of file and GOAWAY (with or without an error code) are the server's; the
    first cause is kept."""
    core, peer = connected()
    if how.startswith("goaway"):
        peer.h2.close_connection(error_code=h2.errors.ErrorCodes.ENHANCE_YOUR_CALM)
        peer.send(core)
    if how.endswith("eof"):
        core.connection_lost()
    assert core.close_reason(now=0.0) == CLOSED_BY_SERVER
    assert core.has_expired(now=0.0)
    core.fail(httpcore_fast.ReadError("later"))
    assert core.close_reason(now=0.0) == CLOSED_BY_SERVER


def test_close_reason_error() -> None:
    """A protocol error of the server's, or a failure the driver reports (a network
    error, a write cut short); a GOAWAY after it changes nothing."""
    broken = new_core()
    with pytest.raises(httpcore_fast.RemoteProtocolError):
        broken.receive(b"\x00\x00\x01\x04\x00\x00\x00\x00\x00\x00")  # SETTINGS, length 1
    assert broken.close_reason(now=0.0) == ERROR
    core, peer = connected()
    core.fail(httpcore_fast.WriteError("Interrupted write"))
    assert core.close_reason(now=0.0) == ERROR
    with pytest.raises(httpcore_fast.ConnectionNotAvailable, match="it failed .*WriteError"):
        core.begin_request()
    core.receive(hyperframe.frame.GoAwayFrame(0, last_stream_id=0).serialize())
    assert core.close_reason(now=0.0) == ERROR


# ---------------------------------------------------------------------------- reading


def test_reader_election_and_write_batching() -> None:
    """One reader at a time; frames queued while the reader has yet to write wait for
    its write; a waiter writes them itself once the reader has written."""
    core, _ = connected()
    assert core.take_reader_role(True)
    assert not core.take_reader_role(True)
    open_request(core)  # HEADERS queued
    assert core.may_defer_output()  # the reader writes them
    assert core.wait_for_reader("w1") is False
    data = core.output_for_reader()
    assert data and not core.has_output()
    assert not core.may_defer_output()
    open_request(core)
    assert core.wait_for_reader("w2") is True  # the reader has written: write first
    core.forget_read_waiter("w1")
    core.forget_read_waiter("gone")  # not waiting: nothing
    assert core.end_read_round() == ["w2"]
    assert not core.reading and core.take_reader_role(False) and not core.may_defer_output()


# ---------------------------------------------------------------------------- hooks


@pytest.mark.usefixtures("h2_only")
def test_hooks_with_the_installed_versions() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hooks = check_h2_hooks()
    assert hooks == HOOKS
    framing = hooks.new_state()
    assert type(framing) is H2GoawayFraming
    assert type(framing.encoder) is Encoder and type(framing.decoder) is Decoder


def rename(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> None:
    """As if a release renamed the instance attribute ``name`` of ``cls``."""
    key = f"_renamed_{name}"
    monkeypatch.setattr(
        cls, name,
        property(lambda self: self.__dict__[key],
                 lambda self, value: self.__dict__.__setitem__(key, value)),
        raising=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cls", "name", "expected"),
    [
        (h2.connection.H2Connection, "_data_to_send",
         Hooks(H2GoawayFraming, (Encoder, Decoder), peek=False)),
        (h2.connection.H2Connection, "encoder", Hooks(H2GoawayFraming, None, peek=True)),
        (hpack.table.HeaderTable, "resized",
         Hooks(H2GoawayFraming, (hpack.Encoder, LimitDecoder), peek=True)),
        (hpack.table.HeaderTable, "_maxsize",
         Hooks(H2GoawayFraming, (hpack.Encoder, LimitDecoder), peek=True)),
    ],
)  # fmt: skip
def test_hook_fallbacks(
    monkeypatch: pytest.MonkeyPatch, cls: type, name: str, expected: Hooks
) -> None:
    """A hook gone: its feature off (plain h2/hpack), one RuntimeWarning naming it."""
    rename(monkeypatch, cls, name)
    with pytest.warns(RuntimeWarning) as record:
        hooks = check_h2_hooks()
    assert hooks == expected
    assert len(record) == 1 and name in str(record[0].message)
    # The framing layer built from them still carries a request.
    core: HTTP2Core[str] = HTTP2Core(hooks.new_state())
    core.start()
    stream_id, stream = open_request(core)
    peer = Peer()
    peer.receive(core)
    peer.respond(stream_id)
    peer.send(core)
    assert head(core, stream_id, stream)[0] == 200


def test_goaway_hook_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """h2 dispatches GOAWAY elsewhere: plain h2 (a GOAWAY closes its state machine)."""
    original = h2.connection.H2Connection._receive_goaway_frame
    monkeypatch.delattr(h2.connection.H2Connection, "_receive_goaway_frame")
    monkeypatch.setattr(h2.connection.H2Connection, "_on_goaway", original, raising=False)
    init = h2.connection.H2Connection.__init__

    def renamed_init(self: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._receive_goaway_frame = self._on_goaway  # what h2's dispatch table names
        init(self, *args, **kwargs)
        del self.__dict__["_receive_goaway_frame"]

    monkeypatch.setattr(h2.connection.H2Connection, "__init__", renamed_init)
    with pytest.warns(RuntimeWarning, match="_receive_goaway_frame"):
        hooks = check_h2_hooks()
    assert hooks.state_class is H2Framing


def test_framing_interface_is_declared() -> None:
    """H2Framing implements every method of the Framing protocol, and every event kind
    the core reads is in its table."""
    members = [
        name for name in vars(http2_framing.Framing)
        if not name.startswith("_") and name != "EVENT_KINDS"
    ]
    assert members
    framing = H2Framing()
    for name in members:
        assert hasattr(framing, name), name
        if name != "max_outbound_frame_size":
            assert callable(getattr(framing, name)), name
    kinds = set(H2Framing.EVENT_KINDS.values())
    assert kinds == {
        http2_framing.RESPONSE, http2_framing.INFORMATIONAL, http2_framing.DATA,
        http2_framing.ENDED, http2_framing.RESET, http2_framing.TRAILERS,
        http2_framing.SETTINGS, http2_framing.GOAWAY,
    }  # fmt: skip


# ---------------------------------------------------------------------------- large bodies


def _h2_framing() -> typing.Any:
    """h2's framing layer (``HOOKS.new_state()`` gives the native one when it is the
    default, with the Cython kernel)."""
    return HOOKS.state_class(http2_framing.CONFIG, HOOKS.codec, HOOKS.peek)


def _framings() -> list[typing.Any]:
    """h2's framing layer, and the native one as the driver makes it (DATA frames that
    follow one another in one receive coalesced) when it is built."""
    layers: list[typing.Any] = [pytest.param(_h2_framing, id="h2")]
    try:
        from httpcore_fast import _h2_c
    except ImportError:  # pragma: no cover - without the Cython build
        return layers

    def native() -> typing.Any:
        framing = _h2_c.CFraming()
        framing.coalesce_data = True
        return framing

    return [*layers, pytest.param(native, id="native")]


def _core_on(new_framing: typing.Any) -> tuple[HTTP2Core[str], Peer]:
    core: HTTP2Core[str] = HTTP2Core(new_framing())
    core.start()
    peer = Peer()
    peer.receive(core)
    peer.send(core)
    peer.receive(core)
    return core, peer


@pytest.mark.parametrize("new_framing", _framings())
def test_a_body_part_joins_the_data_frames_queued_on_its_stream(new_framing: typing.Any) -> None:
    """The DATA frames queued one after another on a stream are one body part, whether
    they came in one read or in several; each stream keeps its own bytes, in order."""
    core, peer = _core_on(new_framing)
    (a_id, a), (b_id, b) = open_request(core), open_request(core)
    peer.receive(core)
    for stream_id in (a_id, b_id):
        peer.h2.send_headers(stream_id, [(":status", "200")])
    peer.send(core)
    assert head(core, a_id, a) == (200, []) and head(core, b_id, b) == (200, [])
    for i in range(6):  # interleaved frames, in one read
        peer.h2.send_data(a_id, bytes([65 + i]) * 1000)
        peer.h2.send_data(b_id, bytes([97 + i]) * 500)
    peer.send(core)
    for i in range(3):  # then frames of one stream, one read each
        peer.h2.send_data(a_id, b"z" * 100)
        peer.send(core)
    assert core.next_body(a_id, a) == (
        b"".join(bytes([65 + i]) * 1000 for i in range(6)) + b"z" * 300, False)
    assert core.next_body(a_id, a) is None  # nothing left: read, then ask again
    assert core.next_body(b_id, b) == (b"".join(bytes([97 + i]) * 500 for i in range(6)), False)
    peer.h2.end_stream(a_id)  # an empty DATA frame with END_STREAM
    peer.send(core)
    assert body(core, a_id, a) == b""  # and the end


def test_a_body_part_is_at_most_max_body_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """Queued frames are joined up to MAX_BODY_PART bytes (the frame that crosses it
    included); the rest is the next part."""
    from httpcore_fast._core import http2 as core_module

    monkeypatch.setattr(core_module, "MAX_BODY_PART", 2500)
    core, peer = _core_on(_h2_framing)  # (one event per frame)
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200")])
    for i in range(5):
        peer.h2.send_data(stream_id, bytes([48 + i]) * 1000)
    peer.send(core)
    assert head(core, stream_id, stream) == (200, [])
    assert core.next_body(stream_id, stream) == (b"0" * 1000 + b"1" * 1000 + b"2" * 1000, False)
    assert core.next_body(stream_id, stream) == (b"3" * 1000 + b"4" * 1000, False)


@pytest.mark.parametrize("new_framing", _framings())
def test_credit_goes_back_in_batches_and_the_server_never_stalls(
    new_framing: typing.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body many times the receive window: the server always gets credit again (it
    never waits with an empty window), and WINDOW_UPDATE comes once half a window was
    consumed, not for every frame; ``next_body`` says "write" exactly when one is queued
    (RFC 9113 §6.9)."""
    from httpcore_fast._core import http2 as core_module

    window = 64 * 1024
    monkeypatch.setattr(core_module, "RECEIVE_WINDOW", window)
    core, peer = _core_on(new_framing)
    stream_id, stream = open_request(core)
    peer.receive(core)
    peer.h2.send_headers(stream_id, [(":status", "200")])
    peer.send(core)
    assert head(core, stream_id, stream) == (200, [])
    total, frame_size = 2 * 1024 * 1024, peer.h2.max_outbound_frame_size
    sent = received = frames = flushes = 0
    for _ in range(10_000):  # bounded: each turn sends or the test fails
        room = min(peer.h2.local_flow_control_window(stream_id), total - sent)
        assert room > 0 or sent == total, "the server waits for credit that never comes"
        while room > 0:
            size = min(room, frame_size)
            peer.h2.send_data(stream_id, b"d" * size, end_stream=sent + size == total)
            sent, room, frames = sent + size, room - size, frames + 1
        peer.send(core)
        while (part := core.next_body(stream_id, stream)) is not None:
            data, flush = part
            if data is None:
                break
            received += len(data)
            assert flush == core.has_output()
            flushes += flush
            peer.receive(core)
        if sent == total:
            break
    assert received == total and core.next_body(stream_id, stream) is None
    updates = [e for e in peer.events if type(e) is h2.events.WindowUpdated]
    stream_updates = [e for e in updates if e.stream_id == stream_id]
    # about one per half window consumed, for the stream and for the connection
    assert total // window - 1 <= len(stream_updates) <= 2 * total // window + 1
    assert len(updates) <= 2 * len(stream_updates) + 2
    assert len(stream_updates) < frames // 2 and 0 < flushes <= len(updates)

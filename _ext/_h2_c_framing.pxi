# The client side of RFC 9113 for ``httpcore_fast._h2_c``: frames (§4, §6), padding,
# CONTINUATION assembly, the connection and stream state machines (§5.1), flow control
# (§5.2, §6.9), SETTINGS, PING, GOAWAY and RST_STREAM. Included by _h2_c.pyx.
#
# ``CFraming`` is the twin of ``_core.http2_framing.H2GoawayFraming`` (h2's H2Connection as
# the HTTP/2 core drives it): for the same calls and the same bytes it gives the same events
# of the kinds the core reads, raises the same h2 exception classes and queues the same
# frames. Its state machines are h2's, transition for transition, so that the differential
# tests can hold it to that; where it goes further (a bounded receive buffer, floods of
# frames we must answer) it says so at the check.

# ------------------------------------------------------------------ constants

DEF _PREFACE_LEN = 24
cdef bytes _PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 §6) and flags.
DEF T_DATA = 0x0
DEF T_HEADERS = 0x1
DEF T_PRIORITY = 0x2
DEF T_RST_STREAM = 0x3
DEF T_SETTINGS = 0x4
DEF T_PUSH_PROMISE = 0x5
DEF T_PING = 0x6
DEF T_GOAWAY = 0x7
DEF T_WINDOW_UPDATE = 0x8
DEF T_CONTINUATION = 0x9
DEF T_ALTSVC = 0xA
DEF F_END_STREAM = 0x1
DEF F_ACK = 0x1
DEF F_END_HEADERS = 0x4
DEF F_PADDED = 0x8
DEF F_PRIORITY = 0x20

# Settings (RFC 9113 §6.5.2).
DEF S_HEADER_TABLE_SIZE = 1
DEF S_ENABLE_PUSH = 2
DEF S_MAX_CONCURRENT_STREAMS = 3
DEF S_INITIAL_WINDOW_SIZE = 4
DEF S_MAX_FRAME_SIZE = 5
DEF S_MAX_HEADER_LIST_SIZE = 6
DEF S_ENABLE_CONNECT_PROTOCOL = 8

DEF LARGEST_WINDOW = 2147483647
DEF MAX_DATA_SEGMENTS = 64  # DATA frames joined into one DataReceived (coalesce_data)
DEF HIGHEST_STREAM_ID = 2147483647
DEF DEFAULT_MAX_FRAME_SIZE = 16384
DEF MAX_CLOSED_STREAMS = 65536
# h2's FrameBuffer: a header block of more frames than this (HEADERS included) fails.
DEF CONTINUATION_BACKLOG = 64

# Error codes (RFC 9113 §7).
DEF E_NO_ERROR = 0x0
DEF E_PROTOCOL_ERROR = 0x1
DEF E_FLOW_CONTROL_ERROR = 0x3
DEF E_STREAM_CLOSED = 0x5

# Connection states and inputs (h2's H2ConnectionStateMachine).
DEF C_IDLE = 0
DEF C_CLIENT_OPEN = 1
DEF C_SERVER_OPEN = 2
DEF C_CLOSED = 3
DEF CI_SEND_HEADERS = 0
DEF CI_SEND_PUSH_PROMISE = 1
DEF CI_SEND_DATA = 2
DEF CI_SEND_GOAWAY = 3
DEF CI_SEND_WINDOW_UPDATE = 4
DEF CI_SEND_PING = 5
DEF CI_SEND_SETTINGS = 6
DEF CI_SEND_RST_STREAM = 7
DEF CI_SEND_PRIORITY = 8
DEF CI_RECV_HEADERS = 9
DEF CI_RECV_PUSH_PROMISE = 10
DEF CI_RECV_DATA = 11
DEF CI_RECV_GOAWAY = 12
DEF CI_RECV_WINDOW_UPDATE = 13
DEF CI_RECV_PING = 14
DEF CI_RECV_SETTINGS = 15
DEF CI_RECV_RST_STREAM = 16
DEF CI_RECV_PRIORITY = 17
DEF CI_SEND_ALTERNATIVE_SERVICE = 18
DEF CI_RECV_ALTERNATIVE_SERVICE = 19

# Stream states and inputs (h2's H2StreamStateMachine; a client never reserves streams).
DEF ST_IDLE = 0
DEF ST_OPEN = 1
DEF ST_HALF_CLOSED_LOCAL = 2
DEF ST_HALF_CLOSED_REMOTE = 3
DEF ST_CLOSED = 4
DEF SI_SEND_HEADERS = 0
DEF SI_SEND_PUSH_PROMISE = 1
DEF SI_SEND_RST_STREAM = 2
DEF SI_SEND_DATA = 3
DEF SI_SEND_WINDOW_UPDATE = 4
DEF SI_SEND_END_STREAM = 5
DEF SI_RECV_HEADERS = 6
DEF SI_RECV_PUSH_PROMISE = 7
DEF SI_RECV_RST_STREAM = 8
DEF SI_RECV_DATA = 9
DEF SI_RECV_WINDOW_UPDATE = 10
DEF SI_RECV_END_STREAM = 11
DEF SI_RECV_CONTINUATION = 12
DEF SI_RECV_INFORMATIONAL_HEADERS = 14
DEF SI_RECV_ALTERNATIVE_SERVICE = 16

# How a stream was closed (h2's StreamClosedBy); 0: not known.
DEF BY_SEND_END_STREAM = 1
DEF BY_RECV_END_STREAM = 2
DEF BY_SEND_RST_STREAM = 3
DEF BY_RECV_RST_STREAM = 4

# What a stream transition produced, for the caller to turn into an event.
DEF A_NONE = 0
DEF A_RESPONSE = 1
DEF A_TRAILERS = 2
DEF A_INFORMATIONAL = 3
DEF A_REQUEST = 4
DEF A_DATA = 5
DEF A_ENDED = 6
DEF A_RESET = 7
DEF A_WINDOW = 8

_CONN_STATE_NAMES = ("ConnectionState.IDLE", "ConnectionState.CLIENT_OPEN",
                     "ConnectionState.SERVER_OPEN", "ConnectionState.CLOSED")
_CONN_INPUT_NAMES = (
    "SEND_HEADERS", "SEND_PUSH_PROMISE", "SEND_DATA", "SEND_GOAWAY", "SEND_WINDOW_UPDATE",
    "SEND_PING", "SEND_SETTINGS", "SEND_RST_STREAM", "SEND_PRIORITY", "RECV_HEADERS",
    "RECV_PUSH_PROMISE", "RECV_DATA", "RECV_GOAWAY", "RECV_WINDOW_UPDATE", "RECV_PING",
    "RECV_SETTINGS", "RECV_RST_STREAM", "RECV_PRIORITY", "SEND_ALTERNATIVE_SERVICE",
    "RECV_ALTERNATIVE_SERVICE",
)
_STREAM_STATE_NAMES = ("StreamState.IDLE", "StreamState.OPEN",
                       "StreamState.HALF_CLOSED_LOCAL", "StreamState.HALF_CLOSED_REMOTE",
                       "StreamState.CLOSED")
_STREAM_INPUT_NAMES = {
    0: "SEND_HEADERS", 1: "SEND_PUSH_PROMISE", 2: "SEND_RST_STREAM", 3: "SEND_DATA",
    4: "SEND_WINDOW_UPDATE", 5: "SEND_END_STREAM", 6: "RECV_HEADERS",
    7: "RECV_PUSH_PROMISE", 8: "RECV_RST_STREAM", 9: "RECV_DATA",
    10: "RECV_WINDOW_UPDATE", 11: "RECV_END_STREAM", 12: "RECV_CONTINUATION",
    14: "RECV_INFORMATIONAL_HEADERS", 16: "RECV_ALTERNATIVE_SERVICE",
}

# Valid connection inputs per state (bit i: input i), h2's transition table.
cdef unsigned int _CONN_VALID[4]
_CONN_VALID[C_IDLE] = (
    (1 << CI_SEND_HEADERS) | (1 << CI_RECV_HEADERS) | (1 << CI_SEND_SETTINGS)
    | (1 << CI_RECV_SETTINGS) | (1 << CI_SEND_WINDOW_UPDATE) | (1 << CI_RECV_WINDOW_UPDATE)
    | (1 << CI_SEND_PING) | (1 << CI_RECV_PING) | (1 << CI_SEND_GOAWAY)
    | (1 << CI_RECV_GOAWAY) | (1 << CI_SEND_PRIORITY) | (1 << CI_RECV_PRIORITY)
    | (1 << CI_SEND_ALTERNATIVE_SERVICE) | (1 << CI_RECV_ALTERNATIVE_SERVICE)
)
_CONN_VALID[C_CLIENT_OPEN] = (
    (1 << CI_SEND_HEADERS) | (1 << CI_SEND_DATA) | (1 << CI_SEND_GOAWAY)
    | (1 << CI_SEND_WINDOW_UPDATE) | (1 << CI_SEND_PING) | (1 << CI_SEND_SETTINGS)
    | (1 << CI_SEND_PRIORITY) | (1 << CI_RECV_HEADERS) | (1 << CI_RECV_PUSH_PROMISE)
    | (1 << CI_RECV_DATA) | (1 << CI_RECV_GOAWAY) | (1 << CI_RECV_WINDOW_UPDATE)
    | (1 << CI_RECV_PING) | (1 << CI_RECV_SETTINGS) | (1 << CI_SEND_RST_STREAM)
    | (1 << CI_RECV_RST_STREAM) | (1 << CI_RECV_PRIORITY)
    | (1 << CI_RECV_ALTERNATIVE_SERVICE)
)
_CONN_VALID[C_SERVER_OPEN] = (
    (1 << CI_SEND_HEADERS) | (1 << CI_SEND_PUSH_PROMISE) | (1 << CI_SEND_DATA)
    | (1 << CI_SEND_GOAWAY) | (1 << CI_SEND_WINDOW_UPDATE) | (1 << CI_SEND_PING)
    | (1 << CI_SEND_SETTINGS) | (1 << CI_SEND_PRIORITY) | (1 << CI_RECV_HEADERS)
    | (1 << CI_RECV_DATA) | (1 << CI_RECV_GOAWAY) | (1 << CI_RECV_WINDOW_UPDATE)
    | (1 << CI_RECV_PING) | (1 << CI_RECV_SETTINGS) | (1 << CI_RECV_PRIORITY)
    | (1 << CI_SEND_RST_STREAM) | (1 << CI_RECV_RST_STREAM)
    | (1 << CI_SEND_ALTERNATIVE_SERVICE) | (1 << CI_RECV_ALTERNATIVE_SERVICE)
)
_CONN_VALID[C_CLOSED] = (1 << CI_SEND_GOAWAY) | (1 << CI_RECV_GOAWAY)


# ------------------------------------------------------------------ events

cdef class ResponseReceived:
    """A response head (RFC 9113 §8.1): ``stream_id``, ``headers`` (``[(name, value)]``)."""
    cdef readonly object stream_id, headers

    def __repr__(self):
        return f"<ResponseReceived stream_id:{self.stream_id}, headers:{self.headers}>"


cdef class InformationalResponseReceived:
    """A 1xx response head: ``stream_id``, ``headers``."""
    cdef readonly object stream_id, headers

    def __repr__(self):
        return (f"<InformationalResponseReceived stream_id:{self.stream_id}, "
                f"headers:{self.headers}>")


cdef class TrailersReceived:
    """Trailer fields (RFC 9113 §8.1): ``stream_id``, ``headers``."""
    cdef readonly object stream_id, headers

    def __repr__(self):
        return f"<TrailersReceived stream_id:{self.stream_id}, headers:{self.headers}>"


cdef class DataReceived:
    """DATA: ``stream_id``, ``data`` (bytes), ``flow_controlled_length`` (padding
    included)."""
    cdef readonly object stream_id, data, flow_controlled_length

    def __repr__(self):
        return (f"<DataReceived stream_id:{self.stream_id}, flow_controlled_length:"
                f"{self.flow_controlled_length}, data:{self.data[:20]!r}>")


cdef class StreamEnded:
    """The peer's END_STREAM: ``stream_id``."""
    cdef readonly object stream_id

    def __repr__(self):
        return f"<StreamEnded stream_id:{self.stream_id}>"


cdef object _headers_event(int action, object stream_id, list headers):
    """The event of a header block: a response head, a 1xx head or trailers."""
    cdef ResponseReceived response
    cdef InformationalResponseReceived info
    cdef TrailersReceived trailers
    if action == A_RESPONSE:
        response = ResponseReceived.__new__(ResponseReceived)
        response.stream_id = stream_id
        response.headers = headers
        return response
    if action == A_INFORMATIONAL:
        info = InformationalResponseReceived.__new__(InformationalResponseReceived)
        info.stream_id = stream_id
        info.headers = headers
        return info
    trailers = TrailersReceived.__new__(TrailersReceived)
    trailers.stream_id = stream_id
    trailers.headers = headers
    return trailers


cdef inline object _ended(object stream_id):
    cdef StreamEnded event = StreamEnded.__new__(StreamEnded)
    event.stream_id = stream_id
    return event


cdef object _stream_reset(object stream_id, object error_code, bint remote):
    return _StreamResetEvent(stream_id=stream_id, error_code=error_code, remote_reset=remote)


cdef object _error_code(long long code):
    try:
        return _ErrorCodes(code)
    except ValueError:
        return code


# ------------------------------------------------------------------ errors

cdef object _closed_error(object stream_id, list events=None):
    error = _StreamClosedError(stream_id)
    if events:
        error._events = events
    return error


# ------------------------------------------------------------------ flow-control windows

cdef class _Window:
    """h2's WindowManager: a receive window and the credit to hand back (RFC 9113
    §6.9): a WINDOW_UPDATE is due when the window is empty and over min(1024, max/4)
    bytes were processed, or half the window was."""
    cdef long long max_size, current, processed

    def __cinit__(self, long long max_size):
        self.max_size = max_size
        self.current = max_size

    cdef int consumed(self, long long size) except -1:
        self.current -= size
        if self.current < 0:
            raise _FlowControlError("Flow control window shrunk below 0")
        return 0

    cdef int opened(self, long long size) except -1:
        self.current += size
        if self.current > LARGEST_WINDOW:
            raise _FlowControlError(f"Flow control window mustn't exceed {LARGEST_WINDOW}")
        if self.current > self.max_size:
            self.max_size = self.current
        return 0

    cdef long long process(self, long long size):
        """Bytes processed; returns the increment to send now (0: none)."""
        cdef long long increment = 0
        self.processed += size
        if not self.processed:
            return 0
        if ((self.current == 0 and self.processed > min(1024, self.max_size // 4))
                or self.processed >= self.max_size // 2):
            increment = min(self.processed, self.max_size - self.current)
            self.processed = 0
        self.current += increment
        return increment


# ------------------------------------------------------------------ streams

cdef class _Stream:
    """One stream's state (RFC 9113 §5.1), as h2's H2Stream and its state machine."""
    cdef readonly int stream_id
    cdef int state, closed_by
    cdef object client  # None, True, False (h2's tri-state)
    cdef bint headers_sent, trailers_sent, headers_received, trailers_received
    cdef long long outbound_window
    cdef _Window inbound
    cdef long long expected_length  # -1: none
    cdef long long actual_length
    cdef bint head_request

    def __cinit__(self, int stream_id, long long inbound_window, long long outbound_window):
        self.stream_id = stream_id
        self.client = None
        self.outbound_window = outbound_window
        self.inbound = _Window(inbound_window)
        self.expected_length = -1

    cdef inline bint is_open(self):
        return ST_OPEN <= self.state <= ST_HALF_CLOSED_REMOTE

    cdef int invalid(self, int input_) except -1:
        old = self.state
        self.state = ST_CLOSED
        raise _ProtocolError(
            f"Invalid input StreamInputs.{_STREAM_INPUT_NAMES[input_]} in state "
            f"{_STREAM_STATE_NAMES[old]}")

    cdef int reset_on_error(self) except -1:
        # The stream was half-closed by the peer (or idle) and it sent more: a stream
        # error (RFC 9113 §5.1); h2 resets the stream and reports it as reset.
        self.closed_by = BY_SEND_RST_STREAM
        raise _closed_error(self.stream_id, [
            _stream_reset(self.stream_id, _ErrorCodes.STREAM_CLOSED, False)])

    cdef int process(self, int input_) except -1:
        """One transition of h2's table (stream.py ``_transitions``, the reserved states
        left out: push is off); returns what it produced (A_*). An input the state does
        not take closes the stream and raises ProtocolError, as h2 does."""
        cdef int state = self.state
        if state == ST_OPEN:
            if input_ == SI_RECV_DATA:
                return self.data_received()
            if input_ == SI_RECV_HEADERS:
                return self.response_received()
            if input_ == SI_RECV_END_STREAM:
                self.state = ST_HALF_CLOSED_REMOTE
                return A_ENDED
            if input_ == SI_SEND_END_STREAM:
                self.state = ST_HALF_CLOSED_LOCAL
                return A_NONE
            if input_ == SI_SEND_DATA or input_ == SI_SEND_WINDOW_UPDATE:
                return A_NONE
            if input_ == SI_RECV_WINDOW_UPDATE:
                return A_WINDOW
            if input_ == SI_SEND_RST_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_SEND_RST_STREAM
                return A_NONE
            if input_ == SI_RECV_RST_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_RECV_RST_STREAM
                return A_RESET
            if input_ == SI_RECV_INFORMATIONAL_HEADERS:
                return self.informational_received()
            if input_ == SI_SEND_HEADERS:
                return self.headers_sent_again()
            if input_ == SI_RECV_ALTERNATIVE_SERVICE:
                return A_NONE
        elif state == ST_HALF_CLOSED_LOCAL:
            if input_ == SI_RECV_DATA:
                return self.data_received()
            if input_ == SI_RECV_HEADERS:
                return self.response_received()
            if input_ == SI_RECV_END_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_RECV_END_STREAM
                return A_ENDED
            if input_ == SI_SEND_WINDOW_UPDATE:
                return A_NONE
            if input_ == SI_RECV_WINDOW_UPDATE:
                return A_WINDOW
            if input_ == SI_SEND_RST_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_SEND_RST_STREAM
                return A_NONE
            if input_ == SI_RECV_RST_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_RECV_RST_STREAM
                return A_RESET
            if input_ == SI_RECV_INFORMATIONAL_HEADERS:
                return self.informational_received()
            if input_ == SI_RECV_ALTERNATIVE_SERVICE:
                return A_NONE
        elif state == ST_HALF_CLOSED_REMOTE:
            if input_ == SI_RECV_DATA or input_ == SI_RECV_HEADERS:
                self.state = ST_CLOSED
                return self.reset_on_error()
            if input_ == SI_SEND_END_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_SEND_END_STREAM
                return A_NONE
            if input_ == SI_SEND_DATA or input_ == SI_SEND_WINDOW_UPDATE:
                return A_NONE
            if input_ == SI_RECV_WINDOW_UPDATE:
                return A_WINDOW
            if input_ == SI_SEND_RST_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_SEND_RST_STREAM
                return A_NONE
            if input_ == SI_RECV_RST_STREAM:
                self.state = ST_CLOSED
                self.closed_by = BY_RECV_RST_STREAM
                return A_RESET
            if input_ == SI_SEND_HEADERS:
                return self.headers_sent_again()
            if input_ == SI_RECV_ALTERNATIVE_SERVICE:
                return A_NONE
        elif state == ST_CLOSED:
            if (input_ == SI_RECV_END_STREAM or input_ == SI_RECV_ALTERNATIVE_SERVICE
                    or input_ == SI_RECV_WINDOW_UPDATE or input_ == SI_RECV_RST_STREAM):
                return A_NONE
            if input_ == SI_RECV_HEADERS or input_ == SI_RECV_DATA:
                raise _closed_error(self.stream_id)
            if (input_ == SI_SEND_HEADERS or input_ == SI_SEND_RST_STREAM
                    or input_ == SI_SEND_DATA or input_ == SI_SEND_WINDOW_UPDATE
                    or input_ == SI_SEND_END_STREAM):
                raise _closed_error(self.stream_id)
        else:  # idle
            if input_ == SI_SEND_HEADERS:
                self.state = ST_OPEN
                self.client = True
                self.headers_sent = True
                return A_NONE
            if input_ == SI_RECV_HEADERS:
                self.state = ST_OPEN
                self.client = False
                self.headers_received = True
                return A_REQUEST
            if input_ == SI_RECV_DATA:
                self.state = ST_CLOSED
                return self.reset_on_error()
            if input_ == SI_RECV_ALTERNATIVE_SERVICE:
                return A_NONE
        return self.invalid(input_)

    cdef int data_received(self) except -1:
        if not self.headers_received:
            self.state = ST_CLOSED
            raise _ProtocolError("cannot receive data before headers")
        return A_DATA

    cdef int response_received(self) except -1:
        if not self.headers_received:
            if self.client is not True:
                self.state = ST_CLOSED
                raise _ProtocolError("response on a stream the client did not open")
            self.headers_received = True
            return A_RESPONSE
        if self.trailers_received:
            self.state = ST_CLOSED
            raise _ProtocolError("trailers received twice")
        self.trailers_received = True
        return A_TRAILERS

    cdef int informational_received(self) except -1:
        if self.headers_received:
            self.state = ST_CLOSED
            raise _ProtocolError("Informational response after final response")
        return A_INFORMATIONAL

    cdef int headers_sent_again(self) except -1:
        if not self.headers_sent:
            if self.client is True or self.client is None:
                self.state = ST_CLOSED
                raise _ProtocolError("Client cannot send responses.")
            self.headers_sent = True
            return A_NONE
        if self.trailers_sent:
            self.state = ST_CLOSED
            raise _ProtocolError("trailers sent twice")
        self.trailers_sent = True
        return A_NONE

    cdef int init_content_length(self, list headers) except -1:
        """h2's content-length bookkeeping for the body that follows these fields."""
        cdef long long length = -1, parsed
        cdef bytes name, value
        if self.head_request:
            self.expected_length = 0
            return 0
        for field in headers:
            name = <bytes>PyTuple_GET_ITEM(<tuple>field, 0)
            if name == b"content-length":
                value = <bytes>PyTuple_GET_ITEM(<tuple>field, 1)
                if not value.isdigit():
                    raise _ProtocolError(f"Invalid content-length header: {value!r}")
                number = int(value, 10)
                # Past 2**63 - 1 no body can match it anyway: the comparisons still hold.
                parsed = 0x7FFFFFFFFFFFFFFF if number > 0x7FFFFFFFFFFFFFFF else number
                if length == -1:
                    length = parsed
                elif parsed != length:
                    raise _ProtocolError(
                        f"Conflicting content-length headers: {length} and {parsed}")
        self.expected_length = length
        return 0

    cdef int track_content_length(self, long long length, bint end_stream) except -1:
        self.actual_length += length
        if self.expected_length != -1:
            if self.expected_length < self.actual_length or (
                    end_stream and self.expected_length != self.actual_length):
                raise _InvalidBodyLengthError(self.expected_length, self.actual_length)
        return 0


cdef bint _is_informational(list headers):
    cdef bytes name
    for field in headers:
        name = <bytes>PyTuple_GET_ITEM(<tuple>field, 0)
        if not name.startswith(b":"):
            return False
        if name != b":status":
            continue
        return (<bytes>PyTuple_GET_ITEM(<tuple>field, 1)).startswith(b"1")
    return False


# ------------------------------------------------------------------ frame output

cdef inline void _put_header(unsigned char* p, Py_ssize_t length, int kind, int flags,
                             unsigned int stream_id) noexcept:
    p[0] = (length >> 16) & 0xFF
    p[1] = (length >> 8) & 0xFF
    p[2] = length & 0xFF
    p[3] = kind
    p[4] = flags
    p[5] = (stream_id >> 24) & 0x7F
    p[6] = (stream_id >> 16) & 0xFF
    p[7] = (stream_id >> 8) & 0xFF
    p[8] = stream_id & 0xFF


cdef inline void _put_u32(unsigned char* p, unsigned long long value) noexcept:
    p[0] = (value >> 24) & 0xFF
    p[1] = (value >> 16) & 0xFF
    p[2] = (value >> 8) & 0xFF
    p[3] = value & 0xFF


cdef inline unsigned int _u32(const unsigned char* p) noexcept:
    return (<unsigned int>p[0] << 24) | (<unsigned int>p[1] << 16) | (<unsigned int>p[2] << 8) | p[3]


# ------------------------------------------------------------------ the connection

cdef class CFraming:
    """The native framing layer of the HTTP/2 core (``_core.http2_framing.Framing``):
    the client side of RFC 9113 with h2's behaviour, frame for frame.

    ``max_pending_acks``: frames queued in answer to the peer's (PING and SETTINGS
    acknowledgements, RFC 9113 §6.5.3, §6.7; RST_STREAM for frames on closed streams,
    §5.1) and not yet taken by ``data_to_send()`` before the peer's flood fails the
    connection (``h2.exceptions.DenialOfServiceError``, ENHANCE_YOUR_CALM; h2 has no
    such bound). ``continuation_limit``: frames of one header block, HEADERS included
    (h2's 64; the CONTINUATION flood class of CVE-2024-27316).

    ``coalesce_data`` (False: h2's events, one ``DataReceived`` per DATA frame): the DATA
    frames of one stream that follow one another in the bytes of one receive give one
    ``DataReceived``, its ``data`` their payloads joined and its
    ``flow_controlled_length`` their sum (the events h2 gives, with such neighbours
    merged; the frames are checked one by one as before). The HTTP/2 driver sets it: a
    large body then costs one event and one copy of its bytes per read, not per frame.
    """

    cdef public object EVENT_KINDS
    cdef int conn_state
    cdef dict streams
    cdef object closed_streams  # {stream_id: closed_by}, the newest MAX_CLOSED_STREAMS
    cdef public long long highest_inbound_stream_id, highest_outbound_stream_id  # h2's names
    cdef readonly Encoder encoder
    cdef readonly Decoder decoder
    # local settings (ours, in effect at once, as H2Framing.start makes them)
    cdef long long local_max_concurrent, local_initial_window, local_enable_push
    cdef readonly long long max_inbound_frame_size
    # remote settings (the server's) and ours: {code: value}
    cdef dict remote
    cdef dict local
    cdef long long outbound_window
    cdef readonly long long max_outbound_frame_size
    cdef _Window inbound
    cdef bytearray out
    # The receive buffer: bytes not yet framed are _rbuf[_rstart:_rend]; get_buffer()
    # hands out a view of the free space after them (_rmv is _rbuf's memoryview).
    cdef bytearray _rbuf
    cdef object _rmv
    cdef char* _rdata
    cdef Py_ssize_t _rcap, _rstart, _rend, _view_size
    # a header block being assembled (HEADERS or PUSH_PROMISE, then CONTINUATIONs)
    cdef int hb_kind, hb_flags, hb_count
    cdef unsigned int hb_stream_id, hb_depends_on, hb_promised
    cdef bytearray hb_data
    cdef public Py_ssize_t max_pending_acks
    cdef public int continuation_limit
    cdef Py_ssize_t pending_acks
    # One DataReceived for the DATA frames of a stream that follow one another in one
    # receive (see coalesce_data): its payloads, copied once frames() is done with them.
    cdef public bint coalesce_data
    cdef DataReceived _pending
    cdef long long _pending_flow
    cdef Py_ssize_t _pending_size, _pending_count
    cdef const unsigned char* _seg_ptr[MAX_DATA_SEGMENTS]
    cdef Py_ssize_t _seg_len[MAX_DATA_SEGMENTS]

    def __cinit__(self):
        self.EVENT_KINDS = _EVENT_KINDS
        self.conn_state = C_IDLE
        self.streams = {}
        self.closed_streams = {}
        self.encoder = Encoder()
        self.decoder = Decoder(65536, _DECODED_HEADER_LIST_FACTOR)
        self.local_max_concurrent = 100
        self.local_initial_window = 65535
        self.local_enable_push = 1
        self.max_inbound_frame_size = DEFAULT_MAX_FRAME_SIZE
        self.local = {
            S_HEADER_TABLE_SIZE: 4096, S_ENABLE_PUSH: 1, S_INITIAL_WINDOW_SIZE: 65535,
            S_MAX_FRAME_SIZE: DEFAULT_MAX_FRAME_SIZE, S_ENABLE_CONNECT_PROTOCOL: 0,
            S_MAX_CONCURRENT_STREAMS: 100, S_MAX_HEADER_LIST_SIZE: 65536,
        }
        self.remote = {
            S_HEADER_TABLE_SIZE: 4096, S_ENABLE_PUSH: 0, S_INITIAL_WINDOW_SIZE: 65535,
            S_MAX_FRAME_SIZE: DEFAULT_MAX_FRAME_SIZE, S_ENABLE_CONNECT_PROTOCOL: 0,
        }
        self.outbound_window = 65535
        self.max_outbound_frame_size = DEFAULT_MAX_FRAME_SIZE
        self.inbound = _Window(65535)
        self.out = bytearray()
        self._rbuf = bytearray()
        self._rmv = memoryview(self._rbuf)
        self._rdata = PyByteArray_AS_STRING(self._rbuf)
        self.hb_data = bytearray()
        self.max_pending_acks = 1000
        self.continuation_limit = CONTINUATION_BACKLOG

    # ------------------------------------------------------------------ state machines

    cdef int conn_input(self, int input_) except -1:
        cdef int state = self.conn_state
        if not (_CONN_VALID[state] >> input_) & 1:
            self.conn_state = C_CLOSED
            raise _ProtocolError(
                f"Invalid input ConnectionInputs.{_CONN_INPUT_NAMES[input_]} in state "
                f"{_CONN_STATE_NAMES[state]}")
        if input_ == CI_SEND_GOAWAY or input_ == CI_RECV_GOAWAY:
            self.conn_state = C_CLOSED
        elif state == C_IDLE:
            if input_ == CI_SEND_HEADERS or input_ == CI_RECV_ALTERNATIVE_SERVICE:
                self.conn_state = C_CLIENT_OPEN
            elif input_ == CI_RECV_HEADERS or input_ == CI_SEND_ALTERNATIVE_SERVICE:
                self.conn_state = C_SERVER_OPEN
        return 0

    cdef int open_streams(self, int remainder) except -1:
        """Open streams of the parity ``remainder``; closed streams are forgotten (their
        closing cause kept), as h2's open_outbound_streams / open_inbound_streams."""
        cdef int count = 0
        cdef _Stream stream
        cdef list closed = []
        for stream in self.streams.values():
            if stream.is_open() and stream.stream_id % 2 == remainder:
                count += 1
            elif stream.state == ST_CLOSED:
                closed.append(stream)
        for stream in closed:
            del self.streams[stream.stream_id]
            self.remember_closed(stream.stream_id, stream.closed_by)
        return count

    cdef remember_closed(self, object stream_id, int closed_by):
        cdef dict closed_streams = <dict>self.closed_streams
        closed_streams[stream_id] = closed_by
        while len(closed_streams) > MAX_CLOSED_STREAMS:
            del closed_streams[next(iter(closed_streams))]

    cdef int closed_by(self, object stream_id):
        cdef _Stream stream = self.streams.get(stream_id)
        if stream is not None:
            return stream.closed_by
        return (<dict>self.closed_streams).get(stream_id, 0)

    cdef _Stream begin_stream(self, long long stream_id, int allowed_parity):
        cdef bint outbound = stream_id % 2 == 1
        cdef long long highest = self.highest_outbound_stream_id if outbound else self.highest_inbound_stream_id
        cdef _Stream stream
        if stream_id <= highest:
            raise _StreamIDTooLowError(stream_id, highest)
        if stream_id % 2 != allowed_parity:
            raise _ProtocolError("Invalid stream ID for peer.")
        stream = _Stream(stream_id, self.local_initial_window,
                         self.remote[S_INITIAL_WINDOW_SIZE])
        self.streams[stream_id] = stream
        if outbound:
            self.highest_outbound_stream_id = stream_id
        else:
            self.highest_inbound_stream_id = stream_id
        return stream

    cdef _Stream get_stream(self, object stream_id):
        cdef _Stream stream = self.streams.get(stream_id)
        cdef long long highest
        if stream is not None:
            return stream
        highest = self.highest_outbound_stream_id if stream_id % 2 == 1 else self.highest_inbound_stream_id
        if stream_id > highest:
            raise _NoSuchStreamError(stream_id)
        raise _closed_error(stream_id)

    cdef terminate(self, object error_code):
        cdef unsigned char frame[17]
        _put_header(frame, 8, T_GOAWAY, 0, 0)
        _put_u32(frame + 9, self.highest_inbound_stream_id)
        _put_u32(frame + 13, int(error_code))
        self.conn_state = C_CLOSED
        self.out += frame[:17]

    # ------------------------------------------------------------------ Framing: sending

    def start(self, *, long long max_concurrent_streams, long long max_header_list_size,
              long long window):
        """Queue the client preface with SETTINGS (no push, these limits, ``window`` as
        every stream's initial receive window) and a connection WINDOW_UPDATE of
        ``window`` (RFC 9113 §3.4, §6.5, §6.9). The limits apply at once."""
        cdef unsigned char frame[9 + 36 + 13]
        cdef unsigned char* p = frame + 9
        cdef int i
        cdef long long values[6]
        cdef int codes[6]
        codes[:] = [S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_INITIAL_WINDOW_SIZE,
                    S_MAX_FRAME_SIZE, S_MAX_CONCURRENT_STREAMS, S_MAX_HEADER_LIST_SIZE]
        values[:] = [4096, 0, window, DEFAULT_MAX_FRAME_SIZE, max_concurrent_streams,
                     max_header_list_size]
        if not 0 <= window <= LARGEST_WINDOW or max_concurrent_streams < 0 \
                or max_header_list_size < 0:
            raise ValueError("invalid local settings")
        self.local_max_concurrent = max_concurrent_streams
        self.local_initial_window = window
        self.local_enable_push = 0
        self.local = dict(zip([codes[i] for i in range(6)], [values[i] for i in range(6)]))
        self.decoder.max_header_list_size = max_header_list_size
        self.conn_input(CI_SEND_SETTINGS)
        _put_header(frame, 36, T_SETTINGS, 0, 0)
        for i in range(6):
            p[6 * i] = 0
            p[6 * i + 1] = codes[i]
            _put_u32(p + 6 * i + 2, values[i])
        self.out += _PREFACE
        self.out += frame[:45]
        # increment_flow_control_window(window)
        if not 1 <= window <= LARGEST_WINDOW:
            raise ValueError(f"Flow control increment must be between 1 and {LARGEST_WINDOW}")
        self.conn_input(CI_SEND_WINDOW_UPDATE)
        self.inbound.opened(window)
        _put_header(frame, 4, T_WINDOW_UPDATE, 0, 0)
        _put_u32(frame + 9, window)
        self.out += frame[:13]

    def send_headers(self, stream_id, headers, bint end_stream=False):
        """Open ``stream_id`` with HEADERS (and CONTINUATIONs past the peer's
        SETTINGS_MAX_FRAME_SIZE), END_STREAM if ``end_stream`` (RFC 9113 §6.2, §6.10)."""
        cdef _Stream stream
        cdef long long max_open, value
        cdef bytes block
        cdef Py_ssize_t size, start, chunk, frame_size
        cdef unsigned char header[9]
        cdef int flags
        if stream_id not in self.streams:
            max_open = self.remote.get(S_MAX_CONCURRENT_STREAMS, 2**32 + 1)
            value = self.open_streams(1)
            if value + 1 > max_open:
                raise _TooManyStreamsError(
                    f"Max outbound streams is {max_open}, {value} open")
        self.conn_input(CI_SEND_HEADERS)
        stream = self.streams.get(stream_id)
        if stream is None:
            stream = self.begin_stream(stream_id, 1)
        stream.process(SI_SEND_HEADERS)
        block = self.encoder.encode(headers)
        if end_stream:
            stream.process(SI_SEND_END_STREAM)
        if stream.trailers_sent and not end_stream:
            raise _ProtocolError("Trailers must have END_STREAM set.")
        stream.head_request = False
        for field in headers:
            if field[0] == b":method":
                stream.head_request = field[1] == b"HEAD"
                break
        size = PyBytes_GET_SIZE(block)
        frame_size = self.max_outbound_frame_size
        start = 0
        while True:
            chunk = min(frame_size, size - start)
            flags = 0
            if start == 0:
                kind = T_HEADERS
                if end_stream:
                    flags |= F_END_STREAM
            else:
                kind = T_CONTINUATION
            if start + chunk >= size:
                flags |= F_END_HEADERS
            _put_header(header, chunk, kind, flags, stream_id)
            self.out += header[:9]
            self.out += block[start:start + chunk]
            start += chunk
            if start >= size:
                break

    def send_data(self, stream_id, data):
        """Queue one DATA frame within the flow-control windows and the frame size
        (``h2.exceptions.FlowControlError``, ``FrameTooLargeError``)."""
        cdef Py_ssize_t size = len(data)
        cdef _Stream stream
        cdef unsigned char header[9]
        cdef long long window
        if size > 0:
            window = self.local_window(stream_id)
            if size > window:
                raise _FlowControlError(
                    f"Cannot send {size} bytes, flow control window is {window}")
        if size > self.max_outbound_frame_size:
            raise _FrameTooLargeError(
                f"Cannot send frame size {size}, max frame size is "
                f"{self.max_outbound_frame_size}")
        self.conn_input(CI_SEND_DATA)
        stream = self.streams[stream_id]
        stream.process(SI_SEND_DATA)
        stream.outbound_window -= size
        _put_header(header, size, T_DATA, 0, stream_id)
        self.out += header[:9]
        self.out += data
        self.outbound_window -= size

    def end_stream(self, stream_id):
        """Queue END_STREAM on an empty DATA frame (RFC 9113 §6.1)."""
        cdef unsigned char header[9]
        cdef _Stream stream
        self.conn_input(CI_SEND_DATA)
        stream = self.get_stream(stream_id)
        stream.process(SI_SEND_END_STREAM)
        _put_header(header, 0, T_DATA, F_END_STREAM, stream_id)
        self.out += header[:9]

    def reset_stream(self, stream_id, error_code=0):
        """Queue RST_STREAM (RFC 9113 §6.4); ``h2.exceptions.StreamClosedError`` if the
        stream is closed."""
        cdef unsigned char frame[13]
        cdef _Stream stream
        self.conn_input(CI_SEND_RST_STREAM)
        stream = self.get_stream(stream_id)
        stream.process(SI_SEND_RST_STREAM)
        _put_header(frame, 4, T_RST_STREAM, 0, stream_id)
        _put_u32(frame + 9, int(error_code))
        self.out += frame[:13]

    def acknowledge_received_data(self, long long acknowledged_size, stream_id):
        """Hand back the credit of ``acknowledged_size`` flow-controlled bytes of the
        stream and the connection, queueing WINDOW_UPDATE frames when due (§6.9)."""
        cdef long long increment, highest
        cdef unsigned char frame[13]
        cdef _Stream stream
        if stream_id <= 0:
            raise ValueError(
                f"Stream ID {stream_id} is not valid for acknowledge_received_data")
        if acknowledged_size < 0:
            raise ValueError("Cannot acknowledge negative data")
        increment = self.inbound.process(acknowledged_size)
        stream = self.streams.get(stream_id)
        if stream is None:  # closed (nothing to do), or NoSuchStreamError past the highest
            highest = (self.highest_outbound_stream_id if stream_id % 2 == 1
                       else self.highest_inbound_stream_id)
            if stream_id > highest:
                raise _NoSuchStreamError(stream_id)
        if increment:
            _put_header(frame, 4, T_WINDOW_UPDATE, 0, 0)
            _put_u32(frame + 9, increment)
            self.out += frame[:13]
        if stream is not None and stream.is_open():
            increment = stream.inbound.process(acknowledged_size)
            if increment:
                _put_header(frame, 4, T_WINDOW_UPDATE, 0, stream_id)
                _put_u32(frame + 9, increment)
                self.out += frame[:13]

    def get_next_available_stream_id(self):
        """The next client stream identifier (odd, RFC 9113 §5.1.1); raises
        ``h2.exceptions.NoAvailableStreamIDError`` once they are used up."""
        cdef long long next_id = self.highest_outbound_stream_id + 2 if self.highest_outbound_stream_id else 1
        if next_id > HIGHEST_STREAM_ID:
            raise _NoAvailableStreamIDError("Exhausted allowed stream IDs")
        return next_id

    cdef long long local_window(self, object stream_id) except? -1:
        cdef _Stream stream = self.get_stream(stream_id)
        return min(self.outbound_window, stream.outbound_window)

    def local_flow_control_window(self, stream_id):
        """Bytes of DATA that may be sent on the stream now (RFC 9113 §6.9)."""
        return self.local_window(stream_id)

    def concurrent_streams_limit(self):
        """min(the peer's, our) SETTINGS_MAX_CONCURRENT_STREAMS."""
        return min(self.remote.get(S_MAX_CONCURRENT_STREAMS, 2**32 + 1),
                   self.local_max_concurrent)

    def has_output(self):
        """True if frames are queued."""
        return PyByteArray_GET_SIZE(self.out) > 0

    def data_to_send(self):
        """Take every queued byte."""
        cdef bytes data
        self.pending_acks = 0
        if not PyByteArray_GET_SIZE(self.out):
            return b""
        data = bytes(self.out)
        self.out = bytearray()
        return data

    def resync_hpack(self):
        """Start the next header block with two dynamic table size updates (0, then the
        current size), unless one is pending (RFC 7541 §4.2, §6.3)."""
        cdef Py_ssize_t size = self.encoder.header_table_size
        if size and not self.encoder.size_update_pending:
            self.encoder.header_table_size = 0
            self.encoder.header_table_size = size

    @property
    def remote_settings(self):
        """The server's settings in effect (``max_concurrent_streams``... as h2's
        ``Settings`` names them; httpcore's suite reads them through ``_h2_state``)."""
        return SettingsView(self.remote)

    @property
    def local_settings(self):
        """Our settings, in effect since :meth:`start`."""
        return SettingsView(self.local)

    @property
    def inbound_flow_control_window(self):
        """The connection's receive window, bytes."""
        return self.inbound.current

    @property
    def outbound_flow_control_window(self):
        """The connection's send window, bytes."""
        return self.outbound_window

    # ------------------------------------------------------------------ Framing: receiving

    def receive_data(self, data):
        """Feed bytes read from the peer; returns the events they complete, in order.
        A protocol error queues GOAWAY and raises an ``h2.exceptions.ProtocolError``."""
        cdef list events = []
        cdef Py_ssize_t used, size
        cdef const unsigned char* p
        if type(data) is not bytes:
            data = bytes(data)
        size = PyBytes_GET_SIZE(data)
        p = <const unsigned char*>PyBytes_AS_STRING(data)
        self._view_size = 0
        try:
            if self._rend == self._rstart:
                used = self.frames(p, size, events)
                if used < size:  # the start of a frame: kept
                    self._reserve(size - used)
                    memcpy(self._rdata + self._rend, p + used, size - used)
                    self._rend += size - used
            else:
                self._reserve(size)
                memcpy(self._rdata + self._rend, p, size)
                self._rend += size
                self._parse(events)
        except _ProtocolError as exc:
            self.terminate(exc.error_code)
            raise
        return events

    def get_buffer(self, Py_ssize_t size):
        """A writable memoryview of ``size`` (at least 1) free bytes to receive into,
        then :meth:`buffer_updated`: the peer's bytes are framed where they were
        received (no copy of them, unlike :meth:`receive_data`). The view is valid
        until the next call of either method."""
        if size < 1:
            size = 1
        self._reserve(size)
        self._view_size = size
        return self._rmv[self._rend : self._rend + size]

    def buffer_updated(self, Py_ssize_t nbytes):
        """``nbytes`` (1 to the size asked of :meth:`get_buffer`) were written at the
        start of the last view: returns the events they complete, as
        :meth:`receive_data`. Raises ``ValueError`` for a count outside the view."""
        cdef list events = []
        if not 0 < nbytes <= self._view_size:
            raise ValueError(
                f"buffer_updated({nbytes}): not within the last get_buffer() view "
                f"({self._view_size} bytes)")
        self._view_size = 0
        self._rend += nbytes
        try:
            self._parse(events)
        except _ProtocolError as exc:
            self.terminate(exc.error_code)
            raise
        return events

    cdef int _parse(self, list events) except -1:
        """Frame the buffered bytes; those of an incomplete frame stay."""
        cdef Py_ssize_t used = self.frames(
            <const unsigned char*>self._rdata + self._rstart, self._rend - self._rstart,
            events)
        self._rstart += used
        if self._rstart == self._rend:
            self._rstart = self._rend = 0
        return 0

    cdef int _reserve(self, Py_ssize_t size) except -1:
        """Room for ``size`` more bytes after ``_rend``: the unframed bytes move to the
        front, or to a new bytearray (a view handed out before keeps the old one), a
        smaller one once the buffer is over 4 times what is asked (reads shrank)."""
        cdef Py_ssize_t start = self._rstart
        cdef Py_ssize_t used = self._rend - start
        cdef Py_ssize_t capacity
        cdef bytearray new
        if size > PY_SSIZE_T_MAX // 4 - used:
            raise MemoryError("receive buffer size overflows Py_ssize_t")
        if self._rcap > 4 * max(used + size, 16384):
            # reads have shrunk again (a large body is over): give the memory back
            capacity = used + size
        elif self._rcap - self._rend >= size:
            return 0
        elif start >= used and used + size <= self._rcap:
            memcpy(self._rdata, self._rdata + start, used)  # the two do not overlap
            self._rstart = 0
            self._rend = used
            return 0
        else:
            capacity = max(2 * self._rcap, used + size, 16384)
        new = PyByteArray_FromStringAndSize(NULL, capacity)
        memcpy(PyByteArray_AS_STRING(new), self._rdata + start, used)
        self._rbuf = new
        self._rmv = memoryview(new)
        self._rdata = PyByteArray_AS_STRING(new)
        self._rcap = capacity
        self._rstart = 0
        self._rend = used
        return 0

    cdef Py_ssize_t frames(self, const unsigned char* p, Py_ssize_t n, list events) except -1:
        """Handle every whole frame in ``p[:n]``; returns the bytes used."""
        cdef Py_ssize_t pos = 0, length
        cdef int kind, flags
        cdef unsigned int stream_id
        self._pending = None  # (a receive that raised may have left one)
        while n - pos >= 9:
            length = (<Py_ssize_t>p[pos] << 16) | (<Py_ssize_t>p[pos + 1] << 8) | p[pos + 2]
            kind = p[pos + 3]
            flags = p[pos + 4]
            stream_id = _u32(p + pos + 5) & 0x7FFFFFFF
            if stream_id == 0 and (kind == T_DATA or kind == T_HEADERS or kind == T_PRIORITY
                                   or kind == T_RST_STREAM or kind == T_PUSH_PROMISE
                                   or kind == T_CONTINUATION):
                raise _ProtocolError(
                    f"Received frame with invalid header: Stream ID must be non-zero for "
                    f"{_FRAME_NAMES[kind]}")
            if stream_id != 0 and (kind == T_SETTINGS or kind == T_PING or kind == T_GOAWAY):
                raise _ProtocolError(
                    f"Received frame with invalid header: Stream ID must be zero for "
                    f"{_FRAME_NAMES[kind]} with stream_id={stream_id}")
            # Deliberately at once, not once the whole frame is buffered (as h2 does):
            # an oversized frame never makes us hold up to 16 MiB first.
            if length > self.max_inbound_frame_size:
                raise _FrameTooLargeError(
                    f"Received overlong frame: length {length}, max "
                    f"{self.max_inbound_frame_size}")
            if n - pos - 9 < length:
                break
            self.frame(kind, flags, stream_id, p + pos + 9, length, events)
            pos += 9 + length
        if self._pending is not None:
            self.take_pending()
        return pos

    cdef int take_pending(self) except -1:
        """Give the pending DataReceived its data: its payloads, joined (one copy)."""
        cdef DataReceived event = self._pending
        cdef bytes data = PyBytes_FromStringAndSize(NULL, self._pending_size)
        cdef char* out = PyBytes_AS_STRING(data)
        cdef Py_ssize_t i
        for i in range(self._pending_count):
            memcpy(out, self._seg_ptr[i], self._seg_len[i])
            out += self._seg_len[i]
        event.data = data
        event.flow_controlled_length = self._pending_flow
        self._pending = None
        return 0

    cdef int frame(self, int kind, int flags, unsigned int stream_id,
                   const unsigned char* p, Py_ssize_t length, list events) except -1:
        """Parse one frame's payload (hyperframe's checks, in its order), assemble header
        blocks, then handle it."""
        cdef Py_ssize_t start = 0, end = 0, pad = 0
        cdef unsigned int depends_on = 0, promised = 0
        cdef bint padded
        if kind == T_DATA or kind == T_HEADERS or kind == T_PUSH_PROMISE:
            padded = flags & F_PADDED
            if padded:
                if length < 1:
                    raise _FrameDataMissingError("Frame data missing or invalid")
                pad = p[0]
                start = 1
            if kind == T_HEADERS and flags & F_PRIORITY:
                if length - start < 5:
                    raise _FrameDataMissingError("Frame data missing or invalid")
                depends_on = _u32(p + start)
                start += 5
            if kind == T_PUSH_PROMISE:
                if length - start < 4:
                    raise _FrameDataMissingError("Frame data missing or invalid")
                promised = _u32(p + start)
                start += 4
                if promised == 0 or promised % 2 != 0:
                    raise _ProtocolError("Received frame with non-compliant data")
            # the body length hyperframe compares the padding with
            if kind == T_HEADERS:
                body_length = length - (1 if padded else 0)
            else:
                body_length = length
            if pad and pad >= body_length:
                raise _ProtocolError("Received frame with invalid padding.")
            end = length - pad
            if end < start:
                end = start
        elif kind == T_PRIORITY or kind == T_RST_STREAM or kind == T_PING:
            if length != (5 if kind == T_PRIORITY else 4 if kind == T_RST_STREAM else 8):
                raise _FrameDataMissingError("Frame data missing or invalid")
        elif kind == T_SETTINGS:
            if flags & F_ACK and length > 0:
                raise _ProtocolError("Received frame with non-compliant data")
            if length % 6:
                raise _FrameDataMissingError("Frame data missing or invalid")
        elif kind == T_GOAWAY:
            if length < 8:
                raise _FrameDataMissingError("Frame data missing or invalid")
        elif kind == T_WINDOW_UPDATE:
            if length != 4:
                raise _FrameDataMissingError("Frame data missing or invalid")
            if not 1 <= _u32(p) <= LARGEST_WINDOW:
                raise _ProtocolError("Received frame with non-compliant data")
        elif kind == T_ALTSVC:
            if length < 2 or 2 + ((p[0] << 8) | p[1]) > length:
                raise _FrameDataMissingError("Frame data missing or invalid")
        # header block assembly (h2's FrameBuffer)
        if self.hb_count:
            if kind != T_CONTINUATION or stream_id != self.hb_stream_id:
                raise _ProtocolError("Invalid frame during header block.")
            self.hb_count += 1
            if self.hb_count > self.continuation_limit:
                raise _ProtocolError("Too many continuation frames received.")
            self.hb_data += p[:length]
            if not flags & F_END_HEADERS:
                return 0
            block = bytes(self.hb_data)
            self.hb_data = bytearray()
            self.hb_count = 0
            if self.hb_kind == T_HEADERS:
                return self.on_headers(self.hb_stream_id, self.hb_flags | F_END_HEADERS,
                                       self.hb_depends_on, block, events)
            return self.on_push_promise()
        if kind == T_HEADERS or kind == T_PUSH_PROMISE:
            if not flags & F_END_HEADERS:
                self.hb_count = 1
                self.hb_kind = kind
                self.hb_flags = flags
                self.hb_stream_id = stream_id
                self.hb_depends_on = depends_on
                self.hb_promised = promised
                self.hb_data = bytearray(p[start:end])
                return 0
            if kind == T_PUSH_PROMISE:
                return self.on_push_promise()
            return self.on_headers(stream_id, flags, depends_on,
                                   PyBytes_FromStringAndSize(<const char*>p + start, end - start),
                                   events)
        if kind == T_DATA:
            return self.on_data(stream_id, flags, p + start, end - start, length, events)
        if kind == T_SETTINGS:
            return self.on_settings(flags, p, length, events)
        if kind == T_WINDOW_UPDATE:
            return self.on_window_update(stream_id, _u32(p), events)
        if kind == T_PING:
            return self.on_ping(flags, p)
        if kind == T_RST_STREAM:
            return self.on_rst_stream(stream_id, _u32(p), events)
        if kind == T_PRIORITY:
            return self.on_priority(stream_id, _u32(p))
        if kind == T_GOAWAY:
            return self.on_goaway(p, length, events)
        if kind == T_CONTINUATION:
            return self.on_naked_continuation(stream_id)
        if kind == T_ALTSVC:
            return self.on_altsvc(stream_id, p, length)
        return 0  # an unknown type is ignored (RFC 9113 §5.5)

    cdef int answered(self) except -1:
        """One more frame queued in answer to the peer's (a PING or SETTINGS ack, an
        RST_STREAM for a frame on a closed stream); past ``max_pending_acks`` not taken
        by ``data_to_send()``, the peer is flooding us (h2 has no such bound)."""
        self.pending_acks += 1
        if self.pending_acks > self.max_pending_acks:
            raise _DenialOfServiceError(
                f"More than max_pending_acks ({self.max_pending_acks}) frames to send in "
                f"answer to the peer's (PING, SETTINGS, frames on closed streams): a flood")
        return 0

    cdef int stream_closed(self, object error, list events) except -1:
        """h2's handling of StreamClosedError around a frame: a stream we or the peer
        reset gets RST_STREAM (a stream error), any other is a connection error."""
        cdef int closed_by = self.closed_by(error.stream_id)
        cdef unsigned char frame[13]
        if closed_by == BY_SEND_RST_STREAM or closed_by == BY_RECV_RST_STREAM:
            self.answered()
            _put_header(frame, 4, T_RST_STREAM, 0, error.stream_id)
            _put_u32(frame + 9, int(error.error_code))
            self.out += frame[:13]
            events.extend(error._events)
            return 0
        raise error

    cdef int on_headers(self, unsigned int stream_id, int flags, unsigned int depends_on,
                        bytes block, list events) except -1:
        cdef long long value
        cdef list headers
        cdef _Stream stream
        cdef int action, input_
        cdef bint end_stream = flags & F_END_STREAM
        sid = stream_id
        if sid not in self.streams:
            value = self.open_streams(0)
            if value + 1 > self.local_max_concurrent:
                raise _TooManyStreamsError(
                    f"Max inbound streams is {self.local_max_concurrent}, {value} open")
        try:
            headers = self.decoder.decode(block)
        except OversizedHeaderListError as exc:
            raise _DenialOfServiceError(f"Oversized header block: {exc}") from exc
        except (HPACKError, IndexError, TypeError, UnicodeDecodeError) as exc:
            raise _ProtocolError(f"Error decoding header block: {exc}") from exc
        try:
            self.conn_input(CI_RECV_HEADERS)
            stream = self.streams.get(sid)
            if stream is None:
                stream = self.begin_stream(stream_id, 0)
            if _is_informational(headers):
                if end_stream:
                    raise _ProtocolError("Cannot set END_STREAM on informational responses")
                input_ = SI_RECV_INFORMATIONAL_HEADERS
            else:
                input_ = SI_RECV_HEADERS
            action = stream.process(input_)
            if end_stream:
                stream.process(SI_RECV_END_STREAM)
            stream.init_content_length(headers)
            if action == A_TRAILERS and not end_stream:
                raise _ProtocolError("Trailers must have END_STREAM set")
            if action != A_REQUEST:
                events.append(_headers_event(action, sid, headers))
            if end_stream:
                events.append(_ended(sid))
            if flags & F_PRIORITY:
                self.conn_input(CI_RECV_PRIORITY)
                if depends_on & 0x7FFFFFFF == stream_id:
                    raise _ProtocolError(f"Stream {stream_id} may not depend on itself")
        except _StreamClosedError as error:
            return self.stream_closed(error, events)
        except _StreamIDTooLowError as error:
            return self.stream_id_too_low(error)
        return 0

    cdef int stream_id_too_low(self, object error) except -1:
        cdef int closed_by = self.closed_by(error.stream_id)
        cdef unsigned char frame[13]
        if closed_by == BY_SEND_RST_STREAM or closed_by == BY_RECV_RST_STREAM:
            self.answered()
            _put_header(frame, 4, T_RST_STREAM, 0, error.stream_id)
            _put_u32(frame + 9, E_STREAM_CLOSED)
            self.out += frame[:13]
            return 0
        if closed_by == BY_SEND_END_STREAM or closed_by == BY_RECV_END_STREAM:
            raise _StreamClosedError(error.stream_id) from error
        raise error

    cdef int on_push_promise(self) except -1:
        # We advertise SETTINGS_ENABLE_PUSH 0 (RFC 9113 §6.5.2, §8.4).
        raise _ProtocolError("Received pushed stream")

    cdef int on_data(self, unsigned int stream_id, int flags, const unsigned char* data,
                     Py_ssize_t size, Py_ssize_t flow, list events) except -1:
        cdef _Stream stream
        cdef int action
        cdef bint end_stream = flags & F_END_STREAM
        cdef DataReceived event
        cdef long long increment
        cdef unsigned char frame[26]
        cdef Py_ssize_t used = 0
        sid = stream_id
        self.conn_input(CI_RECV_DATA)
        self.inbound.consumed(flow)
        try:
            stream = self.get_stream(sid)
            action = stream.process(SI_RECV_DATA)
            stream.inbound.consumed(flow)
            stream.track_content_length(size, end_stream)
            if end_stream:
                stream.process(SI_RECV_END_STREAM)
            if self.coalesce_data:
                event = self._pending
                if (event is None or event.stream_id != sid
                        or <object>PyList_GET_ITEM(events, PyList_GET_SIZE(events) - 1)
                        is not event or self._pending_count == MAX_DATA_SEGMENTS):
                    # not after a DATA frame of this stream (its StreamEnded, or
                    # another event, would be last): a new event
                    if event is not None:
                        self.take_pending()
                    event = DataReceived.__new__(DataReceived)
                    event.stream_id = sid
                    events.append(event)
                    self._pending = event
                    self._pending_flow = self._pending_size = self._pending_count = 0
                self._seg_ptr[self._pending_count] = data
                self._seg_len[self._pending_count] = size
                self._pending_count += 1
                self._pending_size += size
                self._pending_flow += flow
            else:
                event = DataReceived.__new__(DataReceived)
                event.stream_id = sid
                event.data = PyBytes_FromStringAndSize(<const char*>data, size)
                event.flow_controlled_length = flow
                events.append(event)
            if end_stream:
                events.append(_ended(sid))
        except _StreamClosedError as error:
            # DATA on a closed stream still counts against the connection's window.
            self.answered()
            increment = self.inbound.process(flow)
            if increment:
                _put_header(frame, 4, T_WINDOW_UPDATE, 0, 0)
                _put_u32(frame + 9, increment)
                used = 13
            _put_header(frame + used, 4, T_RST_STREAM, 0, error.stream_id)
            _put_u32(frame + used + 9, int(error.error_code))
            self.out += frame[:used + 13]
            events.extend(error._events)
        return 0

    cdef int on_settings(self, int flags, const unsigned char* p, Py_ssize_t length,
                         list events) except -1:
        cdef dict received = {}
        cdef Py_ssize_t i
        cdef unsigned char frame[9]
        cdef long long old_window, delta
        cdef _Stream stream
        self.conn_input(CI_RECV_SETTINGS)
        if flags & F_ACK:
            return 0  # our settings took effect at once: nothing changes
        for i in range(0, length, 6):
            received[(p[i] << 8) | p[i + 1]] = _u32(p + i + 2)
        for code, value in received.items():
            invalid = _validate_setting(code, value, True)
            if invalid:
                raise _InvalidSettingsValueError(
                    f"Setting {_setting_code(code)} has invalid value {value}",
                    error_code=invalid)
        event = _RemoteSettingsChanged()
        remote = self.remote
        for code, value in received.items():
            setting = _setting_code(code)
            event.changed_settings[setting] = _ChangedSetting(setting, remote.get(code), value)
        events.append(event)
        # acknowledge: the changes apply now (h2's _acknowledge_settings)
        self.conn_input(CI_SEND_SETTINGS)
        changes = {code: (remote.get(code), value) for code, value in received.items()}
        remote.update(received)
        if S_INITIAL_WINDOW_SIZE in changes:
            old, new = changes[S_INITIAL_WINDOW_SIZE]
            delta = new - (old or 0)
            for stream in self.streams.values():
                if stream.outbound_window + delta > LARGEST_WINDOW:
                    raise _FlowControlError(
                        f"May not increment flow control window past {LARGEST_WINDOW}")
                stream.outbound_window += delta
        if S_HEADER_TABLE_SIZE in changes:
            self.encoder.header_table_size = changes[S_HEADER_TABLE_SIZE][1]
        if S_MAX_FRAME_SIZE in changes:
            self.max_outbound_frame_size = changes[S_MAX_FRAME_SIZE][1]
        self.answered()
        _put_header(frame, 0, T_SETTINGS, F_ACK, 0)
        self.out += frame[:9]
        return 0

    cdef int on_window_update(self, unsigned int stream_id, unsigned int increment,
                              list events) except -1:
        cdef _Stream stream
        cdef int action
        cdef unsigned char frame[13]
        self.conn_input(CI_RECV_WINDOW_UPDATE)
        if stream_id:
            try:
                stream = self.get_stream(stream_id)
            except _StreamClosedError:
                return 0
            action = stream.process(SI_RECV_WINDOW_UPDATE)
            if action == A_WINDOW:
                if stream.outbound_window + increment > LARGEST_WINDOW:
                    # a stream error (RFC 9113 §6.9.1): reset it
                    events.append(_stream_reset(stream_id, _ErrorCodes.FLOW_CONTROL_ERROR,
                                                False))
                    stream.process(SI_SEND_RST_STREAM)
                    _put_header(frame, 4, T_RST_STREAM, 0, stream_id)
                    _put_u32(frame + 9, E_FLOW_CONTROL_ERROR)
                    self.out += frame[:13]
                else:
                    stream.outbound_window += increment
        else:
            if self.outbound_window + increment > LARGEST_WINDOW:
                raise _FlowControlError(
                    f"May not increment flow control window past {LARGEST_WINDOW}")
            self.outbound_window += increment
        return 0

    cdef int on_ping(self, int flags, const unsigned char* p) except -1:
        cdef unsigned char frame[17]
        self.conn_input(CI_RECV_PING)
        if flags & F_ACK:
            return 0
        self.answered()
        _put_header(frame, 8, T_PING, F_ACK, 0)
        memcpy(frame + 9, p, 8)
        self.out += frame[:17]
        return 0

    cdef int on_rst_stream(self, unsigned int stream_id, unsigned int code,
                           list events) except -1:
        cdef _Stream stream
        self.conn_input(CI_RECV_RST_STREAM)
        try:
            stream = self.get_stream(stream_id)
        except _NoSuchStreamError:
            return 0
        if stream.process(SI_RECV_RST_STREAM) == A_RESET:
            events.append(_stream_reset(stream_id, _error_code(code), True))
        return 0

    cdef int on_priority(self, unsigned int stream_id, unsigned int depends_on) except -1:
        self.conn_input(CI_RECV_PRIORITY)
        if depends_on & 0x7FFFFFFF == stream_id:
            raise _ProtocolError(f"Stream {stream_id} may not depend on itself")
        return 0

    cdef int on_goaway(self, const unsigned char* p, Py_ssize_t length,
                       list events) except -1:
        # As H2GoawayFraming: the event only; the streams up to last_stream_id may still
        # finish (RFC 9113 §6.8), so the connection stays readable.
        event = _ConnectionTerminated()
        event.error_code = _error_code(_u32(p + 4))
        event.last_stream_id = _u32(p)
        event.additional_data = PyBytes_FromStringAndSize(<const char*>p + 8, length - 8) \
            if length > 8 else None
        events.append(event)
        return 0

    cdef int on_naked_continuation(self, unsigned int stream_id) except -1:
        cdef _Stream stream
        cdef list events = []
        try:
            stream = self.get_stream(stream_id)
            stream.process(SI_RECV_CONTINUATION)  # always invalid
        except _StreamClosedError as error:
            return self.stream_closed(error, events)
        return 0

    cdef int on_altsvc(self, unsigned int stream_id, const unsigned char* p,
                       Py_ssize_t length) except -1:
        cdef _Stream stream
        cdef Py_ssize_t origin_length = (p[0] << 8) | p[1]
        self.conn_input(CI_RECV_ALTERNATIVE_SERVICE)
        if stream_id:
            stream = self.streams.get(stream_id)
            if stream is None:
                return 0
            if origin_length == 0:
                stream.process(SI_RECV_ALTERNATIVE_SERVICE)
        return 0


class SettingsView:
    """Read-only settings by h2's names (RFC 9113 §6.5.2), over ``{code: value}``."""

    __slots__ = ("_values",)

    def __init__(self, values):
        self._values = values

    def __getitem__(self, code):
        return self._values[code]

    def get(self, code, default=None):
        return self._values.get(code, default)

    def items(self):
        return self._values.items()

    header_table_size = property(lambda self: self._values[S_HEADER_TABLE_SIZE])
    enable_push = property(lambda self: self._values[S_ENABLE_PUSH])
    initial_window_size = property(lambda self: self._values[S_INITIAL_WINDOW_SIZE])
    max_frame_size = property(lambda self: self._values[S_MAX_FRAME_SIZE])
    max_concurrent_streams = property(
        lambda self: self._values.get(S_MAX_CONCURRENT_STREAMS, 2**32 + 1))
    max_header_list_size = property(lambda self: self._values.get(S_MAX_HEADER_LIST_SIZE))
    enable_connect_protocol = property(
        lambda self: self._values[S_ENABLE_CONNECT_PROTOCOL])


_FRAME_NAMES = {
    T_DATA: "DataFrame", T_HEADERS: "HeadersFrame", T_PRIORITY: "PriorityFrame",
    T_RST_STREAM: "RstStreamFrame", T_SETTINGS: "SettingsFrame",
    T_PUSH_PROMISE: "PushPromiseFrame", T_PING: "PingFrame", T_GOAWAY: "GoAwayFrame",
    T_CONTINUATION: "ContinuationFrame",
}


cdef object _validate_setting(object code, object value, bint from_server):
    """The error code for a received setting out of range (RFC 9113 §6.5.2), else 0."""
    if code == S_ENABLE_PUSH:
        if value not in (0, 1) or (from_server and value != 0):
            return _ErrorCodes.PROTOCOL_ERROR
    elif code == S_INITIAL_WINDOW_SIZE:
        if not 0 <= value <= LARGEST_WINDOW:
            return _ErrorCodes.FLOW_CONTROL_ERROR
    elif code == S_MAX_FRAME_SIZE:
        if not 16384 <= value <= 16777215:
            return _ErrorCodes.PROTOCOL_ERROR
    elif code == S_ENABLE_CONNECT_PROTOCOL and value not in (0, 1):
        return _ErrorCodes.PROTOCOL_ERROR
    return _ErrorCodes.NO_ERROR


cdef object _setting_code(object code):
    try:
        return _SettingCodes(code)
    except ValueError:
        return code


_EVENT_KINDS = {
    ResponseReceived: 1,
    InformationalResponseReceived: 2,
    DataReceived: 3,
    StreamEnded: 4,
    _StreamResetEvent: 5,
    TrailersReceived: 6,
    _RemoteSettingsChanged: 7,
    _ConnectionTerminated: 8,
}

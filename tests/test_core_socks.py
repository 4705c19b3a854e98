"""The SOCKS handshakes of ``httpcore_fast/_core/socks.py`` as sans-I/O machines (every
reply code, malformed replies, byte-by-byte reads, bytes past the reply) and the thin I/O
driver of ``socks_proxy.py`` over in-memory streams: no sockets.

Wire formats: RFC 1928 (SOCKS5), RFC 1929 (username/password), the SOCKS4 and SOCKS4a
protocol documents. Request bytes are checked against literal bytes and, for SOCKS5,
against socksio's own connection object.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import typing
from pathlib import Path

import pytest
import socksio

import httpcore_fast
from httpcore_fast._async import socks_proxy as async_socks
from httpcore_fast._core.socks import (
    SOCKS4_REPLY_CODES,
    SOCKS5_REPLY_CODES,
    Done,
    NeedBytes,
    Refused,
    SOCKS4Handshake,
    SOCKS5Handshake,
    resolves_at_proxy,
)
from httpcore_fast._sync import socks_proxy as sync_socks
from tests.async_servers import anyio_backend  # noqa: F401 - asyncio and trio

Handshake = typing.Union[SOCKS4Handshake, SOCKS5Handshake]
CLOSED = "The proxy closed the connection during the SOCKS handshake."
ORIGIN_BYTES = b"HTTP/1.1 200 OK\r\n"

# SOCKS5 replies (RFC 1928 §6): VER REP RSV ATYP BND.ADDR BND.PORT.
REPLY_IPV4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"
REPLY_IPV6 = b"\x05\x00\x00\x04" + bytes(15) + b"\x01" + b"\x04\x38"
REPLY_NAME = b"\x05\x00\x00\x03\x09proxy.lan\x04\x38"
SOCKS4_GRANTED = b"\x00\x5a\x00\x00\x00\x00\x00\x00"


def drive(handshake: Handshake, replies: bytes, chunk: int | None = None) -> tuple[bytes, Done | Refused]:
    """Run ``handshake`` against the proxy byte stream ``replies``, handing it what it asks
    for (at most ``chunk`` bytes at a time if given). Returns everything it sent and its
    last event. Every NeedBytes asks for at least one byte, never more than the stream
    needs: asked sizes add up to the reply bytes consumed."""
    sent = b""
    event = handshake.start()
    position = 0
    for _ in range(10_000):
        if isinstance(event, Refused):
            return sent, event
        sent += event.send
        if isinstance(event, Done):
            return sent, event
        assert event.size > 0
        size = event.size if chunk is None else min(chunk, event.size)
        data = replies[position : position + size]
        position += len(data)
        event = handshake.receive_data(data)
    raise AssertionError("the handshake never ended")  # pragma: no cover


def socks5_request(host: str, port: int) -> bytes:
    command = socksio.socks5.SOCKS5CommandRequest.from_address(
        socksio.socks5.SOCKS5Command.CONNECT, (host, port)
    )
    return command.dumps()


# --- SOCKS5 ------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [REPLY_IPV4, REPLY_IPV6, REPLY_NAME], ids=["ipv4", "ipv6", "name"])
@pytest.mark.parametrize("chunk", [None, 1], ids=["whole", "bytewise"])
def test_socks5_without_auth(reply: bytes, chunk: int | None) -> None:
    sent, event = drive(SOCKS5Handshake("example.com", 443), b"\x05\x00" + reply, chunk)
    assert event == Done(leftover=b"", send=b"")
    # Method selection (§3), then CONNECT with the name as a DOMAINNAME (§4, §5).
    assert sent == b"\x05\x01\x00" + b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"
    assert sent[3:] == socks5_request("example.com", 443)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("10.1.2.3", b"\x01\x0a\x01\x02\x03"),
        ("::1", b"\x04" + bytes(15) + b"\x01"),
    ],
)
def test_socks5_sends_address_literals_as_addresses(host: str, address: bytes) -> None:
    sent, event = drive(SOCKS5Handshake(host, 80), b"\x05\x00" + REPLY_IPV4)
    assert isinstance(event, Done)
    assert sent == b"\x05\x01\x00" + b"\x05\x01\x00" + address + b"\x00\x50"


def test_socks5_every_step_asks_for_exactly_what_its_reply_lacks() -> None:
    handshake = SOCKS5Handshake("example.com", 443, auth=(b"user", b"pass"))
    assert handshake.start() == NeedBytes(2, b"\x05\x01\x02")
    assert handshake.receive_data(b"\x05") == NeedBytes(1)
    assert handshake.receive_data(b"\x02") == NeedBytes(2, b"\x01\x04user\x04pass")
    assert handshake.receive_data(b"\x01\x00") == NeedBytes(4, socks5_request("example.com", 443))
    assert handshake.receive_data(b"\x05\x00\x00\x03") == NeedBytes(1)
    assert handshake.receive_data(b"\x09") == NeedBytes(11)
    assert handshake.receive_data(b"proxy.lan\x04") == NeedBytes(1)
    assert handshake.receive_data(b"\x38") == Done()


@pytest.mark.parametrize("chunk", [None, 1], ids=["whole", "bytewise"])
def test_socks5_with_auth(chunk: int | None) -> None:
    sent, event = drive(
        SOCKS5Handshake("example.com", 443, auth=(b"user", b"pass")),
        b"\x05\x02" + b"\x01\x00" + REPLY_IPV4,
        chunk,
    )
    assert isinstance(event, Done)
    assert sent == (
        b"\x05\x01\x02" + b"\x01\x04user\x04pass" + socks5_request("example.com", 443)
    )


def test_socks5_sends_what_socksio_sends() -> None:
    """The same bytes as socksio's own connection object, step by step."""
    reference = socksio.socks5.SOCKS5Connection()
    s5 = socksio.socks5
    reference.send(s5.SOCKS5AuthMethodsRequest([s5.SOCKS5AuthMethod.USERNAME_PASSWORD]))
    expected = reference.data_to_send()
    reference.receive_data(b"\x05\x02")
    reference.send(s5.SOCKS5UsernamePasswordRequest(b"u", b"p"))
    expected += reference.data_to_send()
    reference.receive_data(b"\x01\x00")
    reference.send(s5.SOCKS5CommandRequest.from_address(s5.SOCKS5Command.CONNECT, ("h.test", 8080)))
    expected += reference.data_to_send()
    sent, _ = drive(SOCKS5Handshake("h.test", 8080, (b"u", b"p")), b"\x05\x02\x01\x00" + REPLY_IPV4)
    assert sent == expected


@pytest.mark.parametrize(
    ("auth", "method", "reason"),
    [
        (None, 0xFF, "Requested NO AUTHENTICATION REQUIRED from proxy server, but got NO ACCEPTABLE METHODS."),
        (None, 0x02, "Requested NO AUTHENTICATION REQUIRED from proxy server, but got USERNAME/PASSWORD."),
        (None, 0x01, "Requested NO AUTHENTICATION REQUIRED from proxy server, but got GSSAPI."),
        (None, 0x80, "Requested NO AUTHENTICATION REQUIRED from proxy server, but got UNKNOWN (0x80)."),
        ((b"u", b"p"), 0x00, "Requested USERNAME/PASSWORD from proxy server, but got NO AUTHENTICATION REQUIRED."),
        ((b"u", b"p"), 0xFF, "Requested USERNAME/PASSWORD from proxy server, but got NO ACCEPTABLE METHODS."),
    ],
)
def test_socks5_method_refused(auth: tuple[bytes, bytes] | None, method: int, reason: str) -> None:
    sent, event = drive(SOCKS5Handshake("h", 80, auth), bytes([5, method]) + REPLY_IPV4)
    assert event == Refused(reason)
    assert len(sent) == 3  # nothing after the method selection


@pytest.mark.parametrize("status", [b"\x01\x01", b"\x01\xff", b"\x05\x00", b"\x00\x00"])
def test_socks5_credentials_refused(status: bytes) -> None:
    """RFC 1929 §2: only a version 1 reply with STATUS 0 is success."""
    _, event = drive(SOCKS5Handshake("h", 80, (b"u", b"p")), b"\x05\x02" + status + REPLY_IPV4)
    assert event == Refused("Invalid username/password")


@pytest.mark.parametrize("code", range(1, 10))
def test_socks5_every_reply_code(code: int) -> None:
    reply = b"\x05" + bytes([code]) + REPLY_IPV4[2:]
    _, event = drive(SOCKS5Handshake("h", 80), b"\x05\x00" + reply)
    reason = SOCKS5_REPLY_CODES.get(code, f"unknown reply code {code:#04x}")
    assert event == Refused(f"Proxy Server could not connect: {reason}.")
    assert (code in SOCKS5_REPLY_CODES) == (code <= 8)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (b"\x04\x00\x00\x01" + bytes(6), "Malformed SOCKS5 reply from the proxy."),  # VER
        (b"\x05\x00\x00\x02" + bytes(6), "Malformed SOCKS5 reply from the proxy."),  # ATYP
        (b"\x05\x00\x00\x00" + bytes(6), "Malformed SOCKS5 reply from the proxy."),
        (b"\x05\x00\x00\x03\x02\xff\xfe\x00\x50", "SOCKS5 protocol error: Malformed reply"),
    ],
    ids=["version", "atype-2", "atype-0", "name-not-utf8"],
)
def test_socks5_malformed_replies(reply: bytes, reason: str) -> None:
    _, event = drive(SOCKS5Handshake("h", 80), b"\x05\x00" + reply)
    assert event == Refused(reason)


@pytest.mark.parametrize("auth", [None, (b"u", b"p")])
def test_socks5_proxy_closing_at_every_byte(auth: tuple[bytes, bytes] | None) -> None:
    replies = (b"\x05\x02\x01\x00" if auth else b"\x05\x00") + REPLY_NAME
    for cut in range(len(replies)):
        _, event = drive(SOCKS5Handshake("h", 80, auth), replies[:cut], chunk=1)
        assert event == Refused(CLOSED), cut


@pytest.mark.parametrize("chunk", [None, 1, 3], ids=["whole", "bytewise", "threes"])
def test_socks5_bytes_past_the_reply_are_left_over(chunk: int | None) -> None:
    """A reader that reads what it is told never takes the origin's bytes; a stream that
    returns more than asked hands them over as ``leftover``."""
    handshake = SOCKS5Handshake("h", 80)
    assert isinstance(handshake.start(), NeedBytes)
    assert handshake.receive_data(b"\x05\x00") == NeedBytes(4, socks5_request("h", 80))
    assert handshake.receive_data(REPLY_NAME + ORIGIN_BYTES) == Done(leftover=ORIGIN_BYTES)
    _, event = drive(SOCKS5Handshake("h", 80), b"\x05\x00" + REPLY_IPV4 + ORIGIN_BYTES, chunk)
    assert event == Done()  # asked sizes stop exactly at the reply's end


def test_socks5_a_proxy_that_answers_everything_at_once() -> None:
    """Replies that arrive before the requests they answer: the machine still sends every
    request, in order, before it is done."""
    handshake = SOCKS5Handshake("h", 80, (b"u", b"p"))
    first = handshake.start()
    assert first == NeedBytes(2, b"\x05\x01\x02")
    event = handshake.receive_data(b"\x05\x02" + b"\x01\x00" + REPLY_IPV4 + ORIGIN_BYTES)
    assert event == Done(leftover=ORIGIN_BYTES, send=b"\x01\x01u\x01p" + socks5_request("h", 80))


def test_socks5_machine_misuse() -> None:
    handshake = SOCKS5Handshake("h", 80)
    with pytest.raises(RuntimeError, match="not waiting for bytes"):
        handshake.receive_data(b"\x05\x00")  # not started
    drive(handshake, b"\x05\x00" + REPLY_IPV4)
    with pytest.raises(RuntimeError, match="not waiting for bytes"):
        handshake.receive_data(b"\x00")  # over
    # RFC 1929: a username or password has one length byte.
    with pytest.raises(OverflowError):
        drive(SOCKS5Handshake("h", 80, (b"u" * 256, b"p")), b"\x05\x02\x01\x00")


# --- SOCKS4 / SOCKS4a --------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [None, 1], ids=["whole", "bytewise"])
@pytest.mark.parametrize(
    ("host", "user_id", "request_bytes"),
    [
        ("10.1.2.3", b"", b"\x04\x01\x01\xbb\x0a\x01\x02\x03\x00"),
        ("10.1.2.3", b"alice", b"\x04\x01\x01\xbb\x0a\x01\x02\x03alice\x00"),
        # SOCKS4a: 0.0.0.1, the user id, then the name.
        ("example.com", b"", b"\x04\x01\x01\xbb\x00\x00\x00\x01\x00example.com\x00"),
        ("example.com", b"bob", b"\x04\x01\x01\xbb\x00\x00\x00\x01bob\x00example.com\x00"),
        ("::1", b"", b"\x04\x01\x01\xbb\x00\x00\x00\x01\x00::1\x00"),
    ],
    ids=["ipv4", "ipv4-user", "name", "name-user", "ipv6-as-name"],
)
def test_socks4_requests(host: str, user_id: bytes, request_bytes: bytes, chunk: int | None) -> None:
    handshake = SOCKS4Handshake(host, 443, user_id)
    sent, event = drive(handshake, SOCKS4_GRANTED + ORIGIN_BYTES, chunk)
    assert sent == request_bytes
    assert event == Done()


def test_socks4_bytes_past_the_reply_are_left_over() -> None:
    handshake = SOCKS4Handshake("10.0.0.1", 80)
    assert handshake.start() == NeedBytes(8, b"\x04\x01\x00\x50\x0a\x00\x00\x01\x00")
    assert handshake.receive_data(SOCKS4_GRANTED[:5]) == NeedBytes(3)
    assert handshake.receive_data(SOCKS4_GRANTED[5:] + ORIGIN_BYTES) == Done(leftover=ORIGIN_BYTES)


def test_socks4_every_reply_code() -> None:
    for code in range(256):
        _, event = drive(SOCKS4Handshake("10.0.0.1", 80), b"\x00" + bytes([code]) + bytes(6))
        if code == 0x5A:
            assert event == Done()
        elif code in SOCKS4_REPLY_CODES:
            reason = SOCKS4_REPLY_CODES[code]
            assert event == Refused(f"Proxy Server could not connect: {reason}."), code
        else:
            assert event == Refused("Malformed SOCKS4 reply from the proxy."), code
    assert sorted(SOCKS4_REPLY_CODES) == [0x5A, 0x5B, 0x5C, 0x5D]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (b"\x04\x5b" + bytes(6), "Malformed SOCKS4 reply from the proxy."),  # VN of a request
        (b"\x04\x5a" + bytes(6), "SOCKS4 protocol error: Malformed reply"),
    ],
    ids=["refused-bad-version", "granted-bad-version"],
)
def test_socks4_malformed_replies(reply: bytes, reason: str) -> None:
    _, event = drive(SOCKS4Handshake("10.0.0.1", 80), reply)
    assert event == Refused(reason)


def test_socks4_refusals_before_and_during() -> None:
    handshake = SOCKS4Handshake("10.0.0.1", 80, b"a\x00b")
    assert handshake.start() == Refused("A SOCKS4 user id cannot contain NUL.")
    for cut in range(8):
        _, event = drive(SOCKS4Handshake("example.com", 80), SOCKS4_GRANTED[:cut], chunk=1)
        assert event == Refused(CLOSED), cut
    with pytest.raises(UnicodeError):
        SOCKS4Handshake("a..b", 80).start()  # an empty label: IDNA cannot encode it


def test_where_names_are_resolved() -> None:
    assert [resolves_at_proxy(s, False) for s in (b"socks5", b"socks5h", b"socks4", b"socks4a")] == [
        True,
        True,
        False,
        True,
    ]
    assert [resolves_at_proxy(s, True) for s in (b"socks5", b"socks5h", b"socks4", b"socks4a")] == [
        False,
        True,
        False,
        True,
    ]


# --- the I/O driver ----------------------------------------------------------------------


class ScriptedStream(httpcore_fast.NetworkStream):
    """Returns at most what is asked (or ``chunk`` bytes) of ``incoming``; records the
    sizes asked for and what was written."""

    def __init__(self, incoming: bytes, chunk: int | None = None) -> None:
        self.incoming = incoming
        self.chunk = chunk
        self.asked: list[int] = []
        self.written = b""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(max_bytes)
        size = max_bytes if self.chunk is None else min(self.chunk, max_bytes)
        data, self.incoming = self.incoming[:size], self.incoming[size:]
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written += buffer


class AsyncScriptedStream(httpcore_fast.AsyncNetworkStream):
    def __init__(self, incoming: bytes) -> None:
        self.sync = ScriptedStream(incoming, chunk=1)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.sync.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.sync.write(buffer, timeout)


@pytest.mark.parametrize("chunk", [None, 1], ids=["whole", "bytewise"])
def test_driver_reads_exact_lengths_and_leaves_the_origin_bytes(chunk: int | None) -> None:
    stream = ScriptedStream(b"\x05\x00" + REPLY_NAME + ORIGIN_BYTES, chunk)
    leftover = sync_socks.run_handshake(stream, SOCKS5Handshake("example.com", 443), None)
    assert leftover == b""
    assert stream.incoming == ORIGIN_BYTES  # never read
    assert stream.written == b"\x05\x01\x00" + socks5_request("example.com", 443)
    if chunk is None:
        assert stream.asked == [2, 4, 1, 11]


@pytest.mark.parametrize(
    ("handshake", "incoming", "message"),
    [
        (SOCKS5Handshake("h", 80), b"\x05\x00", CLOSED),
        (SOCKS5Handshake("h", 80), b"\x05\x00\x05\x04\x00\x01", "Proxy Server could not connect: Host unreachable."),
        (SOCKS4Handshake("h", 80, b"\x00"), b"", "A SOCKS4 user id cannot contain NUL."),
    ],
    ids=["closed", "refused", "nul"],
)
def test_driver_raises_proxy_error(handshake: Handshake, incoming: bytes, message: str) -> None:
    with pytest.raises(httpcore_fast.ProxyError) as info:
        sync_socks.run_handshake(ScriptedStream(incoming), handshake, None)
    assert str(info.value) == message


@pytest.mark.anyio
async def test_async_driver_bytewise() -> None:
    stream = AsyncScriptedStream(b"\x05\x02\x01\x00" + REPLY_IPV6 + ORIGIN_BYTES)
    handshake = SOCKS5Handshake("example.com", 443, (b"u", b"p"))
    assert await async_socks.run_handshake(stream, handshake, 5.0) == b""
    assert stream.sync.incoming == ORIGIN_BYTES


@pytest.mark.anyio
async def test_async_local_resolution_runs_in_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``socks4`` and ``local_dns=True`` resolve here: in a worker thread of the running
    library (asyncio or trio), never blocking the event loop's thread."""
    threads = []
    getaddrinfo = socket.getaddrinfo

    def recording_getaddrinfo(*args: typing.Any) -> typing.Any:
        threads.append(threading.get_ident())
        return getaddrinfo(*args)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    address = await async_socks.resolve_address("localhost", 80, socket.AF_INET)
    assert ipaddress.ip_address(address).is_loopback
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    with pytest.raises(httpcore_fast.ProxyError, match="SOCKS4 cannot connect to the IPv6"):
        await async_socks.resolve_address("::1", 80, socket.AF_INET)
    assert await async_socks.resolve_address("::1", 80, socket.AF_UNSPEC) == "::1"


def test_sync_local_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    address = sync_socks.resolve_address("localhost", 80, socket.AF_INET)
    assert ipaddress.ip_address(address).is_loopback

    def failing_getaddrinfo(*args: typing.Any) -> typing.Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", failing_getaddrinfo)
    with pytest.raises(httpcore_fast.ConnectError, match="^Could not resolve 'nowhere.test': "):
        sync_socks.resolve_address("nowhere.test", 80, socket.AF_UNSPEC)


def test_sync_twin_has_no_async_library_code() -> None:
    """The worker-thread helper is async-only: the generated sync module calls
    ``socket.getaddrinfo`` directly and imports no async library."""
    text = Path(sync_socks.__file__).read_text()
    assert "import asyncio" not in text and "import trio" not in text
    assert "_to_thread" not in text and "current_async_library" not in text
    assert "return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)" in text


# --- through the pools: default port, handshake bytes, leftover ---------------------------


class RecordingBackend(httpcore_fast.MockBackend):
    """A mock backend whose streams record what the client writes."""

    def __init__(self, buffer: list[bytes]) -> None:
        super().__init__(buffer)
        self.connects: list[tuple[str, int]] = []
        self.written: list[bytes] = []

    def connect_tcp(self, host: str, port: int, *args: typing.Any, **kwargs: typing.Any) -> httpcore_fast.NetworkStream:
        self.connects.append((host, port))
        backend = self

        class Stream(httpcore_fast.MockStream):
            def write(self, buffer: bytes, timeout: float | None = None) -> None:
                backend.written.append(buffer)

        return Stream(list(self._buffer))


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("scheme", ["socks5", "socks5h", "socks4", "socks4a"])
def test_socks_proxies_default_to_port_1080(scheme: str) -> None:
    reply = [SOCKS4_GRANTED] if scheme.startswith("socks4") else [b"\x05\x00", REPLY_IPV4]
    url = f"{scheme}://proxy.test"
    for through_proxy_class in (True, False):
        backend = RecordingBackend([*reply, OK])
        pool = (
            httpcore_fast.SOCKSProxy(url, network_backend=backend)
            if through_proxy_class
            else httpcore_fast.ConnectionPool(proxy=httpcore_fast.Proxy(url), network_backend=backend)
        )
        with pool:
            assert pool.request("GET", "http://127.0.0.1:8080/").content == b"ok"
        assert backend.connects == [("proxy.test", 1080)]
        handshake: Handshake = (
            SOCKS4Handshake("127.0.0.1", 8080)
            if scheme.startswith("socks4")
            else SOCKS5Handshake("127.0.0.1", 8080)
        )
        expected, _ = drive(handshake, b"".join(reply))
        assert b"".join(backend.written).startswith(expected)

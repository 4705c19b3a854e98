"""SOCKS4, SOCKS4a and SOCKS5 client handshakes as sans-I/O machines, on socksio.

A machine never touches a socket. :meth:`start` and :meth:`receive_data` return one event:

* :class:`NeedBytes` ``(size, send)``: write ``send`` (may be empty), then read at most
  ``size`` bytes and pass them to :meth:`receive_data` (fewer is fine: it asks again).
  ``size`` is exactly what the current reply still lacks, so a driver that reads what it
  is told never takes bytes of the origin's from the stream;
* :class:`Done` ``(leftover, send)``: write ``send``; the tunnel is open, and ``leftover``
  holds bytes received past the reply (the origin's, when a stream returned more than it
  was asked for);
* :class:`Refused` ``(reason)``: the proxy refused, answered something malformed, or
  closed the connection (``receive_data(b"")``); ``reason`` is the ``ProxyError``
  message.

Wire formats: SOCKS5 RFC 1928 (§3 method selection, §4 requests, §5 addressing, §6
replies) and RFC 1929 (username/password); SOCKS4 and its SOCKS4a extension (the
protocol documents of NEC / OpenSSH: an IPv4 address, or 0.0.0.x and the host name after
the user id). Requests and replies are built and parsed with socksio where it matches
those formats.

Never generated, never awaits: ``_async/socks_proxy.py`` drives these machines.
"""

from __future__ import annotations

import dataclasses
import struct
import typing

# socksio is imported by require_socksio(), which every handshake machine calls when it is
# made (so the methods below find it here): a program without SOCKS proxies never loads it.
socksio: typing.Any = None

__all__ = [
    "REMOTE_DNS_SCHEMES",
    "SOCKS4_SCHEMES",
    "SOCKS5_SCHEMES",
    "Done",
    "NeedBytes",
    "Refused",
    "SOCKS4Handshake",
    "SOCKS5Handshake",
    "require_socksio",
    "resolves_at_proxy",
]

SOCKS5_SCHEMES = (b"socks5", b"socks5h")
SOCKS4_SCHEMES = (b"socks4", b"socks4a")
# Schemes whose names are always resolved by the proxy; ``socks5`` too unless
# ``local_dns=True``; ``socks4`` never (it carries an IPv4 address only).
REMOTE_DNS_SCHEMES = (b"socks5h", b"socks4a")

# RFC 1928 §3.
SOCKS5_AUTH_METHODS = {
    0x00: "NO AUTHENTICATION REQUIRED",
    0x01: "GSSAPI",
    0x02: "USERNAME/PASSWORD",
    0xFF: "NO ACCEPTABLE METHODS",
}
# RFC 1928 §6.
SOCKS5_REPLY_CODES = {
    0x00: "Succeeded",
    0x01: "General SOCKS server failure",
    0x02: "Connection not allowed by ruleset",
    0x03: "Network unreachable",
    0x04: "Host unreachable",
    0x05: "Connection refused",
    0x06: "TTL expired",
    0x07: "Command not supported",
    0x08: "Address type not supported",
}
# The SOCKS4 protocol document (and SOCKS4a), "CD" of the reply.
SOCKS4_REPLY_CODES = {
    0x5A: "Request granted",
    0x5B: "Request rejected or failed",
    0x5C: "Request rejected: the proxy cannot connect to identd on the client",
    0x5D: "Request rejected: identd reports a different user id",
}
# RFC 1928 §5 ATYP -> length of BND.ADDR (a DOMAINNAME, 0x03, has a length byte first).
_SOCKS5_ADDRESS_SIZES = {0x01: 4, 0x04: 16}

CLOSED_DURING_HANDSHAKE = "The proxy closed the connection during the SOCKS handshake."
MALFORMED_SOCKS5 = "Malformed SOCKS5 reply from the proxy."
MALFORMED_SOCKS4 = "Malformed SOCKS4 reply from the proxy."


def resolves_at_proxy(scheme: bytes, local_dns: bool) -> bool:
    """True if the origin's host name is sent for the proxy of ``scheme`` to resolve:
    always for socks5h and socks4a, for socks5 unless ``local_dns`` (httpcore sends it),
    never for socks4 (it carries an IPv4 address only)."""
    return scheme in REMOTE_DNS_SCHEMES or (scheme == b"socks5" and not local_dns)


@dataclasses.dataclass(frozen=True, slots=True)
class NeedBytes:
    """Write ``send``, then read at most ``size`` (> 0) bytes for :meth:`receive_data`."""

    size: int
    send: bytes = b""


@dataclasses.dataclass(frozen=True, slots=True)
class Done:
    """Write ``send``; the tunnel is open; ``leftover`` was received past the reply."""

    leftover: bytes = b""
    send: bytes = b""


@dataclasses.dataclass(frozen=True, slots=True)
class Refused:
    """The handshake failed; ``reason`` is the ``ProxyError`` message."""

    reason: str


HandshakeEvent = typing.Union[NeedBytes, Done, Refused]
_Step = typing.Callable[[bytes], typing.Optional[HandshakeEvent]]


class _Handshake:
    """The machinery shared by the SOCKS machines: a queue of bytes to send, a receive
    buffer, and the current step: ``(size, handler)``, called with exactly ``size``
    bytes; a handler queues what to send next and sets the next step (returning None),
    or ends the handshake with :class:`Done` or :class:`Refused`."""

    def __init__(self) -> None:
        self._buffer = b""
        self._send = b""
        self._size = 0
        self._step: _Step | None = None

    def start(self) -> HandshakeEvent:
        """The first event: the first request to write and the size of its reply."""
        raise NotImplementedError()  # pragma: nocover

    def receive_data(self, data: bytes) -> HandshakeEvent:
        """Feed bytes read from the proxy (``b""``: it closed the connection).

        Raises ``RuntimeError`` if the handshake is not waiting for bytes (not started,
        or over)."""
        if self._step is None:
            raise RuntimeError("The SOCKS handshake is not waiting for bytes.")
        if not data:
            self._step = None
            return Refused(CLOSED_DURING_HANDSHAKE)
        self._buffer += data
        return self._advance()

    def _expect(self, size: int, step: _Step, send: bytes = b"") -> None:
        self._send += send
        self._size = size
        self._step = step

    def _advance(self) -> HandshakeEvent:
        while True:
            step = self._step
            assert step is not None
            buffer = self._buffer
            if len(buffer) < self._size:
                send, self._send = self._send, b""
                return NeedBytes(self._size - len(buffer), send)
            chunk, self._buffer = buffer[: self._size], buffer[self._size :]
            event = step(chunk)
            if event is not None:
                self._step = None
                if isinstance(event, Done):
                    return Done(leftover=self._buffer, send=self._send)
                return event


class SOCKS5Handshake(_Handshake):
    """A SOCKS5 CONNECT to ``host``:``port`` (RFC 1928): ``host`` (str) goes as an
    address if it is an IPv4 or IPv6 literal, else as a DOMAINNAME for the proxy to
    resolve. With ``auth`` = (username, password) as bytes, RFC 1929 authentication is
    the one method offered; otherwise NO AUTHENTICATION REQUIRED.

    Refusals: the proxy picks another method (``"Requested <ours> from proxy server, but
    got <its>."``), rejects the credentials (``"Invalid username/password"``), answers
    the request with a failure code (``"Proxy Server could not connect: <reason>."``),
    or sends a malformed reply. Raises ``OverflowError`` for a username or password
    longer than 255 bytes (they have one length byte) and ``RuntimeError`` if
    ``socksio`` is not installed.
    """

    def __init__(self, host: str, port: int, auth: tuple[bytes, bytes] | None = None) -> None:
        super().__init__()
        self._host = host
        self._port = port
        self._auth = auth
        self._reply = b""
        s5 = require_socksio().socks5
        self._method = (
            s5.SOCKS5AuthMethod.NO_AUTH_REQUIRED
            if auth is None
            else s5.SOCKS5AuthMethod.USERNAME_PASSWORD
        )

    def start(self) -> HandshakeEvent:
        request = socksio.socks5.SOCKS5AuthMethodsRequest([self._method])
        self._expect(2, self._method_selected, request.dumps())
        return self._advance()

    def _connect_request(self) -> bytes:
        s5 = socksio.socks5
        request = s5.SOCKS5CommandRequest.from_address(
            s5.SOCKS5Command.CONNECT, (self._host, self._port)
        )
        return typing.cast(bytes, request.dumps())

    def _method_selected(self, data: bytes) -> HandshakeEvent | None:
        if data[1:2] != self._method:
            requested = SOCKS5_AUTH_METHODS[self._method[0]]
            answered = SOCKS5_AUTH_METHODS.get(data[1], f"UNKNOWN ({data[1]:#04x})")
            return Refused(f"Requested {requested} from proxy server, but got {answered}.")
        if self._auth is not None:
            username, password = self._auth
            request = socksio.socks5.SOCKS5UsernamePasswordRequest(username, password)
            self._expect(2, self._authenticated, request.dumps())
        else:
            self._expect(4, self._reply_head, self._connect_request())
        return None

    def _authenticated(self, data: bytes) -> HandshakeEvent | None:
        if not socksio.socks5.SOCKS5UsernamePasswordReply.loads(data).success:
            return Refused("Invalid username/password")
        self._expect(4, self._reply_head, self._connect_request())
        return None

    def _reply_head(self, data: bytes) -> HandshakeEvent | None:
        # VER REP RSV ATYP, then BND.ADDR and BND.PORT (RFC 1928 §6).
        if data[0] != 5:
            return Refused(MALFORMED_SOCKS5)
        if data[1] != 0:
            reason = SOCKS5_REPLY_CODES.get(data[1], f"unknown reply code {data[1]:#04x}")
            return Refused(f"Proxy Server could not connect: {reason}.")
        self._reply = data
        atype = data[3]
        if atype == 3:
            self._expect(1, self._reply_name_length)
        elif atype in _SOCKS5_ADDRESS_SIZES:
            self._expect(_SOCKS5_ADDRESS_SIZES[atype] + 2, self._reply_address)
        else:
            return Refused(MALFORMED_SOCKS5)
        return None

    def _reply_name_length(self, data: bytes) -> HandshakeEvent | None:
        self._reply += data
        self._expect(data[0] + 2, self._reply_address)
        return None

    def _reply_address(self, data: bytes) -> HandshakeEvent | None:
        try:
            socksio.socks5.SOCKS5Reply.loads(self._reply + data)
        except socksio.exceptions.SOCKSError as exc:
            return Refused(f"SOCKS5 protocol error: {exc}")
        return Done()


class SOCKS4Handshake(_Handshake):
    """A SOCKS4 CONNECT to ``host``:``port``: SOCKS4 if ``host`` (str) is an IPv4
    literal, else SOCKS4a (address 0.0.0.1, then the IDNA-encoded name after the user id,
    for the proxy to resolve). ``user_id`` (bytes, may be empty) is the USERID field.

    Refusals: a ``user_id`` containing NUL (before anything is sent), a reply code
    other than "request granted" (``"Proxy Server could not connect: <reason>."``), a
    malformed reply. Raises ``UnicodeError`` for a name IDNA cannot encode and
    ``RuntimeError`` if ``socksio`` is not installed.
    """

    def __init__(self, host: str, port: int, user_id: bytes = b"") -> None:
        super().__init__()
        require_socksio()
        self._host = host
        self._port = port
        self._user_id = user_id

    def start(self) -> HandshakeEvent:
        if b"\x00" in self._user_id:
            return Refused("A SOCKS4 user id cannot contain NUL.")
        request = struct.pack(">BBH", 4, 1, self._port)
        address = _ipv4_address(self._host)
        if address is not None:
            request += address + self._user_id + b"\x00"
        else:
            request += b"\x00\x00\x00\x01" + self._user_id + b"\x00"
            request += self._host.encode("idna") + b"\x00"
        self._expect(8, self._reply, request)
        return self._advance()

    def _reply(self, data: bytes) -> HandshakeEvent | None:
        # VN CD DSTPORT DSTIP.
        code = data[1]
        if code != 0x5A:
            if data[0] != 0 or code not in SOCKS4_REPLY_CODES:
                return Refused(MALFORMED_SOCKS4)
            return Refused(f"Proxy Server could not connect: {SOCKS4_REPLY_CODES[code]}.")
        try:
            socksio.socks4.SOCKS4Reply.loads(data)
        except socksio.exceptions.SOCKSError as exc:
            return Refused(f"SOCKS4 protocol error: {exc}")
        return Done()


def _ipv4_address(host: str) -> bytes | None:
    """The 4 bytes of ``host`` if it is an IPv4 literal, else None."""
    import ipaddress  # here: once per SOCKS4 connection, and no cost to other programs

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return address.packed if address.version == 4 else None


MISSING_SOCKSIO = (
    "Attempted to use SOCKS support, but the `socksio` package is not installed. "
    "Use 'pip install httpcore-fast[socks]'."
)


def require_socksio() -> typing.Any:
    """The socksio module (imported on the first call); raises ``RuntimeError`` if it is
    not installed."""
    global socksio
    if socksio is None:
        try:
            import socksio as module
        except ImportError:
            raise RuntimeError(MISSING_SOCKSIO) from None
        socksio = module
    return socksio

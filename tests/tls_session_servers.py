"""A TLS server on loopback for the TLS session resumption tests, and its fixture.

:class:`ResumingServer` is a :class:`tests.servers.ScriptedServer` whose connections
handshake TLS with Python's ``ssl`` (server side, in the connection's thread) and then
answer HTTP/1.1 requests. It records, per connection, whether the handshake resumed a
session (``SSLSocket.session_reused``), the TLS version and the SNI name the client sent,
so that a test checks resumption from the server's side as well as from the client's.

Options: ``max_version`` (``ssl.TLSVersion.TLSv1_3``: resumption with a PSK from a
NewSessionTicket, RFC 8446 §2.2; ``TLSv1_2``: by RFC 5077 ticket, or by session ID,
RFC 5246 §7.3, with ``tickets=False``); ``refuse``: every connection gets a new server
context (new ticket keys, an empty session cache), so no session is ever resumed;
``keep_alive``: False answers ``Connection: close`` (each request then needs a new
connection, the one resumption can happen on); ``hang_up_from``: the connections from
that one on (0: the first) are closed before their handshake.

Its fixture ``resuming_server`` is in ``tests/conftest_tls_sessions.py``: load it with
``pytest_plugins = ["tests.conftest_servers", "tests.conftest_tls_sessions"]`` (the CA is
``tls_certificate_authority``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import ssl
import threading
import typing

import trustme

from tests.servers import ScriptedServer, ServerConnection, http_response

# The names the server's certificate is valid for.
CERT_NAMES = ("localhost", "127.0.0.1", "tls.test", "other.test")


@dataclasses.dataclass
class Handshake:
    """What the server saw of one connection's handshake."""

    reused: bool
    version: str | None
    sni: str | None


class ResumingServer(ScriptedServer):
    """See the module docstring. ``handshakes`` lists one :class:`Handshake` per
    connection, in the order the handshakes finished."""

    def __init__(
        self,
        ca: trustme.CA,
        *,
        max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        tickets: bool = True,
        refuse: bool = False,
        keep_alive: bool = False,
        hang_up_from: int | None = None,
    ) -> None:
        super().__init__(self._serve)
        self._cert = ca.issue_cert(*CERT_NAMES)
        self._max_version = max_version
        self._tickets = tickets
        self._refuse = refuse
        self._keep_alive = keep_alive
        self._hang_up_from = hang_up_from
        self._sni = threading.local()
        self._context = self._new_context()
        self.handshakes: list[Handshake] = []

    def _new_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.maximum_version = self._max_version
        if not self._tickets:
            context.options |= ssl.OP_NO_TICKET
        self._cert.configure_cert(context)
        context.set_alpn_protocols(["http/1.1"])
        context.sni_callback = self._record_sni
        return context

    def _record_sni(self, _sslobj: typing.Any, name: str | None, _ctx: typing.Any) -> None:
        self._sni.name = name

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def _serve(self, conn: ServerConnection) -> None:
        if self._hang_up_from is not None and conn.index >= self._hang_up_from:
            return  # closed before the handshake: the client's handshake fails
        context = self._new_context() if self._refuse else self._context
        self._sni.name = None
        conn.sock.settimeout(5.0)
        tls = context.wrap_socket(conn.sock, server_side=True)
        self.handshakes.append(Handshake(tls.session_reused, tls.version(), self._sni.name))
        tls.settimeout(conn.POLL)
        conn.sock = tls  # the script's reads and writes now go through TLS
        headers = [] if self._keep_alive else [(b"Connection", b"close")]
        for _ in range(100):
            if conn.read_request() is None:
                break
            conn.send(http_response(b"ok", headers=headers))
            if not self._keep_alive:
                break
        # A close_notify first: OpenSSL drops a session from the server's cache when
        # its connection ends without one (no TLS 1.2 resumption by session ID then).
        with contextlib.suppress(OSError):
            tls.settimeout(0.5)
            tls.unwrap()

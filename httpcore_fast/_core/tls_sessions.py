"""A pool's TLS session cache: TLS sessions to resume, one per origin, SNI name and context.

A new connection to an origin offers the session an earlier connection to it obtained,
so that the server can skip the certificate exchange and the key agreement's most costly
part: TLS 1.3 resumption with a PSK from a NewSessionTicket (RFC 8446 §2.2, §4.6.1), TLS
1.2 resumption by ticket (RFC 5077) or session ID (RFC 5246 §7.3).

Keys are ``(scheme, host, port, server_hostname, ssl_context, http2)``: a session is never
offered to another origin, under another SNI name (the ``sni_hostname`` extension), or with
another ``ssl.SSLContext`` (Python itself refuses a session of another context). The
per-pool cache also never crosses proxies: a pool has one route.

TLS 1.3 tickets arrive after the handshake, so a connection's session is read after its
first response (``SSLObject.session``, by ``_async/connection.py``), not at the handshake;
a session without a ticket under TLS 1.3 cannot be resumed and is not kept. The newest
session of a key replaces the older one. The latest session is offered to every new
connection (as browsers and curl did until recently): RFC 8446 §C.4 advises one ticket per
connection against correlation by a passive observer, which connections from one client
address to one origin allow anyway; Python exposes only a connection's latest ticket.

Reading a connection's session costs CPU (CPython copies it through ``i2d``/``d2i``: the
peer certificate is parsed again, about 0.2 ms), so after a *resumed* handshake it is
read only where it is needed. Servers issue a new ticket on every connection, resumed ones
included, but most accept a ticket more than once (stateless tickets: OpenSSL's and
nginx's default); some accept each only once (OpenSSL's stateful TLS 1.3 tickets, e.g.
nginx with ``ssl_session_tickets off``). The cache learns which kind an origin is: after
the first resumption of a session it keeps that session (no read) and offers it again; a
second resumption proves the server reuses tickets, and from then on resumed connections
are never read; if that second offer is refused (:meth:`TLSSessionCache.discard` of a
session that resumed once), the key is marked single-use and every connection's new
ticket is read, as before (a session refused after several resumptions, e.g. new ticket
keys on the server, only makes the cache learn again). Full handshakes are always read.

Never generated, never awaits. Thread-safe.
"""

from __future__ import annotations

import collections
import ssl
import threading
import time
import typing
from collections.abc import Hashable

__all__ = ["TLS_SESSION_CACHE_MAX", "TLSSessionCache"]

TLS_SESSION_CACHE_MAX = 10_000
"""At most this many sessions per pool (each holds the server's certificate chain, a few
KiB); the least recently stored goes first."""


class _Entry:
    """A kept session and how many handshakes resumed it since it was stored."""

    __slots__ = ("session", "resumed")

    def __init__(self, session: ssl.SSLSession) -> None:
        self.session = session
        self.resumed = 0


class TLSSessionCache:
    """Sessions to resume, by key (see the module docstring for what a key holds).

    ``get(key)``: the session to offer, or None (an expired one is dropped: its ticket
    lifetime, RFC 8446 §4.6.1, or the TLS 1.2 session timeout, has passed). ``put(key,
    ssl_object)``: keep the session of a connection's ``SSLObject`` / ``SSLSocket`` if it
    can be resumed (after a resumed handshake, only where needed: see the module
    docstring). ``discard(key)``: forget a session the server did not resume, or whose
    handshake failed.
    """

    __slots__ = ("_sessions", "_reusable", "_lock", "max_entries")

    def __init__(self, max_entries: int = TLS_SESSION_CACHE_MAX) -> None:
        # An OrderedDict: evicting its front is O(1) (a plain dict's next(iter()) walks
        # over every entry deleted at its front).
        self._sessions: collections.OrderedDict[Hashable, _Entry] = collections.OrderedDict()
        # What each key's server did with a session offered again: True, resumed it
        # (a resumed connection's new ticket is not needed); False, refused it (single-use
        # tickets: every new ticket is read). No entry: not known yet. Bounded as
        # _sessions, least recently learned first.
        self._reusable: collections.OrderedDict[Hashable, bool] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, key: Hashable) -> ssl.SSLSession | None:
        entry = self._sessions.get(key)
        if entry is None:
            return None
        session = entry.session
        if session.time + session.timeout <= time.time():
            with self._lock:  # expired: forgotten (the server did not refuse it)
                if self._sessions.get(key) is entry:
                    del self._sessions[key]
            return None
        return session

    def put(self, key: Hashable, ssl_object: typing.Any) -> bool:
        """Keep the session of ``ssl_object`` (an ``ssl.SSLObject``, ``ssl.SSLSocket``
        or the socket's ``_ssl._SSLSocket``, after its handshake) under ``key``; returns
        True if it was kept, or if the session already kept for ``key`` stays (a resumed
        handshake: see the module docstring). Not kept: no session, a TLS 1.3 session
        without a ticket (not resumable), anything that is not an ``ssl.SSLSession``."""
        try:
            if ssl_object.session_reused and self._keeps_resumed(key):
                return True
            session = ssl_object.session
            if not isinstance(session, ssl.SSLSession):
                return False
            if not session.has_ticket and ssl_object.version() == "TLSv1.3":
                return False
        except (AttributeError, ValueError, ssl.SSLError):  # closed, or not TLS
            return False
        with self._lock:
            sessions = self._sessions
            sessions[key] = _Entry(session)
            sessions.move_to_end(key)  # the newest
            while len(sessions) > self.max_entries:
                sessions.popitem(last=False)
        return True

    def _keeps_resumed(self, key: Hashable) -> bool:
        """A handshake for ``key`` resumed (the session kept for it, as a rule): True if
        that session stays and the connection's own is not read."""
        with self._lock:
            entry = self._sessions.get(key)
            if entry is None:
                return False
            entry.resumed += 1
            reusable = self._reusable.get(key)
            if reusable is None:
                if entry.resumed >= 2:  # resumed twice: the server reuses tickets
                    self._learn(key, True)
                return True  # offer it again: will the server resume it a second time?
            return reusable

    def _learn(self, key: Hashable, reusable: bool) -> None:
        known = self._reusable
        known[key] = reusable
        known.move_to_end(key)
        while len(known) > self.max_entries:
            known.popitem(last=False)

    def discard(self, key: Hashable, session: ssl.SSLSession | None = None) -> None:
        """Forget the session of ``key`` (only if it is still ``session``, when given).
        A session refused at its second offer marks ``key`` single-use; one refused after
        two or more resumptions (new ticket keys, a restarted server) only makes the cache
        learn again."""
        with self._lock:
            entry = self._sessions.get(key)
            if entry is not None and (session is None or entry.session is session):
                del self._sessions[key]
                if session is not None and entry.resumed == 1:
                    self._learn(key, False)
                elif session is not None and entry.resumed > 1:
                    self._reusable.pop(key, None)

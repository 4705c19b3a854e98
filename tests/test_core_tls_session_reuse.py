"""The TLS session cache's reads after resumed handshakes (``_core/tls_sessions.py``).

A resumed connection's session is read (``SSLObject.session``: a copy through
``i2d``/``d2i``, about 0.2 ms) only until the server has shown that it resumes a session
more than once; a server that refuses a session's second use (single-use tickets) gets
every new ticket read, as before. Real sessions from in-memory handshakes with Python's
``ssl``; the objects handed to ``put`` count the reads of their ``session``.
"""

from __future__ import annotations

import ssl
import typing

import pytest
import trustme

from httpcore_fast._core import tls_sessions
from httpcore_fast._core.tls_sessions import TLSSessionCache
from tests.test_core_resolver import ca, client_context, server_context
from tests.test_core_resolver import handshake as memory_handshake

__all__ = ["ca", "server_context"]  # fixtures, shared with test_core_resolver


@pytest.fixture(scope="module")
def client(ca: trustme.CA) -> ssl.SSLContext:
    return client_context(ca)


class Counted:
    """An ``SSLObject`` after its handshake, counting reads of its ``session``."""

    def __init__(self, tls: ssl.SSLObject) -> None:
        self.tls = tls
        self.session_reused = tls.session_reused
        self.reads = 0

    @property
    def session(self) -> ssl.SSLSession | None:
        self.reads += 1
        return self.tls.session

    def version(self) -> str | None:
        return self.tls.version()


def handshake(
    client: ssl.SSLContext, server: ssl.SSLContext, session: ssl.SSLSession | None = None
) -> Counted:
    """A handshake over memory BIOs offering ``session`` (see test_core_resolver)."""
    return Counted(memory_handshake(client, server, session))


def connect(
    cache: TLSSessionCache, client: ssl.SSLContext, server: ssl.SSLContext
) -> tuple[Counted, ssl.SSLSession | None]:
    """One connection as the pool makes it: offer the kept session, then put."""
    offered = cache.get("k")
    tls = handshake(client, server, offered)
    if offered is not None and not tls.session_reused:
        cache.discard("k", offered)
    assert cache.put("k", tls)
    return tls, offered


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_resumed_sessions_are_not_read_once_the_server_reuses_them(
    ca: trustme.CA, client: ssl.SSLContext, version: ssl.TLSVersion
) -> None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.maximum_version = version
    ca.issue_cert("tls.test").configure_cert(server)
    cache = TLSSessionCache()
    full, offered = connect(cache, client, server)
    assert offered is None and full.reads == 1
    first = cache.get("k")
    results = [connect(cache, client, server) for _ in range(4)]
    assert [tls.session_reused for tls, _ in results] == [True] * 4
    assert [tls.reads for tls, _ in results] == [0, 0, 0, 0]
    assert all(offered is first for _, offered in results)  # the one session, again
    assert cache.get("k") is first and len(cache) == 1


def test_a_refused_second_offer_marks_the_key_single_use(
    client: ssl.SSLContext, server_context: ssl.SSLContext
) -> None:
    # Python's server resumes a ticket any number of times; a server with single-use
    # tickets is played by discard(): the second offer of a session was refused.
    cache = TLSSessionCache()
    connect(cache, client, server_context)
    first = cache.get("k")
    resumed, _ = connect(cache, client, server_context)
    assert resumed.session_reused and resumed.reads == 0
    assert cache.get("k") is first  # kept, to be offered a second time
    cache.discard("k", first)  # ... and refused
    assert len(cache) == 0
    full, _ = connect(cache, client, server_context)
    assert full.reads == 1
    second = cache.get("k")
    for _ in range(2):  # from now on every resumed connection's new ticket is read
        tls, offered = connect(cache, client, server_context)
        assert tls.session_reused and tls.reads == 1
        assert cache.get("k") is not offered
    assert second is not None and cache.get("k") is not second


def test_a_session_never_resumed_before_teaches_nothing(
    client: ssl.SSLContext, server_context: ssl.SSLContext
) -> None:
    # A first offer refused (new ticket keys, a restarted server) says nothing about
    # reuse: the next session is still kept after its first resumption.
    cache = TLSSessionCache()
    connect(cache, client, server_context)
    cache.discard("k", cache.get("k"))
    connect(cache, client, server_context)
    tls, _ = connect(cache, client, server_context)
    assert tls.session_reused and tls.reads == 0


def test_an_expired_session_teaches_nothing(
    client: ssl.SSLContext, server_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TLSSessionCache()
    connect(cache, client, server_context)
    connect(cache, client, server_context)  # resumed once
    session = cache.get("k")
    assert session is not None
    later = session.time + session.timeout
    real_time = tls_sessions.time.time
    monkeypatch.setattr(tls_sessions.time, "time", lambda: later)
    assert cache.get("k") is None and len(cache) == 0
    monkeypatch.setattr(tls_sessions.time, "time", real_time)
    connect(cache, client, server_context)  # a full handshake: a new session
    tls, _ = connect(cache, client, server_context)
    assert tls.session_reused and tls.reads == 0  # not marked single-use


def test_what_the_cache_learns_is_bounded(
    client: ssl.SSLContext, server_context: ssl.SSLContext
) -> None:
    cache = TLSSessionCache(max_entries=2)
    tls = handshake(client, server_context)
    for key in ("a", "b", "c"):
        assert cache.put(key, tls)
        session = cache.get(key)
        assert session is not None
        for _ in range(2):  # resumed twice: reuse learned for the key
            resumed = handshake(client, server_context, session)
            assert resumed.session_reused and cache.put(key, resumed)
    learned: typing.Any = cache._reusable
    assert len(cache) == 2 and list(learned) == ["b", "c"]


def test_a_resumption_without_a_kept_session_is_read(
    client: ssl.SSLContext, server_context: ssl.SSLContext
) -> None:
    # The kept session was evicted or discarded meanwhile: the connection's own is kept.
    cache = TLSSessionCache()
    session = handshake(client, server_context).tls.session
    resumed = handshake(client, server_context, session)
    assert resumed.session_reused
    assert cache.put("k", resumed) and resumed.reads == 1 and len(cache) == 1


def test_new_ticket_keys_after_proven_reuse_make_the_cache_learn_again(
    ca: trustme.CA, client: ssl.SSLContext
) -> None:
    def server() -> ssl.SSLContext:  # a new context: new ticket keys
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("tls.test").configure_cert(context)
        return context

    cache = TLSSessionCache()
    first = server()
    for _ in range(4):  # full, then resumed three times: reuse proven
        connect(cache, client, first)
    rotated = server()
    refused, offered = connect(cache, client, rotated)
    assert offered is not None and not refused.session_reused and refused.reads == 1
    resumed, _ = connect(cache, client, rotated)
    assert resumed.session_reused and resumed.reads == 0  # not taken for single-use

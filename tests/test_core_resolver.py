"""The sans-I/O parts of issue 14 points 4 and 5: the pool's resolver state
(``_core/resolver.py``), its TLS session cache (``_core/tls_sessions.py``) and the keys
and ``start_tls`` arguments of ``_core/config.py``.

No sockets: TLS sessions come from handshakes between two ``ssl.SSLObject`` over memory
BIOs (a trustme CA), so the cache holds real ``ssl.SSLSession`` objects.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import typing

import pytest
import trustme

from httpcore_fast import Origin, Request
from httpcore_fast._async.connection import connection_config
from httpcore_fast._core import resolver as resolver_module
from httpcore_fast._core import tls_sessions
from httpcore_fast._core.config import tls_arguments, tls_session_key
from httpcore_fast._core.resolver import Resolver, numeric_addrinfo, with_port
from httpcore_fast._core.tls_sessions import TLSSessionCache

V4 = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("192.0.2.1", 0))
V6 = (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("2001:db8::1", 0, 0, 0))


class Clock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Event:
    """Stands in for the caller's event (``Lookup.done``)."""

    def __init__(self) -> None:
        self.flag = False

    def set(self) -> None:
        self.flag = True


def look_up(state: Resolver, host: str, infos: list[typing.Any]) -> None:
    """One whole lookup as ``AsyncPoolResolver.resolve`` runs it: begin, end, set."""
    lookup, mine = state.begin(host, Event)
    assert mine
    state.end(host, lookup, infos)
    lookup.done.set()


# -- resolve= overrides -------------------------------------------------------------------


def test_overrides_answer_case_insensitively_on_any_port_in_order() -> None:
    state = Resolver({"Made-Up.test": ["127.0.0.2", "::1", "127.0.0.1"]})
    infos = state.known("made-up.TEST", 8443)
    assert infos is not None
    assert [(info[0], info[4][:2]) for info in infos] == [
        (socket.AF_INET, ("127.0.0.2", 8443)),
        (socket.AF_INET6, ("::1", 8443)),
        (socket.AF_INET, ("127.0.0.1", 8443)),
    ]
    assert state.override_addresses("MADE-UP.test") == ("127.0.0.2", "::1", "127.0.0.1")
    assert state.override_addresses("other.test") is None
    assert state.known("other.test", 80) is None  # not overridden, not cached: look it up


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"a.test": "127.0.0.1"}, TypeError, "sequences of IP addresses"),
        ({"a.test": b"127.0.0.1"}, TypeError, "sequences of IP addresses"),
        ({b"a.test": ["127.0.0.1"]}, TypeError, "host names"),
        ({"a.test": [127]}, TypeError, "must be str"),
        ({"a.test": ["example.com"]}, ValueError, "must be IP addresses"),
        ({"a.test": ["127.0.0.1:80"]}, ValueError, "must be IP addresses"),
        ({"a.test": ["256.0.0.1"]}, ValueError, "must be IP addresses"),
        ({"a.test": []}, ValueError, "no address"),
    ],
)
def test_malformed_overrides_are_refused_at_once(
    overrides: typing.Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Resolver(overrides)
    with pytest.raises(error, match=message):  # and by the pool, when it is made
        connection_config(resolve=overrides)


@pytest.mark.parametrize("ttl", [-1, -0.5, float("nan")])
def test_negative_ttl_is_refused(ttl: float) -> None:
    with pytest.raises(ValueError, match="dns_cache_ttl"):
        Resolver(ttl=ttl)


def test_ip_literals_need_no_lookup() -> None:
    state = Resolver(ttl=None)
    assert state.known("127.0.0.1", 80) == [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 80))
    ]
    v6 = state.known("::1", 443)
    assert v6 is not None and v6[0][0] == socket.AF_INET6 and v6[0][4][:2] == ("::1", 443)
    assert numeric_addrinfo("localhost", 80) is None
    assert numeric_addrinfo("1.2.3", 80) is None  # inet_aton would take it; not a literal


def test_with_port_keeps_ipv6_flow_and_scope() -> None:
    scoped = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1", 0, 7, 3))
    assert with_port([V4, scoped], 81) == [
        (*V4[:4], ("192.0.2.1", 81)),
        (*scoped[:4], ("fe80::1", 81, 7, 3)),
    ]


# -- the DNS cache ------------------------------------------------------------------------


def test_answers_are_cached_for_ttl_seconds_on_the_injected_clock() -> None:
    clock = Clock()
    state = Resolver(ttl=30, clock=clock)
    look_up(state, "Host.test", [(*V4[:4], ("192.0.2.1", 443)), V6])
    served = state.known("host.test", 8080)  # stored without the lookup's port
    assert served == [(*V4[:4], ("192.0.2.1", 8080)), (*V6[:4], ("2001:db8::1", 8080, 0, 0))]
    clock.now += 29.9
    assert state.known("HOST.test", 80) is not None
    clock.now += 0.1  # expired at exactly ttl seconds
    assert state.known("host.test", 80) is None
    assert state.cached_names() == 0  # an expired entry is dropped when met


@pytest.mark.parametrize("ttl", [None, 0])
def test_without_ttl_nothing_is_cached(ttl: float | None) -> None:
    state = Resolver(ttl=ttl)
    look_up(state, "host.test", [V4])
    assert state.known("host.test", 80) is None
    assert state.cached_names() == 0


def test_the_cache_is_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolver_module, "DNS_CACHE_MAX_NAMES", 3)
    state = Resolver(ttl=60)
    for name in ("a.test", "b.test", "c.test"):
        look_up(state, name, [V4])
    look_up(state, "a.test", [V4])  # looked up again: now the newest
    look_up(state, "d.test", [V4])
    assert state.cached_names() == 3
    assert state.known("b.test", 80) is None  # the oldest went first
    assert all(state.known(name, 80) is not None for name in ("a.test", "c.test", "d.test"))


def test_the_real_bound_is_ten_thousand_names() -> None:
    assert resolver_module.DNS_CACHE_MAX_NAMES == 10_000
    state = Resolver(ttl=60)
    for i in range(10_005):
        look_up(state, f"n{i}.test", [V4])
    assert state.cached_names() == 10_000
    assert state.known("n4.test", 80) is None and state.known("n5.test", 80) is not None


# -- lookups in flight ---------------------------------------------------------------------


def test_overlapping_lookups_of_a_name_are_one() -> None:
    state = Resolver(ttl=None)  # coalesced even without a cache
    lookup, mine = state.begin("host.test", Event)
    joined, theirs = state.begin("HOST.test", Event)
    other, other_mine = state.begin("other.test", Event)
    assert mine and not theirs and other_mine
    assert joined is lookup and other is not lookup
    state.end("host.test", lookup, [(*V4[:4], ("192.0.2.1", 443))])
    assert lookup.infos == [V4] and lookup.error is None  # the waiters' answer, port 0
    again, mine_again = state.begin("host.test", Event)  # finished: a new lookup
    assert mine_again and again is not lookup


def test_a_failed_lookup_is_shared_and_not_cached() -> None:
    state = Resolver(ttl=60)
    lookup, _ = state.begin("host.test", Event)
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    state.end("host.test", lookup, None, error)
    assert lookup.error is error and lookup.infos is None
    assert state.known("host.test", 80) is None and state.cached_names() == 0


def test_an_abandoned_lookup_leaves_neither_answer_nor_error() -> None:
    state = Resolver(ttl=60)
    lookup, _ = state.begin("host.test", Event)
    state.end("host.test", lookup, None)  # its owner was cancelled
    assert lookup.infos is None and lookup.error is None  # a waiter looks up itself
    assert state.begin("host.test", Event)[1]


# -- the TLS session cache -----------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("tls.test", "other.test").configure_cert(context)
    return context


def client_context(
    ca: trustme.CA, version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.maximum_version = version
    return context


def handshake(
    client: ssl.SSLContext,
    server: ssl.SSLContext,
    session: ssl.SSLSession | None = None,
    name: str = "tls.test",
) -> ssl.SSLObject:
    """A whole handshake between two SSLObjects over memory BIOs, then one byte each
    way (a TLS 1.3 client reads its tickets with the first application data); returns
    the client's SSLObject."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    tls = client.wrap_bio(c_in, c_out, server_hostname=name, session=session)
    peer = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(20):  # a handshake is a few flights
        done = 0
        for end in (tls, peer):
            try:
                end.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done == 2:
            break
    peer.write(b"x")
    c_in.write(s_out.read())
    assert tls.read(1) == b"x"
    return tls


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_a_kept_session_resumes(
    ca: trustme.CA, server_context: ssl.SSLContext, version: ssl.TLSVersion
) -> None:
    client = client_context(ca, version)
    cache = TLSSessionCache()
    first = handshake(client, server_context)
    assert cache.put("key", first)
    session = cache.get("key")
    assert isinstance(session, ssl.SSLSession)
    second = handshake(client, server_context, session)
    assert second.session_reused
    assert cache.put("key", second)  # the newest session replaces the older one
    assert len(cache) == 1


def test_sessions_are_kept_per_key_and_discarded_by_identity(
    ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    client = client_context(ca)
    cache = TLSSessionCache()
    cache.put("a", handshake(client, server_context))
    cache.put("b", handshake(client, server_context))
    a, b = cache.get("a"), cache.get("b")
    assert a is not None and b is not None and a is not b
    cache.discard("a", b)  # not a's session: kept
    assert cache.get("a") is a
    cache.discard("a", a)
    assert cache.get("a") is None and cache.get("b") is b
    cache.discard("b")
    assert len(cache) == 0


def test_the_cache_is_bounded(ca: trustme.CA, server_context: ssl.SSLContext) -> None:
    client = client_context(ca)
    cache = TLSSessionCache(max_entries=2)
    tls = handshake(client, server_context)
    for key in ("a", "b", "a", "c"):
        cache.put(key, tls)
    assert len(cache) == 2 and cache.get("b") is None  # "a" was stored again: newer


def test_unusable_sessions_are_not_kept(ca: trustme.CA, server_context: ssl.SSLContext) -> None:
    cache = TLSSessionCache()
    assert not cache.put("k", object())  # no session at all
    no_tickets = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("tls.test").configure_cert(no_tickets)
    no_tickets.num_tickets = 0
    tls13 = handshake(client_context(ca), no_tickets)
    assert tls13.session is not None and not tls13.session.has_ticket
    assert not cache.put("k", tls13)  # TLS 1.3 without a ticket cannot resume
    assert len(cache) == 0


def test_an_expired_session_is_dropped(
    ca: trustme.CA, server_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TLSSessionCache()
    cache.put("k", handshake(client_context(ca), server_context))
    session = cache.get("k")
    assert session is not None
    later = session.time + session.timeout
    monkeypatch.setattr(tls_sessions.time, "time", lambda: later)
    assert cache.get("k") is None and len(cache) == 0


def test_python_refuses_a_session_of_another_context(
    ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    # Why the context is part of the key: offered under another context, a session
    # would make the handshake fail instead of falling back to a full one.
    session = handshake(client_context(ca), server_context).session
    with pytest.raises(ValueError, match="different SSLContext"):
        client_context(ca).wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), session=session)


# -- keys and start_tls arguments ----------------------------------------------------------


def request(url: str, **extensions: typing.Any) -> Request:
    return Request("GET", url, extensions=extensions)


def test_keys_separate_origins_sni_names_contexts_and_http2(ca: trustme.CA) -> None:
    config = connection_config(ssl_context=client_context(ca))
    origin = Origin(b"https", b"tls.test", 443)

    def key(
        url: str = "https://tls.test/", config: typing.Any = config, **ext: typing.Any
    ) -> typing.Any:
        req = request(url, **ext)
        return tls_session_key(req, req.url.origin, config)

    same = key()
    assert key("https://tls.test:443/path?q") == same
    others = [
        key("https://tls.test:8443/"),
        key("https://other.test/"),
        key("wss://tls.test/"),
        key(sni_hostname="other.test"),
        key(config=dataclasses.replace(config, ssl_context=client_context(ca))),
        key(config=dataclasses.replace(config, http2=True)),
    ]
    assert len({same, *others}) == 1 + len(others)
    assert key(sni_hostname="tls.test") == same  # the SNI name the origin gives anyway
    assert tls_session_key(request("https://tls.test/"), origin, config) == same


def test_tls_arguments_offer_the_cached_session(
    ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    context = client_context(ca)
    config = connection_config(ssl_context=context)
    origin = Origin(b"https", b"tls.test", 443)
    req = request("https://tls.test/")
    arguments = tls_arguments(req, origin, config, 5.0)
    expected = {"ssl_context": context, "server_hostname": "tls.test", "timeout": 5.0}
    assert dict(arguments) == expected
    assert arguments.session is None and arguments.sessions is config.tls_sessions
    assert config.tls_sessions is not None
    config.tls_sessions.put(arguments.session_key, handshake(context, server_context))
    offered = tls_arguments(req, origin, config, None)
    assert offered.session is config.tls_sessions.get(arguments.session_key)
    assert offered.session is not None
    without = connection_config(ssl_context=context, tls_session_cache=False)
    assert without.tls_sessions is None
    assert tls_arguments(req, origin, without, None).session is None

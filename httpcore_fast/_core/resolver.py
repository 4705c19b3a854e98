"""A pool's name resolution state: ``resolve=`` overrides, the DNS cache, lookups in flight.

One :class:`Resolver` per pool (``ConnectionConfig.resolver``), shared by every connection
the pool opens, in every thread. It answers from the overrides (host name -> addresses,
like curl's ``--resolve``), from IP literals, and from names resolved less than
``ttl`` seconds ago; it keeps the table of lookups running now, so that concurrent
connects to one name wait for one ``getaddrinfo`` instead of running one each.

Sans-I/O: the lookup itself is the backend's (its library's ``getaddrinfo``: a thread
for asyncio, trio's, anyio's, or a blocking call), the waiting is
``_async/connection.py``'s ``AsyncPoolResolver`` (``PoolResolver`` in sync code), which is
what backends receive. Addresses are kept as ``getaddrinfo`` results (``(family, type,
proto, canonname, sockaddr)``) so that Happy Eyeballs (RFC 8305) keeps the families and
their order; they are stored without a port and given the caller's port when served.

Never generated, never awaits.
"""

from __future__ import annotations

import collections
import socket
import threading
import time
import typing
from collections.abc import Callable, Mapping, Sequence

from .._backends.base import AddrInfo

__all__ = ["DNS_CACHE_MAX_NAMES", "Lookup", "Resolver", "numeric_addrinfo", "with_port"]

DNS_CACHE_MAX_NAMES = 10_000
"""At most this many names are cached per pool; the oldest entry goes first (a crawler
resolving millions of names keeps a bounded table)."""


def numeric_addrinfo(address: str, port: int) -> list[AddrInfo] | None:
    """``getaddrinfo`` of an IP literal (``AI_NUMERICHOST``: no resolver, no thread): one
    TCP result, or None if ``address`` is not an IP literal. An IPv6 literal may carry a
    zone (``fe80::1%eth0``)."""
    if ":" not in address:  # IPv4 or a name: no getaddrinfo call for a name
        try:
            socket.inet_pton(socket.AF_INET, address)
        except (OSError, UnicodeError, ValueError):
            return None
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
    try:
        infos = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return typing.cast("list[AddrInfo]", infos[:1])


def with_port(entries: Sequence[AddrInfo], port: int) -> list[AddrInfo]:
    """``entries`` with ``port`` in each sockaddr (``(host, port)`` for IPv4, ``(host, port,
    flowinfo, scope_id)`` for IPv6)."""
    return [
        (family, type_, proto, name, (sockaddr[0], port, *sockaddr[2:]))
        for family, type_, proto, name, sockaddr in entries
    ]


class Lookup:
    """One lookup of a name in flight. ``done`` is the event its waiters wait on (made by
    the caller: a ``threading``-backed ``Event`` in sync code, an ``AsyncEvent`` in async
    code); once it is set, ``infos`` holds the answer (port 0), or ``error`` the
    ``OSError`` the lookup raised, or neither if the lookup was abandoned (cancelled or
    timed out: a waiter then looks the name up itself)."""

    __slots__ = ("done", "infos", "error")

    def __init__(self, done: typing.Any) -> None:
        self.done = done
        self.infos: list[AddrInfo] | None = None
        self.error: OSError | None = None


class Resolver:
    """Per-pool resolver state (see the module docstring). Thread-safe.

    Args:
        overrides: host name -> IP addresses used instead of DNS for that name (in that
            order for connection attempts), like curl's ``--resolve``; names match
            case-insensitively, on any port. None: none.
        ttl: seconds a resolved name is reused (None: never cached, httpcore's
            behaviour; 0 is the same). Lookups of one name that overlap are always
            coalesced into one.
        clock: the monotonic clock (seconds) deciding expiry; for tests.

    Raises:
        TypeError: an override is not a sequence of strings (a single string is
            refused: ``{"host": ["127.0.0.1"]}``, not ``{"host": "127.0.0.1"}``).
        ValueError: an override address is not an IP literal, a name has no address,
            or ``ttl`` is negative.
    """

    __slots__ = ("ttl", "_overrides", "_entries", "_lookups", "_lock", "_clock")

    def __init__(
        self,
        overrides: Mapping[str, Sequence[str]] | None = None,
        ttl: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl is not None and not ttl >= 0:
            raise ValueError(f"dns_cache_ttl must be None or at least 0 seconds, not {ttl!r}")
        self.ttl = ttl or None
        self._overrides: dict[str, tuple[tuple[AddrInfo, ...], tuple[str, ...]]] = {}
        for name, addresses in (overrides or {}).items():
            self._overrides[name.lower()] = _parse_override(name, addresses)
        # name -> (expiry on ``clock``, results with port 0); oldest first.
        # An OrderedDict: evicting its front is O(1) (see TLSSessionCache).
        self._entries: collections.OrderedDict[str, tuple[float, list[AddrInfo]]] = (
            collections.OrderedDict()
        )
        self._lookups: dict[str, Lookup] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def override_addresses(self, host: str) -> tuple[str, ...] | None:
        """The override addresses of ``host`` as given (IP literals), or None."""
        override = self._overrides.get(host.lower()) if self._overrides else None
        return None if override is None else override[1]

    def known(self, host: str, port: int) -> list[AddrInfo] | None:
        """The addresses of ``host`` with ``port`` if no lookup is needed: its override,
        ``host`` itself if it is an IP literal, or a cache entry younger than ``ttl``.
        None: look it up (see :meth:`begin`)."""
        name = host.lower()
        if self._overrides:
            override = self._overrides.get(name)
            if override is not None:
                return with_port(override[0], port)
        numeric = numeric_addrinfo(host, port)
        if numeric is not None:
            return numeric
        if self.ttl is not None:
            entry = self._entries.get(name)
            if entry is not None:
                if entry[0] > self._clock():
                    return with_port(entry[1], port)
                with self._lock:
                    if self._entries.get(name) is entry:
                        del self._entries[name]
        return None

    def begin(self, host: str, make_event: Callable[[], typing.Any]) -> tuple[Lookup, bool]:
        """Join the lookup of ``host`` in flight, or start one: returns the
        :class:`Lookup` and True if the caller must run it (then call :meth:`end`
        whatever happens), False if it is another caller's (wait on its ``done``).
        ``make_event`` makes the ``done`` event of a new lookup."""
        name = host.lower()
        with self._lock:
            lookup = self._lookups.get(name)
            if lookup is not None:
                return lookup, False
            lookup = self._lookups[name] = Lookup(make_event())
        return lookup, True

    def end(
        self,
        host: str,
        lookup: Lookup,
        infos: Sequence[AddrInfo] | None,
        error: OSError | None = None,
    ) -> None:
        """Finish ``lookup`` (started by :meth:`begin`): with its results (cached for
        ``ttl`` seconds), its error, or neither (abandoned). The caller sets
        ``lookup.done`` afterwards."""
        name = host.lower()
        if infos is not None:
            lookup.infos = with_port(infos, 0)
        lookup.error = error
        with self._lock:
            if self._lookups.get(name) is lookup:
                del self._lookups[name]
            if lookup.infos and self.ttl is not None:
                entries = self._entries
                entries[name] = (self._clock() + self.ttl, lookup.infos)
                entries.move_to_end(name)  # the newest
                while len(entries) > DNS_CACHE_MAX_NAMES:
                    entries.popitem(last=False)

    def cached_names(self) -> int:
        """How many names the cache holds (expired ones not yet dropped included)."""
        return len(self._entries)


def _parse_override(
    name: str, addresses: Sequence[str]
) -> tuple[tuple[AddrInfo, ...], tuple[str, ...]]:
    """``getaddrinfo`` results (port 0) and the text of ``addresses``, the override of
    ``name``; TypeError / ValueError as :class:`Resolver` says."""
    if not isinstance(name, str) or isinstance(addresses, (str, bytes)):
        raise TypeError(
            "resolve= maps host names (str) to sequences of IP addresses (str), "
            f"e.g. {{'example.com': ['127.0.0.1']}}; got {name!r}: {addresses!r}"
        )
    infos: list[AddrInfo] = []
    texts = tuple(addresses)
    for address in texts:
        if not isinstance(address, str):
            raise TypeError(f"resolve= addresses must be str, got {address!r} for {name!r}")
        numeric = numeric_addrinfo(address, 0)
        if numeric is None:
            raise ValueError(f"resolve= addresses must be IP addresses, got {address!r} for {name!r}")
        infos.extend(numeric)
    if not infos:
        raise ValueError(f"resolve= gives no address for {name!r}")
    return tuple(infos), texts

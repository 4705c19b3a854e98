"""The connection pool's state and decisions, as a sans-I/O core.

The pool driver (``_async/connection_pool.py``, generated into ``_sync/``) holds one
:class:`PoolCore` and calls it under its lock; the core never awaits, never closes a
connection and never wakes a task itself. Each call says what to do instead:

* :meth:`PoolCore.acquire` -> a connection to use (reused or just created), or None: the
  request must wait (:meth:`PoolCore.wait` queues it);
* :meth:`PoolCore.release` / :meth:`PoolCore.cancel_wait` / :meth:`PoolCore.closed` ->
  the waiters to wake (each with its ``connection`` set), and the connections to close
  (appended to the ``closing`` list the driver passes in);
* connections the driver was told to close are reported back with :meth:`PoolCore.closed`
  once closed: until then they still count against ``max_connections`` (and the origin's
  limit), so the pool never holds more open sockets than its limits.

State:

* ``_conns``: every listed connection -> its origin state, in creation order (what
  ``pool.connections`` lists);
* per origin (:class:`OriginState`): ``available``, the connections that can take a
  request now (an insertion-ordered dict used as a stack: the most recently released is
  reused first, since its socket is the warmest), the FIFO queue of waiters, the number of
  connections the origin holds (listed or still closing) and the statistics counters;
* ``_idle``: idle connections of every origin, least recently used first, with the time
  each became idle: ``max_keepalive_connections``, ``keepalive_expiry`` and evicting an
  idle connection when a request for another origin finds the pool full;
* ``_closing``: connections being closed, counted until :meth:`PoolCore.closed`;
* ``_ready``: a heap of origins whose first waiter may open a connection (their limit
  not reached), by that waiter's arrival: a freed slot goes to the longest-waiting request
  that can use it, so a full origin never holds up the others and none starves. A
  released connection goes to a waiter of its own origin first (no new handshake), but
  passes over the longest-waiting request of another origin only once: the next time, it
  is closed to make room for that request.

Acquiring and releasing cost O(1) dict and deque operations (plus O(log n) heap steps
for requests that wait), whatever the number of origins and idle connections.

Never generated, never awaits.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
import operator
import sys
import time
import typing

from .._models import Request

__all__ = [
    "CLOSE_REASONS",
    "OriginKey",
    "OriginStats",
    "PoolConnection",
    "PoolCore",
    "PoolStats",
    "Waiter",
]

OriginKey = typing.Tuple[bytes, bytes, int]
"""``(scheme, host, port)`` of a request's URL, e.g. ``(b"https", b"example.com", 443)``."""


class PoolConnection(typing.Protocol):
    """What the core asks of a connection (``AsyncConnectionInterface`` and
    ``ConnectionInterface`` have all of it)."""

    def is_available(self) -> bool: ...

    def has_expired(self) -> bool: ...

    def is_idle(self) -> bool: ...

    def is_closed(self) -> bool: ...

    def _may_multiplex(self) -> bool: ...

    def _close_reason(self) -> str | None: ...


C = typing.TypeVar("C", bound=PoolConnection)

# Why a connection left the pool (the index into OriginState.closed).
EXPIRED = 0  # idle for longer than keepalive_expiry
SERVER = 1  # closed by the server, or the exchange ended it (see OriginStats)
ERROR = 2  # an exchange on it failed, was cancelled or timed out
EVICTED = 3  # closed by the pool to make room (max_connections, max_keepalive_connections)
POOL_CLOSED = 4  # closed with the pool
CLOSE_REASONS = ("expired", "server", "error", "evicted", "pool_closed")
# What a connection's own _close_reason() says, when it says something.
_CONNECTION_REASONS = {"expired": EXPIRED, "closed_by_server": SERVER, "error": ERROR}


class Waiter:
    """A request waiting for a connection of origin ``key`` (or for room to open one).

    The driver waits on ``event`` (its own object: the core only stores it); when woken,
    ``connection`` is set, and ``fresh`` says the pool created that connection for this
    request (never used, not yet connected). ``new_only``: the request needs a new
    connection (it is sent again after a stale one): a connection released to it is closed
    to make room instead."""

    __slots__ = (
        "key", "request", "event", "connection", "fresh", "new_only", "seq", "since", "origin"
    )  # fmt: skip

    def __init__(
        self,
        origin: OriginState[typing.Any],
        request: Request,
        event: typing.Any,
        seq: int,
        since: float,
        new_only: bool = False,
    ) -> None:
        self.origin = origin
        self.key = origin.key
        self.request = request
        self.event = event
        self.connection: typing.Any = None
        self.fresh = False
        self.new_only = new_only
        self.seq = seq
        self.since = since


class OriginState(typing.Generic[C]):
    """One origin's share of the pool: available connections, waiters, counters."""

    __slots__ = (
        "key",
        "available",
        "waiters",
        "count",
        "active",
        "opened",
        "reused",
        "closed",
        "retried",
        "waited",
        "wait_time",
    )

    def __init__(self, key: OriginKey) -> None:
        self.key = key
        self.available: dict[C, None] = {}
        self.waiters: collections.deque[Waiter] | None = None  # made on first wait
        self.count = 0  # connections held: listed, or closing and not yet closed
        self.active = 0  # requests holding one of its connections
        self.opened = 0
        self.reused = 0
        self.closed = [0, 0, 0, 0, 0]  # by reason, indexed as CLOSE_REASONS
        self.retried = 0
        self.waited = 0
        self.wait_time = 0.0

    def __lt__(self, other: OriginState[typing.Any]) -> bool:
        # Heap entries are (seq, origin): two entries for one waiter compare origins.
        return False


@dataclasses.dataclass(frozen=True)
class OriginStats:
    """Counters of one origin, or of the whole pool (``PoolStats.total``).

    Now (gauges):

    * ``active_requests``: requests holding a connection (sending, or with a response
      not yet closed);
    * ``queued_requests``: requests waiting for a connection;
    * ``active_connections``: connections in the pool that are not idle (in use, or
      still connecting);
    * ``idle_connections``: connections kept alive between requests;
    * ``closing_connections``: connections the pool is closing; they still count against
      ``max_connections`` and ``max_connections_per_origin`` until their socket is closed.

    Since the pool was created (counters):

    * ``opened``: connections the pool created (each connects on its first request; one
      that fails to connect is counted as closed with reason ``error``);
    * ``reused``: requests sent on a connection the pool had not created for them (an idle
      HTTP/1.1 connection, a shared HTTP/2 connection);
    * ``closed_expired``: closed after ``keepalive_expiry`` seconds idle;
    * ``closed_by_server``: closed by the server (while idle, or at the end of a response:
      ``Connection: close`` on either side, HTTP/1.0, bytes after the response, an HTTP/2
      GOAWAY), including the stale connections a request was retried after;
    * ``closed_error``: an exchange on it failed, timed out or was cancelled (connect
      errors included);
    * ``closed_evicted``: closed by the pool to make room for another origin at
      ``max_connections``, or beyond ``max_keepalive_connections``;
    * ``closed_pool``: closed by ``pool.close()`` / ``aclose()``;
    * ``retried``: requests sent again: on a new connection after a stale keep-alive
      connection failed (RFC 9110 §9.2.2), or on another connection (or the same one,
      for a refused HTTP/2 stream) after the one handed out could not take them
      (``ConnectionNotAvailable``: an HTTP/2 GOAWAY or REFUSED_STREAM, a connection
      that closed or failed to connect meanwhile);
    * ``waited``: requests that had to wait for a connection (queued), including those
      that then timed out or were cancelled;
    * ``wait_time``: seconds those requests spent waiting, in total (``wait_time /
      waited`` is the mean wait).

    ``opened == closed_* (summed) + active_connections + idle_connections`` for the pool
    total (a closing connection already counts as closed)."""

    active_requests: int = 0
    queued_requests: int = 0
    active_connections: int = 0
    idle_connections: int = 0
    closing_connections: int = 0
    opened: int = 0
    reused: int = 0
    closed_expired: int = 0
    closed_by_server: int = 0
    closed_error: int = 0
    closed_evicted: int = 0
    closed_pool: int = 0
    retried: int = 0
    waited: int = 0
    wait_time: float = 0.0


@dataclasses.dataclass(frozen=True)
class PoolStats:
    """What ``pool.stats()`` returns: ``total`` (:class:`OriginStats` of the whole pool,
    since it was created) and ``origins``, a dict from ``"scheme://host:port"`` (str) to
    the :class:`OriginStats` of each origin the pool holds state for now: one with
    connections (open or closing) or queued requests. An origin whose last connection
    closed is dropped from ``origins`` (so that a crawl through many origins keeps the
    pool's memory bounded); its counters stay in ``total``."""

    total: OriginStats
    origins: dict[str, OriginStats]


class PoolCore(typing.Generic[C]):
    """The pool's bookkeeping for connections of type ``C``.

    ``create(request)``: builds (does not connect) a connection for the request's origin;
    if it raises, the core's state is unchanged. ``max_connections``,
    ``max_keepalive_connections``, ``max_connections_per_origin``: ints >= 0, or None for
    no limit (``max_keepalive_connections`` is capped at ``max_connections``);
    ``keepalive_expiry``: seconds an idle connection is kept (None: no limit); ``clock``:
    seconds, monotonic.

    Every method must be called under the driver's lock; none blocks or raises (but for
    what ``create`` raises).
    """

    def __init__(
        self,
        create: typing.Callable[[Request], C],
        *,
        max_connections: int | None = None,
        max_keepalive_connections: int | None = None,
        max_connections_per_origin: int | None = None,
        keepalive_expiry: float | None = None,
        offers_http2: bool = False,
        clock: typing.Callable[[], float] = time.monotonic,
    ) -> None:
        self._create = create
        self.max_connections = sys.maxsize if max_connections is None else max_connections
        self.max_keepalive_connections = min(
            self.max_connections,
            sys.maxsize if max_keepalive_connections is None else max_keepalive_connections,
        )
        self.max_per_origin = (
            sys.maxsize if max_connections_per_origin is None else max_connections_per_origin
        )
        self.keepalive_expiry = keepalive_expiry
        self._offers_http2 = offers_http2
        self._clock = clock
        self._clear()

    def _clear(self) -> None:
        self._conns: dict[C, OriginState[C]] = {}
        self._origins: dict[OriginKey, OriginState[C]] = {}
        # An OrderedDict, not a dict: the oldest entry is taken from the front again and
        # again, and a dict's iteration would first step over every entry deleted there
        # since its last resize (O(n) per eviction with thousands of idle connections).
        self._idle: collections.OrderedDict[C, float] = collections.OrderedDict()
        self._closing: dict[C, OriginState[C]] = {}
        self._ready: list[tuple[int, OriginState[C]]] = []
        self._seq = itertools.count()
        self._queued = 0
        self._retired: OriginState[C] = OriginState((b"", b"", 0))
        self._passed_over: Waiter | None = None  # see _passed_over_twice
        # Requests holding each connection handed out as shareable (HTTP/2, or one still
        # connecting that may turn out so), and the connections unlisted while requests
        # still hold them: their releases give the requests back to their origin.
        self._shared: dict[C, int] = {}
        self._unlisted: dict[C, OriginState[C]] = {}

    # ------------------------------------------------------------------ acquiring

    @property
    def connections(self) -> dict[C, OriginState[C]]:
        """Every listed connection (creation order) -> its origin state. Connections
        being closed are no longer listed (but still counted, see :meth:`closed`)."""
        return self._conns

    def acquire(
        self,
        key: OriginKey,
        request: Request,
        closing: list[C],
        reuse: bool = True,
        retry: bool = False,
    ) -> C | None:
        """A connection for ``request`` (origin ``key``), or None if it must wait.

        An available connection of the origin (most recently released first), checked with
        ``has_expired()`` (expired ones are dropped into ``closing``); else a new one if
        the limits allow (at ``max_connections``, the least recently used idle connection
        of any origin is evicted into ``closing`` to make room). ``reuse=False``: only a
        new connection (a retry after a stale one); if the origin is at its limit, its
        least recently used idle connection makes room. ``retry``: the request is being
        sent again (after a stale connection, or a connection that could not take it:
        ``ConnectionNotAvailable``), counted in ``retried``.

        The caller closes ``closing`` before it uses the connection (a new connection may
        hold the slot of one in ``closing``: its socket must be closed first), then
        reports them with :meth:`closed`.
        """
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = OriginState(key)
        if retry:
            origin.retried += 1
        if reuse and origin.available:
            stack = origin.available
            while stack:
                connection = stack.popitem()[0]  # the most recently released
                if connection.has_expired():
                    self._drop(connection, origin, self._expired_reason(connection), closing)
                    continue
                self._idle.pop(connection, None)
                if not connection.is_available():
                    # An HTTP/2 connection out of streams, or one still in use: listed
                    # again when a request on it ends.
                    continue
                if connection._may_multiplex():
                    stack[connection] = None  # it keeps taking requests
                    self._share(connection, 1)
                origin.active += 1
                origin.reused += 1
                return connection
        origin.active += 1  # the request's: also keeps the origin while room is made
        if (
            origin.count >= self.max_per_origin
            and (reuse or not self._make_room_in(origin, closing))
        ) or (
            len(self._conns) + len(self._closing) >= self.max_connections
            # Requests already waiting for room come first.
            and (self._next_ready() is not None or not self._make_room(closing))
        ):
            origin.active -= 1
            return None  # the caller queues it (wait() keeps the origin)
        try:
            connection = self._create(request)
        except BaseException:
            origin.active -= 1
            self._retire_if_unused(origin)
            raise
        self._add(connection, origin)
        if connection._may_multiplex():
            # It may turn out HTTP/2: further requests share it (they wait for the
            # connect) instead of each opening a connection.
            origin.available[connection] = None
            self._shared[connection] = 1
        return connection

    def wait(
        self, key: OriginKey, request: Request, event: typing.Any, reuse: bool = True
    ) -> Waiter:
        """Queue ``request`` (after :meth:`acquire` returned None for it): the driver
        waits on ``event`` until the core wakes the returned waiter. ``reuse=False``: only
        a new connection will do (see :class:`Waiter`)."""
        origin = self._origins[key]  # made by acquire()
        waiter = Waiter(origin, request, event, next(self._seq), self._clock(), not reuse)
        waiters = origin.waiters
        if waiters is None:
            waiters = origin.waiters = collections.deque()
        waiters.append(waiter)
        self._queued += 1
        if len(waiters) == 1:
            self._mark_ready(origin)
        return waiter

    def cancel_wait(self, waiter: Waiter, closing: list[C]) -> list[Waiter] | None:
        """``waiter`` timed out or was cancelled: it leaves the queue, or gives back the
        connection it was handed meanwhile (a fresh one is forgotten: it never
        connected). Returns the waiters to wake."""
        origin: OriginState[C] = waiter.origin
        connection = waiter.connection
        if connection is None:
            waiters = origin.waiters
            assert waiters is not None
            head = waiters[0] is waiter
            waiters.remove(waiter)
            self._queued -= 1
            self._count_wait(origin, waiter)
            if head:
                self._mark_ready(origin)
            self._retire_if_unused(origin)
            return None
        if waiter.fresh and self._conns.get(connection) is origin:
            origin.active -= 1
            self._unshare(connection)
            self._drop(connection, origin, ERROR, closing)
            return self._grant(closing)
        return self.release(connection, closing, used=False)

    # ------------------------------------------------------------------ releasing

    def release(
        self, connection: C, closing: list[C], used: bool = True, failed: bool = False
    ) -> list[Waiter] | None:
        """A request is done with ``connection`` (response closed, or the request failed).

        It goes to the first waiter of its origin, or back to the origin's available
        stack; a closed one frees its slot. ``used``: the request ran an exchange on it (a
        used one-request-at-a-time connection that is neither reusable nor closed was left
        mid-exchange: it is closed). ``failed``: the exchange raised (the reason recorded
        if the connection is closed). Returns the waiters to wake; connections to close
        are appended to ``closing``.
        """
        origin = self._conns.get(connection)
        if origin is None:
            # No longer listed (the pool was closed, or another request on this HTTP/2
            # connection saw it end): the request goes back to its origin; the
            # connection is closed (it no longer counts), and a queued request may have
            # room.
            origin = self._unlisted.get(connection)
            if origin is not None:
                origin.active -= 1
                self._unshare(connection)
                self._retire_if_unused(origin)
            if not connection.is_closed():
                closing.append(connection)
            return self._grant(closing)
        origin.active -= 1
        if self._shared:
            self._unshare(connection)
        if not connection.is_available():  # (a reusable one is open: one check)
            if connection.is_closed():
                self._drop(connection, origin, ERROR if failed else SERVER, closing)
                return self._grant(closing)
            if used and not connection._may_multiplex():
                # Left mid-exchange (its clean-up was interrupted): never reuse it.
                self._drop(connection, origin, ERROR, closing)
                return self._grant(closing)
            return None  # an HTTP/2 connection still busy with other streams
        if connection._may_multiplex():
            return self._hand_on_multiplexed(connection, origin, closing)
        waiters = origin.waiters
        if waiters:
            if waiters[0].new_only:
                # The first in line is sent again after a stale connection: it gets a
                # new connection, in the slot of this one.
                self._drop(connection, origin, EVICTED, closing)
                return self._grant(closing)
            if connection.has_expired():
                # The server closed it (or wrote to it) as the last response ended.
                self._drop(connection, origin, SERVER, closing)
                return self._grant(closing)
            if self._ready and not self._closing and self._passed_over_twice(origin, waiters[0]):
                # A request for another origin has waited longer for room, and was
                # passed over once already: this connection makes room for it instead,
                # so that a busy origin cannot starve the others.
                self._drop(connection, origin, EVICTED, closing)
                return self._grant(closing)
            waiter = waiters.popleft()
            self._queued -= 1
            self._mark_ready(origin)
            self._hand(waiter, connection, origin)
            return [waiter]
        stack = origin.available
        if self._offers_http2:
            # Listed while it was connecting (it might have been HTTP/2): on top again.
            stack.pop(connection, None)
        stack[connection] = None
        self._idle[connection] = self._clock()
        if len(self._idle) > self.max_keepalive_connections or self.keepalive_expiry is not None:
            self._trim_idle(closing)
        if self._ready:
            return self._grant(closing)
        return None

    def _passed_over_twice(self, origin: OriginState[C], first: Waiter) -> bool:
        """Whether handing a released connection of ``origin`` to its ``first`` waiter
        would pass over the longest-waiting request that needs room (another origin's,
        queued before ``first``) a second time. A request is passed over at most once:
        own-origin reuse first, but no origin starves."""
        head = self._next_ready()
        if head is None or head is origin:
            return False
        oldest = head.waiters[0]  # type: ignore[index]
        if oldest.seq > first.seq:
            return False
        if self._passed_over is oldest:
            self._passed_over = None
            return True
        self._passed_over = oldest
        return False

    def _hand_on_multiplexed(
        self, connection: C, origin: OriginState[C], closing: list[C]
    ) -> list[Waiter] | None:
        """An HTTP/2 connection with room takes every request waiting for its origin (it
        queues them on its own stream limit)."""
        stack = origin.available
        if connection not in stack:
            stack[connection] = None
        waiters = origin.waiters
        if waiters:
            served = list(waiters)
            waiters.clear()
            self._queued -= len(served)
            self._share(connection, len(served))
            for waiter in served:
                self._hand(waiter, connection, origin)
            self._idle.pop(connection, None)
            return served
        if connection.is_idle() and connection not in self._idle:
            self._idle[connection] = self._clock()
            self._trim_idle(closing)
        if self._ready:
            return self._grant(closing)
        return None

    def closed(self, connections: typing.Iterable[C], closing: list[C]) -> list[Waiter] | None:
        """``connections`` (from a ``closing`` list) are closed now: their slots are free.
        Returns the waiters to wake; more connections to close (evicted to make room for
        a waiter) are appended to ``closing``."""
        for connection in connections:
            origin = self._closing.pop(connection, None)
            if origin is not None:
                self._uncount(origin)
        return self._grant(closing)

    def close_all(self, closing: list[C]) -> None:
        """The pool is closed: every listed connection goes to ``closing`` (counted
        until :meth:`closed`: queued requests then get the slots). Requests in flight
        fail on their closed connections; their release finds them unlisted and gives
        the request back to its origin."""
        shared, idle = self._shared, self._idle
        for connection, origin in list(self._conns.items()):
            if connection not in shared and connection not in idle:
                shared[connection] = 1  # held by its one request (HTTP/1.1)
            self._drop(connection, origin, POOL_CLOSED, closing)

    def reset(self) -> list[C]:
        """Forget everything (in a forked child); returns the connections the pool held
        (listed or closing), whose file descriptors the child must release."""
        inherited = list(self._conns) + list(self._closing)
        self._clear()
        return inherited

    # ------------------------------------------------------------------ statistics

    def active_requests(self) -> int:
        return sum(origin.active for origin in self._origins.values())

    def queued_requests(self) -> int:
        return self._queued

    def stats(self) -> PoolStats:
        """The :class:`PoolStats` now (O(connections + origins))."""
        idle: collections.Counter[OriginKey] = collections.Counter()
        for connection in self._idle:
            idle[self._conns[connection].key] += 1
        listed = collections.Counter(origin.key for origin in self._conns.values())
        closing = collections.Counter(origin.key for origin in self._closing.values())
        origins = {}
        for key, origin in self._origins.items():
            origins[_origin_name(key)] = _origin_stats(
                origin, idle[key], listed[key] - idle[key], closing[key]
            )
        total = _origin_stats(
            self._retired,
            len(self._idle),
            len(self._conns) - len(self._idle),
            len(self._closing),
            also=self._origins.values(),
        )
        return PoolStats(total=total, origins=origins)

    # ------------------------------------------------------------------ internals

    def _add(self, connection: C, origin: OriginState[C]) -> None:
        self._conns[connection] = origin
        origin.count += 1
        origin.opened += 1

    def _hand(self, waiter: Waiter, connection: C, origin: OriginState[C]) -> None:
        """Give ``waiter`` an open connection of its origin."""
        waiter.connection = connection
        origin.active += 1
        origin.reused += 1
        self._count_wait(origin, waiter)

    def _count_wait(self, origin: OriginState[C], waiter: Waiter) -> None:
        origin.waited += 1
        origin.wait_time += self._clock() - waiter.since

    def _make_room(self, closing: list[C]) -> bool:
        """At ``max_connections`` (connections being closed count): free one slot for
        the caller, who closes ``closing`` before using it. A connection already in
        ``closing`` gives its slot, or else the least recently used idle connection is
        evicted into ``closing``. False if nothing can go."""
        for connection in closing:
            origin = self._closing.pop(connection, None)
            if origin is not None:
                self._uncount(origin)
                return True
        if self._idle:
            oldest = next(iter(self._idle))
            self._drop(oldest, self._conns[oldest], EVICTED, closing, counted=False)
            return True
        return False

    def _make_room_in(self, origin: OriginState[C], closing: list[C]) -> bool:
        """At the origin's limit: evict its least recently used idle connection into
        ``closing`` (its slot handed on at once). False if it has none."""
        for connection in origin.available:
            if connection in self._idle:
                self._drop(connection, origin, EVICTED, closing, counted=False)
                return True
        return False

    def _drop(
        self,
        connection: C,
        origin: OriginState[C],
        reason: int,
        closing: list[C],
        counted: bool = True,
    ) -> None:
        """Unlist ``connection`` (closed for ``reason``; for the reasons the pool reads
        from the connection's state, the connection's own ``_close_reason()`` when it
        gives one). An open one goes to ``closing``, counted until :meth:`closed` unless
        ``counted`` is false (its slot is handed on at once: the caller closes it before
        using the slot)."""
        del self._conns[connection]
        self._idle.pop(connection, None)
        origin.available.pop(connection, None)
        if self._shared.get(connection):
            self._unlisted[connection] = origin  # requests still hold it
        if reason <= ERROR:
            reason = _CONNECTION_REASONS.get(connection._close_reason() or "", reason)
        origin.closed[reason] += 1
        if connection.is_closed():
            self._uncount(origin)
            return
        closing.append(connection)
        if counted:
            self._closing[connection] = origin
        else:
            self._uncount(origin)

    def _share(self, connection: C, requests: int) -> None:
        """``requests`` more requests hold the shareable ``connection``."""
        shared = self._shared
        shared[connection] = shared.get(connection, 0) + requests

    def _unshare(self, connection: C) -> None:
        """A request holding ``connection`` gave it back (if it was counted: shareable
        ones, and those closed with the pool); at the last one it is forgotten."""
        count = self._shared.get(connection)
        if count is None:
            return
        if count > 1:
            self._shared[connection] = count - 1
        else:
            del self._shared[connection]
            self._unlisted.pop(connection, None)

    def _uncount(self, origin: OriginState[C]) -> None:
        """One connection of ``origin`` is gone: its slot (and the origin's) is free."""
        origin.count -= 1
        if origin.waiters:
            if origin.count == self.max_per_origin - 1:
                self._mark_ready(origin)
        else:
            self._retire_if_unused(origin)

    def _retire_if_unused(self, origin: OriginState[C]) -> None:
        """Forget an origin with no connection and no waiter; its counters go to the
        pool's total."""
        if origin.count or origin.waiters or origin.active:
            return
        if self._origins.get(origin.key) is origin:
            del self._origins[origin.key]
            retired = self._retired
            retired.opened += origin.opened
            retired.reused += origin.reused
            retired.retried += origin.retried
            retired.waited += origin.waited
            retired.wait_time += origin.wait_time
            retired.closed = list(map(operator.add, retired.closed, origin.closed))

    def _mark_ready(self, origin: OriginState[C]) -> None:
        """``origin``'s first waiter may now be granted a new connection: enter it in the
        ready heap (stale entries are skipped when popped)."""
        waiters = origin.waiters
        if waiters and origin.count < self.max_per_origin:
            heapq.heappush(self._ready, (waiters[0].seq, origin))

    def _next_ready(self) -> OriginState[C] | None:
        """The origin of the longest-waiting request that may open a connection."""
        ready = self._ready
        while ready:
            seq, origin = ready[0]
            waiters = origin.waiters
            if waiters and waiters[0].seq == seq and origin.count < self.max_per_origin:
                return origin
            heapq.heappop(ready)
        return None

    def _grant(self, closing: list[C]) -> list[Waiter] | None:
        """While there is room, open a connection for the longest-waiting request that
        may have one. Without room, evict the least recently used idle connection
        (unless a close already under way will free a slot): the waiter gets the slot
        once it is closed."""
        woken: list[Waiter] | None = None
        while True:
            origin = self._next_ready()
            if origin is None:
                return woken
            if len(self._conns) + len(self._closing) >= self.max_connections:
                if self._idle and not self._closing:
                    oldest = next(iter(self._idle))
                    self._drop(oldest, self._conns[oldest], EVICTED, closing)
                return woken
            waiters = origin.waiters
            assert waiters
            # Create first: if the factory raises, the waiter is still queued.
            connection = self._create(waiters[0].request)
            waiter = waiters.popleft()
            self._queued -= 1
            self._add(connection, origin)
            origin.active += 1
            waiter.connection = connection
            waiter.fresh = True
            if connection._may_multiplex():
                self._shared[connection] = 1
            self._count_wait(origin, waiter)
            self._mark_ready(origin)
            if woken is None:
                woken = [waiter]
            else:
                woken.append(waiter)

    def _trim_idle(self, closing: list[C]) -> None:
        """Close the idle connections idle for longer than ``keepalive_expiry``, then the
        least recently used beyond ``max_keepalive_connections``."""
        idle = self._idle
        expiry = self.keepalive_expiry
        if expiry is not None and idle:
            now = self._clock()
            while idle:
                oldest = next(iter(idle))
                if now - idle[oldest] <= expiry:
                    break
                self._drop(oldest, self._conns[oldest], EXPIRED, closing)
        while len(idle) > self.max_keepalive_connections:
            oldest = next(iter(idle))
            self._drop(oldest, self._conns[oldest], EVICTED, closing)

    def _expired_reason(self, connection: C) -> int:
        """Why an available connection reports ``has_expired()``: its keep-alive expiry
        (the connection starts its clock just before the pool's, hence the margin), or
        else the server closed it or wrote to it while idle."""
        expiry = self.keepalive_expiry
        since = self._idle.get(connection)
        if expiry is not None and since is not None:
            if self._clock() - since >= expiry - min(0.05, expiry / 2):
                return EXPIRED
        return SERVER


def _origin_name(key: OriginKey) -> str:
    scheme, host, port = key
    return f"{scheme.decode('ascii')}://{host.decode('ascii')}:{port}"


def _origin_stats(
    origin: OriginState[typing.Any],
    idle: int,
    active: int,
    closing: int,
    also: typing.Iterable[OriginState[typing.Any]] = (),
) -> OriginStats:
    """``origin``'s counters (plus those of ``also``) with the given gauges."""
    parts = [origin, *also]
    closed = [sum(part.closed[index] for part in parts) for index in range(len(CLOSE_REASONS))]
    return OriginStats(
        active_requests=sum(part.active for part in parts),
        queued_requests=sum(len(part.waiters or ()) for part in parts),
        active_connections=active,
        idle_connections=idle,
        closing_connections=closing,
        opened=sum(part.opened for part in parts),
        reused=sum(part.reused for part in parts),
        closed_expired=closed[EXPIRED],
        closed_by_server=closed[SERVER],
        closed_error=closed[ERROR],
        closed_evicted=closed[EVICTED],
        closed_pool=closed[POOL_CLOSED],
        retried=sum(part.retried for part in parts),
        waited=sum(part.waited for part in parts),
        wait_time=sum(part.wait_time for part in parts),
    )

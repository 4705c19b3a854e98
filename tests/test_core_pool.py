"""The pool's sans-I/O core (``httpcore_fast/_core/pool.py``), without sockets.

Fake connections say what a real one would (available, idle, expired, closed, HTTP/2);
a fake clock drives expiry and wait times. Each test plays the driver: it acquires,
queues, releases, closes what the core says and reports it closed, and checks the
decisions: reuse order, FIFO waiters, per-origin limits, eviction at the cap, slots held
until a close completes, stale retries on new connections, statistics. A seeded random
walk checks the invariants over many interleavings.
"""

from __future__ import annotations

import random
import typing

import pytest

from httpcore_fast import Request
from httpcore_fast._core.pool import OriginKey, PoolCore, Waiter

A: OriginKey = (b"http", b"a.example", 80)
B: OriginKey = (b"http", b"b.example", 80)
C: OriginKey = (b"https", b"c.example", 443)


def request_for(key: OriginKey) -> Request:
    scheme, host, port = key
    return Request("GET", f"{scheme.decode()}://{host.decode()}:{port}/")


class Fake:
    """A connection as the core sees it. ``busy`` while a request uses it (HTTP/1.1);
    ``multiplex`` for an HTTP/2 one (available while it has ``streams`` < 2)."""

    def __init__(self, key: OriginKey, multiplex: bool = False) -> None:
        self.key = key
        self.multiplex = multiplex
        self.busy = 0
        self.expired = False
        self.closed = False
        self.reason: str | None = None
        self.close_calls = 0

    def is_available(self) -> bool:
        return not self.closed and (self.busy < 2 if self.multiplex else not self.busy)

    def has_expired(self) -> bool:
        return self.expired or self.closed

    def is_idle(self) -> bool:
        return not self.busy

    def is_closed(self) -> bool:
        return self.closed

    def _may_multiplex(self) -> bool:
        return self.multiplex

    def _close_reason(self) -> str | None:
        return self.reason

    def __repr__(self) -> str:
        return f"<Fake {self.key[1].decode()} busy={self.busy} closed={self.closed}>"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Driver:
    """Plays the pool driver around one :class:`PoolCore`: connections made by the
    factory are recorded. What acquiring drops is closed at once (the driver closes it
    before the request connects); what a release drops is closed when the test says
    (``finish_closing``), so that a test sees the slots held by connections closing
    meanwhile."""

    def __init__(self, multiplex: bool = False, **limits: typing.Any) -> None:
        self.clock = Clock()
        self.made: list[Fake] = []
        self.multiplex = multiplex
        self.fail_create = False
        self.core: PoolCore[Fake] = PoolCore(self.create, clock=self.clock, **limits)
        self.closing: list[Fake] = []
        self.woken: list[Waiter] = []

    def create(self, request: Request) -> Fake:
        if self.fail_create:
            raise RuntimeError("factory failed")
        url = request.url
        connection = Fake((url.scheme, url.host, url.port or 80), self.multiplex)
        self.made.append(connection)
        return connection

    def acquire(self, key: OriginKey, reuse: bool = True, retry: bool = False) -> Fake | Waiter:
        closing: list[Fake] = []
        connection = self.core.acquire(key, request_for(key), closing, reuse, retry or not reuse)
        got: Fake | Waiter
        if connection is None:
            got = self.core.wait(key, request_for(key), None, reuse)
        else:
            connection.busy += 1
            got = connection
        self.acquired_closing = list(closing)
        self._close(closing)
        return got

    def take(self, key: OriginKey) -> Fake:
        got = self.acquire(key)
        assert isinstance(got, Fake), got
        return got

    def queue(self, key: OriginKey, reuse: bool = True) -> Waiter:
        got = self.acquire(key, reuse)
        assert isinstance(got, Waiter), got
        return got

    def _woke(self, woken: list[Waiter] | None) -> None:
        for waiter in woken or ():
            waiter.connection.busy += 1
            self.woken.append(waiter)

    def release(self, connection: Fake, **kwargs: typing.Any) -> None:
        connection.busy -= 1
        closing: list[Fake] = []
        self._woke(self.core.release(connection, closing, **kwargs))
        self.closing += closing

    def cancel(self, waiter: Waiter) -> None:
        closing: list[Fake] = []
        if waiter.connection is not None:
            waiter.connection.busy -= 1
        self._woke(self.core.cancel_wait(waiter, closing))
        self.closing += closing

    def finish_closing(self) -> list[Fake]:
        """Close everything the core said to close, report it, repeat until done."""
        batch, self.closing = self.closing, []
        return self._close(batch)

    def _close(self, batch: list[Fake]) -> list[Fake]:
        done = []
        while batch:
            for connection in batch:
                connection.closed = True
                connection.close_calls += 1
            done += batch
            closing: list[Fake] = []
            self._woke(self.core.closed(batch, closing))
            batch = closing
        return done

    def held(self) -> int:
        """Connections counted against max_connections: listed or still closing."""
        return len(self.core.connections) + len(self.closing_now())

    def closing_now(self) -> list[Fake]:
        return [c for c in self.closing if not c.closed]


# --- reuse -------------------------------------------------------------------------------


def test_an_idle_connection_is_reused_most_recent_first() -> None:
    driver = Driver()
    first, second = driver.take(A), driver.take(A)
    driver.release(first)
    driver.release(second)
    assert driver.take(A) is second  # the warmest socket
    assert driver.take(A) is first
    assert len(driver.made) == 2
    stats = driver.core.stats()
    assert (stats.total.opened, stats.total.reused) == (2, 2)
    assert stats.origins["http://a.example:80"].active_requests == 2


def test_an_expired_connection_is_dropped_at_hand_out() -> None:
    driver = Driver(keepalive_expiry=5.0)
    stale, fresh = driver.take(A), driver.take(A)
    driver.release(stale)
    driver.release(fresh)
    fresh.expired = True  # readable: the server closed it, long before the expiry
    assert driver.take(A) is stale
    assert driver.acquired_closing == [fresh] and fresh.closed
    assert driver.core.stats().total.closed_by_server == 1
    driver.release(stale)
    driver.clock.now += 5.0
    stale.expired = True  # its own keep-alive expiry
    assert driver.take(A) is driver.made[-1]
    assert driver.acquired_closing == [stale]
    stats = driver.core.stats().total
    assert (stats.closed_expired, stats.closed_by_server) == (1, 1)


def test_keepalive_expiry_and_max_keepalive_trim_idle_connections() -> None:
    driver = Driver(max_keepalive_connections=1, keepalive_expiry=5.0)
    first, second = driver.take(A), driver.take(B)
    driver.release(first)
    driver.release(second)  # one idle connection at most: the older one goes
    assert driver.finish_closing() == [first]
    driver.clock.now += 6.0
    third = driver.take(C)
    driver.release(third)  # releasing trims what expired meanwhile
    assert driver.finish_closing() == [second]
    stats = driver.core.stats()
    assert (stats.total.closed_evicted, stats.total.closed_expired) == (1, 1)
    assert list(stats.origins) == ["https://c.example:443"]  # A and B are forgotten


def test_a_connection_that_says_why_it_closed_is_counted_so() -> None:
    driver = Driver()
    connection = driver.take(A)
    connection.closed, connection.reason = True, "expired"  # e.g. HTTP/2 ids used up
    driver.release(connection)
    assert driver.core.stats().total.closed_expired == 1


# --- waiting -----------------------------------------------------------------------------


def test_waiters_are_served_first_in_first_out() -> None:
    driver = Driver(max_connections=1)
    held = driver.take(A)
    waiters = [driver.queue(A) for _ in range(3)]
    assert driver.core.queued_requests() == 3
    for waiter in waiters:
        driver.release(held)
        assert driver.woken[-1] is waiter and waiter.connection is held and not waiter.fresh
        held = waiter.connection
    assert len(driver.made) == 1


def test_a_released_connection_goes_to_a_waiter_of_its_own_origin_first() -> None:
    """The first waiter wants another origin; one for the released connection's origin
    queues behind it: it gets the connection (no handshake), the other waits for room."""
    driver = Driver(max_connections=2)
    a, b = driver.take(A), driver.take(B)
    for_c = driver.queue(C)
    for_a = driver.queue(A)
    driver.release(a)
    assert driver.woken == [for_a] and for_a.connection is a
    driver.release(b)  # nobody wants B: it makes room for C, once closed
    assert driver.woken == [for_a] and driver.closing == [b]
    assert driver.held() == 2  # b still counts while it closes
    driver.finish_closing()
    assert driver.woken == [for_a, for_c] and for_c.fresh
    assert driver.core.stats().total.closed_evicted == 1


def test_a_busy_origin_does_not_starve_a_request_for_another() -> None:
    """Own-origin reuse first, but the longest-waiting request of another origin is
    passed over once only: the next released connection makes room for it."""
    driver = Driver(max_connections=1)
    a = driver.take(A)
    for_b = driver.queue(B)
    first_a = driver.queue(A)
    driver.release(a)  # to A's own waiter, past B's once
    assert first_a.connection is a and for_b.connection is None
    second_a = driver.queue(A)
    driver.release(a)  # B's request was passed over already: a makes room for it
    assert second_a.connection is None and for_b.connection is None
    assert driver.closing == [a]
    driver.finish_closing()
    assert for_b.fresh and for_b.connection is driver.made[-1]
    driver.release(for_b.connection)  # idle, nobody wants B: room for A's waiter
    driver.finish_closing()
    assert second_a.fresh and second_a.connection is driver.made[-1]
    assert driver.core.stats().total.closed_evicted == 2


def test_at_the_cap_the_least_recently_used_idle_connection_makes_room() -> None:
    driver = Driver(max_connections=2)
    a, b = driver.take(A), driver.take(B)
    driver.release(a)
    driver.release(b)
    c = driver.take(C)  # a is the least recently used: its slot goes to c at once
    assert driver.acquired_closing == [a] and c is driver.made[-1]
    assert len(driver.core.connections) == 2
    assert driver.core.stats().total.closed_evicted == 1


def test_a_closing_connection_holds_its_slot_until_closed() -> None:
    driver = Driver(max_connections=1, max_keepalive_connections=0)
    a = driver.take(A)
    driver.release(a)  # not kept: closing
    waiter = driver.queue(B)  # a still holds the only slot
    assert driver.closing == [a] and waiter.connection is None
    assert driver.held() == 1
    driver.finish_closing()
    assert waiter.connection is driver.made[-1] and waiter.fresh


def test_a_new_request_does_not_jump_ahead_of_a_queued_one() -> None:
    driver = Driver(max_connections=1)
    a = driver.take(A)
    first = driver.queue(B)
    driver.release(a)  # idle, and evicted for the B waiter: closing
    later = driver.acquire(C)  # room would come from an idle connection: none left
    assert isinstance(later, Waiter)
    driver.finish_closing()
    assert driver.woken[0] is first
    driver.release(first.connection)
    driver.finish_closing()
    assert later.connection is not None


def test_cancelled_waiters_leave_no_trace() -> None:
    driver = Driver(max_connections=1)
    a = driver.take(A)
    gone, kept = driver.queue(A), driver.queue(A)
    driver.cancel(gone)
    assert driver.core.queued_requests() == 1
    driver.release(a)
    assert kept.connection is a
    # handed a fresh connection, then cancelled: it is dropped and its slot passed on
    driver.release(a)
    driver.take(A)  # reuse
    b_waiter = driver.queue(B)
    driver.release(a)
    driver.finish_closing()
    assert b_waiter.fresh
    next_b = driver.queue(B)
    driver.cancel(b_waiter)
    driver.finish_closing()
    assert next_b.connection is not None and next_b.fresh
    stats = driver.core.stats().total
    assert stats.waited == 4 and stats.queued_requests == 0


def test_a_failing_factory_leaves_the_waiter_queued() -> None:
    driver = Driver(max_connections=1)
    a = driver.take(A)
    waiter = driver.queue(B)
    driver.fail_create = True
    a.closed = True
    with pytest.raises(RuntimeError):
        driver.release(a)
    assert waiter.connection is None and driver.core.queued_requests() == 1
    driver.fail_create = False
    assert driver.take(B) is driver.made[-1]  # room (the waiter could not have it)


def test_wait_time_is_counted() -> None:
    driver = Driver(max_connections=1)
    a = driver.take(A)
    waiter = driver.queue(A)
    driver.clock.now += 2.5
    driver.release(a)
    assert waiter.connection is a
    stats = driver.core.stats().origins["http://a.example:80"]
    assert (stats.waited, stats.wait_time) == (1, 2.5)


# --- per-origin limits -------------------------------------------------------------------


def test_a_full_origin_does_not_block_other_origins() -> None:
    driver = Driver(max_connections=10, max_connections_per_origin=2)
    a1, a2 = driver.take(A), driver.take(A)
    queued = [driver.queue(A) for _ in range(3)]
    b = driver.take(B)  # not blocked by A's queue
    assert b.key == B
    for waiter in queued:
        driver.release(a1)
        assert driver.woken[-1] is waiter  # FIFO within the origin
        a1 = waiter.connection
    assert len([c for c in driver.made if c.key == A]) == 2
    assert a2.busy == 1


def test_a_waiter_for_a_full_origin_does_not_hold_up_the_queue() -> None:
    """No starvation either way: the slot freed by B goes to C although the A waiter
    came first (A is at its limit); A's waiter gets A's connection when it is released."""
    driver = Driver(max_connections=2, max_connections_per_origin=1)
    a, b = driver.take(A), driver.take(B)
    for_a = driver.queue(A)
    for_c = driver.queue(C)
    b.closed = True
    driver.release(b)
    assert driver.woken == [for_c]
    driver.release(a)
    assert driver.woken == [for_c, for_a] and for_a.connection is a


def test_a_closing_connection_counts_against_its_origin() -> None:
    driver = Driver(max_connections_per_origin=1)
    a = driver.take(A)
    driver.release(a)
    a.expired = True
    waiter = driver.acquire(A)  # a is expired and closing: A is still full
    assert isinstance(waiter, Waiter)
    driver.finish_closing()
    assert waiter.connection is driver.made[-1]


# --- stale retries -----------------------------------------------------------------------


def test_a_retry_gets_a_new_connection() -> None:
    driver = Driver(max_connections_per_origin=2)
    a1, a2 = driver.take(A), driver.take(A)
    driver.release(a2)
    a1.closed = True
    driver.release(a1)  # the stale one
    retry = driver.acquire(A, reuse=False)  # a2 is idle: not reused, a new one
    assert isinstance(retry, Fake) and retry not in (a1, a2)
    assert driver.core.stats().total.retried == 1


def test_a_request_sent_again_on_any_connection_is_counted() -> None:
    """After ConnectionNotAvailable the request may reuse a connection (HTTP/2)."""
    driver = Driver(multiplex=True)
    a = driver.take(A)
    driver.release(a)
    assert driver.acquire(A, retry=True) is a
    total = driver.core.stats().total
    assert (total.retried, total.reused, total.opened) == (1, 1, 1)


def test_a_retry_at_the_origin_limit_evicts_an_idle_connection_of_it() -> None:
    driver = Driver(max_connections_per_origin=1)
    a = driver.take(A)
    driver.release(a)
    retry = driver.acquire(A, reuse=False)
    assert isinstance(retry, Fake) and retry is not a
    assert driver.acquired_closing == [a]


def test_a_queued_retry_is_not_handed_a_used_connection() -> None:
    driver = Driver(max_connections=1)
    a = driver.take(A)
    retry = driver.queue(A, reuse=False)
    driver.release(a)  # closed to give the retry a new connection in its slot
    assert driver.closing == [a] and retry.connection is None
    driver.finish_closing()
    assert retry.fresh and retry.connection is not a


# --- HTTP/2 ------------------------------------------------------------------------------


def test_a_multiplexed_connection_is_shared_and_serves_every_waiter() -> None:
    driver = Driver(multiplex=True, max_connections=1)
    first = driver.take(A)
    assert driver.take(A) is first  # listed while connecting: shared
    waiters = [driver.queue(A) for _ in range(3)]  # out of streams: they wait
    driver.release(first)
    assert driver.woken == waiters and all(w.connection is first for w in waiters)
    assert first.busy == 4


# --- lifecycle ---------------------------------------------------------------------------


def test_requests_on_an_http2_connection_another_release_dropped_are_given_back() -> None:
    """Two requests share an HTTP/2 connection that ends (GOAWAY): the first release
    unlists it; the second must still give its request back, so the origin retires."""
    driver = Driver(multiplex=True)
    first = driver.take(A)
    assert driver.take(A) is first
    first.closed = True
    driver.release(first)
    assert driver.core.active_requests() == 1
    driver.release(first)
    stats = driver.core.stats()
    assert driver.core.active_requests() == 0 and stats.origins == {}
    assert (stats.total.opened, stats.total.reused, stats.total.closed_by_server) == (1, 1, 1)


def test_close_all_then_late_releases() -> None:
    driver = Driver(max_connections=1)
    a = driver.take(A)
    waiter = driver.queue(B)
    driver.core.close_all(driver.closing)
    assert driver.core.connections == {}
    driver.finish_closing()
    assert waiter.fresh  # the queued request got the slot back
    driver.release(a)  # released after the pool closed it: nothing more to do
    assert driver.closing == []
    stats = driver.core.stats().total
    assert stats.closed_pool == 1 and stats.active_requests == 1  # the waiter's
    assert list(driver.core.stats().origins) == ["http://b.example:80"]  # A retired


def test_reset_forgets_everything() -> None:
    driver = Driver(max_connections=2)
    a, b = driver.take(A), driver.take(B)
    driver.release(b)
    b.expired = True
    b2 = driver.take(B)
    driver.release(b2)
    driver.core.close_all([])  # closing, not yet closed: still the pool's
    inherited = driver.core.reset()
    assert set(inherited) == {a, b2}
    assert driver.core.connections == {} and driver.core.stats().total.opened == 0


# --- invariants over many interleavings --------------------------------------------------


@pytest.mark.parametrize("per_origin", [None, 1, 2])
@pytest.mark.parametrize("multiplex", [False, True], ids=["http11", "http2"])
def test_random_walk_keeps_the_invariants(per_origin: int | None, multiplex: bool) -> None:
    rng = random.Random(20261207)
    driver = Driver(
        multiplex=multiplex,
        max_connections=4,
        max_keepalive_connections=3,
        max_connections_per_origin=per_origin,
        keepalive_expiry=3.0,
    )
    keys = [A, B, C, (b"http", b"d.example", 80)]
    using: list[Fake] = []
    waiting: list[Waiter] = []
    served: dict[OriginKey, list[int]] = {key: [] for key in keys}
    for _ in range(4000):
        move = rng.random()
        if move < 0.35:
            key = rng.choice(keys)
            got = driver.acquire(key, reuse=rng.random() > 0.05)
            (using if isinstance(got, Fake) else waiting).append(got)  # type: ignore[arg-type]
        elif move < 0.7 and using:
            connection = using.pop(rng.randrange(len(using)))
            roll = rng.random()
            if roll < 0.1:
                connection.closed = True
            elif roll < 0.15:
                connection.expired = True
            driver.release(connection)
        elif move < 0.75 and waiting:
            waiter = waiting.pop(rng.randrange(len(waiting)))
            driver.cancel(waiter)
        elif move < 0.85:
            driver.finish_closing()
        else:
            driver.clock.now += rng.random()
        for waiter in [w for w in waiting if w.connection is not None]:
            waiting.remove(waiter)
            using.append(waiter.connection)
            served[waiter.key].append(waiter.seq)
        check_invariants(driver, per_origin, waiting)
    # FIFO within each origin: every origin's waiters were served in arrival order
    for seqs in served.values():
        assert seqs == sorted(seqs)
    # drain: everything finishes, nobody is left waiting
    for _ in range(200):
        for connection in using:
            driver.release(connection)
        using = []
        driver.finish_closing()
        for waiter in [w for w in waiting if w.connection is not None]:
            waiting.remove(waiter)
            using.append(waiter.connection)
        if not waiting and not using:
            break
    assert not waiting and not using
    assert driver.core.active_requests() == 0
    assert driver.core._shared == {} and driver.core._unlisted == {}
    stats = driver.core.stats().total
    assert stats.opened == (
        stats.closed_expired + stats.closed_by_server + stats.closed_error
        + stats.closed_evicted + stats.closed_pool
        + stats.active_connections + stats.idle_connections
    )  # fmt: skip


def check_invariants(driver: Driver, per_origin: int | None, waiting: list[Waiter]) -> None:
    core = driver.core
    open_now = [c for c in driver.made if not c.closed]
    assert len(open_now) <= 4  # sockets open never exceed max_connections
    assert driver.held() <= 4
    if per_origin is not None:
        for key in {c.key for c in open_now}:
            assert sum(c.key == key for c in open_now) <= per_origin
    for connection in core.connections:
        assert not connection.closed
    # nobody waits while there is room for its origin and nothing is being closed
    if not driver.closing_now() and len(core.connections) < 4:
        for waiter in waiting:
            if waiter.connection is None:
                same = sum(c.key == waiter.key for c in core.connections)
                assert per_origin is not None and same >= per_origin or (
                    driver.multiplex and same
                ), (waiter.key, core.connections)
    assert core.queued_requests() == sum(w.connection is None for w in waiting)

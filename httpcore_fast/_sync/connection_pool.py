"""The connection pool: origin-indexed, O(1) acquire and release, FIFO waiters.

Generated from ``httpcore_fast/_async/connection_pool.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

State (guarded by one lock, never held across an ``await``):

* ``_pool``: every connection, in creation order (an insertion-ordered dict used as a set);
* ``_available``: per origin, a stack of connections that can take a request now (LIFO:
  the most recently used socket is the warmest);
* ``_idle_since``: the same connections, oldest first, with the time they became idle,
  for ``max_keepalive_connections``, ``keepalive_expiry`` and making room for other origins;
* ``_waiters``: requests waiting for a connection, first in first out.

Only the connection handed out is checked for liveness (``has_expired``). Connections are
closed outside the lock. Every path that gives up a connection (response closed, error,
cancellation, timeout while waiting) returns its slot, so slots never leak.
"""

from __future__ import annotations

import collections
import os
import ssl
import sys
import time
import types
import typing
import weakref

from .._backends.base import SOCKET_OPTION, NetworkBackend
from .._core.config import ConnectionConfig, config_property
from .._core.origin import REQUEST_PORTS, unsupported_scheme
from .._exceptions import ConnectionNotAvailable, UnsupportedProtocol
from .._limits import ResponseLimits
from .._models import BodyStream, Origin, Proxy, Request, Response
from .._synchronization import Event, ShieldCancellation, ThreadLock
from .connection import connection_config, http_connection
from .interfaces import ConnectionInterface, RequestInterface

OriginKey = typing.Tuple[bytes, bytes, int]

# How a pool makes a connection: ``factory(origin, config)``, not yet connected.
ConnectionFactory = typing.Callable[
    [Origin, ConnectionConfig[NetworkBackend]], ConnectionInterface
]
# Proxy support plugs in here rather than being imported by the pool (dependencies point
# down): ``http_proxy`` and ``socks_proxy`` register, per proxy URL scheme, a function
# that turns ``Proxy(...)`` into the factory of connections through that proxy.
_proxy_factories: dict[bytes, typing.Callable[[Proxy], ConnectionFactory]] = {}


def register_proxy_factory(
    schemes: typing.Iterable[bytes], factory: typing.Callable[[Proxy], ConnectionFactory]
) -> None:
    """Route pools whose ``proxy`` URL has one of ``schemes`` through the connection
    factory that ``factory(proxy)`` returns."""
    for scheme in schemes:
        _proxy_factories[scheme] = factory


# Fork safety: a child process must not use (or shut down) the sockets it inherited from
# its parent's pools. After fork, each live pool in the child forgets its connections and
# closes its copies of their file descriptors, then starts empty.
_live_pools: weakref.WeakSet[ConnectionPool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_live_pools):
        try:
            pool._forget_inherited_connections()
        except Exception:  # pragma: no cover - a broken pool must not stop the others
            continue


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _Waiter:
    """A request waiting for a connection (or for permission to open one)."""

    __slots__ = ("key", "request", "event", "connection", "fresh")

    def __init__(self, key: OriginKey, request: Request, event: Event) -> None:
        self.key = key
        self.request = request
        self.event = event
        self.connection: ConnectionInterface | None = None
        self.fresh = False  # the connection was created for this waiter, never used


class ConnectionPool(RequestInterface):
    """A pool of connections, shared by all requests made through it.

    Parameters (httpcore 1.0.x's): ``ssl_context`` for https origins (default: the
    process-wide certifi context); ``proxy`` (``Proxy``); ``max_connections`` (None: no
    limit); ``max_keepalive_connections`` idle connections kept (None: up to
    ``max_connections``); ``keepalive_expiry`` seconds an idle connection is kept (None:
    no limit); ``http1`` / ``http2`` protocols to offer; ``retries`` connect retries;
    ``local_address`` to bind; ``uds`` a Unix socket path to connect to instead of TCP;
    ``network_backend``; ``socket_options``. Beyond httpcore: ``limits``, a
    ``ResponseLimits`` bounding what servers may send (sizes, counts, a head deadline).

    The connection settings make one ``ConnectionConfig``, built here and handed to every
    connection the pool creates (direct or through the proxy).
    """

    # httpcore's private attribute names for the connection settings, read-only: code
    # written for httpcore reads them (subclasses overriding create_connection the way
    # httpcore's does; tests/test_httpx_transport.py). Ours read ``self._config``.
    _ssl_context = config_property("ssl_context")
    _keepalive_expiry = config_property("keepalive_expiry")
    _http1 = config_property("http1")
    _http2 = config_property("http2")
    _retries = config_property("retries")
    _local_address = config_property("local_address")
    _uds = config_property("uds")
    _network_backend = config_property("network_backend")
    _socket_options = config_property("socket_options")
    _limits = config_property("limits")

    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        proxy: Proxy | None = None,
        max_connections: int | None = 10,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        network_backend: NetworkBackend | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
        *,
        limits: ResponseLimits | None = None,
    ) -> None:
        self._config = connection_config(
            ssl_context=ssl_context, keepalive_expiry=keepalive_expiry, http1=http1,
            http2=http2, retries=retries, local_address=local_address, uds=uds,
            network_backend=network_backend, socket_options=socket_options, limits=limits,
        )
        # Read on every release: kept here rather than one attribute further away.
        self._offers_http2 = http2
        self._keepalive = keepalive_expiry
        self._proxy = proxy
        self._connection_factory: ConnectionFactory = http_connection
        if proxy is not None:
            proxy_factory = _proxy_factories.get(proxy.url.scheme)
            if proxy_factory is None:
                raise UnsupportedProtocol(
                    f"Proxy URL has an unsupported protocol '{proxy.url.scheme.decode()}://'."
                )
            self._connection_factory = proxy_factory(proxy)
        self._max_connections = sys.maxsize if max_connections is None else max_connections
        self._max_keepalive_connections = min(
            self._max_connections,
            sys.maxsize if max_keepalive_connections is None else max_keepalive_connections,
        )

        self._lock = ThreadLock()
        self._pool: dict[ConnectionInterface, OriginKey] = {}
        self._available: dict[OriginKey, list[ConnectionInterface]] = {}
        self._idle_since: dict[ConnectionInterface, float] = {}
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._active_requests = 0
        _live_pools.add(self)

    def _forget_inherited_connections(self) -> None:
        """In a forked child: start empty, never touching the parent's connections."""
        self._lock = ThreadLock()
        inherited = list(self._pool)
        self._pool.clear()
        self._available.clear()
        self._idle_since.clear()
        self._waiters.clear()
        self._active_requests = 0
        for connection in inherited:
            try:
                connection._close_after_fork()
            except Exception:
                # One connection failing (a third-party stream, say) must not keep the
                # child's copies of the others open.
                continue

    def create_connection(self, origin: Origin) -> ConnectionInterface:
        """Build (not yet connect) a connection to ``origin`` with the pool's
        ``ConnectionConfig``: direct, or through the pool's proxy."""
        return self._connection_factory(origin, self._config)

    @property
    def connections(self) -> list[ConnectionInterface]:
        """A snapshot list of the pool's connections, oldest first."""
        return list(self._pool)

    # ------------------------------------------------------------------ requests

    def handle_request(self, request: Request) -> Response:
        """Send ``request`` on a pooled connection; the response body is unread and
        closing it returns the connection to the pool.

        Raises ``UnsupportedProtocol`` for a URL that is not http(s)/ws(s),
        ``PoolTimeout`` if no connection is free within the ``pool`` timeout, and the
        exceptions of the connection.
        """
        url = request.url
        scheme = url.scheme
        port = REQUEST_PORTS.get(scheme)
        if port is None:
            raise unsupported_scheme(scheme)
        key = (scheme, url.host, url.port or port)
        timeouts = request.extensions.get("timeout")
        pool_timeout = timeouts.get("pool", None) if timeouts else None

        while True:
            closing: list[ConnectionInterface] = []
            connection = self._acquire(key, request, pool_timeout, closing)
            try:
                if closing:
                    # Taking it expired or evicted others: closed here, where a
                    # cancellation meanwhile also gives this connection back.
                    ShieldCancellation.run(self._close_connections, closing)
                response = connection.handle_request(request)
            except ConnectionNotAvailable:
                # It could take the request when handed out, and no longer can (closed,
                # or an HTTP/2 connection out of streams): give it back, try again.
                self._release(connection, used=False)
                continue
            except BaseException as exc:
                self._release(connection)  # bookkeeping first, closing shielded
                raise exc from None
            break

        response.stream = PoolByteStream(response.stream, self, connection)
        return response

    def _acquire(
        self,
        key: OriginKey,
        request: Request,
        timeout: float | None,
        closing: list[ConnectionInterface],
    ) -> ConnectionInterface:
        """A connection for ``key``, waiting (up to ``timeout`` seconds) first in first
        out if the pool is full. Raises ``PoolTimeout``; timed out or cancelled, it
        leaves no trace (its place in the queue, or what it was handed meanwhile, is
        given back).

        ``closing``: when a connection is returned at once, the connections that taking
        it expired or evicted, for the caller to close (where it also handles a
        cancellation meanwhile); after a wait it is empty.
        """
        with self._lock:
            connection = self._try_acquire(key, request, closing)
            if connection is not None:
                return connection
            waiter = _Waiter(key, request, Event())
            self._waiters.append(waiter)

        try:
            if closing:
                ShieldCancellation.run(self._close_connections, closing)
                closing.clear()
            waiter.event.wait(timeout)
        except BaseException:
            # Timed out or cancelled: leave the queue, or give back what we were handed
            # in the meantime, so that no slot is lost.
            giving_back: list[ConnectionInterface] = []
            with self._lock:
                connection = waiter.connection
                if connection is None:
                    self._waiters.remove(waiter)
                else:
                    self._active_requests -= 1
                    if waiter.fresh:
                        self._forget(connection)
                        self._grant_slot(giving_back)
                    else:
                        self._hand_on(connection, giving_back)
            if giving_back:
                ShieldCancellation.run(self._close_connections, giving_back)
            raise
        connection = waiter.connection
        assert connection is not None
        return connection

    def _try_acquire(
        self,
        key: OriginKey,
        request: Request,
        closing: list[ConnectionInterface],
    ) -> ConnectionInterface | None:
        """Under the lock: an available connection for ``key``, a new one if there is
        room (closing the longest-idle connection to make room if needed), or None."""
        stack = self._available.get(key)
        while stack:
            connection = stack[-1]
            if connection.has_expired():
                stack.pop()
                self._idle_since.pop(connection, None)
                self._forget(connection)
                closing.append(connection)
                continue
            if not connection.is_available():
                # Out of room (an HTTP/2 connection at its stream limit): it is listed
                # again when a request on it ends.
                stack.pop()
                self._idle_since.pop(connection, None)
                continue
            self._idle_since.pop(connection, None)
            if not connection._may_multiplex():
                stack.pop()  # one request at a time (HTTP/1.1)
            self._active_requests += 1
            return connection

        if len(self._pool) >= self._max_connections:
            if not self._idle_since:
                return None
            oldest = next(iter(self._idle_since))
            self._forget(oldest)
            closing.append(oldest)
        connection = self.create_connection(request.url.origin)
        self._pool[connection] = key
        if connection._may_multiplex():
            # It may turn out HTTP/2: let further requests share it (they wait for the
            # connect) instead of opening one connection each.
            self._available.setdefault(key, []).append(connection)
        self._active_requests += 1
        return connection

    def _release(self, connection: ConnectionInterface, used: bool = True) -> None:
        """A request is done with ``connection`` (response closed, or it failed).

        ``used``: the request ran an exchange on it. A used one-request-at-a-time
        connection that is neither reusable nor closed was left mid-exchange (e.g. the
        clean-up was cancelled): it is closed, never handed out again.
        """
        closing: list[ConnectionInterface] = []
        with self._lock:
            self._active_requests -= 1
            self._hand_on(connection, closing, used)
        if closing:
            ShieldCancellation.run(self._close_connections, closing)

    def _hand_on(
        self,
        connection: ConnectionInterface,
        closing: list[ConnectionInterface],
        used: bool = False,
    ) -> None:
        """Under the lock: give a returned connection to the first waiter, keep it idle,
        or drop it; closed connections free their slot for the first waiter. ``used``:
        see :meth:`_release`."""
        key = self._pool.get(connection)
        if key is None:
            # No longer ours (the pool was closed meanwhile): make sure it is closed, and
            # let a request that queued meanwhile have the slot it held.
            if not connection.is_closed():
                closing.append(connection)
            self._grant_slot(closing)
            return
        if connection.is_closed():
            self._forget(connection)
            self._grant_slot(closing)
            return
        multiplexed = connection._may_multiplex()
        if not connection.is_available():
            if used and not multiplexed:
                # Left mid-exchange (its clean-up was interrupted): never reuse it.
                self._forget(connection)
                closing.append(connection)
                self._grant_slot(closing)
            return
        if multiplexed:
            self._hand_on_multiplexed(connection, key, closing)
            return

        waiters = self._waiters
        if waiters:
            if connection.has_expired():
                # The server closed it (or wrote to it) as the last response ended.
                self._forget(connection)
                closing.append(connection)
                self._grant_slot(closing)
                return
            waiter = waiters[0]
            if waiter.key == key:
                waiters.popleft()
                waiter.connection = connection
                self._active_requests += 1
                waiter.event.set()
                return
            # The first in line wants another origin: this idle connection makes room.
            self._forget(connection)
            closing.append(connection)
            self._grant_slot(closing)
            return

        stack = self._available.setdefault(key, [])
        # With http2 enabled it may still be listed from when it was connecting.
        if not (self._offers_http2 and connection in stack):
            stack.append(connection)
        self._idle_since[connection] = time.monotonic()
        self._trim_idle(closing)

    def _hand_on_multiplexed(
        self,
        connection: ConnectionInterface,
        key: OriginKey,
        closing: list[ConnectionInterface],
    ) -> None:
        """Under the lock: an HTTP/2 connection with room takes every request waiting
        for its origin (it queues them on its own stream limit)."""
        stack = self._available.setdefault(key, [])
        if connection not in stack:
            stack.append(connection)
        waiters = self._waiters
        if waiters:
            served = [waiter for waiter in waiters if waiter.key == key]
            for waiter in served:
                waiters.remove(waiter)
                waiter.connection = connection
                self._active_requests += 1
                waiter.event.set()
            if served:
                self._idle_since.pop(connection, None)
                return
            if connection.is_idle():
                # Only other origins wait: an idle connection makes room.
                stack.remove(connection)
                self._idle_since.pop(connection, None)
                self._forget(connection)
                closing.append(connection)
                self._grant_slot(closing)
                return
        if connection.is_idle() and connection not in self._idle_since:
            self._idle_since[connection] = time.monotonic()
            self._trim_idle(closing)

    def _trim_idle(self, closing: list[ConnectionInterface]) -> None:
        """Under the lock: close the longest-idle connections beyond
        ``max_keepalive_connections`` or idle for longer than ``keepalive_expiry``."""
        idle_since = self._idle_since
        while len(idle_since) > self._max_keepalive_connections:
            oldest = next(iter(idle_since))
            self._forget(oldest)
            closing.append(oldest)
        expiry = self._keepalive
        if expiry is not None and idle_since:
            now = time.monotonic()
            while idle_since:
                oldest = next(iter(idle_since))
                if now - idle_since[oldest] <= expiry:
                    break
                self._forget(oldest)
                closing.append(oldest)

    def _grant_slot(self, closing: list[ConnectionInterface]) -> None:
        """Under the lock: if there is room and someone waits, open a connection for
        the first waiter."""
        waiters = self._waiters
        if waiters and len(self._pool) < self._max_connections:
            # Create first: if the factory raises, the waiter is still queued.
            connection = self.create_connection(waiters[0].request.url.origin)
            waiter = waiters.popleft()
            self._pool[connection] = waiter.key
            waiter.connection = connection
            waiter.fresh = True
            self._active_requests += 1
            waiter.event.set()

    def _forget(self, connection: ConnectionInterface) -> None:
        """Under the lock: drop ``connection`` from every index (it no longer counts
        against ``max_connections``); the caller closes it."""
        key = self._pool.pop(connection, None)
        self._idle_since.pop(connection, None)
        if key is not None:
            stack = self._available.get(key)
            if stack is not None:
                if connection in stack:
                    stack.remove(connection)
                if not stack:
                    del self._available[key]

    def _close_connections(self, closing: list[ConnectionInterface]) -> None:
        """Close each connection, all of them even if one close fails (the first
        exception is re-raised afterwards).

        Callers run it as ``ShieldCancellation.run(self._close_connections,
        closing)``, and only when ``closing`` is not empty: a cancellation of the caller
        (``task.cancel()``, ``asyncio.timeout()``, a cancel scope) then waits for every
        close to finish instead of leaving connections that the pool has forgotten open.
        The pool's usual release (a reusable connection goes back idle) closes nothing
        and so never starts that task."""
        error: BaseException | None = None
        for connection in closing:
            try:
                connection.close()
            except BaseException as exc:
                if error is None:
                    error = exc
        if error is not None:
            raise error

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close every connection; requests in flight fail on their closed sockets."""
        with self._lock:
            closing = list(self._pool)
            self._pool.clear()
            self._available.clear()
            self._idle_since.clear()
            # Requests still queued get fresh connections rather than wait for slots
            # that closed connections will never give back.
            while self._waiters and len(self._pool) < self._max_connections:
                self._grant_slot(closing)
        if closing:
            ShieldCancellation.run(self._close_connections, closing)

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        class_name = self.__class__.__name__
        with self._lock:
            idle = sum(1 for connection in self._pool if connection.is_idle())
            active_connections = len(self._pool) - idle
            active_requests = self._active_requests
            queued = len(self._waiters)
        return (
            f"<{class_name} [Requests: {active_requests} active, {queued} queued | "
            f"Connections: {active_connections} active, {idle} idle]>"
        )


class PoolByteStream(BodyStream):
    """The response body as the pool hands it out: closing it (or a failure while
    reading it) returns the connection to the pool. ``stream`` is the connection's
    response body (any async iterable of bytes; ``close()`` and ``_read_all()`` are
    used when it has them)."""

    def __init__(
        self,
        stream: typing.Any,
        pool: ConnectionPool,
        connection: ConnectionInterface,
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._connection = connection
        # Popped by the first close: list.pop is one atomic step, so when two threads
        # close one response (a reader failing while another thread aborts it), exactly
        # one of them releases the connection (a flag test-then-set could release twice).
        self._open = [True]
        self._iterator: typing.Any = None

    def __iter__(self) -> PoolByteStream:
        self._iterator = self._stream.__iter__()
        return self

    def __next__(self) -> bytes:
        try:
            return self._iterator.__next__()  # type: ignore[no-any-return]
        except StopIteration:
            raise
        except BaseException as exc:
            self.close()
            raise exc from None

    def _read_all(self) -> bytes:
        """The whole body (bytes) in one call when the connection's stream can do it."""
        stream = self._stream
        try:
            if isinstance(stream, BodyStream):
                return stream._read_all()
            return b"".join([part for part in stream])
        except BaseException as exc:
            self.close()
            raise exc from None

    def close(self) -> None:
        try:
            self._open.pop()
        except IndexError:
            return  # already closed
        try:
            if hasattr(self._stream, "close"):
                self._stream.close()
        finally:
            # Whatever happened while closing the stream, the slot goes back.
            self._pool._release(self._connection)

"""The connection pool: origin-indexed, O(1) acquire and release, FIFO waiters.

Generated from ``httpcore_fast/_async/connection_pool.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

The driver of the sans-I/O :class:`~httpcore_fast._core.pool.PoolCore`, which holds the
state and makes every decision (which connection a request gets, who waits, what is
closed, who is woken). Here: awaiting (a queued request waits on its event), closing what
the core says (shielded from cancellation, then reported back to it: a connection counts
against the limits until its socket is closed), waking the waiters it returns, and
retrying a request that a stale keep-alive connection failed.

The lock (a ``threading.Lock`` in sync code, a no-op in async code) is held only around
calls into the core, never across an ``await``. Every path that gives up a connection
(response closed, error, cancellation, timeout while waiting) returns its slot.
"""

from __future__ import annotations

import os
import types
import typing
import weakref

from .._backends.base import SOCKET_OPTION, NetworkBackend
from .._core.config import ConnectionConfig, config_property
from .._core.origin import REQUEST_PORTS, unsupported_scheme
from .._core.pool import PoolCore, PoolStats, Waiter
from .._exceptions import ConnectionNotAvailable, UnsupportedProtocol
from .._limits import ResponseLimits
from .._models import BodyStream, ByteStream, Origin, Proxy, Request, Response
from .._synchronization import Event, ShieldCancellation, ThreadLock
from .._trace import module_logger, step, tracer
from .connection import connection_config, http_connection
from .interfaces import ConnectionInterface, RequestInterface, is_stale_failure

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

# The pool's trace steps (``connection.pool_wait.*``, ``connection.retry_stale.*``) go to
# the connection logger, as httpcore's connection steps do.
logger = module_logger("httpcore.connection", globals())

# How a pool makes a connection: ``factory(origin, config)``, not yet connected.
ConnectionFactory = typing.Callable[
    [Origin, ConnectionConfig[NetworkBackend]], ConnectionInterface
]
# Proxy support plugs in here rather than being imported by the pool (dependencies point
# down): ``http_proxy`` and ``socks_proxy`` register, per proxy URL scheme, a function
# that turns ``Proxy(...)`` into the factory of connections through that proxy.
_proxy_factories: dict[bytes, typing.Callable[[Proxy], ConnectionFactory]] = {}

# RFC 9110 §9.2.2: methods whose intended effect is the same however many times the
# request is sent. Only these are sent again after a stale connection, unless the
# request opts in (extension ``"retry_stale": True``).
IDEMPOTENT_METHODS = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})


def register_proxy_factory(
    schemes: typing.Iterable[bytes], factory: typing.Callable[[Proxy], ConnectionFactory]
) -> None:
    """Route pools whose ``proxy`` URL has one of ``schemes`` through the connection
    factory that ``factory(proxy)`` returns."""
    for scheme in schemes:
        _proxy_factories[scheme] = factory


def _load_proxy_factory(scheme: bytes) -> typing.Callable[[Proxy], ConnectionFactory] | None:
    """The factory for proxy URL ``scheme`` after importing the proxy modules, which
    register theirs when imported (on the first pool with a proxy, so that a program
    without proxies never loads them, nor socksio)."""
    from . import http_proxy, socks_proxy  # noqa: F401

    return _proxy_factories.get(scheme)


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


def _wake(waiters: list[Waiter]) -> None:
    for waiter in waiters:
        waiter.event.set()


class ConnectionPool(RequestInterface):
    """A pool of connections, shared by all requests made through it.

    Parameters (httpcore 1.0.x's): ``ssl_context`` for https origins (default: the
    process-wide certifi context); ``proxy`` (``Proxy``); ``max_connections`` (None: no
    limit; connections still being closed count); ``max_keepalive_connections`` idle
    connections kept (None: up to ``max_connections``); ``keepalive_expiry`` seconds an
    idle connection is kept (None: no limit); ``http1`` / ``http2`` protocols to offer;
    ``retries`` connect retries; ``local_address`` to bind; ``uds`` a Unix socket path to
    connect to instead of TCP; ``network_backend``; ``socket_options``.

    Beyond httpcore, keyword-only:

    * ``limits``: a ``ResponseLimits`` bounding what servers may send (sizes, counts, a
      head deadline);
    * ``max_connections_per_origin``: connections one origin may hold (None: no limit).
      Requests for a full origin wait, first in first out within the origin, without
      holding up requests for other origins;
    * ``retry_stale_connections``: when a reused HTTP/1.1 connection fails before any byte
      of the response arrived (the server closed it as the request was sent: EOF, reset,
      broken pipe), send the request again, once, on a new connection (RFC 9110 §9.2.2):
      for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) and requests with
      the extension ``"retry_stale": True``, if the body can be replayed (no body, or
      bytes). Default True; False raises the error as httpcore does;
    * ``resolve`` (host name -> addresses used instead of DNS), ``dns_cache_ttl`` (seconds
      a resolved name is reused; None: no cache), ``tls_session_cache`` (resume TLS
      sessions per origin): connection settings (``ConnectionConfig``).

    When the pool is full and a request needs a connection to an origin with none
    available, the least recently used idle connection (of any origin) is closed to make
    room; a released connection goes to the first request waiting for its own origin.
    ``stats()`` returns the pool's counters (``PoolStats``).

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
        max_connections_per_origin: int | None = None,
        retry_stale_connections: bool = True,
        resolve: typing.Mapping[str, typing.Sequence[str]] | None = None,
        dns_cache_ttl: float | None = None,
        tls_session_cache: bool = True,
    ) -> None:
        self._config = connection_config(
            ssl_context=ssl_context, keepalive_expiry=keepalive_expiry, http1=http1,
            http2=http2, retries=retries, local_address=local_address, uds=uds,
            network_backend=network_backend, socket_options=socket_options, limits=limits,
            resolve=resolve, dns_cache_ttl=dns_cache_ttl, tls_session_cache=tls_session_cache,
        )
        self._proxy = proxy
        self._connection_factory: ConnectionFactory = http_connection
        if proxy is not None:
            proxy_factory = _proxy_factories.get(proxy.url.scheme) or _load_proxy_factory(
                proxy.url.scheme
            )
            if proxy_factory is None:
                raise UnsupportedProtocol(
                    f"Proxy URL has an unsupported protocol '{proxy.url.scheme.decode()}://'."
                )
            self._connection_factory = proxy_factory(proxy)
        if max_connections_per_origin is not None and max_connections_per_origin < 1:
            raise ValueError(
                f"max_connections_per_origin must be None or at least 1, "
                f"not {max_connections_per_origin!r}"
            )
        self._retry_stale = retry_stale_connections
        self._core: PoolCore[ConnectionInterface] = PoolCore(
            self._create_for,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            max_connections_per_origin=max_connections_per_origin,
            keepalive_expiry=keepalive_expiry,
            offers_http2=http2,
        )
        # httpcore's private names for the limits (read by code written for it).
        self._max_connections = self._core.max_connections
        self._max_keepalive_connections = self._core.max_keepalive_connections
        self._lock = ThreadLock()
        _live_pools.add(self)

    def _forget_inherited_connections(self) -> None:
        """In a forked child: start empty, never touching the parent's connections."""
        self._lock = ThreadLock()
        for connection in self._core.reset():
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

    def _create_for(self, request: Request) -> ConnectionInterface:
        return self.create_connection(request.url.origin)

    @property
    def connections(self) -> list[ConnectionInterface]:
        """A snapshot list of the pool's connections, oldest first."""
        return list(self._core.connections)

    @property
    def _pool(self) -> dict[ConnectionInterface, typing.Any]:
        """The pool's connections (httpcore's private name; a live dict here, oldest
        first, each mapped to its origin's state)."""
        return self._core.connections

    def stats(self) -> PoolStats:
        """The pool's statistics now: a ``PoolStats`` (``total`` and per-origin
        ``OriginStats``: requests active and queued, connections active, idle and
        closing, connections opened and reused, closed by reason, requests retried, time
        spent waiting in seconds). Counting costs the requests nothing: this call reads
        counters the pool keeps anyway and walks its connections once."""
        with self._lock:
            return self._core.stats()

    # ------------------------------------------------------------------ requests

    def handle_request(self, request: Request) -> Response:
        """Send ``request`` on a pooled connection; the response body is unread and
        closing it returns the connection to the pool.

        Raises ``UnsupportedProtocol`` for a URL that is not http(s)/ws(s),
        ``PoolTimeout`` if no connection is free within the ``pool`` timeout, and the
        exceptions of the connection. A request that a stale keep-alive connection failed
        is sent again once on a new connection (see the class docstring); the trace step
        ``connection.retry_stale`` says so.
        """
        url = request.url
        scheme = url.scheme
        port = REQUEST_PORTS.get(scheme)
        if port is None:
            raise unsupported_scheme(scheme)
        key = (scheme, url.host, url.port or port)
        timeouts = request.extensions.get("timeout")
        pool_timeout = timeouts.get("pool", None) if timeouts else None

        reuse = True
        retry = False
        while True:
            # A connection for ``key`` now (one lock hold; the caller closes ``closing``
            # before using it: it may hold the slot of one of them), or a place in the
            # queue, taken under the same hold so that no release in between is missed.
            closing: list[ConnectionInterface] = []
            with self._lock:
                connection = self._core.acquire(key, request, closing, reuse, retry)
                if connection is None:
                    waiter = self._core.wait(key, request, Event(), reuse)
            if connection is None:
                connection = self._wait(waiter, request, pool_timeout, closing)
            try:
                if closing:
                    # Taking it expired or evicted others: closed here, before it
                    # connects (it may hold the slot of one of them), where a
                    # cancellation meanwhile also gives this connection back.
                    ShieldCancellation.run(self._close_connections, closing)
                response = connection.handle_request(request)
            except ConnectionNotAvailable:
                # It could take the request when handed out, and no longer can (closed,
                # or an HTTP/2 connection out of streams): give it back, try again.
                self._release(connection, used=False)
                retry = True
                continue
            except BaseException as exc:
                if reuse and is_stale_failure(exc) and self._may_send_again(request):
                    reuse = False
                    retry = True
                    self._drop_stale(connection, request, exc)
                    continue
                self._release(connection, failed=True)  # closing shielded
                raise exc from None
            break

        response.stream = PoolByteStream(response.stream, self, connection)
        return response

    def _may_send_again(self, request: Request) -> bool:
        """Whether a request that a stale connection failed may be sent again: the pool
        retries stale connections, the method is idempotent (RFC 9110 §9.2.2) or the
        request says ``"retry_stale": True``, and the body can be sent again (bytes)."""
        return (
            self._retry_stale
            and (
                request.method in IDEMPOTENT_METHODS
                or request.extensions.get("retry_stale") is True
            )
            and type(request.stream) is ByteStream
        )

    def _drop_stale(
        self, connection: ConnectionInterface, request: Request, exc: BaseException
    ) -> None:
        """Give back the stale connection (closed) before the request is sent again, as
        the ``retry_stale`` step (info: the request and the exception)."""
        with step(tracer(request, logger), "retry_stale", {
            "request": request, "exception": exc
        }):
            self._release(connection)

    def _wait(
        self,
        waiter: Waiter,
        request: Request,
        timeout: float | None,
        closing: list[ConnectionInterface],
    ) -> ConnectionInterface:
        """Wait (up to ``timeout`` seconds) for the connection the core hands ``waiter``
        (queued by ``PoolCore.wait`` when the pool or the origin was full; first in first
        out): the ``pool_wait`` step. Closes ``closing`` first (what taking the place
        evicted). Raises ``PoolTimeout``; timed out or cancelled, it leaves no trace (its
        place in the queue, or what it was handed meanwhile, is given back).
        """
        try:
            if closing:
                ShieldCancellation.run(self._close_connections, closing)
                closing.clear()
            trace = tracer(request, logger)
            if trace is None:
                waiter.event.wait(timeout)
            else:
                with trace.step(
                    "pool_wait", {"request": request, "timeout": timeout}
                ) as traced:
                    waiter.event.wait(timeout)
                    traced.return_value = waiter.connection
        except BaseException:
            # Timed out or cancelled: leave the queue, or give back what we were handed
            # in the meantime, so that no slot is lost.
            giving_back: list[ConnectionInterface] = []
            with self._lock:
                woken = self._core.cancel_wait(waiter, giving_back)
            if woken:
                _wake(woken)
            if giving_back:
                ShieldCancellation.run(self._close_connections, giving_back)
            raise
        connection = waiter.connection
        assert connection is not None
        return connection  # type: ignore[no-any-return]

    def _release(
        self, connection: ConnectionInterface, used: bool = True, failed: bool = False
    ) -> None:
        """A request is done with ``connection`` (response closed, or it failed).

        ``used``: the request ran an exchange on it (see ``PoolCore.release``);
        ``failed``: the exchange raised.
        """
        closing: list[ConnectionInterface] = []
        with self._lock:
            woken = self._core.release(connection, closing, used, failed)
        if woken:
            _wake(woken)
        if closing:
            ShieldCancellation.run(self._close_connections, closing)

    def _close_connections(self, closing: list[ConnectionInterface]) -> None:
        """Close each connection, all of them even if one close fails (the first
        exception is re-raised afterwards), and report them closed to the core: their
        slots go to waiting requests (whose connections may make the core evict more
        idle connections: those are closed here too).

        Callers run it as ``ShieldCancellation.run(self._close_connections,
        closing)``, and only when ``closing`` is not empty: a cancellation of the caller
        (``task.cancel()``, ``asyncio.timeout()``, a cancel scope) then waits for every
        close to finish instead of leaving connections that the pool has forgotten open.
        The pool's usual release (a reusable connection goes back idle) closes nothing
        and so never starts that task."""
        error: BaseException | None = None
        while closing:
            for connection in closing:
                try:
                    connection.close()
                except BaseException as exc:
                    if error is None:
                        error = exc
            more: list[ConnectionInterface] = []
            with self._lock:
                woken = self._core.closed(closing, more)
            if woken:
                _wake(woken)
            closing = more
        if error is not None:
            raise error

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close every connection; requests in flight fail on their closed sockets;
        queued requests get the slots of the closed connections."""
        closing: list[ConnectionInterface] = []
        with self._lock:
            self._core.close_all(closing)
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
            connections = self._core.connections
            idle = sum(1 for connection in connections if connection.is_idle())
            active_connections = len(connections) - idle
            active_requests = self._core.active_requests()
            queued = self._core.queued_requests()
        return (
            f"<{class_name} [Requests: {active_requests} active, {queued} queued | "
            f"Connections: {active_connections} active, {idle} idle]>"
        )


class PoolByteStream(BodyStream):
    """The response body as the pool hands it out: closing it (or a failure while
    reading it) returns the connection to the pool. ``stream`` is the connection's
    response body (any async iterable of bytes; ``close()`` and ``_read_all()`` are
    used when it has them)."""

    _failed = False  # a read raised: the connection is released as failed

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
            self._failed = True
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
            self._failed = True
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
            self._pool._release(self._connection, failed=self._failed)

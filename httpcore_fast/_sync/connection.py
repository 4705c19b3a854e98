"""A connection to one origin that connects lazily and then speaks HTTP/1.1 or HTTP/2.

Generated from ``httpcore_fast/_async/connection.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import typing

from .._backends.sync import SyncBackend
from .._backends.base import SOCKET_OPTION, AddrInfo, NetworkBackend, NetworkStream
from .._core.config import (
    RETRIES_BACKOFF_FACTOR,
    ConnectionConfig,
    TLSArguments,
    config_property,
    exponential_backoff,
    tls_arguments,
    tls_session_key,
)
from .._core.origin import TLS_SCHEMES, check_origin
from .._core.resolver import Resolver, with_port
from .._core.tls_sessions import TLSSessionCache
from .._exceptions import ConnectError, ConnectionNotAvailable, ConnectTimeout, PoolTimeout
from .._limits import ResponseLimits
from .._models import Origin, Request, Response
from .._synchronization import Event, Semaphore, ShieldCancellation
from .._trace import module_logger, step, tracer
from .http11 import HTTP11Connection
from .interfaces import ConnectionInterface

if typing.TYPE_CHECKING:  # pragma: no cover
    import logging
    import ssl

logger = module_logger("httpcore.connection", globals())


def connection_config(
    ssl_context: ssl.SSLContext | None = None,
    keepalive_expiry: float | None = None,
    http1: bool = True,
    http2: bool = False,
    retries: int = 0,
    local_address: str | None = None,
    uds: str | None = None,
    network_backend: NetworkBackend | None = None,
    socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    limits: ResponseLimits | None = None,
    *,
    resolve: typing.Mapping[str, typing.Sequence[str]] | None = None,
    dns_cache_ttl: float | None = None,
    tls_session_cache: bool = True,
) -> ConnectionConfig[NetworkBackend]:
    """The ``ConnectionConfig`` of httpcore's keyword arguments (see :class:`ConnectionConfig`
    for each): ``network_backend`` None becomes a new ``SyncBackend`` (shared by every
    connection the config serves), ``socket_options`` a tuple (so an iterator given once
    serves every connection).

    Keyword-only, the pool-wide network options (one call per pool makes the pool's
    resolver and TLS session cache, shared by all its connections): ``resolve`` maps host
    names to the IP addresses used instead of DNS (like curl's ``--resolve``);
    ``dns_cache_ttl`` is how many seconds a resolved name is reused (None: no cache;
    concurrent lookups of one name are coalesced either way); ``tls_session_cache``
    resumes TLS sessions per origin, SNI name and context (RFC 8446 §2.2, RFC 5077).

    Raises ``TypeError`` / ``ValueError`` for a malformed ``resolve`` or a negative
    ``dns_cache_ttl`` (see :class:`~httpcore_fast._core.resolver.Resolver`).
    """
    return ConnectionConfig(
        ssl_context=ssl_context,
        keepalive_expiry=keepalive_expiry,
        http1=http1,
        http2=http2,
        retries=retries,
        local_address=local_address,
        uds=uds,
        socket_options=None if socket_options is None else tuple(socket_options),
        network_backend=SyncBackend() if network_backend is None else network_backend,
        limits=limits,
        resolver=Resolver(resolve, dns_cache_ttl),
        tls_sessions=TLSSessionCache() if tls_session_cache else None,
    )


class PoolResolver:
    """The pool's :class:`~httpcore_fast._core.resolver.Resolver` as a backend's
    ``_connect_tcp_with_resolver`` uses it (the ``NameResolver`` protocol of
    ``_backends/base.py``): :meth:`resolve` answers from the overrides, IP literals and
    the cache, joins a lookup of the same name already running, or runs the backend's
    own."""

    __slots__ = ("_state",)

    def __init__(self, state: Resolver) -> None:
        self._state = state

    def override_addresses(self, host: str) -> tuple[str, ...] | None:
        """The ``resolve=`` addresses of ``host`` (IP literals), or None."""
        return self._state.override_addresses(host)

    def resolve(
        self,
        host: str,
        port: int,
        lookup: typing.Callable[[str, int], list[AddrInfo]],
        timeout: float | None = None,
    ) -> list[AddrInfo]:
        """The ``getaddrinfo`` results of ``host`` with ``port``. A lookup of the same
        name that another caller runs now is waited for (at most ``timeout`` seconds,
        then ``TimeoutError``; None: no limit) and its answer or ``OSError`` shared; if
        that caller gives up (cancelled, timed out), a waiter runs its own. Otherwise
        ``lookup(host, port)`` runs here, and its ``OSError`` propagates."""
        state = self._state
        while True:
            infos = state.known(host, port)
            if infos is not None:
                return infos
            pending, mine = state.begin(host, Event)
            if mine:
                break
            try:
                pending.done.wait(timeout)
            except PoolTimeout:
                raise TimeoutError(f"timed out waiting for the lookup of {host!r}") from None
            if pending.error is not None:
                raise _same_error(pending.error)
            if pending.infos is not None:
                return with_port(pending.infos, port)
        try:
            result = lookup(host, port)
        except BaseException as exc:
            # An OSError is shared with the waiters; anything else (cancelled, timed
            # out) abandons the lookup and one of them runs its own.
            state.end(host, pending, None, exc if isinstance(exc, OSError) else None)
            pending.done.set()
            raise
        state.end(host, pending, result)
        pending.done.set()
        return result


def _same_error(error: OSError) -> OSError:
    """A new exception like ``error`` (same class and arguments), for each caller that
    shared a failed lookup: one exception object raised in several places would collect
    all their tracebacks."""
    try:
        return type(error)(*error.args)
    except Exception:  # pragma: no cover - an OSError subclass with another signature
        return OSError(*error.args)


def protocol_connection(
    origin: Origin, stream: NetworkStream, config: ConnectionConfig[NetworkBackend]
) -> ConnectionInterface:
    """The HTTP/2 connection over ``stream`` if TLS negotiated ``h2`` by ALPN (or only
    HTTP/2 is enabled in ``config``: prior knowledge, RFC 9113 §3.3), else the HTTP/1.1
    connection; ``config`` gives their keep-alive expiry and response limits.

    Raises ``RuntimeError`` if HTTP/2 is needed but the ``h2`` package is not installed.
    """
    ssl_object = stream.get_extra_info("ssl_object")
    http2_negotiated = ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2"
    keepalive_expiry, limits = config.keepalive_expiry, config.limits
    if http2_negotiated or (config.http2 and not config.http1):
        try:
            from .http2 import HTTP2Connection
        except ImportError:  # pragma: nocover - h2 not installed
            raise RuntimeError(
                "HTTP/2 was negotiated or required, but the `h2` package is not "
                "installed. Use 'pip install httpcore-fast[http2]'."
            ) from None
        return HTTP2Connection(
            origin=origin, stream=stream, keepalive_expiry=keepalive_expiry, limits=limits
        )
    return HTTP11Connection(
        origin=origin, stream=stream, keepalive_expiry=keepalive_expiry, limits=limits
    )


def start_tls(
    request: Request,
    stream: NetworkStream,
    log: logging.Logger,
    kwargs: dict[str, typing.Any],
) -> NetworkStream:
    """``stream.start_tls(**kwargs)``, traced as ``start_tls`` on ``log``. Raises
    ``ConnectError`` / ``ConnectTimeout`` (``stream`` is then left to the caller).

    When ``kwargs`` (from :func:`~httpcore_fast._core.config.tls_arguments`) carries a
    TLS session of the pool's cache, it is offered for resumption (RFC 8446 §2.2, RFC
    5077), and the handshake is traced inside a ``resume_tls_session`` step (info:
    ``server_hostname``) whose return value says whether the server resumed it
    (``ssl_object.session_reused``). A session the server did not resume, or whose
    handshake failed (``ConnectError``), leaves the cache."""
    if not isinstance(kwargs, TLSArguments) or kwargs.session is None:
        with step(tracer(request, log), "start_tls", kwargs) as traced:
            stream = stream.start_tls(**kwargs)
            traced.return_value = stream
        return stream
    return _resume_tls(request, stream, log, kwargs)


def _resume_tls(
    request: Request, stream: NetworkStream, log: logging.Logger, kwargs: TLSArguments
) -> NetworkStream:
    """:func:`start_tls` offering ``kwargs.session``."""
    trace = tracer(request, log)
    session, sessions, key = kwargs.session, kwargs.sessions, kwargs.session_key
    assert session is not None and sessions is not None
    info = {"server_hostname": kwargs["server_hostname"]}
    with step(trace, "resume_tls_session", info) as resumption:
        try:
            with step(trace, "start_tls", kwargs) as traced:
                stream = stream._start_tls_with_session(session=session, **kwargs)
                traced.return_value = stream
        except ConnectError:
            sessions.discard(key, session)
            raise
        ssl_object = stream.get_extra_info("ssl_object")
        resumed = ssl_object is not None and bool(ssl_object.session_reused)
        if not resumed:
            sessions.discard(key, session)
        resumption.return_value = resumed
    return stream


def connect_stream(
    request: Request,
    config: ConnectionConfig[NetworkBackend],
    log: logging.Logger,
    *,
    host: str,
    port: int,
    timeout: float | None,
    tls: dict[str, typing.Any] | None = None,
) -> NetworkStream:
    """Open a stream to ``host``:``port`` over TCP from ``config.local_address`` (or to the
    Unix socket ``config.uds``), with ``config.socket_options``, on
    ``config.network_backend``; then TLS if ``tls`` (the arguments of ``start_tls``, see
    :func:`tls_arguments`) is given. A failed attempt (``ConnectError`` /
    ``ConnectTimeout``) is retried ``config.retries`` times, after 0, 0.5, 1, 2, ...
    seconds.

    ``timeout``: seconds for each step (None: no limit). Names are resolved through
    ``config.resolver`` (``resolve=`` overrides, the DNS cache, coalesced lookups) by a
    backend declaring ``_connect_tcp_with_resolver``. Trace events (on ``log``):
    ``connect_tcp`` or ``connect_unix_socket``, ``start_tls`` (in ``resume_tls_session``
    when a session is offered, see :func:`start_tls`), ``retry``. Every
    connection kind (direct, to an HTTP proxy, to a SOCKS proxy) connects through here,
    so the pool's connection options reach all of them. Raises ``ConnectError`` /
    ``ConnectTimeout`` once the retries are used up.
    """
    network_backend = config.network_backend
    if network_backend is None:
        network_backend = SyncBackend()
    uds, local_address, socket_options = config.uds, config.local_address, config.socket_options
    resolver = None if config.resolver is None else PoolResolver(config.resolver)
    trace = tracer(request, log)
    retries_left = config.retries
    delays = exponential_backoff(factor=RETRIES_BACKOFF_FACTOR)
    while True:
        try:
            if uds is None:
                kwargs: dict[str, typing.Any] = {
                    "host": host,
                    "port": port,
                    "local_address": local_address,
                    "timeout": timeout,
                    "socket_options": socket_options,
                }
                with step(trace, "connect_tcp", kwargs) as traced:
                    if resolver is None:
                        stream = network_backend.connect_tcp(**kwargs)
                    else:
                        stream = network_backend._connect_tcp_with_resolver(
                            resolver, **kwargs
                        )
                    traced.return_value = stream
            else:
                kwargs = {"path": uds, "timeout": timeout, "socket_options": socket_options}
                with step(trace, "connect_unix_socket", kwargs) as traced:
                    stream = network_backend.connect_unix_socket(**kwargs)
                    traced.return_value = stream
            if tls is not None:
                kwargs = tls
                try:
                    stream = start_tls(request, stream, log, tls)
                except BaseException:
                    ShieldCancellation.run(stream.close)
                    raise
            return stream
        except (ConnectError, ConnectTimeout):
            if retries_left <= 0:
                raise
            retries_left -= 1
            with step(trace, "retry", kwargs):
                network_backend.sleep(next(delays))


class LazyConnection(ConnectionInterface):
    """A connection to ``origin`` whose protocol connection is opened by the first request
    (``_open(request)``, a coroutine returning the HTTP/1.1 or HTTP/2 connection) and then
    used for every request, configured by ``config`` (a ``ConnectionConfig``). Until then
    it reports CONNECTING, and CONNECTION FAILED (closed, expired) after a failed attempt.
    While connecting it is already offered to further requests if it may turn out HTTP/2:
    they wait for the attempt, then share the connection or get ``ConnectionNotAvailable``
    (the pool retries them elsewhere).

    The base of direct connections (:class:`HTTPConnection`) and of the proxied ones.
    """

    _is_multiplexed = False
    # Read by tests/test_review_regressions.py (test_limits_reach_proxied_connections).
    _limits = config_property("limits")

    def __init__(self, origin: Origin, config: ConnectionConfig[NetworkBackend]) -> None:
        self._origin = origin
        self._config = config
        self._connection: ConnectionInterface | None = None
        self._connect_failed = False
        # Made here, never on first use: two threads starting requests on a new
        # connection (HTTP/2 lets both in) would each make a lock and both connect.
        self._connect_lock = Semaphore(1)

    @property
    def _remote_origin(self) -> Origin:
        """``_origin``, under the name httpcore's proxied connections give it (read by
        tests/_async/test_proxy.py)."""
        return self._origin

    def _open(self, request: Request) -> ConnectionInterface:
        raise NotImplementedError()  # pragma: nocover

    def _open_failed(self) -> None:
        """Clean up after ``_open`` raised (the exception propagates)."""

    def handle_request(self, request: Request) -> Response:
        """Connect if needed, then send ``request`` on the protocol connection.

        Raises ``RuntimeError`` for a request to another origin, ``ConnectError`` /
        ``ConnectTimeout`` (or ``ProxyError``) if connecting fails, and whatever the
        protocol connection raises.
        """
        connection = self._connection
        if connection is None:
            return self._connect_and_send(request)
        return connection.handle_request(request)

    def _connect_and_send(self, request: Request) -> Response:
        """The first request(s): connect (once: other requests wait for the attempt),
        send; the request that connected then keeps the connection's TLS session in the
        pool's cache (after the response head: TLS 1.3 tickets come after the
        handshake)."""
        check_origin(request.url, self._origin)
        opened = None
        with self._connect_lock:
            if self._connection is None:
                if self._connect_failed:
                    # Another request's attempt failed while this one waited.
                    raise ConnectionNotAvailable()
                try:
                    opened = self._open(request)
                except BaseException as exc:
                    self._connect_failed = True
                    ShieldCancellation.run(self._open_failed)
                    raise exc
                self._is_multiplexed = opened._may_multiplex()
                self._connection = opened
        connection = self._connection
        response = connection.handle_request(request)
        if opened is not None and self._config.tls_sessions is not None:
            self._keep_tls_session(request, response)
        return response

    def _keep_tls_session(self, request: Request, response: Response) -> None:
        """Keep the TLS session of the stream ``response`` came on (``https``/``wss``
        origins) in the pool's cache, for the next connection to this origin."""
        config, origin = self._config, self._origin
        sessions = config.tls_sessions
        if sessions is None or origin.scheme not in TLS_SCHEMES:
            return
        stream = response.extensions.get("network_stream")
        ssl_object = None if stream is None else stream.get_extra_info("ssl_object")
        if ssl_object is not None:
            sessions.put(tls_session_key(request, origin, config), ssl_object)

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def is_available(self) -> bool:
        if self._connection is None:
            config = self._config
            return (
                config.http2
                and (self._origin.scheme in TLS_SCHEMES or not config.http1)
                and not self._connect_failed
            )
        return self._connection.is_available()

    def _may_multiplex(self) -> bool:
        """While connecting: True if it may turn out HTTP/2 (``is_available()``); then
        what the protocol connection said (kept, as the pool asks on every request)."""
        if self._connection is None:
            return self.is_available()
        return self._is_multiplexed

    def has_expired(self) -> bool:
        if self._connection is None:
            return self._connect_failed
        return self._connection.has_expired()

    def is_idle(self) -> bool:
        if self._connection is None:
            return self._connect_failed
        return self._connection.is_idle()

    def is_closed(self) -> bool:
        if self._connection is None:
            return self._connect_failed
        return self._connection.is_closed()

    def _close_reason(self) -> str | None:
        """The protocol connection's; ``"error"`` after a failed connect."""
        if self._connection is None:
            return "error" if self._connect_failed else None
        return self._connection._close_reason()

    def is_connected(self) -> bool:
        """True once connected (the protocol connection exists) and until it closes."""
        return self._connection is not None and self._connection.is_connected()

    def can_multiplex(self) -> bool:
        """True once connected over a protocol that serves several requests at once
        (HTTP/2), as that connection says (httpcore2's method)."""
        return self._connection is not None and self._connection.can_multiplex()

    def _close_after_fork(self) -> None:
        if self._connection is not None:
            self._connection._close_after_fork()

    def info(self) -> str:
        if self._connection is None:
            return "CONNECTION FAILED" if self._connect_failed else "CONNECTING"
        return self._connection.info()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} [{self.info()}]>"


class HTTPConnection(LazyConnection):
    """A connection to ``origin`` that opens its network stream on the first request.

    TCP (or ``uds``), then TLS for https/wss with ALPN ``http/1.1`` (and ``h2`` when
    ``http2`` is true); the negotiated protocol picks ``HTTP11Connection`` or
    ``HTTP2Connection``. ``retries``: how many times a failed connect
    (``ConnectError`` / ``ConnectTimeout``) is retried, with exponential backoff.
    ``keepalive_expiry`` is in seconds; ``limits`` (``ResponseLimits``) bounds what the
    server may send. The arguments make its ``ConnectionConfig`` (a pool passes its own
    config instead, see :func:`http_connection`).
    """

    def __init__(
        self,
        origin: Origin,
        ssl_context: ssl.SSLContext | None = None,
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
        config = connection_config(
            ssl_context, keepalive_expiry, http1, http2, retries, local_address, uds,
            network_backend, socket_options, limits,
        )
        super().__init__(origin, config)

    def _open(self, request: Request) -> ConnectionInterface:
        return protocol_connection(self._origin, self._connect(request), self._config)

    def _connect(self, request: Request) -> NetworkStream:
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("connect", None)
        origin = self._origin
        tls = None
        if origin.scheme in TLS_SCHEMES:
            tls = tls_arguments(request, origin, self._config, timeout)
        return connect_stream(
            request,
            self._config,
            logger,
            host=origin.host.decode("ascii"),
            port=origin.port,
            timeout=timeout,
            tls=tls,
        )

    def close(self) -> None:
        if self._connection is not None:
            with step(tracer(None, logger), "close"):
                self._connection.close()


def http_connection(
    origin: Origin, config: ConnectionConfig[NetworkBackend]
) -> HTTPConnection:
    """A direct :class:`HTTPConnection` to ``origin`` configured by ``config``, not
    yet connected: what a pool without a proxy creates, and the connection to an HTTP
    proxy. (The public constructor takes httpcore's keyword arguments instead.)"""
    connection = HTTPConnection.__new__(HTTPConnection)
    LazyConnection.__init__(connection, origin, config)
    return connection

"""HTTP proxies: requests to ``http://`` origins are forwarded, ``https://`` ones tunnelled.

Generated from ``httpcore_fast/_async/http_proxy.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

* Forwarding (RFC 9112 §3.2.2): the request goes to the proxy with its absolute URL as
  the request target, on an ``HTTPConnection`` to the proxy (one per target origin,
  as httpcore pools them).
* Tunnelling (RFC 9110 §9.3.6): a ``CONNECT host:port`` request opens a tunnel through
  the proxy; a 2xx answer hands over the raw stream, on which TLS to the origin is
  started (ALPN picks HTTP/1.1 or HTTP/2). Any other answer raises ``ProxyError``.
* The proxy itself may be reached over TLS (an ``https://`` proxy URL): the tunnel is
  then TLS inside TLS.

Importing this module registers the ``http`` and ``https`` proxy schemes with the pool,
so ``ConnectionPool(proxy=Proxy("http://..."))`` routes through it.
"""

from __future__ import annotations

import dataclasses
import typing

from .._backends.base import SOCKET_OPTION, NetworkBackend
from .._core.config import ConnectionConfig, tls_arguments
from .._core.origin import authority, check_origin
from .._exceptions import ProxyError
from .._limits import ResponseLimits
from .._models import (
    URL,
    HeadersAsMapping,
    HeadersAsSequence,
    Origin,
    Proxy,
    Request,
    Response,
    basic_proxy_authorization,
    enforce_auth,
    enforce_headers,
    enforce_url,
    merge_headers,
)
from .._synchronization import ShieldCancellation
from .._trace import module_logger
from .connection import (
    HTTPConnection,
    LazyConnection,
    http_connection,
    protocol_connection,
    start_tls,
)
from .connection_pool import ConnectionPool, register_proxy_factory
from .interfaces import ConnectionInterface

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

logger = module_logger("httpcore.proxy", globals())

# Origins reached by forwarding; every other scheme (https, wss) is tunnelled + TLS.
FORWARD_SCHEMES = (b"http", b"ws")


class HTTPProxy(ConnectionPool):
    """A connection pool that sends every request through an HTTP proxy.

    ``proxy_url``: ``http://`` or ``https://`` URL of the proxy (``URL``, bytes or str);
    ``proxy_auth``: ``(username, password)`` sent as ``Proxy-Authorization: Basic``;
    ``proxy_headers``: further fields sent to the proxy (with forwarded requests and with
    ``CONNECT``); ``ssl_context``: TLS to the origins; ``proxy_ssl_context``: TLS to an
    ``https://`` proxy. The other parameters are :class:`ConnectionPool`'s and apply
    to the connections to the proxy (``keepalive_expiry`` in seconds).

    Raises ``RuntimeError`` if ``proxy_ssl_context`` is given for an ``http://`` proxy,
    ``TypeError`` for arguments of the wrong type. Requests raise ``ProxyError`` when the
    proxy refuses a tunnel, and the pool's exceptions otherwise.
    """

    def __init__(
        self,
        proxy_url: URL | bytes | str,
        proxy_auth: tuple[bytes | str, bytes | str] | None = None,
        proxy_headers: HeadersAsMapping | HeadersAsSequence | None = None,
        ssl_context: ssl.SSLContext | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
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
        super().__init__(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            http1=http1,
            http2=http2,
            retries=retries,
            local_address=local_address,
            uds=uds,
            network_backend=network_backend,
            socket_options=socket_options,
            limits=limits,
            max_connections_per_origin=max_connections_per_origin,
            retry_stale_connections=retry_stale_connections,
            resolve=resolve,
            dns_cache_ttl=dns_cache_ttl,
            tls_session_cache=tls_session_cache,
        )
        self._proxy_url = enforce_url(proxy_url, name="proxy_url")
        if self._proxy_url.scheme == b"http" and proxy_ssl_context is not None:
            raise RuntimeError(
                "The `proxy_ssl_context` argument is not allowed for the http scheme"
            )
        self._proxy_ssl_context = proxy_ssl_context
        self._proxy_headers = enforce_headers(proxy_headers, name="proxy_headers")
        auth = enforce_auth(proxy_auth, name="proxy_auth")
        if auth is not None:
            self._proxy_headers = [basic_proxy_authorization(*auth), *self._proxy_headers]
        self._connection_factory = HTTPProxyRoute(
            self._proxy_url, self._proxy_headers, proxy_ssl_context
        )


class HTTPProxyRoute:
    """Connections through one HTTP proxy, and that proxy's own settings (kept apart from
    the pool's ``ConnectionConfig``): ``url`` (``URL``), ``headers`` sent to it (a list of
    (bytes, bytes); credentials already in them), ``ssl_context`` for TLS to an
    ``https://`` proxy (None: the default).

    Called as ``route(origin, config)``, it makes a forwarding connection for ``http://``
    and ``ws://`` origins and a tunnel for the others, not yet connected.
    """

    def __init__(
        self, url: URL, headers: list[tuple[bytes, bytes]], ssl_context: ssl.SSLContext | None
    ) -> None:
        self.url = url
        self.headers = headers
        self.ssl_context = ssl_context

    def __call__(
        self, origin: Origin, config: ConnectionConfig[NetworkBackend]
    ) -> ConnectionInterface:
        if origin.scheme in FORWARD_SCHEMES:
            return ForwardHTTPConnection(origin, config, self)
        return TunnelHTTPConnection(origin, config, self)

    def connection_to_proxy(
        self, config: ConnectionConfig[NetworkBackend]
    ) -> HTTPConnection:
        """The (lazy) connection to the proxy itself: the pool's ``config`` with the
        proxy's ``ssl_context``, speaking HTTP/1.1 (forwarded requests and ``CONNECT``)."""
        return http_connection(
            self.url.origin,
            dataclasses.replace(config, ssl_context=self.ssl_context, http1=True, http2=False),
        )


def _route_of(proxy: Proxy) -> HTTPProxyRoute:
    """``ConnectionPool(proxy=Proxy("http(s)://..."))``: route through that proxy."""
    return HTTPProxyRoute(proxy.url, proxy.headers, proxy.ssl_context)


register_proxy_factory((b"http", b"https"), _route_of)


class ForwardHTTPConnection(ConnectionInterface):
    """Requests to ``origin`` (``http://``) sent to the HTTP proxy of ``proxy`` with
    their absolute URL as the request target (RFC 9112 §3.2.2), on one connection to the
    proxy (configured by ``config``, see :meth:`HTTPProxyRoute.connection_to_proxy`).
    The proxy's headers are added to each request (the request's own fields of the same
    name win)."""

    def __init__(
        self,
        origin: Origin,
        config: ConnectionConfig[NetworkBackend],
        proxy: HTTPProxyRoute,
    ) -> None:
        self._connection = proxy.connection_to_proxy(config)
        self._proxy_origin = proxy.url.origin
        self._proxy_headers = proxy.headers
        self._remote_origin = origin

    def handle_request(self, request: Request) -> Response:
        """Forward ``request`` to the proxy; raises ``RuntimeError`` for a request to
        another origin, and the exceptions of the connection to the proxy."""
        check_origin(request.url, self._remote_origin)
        proxy_origin = self._proxy_origin
        forwarded = Request(
            method=request.method,
            url=URL(
                scheme=proxy_origin.scheme,
                host=proxy_origin.host,
                port=proxy_origin.port,
                target=bytes(request.url),
            ),
            headers=merge_headers(self._proxy_headers, request.headers),
            content=request.stream,
            extensions=request.extensions,
        )
        return self._connection.handle_request(forwarded)

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._remote_origin

    def close(self) -> None:
        self._connection.close()

    def info(self) -> str:
        return self._connection.info()

    def is_available(self) -> bool:
        return self._connection.is_available()

    def has_expired(self) -> bool:
        return self._connection.has_expired()

    def is_idle(self) -> bool:
        return self._connection.is_idle()

    def is_closed(self) -> bool:
        return self._connection.is_closed()

    def _close_reason(self) -> str | None:
        return self._connection._close_reason()

    def is_connected(self) -> bool:
        return self._connection.is_connected()

    def _close_after_fork(self) -> None:
        self._connection._close_after_fork()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} [{self.info()}]>"


class TunnelHTTPConnection(LazyConnection):
    """A connection to ``origin`` (``https://``) through a ``CONNECT`` tunnel opened on
    the first request (RFC 9110 §9.3.6) through the HTTP proxy of ``proxy``, then TLS to
    the origin as ``config`` says (ALPN ``h2`` offered when ``config.http2`` is true and
    HTTP/2 support is installed). The tunnel request carries ``Host``, ``Accept`` and the
    proxy's headers.

    Requests raise ``ProxyError("<status> <reason>")`` if the proxy answers ``CONNECT``
    with anything but 2xx (the connection to the proxy is then closed), and the network,
    timeout and protocol exceptions of the exchanges. ``timeout["connect"]`` bounds
    the TLS handshake with the origin.
    """

    def __init__(
        self,
        origin: Origin,
        config: ConnectionConfig[NetworkBackend],
        proxy: HTTPProxyRoute,
    ) -> None:
        super().__init__(origin, config)
        self._proxy_connection = proxy.connection_to_proxy(config)
        self._proxy_origin = proxy.url.origin
        self._proxy_headers = proxy.headers

    def _open_failed(self) -> None:
        self._proxy_connection.close()

    def _open(self, request: Request) -> ConnectionInterface:
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("connect", None)
        origin = self._origin
        target = authority(origin.host, origin.port)
        proxy_origin = self._proxy_origin
        connect_request = Request(
            method=b"CONNECT",
            url=URL(
                scheme=proxy_origin.scheme,
                host=proxy_origin.host,
                port=proxy_origin.port,
                target=target,
            ),
            headers=merge_headers([(b"Host", target), (b"Accept", b"*/*")], self._proxy_headers),
            extensions=request.extensions,
        )
        response = self._proxy_connection.handle_request(connect_request)
        status = response.status
        if not 200 <= status <= 299:
            reason = response.extensions.get("reason_phrase", b"")
            raise ProxyError(f"{status} {reason.decode('ascii', errors='ignore')}")

        stream = response.extensions["network_stream"]
        kwargs = tls_arguments(request, origin, self._config, timeout)
        stream = start_tls(request, stream, logger, kwargs)
        return protocol_connection(origin, stream, self._config)

    def is_connected(self) -> bool:
        """While the tunnel is being set up: whether the connection to the proxy is
        open (as httpcore2 reports it); then whether the tunnel is."""
        connection = self._connection
        if connection is None:
            return self._proxy_connection.is_connected()
        return connection.is_connected()

    def _close_after_fork(self) -> None:
        # The tunnel's TLS stream and the connection to the proxy share one socket;
        # closing the child's copy twice is harmless (never raises).
        super()._close_after_fork()
        self._proxy_connection._close_after_fork()

    def close(self) -> None:
        """Close the connection to the origin and the one to the proxy below it."""
        try:
            super().close()
        finally:
            ShieldCancellation.run(self._proxy_connection.close)

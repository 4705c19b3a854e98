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

import base64
import logging
import ssl
import types
import typing

from .._backends.base import SOCKET_OPTION, NetworkBackend
from .._limits import ResponseLimits
from .._exceptions import ProxyError
from .._models import (
    URL,
    HeadersAsMapping,
    HeadersAsSequence,
    Origin,
    Request,
    Response,
    enforce_bytes,
    enforce_headers,
    enforce_url,
)
from .._synchronization import ShieldCancellation
from .connection import (
    HTTPConnection,
    LazyConnection,
    protocol_connection,
    start_tls,
    tls_arguments,
)
from .connection_pool import ConnectionPool, register_proxy_factory
from .http11 import check_origin
from .interfaces import ConnectionInterface

logger = logging.getLogger("httpcore.proxy")

# Origins reached by forwarding; every other scheme (https, wss) is tunnelled + TLS.
FORWARD_SCHEMES = (b"http", b"ws")


def merge_headers(
    defaults: typing.Sequence[tuple[bytes, bytes]] | None,
    overrides: typing.Sequence[tuple[bytes, bytes]] | None,
) -> list[tuple[bytes, bytes]]:
    """``defaults`` whose names (case-insensitively) are not in ``overrides``, followed by
    every field of ``overrides``."""
    overrides = list(overrides or ())
    if not defaults:
        return overrides
    overridden = {name.lower() for name, _ in overrides}
    return [field for field in defaults if field[0].lower() not in overridden] + overrides


def basic_proxy_authorization(username: bytes | str, password: bytes | str) -> tuple[bytes, bytes]:
    """The ``Proxy-Authorization`` field for Basic credentials (RFC 7617, RFC 9110 §11.7.2).

    Raises ``TypeError`` if a credential is neither bytes nor str.
    """
    userpass = enforce_bytes(username, name="proxy_auth") + b":"
    userpass += enforce_bytes(password, name="proxy_auth")
    return (b"Proxy-Authorization", b"Basic " + base64.b64encode(userpass))


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
        )
        self._proxy_url = enforce_url(proxy_url, name="proxy_url")
        if self._proxy_url.scheme == b"http" and proxy_ssl_context is not None:
            raise RuntimeError(
                "The `proxy_ssl_context` argument is not allowed for the http scheme"
            )
        self._proxy_ssl_context = proxy_ssl_context
        self._proxy_headers = enforce_headers(proxy_headers, name="proxy_headers")
        if proxy_auth is not None:
            authorization = basic_proxy_authorization(proxy_auth[0], proxy_auth[1])
            self._proxy_headers = [authorization, *self._proxy_headers]

    def create_connection(self, origin: Origin) -> ConnectionInterface:
        """A forwarding connection for ``http://`` origins, a tunnel for the others."""
        return proxy_connection(
            self, origin, self._proxy_url.origin, self._proxy_headers, self._proxy_ssl_context
        )


def proxy_connection(
    pool: ConnectionPool,
    origin: Origin,
    proxy_origin: Origin,
    proxy_headers: list[tuple[bytes, bytes]],
    proxy_ssl_context: ssl.SSLContext | None,
) -> ConnectionInterface:
    """A connection to ``origin`` through the HTTP proxy at ``proxy_origin``, configured
    from ``pool``'s settings."""
    if origin.scheme in FORWARD_SCHEMES:
        return ForwardHTTPConnection(
            proxy_origin=proxy_origin,
            remote_origin=origin,
            proxy_headers=proxy_headers,
            keepalive_expiry=pool._keepalive_expiry,
            network_backend=pool._network_backend,
            socket_options=pool._socket_options,
            proxy_ssl_context=proxy_ssl_context,
            retries=pool._retries,
            local_address=pool._local_address,
            uds=pool._uds,
            limits=pool._limits,
        )
    return TunnelHTTPConnection(
        proxy_origin=proxy_origin,
        remote_origin=origin,
        ssl_context=pool._ssl_context,
        proxy_ssl_context=proxy_ssl_context,
        proxy_headers=proxy_headers,
        keepalive_expiry=pool._keepalive_expiry,
        http1=pool._http1,
        http2=pool._http2,
        network_backend=pool._network_backend,
        socket_options=pool._socket_options,
        retries=pool._retries,
        local_address=pool._local_address,
        uds=pool._uds,
        limits=pool._limits,
    )


def _pool_proxy_factory(pool: ConnectionPool, origin: Origin) -> ConnectionInterface:
    """``ConnectionPool(proxy=Proxy("http(s)://..."))``: route through that proxy."""
    proxy = pool._proxy
    assert proxy is not None
    return proxy_connection(pool, origin, proxy.url.origin, proxy.headers, proxy.ssl_context)


register_proxy_factory((b"http", b"https"), _pool_proxy_factory)


class ForwardHTTPConnection(ConnectionInterface):
    """Requests to ``remote_origin`` (``http://``) sent to the proxy at ``proxy_origin``
    with their absolute URL as the request target (RFC 9112 §3.2.2), on one connection
    to the proxy. ``proxy_headers`` are added to each request (the request's own fields
    of the same name win)."""

    def __init__(
        self,
        proxy_origin: Origin,
        remote_origin: Origin,
        proxy_headers: HeadersAsMapping | HeadersAsSequence | None = None,
        keepalive_expiry: float | None = None,
        network_backend: NetworkBackend | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        *,
        limits: ResponseLimits | None = None,
    ) -> None:
        self._connection = HTTPConnection(
            origin=proxy_origin,
            ssl_context=proxy_ssl_context,
            keepalive_expiry=keepalive_expiry,
            retries=retries,
            local_address=local_address,
            uds=uds,
            network_backend=network_backend,
            socket_options=socket_options,
            limits=limits,
        )
        self._proxy_origin = proxy_origin
        self._proxy_headers = enforce_headers(proxy_headers, name="proxy_headers")
        self._remote_origin = remote_origin

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

    def is_connected(self) -> bool:
        return self._connection.is_connected()

    def _close_after_fork(self) -> None:
        self._connection._close_after_fork()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} [{self.info()}]>"

    def __enter__(self) -> ForwardHTTPConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        self.close()


class ProxiedConnection(LazyConnection):
    """A connection to ``remote_origin`` through a proxy, set up on the first request by
    ``_open(request)`` (see :class:`LazyConnection` for the states it reports)."""

    _remote_origin: Origin

    @property
    def _origin(self) -> Origin:  # type: ignore[override]
        return self._remote_origin


class TunnelHTTPConnection(ProxiedConnection):
    """A connection to ``remote_origin`` (``https://``) through a ``CONNECT`` tunnel
    opened on the first request (RFC 9110 §9.3.6), then TLS to the origin with
    ``ssl_context`` (ALPN ``h2`` offered when ``http2`` is true and HTTP/2 support is
    installed). The tunnel request carries ``Host``, ``Accept`` and ``proxy_headers``.

    Requests raise ``ProxyError("<status> <reason>")`` if the proxy answers ``CONNECT``
    with anything but 2xx (the connection to the proxy is then closed), and the network,
    timeout and protocol exceptions of the exchanges. ``timeout["connect"]`` bounds
    the TLS handshake with the origin.
    """

    def __init__(
        self,
        proxy_origin: Origin,
        remote_origin: Origin,
        ssl_context: ssl.SSLContext | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
        proxy_headers: typing.Sequence[tuple[bytes, bytes]] | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        network_backend: NetworkBackend | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        *,
        limits: ResponseLimits | None = None,
    ) -> None:
        super().__init__()
        self._proxy_connection = HTTPConnection(
            origin=proxy_origin,
            ssl_context=proxy_ssl_context,
            keepalive_expiry=keepalive_expiry,
            retries=retries,
            local_address=local_address,
            uds=uds,
            network_backend=network_backend,
            socket_options=socket_options,
            limits=limits,
        )
        self._limits = limits
        self._proxy_origin = proxy_origin
        self._remote_origin = remote_origin
        self._ssl_context = ssl_context
        self._proxy_ssl_context = proxy_ssl_context
        self._proxy_headers = enforce_headers(proxy_headers, name="proxy_headers")
        self._keepalive_expiry = keepalive_expiry
        self._http1 = http1
        self._http2 = http2

    def _open_failed(self) -> None:
        self._proxy_connection.close()

    def _open(self, request: Request) -> ConnectionInterface:
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("connect", None)
        origin = self._remote_origin
        host = origin.host
        authority = b"[%b]:%d" % (host, origin.port) if b":" in host else b"%b:%d" % (
            host,
            origin.port,
        )
        proxy_origin = self._proxy_origin
        connect_request = Request(
            method=b"CONNECT",
            url=URL(
                scheme=proxy_origin.scheme,
                host=proxy_origin.host,
                port=proxy_origin.port,
                target=authority,
            ),
            headers=merge_headers(
                [(b"Host", authority), (b"Accept", b"*/*")], self._proxy_headers
            ),
            extensions=request.extensions,
        )
        response = self._proxy_connection.handle_request(connect_request)
        status = response.status
        if not 200 <= status <= 299:
            reason = response.extensions.get("reason_phrase", b"")
            raise ProxyError(f"{status} {reason.decode('ascii', errors='ignore')}")

        stream = response.extensions["network_stream"]
        kwargs = tls_arguments(request, origin, self._ssl_context, self._http2, timeout)
        stream = start_tls(request, stream, logger, kwargs)
        return protocol_connection(
            origin,
            stream,
            keepalive_expiry=self._keepalive_expiry,
            http1=self._http1,
            http2=self._http2,
            limits=self._limits,
        )

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

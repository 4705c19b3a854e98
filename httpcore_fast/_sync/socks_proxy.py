"""SOCKS proxies: SOCKS5 (RFC 1928, RFC 1929 username/password) and SOCKS4 / SOCKS4a.

Generated from ``httpcore_fast/_async/socks_proxy.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

Proxy URL schemes and where the origin's host name is resolved:

===========  =========================================================================
``socks5``   by the proxy (the name is sent, RFC 1928 §5 DOMAINNAME), as in httpcore;
             locally (an IPv4 or IPv6 address is sent) only with
             ``SOCKSProxy(..., local_dns=True)``
``socks5h``  by the proxy (the name is sent), always
``socks4a``  by the proxy (the SOCKS4a extension: the name follows the user id)
``socks4``   locally (SOCKS4 carries an IPv4 address only)
===========  =========================================================================

httpcore sends the name for ``socks5`` too, so that names such as ``.onion`` work and
DNS never leaks past the proxy; local resolution is an explicit opt-in.

The handshakes are the sans-I/O machines of ``httpcore_fast/_core/socks.py`` (on
``socksio``); this module only does their I/O: connect, write what a machine says, read
what it asks for (replies are read with their exact lengths, so bytes the origin sends
right after the handshake are never lost), time out, trace. A refusal, a malformed reply
or a proxy that closes the connection during the handshake raises ``ProxyError`` with
the proxy's reason. Importing this module registers the four schemes with the pool
(``ConnectionPool(proxy=Proxy("socks5h://..."))``).
"""

from __future__ import annotations

import socket
import typing

from .._backends.base import NetworkBackend, NetworkStream
from .._core.config import ConnectionConfig, tls_arguments
from .._core.origin import SOCKS_PORTS, TLS_SCHEMES
from .._core.socks import (
    SOCKS4_SCHEMES,
    SOCKS5_SCHEMES,
    Done,
    Refused,
    SOCKS4Handshake,
    SOCKS5Handshake,
    require_socksio,
    resolves_at_proxy,
)
from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadTimeout,
    UnsupportedProtocol,
    WriteTimeout,
)
from .._limits import ResponseLimits
from .._models import URL, Origin, Proxy, Request, enforce_auth, enforce_url
from .._synchronization import ShieldCancellation
from .._trace import module_logger, step, tracer
from .connection import (
    LazyConnection,
    connect_stream,
    protocol_connection,
    start_tls,
)
from .connection_pool import ConnectionPool, register_proxy_factory
from .http11 import HTTP11UpgradeStream
from .interfaces import ConnectionInterface

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

logger = module_logger("httpcore.socks", globals())

AddressInfo = typing.List[typing.Tuple[typing.Any, ...]]


def _getaddrinfo(host: str, port: int, family: int) -> AddressInfo:
    """``socket.getaddrinfo`` for a TCP stream; it blocks, so async code runs it in a
    worker thread of the running library (``run_in_thread``)."""
    return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)


def resolve_address(host: str, port: int, family: int) -> str:
    """Resolve ``host`` locally (``socks4``; ``socks5`` with ``local_dns=True``) to an
    address of ``family`` (``AF_UNSPEC`` for any); an IP literal is returned as is.

    Raises ``ConnectError`` if the name does not resolve, ``ProxyError`` if an address
    literal of another family is given (SOCKS4 carries IPv4 only).
    """
    import ipaddress  # here: once per SOCKS connection, and no cost to other programs

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if family == socket.AF_INET and address.version != 4:
            raise ProxyError(f"SOCKS4 cannot connect to the IPv6 address {host}.")
        return host
    try:
        infos = _getaddrinfo(host, port, family)
    except OSError as exc:
        raise ConnectError(f"Could not resolve {host!r}: {exc}") from None
    if not infos:  # pragma: nocover - getaddrinfo raises rather than return nothing
        raise ConnectError(f"Could not resolve {host!r}")
    return str(infos[0][4][0])


def run_handshake(
    stream: NetworkStream,
    handshake: SOCKS4Handshake | SOCKS5Handshake,
    timeout: float | None,
) -> bytes:
    """Drive a SOCKS ``handshake`` machine over ``stream``: write what it says, read what
    it asks for (``timeout`` in seconds, per read or write). Returns the bytes read past
    the reply (the origin's; usually none).

    Raises ``ProxyError`` with the machine's reason if the proxy refuses, answers
    something malformed or closes the connection; the network and timeout exceptions of
    the stream.
    """
    event = handshake.start()
    while True:
        if isinstance(event, Refused):
            raise ProxyError(event.reason)
        if event.send:
            stream.write(event.send, timeout)
        if isinstance(event, Done):
            return event.leftover
        event = handshake.receive_data(stream.read(event.size, timeout))


class SOCKSProxy(ConnectionPool):
    """A connection pool that sends every request through a SOCKS proxy.

    ``proxy_url``: ``socks5://``, ``socks5h://``, ``socks4a://`` or ``socks4://`` URL
    (``URL``, bytes or str; port 1080 by default); see the module docstring for where
    each resolves names. ``proxy_auth``: ``(username, password)`` (SOCKS5
    username/password authentication, RFC 1929; for SOCKS4 the username is sent as the
    user id). ``ssl_context``: TLS to ``https://`` origins. The other parameters are
    :class:`ConnectionPool`'s (``keepalive_expiry`` in seconds; ``retries`` for
    connecting to the proxy).

    Beyond httpcore, keyword-only: ``limits`` (``ResponseLimits``); ``local_dns``: with a
    ``socks5://`` proxy, resolve origin host names in this process and send the proxy an
    address (default False: the name is sent, as httpcore does; ``socks4://`` always
    resolves locally). A pool built with ``proxy=Proxy("socks5://...")`` always sends
    names.

    Raises ``RuntimeError`` if ``socksio`` is not installed, ``UnsupportedProtocol``
    for another URL scheme, ``ValueError`` for ``local_dns=True`` with a scheme that
    resolves at the proxy (``socks5h``, ``socks4a``), ``TypeError`` for arguments of the
    wrong type. Nothing is connected until the first request.
    """

    def __init__(
        self,
        proxy_url: URL | bytes | str,
        proxy_auth: tuple[bytes | str, bytes | str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int | None = 10,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        retries: int = 0,
        network_backend: NetworkBackend | None = None,
        *,
        limits: ResponseLimits | None = None,
        max_connections_per_origin: int | None = None,
        retry_stale_connections: bool = True,
        resolve: typing.Mapping[str, typing.Sequence[str]] | None = None,
        dns_cache_ttl: float | None = None,
        tls_session_cache: bool = True,
        local_dns: bool = False,
    ) -> None:
        require_socksio()
        super().__init__(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            http1=http1,
            http2=http2,
            retries=retries,
            network_backend=network_backend,
            limits=limits,
            max_connections_per_origin=max_connections_per_origin,
            retry_stale_connections=retry_stale_connections,
            resolve=resolve,
            dns_cache_ttl=dns_cache_ttl,
            tls_session_cache=tls_session_cache,
        )
        self._proxy_url = enforce_url(proxy_url, name="proxy_url")
        scheme = self._proxy_url.scheme
        if scheme not in SOCKS5_SCHEMES + SOCKS4_SCHEMES:
            raise UnsupportedProtocol(
                f"Proxy URL has an unsupported protocol "
                f"'{scheme.decode('ascii', errors='replace')}://'."
            )
        if local_dns and resolves_at_proxy(scheme, local_dns=True):
            raise ValueError(
                f"local_dns=True contradicts a '{scheme.decode('ascii')}://' proxy, which "
                "resolves names at the proxy."
            )
        self._local_dns = local_dns
        self._proxy_auth = enforce_auth(proxy_auth, name="proxy_auth")
        self._connection_factory = SOCKSProxyRoute(
            self._proxy_url, self._proxy_auth, local_dns=local_dns
        )


class SOCKSProxyRoute:
    """Connections through one SOCKS proxy, and that proxy's own settings (kept apart from
    the pool's ``ConnectionConfig``): ``origin`` of the proxy (port 1080 by default),
    ``socks4`` (SOCKS4/4a rather than SOCKS5), ``auth`` ((username, password) bytes or
    None), ``remote_dns`` (send origin names for the proxy to resolve; see
    :func:`resolves_at_proxy` for ``url``'s scheme and ``local_dns``).

    Called as ``route(origin, config)``, it makes a connection to ``origin`` through the
    proxy, not yet connected (``config``'s ``socket_options``, ``local_address``, ``uds``
    and ``retries`` apply to the connection to the proxy).
    """

    def __init__(
        self, url: URL, auth: tuple[bytes, bytes] | None, *, local_dns: bool = False
    ) -> None:
        scheme = url.scheme
        self.origin = Origin(scheme, url.host, url.port or SOCKS_PORTS[scheme])
        self.socks4 = scheme in SOCKS4_SCHEMES
        self.auth = auth
        self.remote_dns = resolves_at_proxy(scheme, local_dns)

    def __call__(
        self, origin: Origin, config: ConnectionConfig[NetworkBackend]
    ) -> ConnectionInterface:
        """Raises ``RuntimeError`` if ``socksio`` is not installed."""
        require_socksio()
        if self.socks4:
            return Socks4Connection(origin, config, self)
        return Socks5Connection(origin, config, self)


def _route_of(proxy: Proxy) -> SOCKSProxyRoute:
    """``ConnectionPool(proxy=Proxy("socks5h://..."))``: route through that proxy
    (names are always sent to it)."""
    return SOCKSProxyRoute(proxy.url, proxy.auth)


register_proxy_factory(SOCKS5_SCHEMES + SOCKS4_SCHEMES, _route_of)


class Socks5Connection(LazyConnection):
    """A connection to ``origin`` through the SOCKS5 proxy of ``proxy`` (an
    :class:`SOCKSProxyRoute`), opened on the first request: TCP to the proxy as
    ``config`` says (``retries``, ``local_address``, ``uds``, ``socket_options``), the
    SOCKS5 handshake (the origin's name sent, or resolved here to an address when the
    route says ``remote_dns`` is false), then TLS for ``https://`` origins (ALPN ``h2``
    offered when ``config.http2`` is true and HTTP/2 support is installed) and HTTP/1.1
    or HTTP/2 on top. ``timeout["connect"]`` bounds each step of connecting (TCP, every
    handshake read and write, TLS). Requests raise ``ProxyError`` if the proxy refuses
    (with its reason).
    """

    def __init__(
        self,
        origin: Origin,
        config: ConnectionConfig[NetworkBackend],
        proxy: SOCKSProxyRoute,
    ) -> None:
        super().__init__(origin, config)
        self._proxy = proxy

    def _open(self, request: Request) -> ConnectionInterface:
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("connect", None)
        origin = self._origin
        host = origin.host.decode("ascii")
        if not self._proxy.remote_dns:
            host = resolve_address(host, origin.port, self._address_family())

        proxy = self._proxy.origin
        stream = connect_stream(
            request,
            self._config,
            logger,
            host=proxy.host.decode("ascii"),
            port=proxy.port,
            timeout=timeout,
        )
        try:
            try:
                leftover = self._setup(request, stream, host, timeout)
            except (ReadTimeout, WriteTimeout) as exc:
                # The handshake is part of connecting: its reads and writes are bounded
                # by the connect timeout, and running out of it is a ConnectTimeout.
                raise ConnectTimeout(str(exc) or "SOCKS handshake timed out") from None
            if leftover:
                stream = HTTP11UpgradeStream(stream, leftover)
            if origin.scheme in TLS_SCHEMES:
                kwargs = tls_arguments(request, origin, self._config, timeout)
                stream = start_tls(request, stream, logger, kwargs)
            return protocol_connection(origin, stream, self._config)
        except BaseException as exc:
            ShieldCancellation.run(stream.close)
            raise exc

    def _address_family(self) -> int:
        return socket.AF_UNSPEC

    def _handshake(
        self, host: str
    ) -> tuple[str, dict[str, typing.Any], SOCKS4Handshake | SOCKS5Handshake]:
        """The trace step name, its arguments and the handshake machine."""
        port, auth = self._origin.port, self._proxy.auth
        info = {"host": host, "port": port, "auth": auth}
        return "setup_socks5_connection", info, SOCKS5Handshake(host, port, auth)

    def _setup(
        self, request: Request, stream: NetworkStream, host: str, timeout: float | None
    ) -> bytes:
        """The handshake for a tunnel to ``host``, traced; returns the bytes read past
        the reply."""
        name, info, handshake = self._handshake(host)
        kwargs: dict[str, typing.Any] = {"stream": stream, **info}
        with step(tracer(request, logger), name, kwargs) as traced:
            leftover = run_handshake(stream, handshake, timeout)
            traced.return_value = stream
        return leftover


class Socks4Connection(Socks5Connection):
    """Like :class:`Socks5Connection`, through a SOCKS4 proxy: the host name is sent
    (SOCKS4a) when the route says ``remote_dns``, else resolved here to an IPv4 address
    (SOCKS4). The username of the route's ``auth`` is sent as the user id (SOCKS4 has no
    passwords)."""

    def _address_family(self) -> int:
        return socket.AF_INET

    def _handshake(
        self, host: str
    ) -> tuple[str, dict[str, typing.Any], SOCKS4Handshake | SOCKS5Handshake]:
        port, auth = self._origin.port, self._proxy.auth
        user_id = b"" if auth is None else auth[0]
        info = {"host": host, "port": port, "user_id": user_id}
        return "setup_socks4_connection", info, SOCKS4Handshake(host, port, user_id)

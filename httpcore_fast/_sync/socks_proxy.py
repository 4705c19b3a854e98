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

Requests are built and replies parsed with ``socksio``; replies are read with their
exact lengths, so bytes the origin sends right after the handshake are never lost.
A refusal, a malformed reply or a proxy that closes the connection during the
handshake raises ``ProxyError`` with the proxy's reason. Importing this module
registers the four schemes with the pool
(``ConnectionPool(proxy=Proxy("socks5h://..."))``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import struct
import typing

from .._backends.sync import SyncBackend
from .._backends.base import SOCKET_OPTION, NetworkBackend, NetworkStream
from .._limits import ResponseLimits
from .._exceptions import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadTimeout,
    UnsupportedProtocol,
    WriteTimeout,
)
from .._models import URL, Origin, Request, enforce_bytes, enforce_url
from .._synchronization import ShieldCancellation, current_async_library
from .._trace import Trace
from .connection import (
    TLS_SCHEMES,
    connect_stream,
    protocol_connection,
    start_tls,
    tls_arguments,
)
from .connection_pool import ConnectionPool, register_proxy_factory
from .http11 import HTTP11UpgradeStream
from .http_proxy import ProxiedConnection
from .interfaces import ConnectionInterface

socksio: typing.Any
try:
    import socksio
except ImportError:  # pragma: nocover - socksio not installed
    socksio = None

logger = logging.getLogger("httpcore.socks")

SOCKS_DEFAULT_PORT = 1080
SOCKS5_SCHEMES = (b"socks5", b"socks5h")
SOCKS4_SCHEMES = (b"socks4", b"socks4a")
# Schemes whose names are always resolved by the proxy; ``socks5`` too unless
# ``local_dns=True``; ``socks4`` never (it carries an IPv4 address only).
REMOTE_DNS_SCHEMES = (b"socks5h", b"socks4a")

# RFC 1928 §3.
SOCKS5_AUTH_METHODS = {
    0x00: "NO AUTHENTICATION REQUIRED",
    0x01: "GSSAPI",
    0x02: "USERNAME/PASSWORD",
    0xFF: "NO ACCEPTABLE METHODS",
}
# RFC 1928 §6.
SOCKS5_REPLY_CODES = {
    0x00: "Succeeded",
    0x01: "General SOCKS server failure",
    0x02: "Connection not allowed by ruleset",
    0x03: "Network unreachable",
    0x04: "Host unreachable",
    0x05: "Connection refused",
    0x06: "TTL expired",
    0x07: "Command not supported",
    0x08: "Address type not supported",
}
# The SOCKS4 protocol document (and SOCKS4a), "CD" of the reply.
SOCKS4_REPLY_CODES = {
    0x5A: "Request granted",
    0x5B: "Request rejected or failed",
    0x5C: "Request rejected: the proxy cannot connect to identd on the client",
    0x5D: "Request rejected: identd reports a different user id",
}

_MISSING_SOCKSIO = (
    "Attempted to use SOCKS support, but the `socksio` package is not installed. "
    "Use 'pip install httpcore-fast[socks]'."
)


def _require_socksio() -> None:
    if socksio is None:
        raise RuntimeError(_MISSING_SOCKSIO)


def proxy_origin(url: URL) -> Origin:
    """The proxy's ``Origin``: its port, or 1080 (the SOCKS port, RFC 1928 §3)."""
    return Origin(url.scheme, url.host, url.port or SOCKS_DEFAULT_PORT)


def _to_thread(func: typing.Callable[..., typing.Any], *args: typing.Any) -> typing.Any:
    """Run blocking ``func(*args)`` in a worker thread of the running async library.
    (``scripts/unasync.py`` rewrites ``f(...)`` into ``f(...)``, so the
    sync twin calls it directly and never uses this helper.)"""
    if current_async_library() == "trio":
        import trio

        return trio.to_thread.run_sync(func, *args)
    return asyncio.get_running_loop().run_in_executor(None, func, *args)


def resolve_address(host: str, port: int, family: int) -> str:
    """Resolve ``host`` locally (``socks4``; ``socks5`` with ``local_dns=True``) to an
    address of ``family``
    (``AF_UNSPEC`` for any); an IP literal is returned as is.

    Raises ``ConnectError`` if the name does not resolve, ``ProxyError`` if an address
    literal of another family is given (SOCKS4 carries IPv4 only).
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if family == socket.AF_INET and address.version != 4:
            raise ProxyError(f"SOCKS4 cannot connect to the IPv6 address {host}.")
        return host
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except OSError as exc:
        raise ConnectError(f"Could not resolve {host!r}: {exc}") from None
    if not infos:  # pragma: nocover - getaddrinfo raises rather than return nothing
        raise ConnectError(f"Could not resolve {host!r}")
    return str(infos[0][4][0])


class _ReplyReader:
    """Reads SOCKS replies with their exact lengths, so that bytes the origin sends right
    after the handshake stay in the stream. A stream may still return more than asked
    (httpcore's mock streams return whole chunks): the surplus is kept in ``pending``
    and read first; what is left after the handshake belongs to the origin."""

    def __init__(self, stream: NetworkStream, timeout: float | None) -> None:
        self._stream = stream
        self._timeout = timeout
        self.pending = b""

    def read_exactly(self, size: int) -> bytes:
        """``size`` bytes of the reply. Raises ``ProxyError`` at EOF, and the network and
        timeout exceptions of the stream."""
        data = self.pending
        while len(data) < size:
            chunk = self._stream.read(size - len(data), self._timeout)
            if not chunk:
                raise ProxyError("The proxy closed the connection during the SOCKS handshake.")
            data += chunk
        self.pending = data[size:]
        return data[:size]


def setup_socks5_connection(
    stream: NetworkStream,
    *,
    host: str,
    port: int,
    auth: tuple[bytes, bytes] | None = None,
    timeout: float | None = None,
) -> bytes:
    """Ask the SOCKS5 proxy on ``stream`` for a tunnel to ``host``:``port`` (RFC 1928),
    authenticating with ``auth`` = (username, password) if given (RFC 1929).
    ``host`` is sent as an address if it is an IP literal, else as a name. Returns the
    bytes read past the reply (the origin's; usually none).

    Raises ``ProxyError`` (with the proxy's reason) if the proxy refuses the method,
    the credentials or the connection, or answers something malformed; the network and
    timeout exceptions of the stream (``timeout`` in seconds, per read or write).
    """
    s5 = socksio.socks5
    reader = _ReplyReader(stream, timeout)
    try:
        connection = s5.SOCKS5Connection()
        method = (
            s5.SOCKS5AuthMethod.NO_AUTH_REQUIRED
            if auth is None
            else s5.SOCKS5AuthMethod.USERNAME_PASSWORD
        )
        connection.send(s5.SOCKS5AuthMethodsRequest([method]))
        stream.write(connection.data_to_send(), timeout)
        data = reader.read_exactly(2)
        if data[1:2] != method:
            requested = SOCKS5_AUTH_METHODS[method[0]]
            answered = SOCKS5_AUTH_METHODS.get(data[1], f"UNKNOWN ({data[1]:#04x})")
            raise ProxyError(f"Requested {requested} from proxy server, but got {answered}.")
        connection.receive_data(data)

        if auth is not None:
            connection.send(s5.SOCKS5UsernamePasswordRequest(auth[0], auth[1]))
            stream.write(connection.data_to_send(), timeout)
            reply = connection.receive_data(reader.read_exactly(2))
            if not reply.success:
                raise ProxyError("Invalid username/password")

        connection.send(
            s5.SOCKS5CommandRequest.from_address(s5.SOCKS5Command.CONNECT, (host, port))
        )
        stream.write(connection.data_to_send(), timeout)
        data = reader.read_exactly(4)
        if data[0] != 5:
            raise ProxyError("Malformed SOCKS5 reply from the proxy.")
        if data[1] != 0:
            reason = SOCKS5_REPLY_CODES.get(data[1], f"unknown reply code {data[1]:#04x}")
            raise ProxyError(f"Proxy Server could not connect: {reason}.")
        atype = data[3]
        if atype == 1:
            data += reader.read_exactly(4 + 2)
        elif atype == 4:
            data += reader.read_exactly(16 + 2)
        elif atype == 3:
            data += reader.read_exactly(1)
            data += reader.read_exactly(data[4] + 2)
        else:
            raise ProxyError("Malformed SOCKS5 reply from the proxy.")
        connection.receive_data(data)
    except socksio.exceptions.SOCKSError as exc:
        raise ProxyError(f"SOCKS5 protocol error: {exc}") from None
    return reader.pending


def setup_socks4_connection(
    stream: NetworkStream,
    *,
    host: str,
    port: int,
    user_id: bytes = b"",
    timeout: float | None = None,
) -> bytes:
    """Ask the SOCKS4 proxy on ``stream`` for a tunnel to ``host``:``port``: SOCKS4 if
    ``host`` is an IPv4 address, else SOCKS4a (the proxy resolves the name).
    ``user_id`` is sent as the USERID field (may be empty). Returns the bytes read past
    the reply (the origin's; usually none).

    Raises ``ProxyError`` with the proxy's reason if it refuses, or if it answers
    something malformed; the network and timeout exceptions of the stream.
    """
    try:
        address = socket.inet_aton(host) if _is_ipv4(host) else None
    except OSError:  # pragma: nocover - _is_ipv4 checked it
        address = None
    if b"\x00" in user_id:
        raise ProxyError("A SOCKS4 user id cannot contain NUL.")
    if address is not None:
        request = struct.pack(">BBH", 4, 1, port) + address + user_id + b"\x00"
    else:
        # SOCKS4a: address 0.0.0.x (x != 0), then the name after the user id.
        name = host.encode("idna")
        request = struct.pack(">BBH", 4, 1, port) + b"\x00\x00\x00\x01"
        request += user_id + b"\x00" + name + b"\x00"
    stream.write(request, timeout)
    reader = _ReplyReader(stream, timeout)
    data = reader.read_exactly(8)
    code = data[1]
    if code != 0x5A:
        if data[0] != 0 or code not in SOCKS4_REPLY_CODES:
            raise ProxyError("Malformed SOCKS4 reply from the proxy.")
        raise ProxyError(f"Proxy Server could not connect: {SOCKS4_REPLY_CODES[code]}.")
    try:
        socksio.socks4.SOCKS4Reply.loads(data)
    except socksio.exceptions.SOCKSError as exc:
        raise ProxyError(f"SOCKS4 protocol error: {exc}") from None
    return reader.pending


def _is_ipv4(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        return False


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
        local_dns: bool = False,
    ) -> None:
        _require_socksio()
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
        )
        self._proxy_url = enforce_url(proxy_url, name="proxy_url")
        if self._proxy_url.scheme not in SOCKS5_SCHEMES + SOCKS4_SCHEMES:
            raise UnsupportedProtocol(
                f"Proxy URL has an unsupported protocol "
                f"'{self._proxy_url.scheme.decode('ascii', errors='replace')}://'."
            )
        if local_dns and self._proxy_url.scheme in REMOTE_DNS_SCHEMES:
            raise ValueError(
                f"local_dns=True contradicts a "
                f"'{self._proxy_url.scheme.decode('ascii')}://' proxy, which resolves "
                "names at the proxy."
            )
        self._local_dns = local_dns
        if proxy_auth is not None:
            self._proxy_auth: tuple[bytes, bytes] | None = (
                enforce_bytes(proxy_auth[0], name="proxy_auth"),
                enforce_bytes(proxy_auth[1], name="proxy_auth"),
            )
        else:
            self._proxy_auth = None

    def create_connection(self, origin: Origin) -> ConnectionInterface:
        """A connection to ``origin`` through the proxy (not yet connected)."""
        return socks_connection(
            self, origin, self._proxy_url, self._proxy_auth, local_dns=self._local_dns
        )


def socks_connection(
    pool: ConnectionPool,
    origin: Origin,
    proxy_url: URL,
    proxy_auth: tuple[bytes, bytes] | None,
    *,
    local_dns: bool = False,
) -> ConnectionInterface:
    """A connection to ``origin`` through the SOCKS proxy at ``proxy_url``, configured
    from ``pool``'s settings (``socket_options``, ``local_address`` and ``uds`` apply to
    the connection to the proxy). ``local_dns``: see :class:`SOCKSProxy`."""
    _require_socksio()
    scheme = proxy_url.scheme
    connection_class = Socks4Connection if scheme in SOCKS4_SCHEMES else Socks5Connection
    return connection_class(
        proxy_origin=proxy_origin(proxy_url),
        remote_origin=origin,
        proxy_auth=proxy_auth,
        ssl_context=pool._ssl_context,
        keepalive_expiry=pool._keepalive_expiry,
        http1=pool._http1,
        http2=pool._http2,
        network_backend=pool._network_backend,
        remote_dns=scheme in REMOTE_DNS_SCHEMES or (scheme == b"socks5" and not local_dns),
        retries=pool._retries,
        local_address=pool._local_address,
        uds=pool._uds,
        socket_options=pool._socket_options,
        limits=pool._limits,
    )


def _pool_proxy_factory(pool: ConnectionPool, origin: Origin) -> ConnectionInterface:
    """``ConnectionPool(proxy=Proxy("socks5h://..."))``: route through that proxy."""
    proxy = pool._proxy
    assert proxy is not None
    return socks_connection(pool, origin, proxy.url, proxy.auth)


register_proxy_factory(SOCKS5_SCHEMES + SOCKS4_SCHEMES, _pool_proxy_factory)


class Socks5Connection(ProxiedConnection):
    """A connection to ``remote_origin`` through the SOCKS5 proxy at ``proxy_origin``,
    opened on the first request: TCP to the proxy, the SOCKS5 handshake, then TLS for
    ``https://`` origins (ALPN ``h2`` offered when ``http2`` is true and HTTP/2 support
    is installed) and HTTP/1.1 or HTTP/2 on top.

    Keyword-only, beyond httpcore's: ``remote_dns``: send the origin's host name for
    the proxy to resolve (httpcore's behaviour, the default) or resolve it here and send
    the address. ``retries``: connect attempts to the proxy retried after
    ``ConnectError`` / ``ConnectTimeout``; ``local_address``, ``uds``,
    ``socket_options``: for the connection to the proxy, as for a direct connection;
    ``limits``: ``ResponseLimits``. ``timeout["connect"]`` bounds each step of
    connecting (TCP, every handshake read and write, TLS).
    Requests raise ``ProxyError`` if the proxy refuses (with its reason).
    """

    _setup_step = "setup_socks5_connection"

    def __init__(
        self,
        proxy_origin: Origin,
        remote_origin: Origin,
        proxy_auth: tuple[bytes, bytes] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        network_backend: NetworkBackend | None = None,
        *,
        remote_dns: bool = True,
        retries: int = 0,
        local_address: str | None = None,
        uds: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
        limits: ResponseLimits | None = None,
    ) -> None:
        super().__init__()
        self._limits = limits
        self._proxy_origin = proxy_origin
        self._remote_origin = remote_origin
        self._proxy_auth = proxy_auth
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._http1 = http1
        self._http2 = http2
        self._network_backend: NetworkBackend = (
            SyncBackend() if network_backend is None else network_backend
        )
        self._remote_dns = remote_dns
        self._retries = retries
        self._local_address = local_address
        self._uds = uds
        self._socket_options = socket_options

    def _open(self, request: Request) -> ConnectionInterface:
        timeouts = request.extensions.get("timeout") or {}
        timeout = timeouts.get("connect", None)
        origin = self._remote_origin
        host = origin.host.decode("ascii")
        if not self._remote_dns:
            host = resolve_address(host, origin.port, self._address_family())

        proxy = self._proxy_origin
        stream = connect_stream(
            request,
            self._network_backend,
            logger,
            host=proxy.host.decode("ascii"),
            port=proxy.port,
            uds=self._uds,
            local_address=self._local_address,
            socket_options=self._socket_options,
            timeout=timeout,
            retries=self._retries,
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
        except BaseException as exc:
            ShieldCancellation.run(stream.close)
            raise exc

    def _address_family(self) -> int:
        return socket.AF_UNSPEC

    def _setup(
        self, request: Request, stream: NetworkStream, host: str, timeout: float | None
    ) -> bytes:
        kwargs: dict[str, typing.Any] = {
            "stream": stream,
            "host": host,
            "port": self._remote_origin.port,
            "auth": self._proxy_auth,
        }
        with Trace(self._setup_step, logger, request, kwargs) as trace:
            leftover = setup_socks5_connection(**kwargs, timeout=timeout)
            trace.return_value = stream
        return leftover

class Socks4Connection(Socks5Connection):
    """Like :class:`Socks5Connection`, through a SOCKS4 proxy: ``remote_dns`` true
    sends the host name (SOCKS4a), false resolves it here to an IPv4 address (SOCKS4).
    The username of ``proxy_auth`` is sent as the user id (SOCKS4 has no passwords)."""

    _setup_step = "setup_socks4_connection"

    def _address_family(self) -> int:
        return socket.AF_INET

    def _setup(
        self, request: Request, stream: NetworkStream, host: str, timeout: float | None
    ) -> bytes:
        kwargs: dict[str, typing.Any] = {
            "stream": stream,
            "host": host,
            "port": self._remote_origin.port,
            "user_id": b"" if self._proxy_auth is None else self._proxy_auth[0],
        }
        with Trace(self._setup_step, logger, request, kwargs) as trace:
            leftover = setup_socks4_connection(**kwargs, timeout=timeout)
            trace.return_value = stream
        return leftover

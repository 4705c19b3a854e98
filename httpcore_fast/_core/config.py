"""``ConnectionConfig``: everything a connection needs to open and run, in one object.

A pool builds one in ``__init__`` from its arguments and keeps it; ``create_connection``
hands it to every connection it makes, direct or through a proxy (HTTP forward, CONNECT
tunnel, SOCKS4/5). httpcore's public constructors (``HTTPConnection``, the pools, the
proxies) keep their keyword arguments and build the config from them; the internal
connection classes take the config itself. What belongs to a proxy (its URL, credentials,
headers, the TLS context for the proxy itself, SOCKS ``local_dns``) stays on the proxy's
own objects.

Adding an option (per-origin limits, resolver overrides, a TLS session cache, ...) is one
keyword-only field here with a default, read by the code that uses it: no connection
constructor changes. A setting for one origin is a config derived with
``dataclasses.replace(config, ...)`` and passed to that origin's connections.

Never generated, never awaits.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import typing

from .._limits import ResponseLimits
from .._models import Origin, Request
from .._ssl import origin_ssl_context
from .resolver import Resolver
from .tls_sessions import TLSSessionCache

if typing.TYPE_CHECKING:  # pragma: no cover
    import ssl

    from .._backends.base import SOCKET_OPTION

__all__ = [
    "RETRIES_BACKOFF_FACTOR",
    "ConnectionConfig",
    "TLSArguments",
    "config_property",
    "exponential_backoff",
    "tls_arguments",
    "tls_session_key",
]

# The network backend type: ``AsyncNetworkBackend`` in async code, ``NetworkBackend`` in
# the generated sync code (the config itself is shared by both).
BackendT = typing.TypeVar("BackendT")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionConfig(typing.Generic[BackendT]):
    """How connections connect and what they accept. Frozen: share it freely.

    The defaults are httpcore 1.0.x's ``ConnectionPool`` / ``HTTPConnection`` defaults.

    ``ssl_context``: ``ssl.SSLContext`` for TLS to https/wss origins (None: the
    process-wide default, with ALPN set from the HTTP versions); ``keepalive_expiry``:
    seconds an idle connection is kept (None: no limit); ``http1`` / ``http2``: the HTTP
    versions offered (ALPN, RFC 7301; ``http2`` alone: HTTP/2 with prior knowledge, RFC
    9113 §3.3); ``retries``: how many times a failed connect (``ConnectError`` /
    ``ConnectTimeout``) is retried, with exponential backoff; ``local_address``: the IP
    address to bind before connecting (None: any); ``uds``: the path of a Unix socket to
    connect to instead of TCP; ``socket_options``: ``(level, option, value)`` tuples set
    on every socket (None: none given); ``network_backend``: the backend that opens
    sockets (None: the default backend of the calling code); ``limits``:
    ``ResponseLimits`` bounding what servers may send (None: httpcore's acceptance).

    Pool-wide state, one object per pool shared by all its connections (and compared by
    identity): ``resolver``, a :class:`~._core.resolver.Resolver` (``resolve=``
    overrides, the DNS cache, lookups in flight; None: the backend's ``connect_tcp``
    resolves every name itself, as in httpcore); ``tls_sessions``, a
    :class:`~._core.tls_sessions.TLSSessionCache` of sessions to resume (None: every
    handshake is a full one, as in httpcore).
    """

    ssl_context: ssl.SSLContext | None = None
    keepalive_expiry: float | None = None
    http1: bool = True
    http2: bool = False
    retries: int = 0
    local_address: str | None = None
    uds: str | None = None
    socket_options: tuple[SOCKET_OPTION, ...] | None = None
    network_backend: BackendT | None = None
    limits: ResponseLimits | None = None
    resolver: Resolver | None = None
    tls_sessions: TLSSessionCache | None = None


def config_property(name: str) -> typing.Any:
    """A read-only property returning ``self._config.<name>``: the private attribute names
    httpcore's pools had (``_ssl_context``, ``_keepalive_expiry``, ...), kept for code
    written against them (subclasses that override ``create_connection`` the way
    httpcore's does)."""
    return property(operator.attrgetter(f"_config.{name}"), doc=f"``_config.{name}``")


RETRIES_BACKOFF_FACTOR = 0.5  # seconds: retry delays are 0, 0.5, 1, 2, 4, ...


def exponential_backoff(factor: float) -> typing.Iterator[float]:
    """Yield retry delays in seconds: 0, then ``factor * 2**n`` for n = 0, 1, 2, ..."""
    yield 0
    for n in itertools.count():
        yield factor * 2**n


class TLSArguments(typing.Dict[str, typing.Any]):
    """The keyword arguments of ``start_tls`` (``ssl_context``, ``server_hostname``,
    ``timeout``: what the ``start_tls`` trace event shows), and beside them, as
    attributes, the TLS session to offer: ``session`` (an ``ssl.SSLSession``, or None),
    found in ``sessions`` (the pool's :class:`TLSSessionCache`, or None) under
    ``session_key``."""

    __slots__ = ("session", "session_key", "sessions")

    session: ssl.SSLSession | None
    session_key: tuple[typing.Any, ...]
    sessions: TLSSessionCache | None


def tls_session_key(
    request: Request, origin: Origin, config: ConnectionConfig[typing.Any]
) -> tuple[typing.Any, ...]:
    """The key of ``origin``'s TLS sessions in ``config.tls_sessions``: the origin, the
    server name (SNI, from the request's ``sni_hostname`` extension or the origin's
    host) and the TLS context (``config.ssl_context``, or the shared default one for
    ``config.http2``)."""
    server_hostname = request.extensions.get("sni_hostname", None) or origin.host.decode(
        "ascii"
    )
    return (
        origin.scheme,
        origin.host,
        origin.port,
        server_hostname,
        config.ssl_context,
        config.http2,
    )


def tls_arguments(
    request: Request,
    origin: Origin,
    config: ConnectionConfig[typing.Any],
    timeout: float | None,
) -> TLSArguments:
    """The ``start_tls`` arguments for TLS to ``origin``: ``origin_ssl_context`` of
    ``config`` (its context, ALPN from its HTTP versions), the server name from the
    request's ``sni_hostname`` extension or the origin's host, and ``timeout``
    (seconds); with the session of :func:`tls_session_key` to offer, if
    ``config.tls_sessions`` holds one."""
    key = tls_session_key(request, origin, config)
    arguments = TLSArguments(
        ssl_context=origin_ssl_context(config.ssl_context, config.http2),
        server_hostname=key[3],
        timeout=timeout,
    )
    sessions = config.tls_sessions
    arguments.sessions = sessions
    arguments.session_key = key
    arguments.session = None if sessions is None else sessions.get(key)
    return arguments

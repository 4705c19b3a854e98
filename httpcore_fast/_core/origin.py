"""Origins: the one default-port table and the rules that use it.

An origin is ``(scheme, host, port)`` (RFC 6454 §4); a URL without a port gets its
scheme's default port. httpcore 1.0.x looks default ports up in four places that do not
agree, and what each accepts is behaviour users see, so it is kept exactly. Here there is
one table, :data:`DEFAULT_PORTS`, and each use takes the schemes it has always taken:

==========================  ==========================================================
:data:`REQUEST_PORTS`       http, https, ws, wss: the schemes a pool or connection sends
                            requests to; any other scheme is ``UnsupportedProtocol``
                            (:func:`unsupported_scheme`); the same-origin check
:data:`HOST_HEADER_PORTS`   the request schemes and ftp: a ``Host`` field leaves out a
                            port equal to its scheme's default (RFC 9110 §7.2)
:data:`URL_ORIGIN_PORTS`    the request schemes and socks5, socks5h: ``URL.origin``
                            fills in these ports, and raises ``KeyError`` for any other
                            scheme (socks4 and socks4a included)
:data:`SOCKS_PORTS`         socks5, socks5h, socks4, socks4a: 1080 (RFC 1928 §3), the
                            port of a SOCKS proxy URL without one
==========================  ==========================================================

Never generated, never awaits. ``_models`` imports this module, so this module imports
only the standard library and the exceptions at run time.
"""

from __future__ import annotations

import typing

from .._exceptions import UnsupportedProtocol

if typing.TYPE_CHECKING:  # pragma: no cover
    from .._models import URL, Origin

# scheme -> default port: RFC 9110 §4.2.1 (http 80) and §4.2.2 (https 443), RFC 6455 §3
# (ws 80, wss 443), RFC 1738 §3.2 (ftp 21), RFC 1928 §3 (SOCKS 1080).
DEFAULT_PORTS: dict[bytes, int] = {
    b"http": 80,
    b"https": 443,
    b"ws": 80,
    b"wss": 443,
    b"ftp": 21,
    b"socks5": 1080,
    b"socks5h": 1080,
    b"socks4": 1080,
    b"socks4a": 1080,
}


def _ports(*schemes: bytes) -> dict[bytes, int]:
    return {scheme: DEFAULT_PORTS[scheme] for scheme in schemes}


REQUEST_SCHEMES = (b"http", b"https", b"ws", b"wss")
REQUEST_PORTS = _ports(*REQUEST_SCHEMES)
HOST_HEADER_PORTS = _ports(*REQUEST_SCHEMES, b"ftp")
URL_ORIGIN_PORTS = _ports(*REQUEST_SCHEMES, b"socks5", b"socks5h")
SOCKS_PORTS = _ports(b"socks5", b"socks5h", b"socks4", b"socks4a")

# Origins reached over TLS (RFC 9110 §4.2.2, RFC 6455 §3).
TLS_SCHEMES = (b"https", b"wss")


def unsupported_scheme(scheme: bytes) -> UnsupportedProtocol:
    """The ``UnsupportedProtocol`` for a request URL whose ``scheme`` (bytes) is not one
    of :data:`REQUEST_SCHEMES` (httpcore's messages: a missing scheme is named as such)."""
    if scheme == b"":
        return UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
    return UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme.decode()}://'.")


def same_origin(url: URL, origin: Origin) -> bool:
    """True if ``url`` has the scheme, host and port of ``origin`` (a URL without a port
    has its scheme's :data:`REQUEST_PORTS` entry), without building an ``Origin``."""
    if url.host != origin.host or url.scheme != origin.scheme:
        return False
    port = url.port
    if port is None:
        port = REQUEST_PORTS.get(url.scheme)
    return port == origin.port


def check_origin(url: URL, origin: Origin) -> None:
    """Raise ``RuntimeError`` (httpcore's message) unless ``url`` is on ``origin``: a
    connection only carries requests for the origin it was opened to."""
    if not same_origin(url, origin):
        raise RuntimeError(f"Attempted to send request to {url.origin} on connection to {origin}")


def authority(host: bytes, port: int) -> bytes:
    """``host:port`` as the authority of a ``CONNECT`` request (RFC 9110 §9.3.6, RFC 3986
    §3.2.2): an IPv6 literal (a host containing ``:``) in brackets."""
    if b":" in host:
        return b"[%b]:%d" % (host, port)
    return b"%b:%d" % (host, port)

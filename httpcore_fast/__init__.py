"""httpcore_fast: httpcore 1.0.x's API and behaviour, with its HTTP/1.1 hot path in Cython.

``__all__`` is exactly httpcore 1.0.x's. Extras outside it: ``KERNEL`` tells which parser
kernel new connections use (``"cython"`` or ``"python"``; ``HTTPCORE_FAST_NO_EXTENSIONS=1``
forces ``"python"``), and ``ResponseLimits`` (the ``limits=`` keyword of pools and
connections) bounds what a server may send.
"""

from __future__ import annotations

import typing

from ._api import request, stream
from ._async import (
    AsyncConnectionInterface,
    AsyncConnectionPool,
    AsyncHTTP11Connection,
    AsyncHTTPConnection,
)
from ._backends.base import (
    SOCKET_OPTION,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    NetworkBackend,
    NetworkStream,
)
from ._backends.mock import AsyncMockBackend, AsyncMockStream, MockBackend, MockStream
from ._backends.sync import SyncBackend
from ._exceptions import (
    ConnectError,
    ConnectionNotAvailable,
    ConnectTimeout,
    LocalProtocolError,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TimeoutException,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
)
from ._limits import ResponseLimits
from ._models import URL, Origin, Proxy, Request, Response
from ._ssl import default_ssl_context
from ._sync import (
    ConnectionInterface,
    ConnectionPool,
    HTTP11Connection,
    HTTPConnection,
)

try:
    from ._backends.anyio import AnyIOBackend
except ImportError:  # pragma: nocover - anyio not installed

    class AnyIOBackend:  # type: ignore[no-redef]
        def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
            raise RuntimeError(
                "Attempted to use 'anyio' backend, but 'anyio' is not installed. "
                "Use 'pip install httpcore-fast[asyncio]'."
            )


try:
    from ._backends.trio import TrioBackend
except ImportError:  # pragma: nocover - trio not installed

    class TrioBackend:  # type: ignore[no-redef]
        def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
            raise RuntimeError(
                "Attempted to use 'trio' backend, but 'trio' is not installed. "
                "Use 'pip install httpcore-fast[trio]'."
            )


def _not_yet(name: str, what: str) -> type:
    def __init__(self: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
        raise RuntimeError(f"{name}: {what} is not implemented in this release of httpcore_fast.")

    return type(name, (), {"__init__": __init__, "__doc__": f"Stand-in: {what} is not available."})


try:
    from ._async.http2 import AsyncHTTP2Connection  # type: ignore[import-not-found]
    from ._sync.http2 import HTTP2Connection  # type: ignore[import-not-found]
except ImportError:
    AsyncHTTP2Connection = _not_yet("AsyncHTTP2Connection", "HTTP/2")
    HTTP2Connection = _not_yet("HTTP2Connection", "HTTP/2")

try:
    from ._async.http_proxy import AsyncHTTPProxy  # type: ignore[import-not-found]
    from ._sync.http_proxy import HTTPProxy  # type: ignore[import-not-found]
except ImportError:
    AsyncHTTPProxy = _not_yet("AsyncHTTPProxy", "HTTP proxying")
    HTTPProxy = _not_yet("HTTPProxy", "HTTP proxying")

try:
    from ._async.socks_proxy import AsyncSOCKSProxy  # type: ignore[import-not-found]
    from ._sync.socks_proxy import SOCKSProxy  # type: ignore[import-not-found]
except ImportError:
    AsyncSOCKSProxy = _not_yet("AsyncSOCKSProxy", "SOCKS proxying")
    SOCKSProxy = _not_yet("SOCKSProxy", "SOCKS proxying")


__all__ = [
    # top-level requests
    "request",
    "stream",
    # models
    "Origin",
    "URL",
    "Request",
    "Response",
    "Proxy",
    # async
    "AsyncHTTPConnection",
    "AsyncConnectionPool",
    "AsyncHTTPProxy",
    "AsyncHTTP11Connection",
    "AsyncHTTP2Connection",
    "AsyncConnectionInterface",
    "AsyncSOCKSProxy",
    # sync
    "HTTPConnection",
    "ConnectionPool",
    "HTTPProxy",
    "HTTP11Connection",
    "HTTP2Connection",
    "ConnectionInterface",
    "SOCKSProxy",
    # network backends, implementations
    "SyncBackend",
    "AnyIOBackend",
    "TrioBackend",
    # network backends, mock implementations
    "AsyncMockBackend",
    "AsyncMockStream",
    "MockBackend",
    "MockStream",
    # network backends, interface
    "AsyncNetworkStream",
    "AsyncNetworkBackend",
    "NetworkStream",
    "NetworkBackend",
    # util
    "default_ssl_context",
    "SOCKET_OPTION",
    # exceptions
    "ConnectionNotAvailable",
    "ProxyError",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "UnsupportedProtocol",
    "TimeoutException",
    "PoolTimeout",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "NetworkError",
    "ConnectError",
    "ReadError",
    "WriteError",
]

__version__ = "0.1.0"

for _name in [*__all__, "ResponseLimits"]:
    if _name != "SOCKET_OPTION":
        setattr(globals()[_name], "__module__", "httpcore_fast")
del _name


def __getattr__(name: str) -> typing.Any:
    if name == "KERNEL":
        from ._kernel import kernel_name

        return kernel_name()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

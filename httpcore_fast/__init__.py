"""httpcore_fast: httpcore 1.0.x's API and behaviour, with its HTTP/1.1 hot path in Cython.

``__all__`` is exactly httpcore 1.0.x's. Extras outside it: ``KERNEL`` tells which parser
kernel new connections use (``"cython"`` or ``"python"``; ``HTTPCORE_FAST_NO_EXTENSIONS=1``
forces ``"python"``); ``ResponseLimits`` (the ``limits=`` keyword of pools and
connections) bounds what a server may send; ``install()`` / ``uninstall()`` make
``import httpcore`` (and ``httpcore2``) resolve to httpcore_fast, and
``python -m httpcore_fast (-m module | script.py) [args...]`` runs a program with it on.
"""

from __future__ import annotations

import typing

from ._api import request, stream
from ._async import (
    AsyncConnectionInterface,
    AsyncConnectionPool,
    AsyncHTTP2Connection,
    AsyncHTTP11Connection,
    AsyncHTTPConnection,
    AsyncHTTPProxy,
    AsyncSOCKSProxy,
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
from ._limits import ResponseLimits as ResponseLimits
from ._models import URL, Origin, Proxy, Request, Response
from ._ssl import default_ssl_context
from ._sync import (
    ConnectionInterface,
    ConnectionPool,
    HTTP2Connection,
    HTTP11Connection,
    HTTPConnection,
    HTTPProxy,
    SOCKSProxy,
)

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

_LAZY_BACKENDS = {"AnyIOBackend": ("anyio", "asyncio"), "TrioBackend": ("trio", "trio")}

for _name in [*__all__, "ResponseLimits"]:
    if _name != "SOCKET_OPTION" and _name not in _LAZY_BACKENDS:
        globals()[_name].__module__ = "httpcore_fast"
del _name


def _backend_class(name: str) -> type:
    """``AnyIOBackend`` / ``TrioBackend``, imported on first use (anyio and trio are
    optional and slow to import); a stand-in raising RuntimeError if the library is
    missing, as httpcore has."""
    library, extra = _LAZY_BACKENDS[name]
    try:
        module = __import__(f"httpcore_fast._backends.{library}", fromlist=[name])
        cls: type = getattr(module, name)
    except ImportError:

        def __init__(self: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
            raise RuntimeError(
                f"Attempted to use '{library}' backend, but '{library}' is not installed. "
                f"Use 'pip install httpcore-fast[{extra}]'."
            )

        cls = type(name, (), {"__init__": __init__})
    cls.__module__ = "httpcore_fast"
    globals()[name] = cls
    return cls


def __getattr__(name: str) -> typing.Any:
    if name == "KERNEL":
        from ._kernel import kernel_name

        return kernel_name()
    if name in _LAZY_BACKENDS:
        return _backend_class(name)
    if name in ("install", "uninstall"):
        # Imported on first use, so that `python -m httpcore_fast._install` (the runner's
        # old name) does not find its own module already imported by the package.
        from . import _install

        return getattr(_install, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""httpcore_fast: httpcore 1.0.x's API and behaviour, with its HTTP/1.1 hot path in Cython.

``__all__`` is exactly httpcore 1.0.x's. Extras outside it: ``KERNEL`` tells which parser
kernel new connections use (``"cython"`` or ``"python"``; ``HTTPCORE_FAST_NO_EXTENSIONS=1``
forces ``"python"``); ``ResponseLimits`` (the ``limits=`` keyword of pools and
connections) bounds what a server may send; ``install()`` / ``uninstall()`` make
``import httpcore`` (and ``httpcore2``) resolve to httpcore_fast, and
``python -m httpcore_fast (-m module | script.py) [args...]`` runs a program with it on.

Importing the package loads the exceptions and models only: every other name is imported
on first use (PEP 562 ``__getattr__``), so a program loads only the half (sync or async),
the backend and the protocols it uses (docs/design-notes.md, "Import time").
"""

from __future__ import annotations

import typing
from importlib import import_module as _import_module

from . import _async, _sync  # the packages only: their classes load on first use too
from ._api import request, stream
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
from ._models import URL, Origin, Proxy, Request, Response

if typing.TYPE_CHECKING:  # pragma: no cover - loaded on first use, see __getattr__
    from ._async import (
        AsyncConnectionInterface,
        AsyncConnectionPool,
        AsyncHTTP2Connection,
        AsyncHTTP11Connection,
        AsyncHTTPConnection,
        AsyncHTTPProxy,
        AsyncSOCKSProxy,
    )
    from ._backends.anyio import AnyIOBackend
    from ._backends.base import (
        SOCKET_OPTION,
        AsyncNetworkBackend,
        AsyncNetworkStream,
        NetworkBackend,
        NetworkStream,
    )
    from ._backends.mock import AsyncMockBackend, AsyncMockStream, MockBackend, MockStream
    from ._backends.sync import SyncBackend
    from ._backends.trio import TrioBackend
    from ._limits import ResponseLimits as ResponseLimits
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

# Loaded on first use (PEP 562 ``__getattr__`` below): name -> the module defining it. A
# sync program never loads the async half (nor asyncio), an async one never the sync half,
# and neither HTTP/2 (h2), the proxies (socksio) or a backend it does not use.
_LAZY = {
    **dict.fromkeys(_async.__all__, "._async"),  # resolved by the package's __getattr__
    **dict.fromkeys(_sync.__all__, "._sync"),
    **dict.fromkeys(
        ("SOCKET_OPTION", "AsyncNetworkBackend", "AsyncNetworkStream", "NetworkBackend",
         "NetworkStream"),
        "._backends.base",
    ),
    **dict.fromkeys(
        ("AsyncMockBackend", "AsyncMockStream", "MockBackend", "MockStream"), "._backends.mock"
    ),
    "SyncBackend": "._backends.sync",
    "ResponseLimits": "._limits",
    "default_ssl_context": "._ssl",
}  # fmt: skip
_LAZY_BACKENDS = {"AnyIOBackend": ("anyio", "asyncio"), "TrioBackend": ("trio", "trio")}

for _name in [*__all__, "ResponseLimits"]:
    if _name not in _LAZY and _name not in _LAZY_BACKENDS:
        globals()[_name].__module__ = "httpcore_fast"
del _name


def _lazy(name: str) -> typing.Any:
    """``name`` from the module ``_LAZY`` gives, imported now, kept as a global of the
    package (so it is looked up here once) and named ``httpcore_fast.<name>`` like the
    names imported eagerly (pickle and ``repr`` give the public path)."""
    value = getattr(_import_module(_LAZY[name], __name__), name)
    if name != "SOCKET_OPTION":
        value.__module__ = "httpcore_fast"
    globals()[name] = value
    return value


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
    if name in _LAZY:
        return _lazy(name)
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


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY))

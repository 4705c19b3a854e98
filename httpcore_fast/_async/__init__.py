"""The connection classes of this half of the package, each imported on first use (PEP
562 ``__getattr__``): importing the package loads none of them, so the pool, HTTP/2 (h2)
and the proxies (socksio) load when a program first names them. ``from <package> import
<name>`` and ``<package>.<name>`` work as they would with eager imports."""

from __future__ import annotations

import typing
from importlib import import_module as _import_module

if typing.TYPE_CHECKING:  # pragma: no cover - what type checkers see
    from .connection import AsyncHTTPConnection
    from .connection_pool import AsyncConnectionPool
    from .http2 import AsyncHTTP2Connection
    from .http11 import AsyncHTTP11Connection
    from .http_proxy import AsyncHTTPProxy
    from .interfaces import AsyncConnectionInterface
    from .socks_proxy import AsyncSOCKSProxy

__all__ = [
    "AsyncHTTPConnection",
    "AsyncConnectionPool",
    "AsyncHTTPProxy",
    "AsyncHTTP11Connection",
    "AsyncHTTP2Connection",
    "AsyncConnectionInterface",
    "AsyncSOCKSProxy",
]

# Each name of __all__ -> the submodule defining it.
_SUBMODULES = {
    "AsyncHTTPConnection": "connection",
    "AsyncConnectionPool": "connection_pool",
    "AsyncHTTPProxy": "http_proxy",
    "AsyncHTTP11Connection": "http11",
    "AsyncHTTP2Connection": "http2",
    "AsyncConnectionInterface": "interfaces",
    "AsyncSOCKSProxy": "socks_proxy",
}


_H2_PACKAGES = ("h2", "hpack", "hyperframe")  # the http2 extra


def _missing_h2() -> type:
    """The stand-in for the HTTP/2 connection class without the h2 package: making one
    raises ``RuntimeError``, as httpcore's does."""

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError(
            "Attempted to use http2 support, but the `h2` package is not "
            "installed. Use 'pip install httpcore-fast[http2]'."
        )

    return type("AsyncHTTP2Connection", (), {"__init__": __init__})


def __getattr__(name: str) -> typing.Any:
    submodule = _SUBMODULES.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(_import_module(f"{__name__}.{submodule}"), name)
    except ImportError as exc:
        if submodule != "http2" or (exc.name or "").partition(".")[0] not in _H2_PACKAGES:
            raise
        value = _missing_h2()
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

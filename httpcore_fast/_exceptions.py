"""The exception hierarchy of httpcore 1.0.x.

Every class is a plain ``Exception`` subclass without extra attributes, exactly as in
httpcore, so that httpx (which maps them by ``isinstance``) and user code that catches
them by name keep working unchanged::

    ConnectionNotAvailable
    ProxyError
    UnsupportedProtocol
    ProtocolError -- LocalProtocolError, RemoteProtocolError
    TimeoutException -- PoolTimeout, ConnectTimeout, ReadTimeout, WriteTimeout
    NetworkError -- ConnectError, ReadError, WriteError
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Mapping, Type

ExceptionMapping = Mapping[Type[Exception], Type[Exception]]


class ConnectionNotAvailable(Exception):
    """A connection cannot take this request; the pool retries on another one."""


class ProxyError(Exception):
    """The proxy refused or failed the request (non-2xx CONNECT, SOCKS failure)."""


class UnsupportedProtocol(Exception):
    """The URL scheme is not one we can speak (only http and https, ws and wss)."""


class ProtocolError(Exception):
    """Base class of protocol violations."""


class RemoteProtocolError(ProtocolError):
    """The server broke the protocol (RFC 9112 / RFC 9113)."""


class LocalProtocolError(ProtocolError):
    """The request we were asked to send is not valid HTTP."""


class TimeoutException(Exception):
    """Base class of timeouts."""


class PoolTimeout(TimeoutException):
    """No connection became available within the ``pool`` timeout."""


class ConnectTimeout(TimeoutException):
    """Connecting (TCP, TLS or proxy setup) took longer than the ``connect`` timeout."""


class ReadTimeout(TimeoutException):
    """No bytes arrived within the ``read`` timeout."""


class WriteTimeout(TimeoutException):
    """Sending did not progress within the ``write`` timeout."""


class NetworkError(Exception):
    """Base class of socket-level failures."""


class ConnectError(NetworkError):
    """The connection could not be established."""


class ReadError(NetworkError):
    """Receiving from the connection failed."""


class WriteError(NetworkError):
    """Sending on the connection failed."""


@contextlib.contextmanager
def map_exceptions(mapping: ExceptionMapping) -> Iterator[None]:
    """Re-raise exceptions of the mapped types as their httpcore counterparts.

    ``mapping`` maps a source exception type to the public exception type to raise
    instead; the first matching entry (in iteration order) wins and the original
    exception is chained as ``__cause__``.
    """
    try:
        yield
    except Exception as exc:  # noqa: PIE786
        for from_exc, to_exc in mapping.items():
            if isinstance(exc, from_exc):
                raise to_exc(exc) from exc
        raise

from .connection import HTTPConnection
from .connection_pool import ConnectionPool
from .http11 import HTTP11Connection
from .interfaces import ConnectionInterface

__all__ = [
    "HTTPConnection",
    "ConnectionPool",
    "HTTP11Connection",
    "ConnectionInterface",
]

"""One-shot ``request()`` and ``stream()`` through a fresh ``ConnectionPool``."""

from __future__ import annotations

import contextlib
import typing

from ._models import URL, Extensions, HeaderTypes, Response

__all__ = ["request", "stream"]


def request(
    method: bytes | str,
    url: URL | bytes | str,
    *,
    headers: HeaderTypes = None,
    content: bytes | typing.Iterator[bytes] | None = None,
    extensions: Extensions | None = None,
) -> Response:
    """Send one request on a new ``ConnectionPool`` (closed afterwards) and return the
    response with its body already read (``response.content``).

    Args:
        method: e.g. ``"GET"`` (bytes or ASCII str).
        url: a ``URL``, or a URL as bytes / str.
        headers: mapping or sequence of ``(name, value)`` pairs (bytes or ASCII str).
        content: request body, bytes or an iterator of bytes.
        extensions: request extensions (``timeout``, ``trace``, ``sni_hostname``).

    Raises:
        The pool's exceptions: ``UnsupportedProtocol``, ``ConnectError``,
        ``ConnectTimeout``, ``ReadTimeout``, ``RemoteProtocolError``, ... and
        ``TypeError`` for arguments of the wrong type.
    """
    from ._sync.connection_pool import ConnectionPool

    with ConnectionPool() as pool:
        return pool.request(
            method=method, url=url, headers=headers, content=content, extensions=extensions
        )


@contextlib.contextmanager
def stream(
    method: bytes | str,
    url: URL | bytes | str,
    *,
    headers: HeaderTypes = None,
    content: bytes | typing.Iterator[bytes] | None = None,
    extensions: Extensions | None = None,
) -> typing.Iterator[Response]:
    """Like :func:`request`, as a context manager yielding the response before its body
    is read: use ``response.read()`` or ``response.iter_stream()`` inside the block.
    The response and the pool are closed when the block exits.
    """
    from ._sync.connection_pool import ConnectionPool

    with ConnectionPool() as pool:
        with pool.stream(
            method=method, url=url, headers=headers, content=content, extensions=extensions
        ) as response:
            yield response

"""The request and connection interfaces shared by pools, connections and proxies.

Generated from ``httpcore_fast/_async/interfaces.py`` by
``scripts/unasync.py``: do not edit, edit the async source.
"""

from __future__ import annotations

import contextlib
import typing

from .._models import (
    URL,
    Extensions,
    HeaderTypes,
    Origin,
    Request,
    Response,
    enforce_bytes,
    enforce_headers,
    enforce_url,
    include_request_headers,
)


def _build_request(
    method: bytes | str,
    url: URL | bytes | str,
    headers: HeaderTypes,
    content: typing.Any,
    extensions: Extensions | None,
) -> Request:
    """The ``Request`` that ``request()`` / ``stream()`` send: arguments checked once (the
    exceptions of ``enforce_bytes`` / ``enforce_url`` / ``enforce_headers``), ``Host`` and
    Content-Length / Transfer-Encoding added when missing."""
    method = enforce_bytes(method, name="method")
    url = enforce_url(url, name="url")
    checked = enforce_headers(headers, name="headers")
    checked = include_request_headers(checked, url=url, content=content)
    return Request._from_checked(method, url, checked, content, extensions)


class RequestInterface:
    def request(
        self,
        method: bytes | str,
        url: URL | bytes | str,
        *,
        headers: HeaderTypes = None,
        content: bytes | typing.Iterator[bytes] | None = None,
        extensions: Extensions | None = None,
    ) -> Response:
        """Send a request and return the response with its body read.

        ``method``: bytes or str; ``url``: ``URL``, bytes or str; ``headers``: a mapping
        or a sequence of (name, value) pairs; ``content``: bytes or an iterator of
        bytes. Host and Content-Length / Transfer-Encoding are added when missing.
        Raises any of the public exceptions (``ConnectError``, ``ReadTimeout``,
        ``RemoteProtocolError``, ``PoolTimeout``, ...).
        """
        request = _build_request(method, url, headers, content, extensions)
        response = self.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return response

    @contextlib.contextmanager
    def stream(
        self,
        method: bytes | str,
        url: URL | bytes | str,
        *,
        headers: HeaderTypes = None,
        content: bytes | typing.Iterator[bytes] | None = None,
        extensions: Extensions | None = None,
    ) -> typing.Iterator[Response]:
        """Send a request; yield the response with its body unread, close it on exit.

        Same arguments and exceptions as :meth:`request`.
        """
        request = _build_request(method, url, headers, content, extensions)
        response = self.handle_request(request)
        try:
            yield response
        finally:
            response.close()

    def handle_request(self, request: Request) -> Response:
        """Send ``request``; return a ``Response`` whose stream is not yet read."""
        raise NotImplementedError()  # pragma: nocover


class ConnectionInterface(RequestInterface):
    def close(self) -> None:
        raise NotImplementedError()  # pragma: nocover

    def info(self) -> str:
        raise NotImplementedError()  # pragma: nocover

    def can_handle_request(self, origin: Origin) -> bool:
        raise NotImplementedError()  # pragma: nocover

    def is_available(self) -> bool:
        """True if the connection can take a request now (HTTP/1.1: it is idle;
        HTTP/2: it has a free stream)."""
        raise NotImplementedError()  # pragma: nocover

    def has_expired(self) -> bool:
        """True if the connection must not be used again: its keep-alive expiry passed,
        or the server closed it or sent bytes nobody asked for while it was idle."""
        raise NotImplementedError()  # pragma: nocover

    def is_idle(self) -> bool:
        raise NotImplementedError()  # pragma: nocover

    def is_closed(self) -> bool:
        raise NotImplementedError()  # pragma: nocover

    def is_connected(self) -> bool:
        """True once the connection's network stream is open, until it is closed
        (httpcore2's method). A connection that has not connected yet, or whose connect
        failed, is not connected. Default: ``not self.is_closed()``, right for
        connections that are built over an already open stream."""
        return not self.is_closed()

    def can_multiplex(self) -> bool:
        """True if the connection serves several requests at once: an established HTTP/2
        connection (httpcore2's method). Default: False, one request at a time."""
        return False

    def _close_after_fork(self) -> None:
        """In a forked child: release this process's copies of the connection's file
        descriptors, with no protocol action (no TLS close_notify, no HTTP/2 GOAWAY: the
        parent still uses the connection). Never raises. Default: nothing to release."""

"""The request and connection interfaces shared by pools, connections and proxies, and
the response body of a connection's exchange.

Generated from ``httpcore_fast/_async/interfaces.py`` by
``scripts/unasync.py``: do not edit, edit the async source.

Beyond httpcore's interface, a connection declares what the pool asks of it as
underscore methods with defaults: ``_may_multiplex()`` (default ``can_multiplex()``;
the lazy connection overrides it while it connects), ``_close_reason()`` (default None:
the pool's own reading) and ``_close_after_fork()`` (default: nothing to release; every
connection of ours overrides it). A connection tells the pool
that a request failed only because a kept-alive connection had gone stale by marking the
exception it raises (:func:`mark_stale_failure`, read with :func:`is_stale_failure`): the
mark travels through every wrapper (lazy and proxied connections re-raise it as is).
"""

from __future__ import annotations

import contextlib
import types
import typing

from .._models import (
    URL,
    BodyStream,
    Extensions,
    HeaderTypes,
    Origin,
    Request,
    Response,
    build_request,
)
from .._trace import Trace, Tracer


_STALE_MARK = "_httpcore_fast_stale_connection"


def mark_stale_failure(exc: BaseException) -> None:
    """Mark ``exc`` as raised by a reused connection before any byte of the response
    arrived, for a reason that says the server had closed it (EOF, reset, broken pipe):
    the request never reached the server's application, or may be sent again if it is
    idempotent (RFC 9110 §9.2.2). The pool decides whether to (see
    ``ConnectionPool``); anyone else sees ``exc`` unchanged, same type and message."""
    exc.__dict__[_STALE_MARK] = True


def is_stale_failure(exc: BaseException) -> bool:
    """True if ``exc`` was marked by :func:`mark_stale_failure`."""
    return exc.__dict__.get(_STALE_MARK) is True


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
        request = build_request(method, url, headers, content, extensions)
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
        request = build_request(method, url, headers, content, extensions)
        response = self.handle_request(request)
        try:
            yield response
        finally:
            response.close()

    def handle_request(self, request: Request) -> Response:
        """Send ``request``; return a ``Response`` whose stream is not yet read."""
        raise NotImplementedError()  # pragma: nocover


_Connection = typing.TypeVar("_Connection", bound="ConnectionInterface")


class ConnectionInterface(RequestInterface):
    def close(self) -> None:
        raise NotImplementedError()  # pragma: nocover

    def __enter__(self: _Connection) -> _Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        """Leaving ``with connection:`` closes it (:meth:`close`)."""
        self.close()

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

    def _may_multiplex(self) -> bool:
        """True if the connection carries, or may once connected carry, several requests
        at once: the pool then keeps it listed as available while it has room, so that
        further requests share it (waiting for its connect) instead of each opening a
        connection. Wider than :meth:`can_multiplex`, which is true only once HTTP/2 is
        established: a connection still connecting that may turn out HTTP/2 counts here.
        Default: ``can_multiplex()``."""
        return self.can_multiplex()

    def _close_reason(self) -> str | None:
        """Why the connection is, or is to be, closed, for the pool's statistics:
        ``"expired"``, ``"closed_by_server"`` or ``"error"``; None when it does not say
        (the default: the pool then tells from how the connection left it)."""
        return None

    def _close_after_fork(self) -> None:
        """In a forked child: release this process's copies of the connection's file
        descriptors, with no protocol action (no TLS close_notify, no HTTP/2 GOAWAY: the
        parent still uses the connection). Never raises. Default: nothing to release."""


class ConnectionByteStream(BodyStream):
    """The response body of one exchange on a connection (the base of HTTP/1.1's and
    HTTP/2's): an iterator object rather than a generator, so a reader that stops early
    leaves nothing suspended behind (which trio warns about) and no generator is made per
    response. Subclasses read the body (:meth:`_receive_part`, :meth:`_receive_rest`) and
    end the exchange (:meth:`_end_exchange`, once, on the first :meth:`close`).

    ``connection``: the connection of the exchange (the subclass's to use); ``timeout``:
    the read timeout in seconds (None: no limit). ``trace`` (a ``Tracer``, or None when
    nobody listens): reading the body is the ``receive_response_body`` step (info:
    :meth:`_trace_info`), started by the first read, complete at the end of the body,
    failed with the exception that stopped a read, or failed with ``GeneratorExit()`` when
    the body is closed before its end (as httpcore's body generator reports being
    closed). A failed read ends the exchange (the connection is then unusable) before the
    exception propagates.
    """

    _step: Trace | None = None  # the receive_response_body step, while it runs
    _step_done = False

    def __init__(
        self,
        connection: typing.Any,
        request: Request,
        timeout: float | None,
        trace: Tracer | None,
    ) -> None:
        self._connection = connection
        self._request = request
        self._timeout = timeout
        self._trace = trace
        # Popped by the first close: list.pop is one atomic step, so of two threads
        # closing one response, exactly one ends the exchange.
        self._open = [True]

    def __iter__(self) -> ConnectionByteStream:
        return self

    def __next__(self) -> bytes:
        if self._trace is not None and self._step is None and not self._step_done:
            self._start_step()
        try:
            chunk = self._receive_part()
        except BaseException as exc:
            self._read_failed(exc)
            raise
        if chunk:
            return chunk
        if self._step is not None:
            self._end_step(None)
        raise StopIteration

    def _read_all(self) -> bytes:
        """The rest of the body in one call (what ``Response.read`` uses)."""
        if self._trace is not None and self._step is None and not self._step_done:
            self._start_step()
        try:
            body = self._receive_rest()
        except BaseException as exc:
            self._read_failed(exc)
            raise
        if self._step is not None:
            self._end_step(None)
        return body

    def close(self) -> None:
        """End the exchange (idempotent); see the subclass's :meth:`_end_exchange`."""
        try:
            self._open.pop()
        except IndexError:
            return  # already closed
        if self._step is not None:  # closed before the end of the body
            self._end_step(GeneratorExit())
        self._end_exchange()

    def _start_step(self) -> None:
        assert self._trace is not None
        self._step = self._trace.step("receive_response_body", self._trace_info())
        self._step.__enter__()

    def _end_step(self, exc: BaseException | None) -> None:
        step = self._step
        assert step is not None
        self._step = None
        self._step_done = True
        if exc is None:
            step.__exit__(None, None, None)
        else:
            step.__exit__(type(exc), exc, exc.__traceback__)

    def _read_failed(self, exc: BaseException) -> None:
        if self._step is not None:
            self._end_step(exc)
        self.close()

    def _trace_info(self) -> dict[str, typing.Any]:
        """The ``receive_response_body.started`` info."""
        return {"request": self._request}

    def _receive_part(self) -> bytes:
        """The next body bytes; ``b""`` once the body has ended."""
        raise NotImplementedError()  # pragma: nocover

    def _receive_rest(self) -> bytes:
        """The rest of the body, as one ``bytes``. Default: :meth:`_receive_part` until
        it returns ``b""``, joined."""
        parts: list[bytes] = []
        while True:
            part = self._receive_part()
            if not part:
                return b"".join(parts)
            parts.append(part)

    def _end_exchange(self) -> None:
        """The response is closed: free the connection (or the stream) it used."""
        raise NotImplementedError()  # pragma: nocover

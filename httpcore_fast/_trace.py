"""Trace events and DEBUG logging around each step of a request (httpcore 1.0.x format).

``with Trace("connect_tcp", logger, request, kwargs) as trace: ...; trace.return_value = x``
(or ``async with``) emits ``<prefix>.connect_tcp.started`` with ``kwargs`` as info, then
``<prefix>.connect_tcp.complete`` with ``{"return_value": x}`` or
``<prefix>.connect_tcp.failed`` with ``{"exception": exc}``, where ``<prefix>`` is the
last dotted part of the logger name (``httpcore.http11`` -> ``http11``). Each event goes
to ``request.extensions["trace"]`` (if set) as ``callback(event_name, info)`` and, when
the logger is enabled for DEBUG, to ``logger.debug`` as ``"<step>.<phase>"`` followed by
`` key=repr(value)`` per info item (just the name when info is empty or the return value
is None), e.g. ``connect_tcp.started host='example.com' port=80 local_address=None
timeout=None socket_options=None``.

The hot path avoids even building a ``Trace`` when nobody listens: see
:func:`tracing_enabled`.
"""

from __future__ import annotations

import logging
import types
import typing

from ._models import Request

__all__ = ["Trace", "tracing_enabled"]

_DEBUG = logging.DEBUG
_prefixes: dict[str, str] = {}

_SYNC_CALLBACK_EXPECTED = (
    "If you are using a synchronous interface, "
    "the callback of the `trace` extension should "
    "be a normal function instead of an asynchronous function."
)
_ASYNC_CALLBACK_EXPECTED = (
    "If you're using an asynchronous interface, "
    "the callback of the `trace` extension should "
    "be an asynchronous function rather than a normal function."
)


def tracing_enabled(request: Request | None, logger: logging.Logger) -> bool:
    """Return True if a :class:`Trace` for ``request`` on ``logger`` would emit
    anything: the request has a ``trace`` extension, or ``logger`` is enabled for
    DEBUG. When False, callers may skip constructing the ``Trace`` altogether."""
    return (
        request is not None and request.extensions.get("trace") is not None
    ) or logger.isEnabledFor(_DEBUG)


def _message(name: str, info: dict[str, typing.Any]) -> str:
    if not info or ("return_value" in info and info["return_value"] is None):
        return name
    args = " ".join([f"{key}={value!r}" for key, value in info.items()])
    return f"{name} {args}"


class Trace:
    """One traced step; use as ``with`` (sync API) or ``async with`` (async API).

    Args:
        name: the step, e.g. ``"connect_tcp"``.
        logger: e.g. ``logging.getLogger("httpcore.connection")``; its last dotted
            name part prefixes the trace event names.
        request: the request whose ``extensions["trace"]`` callback receives events
            (None: logging only).
        kwargs: the ``started`` event's info dict (passed on as is; None means ``{}``).

    Set :attr:`return_value` before the block ends to report it in ``complete``.

    Raises:
        TypeError: (on entering / leaving) when the callback returns a coroutine in
            the sync API, or does not return one in the async API.
    """

    __slots__ = (
        "name",
        "logger",
        "trace_extension",
        "debug",
        "kwargs",
        "return_value",
        "should_trace",
        "prefix",
    )

    def __init__(
        self,
        name: str,
        logger: logging.Logger,
        request: Request | None = None,
        kwargs: dict[str, typing.Any] | None = None,
    ) -> None:
        self.name = name
        self.logger = logger
        self.trace_extension = None if request is None else request.extensions.get("trace")
        self.debug = logger.isEnabledFor(_DEBUG)
        self.kwargs = kwargs or {}
        self.return_value: typing.Any = None
        self.should_trace = self.debug or self.trace_extension is not None
        prefix = _prefixes.get(logger.name)
        if prefix is None:
            prefix = _prefixes[logger.name] = logger.name.rsplit(".", 1)[-1]
        self.prefix = prefix

    # -- sync -----------------------------------------------------------------------

    def trace(self, name: str, info: dict[str, typing.Any]) -> None:
        """Emit ``name`` (``"<step>.<phase>"``) with ``info`` to the callback and log."""
        callback = self.trace_extension
        if callback is not None:
            result = callback(f"{self.prefix}.{name}", info)
            if isinstance(result, types.CoroutineType):
                result.close()  # never awaited: close it rather than leak a warning
                raise TypeError(_SYNC_CALLBACK_EXPECTED)
        if self.debug:
            self.logger.debug(_message(name, info))

    def __enter__(self) -> Trace:
        if self.should_trace:
            self.trace(f"{self.name}.started", self.kwargs)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        if self.should_trace:
            if exc_value is None:
                self.trace(f"{self.name}.complete", {"return_value": self.return_value})
            else:
                self.trace(f"{self.name}.failed", {"exception": exc_value})

    # -- async ----------------------------------------------------------------------

    async def atrace(self, name: str, info: dict[str, typing.Any]) -> None:
        """Async twin of :meth:`trace`: the callback's coroutine is awaited."""
        callback = self.trace_extension
        if callback is not None:
            result = callback(f"{self.prefix}.{name}", info)
            if not isinstance(result, types.CoroutineType):
                raise TypeError(_ASYNC_CALLBACK_EXPECTED)
            await result
        if self.debug:
            self.logger.debug(_message(name, info))

    async def __aenter__(self) -> Trace:
        if self.should_trace:
            await self.atrace(f"{self.name}.started", self.kwargs)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        if self.should_trace:
            if exc_value is None:
                await self.atrace(f"{self.name}.complete", {"return_value": self.return_value})
            else:
                await self.atrace(f"{self.name}.failed", {"exception": exc_value})

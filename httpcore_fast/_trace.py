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

One way to trace, free when nobody listens: :func:`tracer` decides once per request (or
connection step) whether anyone listens (a ``trace`` extension, or the logger enabled for
DEBUG) and returns a :class:`Tracer`, or None. Code holds ``Tracer | None``: on the hot
paths a step costs one ``is None`` test when nobody listens (``if trace is not None: async
with trace.step(...)``); elsewhere ``with step(trace, name, kwargs)`` is a shared no-op
then. A response body read over several calls is one step too (its ``Trace`` entered at the
first read and left at the end: ``_async/interfaces.py``'s ``AsyncConnectionByteStream``).

Logging under a second name (``httpcore2.*``): while :func:`httpcore_fast.install` serves
httpcore_fast as ``httpcore2`` too, :func:`serve_logs_as` makes each of our loggers
(:data:`LOGGER_NAMES`, e.g. ``httpcore.http11``) also a source of records for its twin
under the alias (``httpcore2.http11``), so that logging configured for either name sees
the same DEBUG lines under that name, once per handler. See :class:`_ServedLogger`.
"""

from __future__ import annotations

import copy
import sys
import threading
import types
import typing
from collections.abc import Iterable, Sequence

from ._models import Request
from ._synchronization import NoOp

if typing.TYPE_CHECKING:  # pragma: no cover
    import logging
else:
    # logging (about 7 ms to import) is not imported here: nobody can have configured a
    # logger before it is imported, and our loggers log only at DEBUG, below the WARNING
    # of logging's last-resort handler. The name is bound by _load_logging() (see
    # module_logger and serve_logs_as).
    logging = None

__all__ = [
    "LOGGER_NAMES",
    "module_logger",
    "NO_TRACE",
    "NoTrace",
    "Trace",
    "Tracer",
    "serve_logs_as",
    "step",
    "stop_serving_logs",
    "tracer",
    "tracing_enabled",
]

LOGGER_NAMES = (
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
"""The loggers our modules trace to (``logging.getLogger(name)`` at their top level):
httpcore 1.0.x's names. httpcore2 uses the same last parts under ``httpcore2``."""

_DEBUG = 10  # logging.DEBUG
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


def _load_logging() -> None:
    """Bind ``logging`` and its lock here, for good (see the top of the module)."""
    global logging, _logging_lock
    import logging as module

    # The lock logging itself holds while it fills and clears the level caches (an RLock
    # in CPython 3.10 to 3.14); a private fallback keeps this module working without it.
    _logging_lock = getattr(module, "_lock", None) or threading.RLock()
    logging = module


def module_logger(name: str, namespace: dict[str, typing.Any]) -> logging.Logger:
    """``logging.getLogger(name)`` for the module global ``logger`` of ``namespace`` (the
    calling module's ``globals()``): ``logger = module_logger("httpcore.http11",
    globals())``.

    If ``logging`` is already imported, that is the logger itself. If not, a stand-in
    (:class:`_DormantLogger`) that answers ``isEnabledFor`` with False until someone
    imports ``logging``; the first call after that puts the real logger in
    ``namespace["logger"]`` and answers from it, so from then on every check is the real
    logger's own, as if it had been there from the start."""
    if "logging" in sys.modules:
        if logging is None:
            _load_logging()
        return logging.getLogger(name)
    return typing.cast("logging.Logger", _DormantLogger(name, namespace))


class _DormantLogger:
    """Stands for ``logging.getLogger(name)`` in a module global ``logger`` while
    ``logging`` is not imported (see :func:`module_logger`)."""

    __slots__ = ("name", "_namespace")

    def __init__(self, name: str, namespace: dict[str, typing.Any]) -> None:
        self.name = name
        self._namespace = namespace

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging.Logger's name
        """False while ``logging`` is not imported; then the real logger's answer."""
        if "logging" not in sys.modules:
            return False
        return self.wake().isEnabledFor(level)

    def wake(self) -> logging.Logger:
        """The real logger (importing ``logging`` if need be), now also the module's."""
        if logging is None:
            _load_logging()
        real = logging.getLogger(self.name)
        if self._namespace.get("logger") is self:
            self._namespace["logger"] = real
        return real

    def __getattr__(self, attribute: str) -> typing.Any:
        return getattr(self.wake(), attribute)  # debug(), handlers, ...: the real one's


def tracing_enabled(request: Request | None, logger: logging.Logger) -> bool:
    """Return True if a :class:`Trace` for ``request`` on ``logger`` would emit
    anything: the request has a ``trace`` extension, or ``logger`` is enabled for
    DEBUG (see :func:`tracer`)."""
    return tracer(request, logger) is not None


def tracer(request: Request | None, logger: logging.Logger) -> Tracer | None:
    """The :class:`Tracer` of ``request``'s steps on ``logger``, or None when nobody
    listens: no ``trace`` extension (None counts as none) and ``logger`` not enabled for
    DEBUG. ``request`` None: logging only.

    The check is a dict lookup and ``logger.isEnabledFor``, which answers from the
    logger's level cache (also while :func:`serve_logs_as` serves it under an alias)."""
    if (
        request is not None and request.extensions.get("trace") is not None
    ) or logger.isEnabledFor(_DEBUG):
        return Tracer(request, logger)
    return None


class Tracer:
    """Someone listens to the steps of one request on one logger (made by
    :func:`tracer`): :meth:`step` makes each step's :class:`Trace`."""

    __slots__ = ("request", "logger")

    def __init__(self, request: Request | None, logger: logging.Logger) -> None:
        self.request = request
        self.logger = logger

    def step(self, name: str, kwargs: dict[str, typing.Any] | None = None) -> Trace:
        """The :class:`Trace` of step ``name`` (``started`` info ``kwargs``; None: ``{}``)."""
        return Trace(name, self.logger, self.request, kwargs)


class NoTrace(NoOp):
    """What :func:`step` returns when nobody listens: a ``with`` / ``async with`` block
    that emits nothing; assigning ``return_value`` does nothing."""

    __slots__ = ()

    @property
    def return_value(self) -> None:
        return None

    @return_value.setter
    def return_value(self, value: typing.Any) -> None:
        pass

    async def __aenter__(self) -> NoTrace:
        return self

    async def __aexit__(self, *exc_info: typing.Any) -> None:
        return None


NO_TRACE = NoTrace()


def step(
    trace: Tracer | None, name: str, kwargs: dict[str, typing.Any] | None = None
) -> Trace | NoTrace:
    """``trace.step(name, kwargs)``, or :data:`NO_TRACE` when ``trace`` is None: for steps
    off the hot path (connecting, TLS, proxies, closing), one block either way."""
    if trace is None:
        return NO_TRACE
    return trace.step(name, kwargs)


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


# -- logging under alias names --------------------------------------------------------------

# logging's own lock, bound with the module by _load_logging() (which serve_logs_as calls
# before anything here runs).
_logging_lock: typing.Any = None


def _chain_enabled(logger: logging.Logger, level: int) -> bool:
    """Whether ``logger`` itself would emit at ``level`` (what ``Logger.isEnabledFor``
    computes, without the cache, so that it can be asked of a served logger too)."""
    return (
        not logger.disabled
        and logger.manager.disable < level
        and level >= logger.getEffectiveLevel()
    )


if typing.TYPE_CHECKING:  # pragma: no cover
    _Chains = tuple[logging.Logger, ...]


def _fill_cache(cache: dict[int, bool], chains: _Chains, level: int) -> bool:
    """Compute and cache whether any logger of ``chains`` would emit at ``level``."""
    with _logging_lock:
        enabled = cache[level] = any(_chain_enabled(logger, level) for logger in chains)
    return enabled


def _configured(logger: logging.Logger) -> bool:
    """Whether the user configured ``logger``'s own namespace: a level or a handler set on
    it or on an ancestor below the root logger (``httpcore2.http11`` or ``httpcore2``)."""
    node: logging.Logger | None = logger
    while node is not None and node is not logger.root:
        if node.level != logging.NOTSET or node.handlers:
            return True
        node = node.parent
    return False


class _Served:
    """The alias logging of one of our loggers (``httpcore.http11``), which also logs as
    its twins under the alias names (``httpcore2.http11``) while httpcore_fast is served
    under those names.

    :func:`serve_logs_as` puts :attr:`is_enabled_for` and :meth:`handle` on the logger
    object itself, as instance attributes shadowing ``Logger.isEnabledFor`` and
    ``Logger.handle``, so every module holding the logger (imported before or after) logs
    through them, with no change to the logger's class; :func:`stop_serving_logs` removes
    them.

    * ``isEnabledFor(level)`` is true if the logger or any twin would emit at ``level``
      (by their levels, ``disabled`` flags and ``logging.disable``). The answer is kept in
      the logger's own level cache, which ``logging`` clears on every ``setLevel`` and
      ``logging.disable`` anywhere, so a cache hit is one dict lookup in a plain function:
      the per-request checks on the hot path cost what a plain logger's cost (measured:
      slightly less). (A change made only by assigning a logger's ``disabled`` attribute
      takes effect at the next level change, where a plain logger sees it at once.)
    * ``handle(record)`` decides which names the record goes out under. If the user
      configured any of the namespaces (a level or a handler on ``httpcore2.http11`` or
      ``httpcore2``; on ``httpcore.http11`` or ``httpcore``), only the configured ones
      count; if none, all do. Of those, each whose logger is enabled for the record's level
      gets it under its own name: its logger's filters, then the handlers of the logger and
      its ancestors (honouring ``propagate``). A handler reached from several names (the
      root logger's, typically) gets the record once, under the first name, ours first.

    So ``logging.getLogger("httpcore2").setLevel(logging.DEBUG)`` (or a handler there, as
    httpx2's docs show) yields ``httpcore2.*`` records and silencing ``httpcore2`` silences
    them; ``logging.basicConfig(level=logging.DEBUG)`` alone yields ``httpcore.*`` records
    (the names httpcore_fast has always used); each line reaches each handler once.
    """

    __slots__ = ("logger", "chains", "is_enabled_for")

    def __init__(self, logger: logging.Logger, twins: _Chains) -> None:
        self.logger = logger
        self.chains: _Chains = (logger, *twins)
        cache: dict[int, bool] = logger._cache  # type: ignore[attr-defined]
        chains = self.chains

        # The hot path: ``cache`` and ``chains`` are default arguments (locals, no closure
        # cells), and the miss is computed elsewhere, so a hit is a single dict lookup.
        def is_enabled_for(
            level: int, cache: dict[int, bool] = cache, chains: _Chains = chains
        ) -> bool:
            """Whether the logger or one of its alias twins would emit a ``level`` record."""
            try:
                return cache[level]
            except KeyError:
                return _fill_cache(cache, chains, level)

        self.is_enabled_for = is_enabled_for

    def handle(self, record: logging.LogRecord) -> None:
        """Hand ``record`` (named after our logger) to the handlers of the names that
        should log it, under each name, once per handler (see the class)."""
        level = record.levelno
        configured = [logger for logger in self.chains if _configured(logger)]
        chains = [
            logger for logger in configured or self.chains if _chain_enabled(logger, level)
        ]
        # every chain's record is made before any handler can touch the original
        pairs = [
            (logger, record if logger is self.logger else _renamed(record, logger.name))
            for logger in chains
        ]
        seen: set[logging.Handler] = set()
        found = 0
        for logger, own_record in pairs:
            passed = logger.filter(own_record)
            if not passed:
                continue
            if isinstance(passed, logging.LogRecord):  # Python >= 3.12 filters may replace it
                own_record = passed
            found += _call_handlers(logger, own_record, seen)
        last_resort = logging.lastResort
        if chains and not found and last_resort is not None:
            if level >= last_resort.level:
                last_resort.handle(record)


def _renamed(record: logging.LogRecord, name: str) -> logging.LogRecord:
    twin = copy.copy(record)
    twin.name = name
    return twin


def _call_handlers(
    logger: logging.Logger, record: logging.LogRecord, seen: set[logging.Handler]
) -> int:
    """``Logger.callHandlers`` for one chain, skipping (and adding to) ``seen`` handlers;
    returns how many handlers the chain has (the count ``logging`` uses for lastResort)."""
    node: logging.Logger | None = logger
    found = 0
    while node is not None:
        for handler in node.handlers:
            found += 1
            if handler in seen:
                continue
            seen.add(handler)
            if record.levelno >= handler.level:
                handler.handle(record)
        node = node.parent if node.propagate else None
    return found


_served: dict[str, _Served] = {}


def serve_logs_as(aliases: Sequence[str], names: Iterable[str] = LOGGER_NAMES) -> None:
    """Make each logger in ``names`` also log under each alias: ``httpcore.http11`` with
    ``aliases=["httpcore2"]`` also feeds ``httpcore2.http11`` (see :class:`_Served`).

    Args:
        aliases: top-level names; one equal to a logger's own first part is skipped.
        names: dotted logger names (the loggers are created if they do not exist yet).

    Calling it again replaces the aliases. Thread-safe (under logging's lock).
    """
    if logging is None:
        _load_logging()
    with _logging_lock:
        for name in names:
            logger = logging.getLogger(name)
            first, _, rest = name.partition(".")
            twins = tuple(
                logging.getLogger(f"{alias}.{rest}") for alias in aliases if alias != first
            )
            served = _served[name] = _Served(logger, twins)
            attributes = vars(logger)
            attributes["isEnabledFor"] = served.is_enabled_for
            attributes["handle"] = served.handle
            attributes["_cache"].clear()


def stop_serving_logs(names: Iterable[str] = LOGGER_NAMES) -> None:
    """Undo :func:`serve_logs_as` for ``names``: each logger logs under its own name only,
    through ``logging.Logger``'s own methods again. Names not being served are ignored."""
    if not _served:
        return
    with _logging_lock:
        for name in names:
            served = _served.pop(name, None)
            if served is None:
                continue
            attributes = vars(served.logger)
            attributes.pop("isEnabledFor", None)
            attributes.pop("handle", None)
            attributes["_cache"].clear()

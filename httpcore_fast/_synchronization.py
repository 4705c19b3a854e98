"""Synchronisation primitives for the pool and connections, sync and async twins
with httpcore's names (so that ``_sync`` is generated from ``_async`` by renaming).

============================  ==================================  =====================
async                         sync                                purpose
============================  ==================================  =====================
``AsyncThreadLock``           ``ThreadLock``                      short critical
                                                                  sections without I/O
``AsyncLock``                 ``Lock``                            a lock held across I/O
``AsyncEvent``                ``Event``                           wake a waiting request
``AsyncSemaphore``            ``Semaphore``                       bounded concurrency
``AsyncShieldCancellation``   ``ShieldCancellation``              protect clean-up code
============================  ==================================  =====================

The async primitives work under asyncio and trio. The library is detected when a
primitive is first used (:func:`current_async_library`) and asyncio primitives are used
directly: anyio is never involved, and trio is imported only when running under trio.
Async code above this module never detects the library itself: what it needs of the
running library is here, async only (no sync twin; callers mark their use as an async-only
block): :data:`PAUSE`, :func:`cancellation_checkpoint`, :func:`is_cancellation`,
:func:`run_in_thread`.

Cancellation shielding: a task cannot shield part of itself on asyncio (``asyncio.shield``
protects another awaitable, not the current task), so clean-up that awaits and must not
be interrupted runs as its own task: ``await AsyncShieldCancellation.run(fn, *args)``
(sync twin: ``ShieldCancellation.run(fn, *args)``, which just calls ``fn(*args)``). The
``with AsyncShieldCancellation():`` block is a shielded ``trio.CancelScope`` under trio
and an ``anyio.CancelScope(shield=True)`` under asyncio when anyio is imported, and does
nothing against a native ``task.cancel()``.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
import typing

from ._exceptions import PoolTimeout

if typing.TYPE_CHECKING:
    import asyncio
else:
    # asyncio (about 20 ms to import) is not imported here: a sync program never needs
    # it, and no asyncio loop can be running before someone else has imported it. The
    # name is bound by _load_asyncio() when the first running loop is found; every use
    # below is on a path that found one (or that asyncio's sniffio name reached).
    asyncio = None

_T = typing.TypeVar("_T")

__all__ = [
    "AsyncEvent",
    "AsyncLock",
    "AsyncSemaphore",
    "AsyncShieldCancellation",
    "AsyncThreadLock",
    "Event",
    "Lock",
    "NoOp",
    "Semaphore",
    "ShieldCancellation",
    "ThreadLock",
    "PAUSE",
    "cancellation_checkpoint",
    "current_async_library",
    "is_cancellation",
    "run_in_thread",
]


def _load_asyncio() -> None:
    """Bind ``asyncio`` and asyncio's own ``_get_running_loop`` (C) here, for good."""
    global asyncio, _get_running_loop
    import asyncio as module

    asyncio = module
    _get_running_loop = module._get_running_loop


def _no_loop_unless_asyncio() -> asyncio.AbstractEventLoop | None:
    """``_get_running_loop`` until asyncio is imported (by anyone): None, since no loop
    can run without it; on the first call after, asyncio's own takes over."""
    if "asyncio" not in sys.modules:
        return None
    _load_asyncio()
    return _get_running_loop()


_get_running_loop: typing.Callable[[], asyncio.AbstractEventLoop | None]
_get_running_loop = _no_loop_unless_asyncio


def _in_trio() -> bool:
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


def current_async_library() -> str:
    """Return ``"asyncio"`` or ``"trio"``: the async library running the current task.

    Libraries that are not imported cannot be running, so nothing is imported here.
    sniffio's override (set e.g. by trio-asyncio or trio guest mode) is honoured when
    sniffio is loaded; otherwise an asyncio loop running in this thread means asyncio,
    and an active trio run trio.

    Raises:
        RuntimeError: if neither is running.
    """
    sniffio = sys.modules.get("sniffio")
    if sniffio is not None:
        name = sniffio.thread_local.name or sniffio.current_async_library_cvar.get()
        if name in ("asyncio", "trio"):
            if name == "asyncio" and asyncio is None:
                _load_asyncio()
            return typing.cast(str, name)
    if _get_running_loop() is not None:
        return "asyncio"
    if _in_trio():
        return "trio"
    raise RuntimeError("Running under an unsupported async environment.")


def _import_trio() -> typing.Any:
    import trio

    return trio


# ---------------------------------------------------------------------------------
# Sync (threads)
# ---------------------------------------------------------------------------------

ThreadLock = threading.Lock
"""A ``threading.Lock`` (``with lock:``) for short critical sections without I/O.

It *is* ``threading.Lock``: its C-level context manager is the cheapest available."""

Lock = threading.Lock
"""A ``threading.Lock``, for critical sections that perform I/O (sync twin of
:class:`AsyncLock`)."""


class Event:
    """A ``threading.Event`` whose :meth:`wait` raises ``PoolTimeout`` on timeout."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        self._event.set()

    def is_set(self) -> bool:
        """Return True once :meth:`set` has been called."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until set. ``timeout`` in seconds (None or ``inf``: no limit).

        Raises:
            PoolTimeout: not set within ``timeout``.
        """
        if timeout == float("inf"):
            timeout = None
        if not self._event.wait(timeout):
            raise PoolTimeout()


class Semaphore:
    """A bounded ``threading.Semaphore``: ``acquire()`` / ``release()`` or ``with``."""

    __slots__ = ("_semaphore",)

    def __init__(self, bound: int) -> None:
        self._semaphore = threading.BoundedSemaphore(bound)

    def acquire(self) -> None:
        """Take one slot, blocking until one is free."""
        self._semaphore.acquire()

    def release(self) -> None:
        """Give a slot back. Raises ``ValueError`` if released more than acquired."""
        self._semaphore.release()

    def __enter__(self) -> Semaphore:
        self._semaphore.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        self._semaphore.release()


class NoOp:
    """A context manager that does nothing (``with``)."""

    __slots__ = ()

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        pass


class ShieldCancellation(NoOp):
    """No-op: threads have no cancellation (sync twin of :class:`AsyncShieldCancellation`)."""

    __slots__ = ()

    @staticmethod
    def run(fn: typing.Callable[..., _T], *args: typing.Any) -> _T:
        """Return ``fn(*args)``: the sync twin of :meth:`AsyncShieldCancellation.run`."""
        return fn(*args)


# ---------------------------------------------------------------------------------
# Async (asyncio / trio)
# ---------------------------------------------------------------------------------


class AsyncThreadLock(NoOp):
    """No-op *sync* context manager (``with``, not ``async with``): asyncio and trio run
    one task at a time per thread, so a critical section that never awaits needs no
    lock."""

    __slots__ = ()


class AsyncLock:
    """A task lock (``async with lock:``): ``asyncio.Lock`` or ``trio.Lock``, chosen on
    first use."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: typing.Any = None

    def _setup(self) -> typing.Any:
        if current_async_library() == "trio":
            self._lock = _import_trio().Lock()
        else:
            self._lock = asyncio.Lock()
        return self._lock

    async def __aenter__(self) -> AsyncLock:
        lock = self._lock or self._setup()
        await lock.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        self._lock.release()


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(PoolTimeout())


class AsyncEvent:
    """An event for asyncio or trio: :meth:`set` is a plain (sync) method, :meth:`wait`
    a coroutine raising ``PoolTimeout`` on timeout.

    Under asyncio, waiters are bare loop futures (no task and no ``wait_for``); under
    trio, a ``trio.Event`` created on first wait.
    """

    __slots__ = ("_flag", "_waiters", "_trio_event")

    def __init__(self) -> None:
        self._flag = False
        self._waiters: list[asyncio.Future[None]] | None = None
        self._trio_event: typing.Any = None

    def is_set(self) -> bool:
        """Return True once :meth:`set` has been called."""
        return self._flag

    def set(self) -> None:
        """Set the flag and wake every waiter (call from the event loop's thread)."""
        if self._flag:
            return
        self._flag = True
        if self._waiters:
            for future in self._waiters:
                if not future.done():
                    future.set_result(None)
        if self._trio_event is not None:
            self._trio_event.set()

    async def wait(self, timeout: float | None = None) -> None:
        """Wait until set. ``timeout`` in seconds (None or ``inf``: no limit).

        Raises:
            PoolTimeout: not set within ``timeout``.
        """
        if self._flag:
            return
        loop = _get_running_loop()
        if loop is None:
            await self._trio_wait(timeout)
            return
        future: asyncio.Future[None] = loop.create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(future)
        handle = None
        if timeout is not None and timeout != float("inf"):
            handle = loop.call_later(max(timeout, 0.0), _expire, future)
        try:
            await future
        finally:
            if handle is not None:
                handle.cancel()
            self._waiters.remove(future)

    async def _trio_wait(self, timeout: float | None) -> None:
        if current_async_library() != "trio":  # pragma: no cover - defensive
            raise RuntimeError("Running under an unsupported async environment.")
        trio = _import_trio()
        if self._trio_event is None:
            self._trio_event = trio.Event()
        deadline = float("inf") if timeout is None else timeout
        try:
            with trio.fail_after(deadline):
                await self._trio_event.wait()
        except trio.TooSlowError as exc:
            raise PoolTimeout(exc) from exc


class AsyncSemaphore:
    """A bounded semaphore for asyncio or trio (chosen on first use):
    ``await acquire()`` / ``await release()``, or ``async with``."""

    __slots__ = ("_bound", "_semaphore")

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._semaphore: typing.Any = None

    def _setup(self) -> typing.Any:
        if current_async_library() == "trio":
            self._semaphore = _import_trio().Semaphore(self._bound, max_value=self._bound)
        else:
            self._semaphore = asyncio.BoundedSemaphore(self._bound)
        return self._semaphore

    async def acquire(self) -> None:
        """Take one slot, waiting until one is free."""
        await (self._semaphore or self._setup()).acquire()

    async def release(self) -> None:
        """Give a slot back. Raises ``ValueError`` if released more than acquired."""
        (self._semaphore or self._setup()).release()

    async def __aenter__(self) -> AsyncSemaphore:
        await (self._semaphore or self._setup()).acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> None:
        self._semaphore.release()


def _wake(waiter: asyncio.Future[None], _done: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


if sys.version_info >= (3, 12):

    def _start_task(
        loop: asyncio.AbstractEventLoop, awaitable: typing.Awaitable[_T]
    ) -> asyncio.Future[_T]:
        # Eager: runs at once up to its first suspension, so a clean-up that never
        # suspends (closing a native asyncio stream) finishes without a loop iteration.
        if asyncio.iscoroutine(awaitable):
            return asyncio.Task(awaitable, loop=loop, eager_start=True)
        return asyncio.ensure_future(awaitable, loop=loop)

else:  # Python 3.10 and 3.11

    def _start_task(
        loop: asyncio.AbstractEventLoop, awaitable: typing.Awaitable[_T]
    ) -> asyncio.Future[_T]:
        return asyncio.ensure_future(awaitable, loop=loop)


async def _run_shielded_asyncio(
    loop: asyncio.AbstractEventLoop,
    fn: typing.Callable[..., typing.Awaitable[_T]],
    args: tuple[typing.Any, ...],
) -> _T:
    """:meth:`AsyncShieldCancellation.run` on asyncio: ``fn(*args)`` runs as its own task
    (outside any anyio cancel scope), and this task waits for it on a plain future, so
    its cancellation cancels only that future. Anyio scopes are held off meanwhile with a
    shielded anyio scope (they would otherwise re-deliver at every loop iteration)."""
    anyio = sys.modules.get("anyio")
    scope = anyio.CancelScope(shield=True) if anyio is not None else None
    cancelled: asyncio.CancelledError | None = None
    if scope is not None:
        scope.__enter__()
    try:
        inner = _start_task(loop, fn(*args))
        while not inner.done():
            waiter: asyncio.Future[None] = loop.create_future()
            wake = functools.partial(_wake, waiter)
            inner.add_done_callback(wake)
            try:
                await waiter
            except asyncio.CancelledError as exc:
                # The caller was cancelled: keep waiting, re-raise afterwards. Its
                # cancellation count (3.11+ ``cancelling()``) is left as it is, not
                # uncancel()ed: asyncio.timeout() and TaskGroup see the CancelledError
                # raised below as theirs.
                inner.remove_done_callback(wake)
                if cancelled is None:
                    cancelled = exc
    finally:
        if scope is not None:
            scope.__exit__(None, None, None)
    if cancelled is not None:
        if not inner.cancelled() and inner.exception() is not None:
            cancelled.__context__ = inner.exception()  # retrieved, and shown
        raise cancelled
    return inner.result()


class AsyncShieldCancellation:
    """Shield the block from cancellation (sync ``with``), or run a clean-up coroutine
    that cancellation cannot interrupt (:meth:`run`).

    As a ``with`` block: trio: a ``trio.CancelScope(shield=True)``. asyncio: an
    ``anyio.CancelScope(shield=True)`` when anyio is already imported (so the block
    survives anyio cancel scopes such as ``anyio.move_on_after``, which re-deliver
    cancellation at every await); otherwise a no-op. A native ``task.cancel()`` cannot be
    shielded from within a task: code that must finish despite one uses :meth:`run`.
    """

    __slots__ = ("_scope",)

    @staticmethod
    async def run(fn: typing.Callable[..., typing.Awaitable[_T]], *args: typing.Any) -> _T:
        """Await ``fn(*args)`` so that a cancellation of the caller while it runs does
        not interrupt it: the caller waits for it to finish, then the cancellation is
        raised (``CancelledError`` on asyncio, ``trio.Cancelled`` at trio's next
        checkpoint). Returns ``fn``'s result, or raises its exception, when the caller
        was not cancelled meanwhile; if it was, ``fn``'s exception is the cancellation's
        ``__context__``.

        ``await AsyncShieldCancellation.run(connection.aclose)`` becomes
        ``ShieldCancellation.run(connection.close)`` in generated sync code.

        asyncio: ``fn(*args)`` runs as its own task (eagerly started on 3.12+, so a
        clean-up that never suspends costs no loop iteration; a plain task on 3.10/3.11,
        about 10 us), which neither ``task.cancel()``, ``asyncio.timeout()``, a
        ``TaskGroup`` nor an anyio cancel scope of the caller reaches, while timeouts and
        scopes that ``fn`` sets itself work as usual (they belong to its task);
        ``contextvars`` are copied to it as for any task. trio: awaited inside a
        ``trio.CancelScope(shield=True)``. Outside both: awaited as is.
        """
        loop = _get_running_loop()
        if loop is not None:
            return await _run_shielded_asyncio(loop, fn, args)
        if _in_trio():
            with _import_trio().CancelScope(shield=True):
                return await fn(*args)
        return await fn(*args)  # pragma: no cover - neither asyncio nor trio

    def __init__(self) -> None:
        self._scope: typing.Any = None

    def __enter__(self) -> AsyncShieldCancellation:
        if _get_running_loop() is None:
            if _in_trio():
                self._scope = _import_trio().CancelScope(shield=True)
                self._scope.__enter__()
        else:
            anyio = sys.modules.get("anyio")
            if anyio is not None:
                self._scope = anyio.CancelScope(shield=True)
                self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: types.TracebackType | None = None,
    ) -> bool | None:
        scope = self._scope
        if scope is not None:
            self._scope = None
            return scope.__exit__(exc_type, exc_value, traceback)  # type: ignore[no-any-return]
        return None


# ---------------------------------------------------------------------------------
# Async only: what async protocol code needs of the running library
# ---------------------------------------------------------------------------------


class _Pause:
    """The type of :data:`PAUSE`."""

    __slots__ = ()

    def __await__(self) -> typing.Generator[typing.Any, None, None]:
        if _get_running_loop() is None:
            yield from sys.modules["trio"].lowlevel.checkpoint().__await__()
        else:
            yield  # a bare yield: the asyncio task runs again on the loop's next pass


PAUSE = _Pause()
"""``await PAUSE`` lets every other runnable task run once before the caller goes on
(asyncio: one pass of the event loop; trio: a checkpoint, which also raises a pending
cancellation). Reusable, costs no allocation on asyncio."""


def cancellation_checkpoint() -> typing.Callable[[], typing.Awaitable[None]] | None:
    """What raises a pending cancellation of the running task without suspending it
    (``await checkpoint()``): trio's ``lowlevel.checkpoint_if_cancelled``. None on
    asyncio, where a cancellation arrives only where a task suspends. A connection runs
    under one library: ask once and keep the answer.

    Raises ``RuntimeError`` outside asyncio and trio."""
    if current_async_library() == "asyncio":
        return None
    checkpoint: typing.Callable[[], typing.Awaitable[None]]
    checkpoint = _import_trio().lowlevel.checkpoint_if_cancelled
    return checkpoint


def is_cancellation(exc: BaseException) -> bool:
    """True if ``exc`` is a cancellation: asyncio's ``CancelledError`` or trio's
    ``Cancelled`` (trio is not imported to answer)."""
    if asyncio is None and "asyncio" in sys.modules:  # imported, and no loop seen yet
        _load_asyncio()
    if asyncio is not None and isinstance(exc, asyncio.CancelledError):
        return True
    trio = sys.modules.get("trio")
    return trio is not None and isinstance(exc, trio.Cancelled)


async def run_in_thread(fn: typing.Callable[..., _T], *args: typing.Any) -> _T:
    """``fn(*args)`` in a worker thread of the running library (asyncio's default
    executor, trio's thread pool), for a blocking call such as ``getaddrinfo``. Returns
    its result or raises its exception. A cancellation of the caller is delivered as the
    library does it (asyncio: at once, the thread finishing unseen; trio: once the thread
    has finished)."""
    if current_async_library() == "trio":
        return typing.cast(_T, await _import_trio().to_thread.run_sync(fn, *args))
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

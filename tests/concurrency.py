"""Concurrency for the tests written once in ``tests/_async/`` and generated into
``tests/_sync/``: each helper exists as ``AsyncX`` (tasks of the running library, asyncio or
trio, through anyio) and ``X`` (threads), so that the generator's ``AsyncX -> X`` rule turns
one into the other.

    async with AsyncNursery(timeout=30) as nursery:   # with Nursery(timeout=30) as nursery:
        nursery.start_soon(fetch, 1)                  #     nursery.start_soon(fetch, 1)

Both wait for everything started to finish when the block ends and re-raise the first
error; both are bounded: the block fails if the tasks (threads) are not done ``timeout``
seconds after it was entered (a hang bound, never a speed requirement).
"""

from __future__ import annotations

import contextlib
import threading
import time
import types
import typing

import anyio
import anyio.abc


class AsyncNursery:
    """An anyio task group inside ``anyio.fail_after(timeout)``."""

    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._stack = contextlib.AsyncExitStack()
        self._group: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> AsyncNursery:
        self._stack.enter_context(anyio.fail_after(self._timeout))
        self._group = await self._stack.enter_async_context(anyio.create_task_group())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> bool | None:
        return await self._stack.__aexit__(exc_type, exc, traceback)

    def start_soon(
        self, fn: typing.Callable[..., typing.Coroutine[typing.Any, typing.Any, typing.Any]], *args: typing.Any
    ) -> None:
        assert self._group is not None, "start_soon() inside the async with block"
        self._group.start_soon(fn, *args)


class Nursery:
    """Threads, joined at the end of the ``with`` block."""

    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._deadline = 0.0

    def __enter__(self) -> Nursery:
        self._deadline = time.monotonic() + self._timeout
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        for thread in self._threads:
            thread.join(max(0.0, self._deadline - time.monotonic()))
        hung = [thread.name for thread in self._threads if thread.is_alive()]
        if exc is None:
            assert not hung, f"threads still running after {self._timeout} s: {hung}"
            if self._errors:
                raise self._errors[0]

    def start_soon(self, fn: typing.Callable[..., typing.Any], *args: typing.Any) -> None:
        def run() -> None:
            try:
                fn(*args)
            except BaseException as exc:  # noqa: BLE001 - re-raised by __exit__
                self._errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

"""Synchronisation primitives under threads, asyncio and trio."""

from __future__ import annotations

import asyncio
import threading
import time
import typing

import pytest
import trio

from httpcore_fast._exceptions import PoolTimeout
from httpcore_fast._synchronization import (
    AsyncEvent,
    AsyncLock,
    AsyncSemaphore,
    AsyncShieldCancellation,
    AsyncThreadLock,
    Event,
    Lock,
    Semaphore,
    ShieldCancellation,
    ThreadLock,
    current_async_library,
)


def test_sync_primitives() -> None:
    lock = ThreadLock()
    with lock:
        assert lock.locked()
    with Lock():
        pass
    with ShieldCancellation():
        pass
    event = Event()
    assert not event.is_set()
    with pytest.raises(PoolTimeout):
        event.wait(0.01)
    threading.Timer(0.01, event.set).start()
    event.wait(10)
    assert event.is_set()
    event.wait(float("inf"))
    semaphore = Semaphore(1)
    semaphore.acquire()
    semaphore.release()
    with semaphore:
        pass
    with pytest.raises(ValueError):
        semaphore.release()


def test_current_async_library() -> None:
    with pytest.raises(RuntimeError):
        current_async_library()

    async def check() -> str:
        return current_async_library()

    assert asyncio.run(check()) == "asyncio"
    assert trio.run(check) == "trio"


# A timer may fire up to one clock tick early (15.6 ms on Windows): elapsed-time checks
# allow that much, and at least 5 ms.
TICK = max(time.get_clock_info("monotonic").resolution, 0.005)


def parked(event: AsyncEvent) -> int:
    """How many tasks are waiting on ``event`` (asyncio futures, or the trio event's)."""
    if event._trio_event is not None:
        return int(event._trio_event.statistics().tasks_waiting)
    return len(event._waiters or [])


async def wait_parked(
    event: AsyncEvent, count: int, sleep: typing.Callable[[float], typing.Awaitable[None]]
) -> None:
    """Let the loop run until ``count`` tasks wait on ``event`` (at most 5 s)."""
    deadline = time.monotonic() + 5.0
    while parked(event) < count:
        assert time.monotonic() < deadline, f"{parked(event)} of {count} waiters parked"
        await sleep(0.001)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_event(library: str) -> None:
    async def main() -> None:
        event = AsyncEvent()
        assert not event.is_set()
        start = time.monotonic()
        with pytest.raises(PoolTimeout):
            await event.wait(0.02)
        assert time.monotonic() - start >= 0.02 - TICK
        with pytest.raises(PoolTimeout):
            await event.wait(0)
        woken = []

        async def waiter() -> None:
            await event.wait(10)
            woken.append(True)

        if library == "asyncio":
            tasks = [asyncio.ensure_future(waiter()) for _ in range(3)]
            await wait_parked(event, 3, asyncio.sleep)
            event.set()
            await asyncio.gather(*tasks)
        else:
            async with trio.open_nursery() as nursery:
                for _ in range(3):
                    nursery.start_soon(waiter)
                await wait_parked(event, 3, trio.sleep)
                event.set()
        assert woken == [True] * 3
        assert event.is_set()
        await event.wait(0)  # already set: returns at once
        event.set()  # idempotent

    if library == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)


def test_async_event_cancelled_waiter_is_removed() -> None:
    async def main() -> None:
        event = AsyncEvent()
        task = asyncio.ensure_future(event.wait(None))
        await wait_parked(event, 1, asyncio.sleep)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert event._waiters == []
        event.set()

    asyncio.run(main())


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_lock_and_semaphore(library: str) -> None:
    async def main() -> None:
        with AsyncThreadLock():
            pass
        lock = AsyncLock()
        async with lock:
            pass
        async with lock:
            pass
        semaphore = AsyncSemaphore(2)
        await semaphore.acquire()
        async with semaphore:
            pass
        await semaphore.release()
        with pytest.raises(ValueError):
            await semaphore.release()

    if library == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)


def test_shield_cancellation_trio() -> None:
    async def main() -> None:
        finished = []
        with trio.CancelScope() as scope:
            scope.cancel()
            with AsyncShieldCancellation():
                await trio.sleep(0.01)  # not cancelled: shielded
                finished.append(True)
            await trio.sleep(1)  # cancelled here
        assert finished == [True]
        assert scope.cancelled_caught

    trio.run(main)


def test_shield_cancellation_asyncio_is_noop() -> None:
    async def main() -> None:
        with AsyncShieldCancellation():
            pass

    asyncio.run(main())
    with AsyncShieldCancellation():  # outside any event loop: no-op too
        pass

"""Synchronisation primitives under threads, asyncio and trio."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import typing

import anyio
import pytest
import trio
import trio.testing

from httpcore_fast._exceptions import PoolTimeout
from httpcore_fast._synchronization import (
    PAUSE,
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
    cancellation_checkpoint,
    current_async_library,
    is_cancellation,
    run_in_thread,
)


def test_sync_primitives() -> None:
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


def in_thread(fn: typing.Callable[[], typing.Any]) -> typing.Any:
    """``fn()`` called in another thread (joined, bounded); its result."""
    result: list[typing.Any] = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and len(result) == 1
    return result[0]


@pytest.mark.parametrize("kind", [ThreadLock, Lock], ids=["ThreadLock", "Lock"])
def test_sync_lock_excludes_other_threads(kind: typing.Callable[[], typing.Any]) -> None:
    lock = kind()
    with lock:
        assert lock.locked()
        # held here: another thread cannot take it (a non-blocking try, no timing)
        assert in_thread(lambda: lock.acquire(blocking=False)) is False
    assert not lock.locked()
    assert in_thread(lambda: lock.acquire(blocking=False)) is True  # free: taken there ...
    assert lock.locked()  # ... and held until released (here)
    lock.release()


def test_sync_semaphore_admits_its_bound() -> None:
    semaphore = Semaphore(2)
    semaphore.acquire()
    semaphore.acquire()
    entered = threading.Event()

    def third() -> None:
        with semaphore:
            entered.set()

    thread = threading.Thread(target=third)
    thread.start()
    try:
        # Both slots are taken: the third holder is kept out as long as they are. (A
        # semaphore that let it in would set the event at once; a correct one never.)
        assert not entered.wait(0.1)
        semaphore.release()
        assert entered.wait(10)
    finally:
        thread.join(10)
    semaphore.release()
    with pytest.raises(ValueError):
        semaphore.release()


def test_current_async_library() -> None:
    with pytest.raises(RuntimeError):
        current_async_library()

    async def check() -> str:
        return current_async_library()

    assert asyncio.run(check()) == "asyncio"
    assert trio.run(check) == "trio"


def test_current_async_library_honours_sniffio() -> None:
    """sniffio's override (trio-asyncio, trio guest mode) names the library in charge."""
    import sniffio

    async def check() -> str:
        token = sniffio.current_async_library_cvar.set("trio")
        try:
            return current_async_library()
        finally:
            sniffio.current_async_library_cvar.reset(token)

    assert asyncio.run(check()) == "trio"


def run(
    library: str, main: typing.Callable[[], typing.Coroutine[typing.Any, typing.Any, None]]
) -> None:
    """Run ``main`` on ``library``."""
    if library == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_pause_lets_every_runnable_task_run_first(library: str) -> None:
    """``await PAUSE`` lets the other runnable tasks run once (each up to its next
    suspension) before the caller goes on; it never waits for anything else."""
    order: list[str] = []

    async def other(name: str) -> None:
        order.append(name)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(other, "a")
            group.start_soon(other, "b")
            order.append("before")
            for _ in range(3):  # trio may schedule a new task a round late
                if len(order) == 3:
                    break
                await PAUSE
            order.append("after")
        assert order[0] == "before" and order[-1] == "after"
        assert sorted(order[1:3]) == ["a", "b"]

    run(library, main)


def test_cancellation_checkpoint_is_trios_and_none_on_asyncio() -> None:
    async def on_asyncio() -> None:
        assert cancellation_checkpoint() is None

    asyncio.run(on_asyncio())

    async def on_trio() -> None:
        checkpoint = cancellation_checkpoint()
        assert checkpoint is trio.lowlevel.checkpoint_if_cancelled
        await checkpoint()  # nothing pending: returns
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await checkpoint()

    trio.run(on_trio)
    with pytest.raises(RuntimeError):
        cancellation_checkpoint()


def test_is_cancellation() -> None:
    assert is_cancellation(asyncio.CancelledError())
    assert not is_cancellation(ValueError())
    assert not is_cancellation(KeyboardInterrupt())

    async def trio_cancelled() -> None:
        with trio.CancelScope() as scope:
            scope.cancel()
            try:
                await trio.lowlevel.checkpoint()
            except trio.Cancelled as exc:
                assert is_cancellation(exc)
                raise
        assert scope.cancelled_caught

    trio.run(trio_cancelled)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_run_in_thread(library: str) -> None:
    """The call runs in another thread; its result or exception comes back."""

    def where(offset: int) -> tuple[int, int]:
        return threading.get_ident(), offset + 1

    def fails() -> None:
        raise OSError("no such host")

    async def main() -> None:
        ident, value = await run_in_thread(where, 41)
        assert ident != threading.get_ident() and value == 42
        with pytest.raises(OSError, match="no such host"):
            await run_in_thread(fails)

    run(library, main)


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


async def let_others_run(library: str) -> None:
    """Until every other task is blocked (trio), or for a few loop iterations (asyncio:
    a task that could go on does within one)."""
    if library == "trio":
        await trio.testing.wait_all_tasks_blocked()
    else:
        for _ in range(5):
            await asyncio.sleep(0)


def run_on(library: str, main: typing.Callable[[], typing.Awaitable[None]]) -> None:
    if library == "asyncio":
        asyncio.run(main())  # type: ignore[arg-type]
    else:
        trio.run(main)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_lock_excludes_other_tasks(library: str) -> None:
    async def main() -> None:
        with AsyncThreadLock():  # a no-op: one task at a time per thread anyway
            pass
        lock = AsyncLock()
        trace: list[str] = []

        async def holder(name: str) -> None:
            trace.append(f"{name} waits")
            async with lock:
                trace.append(f"{name} in")
                await let_others_run(library)  # the others run meanwhile, and wait
                trace.append(f"{name} out")

        async with anyio.create_task_group() as tg:
            for name in ("a", "b", "c"):
                tg.start_soon(holder, name)
        # one holder at a time, in the order they came (trio starts tasks in a random
        # order), while the others waited
        arrivals = [entry.split()[0] for entry in trace if entry.endswith("waits")]
        assert sorted(arrivals) == ["a", "b", "c"]
        assert [entry for entry in trace if not entry.endswith("waits")] == [
            f"{name} {step}" for name in arrivals for step in ("in", "out")
        ]
        assert trace.index(f"{arrivals[-1]} waits") < trace.index(f"{arrivals[0]} out")

    anyio.run(main, backend=library)


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_async_semaphore_admits_its_bound(library: str) -> None:
    async def main() -> None:
        semaphore = AsyncSemaphore(2)
        inside: list[str] = []
        most = [0]

        async def user(name: str) -> None:
            async with semaphore:
                inside.append(name)
                most[0] = max(most[0], len(inside))
                await let_others_run(library)
                inside.remove(name)

        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(user, str(i))
        assert most == [2]  # never three inside, and two at once when five want in
        await semaphore.acquire()
        async with semaphore:
            pass
        await semaphore.release()
        with pytest.raises(ValueError):
            await semaphore.release()

    anyio.run(main, backend=library)


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


def test_shield_cancellation_on_asyncio() -> None:
    # Under anyio's cancel scopes the block is shielded (anyio is imported here); against a
    # native task.cancel() it is not (a task cannot shield part of itself: that is what
    # AsyncShieldCancellation.run is for).
    async def main() -> None:
        finished: list[str] = []
        with anyio.CancelScope() as scope:
            scope.cancel()
            with AsyncShieldCancellation():
                await anyio.sleep(0.01)  # not cancelled: shielded
                finished.append("shielded")
            await anyio.sleep(5)  # cancelled here
        assert finished == ["shielded"] and scope.cancelled_caught

        inside = asyncio.Event()

        async def body() -> None:
            with AsyncShieldCancellation():
                inside.set()
                await asyncio.sleep(5)
                finished.append("not reached")  # pragma: no cover

        task = asyncio.ensure_future(body())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished == ["shielded"]

    asyncio.run(main())
    # Outside any event loop (code shared with sync callers) the block just runs, and
    # lets exceptions through.
    with pytest.raises(ValueError):
        with AsyncShieldCancellation():
            raise ValueError("through")


# -- AsyncShieldCancellation.run: clean-up that cancellation cannot interrupt -----------------


class CleanUp:
    """A clean-up coroutine that parks until released; records how it ended."""

    def __init__(self, library: str) -> None:
        self.library = library
        self.started = AsyncEvent()
        self.release = AsyncEvent()
        self.outcome: str | None = None

    async def __call__(self, value: int) -> int:
        self.started.set()
        try:
            await self.release.wait()
        except BaseException as exc:  # pragma: no cover - the test fails on it
            self.outcome = f"interrupted by {type(exc).__name__}"
            raise
        self.outcome = "finished"
        return value * 2


def test_shield_run_sync_twin() -> None:
    assert ShieldCancellation.run(lambda a, b: a + b, 1, 2) == 3


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_shield_run_returns_and_raises(library: str) -> None:
    async def fails() -> None:
        raise ValueError("boom")

    async def main() -> None:
        cleanup = CleanUp(library)
        cleanup.release.set()
        assert await AsyncShieldCancellation.run(cleanup, 21) == 42
        with pytest.raises(ValueError, match="boom"):
            await AsyncShieldCancellation.run(fails)

    if library == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)


# asyncio.timeout() (3.11+) cancels its own task, as anyio's fail_after() does on 3.10.
asyncio_timeout = getattr(asyncio, "timeout", anyio.fail_after)


def test_shield_run_keeps_the_clean_ups_own_timeouts() -> None:
    # The clean-up runs as its own task: a timeout it sets itself (asyncio.timeout, an
    # anyio scope) interrupts it as usual and is not mistaken for the caller's
    # cancellation (which would be deferred until the clean-up ends: a hang here).
    async def main() -> None:
        never = asyncio.Event()

        async def with_asyncio_timeout() -> str:
            try:
                async with asyncio_timeout(0.05):
                    await never.wait()
            except TimeoutError:
                return "timed out"
            return "not reached"  # pragma: no cover

        async def with_anyio_scope() -> str:
            with anyio.move_on_after(0.05) as scope:
                await never.wait()
            return "moved on" if scope.cancelled_caught else "not reached"

        async with asyncio_timeout(30):  # a hang fails the test instead of stalling it
            assert await AsyncShieldCancellation.run(with_asyncio_timeout) == "timed out"
            assert await AsyncShieldCancellation.run(with_anyio_scope) == "moved on"

    asyncio.run(main())


async def parked_on(event: AsyncEvent) -> None:
    await wait_parked(event, 1, asyncio.sleep)


def test_shield_run_survives_task_cancel() -> None:
    async def main() -> None:
        cleanup = CleanUp("asyncio")
        after: list[str] = []

        async def caller() -> None:
            await AsyncShieldCancellation.run(cleanup, 1)
            after.append("ran on")  # pragma: no cover - the cancellation is re-raised

        task = asyncio.ensure_future(caller())
        await parked_on(cleanup.release)  # the clean-up is suspended
        task.cancel()
        for _ in range(5):  # the cancellation is delivered; the clean-up keeps waiting
            await asyncio.sleep(0)
        assert not task.done() and cleanup.outcome is None
        cleanup.release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleanup.outcome == "finished"
        assert after == []

    asyncio.run(main())


def test_shield_run_cancelled_twice_and_failing() -> None:
    async def main() -> None:
        release = AsyncEvent()

        async def fails() -> None:
            await release.wait()
            raise OSError("close failed")

        task = asyncio.ensure_future(AsyncShieldCancellation.run(fails))
        await parked_on(release)
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        release.set()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        assert isinstance(info.value.__context__, OSError)  # shown, and retrieved

    asyncio.run(main())


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
def test_shield_run_under_asyncio_timeout() -> None:
    async def main() -> None:
        cleanup = CleanUp("asyncio")
        task = asyncio.current_task()
        assert task is not None

        async def release_when_expired(timeout: typing.Any) -> None:
            await parked_on(cleanup.release)
            deadline = time.monotonic() + 5.0
            while not timeout.expired():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.001)
            for _ in range(5):
                await asyncio.sleep(0)
            assert cleanup.outcome is None  # the expiry did not interrupt it
            cleanup.release.set()

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01) as timeout:
                releaser = asyncio.ensure_future(release_when_expired(timeout))
                await AsyncShieldCancellation.run(cleanup, 1)
        await releaser
        assert cleanup.outcome == "finished"
        assert task.cancelling() == 0  # asyncio.timeout took its cancellation back

    asyncio.run(main())


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TaskGroup is 3.11+")
def test_shield_run_in_a_failing_task_group() -> None:
    async def main() -> None:
        cleanup = CleanUp("asyncio")
        body = asyncio.current_task()
        assert body is not None

        async def sibling() -> None:
            await parked_on(cleanup.release)  # the body's clean-up is suspended
            raise ValueError("sibling failed")

        async def release_when_cancelled() -> None:
            deadline = time.monotonic() + 5.0
            while not body.cancelling():  # the group cancelled the body
                assert time.monotonic() < deadline
                await asyncio.sleep(0.001)
            for _ in range(5):
                await asyncio.sleep(0)
            assert cleanup.outcome is None
            cleanup.release.set()

        releaser = asyncio.ensure_future(release_when_cancelled())
        with pytest.raises(BaseException) as info:
            async with asyncio.TaskGroup() as group:
                group.create_task(sibling())
                await AsyncShieldCancellation.run(cleanup, 1)
        await releaser
        # The group saw its cancellation come back and reports the sibling's error.
        assert type(info.value).__name__ == "ExceptionGroup"
        assert [type(exc) for exc in info.value.exceptions] == [ValueError]  # type: ignore[attr-defined]
        assert cleanup.outcome == "finished"
        assert body.cancelling() == 0

    asyncio.run(main())


@pytest.mark.parametrize("library", ["asyncio", "trio"])
def test_shield_run_under_anyio_cancel_scope(library: str) -> None:
    async def main() -> None:
        cleanup = CleanUp(library)
        after: list[str] = []

        async def cancel_then_release(scope: anyio.CancelScope) -> None:
            await cleanup.started.wait()
            scope.cancel()
            for _ in range(5):  # anyio retries delivery every loop iteration
                await anyio.sleep(0)
            assert cleanup.outcome is None
            cleanup.release.set()

        async with anyio.create_task_group() as group:
            with anyio.CancelScope() as scope:
                group.start_soon(cancel_then_release, scope)
                assert await AsyncShieldCancellation.run(cleanup, 2) == 4
                await anyio.sleep(5)  # the scope's cancellation lands here
                after.append("ran on")  # pragma: no cover
        assert scope.cancelled_caught
        assert cleanup.outcome == "finished"
        assert after == []

    anyio.run(main, backend=library)


def test_shield_run_under_trio_cancel_scope() -> None:
    async def main() -> None:
        cleanup = CleanUp("trio")
        async with trio.open_nursery() as nursery:
            with trio.CancelScope() as scope:

                async def cancel_then_release() -> None:
                    await cleanup.started.wait()
                    scope.cancel()
                    await trio.testing.wait_all_tasks_blocked()
                    assert cleanup.outcome is None
                    cleanup.release.set()

                nursery.start_soon(cancel_then_release)
                assert await AsyncShieldCancellation.run(cleanup, 3) == 6
                await trio.sleep(5)  # cancelled here
        assert scope.cancelled_caught
        assert cleanup.outcome == "finished"

    trio.run(main)

"""The one timer of the dispatcher and the device watch, on a fake clock: moments come in order,
one per key, a past moment at once, and something earlier wakes a sleeping wait."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from dispatcher.clock import FakeClock
from dispatcher.timers import Timers

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_each_key_has_one_moment_and_comes_earliest_first() -> None:
    timers: Timers[str] = Timers(FakeClock(T0))
    timers.schedule("b", at(20))
    timers.schedule("a", at(10))
    timers.schedule("c", at(30))
    timers.schedule("b", at(5))  # replaces b's 20 s
    timers.cancel("c")
    assert len(timers) == 2 and timers.next_due() == at(5)
    assert timers.take_due(at(4)) == []
    assert timers.take_due(at(60)) == [("b", at(5)), ("a", at(10))]
    assert timers.next_due() is None and len(timers) == 0


def test_equal_moments_need_no_comparable_keys() -> None:
    timers: Timers[tuple[str, object]] = Timers(FakeClock(T0))
    timers.schedule(("x", object()), at(1))
    timers.schedule(("x", object()), at(1))
    assert len(timers.take_due(at(1))) == 2


def test_the_heap_is_rebuilt_when_replaced_moments_pile_up() -> None:
    timers: Timers[str] = Timers(FakeClock(T0))
    for second in range(5000):
        timers.schedule("only", at(second))
    assert len(timers._heap) < 1100
    assert timers.take_due(at(10_000)) == [("only", at(4999))]


async def test_due_waits_on_the_clock_and_a_past_moment_comes_at_once() -> None:
    clock = FakeClock(T0)
    timers: Timers[str] = Timers(clock)
    timers.schedule("overdue", at(-5))
    assert await asyncio.wait_for(timers.due(), 1) == [("overdue", at(-5))]
    timers.schedule("later", at(30))
    waiting = asyncio.create_task(timers.due())
    await clock.advance(29)
    await settle()
    assert not waiting.done()
    await clock.advance(1)
    assert await asyncio.wait_for(waiting, 1) == [("later", at(30))]


async def test_something_earlier_wakes_the_wait() -> None:
    clock = FakeClock(T0)
    timers: Timers[str] = Timers(clock)
    timers.schedule("late", at(600))
    waiting = asyncio.create_task(timers.due())
    await settle()
    timers.schedule("soon", at(10))
    await clock.advance(10)
    assert await asyncio.wait_for(waiting, 1) == [("soon", at(10))]
    assert timers.next_due() == at(600)


async def test_an_empty_timer_waits_until_something_is_scheduled() -> None:
    clock = FakeClock(T0)
    timers: Timers[str] = Timers(clock)
    waiting = asyncio.create_task(timers.due())
    await settle()
    assert not waiting.done()
    timers.schedule("now", T0)
    assert await asyncio.wait_for(waiting, 1) == [("now", T0)]


async def test_a_cancelled_moment_never_comes() -> None:
    clock = FakeClock(T0)
    timers: Timers[str] = Timers(clock)
    timers.schedule("gone", at(5))
    timers.schedule("kept", at(8))
    waiting = asyncio.create_task(timers.due())
    await settle()
    timers.cancel("gone")
    await clock.advance(5)
    await settle()
    assert not waiting.done()
    await clock.advance(3)
    assert await asyncio.wait_for(waiting, 1) == [("kept", at(8))]

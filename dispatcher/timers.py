"""One timer for the loops that wait for moments: escalation deadlines in the dispatcher,
supervision checks and visit deadlines in the device watch.

Each key has at most one moment: scheduling it again replaces the earlier one, cancelling
forgets it. `due()` sleeps on the injected clock until the earliest moment has come (a moment
already past comes at once) and hands back everything due by then, earliest first; scheduling
something earlier than what it sleeps for wakes it at once. Moments wait in a heap; replaced
and cancelled entries are skipped when they come up, and the heap is rebuilt when they are most
of it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime
from typing import Any, Generic, TypeVar

from dispatcher.clock import Clock

K = TypeVar("K")
SPARE = 1000  # skipped entries the heap may hold before it is rebuilt


class Timers(Generic[K]):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._moments: dict[K, datetime] = {}  # the one moment of each key
        self._heap: list[tuple[datetime, int, K]] = []  # the order number keeps keys out of comparisons
        self._order = itertools.count()
        self._woken = asyncio.Event()

    def schedule(self, key: K, at: datetime) -> None:
        if self._moments.get(key) == at:
            return
        earliest = self.next_due()
        self._moments[key] = at
        heapq.heappush(self._heap, (at, next(self._order), key))
        if len(self._heap) > 2 * len(self._moments) + SPARE:
            self._heap = [(moment, next(self._order), k) for k, moment in self._moments.items()]
            heapq.heapify(self._heap)
        if earliest is None or at < earliest:
            self._woken.set()

    def cancel(self, key: K) -> None:
        self._moments.pop(key, None)

    def moment(self, key: K) -> datetime | None:
        return self._moments.get(key)

    def __len__(self) -> int:
        return len(self._moments)

    def next_due(self) -> datetime | None:
        """The earliest moment scheduled, if any."""
        while self._heap:
            at, _, key = self._heap[0]
            if self._moments.get(key) == at:
                return at
            heapq.heappop(self._heap)  # replaced or cancelled
        return None

    def take_due(self, now: datetime) -> list[tuple[K, datetime]]:
        """Everything due by `now`, earliest first, forgotten as it is taken."""
        taken = []
        while (at := self.next_due()) is not None and at <= now:
            _, _, key = heapq.heappop(self._heap)
            del self._moments[key]
            taken.append((key, at))
        return taken

    async def due(self) -> list[tuple[K, datetime]]:
        """Wait until something is due; then all that is due, earliest first."""
        while True:
            self._woken.clear()
            taken = self.take_due(self._clock.now())
            if taken:
                return taken
            await self._sleep()

    async def _sleep(self) -> None:
        """Until the earliest moment, or until something earlier is scheduled."""
        earliest = self.next_due()
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(self._woken.wait())]
        if earliest is not None:
            waiters.append(asyncio.create_task(self._clock.sleep_until(earliest)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

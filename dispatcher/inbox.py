"""Work waiting for a consumer: lanes by priority, each first in, first out.

The MQTT receive loop only puts here (never awaits), and one consumer takes everything waiting,
the most urgent lane first, in batches. Nothing is ever dropped from a lane: alarms, cancels and
answers are few and must all be handled. (Device facts have a queue of their own that may
coalesce heartbeats: `dispatcher.facts`.)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, lanes: int) -> None:
        self._lanes: list[deque[tuple[float, T]]] = [deque() for _ in range(lanes)]
        self._ready = asyncio.Event()

    def put(self, item: T, lane: int) -> None:
        self._lanes[lane].append((time.monotonic(), item))
        self._ready.set()

    def put_back(self, items: Iterable[tuple[float, T, int]]) -> None:
        """Items taken but not handled, back at the front of their lanes in their order."""
        for enqueued, item, lane in reversed(list(items)):
            self._lanes[lane].appendleft((enqueued, item))
        self._ready.set()

    async def take(self, limit: int) -> list[tuple[float, T, int]]:
        """Everything waiting, up to `limit`, most urgent lane first: (enqueued at, item, lane)."""
        while not any(self._lanes):
            self._ready.clear()
            await self._ready.wait()
        taken: list[tuple[float, T, int]] = []
        for index, lane in enumerate(self._lanes):
            while lane and len(taken) < limit:
                enqueued, item = lane.popleft()
                taken.append((enqueued, item, index))
        return taken

    def depths(self) -> list[int]:
        return [len(lane) for lane in self._lanes]

    def lag(self) -> float:
        """Seconds the oldest waiting item has waited (0 when empty)."""
        oldest = min((lane[0][0] for lane in self._lanes if lane), default=None)
        return 0.0 if oldest is None else max(0.0, time.monotonic() - oldest)

"""Device facts waiting for supervision, off the alarm path.

Ten thousand devices heartbeating once a minute are many small facts; none of them may hold up
an alarm. They wait here for the device watch. While a device's heartbeat (or position) still
waits, a newer one replaces it: the latest counts, with the time it arrived, and the older one
is counted as coalesced. Everything else keeps its place. The queue is bounded: past `limit`
waiting facts, new heartbeats, positions and statuses are dropped and counted (supervision then
sees the device as silent, which is the safe side); check-ins and presses never are.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime

import structlog

from devices.protocol import DeviceMessage

log = structlog.get_logger("code4.devices")

COALESCED = frozenset({"heartbeat", "position"})
DROPPABLE = COALESCED | {"status"}


class _Entry:
    __slots__ = ("at", "message")

    def __init__(self, message: DeviceMessage, at: datetime) -> None:
        self.message, self.at = message, at


class FactQueue:
    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._entries: deque[_Entry] = deque()
        self._waiting: dict[tuple[str, str], _Entry] = {}  # coalescable facts still in the queue
        self._ready = asyncio.Event()
        self.coalesced = 0
        self.dropped = 0

    def put(self, message: DeviceMessage, at: datetime) -> None:
        key = (message.device_id, message.kind)
        if message.kind in COALESCED and (waiting := self._waiting.get(key)) is not None:
            waiting.message, waiting.at = message, at
            self.coalesced += 1
            return
        if len(self._entries) >= self._limit and message.kind in DROPPABLE:
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                log.warning("device facts queue full: heartbeats, positions and statuses dropped", limit=self._limit,
                            dropped=self.dropped)
            return
        entry = _Entry(message, at)
        self._entries.append(entry)
        if message.kind in COALESCED:
            self._waiting[key] = entry
        self._ready.set()

    async def take(self, limit: int) -> list[tuple[DeviceMessage, datetime]]:
        while not self._entries:
            self._ready.clear()
            await self._ready.wait()
        taken: list[tuple[DeviceMessage, datetime]] = []
        while self._entries and len(taken) < limit:
            entry = self._entries.popleft()
            if entry.message.kind in COALESCED:
                self._waiting.pop((entry.message.device_id, entry.message.kind), None)
            taken.append((entry.message, entry.at))
        return taken

    def __len__(self) -> int:
        return len(self._entries)

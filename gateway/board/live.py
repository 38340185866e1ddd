"""Alarm changes, live, for pages that show them (the one-tap responder page, the board).

The dispatcher calls `publish` after each stored decision; each open page holds a small
queue. A slow page loses old updates, never the latest: every update is the whole state.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from dispatcher.core import AlarmState

QUEUE_SIZE = 16
KEEPALIVE_S = 15  # a comment line this often keeps proxies from closing a quiet event stream
KEEPALIVE = ": keepalive\n\n"


class LiveFeed:
    def __init__(self) -> None:
        self._subscribers: defaultdict[str | None, set[asyncio.Queue[AlarmState | None]]] = defaultdict(set)
        self.closed = False

    def close(self) -> None:
        """At shutdown: every subscriber receives None and ends its stream, so the HTTP server
        need not wait for open pages to go away."""
        self.closed = True
        for queues in self._subscribers.values():
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(None)

    def publish(self, state: AlarmState) -> None:
        for queue in self._subscribers.get(state.uid, set()) | self._subscribers.get(None, set()):
            if queue.full():
                queue.get_nowait()  # drop the oldest: the newest state says everything
            queue.put_nowait(state)

    @contextmanager
    def subscribe(self, uid: str | None = None) -> Iterator[asyncio.Queue[AlarmState | None]]:
        """Changes of one alarm, or of every alarm with `uid=None`; None means: stop."""
        queue: asyncio.Queue[AlarmState | None] = asyncio.Queue(QUEUE_SIZE)
        if self.closed:
            queue.put_nowait(None)
        self._subscribers[uid].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[uid].discard(queue)
            if not self._subscribers[uid]:
                del self._subscribers[uid]


async def changes_or_keepalives(changes: asyncio.Queue[AlarmState | None]) -> AsyncIterator[AlarmState | None]:
    """For an event stream: each change as it comes, None after KEEPALIVE_S without one (send
    KEEPALIVE then); ends when the feed closes at shutdown."""
    while True:
        try:
            state = await asyncio.wait_for(changes.get(), KEEPALIVE_S)
        except TimeoutError:
            yield None
            continue
        if state is None:
            return
        yield state

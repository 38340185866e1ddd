"""Rows the alarm path asks about without waiting for the database: a copy in memory, read
again every few seconds (another instance may have changed them), with old rows deleted now and
then. A database that is away keeps the last copy, and the log says so.

The approach agreements for known visitors and the presence sign-ins are kept this way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import structlog

from dispatcher.logs import error_line

T = TypeVar("T")

REFRESH_EVERY_S = 5.0  # how often the rows are read again
HOUSEKEEPING_EVERY_S = 3600.0


class Mirror(Generic[T]):
    def __init__(self, *, what: str, load: Callable[[datetime], Sequence[T]],
                 housekeeping: Callable[[datetime], int] | None, now: Callable[[], datetime],
                 log: structlog.typing.FilteringBoundLogger) -> None:
        self._what = what  # what the rows are, for the log ("approach agreements")
        self._load = load  # the rows that hold at a time (blocking: run in a thread)
        self._housekeeping = housekeeping  # deletes the rows that no longer hold; how many
        self._now = now
        self._log = log
        self._current: tuple[T, ...] = ()
        self.loaded_at: datetime | None = None

    def current(self) -> tuple[T, ...]:
        return self._current

    def replace(self, rows: Iterable[T]) -> None:
        self._current = tuple(rows)

    async def refresh(self) -> None:
        now = self._now()
        self.replace(await asyncio.to_thread(self._load, now))
        self.loaded_at = now

    async def first_read(self) -> None:
        """The read at start-up: a database that is away holds up nothing, `run` reads again soon."""
        try:
            await self.refresh()
        except Exception as exc:
            self._log.error(f"{self._what} not read at start-up", error=error_line(exc))

    async def run(self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """Read the rows every few seconds; delete old ones now and then."""
        since_housekeeping = HOUSEKEEPING_EVERY_S
        while True:
            try:
                await self.refresh()
            except Exception as exc:
                self._log.warning(f"{self._what} not read; keeping the last copy", error=error_line(exc),
                                  rows=len(self._current))
            if self._housekeeping is not None and since_housekeeping >= HOUSEKEEPING_EVERY_S:
                since_housekeeping = 0.0
                try:
                    deleted = await asyncio.to_thread(self._housekeeping, self._now())
                    if deleted:
                        self._log.info(f"old {self._what} deleted", deleted=deleted)
                except Exception as exc:
                    self._log.warning(f"old {self._what} not deleted yet", error=error_line(exc))
            await sleep(REFRESH_EVERY_S)
            since_housekeeping += REFRESH_EVERY_S

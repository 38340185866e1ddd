"""The current month against the response-time targets, for the board's warning. The board asks
often; the figures come from one query bounded by the month's start and are kept for a minute
(on the injected clock), so a refresh never scans the records."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatcher.clock import Clock
from dispatcher.incidents.reports import Row
from dispatcher.incidents.targets import ALL_SITES, Line, Share, measure, month_of
from escalation.directory import Directory
from escalation.targets import ResponseTarget

KEEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Current:
    month: str  # YYYY-MM in the organisation's time zone
    since: datetime  # the month's first moment
    computed_at: datetime
    targets: tuple[ResponseTarget, ...]
    overall: Line  # every site
    sites: tuple[Line, ...]

    @property
    def below(self) -> list[Line]:
        """The lines (every site first) where a target with alarms counted is not met."""
        return [line for line in (self.overall, *self.sites) if line.below]


def month_start(moment: datetime, directory: Directory) -> datetime:
    local = moment.astimezone(directory.org.tz)
    return datetime(local.year, local.month, 1, tzinfo=directory.org.tz)


class TargetWatch:
    def __init__(self, rows_since: Callable[[datetime], list[Row]], *, clock: Clock,
                 directory: Callable[[], Directory]) -> None:
        self._rows_since = rows_since
        self._clock = clock
        self._directory = directory
        self._lock = threading.Lock()
        self._kept: tuple[tuple[object, ...], Current] | None = None

    def current(self) -> Current:
        now = self._clock.now()
        directory = self._directory()
        org = directory.org
        targets = tuple(org.response_targets)
        key = (month_of(now, org.tz), org.timezone, targets)
        with self._lock:
            kept = self._kept
            if kept and kept[0] == key and now - kept[1].computed_at < KEEP and now >= kept[1].computed_at:
                return kept[1]
        since = month_start(now, directory)
        table = measure(self._rows_since(since), targets, tz=org.tz, now=now)
        lines = table.month(key[0])
        empty = Line(key[0], ALL_SITES, tuple(Share(t) for t in targets))
        overall = next((line for line in lines if line.site is ALL_SITES), empty)
        sites = tuple(line for line in lines if line.site is not ALL_SITES)
        current = Current(key[0], since, now, targets, overall, sites)
        with self._lock:
            self._kept = (key, current)
        return current


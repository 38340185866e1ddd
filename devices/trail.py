"""The trail of a field worker's device: where it reported itself in the last minutes, for the
map of a field alarm (gateway/board/fieldmap.py).

Kept in memory only and bounded twice (a time window and a number of points), so a device that
reports every second costs the same as one that reports every minute, and nothing of where
people walked outlives the minutes an operator needs. A restart forgets the trail; the alarm's
own position is stored with the alarm.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
MAX_POINTS = 100


@dataclass(frozen=True)
class TrailPoint:
    at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None


class Trail:
    """The last `MAX_POINTS` positions of one device within `WINDOW`, oldest first."""

    def __init__(self, *, window: timedelta = WINDOW, max_points: int = MAX_POINTS) -> None:
        self.window = window
        self._points: deque[TrailPoint] = deque(maxlen=max_points)

    def add(self, point: TrailPoint) -> None:
        if self._points and point.at < self._points[-1].at:
            return  # a late, out-of-order report: the trail runs forward in time
        self._points.append(point)
        self._forget_before(point.at - self.window)

    def points(self, now: datetime) -> list[TrailPoint]:
        self._forget_before(now - self.window)
        return list(self._points)

    def _forget_before(self, since: datetime) -> None:
        while self._points and self._points[0].at < since:
            self._points.popleft()

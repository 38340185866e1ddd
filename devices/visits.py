"""Lone-worker timed visits, as pure rules.

`checkin start` with `expect_within_s` opens a visit; `ok` extends it by the same time (or a
new `expect_within_s`); `end` closes it. When the time runs out the device first gets a
pre-alert and `grace` seconds to answer; after that code4 raises a `checkin_missed` alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class VisitStatus(StrEnum):
    OPEN = "open"
    PRE_ALERTED = "pre_alerted"
    ENDED = "ended"
    MISSED = "missed"


@dataclass(frozen=True)
class Visit:
    device_id: str
    interval_s: int
    opened_at: datetime
    deadline_at: datetime
    status: VisitStatus = VisitStatus.OPEN
    note: str | None = None
    pre_alerted_at: datetime | None = None
    closed_at: datetime | None = None
    id: int | None = None

    @property
    def running(self) -> bool:
        return self.status in (VisitStatus.OPEN, VisitStatus.PRE_ALERTED)


class VisitError(ValueError):
    pass


def start(device_id: str, expect_within_s: int | None, note: str | None, now: datetime) -> Visit:
    if not expect_within_s:
        raise VisitError("checkin start needs expect_within_s")
    return Visit(device_id, expect_within_s, now, now + timedelta(seconds=expect_within_s), note=note)


def check_in(visit: Visit, expect_within_s: int | None, now: datetime) -> Visit:
    """An `ok`: the worker is fine; the clock starts again (also after a pre-alert)."""
    if not visit.running:
        raise VisitError("no visit running")
    interval = expect_within_s or visit.interval_s
    return replace(visit, interval_s=interval, deadline_at=now + timedelta(seconds=interval),
                   status=VisitStatus.OPEN, pre_alerted_at=None)


def end(visit: Visit, now: datetime) -> Visit:
    if not visit.running:
        raise VisitError("no visit running")
    return replace(visit, status=VisitStatus.ENDED, closed_at=now)


def due(visit: Visit, grace_s: int) -> datetime | None:
    if visit.status is VisitStatus.OPEN:
        return visit.deadline_at
    if visit.status is VisitStatus.PRE_ALERTED and visit.pre_alerted_at is not None:
        return visit.pre_alerted_at + timedelta(seconds=grace_s)
    return None


def tick(visit: Visit, grace_s: int, now: datetime) -> tuple[Visit, str | None]:
    """What time does to a visit: (visit, "pre_alert" | "missed" | None)."""
    moment = due(visit, grace_s)
    if moment is None or now < moment:
        return visit, None
    if visit.status is VisitStatus.OPEN:
        return replace(visit, status=VisitStatus.PRE_ALERTED, pre_alerted_at=now), "pre_alert"
    return replace(visit, status=VisitStatus.MISSED, closed_at=now), "missed"

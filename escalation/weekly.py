"""Weekly schedules: the `when` of duty rules and agreements.

A schedule is a set of minutes of the week in the organisation's local time
(Europe/Amsterdam by default). Written as one or more parts separated by ";":

    mon-fri 08:00-17:30
    ma-vr 08:00-17:30; do 17:30-20:00
    sat,sun                      (whole days)
    22:00-06:00                  (every night; an end before the start runs past midnight)

Day names are English (mon…sun) or Dutch (ma, di, wo, do, vr, za, zo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

DAY_NAMES = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6,
}
DUTCH_DAY = ("ma", "di", "wo", "do", "vr", "za", "zo")
ENGLISH_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAY_RANGE = re.compile(r"^([a-z]+)(?:-([a-z]+))?$")


class ScheduleError(ValueError):
    """A `when` expression that cannot be read; the message says which part and why."""


@dataclass(frozen=True)
class WeeklySchedule:
    """Half-open minute intervals [start, end) within one week, Monday 00:00 = 0."""

    text: str
    intervals: tuple[tuple[int, int], ...]

    @classmethod
    def always(cls) -> WeeklySchedule:
        return cls("always", ((0, MINUTES_PER_WEEK),))

    @classmethod
    def parse(cls, text: str) -> WeeklySchedule:
        parts = [p.strip() for p in text.split(";")]
        if not text.strip() or any(not p for p in parts):
            raise ScheduleError(f"empty schedule part in {text!r}")
        intervals: list[tuple[int, int]] = []
        for part in parts:
            intervals.extend(_parse_part(part.lower()))
        return cls(text.strip(), _merge(intervals))

    def contains_minute(self, minute_of_week: int) -> bool:
        return any(start <= minute_of_week < end for start, end in self.intervals)

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        return self.contains_minute(minute_of_week(moment, tz))

    def boundaries(self) -> set[int]:
        """Minutes of the week where this schedule switches on or off."""
        return {m % MINUTES_PER_WEEK for interval in self.intervals for m in interval}


def minute_of_week(moment: datetime, tz: ZoneInfo) -> int:
    if moment.tzinfo is None:
        raise ValueError("minute_of_week needs a timezone-aware datetime")
    local = moment.astimezone(tz)
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def describe_minute(minute: int, *, dutch: bool = True) -> str:
    """'ma 17:30' for minute 1050; the end of the week reads as 'zo 24:00'."""
    if minute == MINUTES_PER_WEEK:
        return f"{(DUTCH_DAY if dutch else ENGLISH_DAY)[6]} 24:00"
    day, rest = divmod(minute, MINUTES_PER_DAY)
    return f"{(DUTCH_DAY if dutch else ENGLISH_DAY)[day]} {rest // 60:02d}:{rest % 60:02d}"


def _parse_part(part: str) -> list[tuple[int, int]]:
    tokens = part.split()
    if len(tokens) > 2:
        raise ScheduleError(f"{part!r}: expected 'days hh:mm-hh:mm', for example 'mon-fri 08:00-17:30'")
    days: list[int] | None = None
    times: tuple[int, int] | None = None
    for token in tokens:
        if _TIME_RANGE.match(token):
            if times is not None:
                raise ScheduleError(f"{part!r}: two time ranges in one part; separate parts with ';'")
            times = _parse_times(token)
        else:
            if days is not None:
                raise ScheduleError(f"{part!r}: two day lists in one part; separate parts with ';'")
            days = _parse_days(token)
    if days is None:
        days = list(range(7))
    start, end = times if times is not None else (0, MINUTES_PER_DAY)
    intervals = []
    for day in days:
        base = day * MINUTES_PER_DAY
        if end > start:
            intervals.append((base + start, base + end))
        else:  # runs past midnight into the next day; Sunday night wraps to Monday morning
            intervals.append((base + start, base + MINUTES_PER_DAY))
            next_day = ((day + 1) % 7) * MINUTES_PER_DAY
            if end:
                intervals.append((next_day, next_day + end))
    return intervals


def _parse_days(token: str) -> list[int]:
    days: list[int] = []
    for item in token.split(","):
        match = _DAY_RANGE.match(item)
        if not match or match.group(1) not in DAY_NAMES or (
            match.group(2) and match.group(2) not in DAY_NAMES
        ):
            raise ScheduleError(
                f"{item!r} is not a day or day range; use mon…sun or ma…zo, e.g. 'mon-fri'"
            )
        first = DAY_NAMES[match.group(1)]
        last = DAY_NAMES[match.group(2)] if match.group(2) else first
        day = first
        days.append(day)
        while day != last:  # 'sat-mon' wraps over the weekend
            day = (day + 1) % 7
            days.append(day)
    return days


def _parse_times(token: str) -> tuple[int, int]:
    match = _TIME_RANGE.match(token)
    assert match is not None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    for hour, minute in ((h1, m1), (h2, m2)):
        if minute > 59 or hour > 24 or (hour == 24 and minute):
            raise ScheduleError(f"{token!r}: {hour:02d}:{minute:02d} is not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == MINUTES_PER_DAY:
        raise ScheduleError(f"{token!r}: a range cannot start at 24:00")
    if start == end:
        raise ScheduleError(f"{token!r}: start and end are the same; leave out the time for a whole day")
    return start, end


def _merge(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration_seconds(value: object) -> int:
    """'20s', '2m', '1m30s', '1h', '30d' or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like '20s', '2m', '1m30s'")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    elif isinstance(value, str) and (match := _DURATION.match(value.strip())) and value.strip():
        days, hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = days * 86400 + hours * 3600 + minutes * 60 + secs
    else:
        raise ValueError(f"{value!r} is not a duration; write it like '20s', '2m' or '1m30s'")
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero seconds")
    return seconds

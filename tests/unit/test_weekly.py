from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from escalation.weekly import ScheduleError, WeeklySchedule, parse_duration_seconds

AMS = ZoneInfo("Europe/Amsterdam")


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=AMS)


def test_office_hours_on_weekdays() -> None:
    office = WeeklySchedule.parse("mon-fri 08:00-17:30")
    assert office.contains(local(2026, 11, 23, 8, 0), AMS)  # Monday
    assert office.contains(local(2026, 11, 27, 17, 29), AMS)  # Friday
    assert not office.contains(local(2026, 11, 27, 17, 30), AMS), "the end is exclusive"
    assert not office.contains(local(2026, 11, 28, 10, 0), AMS)  # Saturday


def test_local_time_holds_across_daylight_saving() -> None:
    office = WeeklySchedule.parse("mon-fri 08:00-17:30")
    summer = datetime(2026, 7, 6, 6, 15, tzinfo=UTC)  # 08:15 CEST, a Monday
    winter = datetime(2026, 1, 5, 6, 15, tzinfo=UTC)  # 07:15 CET
    assert office.contains(summer, AMS)
    assert not office.contains(winter, AMS)


def test_dutch_day_names_and_several_parts() -> None:
    schedule = WeeklySchedule.parse("ma-vr 08:00-17:30; do 17:30-20:00")
    assert schedule.contains(local(2026, 11, 26, 19, 0), AMS)  # Thursday evening
    assert not schedule.contains(local(2026, 11, 25, 19, 0), AMS)  # Wednesday evening


def test_a_night_range_runs_past_midnight_and_sunday_wraps_to_monday() -> None:
    nights = WeeklySchedule.parse("fri,sun 22:00-06:00")
    assert nights.contains(local(2026, 11, 28, 5, 59), AMS)  # Saturday morning
    assert nights.contains(local(2026, 11, 30, 3, 0), AMS)  # Monday morning, from Sunday night
    assert not nights.contains(local(2026, 11, 29, 3, 0), AMS)  # Sunday morning


def test_whole_days_and_day_ranges_over_the_weekend() -> None:
    weekend = WeeklySchedule.parse("sat-sun")
    assert weekend.contains(local(2026, 11, 29, 23, 59), AMS)
    assert not weekend.contains(local(2026, 11, 30, 0, 0), AMS)
    assert WeeklySchedule.parse("fri-mon").contains(local(2026, 11, 30, 12), AMS)


@pytest.mark.parametrize(("text", "message"), [
    ("mon-fry 08:00-17:00", "'mon-fry' is not a day"),
    ("mon 25:00-26:00", "not a time of day"),
    ("mon 08:00-08:00", "start and end are the same"),
    ("mon 08:00-12:00 13:00-17:00", "expected 'days hh:mm-hh:mm'"),
    ("mon 08:00-12:00; ", "empty schedule part"),
])
def test_unreadable_schedules_say_why(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        WeeklySchedule.parse(text)


@pytest.mark.parametrize(("text", "seconds"), [
    ("20s", 20), ("2m", 120), ("1m30s", 90), ("1h", 3600), (45, 45), ("60", 60),
])
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "20 sec", "-5", True, 1.5])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_seconds(text)

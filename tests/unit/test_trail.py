"""The trail of a field worker's device stays short: the last minutes, a bounded number of points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devices.trail import MAX_POINTS, WINDOW, Trail, TrailPoint

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def point(seconds: float, lat: float = 52.497) -> TrailPoint:
    return TrailPoint(T0 + timedelta(seconds=seconds), lat, 4.812)


def test_the_trail_forgets_what_is_older_than_its_window() -> None:
    trail = Trail()
    for minute in range(30):
        trail.add(point(minute * 60, lat=52.0 + minute / 1000))
    now = T0 + timedelta(minutes=29)
    kept = trail.points(now)
    assert kept[0].at == now - WINDOW and kept[-1].at == now
    assert len(kept) == 16  # minutes 14 … 29
    # Nothing new arrives, time passes: the trail empties by itself.
    assert trail.points(now + WINDOW + timedelta(seconds=1)) == []


def test_a_device_reporting_every_second_keeps_only_the_last_points() -> None:
    trail = Trail()
    for second in range(1000):
        trail.add(point(second, lat=50 + second / 10_000))
    kept = trail.points(T0 + timedelta(seconds=999))
    assert len(kept) == MAX_POINTS
    assert kept[-1].lat == 50 + 999 / 10_000 and kept[0].lat == 50 + 900 / 10_000


def test_a_late_report_does_not_turn_the_trail_back() -> None:
    trail = Trail()
    trail.add(point(60))
    trail.add(point(30, lat=1.0))
    assert [p.lat for p in trail.points(T0 + timedelta(seconds=60))] == [52.497]

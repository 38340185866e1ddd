"""When a wall display dims: by the organisation's clock, a span past midnight wrapping."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway.wall.views import is_night, parse_night

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_night_spans_are_read_and_checked() -> None:
    assert parse_night(None) == (time(22), time(7))
    assert parse_night("22-7") == (time(22), time(7))
    assert parse_night("21:30-06:45") == (time(21, 30), time(6, 45))
    assert parse_night("off") is None and parse_night("") is None
    for wrong in ("24-7", "22:60-7", "22", "22-7-8", "ten-seven"):
        with pytest.raises(ValueError, match="HH:MM-HH:MM or off"):
            parse_night(wrong)


@pytest.mark.parametrize(("utc", "night"), [
    (datetime(2026, 11, 30, 20, 59, tzinfo=UTC), False),  # 21:59 in Amsterdam (winter: UTC+1)
    (datetime(2026, 11, 30, 21, 0, tzinfo=UTC), True),    # 22:00
    (datetime(2026, 12, 1, 5, 59, tzinfo=UTC), True),     # 06:59
    (datetime(2026, 12, 1, 6, 0, tzinfo=UTC), False),     # 07:00
    (datetime(2026, 7, 1, 20, 30, tzinfo=UTC), True),     # 22:30 in summer (UTC+2)
])
def test_a_wall_dims_by_the_organisations_clock(utc: datetime, night: bool) -> None:
    assert is_night(utc, parse_night("22:00-07:00"), AMSTERDAM) is night


def test_a_span_within_a_day_and_no_night_at_all() -> None:
    noon = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam
    assert is_night(noon, parse_night("11-13"), AMSTERDAM)
    assert not is_night(noon, parse_night("13-14"), AMSTERDAM)
    assert not is_night(noon, None, AMSTERDAM)

"""Times people read are the organisation's local time (Europe/Amsterdam), not UTC: at 23:30
UTC on a Monday it is already Tuesday 00:30 in Amsterdam."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatcher.clock import FakeClock
from tests.integration.harness import Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 23, 30, 5, tzinfo=UTC))


async def test_the_alarm_detail_page_shows_local_time(code4: Harness) -> None:
    assert code4.token is not None
    code4.button("knop-balie-1").press()
    alarm = await code4.alarm_when(lambda a: a["where"]["location"] == "Balie 1")
    assert alarm["raised_at"] == "2026-11-23T23:30:05Z", "the API stays in UTC"
    page = (await code4.call(code4.token, f"/board/alarms/{alarm['uid']}")).text
    assert '<time datetime="2026-11-23T23:30:05+00:00" id="raised-at">24-11-2026 00:30:05</time>' in page
    assert "00:30:05</time>" in page.split('id="timeline"')[1]
    assert "23:30" not in page.replace("2026-11-23T23:30:05+00:00", "")
    board = (await code4.call(code4.token, "/board")).text
    assert '"tz": "Europe/Amsterdam"' in board

"""The example site that `make run` starts: help is reached at every hour of the week, including
nights, weekends and the nights the clocks change, and its out-of-hours chain ends at the police
on the (simulated) phone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.integration.harness import Harness

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "wormerland.yaml"
POLICE = "+31880000000"
INGRID = "+31612000013"

MOMENTS = {
    "monday 11:00": (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "publiekshal-kantooruren", "bhv"),
    "thursday 19:00": (datetime(2026, 11, 26, 18, 0, tzinfo=UTC), "publiekshal-kantooruren", "bhv"),
    "sunday 23:00": (datetime(2026, 11, 29, 22, 0, tzinfo=UTC), "buiten-openingstijden", "piket"),
    "monday 03:00": (datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "buiten-openingstijden", "piket"),
    "clocks forward, 03:30 CEST": (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), "buiten-openingstijden", "piket"),
    "clocks back, first 02:30": (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "buiten-openingstijden", "piket"),
    "clocks back, second 02:30": (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "buiten-openingstijden", "piket"),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("moment", list(MOMENTS))
async def test_the_demo_pager_is_reached_first_at_any_hour(
    moment: str, mosquitto: Mosquitto, database_url: str, tmp_path: Path
) -> None:
    start, agreement, step = MOMENTS[moment]
    code4 = Harness(mosquitto=mosquitto, database_url=database_url, clock=FakeClock(start), tmp_path=tmp_path,
                    config=EXAMPLE, twilio=True)
    await code4.start()
    try:
        jan = code4.pager("pager-07")
        button = code4.button("knop-balie-1")
        button.press()
        page = await code4.wait(jan.page)
        [alarm] = await code4.alarms()
        assert (alarm["agreement"], alarm["step"]["id"]) == (agreement, step)
        assert page["location"].startswith("Balie 1")
        # Jan is BHV on duty until 17:30; on Thursday evening he is paged as a colleague alongside.
        assert page["code"] == ("" if moment == "thursday 19:00" else "4")
        if step != "piket":
            return
        # Out of hours nobody else is in the building: the on-call BHV-er, then the police.
        await code4.advance(60)
        assert code4.twilio is not None
        heard = await code4.twilio.wait_for(
            lambda: [said for call in code4.twilio.calls_to(POLICE) for said in call.heard])  # type: ignore[union-attr]
        assert any("Gemeente Wormerland" in said and "Balie 1" in said and "Koetserstraat 1" in said
                   and "nog niet geverifieerd" in said for said in heard), heard
    finally:
        await code4.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_presser_is_not_paged_and_the_afdelingshoofd_is_told_at_once(
    mosquitto: Mosquitto, database_url: str, tmp_path: Path
) -> None:
    # Monday 11:00: Sanne works at balie 1, so she is the one who pressed its button.
    code4 = Harness(mosquitto=mosquitto, database_url=database_url, clock=FakeClock(MOMENTS["monday 11:00"][0]),
                    tmp_path=tmp_path, config=EXAMPLE, twilio=True)
    await code4.start()
    try:
        sanne, mohamed = code4.pager("pager-11"), code4.pager("pager-12")
        code4.button("knop-balie-1").press()
        await code4.wait(mohamed.page)  # her colleague alongside the BHV
        assert code4.twilio is not None
        told = await code4.twilio.message_to(INGRID, "Ter informatie")
        assert "afdelingshoofd" in told.body and "Sanne de Jong" in told.body and "/r/" in told.body
        await code4.settled()
        assert sanne.pages() == [], "a pager going off at the counter could give the silent alarm away"
        [alarm] = await code4.alarms()
        record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
        assert [e["data"]["recipient"] for e in record["timeline"] if e["kind"] == "informed"] == ["Ingrid Kok"]
    finally:
        await code4.close()

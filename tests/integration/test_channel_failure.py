"""When a channel cannot deliver, the person's next channel is used and the control room is
told; with no channel left the step counts them unreachable, and the alarm is never stuck."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.integration.harness import Harness

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "wormerland.yaml"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_channels_that_fail_move_on_and_end_visibly_unanswered(
    mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    code4 = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path, config=EXAMPLE)
    await code4.start()
    try:
        # Spreekkamer B (nobody rostered there on Mondays): the BHV, and alongside them the
        # colleagues by pager, app or sms. Sam Taylor has no pager: his app route fails (not
        # configured here), then his sms route, and the alarm goes on without him.
        eva = code4.pager("pager-13")
        button = code4.button("knop-spreekkamer-b")
        button.press()
        await code4.wait(eva.page)
        await code4.settled()
        [alarm] = await code4.alarms()
        record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
        failures = [(e["channel"], e["data"].get("next")) for e in record["timeline"]
                    if e["kind"] in ("channel_failed", "unreachable") and e["data"]["recipient"] == "Sam Taylor"]
        assert failures == [("app", "sms"), ("sms", None)]
        assert all(e["notice"] for e in record["timeline"] if e["kind"] in ("channel_failed", "unreachable"))
        failed = next(e for e in record["timeline"] if e["kind"] == "channel_failed")
        assert failed["text"] == "Oproep via app aan Sam Taylor mislukt (channel app is not configured on this " \
                                 "installation); verder via sms"

        # Nobody answers: after the BHV's 45 s the police by voice, which cannot be reached here either.
        assert alarm["step"]["id"] == "bhv"
        await code4.advance(45)
        alarm = await code4.alarm_when(lambda a: a["unanswered"])
        assert alarm["step"]["id"] == "politie"
        record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
        assert record["timeline"][-1]["kind"] == "unanswered"
        assert record["timeline"][-1]["text"] == "ONBEANTWOORD bij stap politie: niemand bereikbaar"
    finally:
        await code4.close()

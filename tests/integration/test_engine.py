"""The engine keeps alarms apart from everything else: a device's facts that cannot be stored,
or a fault notice whose channel hangs, hold up no alarm, and nothing is lost once the fault is
gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from escalation.notices import Notice
from escalation.plan import Route
from gateway.broker import Mosquitto
from tests.conftest import FIXTURES
from tests.integration.harness import Harness
from tests.integration.test_device_supervision import publish


@pytest.fixture
async def site(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "deviceorg.yaml")
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_device_writes_that_fail_hold_up_no_alarm_and_lose_nothing(site: Harness) -> None:
    """The device events table is gone for a while (every write to it raises): an alarm that
    arrives meanwhile is received and paged; the device's event is stored once it is back."""
    sanne = site.pager("pager-sanne")
    with psycopg.connect(site.database_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE device_events RENAME TO device_events_away")
        try:
            with capture_logs() as logs:
                publish(site, "code4/v1/dev/knop-info/status", b"offline")  # an event to store, and a fault
                for _ in range(250):
                    if any(e["event"].startswith("storing device facts failed") for e in logs):
                        break
                    await asyncio.sleep(0.02)
                else:
                    raise AssertionError("the device write never failed")
            button = site.button("knop-balie-1")
            alarm_id = button.press()
            await site.wait(button.feedback, "received", alarm_id)
            page = await site.wait(sanne.page)
            assert page["location"].startswith("Balie 1")
        finally:
            admin.execute("ALTER TABLE device_events_away RENAME TO device_events")
    events = await site.wait_events("knop-info", "offline", limit=20)  # kept, and stored on a retry
    assert [e.kind for e in events if e.kind in ("offline", "fault_raised")] == ["fault_raised", "offline"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_fault_notice_whose_channel_hangs_holds_up_no_alarm(site: Harness) -> None:
    assert site.service is not None
    hanging = asyncio.Event()

    async def hang(notice: Notice, route: Route) -> None:
        hanging.set()
        await asyncio.Event().wait()  # never answers

    pagers = site.service.dispatcher._sender._channels["pager"]  # the channel made to hang
    pagers.send_notice = hang  # type: ignore[method-assign]
    kees = site.pager("pager-kees")  # the technical contact
    with capture_logs() as logs:
        publish(site, "code4/v1/dev/knop-info/status", b"offline")  # a fault: a notice to Kees's pager
        await asyncio.wait_for(hanging.wait(), 10)

        sanne = site.pager("pager-sanne")
        button = site.button("knop-balie-1")
        alarm_id = button.press()
        await site.wait(button.feedback, "received", alarm_id)
        page = await site.wait(sanne.page)
        assert page["location"].startswith("Balie 1")
        for _ in range(500):  # the hanging attempt times out; Kees has no phone: the notice fails
            if any(e["event"] == "delivery failed" for e in logs):
                break
            await asyncio.sleep(0.02)
    [failed] = [e for e in logs if e["event"] == "delivery failed"]
    assert failed["reason"].startswith("pager: no delivery after"), "given up on, not waited for forever"
    assert kees.pages() == []

"""The engine keeps alarms apart from everything else: a device's facts that cannot be stored,
or a fault notice whose channel hangs, hold up no alarm, and nothing is lost once the fault is
gone."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from dispatcher.core import Seen, decide
from dispatcher.store.repository import AlarmWrite, Store
from escalation.notices import Notice
from escalation.plan import Route
from gateway.mqtt.broker import Mosquitto, free_port
from tests.integration.harness import Harness
from tests.integration.test_device_supervision import publish


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


async def test_a_write_based_on_an_old_state_is_decided_again_never_overwrites(code4: Harness) -> None:
    """Another writer (an operator action on another instance, say) changes an alarm behind
    this instance's back: its next decision on that alarm finds the version changed, reads the
    alarm again and decides afresh; both changes are kept."""
    assert code4.service is not None
    sanne = code4.pager("pager-sanne")
    button = code4.button("knop-balie-1")
    button.press()
    page = await code4.wait(sanne.page)
    [alarm] = await code4.alarms()

    other = Store(code4.database_url)  # the other writer, through the same rules
    state, version = other.alarm_version(alarm["uid"])  # type: ignore[misc]
    seen, effects = decide(state, Seen("operator:Karin Elders"), code4.clock.now())
    other.save_decisions([AlarmWrite(seen, effects, version)], code4.clock.now())
    other.close()

    with capture_logs() as logs:
        sanne.respond(page["page_id"], "accept")
        accepted = await code4.alarm_when(lambda a: bool(a["responders"]))
    assert any(e["event"].startswith("alarms changed since they were read") for e in logs)
    assert accepted["seen_by"] == "Karin Elders", "the other writer's change is kept"
    assert [r["name"] for r in accepted["responders"]] == ["Sanne de Jong"]
    stored, _ = code4.service.store.alarm_version(alarm["uid"])  # type: ignore[misc]
    assert stored.seen_by == "operator:Karin Elders" and stored.responders[0].name == "Sanne de Jong"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_alarms_waiting_together_are_stored_together_and_each_is_received_after(site: Harness) -> None:
    """Group commit: while one commit waits (a lock held on the incidents table), the alarms
    that arrive meanwhile are decided and stored in one transaction after it; each device hears
    `received` only once its alarm is stored."""
    assert site.service is not None
    metrics = site.service.dispatcher.metrics
    buttons = [site.button(device) for device in ("knop-balie-1", "knop-balie-2", "knop-info")]
    lock = psycopg.connect(site.database_url)
    lock.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
    try:
        first = buttons[0].press()
        with psycopg.connect(site.database_url, autocommit=True) as observer:
            for _ in range(500):  # until code4 waits for the lock with the first alarm in hand
                waiting = observer.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND "
                                           "relation = 'incidents'::regclass").fetchone()
                if waiting and waiting[0]:
                    break
                await asyncio.sleep(0.01)
        batches_before = metrics["batches"]
        later = [(button, button.press(), button.press()) for button in buttons[1:]]  # two alarms each
        inbox = site.service.dispatcher.inbox
        for _ in range(500):  # they are taken in while the first commit still waits
            if inbox.depths()[0] >= 4:
                break
            await asyncio.sleep(0.01)
        assert inbox.depths()[0] >= 4
        assert all(b.messages("feedback") == [] for b in buttons), "no received before the commit"
    finally:
        lock.rollback()
        lock.close()
    await site.wait(buttons[0].feedback, "received", first)
    for button, one, two in later:
        await site.wait(button.feedback, "received", one)
        await site.wait(button.feedback, "received", two)
    assert len(await site.alarms()) == 5
    assert metrics["batches"] - batches_before <= 2, "the four waiting alarms were stored together"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_metrics_tell_how_fast_alarms_go_and_are_for_admins(code4: Harness) -> None:
    assert code4.service is not None
    sanne = code4.pager("pager-sanne")
    button = code4.button("knop-balie-1")
    alarm_id = button.press()
    await code4.wait(button.feedback, "received", alarm_id)
    await code4.wait(sanne.page)
    admin = await code4.add_user("beheer", ["admin"])
    assert (await code4.call(code4.token or "", "/metrics")).status_code == 403, "operators get no metrics"
    scraped = await code4.call(admin, "/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(scraped.text)}

    def value(name: str, **labels: str) -> float:
        """A gauge's value, or a histogram's count, with these labels."""
        wanted = {name, f"{name}_count"}
        return next(sample.value for sample in families[name].samples
                    if sample.name in wanted and all(sample.labels.get(k) == v for k, v in labels.items()))

    assert value("code4_press_to_received_seconds") >= 1
    assert value("code4_press_to_first_page_seconds") >= 1
    assert value("code4_commit_batch_size") >= 1
    assert value("code4_open_alarms", state="notifying") == 1
    assert value("code4_queue_depth", queue="alarms") == 0
    assert "code4_protocol_errors" in families and "code4_deadline_lateness_seconds" in families
    status = await code4.api("/api/status")
    assert status["checks"] == {"database": True, "broker": True, "queue_lag_s": 0.0, "role": "leader"}
    dashboard = (Path(__file__).parents[2] / "deploy" / "grafana" / "code4-dashboard.json").read_text(encoding="utf-8")
    charted = {re.sub(r"_(bucket|total)$", "", name) for name in re.findall(r"code4_[a-z_]+", dashboard)}
    assert charted <= set(families), f"the dashboard charts what code4 does not export: {charted - set(families)}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_metrics_on_a_listener_of_their_own(mosquitto: Mosquitto, database_url: str, clock: FakeClock,
                                                  tmp_path: Path) -> None:
    port = free_port()
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      settings={"metrics_http": f"127.0.0.1:{port}"})
    await harness.start()
    try:
        async with httpx.AsyncClient() as client:
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert scraped.status_code == 200 and "code4_queue_depth" in scraped.text
    finally:
        await harness.close()
    # Stopped, it lets the port go: code4 run starts again there after stepping down (a listener
    # reusing the address, as HTTP servers do, past the scrape's closed connection).
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_alarm_id_drawn_twice_on_one_day_is_never_a_lost_alarm(code4: Harness) -> None:
    """Alarm ids are short (five letters a day): on a busy day one is drawn twice. The second
    alarm gets another id — also after a restart — instead of failing to be stored."""
    assert code4.service is not None
    draws = iter(["a-20261123-aaaaa", "a-20261123-aaaaa", "a-20261123-bbbbb", "a-20261123-aaaaa",
                  "a-20261123-bbbbb", "a-20261123-ccccc"])
    code4.service.dispatcher._new_uid = lambda _now: next(draws)
    first, second = code4.button("knop-balie-1", repeat_every=3600), code4.button("knop-balie-2", repeat_every=3600)
    await code4.wait(first.feedback, "received", first.press())
    await code4.wait(second.feedback, "received", second.press())
    await code4.stop()
    await code4.start()
    code4.service.dispatcher._new_uid = lambda _now: next(draws)
    third = code4.button("knop-info", repeat_every=3600)
    await code4.wait(third.feedback, "received", third.press())
    assert sorted(a["uid"] for a in await code4.alarms()) == [
        "a-20261123-aaaaa", "a-20261123-bbbbb", "a-20261123-ccccc"]

"""Restarts lose nothing: of code4 mid-escalation, with a deadline passing while it is down,
with alarms published while it is away, and of the broker itself."""

from __future__ import annotations

import asyncio

import paho.mqtt.client as mqtt

from tests.integration.harness import Harness


async def test_restart_mid_escalation_continues_without_paging_twice(code4: Harness) -> None:
    pagers = {n: code4.pager(f"pager-{n}") for n in ("sanne", "mohamed", "jan", "fatima", "kees", "marieke")}
    button = code4.button("knop-balie-1")
    alarm_id = button.press()
    await code4.wait(pagers["sanne"].page)
    await code4.wait(pagers["mohamed"].page)
    await code4.advance(5)

    # Stopped in the middle of the colleague step, started again: it carries on where it was.
    await code4.stop()
    await code4.start()
    [alarm] = await code4.alarms()
    assert alarm["step"]["id"] == "collega"
    await code4.advance(15)  # 20 s after the press: the colleagues' time is up
    for name in ("jan", "fatima", "kees"):
        await code4.wait(pagers[name].page, lambda p: p["code"] == "4")

    # Down again during the BHV step; its 45 s pass while nobody is watching.
    await code4.stop()
    await code4.advance(60)
    await code4.start()
    page = await code4.wait(pagers["marieke"].page)  # the overdue deadline fires at once on start
    assert "Balie 1" in page["location"]
    await code4.settled()

    assert len(pagers["sanne"].pages()) == 1 and len(pagers["mohamed"].pages()) == 1
    assert [len(pagers[n].pages()) for n in ("jan", "fatima", "kees")] == [1, 1, 1]
    record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
    steps = [e["data"]["step"] for e in record["timeline"] if e["kind"] == "step_started"]
    assert steps == ["collega", "bhv", "teamleider"], "each step started exactly once"
    assert len(button.messages("feedback")) >= 1 and button.messages("feedback")[0]["alarm_id"] == alarm_id


async def test_alarms_published_while_code4_is_down_wait_at_the_broker(code4: Harness) -> None:
    sanne = code4.pager("pager-sanne")
    await code4.stop()
    # One publish only (no repeats), so it can only arrive through the persistent session.
    button = code4.button("knop-balie-2", repeat_every=3600)
    alarm_id = button.press()
    await code4.start()
    await code4.wait(button.feedback, "received", alarm_id)
    page = await code4.wait(sanne.page)
    assert page["location"].startswith("Balie 2")


async def test_a_killed_broker_keeps_the_queued_alarm(code4: Harness) -> None:
    """autosave_on_changes: a message queued for the offline dispatcher survives kill -9."""
    sanne = code4.pager("pager-sanne")
    await code4.stop()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="raw-knop", clean_session=True)
    publisher.connect("127.0.0.1", code4.mosquitto.port)
    publisher.loop_start()
    info = publisher.publish("code4/v1/dev/knop-balie-2/alarm", b'{"alarm_id": "kill-test", "press": 1}', qos=1)
    info.wait_for_publish(5)
    publisher.loop_stop()
    publisher.disconnect()
    saved = code4.mosquitto.directory / "mosquitto.db"
    for _ in range(200):  # autosave_on_changes writes right after the change; wait until it has
        if saved.exists() and b"kill-test" in saved.read_bytes():
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("mosquitto never saved the queued alarm: is autosave_on_changes set?")

    code4.mosquitto.kill_sync()
    code4.mosquitto.start_sync()
    sanne.close()
    sanne = code4.pager("pager-sanne")
    await code4.start()
    page = await code4.wait(sanne.page, timeout=10)
    assert page["location"].startswith("Balie 2")


async def test_code4_reconnects_after_a_broker_restart(code4: Harness) -> None:
    assert code4.service is not None
    code4.mosquitto.restart_sync()
    sanne = code4.pager("pager-sanne")
    button = code4.button("knop-balie-1")
    alarm_id = button.press()  # repeats until received, also while code4 reconnects
    await code4.wait(button.feedback, "received", alarm_id, timeout=20)
    await code4.wait(sanne.page)
    assert code4.service.session.connections >= 2

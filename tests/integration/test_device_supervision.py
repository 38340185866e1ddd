"""Device supervision, lone-worker visits, drills and hardware adapters, against a real broker,
with the service's clock in the test's hand."""

from __future__ import annotations

import asyncio
import json

import paho.mqtt.client as mqtt
import pytest

from dispatcher.store.repository import Store
from tests.integration.harness import Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def publish(harness: Harness, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"raw-{len(topic)}", clean_session=True)
    client.connect("127.0.0.1", harness.mosquitto.port)
    client.loop_start()
    info = client.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


async def device(harness: Harness, device_id: str) -> dict[str, object]:
    return next(d for d in await harness.api("/api/devices") if d["id"] == device_id)


async def device_when(harness: Harness, device_id: str, predicate: object, limit: float = 10) -> dict[str, object]:
    for _ in range(int(limit / 0.05)):
        found = await device(harness, device_id)
        if predicate(found):  # type: ignore[operator]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{device_id} never became as expected: {await device(harness, device_id)}")


# ---- supervision ---------------------------------------------------------------------------------


async def test_a_silent_device_is_a_fault_within_its_interval_and_recovers(site: Harness) -> None:
    kees = site.pager("pager-kees")  # the technical contact
    button = site.button("knop-balie-1")
    button.heartbeat(battery=0.9)
    await device_when(site, "knop-balie-1", lambda d: d["battery"] == 0.9)
    await site.advance(299)
    assert (await device(site, "knop-balie-1"))["faults"] == []
    await site.advance(1)  # five minutes without a sign of life
    await device_when(site, "knop-balie-1", lambda d: d["faults"] == ["silent"])
    told = await site.wait(kees.page, lambda p: "knop-balie-1" in p["text"])
    assert told["text"] == "Storing knop-balie-1 (Balie 1, Publiekshal, Stadhuis Testdorp): geen teken van leven."
    button.heartbeat()
    await device_when(site, "knop-balie-1", lambda d: d["faults"] == [])
    restored = await site.wait(kees.page, lambda p: p["text"].startswith("Hersteld knop-balie-1"))
    assert restored["code"] == "storing"


async def test_the_last_will_makes_a_device_a_fault_at_once(site: Harness) -> None:
    button = site.button("knop-balie-1")
    await device_when(site, "knop-balie-1", lambda d: d["online"] is True)
    button.client.socket().close()  # the device dies without saying goodbye: the broker sends its will
    found = await device_when(site, "knop-balie-1", lambda d: "offline" in d["faults"])
    assert found["online"] is False


async def test_a_low_battery_and_a_missing_test_press_are_faults(site: Harness) -> None:
    button = site.button("knop-balie-2")  # supervised every 6 h, to be test-pressed every 7 days
    button.heartbeat(battery=0.12)
    await device_when(site, "knop-balie-2", lambda d: d["faults"] == ["battery_low"])
    for _ in range(7 * 24 // 5):  # a week of heartbeats every five hours, but no test press
        await site.advance(5 * 3600)
        button.heartbeat(battery=0.9)
        await site.seen_now("knop-balie-2")
    await site.advance(3 * 3600)
    await device_when(site, "knop-balie-2", lambda d: d["faults"] == ["untested"])
    button.press()
    await device_when(site, "knop-balie-2", lambda d: d["faults"] == [])


async def test_supervision_deadlines_survive_a_restart(site: Harness) -> None:
    site.button("knop-balie-1").heartbeat()
    await device_when(site, "knop-balie-1", lambda d: d["last_seen_at"] is not None)
    await site.stop()
    await site.advance(301)  # silence passes while code4 is down
    await site.start()
    await device_when(site, "knop-balie-1", lambda d: d["faults"] == ["silent"])
    assert site.service is not None
    events = await site.wait_events("knop-balie-1", "fault_raised")  # stored with the next flush
    assert next((e.kind, e.data) for e in events) == ("fault_raised", {"fault": "silent"})


async def test_a_stop_stores_what_was_last_heard(site: Harness) -> None:
    """Heartbeats are written once a second; a planned stop writes the last ones too."""
    button = site.button("knop-balie-1")
    button.heartbeat()
    await site.device_reported("knop-balie-1", lambda s: s.last_seen_at is not None)
    await site.advance(30)
    button.heartbeat()
    await site.seen_now("knop-balie-1")
    heard = site.clock.now()
    await site.stop()
    store = Store(site.database_url)
    try:
        [stored] = [s for s in store.device_statuses() if s.device_id == "knop-balie-1"]
    finally:
        store.close()
    assert stored.last_seen_at == heard


# ---- lone workers -----------------------------------------------------------------------------------


async def test_a_missed_check_in_pre_alerts_then_raises_an_alarm_with_position_and_note(site: Harness) -> None:
    sanne = site.pager("pager-sanne")
    mobile = site.button("mob-piet")
    publish(site, "code4/v1/dev/mob-piet/position", json.dumps({"lat": 52.4973, "lon": 4.8123, "accuracy_m": 12}))
    await device_when(site, "mob-piet", lambda d: d["position"] is not None)
    publish(site, "code4/v1/dev/mob-piet/checkin",
            json.dumps({"action": "start", "expect_within_s": 1800, "note": "Huisbezoek Dorpsstraat 12"}))
    await site.wait_events("mob-piet", "visit_started")
    await site.advance(1000)
    publish(site, "code4/v1/dev/mob-piet/checkin", json.dumps({"action": "ok"}))  # fine: 30 minutes more
    await site.wait_events("mob-piet", "visit_checked_in")
    await site.advance(1799)
    assert mobile.messages("feedback") == []
    await site.advance(1)
    due = await site.wait(mobile.feedback, "checkin_due")
    assert due["text"] == "Check-in gemist: druk binnen 2 min op OK, anders gaat het alarm af."
    await site.advance(120)
    page = await site.wait(sanne.page)
    assert "check-in gemist" in page["text"] and "Notitie: Huisbezoek Dorpsstraat 12." in page["text"]
    assert "positie 52.49730,4.81230 ±12 m" in page["location"]
    [alarm] = await site.alarms()
    assert (alarm["kind"], alarm["person"], alarm["position"]["lat"]) == ("checkin_missed", "Piet Jansen", 52.4973)


async def test_ending_a_visit_stops_its_clock(site: Harness) -> None:
    piet = site.button("mob-piet")
    lisa = site.button("mob-lisa")  # her visit runs on beside his: proof that the clock did tick
    for device in ("mob-piet", "mob-lisa"):
        publish(site, f"code4/v1/dev/{device}/checkin", json.dumps({"action": "start", "expect_within_s": 600}))
        await site.wait_events(device, "visit_started")
    publish(site, "code4/v1/dev/mob-piet/checkin", json.dumps({"action": "end"}))
    await site.wait_events("mob-piet", "visit_ended")
    await site.advance(600)  # both deadlines: Lisa is pre-alerted
    await site.wait(lisa.feedback, "checkin_due")
    await site.advance(120)  # and the grace: Lisa's alarm goes off
    await site.alarm_when(lambda a: a["device_id"] == "mob-lisa" and a["kind"] == "checkin_missed")
    await site.advance(3600)
    assert [a["device_id"] for a in await site.alarms()] == ["mob-lisa"], "Piet's ended visit raised nothing"
    assert piet.messages("feedback") == []


# ---- drills ------------------------------------------------------------------------------------------


async def test_a_site_in_drill_mode_runs_the_chain_and_says_drill_everywhere(site: Harness) -> None:
    sanne = site.pager("pager-sanne")
    button = site.button("knop-oefen")
    alarm_id = button.press()
    received = await site.wait(button.feedback, "received", alarm_id)
    assert received["text"] == "OEFENING: Alarm ontvangen. We zoeken hulp."
    page = await site.wait(sanne.page)
    assert page["text"].startswith("OEFENING: Assistentie: paniekalarm")
    [alarm] = await site.alarms()
    assert alarm["marked"] == "drill"
    closed = await site.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={})
    assert closed["outcome"] == "drill"
    assert site.service is not None
    record = await site.wait(site.service.desk.records.summary, alarm["incident_id"])
    assert record is not None and record.drill is True


# ---- adapters ------------------------------------------------------------------------------------------


async def test_a_zigbee2mqtt_sos_button_raises_alarms_and_reports_its_battery(site: Harness) -> None:
    sanne, kees = site.pager("pager-sanne"), site.pager("pager-kees")
    sos = {"action": "emergency", "battery": 87, "linkquality": 120, "voltage": 2900}
    publish(site, "zigbee2mqtt/SOS Balie 2", json.dumps(sos))
    page = await site.wait(sanne.page)
    assert page["location"].startswith("Balie 2")
    found = await device_when(site, "knop-balie-2", lambda d: d["battery"] == 0.87)
    assert found["online"] is True
    publish(site, "zigbee2mqtt/SOS Balie 2", json.dumps({**sos, "action": "emergency"}))  # pressed again
    escalated = await site.wait(kees.page, lambda p: p["code"] == "4")
    assert escalated["location"].startswith("Balie 2")
    [alarm] = await site.alarms()
    assert alarm["severe"] and alarm["device_id"] == "knop-balie-2"
    publish(site, "zigbee2mqtt/SOS Balie 2/availability", json.dumps({"state": "offline"}))
    await device_when(site, "knop-balie-2", lambda d: d["faults"] == ["offline"])


async def test_a_chirpstack_uplink_is_one_alarm_even_when_delivered_twice(site: Harness) -> None:
    sanne = site.pager("pager-sanne")
    uplink = {
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d", "time": "2026-11-23T10:00:00.000+00:00",
        "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "Gemeente",
                       "applicationId": "4b1e2f3a-0000-4c11-9a3b-1d2e3f4a5b6c", "applicationName": "code4",
                       "deviceProfileName": "Milesight WS101", "deviceName": "ws101-info",
                       "devEui": "24e124535b312345", "deviceClassEnabled": "CLASS_A", "tags": {}},
        "devAddr": "01d2c3f4", "adr": True, "dr": 5, "fCnt": 217, "fPort": 85, "confirmed": False,
        "data": "/wEBAP8VAQ==", "object": {"battery": 64.0, "press": "short"},
        "rxInfo": [{"gatewayId": "24e124fffef0a1b2", "rssi": -92, "snr": 7.5}],
        "txInfo": {"frequency": 868100000, "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7}}},
    }
    topic = "application/4b1e2f3a-0000-4c11-9a3b-1d2e3f4a5b6c/device/24e124535b312345/event/up"
    publish(site, topic, json.dumps(uplink))
    publish(site, topic, json.dumps(uplink))  # the same frame again
    page = await site.wait(sanne.page)
    assert page["location"].startswith("Informatiebalie")
    await device_when(site, "knop-info", lambda d: d["battery"] == 0.64)
    [alarm] = await site.alarms()
    assert (alarm["kind"], alarm["severe"]) == ("panic", False), "a second copy is no second press"


async def test_a_the_things_stack_long_press_is_a_man_down(site: Harness) -> None:
    sanne = site.pager("pager-sanne")
    uplink = {
        "end_device_ids": {"device_id": "ws101-oefen", "application_ids": {"application_id": "code4-test"},
                           "dev_eui": "24E124535B398765", "dev_addr": "260B1234"},
        "correlation_ids": ["as:up:01HF6Q"], "received_at": "2026-11-23T10:00:01.123Z",
        "uplink_message": {"session_key_id": "AYt3", "f_port": 85, "f_cnt": 41, "frm_payload": "/wEBAP8VAQ==",
                           "decoded_payload": {"battery": 99, "press": "long"},
                           "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-stadhuis"}, "rssi": -101, "snr": 4.2}],
                           "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 9}},
                                        "frequency": "868300000"},
                           "received_at": "2026-11-23T10:00:01.002Z"},
    }
    publish(site, "v3/code4-test@ttn/devices/ws101-oefen/up", json.dumps(uplink))
    page = await site.wait(sanne.page)  # this agreement has no on_severe: its first step
    assert "persoon ligt op de grond" in page["text"] and page["text"].startswith("OEFENING:")
    [alarm] = await site.alarms()
    assert (alarm["kind"], alarm["device_id"]) == ("man_down", "knop-oefen")

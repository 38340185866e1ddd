"""Protocol v1 rules with a real broker: duplicates, new presses, bad payloads, unknown devices,
`received` only after the alarm is stored."""

from __future__ import annotations

import asyncio

import paho.mqtt.client as mqtt
import psycopg
import pytest
from structlog.testing import capture_logs

from tests.conftest import POSTGRES_ADMIN
from tests.integration.harness import Harness


def raw_publisher(code4: Harness) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="raw-publisher", clean_session=True)
    client.connect("127.0.0.1", code4.mosquitto.port)
    client.loop_start()
    return client


def publish(client: mqtt.Client, topic: str, payload: bytes) -> None:
    info = client.publish(topic, payload, qos=1)
    assert info.rc == mqtt.MQTT_ERR_SUCCESS
    info.wait_for_publish(5)


async def test_a_redelivered_alarm_is_one_event_and_a_higher_press_escalates_at_once(code4: Harness) -> None:
    sanne, jan = code4.pager("pager-sanne"), code4.pager("pager-jan")
    button = code4.button("knop-balie-2")  # subscribes to its feedback
    client = raw_publisher(code4)
    alarm = b'{"alarm_id": "dup-1", "press": 1, "kind": "panic"}'
    for _ in range(3):  # QoS 1 may deliver the same message again
        publish(client, "code4/v1/dev/knop-balie-2/alarm", alarm)
    await code4.wait(button.wait_for, "feedback", lambda _: len(button.messages("feedback")) == 3)
    await code4.settled()
    assert [f["state"] for f in button.messages("feedback")] == ["received"] * 3, "each copy is acknowledged"
    assert len(await code4.alarms()) == 1
    assert len(sanne.pages()) == 1
    assert jan.pages() == []

    publish(client, "code4/v1/dev/knop-balie-2/alarm", b'{"alarm_id": "dup-1", "press": 2}')
    page = await code4.wait(jan.page)  # straight to BHV (on_severe), no waiting for the clock
    assert page["code"] == "4"
    [state] = await code4.alarms()
    assert (state["step"]["id"], state["severe"]) == ("bhv", True)
    client.loop_stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_malformed_payloads_are_logged_counted_and_do_not_stop_the_service(code4: Harness) -> None:
    sanne = code4.pager("pager-sanne")
    client = raw_publisher(code4)
    bad = [
        ("code4/v1/dev/knop-balie-1/cancel", b"\xff\xfe"),
        ("code4/v1/dev/knop-balie-1/cancel", b'{"pin": "1234"}'),
        ("code4/v1/dev/pager-sanne/response", b'{"page_id": "p", "response": "maybe"}'),
        ("code4/v1/dev/knop-balie-1/heartbeat", b"[" * 1000 + b"]" * 1000),
        ("code4/v1/dev/knop-balie-1/heartbeat", b'{"rssi": 1e41}'),
        ("code4/v1/dev/knop-balie-1/checkin", b'{"action": "start", "expect_within_s": NaN}'),
        ("code4/v1/dev/knop-balie-1/position", b'{"lat": 52.1, "lon": 4.2, "accuracy_m": ' + b"9" * 400 + b"}"),
    ]
    with capture_logs() as logs:
        for topic, payload in bad:
            publish(client, topic, payload)
        publish(client, "code4/v1/dev/knop-balie-1/alarm", b'{"alarm_id": "good-1"}')
        page = await code4.wait(sanne.page)
    assert page["location"].startswith("Balie 1"), "a good alarm right after the bad ones still works"
    errors = [entry for entry in logs if entry["event"] == "protocol error: message ignored"]
    assert len(errors) == len(bad)
    assert {e["device_id"] for e in errors} == {"knop-balie-1", "pager-sanne"}
    assert any("nested deeper than 8" in e["reason"] for e in errors)
    assert any("rssi" in e["reason"] for e in errors)
    health = await code4.api("/api/status")
    assert health["counters"]["protocol_errors"] == len(bad)
    client.loop_stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_press_with_a_faulty_payload_still_alarms_the_control_room(code4: Harness) -> None:
    """The device pressed: its payload being wrong is no reason to let nobody come."""
    sanne = code4.pager("pager-sanne")
    client = raw_publisher(code4)
    unreadable = [b"not json", b'{"press": 1}', b'["a", "list"]', b'{"alarm_id": "' + b"x" * 5000 + b'"}',
                  b"[" * 1000 + b"]" * 1000]
    with capture_logs() as logs:
        for payload in unreadable:  # one alarm for the control room, however often the device repeats
            publish(client, "code4/v1/dev/knop-balie-1/alarm", payload)
        page = await code4.wait(sanne.page)
        publish(client, "code4/v1/dev/knop-balie-2/alarm", b'{"alarm_id": "x", "kind": "earthquake", "battery": 7}')
        [flagged] = [a for a in await code4.alarms() if a["device_id"] == "knop-balie-1"]
        second = await code4.alarm_when(lambda a: a["device_id"] == "knop-balie-2")
    assert page["location"].startswith("Balie 1")
    assert (second["kind"], second["status"]) == ("panic", "notifying"), "the faulty fields fall back to defaults"
    record = await code4.api(f"/api/alarms/{flagged['uid']}")
    [entry] = [e for e in record["timeline"] if e["kind"] == "unreadable_alarm"]
    assert entry["notice"] and "onleesbaar" in entry["text"]
    used = [e for e in logs if e["event"].startswith("protocol error: the alarm goes on")]
    assert len(used) == len(unreadable) + 1
    assert any("kind" in e["reason"] and "battery" in e["reason"] for e in used)
    health = await code4.api("/api/status")
    assert health["counters"]["protocol_errors"] == len(unreadable) + 1
    client.loop_stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_unknown_device_is_dispatched_by_the_fallback_and_flagged(code4: Harness) -> None:
    kees = code4.pager("pager-kees")
    stranger = code4.button("knop-nieuw-7")
    alarm_id = stranger.press()
    await code4.wait(stranger.feedback, "received", alarm_id)
    page = await code4.wait(kees.page)
    assert "Onbekend apparaat knop-nieuw-7" in page["text"]
    [alarm] = await code4.alarms()
    assert (alarm["unknown_device"], alarm["fallback"], alarm["agreement"]) == (True, True, "vangnet")
    record = await code4.api(f"/api/incidents/{alarm['incident_id']}")
    flagged = [e for e in record["timeline"] if e["kind"] == "unknown_device"]
    assert flagged and flagged[0]["notice"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_pager_cannot_answer_someone_elses_page(code4: Harness) -> None:
    sanne, mohamed = code4.pager("pager-sanne"), code4.pager("pager-mohamed")
    button = code4.button("knop-balie-1")
    button.press()
    page = await code4.wait(sanne.page)
    with capture_logs() as logs:
        mohamed.respond(page["page_id"], "accept")  # Mohamed's pager, Sanne's page
        await code4.wait(mohamed.page)
        for _ in range(100):
            if any(e["event"] == "event refused" for e in logs):
                break
            await asyncio.sleep(0.02)
    refused = [e for e in logs if e["event"] == "event refused"]
    assert refused and refused[0]["security"] is True
    [alarm] = await code4.alarms()
    assert alarm["responders"] == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_received_is_sent_only_after_the_alarm_is_stored(code4: Harness) -> None:
    button = code4.button("knop-balie-1")
    lock = psycopg.connect(code4.database_url)
    lock.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")  # code4 cannot store an incident now
    try:
        alarm_id = button.press()
        with psycopg.connect(code4.database_url, autocommit=True) as observer:
            for _ in range(500):  # until code4 is waiting for the lock with the alarm in hand
                waiting = observer.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'incidents'::regclass"
                ).fetchone()
                if waiting and waiting[0]:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("code4 never tried to store the alarm")
        assert button.messages("feedback") == [], "no `received` while the alarm is not stored"
    finally:
        lock.rollback()
        lock.close()
    await code4.wait(button.feedback, "received", alarm_id)
    assert len(await code4.alarms()) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_dropped_database_connection_loses_nothing(code4: Harness) -> None:
    """What a PostgreSQL restart looks like to code4: every connection it had is gone."""
    sanne = code4.pager("pager-sanne")
    name = code4.database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    button = code4.button("knop-balie-1")
    alarm_id = button.press()
    await code4.wait(button.feedback, "received", alarm_id, timeout=15)
    await code4.wait(sanne.page)



@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_retained_hostile_payload_does_not_stop_code4_again_after_a_restart(code4: Harness) -> None:
    """A retained message is replayed on every subscribe: it must not become a crash loop."""
    sanne = code4.pager("pager-sanne")
    client = raw_publisher(code4)
    deep = b"[" * 1000 + b"]" * 1000
    for kind in ("status", "heartbeat", "position"):
        client.publish(f"code4/v1/dev/knop-balie-3/{kind}", deep, qos=1, retain=True).wait_for_publish(5)
    await code4.stop()
    await code4.start()  # the broker replays all three now
    button = code4.button("knop-balie-1")
    alarm_id = button.press()
    await code4.wait(button.feedback, "received", alarm_id)
    await code4.wait(sanne.page)
    assert code4.service is not None and code4.service.protocol_errors >= 3
    client.loop_stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_retained_alarm_is_never_a_new_alarm_after_a_restart(code4: Harness) -> None:
    sanne = code4.pager("pager-sanne")
    client = raw_publisher(code4)
    alarm = b'{"alarm_id": "kept-1", "press": 1}'
    client.publish("code4/v1/dev/knop-balie-2/alarm", alarm, qos=1, retain=True).wait_for_publish(5)
    await code4.wait(sanne.page)  # live, the message is an alarm like any other
    [alarm_state] = await code4.alarms()
    await code4.api(f"/api/alarms/{alarm_state['uid']}/close", method="POST", json={"outcome": "resolved"})
    await code4.advance(3600)  # long after any repeat window
    await code4.stop()
    with capture_logs() as logs:
        await code4.start()  # the broker replays the retained alarm on subscribe
        for _ in range(250):
            if any("retained" in str(e.get("reason")) for e in logs):
                break
            await asyncio.sleep(0.02)
    assert any(e["event"] == "protocol error: message ignored" and "retained" in e["reason"] for e in logs)
    assert await code4.alarms() == [], "the replayed alarm opened nothing"
    assert len(sanne.pages()) == 1
    client.loop_stop()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_huge_reading_from_one_device_does_not_stop_storing_the_others(code4: Harness) -> None:
    client = raw_publisher(code4)
    publish(client, "code4/v1/dev/knop-balie-1/heartbeat", b'{"rssi": 1e41, "battery": 0.9}')
    publish(client, "code4/v1/dev/knop-balie-1/heartbeat", b'{"rssi": ' + b"9" * 60 + b"}")
    publish(client, "code4/v1/dev/knop-balie-2/heartbeat", b'{"battery": 0.55, "rssi": -70}')
    stored = await code4.device_reported("knop-balie-2", lambda s: s.battery == 0.55)
    assert stored.rssi == -70
    client.loop_stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_text_no_database_can_store_still_alarms(code4: Harness) -> None:
    """A NUL or a lone surrogate in an alarm id would make PostgreSQL refuse the alarm: the
    protocol refuses the text instead, and the press still alarms the control room."""
    sanne = code4.pager("pager-sanne")
    client = raw_publisher(code4)
    publish(client, "code4/v1/dev/knop-balie-1/alarm", b'{"alarm_id": "x\\u0000y"}')
    publish(client, "code4/v1/dev/knop-balie-2/alarm", b'{"alarm_id": "\\ud800", "kind": "assist"}')
    await code4.wait(sanne.page)
    alarms = await code4.alarm_when(lambda a: a["device_id"] == "knop-balie-2")
    assert alarms["device_id"] == "knop-balie-2"
    assert {a["device_id"] for a in await code4.alarms()} == {"knop-balie-1", "knop-balie-2"}
    client.loop_stop()

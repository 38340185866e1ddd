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
        ("code4/v1/dev/knop-balie-1/alarm", b"not json"),
        ("code4/v1/dev/knop-balie-1/alarm", b'{"press": 1}'),
        ("code4/v1/dev/knop-balie-1/alarm", b'{"alarm_id": "x", "press": 0}'),
        ("code4/v1/dev/knop-balie-1/alarm", b'{"alarm_id": "x", "kind": "earthquake"}'),
        ("code4/v1/dev/knop-balie-1/alarm", b'["a", "list"]'),
        ("code4/v1/dev/knop-balie-1/alarm", b'{"alarm_id": "' + b"x" * 5000 + b'"}'),
        ("code4/v1/dev/knop-balie-1/cancel", b"\xff\xfe"),
        ("code4/v1/dev/pager-sanne/response", b'{"page_id": "p", "response": "maybe"}'),
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
    assert any("press" in e["reason"] and "greater than or equal to 1" in e["reason"] for e in errors)
    health = await code4.api("/api/status")
    assert health["counters"]["protocol_errors"] == len(bad)
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


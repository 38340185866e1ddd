"""Responders' phones end to end: the real `twilio` library talks to the local Twilio-compatible
server, which texts, calls and posts signed webhooks back to code4."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
import structlog
from structlog.testing import capture_logs
from twilio.request_validator import RequestValidator

from dispatcher.clock import FakeClock
from escalation.channels import TemporaryFailure
from escalation.notices import Notice
from escalation.plan import Route
from gateway.logging import configure
from gateway.mqtt.broker import Mosquitto
from simulators.twilio_server import TwilioSimulator
from tests.conftest import FIXTURES
from tests.integration.harness import TWILIO_TOKEN, Harness

JAN, FATIMA, KEES, EVA, POLICE = "+31612000001", "+31612000002", "+31612000003", "+31612000004", "+31880000000"
SANNE = "+31612000005"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def phones(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "phoneorg.yaml", twilio=True)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


def sim(harness: Harness) -> TwilioSimulator:
    assert harness.twilio is not None
    return harness.twilio


async def severe_alarm(harness: Harness) -> dict[str, object]:
    """A man-down at Balie 1: straight to the BHV step (on_severe)."""
    button = harness.button("knop-balie-1")
    button.press(kind="man_down")
    return await harness.alarm_when(lambda a: a["step"]["id"] == "bhv")


async def timeline(harness: Harness, alarm: dict[str, object]) -> list[dict[str, object]]:
    return (await harness.api(f"/api/incidents/{alarm['incident_id']}"))["timeline"]  # type: ignore[no-any-return]


async def test_bhv_get_an_sms_and_a_reply_of_1_makes_role_1(phones: Harness) -> None:
    twilio = sim(phones)
    alarm = await severe_alarm(phones)
    page = await twilio.message_to(JAN, "Code 4")
    assert page.body.startswith("Code 4: persoon ligt op de grond, stil alarm. Balie 1, Publiekshal, Stadhuis "
                                "Testdorp. Verzamelen uit het zicht: Trap naast de lift. Antwoord 1 = ik kom, "
                                "2 = kan niet, 3 = ben er [")
    assert f"Of tik op: {phones.public_url}/r/" in page.body
    english = await twilio.message_to(KEES, "Code 4")
    assert "Reply 1 = coming, 2 = can't come, 3 = on scene" in english.body
    assert "Gather out of sight at:" in english.body

    replies = await twilio.phone_sends_sms(JAN, "1")
    assert replies == [], "the role follows as a message of its own"
    role = await twilio.message_to(JAN, "nummer 1")
    assert role.body.startswith("Jij bent nummer 1: jij benadert de agressor.")
    await twilio.phone_sends_sms(FATIMA, "Ja, ik kom eraan")
    await twilio.message_to(FATIMA, "nummer 2")
    alarm = await phones.alarm_when(lambda a: a["status"] == "accepted")
    assert [(r["name"], r["role"], r["channel"]) for r in alarm["responders"]] == [  # type: ignore[index]
        ("Jan de Vries", 1, "sms"), ("Fatima El Amrani", 2, "sms")]

    await phones.settled()
    # No storm: one page each, the role only to those who answered, no "Fatima joins" text to Jan.
    assert [len(twilio.inbox(n)) for n in (JAN, FATIMA, KEES)] == [2, 2, 1]
    def page_statuses() -> list[tuple[str, int | None]]:
        return [(c.params["MessageStatus"], c.status) for c in twilio.callbacks
                if c.params.get("MessageSid") == page.sid and c.params.get("MessageStatus")]

    statuses = await twilio.wait_for(lambda: len(page_statuses()) >= 2 and page_statuses())
    assert statuses == [("sent", 204), ("delivered", 204)], "signed status callbacks, accepted by code4"


async def test_replies_are_read_tolerantly_and_explained_when_unclear(phones: Harness) -> None:
    twilio = sim(phones)
    first = phones.button("knop-balie-1")
    first.press(kind="man_down")
    await twilio.message_to(JAN, "Balie 1")
    assert await twilio.phone_sends_sms(JAN, "hallo, wat is er?") == [
        "Antwoord met 1 = ik kom, 2 = kan niet, 3 = ben er."]
    assert await twilio.phone_sends_sms(JAN, "ik kom niet") == [
        "Antwoord met 1 = ik kom, 2 = kan niet, 3 = ben er."], "never read a doubtful reply as coming"

    second = phones.button("knop-balie-2")
    second.press(kind="man_down")
    await twilio.message_to(JAN, "Balie 2")
    [which] = await twilio.phone_sends_sms(JAN, "1")
    assert which.startswith("Je hebt 2 open oproepen: ") and "(Balie 1, Publiekshal" in which
    codes = [a["uid"][-4:].upper() for a in await phones.alarms()]
    balie_2 = next(a for a in await phones.alarms() if a["where"]["location"] == "Balie 2")
    assert await twilio.phone_sends_sms(JAN, f"nee {balie_2['uid'][-4:].lower()}") == []
    alarm = await phones.alarm_when(lambda a: a["uid"] == balie_2["uid"] and any(
        r["name"] == "Jan de Vries" and r["status"] == "declined" for r in a["reached"]))
    assert alarm["responders"] == [] and len(codes) == 2
    assert await twilio.phone_sends_sms("+31699999999", "1") == [], "unknown numbers get no answer"


async def test_a_call_speaks_the_page_and_key_1_makes_role_1(phones: Harness) -> None:
    twilio = sim(phones)
    twilio.rule(JAN).sms = "undelivered"  # so Jan is called instead
    alarm = await severe_alarm(phones)
    call = await twilio.call_to(JAN)
    await twilio.wait_for(lambda: call.heard)
    assert call.heard[0].startswith("Dit is code4. Code 4: persoon ligt op de grond, stil alarm. Balie 1")
    assert call.heard[0].endswith("Druk op 1 als je komt. Druk op 2 als je niet kunt komen. Druk op 3 als je er "
                                  "bent. Druk op het sterretje om te herhalen.")
    await twilio.press(JAN, "*")  # say it again
    await twilio.wait_for(lambda: len(call.heard) >= 2)
    assert call.heard[1] == call.heard[0]
    await twilio.press(JAN, "1")
    await twilio.call_to(JAN, status="completed")
    assert call.heard[-1].startswith("Dank je. Jij bent nummer 1: jij benadert de agressor.")
    assert call.heard[-1].endswith("Eigen veiligheid gaat voor. Verzamelen uit het zicht: Trap naast de lift.")
    alarm = await phones.alarm_when(lambda a: bool(a["responders"]))
    assert [(r["name"], r["role"], r["channel"]) for r in alarm["responders"]] == [("Jan de Vries", 1, "voice")]
    story = [(e["kind"], e["channel"]) for e in await timeline(phones, alarm)
             if e["data"].get("recipient") == "Jan de Vries"]
    assert story[:3] == [("notified", "sms"), ("channel_failed", "sms"), ("accepted", "voice")]


async def test_an_undelivered_sms_falls_back_to_a_voice_call_and_the_control_room_sees_it(phones: Harness) -> None:
    twilio = sim(phones)
    twilio.rule(FATIMA).sms = "undelivered"
    alarm = await severe_alarm(phones)
    await twilio.call_to(FATIMA)
    failed = next(e for e in await timeline(phones, alarm) if e["kind"] == "channel_failed")
    assert failed["notice"] and failed["data"]["recipient"] == "Fatima El Amrani"
    assert failed["text"] == ("Oproep via sms aan Fatima El Amrani mislukt (sms undelivered (error 30003)); "
                              "verder via telefoon")


async def test_api_5xx_is_retried_then_falls_back(phones: Harness) -> None:
    twilio = sim(phones)
    twilio.rule(KEES).sms = "5xx"
    alarm = await severe_alarm(phones)
    await twilio.call_to(KEES, within=15)
    attempts = [status for kind, to, status in twilio.api_requests if kind == "sms" and to == KEES]
    assert len(attempts) >= 3 and set(attempts) == {503}, "retried with backoff before giving up"
    failed = next(e for e in await timeline(phones, alarm) if e["kind"] == "channel_failed")
    assert failed["data"]["recipient"] == "Kees Bakker" and "503" in failed["data"]["reason"]


async def test_a_call_nobody_answers_counts_as_unreachable(phones: Harness) -> None:
    twilio = sim(phones)
    for number in (JAN, FATIMA, KEES):
        twilio.rule(number).sms = "failed"
        twilio.rule(number).voice = "no-answer"
    alarm = await severe_alarm(phones)
    alarm = await phones.alarm_when(lambda a: a["step"]["id"] == "politie", limit=15)
    kinds = [(e["kind"], e["data"].get("reason")) for e in await timeline(phones, alarm)
             if e["data"].get("recipient") == "Jan de Vries"]
    assert ("unreachable", "call no-answer") in kinds
    escalated = [e for e in await timeline(phones, alarm) if e["kind"] == "escalated"]
    assert escalated[-1]["data"]["reason"] == "nobody_reachable", "nobody left: the police at once"


async def test_the_police_hear_who_where_and_what_and_confirm_with_1(phones: Harness) -> None:
    twilio = sim(phones)
    twilio.rule(POLICE).press = "1"
    button = phones.button("knop-balie-1")
    alarm_id = button.press(kind="man_down")
    await phones.alarm_when(lambda a: a["step"]["id"] == "bhv")
    button.press_again(alarm_id)  # beyond on_severe: one step further, the police
    call = await twilio.call_to(POLICE, status="completed")
    assert call.heard[0] == (
        "Dit is een automatisch alarmbericht van Testgemeente. Het alarm van een medewerker meldt dat die op de "
        "grond ligt. Waar: Balie 1, Publiekshal, Stadhuis Testdorp. Adres: Teststraat 1, Testdorp. Het is een stil "
        "alarm: de agressor weet mogelijk niet dat er hulp komt. Geverifieerd: De medewerker heeft een tweede keer "
        "op de alarmknop gedrukt. Druk op 1 om te bevestigen dat u dit bericht heeft ontvangen.")
    assert call.pressed == ["1"] and call.heard[-1] == "Dank u. Uw bevestiging is genoteerd."
    alarm = await phones.alarm_when(lambda a: any(r["name"] == "Politie assistentielijn" for r in a["responders"]))
    confirmed = [e for e in await timeline(phones, alarm) if e["kind"] == "confirmed"]
    assert confirmed[0]["text"] == "Politie assistentielijn heeft het alarm bevestigd"


async def test_forged_webhooks_are_refused_and_change_nothing(phones: Harness) -> None:
    twilio = sim(phones)
    alarm = await severe_alarm(phones)
    await twilio.message_to(JAN, "Code 4")
    inbound = f"{phones.public_url}/twilio/sms/inbound"
    params = {"From": JAN, "Body": "1", "MessageSid": "SMforged"}
    good = RequestValidator(TWILIO_TOKEN).compute_signature(inbound, params)
    forged = RequestValidator("not-the-token").compute_signature(inbound, params)
    other_url = RequestValidator(TWILIO_TOKEN).compute_signature(f"{phones.public_url}/twilio/sms/status", params)
    with capture_logs() as logs:
        async with httpx.AsyncClient() as client:
            for headers in ({}, {"X-Twilio-Signature": forged}, {"X-Twilio-Signature": other_url},
                            {"X-Twilio-Signature": good[:-2] + "xx"}):
                response = await client.post(inbound, data=params, headers=headers)
                assert response.status_code == 403
            tampered = await client.post(inbound, data={**params, "Body": "3"}, headers={"X-Twilio-Signature": good})
            assert tampered.status_code == 403, "the signature covers the body"
    refusals = [e for e in logs if e["event"].startswith("webhook refused")]
    assert len(refusals) == 5 and all(e["security"] for e in refusals)
    assert (await phones.alarms())[0]["responders"] == []
    assert alarm["responders"] == []


async def test_phone_numbers_never_reach_logs_or_the_api(phones: Harness, tmp_path: Path) -> None:
    twilio = sim(phones)
    output = io.StringIO()
    configure(fmt="json", level="debug")
    # Not cached: loggers first used now must still be captured by later tests' capture_logs.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(output), cache_logger_on_first_use=False)
    try:
        twilio.rule(JAN).sms = "5xx"
        alarm = await severe_alarm(phones)
        await twilio.message_to(FATIMA, "Code 4")
        await twilio.phone_sends_sms(FATIMA, "1")
        await twilio.call_to(JAN, within=15)
        await phones.settled()
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in output.getvalue().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "SMS answer" for line in lines)
    everything = output.getvalue() + json.dumps(await phones.alarms()) + json.dumps(
        await phones.api(f"/api/incidents/{alarm['incident_id']}"))
    for number in (JAN, FATIMA, KEES):
        assert number not in everything
    assert "+31612****01" in everything, "masked, still telling numbers apart"


async def signed_post(harness: Harness, path: str, params: dict[str, str]) -> httpx.Response:
    """A request exactly as Twilio would sign it (what an attacker who captured one holds)."""
    url = f"{harness.public_url}{path}"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    async with httpx.AsyncClient() as client:
        return await client.post(url, data=params, headers={"X-Twilio-Signature": signature})


async def test_a_replayed_sms_answer_is_refused_and_accepts_no_later_alarm(phones: Harness) -> None:
    twilio = sim(phones)
    first = await severe_alarm(phones)
    await twilio.message_to(JAN, "Balie 1")
    captured = {"From": JAN, "To": "+3197010000000", "Body": "1", "MessageSid": "SM" + "c" * 32}
    assert (await signed_post(phones, "/twilio/sms/inbound", captured)).status_code == 200
    await phones.alarm_when(lambda a: a["uid"] == first["uid"] and bool(a["responders"]))
    await phones.api(f"/api/alarms/{first['uid']}/close", method="POST", json={"outcome": "resolved"})

    second = phones.button("knop-balie-2")
    second.press(kind="man_down")
    await twilio.message_to(JAN, "Balie 2")
    with capture_logs() as logs:
        replayed = await signed_post(phones, "/twilio/sms/inbound", captured)
    assert replayed.status_code == 200 and "<Message>" not in replayed.text
    assert any(e["event"].startswith("webhook refused: a repeat") and e["security"] for e in logs)
    [alarm] = await phones.alarms()
    assert alarm["responders"] == [], "the old '1' accepted nothing"


async def test_keys_count_only_on_the_call_placed_for_that_page(phones: Harness) -> None:
    twilio = sim(phones)
    twilio.rule(JAN).sms = "undelivered"  # Jan is called
    await severe_alarm(phones)
    call = await twilio.call_to(JAN)
    page_id = next(c.url for c in twilio.calls_to(JAN)).split("p=")[1].split("&")[0]
    forged = {"CallSid": "CA" + "f" * 32, "From": "+3197010000000", "To": JAN, "Digits": "1"}
    with capture_logs() as logs:
        refused = await signed_post(phones, f"/twilio/voice/gather?p={page_id}&r=1", forged)
    assert refused.status_code == 200 and "<Hangup" in refused.text
    assert any(e["event"].startswith("key refused") and e["security"] for e in logs)
    assert (await phones.alarms())[0]["responders"] == []
    await twilio.press(JAN, "1")  # on the real call it counts
    await twilio.call_to(JAN, status="completed")
    alarm = await phones.alarm_when(lambda a: bool(a["responders"]))
    assert alarm["responders"][0]["name"] == "Jan de Vries" and call.pressed == ["1"]


async def test_taps_on_a_closed_alarm_send_nothing(phones: Harness) -> None:
    twilio = sim(phones)
    alarm = await severe_alarm(phones)
    page = await twilio.message_to(JAN, "Code 4")
    link = page.body.split("Of tik op: ", 1)[1].split()[0].rstrip(".")
    async with httpx.AsyncClient() as client:
        coming = await client.post(f"{link}/respond", json={"response": "accept"})
        assert coming.json()["status"] == "accepted"
        await phones.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={"outcome": "resolved"})
        await twilio.message_to(JAN, "afgesloten")  # the one stand-down for someone who was coming
        await phones.settled()
        before = len(twilio.inbox(JAN))
        for _ in range(3):
            again = await client.post(f"{link}/respond", json={"response": "accept"})
            assert again.status_code == 200 and again.json()["status"] == "closed"
    await phones.settled()
    assert len(twilio.inbox(JAN)) == before, "no stand-down per tap"


async def test_the_database_holds_no_pin_and_no_phone_number(phones: Harness) -> None:
    twilio = sim(phones)
    await severe_alarm(phones)
    await twilio.message_to(JAN, "Code 4")
    await twilio.phone_sends_sms(JAN, "1")
    await phones.settled()
    assert phones.service is not None
    store = phones.service.store
    with store.engine.connect() as connection:
        # Every value in full (a row's repr shortens long ones).
        stored = " ".join(str(value) for table in ("alarms", "outbox", "timeline")
                          for row in connection.execute(sa.text(f"SELECT * FROM {table}")) for value in row)  # noqa: S608
    assert "person:jan" in stored
    for secret in (JAN, FATIMA, KEES, '"1234"', "'1234'"):
        assert secret not in stored


async def test_a_fault_notice_moves_from_a_failing_pager_to_sms(phones: Harness) -> None:
    """Fault notices go through the outbox like every other message: retried, then on to the
    technical contact's next route."""
    assert phones.service is not None

    async def broker_away(notice: Notice, route: Route) -> None:
        raise TemporaryFailure("not connected to the broker")

    phones.service.dispatcher._sender._channels["pager"].send_notice = broker_away  # type: ignore[method-assign]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="raw-status")
    client.connect("127.0.0.1", phones.mosquitto.port)
    client.loop_start()
    client.publish("code4/v1/dev/knop-balie-2/status", b"offline", qos=1).wait_for_publish(5)
    client.loop_stop()
    text = await sim(phones).message_to(SANNE, "knop-balie-2", within=15)
    assert text.body == "Storing knop-balie-2 (Balie 2, Publiekshal, Stadhuis Testdorp): geen verbinding."

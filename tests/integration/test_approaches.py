"""A known visitor's agreed approach, end to end: the coordinator flags a room and a time
window; an alarm from that room in the window pages the BHV with the note and shows it on the
board; outside the window, or from another room, there is no note; the police never get it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import structlog
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from dispatcher.store.schema import ApproachAgreement
from gateway.mqtt.broker import Mosquitto
from tests.conftest import FIXTURES, _postgres_database
from tests.integration.harness import OPERATOR_PASSWORD, Harness

NOTE = "Rustig en met twee benaderen, niet aanraken, afgesproken met GGZ"
POLICE = "+31880000000"
JAN = "+31612000001"


async def flag(harness: Harness, token: str, place: str, starts_at: str, ends_at: str, note: str = NOTE) -> dict:
    made = await harness.call(token, "/api/approaches", method="POST", json={
        "place": place, "starts_at": starts_at, "ends_at": ends_at, "visitor": "cliënt 11:00", "note": note})
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


async def test_an_alarm_from_the_flagged_room_in_the_window_carries_the_approach(code4: Harness) -> None:
    carla = await code4.add_user("carla", ["coordinator"], name="Carla Coördinator")
    # The clock says 10:00 UTC, 11:00 in Amsterdam: the window is typed in local time.
    made = await flag(code4, carla, "stadhuis/spreekkamer-a", "2026-11-23T10:30", "2026-11-23T12:00")
    assert (made["starts_at"], made["ends_at"], made["active"]) == ("2026-11-23T09:30:00Z", "2026-11-23T11:00:00Z",
                                                                    True)
    assert made["made_by"] == "Carla Coördinator"

    pagers = {name: code4.pager(f"pager-{name}") for name in ("jan", "fatima", "eva")}
    room_a = code4.button("knop-spreekkamer-a")
    room_a.press()
    page = await code4.wait(pagers["jan"].page, lambda p: p["code"] == "4")
    assert f"Bekende bezoeker, afgesproken aanpak: {NOTE}." in page["text"]
    alarm = await code4.alarm_when(lambda a: a["where"]["location"] == "Spreekkamer A")
    assert alarm["approach"] == NOTE
    detail = await code4.call(carla, f"/board/alarms/{alarm['uid']}")
    assert NOTE in detail.text and "Bekende bezoeker" in detail.text
    raised = (await code4.api(f"/api/alarms/{alarm['uid']}"))["timeline"][0]
    assert (raised["kind"], raised["data"]["approach"]) == ("alarm_raised", NOTE)
    # The incident record, which the person affected and the team lead read too, leaves it out.
    record = await code4.call(carla, f"/api/incidents/{alarm['incident_id']}")
    assert NOTE not in record.text
    await code4.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={})

    # Another room in the same window: nothing.
    balie = code4.button("knop-balie-2")
    balie.press()
    other = await code4.alarm_when(lambda a: a["where"]["location"] == "Balie 2")
    assert other["approach"] is None
    await code4.api(f"/api/alarms/{other['uid']}/close", method="POST", json={})

    # The same room once the window is over: nothing.
    await code4.advance(3600)
    room_a.press()
    later = await code4.alarm_when(lambda a: a["where"]["location"] == "Spreekkamer A")
    assert later["approach"] is None
    page = await code4.wait(pagers["jan"].page, lambda p: p["code"] == "4" and later["uid"] in p["page_id"])
    assert "aanpak" not in page["text"]


async def test_coordinators_make_and_end_operators_only_read(code4: Harness) -> None:
    carla = await code4.add_user("carla", ["coordinator"])
    olga = await code4.add_user("olga", ["operator"])
    piet = await code4.add_user("piet", ["employee"])
    body = {"place": "stadhuis/spreekkamer-a", "starts_at": "2026-11-23T10:30:00+00:00",
            "ends_at": "2026-11-23T12:00:00+00:00", "visitor": "K.", "note": NOTE}
    assert (await code4.call(olga, "/api/approaches", method="POST", json=body)).status_code == 403
    assert (await code4.call(piet, "/api/approaches")).status_code == 403
    for wrong in ({"place": "stadhuis/kelder"}, {"note": "x" * 301}, {"visitor": ""},
                  {"ends_at": "2026-11-23T10:00:00+00:00"}, {"ends_at": "2026-12-31T10:00:00+00:00"},
                  {"starts_at": "9999-01-01T00:00:00"}):
        answer = await code4.call(carla, "/api/approaches", method="POST", json=body | wrong)
        assert answer.status_code == 422, (wrong, answer.text)
    made = (await code4.call(carla, "/api/approaches", method="POST", json=body)).json()
    listed = (await code4.call(olga, "/api/approaches")).json()
    assert [a["note"] for a in listed] == [NOTE]
    assert (await code4.call(olga, f"/api/approaches/{made['id']}/end", method="POST")).status_code == 403
    ended = await code4.call(carla, f"/api/approaches/{made['id']}/end", method="POST")
    assert ended.status_code == 200
    assert (await code4.call(olga, "/api/approaches")).json() == []

    code4.button("knop-spreekkamer-a").press()  # ended: the alarm goes out without the note
    alarm = await code4.alarm_when(lambda a: a["where"]["location"] == "Spreekkamer A")
    assert alarm["approach"] is None

    # A week after it ended, the visitor reference and the note are erased; the rest stays.
    assert code4.service is not None
    store = code4.service.approach_store
    assert await asyncio.to_thread(store.erase_old, code4.clock.now() + timedelta(days=6)) == 0
    assert [a.note for a in await asyncio.to_thread(store.recent, code4.clock.now())] == [NOTE]
    assert await asyncio.to_thread(store.erase_old, code4.clock.now() + timedelta(days=7)) == 1
    assert await asyncio.to_thread(store.recent, code4.clock.now()) == []
    with code4.service.store.session() as session:
        [kept] = session.scalars(sa.select(ApproachAgreement)).all()
    assert (kept.visitor, kept.note, kept.location_id, kept.made_by) == ("–", "–", "spreekkamer-a", "carla")


async def test_a_failing_lookup_never_holds_up_the_alarm(code4: Harness) -> None:
    assert code4.service is not None
    book = code4.service.approaches
    book._load = lambda _now: [object()]  # type: ignore[assignment, list-item]  # what no rule can read
    book.replace([object()])  # type: ignore[list-item]
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        code4.button("knop-spreekkamer-a").press()
        alarm = await code4.alarm_when(lambda a: a["where"]["location"] == "Spreekkamer A")
    assert alarm["approach"] is None and alarm["status"] == "notifying"
    failed = [e for e in logs if e["event"].startswith("approach lookup failed")]
    assert failed and failed[0]["alarm_id"] == alarm["uid"]


@pytest.fixture
async def phones(mosquitto: Mosquitto, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    # The phone site, with the police texted as well as called: a text is where a note would show.
    config = tmp_path / "phoneorg.yaml"
    config.write_text((FIXTURES / "phoneorg.yaml").read_text(encoding="utf-8").replace(
        "{id: politie, targets: [{contact: politie}], channels: [voice]}",
        "{id: politie, targets: [{contact: politie}], channels: [sms]}"), encoding="utf-8")
    harness = Harness(mosquitto=mosquitto, database_url=f"sqlite:///{tmp_path / 'code4.db'}", clock=clock,
                      tmp_path=tmp_path, config=config, twilio=True)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def test_the_police_never_hear_the_approach(phones: Harness) -> None:
    twilio = phones.twilio
    assert twilio is not None
    carla = await phones.add_user("carla", ["coordinator"])
    await flag(phones, carla, "stadhuis/balie-1", "2026-11-23T10:30", "2026-11-23T12:00")
    button = phones.button("knop-balie-1")
    alarm_id = button.press(kind="man_down")
    sms = await twilio.message_to(JAN, contains="Code 4")
    assert NOTE in sms.body
    await phones.alarm_when(lambda a: a["step"]["id"] == "bhv")
    button.press_again(alarm_id)  # beyond on_severe: the police
    told = await twilio.message_to(POLICE, contains="Balie 1")
    assert NOTE not in told.body and "aanpak" not in told.body
    assert "/r/" not in told.body, "the police get the facts, not a link to a page"
    # The one-tap page behind the BHV-er's link shows the approach.
    async with httpx.AsyncClient(timeout=10) as client:
        bhv_view = (await client.get(link_in(sms.body) + "/view")).json()
        bhv_page = (await client.get(link_in(sms.body))).text
    assert bhv_view["approach"] == NOTE and NOTE in bhv_page


def link_in(text: str) -> str:
    return next(word for word in text.split() if "/r/" in word)


async def test_the_page_form_needs_its_csrf_token_and_refuses_what_cannot_be(code4: Harness) -> None:
    assert code4.service is not None
    accounts = code4.service.accounts
    await code4.add_user("carla", ["coordinator"])
    principal = await asyncio.to_thread(accounts.authenticate, "carla", OPERATOR_PASSWORD)
    assert principal is not None
    cookie, csrf = await asyncio.to_thread(accounts.open_session, principal)
    good = {"place": "stadhuis/spreekkamer-a", "starts_at": "2026-11-23T10:30", "ends_at": "2026-11-23T12:00",
            "visitor": "K.", "note": NOTE}
    async with httpx.AsyncClient(base_url=code4.service.http_url, cookies={"code4_session": cookie},
                                 timeout=10) as browser:
        assert (await browser.post("/approaches", data=good)).status_code == 403, "no CSRF token"
        for wrong, says in (({"note": "x" * 5000}, "hoogstens 300 tekens"), ({"ends_at": "gisteren"}, "Het eind"),
                            ({"place": "stadhuis/kelder"}, "Kies een ruimte"), ({"starts_at": "0001-01-01T00:00"},
                                                                               "geldige begintijd")):
            answer = await browser.post("/approaches", data=good | wrong | {"csrf_token": csrf})
            assert answer.status_code == 422 and says in answer.text, wrong
        assert (await code4.call(code4.token or "", "/api/approaches")).json() == []
        made = await browser.post("/approaches", data=good | {"csrf_token": csrf})
        assert made.status_code == 303
        [approach] = (await code4.call(code4.token or "", "/api/approaches")).json()
        for bad in ("abc", "99999999999", "0"):
            assert (await browser.post(f"/approaches/{bad}/end", data={"csrf_token": csrf})).status_code in (404, 422)
        ended = await browser.post(f"/approaches/{approach['id']}/end", data={"csrf_token": csrf})
        assert ended.status_code == 303
    assert (await code4.call(code4.token or "", "/api/approaches")).json() == []


@pytest.fixture
async def pair(mosquitto: Mosquitto, clock: FakeClock, tmp_path: Path) -> AsyncIterator[tuple[Harness, Harness]]:
    for url in _postgres_database():
        leader = Harness(mosquitto=mosquitto, database_url=url, clock=clock, tmp_path=tmp_path / "a")
        standby = Harness(mosquitto=mosquitto, database_url=url, clock=clock, tmp_path=tmp_path / "b")
        await leader.start()
        standby.token = leader.token
        await standby.start()
        try:
            yield leader, standby
        finally:
            await standby.close()
            await leader.close()


@pytest.mark.postgres
async def test_an_agreement_made_on_a_standby_reaches_the_dispatching_instance(
        pair: tuple[Harness, Harness]) -> None:
    leader, standby = pair
    assert leader.service is not None and standby.service is not None
    assert standby.service.role == "standby"
    carla = await standby.add_user("carla", ["coordinator"])
    await flag(standby, carla, "stadhuis/spreekkamer-a", "2026-11-23T10:30", "2026-11-23T12:00")
    book = leader.service.approaches
    for _ in range(200):  # read again every few seconds
        if book.current():
            break
        await asyncio.sleep(0.05)
    assert [a.note for a in book.current()] == [NOTE]
    leader.button("knop-spreekkamer-a").press()
    alarm = await leader.alarm_when(lambda a: a["where"]["location"] == "Spreekkamer A")
    assert alarm["approach"] == NOTE

"""Presence through the running service (fake clock, real broker and database): people sign in
with the API or the kiosk, an online pager counts where the site says so, sign-ins lapse, and a
step too few are present for moves on at once and shows so on the board."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.conftest import FIXTURES
from tests.integration.harness import Harness


@pytest.fixture
async def werf(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Harness]:
    """code4 on presenceorg.yaml: BHV present at the stadhuis (2 needed), then the gemeentewerf's."""
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path,
                      config=FIXTURES / "presenceorg.yaml")
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def present(code4: Harness) -> list[tuple[str, str, str]]:
    return [(e["person"], e["site"], e["via"]) for e in await code4.api("/api/presence")]


async def kiosk_tap(code4: Harness, token: str, site: str, person: str, here: bool) -> httpx.Response:
    assert code4.service is not None
    async with httpx.AsyncClient(base_url=code4.service.http_url, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        return await client.post(f"/kiosk/{site}", data={"person": person, "present": "1" if here else "0"})


async def alarm_detail(code4: Harness, uid: str) -> dict[str, Any]:
    return await code4.api(f"/api/alarms/{uid}")  # type: ignore[no-any-return]


async def test_a_step_too_few_are_present_for_moves_on_at_once_and_the_board_shows_it(werf: Harness) -> None:
    jan = await werf.add_user("jan", ["responder"], person="jan")
    response = await werf.call(jan, "/api/me/presence", method="POST", json={"site": "stadhuis", "present": True})
    assert response.status_code == 200 and [p["site"] for p in response.json()] == ["stadhuis"]
    assert await present(werf) == [("jan", "stadhuis", "app")]
    kees_pager = werf.pager("pager-kees")  # online at the gemeentewerf, which counts pagers
    await werf.eventually(lambda: ("kees", "gemeentewerf", "pager") in
                          [(e.person_id, e.site_id, e.via) for e in werf.service.presence.entries(werf.clock.now())]
                          or None)
    pagers = {name: werf.pager(f"pager-{name}") for name in ("jan", "fatima")}

    button = werf.button("knop-balie-1")
    alarm_id = button.press()
    await werf.wait(button.feedback, "received", alarm_id)
    # No waiting for the 45 s of the BHV step: Jan (present) and Kees (the werf) are paged now.
    await werf.wait(pagers["jan"].page, lambda p: p["code"] == "4")
    await werf.wait(kees_pager.page, lambda p: p["code"] == "4")
    alarm = await werf.alarm_when(lambda a: a["step"]["id"] == "bhv-werf")
    assert alarm["short_steps"] == [{"step": "bhv", "present": 1, "required": 2}]
    assert pagers["fatima"].pages() == [], "Fatima is not signed in: not paged"

    detail = await alarm_detail(werf, alarm["uid"])
    short = [e for e in detail["timeline"] if e["kind"] == "step_short"]
    assert [e["text"] for e in short] == [
        "Stap bhv: te weinig aanwezig (1 van 2 nodig), direct door naar de volgende"]
    assert [s["short"] for s in detail["chain"]["steps"]] == [True, False, False]
    escalated = next(e for e in detail["timeline"] if e["kind"] == "escalated")
    assert escalated["data"]["reason"] == "too_few_present"

    # The board's presence page names who is in, and the step that cannot be met.
    page = await werf.call(werf.token or "", "/board/presence")
    assert page.status_code == 200
    assert "Jan de Vries" in page.text and "Kees Bakker" in page.text and "pieper aan" in page.text
    assert 'data-step="bhv"' in page.text and "te weinig aanwezig: 1 van 2" in page.text


async def test_a_sign_in_survives_a_restart_and_lapses_at_its_expiry(werf: Harness) -> None:
    fatima = await werf.add_user("fatima", ["responder"], person="fatima")
    await werf.call(fatima, "/api/me/presence", method="POST", json={"site": "stadhuis", "present": True})
    await werf.stop()
    await werf.start()
    assert await present(werf) == [("fatima", "stadhuis", "app")], "the sign-in is in the database"
    await werf.advance(8 * 3600 - 1)
    assert await present(werf) == [("fatima", "stadhuis", "app")]
    await werf.advance(1)  # presence_expires: 8h
    assert await present(werf) == []
    mine = await werf.call(fatima, "/api/me/presence")
    assert mine.json() == []


async def test_signing_out_ends_presence_and_the_step_is_skipped_with_nobody_there(werf: Harness) -> None:
    jan = await werf.add_user("jan", ["responder"], person="jan")
    await werf.call(jan, "/api/me/presence", method="POST", json={"site": "stadhuis", "present": True})
    await werf.call(jan, "/api/me/presence", method="POST", json={"site": "stadhuis", "present": False})
    assert await present(werf) == []
    marieke = werf.pager("pager-marieke")
    button = werf.button("knop-balie-1")
    button.press()
    await werf.wait(marieke.page)  # nobody present at either site: straight to the teamleider
    alarm = await werf.alarm_when(lambda a: a["step"]["id"] == "teamleider")
    assert [s["present"] for s in alarm["short_steps"]] == [0, 0]


async def test_the_kiosk_signs_people_in_and_out_and_does_nothing_else(werf: Harness) -> None:
    kiosk = await werf.add_user("zuil-stadhuis", ["kiosk"])
    page = await werf.call(kiosk, "/kiosk/stadhuis")
    assert page.status_code == 200
    assert "Jan V." in page.text and "Fatima A." in page.text and "Sanne J." in page.text
    assert "de Vries" not in page.text and "Kees" not in page.text, "first names and initials of those who work here"

    tapped = await kiosk_tap(werf, kiosk, "stadhuis", "fatima", True)
    assert tapped.status_code == 200 and "Fatima A. is aangemeld." in tapped.text
    assert await present(werf) == [("fatima", "stadhuis", "kiosk")]
    assert (await kiosk_tap(werf, kiosk, "stadhuis", "kees", True)).status_code == 400, "not on this kiosk's list"
    assert (await kiosk_tap(werf, kiosk, "nergens", "fatima", True)).status_code == 404
    await kiosk_tap(werf, kiosk, "stadhuis", "fatima", False)
    assert await present(werf) == []

    # A kiosk stands in the hall signed in all day: nothing but presence.
    for path in ("/api/alarms", "/api/presence", "/api/me/presence", "/api/incidents"):
        assert (await werf.call(kiosk, path)).status_code == 403, path
    responder = await werf.add_user("sanne", ["responder"], person="sanne")
    assert (await werf.call(responder, "/kiosk/stadhuis")).status_code == 403
    assert (await werf.call(responder, "/api/presence")).status_code == 403
    operator_without_person = await werf.call(werf.token or "", "/api/me/presence", method="POST",
                                              json={"site": "stadhuis", "present": True})
    assert operator_without_person.status_code == 409
    bad = await werf.call(responder, "/api/me/presence", method="POST", json={"site": "x" * 65, "present": True})
    assert bad.status_code == 422
    unknown = await werf.call(responder, "/api/me/presence", method="POST", json={"site": "nergens", "present": True})
    assert unknown.status_code == 404

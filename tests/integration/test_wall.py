"""The wall display's data and sign-in: a display token given once in the address becomes an
HttpOnly cookie that opens the wall and nothing else, and ends when the token is revoked; a
public wall gives no silent or duress alarm away, and no wall names a person."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_a_display_token_becomes_a_cookie_that_opens_the_wall_only_until_revoked(code4: Harness) -> None:
    assert code4.service is not None
    accounts = code4.service.accounts
    user_id = await asyncio.to_thread(accounts.add_user, "scherm-receptie", OPERATOR_PASSWORD, ["display"])
    token_id, token = await asyncio.to_thread(accounts.create_token, user_id, "receptie")
    operator = code4.token or ""
    async with httpx.AsyncClient(base_url=code4.service.http_url, follow_redirects=False, timeout=10) as browser:
        wrong = await browser.get("/wall", params={"token": "c4_" + "x" * 43})
        assert wrong.status_code == 401 and "code4_display" not in wrong.headers.get("set-cookie", "")
        not_a_display = await browser.get("/wall", params={"token": operator})  # an operator's token: no cookie
        assert not_a_display.status_code == 401 and "code4_display" not in not_a_display.headers.get("set-cookie", "")
        huge = await browser.get("/wall", params={"token": "x" * 5000})
        assert huge.status_code == 401

        signed = await browser.get("/wall", params={"token": token, "site": "stadhuis"})
        assert (signed.status_code, signed.headers["location"]) == (303, "/wall?site=stadhuis")
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        page = await browser.get("/wall?site=stadhuis")
        assert page.status_code == 200 and "wall.js" in page.text and token not in page.text
        assert (await browser.get("/api/wall")).status_code == 200
        for path in ("/api/me", "/api/alarms", "/api/devices", "/api/presence", "/board", "/api/events"):
            assert (await browser.get(path)).status_code in (401, 303), path  # the cookie is no session

        assert await asyncio.to_thread(accounts.revoke_token, token_id)
        assert (await browser.get("/api/wall")).status_code == 401
        assert (await browser.get("/wall")).status_code == 303  # to the sign-in page


async def test_a_public_wall_gives_no_silent_or_duress_alarm_away_and_names_nobody(code4: Harness) -> None:
    display = await code4.add_user("scherm", ["display"])
    button = code4.button("knop-balie-1")
    alarm_id = button.press(kind="panic", silent=False)
    await code4.alarm_when(lambda a: a["device_id"] == "knop-balie-1")
    code4.button("mob-piet").press(kind="assist", silent=False)  # Piet's own device
    await code4.alarm_when(lambda a: a["device_id"] == "mob-piet")

    public = (await code4.call(display, "/api/wall")).json()
    assert sorted(a["kind"] for a in public["alarms"]) == ["assist", "panic"]
    assert "Piet" not in str(public) and "Jansen" not in str(public), "no wall names who raised an alarm"

    button.cancel(alarm_id, pin="9999")  # the duress PIN: the device shows a cancel
    await code4.wait(button.feedback, "closed")
    public = (await code4.call(display, "/api/wall")).json()
    assert [a["kind"] for a in public["alarms"]] == ["assist"], "the reception sees what the device shows"
    closed_room = (await code4.call(display, "/api/wall", silent="true")).json()
    hushed = [a for a in closed_room["alarms"] if a["silent"]]
    assert [(a["kind"], a["location"]) for a in hushed] == [("silent", "Balie 1")]
    text = str(closed_room).lower()
    assert "duress" not in text and "dwang" not in text and "panic" not in text


async def test_the_wall_refuses_what_it_cannot_read(code4: Harness) -> None:
    display = await code4.add_user("scherm", ["display"])
    for params in ({"night": "25-7"}, {"night": "x" * 40}, {"site": "../etc"}):
        assert (await code4.call(display, "/api/wall", **params)).status_code == 422, params
    assert (await code4.call(display, "/api/wall", site="nergens")).status_code == 404
    assert (await code4.call(display, "/api/wall", night="off")).json()["night"] is False


async def test_the_wall_speaks_dutch_and_english(code4: Harness) -> None:
    display = await code4.add_user("scherm", ["display"])
    dutch = await code4.call(display, "/wall")
    assert dutch.status_code == 200 and "Alarmoverzicht" in dutch.text and "Verbinding verbroken" in dutch.text
    english = await code4.call(display, "/wall", lang="en")
    assert "Alarm overview" in english.text and "Connection lost" in english.text

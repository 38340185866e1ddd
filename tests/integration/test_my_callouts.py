"""/me: a responder's open call-outs with their one-tap links, in local time; someone linked to
a person without the responder role (an afdelingshoofd) sees only what they are informed of."""

from __future__ import annotations

import pytest

from tests.integration.harness import Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_me_lists_my_call_outs(code4: Harness) -> None:
    jan = await code4.add_user("jan", ["responder"], person="jan")
    marieke = await code4.add_user("marieke", ["employee"], person="marieke")
    pager = code4.pager("pager-jan")
    code4.button("knop-balie-2").press(kind="man_down")  # straight to the BHV
    await code4.wait(pager.page, lambda p: p["code"] == "4")
    mine = (await code4.call(jan, "/me")).text
    assert "Balie 2, Publiekshal, Stadhuis Testdorp</a>" in mine and "/r/" in mine
    assert "persoon ligt op de grond, 11:00" in mine, "raised at 10:00 UTC: 11:00 in Amsterdam"
    assert "ter informatie" not in mine
    assert 'href="/app"' in mine, "a responder finds the app from here"
    # Marieke is paged as a colleague in no step of this alarm, and answers nothing: nothing here.
    theirs = (await code4.call(marieke, "/me")).text
    assert "Geen open oproepen." in theirs and 'href="/me"' in theirs
    assert 'href="/app"' not in theirs, "the app is for responders"


async def test_the_afdelingshoofd_is_informed_on_the_pager_and_sees_it_on_me(code4: Harness) -> None:
    marieke = await code4.add_user("marieke", ["employee"], person="marieke")
    pager = code4.pager("pager-marieke")
    code4.button("mob-piet").press()  # Piet is in her team buitendienst
    told = await code4.wait(pager.page, lambda p: p["text"].startswith("Ter informatie"))
    assert "afdelingshoofd" in told["text"] and "Piet Jansen" in told["text"]
    mine = (await code4.call(marieke, "/me")).text
    assert "ter informatie" in mine and "/r/" in mine
    [alarm] = await code4.alarms()
    assert [(r["name"], r["status"]) for r in alarm["reached"] if r["name"] == "Marieke van Dijk"] == [
        ("Marieke van Dijk", "informed")]


async def test_the_api_lists_an_alarm_a_responder_is_only_informed_of(code4: Harness) -> None:
    # Marieke leads the field team; with the responder role she reads her call-outs by the API.
    marieke = await code4.add_user("marieke", ["responder"], person="marieke")
    pager = code4.pager("pager-marieke")
    code4.button("mob-piet").press()
    await code4.wait(pager.page, lambda p: p["text"].startswith("Ter informatie"))
    [callout] = (await code4.call(marieke, "/api/me/callouts")).json()
    assert callout["status"] == "informed" and "/r/" in callout["link"]

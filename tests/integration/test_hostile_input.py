"""Hostile input over real HTTP, on SQLite and PostgreSQL: bodies that are not what they claim,
text no database can store, ids and dates beyond what the database or the calendar holds.
Each gets a 4xx that says what is wrong, never a 500, and nothing is stored."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.harness import OPERATOR_PASSWORD, Harness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

TOO_BIG = [str(2**64), str(3_000_000_000)]  # beyond SQLite's 64 bits; beyond PostgreSQL's INTEGER
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Scene:
    """An open alarm with its incident record, a user with every role (API token), the same
    user signed in in a browser (session and CSRF token), and a responder's one-tap link."""

    api: httpx.AsyncClient
    browser: httpx.AsyncClient
    csrf: str
    uid: str
    incident: int
    link: str


@pytest.fixture
async def scene(code4: Harness) -> AsyncIterator[Scene]:
    assert code4.service is not None
    token = await code4.add_user("alle", ["operator", "coordinator", "admin"])
    jan = code4.pager("pager-jan")
    code4.button("knop-balie-1").press(kind="man_down")
    page = await code4.wait(jan.page)
    [alarm] = await code4.alarms()
    url = code4.service.http_url
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api, \
            httpx.AsyncClient(base_url=url) as browser:
        form = await browser.get("/login")
        prelogin = re.search(r'name="prelogin" value="([^"]+)"', form.text)
        assert prelogin
        await browser.post("/login", data={"username": "alle", "password": OPERATOR_PASSWORD,
                                           "prelogin": prelogin.group(1)})
        csrf = (await browser.get("/api/me")).json()["csrf_token"]
        link = code4.service.links.url(page["page_id"]).removeprefix(url)
        yield Scene(api, browser, csrf, alarm["uid"], alarm["incident_id"], link)


def refused(response: httpx.Response, status: int, detail: str) -> bool:
    return response.status_code == status and detail in response.text


async def test_bodies_that_are_not_what_they_claim_get_400(scene: Scene) -> None:
    browser, link = scene.browser, scene.link
    not_utf8 = await browser.post("/login", content=b"username=\xff\xfe&password=x", headers=FORM)
    escaped = await browser.post("/login", content=b"username=%ff%fe&password=x", headers=FORM)
    csrf_form = await browser.post(f"/incidents/{scene.incident}", content=b"csrf_token=\xff", headers=FORM)
    broken_json = await browser.post(f"{link}/respond", content=b'{"response": "acc', headers=JSON)
    json_list = await browser.post(f"{link}/respond", content=b'["accept"]', headers=JSON)
    json_bytes = await browser.post(f"{link}/respond", content=b'{"response": "\xff"}', headers=JSON)
    await browser.get("/login")  # a sign-in form, and its cookie
    foreign_prelogin = await browser.post("/login", data={"username": "alle", "password": "x", "prelogin": "één"})

    assert refused(not_utf8, 400, "the form is not UTF-8") and refused(escaped, 400, "the form is not UTF-8")
    assert refused(csrf_form, 400, "the form is not UTF-8")
    assert refused(broken_json, 400, "not valid JSON") and refused(json_bytes, 400, "not valid JSON")
    assert refused(json_list, 400, "must be a JSON object")
    assert refused(foreign_prelogin, 403, "the sign-in form expired")
    accepted = await browser.post(f"{link}/respond", json={"response": "accept"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", "the link still works"


async def test_text_the_database_cannot_store_is_refused(scene: Scene) -> None:
    api, uid = scene.api, scene.uid
    nul = await api.post(f"/api/alarms/{uid}/notes", json={"text": "voor\x00na"})
    surrogate = await api.post(f"/api/alarms/{uid}/notes", content=b'{"text": "\\ud800 half"}', headers=JSON)
    in_query = await api.get("/api/alarms", params={"site": "\x00"})
    in_path = await api.get("/api/alarms/a%00b")
    in_form = await scene.browser.post(f"/incidents/{scene.incident}",
                                       data={"csrf_token": scene.csrf, "description": "voor\x00na"})
    entry = {"at": "2026-03-02T08:15:00Z", "kind": "note", "data": {"score": "NaN"}}
    record = {"occurred_at": "2026-03-02T09:15:00+01:00", "source": "alarm", "timeline": [entry]}
    nan = await api.post("/api/incidents/import", headers=JSON,
                         content=f'{{"incidents": [{record}]}}'.replace("'", '"').replace('"NaN"', "NaN").encode())

    assert refused(nul, 400, "NUL character") and refused(surrogate, 400, "unpaired surrogate")
    assert refused(in_query, 400, "NUL character") and refused(in_path, 400, "NUL character")
    assert refused(in_form, 400, "NUL character")
    assert refused(nan, 400, "NaN is not a JSON number")
    assert (await api.post(f"/api/alarms/{uid}/notes", json={"text": "gewoon"})).status_code == 200
    timeline = (await api.get(f"/api/alarms/{uid}")).json()["timeline"]
    assert [e["data"]["text"] for e in timeline if e["kind"] == "note"] == ["gewoon"], "the alarm goes on"
    assert (await api.get("/api/incidents/counts")).json()["total"] == 1, "nothing imported"


@pytest.mark.parametrize("big", TOO_BIG)
async def test_ids_beyond_the_database_get_422(scene: Scene, big: str) -> None:
    api, browser, incident = scene.api, scene.browser, scene.incident
    answers = {
        "incident": await api.get(f"/api/incidents/{big}"),
        "task": await api.patch(f"/api/tasks/{big}", json={"done": True}),
        "offender": await api.delete(f"/api/incidents/{incident}/offenders/{big}"),
        "linked offender": await api.post(f"/api/incidents/{incident}/offenders", json={"offender_id": int(big)}),
        "letter": await api.get(f"/api/sanctions/{big}/letter"),
        "audit": await api.get("/api/audit", params={"incident": big}),
        "user": await api.patch(f"/api/users/{big}", json={"active": True}),
        "page": await browser.get(f"/incidents/{big}"),
        "form": await browser.post(f"/incidents/{incident}/offenders",
                                   data={"csrf_token": scene.csrf, "offender_id": big}),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 422)
    assert "less than or equal to 2147483647" in answers["incident"].text and "not an id" in answers["form"].text


async def test_dates_outside_the_calendar_get_422(scene: Scene) -> None:
    api, browser, incident = scene.api, scene.browser, scene.incident
    offender = (await api.post(f"/api/incidents/{incident}/offenders", json={"name": "K. Lant"})).json()
    offender_id = offender["offender_register"][0]["id"]
    answers = {
        "summary": await api.get("/api/learning/summary", params={"until": "0001-01-01"}),
        "csv": await api.get("/api/learning/incidents.csv", params={"since": "9999-12-31"}),
        "alarms": await api.get("/api/alarms", params={"since": "0001-01-01T00:00:00+01:00"}),
        "quarter": await api.get("/api/learning/quarterly", params={"quarter": "0001-Q1"}),
        "last quarter": await api.get("/api/learning/quarterly", params={"quarter": "9999-Q4"}),
        "occurred": await api.patch(f"/api/incidents/{incident}", json={"occurred_at": "0001-01-01T00:30:00"}),
        "ban": await api.post(f"/api/incidents/{incident}/sanctions",
                              json={"offender_id": offender_id, "kind": "ban_24", "starts_on": "9999-06-01"}),
        "quarter page": await browser.get("/learning/quarterly", params={"q": "0001-Q1"}),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 422)
    assert answers["occurred"].json()["detail"]["errors"] == {"occurred_at": "Geen geldige datum en tijd."}
    learning = await browser.get("/learning", params={"from": "0001-01-01", "to": "9999-12-31"})
    assert learning.status_code == 200, "a page falls back to its default period"


async def test_a_user_changed_with_nothing_to_change_is_no_error(scene: Scene) -> None:
    users = (await scene.api.get("/api/users")).json()
    alle = next(u for u in users if u["username"] == "alle")
    unchanged = await scene.api.patch(f"/api/users/{alle['id']}", json={})
    assert unchanged.status_code == 200 and unchanged.json()["roles"] == ["admin", "coordinator", "operator"]
    no_roles = await scene.api.patch(f"/api/users/{alle['id']}", json={"roles": []})
    assert no_roles.status_code == 422

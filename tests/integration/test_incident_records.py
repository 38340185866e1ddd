"""The coordinator's side against a running code4: who sees which record, the registration
form prefilled from a real alarm, aftercare on a fake clock, the Inspectie SZW task, offenders
and sanctions, the audit log, anonymising after the retention period, and imported data."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from dispatcher.clock import FakeClock
from gateway.mqtt.broker import Mosquitto
from tests.conftest import TESTORG
from tests.integration.harness import OPERATOR_PASSWORD, Harness

DAY = 86400


class People:
    """Sign-ins for each kind of reader. Marieke leads the teams 'balie' and 'buitendienst'
    (tests/fixtures/testorg.yaml); Sanne is in 'balie'; Jan in no team Marieke leads."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.tokens: dict[str, str] = {}

    async def create(self) -> People:
        h = self.harness
        self.tokens = {
            "coordinator": await h.add_user("coco", ["coordinator"], name="Coco Coördinator"),
            "lead": await h.add_user("marieke", ["employee"], person="marieke"),
            "sanne": await h.add_user("sanne", ["employee"], person="sanne"),
            "jan": await h.add_user("jan", ["employee", "responder"], person="jan"),
            "operator": h.token or "",
            "admin": await h.add_user("beheer", ["admin"]),
            "hrm": await h.add_user("hans", ["hrm"], name="Hans HRM"),
        }
        return self

    async def get(self, who: str, path: str, **params: str) -> Any:
        response = await self.harness.call(self.tokens[who], path, **params)
        assert response.status_code == 200, (who, path, response.status_code, response.text)
        return response.json()

    async def send(self, who: str, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        response = await self.harness.call(self.tokens[who], path, method=method, json=body)
        assert response.status_code == expect, (who, method, path, response.status_code, response.text)
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


@pytest.fixture
async def people(code4: Harness) -> People:
    return await People(code4).create()


async def sanne_reports(people: People, **extra: Any) -> dict[str, Any]:
    body = {"contact_kind": "phone", "description": "Beller schold me uit en dreigde langs te komen.",
            "aggression_forms": ["verbaal_geweld", "intimidatie"], **extra}
    return await people.send("sanne", "POST", "/api/reports", body, expect=201)  # type: ignore[no-any-return]


async def closed_alarm(code4: Harness) -> int:
    """Knop balie 1 pressed; Sanne accepts after 8 s and is on scene 50 s later; the control
    room closes it. Returns the incident id."""
    sanne = code4.pager("pager-sanne")
    code4.pager("pager-mohamed")
    button = code4.button("knop-balie-1")
    button.press()
    page = await code4.wait(sanne.page)
    await code4.advance(8)
    sanne.respond(page["page_id"], "accept")
    alarm = await code4.alarm_when(lambda a: a["status"] == "accepted")
    await code4.advance(50)
    sanne.respond(page["page_id"], "on_scene")
    await code4.alarm_when(lambda a: any(r["on_scene_at"] for r in a["responders"]))
    await code4.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={"outcome": "resolved"})
    return int(alarm["incident_id"])


# ---- who sees what -------------------------------------------------------------------------------------


async def test_details_only_for_the_coordinator_the_team_lead_and_the_person(code4: Harness, people: People) -> None:
    report = await sanne_reports(people)
    incident = report["id"]
    path = f"/api/incidents/{incident}"

    coordinator = await people.get("coordinator", path)
    assert coordinator["access"] == "full"
    assert coordinator["registration"]["description"] == "Beller schold me uit en dreigde langs te komen."
    assert coordinator["offender_register"] == [] and coordinator["team_leads"] == ["Marieke van Dijk"]

    lead = await people.get("lead", path)
    assert lead["access"] == "involved"
    assert lead["registration"]["person_affected"] == "Sanne de Jong"
    assert lead["offender_register"] is None, "the offender register is the coordinator's"

    own = await people.get("sanne", path)
    assert own["access"] == "involved" and own["registration"]["contact_kind"] == "phone"

    # Everyone else: not the record, not in their list; the counts only.
    for who in ("jan", "operator", "admin"):
        refused = await code4.call(people.tokens[who], path)
        assert refused.status_code == 403, who
        assert "Beller" not in refused.text
        assert (await people.get(who, "/api/incidents"))["items"] == [], who
        assert (await people.get(who, "/api/incidents/counts"))["report"] == 1
    assert [i["id"] for i in (await people.get("lead", "/api/incidents"))["items"]] == [incident]

    # Changing is the coordinator's, and a refused change changes nothing.
    for who in ("lead", "sanne", "jan"):
        refused = await code4.call(people.tokens[who], path, method="PATCH", json={"description": "weg ermee"})
        assert refused.status_code == 403, who
    assert (await people.get("coordinator", path))["registration"]["description"].startswith("Beller")

    # Every read and every refusal is in the audit log.
    log = await people.get("coordinator", "/api/audit", incident=str(incident))
    reads = {(e["user"], e["action"]) for e in log}
    assert {("sanne", "report"), ("coco", "read"), ("marieke", "read"), ("sanne", "read"),
            ("jan", "read_refused"), ("ria", "read_refused")} <= reads
    assert (await code4.call(people.tokens["lead"], "/api/audit")).status_code == 403


async def test_the_control_room_sees_the_alarm_part_only(code4: Harness, people: People) -> None:
    incident = await closed_alarm(code4)
    await people.send("coordinator", "PATCH", f"/api/incidents/{incident}",
                      {"affected_person_id": "sanne", "description": "Klant sloeg op de balie."})
    seen = await people.get("operator", f"/api/incidents/{incident}")
    assert seen["access"] == "alarm"
    assert seen["registration"] is None and seen["tasks"] is None and seen["offender_register"] is None
    assert "sloeg" not in str(seen)
    assert seen["timeline"][0]["kind"] == "alarm_raised"
    assert (await people.get("lead", f"/api/incidents/{incident}"))["access"] == "involved"
    assert (await code4.call(people.tokens["jan"], f"/api/incidents/{incident}")).status_code == 403


# ---- the registration form ------------------------------------------------------------------------------


async def test_an_alarm_record_is_prefilled_and_completed(code4: Harness, people: People, clock: FakeClock) -> None:
    incident = await closed_alarm(code4)
    record = await people.get("coordinator", f"/api/incidents/{incident}")
    assert record["occurred_at"].startswith("2026-11-23T10:00:00")
    assert (record["site"], record["location"]) == ("Stadhuis Testdorp", "Balie 1, Publiekshal, Stadhuis Testdorp")
    assert record["registration"]["site_id"] == "stadhuis"
    [came] = record["responders"]
    assert (came["name"], came["role"]) == ("Sanne de Jong", 3)
    assert came["accepted_at"].startswith("2026-11-23T10:00:08")
    assert came["on_scene_at"].startswith("2026-11-23T10:00:58")
    # Aftercare started when the alarm closed, before any paperwork.
    assert record["status"] == "open" and record["tasks"][0]["title"] == "Opvang: gesprek op de dag zelf"

    # Completing needs class, description, forms for C/D, and for D the police report question.
    refused = await code4.call(people.tokens["coordinator"], f"/api/incidents/{incident}", method="PATCH",
                               json={"complete": True, "abcd_class": "D", "damage_employer_amount": "-5"})
    assert refused.status_code == 422
    errors = refused.json()["detail"]["errors"]
    assert errors == {"description": "Vul dit in om de registratie af te ronden.",
                      "aggression_forms": "Kies bij klasse C of D minstens één vorm van agressie.",
                      "police_report": "Klasse D: vul in of er aangifte is gedaan.",
                      "damage_employer_amount": "Kan niet negatief zijn."}
    english = await code4.call(people.tokens["coordinator"], f"/api/incidents/{incident}", method="PATCH",
                               json={"abcd_class": "B", "aggression_forms": ["verbaal_geweld"]}, lang="en")
    assert english.json()["detail"]["errors"] == {
        "abcd_class": "Classes A and B are not aggression: choose C or D when there was a form of aggression."}
    assert (await people.get("coordinator", f"/api/incidents/{incident}"))["registration"]["abcd_class"] is None

    done = await people.send("coordinator", "PATCH", f"/api/incidents/{incident}", {
        "complete": True, "affected_person_id": "sanne", "abcd_class": "D",
        "aggression_forms": ["fysiek_zaakgericht", "verbaal_geweld"], "description": "Klant sloeg de balie kapot.",
        "offenders": "Man, ca. 40 jaar", "damage_employer_amount": "1.250,50", "damage_employer_recovered": True,
        "police_report": True, "police_report_date": "2026-11-23", "police_report_reference": "PL1300-2026-123",
        "employer_address_used": True})
    reg = done["registration"]
    assert done["status"] == "registered" and reg["completed_at"]
    assert reg["aggression_forms"] == ["verbaal_geweld", "fysiek_zaakgericht"]  # the table's order
    assert Decimal(reg["damage_employer_amount"]) == Decimal("1250.50")
    assert reg["person_affected"] == "Sanne de Jong" and done["team_leads"] == ["Marieke van Dijk"]
    # Aftercare planned from the schedule, due at the end of each day (Amsterdam time), and the
    # workbook's 72 hours; completing the form planned nothing twice.
    due = [(t["kind"], t["due_at"][:16]) for t in done["tasks"]]
    assert due == [("aftercare", "2026-11-23T22:59"), ("aftercare", "2026-11-24T22:59"),
                   ("aftercare_72h", "2026-11-26T10:00"),
                   ("aftercare", "2026-11-28T22:59"), ("aftercare", "2026-12-07T22:59"),
                   ("aftercare", "2026-12-21T22:59"), ("aftercare", "2027-01-04T22:59")]


async def test_a_closed_alarm_has_its_day_0_aftercare_task_at_once(code4: Harness, people: People) -> None:
    incident = await closed_alarm(code4)
    # No one opened the record: the team lead's and coordinator's task lists already hold it.
    tasks = await people.get("coordinator", "/api/tasks")
    assert [(t["incident_id"], t["title"]) for t in tasks][:1] == [(incident, "Opvang: gesprek op de dag zelf")]
    assert tasks[0]["due_at"].startswith("2026-11-23T22:59")
    # Sanne is named later: her team lead sees the talks; a witness named later gets their own.
    await people.send("coordinator", "PATCH", f"/api/incidents/{incident}",
                      {"affected_person_id": "sanne", "colleagues_involved": ["mohamed"]})
    lead = await people.get("lead", "/api/tasks")
    assert {t["subject"] for t in lead} == {None, "Mohamed Yilmaz"}
    assert sum(t["subject"] == "Mohamed Yilmaz" for t in lead) == 7
    # Saving again plans nothing twice.
    again = await people.send("coordinator", "PATCH", f"/api/incidents/{incident}",
                              {"colleagues_involved": ["mohamed"], "description": "Klant schreeuwde."})
    assert len(again["tasks"]) == 14


async def test_aftercare_is_planned_the_moment_the_alarm_closes(code4: Harness) -> None:
    # The clock stands still after the close, so the 15-second round cannot be what plans it;
    # nobody reads a record or a task list either.
    await closed_alarm(code4)
    assert code4.service is not None
    records = code4.service.desk.records
    for _ in range(200):
        if not await asyncio.to_thread(records.closed_without_aftercare):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the closed alarm is still waiting for its aftercare")


async def test_a_cancelled_alarm_gets_no_aftercare(code4: Harness, people: People) -> None:
    code4.pager("pager-sanne")
    button = code4.button("knop-balie-2")
    button.press()
    alarm = await code4.alarm_when(lambda a: a["status"] != "raised")
    await code4.api(f"/api/alarms/{alarm['uid']}/close", method="POST", json={"outcome": "false_alarm"})
    record = await people.get("coordinator", f"/api/incidents/{alarm['incident_id']}")
    assert record["outcome"] == "false_alarm" and record["tasks"] == []
    # Not an incident in the statistics either: counted apart, as a figure of the alarm system.
    summary = await people.get("coordinator", "/api/learning/summary")
    assert (summary["total"], summary["false_alarms"]) == (0, 1)


async def test_declined_aftercare_is_offered_again(code4: Harness, people: People) -> None:
    incident = (await sanne_reports(people))["id"]
    [first, *_] = await people.get("lead", "/api/tasks")
    declined = await people.send("lead", "PATCH", f"/api/tasks/{first['id']}", {"declined": True,
                                                                                "note": "Wil nu niet praten."})
    assert declined["declined"] and declined["done_by"] == "Marieke van Dijk"
    record = await people.get("coordinator", f"/api/incidents/{incident}")
    [renewed] = [t for t in record["tasks"] if t["kind"] == "renewed_offer"]
    assert renewed["due_at"].startswith("2026-12-14T10:00"), "three weeks later"


async def test_aftercare_comes_due_and_the_team_lead_ticks_it_off(code4: Harness, people: People) -> None:
    report = await sanne_reports(people)
    incident = report["id"]
    assert (report["aftercare_planned"], report["aftercare_done"]) == (6, 0)
    assert await people.get("coordinator", "/api/tasks", overdue="true") == []

    await code4.advance(2 * DAY)  # Wednesday: the same-day and next-day talks are overdue
    overdue = await people.get("coordinator", "/api/tasks", overdue="true")
    assert [t["title"] for t in overdue] == ["Opvang: gesprek op de dag zelf",
                                             "Vervolggesprek de volgende dag (praktische zaken, werkhervatting)"]
    assert all(t["overdue"] and t["incident_id"] == incident for t in overdue)
    assert [t["id"] for t in await people.get("lead", "/api/tasks", overdue="true")] == [t["id"] for t in overdue]
    assert await people.get("jan", "/api/tasks") == [], "not Jan's people"
    task_reads = await people.get("coordinator", "/api/audit", user="marieke")
    assert [(e["action"], e["detail"]["incidents"]) for e in task_reads] == [("tasks", [incident])]

    # Sanne cannot tick her own aftercare; her team lead can, with a note.
    first = overdue[0]["id"]
    assert (await code4.call(people.tokens["sanne"], f"/api/tasks/{first}", method="PATCH",
                             json={"done": True})).status_code == 403
    ticked = await people.send("lead", "PATCH", f"/api/tasks/{first}", {"done": True, "note": "Gesprek gehad."})
    assert ticked["done_by"] == "Marieke van Dijk" and not ticked["overdue"]
    assert [t["id"] for t in await people.get("coordinator", "/api/tasks", overdue="true")] == [overdue[1]["id"]]
    [mine] = await people.get("sanne", "/api/me/reports")
    assert (mine["aftercare_planned"], mine["aftercare_done"]) == (6, 1)
    assert mine["next_aftercare_due"].startswith("2026-11-24")


async def test_a_hospital_admission_shows_the_duty_to_coordinator_afdelingshoofd_and_hrm(
        code4: Harness, people: People) -> None:
    incident = (await sanne_reports(people, near_miss=False))["id"]
    before = await people.get("coordinator", f"/api/incidents/{incident}")
    assert before["duty"] == [] and await people.get("hrm", "/api/tasks") == []
    await code4.advance(3600)
    after = await people.send("coordinator", "PATCH", f"/api/incidents/{incident}", {"hospital_admission": True})
    assert after["duty"] == ["inform_hrm", "ai_phone", "ai_written"]
    duty = {t["kind"]: t for t in after["tasks"] if t["kind"] in after["duty"]}
    assert duty["ai_phone"]["due_at"].startswith("2026-11-23T11:00")  # now, not later
    assert "Nederlandse Arbeidsinspectie" in duty["ai_phone"]["title"]
    assert not any("SZW" in t["title"] for t in after["tasks"])
    # Saving again does not add a second one.
    again = await people.send("coordinator", "PATCH", f"/api/incidents/{incident}", {"death": False})
    assert sum(t["kind"] == "ai_phone" for t in again["tasks"]) == 1
    await code4.advance(60)

    # The coordinator, the afdelingshoofd (Sanne's team lead) and HRM each see what is theirs.
    overdue = {t["kind"] for t in await people.get("coordinator", "/api/tasks", overdue="true")}
    assert {"inform_hrm", "ai_phone"} <= overdue
    assert {"inform_hrm", "ai_phone", "ai_written"} <= {t["kind"] for t in await people.get("lead", "/api/tasks")}
    hrm = await people.get("hrm", "/api/tasks")
    assert [t["kind"] for t in hrm] == ["ai_phone", "ai_written"], "HRM sees its reports, not the aftercare"
    assert (await code4.call(people.tokens["hrm"], f"/api/incidents/{incident}")).status_code == 403
    # HRM reports by phone: who and when is on the record.
    await code4.advance(600)
    reported = await people.send("hrm", "PATCH", f"/api/tasks/{hrm[0]['id']}",
                                 {"done": True, "note": "Gemeld, nummer 2026-1234."})
    assert reported["done_by"] == "Hans HRM" and reported["done_at"].startswith("2026-11-23T11:11")
    record = await people.get("coordinator", f"/api/incidents/{incident}")
    assert record["duty"] == ["inform_hrm", "ai_written"]
    # A serious incident asks for a debrief and a place on the team meeting's agenda.
    assert record["debrief_due"] is True
    debriefed = await people.send("coordinator", "PATCH", f"/api/incidents/{incident}", {
        "debrief_what": "Klant sloeg toe aan de balie.", "debrief_went_well": "BHV was er binnen een minuut.",
        "debrief_change": "Balie 1 krijgt een hogere balie.", "debrief_actions": "Facilitair, voor 1 februari.",
        "team_meeting_on": "2026-12-03"})
    assert debriefed["debrief_due"] is False
    assert debriefed["registration"]["team_meeting_on"] == "2026-12-03"
    # HRM cannot tick aftercare talks.
    talk = next(t for t in record["tasks"] if t["kind"] == "aftercare")
    assert (await code4.call(people.tokens["hrm"], f"/api/tasks/{talk['id']}", method="PATCH",
                             json={"done": True})).status_code == 403


async def test_a_near_incident_gets_aftercare_and_a_threat_is_not_a_near_miss(code4: Harness,
                                                                               people: People) -> None:
    report = await sanne_reports(people, near_miss=True, aggression_forms=[])
    assert report["aftercare_planned"] == 6 and report["status"] == "reported"
    threat = await code4.call(people.tokens["sanne"], "/api/reports", method="POST",
                              json={"contact_kind": "phone", "description": "Hij dreigde langs te komen.",
                                    "near_miss": True, "aggression_forms": ["intimidatie"]})
    assert threat.status_code == 422
    assert threat.json()["detail"]["errors"] == {
        "near_miss": "Een dreiging is agressie, geen bijna-incident. Haal het vinkje bij bijna-incident weg."}


async def test_an_account_without_a_person_cannot_report(code4: Harness, people: People) -> None:
    refused = await code4.call(people.tokens["admin"], "/api/reports", method="POST",
                               json={"contact_kind": "phone", "description": "x"})
    assert refused.status_code == 403 and "not linked to a person" in refused.text
    bad = await code4.call(people.tokens["sanne"], "/api/reports", method="POST",
                           json={"contact_kind": "phone", "description": "x", "aggression_forms": ["schoppen"]})
    assert bad.status_code == 422 and bad.json()["detail"]["errors"] == {
        "aggression_forms": "Kies een van de mogelijkheden."}


# ---- offenders and sanctions --------------------------------------------------------------------------


async def test_a_repeat_offender_is_recognised_and_the_sanction_raised(code4: Harness, people: People) -> None:
    first = (await sanne_reports(people, aggression_forms=["verbaal_geweld"]))["id"]
    record = await people.send("coordinator", "POST", f"/api/incidents/{first}/offenders",
                               {"name": "Henk de Boer", "address": "Dorpsstraat 12, 1234 AB Testdorp"})
    [henk] = record["offender_register"]
    assert henk["other_incidents"] == []
    assert (henk["suggestion"]["kind"], henk["suggestion"]["repeat"]) == ("warning", False)
    warning = await people.send("coordinator", "POST", f"/api/incidents/{first}/sanctions",
                                {"offender_id": henk["id"], "kind": "warning"}, expect=201)
    assert warning["ends_on"] is None and warning["suggested"] == "warning"
    assert "Onderwerp: Waarschuwing" in warning["letter"] and "Henk de Boer" in warning["letter"]
    assert "telefonisch contact opgenomen met Testgemeente" in warning["letter"]

    # Three weeks later: intimidation at the counter, the same man.
    await code4.advance(21 * DAY)
    second = (await sanne_reports(people, contact_kind="counter", aggression_forms=["intimidatie",
                                                                                      "verbaal_geweld"]))["id"]
    found = await people.get("coordinator", "/api/offenders", q="boer")
    assert [(o["name"], o["incidents"]) for o in found] == [("Henk de Boer", 1)]
    record = await people.send("coordinator", "POST", f"/api/incidents/{second}/offenders",
                               {"offender_id": found[0]["id"]})
    [henk] = record["offender_register"]
    assert henk["other_incidents"] == [first]
    assert (henk["suggestion"]["kind"], henk["suggestion"]["repeat"]) == ("ban_12", True)
    assert henk["suggestion"]["deciding_form"] == "intimidatie"
    # The team lead sees that there is an offender: not who, not the register or earlier incidents.
    lead = await people.get("lead", f"/api/incidents/{second}")
    assert lead["offenders_linked"] == 1 and lead["offender_register"] is None
    assert "Henk" not in str(lead)

    ban = await people.send("coordinator", "POST", f"/api/incidents/{second}/sanctions",
                            {"offender_id": henk["id"], "kind": "ban_12", "starts_on": "2026-12-15"}, expect=201)
    assert (ban["starts_on"], ban["ends_on"]) == ("2026-12-15", "2027-12-14")
    letter = await code4.call(people.tokens["coordinator"], f"/api/sanctions/{ban['id']}/letter")
    assert "de toegang tot ons gebouw te ontzeggen voor 12 maanden, van 15-12-2026 tot en met 14-12-2027" in letter.text
    assert "namens de directie van Testgemeente," in letter.text
    assert letter.text.rstrip().endswith("Marieke van Dijk\nafdelingshoofd"), "Sanne's afdelingshoofd signs"
    record = await people.get("coordinator", f"/api/incidents/{second}")
    # Recidive is asked, with the register's answer beside it: not filled in behind the coordinator's back.
    assert (record["registration"]["sanction"], record["registration"]["repeat_offender"]) == ("ban_12", None)
    assert record["repeat_suggested"] == [first]

    # Active from its first day; the control room sees the list too, an employee does not.
    assert await people.get("operator", "/api/bans") == []
    await code4.advance(2 * DAY)
    [active] = await people.get("operator", "/api/bans")
    assert (active["offender"], active["ends_on"], active["kind"]) == ("Henk de Boer", "2027-12-14", "ban_12")
    assert (await code4.call(people.tokens["sanne"], "/api/bans")).status_code == 403
    [mine, _] = await people.get("sanne", "/api/me/reports")
    assert (mine["id"], mine["sanction"], mine["sanction_ends"]) == (second, "ban_12", "2027-12-14")


async def test_only_a_real_earlier_incident_makes_a_repeat_and_other_measures_are_recorded(
        code4: Harness, people: People) -> None:
    # First: a complaint about the rules (class B, no aggression) by the same man.
    first = (await sanne_reports(people, aggression_forms=[]))["id"]
    await people.send("coordinator", "PATCH", f"/api/incidents/{first}", {"abcd_class": "B"})
    record = await people.send("coordinator", "POST", f"/api/incidents/{first}/offenders", {"name": "Henk de Boer"})
    henk = record["offender_register"][0]["id"]
    await code4.advance(7 * DAY)
    second = (await sanne_reports(people, aggression_forms=["verbaal_geweld"]))["id"]
    record = await people.send("coordinator", "POST", f"/api/incidents/{second}/offenders", {"offender_id": henk})
    [seen] = record["offender_register"]
    assert seen["other_incidents"] == [first], "the register shows the earlier contact"
    assert (seen["suggestion"]["kind"], seen["suggestion"]["repeat"]) == ("warning", False), "class B is no repeat"
    assert record["repeat_suggested"] == []
    # The protocol's other measures: contact only in writing, with its letter.
    measure = await people.send("coordinator", "POST", f"/api/incidents/{second}/sanctions",
                                {"offender_id": henk, "kind": "written_only"}, expect=201)
    assert measure["ends_on"] is None
    assert "alleen nog schriftelijk contact met ons kunt opnemen" in measure["letter"]


# ---- retention -------------------------------------------------------------------------------------------


@pytest.fixture
async def short_retention(mosquitto: Mosquitto, database_url: str, clock: FakeClock, tmp_path: Path) -> Any:
    config = yaml.safe_load(TESTORG.read_text(encoding="utf-8"))
    config["records"] = {"retention": "30d", "employer_address": "Postbus 1, 1234 ZZ Testdorp"}
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    harness = Harness(mosquitto=mosquitto, database_url=database_url, clock=clock, tmp_path=tmp_path, config=path)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.close()


async def test_records_are_anonymised_after_the_retention_period(short_retention: Harness) -> None:
    code4 = short_retention
    people = await People(code4).create()
    old_alarm = await closed_alarm(code4)
    old_report = (await sanne_reports(people))["id"]
    await people.send("coordinator", "POST", f"/api/incidents/{old_report}/offenders", {"name": "Henk de Boer"})
    before = await people.get("coordinator", "/api/learning/summary")

    await code4.advance(20 * DAY)
    recent = (await sanne_reports(people, description="Nog vers."))["id"]
    await code4.advance(11 * DAY + 3600)  # past 03:00, 31 days after the first two: the nightly job runs

    for incident in (old_alarm, old_report):
        record = await wait_anonymised(people, incident)
        assert record["person_affected"] is None and record["registration"]["description"] is None
        assert record["status"] == "anonymised"
        assert "Sanne" not in str(record) and "Henk" not in str(record)
    alarm_record = await people.get("coordinator", f"/api/incidents/{old_alarm}")
    assert {e["actor"] for e in alarm_record["timeline"]} <= {"code4", "anoniem"}
    assert alarm_record["location"] == "Balie 1, Publiekshal, Stadhuis Testdorp", "a place in a building stays"
    assert await code4.alarms("all") == [], "the alarm's stored state (names, numbers) is gone"
    assert (await people.get("coordinator", "/api/offenders", q="henk")) == []
    # The recent one is untouched; the statistics still count all three.
    assert (await people.get("coordinator", f"/api/incidents/{recent}"))["registration"]["description"] == "Nog vers."
    after = await people.get("coordinator", "/api/learning/summary")
    assert after["total"] == before["total"] + 1
    assert after["response"]["first_accept"] == before["response"]["first_accept"]
    assert after["by_location"]["Balie 1, Publiekshal, Stadhuis Testdorp"] == 1
    # A change to an anonymised record is refused.
    refused = await code4.call(people.tokens["coordinator"], f"/api/incidents/{old_report}", method="PATCH",
                               json={"description": "terug"})
    assert refused.status_code == 422


async def wait_anonymised(people: People, incident: int) -> dict[str, Any]:
    for _ in range(200):
        record = await people.get("coordinator", f"/api/incidents/{incident}")
        if record["anonymised_at"]:
            return record  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError(f"incident {incident} was not anonymised")


# ---- importing and learning -------------------------------------------------------------------------------


async def test_a_generated_year_imports_and_the_reports_count_it(code4: Harness, people: People) -> None:
    from simulators.incidents import generate, send

    incidents = generate(TESTORG, first=date(2025, 11, 24), last=date(2026, 11, 22), count=300, seed=7)
    assert code4.service is not None
    ids = await code4.wait(send, incidents, url=code4.service.http_url, token=people.tokens["admin"], batch=120)
    assert len(ids) == 300

    report = await people.get("coordinator", "/api/learning/summary", since="2025-11-01")
    false_alarms = sum(i.get("outcome") == "false_alarm" for i in incidents)
    assert false_alarms and report["false_alarms"] == false_alarms, "counted apart"
    assert report["total"] == 300 - false_alarms, "the statistics count incidents"
    assert report["alarms"] == sum(i["source"] == "alarm" and i.get("outcome") != "false_alarm" for i in incidents)
    assert report["peak"]["weekday"] == 0 and 9 <= report["peak"]["hour"] <= 11, "the Monday-morning peak"
    assert sum(map(sum, report["heatmap"])) == 300 - false_alarms
    response = report["response"]
    assert response["alarms"] == sum(i.get("outcome") == "resolved" for i in incidents)
    assert 5 <= response["first_accept"]["median_s"] <= 60
    assert 0 < response["escalated_bhv"] < response["alarms"]
    assert response["escalated_police"] < response["escalated_bhv"]
    assert sum(report["by_form"].values()) >= report["by_abcd"]["C"]

    csv = await code4.call(people.tokens["coordinator"], "/api/learning/incidents.csv", since="2025-11-01")
    lines = csv.text.strip().splitlines()
    assert len(lines) == 301 and lines[0].startswith("id,date,weekday,hour,quarter,site")
    assert "schold" not in csv.text and "Sanne" not in csv.text, "no descriptions or names in the export"

    quarterly = await people.get("coordinator", "/api/learning/quarterly", quarter="2026-Q3")
    assert list(quarterly["quarters"]) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert quarterly["total"] == quarterly["quarters"]["2026-Q3"]["total"] > 0


async def test_an_import_with_a_mistake_stores_nothing(code4: Harness, people: People) -> None:
    good = {"occurred_at": "2026-03-02T09:15:00+01:00", "source": "report", "contact_kind": "phone",
            "abcd_class": "C", "aggression_forms": ["verbaal_geweld"], "description": "Scheldpartij."}
    bad = {**good, "abcd_class": "E", "timeline": [{"at": "2026-03-02T08:15:00Z", "kind": "exploded"}]}
    refused = await code4.call(people.tokens["admin"], "/api/incidents/import", method="POST",
                               json={"incidents": [good, bad]})
    assert refused.status_code == 422
    assert refused.json()["detail"]["errors"] == {"1.abcd_class": "Kies een van de mogelijkheden.",
                                                  "1.timeline": "Kies een van de mogelijkheden."}
    assert (await people.get("coordinator", "/api/incidents/counts"))["total"] == 0
    assert (await code4.call(people.tokens["sanne"], "/api/incidents/import", method="POST",
                             json={"incidents": [good]})).status_code == 403


# ---- the pages --------------------------------------------------------------------------------------------


async def test_the_pages_speak_english_on_request_and_forms_need_their_csrf_token(code4: Harness,
                                                                                   people: People) -> None:
    incident = (await sanne_reports(people))["id"]
    assert code4.service is not None
    async with httpx.AsyncClient(base_url=code4.service.http_url) as browser:
        form = await browser.get("/login")
        prelogin = re.search(r'name="prelogin" value="([^"]+)"', form.text)
        assert prelogin
        signed_in = await browser.post("/login", data={"username": "coco", "password": OPERATOR_PASSWORD,
                                                       "prelogin": prelogin.group(1), "next": "/incidents"})
        assert signed_in.status_code == 303
        dutch = await browser.get(f"/incidents/{incident}")
        assert "Opslaan en registratie afronden" in dutch.text and "Wanneer en waar" in dutch.text
        english = await browser.get(f"/incidents/{incident}", params={"lang": "en"})
        assert "Save and complete the registration" in english.text and "When and where" in english.text
        assert "Report an incident" in (await browser.get("/report")).text, "the choice sticks"

        refused = await browser.post(f"/incidents/{incident}", data={"description": "zonder token"})
        assert refused.status_code == 403
        token = re.search(r'name="csrf_token" value="([^"]+)"', english.text)
        assert token
        saved = await browser.post(f"/incidents/{incident}", data={
            "csrf_token": token.group(1), "description": "Met token.", "occurred_at": "2026-11-23T10:30",
            "aggression_forms": ["verbaal_geweld", "intimidatie"], "abcd_class": "D", "action": "save"})
        assert (saved.status_code, saved.headers["location"]) == (303, f"/incidents/{incident}?saved=1")
    record = await people.get("coordinator", f"/api/incidents/{incident}")
    assert record["registration"]["description"] == "Met token."
    assert record["registration"]["aggression_forms"] == ["verbaal_geweld", "intimidatie"]
    assert record["registration"]["occurred_at"].startswith("2026-11-23T09:30"), "local time in the form"

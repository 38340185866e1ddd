"""The rules of the seeds, as plain functions.

* Aftercare (employers' workbook, bijlage 15): contact the same day, the next day, in the first
  week, after 2, 4 and 6 weeks (configurable in the agreement file). A hospital admission or a
  death must be reported to the Inspectie SZW at once (OVER-gemeenten protocol, art. 5.4).
* Sanctions (OVER-gemeenten protocol, art. 6): the heaviest form of aggression decides; a
  repeat offence raises it.

| form of aggression | first time | on repeat |
| --- | --- | --- |
| verbaal geweld, discriminatie | written warning | access ban 3 months |
| intimidatie (serious threat, psychological pressure) | ban 6 months | ban 12 months |
| fysiek zaakgericht (against property) | ban 6 months | ban 12 months |
| fysiek persoonsgericht (against a person) | ban 12 months | ban 24 months |
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FORMS = ("verbaal_geweld", "discriminatie", "intimidatie", "fysiek_zaakgericht", "fysiek_persoonsgericht")
ABCD = ("A", "B", "C", "D")
CONTACT_KINDS = ("counter", "interview", "phone", "home_visit", "street", "online", "other")
SANCTIONS = ("warning", "ban_3", "ban_6", "ban_12", "ban_24")
BAN_MONTHS = {"ban_3": 3, "ban_6": 6, "ban_12": 12, "ban_24": 24}
# The dates records and reports take: far beyond any real record, and far from the calendar's
# ends, where a day or a ban added (or UTC's offset) would overflow.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)

# form -> (first time, on repeat); the order of SANCTIONS is their weight
TABLE = {
    "verbaal_geweld": ("warning", "ban_3"),
    "discriminatie": ("warning", "ban_3"),
    "intimidatie": ("ban_6", "ban_12"),
    "fysiek_zaakgericht": ("ban_6", "ban_12"),
    "fysiek_persoonsgericht": ("ban_12", "ban_24"),
}


@dataclass(frozen=True)
class PlannedTask:
    kind: str  # aftercare | inspectie_szw
    title: str
    due_at: datetime


def aftercare_plan(schedule: list[tuple[int, str]], since: datetime, *, serious: bool, now: datetime,
                   tz: ZoneInfo) -> list[PlannedTask]:
    """Tasks from the schedule, counted from when the incident happened: each is due at the end
    of the (local) day it falls on, so "the same day" means before midnight. A serious incident
    adds the Inspectie SZW task, due at once."""
    tasks = []
    if serious:
        tasks.append(PlannedTask("inspectie_szw", SZW_TASK, now))
    first_day = since.astimezone(tz).date()
    for offset, title in schedule:
        # Calendar days in local time: "the next day" stays the next day across a DST change.
        day = first_day + timedelta(days=offset // 86400)
        end_of_day = datetime.combine(day, time(23, 59), tzinfo=tz)
        tasks.append(PlannedTask("aftercare", title, end_of_day.astimezone(since.tzinfo)))
    return tasks


SZW_TASK = ("Inspectie SZW direct melden: ziekenhuisopname of overlijden "
            "(telefonisch, daarna schriftelijk bevestigen)")


@dataclass(frozen=True)
class Suggestion:
    kind: str
    deciding_form: str
    repeat: bool
    reason: str


def suggest_sanction(forms: list[str], *, repeat: bool) -> Suggestion | None:
    """The sanction the table gives: the heaviest form decides; a repeat raises it."""
    known = [f for f in forms if f in TABLE]
    if not known:
        return None
    column = 1 if repeat else 0
    deciding = max(known, key=lambda f: SANCTIONS.index(TABLE[f][column]))
    kind = TABLE[deciding][column]
    reason = (f"{deciding.replace('_', ' ')}" + (" (herhaling)" if repeat else " (eerste keer)")
              + (", de zwaarste van " + ", ".join(f.replace("_", " ") for f in known) if len(known) > 1 else ""))
    return Suggestion(kind, deciding, repeat, reason)


def ban_ends(kind: str, starts_on: date) -> date | None:
    """The last day of an access ban: the day before the same date so many months on (a ban of
    3 months from 15 January runs to and including 14 April)."""
    months = BAN_MONTHS.get(kind)
    if months is None:
        return None
    index = starts_on.month - 1 + months
    year, month = starts_on.year + index // 12, index % 12 + 1
    return date(year, month, min(starts_on.day, calendar.monthrange(year, month)[1])) - timedelta(days=1)


SANCTION_WORDS = {"warning": "een schriftelijke waarschuwing",
                  **{kind: f"de toegang tot ons gebouw te ontzeggen voor {months} maanden"
                     for kind, months in BAN_MONTHS.items()}}


def warning_letter(*, organisation: str, offender: str, address: str | None, incident_on: date,
                   contact_kind: str | None, kind: str, starts_on: date, ends_on: date | None, today: date,
                   signed_by: str, reference: str) -> str:
    """The OVER-gemeenten protocol's example letter ('Voorbeeld waarschuwingsbrief'), filled in;
    for an access ban the same letter with the decision and its period."""
    if contact_kind == "phone":
        contact = f"heeft u telefonisch contact opgenomen met {organisation}"
    elif contact_kind == "home_visit":
        contact = f"heeft u een medewerker van {organisation} ontvangen voor een huisbezoek"
    else:
        contact = f"heeft u {organisation} bezocht"
    subject = "Waarschuwing" if kind == "warning" else "Ontzegging van de toegang"
    lines = [organisation, "", offender, *([address] if address else []), "",
             f"Datum: {today:%d-%m-%Y}", f"Ons nummer: {reference}", f"Onderwerp: {subject}", "",
             "Geachte heer/mevrouw,", "",
             f"Op {incident_on:%d-%m-%Y} {contact}. Dit contact is niet correct verlopen.", "",
             f"Het is voor ons onaanvaardbaar dat medewerkers van {organisation} door u bedreigd worden, of op enige "
             "andere wijze hun werkzaamheden niet kunnen uitvoeren doordat u overlast veroorzaakt.", ""]
    if kind == "warning" or ends_on is None:
        lines += ["Uw gedrag noodzaakt ons u dringend te verzoeken dit gedrag niet meer te tonen bij toekomstige "
                  "bezoeken en telefoongesprekken. Gebeurt dit wel, dan kan dit voor ons aanleiding zijn u de "
                  "toegang tot ons gebouw te ontzeggen of u telefonisch niet langer te woord te staan.", "",
                  "Wij vertrouwen erop dat u zich voortaan correct gedraagt."]
    else:
        lines += [f"Wij hebben daarom besloten u {SANCTION_WORDS[kind]}, van {starts_on:%d-%m-%Y} tot en met "
                  f"{ends_on:%d-%m-%Y}. In deze periode kunt u alleen schriftelijk contact met ons opnemen, of "
                  "via een ander die namens u optreedt.", "",
                  "Bij herhaling van dit gedrag na afloop van deze periode volgt een langere ontzegging."]
    lines += ["", "Met vriendelijke groet,", "", signed_by]
    return "\n".join(lines)

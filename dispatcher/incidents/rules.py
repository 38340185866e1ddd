"""The rules of the seeds, as plain functions.

* Aftercare (employers' workbook, bijlage 15): contact the same day, the next day, in the first
  week, after 2, 4 and 6 weeks (configurable in the agreement file), planned when the alarm
  closes or the report comes in, for the person affected and for each colleague or witness
  named later. The workbook's "within 72 hours" start is a task of its own; aftercare that is
  declined is offered again a few weeks later (a task too).
* A death, or an injury that takes the victim to hospital within 24 hours or leaves lasting
  harm: the afdelingshoofd tells HRM at once, HRM reports it to the Nederlandse
  Arbeidsinspectie at once by phone and then in writing (OVER-gemeenten werkprotocol
  art. 6, item 4). Each of the three is a task; who did it and when is recorded on it.
* Sanctions (OVER-gemeenten protocol, art. 6 "Sanctiebeleid"): the heaviest form of aggression
  decides; a repeat offence raises it. The forms the protocol lists besides the form's five
  (stalking, sexual intimidation, vandalism, weapons) take the row of the form they are a kind of.

| form of aggression | first time | on repeat |
| --- | --- | --- |
| verbaal geweld, discriminatie | written warning | access ban 3 months |
| intimidatie (serious threat, psychological pressure) | ban 6 months | ban 12 months |
| fysiek zaakgericht (against property) | ban 6 months | ban 12 months |
| fysiek persoonsgericht (against a person) | ban 12 months | ban 24 months |
| stalking, seksuele intimidatie (as intimidatie) | ban 6 months | ban 12 months |
| vernieling (as fysiek zaakgericht) | ban 6 months | ban 12 months |
| wapen (carrying a weapon; as fysiek persoonsgericht) | ban 12 months | ban 24 months |

ABCD and the forms agree: class C is verbal aggression (verbaal geweld, discriminatie), class D
is everything else (physical violence, threats, intimidation, stalking, weapons).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

FORMS = ("verbaal_geweld", "discriminatie", "intimidatie", "fysiek_zaakgericht", "fysiek_persoonsgericht",
         "stalking", "seksuele_intimidatie", "vernieling", "wapen")
VERBAL_FORMS = frozenset({"verbaal_geweld", "discriminatie"})  # class C; every other form is class D
ABCD = ("A", "B", "C", "D")
# Who the offender is to the organisation (the form's "Relatie met de organisatie").
OFFENDER_RELATIONS = ("client", "visitor", "tenant", "relative", "supplier", "colleague", "unknown", "other")
# The form's "Wordt er een sanctie opgelegd? nee / waarschuwing / ontzegging / anders, namelijk".
SANCTION_ANSWERS = ("none", "warning", "ban_3", "ban_6", "ban_12", "ban_24", "conversation", "written_only",
                    "other")
CONTACT_KINDS = ("counter", "interview", "phone", "home_visit", "street", "online", "other")
# The order of the first five is their weight; the protocol's other measures follow.
SANCTIONS = ("warning", "ban_3", "ban_6", "ban_12", "ban_24", "conversation", "written_only")
MEASURES = ("conversation", "written_only")  # a talk with the offender; contact only in writing
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
    "stalking": ("ban_6", "ban_12"),
    "seksuele_intimidatie": ("ban_6", "ban_12"),
    "vernieling": ("ban_6", "ban_12"),
    "wapen": ("ban_12", "ban_24"),
}


def class_of(forms: list[str]) -> str | None:
    """The ABCD class the forms mean: D when any is physical, a threat or intimidation, C when all
    are verbal, none without forms."""
    if not forms:
        return None
    return "C" if set(forms) <= VERBAL_FORMS else "D"


# The protocol's criteria for a police report (art. 6, item 5), shown with class D. Its word
# "ambtsdwang" is said in other words: "dwang" on a record page would read as duress.
AANGIFTE_CRITERIA = ("(bedreiging met) geweld tegen personen, verkrachting of aanranding",
                     "een medewerker dwingen iets te doen of juist na te laten",
                     "vernieling door agressief gedrag")


@dataclass(frozen=True)
class PlannedTask:
    kind: str  # see TASK_KINDS
    title: str
    due_at: datetime
    subject: str | None = None  # whom the talk is with; None: the person affected


# aftercare: a talk from the schedule · aftercare_72h: aftercare started within 72 hours ·
# renewed_offer: aftercare declined, offered again · inform_hrm: the afdelingshoofd tells HRM ·
# ai_phone, ai_written: HRM reports to the Nederlandse Arbeidsinspectie
AFTERCARE_KINDS = ("aftercare", "aftercare_72h", "renewed_offer")
INSPECTION_KINDS = ("inform_hrm", "ai_phone", "ai_written")
TASK_KINDS = (*AFTERCARE_KINDS, *INSPECTION_KINDS)
WITHIN_72H = timedelta(hours=72)
RENEWED_OFFER_AFTER = timedelta(weeks=3)  # the workbook's "na enkele weken"
WRITTEN_WITHIN = timedelta(days=1)  # "zo spoedig mogelijk schriftelijk bevestigd"

TASK_72H = "Nazorg is binnen 72 uur gestart (opvang, praktische zaken, zo nodig doorverwijzen)"
TASK_RENEWED = "Nazorg opnieuw aanbieden (eerder afgeslagen): let op veranderd gedrag of humeur"
TASK_INFORM_HRM = "Afdelingshoofd: HRM direct inlichten (ernstig letsel of overlijden)"
TASK_AI_PHONE = "HRM: direct telefonisch melden aan de Nederlandse Arbeidsinspectie"
TASK_AI_WRITTEN = "HRM: de melding schriftelijk bevestigen aan de Nederlandse Arbeidsinspectie"


def aftercare_plan(schedule: list[tuple[int, str]], since: datetime, *, tz: ZoneInfo,
                   subject: str | None = None) -> list[PlannedTask]:
    """Tasks from the schedule, counted from when the incident happened: each is due at the end
    of the (local) day it falls on, so "the same day" means before midnight; and the check that
    aftercare started within 72 hours."""
    tasks = []
    first_day = since.astimezone(tz).date()
    for offset, title in schedule:
        # Calendar days in local time: "the next day" stays the next day across a DST change.
        day = first_day + timedelta(days=offset // 86400)
        end_of_day = datetime.combine(day, time(23, 59), tzinfo=tz)
        tasks.append(PlannedTask("aftercare", title, end_of_day.astimezone(since.tzinfo), subject))
    tasks.append(PlannedTask("aftercare_72h", TASK_72H, since + WITHIN_72H, subject))
    return sorted(tasks, key=lambda t: t.due_at)


def renewed_offer(declined_at: datetime, subject: str | None) -> PlannedTask:
    """Aftercare declined: the employer offers it again a few weeks later."""
    return PlannedTask("renewed_offer", TASK_RENEWED, declined_at + RENEWED_OFFER_AFTER, subject)


def is_serious(*, hospital_admission: bool | None, death: bool | None, lasting_harm: bool | None) -> bool:
    """Art. 6, item 4: death, hospital admission within 24 hours, or lasting harm."""
    return bool(hospital_admission or death or lasting_harm)


def inspection_plan(now: datetime) -> list[PlannedTask]:
    """The duty of art. 6, item 4, as three tasks: the afdelingshoofd tells HRM and HRM phones the
    Arbeidsinspectie at once; the written confirmation follows."""
    return [PlannedTask("inform_hrm", TASK_INFORM_HRM, now), PlannedTask("ai_phone", TASK_AI_PHONE, now),
            PlannedTask("ai_written", TASK_AI_WRITTEN, now + WRITTEN_WITHIN)]


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
    for an access ban or another measure the same letter with the decision. The afdelingshoofd
    signs it on behalf of the organisation's board (art. 6 "Sanctiebeleid": "namens")."""
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
    if kind == "conversation":
        lines += ["Wij nodigen u daarom uit voor een gesprek over wat er is gebeurd en over hoe wij voortaan met "
                  "elkaar omgaan. U ontvangt hiervoor een afspraak.", "",
                  "Gebeurt dit opnieuw, dan kan dit voor ons aanleiding zijn u de toegang tot ons gebouw te ontzeggen."]
    elif kind == "written_only":
        lines += [f"Wij hebben daarom besloten dat u vanaf {starts_on:%d-%m-%Y} alleen nog schriftelijk contact met "
                  "ons kunt opnemen, per brief of e-mail. Wij staan u niet meer telefonisch of aan de balie te woord.",
                  "", "Gebeurt dit opnieuw, dan kan dit voor ons aanleiding zijn u de toegang tot ons gebouw te "
                  "ontzeggen."]
    elif kind == "warning" or ends_on is None:
        lines += ["Uw gedrag noodzaakt ons u dringend te verzoeken dit gedrag niet meer te tonen bij toekomstige "
                  "bezoeken en telefoongesprekken. Gebeurt dit wel, dan kan dit voor ons aanleiding zijn u de "
                  "toegang tot ons gebouw te ontzeggen of u telefonisch niet langer te woord te staan.", "",
                  "Wij vertrouwen erop dat u zich voortaan correct gedraagt."]
    else:
        lines += [f"Wij hebben daarom besloten u {SANCTION_WORDS[kind]}, van {starts_on:%d-%m-%Y} tot en met "
                  f"{ends_on:%d-%m-%Y}. In deze periode kunt u alleen schriftelijk contact met ons opnemen, of "
                  "via een ander die namens u optreedt.", "",
                  "Bij herhaling van dit gedrag na afloop van deze periode volgt een langere ontzegging."]
    lines += ["", "Met vriendelijke groet,", f"namens de directie van {organisation},", "", signed_by, "afdelingshoofd"]
    return "\n".join(lines)

"""`code4 simulate incidents`: a realistic year of incident records for demos, tests and trying
out the reports, sent to a running code4 through its import API.

What makes it realistic (the seeds describe it): most incidents on weekdays in office hours,
with a Monday-morning peak (letters sent on Friday arrive over the weekend); counters and
interview rooms busier than the rest; mostly verbal aggression (class C), some physical (D);
a share reported afterwards without an alarm (phone, home visits, near-incidents). Alarm records
carry a timeline in code4's own format: raised, colleagues paged, someone accepts within
seconds to a minute and is on scene a little later, now and then escalated to the BHV with
code 4, rarely the police, very rarely unanswered for a round.

Same seed, same year: a test can count on the numbers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx

from escalation.loader import load_file

WEEKDAY_WEIGHT = (30, 18, 17, 17, 13, 3, 2)  # Monday .. Sunday
HOUR_WEIGHT = {8: 5, 9: 12, 10: 14, 11: 12, 12: 6, 13: 9, 14: 11, 15: 10, 16: 7, 17: 3, 18: 2, 19: 1, 20: 1}
MONDAY_MORNING_BOOST = {9: 2.5, 10: 3.0, 11: 2.0}
CLASS_WEIGHT = {"A": 4, "B": 8, "C": 58, "D": 30}
FORMS_BY_CLASS = {
    "A": [], "B": [],
    # C is verbal only; a threat or intimidation is D (the registration form checks they agree)
    "C": [["verbaal_geweld"], ["verbaal_geweld"], ["verbaal_geweld", "discriminatie"], ["discriminatie"],
          ["verbaal_geweld"]],
    "D": [["intimidatie"], ["intimidatie", "verbaal_geweld"], ["fysiek_zaakgericht"],
          ["fysiek_zaakgericht", "intimidatie"], ["fysiek_persoonsgericht"], ["fysiek_persoonsgericht", "intimidatie"]],
}
REPORT_CONTACT = {"phone": 40, "home_visit": 25, "counter": 15, "street": 10, "online": 10}
DESCRIPTIONS = {
    "C": ["Klant werd boos over de afwijzing van zijn aanvraag en begon te schreeuwen.",
          "Bezoeker schold de medewerker uit toen de wachttijd werd genoemd.",
          "Beller bleef schelden en dreigde 'het hogerop te zoeken'.",
          "Klant maakte discriminerende opmerkingen over de medewerker."],
    "D": ["Bezoeker sloeg met de vuist op de balie en gooide de folders weg.",
          "Klant dreigde de medewerker op te wachten na het werk.",
          "Bewoner duwde de medewerker tijdens het huisbezoek de deur uit.",
          "Bezoeker gooide een stoel om in de spreekkamer."],
    "A": ["Klant eiste een uitzondering en werd luid, maar bleef beheerst."],
    "B": ["Bezoeker had kritiek op de nieuwe regels en wilde het afdelingshoofd spreken."],
}


@dataclass(frozen=True)
class Place:
    site_id: str
    location: str
    device_id: str | None  # the button there, for the timeline's actor


def generate(config: Path, *, first: date, last: date, count: int, seed: int = 4, tz: str = "Europe/Amsterdam",
             until: datetime | None = None) -> list[dict[str, Any]]:
    """`count` incidents spread over the days `first`..`last` (none after `until`), as the
    import API takes them."""
    org = load_file(config).organisation
    zone = ZoneInfo(tz)
    rng = random.Random(seed)
    places = _places(org)
    people = [p for p in org.people if p.teams]
    responders = [p.name for p in org.people if "bhv" in p.roles] or ["BHV"]
    colleagues = [p.name for p in org.people if p.teams] or ["Collega"]
    days = _days(first, min(last, until.astimezone(zone).date()) if until else last)
    incidents = []
    for _ in range(count):
        occurred = _moment(rng, days, zone)
        if until and occurred > until:
            occurred = until - timedelta(minutes=rng.randint(5, 600))
        abcd = _pick(rng, CLASS_WEIGHT)
        forms = rng.choice(FORMS_BY_CLASS[abcd]) if FORMS_BY_CLASS[abcd] else []
        by_alarm = rng.random() < 0.6
        place = rng.choice(places)
        person = rng.choice(people) if people else None
        item: dict[str, Any] = {
            "occurred_at": occurred.astimezone(UTC).isoformat(), "source": "alarm" if by_alarm else "report",
            "site_id": place.site_id, "location": place.location, "abcd_class": abcd, "aggression_forms": forms,
            "description": rng.choice(DESCRIPTIONS[abcd]), "near_miss": (not by_alarm and rng.random() < 0.3
                                                                            and not forms),
            "affected_person_id": person.id if person else None, "completed": rng.random() < 0.8,
        }
        if abcd == "D" and rng.random() < 0.25:
            item["injury"] = rng.choice(["Blauwe plek op de arm.", "Schaafwond.", "Geschrokken, geen letsel."])
            item["hospital_admission"] = rng.random() < 0.05
        if abcd in ("C", "D"):
            item["police_report"] = abcd == "D" and rng.random() < 0.5
        if by_alarm:
            item["contact_kind"] = "interview" if "spreekkamer" in place.location.lower() else "counter"
            item["kind"] = "panic"
            outcome, timeline = _timeline(rng, occurred, place, colleagues, responders)
            item["outcome"], item["timeline"] = outcome, timeline
        else:
            item["contact_kind"] = _pick(rng, REPORT_CONTACT)
        incidents.append(item)
    return incidents


def send(incidents: list[dict[str, Any]], *, url: str, token: str, batch: int = 500) -> list[int]:
    """Post the incidents to code4's import API; returns the new record ids."""
    ids: list[int] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for start in range(0, len(incidents), batch):
            response = client.post("/api/incidents/import", json={"incidents": incidents[start:start + batch]})
            if response.status_code != 201:
                raise RuntimeError(f"code4 refused the import ({response.status_code}): {response.text[:500]}")
            ids += response.json()["ids"]
    return ids


# ---- the parts ----------------------------------------------------------------------------------------


def _places(org: Any) -> list[Place]:
    buttons = {d.location: d.id for d in org.devices if d.location}
    places = []
    for site in org.sites:
        for zone in site.zones:
            for loc in zone.locations:
                device = buttons.get(f"{site.id}/{loc.id}") or buttons.get(loc.id)
                # Counters and interview rooms see most incidents: list them more often.
                weight = 3 if any(w in loc.name.lower() for w in ("balie", "spreekkamer")) else 1
                places += [Place(site.id, f"{loc.name}, {zone.name}", device)] * weight
    if not places:
        raise ValueError("the agreement file has no locations to put incidents in")
    return places


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _moment(rng: random.Random, days: list[date], zone: ZoneInfo) -> datetime:
    weights = [WEEKDAY_WEIGHT[d.weekday()] for d in days]
    day = rng.choices(days, weights)[0]
    hours = {h: w * (MONDAY_MORNING_BOOST.get(h, 1.0) if day.weekday() == 0 else 1.0) for h, w in HOUR_WEIGHT.items()}
    hour = _pick(rng, hours)
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=zone)


def _timeline(rng: random.Random, raised: datetime, place: Place, colleagues: list[str],
              responders: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """An alarm's story in code4's timeline format."""
    entries: list[dict[str, Any]] = []
    device = f"device:{place.device_id or 'knop'}"

    def add(seconds: float, entry: str, actor: str = "code4", channel: str | None = None, **data: Any) -> None:
        entries.append({"at": (raised + timedelta(seconds=seconds)).astimezone(UTC).isoformat(), "kind": entry,
                        "actor": actor, "channel": channel, "data": data})

    add(0, "alarm_raised", device, kind="panic", silent=True, press=1, where=place.location, agreement="balie")
    add(0, "step_started", step="collega", code=None, reason="raised", required=1)
    for name in rng.sample(colleagues, min(2, len(colleagues))):
        add(0, "notified", channel="pager", recipient=name, step="collega", round=1, outside=False)
    roll = rng.random()
    if roll < 0.05:
        add(90, "closed", "operator:Centrale post", outcome="false_alarm", note=None)
        return "false_alarm", entries
    unanswered = roll > 0.985
    to_bhv = roll < 0.30 or unanswered
    first = max(4.0, rng.lognormvariate(3.0, 0.6))  # seconds; median about 20
    if to_bhv:
        add(20, "escalated", **{"from": "collega", "to": "bhv", "reason": "no_accept_in_time"})
        add(20, "step_started", step="bhv", code="4", reason="no_accept_in_time", required=2)
        for name in rng.sample(responders, min(2, len(responders))):
            add(20, "notified", channel="pager", recipient=name, step="bhv", round=1, outside=False)
        first += 20
        if unanswered:
            add(65, "unanswered", step="bhv", round=1, reason="no_accept_in_time")
            add(125, "repeated", step="bhv", round=2, reason="no_accept_in_time")
            first += 110
        pool = responders
    else:
        pool = colleagues
    name = rng.choice(pool)
    add(first, "accepted", name, channel="pager", recipient=name, role=1, step="bhv" if to_bhv else "collega")
    scene = first + rng.uniform(30, 150)
    add(scene, "on_scene", name, channel="pager", recipient=name, role=1)
    if rng.random() < 0.06:
        add(scene + 60, "police_requested", "operator:Centrale post", step="politie")
        add(scene + 60, "notified", channel="voice", recipient="Politie", step="politie", round=1, outside=True)
    add(scene + rng.uniform(300, 1500), "closed", "operator:Centrale post", outcome="resolved", note=None)
    return "resolved", entries


_T = TypeVar("_T")


def _pick(rng: random.Random, weights: Mapping[_T, float]) -> _T:
    return rng.choices(list(weights), list(weights.values()))[0]


def summary(incidents: list[dict[str, Any]], tz: str = "Europe/Amsterdam") -> Iterator[str]:
    """A few lines for the tester: how many, and where the peak is."""
    zone = ZoneInfo(tz)
    cells: dict[tuple[int, int], int] = {}
    for item in incidents:
        local = datetime.fromisoformat(item["occurred_at"]).astimezone(zone)
        cells[(local.weekday(), local.hour)] = cells.get((local.weekday(), local.hour), 0) + 1
    alarms = sum(i["source"] == "alarm" for i in incidents)
    yield f"{len(incidents)} incidents: {alarms} from alarms, {len(incidents) - alarms} reported afterwards"
    if cells:
        (day, hour), n = max(cells.items(), key=lambda c: c[1])
        yield f"busiest hour: {('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[day]} {hour:02d}:00 ({n})"

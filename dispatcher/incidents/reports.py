"""Learning from the records: counts, the weekday x hour heat map, response figures from the
alarm timelines, quarterly trends, and a CSV without personal data or anything typed. Pure:
rows in, figures out.

Response figures, per alarm that ran (not a drill, a false alarm or a cancelled press):
* time to first accept: alarm raised -> the first responder accepted
* time to on scene: alarm raised -> the first responder reported on scene
* escalated to BHV: a step paged with code 4 started
* escalated to the police: the control room called them, or a step reached an outside contact
* unanswered: the chain ran out (the board's ONBEANTWOORD)
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from devices.kinds import AlarmKind
from dispatcher.core.events import NOT_REAL, Outcome
from dispatcher.incidents.rules import ABCD, EARLIEST, FORMS, LATEST

if TYPE_CHECKING:
    from dispatcher.incidents.targets import TargetTable

NOT_RUN = NOT_REAL
# Counted apart: a measure of the alarm system, not of aggression (a drill is left out altogether).
NOT_AN_INCIDENT = (Outcome.FALSE_ALARM, Outcome.CANCELLED)
BHV_CODE = "4"
ALARM_KINDS = frozenset(AlarmKind)
PHYSICAL = frozenset({"fysiek_zaakgericht", "fysiek_persoonsgericht", "vernieling"})
OTHER_KIND = "other"  # an imported kind code4 does not know: free text, so not exported
FORMULA_STARTS = frozenset("=+-@\t\r")


@dataclass(frozen=True)
class Response:
    first_accept_s: float | None = None
    on_scene_s: float | None = None
    bhv: bool = False
    police: bool = False
    unanswered: bool = False
    answered_s: float | None = None  # the first accept, or an outside contact's confirm (the targets)
    closed_s: float | None = None


@dataclass(frozen=True)
class Row:
    """One incident as the reports see it: no names, no free text."""

    id: int
    occurred_at: datetime
    site: str | None
    location: str | None
    source: str  # alarm | report | import
    near_miss: bool
    kind: str | None
    contact_kind: str | None
    abcd_class: str | None
    forms: tuple[str, ...]
    outcome: str | None
    drill: bool
    injury: bool
    hospital_admission: bool
    police_report: bool | None
    sanction: str | None
    response: Response | None  # None: not an alarm, or no timeline

    @property
    def counts_for_response(self) -> bool:
        return self.response is not None and not self.drill and self.outcome not in NOT_RUN


def response_of(entries: Iterable[tuple[datetime, str, dict[str, Any]]]) -> Response | None:
    """The figures of one alarm from its timeline entries (time, kind, data)."""
    raised = accept = scene = answered = closed = None
    bhv = police = unanswered = False
    for at, kind, data in sorted(entries, key=lambda e: e[0]):
        if kind in ("accepted", "confirmed") and answered is None:
            answered = at
        if kind == "alarm_raised" and raised is None:
            raised = at
        elif kind == "accepted" and accept is None:
            accept = at
        elif kind == "closed" and closed is None:
            closed = at
        elif kind == "on_scene" and scene is None:
            scene = at
        elif kind == "step_started" and str(data.get("code") or "") == BHV_CODE:
            bhv = True
        elif kind in ("police_requested", "confirmed") or (kind == "notified" and data.get("outside")):
            police = True
        elif kind in ("unanswered", "repeated"):
            unanswered = True
    if raised is None:
        return None

    def since(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - raised).total_seconds()

    return Response(since(accept), since(scene), bhv, police, unanswered, since(answered), since(closed))


@dataclass(frozen=True)
class Figures:
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class ResponseSummary:
    alarms: int
    first_accept: Figures
    on_scene: Figures
    bhv: int
    police: int
    unanswered: int


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def of(cls, moment: datetime | date) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """'2026-Q3' or '2026-K3'."""
        year, _, number = text.upper().replace("K", "Q").partition("-Q")
        quarter = cls(int(year), int(number))
        # A report also counts the year before: that too must lie within the calendar code4 takes.
        if not 1 <= quarter.number <= 4 or not EARLIEST.year < quarter.year <= LATEST.year:
            raise ValueError(f"no quarter {text!r}")
        return quarter

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def end(self) -> date:
        """The first day after the quarter."""
        return date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)

    def previous(self, count: int = 1) -> Quarter:
        index = self.year * 4 + self.number - 1 - count
        return Quarter(index // 4, index % 4 + 1)


@dataclass
class Report:
    total: int
    alarms: int
    reports: int
    near_misses: int
    by_site: list[tuple[str, int]]
    by_location: list[tuple[str, int]]
    by_form: list[tuple[str, int]]
    by_abcd: list[tuple[str, int]]
    by_contact: list[tuple[str, int]]
    heatmap: list[list[int]]  # [weekday 0=Monday][hour 0-23], local time
    response: ResponseSummary
    quarters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hospital_admissions: int = 0
    police_reports: int = 0
    sanctions: list[tuple[str, int]] = field(default_factory=list)
    aggression: int = 0  # class C or D
    false_alarms: int = 0  # not incidents: counted apart
    cancelled: int = 0
    targets: TargetTable | None = None  # the response-time targets per month and site

    @property
    def peak(self) -> tuple[int, int, int] | None:
        """(weekday, hour, count) of the busiest cell."""
        best = max(((d, h, n) for d, row in enumerate(self.heatmap) for h, n in enumerate(row)),
                   key=lambda cell: cell[2], default=None)
        return best if best and best[2] else None


def build_report(rows: Sequence[Row], *, tz: ZoneInfo, quarters: Sequence[Quarter] = ()) -> Report:
    """Everything the report page shows, over the rows given (the caller chose period and site).
    Drills are left out of every figure; false and cancelled alarms are not incidents either and
    are only counted apart, as a measure of the alarm system itself."""
    rows = [r for r in rows if not r.drill and r.outcome != Outcome.DRILL]
    false_alarms = sum(r.outcome == Outcome.FALSE_ALARM for r in rows)
    cancelled = sum(r.outcome == Outcome.CANCELLED for r in rows)
    rows = [r for r in rows if r.outcome not in NOT_AN_INCIDENT]
    heatmap = [[0] * 24 for _ in range(7)]
    for row in rows:
        local = row.occurred_at.astimezone(tz)
        heatmap[local.weekday()][local.hour] += 1
    forms = Counter(f for r in rows for f in r.forms)
    abcd = Counter(r.abcd_class or "?" for r in rows)
    report = Report(
        total=len(rows),
        alarms=sum(r.source == "alarm" for r in rows),
        reports=sum(r.source == "report" for r in rows),
        near_misses=sum(r.near_miss for r in rows),
        by_site=_ranked(r.site or "?" for r in rows),
        by_location=_ranked(_place(r) for r in rows),
        by_form=[(f, forms[f]) for f in FORMS],
        by_abcd=[(c, abcd[c]) for c in (*ABCD, "?") if c != "?" or abcd[c]],
        by_contact=_ranked(r.contact_kind or ("alarm" if r.source == "alarm" else "?") for r in rows),
        heatmap=heatmap,
        response=summarise_response(rows),
        hospital_admissions=sum(r.hospital_admission for r in rows),
        police_reports=sum(r.police_report is True for r in rows),
        sanctions=_ranked(r.sanction for r in rows if r.sanction and r.sanction != "none"),
        aggression=sum(r.abcd_class in ("C", "D") for r in rows),
        false_alarms=false_alarms, cancelled=cancelled,
    )
    for quarter in quarters:
        inside = [r for r in rows if Quarter.of(r.occurred_at.astimezone(tz)) == quarter]
        summary = summarise_response(inside)
        report.quarters.append((quarter.label, {
            "total": len(inside),
            "cd": sum(r.abcd_class in ("C", "D") for r in inside),
            "physical": sum(any(f in PHYSICAL for f in r.forms) for r in inside),
            "near_misses": sum(r.near_miss for r in inside),
            "alarms": summary.alarms,
            "first_accept_median": summary.first_accept.median,
            "unanswered": summary.unanswered,
        }))
    return report


def summarise_response(rows: Iterable[Row]) -> ResponseSummary:
    runs = [r.response for r in rows if r.counts_for_response and r.response is not None]
    return ResponseSummary(
        alarms=len(runs),
        first_accept=_figures([r.first_accept_s for r in runs if r.first_accept_s is not None]),
        on_scene=_figures([r.on_scene_s for r in runs if r.on_scene_s is not None]),
        bhv=sum(r.bhv for r in runs), police=sum(r.police for r in runs),
        unanswered=sum(r.unanswered for r in runs),
    )


CSV_COLUMNS = ("id", "date", "weekday", "hour", "quarter", "site", "location", "source", "near_miss", "kind",
               "contact_kind", "abcd_class", *FORMS, "injury", "hospital_admission", "police_report", "sanction",
               "outcome", "first_accept_s", "on_scene_s", "escalated_bhv", "escalated_police", "unanswered")


def to_csv(rows: Iterable[Row], *, tz: ZoneInfo, places: Collection[str]) -> str:
    """One line per incident, for a spreadsheet: no names, no descriptions, nothing anyone typed
    (safe to share with management). `places` are the agreement file's places as code4 writes
    them (`Directory.place_names`): a location is exported only when it is one of them, since a
    typed one ("where" of a report, a field worker's whereabouts) may hold an address or a name.
    Times are local; yes/no as 1/0; numbers stay numbers; text that a spreadsheet would run as a
    formula is neutralised (`spreadsheet_text`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        local = r.occurred_at.astimezone(tz)
        resp = r.response or Response()
        location = r.location if r.location in places else None
        kind = r.kind if r.kind is None or r.kind in ALARM_KINDS else OTHER_KIND
        writer.writerow([
            r.id, local.date().isoformat(), local.isoweekday(), local.hour, Quarter.of(local).label,
            *map(_text, (r.site, location, r.source)), int(r.near_miss),
            *map(_text, (kind, r.contact_kind, r.abcd_class)), *(int(f in r.forms) for f in FORMS), int(r.injury),
            int(r.hospital_admission), "" if r.police_report is None else int(r.police_report),
            *map(_text, (r.sanction, r.outcome)), _seconds(resp.first_accept_s), _seconds(resp.on_scene_s),
            int(resp.bhv), int(resp.police), int(resp.unanswered),
        ])
    return out.getvalue()


def spreadsheet_text(value: str) -> str:
    """OWASP's advice against CSV injection: text that a spreadsheet would run as a formula
    (it starts, perhaps after spaces, with = + - @, a tab or a carriage return) gets a leading
    single quote, so it shows as the text it is."""
    return f"'{value}" if value.lstrip(" ")[:1] in FORMULA_STARTS else value


def _text(value: str | None) -> str:
    return "" if value is None else spreadsheet_text(value)


def _place(row: Row) -> str:
    """A location as people say it; the site only when the location does not name it already."""
    if row.location and row.site and row.site not in row.location:
        return f"{row.location} ({row.site})"
    return row.location or row.site or "?"


def _ranked(values: Iterable[str | None]) -> list[tuple[str, int]]:
    counts = Counter(v for v in values if v)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _figures(values: list[float]) -> Figures:
    if not values:
        return Figures(0, None, None)
    ordered = sorted(values)
    return Figures(len(ordered), _rank(ordered, 0.5), _rank(ordered, 0.9))


def _rank(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile: a value that really occurred, which reads well in a report."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _seconds(value: float | None) -> int | str:
    return "" if value is None else round(value)  # a number, also when negative

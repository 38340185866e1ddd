"""Response-time targets measured: the share of alarms accepted in time, per site and month.
Pure: rows in, figures out (the targets themselves are `escalation/targets.py`).

What counts, for a target "accepted within D":
* the clock runs from the alarm raised to the first accept by a responder, or the first confirm
  of an outside contact (the police line, an alarm centre), whichever comes first;
* met: that came within D; not met: it came later, or never;
* left out: drills and test presses (a drill site, an alarm closed as a drill), records that are
  no alarm (a report), and an alarm that was stood down (cancelled with the PIN, closed by the
  control room as a false alarm or otherwise) before anyone accepted and before D had passed:
  nobody had to come any more. An alarm stood down later without an accept is not met: for
  longer than D nobody answered, and the responders could not know it would turn out false;
* an alarm still open, not yet accepted and younger than D, is not counted yet.

So each target has its own count of alarms; the pages show "met of counted" with the share.
Months are calendar months in the organisation's time zone, by the moment the alarm was raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from dispatcher.core.events import Outcome
from dispatcher.incidents.reports import Response, Row
from escalation.targets import ResponseTarget, format_share

ALL_SITES: str | None = None  # the line over every site
UNKNOWN_SITE = "?"


def verdict(response: Response, within_s: int, *, age_s: float) -> bool | None:
    """True: met; False: not met; None: not counted (stood down in time, or still within D).
    `age_s`: seconds from the alarm raised to now."""
    if response.answered_s is not None:
        return response.answered_s <= within_s
    if response.closed_s is not None:
        return None if response.closed_s <= within_s else False
    return None if age_s < within_s else False


def counts(row: Row) -> bool:
    """An alarm with a timeline that was no drill."""
    return (row.response is not None and row.source != "report" and not row.drill
            and row.outcome != Outcome.DRILL)


@dataclass(frozen=True)
class Share:
    target: ResponseTarget
    met: int = 0
    counted: int = 0

    @property
    def percent(self) -> Decimal | None:
        return None if not self.counted else Decimal(100 * self.met) / Decimal(self.counted)

    @property
    def ok(self) -> bool | None:
        """Met the target; None when no alarm counted. Exact: 197 of 200 is 98.5 %, met."""
        return None if not self.counted else 100 * self.met >= self.target.share * self.counted

    @property
    def shown(self) -> str:
        """Rounded down to a tenth, so a share shown as 98.5% never hides one just below."""
        percent = self.percent
        if percent is None:
            return "–"
        return format_share(percent.quantize(Decimal("0.1"), rounding=ROUND_FLOOR))

    def add(self, outcome: bool | None) -> Share:
        if outcome is None:
            return self
        return Share(self.target, self.met + outcome, self.counted + 1)


@dataclass(frozen=True)
class Line:
    month: str  # YYYY-MM, local
    site: str | None  # ALL_SITES for the line over every site
    shares: tuple[Share, ...]

    @property
    def below(self) -> bool:
        return any(s.ok is False for s in self.shares)


@dataclass(frozen=True)
class TargetTable:
    targets: tuple[ResponseTarget, ...]
    lines: tuple[Line, ...]  # by month, the line over every site first, then the sites by name

    @property
    def several_sites(self) -> bool:
        """Per-site lines only say more than the line over every site when there are two or more."""
        return len({line.site for line in self.lines if line.site is not ALL_SITES}) > 1

    def month(self, month: str) -> list[Line]:
        return [line for line in self.lines if line.month == month]


def month_of(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def measure(rows: Iterable[Row], targets: Sequence[ResponseTarget], *, tz: ZoneInfo, now: datetime) -> TargetTable:
    """Per month and site, and per month over every site: the share met of each target."""
    empty = tuple(Share(t) for t in targets)
    table: dict[tuple[str, str | None], tuple[Share, ...]] = {}
    for row in rows:
        if not counts(row) or row.response is None:
            continue
        age = (now - row.occurred_at).total_seconds()
        outcomes = [verdict(row.response, t.accepted_within, age_s=age) for t in targets]
        month = month_of(row.occurred_at, tz)
        for site in (ALL_SITES, row.site or UNKNOWN_SITE):
            shares = table.get((month, site), empty)
            table[(month, site)] = tuple(s.add(o) for s, o in zip(shares, outcomes, strict=True))
    order = sorted(table, key=lambda key: (key[0], key[1] is not None, key[1] or ""))
    return TargetTable(tuple(targets), tuple(Line(m, s, table[(m, s)]) for m, s in order))

"""Response-time targets: the agreement file's `response_targets:`, what counts as met, the share
per site and month (months in Europe/Amsterdam, over the clock changes), and the board's
current-month figures kept for a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dispatcher.clock import FakeClock
from dispatcher.incidents.reports import Response, Row, response_of
from dispatcher.incidents.targets import ALL_SITES, Share, measure, month_of, verdict
from dispatcher.incidents.targetwatch import TargetWatch
from escalation.check import check_file, render_report
from escalation.directory import Directory
from escalation.loader import AgreementFileError, load_text
from escalation.targets import ResponseTarget, format_share
from tests.unit.test_agreements import MINIMAL

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TEN = ResponseTarget(accepted_within=10, share="80%")  # type: ignore[arg-type]
FORTY = ResponseTarget(accepted_within=40, share="98.5%")  # type: ignore[arg-type]


def with_targets(block: str) -> str:
    return MINIMAL + block


# ---- the agreement file ----------------------------------------------------------------------------------


def test_without_the_key_the_bs8484_figures_apply_and_an_empty_list_turns_them_off() -> None:
    targets = load_text(MINIMAL).organisation.response_targets
    assert [(t.accepted_within, t.share) for t in targets] == [(10, Decimal(80)), (40, Decimal("98.5"))]
    assert load_text(with_targets("response_targets: []\n")).organisation.response_targets == []


def test_targets_are_written_as_percentages_and_sorted_by_time() -> None:
    org = load_text(with_targets(
        "response_targets:\n"
        "  - {accepted_within: 1m, share: 99%}\n"
        "  - {accepted_within: 15s, share: '92,5 %'}\n")).organisation
    assert [(t.accepted_within, t.share_text) for t in org.response_targets] == [(15, "92.5%"), (60, "99%")]


@pytest.mark.parametrize(("entry", "says"), [
    ("{accepted_within: 10s, share: 0.8}", "with the % sign"),
    ("{accepted_within: 10s, share: 80}", "with the % sign"),
    ("{accepted_within: 10s, share: 80 procent}", "with the % sign"),
    ("{accepted_within: 10s, share: 0%}", "more than 0%"),
    ("{accepted_within: 10s, share: 100.5%}", "at most 100%"),
    ("{accepted_within: 0s, share: 80%}", "longer than zero"),
    ("{accepted_within: 2h, share: 80%}", "at most an hour"),
    ("{accepted_within: 10s}", "share"),
    ("{accepted_within: 10s, share: 80%, sites: [kantoor]}", "sites"),
])
def test_a_wrong_target_names_its_line_and_what_is_wrong(entry: str, says: str) -> None:
    text = with_targets(f"response_targets:\n  - {entry}\n")
    with pytest.raises(AgreementFileError) as caught:
        load_text(text, name="org.yaml")
    message = str(caught.value)
    line = text.splitlines().index(f"  - {entry}") + 1
    assert f"org.yaml:{line}: response_targets[0]" in message
    assert says in message


def test_each_time_appears_once() -> None:
    with pytest.raises(AgreementFileError, match="accepted_within` may appear once"):
        load_text(with_targets("response_targets:\n  - {accepted_within: 10s, share: 80%}\n"
                               "  - {accepted_within: 10, share: 90%}\n"))


# ---- what counts ------------------------------------------------------------------------------------------


def timed(answered: float | None = None, closed: float | None = None) -> Response:
    return Response(answered_s=answered, closed_s=closed)


@pytest.mark.parametrize(("response", "age", "expected"), [
    (timed(answered=10), 60, True),  # exactly on time is in time
    (timed(answered=10.5), 60, False),
    (timed(answered=3, closed=5), 60, True),
    (timed(), 9, None),  # still running, nobody yet, the time is not up: not counted yet
    (timed(), 10, False),  # the time is up and nobody accepted
    (timed(closed=8), 60, None),  # stood down before anyone had to come
    (timed(closed=10), 60, None),
    (timed(closed=25), 60, False),  # nobody accepted for 25 s, then it turned out false
])
def test_met_not_met_or_not_counted(response: Response, age: float, expected: bool | None) -> None:
    assert verdict(response, 10, age_s=age) is expected


def test_an_outside_contact_confirming_counts_as_the_accept() -> None:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    entries = [(start, "alarm_raised", {}), (start + timedelta(seconds=7), "confirmed", {"recipient": "Politie"}),
               (start + timedelta(seconds=30), "accepted", {}), (start + timedelta(seconds=90), "closed", {})]
    response = response_of(entries)
    assert response is not None
    assert (response.answered_s, response.first_accept_s, response.closed_s) == (7, 30, 90)


def row(n: int, when: datetime, response: Response | None, *, site: str | None = "Stadhuis", **extra: object) -> Row:
    values: dict[str, object] = {
        "id": n, "occurred_at": when, "site": site, "location": None, "source": "alarm", "near_miss": False,
        "kind": "panic", "contact_kind": None, "abcd_class": None, "forms": (), "outcome": "resolved",
        "drill": False, "injury": False, "hospital_admission": False, "police_report": None, "sanction": None,
        "response": response}
    values.update(extra)
    return Row(**values)  # type: ignore[arg-type]


def test_drills_test_presses_reports_and_alarms_without_a_timeline_are_left_out() -> None:
    day = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    late = timed(answered=60)
    rows = [row(1, day, timed(answered=5)), row(2, day, late, drill=True), row(3, day, late, outcome="drill"),
            row(4, day, None, source="report"), row(5, day, None)]
    [everywhere, _] = measure(rows, [TEN], tz=AMS, now=NOW).lines
    assert (everywhere.shares[0].met, everywhere.shares[0].counted) == (1, 1)


def test_a_false_alarm_nobody_answered_in_time_counts_but_a_quick_cancel_does_not() -> None:
    day = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    rows = [row(1, day, timed(closed=6), outcome="cancelled"),
            row(2, day, timed(closed=30), outcome="false_alarm"),
            row(3, day, timed(answered=4, closed=30), outcome="false_alarm")]
    [everywhere, _] = measure(rows, [TEN, FORTY], tz=AMS, now=NOW).lines
    ten, forty = everywhere.shares
    assert (ten.met, ten.counted) == (1, 2)  # the quick cancel left out; the false alarm missed 10 s
    assert (forty.met, forty.counted) == (1, 1)  # closed within 40 s without an accept: left out of 40 s


# ---- per site and month ---------------------------------------------------------------------------------


def test_shares_per_site_and_month_with_a_line_over_every_site() -> None:
    day = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    rows = [row(1, day, timed(answered=4)), row(2, day, timed(answered=12)),
            row(3, day, timed(answered=8), site="Werf"), row(4, day + timedelta(days=30), timed())]
    table = measure(rows, [TEN], tz=AMS, now=NOW)
    seen = [(line.month, line.site, line.shares[0].met, line.shares[0].counted, line.shares[0].ok)
            for line in table.lines]
    assert seen == [("2026-10", ALL_SITES, 2, 3, False), ("2026-10", "Stadhuis", 1, 2, False),
                    ("2026-10", "Werf", 1, 1, True), ("2026-11", ALL_SITES, 0, 1, False),
                    ("2026-11", "Stadhuis", 0, 1, False)]
    assert table.several_sites


@pytest.mark.parametrize(("utc", "month"), [
    (datetime(2026, 3, 31, 21, 59, tzinfo=UTC), "2026-03"),  # 23:59 summer time, 31 March
    (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), "2026-04"),  # 00:00 summer time, 1 April
    (datetime(2026, 10, 31, 22, 59, tzinfo=UTC), "2026-10"),  # 23:59 winter time, 31 October
    (datetime(2026, 10, 31, 23, 0, tzinfo=UTC), "2026-11"),  # 00:00 winter time, 1 November
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03"),  # the night the clocks go forward
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01"),  # New Year's night
])
def test_months_are_the_organisations_calendar_months(utc: datetime, month: str) -> None:
    assert month_of(utc, AMS) == month
    [everywhere, _] = measure([row(1, utc, timed(answered=1))], [TEN], tz=AMS, now=utc + timedelta(hours=1)).lines
    assert everywhere.month == month


def test_the_share_is_exact_and_shown_rounded_down() -> None:
    assert Share(FORTY, met=197, counted=200).ok is True  # 98.5 % is met
    assert Share(FORTY, met=196, counted=200).ok is False
    just_below = Share(FORTY, met=1969, counted=1999)  # 98.4992… %
    assert just_below.ok is False and just_below.shown == "98.4%"
    assert Share(TEN, met=0, counted=0).ok is None and Share(TEN).shown == "–"
    assert format_share(Decimal("80.0")) == "80%"


# ---- the current month, kept a minute -------------------------------------------------------------------


class Rows:
    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.asked: list[datetime] = []

    def __call__(self, since: datetime) -> list[Row]:
        self.asked.append(since)
        return [r for r in self.rows if r.occurred_at >= since]


async def test_the_current_month_is_read_from_its_start_at_most_once_a_minute() -> None:
    start = datetime(2026, 11, 30, 22, 59, 0, tzinfo=UTC)  # 23:59 on 30 November in Amsterdam
    clock = FakeClock(start)
    directory = Directory(load_text(MINIMAL).organisation)
    rows = Rows([row(1, datetime(2026, 10, 31, 22, 30, tzinfo=UTC), timed()),  # October, local
                 row(2, datetime(2026, 11, 2, 8, 0, tzinfo=UTC), timed(answered=25))])
    watch = TargetWatch(rows, clock=clock, directory=lambda: directory)
    first = watch.current()
    assert first.month == "2026-11" and first.since == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert [(s.met, s.counted) for s in first.overall.shares] == [(0, 1), (1, 1)]
    assert [line.site for line in first.below] == [ALL_SITES, "Stadhuis"]
    await clock.advance(59)
    assert watch.current() is first and len(rows.asked) == 1
    await clock.advance(1)  # 00:00 on 1 December: a new month, nothing counted yet
    december = watch.current()
    assert len(rows.asked) == 2 and december.month == "2026-12"
    assert december.since == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert december.below == [] and december.sites == ()
    assert [s.counted for s in december.overall.shares] == [0, 0]


def test_code4_check_names_the_targets(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert "Response-time targets: 80% accepted within 10 s, 98.5% accepted within 40 s" in \
        render_report(check_file(path), now=NOW).splitlines()
    path.write_text(with_targets("response_targets: []\n"), encoding="utf-8")
    assert "Response-time targets: none (response_targets: [])" in render_report(check_file(path), now=NOW)

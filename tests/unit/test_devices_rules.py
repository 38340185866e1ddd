"""Device supervision and lone-worker visits, as pure rules with the time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices import visits
from devices.supervision import Observed, Rules, faults, next_check
from devices.visits import VisitError, VisitStatus

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BUTTON = Rules(interval_s=600, battery_low=0.2, test_every_s=30 * 86400)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_silence_longer_than_the_interval_is_a_fault_and_a_message_clears_it() -> None:
    seen = Observed(registered_at=T0, last_seen_at=T0, online=True)
    assert faults(BUTTON, seen, at(599)) == ()
    assert next_check(BUTTON, seen, at(599)) == at(600)
    assert faults(BUTTON, seen, at(600)) == ("silent",)
    assert faults(BUTTON, Observed(T0, last_seen_at=at(650), online=True), at(700)) == ()


def test_a_device_never_heard_from_gets_its_interval_from_registration() -> None:
    assert faults(BUTTON, Observed(registered_at=T0), at(300)) == ()
    assert faults(BUTTON, Observed(registered_at=T0), at(601)) == ("silent",)


def test_offline_by_last_will_is_a_fault_at_once() -> None:
    seen = Observed(registered_at=T0, last_seen_at=at(10), online=False)
    assert faults(BUTTON, seen, at(11)) == ("offline",)
    assert next_check(Rules(600, 0.2, None), seen, at(11)) is None, "nothing to wait for: it said so itself"


def test_low_battery_and_no_test_press() -> None:
    seen = Observed(registered_at=T0, last_seen_at=at(30 * 86400 - 60), online=True, battery=0.15)
    assert faults(BUTTON, seen, at(30 * 86400 - 1)) == ("battery_low",)
    assert faults(BUTTON, seen, at(30 * 86400)) == ("battery_low", "untested")
    tested = Observed(registered_at=T0, last_seen_at=at(30 * 86400), online=True, battery=0.9,
                      last_test_at=at(30 * 86400))
    assert faults(BUTTON, tested, at(30 * 86400 + 5)) == ()
    assert next_check(BUTTON, tested, at(30 * 86400 + 5)) == at(30 * 86400 + 600)


def test_unsupervised_checks_stay_off() -> None:
    pager = Rules(interval_s=None, battery_low=0.2, test_every_s=None)
    assert faults(pager, Observed(registered_at=T0), at(10 * 86400)) == ()
    assert next_check(pager, Observed(registered_at=T0), at(0)) is None


def test_a_visit_pre_alerts_then_raises_after_the_grace() -> None:
    visit = visits.start("mob-12", 1800, "Huisbezoek Dorpsstraat 12", T0)
    assert visits.tick(visit, 120, at(1799))[1] is None
    visit, what = visits.tick(visit, 120, at(1800))
    assert (what, visit.status) == ("pre_alert", VisitStatus.PRE_ALERTED)
    assert visits.due(visit, 120) == at(1920)
    visit, what = visits.tick(visit, 120, at(1920))
    assert (what, visit.status, visit.note) == ("missed", VisitStatus.MISSED, "Huisbezoek Dorpsstraat 12")


def test_ok_extends_a_visit_even_after_the_pre_alert_and_end_closes_it() -> None:
    visit = visits.start("mob-12", 1800, None, T0)
    visit = visits.check_in(visit, None, at(1000))
    assert visit.deadline_at == at(2800)
    visit, _ = visits.tick(visit, 120, at(2800))
    visit = visits.check_in(visit, 600, at(2850))
    assert (visit.status, visit.deadline_at, visit.interval_s) == (VisitStatus.OPEN, at(3450), 600)
    visit = visits.end(visit, at(3000))
    assert visits.due(visit, 120) is None
    with pytest.raises(VisitError):
        visits.check_in(visit, None, at(3001))
    with pytest.raises(VisitError):
        visits.start("mob-12", None, None, T0)

"""Presence as data: planning with who is present, sign-ins that lapse, pagers that count,
and what `code4 check` says about `present: true`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dispatcher.presence import PresentEntry, SignedIn, entries_at, pager_entries, short_name
from escalation.check import check_file, render_report
from escalation.directory import Directory
from escalation.loader import load_file
from escalation.pins import PinDigests
from escalation.plan import Plan, StepTarget
from escalation.planning import Presence, plan_alarm
from tests.conftest import FIXTURES
from tests.factories import Run, pages, timeline

ORG = FIXTURES / "presenceorg.yaml"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory(load_file(ORG).organisation)


def plan(directory: Directory, present: Presence | None) -> Plan:
    return plan_alarm(directory, device_id="knop-balie-1", kind="panic", zone_ref=None, now=NOW,
                      pins=PinDigests("k"), present=present)


def named(step_targets: tuple[StepTarget, ...]) -> list[str]:
    return [t.recipient.split(":")[1] for t in step_targets]


def test_a_present_target_names_only_those_present_at_the_alarms_site(directory: Directory) -> None:
    steps = plan(directory, frozenset({("jan", "stadhuis"), ("kees", "stadhuis"), ("fatima", "gemeentewerf")})).steps
    assert named(steps[0].targets) == ["jan", "kees"] and steps[0].presence and not steps[0].short
    assert named(steps[1].targets) == ["fatima"], "site: gemeentewerf names those present there"
    assert not steps[2].presence


def test_the_plan_freezes_who_was_present_and_a_short_step_shows(directory: Directory) -> None:
    frozen = plan(directory, frozenset({("jan", "stadhuis"), ("kees", "gemeentewerf")}))
    assert frozen.steps[0].short and not frozen.steps[1].short
    run = Run(frozen)
    assert timeline(run.effects, "step_short").data == {"step": "bhv", "present": 1, "required": 2}
    assert pages(run.effects) == ["jan", "kees"]


def test_unknown_presence_counts_everyone_named(directory: Directory) -> None:
    steps = plan(directory, None).steps
    assert named(steps[0].targets) == ["jan", "fatima", "kees"]


def test_nobody_present_anywhere_leaves_the_present_steps_empty(directory: Directory) -> None:
    steps = plan(directory, frozenset()).steps
    assert steps[0].targets == () and steps[1].targets == () and steps[0].short


def test_a_sign_in_lapses_at_its_expiry() -> None:
    signed = [SignedIn("jan", "stadhuis", NOW, NOW + timedelta(hours=8), "app")]
    assert [e.person_id for e in entries_at(signed, [], NOW + timedelta(hours=7, minutes=59))] == ["jan"]
    assert entries_at(signed, [], NOW + timedelta(hours=8)) == []


def test_an_online_pager_counts_only_where_the_site_says_so_and_the_person_works(directory: Directory) -> None:
    online = {"pager-kees", "pager-jan"}
    found = pager_entries(directory, lambda device: device in online)
    assert found == [PresentEntry("kees", "gemeentewerf", "pager")], "the stadhuis does not count pagers"
    assert pager_entries(directory, lambda device: False) == []


def test_a_sign_in_wins_over_a_pager_for_the_same_place() -> None:
    signed = [SignedIn("kees", "gemeentewerf", NOW, NOW + timedelta(hours=1), "kiosk")]
    found = entries_at(signed, [PresentEntry("kees", "gemeentewerf", "pager")], NOW)
    assert [e.via for e in found] == ["kiosk"]


def test_a_kiosk_shows_first_name_and_initial() -> None:
    assert short_name("Fatima El Amrani") == "Fatima A."
    assert short_name("Cher") == "Cher"


def test_check_lists_present_steps_and_warns_when_they_can_never_be_met(tmp_path: Path) -> None:
    data = yaml.safe_load(ORG.read_text())
    data["agreements"][0]["steps"][1]["required"] = 4
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = check_file(path)
    assert result.ok
    warnings = [str(i) for i in result.issues if i.severity == "warning"]
    assert any("'bhv-werf' needs 4 but at most 3" in w for w in warnings), warnings
    report = render_report(result, now=NOW)
    assert "stadhuis / bhv: role bhv (present at the site); 2 needed, at most 3 can be there" in report
    assert "(only those present)" in report


def test_the_example_file_has_no_presence_warnings() -> None:
    assert not [i for i in check_file(ORG).issues if "present" in i.message]


@pytest.mark.parametrize(("target", "message"), [
    ({"role": "bhv", "site": "gemeentewerf"}, "add present: true"),
    ({"contact": "politie", "present": True}, "not to an outside contact"),
    ({"role": "bhv", "present": True, "site": "nergens"}, "unknown site"),
])
def test_bad_present_targets_are_errors(tmp_path: Path, target: dict[str, object], message: str) -> None:
    data = yaml.safe_load(ORG.read_text())
    data["agreements"][0]["steps"][1]["targets"] = [target]
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    issues = check_file(path).issues
    assert any(message in str(i) and i.severity == "error" for i in issues), [str(i) for i in issues]

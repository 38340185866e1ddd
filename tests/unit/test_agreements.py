"""The agreement file: loading with precise errors, references, planning and week coverage."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from escalation.check import check_file, load_organisation, render_report
from escalation.directory import Directory
from escalation.loader import AgreementFileError, load_file
from escalation.pins import PinDigests
from escalation.planning import plan_alarm

FIXTURES = Path(__file__).parent.parent / "fixtures"
TESTORG = FIXTURES / "testorg.yaml"
EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "wormerland.yaml"
MONDAY_11 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 in Amsterdam
SATURDAY_NIGHT = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)

MINIMAL = """\
organisation: Mini
fallback: altijd
sites:
  - id: kantoor
    name: Kantoor
    zones:
      - id: hal
        name: Hal
        locations:
          - {id: balie, name: Balie}
people:
  - {id: jan, name: Jan, roles: [bhv], devices: [pager-jan]}
devices:
  - {id: pager-jan, type: responder_pager, person: jan}
  - {id: knop, type: fixed_button, location: kantoor/balie}
agreements:
  - id: altijd
    steps:
      - {id: bhv, targets: [{role: bhv}], channels: [pager]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    result = check_file(path)
    assert not result.ok
    return [str(i) for i in result.errors]


# ---- loading ------------------------------------------------------------------------------------


def test_the_example_and_the_test_organisation_are_valid() -> None:
    for path in (EXAMPLE, TESTORG):
        result = check_file(path)
        assert result.ok, [str(i) for i in result.errors]


def test_a_misspelt_key_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("channels: [pager]}", "channels: [pager], ack_timout: 20s}"))
    assert errors_of(path) == [f"{path}:19: agreements[0].steps[0].ack_timout: unknown key (misspelt?)"]


def test_a_missing_field_points_at_its_parent(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("  - {id: knop, type: fixed_button, location: kantoor/balie}",
                                           "  - {id: knop, type: fixed_button}"))
    assert errors_of(path) == [f"{path}:15: devices[1]: a fixed_button needs a `location` (site/location)"]


def test_an_unquoted_pin_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("location: kantoor/balie}", "location: kantoor/balie, cancel_pin: 0123}"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:15: devices[1].cancel_pin: write a PIN in quotes")


def test_a_bad_schedule_says_which_part(tmp_path: Path) -> None:
    text = MINIMAL + "duty:\n  - {person: jan, role: bhv, when: \"mon-vrij 08:00-17:00\"}\n"
    path = write(tmp_path, text)
    [error] = errors_of(path)
    assert error.startswith(f"{path}:21: duty[0].when:")
    assert "'mon-vrij' is not a day or day range" in error


def test_yaml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("  - id: altijd", "  - id: altijd\n   steps: [oops"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:") and "not valid YAML" in error


def test_a_duplicate_key_is_an_error_not_a_silent_override(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("fallback: altijd\n", "fallback: altijd\nfallback: ander\n"))
    assert errors_of(path) == [f"{path}:3: fallback: key 'fallback' appears twice; the first one is on line 2"]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    [error] = errors_of(tmp_path / "nope.yaml")
    assert "cannot read the file" in error


def test_every_reference_must_resolve(tmp_path: Path) -> None:
    text = (MINIMAL
            .replace("fallback: altijd", "fallback: nergens")
            .replace("{id: pager-jan, type: responder_pager, person: jan}",
                     "{id: pager-jan, type: responder_pager, person: janneke}")
            .replace("targets: [{role: bhv}]", "targets: [{role: bhv}, {team: receptie}, {contact: politie}]"))
    path = write(tmp_path, text)
    assert errors_of(path) == [
        f"{path}:2: fallback: unknown agreement 'nergens'",
        f"{path}:12: people[0].devices[0]: device 'pager-jan' belongs to 'janneke' in devices:",
        f"{path}:14: devices[0].person: unknown person 'janneke'",
        f"{path}:19: agreements[0].steps[0].targets[1].team: no person is in team 'receptie'",
        f"{path}:19: agreements[0].steps[0].targets[2].contact: unknown contact 'politie'",
        f"{path}:19: agreements[0].steps[0].targets[2].contact: contact 'politie' can only be reached by sms "
        "or voice, and step 'bhv' uses pager",
    ]


def test_the_service_refuses_a_broken_file_with_every_error() -> None:
    with pytest.raises(AgreementFileError) as caught:
        load_organisation(FIXTURES / "does-not-exist.yaml")
    assert "cannot read the file" in str(caught.value)


# ---- coverage ----------------------------------------------------------------------------------------


def test_hours_without_a_path_to_help_are_an_error(tmp_path: Path) -> None:
    text = MINIMAL.replace("targets: [{role: bhv}]", "targets: [{role: bhv, on_duty: true}]")
    text += "duty:\n  - {person: jan, role: bhv, when: \"mon-fri 08:00-17:00\"}\n"
    path = write(tmp_path, text)
    result = check_file(path)
    assert not result.ok
    gap = [str(i) for i in result.gaps if "kantoor/balie" in str(i)]
    assert gap == [f"{path}:10: kantoor/balie (fixed_button): no path to help on ma 17:00–di 08:00, "
                   "di 17:00–wo 08:00, wo 17:00–do 08:00, do 17:00–vr 08:00, vr 17:00–ma 08:00 (every step "
                   "reaches nobody then: check duty rosters and same_zone)"]
    # Gaps alone do not stop the service: it still answers every other alarm.
    loaded, issues = load_organisation(path)
    assert loaded.organisation.organisation == "Mini" and issues


def test_check_lists_hours_where_only_the_fallback_applies() -> None:
    report = render_report(check_file(TESTORG), now=MONDAY_11)
    assert "stadhuis/spreekkamer-a (fixed_button): the whole week" in report
    assert "stadhuis/balie-1 (fixed_button): ma 17:30–di 08:00," in report


def test_check_shows_the_chain_now_and_who_it_reaches() -> None:
    report = render_report(check_file(TESTORG), now=MONDAY_11)
    assert ("2. bhv code 4 (on_severe): pager, 45s, 2 needed -> Jan de Vries [BHV], Fatima El Amrani [BHV], "
            "Kees Bakker [BHV]") in report
    at_night = render_report(check_file(TESTORG), now=SATURDAY_NIGHT)
    assert "1. bhv code 4: pager, 45s, 1 needed -> Kees Bakker [BHV]" in at_night


def test_an_agreement_that_never_applies_is_a_warning(tmp_path: Path) -> None:
    text = MINIMAL + """\
  - id: nooit
    match: {sites: [kantoor]}
    steps:
      - {id: bhv, targets: [{role: bhv}], channels: [pager]}
"""
    result = check_file(write(tmp_path, text))
    assert result.ok
    assert [i.message for i in result.issues if i.severity == "warning"] == [
        "agreement 'nooit' never applies: an earlier one always matches first, or its match names nothing "
        "that exists"]


# ---- planning ----------------------------------------------------------------------------------------


PINS = PinDigests("a test key")


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory(load_file(TESTORG).organisation)


def test_plan_for_a_counter_in_office_hours(directory: Directory) -> None:
    plan = plan_alarm(directory, device_id="knop-balie-1", kind="panic", zone_ref=None, now=MONDAY_11, pins=PINS)
    assert plan.agreement_id == "publiekshal" and not plan.fallback
    assert [t.recipient for t in plan.steps[0].targets] == ["person:sanne", "person:mohamed"], "same zone only"
    assert [t.recipient for t in plan.steps[1].targets] == ["person:jan", "person:fatima", "person:kees"]
    assert plan.steps[1].targets[0].routes[0].address == "pager-jan"
    assert (plan.where.location_name, plan.where.gathering_point) == ("Balie 1", "Trap naast de lift")
    assert (plan.device.cancel_pin_digest, plan.device.duress_pin_digest) == (
        PINS("knop-balie-1", "1234"), PINS("knop-balie-1", "9999"))
    assert "1234" not in repr(plan) and "9999" not in repr(plan), "the plan never holds a PIN"
    assert not re.search(r"\+31\d{9}", repr(plan)), "nor a phone number: phone routes name the person"
    assert plan.severe_step == 1


def test_the_roster_decides_who_is_on_duty(directory: Directory) -> None:
    plan = plan_alarm(directory, device_id="knop-balie-1", kind="panic", zone_ref=None, now=SATURDAY_NIGHT, pins=PINS)
    assert plan.agreement_id == "vangnet" and plan.fallback
    assert [t.recipient for t in plan.steps[0].targets] == ["person:kees"]


def test_unknown_devices_get_the_fallback(directory: Directory) -> None:
    plan = plan_alarm(directory, device_id="knop-onbekend", kind="panic", zone_ref=None, now=MONDAY_11, pins=PINS)
    assert plan.agreement_id == "vangnet" and plan.fallback and not plan.device.known


def test_a_mobile_alarm_never_pages_its_own_wearer(directory: Directory) -> None:
    plan = plan_alarm(directory, device_id="mob-piet", kind="panic", zone_ref=None, now=MONDAY_11, pins=PINS)
    assert plan.agreement_id == "buitendienst"
    assert [t.recipient for t in plan.steps[0].targets] == ["person:lisa"]
    assert plan.device.person_name == "Piet Jansen"


def test_a_mobile_alarm_in_a_known_zone_uses_that_zone(directory: Directory) -> None:
    plan = plan_alarm(directory, device_id="mob-piet", kind="panic", zone_ref="publiekshal", now=MONDAY_11, pins=PINS)
    assert plan.where.zone_name == "Publiekshal"
    assert plan.agreement_id == "publiekshal"


def test_people_without_an_address_on_the_step_channels_are_listed_as_unreachable() -> None:
    org = load_file(EXAMPLE).organisation
    plan = plan_alarm(Directory(org), device_id="knop-spreekkamer-a", kind="panic", zone_ref=None, now=MONDAY_11,
                      pins=PINS)
    collega = plan.steps[1]
    sam = next(t for t in collega.targets if t.recipient == "person:sam")
    assert [r.channel for r in sam.routes] == ["app", "sms"], "no pager: the next channels in the list"


def test_push_reaches_only_those_subscribed_in_the_app() -> None:
    """Who has a push subscription is given to planning (the service keeps it in memory):
    planning itself reads no database."""
    organisation = load_file(FIXTURES / "pushorg.yaml").organisation
    subscribed = Directory(organisation, push_people=lambda: frozenset({"jan", "piet"}))
    plan = plan_alarm(subscribed, device_id="knop-balie-1", kind="panic", zone_ref=None, now=MONDAY_11, pins=PINS)
    routes = {str(t.recipient): [(r.channel.value, r.address) for r in t.routes] for t in plan.steps[0].targets}
    assert routes == {"person:jan": [("push", "person:jan"), ("pager", "pager-jan")],
                      "person:lisa": [("pager", "pager-lisa")],
                      "person:piet": [("push", "person:piet")]}
    nobody = plan_alarm(Directory(organisation), device_id="knop-balie-1", kind="panic", zone_ref=None, now=MONDAY_11,
                        pins=PINS)
    assert nobody.steps[0].unreachable == ("Piet Jansen",), "no pager, no subscription: no way to reach him"


def test_check_counts_everyone_on_push_and_says_so() -> None:
    """The file cannot say who turned on notifications: `code4 check` shows a push-only person as
    reached (not as a gap in coverage) and says what that assumes."""
    result = check_file(FIXTURES / "pushorg.yaml")
    assert result.ok and result.gaps == []
    report = render_report(result, now=MONDAY_11)
    assert "-> Jan de Vries [BHV], Lisa Bos [BHV], Piet Jansen [BHV]" in report
    assert "not reachable on" not in report
    assert "push reaches a person once they turned on notifications in the responder app" in report

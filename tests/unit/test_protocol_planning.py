"""The example organisation follows the OVER-gemeenten protocol: planning and `code4 check`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatcher.core import DeadlineReached, Purpose, Responded, Response, Status
from escalation.check import check_file
from escalation.directory import Directory
from escalation.loader import load_file
from escalation.pins import PinDigests
from escalation.plan import Plan
from escalation.planning import plan_alarm
from tests.factories import Run, notifications, pages

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "wormerland.yaml"
TUESDAY_11 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Wormer, everyone at work
PINS = PinDigests("a test key")


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory(load_file(EXAMPLE).organisation)


def plan_for(directory: Directory, device: str, now: datetime = TUESDAY_11) -> Plan:
    return plan_alarm(directory, device_id=device, kind="panic", zone_ref=None, now=now, pins=PINS)


def paged(plan: Plan) -> set[str]:
    return {t.recipient.split(":")[1] for s in plan.steps for t in s.targets}


def test_the_example_follows_the_protocol_and_check_is_clean() -> None:
    result = check_file(EXAMPLE)
    assert result.ok
    assert [str(i) for i in result.issues + result.gaps] == []


def test_the_bhv_is_paged_first_and_colleagues_alongside(directory: Directory) -> None:
    plan = plan_for(directory, "knop-balie-1")
    bhv, collega, politie = plan.steps
    assert (bhv.id, bhv.code, bhv.required, bhv.alongside) == ("bhv", "4", 2, False)
    assert all(plan.recipient(t.recipient).bhv for t in bhv.targets)
    assert collega.alongside and politie.targets[0].recipient == "contact:politie"


def test_the_bhv_is_paged_even_when_a_colleague_accepts(directory: Directory) -> None:
    run = Run(plan_for(directory, "knop-balie-1"))
    assert {"jan", "fatima", "kees"} <= set(pages(run.effects))
    run.send(Responded(run.page_for("mohamed").page_id, Response.ACCEPT, "pager", "pager-12"), after=4)
    assert run.state.responders[0].role == 3
    assert run.state.status is Status.NOTIFYING, "a colleague's accept does not stop the chain"
    run.send(DeadlineReached(run.state.timer), after=41)
    assert pages(run.effects) == ["politie"], "no two BHV-ers in 45 s: the police"


def test_the_presser_of_a_fixed_button_is_never_paged(directory: Directory) -> None:
    # Sanne works at balie 1, Jan at the information desk, Eva in interview room A.
    for device, person in (("knop-balie-1", "sanne"), ("knop-info", "jan"), ("knop-spreekkamer-a", "eva")):
        plan = plan_for(directory, device)
        assert person not in paged(plan), f"{person} pressed at {device} and must not be paged"
        assert plan.device.person == f"person:{person}"


def test_the_desk_rota_decides_who_is_in_danger(directory: Directory) -> None:
    # Fatima works at balie 3 in the mornings only: in the afternoon she is a BHV-er like any other.
    morning = plan_for(directory, "knop-balie-3")
    afternoon = plan_for(directory, "knop-balie-3", datetime(2026, 12, 1, 13, 0, tzinfo=UTC))
    assert "fatima" not in paged(morning)
    assert "fatima" in paged(afternoon) and afternoon.device.person is None


def test_the_afdelingshoofd_is_informed_by_their_channel_of_choice(directory: Directory) -> None:
    counter = plan_for(directory, "knop-balie-1")
    assert [(t.recipient, t.routes[0].channel) for t in counter.informed] == [("person:ingrid", "app")]
    field = plan_for(directory, "mob-12")
    assert [(t.recipient, t.routes[0].channel) for t in field.informed] == [("person:marieke", "pager")]
    run = Run(counter)
    [told] = notifications(run.effects, Purpose.INFORM)
    assert told.name == "Ingrid Kok"


def test_a_lead_is_not_informed_of_their_own_alarm() -> None:
    # Marieke leads the field team and carries a mobile alarm herself.
    org = load_file(EXAMPLE).organisation
    devices = [d.model_copy(update={"person": "marieke"}) if d.id == "mob-12" else d for d in org.devices]
    plan = plan_for(Directory(org.model_copy(update={"devices": devices})), "mob-12")
    assert plan.informed == () and "marieke" not in paged(plan)


# ---- the agreement file ---------------------------------------------------------------------------------

BASE = """\
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
  - {id: jan, name: Jan, phone: "+31612000001", roles: [bhv], zones: [kantoor/hal]}
  - {id: els, name: Els, phone: "+31612000002", roles: [bhv], zones: [kantoor/hal]}
  - {id: bob, name: Bob, phone: "+31612000003", teams: [balie], zones: [kantoor/hal]}
devices:
  - {id: knop, type: fixed_button, location: kantoor/balie}
"""


def check(tmp_path: Path, tail: str) -> list[str]:
    path = tmp_path / "org.yaml"
    path.write_text(BASE + tail, encoding="utf-8")
    result = check_file(path)
    return [i.message for i in result.issues + result.gaps]


def test_a_colleague_step_before_the_bhv_is_a_warning(tmp_path: Path) -> None:
    messages = check(tmp_path, """\
agreements:
  - id: altijd
    steps:
      - {id: collega, targets: [{team: balie}], channels: [sms], ack_timeout: 20s}
      - {id: bhv, code: "4", targets: [{role: bhv}], channels: [sms], ack_timeout: 45s, required: 2}
""")
    assert len(messages) == 1 and "step 'collega' asks people who are not BHV-trained (Bob)" in messages[0]
    assert "alongside: true" in messages[0]


def test_a_code_4_page_to_people_who_are_not_bhv_is_a_warning(tmp_path: Path) -> None:
    messages = check(tmp_path, """\
agreements:
  - id: altijd
    steps:
      - {id: iedereen, code: "4", targets: [{role: bhv}, {team: balie}], channels: [sms], required: 2}
""")
    assert len(messages) == 1 and "pages code 4 to people who are not BHV-trained (Bob)" in messages[0]


def test_a_building_chain_without_any_bhv_is_a_warning(tmp_path: Path) -> None:
    messages = check(tmp_path, """\
agreements:
  - id: altijd
    steps:
      - {id: collega, targets: [{team: balie}], channels: [sms]}
""")
    assert any("reaches no BHV-trained person" in m for m in messages)


def test_alongside_is_checked(tmp_path: Path) -> None:
    for steps, expected in (
        ("      - {id: a, alongside: true, targets: [{role: bhv}], channels: [sms]}\n", "no step before it"),
        ("      - {id: a, targets: [{role: bhv}], channels: [sms], ack_timeout: 20s}\n"
         "      - {id: b, alongside: true, targets: [{team: balie}], channels: [sms], ack_timeout: 20s}\n",
         "is not waited for"),
        ("      - {id: a, targets: [{role: bhv}], channels: [sms], ack_timeout: 20s}\n"
         "      - {id: b, alongside: true, targets: [{team: balie}], channels: [sms]}\n"
         "    on_severe: b\n", "cannot start on its own"),
    ):
        messages = check(tmp_path, "agreements:\n  - id: altijd\n    steps:\n" + steps)
        assert any(expected in m for m in messages), (expected, messages)


def test_a_duty_rule_names_a_role_or_a_place_that_exists(tmp_path: Path) -> None:
    tail = "agreements:\n  - id: altijd\n    steps:\n      - {id: a, targets: [{role: bhv}], channels: [sms]}\n"
    no_role = check(tmp_path, tail + "duty:\n  - {person: bob}\n")
    assert any("names a `role`, a place it works `at`" in m for m in no_role)
    assert any("kantoor/kelder" in m for m in check(tmp_path, tail + "duty:\n  - {person: bob, at: kantoor/kelder}\n"))
    assert check(tmp_path, tail + "duty:\n  - {person: bob, at: kantoor/balie, when: mon-fri 08:00-17:00}\n") == []

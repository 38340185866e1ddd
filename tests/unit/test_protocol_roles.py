"""The OVER protocol's "Leidraad BHV-ers" in the pure core: who comes in which role, steps that
run alongside, the afdelingshoofd informed, what the police are told was verified."""

from __future__ import annotations

import pytest

from dispatcher.core import (
    CloseRequested,
    DeadlineReached,
    DeliveryFailed,
    IllegalTransition,
    Outcome,
    PoliceRequested,
    Pressed,
    Purpose,
    Responded,
    Response,
    Status,
)
from dispatcher.core.machine import message_for_page
from escalation.notices import Message
from tests.factories import Run, kinds, make_plan, notifications, over_plan, pages, step, target, timeline


def answer(run: Run, who: str, response: Response = Response.ACCEPT) -> Responded:
    page = run.page_for(who)
    return Responded(page.page_id, response, page.route.channel, page.route.address)


def roles(run: Run) -> list[tuple[str, int | None]]:
    return [(r.recipient.split(":")[1], r.role) for r in run.state.responders]


# ---- roles follow qualification ------------------------------------------------------------------


def test_a_colleague_who_is_not_bhv_never_gets_role_1_even_when_first() -> None:
    run = Run(over_plan())
    run.send(answer(run, "sanne"), after=3)
    run.send(answer(run, "mohamed"), after=1)
    assert roles(run) == [("sanne", 3), ("mohamed", 3)]
    [told] = notifications(run.effects, Purpose.ROLE)
    assert told.message.role == 3


def test_the_first_two_bhv_accepts_take_roles_1_and_2_and_a_third_stands_by() -> None:
    run = Run(over_plan())
    run.send(answer(run, "sanne"), after=2)
    run.send(answer(run, "fatima"), after=2)
    run.send(answer(run, "kees"), after=2)
    run.send(answer(run, "jan"), after=2)
    assert roles(run) == [("sanne", 3), ("fatima", 1), ("kees", 2), ("jan", 3)]


def test_a_freed_role_1_goes_to_the_next_bhv_accept() -> None:
    run = Run(over_plan())
    run.send(answer(run, "fatima"), after=2)
    run.send(answer(run, "fatima", Response.DECLINE), after=2)
    run.send(answer(run, "kees"), after=2)
    assert roles(run) == [("kees", 1)]


# ---- alongside ---------------------------------------------------------------------------------------


def test_over_pages_the_bhv_and_the_colleagues_together_and_nobody_twice() -> None:
    run = Run(over_plan())
    # Jan is both BHV and a colleague in the zone: one page, as BHV.
    assert pages(run.effects) == ["jan", "fatima", "kees", "sanne", "mohamed"]
    assert run.state.current_step.id == "bhv"


def test_a_colleagues_accept_does_not_stop_the_bhv_being_paged_or_the_chain() -> None:
    run = Run(over_plan())
    run.send(answer(run, "sanne"), after=3)
    assert run.state.status is Status.NOTIFYING, "one colleague is not two BHV-ers"
    run.send(DeadlineReached(run.state.timer), after=42)
    assert run.state.current_step.id == "politie", "no BHV-maatje in time: the police are called"
    assert pages(run.effects) == ["politie"]


def test_two_bhv_accepts_organise_help_the_buddy_rule() -> None:
    run = Run(over_plan())
    run.send(answer(run, "jan"), after=3)
    assert run.state.status is Status.NOTIFYING
    run.send(answer(run, "kees"), after=3)
    assert run.state.status is Status.ACCEPTED
    assert timeline(run.effects, "help_organised").data["accepted"] == 2


def test_declines_from_colleagues_alongside_do_not_move_the_chain() -> None:
    run = Run(over_plan())
    run.send(answer(run, "sanne", Response.DECLINE), after=2)
    run.send(answer(run, "mohamed", Response.DECLINE), after=2)
    assert run.state.current_step.id == "bhv"
    for who in ("jan", "fatima", "kees"):
        run.send(answer(run, who, Response.DECLINE), after=1)
    assert run.state.current_step.id == "politie", "every BHV-er said no: on to the police at once"


def test_colleagues_alongside_are_paged_when_no_bhv_can_be_reached() -> None:
    plan = make_plan(
        step("bhv", [], ack=45, required=2, code="4", unreachable=("Jan de Vries",)),
        step("collega", [target("sanne")], alongside=True),
        step("politie", [target("contact:politie", "voice")], ack=None),
    )
    run = Run(plan)
    assert pages(run.effects) == ["sanne", "politie"]
    assert timeline(run.effects, "step_skipped").data["step"] == "bhv"


def test_the_police_requested_by_the_operator_are_called_when_they_run_alongside() -> None:
    plan = make_plan(
        step("bhv", [target("jan")], ack=45, code="4"),
        step("politie", [target("contact:politie", "voice")], alongside=True),
    )
    run = Run(plan)
    assert pages(run.effects) == ["jan", "politie"]
    run.send(PoliceRequested("ria"), after=5)
    assert pages(run.effects) == ["politie"]


# ---- the afdelingshoofd ---------------------------------------------------------------------------


def test_the_afdelingshoofd_is_informed_at_once_without_a_role() -> None:
    run = Run(over_plan())
    [informed] = notifications(run.effects, Purpose.INFORM)
    assert informed.name == "Ingrid Kok" and informed.route.channel == "sms"
    assert informed.message.role is None
    assert timeline(run.effects, "informed").data["recipient"] == "Ingrid Kok"
    assert "ingrid" not in pages(run.effects), "informed, not asked to come"


def test_an_informed_afdelingshoofd_cannot_answer_or_take_a_role() -> None:
    run = Run(over_plan())
    page = next(p for p in run.state.pages if p.inform)
    with pytest.raises(IllegalTransition, match="afdelingshoofd"):
        run.send(Responded(page.page_id, Response.ACCEPT, "sms", "person:ingrid"), after=1)
    assert run.state.responders == ()


def test_a_failed_inform_moves_to_the_next_route_and_never_escalates() -> None:
    plan = over_plan(informed=(target("ingrid", "app", "sms"),))
    run = Run(plan)
    page = next(p for p in run.state.pages if p.inform)
    run.send(DeliveryFailed(page.page_id, 0, Purpose.INFORM.value, "no app"), after=1)
    [again] = notifications(run.effects, Purpose.INFORM)
    assert again.route.channel == "sms"
    run.send(DeliveryFailed(page.page_id, 1, Purpose.INFORM.value, "sms refused"), after=1)
    assert kinds(run.effects) == ["unreachable"]
    assert run.state.current_step.id == "bhv"


def test_the_afdelingshoofd_hears_when_the_alarm_ends() -> None:
    run = Run(over_plan())
    run.send(CloseRequested(Outcome.RESOLVED, "ria"), after=60)
    assert "Ingrid Kok" in [n.name for n in notifications(run.effects, Purpose.STAND_DOWN)]


# ---- what the police are told was verified -------------------------------------------------------


def police_message(run: Run) -> Message:
    page = run.state.page(run.page_for("contact:politie").page_id)
    assert page is not None
    return message_for_page(run.state, page)


def test_the_police_hear_who_verified_the_alarm() -> None:
    run = Run(over_plan())
    run.send(answer(run, "jan", Response.ON_SCENE), after=20)
    run.send(PoliceRequested("ria"), after=5)
    run.send(Pressed(2), after=1)
    assert police_message(run).verified == ("bhv_on_scene:Jan de Vries", "operator", "second_press")


def test_an_unverified_alarm_says_so() -> None:
    run = Run(over_plan())
    run.send(DeadlineReached(run.state.timer), after=45)
    assert police_message(run).verified == ()

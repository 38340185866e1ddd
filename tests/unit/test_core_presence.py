"""A step with `present: true` targets pages those present when the alarm started; when they
are fewer than `required` the control room is told and the chain moves on at once."""

from __future__ import annotations

from dispatcher.core import DeadlineReached, Responded, Response, Status
from dispatcher.core.machine import STEP_POLICY, Repeat
from escalation.plan import Plan
from tests.factories import Run, kinds, make_plan, pages, step, target, timeline


def short_bhv_plan() -> Plan:
    """Only Jan is present of the BHV (2 needed), then the gemeentewerf's BHV, then the police."""
    return make_plan(
        step("bhv", [target("jan")], ack=45, required=2, code="4", presence=True),
        step("bhv-werf", [target("kees")], ack=30, code="4", presence=True),
        step("politie", [target("contact:politie", "voice")], ack=None),
        severe="bhv",
    )


def test_too_few_present_moves_on_at_once_and_says_so() -> None:
    run = Run(short_bhv_plan())
    short = timeline(run.effects, "step_short")
    assert short.notice and short.data == {"step": "bhv", "present": 1, "required": 2}
    assert timeline(run.effects, "escalated").data["reason"] == "too_few_present"
    assert pages(run.effects) == ["jan", "kees"], "Jan, who is there, is still paged; the werf's BHV at once"
    assert run.state.current_step.id == "bhv-werf"
    assert run.state.deadline is not None and (run.state.deadline - run.at).total_seconds() == 30


def test_the_one_present_may_still_accept_and_takes_role_1() -> None:
    run = Run(short_bhv_plan())
    page = run.page_for("jan")
    run.send(Responded(page.page_id, Response.ACCEPT, "pager", "pager-jan"), after=5)
    assert "accepted" in kinds(run.effects)
    assert run.state.responder("person:jan").role == 1  # type: ignore[union-attr]


def test_enough_present_waits_for_the_step_as_usual() -> None:
    run = Run(make_plan(
        step("bhv", [target("jan"), target("fatima")], ack=45, required=2, code="4", presence=True),
        step("politie", [target("contact:politie", "voice")], ack=None)))
    assert "step_short" not in kinds(run.effects)
    assert run.state.current_step.id == "bhv" and pages(run.effects) == ["jan", "fatima"]


def test_nobody_present_skips_the_step_with_the_same_notice() -> None:
    run = Run(make_plan(
        step("bhv", [], ack=45, required=2, code="4", presence=True),
        step("politie", [target("contact:politie", "voice")], ack=None)))
    assert timeline(run.effects, "step_short").data == {"step": "bhv", "present": 0, "required": 2}
    assert "step_skipped" not in kinds(run.effects)
    assert run.state.current_step.id == "politie" and pages(run.effects) == ["politie"]


def test_a_short_last_step_is_unanswered_at_once_and_repeats_at_its_deadline() -> None:
    run = Run(make_plan(step("bhv", [target("jan")], ack=None, required=2, presence=True), repeat=60))
    assert kinds(run.effects)[-2:] == ["step_short", "unanswered"]
    assert run.state.unanswered and run.state.status is Status.NOTIFYING
    assert STEP_POLICY["too_few_present"].last_step is Repeat.AT_DEADLINE
    run.send(DeadlineReached(run.state.timer), after=60)
    assert pages(run.effects) == ["jan"] and "repeated" in kinds(run.effects)


def test_a_step_without_presence_still_waits_its_timeout_with_too_few() -> None:
    run = Run(make_plan(
        step("bhv", [target("jan")], ack=45, required=2),
        step("politie", [target("contact:politie", "voice")], ack=None)))
    assert "step_short" not in kinds(run.effects) and run.state.current_step.id == "bhv"


def test_a_severe_jump_to_a_short_step_moves_on_too() -> None:
    run = Run(short_bhv_plan(), kind="man_down")
    assert run.state.current_step.id == "bhv-werf"
    assert timeline(run.effects, "step_short").data["step"] == "bhv"

"""The alarm lifecycle rules (docs/architecture.md), one test per rule, fed straight into `decide`.

Time is a parameter: `Run.send(event, after=seconds)` moves the fake clock forward.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatcher.core import (
    AlarmRaised,
    CancelRequested,
    CloseRequested,
    DeadlineReached,
    DeliveryFailed,
    EscalateRequested,
    FeedbackState,
    IllegalTransition,
    Marked,
    NoteAdded,
    Outcome,
    PoliceRequested,
    Pressed,
    Purpose,
    Responded,
    Response,
    Seen,
    Status,
    decide,
)
from tests.factories import (
    T0,
    Run,
    feedback,
    kinds,
    make_plan,
    notifications,
    pages,
    standard_plan,
    step,
    target,
    timeline,
)


def answer(run: Run, who: str, response: Response, **kw: object) -> Responded:
    page = run.page_for(who)
    return Responded(page.page_id, response, page.route.channel, page.route.address, **kw)  # type: ignore[arg-type]


def deadline(run: Run) -> DeadlineReached:
    return DeadlineReached(run.state.timer)


def seconds_to_deadline(run: Run) -> float:
    assert run.state.deadline is not None
    return (run.state.deadline - run.at).total_seconds()


# ---- raising -----------------------------------------------------------------------------------


def test_raise_answers_received_opens_the_record_and_pages_the_first_step() -> None:
    run = Run(standard_plan())
    assert feedback(run.effects)[0].state is FeedbackState.RECEIVED
    assert kinds(run.effects)[:2] == ["alarm_raised", "step_started"]
    assert pages(run.effects) == ["sanne", "mohamed"]
    assert run.state.status is Status.NOTIFYING
    assert run.state.deadline == T0 + timedelta(seconds=20)


def test_pages_carry_location_gathering_point_and_code() -> None:
    run = Run(standard_plan())
    run.send(deadline(run), after=20)
    page = notifications(run.effects, Purpose.PAGE)[0].message
    assert (page.code, page.where.location_name, page.where.gathering_point) == ("4", "Balie 1", "Trap naast de lift")


def test_unknown_device_is_dispatched_and_flagged() -> None:
    run = Run(standard_plan(known=False))
    assert timeline(run.effects, "unknown_device").notice
    assert pages(run.effects) == ["sanne", "mohamed"]
    assert notifications(run.effects, Purpose.PAGE)[0].message.unknown_device


# ---- steps, deadlines and accepts --------------------------------------------------------------


def test_too_few_accepts_by_the_deadline_starts_the_next_step() -> None:
    run = Run(standard_plan())
    assert run.send(deadline(run), after=19.9) == [], "the deadline must not fire early"
    run.send(deadline(run), after=0.1)
    assert pages(run.effects) == ["jan", "fatima", "kees"]
    assert timeline(run.effects, "escalated").data == {"from": "collega", "to": "bhv", "reason": "no_accept_in_time"}
    assert seconds_to_deadline(run) == 45


def test_an_old_timer_is_ignored() -> None:
    run = Run(standard_plan())
    old = deadline(run)
    run.send(old, after=20)  # escalates to bhv with a new timer
    assert run.send(old, after=45) == []
    assert run.state.current_step.id == "bhv"


def test_earlier_targets_may_still_accept_but_count_only_for_their_own_step() -> None:
    run = Run(standard_plan())
    run.send(deadline(run), after=20)  # now at bhv, 2 BHV-ers needed
    run.send(answer(run, "sanne", Response.ACCEPT), after=5)
    assert run.state.responders[0].role == 3, "a colleague who is not BHV stands by"
    assert run.state.status is Status.NOTIFYING, "a colleague is no BHV-maatje: the BHV step still needs two"
    run.send(answer(run, "jan", Response.ACCEPT), after=5)
    assert run.state.status is Status.NOTIFYING
    run.send(answer(run, "fatima", Response.ACCEPT), after=5)
    assert [(r.name, r.role) for r in run.state.responders] == [
        ("Sanne de Jong", 3), ("Jan de Vries", 1), ("Fatima El Amrani", 2)]
    assert run.state.status is Status.ACCEPTED
    assert run.state.deadline is None


def test_a_step_needs_its_required_number_of_accepts() -> None:
    run = Run(standard_plan())
    run.send(deadline(run), after=20)
    run.send(answer(run, "jan", Response.ACCEPT), after=3)
    assert run.state.status is Status.NOTIFYING, "one of two required accepts is not enough"
    assert run.state.deadline is not None
    run.send(deadline(run), after=42)
    assert run.state.current_step.id == "politie", "still too few at the deadline: escalate"


def test_enough_accepts_stop_the_escalation() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=4)
    assert run.state.status is Status.ACCEPTED
    assert "help_organised" in kinds(run.effects)
    assert run.send(DeadlineReached(run.state.timer), after=100) == []
    assert run.state.current_step.id == "collega"


def test_everyone_declining_starts_the_next_step_at_once() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.DECLINE), after=2)
    assert pages(run.effects) == [], "one of two declined: keep waiting"
    run.send(answer(run, "mohamed", Response.DECLINE), after=1)
    assert pages(run.effects) == ["jan", "fatima", "kees"]
    assert timeline(run.effects, "escalated").data["reason"] == "all_declined"


def test_the_last_step_repeats_every_repeat_every_and_is_unanswered() -> None:
    run = Run(standard_plan(repeat=60))
    run.send(deadline(run), after=20)
    run.send(deadline(run), after=45)
    assert pages(run.effects) == ["politie"]
    assert seconds_to_deadline(run) == 60, "the last step has no ack_timeout: wait repeat_every"
    run.send(deadline(run), after=60)
    assert pages(run.effects) == ["politie"]
    assert timeline(run.effects, "repeated").data["round"] == 2
    assert run.state.unanswered
    assert seconds_to_deadline(run) == 60


def test_declines_at_the_last_step_wait_for_the_repeat_instead_of_looping() -> None:
    plan = make_plan(step("collega", [target("sanne")]), step("bhv", [target("jan"), target("kees")], ack=30))
    run = Run(plan)
    run.send(deadline(run), after=20)
    run.send(answer(run, "jan", Response.DECLINE), after=1)
    run.send(answer(run, "kees", Response.DECLINE), after=1)
    assert pages(run.effects) == []
    assert run.state.unanswered
    run.send(deadline(run), after=28)
    assert pages(run.effects) == ["jan", "kees"], "the next round asks them again"


# ---- roles and feedback ------------------------------------------------------------------------


def test_roles_follow_the_order_of_acceptance() -> None:
    plan = make_plan(step("bhv", [target(p) for p in ("jan", "fatima", "kees", "anouk")], required=4))
    run = Run(plan)
    for who in ("kees", "jan", "anouk", "fatima"):
        run.send(answer(run, who, Response.ACCEPT), after=1)
    assert [(r.recipient, r.role) for r in run.state.responders] == [
        ("person:kees", 1), ("person:jan", 2), ("person:anouk", 3), ("person:fatima", 3)]


def test_an_accept_tells_the_responder_their_role_and_the_others_who_joins() -> None:
    run = Run(standard_plan())
    run.send(deadline(run), after=20)
    run.send(answer(run, "jan", Response.ACCEPT), after=1)
    effects = run.send(answer(run, "fatima", Response.ACCEPT), after=1)
    role = notifications(effects, Purpose.ROLE)
    assert [(n.name, n.message.role) for n in role] == [("Fatima El Amrani", 2)]
    update = notifications(effects, Purpose.UPDATE)
    assert [n.name for n in update] == ["Jan de Vries"]
    assert [(h.name, h.role) for h in update[0].message.helpers] == [("Jan de Vries", 1), ("Fatima El Amrani", 2)]


def test_help_coming_reaches_the_device_with_names_and_roles() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=3)
    [sent] = feedback(run.effects)
    assert sent.state is FeedbackState.HELP_COMING
    assert [(h.name, h.role) for h in sent.helpers] == [("Sanne de Jong", 3)]


def test_accepting_twice_keeps_one_role() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=1)
    effects = run.send(answer(run, "sanne", Response.ACCEPT), after=1)
    assert len(run.state.responders) == 1
    assert [n.message.role for n in notifications(effects, Purpose.ROLE)] == [3]
    assert kinds(effects) == []


def test_an_outside_contact_confirming_gets_no_role_but_counts() -> None:
    run = Run(standard_plan())
    run.send(deadline(run), after=20)
    run.send(deadline(run), after=45)
    run.send(answer(run, "contact:politie", Response.ACCEPT), after=10)
    assert kinds(run.effects)[0] == "confirmed"
    assert run.state.responders[0].role is None
    assert run.state.status is Status.ACCEPTED
    assert not run.state.unanswered


def test_on_scene_is_reported_once_to_the_device() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=2)
    run.send(answer(run, "sanne", Response.ON_SCENE), after=30)
    assert run.state.status is Status.ON_SCENE
    assert [f.state for f in feedback(run.effects)] == [FeedbackState.ON_SCENE]
    assert run.send(answer(run, "sanne", Response.ON_SCENE), after=1) == []


def test_on_scene_without_accepting_first_also_assigns_a_role() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "mohamed", Response.ON_SCENE), after=40)
    assert [(r.name, r.role, r.on_scene_at is not None) for r in run.state.responders] == [
        ("Mohamed Yilmaz", 3, True)]
    assert kinds(run.effects) == ["accepted", "help_organised", "on_scene"]


def test_withdrawing_below_the_required_number_escalates_at_once() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=2)
    assert run.state.status is Status.ACCEPTED
    run.send(answer(run, "sanne", Response.DECLINE), after=10)
    assert kinds(run.effects)[0] == "withdrew"
    assert pages(run.effects) == ["jan", "fatima", "kees"]
    assert feedback(run.effects)[0].state is FeedbackState.RECEIVED


# ---- severe alarms and presses -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["man_down", "no_movement"])
def test_severe_kinds_start_at_on_severe(kind: str) -> None:
    run = Run(standard_plan(), kind=kind)
    assert pages(run.effects) == ["jan", "fatima", "kees"]
    assert timeline(run.effects, "severe").data == {"reason": kind}


def test_a_repeated_press_is_one_event_answered_with_received() -> None:
    run = Run(standard_plan())
    effects = run.send(Pressed(1), after=3)
    assert [f.state for f in feedback(effects)] == [FeedbackState.RECEIVED]
    assert kinds(effects) == [] and pages(effects) == []


def test_a_new_press_jumps_to_on_severe_at_once() -> None:
    run = Run(standard_plan())
    run.send(Pressed(2), after=5)
    assert pages(run.effects) == ["jan", "fatima", "kees"]
    assert timeline(run.effects, "escalated").data["reason"] == "new_press"
    assert run.state.severe


def test_a_new_press_beyond_on_severe_escalates_one_step() -> None:
    run = Run(standard_plan())
    run.send(Pressed(2), after=5)
    run.send(Pressed(3), after=5)
    assert pages(run.effects) == ["politie"]


def test_a_new_press_after_help_was_organised_asks_for_more_help() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=2)
    run.send(Pressed(2), after=20)
    assert run.state.status is Status.NOTIFYING
    assert pages(run.effects) == ["jan", "fatima", "kees"]


# ---- cancel, duress and close --------------------------------------------------------------------


def test_cancel_needs_the_pin_when_one_is_set() -> None:
    run = Run(standard_plan(cancel_pin="1234"))
    effects = run.send(CancelRequested(None), after=1)
    assert run.state.is_open
    assert timeline(effects, "cancel_refused").data == {"reason": "pin_required"}
    assert feedback(effects)[0].reason == "pin_required", "asking for a PIN gives nothing away"
    run.send(CancelRequested("1234"), after=1)
    assert run.state.status is Status.CLOSED and run.state.outcome is Outcome.CANCELLED


def test_a_wrong_pin_looks_like_a_cancel_at_the_device_and_the_alarm_goes_on() -> None:
    genuine = Run(standard_plan(cancel_pin="1234"))
    genuine.send(CancelRequested("1234"), after=5)
    wrong = Run(standard_plan(cancel_pin="1234"))
    effects = wrong.send(CancelRequested("0000"), after=5)
    assert feedback(effects) == feedback(genuine.effects), "whoever holds the device learns nothing"
    assert wrong.state.is_open
    assert timeline(effects, "cancel_refused").data == {"reason": "wrong_pin", "attempts": 1, "limit": 3}
    assert timeline(effects, "cancel_refused").notice, "the control room is told"
    assert feedback(wrong.send(answer(wrong, "sanne", Response.ACCEPT), after=5)) == [], "and it hears no more"


def test_after_three_wrong_pins_the_device_can_no_longer_cancel() -> None:
    run = Run(standard_plan(cancel_pin="1234"))
    for attempt in (1, 2, 3):
        effects = run.send(CancelRequested(f"000{attempt}"), after=1)
        assert timeline(effects, "cancel_refused").data["attempts"] == attempt
    effects = run.send(CancelRequested("1234"), after=1)
    assert run.state.is_open, "the right PIN after the limit ends nothing"
    assert timeline(effects, "cancel_refused").data == {"reason": "locked", "attempts": 3}
    assert feedback(effects)[0].state is FeedbackState.CLOSED
    run.send(CloseRequested(Outcome.RESOLVED, "operator:ria"), after=60)
    assert run.state.status is Status.CLOSED


def test_cancel_without_a_pin_configured_closes_and_stands_everyone_down() -> None:
    run = Run(standard_plan())
    run.send(answer(run, "sanne", Response.ACCEPT), after=2)
    effects = run.send(CancelRequested(None), after=5)
    assert run.state.status is Status.CLOSED
    assert sorted(n.name for n in notifications(effects, Purpose.STAND_DOWN)) == ["Mohamed Yilmaz", "Sanne de Jong"]
    assert feedback(effects)[-1].state is FeedbackState.CLOSED
    assert run.state.deadline is None


def test_cancel_after_help_arrived_is_a_resolved_incident() -> None:
    run = Run(standard_plan(cancel_pin="1234"))
    run.send(answer(run, "sanne", Response.ON_SCENE), after=30)
    run.send(CancelRequested("1234"), after=60)
    assert run.state.outcome is Outcome.RESOLVED


def test_duress_looks_like_a_cancel_at_the_device_but_escalates_silently() -> None:
    genuine = Run(standard_plan(cancel_pin="1234", duress_pin="9999"))
    genuine.send(CancelRequested("1234"), after=5)
    forced = Run(standard_plan(cancel_pin="1234", duress_pin="9999"))
    forced.send(CancelRequested("9999"), after=5)

    assert feedback(forced.effects) == feedback(genuine.effects), "the device must not tell them apart"
    assert forced.state.is_open and forced.state.duress
    assert timeline(forced.effects, "duress").notice
    assert pages(forced.effects) == ["jan", "fatima", "kees"], "duress starts on_severe"
    assert all(n.message.duress for n in notifications(forced.effects, Purpose.PAGE))


def test_after_duress_the_device_hears_nothing_and_cannot_end_the_alarm() -> None:
    run = Run(standard_plan(cancel_pin="1234", duress_pin="9999"))
    run.send(CancelRequested("9999"), after=5)
    assert feedback(run.send(answer(run, "jan", Response.ACCEPT), after=5)) == []
    assert feedback(run.send(answer(run, "jan", Response.ON_SCENE), after=60)) == []
    run.send(CancelRequested("1234"), after=5)
    assert run.state.is_open, "a forced second cancel must not end a duress alarm"
    effects = run.send(CloseRequested(Outcome.RESOLVED, "operator:ria"), after=300)
    assert run.state.status is Status.CLOSED
    assert feedback(effects) == [], "the device already shows closed"


def test_duress_tells_those_already_coming() -> None:
    run = Run(standard_plan(duress_pin="9999"))
    run.send(answer(run, "sanne", Response.ACCEPT), after=2)
    effects = run.send(CancelRequested("9999"), after=5)
    [update] = notifications(effects, Purpose.UPDATE)
    assert update.name == "Sanne de Jong" and update.message.duress


def test_operator_close_records_the_outcome_and_answers_the_device() -> None:
    run = Run(standard_plan())
    effects = run.send(CloseRequested(Outcome.FALSE_ALARM, "operator:ria", "knop geraakt bij schoonmaak"), after=30)
    assert timeline(effects, "closed").data == {"outcome": "false_alarm", "note": "knop geraakt bij schoonmaak"}
    assert feedback(effects)[-1].reason == "false_alarm"
    with pytest.raises(IllegalTransition):
        run.send(CloseRequested(Outcome.RESOLVED, "operator:ria"))


def test_an_answer_after_closing_changes_nothing_and_sends_nothing() -> None:
    run = Run(standard_plan())
    run.send(CancelRequested(None), after=5)
    closed = run.state
    for _ in range(3):  # a one-tap link tapped again and again
        with pytest.raises(IllegalTransition, match="closed"):
            run.send(answer(run, "mohamed", Response.ACCEPT), after=5)
    assert run.state == closed


def test_repeats_of_a_closed_alarm_get_closed_feedback_and_a_new_press_is_refused() -> None:
    run = Run(standard_plan())
    run.send(CancelRequested(None), after=5)
    assert feedback(run.send(Pressed(1), after=1))[0].state is FeedbackState.CLOSED
    with pytest.raises(IllegalTransition):
        run.send(Pressed(2))


def test_operator_escalation_starts_the_next_step_now() -> None:
    run = Run(standard_plan())
    run.send(EscalateRequested("operator:ria"), after=3)
    assert kinds(run.effects)[0] == "escalated_by_operator"
    assert pages(run.effects) == ["jan", "fatima", "kees"]


def test_operator_may_accept_on_behalf_of_someone() -> None:
    run = Run(standard_plan())
    page = run.page_for("sanne")
    run.send(Responded(page.page_id, Response.ACCEPT, "operator", "", actor="ria"), after=10)
    assert timeline(run.effects, "accepted").actor == "operator:ria for Sanne de Jong"
    assert run.state.responders[0].role == 3


# ---- skipping, failures, illegal events ------------------------------------------------------------


def test_a_step_with_nobody_to_reach_is_skipped_on_the_timeline() -> None:
    plan = make_plan(
        step("collega", [], unreachable=("Ruud Smit",)),
        step("bhv", [target("jan")], ack=45),
    )
    run = Run(plan)
    skipped = timeline(run.effects, "step_skipped")
    assert skipped.data == {"step": "collega", "reason": "nobody_to_reach", "unreachable": ["Ruud Smit"]}
    assert pages(run.effects) == ["jan"]


def test_nobody_at_all_to_reach_is_unanswered_at_once() -> None:
    run = Run(make_plan(step("bhv", [], ack=None)))
    assert run.state.unanswered and run.state.deadline is None
    assert timeline(run.effects, "unanswered").notice


def test_a_failed_channel_moves_that_person_to_their_next_route() -> None:
    plan = make_plan(step("collega", [target("sanne", "pager", "sms")]), step("bhv", [target("jan")], ack=45))
    run = Run(plan)
    page = run.page_for("sanne")
    run.send(DeliveryFailed(page.page_id, 0, "page", "pager offline"), after=2)
    [retry] = notifications(run.effects, Purpose.PAGE)
    assert (retry.page_id, retry.route.channel) == (page.page_id, "sms")
    assert timeline(run.effects, "channel_failed").data["next"] == "sms"
    run.send(DeliveryFailed(page.page_id, 1, "page", "undelivered"), after=2)
    assert kinds(run.effects)[:2] == ["unreachable", "escalated"], "nobody left in the step: go on at once"
    assert pages(run.effects) == ["jan"]


def test_an_answer_on_any_of_the_page_routes_counts_but_not_from_elsewhere() -> None:
    plan = make_plan(step("collega", [target("sanne", "pager", "sms")]))
    run = Run(plan)
    page = run.page_for("sanne")
    before = run.state
    with pytest.raises(IllegalTransition) as refused:
        run.send(Responded(page.page_id, Response.ACCEPT, "pager", "pager-jan"))
    assert refused.value.security
    assert run.state is before, "an illegal event leaves the state as it was"
    sms = plan.steps[0].targets[0].routes[1]
    effects = run.send(Responded(page.page_id, Response.ACCEPT, sms.channel, sms.address), after=1)
    assert run.state.responders[0].channel == "sms"
    [role] = notifications(effects, Purpose.ROLE)
    assert role.route == sms, "the role goes back the way they answered"


def test_an_answer_by_text_from_the_number_of_a_voice_route_counts() -> None:
    run = Run(make_plan(step("collega", [target("sanne", "pager", "voice")])))
    page = run.page_for("sanne")
    phone = run.plan.steps[0].targets[0].routes[1].address
    effects = run.send(Responded(page.page_id, Response.ACCEPT, "sms", phone), after=1)
    assert run.state.responders[0].channel == "sms"
    assert notifications(effects, Purpose.ROLE)[0].route.channel == "voice", "same number, the route it has"


def test_the_signed_one_tap_page_is_trusted_like_the_operator() -> None:
    run = Run(make_plan(step("collega", [target("sanne", "pager")])))
    page = run.page_for("sanne")
    run.send(Responded(page.page_id, Response.ACCEPT, "app", ""), after=1)
    assert run.state.responders[0].channel == "app"


@pytest.mark.parametrize("event", [Pressed(1), CancelRequested(None), DeadlineReached(0)])
def test_events_before_an_alarm_exists_are_illegal(event: object) -> None:
    with pytest.raises(IllegalTransition):
        decide(None, event, T0)  # type: ignore[arg-type]


def test_raising_an_alarm_twice_is_illegal() -> None:
    run = Run(standard_plan())
    with pytest.raises(IllegalTransition):
        run.send(AlarmRaised("a1", "knop-1", "dev-alarm-1", 1, "panic", True, run.plan))


def test_the_same_events_at_the_same_times_give_the_same_result() -> None:
    def story() -> tuple[object, list[object]]:
        run = Run(standard_plan())
        run.send(deadline(run), after=20)
        run.send(answer(run, "jan", Response.ACCEPT), after=4)
        run.send(answer(run, "kees", Response.ON_SCENE), after=30)
        return run.state, run.history

    assert story() == story()


def test_decide_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(None, AlarmRaised("a", "d", "x", 1, "panic", True, standard_plan()), T0.replace(tzinfo=None))


# ---- control room actions -----------------------------------------------------------------


def test_calling_the_police_now_starts_the_contact_step() -> None:
    run = Run(standard_plan())
    run.send(PoliceRequested("operator:ria"), after=4)
    assert kinds(run.effects)[:2] == ["police_requested", "step_started"]
    assert pages(run.effects) == ["politie"]
    run.send(PoliceRequested("operator:ria"), after=30)
    assert pages(run.effects) == ["politie"], "asked again: the call goes out again"


def test_calling_the_police_needs_a_contact_in_the_chain() -> None:
    run = Run(make_plan(step("collega", [target("sanne")])))
    with pytest.raises(IllegalTransition, match="no outside contact"):
        run.send(PoliceRequested("operator:ria"))


def test_seen_is_recorded_once_with_who_saw_it() -> None:
    run = Run(standard_plan())
    run.send(Seen("operator:ria"), after=3)
    assert (run.state.seen_at, run.state.seen_by) == (T0 + timedelta(seconds=3), "operator:ria")
    assert run.send(Seen("operator:kim"), after=1) == []
    assert run.state.seen_by == "operator:ria"


def test_a_marked_drill_closes_as_a_drill_and_notes_follow_the_alarm() -> None:
    run = Run(standard_plan())
    run.send(Marked(Outcome.DRILL, "operator:ria"), after=2)
    assert run.state.is_open and run.state.marked is Outcome.DRILL
    run.send(CloseRequested(None, "operator:ria"), after=60)
    assert run.state.outcome is Outcome.DRILL
    effects = run.send(NoteAdded("operator:ria", "  BHV was binnen 90 s ter plaatse  "), after=120)
    assert timeline(effects, "note").data == {"text": "BHV was binnen 90 s ter plaatse"}
    with pytest.raises(IllegalTransition):
        run.send(NoteAdded("operator:ria", "   "))


def test_closing_without_an_outcome_is_resolved() -> None:
    run = Run(standard_plan())
    run.send(CloseRequested(None, "operator:ria"), after=60)
    assert run.state.outcome is Outcome.RESOLVED

"""Hypothesis drives one alarm through any sequence of events and checks, after every step, what
must hold whatever happened: the status is the one the facts give, a deadline is never in the
past, roles 1 and 2 are held once each and only by BHV-trained people, nothing but stand-downs
goes out once the alarm is closed, and after duress nobody but the device is told "cancelled"."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from dispatcher.core import (
    CancelRequested,
    CloseRequested,
    DeadlineReached,
    DeliveryFailed,
    EscalateRequested,
    Feedback,
    IllegalTransition,
    Notify,
    Outcome,
    PoliceRequested,
    Pressed,
    Purpose,
    Responded,
    Response,
    Status,
)
from dispatcher.core.machine import _settle
from tests.factories import Run, over_plan

WHO = ["jan", "fatima", "kees", "sanne", "mohamed", "ingrid", "contact:politie"]


class OneAlarm(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.run = Run(over_plan(cancel_pin="1234", duress_pin="9999"))
        self.closed_before = False
        self.timer_before = (self.run.state.timer, self.run.state.deadline)

    def send(self, event: object, after: float = 0) -> None:
        before = self.run.state
        self.closed_before = before.status is Status.CLOSED
        self.timer_before = (before.timer, before.deadline)
        try:
            self.run.send(event, after=after)  # type: ignore[arg-type]
        except IllegalTransition:
            assert self.run.state == before, "a refused event changes nothing"
            self.run.effects = []

    def page_of(self, who: str):  # type: ignore[no-untyped-def]
        key = who if ":" in who else f"person:{who}"
        pages = [p for p in self.run.state.pages if p.recipient == key]
        return pages[-1] if pages else None

    @rule(who=st.sampled_from(WHO), response=st.sampled_from(list(Response)), after=st.integers(0, 30))
    def answer(self, who: str, response: Response, after: int) -> None:
        page = self.page_of(who)
        if page is not None:
            route = page.routes[page.route]
            self.send(Responded(page.page_id, response, route.channel, route.address), after)

    @rule(after=st.integers(0, 90))
    def deadline(self, after: int) -> None:
        self.send(DeadlineReached(self.run.state.timer), after)

    @rule(press=st.integers(1, 4))
    def press(self, press: int) -> None:
        self.send(Pressed(press), 1)

    @rule(pin=st.sampled_from([None, "1234", "9999", "0000"]))
    def cancel(self, pin: str | None) -> None:
        self.send(CancelRequested(pin), 1)

    @rule(who=st.sampled_from(WHO))
    def delivery_failed(self, who: str) -> None:
        page = self.page_of(who)
        if page is not None:
            purpose = Purpose.INFORM if page.inform else Purpose.PAGE
            self.send(DeliveryFailed(page.page_id, page.route, purpose.value, "refused"), 1)

    @rule()
    def escalate(self) -> None:
        self.send(EscalateRequested("ria"), 1)

    @rule()
    def police(self) -> None:
        self.send(PoliceRequested("ria"), 1)

    @rule(outcome=st.sampled_from([None, Outcome.RESOLVED, Outcome.FALSE_ALARM]))
    def close(self, outcome: Outcome | None) -> None:
        self.send(CloseRequested(outcome, "ria"), 5)

    @invariant()
    def status_is_what_the_facts_say(self) -> None:
        state = self.run.state
        assert _settle(replace(state, status=Status.NOTIFYING) if state.is_open else state) == state

    @invariant()
    def deadlines_lie_ahead_and_never_move_back_unannounced(self) -> None:
        state = self.run.state
        timer, deadline = self.timer_before
        if state.timer == timer:
            assert state.deadline == deadline, "a deadline changes only with a new timer"
        elif state.deadline is not None:
            assert state.deadline > self.run.at, "a deadline just set lies ahead"

    @invariant()
    def roles_follow_the_leidraad(self) -> None:
        state = self.run.state
        roles = [r.role for r in state.responders if r.role is not None]
        assert roles.count(1) <= 1 and roles.count(2) <= 1 and set(roles) <= {1, 2, 3}
        for responder in state.responders:
            recipient = state.plan.recipient(responder.recipient)
            if responder.role in (1, 2):
                assert recipient.bhv, f"{recipient.name} is not BHV and got role {responder.role}"
            assert (responder.role is None) == recipient.is_contact
        assert not any(r.recipient == "person:ingrid" for r in state.responders), "informed, never a responder"

    @invariant()
    def after_closing_only_stand_downs(self) -> None:
        if self.closed_before:
            sent = [e for e in self.run.effects if isinstance(e, Notify)]
            assert all(n.purpose is Purpose.STAND_DOWN for n in sent), sent

    @invariant()
    def duress_never_reads_cancelled_to_people(self) -> None:
        if self.run.state.duress:
            for effect in self.run.effects:
                if isinstance(effect, Notify):
                    assert effect.message.outcome != Outcome.CANCELLED.value
                if isinstance(effect, Feedback):
                    assert effect.device_id == self.run.state.device_id


OneAlarm.TestCase.settings = settings(
    max_examples=150, stateful_step_count=25, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOneAlarm = OneAlarm.TestCase

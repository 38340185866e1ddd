"""The alarm lifecycle as one pure function: `decide(state, event, now) -> (state, effects)`.

No I/O, no clock, no randomness: the same state, event and time always give the same result,
so every rule below is a plain unit test. The rules (docs/architecture.md, "The alarm lifecycle"):

* A step notifies its targets on their first route and waits `ack_timeout`. Too few accepts by
  the deadline: the next step starts; earlier targets may still accept (accepts from any step
  count). Everyone in a step declined or unreachable: the next step starts at once.
* The last step without enough accepts repeats every `repeat_every` and the alarm is marked
  unanswered. A step with nobody left to ask is skipped, on the timeline.
* A step whose targets were narrowed to those present (`present: true`) and who are fewer than
  `required` cannot be met: those there are paged, `step_short` goes on the timeline and the
  chain moves on at once instead of waiting out `ack_timeout`.
* Severe alarms (man_down, no_movement, a new press, the duress PIN) start at, or jump to,
  `on_severe`; when already there or beyond, they escalate one step at once.
* Accepting responders get the Leidraad's roles: 1 approaches and 2 backs up, both only for
  BHV-trained people; everyone else who comes, and any BHV-er after the first two, takes 3
  (stands by, calls the police if needed).
* The afdelingshoofd of the person in danger is informed at once: an inform page, never
  answered, taking no role, told when the alarm ends.
* A cancel needs the device's `cancel_pin` when one is set. The `duress_pin` answers the
  device exactly like a cancel, but escalates and marks the alarm for the control room; after
  it the device hears nothing more, and no later cancel from the device ends the alarm.
* A wrong PIN, too, looks like a cancel at the device (whoever holds it learns nothing) while
  the alarm goes on and the control room is told; after `MAX_WRONG_PINS` the device can no
  longer cancel at all. PINs arrive and are kept as digests only.
* An answer to a closed alarm changes nothing and sends nothing.
* A failed channel moves that recipient to their next route; with none left they count as
  unreachable.

Two tables hold the policy: `STEP_POLICY` below says what follows when a step ends early or
its deadline passes; `TRANSITIONS` at the end lists every (status, event) pair that is allowed;
anything else raises `IllegalTransition` and leaves the state as it was.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any, Literal

from devices.kinds import AlarmKind
from dispatcher.core.effects import (
    Effect,
    Feedback,
    FeedbackState,
    Helper,
    Message,
    Notify,
    Purpose,
    Timeline,
)
from dispatcher.core.events import (
    AlarmRaised,
    CancelRequested,
    CentreReported,
    CloseRequested,
    DeadlineReached,
    DeliveryFailed,
    EscalateRequested,
    Event,
    Marked,
    NoteAdded,
    Outcome,
    PoliceRequested,
    Pressed,
    Responded,
    Response,
    Seen,
)
from dispatcher.core.state import AlarmState, Page, PageStatus, Responder, Status
from escalation.ids import PageId
from escalation.plan import ChannelKind, PlanStep, Route

SEVERE_KINDS = frozenset({AlarmKind.MAN_DOWN, AlarmKind.NO_MOVEMENT})
MAX_WRONG_PINS = 3
SYSTEM = "code4"
OPERATOR_CHANNEL = "operator"
# Channels whose answers the shell has authenticated itself: the control room acting for
# someone, and the one-tap page reached through a signed link minted for that page.
TRUSTED_CHANNELS = frozenset({OPERATOR_CHANNEL, "app"})

Decision = tuple[AlarmState, list[Effect]]
Handler = Callable[[Any, Any, datetime], Decision]


# ---- the step policy ---------------------------------------------------------------------
# Why a step ends without the help it asks for, and what follows. Read a row as: when the current
# step ends for this reason, the chain moves on to the next step at once (a `severe` reason
# first jumps to the plan's `on_severe` step when the chain is not there yet). With no next
# step, `last_step` says when the last step is asked again: NOW (a new round now, and a fresh
# repeat deadline) or AT_DEADLINE (the running repeat deadline brings the next round, so a
# round of declines or failures cannot loop), and `unanswered` whether the alarm then shows
# as unanswered. What makes a step end (a decline leaving nobody pending, a withdrawal after
# help was organised, ...) is up to the handler that names the reason.


class Repeat(Enum):
    NOW = "now"
    AT_DEADLINE = "at_deadline"


@dataclass(frozen=True)
class StepRule:
    last_step: Repeat
    unanswered: bool = True
    severe: bool = False


StepEnd = Literal["no_accept_in_time", "operator", "responder_withdrew", "new_press", "duress", "all_declined",
                  "nobody_reachable", "too_few_present"]
STEP_POLICY: Mapping[StepEnd, StepRule] = MappingProxyType({
    "no_accept_in_time": StepRule(Repeat.NOW),         # the step's deadline passed without enough accepts
    "operator": StepRule(Repeat.NOW),                  # the control room escalates
    "responder_withdrew": StepRule(Repeat.NOW),        # someone coming declines after help was organised
    "new_press": StepRule(Repeat.NOW, severe=True),    # the button pressed again
    "duress": StepRule(Repeat.NOW, severe=True),       # the duress PIN
    "all_declined": StepRule(Repeat.AT_DEADLINE),      # a decline leaves nobody in the step still asked
    "nobody_reachable": StepRule(Repeat.AT_DEADLINE),  # a failure leaves nobody in the step still asked
    "too_few_present": StepRule(Repeat.AT_DEADLINE),   # fewer present than `required`: those there are paged
})


class IllegalTransition(Exception):
    """An event that does not apply to the alarm in its current state. `security` marks one
    that looks like an attempt to act for someone else (an answer from a foreign address)."""

    def __init__(self, status: Status | None, event: Event, reason: str, *, security: bool = False) -> None:
        self.status = status
        self.event = event
        self.reason = reason
        self.security = security
        where = status.value if status else "no alarm"
        super().__init__(f"{type(event).__name__} not allowed in {where}: {reason}")


def decide(state: AlarmState | None, event: Event, now: datetime) -> Decision:
    if now.tzinfo is None:
        raise ValueError("decide() needs a timezone-aware now")
    status = state.status if state is not None else None
    handler = TRANSITIONS.get((status, type(event)))
    if handler is None:
        raise IllegalTransition(status, event, "not in the transition table")
    new_state, effects = handler(state, event, now)
    return _settle(new_state), effects


# ---- raising and stepping -----------------------------------------------------------------


def _raise(event: AlarmRaised, now: datetime) -> Decision:
    plan = event.plan
    if not plan.steps:
        raise IllegalTransition(None, event, "the plan has no steps")
    severe_kind = event.kind in SEVERE_KINDS
    state = AlarmState(
        uid=event.uid, device_id=event.device_id, device_alarm_id=event.device_alarm_id,
        kind=event.kind, silent=event.silent, plan=plan, raised_at=now, status=Status.NOTIFYING,
        step=0, position=event.position, device_time=event.device_time, press=event.press,
        severe=severe_kind or event.press > 1, note=event.note, approach=event.approach,
        marked=Outcome.DRILL if plan.drill else None,
    )
    effects: list[Effect] = [
        _feedback(state, FeedbackState.RECEIVED),
        Timeline("alarm_raised", _device_actor(state), data={
            "kind": event.kind, "silent": event.silent, "press": event.press,
            "where": plan.where.describe(), "person": plan.device.person_name,
            "agreement": plan.agreement_id, "fallback": plan.fallback, "drill": plan.drill, "note": event.note,
            "approach": event.approach,
        }, notice=True),
    ]
    if not plan.device.known:
        effects.append(Timeline("unknown_device", SYSTEM, data={
            "device": event.device_id, "agreement": plan.agreement_id}, notice=True))
    if event.unreadable:
        effects.append(Timeline("unreadable_alarm", SYSTEM, data={"reason": event.unreadable}, notice=True))
    start = 0
    if state.severe:
        reason = event.kind if severe_kind else "new_press"
        effects.append(Timeline("severe", SYSTEM, data={"reason": reason}, notice=True))
        start = plan.severe_step if plan.severe_step is not None else 0
    state, effects = _start_step(state, start, now, "raised", effects)
    return _inform(state, now, effects)


def _inform(state: AlarmState, now: datetime, effects: list[Effect]) -> Decision:
    """Tell the afdelingshoofd, after the pages that ask for help have gone."""
    seq = state.page_seq
    pages = []
    for target in state.plan.informed:
        seq += 1
        pages.append(Page(page_id=PageId(state.uid, seq), recipient=target.recipient, step=state.step, round=1,
                          routes=target.routes, route=0, status=PageStatus.PENDING, sent_at=now, inform=True))
    state = replace(state, pages=state.pages + tuple(pages), page_seq=seq)
    for page in pages:
        effects.append(Timeline("informed", SYSTEM, channel=page.current_route.channel, data={
            "recipient": state.plan.recipient(page.recipient).name, "page_id": page.page_id}))
        effects.append(_notify(state, page, Purpose.INFORM, page.route))
    return state, effects


def _start_step(state: AlarmState, index: int, now: datetime, reason: str, effects: list[Effect]) -> Decision:
    """Start step `index` (never one alongside: those start with it) and the steps alongside it."""
    steps = state.plan.steps
    while not _askable(state, index):
        step = steps[index]
        effects.append(_short_notice(step) if step.short else Timeline("step_skipped", SYSTEM, data={
            "step": step.id,
            "reason": "nobody_to_reach" if not step.targets else "all_already_accepted",
            "unreachable": list(step.unreachable),
        }, notice=True))
        state, paged = _page_alongside(state, index, now)  # colleagues still come when no BHV can
        effects += paged
        following = _next_step(state, index)
        if following is None:
            state = _clear_deadline(replace(state, step=index, round=1))
            if not state.satisfied:
                state = replace(state, unanswered=True)
                effects.append(Timeline("unanswered", SYSTEM, data={
                    "step": step.id, "reason": "nobody_left_to_ask"}, notice=True))
            return state, effects
        index = following
    step = steps[index]
    state = replace(state, step=index, round=1, unanswered=False)
    effects.append(Timeline("step_started", SYSTEM, data={
        "step": step.id, "code": step.code, "reason": reason, "required": step.required,
        "unreachable": list(step.unreachable),
    }, notice=bool(step.unreachable)))
    state, paged = _page_step(state, now)
    effects += paged
    state, paged = _page_alongside(state, index, now)
    effects += paged
    if state.satisfied:
        return _clear_deadline(state), effects
    wait = step.ack_timeout_s or state.plan.repeat_every_s
    state = _set_deadline(state, now + timedelta(seconds=wait))
    if step.short:
        # Too few present to ever fill the step: those there are paged, the chain goes on now.
        return _step_ends(state, now, "too_few_present", [*effects, _short_notice(step)])
    return state, effects


def _short_notice(step: PlanStep) -> Timeline:
    return Timeline("step_short", SYSTEM, data={
        "step": step.id, "present": len(step.targets), "required": step.required}, notice=True)


def _next_step(state: AlarmState, index: int) -> int | None:
    """The step the chain moves on to after `index`: the next one not running alongside."""
    steps = state.plan.steps
    return next((i for i in range(index + 1, len(steps)) if not steps[i].alongside), None)


def _page_alongside(state: AlarmState, index: int, now: datetime) -> Decision:
    """Page the steps that run alongside step `index`, skipping anyone already being asked."""
    effects: list[Effect] = []
    steps = state.plan.steps
    following = index + 1
    while following < len(steps) and steps[following].alongside:
        state, paged = _page_step(state, now, index=following, round_=1)
        effects += paged
        following += 1
    return state, effects


def _askable(state: AlarmState, index: int) -> bool:
    return any(state.responder(t.recipient) is None for t in state.plan.steps[index].targets)


def _page_step(state: AlarmState, now: datetime, *, index: int | None = None, round_: int | None = None,
               again: bool = False) -> Decision:
    """Page everyone in a step (the current one unless `index`) who has not accepted yet. A step
    alongside skips whoever is already asked (unless asked `again`), so nobody gets two pages
    at one moment."""
    index = state.step if index is None else index
    round_ = state.round if round_ is None else round_
    step = state.plan.steps[index]
    skip = step.alongside and not again
    asked = {p.recipient for p in state.pages if p.asks and p.status is PageStatus.PENDING} if skip else set()
    seq = state.page_seq
    new_pages: list[Page] = []
    for target in step.targets:
        if state.responder(target.recipient) is None and target.recipient not in asked:
            seq += 1
            new_pages.append(Page(
                page_id=PageId(state.uid, seq), recipient=target.recipient, step=index,
                round=round_, routes=target.routes, route=0, status=PageStatus.PENDING, sent_at=now,
            ))
    state = replace(state, pages=state.pages + tuple(new_pages), page_seq=seq)
    effects: list[Effect] = []
    for page in new_pages:
        recipient = state.plan.recipient(page.recipient)
        effects.append(Timeline("notified", SYSTEM, channel=page.current_route.channel, data={
            "recipient": recipient.name, "step": step.id, "round": state.round, "page_id": page.page_id,
            "outside": recipient.is_contact,  # the police or another outside party: for the reports
        }))
        effects.append(_notify(state, page, Purpose.PAGE, page.route))
    return state, effects


def _advance(state: AlarmState, now: datetime, reason: StepEnd) -> Decision:
    """The current step ends for `reason`: what follows is the row of `STEP_POLICY`."""
    rule = STEP_POLICY[reason]
    if rule.severe:
        state = replace(state, severe=True)
        target = state.plan.severe_step
        if target is not None and target > state.step:
            effects: list[Effect] = [Timeline("escalated", SYSTEM, data={
                "from": state.current_step.id, "to": state.plan.steps[target].id, "reason": reason,
            }, notice=True)]
            return _start_step(state, target, now, reason, effects)
    current = state.current_step
    index = _next_step(state, state.step)
    if index is not None:
        effects = [Timeline("escalated", SYSTEM, data={
            "from": current.id, "to": state.plan.steps[index].id, "reason": reason}, notice=True)]
        return _start_step(state, index, now, reason, effects)
    if rule.last_step is Repeat.AT_DEADLINE:
        state = replace(state, unanswered=rule.unanswered)
        return state, [Timeline("unanswered", SYSTEM, data={
            "step": current.id, "round": state.round, "reason": reason}, notice=True)]
    if not _askable(state, state.step):
        return _start_step(state, state.step, now, reason, [])
    state = replace(state, round=state.round + 1, unanswered=rule.unanswered)
    effects = [Timeline("repeated", SYSTEM, data={
        "step": current.id, "round": state.round, "reason": reason}, notice=True)]
    state, paged = _page_step(state, now)
    state = _set_deadline(state, now + timedelta(seconds=state.plan.repeat_every_s))
    return state, effects + paged


def _step_ends(state: AlarmState, now: datetime, reason: StepEnd, effects: list[Effect]) -> Decision:
    """`_advance`, after the effects that led to it."""
    state, more = _advance(state, now, reason)
    return state, effects + more


def _deadline(state: AlarmState, event: DeadlineReached, now: datetime) -> Decision:
    if event.timer != state.timer or state.deadline is None or now < state.deadline:
        return state, []  # a timer for a step that is no longer current
    if state.satisfied:
        return _clear_deadline(state), []
    return _advance(state, now, "no_accept_in_time")


def _escalate_requested(state: AlarmState, event: EscalateRequested, now: datetime) -> Decision:
    return _step_ends(state, now, "operator", [Timeline("escalated_by_operator", event.actor, notice=True)])


def _police_requested(state: AlarmState, event: PoliceRequested, now: datetime) -> Decision:
    """Start the step that reaches an outside contact, now (or repeat it when it is running)."""
    steps = state.plan.steps
    target = next((i for i, s in enumerate(steps) if any(t.recipient.is_contact for t in s.targets)), None)
    if target is None:
        raise IllegalTransition(state.status, event, "this alarm's agreement names no outside contact")
    # The police come to a private alarm once it is verified: the control room asking is that.
    state = replace(state, police_requested_by=state.police_requested_by or event.actor)
    effects: list[Effect] = [Timeline("police_requested", event.actor, data={"step": steps[target].id}, notice=True),
                             *_tell_centre(state, "operator")]
    if steps[target].alongside:
        state, paged = _page_step(state, now, index=target, round_=state.round + 1, again=True)
        return state, effects + paged
    if target == state.step:
        state = replace(state, round=state.round + 1)
        state, paged = _page_step(state, now)
        wait = steps[target].ack_timeout_s or state.plan.repeat_every_s
        return _set_deadline(state, now + timedelta(seconds=wait)), effects + paged
    state, more = _start_step(state, target, now, "operator", [])
    return state, effects + more


def _seen(state: AlarmState, event: Seen, now: datetime) -> Decision:
    if state.seen_at is not None:
        return state, []
    return replace(state, seen_at=now, seen_by=event.actor), [Timeline("seen", event.actor)]


def _marked(state: AlarmState, event: Marked, now: datetime) -> Decision:
    if event.label not in (Outcome.DRILL, Outcome.FALSE_ALARM):
        raise IllegalTransition(state.status, event, "an alarm is marked as drill or false alarm")
    return replace(state, marked=event.label), [
        Timeline("marked", event.actor, data={"label": event.label.value}, notice=True)]


def _note(state: AlarmState, event: NoteAdded, now: datetime) -> Decision:
    text = event.text.strip()
    if not text:
        raise IllegalTransition(state.status, event, "an empty note")
    return state, [Timeline("note", event.actor, data={"text": text[:2000]})]


# ---- presses and cancels --------------------------------------------------------------------


def _press(state: AlarmState, event: Pressed, now: datetime) -> Decision:
    received = _feedback(state, FeedbackState.RECEIVED)
    if event.press <= state.press:
        return state, [received]  # the device repeats until it sees `received`: answer again
    state = replace(state, press=event.press)
    effects: list[Effect] = [received, Timeline("new_press", _device_actor(state), data={
        "press": event.press}, notice=True), *_tell_centre(state, "second_press")]
    return _step_ends(state, now, "new_press", effects)


def _press_closed(state: AlarmState, event: Pressed, now: datetime) -> Decision:
    if event.press <= state.press:
        return state, [_closed_feedback(state)]
    raise IllegalTransition(state.status, event, "a new press after the alarm closed is a new alarm")


def _cancel(state: AlarmState, event: CancelRequested, now: datetime) -> Decision:
    device = state.plan.device
    actor = _device_actor(state)
    if device.duress_pin_digest and _same_pin(event.pin_digest, device.duress_pin_digest):
        return _duress(state, now)
    if state.duress:
        # Whoever forced the duress PIN may force the real one next: only the control room ends it.
        return state, [_looks_cancelled(state), Timeline("cancel_ignored_after_duress", actor)]
    if device.cancel_pin_digest and event.pin_digest is None:
        # Nothing was tried, so nothing is given away: the device may say a PIN is needed.
        return state, [
            Timeline("cancel_refused", actor, data={"reason": "pin_required"}, notice=True),
            _feedback(state, _device_view(state), _helpers(state), "pin_required"),
        ]
    if state.wrong_pins >= MAX_WRONG_PINS:
        return state, [_looks_cancelled(state), Timeline("cancel_refused", actor, data={
            "reason": "locked", "attempts": state.wrong_pins}, notice=True)]
    if device.cancel_pin_digest and not _same_pin(event.pin_digest, device.cancel_pin_digest):
        state = replace(state, wrong_pins=state.wrong_pins + 1)
        return state, [_looks_cancelled(state), Timeline("cancel_refused", actor, data={
            "reason": "wrong_pin", "attempts": state.wrong_pins, "limit": MAX_WRONG_PINS}, notice=True)]
    return _close(state, now, _cancel_outcome(state), actor, None)


def _looks_cancelled(state: AlarmState) -> Feedback:
    """Exactly what a successful cancel shows the device."""
    return _feedback(state, FeedbackState.CLOSED, reason=_cancel_outcome(state).value)


def _duress(state: AlarmState, now: datetime) -> Decision:
    looks_cancelled = _looks_cancelled(state)
    if state.duress:
        return state, [looks_cancelled]
    state = replace(state, duress=True)
    effects: list[Effect] = [looks_cancelled, Timeline("duress", _device_actor(state), notice=True)]
    effects += [
        _notify(state, page, Purpose.UPDATE, page.route)
        for page in _latest_pages(state, {PageStatus.ACCEPTED})
    ]
    effects += _tell_centre(state, "duress")
    return _step_ends(state, now, "duress", effects)


def _cancel_outcome(state: AlarmState) -> Outcome:
    # Help already there and the person ends it: that is a resolved incident, not a mistake.
    return Outcome.RESOLVED if _anyone_on_scene(state) else Outcome.CANCELLED


def _same_pin(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


# ---- responses -------------------------------------------------------------------------------


def _respond(state: AlarmState, event: Responded, now: datetime) -> Decision:
    page = _answerable_page(state, event)
    if event.response is Response.ACCEPT:
        return _accept(state, page, event, now)
    if event.response is Response.DECLINE:
        return _decline(state, page, event, now)
    return _on_scene(state, page, event, now)


def _answerable_page(state: AlarmState, event: Responded) -> Page:
    page = state.page(event.page_id)
    if page is None:
        raise IllegalTransition(state.status, event, f"no page {event.page_id} on this alarm")
    if page.inform:
        raise IllegalTransition(state.status, event, "an afdelingshoofd is informed, not asked: nothing to answer")
    # Any address the page was sent to may answer: a person paged by pager may text back
    # from their registered number. Pager ids and phone numbers cannot be confused.
    if event.channel not in TRUSTED_CHANNELS and event.address not in {r.address for r in page.routes}:
        raise IllegalTransition(state.status, event, "the answer came from an address the page was not sent to",
                                security=True)
    return page


def _accept(state: AlarmState, page: Page, event: Responded, now: datetime) -> Decision:
    recipient = state.plan.recipient(page.recipient)
    reply = _reply_route(page, event)
    existing = state.responder(page.recipient)
    if existing is not None:  # answered twice, or on two channels: repeat their role only
        return state, [_notify(state, page, Purpose.ROLE, reply, role=existing.role)]
    role = None if recipient.is_contact else _free_role(state, bhv=recipient.bhv)
    others = _latest_pages(state, {PageStatus.ACCEPTED})
    state = replace(
        state,
        responders=(*state.responders, Responder(page.recipient, recipient.name, role, event.channel, now)),
        pages=_mark(state.pages, page.recipient, {PageStatus.PENDING}, PageStatus.ACCEPTED),
    )
    effects: list[Effect] = [
        Timeline("confirmed" if recipient.is_contact else "accepted", _responder_actor(recipient.name, event),
                 channel=event.channel, data={
            "recipient": recipient.name, "role": role, "step": state.plan.steps[page.step].id,
            "on_behalf": event.channel == OPERATOR_CHANNEL,
        }, notice=True),
        _notify(state, page, Purpose.ROLE, reply, role=role),
    ]
    # Those already coming learn who joins them (the BHV "maatje").
    effects += [_notify(state, other, Purpose.UPDATE, other.route) for other in others]
    if not state.device_silenced:
        effects.append(_feedback(state, FeedbackState.HELP_COMING, _helpers(state)))
    if state.satisfied and state.deadline is not None:
        state = replace(_clear_deadline(state), unanswered=False)
        effects.append(Timeline("help_organised", SYSTEM, data={
            "accepted": state.accepts_for(state.step), "required": state.current_step.required,
            "step": state.current_step.id,
        }))
    return state, effects


def _free_role(state: AlarmState, *, bhv: bool) -> int:
    """Roles 1 and 2 (approach, back-up) for the first BHV-ers to fill them; 3 for everyone else."""
    taken = {r.role for r in state.responders}
    return next((role for role in (1, 2) if bhv and role not in taken), 3)


def _decline(state: AlarmState, page: Page, event: Responded, now: datetime) -> Decision:
    recipient = state.plan.recipient(page.recipient)
    actor = _responder_actor(recipient.name, event)
    withdrawn = state.responder(page.recipient)
    effects: list[Effect] = []
    if withdrawn is not None:
        state = replace(state, responders=tuple(r for r in state.responders if r.recipient != page.recipient))
        effects.append(Timeline("withdrew", actor, channel=event.channel, data={
            "recipient": recipient.name, "role": withdrawn.role}, notice=True))
        if not state.device_silenced:
            view = FeedbackState.HELP_COMING if state.responders else FeedbackState.RECEIVED
            effects.append(_feedback(state, view, _helpers(state)))
    else:
        effects.append(Timeline("declined", actor, channel=event.channel, data={
            "recipient": recipient.name, "step": state.plan.steps[page.step].id}))
    state = replace(state, pages=_mark(
        state.pages, page.recipient, {PageStatus.PENDING, PageStatus.ACCEPTED}, PageStatus.DECLINED))
    if state.satisfied:
        return state, effects
    if withdrawn is not None and state.deadline is None:
        # Someone who was coming is not: look further at once rather than wait.
        return _step_ends(state, now, "responder_withdrew", effects)
    if _step_exhausted(state):
        return _step_ends(state, now, "all_declined", effects)
    return state, effects


def _on_scene(state: AlarmState, page: Page, event: Responded, now: datetime) -> Decision:
    effects: list[Effect] = []
    if state.responder(page.recipient) is None:  # "on scene" without "coming" first
        state, effects = _accept(state, page, replace(event, response=Response.ACCEPT), now)
    responder = state.responder(page.recipient)
    assert responder is not None
    if responder.on_scene_at is not None:
        return state, effects
    first = not _anyone_on_scene(state)
    state = replace(state, responders=tuple(
        replace(r, on_scene_at=now) if r.recipient == page.recipient else r for r in state.responders
    ))
    effects.append(Timeline("on_scene", _responder_actor(responder.name, event), channel=event.channel, data={
        "recipient": responder.name, "role": responder.role}, notice=True))
    if responder.role is not None:  # a colleague or BHV-er there in person verifies the alarm
        effects += _tell_centre(state, _on_scene_fact(state, responder))
    if first and not state.device_silenced:
        effects.append(_feedback(state, FeedbackState.ON_SCENE, _helpers(state)))
    return state, effects


def _respond_closed(state: AlarmState, event: Responded, now: datetime) -> Decision:
    _answerable_page(state, event)  # a foreign address is still a security event
    # Nothing to change and nothing to send: a replayed or late tap must not make messages.
    raise IllegalTransition(state.status, event, "the alarm is closed; the answer changes nothing")


# ---- delivery failures --------------------------------------------------------------------------


def _delivery_failed(state: AlarmState, event: DeliveryFailed, now: datetime) -> Decision:
    page = state.page(event.page_id)
    if page is None or not 0 <= event.route < len(page.routes):
        raise IllegalTransition(state.status, event, f"no page {event.page_id} with route {event.route}")
    recipient = state.plan.recipient(page.recipient)
    failed = page.routes[event.route]
    data: dict[str, Any] = {"recipient": recipient.name, "purpose": event.purpose, "reason": event.reason}
    if event.purpose not in (Purpose.PAGE.value, Purpose.INFORM.value):
        return state, [Timeline("channel_failed", SYSTEM, channel=failed.channel, data=data, notice=True)]
    if event.route != page.route or page.status is not PageStatus.PENDING:
        return state, []  # already on another route, or answered meanwhile
    if page.route + 1 < len(page.routes):
        moved = replace(page, route=page.route + 1)
        state = _replace_page(state, moved)
        data["next"] = moved.current_route.channel
        return state, [
            Timeline("channel_failed", SYSTEM, channel=failed.channel, data=data, notice=True),
            _notify(state, moved, Purpose.INFORM if moved.inform else Purpose.PAGE, moved.route),
        ]
    state = _replace_page(state, replace(page, status=PageStatus.FAILED))
    effects: list[Effect] = [Timeline("unreachable", SYSTEM, channel=failed.channel, data=data, notice=True)]
    current = page.asks and page.step == state.step and page.round == state.round
    if current and not state.satisfied and _step_exhausted(state):
        return _step_ends(state, now, "nobody_reachable", effects)
    return state, effects


# ---- the alarm centre ------------------------------------------------------------------------------


def _tell_centre(state: AlarmState, news: str) -> list[Effect]:
    """A new fact that verifies the alarm, for every alarm centre already sent it (the police
    come to a private alarm once it is verified). A centre still being sent the alarm gets it
    next: messages to one centre about one alarm keep their order."""
    return [
        replace(_notify(state, page, Purpose.VERIFY, page.route), message=replace(
            message_for_page(state, page), news=news))
        for page in _latest_pages(state, {PageStatus.PENDING, PageStatus.ACCEPTED})
        if not page.inform and page.current_route.channel is ChannelKind.ALARM_CENTRE
    ]


def _centre_reported(state: AlarmState, event: CentreReported, now: datetime) -> Decision:
    """Every try on the timeline; the alarm acknowledged by a receiver is the centre confirming."""
    page = state.page(event.page_id)
    if page is None or not 0 <= event.route < len(page.routes):
        raise IllegalTransition(state.status, event, f"no page {event.page_id} with route {event.route}")
    name = state.plan.recipient(page.recipient).name
    effects: list[Effect] = []
    previous: str | None = None
    for attempt in event.attempts:
        if previous is not None and attempt.receiver != previous:
            effects.append(Timeline("centre_receiver_switched", SYSTEM, channel=ChannelKind.ALARM_CENTRE, data={
                "recipient": name, "from": previous, "to": attempt.receiver}, notice=True))
        previous = attempt.receiver
        effects.append(Timeline("centre_transmission", SYSTEM, channel=ChannelKind.ALARM_CENTRE, data={
            "recipient": name, "purpose": event.purpose, "event": event.event, "receiver": attempt.receiver,
            "sequence": attempt.sequence, "outcome": attempt.outcome, "sent_at": attempt.at.isoformat(),
            "detail": attempt.detail}, notice=not event.delivered))
    confirms = event.delivered and event.purpose == Purpose.PAGE.value and page.status is PageStatus.PENDING
    if confirms and state.status is not Status.CLOSED and event.route == page.route:
        answer = Responded(page.page_id, Response.ACCEPT, ChannelKind.ALARM_CENTRE, page.routes[event.route].address)
        state, confirmed = _accept(state, page, answer, now)
        effects += confirmed
    return state, effects


# ---- closing ---------------------------------------------------------------------------------------


def _close(state: AlarmState, now: datetime, outcome: Outcome, actor: str, note: str | None) -> Decision:
    effects: list[Effect] = [Timeline("closed", actor, data={"outcome": outcome.value, "note": note}, notice=True)]
    state = replace(_clear_deadline(state), status=Status.CLOSED, outcome=outcome, closed_at=now, unanswered=False)
    effects += [
        _notify(state, page, Purpose.STAND_DOWN, page.route, outcome=outcome.value)
        for page in _latest_pages(state, {PageStatus.PENDING, PageStatus.ACCEPTED})
    ]
    if not state.device_silenced:  # after duress or a wrong PIN the device already shows "closed"
        effects.append(_feedback(state, FeedbackState.CLOSED, reason=outcome.value))
    return state, effects


def _closed_feedback(state: AlarmState) -> Feedback:
    return _feedback(state, FeedbackState.CLOSED, reason=_outcome(state))


def _outcome(state: AlarmState) -> str | None:
    return state.outcome.value if state.outcome else None


# ---- helpers -----------------------------------------------------------------------------------------


def _settle(state: AlarmState) -> AlarmState:
    """Derive the status from the facts, so no handler can leave it inconsistent."""
    if state.status is Status.CLOSED:
        return state
    if _anyone_on_scene(state):
        status = Status.ON_SCENE
    elif state.deadline is None and state.satisfied:
        status = Status.ACCEPTED
    else:
        status = Status.NOTIFYING
    return state if status is state.status else replace(state, status=status)


def _set_deadline(state: AlarmState, at: datetime) -> AlarmState:
    return replace(state, deadline=at, timer=state.timer + 1)


def _clear_deadline(state: AlarmState) -> AlarmState:
    return replace(state, deadline=None, timer=state.timer + 1)


def _step_exhausted(state: AlarmState) -> bool:
    current = [p for p in state.pages if p.asks and p.step == state.step and p.round == state.round]
    return bool(current) and all(p.status is not PageStatus.PENDING for p in current)


def _mark(pages: tuple[Page, ...], recipient: str, old: set[PageStatus], new: PageStatus) -> tuple[Page, ...]:
    return tuple(replace(p, status=new) if p.recipient == recipient and p.status in old else p for p in pages)


def _replace_page(state: AlarmState, page: Page) -> AlarmState:
    return replace(state, pages=tuple(page if p.page_id == page.page_id else p for p in state.pages))


def _latest_pages(state: AlarmState, statuses: set[PageStatus]) -> list[Page]:
    """Each recipient's most recent page in one of `statuses`: the way to reach them now."""
    latest: dict[str, Page] = {}
    for page in state.pages:
        if page.status in statuses:
            latest[page.recipient] = page
    return list(latest.values())


def _reply_route(page: Page, event: Responded) -> int:
    """The route to answer on: the one they used, else one to the same address, else the page's."""
    matches: tuple[Callable[[Route], bool], ...] = (
        lambda r: (r.channel, r.address) == (event.channel, event.address),
        lambda r: r.address == event.address,
    )
    for same in matches:
        for index, route in enumerate(page.routes):
            if same(route):
                return index
    return page.route


def _anyone_on_scene(state: AlarmState) -> bool:
    return any(r.on_scene_at is not None for r in state.responders)


def _device_view(state: AlarmState) -> FeedbackState:
    if _anyone_on_scene(state):
        return FeedbackState.ON_SCENE
    return FeedbackState.HELP_COMING if state.responders else FeedbackState.RECEIVED


def _feedback(
    state: AlarmState, view: FeedbackState, helpers: tuple[Helper, ...] = (), reason: str | None = None
) -> Feedback:
    return Feedback(state.device_id, state.device_alarm_id, view, helpers, reason, state.plan.device.language,
                    state.plan.drill)


def _helpers(state: AlarmState) -> tuple[Helper, ...]:
    ordered = sorted(state.responders, key=lambda r: (r.role is None, r.role or 0))
    return tuple(Helper(r.name, r.role) for r in ordered)


def _device_actor(state: AlarmState) -> str:
    return f"device:{state.device_id}"


def _responder_actor(name: str, event: Responded) -> str:
    return f"operator:{event.actor} for {name}" if event.channel == OPERATOR_CHANNEL else name


def message_for_page(
    state: AlarmState, page: Page, *, role: int | None = None, outcome: str | None = None
) -> Message:
    """What a notification about this page says now: the same for pages, texts and calls."""
    step = state.plan.steps[page.step]
    responder = state.responder(page.recipient)
    if role is None and responder is not None:
        role = responder.role
    return Message(
        alarm_uid=state.uid, device_id=state.device_id, kind=state.kind, silent=state.silent,
        where=state.plan.where, step_id=step.id, code=step.code, person_name=state.plan.device.person_name,
        position=state.position, role=role, duress=state.duress, unknown_device=not state.plan.device.known,
        helpers=_helpers(state), outcome=outcome, organisation=state.plan.organisation,
        coming=responder is not None, drill=state.plan.drill, note=state.note,
        approach=None if state.plan.recipient(page.recipient).is_contact else state.approach,
        verified=_verified(state),
    )


def _on_scene_fact(state: AlarmState, responder: Responder) -> str:
    return f"{'bhv_' if state.plan.recipient(responder.recipient).bhv else ''}on_scene:{responder.name}"


def _verified(state: AlarmState) -> tuple[str, ...]:
    facts = [_on_scene_fact(state, r) for r in state.responders if r.on_scene_at is not None and r.role is not None]
    if state.police_requested_by:
        facts.append("operator")
    if state.press > 1:
        facts.append("second_press")
    if state.duress:
        facts.append("duress")
    return tuple(facts)


def _notify(
    state: AlarmState, page: Page, purpose: Purpose, route_index: int, *,
    role: int | None = None, outcome: str | None = None,
) -> Notify:
    recipient = state.plan.recipient(page.recipient)
    return Notify(
        page_id=page.page_id, recipient=recipient.key, name=recipient.name, language=recipient.language,
        route_index=route_index, route=page.routes[route_index], purpose=purpose,
        message=message_for_page(state, page, role=role, outcome=outcome),
    )


def _close_requested(state: AlarmState, event: CloseRequested, now: datetime) -> Decision:
    outcome = event.outcome or state.marked or Outcome.RESOLVED
    return _close(state, now, outcome, event.actor, (event.note or "").strip() or None)


def _ignore(state: AlarmState, event: Event, now: datetime) -> Decision:
    return state, []


# ---- the transition table ---------------------------------------------------------------------
# Every allowed (status, event) pair. The three open statuses share their handlers: what
# differs between them (is help organised, is someone there) is derived by `_settle`.

_OPEN = (Status.NOTIFYING, Status.ACCEPTED, Status.ON_SCENE)
_OPEN_HANDLERS: dict[type, Handler] = {
    Pressed: _press,
    CancelRequested: _cancel,
    Responded: _respond,
    DeadlineReached: _deadline,
    DeliveryFailed: _delivery_failed,
    CentreReported: _centre_reported,
    EscalateRequested: _escalate_requested,
    PoliceRequested: _police_requested,
    Seen: _seen,
    Marked: _marked,
    NoteAdded: _note,
    CloseRequested: _close_requested,
}
TRANSITIONS: dict[tuple[Status | None, type], Handler] = {
    (None, AlarmRaised): lambda _, event, now: _raise(event, now),
    **{(status, kind): handler for status in _OPEN for kind, handler in _OPEN_HANDLERS.items()},
    (Status.CLOSED, Pressed): _press_closed,
    (Status.CLOSED, CancelRequested): lambda state, _, now: (state, [_closed_feedback(state)]),
    (Status.CLOSED, Responded): _respond_closed,
    (Status.CLOSED, DeadlineReached): _ignore,
    (Status.CLOSED, DeliveryFailed): _ignore,
    (Status.CLOSED, CentreReported): _centre_reported,  # the stand-down's tries belong on the timeline too
    (Status.CLOSED, NoteAdded): _note,  # notes may follow the alarm: what happened afterwards
    (Status.CLOSED, Seen): _seen,
}

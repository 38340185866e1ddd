"""The state of one alarm: its frozen plan and the cursor through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from devices.kinds import AlarmKind
from dispatcher.core.events import Outcome
from escalation.ids import PageId, RecipientKey
from escalation.plan import Plan, PlanStep, Position, Route


class Status(StrEnum):
    NOTIFYING = "notifying"  # looking for enough accepts at the current step
    ACCEPTED = "accepted"  # the current step's required accepts are in
    ON_SCENE = "on_scene"  # a responder is there
    CLOSED = "closed"


class PageStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    FAILED = "failed"  # every route of the page failed


@dataclass(frozen=True)
class Page:
    """One request for help to one recipient, in one step and round."""

    page_id: PageId
    recipient: RecipientKey
    step: int
    round: int
    routes: tuple[Route, ...]
    route: int  # index of the route in use: a failure moves to the next
    status: PageStatus
    sent_at: datetime
    inform: bool = False  # the afdelingshoofd told of the alarm: no answer, no role

    @property
    def asks(self) -> bool:
        """A request for help, which an accept answers."""
        return not self.inform

    @property
    def current_route(self) -> Route:
        return self.routes[self.route]


@dataclass(frozen=True)
class Responder:
    recipient: RecipientKey
    name: str
    role: int | None  # 1 approaches, 2 backs up, 3 stands by; None for an outside contact
    channel: str
    accepted_at: datetime
    on_scene_at: datetime | None = None


@dataclass(frozen=True)
class AlarmState:
    uid: str
    device_id: str
    device_alarm_id: str
    kind: AlarmKind
    silent: bool
    plan: Plan
    raised_at: datetime
    status: Status
    step: int
    position: Position | None = None
    device_time: datetime | None = None
    note: str | None = None
    approach: str | None = None  # agreed approach for a known visitor (for responders, never the police)
    round: int = 1  # the last step repeats in rounds 2, 3, …
    press: int = 1
    deadline: datetime | None = None
    timer: int = 0  # token of the current deadline; bumped whenever the deadline changes
    pages: tuple[Page, ...] = ()
    responders: tuple[Responder, ...] = ()
    severe: bool = False
    duress: bool = False  # shown to the control room only, never to the device
    wrong_pins: int = 0  # cancels with a wrong PIN; at the limit the device can no longer cancel
    unanswered: bool = False  # the last step is repeating without enough accepts
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    marked: Outcome | None = None  # drill or false alarm, said by the control room
    seen_at: datetime | None = None  # first seen on the board
    seen_by: str | None = None
    page_seq: int = 0
    police_requested_by: str | None = None  # the control room judged the alarm real and asked for police

    @property
    def is_open(self) -> bool:
        return self.status is not Status.CLOSED

    @property
    def device_silenced(self) -> bool:
        """The device was shown "cancelled" while the alarm goes on (duress, a wrong PIN):
        from then on it hears nothing that would tell whoever holds it otherwise."""
        return self.duress or self.wrong_pins > 0

    @property
    def current_step(self) -> PlanStep:
        return self.plan.steps[self.step]

    @property
    def accepts(self) -> int:
        return len(self.responders)

    def accepts_for(self, index: int) -> int:
        """Accepts from the people step `index` asks: what its `required` counts."""
        asked = {t.recipient for t in self.plan.steps[index].targets}
        return sum(1 for r in self.responders if r.recipient in asked)

    @property
    def satisfied(self) -> bool:
        """The current step has its required accepts (two BHV-ers, say): help is organised."""
        return self.accepts_for(self.step) >= self.current_step.required

    def page(self, page_id: str) -> Page | None:
        return next((p for p in self.pages if p.page_id == page_id), None)

    def responder(self, recipient: str) -> Responder | None:
        return next((r for r in self.responders if r.recipient == recipient), None)

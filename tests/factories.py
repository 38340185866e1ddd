"""Small builders for plans and alarms in unit tests of the pure core."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from devices.kinds import AlarmKind
from dispatcher.core import (
    AlarmRaised,
    AlarmState,
    Effect,
    Event,
    Feedback,
    Notify,
    Purpose,
    Timeline,
    decide,
)
from escalation.ids import RecipientKey
from escalation.plan import AlarmDevice, ChannelKind, Plan, PlanStep, Recipient, Route, StepTarget, Where

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Wormer

PEOPLE = {
    "jan": "Jan de Vries", "fatima": "Fatima El Amrani", "sanne": "Sanne de Jong",
    "kees": "Kees Bakker", "anouk": "Anouk Visser", "mohamed": "Mohamed Yilmaz", "ingrid": "Ingrid Kok",
    "marieke": "Marieke van Dijk",
}
BHV = {"jan", "fatima", "kees", "anouk"}  # BHV-trained, as in the example organisation


def target(who: str, *channels: str) -> StepTarget:
    """A target reached on the given channels, pager first by default. Phone channels name the
    recipient, as planning does (the number is looked up when a message goes)."""
    if who.startswith("contact:"):
        contact = RecipientKey.parse(who)
        return StepTarget(contact, tuple(Route(ChannelKind(c), contact) for c in channels or ("voice",)))
    key = RecipientKey.person(who)
    return StepTarget(key, tuple(Route(ChannelKind(c), f"pager-{who}" if c == "pager" else key)
                                 for c in channels or ("pager",)))


def step(step_id: str, targets: Iterable[StepTarget], *, ack: int | None = 20, required: int = 1,
         code: str | None = None, unreachable: tuple[str, ...] = (), alongside: bool = False,
         presence: bool = False) -> PlanStep:
    """`presence`: the targets are those present when the alarm started (`present: true`)."""
    targets = tuple(targets)
    return PlanStep(step_id, code, tuple(dict.fromkeys(r.channel for t in targets for r in t.routes)),
                    None if alongside else ack, required, targets, unreachable, alongside, presence)


def make_plan(*steps: PlanStep, severe: str | None = None, repeat: int = 60, cancel_pin: str | None = None,
              duress_pin: str | None = None, known: bool = True, informed: tuple[StepTarget, ...] = ()) -> Plan:
    recipients = {}
    for t in [t for s in steps for t in s.targets] + list(informed):
        ident = t.recipient.split(":", 1)[1]
        name = "Politie assistentielijn" if t.recipient.startswith("contact:") else PEOPLE.get(ident, ident)
        recipients[t.recipient] = Recipient(t.recipient, name, bhv=ident in BHV)
    return Plan(
        organisation="Gemeente Test",
        agreement_id="test",
        fallback=not known,
        steps=steps,
        severe_step=next((i for i, s in enumerate(steps) if s.id == severe), None),
        repeat_every_s=repeat,
        recipients=tuple(recipients.values()),
        where=Where("stadhuis", "Gemeentehuis", "Koetserstraat 1", "publiekshal", "Publiekshal",
                    "balie-1", "Balie 1", "Trap naast de lift"),
        # The core compares PIN digests as opaque strings: here a PIN stands for its own digest.
        device=AlarmDevice("knop-1" if known else "knop-x", "fixed_button" if known else None,
                           cancel_pin_digest=cancel_pin, duress_pin_digest=duress_pin),
        informed=informed,
    )


def over_plan(**kwargs: object) -> Plan:
    """The OVER protocol: BHV code 4 (45 s, 2 needed) with the colleagues alongside → police;
    the afdelingshoofd informed."""
    return make_plan(
        step("bhv", [target("jan"), target("fatima"), target("kees")], ack=45, required=2, code="4"),
        step("collega", [target("sanne"), target("mohamed"), target("jan")], alongside=True),
        step("politie", [target("contact:politie", "voice")], ack=None),
        severe="bhv",
        **{"informed": (target("ingrid", "sms"),), **kwargs},  # type: ignore[arg-type]
    )


def standard_plan(**kwargs: object) -> Plan:
    """colleague (20 s, 1 needed) → BHV code 4 (45 s, 2 needed) → police (last, repeats)."""
    return make_plan(
        step("collega", [target("sanne"), target("mohamed")]),
        step("bhv", [target("jan"), target("fatima"), target("kees")], ack=45, required=2, code="4"),
        step("politie", [target("contact:politie", "voice")], ack=None),
        severe="bhv",
        **kwargs,  # type: ignore[arg-type]
    )


@dataclass
class Run:
    """Drives one alarm through `decide`, keeping its state and the last effects."""

    plan: Plan
    kind: str = "panic"
    press: int = 1
    at: datetime = T0
    state: AlarmState = field(init=False)
    effects: list[Effect] = field(init=False)
    history: list[Effect] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        event = AlarmRaised("a1", self.plan.device.id, "dev-alarm-1", self.press, AlarmKind(self.kind), True,
                            self.plan)
        self.state, self.effects = decide(None, event, self.at)
        self.history = list(self.effects)

    def send(self, event: Event, *, after: float = 0) -> list[Effect]:
        self.at = self.at + timedelta(seconds=after)
        self.state, self.effects = decide(self.state, event, self.at)
        self.history += self.effects
        return self.effects

    def page_for(self, who: str) -> Notify:
        """The latest page that went to `who` (a person id or contact key)."""
        key = who if ":" in who else f"person:{who}"
        pages = [e for e in self.history if isinstance(e, Notify) and e.recipient == key and e.purpose is Purpose.PAGE]
        assert pages, f"{who} was never paged"
        return pages[-1]


def pages(effects: Iterable[Effect]) -> list[str]:
    """Recipient ids paged (purpose PAGE) by these effects, in order."""
    return [e.recipient.split(":", 1)[1] for e in effects if isinstance(e, Notify) and e.purpose is Purpose.PAGE]


def notifications(effects: Iterable[Effect], purpose: Purpose) -> list[Notify]:
    return [e for e in effects if isinstance(e, Notify) and e.purpose is purpose]


def feedback(effects: Iterable[Effect]) -> list[Feedback]:
    return [e for e in effects if isinstance(e, Feedback)]


def kinds(effects: Iterable[Effect]) -> list[str]:
    return [e.kind for e in effects if isinstance(e, Timeline)]


def timeline(effects: Iterable[Effect], kind: str) -> Timeline:
    found = [e for e in effects if isinstance(e, Timeline) and e.kind == kind]
    assert found, f"no {kind} on the timeline; got {kinds(effects)}"
    return found[-1]

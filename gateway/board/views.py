"""What the API and the control-room pages show of alarms, chains, timelines and devices.

Who may learn that an alarm is under duress is decided in dispatcher/visibility.py; the views
take its answer. Nobody gets phone numbers or PINs (people appear by name and the channel that
reached them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from dispatcher.core import AlarmState, PageStatus
from dispatcher.store.schema import TimelineEntry
from dispatcher.visibility import timeline_for
from escalation.directory import Directory
from escalation.model import Contact
from gateway.board.plan_views import PlanRef, plan_ref
from gateway.web.i18n import timeline_text


class Place(BaseModel):
    site: str | None
    address: str | None
    zone: str | None
    location: str | None
    gathering_point: str | None


class StepView(BaseModel):
    number: int
    id: str
    code: str | None
    required: int
    of: int


class ResponderView(BaseModel):
    name: str
    role: int | None
    channel: str
    accepted_at: datetime
    on_scene_at: datetime | None


class ReachedView(BaseModel):
    recipient: str
    name: str
    channel: str
    status: str  # pending | accepted | declined | failed | informed (the afdelingshoofd, asked nothing)
    step: str
    failed_channels: list[str]


class ShortStepView(BaseModel):
    """A step with fewer people present than it needs (`present: true`): it cannot be met."""

    step: str
    present: int
    required: int


class AlarmView(BaseModel):
    uid: str
    incident_id: int
    device_id: str
    kind: str
    silent: bool
    status: str
    severe: bool
    duress: bool | None = Field(None, description="for the control room only; absent for everyone else")
    unanswered: bool
    unknown_device: bool
    fallback: bool
    agreement: str
    marked: str | None
    outcome: str | None
    raised_at: datetime
    closed_at: datetime | None
    deadline: datetime | None
    seen_at: datetime | None
    seen_by: str | None
    step: StepView
    where: Place
    person: str | None
    approach: str | None = Field(None, description="the agreed approach for a known visitor of this place and time")
    position: dict[str, Any] | None
    responders: list[ResponderView]
    reached: list[ReachedView]
    short_steps: list[ShortStepView] = Field(default_factory=list, description="steps too few present can meet")
    plan: PlanRef | None = Field(None, description="the floor plan that shows the place, with the place on it")

    @model_serializer(mode="wrap")
    def _without_hidden(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if self.duress is None:  # not even the key: its presence would say there is something to hide
            data.pop("duress", None)
        return data


class ChainTarget(BaseModel):
    name: str
    channels: list[str]


class ChainStep(BaseModel):
    number: int
    id: str
    code: str | None
    channels: list[str]
    ack_timeout_s: int | None
    required: int
    current: bool
    alongside: bool  # starts with the step before it, never waited for
    targets: list[ChainTarget]
    unreachable: list[str]
    presence: bool = False  # pages only those present at the site when the alarm started
    short: bool = False  # fewer present than required: the chain moved on at once


class ChainView(BaseModel):
    agreement: str
    fallback: bool
    repeat_every_s: int
    on_severe: str | None
    steps: list[ChainStep]


class TimelineView(BaseModel):
    at: datetime
    kind: str
    text: str
    actor: str
    channel: str | None
    notice: bool
    data: dict[str, Any]


class AlarmDetail(BaseModel):
    alarm: AlarmView
    chain: ChainView
    timeline: list[TimelineView]


class DeviceView(BaseModel):
    id: str
    type: str
    site: str | None
    location: str | None
    person: str | None
    online: bool | None  # None: never heard from
    last_heartbeat_at: datetime | None
    last_seen_at: datetime | None
    status_at: datetime | None
    battery: float | None
    last_test_at: datetime | None
    position: dict[str, Any] | None
    faults: list[str]  # offline | silent | battery_low | untested; for an alarm centre's path: centre_*
    drill: bool


def alarm_view(incident_id: int, state: AlarmState, *, duress: bool, directory: Directory | None = None) -> AlarmView:
    """`duress`: the reader may know of duress (dispatcher/visibility.py `sees_duress`); `directory`:
    the file as it is now, for the floor plan (none: no plan in the view)."""
    plan = state.plan
    step = state.current_step
    latest: dict[str, Any] = {}
    for page in sorted(state.pages, key=lambda p: p.asks):  # a page that asks hides an inform page
        latest[page.recipient] = page
    reached = []
    for page in latest.values():
        failed_upto = len(page.routes) if page.status is PageStatus.FAILED else page.route
        informed = page.inform and page.status is not PageStatus.FAILED
        reached.append(ReachedView(
            recipient=page.recipient, name=plan.recipient(page.recipient).name,
            channel=page.current_route.channel, status="informed" if informed else page.status.value,
            step=plan.steps[page.step].id, failed_channels=[r.channel for r in page.routes[:failed_upto]],
        ))
    return AlarmView(
        uid=state.uid, incident_id=incident_id, device_id=state.device_id, kind=state.kind, silent=state.silent,
        status=state.status.value, severe=state.severe, duress=state.duress if duress else None,
        unanswered=state.unanswered, unknown_device=not plan.device.known, fallback=plan.fallback,
        agreement=plan.agreement_id, marked=state.marked.value if state.marked else None,
        outcome=state.outcome.value if state.outcome else None, raised_at=state.raised_at, closed_at=state.closed_at,
        deadline=state.deadline, seen_at=state.seen_at, seen_by=_display(state.seen_by),
        step=StepView(number=state.step + 1, id=step.id, code=step.code, required=step.required,
                      of=len(plan.steps)),
        where=Place(site=plan.where.site_name, address=plan.where.address, zone=plan.where.zone_name,
                    location=plan.where.location_name, gathering_point=plan.where.gathering_point),
        person=plan.device.person_name, approach=state.approach,
        position={k: v for k, v in vars(state.position).items() if v is not None} if state.position else None,
        responders=[ResponderView(name=r.name, role=r.role, channel=r.channel, accepted_at=r.accepted_at,
                                  on_scene_at=r.on_scene_at) for r in state.responders],
        reached=reached,
        short_steps=[ShortStepView(step=s.id, present=len(s.targets), required=s.required)
                     for s in plan.steps if s.short],
        plan=plan_ref(directory, plan.where) if directory is not None else None,
    )


def chain_view(state: AlarmState) -> ChainView:
    plan = state.plan
    return ChainView(
        agreement=plan.agreement_id, fallback=plan.fallback, repeat_every_s=plan.repeat_every_s,
        on_severe=plan.steps[plan.severe_step].id if plan.severe_step is not None else None,
        steps=[ChainStep(
            number=i + 1, id=s.id, code=s.code, channels=list(s.channels), ack_timeout_s=s.ack_timeout_s,
            required=s.required, current=i == state.step, alongside=s.alongside,
            targets=[ChainTarget(name=plan.recipient(t.recipient).name, channels=[r.channel for r in t.routes])
                     for t in s.targets],
            unreachable=list(s.unreachable), presence=s.presence, short=s.short,
        ) for i, s in enumerate(plan.steps)],
    )


def timeline_view(entries: list[TimelineEntry], language: str, *, duress: bool,
                  running: bool = False, approach: bool = False) -> list[TimelineView]:
    """The entries this reader may see, in their language. `duress`: as for `alarm_view`;
    `running`: an incident record whose alarm is not closed yet (dispatcher/visibility.py);
    `approach`: the reader is the centrale post or the coordinator, who may read the approach
    agreed for a known visitor (about a client's mental health: not for everyone who reads a record)."""
    visible = timeline_for(((e.kind, e.data) for e in entries), duress=duress, running=running)
    if not approach:
        visible = [None if data is None else {k: v for k, v in data.items() if k != "approach"} for data in visible]
    return [TimelineView(at=e.at, kind=e.kind, actor=_display(e.actor, language) or e.actor, channel=e.channel,
                         notice=e.notice, data=data,
                         text=timeline_text(e.kind, {**data, "channel": e.channel}, language))
            for e, data in zip(entries, visible, strict=True) if data is not None]


def urgency(view: AlarmView) -> tuple[bool, bool, bool, bool, datetime]:
    """Most urgent first: unanswered, duress, not yet seen, severe, then the oldest."""
    return (not view.unanswered, not view.duress, view.seen_at is not None, not view.severe, view.raised_at)


def device_views(directory: Directory, facts: dict[str, Any]) -> list[DeviceView]:
    """Every device of the agreement file, and the path to every alarm centre in it, with what
    supervision knows of each, faults first."""
    views = []
    for device in directory.org.devices:
        known = facts.get(device.id)
        place = directory.location(device.location) if device.location else None
        person = directory.people.get(device.person or "")
        views.append(DeviceView(
            id=device.id, type=device.type, site=place.site.name if place and place.site else None,
            location=place.describe() if place else None, person=person.name if person else None,
            online=known.online if known else None,
            last_heartbeat_at=known.last_heartbeat_at if known else None,
            last_seen_at=known.last_seen_at if known else None,
            status_at=known.status_at if known else None, battery=known.battery if known else None,
            last_test_at=known.last_test_at if known else None,
            position=known.position if known else None,
            faults=list(known.faults) if known else [],
            drill=device.drill or bool(place and place.site and place.site.drill),
        ))
    views += [_path_view(contact, facts.get(contact.id)) for contact in directory.org.contacts
              if contact.alarm_centre is not None]
    return sorted(views, key=lambda v: (not v.faults, v.id))


def _path_view(contact: Contact, known: Any) -> DeviceView:
    """The path to an alarm centre as a row of the device board: its receivers where a device
    has its place, online while one of them acknowledges the link tests (None: not tested yet)."""
    assert contact.alarm_centre is not None
    return DeviceView(
        id=contact.id, type="alarm_centre", site=None, location=", ".join(contact.alarm_centre.receivers),
        person=None, online=known.online if known else None,
        last_heartbeat_at=known.last_heartbeat_at if known else None,
        last_seen_at=known.last_seen_at if known else None, status_at=known.status_at if known else None,
        battery=None, last_test_at=None, position=None, faults=list(known.faults) if known else [], drill=False,
    )


def local_time(directory: Directory) -> Callable[..., str]:
    """Times as people read them: in the organisation's time zone (stored and sent as UTC)."""
    tz = directory.org.tz

    def fmt(moment: datetime | None, pattern: str = "%d-%m-%Y %H:%M") -> str:
        return moment.astimezone(tz).strftime(pattern) if moment else "–"

    return fmt


ON_BEHALF = {"nl": "namens", "en": "on behalf of"}


def _display(actor: str | None, language: str = "nl") -> str | None:
    """An actor as people read it: the operator's name; one who answered for someone on the
    phone (the core writes "operator:<user> for <name>") as "<user> namens <name>"."""
    if actor is None:
        return None
    if not actor.startswith("operator:"):
        return actor
    user, found, name = actor.removeprefix("operator:").rpartition(" for ")
    if found and user and name:
        return f"{user} {ON_BEHALF.get(language, ON_BEHALF['nl'])} {name}"
    return actor.removeprefix("operator:")

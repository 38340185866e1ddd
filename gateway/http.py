"""The HTTP API under /api: open alarms and incident records with their timeline.

Read-only for now. Phone numbers and PINs never leave through it: people appear by name and
the channel that reached them. Texts are Dutch unless `?lang=en` or an English
Accept-Language asks otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Response
from pydantic import BaseModel

from dispatcher.core import AlarmState
from dispatcher.store.repository import Store
from gateway.i18n import pick_language, timeline_text


class ServiceView(Protocol):
    """What the API needs to know about the running service."""

    @property
    def mqtt_connected(self) -> bool: ...

    @property
    def organisation(self) -> str: ...

    def counters(self) -> dict[str, int]: ...


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
    name: str
    channel: str
    status: str
    step: str


class AlarmView(BaseModel):
    uid: str
    incident_id: int
    device_id: str
    kind: str
    silent: bool
    status: str
    severe: bool
    duress: bool
    unanswered: bool
    unknown_device: bool
    fallback: bool
    agreement: str
    raised_at: datetime
    deadline: datetime | None
    step: StepView
    where: Place
    person: str | None
    position: dict[str, Any] | None
    responders: list[ResponderView]
    reached: list[ReachedView]


class TimelineView(BaseModel):
    at: datetime
    kind: str
    text: str
    actor: str
    channel: str | None
    notice: bool
    data: dict[str, Any]


class IncidentView(BaseModel):
    id: int
    alarm_uid: str | None
    status: str
    outcome: str | None
    opened_at: datetime
    occurred_at: datetime
    site: str | None
    location: str | None
    position: dict[str, Any] | None
    person_affected: str | None
    reporter: str | None
    kind: str | None
    abcd_class: str | None
    aggression_forms: list[str] | None
    description: str | None
    timeline: list[TimelineView]


class Health(BaseModel):
    status: str
    mqtt_connected: bool
    organisation: str
    open_alarms: int
    counters: dict[str, int]


def alarm_view(incident_id: int, state: AlarmState) -> AlarmView:
    plan = state.plan
    step = state.current_step
    latest: dict[str, Any] = {}
    for page in state.pages:
        latest[page.recipient] = page
    reached = [
        ReachedView(name=plan.recipient(p.recipient).name, channel=p.current_route.channel,
                    status=p.status.value, step=plan.steps[p.step].id)
        for p in latest.values()
    ]
    return AlarmView(
        uid=state.uid, incident_id=incident_id, device_id=state.device_id, kind=state.kind, silent=state.silent,
        status=state.status.value, severe=state.severe, duress=state.duress, unanswered=state.unanswered,
        unknown_device=not plan.device.known, fallback=plan.fallback, agreement=plan.agreement_id,
        raised_at=state.raised_at, deadline=state.deadline,
        step=StepView(number=state.step + 1, id=step.id, code=step.code, required=step.required,
                      of=len(plan.steps)),
        where=Place(site=plan.where.site_name, address=plan.where.address, zone=plan.where.zone_name,
                    location=plan.where.location_name, gathering_point=plan.where.gathering_point),
        person=plan.device.person_name,
        position={k: v for k, v in vars(state.position).items() if v is not None} if state.position else None,
        responders=[ResponderView(name=r.name, role=r.role, channel=r.channel, accepted_at=r.accepted_at,
                                  on_scene_at=r.on_scene_at) for r in state.responders],
        reached=reached,
    )


def create_app(store: Store, service: ServiceView, *, routers: Sequence[APIRouter] = ()) -> FastAPI:
    app = FastAPI(
        title="code4",
        description="Alarm and assistance dispatch: open alarms and incident records.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )

    @app.get("/api/health", response_model=Health, tags=["service"])
    def health() -> Health:
        open_alarms = len(store.open_alarm_rows())
        return Health(status="ok" if service.mqtt_connected else "degraded", mqtt_connected=service.mqtt_connected,
                      organisation=service.organisation, open_alarms=open_alarms, counters=service.counters())

    @app.get("/api/alarms", response_model=list[AlarmView], tags=["alarms"])
    def open_alarms() -> list[AlarmView]:
        """Open alarms, the most urgent first: unanswered, then duress and severe, then the oldest."""
        views = [alarm_view(row.incident_id, state) for row, state in store.open_alarm_rows()]
        return sorted(views, key=lambda v: (not v.unanswered, not v.duress, not v.severe, v.raised_at))

    @app.get("/api/incidents/{incident_id}", response_model=IncidentView, tags=["incidents"])
    def incident(
        incident_id: int,
        lang: str | None = Query(default=None, description="nl (default) or en"),
        accept_language: str | None = Header(default=None),
    ) -> IncidentView:
        found = store.incident(incident_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no incident {incident_id}")
        record, entries = found
        language = pick_language(lang, accept_language)
        return IncidentView(
            id=record.id, alarm_uid=record.alarm_uid, status=record.status, outcome=record.outcome,
            opened_at=record.opened_at, occurred_at=record.occurred_at, site=record.site_name,
            location=record.location, position=record.position, person_affected=record.person_affected,
            reporter=record.reporter, kind=record.kind, abcd_class=record.abcd_class,
            aggression_forms=record.aggression_forms, description=record.description,
            timeline=[
                TimelineView(at=e.at, kind=e.kind, actor=e.actor, channel=e.channel, notice=e.notice, data=e.data,
                             text=timeline_text(e.kind, {**e.data, "channel": e.channel}, language))
                for e in entries
            ],
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)  # browsers ask on every page; an error would be noise

    for router in routers:
        app.include_router(router)
    return app



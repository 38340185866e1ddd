"""The board's API: alarms (with duress only for the control room: dispatcher/visibility.py),
the operators' actions on them, their live event stream, and the devices."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from dispatcher.core import (
    CloseRequested,
    EscalateRequested,
    Event,
    IllegalTransition,
    Marked,
    NoteAdded,
    Outcome,
    PoliceRequested,
    Responded,
    Response,
    Seen,
)
from dispatcher.visibility import sees_duress
from gateway.board.live import KEEPALIVE, changes_or_keepalives
from gateway.board.views import (
    AlarmDetail,
    AlarmView,
    DeviceView,
    alarm_view,
    chain_view,
    device_views,
    timeline_view,
    urgency,
)
from gateway.deps import Services, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.web.i18n import pick_language
from gateway.web.params import MAX_ID, Moment, as_utc

router = APIRouter(prefix="/api")

OPERATOR = (Role.OPERATOR,)
READERS = (Role.OPERATOR, Role.COORDINATOR)
DEVICES = (Role.OPERATOR, Role.ADMIN)


class Paged(BaseModel):
    total: int
    limit: int
    offset: int


class AlarmList(Paged):
    now: datetime
    items: list[AlarmView]


class DeviceEventView(BaseModel):
    at: datetime
    kind: str
    data: dict[str, Any]


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class MarkIn(BaseModel):
    label: Literal[Outcome.DRILL, Outcome.FALSE_ALARM]


class CloseIn(BaseModel):
    outcome: Outcome | None = None
    note: str | None = Field(default=None, max_length=2000)


class AcceptIn(BaseModel):
    recipient: str = Field(description="the person or contact key as listed in `reached`, e.g. person:jan")
    note: str | None = None


# ---- alarms ---------------------------------------------------------------------------------------


@router.get("/alarms", response_model=AlarmList, tags=["alarms"])
async def alarms(
    services: ServicesDep,
    state: Literal["open", "closed", "all"] = "open",
    site: str | None = Query(None, description="site id"),
    since: Moment | None = Query(None, description="raised at or after (ISO 8601)"),
    until: Moment | None = Query(None, description="raised before (ISO 8601)"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
    principal: Principal = Depends(require(*READERS)),
) -> AlarmList:
    """Open alarms come most urgent first (unanswered, duress, unseen, severe, oldest);
    closed and all alarms newest first."""
    total, rows = await asyncio.to_thread(services.store.alarm_page, state=state, site=site, since=as_utc(since),
                                          until=as_utc(until), limit=limit, offset=offset)
    duress = sees_duress(principal.roles)
    items = [alarm_view(incident, s, duress=duress, directory=services.dispatcher.directory) for incident, s in rows]
    if state == "open":
        items.sort(key=urgency)
    return AlarmList(total=total, limit=limit, offset=offset, now=services.clock.now(), items=items)


@router.get("/alarms/{uid}", response_model=AlarmDetail, tags=["alarms"])
async def alarm(uid: str, request: Request, services: ServicesDep, lang: str | None = None,
                principal: Principal = Depends(require(*READERS))) -> AlarmDetail:
    found = await asyncio.to_thread(services.store.alarm_with_timeline, uid)
    if found is None:
        raise HTTPException(404, f"no alarm {uid}")
    incident, state, entries = found
    duress = sees_duress(principal.roles)
    language = pick_language(lang, request.headers.get("accept-language")) if lang else principal.language
    view = alarm_view(incident, state, duress=duress, directory=services.dispatcher.directory)
    return AlarmDetail(alarm=view, chain=chain_view(state),
                       timeline=timeline_view(entries, language, duress=duress, approach=True))


# ---- operator actions -------------------------------------------------------------------------------


async def _act(services: Services, uid: str, event: Event) -> AlarmView:
    """An operator's action through the dispatcher; operators see duress."""
    try:
        state = await services.dispatcher.command(uid, event, strict=True)
    except IllegalTransition as exc:
        raise HTTPException(409, exc.reason) from None
    if state is None:
        raise HTTPException(404, f"no alarm {uid}")
    incident = await asyncio.to_thread(services.store.incident_id_of, uid)
    return alarm_view(incident or 0, state, duress=True, directory=services.dispatcher.directory)


@router.post("/alarms/{uid}/seen", response_model=AlarmView, tags=["operator actions"])
async def seen(uid: str, services: ServicesDep, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    return await _act(services, uid, Seen(principal.actor))


@router.post("/alarms/{uid}/escalate", response_model=AlarmView, tags=["operator actions"])
async def escalate(uid: str, services: ServicesDep,
                   principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    """Start the next step now (at the last step: repeat it now)."""
    return await _act(services, uid, EscalateRequested(principal.actor))


@router.post("/alarms/{uid}/police", response_model=AlarmView, tags=["operator actions"])
async def police(uid: str, services: ServicesDep, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    """Confirm that the police are needed: a verification fact. Starts the step that reaches the
    outside contact (the police line or the alarm centre) now, and sends an alarm centre that
    already has the alarm a verified event."""
    return await _act(services, uid, PoliceRequested(principal.actor))


@router.post("/alarms/{uid}/notes", response_model=AlarmView, tags=["operator actions"])
async def note(uid: str, body: NoteIn, services: ServicesDep,
               principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    return await _act(services, uid, NoteAdded(principal.actor, body.text))


@router.post("/alarms/{uid}/mark", response_model=AlarmView, tags=["operator actions"])
async def mark(uid: str, body: MarkIn, services: ServicesDep,
               principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    """Mark as a drill or a false alarm; it keeps running until closed."""
    return await _act(services, uid, Marked(Outcome(body.label), principal.actor))


@router.post("/alarms/{uid}/close", response_model=AlarmView, tags=["operator actions"])
async def close(uid: str, body: CloseIn, services: ServicesDep,
                principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    """Close with an outcome (default: what it was marked as, else resolved)."""
    outcome = Outcome(body.outcome) if body.outcome else None
    return await _act(services, uid, CloseRequested(outcome, principal.actor, body.note))


@router.post("/alarms/{uid}/accept", response_model=AlarmView, tags=["operator actions"])
async def accept(uid: str, body: AcceptIn, services: ServicesDep,
                 principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
    """Accept on someone's behalf: they said yes on the phone to the control room."""
    state = await services.dispatcher.alarm(uid)
    if state is None:
        raise HTTPException(404, f"no alarm {uid}")
    pages = [p for p in state.pages if p.recipient == body.recipient]
    if not pages:
        raise HTTPException(409, f"{body.recipient} was not called out for this alarm")
    return await _act(services, uid, Responded(pages[-1].page_id, Response.ACCEPT, "operator", "",
                                               actor=principal.display_name))


@router.get("/events", tags=["alarms"], response_class=StreamingResponse)
async def events(services: ServicesDep, principal: Principal = Depends(require(*OPERATOR))) -> StreamingResponse:
    """Server-sent events for the board: `hello` with the server time, then an `alarm`
    event with the whole alarm on every change."""
    return StreamingResponse(_alarm_events(services, duress=sees_duress(principal.roles)),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _alarm_events(services: Services, *, duress: bool) -> AsyncIterator[str]:
    with services.live.subscribe(None) as changes:
        yield "retry: 1000\n"
        yield _event("hello", {"now": services.clock.now().isoformat()})
        async for state in changes_or_keepalives(changes):
            if state is None:
                yield KEEPALIVE
                continue
            incident = await asyncio.to_thread(services.store.incident_id_of, state.uid)
            view = alarm_view(incident or 0, state, duress=duress, directory=services.dispatcher.directory)
            yield _event("alarm", {"now": services.clock.now().isoformat(), "alarm": view.model_dump(mode="json")})


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


# ---- devices ----------------------------------------------------------------------------------------


@router.get("/devices", response_model=list[DeviceView], tags=["devices"])
async def devices(services: ServicesDep,
                  fault: bool | None = Query(None, description="only devices with (or without) a fault"),
                  _: Principal = Depends(require(*DEVICES))) -> list[DeviceView]:
    views = device_views(services.dispatcher.directory, services.devices.facts())
    return [v for v in views if fault is None or bool(v.faults) == fault]


@router.get("/devices/{device_id}/events", response_model=list[DeviceEventView], tags=["devices"])
async def device_events(device_id: str, services: ServicesDep, limit: int = Query(100, ge=1, le=1000),
                        _: Principal = Depends(require(*DEVICES))) -> list[DeviceEventView]:
    """The device's timeline, newest first: faults raised and cleared, online and offline, visits
    (an alarm centre's path, by the centre's contact id: its faults)."""
    directory = services.dispatcher.directory
    centre = directory.contacts.get(device_id)
    if device_id not in directory.devices and (centre is None or centre.alarm_centre is None):
        raise HTTPException(404, f"no device {device_id}")
    events = await asyncio.to_thread(services.store.device_events, device_id, limit)
    return [DeviceEventView(at=e.at, kind=e.kind, data=e.data) for e in events]

"""The REST API under /api. Every endpoint names the roles it admits (see `auth.require`).

| role | may |
| --- | --- |
| operator | the board: alarms (with duress: dispatcher/visibility.py), their actions, devices, the live feed |
| coordinator | alarms (read-only); incident records: see gateway/records/api.py |
| admin | users, API tokens, devices, service status |
| responder | their own call-outs |
| employee | report an incident about themselves and follow it (gateway/records/api.py) |
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from dispatcher.core import (
    CloseRequested,
    EscalateRequested,
    Event,
    IllegalTransition,
    Marked,
    NoteAdded,
    Outcome,
    PageStatus,
    PoliceRequested,
    Responded,
    Response,
    Seen,
    message_for_page,
)
from dispatcher.visibility import sees_duress
from escalation.ids import RecipientKey
from escalation.texts import headline, location_text
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
from gateway.deps import Services
from gateway.identity.accounts import AccountError, Principal, token_lifetime
from gateway.identity.auth import require
from gateway.responder.callouts import my_callouts
from gateway.web.i18n import pick_language
from gateway.web.params import MAX_ID, Id, Moment


class Paged(BaseModel):
    total: int
    limit: int
    offset: int


class AlarmList(Paged):
    now: datetime
    items: list[AlarmView]


class Health(BaseModel):
    status: str
    role: str  # leader, standby (another instance dispatches), starting or stepped down


class Checks(BaseModel):
    database: bool
    broker: bool
    queue_lag_s: float  # how long the oldest waiting alarm or answer has waited
    role: str


class Status(BaseModel):
    status: str
    mqtt_connected: bool
    organisation: str
    open_alarms: int
    counters: dict[str, int]
    checks: Checks


class Me(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    person_id: str | None
    language: str
    csrf_token: str | None


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


class UserIn(BaseModel):
    username: str
    password: str
    roles: list[Literal["operator", "coordinator", "admin", "responder", "employee"]]
    display_name: str | None = None
    person_id: str | None = None
    language: Literal["nl", "en"] = "nl"


class UserPatch(BaseModel):
    roles: list[Literal["operator", "coordinator", "admin", "responder", "employee"]] | None = Field(None, min_length=1)
    active: bool | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    person_id: str | None
    active: bool
    last_login_at: datetime | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in: str | int | None = Field(None, description="how long it lasts, like '90d', '12h' or seconds; "
                                                           "leave out for a token that lasts until revoked")


class TokenView(BaseModel):
    """A token as an admin sees it: never the token itself."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool = Field(description="neither revoked nor expired")


class TokenOut(TokenView):
    token: str = Field(description="shown once; store it now")


class CallOut(BaseModel):
    alarm_uid: str
    page_id: str
    headline: str
    location: str
    status: str  # pending | accepted | declined | informed (the afdelingshoofd: nothing to answer)
    link: str


OPERATOR = ("operator",)
READERS = ("operator", "coordinator")


def api_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/api")
    store, dispatcher, accounts = services.store, services.dispatcher, services.accounts

    @router.get("/health", response_model=Health, tags=["service"])
    async def health() -> Health:
        """For load balancers: no sign-in, and nothing but whether the service is well — the
        database answers, the broker is connected, alarms are not waiting in the queue."""
        checks = await services.health_checks()
        return Health(status=_verdict(checks), role=checks["role"])

    @router.get("/leader", response_model=Health, tags=["service"],
                responses={503: {"model": Health, "description": "this instance does not dispatch"}})
    async def leader() -> JSONResponse:
        """For load balancers with several instances: 200 only on the one that dispatches, 503 on
        a standby. A standby serves everything too (it relays actions to the leader); preferring
        the leader saves that step."""
        checks = await services.health_checks()
        body = Health(status=_verdict(checks), role=checks["role"])
        return JSONResponse(body.model_dump(), status_code=200 if checks["role"] == "leader" else 503)

    @router.get("/status", response_model=Status, tags=["service"])
    async def status(_: Principal = Depends(require("operator", "admin"))) -> Status:
        checks = await services.health_checks()
        open_alarms = len(dispatcher.open_alarms())
        return Status(status=_verdict(checks), mqtt_connected=services.mqtt_connected,
                      organisation=services.organisation, open_alarms=open_alarms, counters=services.counters(),
                      checks=Checks(**checks))

    @router.get("/me", response_model=Me, tags=["users"])
    async def me(principal: Principal = Depends(require())) -> Me:
        return Me(username=principal.username, display_name=principal.display_name, roles=sorted(principal.roles),
                  person_id=principal.person_id, language=principal.language, csrf_token=principal.csrf_token)

    # ---- alarms ---------------------------------------------------------------------------------

    @router.get("/alarms", response_model=AlarmList, tags=["alarms"])
    async def alarms(
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
        total, rows = await asyncio.to_thread(store.alarm_page, state=state, site=site, since=as_utc(since),
                                              until=as_utc(until), limit=limit, offset=offset)
        duress = sees_duress(principal.roles)
        items = [alarm_view(incident, s, duress=duress) for incident, s in rows]
        if state == "open":
            items.sort(key=urgency)
        return AlarmList(total=total, limit=limit, offset=offset, now=services.clock.now(), items=items)

    @router.get("/alarms/{uid}", response_model=AlarmDetail, tags=["alarms"])
    async def alarm(uid: str, request: Request, lang: str | None = None,
                    principal: Principal = Depends(require(*READERS))) -> AlarmDetail:
        found = await asyncio.to_thread(store.alarm_with_timeline, uid)
        if found is None:
            raise HTTPException(404, f"no alarm {uid}")
        incident, state, entries = found
        duress = sees_duress(principal.roles)
        language = pick_language(lang, request.headers.get("accept-language")) if lang else principal.language
        return AlarmDetail(alarm=alarm_view(incident, state, duress=duress), chain=chain_view(state),
                           timeline=timeline_view(entries, language, duress=duress, approach=True))

    async def act(uid: str, event: Event) -> AlarmView:  # operators only: they see duress
        try:
            state = await dispatcher.command(uid, event, strict=True)
        except IllegalTransition as exc:
            raise HTTPException(409, exc.reason) from None
        if state is None:
            raise HTTPException(404, f"no alarm {uid}")
        incident = await asyncio.to_thread(store.incident_id_of, uid)
        return alarm_view(incident or 0, state, duress=True)

    @router.post("/alarms/{uid}/seen", response_model=AlarmView, tags=["operator actions"])
    async def seen(uid: str, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        return await act(uid, Seen(principal.actor))

    @router.post("/alarms/{uid}/escalate", response_model=AlarmView, tags=["operator actions"])
    async def escalate(uid: str, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        """Start the next step now (at the last step: repeat it now)."""
        return await act(uid, EscalateRequested(principal.actor))

    @router.post("/alarms/{uid}/police", response_model=AlarmView, tags=["operator actions"])
    async def police(uid: str, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        """Start the step that calls the outside contact (the police), now."""
        return await act(uid, PoliceRequested(principal.actor))

    @router.post("/alarms/{uid}/notes", response_model=AlarmView, tags=["operator actions"])
    async def note(uid: str, body: NoteIn, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        return await act(uid, NoteAdded(principal.actor, body.text))

    @router.post("/alarms/{uid}/mark", response_model=AlarmView, tags=["operator actions"])
    async def mark(uid: str, body: MarkIn, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        """Mark as a drill or a false alarm; it keeps running until closed."""
        return await act(uid, Marked(Outcome(body.label), principal.actor))

    @router.post("/alarms/{uid}/close", response_model=AlarmView, tags=["operator actions"])
    async def close(uid: str, body: CloseIn, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        """Close with an outcome (default: what it was marked as, else resolved)."""
        return await act(uid, CloseRequested(Outcome(body.outcome) if body.outcome else None, principal.actor,
                                             body.note))

    @router.post("/alarms/{uid}/accept", response_model=AlarmView, tags=["operator actions"])
    async def accept(uid: str, body: AcceptIn, principal: Principal = Depends(require(*OPERATOR))) -> AlarmView:
        """Accept on someone's behalf: they said yes on the phone to the control room."""
        state = await dispatcher.alarm(uid)
        if state is None:
            raise HTTPException(404, f"no alarm {uid}")
        pages = [p for p in state.pages if p.recipient == body.recipient]
        if not pages:
            raise HTTPException(409, f"{body.recipient} was not called out for this alarm")
        return await act(uid, Responded(pages[-1].page_id, Response.ACCEPT, "operator", "",
                                        actor=principal.display_name))

    @router.get("/events", tags=["alarms"], response_class=StreamingResponse)
    async def events(principal: Principal = Depends(require(*OPERATOR))) -> StreamingResponse:
        """Server-sent events for the board: `hello` with the server time, then an `alarm`
        event with the whole alarm on every change."""
        duress = sees_duress(principal.roles)

        async def stream() -> AsyncIterator[str]:
            with services.live.subscribe(None) as changes:
                yield "retry: 1000\n"
                yield _event("hello", {"now": services.clock.now().isoformat()})
                async for state in changes_or_keepalives(changes):
                    if state is None:
                        yield KEEPALIVE
                        continue
                    incident = await asyncio.to_thread(store.incident_id_of, state.uid)
                    view = alarm_view(incident or 0, state, duress=duress)
                    yield _event("alarm", {"now": services.clock.now().isoformat(), "alarm": view.model_dump(
                        mode="json")})

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # ---- devices ------------------------------------------------------------------------------------

    @router.get("/devices", response_model=list[DeviceView], tags=["devices"])
    async def devices(fault: bool | None = Query(None, description="only devices with (or without) a fault"),
                      _: Principal = Depends(require("operator", "admin"))) -> list[DeviceView]:
        views = device_views(dispatcher.directory, services.devices.facts())
        return [v for v in views if fault is None or bool(v.faults) == fault]

    @router.get("/devices/{device_id}/events", response_model=list[DeviceEventView], tags=["devices"])
    async def device_events(device_id: str, limit: int = Query(100, ge=1, le=1000),
                            _: Principal = Depends(require("operator", "admin"))) -> list[DeviceEventView]:
        """The device's timeline, newest first: faults raised and cleared, online and offline, visits."""
        if device_id not in dispatcher.directory.devices:
            raise HTTPException(404, f"no device {device_id}")
        events = await asyncio.to_thread(store.device_events, device_id, limit)
        return [DeviceEventView(at=e.at, kind=e.kind, data=e.data) for e in events]

    # ---- users -------------------------------------------------------------------------------------------

    @router.get("/users", response_model=list[UserOut], tags=["users"])
    async def users(_: Principal = Depends(require("admin"))) -> list[UserOut]:
        return [UserOut(id=u.id, username=u.username, display_name=u.display_name, roles=u.roles,
                        person_id=u.person_id, active=u.active, last_login_at=u.last_login_at)
                for u in await asyncio.to_thread(accounts.users)]

    @router.post("/users", response_model=UserOut, status_code=201, tags=["users"])
    async def add_user(body: UserIn, _: Principal = Depends(require("admin"))) -> UserOut:
        try:
            await asyncio.to_thread(accounts.add_user, body.username, body.password, body.roles,
                                    display_name=body.display_name, person_id=body.person_id, language=body.language)
        except AccountError as exc:
            raise HTTPException(422, str(exc)) from None
        return next(o for o in await users(_) if o.username == body.username.strip().lower())

    @router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
    async def patch_user(user_id: Id, body: UserPatch, principal: Principal = Depends(require("admin"))) -> UserOut:
        if user_id == principal.user_id and (body.active is False or (body.roles and "admin" not in body.roles)):
            raise HTTPException(409, "you cannot lock yourself out; ask another admin")
        try:
            await asyncio.to_thread(accounts.update_user, user_id, roles=body.roles, active=body.active)
        except AccountError as exc:
            raise HTTPException(404, str(exc)) from None
        return next(o for o in await users(principal) if o.id == user_id)

    async def user_tokens(user_id: int) -> list[TokenView]:
        try:
            records = await asyncio.to_thread(accounts.tokens, user_id)
        except AccountError as exc:
            raise HTTPException(404, str(exc)) from None
        now = services.clock.now()
        return [TokenView(id=t.id, name=t.name, created_at=t.created_at, last_used_at=t.last_used_at,
                          expires_at=t.expires_at, revoked_at=t.revoked_at,
                          active=t.revoked_at is None and (t.expires_at is None or t.expires_at > now))
                for t in records]

    @router.get("/users/{user_id}/tokens", response_model=list[TokenView], tags=["users"])
    async def tokens(user_id: Id, _: Principal = Depends(require("admin"))) -> list[TokenView]:
        """The user's API tokens with their ids, oldest first, ended ones too."""
        return await user_tokens(user_id)

    @router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201, tags=["users"])
    async def add_token(user_id: Id, body: TokenIn, _: Principal = Depends(require("admin"))) -> TokenOut:
        """A new token, shown once. A new password or disabling the user ends all their tokens."""
        try:
            lifetime = None if body.expires_in is None else token_lifetime(body.expires_in)
        except AccountError as exc:
            raise HTTPException(422, str(exc)) from None
        try:
            token_id, token = await asyncio.to_thread(accounts.create_token, user_id, body.name, expires_in=lifetime)
        except AccountError as exc:
            raise HTTPException(404, str(exc)) from None
        made = next(t for t in await user_tokens(user_id) if t.id == token_id)
        return TokenOut(**made.model_dump(), token=token)

    @router.delete("/tokens/{token_id}", status_code=204, tags=["users"])
    async def revoke_token(token_id: Id, _: Principal = Depends(require("admin"))) -> None:
        if not await asyncio.to_thread(accounts.revoke_token, token_id):
            raise HTTPException(404, f"no active token {token_id}")

    # ---- responders ---------------------------------------------------------------------------------------

    @router.get("/me/callouts", response_model=list[CallOut], tags=["responders"])
    async def callouts(principal: Principal = Depends(require("responder"))) -> list[CallOut]:
        """Your open call-outs, each with its one-tap link, oldest first; an alarm you are only
        informed of as afdelingshoofd has the status `informed`. Only your own."""
        if not principal.person_id:
            return []
        key = RecipientKey.person(principal.person_id)
        found = []
        for mine in my_callouts(dispatcher.open_alarms(), key, responder=True):
            state, page = mine.state, mine.page
            message = message_for_page(state, page)
            status = "informed" if mine.inform else "accepted" if state.responder(key) else (
                "declined" if page.status is PageStatus.DECLINED else "pending")
            found.append(CallOut(alarm_uid=state.uid, page_id=page.page_id,
                                 headline=headline(message, principal.language),
                                 location=location_text(message, principal.language), status=status,
                                 link=services.links.url(page.page_id)))
        return found

    return router


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


def as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


QUEUE_LAG_DEGRADED_S = 5.0


def _verdict(checks: dict[str, Any]) -> str:
    if checks["role"] == "standby":  # a standby holds no broker session and no queue
        return "ok" if checks["database"] else "degraded"
    well = checks["database"] and checks["broker"] and checks["queue_lag_s"] < QUEUE_LAG_DEGRADED_S
    return "ok" if well else "degraded"

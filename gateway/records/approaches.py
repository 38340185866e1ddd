"""Agreed approaches for known visitors: the coordinator's page and the JSON API.

Coordinators and admins make and end them; operators (the centrale post) see the current
ones. Times are typed and shown in the organisation's time zone and stored in UTC. After every
change the in-memory book is read again, so the next alarm carries the change.

| route | who |
| --- | --- |
| GET /api/approaches, GET /approaches | operator, coordinator, admin |
| POST /api/approaches, POST /approaches | coordinator, admin |
| POST /api/approaches/{id}/end, POST /approaches/{id}/end | coordinator, admin |
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from dispatcher.approaches import (
    MAX_NOTE,
    MAX_VISITOR,
    Approach,
    InvalidApproach,
    check_text,
    check_window,
    parse_place,
)
from escalation.directory import Directory
from gateway.deps import Pages, Services, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.records.api import FieldError
from gateway.web.bodies import form_fields
from gateway.web.i18n import BOARD
from gateway.web.pages import Renderer
from gateway.web.params import Id, Moment, form_id

log = structlog.get_logger("code4.approaches")

READERS = (Role.OPERATOR, Role.COORDINATOR, Role.ADMIN)
MAKERS = (Role.COORDINATOR, Role.ADMIN)


class ApproachIn(BaseModel):
    place: str = Field(min_length=1, max_length=130, description="a location or zone of the agreement file, "
                                                                 "e.g. stadhuis/spreekkamer-a or stadhuis/publiekshal")
    starts_at: Moment = Field(description="ISO 8601; without a time zone: the organisation's local time")
    ends_at: Moment
    visitor: str = Field(min_length=1, max_length=MAX_VISITOR,
                         description="a short reference reception recognises, not personal data")
    note: str = Field(min_length=1, max_length=MAX_NOTE, description="the approach agreed with GGZ")


class ApproachOut(BaseModel):
    id: int
    place: str
    place_name: str
    starts_at: datetime
    ends_at: datetime
    visitor: str
    note: str
    made_by: str
    made_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    active: bool  # applies to an alarm now


router = APIRouter()


def _out(approach: Approach, now: datetime) -> ApproachOut:
    return ApproachOut(
        id=approach.id, place=approach.place.ref, place_name=approach.place.name, starts_at=approach.starts_at,
        ends_at=approach.ends_at, visitor=approach.visitor, note=approach.note, made_by=approach.made_by,
        made_at=approach.made_at, ended_at=approach.ended_at, ended_by=approach.ended_by,
        active=approach.active(now))


def _local(directory: Directory, moment: datetime) -> datetime:
    """A time typed without a zone is the organisation's local time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=directory.org.tz)).astimezone(UTC)


async def _make(services: Services, principal: Principal, *, place: str, starts_at: datetime, ends_at: datetime,
                visitor: str, note: str) -> Approach:
    now = services.clock.now()
    directory = services.dispatcher.directory
    where = parse_place(directory, place)
    starts_at, ends_at = _local(directory, starts_at), _local(directory, ends_at)
    check_window(starts_at, ends_at, now)
    made = await asyncio.to_thread(
        services.approach_store.add, place=where, starts_at=starts_at, ends_at=ends_at,
        visitor=check_text("visitor", visitor, MAX_VISITOR), note=check_text("note", note, MAX_NOTE),
        made_by=principal.display_name, now=now)
    log.info("approach agreement made", approach_id=made.id, place=where.ref, by=principal.username,
             starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
    await services.approaches.refresh()
    return made


async def _end(services: Services, principal: Principal, approach_id: int) -> Approach:
    ended = await asyncio.to_thread(services.approach_store.end, approach_id, by=principal.display_name,
                                    now=services.clock.now())
    if ended is None:
        raise HTTPException(404, f"no running or coming approach agreement {approach_id}")
    log.info("approach agreement ended", approach_id=approach_id, by=principal.username)
    await services.approaches.refresh()
    return ended


# ---- the API ------------------------------------------------------------------------------------


class NotAgreed(BaseModel):
    """422: why the agreement was not made (a place not in the agreement file, a window that is
    over or backwards, an empty text), in a sentence; or FastAPI's list."""

    detail: str | list[FieldError] = Field(examples=["ends_at: the end must come after the start"])


@router.get("/api/approaches", response_model=list[ApproachOut], tags=["known visitors"])
async def listing(services: ServicesDep, _: Principal = Depends(require(*READERS))) -> list[ApproachOut]:
    """The agreements running now or still to come, earliest first."""
    now = services.clock.now()
    return [_out(a, now) for a in await asyncio.to_thread(services.approach_store.not_over, now)]


@router.post("/api/approaches", response_model=ApproachOut, status_code=201, tags=["known visitors"],
             responses={422: {"model": NotAgreed, "description": "Not made: see `detail`"}})
async def add(body: ApproachIn, services: ServicesDep,
              principal: Principal = Depends(require(*MAKERS))) -> ApproachOut:
    """An agreed approach for a known visitor: an alarm from this place in this window
    carries the note to the responders' pages (never to outside contacts) and the board."""
    try:
        made = await _make(services, principal, place=body.place, starts_at=body.starts_at, ends_at=body.ends_at,
                           visitor=body.visitor, note=body.note)
    except InvalidApproach as exc:
        raise HTTPException(422, str(exc)) from None
    return _out(made, services.clock.now())


@router.post("/api/approaches/{approach_id}/end", response_model=ApproachOut, tags=["known visitors"])
async def end_api(approach_id: Id, services: ServicesDep,
                  principal: Principal = Depends(require(*MAKERS))) -> ApproachOut:
    """End an agreement now (the visit is over, or it was made by mistake)."""
    return _out(await _end(services, principal, approach_id), services.clock.now())


# ---- the page -------------------------------------------------------------------------------------


def _places(directory: Directory) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for site in directory.org.sites:
        for zone in site.zones:
            found.append((f"{site.id}/{zone.id}", f"{zone.name}, {site.name}"))
            found += [(f"{site.id}/{loc.id}", f"{loc.name}, {zone.name}, {site.name}") for loc in zone.locations]
    return found


def _page(services: Services, pages: Renderer, request: Request, principal: Principal, *, status: int = 200,
          error: str | None = None, values: dict[str, str] | None = None) -> Response:
    now = services.clock.now()
    directory = services.dispatcher.directory
    tz = directory.org.tz

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%d-%m-%Y %H:%M") if moment else "–"

    store = services.approach_store
    current = store.not_over(now)
    start = now.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    return pages.render(request, "approaches.html", principal, status, current=current,
                        past=store.recent(now, 20) if principal.has(*MAKERS) else [],
                        may_make=principal.has(*MAKERS), places=_places(directory), when=when, error=error,
                        values=values or {"starts_at": start}, now=now, max_note=MAX_NOTE,
                        max_visitor=MAX_VISITOR)




@router.get("/approaches", include_in_schema=False)
async def show(request: Request, services: ServicesDep, pages: Pages,
               principal: Principal = Depends(require(*READERS, page=True))) -> Response:
    return await asyncio.to_thread(_page, services, pages, request, principal)


@router.post("/approaches", include_in_schema=False)
async def add_form(request: Request, services: ServicesDep, pages: Pages,
                   principal: Principal = Depends(require(*MAKERS, page=True))) -> Response:
    form = await form_fields(request)
    values = {k: form.get(k, "")[:400] for k in ("place", "starts_at", "ends_at", "visitor", "note")}
    try:
        await _make(services, principal, place=values["place"], starts_at=_form_time(values["starts_at"], "starts_at"),
                    ends_at=_form_time(values["ends_at"], "ends_at"), visitor=values["visitor"], note=values["note"])
    except InvalidApproach as exc:
        lang = pages.language(request, principal)
        error = BOARD[lang].get(f"approach_bad_{exc.field}", BOARD[lang]["approach_bad"])
        return await asyncio.to_thread(_page, services, pages, request, principal, status=422, error=error,
                                       values=values)
    return RedirectResponse("/approaches", status_code=303)


@router.post("/approaches/{approach_id}/end", include_in_schema=False)
async def end_form(approach_id: str, services: ServicesDep,
                   principal: Principal = Depends(require(*MAKERS, page=True))) -> Response:
    await _end(services, principal, form_id(approach_id))
    return RedirectResponse("/approaches", status_code=303)


def _form_time(text: str, field: str) -> datetime:
    """A `datetime-local` field: local time without a zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidApproach(field, "not a date and time") from None
    if not 2000 <= moment.year <= 2999:
        raise InvalidApproach(field, "not a date and time")
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment


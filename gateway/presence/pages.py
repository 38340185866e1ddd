"""The presence pages: the kiosk at a site's entrance and the control room's view of who is in.

The kiosk is a tablet signed in with an account whose role is `kiosk`: that account can do
nothing but sign people in and out (gateway/identity/auth.py). It lists the people who work at
the site by first name and initial only ("Jan V."), a tap signs one in or out.

| route | who |
| --- | --- |
| GET /kiosk, GET /kiosk/{site}, POST /kiosk/{site} | kiosk |
| GET /board/presence | operator, admin |
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from dispatcher.presence import short_name, works_at
from escalation.directory import Directory
from gateway.board.views import local_time
from gateway.deps import Pages, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.presence.api import READERS, entry_out, set_presence
from gateway.web.bodies import form_fields
from gateway.web.i18n import BOARD

router = APIRouter(include_in_schema=False)
KIOSK = (Role.KIOSK,)


@dataclass(frozen=True)
class KioskPerson:
    id: str
    label: str  # first name and initial
    present: bool


def kiosk_people(directory: Directory, site_id: str, present: set[str]) -> list[KioskPerson]:
    """Who works at the site, and whoever signed in there anyway, by first name."""
    people = [p for p in directory.org.people if works_at(directory, p, site_id) or p.id in present]
    return sorted((KioskPerson(p.id, short_name(p.name), p.id in present) for p in people),
                  key=lambda k: k.label.lower())


def _site(directory: Directory, site_id: str) -> str:
    site = directory.sites.get(site_id)
    if site is None:
        raise HTTPException(404, "no such site")
    return site.name


@router.get("/kiosk")
async def kiosk_sites(request: Request, services: ServicesDep, pages: Pages,
                      principal: Principal = Depends(require(*KIOSK, page=True))) -> Response:
    sites = [(s.id, s.name) for s in services.dispatcher.directory.org.sites]
    return pages.render(request, "kiosk.html", principal, sites=sites, site=None, people=[], done=None)


def _kiosk_page(request: Request, services: ServicesDep, pages: Pages, principal: Principal, site_id: str,
                done: str | None = None) -> Response:
    directory = services.dispatcher.directory
    name = _site(directory, site_id)
    present = {e.person_id for e in services.presence.entries(services.clock.now()) if e.site_id == site_id}
    return pages.render(request, "kiosk.html", principal, sites=[], site=(site_id, name),
                        people=kiosk_people(directory, site_id, present), done=done)


@router.get("/kiosk/{site_id}")
async def kiosk(site_id: str, request: Request, services: ServicesDep, pages: Pages,
                principal: Principal = Depends(require(*KIOSK, page=True))) -> Response:
    return _kiosk_page(request, services, pages, principal, site_id)


@router.post("/kiosk/{site_id}")
async def kiosk_tap(site_id: str, request: Request, services: ServicesDep, pages: Pages,
                    principal: Principal = Depends(require(*KIOSK, page=True))) -> Response:
    directory = services.dispatcher.directory
    _site(directory, site_id)
    form = await form_fields(request)
    person_id, present = form.get("person", "")[:64], form.get("present", "")
    now = services.clock.now()
    here = {e.person_id for e in services.presence.entries(now) if e.site_id == site_id}
    listed = {k.id: k for k in kiosk_people(directory, site_id, here)}
    if person_id not in listed or present not in ("0", "1"):
        raise HTTPException(400, "tap a name from the list")
    await set_presence(services, person_id, site_id, present == "1", via="kiosk", actor=principal.username)
    words = BOARD[pages.language(request, principal)]
    done = words["kiosk_done_in" if present == "1" else "kiosk_done_out"].format(name=listed[person_id].label)
    return _kiosk_page(request, services, pages, principal, site_id, done)


@router.get("/board/presence")
async def presence_page(request: Request, services: ServicesDep, pages: Pages,
                        principal: Principal = Depends(require(*READERS, page=True))) -> Response:
    directory = services.dispatcher.directory
    entries = [entry_out(directory, e) for e in services.presence.entries(services.clock.now())]
    by_site = {s.id: (s.name, [e for e in entries if e.site == s.id]) for s in directory.org.sites}
    short = [(state.uid, state.plan.where.describe(), [s for s in state.plan.steps if s.short])
             for state in services.dispatcher.open_alarms()]
    return pages.render(request, "presence.html", principal, by_site=by_site, when=local_time(directory),
                        hours=directory.org.presence_expires // 3600, short=[s for s in short if s[2]])

"""Presence over the API: a person signs themself in or out at a site (the responder app's
"Ik ben er" / "Ik ga weg"), and the control room reads who is present.

| route | who |
| --- | --- |
| GET /api/me/presence, POST /api/me/presence | any account linked to a person (not a kiosk) |
| GET /api/presence | operator, admin |
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import structlog
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from dispatcher.presence import PresentEntry
from escalation.directory import Directory
from gateway.deps import Services, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role

log = structlog.get_logger("code4.presence")

READERS = (Role.OPERATOR, Role.ADMIN)
SITE_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"

router = APIRouter()


class PresenceIn(BaseModel):
    site: str = Field(pattern=SITE_ID, description="a site id of the agreement file, e.g. stadhuis")
    present: bool = Field(description="true: 'Ik ben er'; false: 'Ik ga weg'")


class MyPresence(BaseModel):
    site: str
    site_name: str
    via: str  # app, kiosk or pager
    since: datetime | None
    expires_at: datetime | None  # None for a pager: present while it is online


class PresentOut(MyPresence):
    person: str
    name: str


async def set_presence(services: Services, person_id: str, site_id: str, present: bool, *, via: str,
                       actor: str) -> None:
    """Sign a person in (until `presence_expires` from now) or out at a site, and read the book
    again so the next alarm knows. Raises 404 for a site or person the file does not know."""
    directory = services.dispatcher.directory
    if site_id not in directory.sites:
        raise HTTPException(404, f"no site {site_id!r} in the agreement file")
    if person_id not in directory.people:
        raise HTTPException(404, "this person is not in the agreement file")
    now = services.clock.now()
    if present:
        expires = now + timedelta(seconds=directory.org.presence_expires)
        await asyncio.to_thread(services.presence_store.sign_in, person_id, site_id, via=via, now=now,
                                expires_at=expires)
    else:
        await asyncio.to_thread(services.presence_store.sign_out, person_id, site_id)
    log.info("presence changed", person=person_id, site=site_id, present=present, via=via, by=actor)
    await services.presence.refresh()


def entry_out(directory: Directory, entry: PresentEntry) -> PresentOut:
    site = directory.sites.get(entry.site_id)
    person = directory.people.get(entry.person_id)
    return PresentOut(site=entry.site_id, site_name=site.name if site else entry.site_id, via=entry.via,
                      since=entry.since, expires_at=entry.expires_at, person=entry.person_id,
                      name=person.name if person else entry.person_id)


def _person_of(principal: Principal) -> str:
    if not principal.person_id:
        raise HTTPException(409, "this account is not linked to a person of the agreement file")
    return principal.person_id


@router.get("/api/me/presence", response_model=list[MyPresence], tags=["presence"])
async def mine(services: ServicesDep, principal: Principal = Depends(require())) -> list[MyPresence]:
    """Where I count as present now."""
    person = _person_of(principal)
    directory = services.dispatcher.directory
    entries = services.presence.entries(services.clock.now())
    return [MyPresence(**entry_out(directory, e).model_dump(include=set(MyPresence.model_fields)))
            for e in entries if e.person_id == person]


@router.post("/api/me/presence", response_model=list[MyPresence], tags=["presence"])
async def sign(body: PresenceIn, services: ServicesDep,
               principal: Principal = Depends(require())) -> list[MyPresence]:
    """"Ik ben er" (`present: true`) or "Ik ga weg" (`present: false`) at a site. A sign-in lapses
    after the agreement file's `presence_expires`. Answers where I count as present now."""
    person = _person_of(principal)
    await set_presence(services, person, body.site, body.present, via="app", actor=principal.username)
    return await mine(services, principal)


@router.get("/api/presence", response_model=list[PresentOut], tags=["presence"])
async def everyone(services: ServicesDep, _: Principal = Depends(require(*READERS))) -> list[PresentOut]:
    """Everyone present now, by site."""
    directory = services.dispatcher.directory
    return [entry_out(directory, e) for e in services.presence.entries(services.clock.now())]

"""A signed-in person's own call-outs: the alarms they have a page for, as JSON
(`/api/me/callouts`, responders) and as a page (`/me`, anyone linked to a person). Their call-outs
to answer (responders) and the alarms they are informed of "ter informatie" (the afdelingshoofd
of the team, whatever their role), each with its one-tap link."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from dispatcher.core import AlarmState, Page, PageStatus, message_for_page
from escalation.ids import RecipientKey
from escalation.texts import headline, location_text
from gateway.board.views import local_time
from gateway.deps import Pages, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role

router = APIRouter()


@dataclass(frozen=True)
class MyCallout:
    state: AlarmState
    page: Page  # the latest page to this person for this alarm
    inform: bool


class CallOut(BaseModel):
    alarm_uid: str
    page_id: str
    headline: str
    location: str
    status: str  # pending | accepted | declined | informed (the afdelingshoofd: nothing to answer)
    link: str


def my_callouts(states: Iterable[AlarmState], person_key: str, *, responder: bool) -> list[MyCallout]:
    """Oldest alarm first. A responder sees the pages they can answer; anyone linked to a person
    sees the alarms they are informed of. A page to answer goes before an inform page."""
    found = []
    for state in sorted(states, key=lambda s: s.raised_at):
        pages = [p for p in state.pages if p.recipient == person_key]
        answerable = [p for p in pages if p.asks]
        informed = [p for p in pages if p.inform]
        if responder and answerable:
            found.append(MyCallout(state, answerable[-1], False))
        elif informed:
            found.append(MyCallout(state, informed[-1], True))
    return found


def callouts_of(principal: Principal, states: Iterable[AlarmState], *, responder: bool) -> list[MyCallout]:
    """The signed-in person's call-outs; none for an account not linked to a person."""
    if not principal.person_id:
        return []
    return my_callouts(states, RecipientKey.person(principal.person_id), responder=responder)


@router.get("/api/me/callouts", response_model=list[CallOut], tags=["responders"])
async def callouts(services: ServicesDep, principal: Principal = Depends(require(Role.RESPONDER))) -> list[CallOut]:
    """Your open call-outs, each with its one-tap link, oldest first; an alarm you are only
    informed of as afdelingshoofd has the status `informed`. Only your own."""
    found = []
    for mine in callouts_of(principal, services.dispatcher.open_alarms(), responder=True):
        state, page = mine.state, mine.page
        message = message_for_page(state, page)
        status = "informed" if mine.inform else "accepted" if state.responder(page.recipient) else (
            "declined" if page.status is PageStatus.DECLINED else "pending")
        found.append(CallOut(alarm_uid=state.uid, page_id=page.page_id, headline=headline(message, principal.language),
                             location=location_text(message, principal.language), status=status,
                             link=services.links.url(page.page_id)))
    return found


@router.get("/me", include_in_schema=False)
async def my_callouts_page(request: Request, services: ServicesDep, pages: Pages,
                           principal: Principal = Depends(require(page=True))) -> Response:
    """Your open call-outs (responders) and the alarms you are informed of (an afdelingshoofd,
    whatever their role), each with its one-tap link."""
    directory = services.dispatcher.directory
    found = callouts_of(principal, services.dispatcher.open_alarms(), responder=principal.has(Role.RESPONDER))
    mine = [{"where": c.state.plan.where.describe() or c.state.device_id, "inform": c.inform,
             "kind": c.state.kind, "raised_at": c.state.raised_at, "link": services.links.url(c.page.page_id)}
            for c in found]
    return pages.render(request, "me.html", principal, callouts=mine, when=local_time(directory))

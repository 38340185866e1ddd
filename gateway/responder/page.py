"""The one-tap responder page behind a signed link: where, the gathering point, what kind of
alarm, your role, who else is coming, and three big buttons. It updates itself as others
answer (server-sent events) and works without JavaScript too (plain form posts).

An expired or forged link shows a short message and nothing about any alarm. Others appear by
name and role only; the link itself is kept out of referrers and caches.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from devices.kinds import AGGRESSION_KINDS
from dispatcher.core import AlarmState, Page, PageStatus, Responded, message_for_page
from dispatcher.core import Response as Answer
from dispatcher.visibility import responder_told_of_duress
from escalation.links import LinkExpired, LinkInvalid
from escalation.plan_places import plan_by_id
from escalation.texts import KIND, OUTCOME, ROLE, WORDS, headline, lang, location_text, short_code
from gateway.board.live import KEEPALIVE, changes_or_keepalives
from gateway.board.plan_views import PlanRef, plan_ref
from gateway.board.plans import plan_response
from gateway.deps import Services, ServicesDep
from gateway.web.bodies import form_fields, is_form, json_object
from gateway.web.pages import TEMPLATES

log = structlog.get_logger("code4.responder")

TEXT = {
    "nl": {"title": "Oproep", "where": "Locatie", "gather": "Verzamelen uit het zicht", "others": "Onderweg",
           "nobody": "Nog niemand", "accept": "Ik kom", "decline": "Kan niet", "on_scene": "Ter plaatse",
           "pending": "Kun je komen?", "accepted": "Je komt.",
           "declined": "Je hebt laten weten dat je niet kunt komen.",
           "on_scene_status": "Je bent ter plaatse.", "closed": "Dit alarm is afgesloten.", "you": "jij",
           "expired": "Deze link is verlopen.", "plan": "Plattegrond", "invalid": "Deze link is ongeldig.",
           "problem_hint": "Antwoord op de sms of bel de centrale post.",
           "offline": "Geen verbinding. Opnieuw verbinden…",
           "duress": WORDS["nl"]["duress"], "approach": WORDS["nl"]["approach"],
           "inform_title": "Ter informatie", "before": "Voor je benadert",
           "establish": "Verzamel eerst achtergrondinformatie en stel vast om welk soort agressie het gaat: "
                        "frustratie, instrumenteel of psychotisch. Eigen veiligheid gaat voor.",
           "informed": "Ter informatie: je krijgt dit bericht als afdelingshoofd. Je hoeft niet te antwoorden."},
    "en": {"title": "Call-out", "where": "Location", "gather": "Gather at", "others": "On the way",
           "nobody": "Nobody yet", "accept": "I'm coming", "decline": "Can't come", "on_scene": "On scene",
           "pending": "Can you come?", "accepted": "You are coming.", "declined": "You said you cannot come.",
           "on_scene_status": "You are on scene.", "closed": "This alarm is closed.", "you": "you",
           "expired": "This link has expired.", "plan": "Floor plan", "invalid": "This link is not valid.",
           "problem_hint": "Reply to the text message or call the control room.",
           "offline": "Connection lost, reconnecting…", "duress": WORDS["en"]["duress"],
           "approach": WORDS["en"]["approach"], "inform_title": "For information", "before": "Before you approach",
           "establish": "First gather background and establish the kind of aggression: frustration, instrumental "
                        "or psychotic. Your own safety comes first.",
           "informed": "For information: you get this as the head of department. You need not answer."},
}


def responder_view(state: AlarmState, page: Page, language: str) -> dict[str, Any]:
    """What the page shows, as data: rendered into HTML first, then sent on every change."""
    words = TEXT[language]
    message = message_for_page(state, page)
    me = state.responder(page.recipient)
    mine = [p for p in state.pages if p.recipient == page.recipient]
    if not state.is_open:
        status = "closed"
        status_text = OUTCOME[language].get(state.outcome.value if state.outcome else "", words["closed"])
    elif me is not None and me.on_scene_at is not None:
        status, status_text = "on_scene", words["on_scene_status"]
    elif me is not None:
        status, status_text = "accepted", words["accepted"]
    elif mine and all(p.status is PageStatus.DECLINED for p in mine):
        status, status_text = "declined", words["declined"]
    else:
        status, status_text = "pending", words["pending"]
    inform = page.inform
    if inform and state.is_open:
        status, status_text = "inform", words["informed"]
    role = me.role if me is not None else None
    return {
        "inform": inform,  # read-only: no answer buttons, no role
        # The Leidraad BHV-ers: background first, then the kind of aggression (not for a man-down).
        "establish": not inform and state.kind in AGGRESSION_KINDS,
        "open": state.is_open,
        "code": short_code(state.uid),
        "headline": f"{headline(message, language)}: {KIND[language].get(state.kind, state.kind)}",
        "location": location_text(message, language),
        "gathering_point": message.where.gathering_point,
        "approach": message.approach,  # never set for an outside contact (the core decides)
        "duress": state.duress and responder_told_of_duress(coming=me is not None, asked=status == "pending"),
        "status": status,
        "status_text": status_text,
        "role": role,
        "role_text": ROLE[language].get(role, "") if role else "",
        "others": [{"name": r.name, "role": r.role, "on_scene": r.on_scene_at is not None}
                   for r in state.responders if r.recipient != page.recipient],
    }


router = APIRouter(include_in_schema=False)


async def _resolve(services: Services, token: str) -> tuple[AlarmState, Page]:
    """The alarm and the page a link is for: 410 when expired, 404 when forged or gone."""
    try:
        page_id = services.links.page_id(token)
    except LinkExpired:
        raise HTTPException(410, "expired") from None
    except LinkInvalid:
        log.warning("responder link refused: bad signature", security=True)
        raise HTTPException(404, "invalid") from None
    state = await services.dispatcher.alarm(page_id.alarm_uid)
    page = state.page(page_id) if state else None
    if state is None or page is None:
        raise HTTPException(404, "invalid")
    return state, page


def _language_of(state: AlarmState, page: Page, requested: str | None) -> str:
    return lang(requested) if requested in TEXT else lang(state.plan.recipient(page.recipient).language)


@router.get("/r/{token}", response_class=HTMLResponse)
async def show(token: str, services: ServicesDep, lang_: str | None = Query(None, alias="lang")) -> Response:
    try:
        state, page = await _resolve(services, token)
    except HTTPException as exc:
        return _problem(exc.status_code, lang_)
    language = _language_of(state, page, lang_)
    nonce = secrets.token_urlsafe(16)
    body = TEMPLATES.get_template("responder.html").render(
        t=TEXT[language], language=language, view=responder_view(state, page, language), token=token,
        nonce=nonce, plan=_plan(services, state, token),
    )
    return HTMLResponse(body, headers=_headers(nonce))


def _plan(services: Services, state: AlarmState, token: str) -> PlanRef | None:
    """The alarm's place on its floor plan, the image behind this same link."""
    return plan_ref(services.dispatcher.directory, state.plan.where, url=f"/r/{token}/plan")


@router.get("/r/{token}/plan")
async def plan_image(token: str, services: ServicesDep) -> Response:
    """The floor plan of this link's alarm, and no other: a responder sees the plan they need."""
    state, _ = await _resolve(services, token)
    ref = _plan(services, state, token)
    plan = plan_by_id(services.dispatcher.directory.org, ref.id) if ref is not None else None
    if plan is None:
        raise HTTPException(404, "no plan")
    response = plan_response(plan)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


@router.get("/r/{token}/view")
async def view(token: str, services: ServicesDep, lang_: str | None = Query(None, alias="lang")) -> JSONResponse:
    state, page = await _resolve(services, token)
    return JSONResponse(responder_view(state, page, _language_of(state, page, lang_)), headers=_headers())


@router.post("/r/{token}/respond")
async def respond(token: str, request: Request, services: ServicesDep) -> Response:
    state, page = await _resolve(services, token)
    form = is_form(request)
    data: dict[str, Any] = await form_fields(request) if form else await json_object(request)
    if page.inform:
        raise HTTPException(409, "this page is for information only: there is nothing to answer")
    try:
        answer = Answer(str(data.get("response")))
    except ValueError:
        raise HTTPException(422, "response is accept, decline or on_scene") from None
    with structlog.contextvars.bound_contextvars(alarm_id=state.uid):
        log.info("one-tap answer", response=answer.value, page_id=page.page_id)
        new_state = await services.dispatcher.command(state.uid, Responded(page.page_id, answer, "app", ""))
    if form:
        return RedirectResponse(f"/r/{token}", status_code=303)
    language = _language_of(state, page, None)
    return JSONResponse(responder_view(new_state or state, page, language), headers=_headers())


@router.get("/r/{token}/events")
async def events(token: str, services: ServicesDep) -> StreamingResponse:
    state, page = await _resolve(services, token)
    language = _language_of(state, page, None)

    async def stream() -> AsyncIterator[str]:
        with services.live.subscribe(state.uid) as changes:
            yield "retry: 2000\n"
            current = await services.dispatcher.alarm(state.uid) or state
            yield f"data: {json.dumps(responder_view(current, page, language))}\n\n"
            async for changed in changes_or_keepalives(changes):
                if changed is None:
                    yield KEEPALIVE
                    continue
                yield f"data: {json.dumps(responder_view(changed, page, language))}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers=_headers())


def _problem(status: int, requested: str | None) -> HTMLResponse:
    language = lang(requested)
    words = TEXT[language]
    message = words["expired"] if status == 410 else words["invalid"]
    nonce = secrets.token_urlsafe(16)
    body = TEMPLATES.get_template("link_problem.html").render(t=words, language=language, message=message,
                                                              nonce=nonce)
    return HTMLResponse(body, status_code=status, headers=_headers(nonce))


def _headers(nonce: str | None = None) -> dict[str, str]:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
               "X-Content-Type-Options": "nosniff"}
    if nonce:
        headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
    return headers

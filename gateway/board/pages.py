"""The control room's pages: sign-in, the live board, an alarm's detail, the device board, the
incident record, and a responder's own call-outs. Server-rendered; the board's live part is a
small script (static/board.js) fed by the same API and its event stream.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dispatcher.visibility import sees_duress
from escalation.ids import RecipientKey
from gateway.board.views import alarm_view, chain_view, device_views, local_time, timeline_view
from gateway.deps import Services
from gateway.identity.accounts import Principal
from gateway.identity.auth import SESSION_COOKIE, require, safe_next, same_secret
from gateway.responder.callouts import my_callouts as callouts_of
from gateway.web.bodies import form_fields
from gateway.web.i18n import BOARD, LANGUAGES

ALARM_PAGE_WORDS = ("close_confirm", "resolved", "cancelled", "false_alarm_outcome", "drill_outcome")

log = structlog.get_logger("code4.auth")
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                        autoescape=select_autoescape(["html"]))
PRELOGIN_COOKIE = "code4_prelogin"
LANG_COOKIE = "code4_lang"


class Renderer:
    """Renders the pages in the reader's language (?lang= sticks in a cookie), with the
    security headers every page carries."""

    def __init__(self, *, secure_cookies: bool) -> None:
        self.secure_cookies = secure_cookies

    def language(self, request: Request, principal: Principal | None) -> str:
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        if asked in LANGUAGES:
            return asked  # type: ignore[return-value]
        return principal.language if principal else "nl"

    def render(self, request: Request, name: str, principal: Principal | None, status: int = 200,
               **context: Any) -> HTMLResponse:
        lang = self.language(request, principal)
        body = TEMPLATES.get_template(name).render(t=BOARD[lang], lang=lang, user=principal,
                                                   path=request.url.path, **context)
        response = HTMLResponse(body, status_code=status, headers=_page_headers())
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, request.query_params["lang"], max_age=365 * 86400, samesite="lax",
                                secure=self.secure_cookies, httponly=True)
        return response


def board_router(services: Services, *, secure_cookies: bool) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    accounts, store, dispatcher = services.accounts, services.store, services.dispatcher
    throttle = services.throttle
    pages = Renderer(secure_cookies=secure_cookies)
    language, render = pages.language, pages.render

    # ---- signing in ------------------------------------------------------------------------------

    @router.get("/login")
    async def login_form(request: Request) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, prelogin=token, next=safe_next(request.query_params.get("next")),
                          error=None)
        response.set_cookie(PRELOGIN_COOKIE, token, max_age=900, httponly=True, samesite="strict",
                            secure=secure_cookies)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await form_fields(request)
        username = form.get("username", "").strip().lower()
        remote = request.client.host if request.client else "-"
        next_path = safe_next(form.get("next"))
        prelogin = request.cookies.get(PRELOGIN_COOKIE)
        if not prelogin or not same_secret(prelogin, form.get("prelogin", "")):
            raise HTTPException(403, "the sign-in form expired: reload the page")
        # Throttled per (user name, address): failures elsewhere never keep this user out.
        wait = math.ceil(throttle.attempt(username, remote))
        if wait:
            who = await asyncio.to_thread(accounts.log_name, username)
            log.warning("sign-in refused: too many failures", security=True, user=who, remote=remote, wait_s=wait)
            response = render(request, "login.html", None, status=429, prelogin=prelogin, next=next_path,
                              error=BOARD[language(request, None)]["too_many"].format(seconds=wait))
            response.headers["Retry-After"] = str(wait)
            return response
        principal = await asyncio.to_thread(accounts.authenticate, username, form.get("password", ""))
        if principal is None:
            who = await asyncio.to_thread(accounts.log_name, username)
            log.warning("sign-in failed", security=True, user=who, remote=remote)
            return render(request, "login.html", None, status=401, prelogin=prelogin, next=next_path,
                          error=BOARD[language(request, None)]["bad_login"])
        throttle.succeeded(username, remote)
        cookie, _ = await asyncio.to_thread(accounts.open_session, principal)
        log.info("signed in", user=principal.username, roles=sorted(principal.roles), remote=remote)
        target = next_path if next_path != "/" else _home(principal)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=secure_cookies,
                            max_age=12 * 3600)
        response.delete_cookie(PRELOGIN_COOKIE)
        return response

    @router.post("/logout")
    async def logout(request: Request, principal: Principal = Depends(require())) -> Response:
        if cookie := request.cookies.get(SESSION_COOKIE):
            await asyncio.to_thread(accounts.close_session, cookie)
        log.info("signed out", user=principal.username)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @router.get("/")
    async def home(principal: Principal = Depends(require(page=True))) -> Response:
        return RedirectResponse(_home(principal), status_code=303)

    # ---- the control room ---------------------------------------------------------------------------

    @router.get("/board")
    async def board(request: Request, principal: Principal = Depends(require("operator", page=True))) -> Response:
        lang = language(request, principal)
        config = {"csrf": principal.csrf_token, "lang": lang, "t": BOARD[lang],
                  "tz": dispatcher.directory.org.timezone}  # times on the board: the organisation's
        return render(request, "board.html", principal, config=_json(config))

    @router.get("/board/alarms/{uid}")
    async def alarm_page(uid: str, request: Request,
                         principal: Principal = Depends(require("operator", "coordinator", page=True))) -> Response:
        found = await asyncio.to_thread(store.alarm_with_timeline, uid)
        if found is None:
            raise HTTPException(404, f"no alarm {uid}")
        incident, state, entries = found
        lang = language(request, principal)
        duress = sees_duress(principal.roles)
        view = alarm_view(incident, state, duress=duress)
        # Only the words its script needs: the whole dictionary would name what some may not see.
        config = {"csrf": principal.csrf_token, "lang": lang, "uid": uid,
                  "t": {word: BOARD[lang][word] for word in ALARM_PAGE_WORDS}}
        return render(request, "alarm.html", principal, alarm=view, chain=chain_view(state),
                      timeline=timeline_view(entries, lang, duress=duress, approach=True),
                      operator=principal.has("operator"),
                      config=_json(config), when=local_time(dispatcher.directory))

    @router.get("/board/devices")
    async def devices_page(request: Request,
                           principal: Principal = Depends(require("operator", "admin", page=True))) -> Response:
        views = device_views(dispatcher.directory, services.devices.facts())
        return render(request, "devices.html", principal, devices=views, when=local_time(dispatcher.directory))

    @router.get("/board/devices/{device_id}")
    async def device_page(device_id: str, request: Request,
                          principal: Principal = Depends(require("operator", "admin", page=True))) -> Response:
        view = next((v for v in device_views(dispatcher.directory, services.devices.facts()) if v.id == device_id),
                    None)
        if view is None:
            raise HTTPException(404, f"no device {device_id}")
        events = await asyncio.to_thread(store.device_events, device_id)
        return render(request, "device.html", principal, device=view, events=events,
                      when=local_time(dispatcher.directory))

    @router.get("/me")
    async def my_callouts(request: Request, principal: Principal = Depends(require(page=True))) -> Response:
        """Your open call-outs (responders) and the alarms you are informed of (an afdelingshoofd,
        whatever their role), each with its one-tap link."""
        found = callouts_of(dispatcher.open_alarms(), RecipientKey.person(principal.person_id),
                            responder=principal.has("responder")) if principal.person_id else []
        mine = [{"where": c.state.plan.where.describe() or c.state.device_id, "inform": c.inform,
                 "kind": c.state.kind, "raised_at": c.state.raised_at, "link": services.links.url(c.page.page_id)}
                for c in found]
        return render(request, "me.html", principal, callouts=mine, when=local_time(dispatcher.directory))

    return router


def _json(data: dict[str, Any]) -> str:
    """JSON to sit inside a <script type="application/json"> block: no '<' can end it."""
    return json.dumps(data).replace("<", "\\u003c")


def _home(principal: Principal) -> str:
    if principal.has("operator"):
        return "/board"
    if principal.has("coordinator"):
        return "/incidents"
    if principal.has("admin"):
        return "/board/devices"
    if principal.has("responder"):
        return "/me"
    return "/report"


def _page_headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }

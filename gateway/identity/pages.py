"""Signing in and out in a browser, and where each role lands afterwards.

The sign-in form carries a pre-login token (also in a short-lived cookie), so a form posted
from elsewhere cannot sign someone in; failures are throttled per user name and address.
"""

from __future__ import annotations

import asyncio
import math
import secrets

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.deps import Pages, SecureCookies, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import SESSION_COOKIE, require, safe_next, same_secret
from gateway.identity.roles import Role
from gateway.web.bodies import form_fields
from gateway.web.i18n import BOARD

log = structlog.get_logger("code4.auth")
router = APIRouter(include_in_schema=False)

PRELOGIN_COOKIE = "code4_prelogin"


@router.get("/login")
async def login_form(request: Request, pages: Pages, secure: SecureCookies) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = pages.render(request, "login.html", None, prelogin=token,
                            next=safe_next(request.query_params.get("next")), error=None)
    response.set_cookie(PRELOGIN_COOKIE, token, max_age=900, httponly=True, samesite="strict", secure=secure)
    return response


@router.post("/login")
async def login(request: Request, services: ServicesDep, pages: Pages, secure: SecureCookies) -> Response:
    form = await form_fields(request)
    username = form.get("username", "").strip().lower()
    remote = request.client.host if request.client else "-"
    next_path = safe_next(form.get("next"))
    prelogin = request.cookies.get(PRELOGIN_COOKIE)
    if not prelogin or not same_secret(prelogin, form.get("prelogin", "")):
        raise HTTPException(403, "the sign-in form expired: reload the page")
    accounts = services.accounts
    # Throttled per (user name, address): failures elsewhere never keep this user out.
    wait = math.ceil(services.throttle.attempt(username, remote))
    if wait:
        who = await asyncio.to_thread(accounts.log_name, username)
        log.warning("sign-in refused: too many failures", security=True, user=who, remote=remote, wait_s=wait)
        refused = pages.render(request, "login.html", None, status=429, prelogin=prelogin, next=next_path,
                               error=BOARD[pages.language(request, None)]["too_many"].format(seconds=wait))
        refused.headers["Retry-After"] = str(wait)
        return refused
    principal = await asyncio.to_thread(accounts.authenticate, username, form.get("password", ""))
    if principal is None:
        who = await asyncio.to_thread(accounts.log_name, username)
        log.warning("sign-in failed", security=True, user=who, remote=remote)
        return pages.render(request, "login.html", None, status=401, prelogin=prelogin, next=next_path,
                            error=BOARD[pages.language(request, None)]["bad_login"])
    services.throttle.succeeded(username, remote)
    cookie, _ = await asyncio.to_thread(accounts.open_session, principal)
    log.info("signed in", user=principal.username, roles=sorted(str(role) for role in principal.roles), remote=remote)
    response = RedirectResponse(next_path if next_path != "/" else home_of(principal), status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=secure, max_age=12 * 3600)
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, services: ServicesDep,
                 principal: Principal = Depends(require(kiosk=True))) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        await asyncio.to_thread(services.accounts.close_session, cookie)
    log.info("signed out", user=principal.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(principal: Principal = Depends(require(page=True, kiosk=True))) -> Response:
    return RedirectResponse(home_of(principal), status_code=303)


def home_of(principal: Principal) -> str:
    """Where a role starts: the first of these the user holds."""
    if principal.has(Role.OPERATOR):
        return "/board"
    if principal.has(Role.COORDINATOR):
        return "/incidents"
    if principal.has(Role.ADMIN):
        return "/board/devices"
    if principal.has(Role.RESPONDER):
        return "/me"
    if principal.has(Role.KIOSK):
        return "/kiosk"
    if principal.has(Role.DISPLAY):
        return "/wall"
    return "/report"

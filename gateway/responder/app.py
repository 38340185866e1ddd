"""The installable responder app (/app): a web app manifest, a service worker and one page that
signs in once per phone (a device session the user and an admin can revoke), shows the open
calls for me with the same view and the same three answers as the one-tap page, and takes Web
Push with "Ik kom" / "Kan niet" on the notification itself.

Answers go to the one-tap page's own endpoint with each page's signed token, so there is one
way to answer; the app only queues them while the phone is offline. The device cookie is sent
to /app only, and every change needs the device's CSRF token.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from escalation.ids import RecipientKey
from escalation.push.subscriptions import endpoint_allowed
from escalation.texts import lang
from gateway.board.plan_views import plan_ref
from gateway.deps import SecureCookies, ServicesDep
from gateway.identity.auth import check_csrf
from gateway.identity.devices import COOKIE_MAX_AGE_S, DEVICE_COOKIE, DeviceSignIn
from gateway.identity.roles import Role
from gateway.presence.api import SITE_ID, set_presence
from gateway.responder.app_text import APP_TEXT
from gateway.responder.callouts import callouts_of
from gateway.responder.page import responder_view
from gateway.web.pages import TEMPLATES

log = structlog.get_logger("code4.app")

STATIC = Path(__file__).parent.parent / "static" / "app"
router = APIRouter(prefix="/app", include_in_schema=False)


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    device: str = Field("", max_length=100)


class Presence(BaseModel):
    site: str = Field(pattern=SITE_ID)
    present: bool  # "Ik ben er" / "Ik ga weg"


class PushKeys(BaseModel):
    p256dh: str = Field(min_length=80, max_length=120, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=16, max_length=32, pattern=r"^[A-Za-z0-9_-]+=*$")


class PushSubscribe(BaseModel):
    endpoint: str = Field(min_length=10, max_length=1000)
    keys: PushKeys


async def device(request: Request, services: ServicesDep) -> DeviceSignIn:
    """The app's signed-in device (a responder); 401 otherwise. Changes need its CSRF token."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    found = await asyncio.to_thread(services.device_sessions.principal, cookie) if cookie else None
    if found is None:
        raise HTTPException(401, "sign in to the app first")
    if not found.principal.has(Role.RESPONDER) or not found.principal.person_id:
        raise HTTPException(403, "the app is for responders linked to a person")
    if request.method not in ("GET", "HEAD") and found.principal.csrf_token:
        await check_csrf(request, found.principal.csrf_token)
    return found


Device = Annotated[DeviceSignIn, Depends(device)]


@router.get("", response_class=HTMLResponse)
async def shell(request: Request) -> Response:
    """The app's one page: no personal data in it (the service worker keeps it for offline)."""
    language = lang(request.query_params.get("lang") or _browser_language(request))
    nonce = secrets.token_urlsafe(16)
    body = TEMPLATES.get_template("app.html").render(t=APP_TEXT[language], language=language, nonce=nonce)
    return HTMLResponse(body, headers=_headers(nonce))


@router.get("/manifest.webmanifest")
async def manifest() -> JSONResponse:
    return JSONResponse({
        "name": "code4 oproepen", "short_name": "code4", "lang": "nl", "start_url": "/app", "scope": "/app",
        "id": "/app", "display": "standalone", "background_color": "#fafafa", "theme_color": "#b00020",
        "description": "Oproepen van code4: zien, antwoorden, ook vanaf het meldingenscherm.",
        "icons": [{"src": f"/app/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": "any"} for size in (192, 512)],
    }, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    # Served from /app/ so its scope covers the app; never cached by HTTP, so updates arrive.
    return FileResponse(STATIC / "sw.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app"})


@router.get("/app.js")
async def script() -> FileResponse:
    return FileResponse(STATIC / "app.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/queue.js")
async def queue_script() -> FileResponse:
    return FileResponse(STATIC / "queue.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/icon-{size}.png")
async def icon(size: int) -> FileResponse:
    if size not in (192, 512):
        raise HTTPException(404, "no such icon")
    return FileResponse(STATIC / f"icon-{size}.png", media_type="image/png")


@router.post("/api/sign-in")
async def sign_in(body: SignIn, request: Request, services: ServicesDep, secure: SecureCookies) -> Response:
    """Once per phone: a device session that lasts until revoked (throttled as the sign-in page)."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "send JSON")  # a form from another site cannot sign anyone in
    username = body.username.strip().lower()
    remote = request.client.host if request.client else "-"
    wait = math.ceil(services.throttle.attempt(username, remote))
    if wait:
        raise HTTPException(429, "too many failed sign-ins", headers={"Retry-After": str(wait)})
    principal = await asyncio.to_thread(services.accounts.authenticate, username, body.password)
    if principal is None:
        log.warning("app sign-in failed", security=True, remote=remote)
        raise HTTPException(401, "wrong user name or password")
    if not principal.has(Role.RESPONDER) or not principal.person_id:
        raise HTTPException(403, "the app is for responders linked to a person")
    services.throttle.succeeded(username, remote)
    name = body.device.strip() or _device_name(request)
    cookie = await asyncio.to_thread(services.device_sessions.open, principal, name)
    log.info("app signed in on a device", user=principal.username, device=name)
    response = JSONResponse({"signed_in": True}, headers=_headers())
    response.set_cookie(DEVICE_COOKIE, cookie, max_age=COOKIE_MAX_AGE_S, path="/app", httponly=True,
                        samesite="strict", secure=secure)
    return response


@router.get("/api/state")
async def state(signed_in: Device, services: ServicesDep) -> JSONResponse:
    """What the app shows: my open calls (as the one-tap page shows them), my devices, the push key,
    and whether a push subscription of mine expired since I was last told."""
    principal = signed_in.principal
    language = lang(principal.language)
    calls = []
    for mine in callouts_of(principal, services.dispatcher.open_alarms(), responder=True):
        token = services.links.token(mine.page.page_id)
        plan = plan_ref(services.dispatcher.directory, mine.state.plan.where, url=f"/r/{token}/plan")
        calls.append({**responder_view(mine.state, mine.page, language), "page_id": mine.page.page_id,
                      "answer": f"/r/{token}/respond", "raised_at": mine.state.raised_at.isoformat(),
                      "plan": plan.model_dump(mode="json") if plan else None})  # the image behind the call's link
    push = services.push_book
    lapsed = await asyncio.to_thread(push.take_lapsed, str(principal.person_id)) if push else 0
    devices = await asyncio.to_thread(services.device_sessions.of_user, principal.user_id)
    subscribed = await asyncio.to_thread(push.has_device, signed_in.session_id) if push else False
    return JSONResponse({
        "name": principal.display_name, "language": language, "csrf": principal.csrf_token, "calls": calls,
        "presence": _my_sites(services, str(principal.person_id)),
        "push_key": services.vapid_public_key, "push_subscribed": subscribed, "push_lapsed": lapsed,
        "devices": [{"id": d.id, "name": d.name, "created_at": d.created_at.isoformat(),
                     "this": d.id == signed_in.session_id} for d in devices if not d.revoked],
    }, headers=_headers())


@router.post("/api/presence")
async def presence(body: Presence, signed_in: Device, services: ServicesDep) -> JSONResponse:
    """"Ik ben er" or "Ik ga weg" at one of my sites: counts for `present: true` targets."""
    person = str(signed_in.principal.person_id)
    await set_presence(services, person, body.site, body.present, via="app", actor=signed_in.principal.username)
    return JSONResponse(_my_sites(services, person), headers=_headers())


def _my_sites(services: ServicesDep, person_id: str) -> list[dict[str, Any]]:
    """The sites where I work (every site when the file places me nowhere), and whether and until
    when I count as present at each."""
    directory = services.dispatcher.directory
    person = directory.people.get(person_id)
    if person is None:
        return []
    mine = {key.split("/", 1)[0] for key in directory.person_zone_keys(person)} or set(directory.sites)
    here = {e.site_id: e for e in services.presence.entries(services.clock.now()) if e.person_id == person_id}
    out = []
    for site in directory.org.sites:
        if site.id not in mine:
            continue
        entry = here.get(site.id)
        until = entry.expires_at.isoformat() if entry is not None and entry.expires_at is not None else None
        out.append({"site": site.id, "name": site.name, "present": entry is not None,
                    "via": entry.via if entry is not None else None, "until": until})
    return out


@router.post("/api/push", status_code=204)
async def subscribe(body: PushSubscribe, signed_in: Device, services: ServicesDep) -> None:
    """This device's push subscription (pushManager.subscribe), for this person."""
    if services.push_book is None:
        raise HTTPException(404, "push is not configured on this installation")
    if not endpoint_allowed(body.endpoint, services.push_origins):
        log.warning("push subscription refused: not a known push service", security=True)
        raise HTTPException(422, "not an endpoint of a known push service")
    person = str(signed_in.principal.person_id)
    await asyncio.to_thread(services.push_book.subscribe, person, signed_in.session_id, body.endpoint,
                            body.keys.p256dh, body.keys.auth)
    log.info("push subscription stored", recipient=str(RecipientKey.person(person)))


@router.post("/api/devices/{device_id}/revoke", status_code=204)
async def revoke(device_id: int, signed_in: Device, services: ServicesDep) -> None:
    """End one of my own device sign-ins (this one: signing out)."""
    if not 0 < device_id < 2**31:
        raise HTTPException(404, "no such device")
    if not await asyncio.to_thread(services.device_sessions.revoke, device_id, user_id=signed_in.principal.user_id):
        raise HTTPException(404, "no such device")
    log.info("device sign-in revoked by its user", user=signed_in.principal.username, device=device_id)


def _browser_language(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "nl"


def _device_name(request: Request) -> str:
    agent = request.headers.get("user-agent", "")
    for name in ("iPhone", "iPad", "Android", "Windows", "Mac OS", "Linux"):
        if name in agent:
            return name
    return "app"


def _headers(nonce: str | None = None) -> dict[str, Any]:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
    if nonce:
        headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'nonce-{nonce}'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'")
    return headers



"""The wall display's page, /wall: full screen, read-only, fed by /api/wall (static/wall.js).

A display signs in once with `/wall?token=<its API token>`: the token goes into an HttpOnly
cookie and the browser is sent on to the same address without it, so it stays in no address
bar, history or screenshot. `?site=`, `?night=` and `?silent=` pass on to /api/wall.

| route | who |
| --- | --- |
| GET /wall | display, operator (with ?token=: anyone holding a display token) |
"""

from __future__ import annotations

from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.deps import Pages, ServicesDep
from gateway.wall.access import DISPLAY_COOKIE, display_token, wall_reader
from gateway.wall.words import words
from gateway.web.pages import page_headers, script_json

log = structlog.get_logger("code4.wall")
router = APIRouter(include_in_schema=False)
COOKIE_DAYS = 400  # the longest browsers keep a cookie; revoke the token to end it sooner
POLL_S = 5


@router.get("/wall")
async def wall(request: Request, services: ServicesDep, pages: Pages) -> Response:
    if "token" in request.query_params:
        return await _exchange(request, services, pages)
    principal = await wall_reader(page=True)(request, services)
    lang = pages.language(request, principal)
    config = {"lang": lang, "w": words(lang), "poll_s": POLL_S, "tz": services.dispatcher.directory.org.timezone}
    return pages.render(request, "wall.html", principal, config=script_json(config), w=words(lang))


async def _exchange(request: Request, services: ServicesDep, pages: Pages) -> Response:
    """The token from the address into the cookie; the address without it."""
    principal = await display_token(services, request.query_params.get("token"))
    rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    if principal is None:
        log.warning("wall token refused", security=True, remote=request.client.host if request.client else None)
        body = f"<!doctype html><title>code4</title><p>{words(pages.language(request, None))['bad_token']}</p>"
        return HTMLResponse(body, status_code=401, headers=page_headers())
    response = RedirectResponse("/wall" + (f"?{rest}" if rest else ""), status_code=303, headers=page_headers())
    response.set_cookie(DISPLAY_COOKIE, request.query_params["token"], max_age=COOKIE_DAYS * 86400, httponly=True,
                        samesite="lax", secure=pages.secure_cookies, path="/")
    log.info("wall display signed in", user=principal.username)
    return response

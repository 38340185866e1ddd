"""Sign-in for every page and API endpoint.

A request is someone by an `Authorization: Bearer` API token or by the session cookie. Every
route names the roles it admits; anyone else gets 401 (not signed in) or 403 (signed in
without the role), with a message that says which. Browser sessions must send their CSRF
token with every change (header `X-CSRF-Token`, or field `csrf_token` in a form); API tokens
cannot be sent by a browser on its own, so they need none.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import structlog
from fastapi import HTTPException, Request

from gateway.deps import Services, ServicesDep
from gateway.identity.accounts import Accounts, Principal
from gateway.identity.roles import Role
from gateway.web.bodies import form_fields, is_form

log = structlog.get_logger("code4.auth")

SESSION_COOKIE = "code4_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Accounts for a machine in a public place: only what names their role (and `kiosk=True`).
LIMITED = frozenset({Role.KIOSK, Role.DISPLAY})


class NotSignedIn(Exception):
    """A page asked for without a session: the handler sends the browser to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageForbidden(Exception):
    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = roles


async def current_principal(request: Request, accounts: Accounts) -> Principal | None:
    """Who asks (None: nobody signed in), looked up once per request."""
    if hasattr(request.state, "principal"):
        known: Principal | None = request.state.principal  # Starlette's State is untyped
        return known
    principal = None
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        principal = await asyncio.to_thread(accounts.token_principal, authorization[7:].strip())
        if principal is None:
            log.warning("API token refused", security=True, path=request.url.path, remote=_remote(request))
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await asyncio.to_thread(accounts.session_principal, cookie)
    request.state.principal = principal
    return principal


def require(*roles: Role, page: bool = False,
            kiosk: bool = False) -> Callable[[Request, Services], Awaitable[Principal]]:
    """A dependency admitting signed-in users with any of `roles` (any user without roles). An
    account that is only a kiosk or a wall display (it stands in an entrance hall, signed in all
    day) gets only what names its role, or says `kiosk=True` (signing out, the start page)."""

    async def dependency(request: Request, services: ServicesDep) -> Principal:
        principal = await current_principal(request, services.accounts)
        if principal is None:
            if page:
                raise NotSignedIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            raise HTTPException(401, "sign in first: a session cookie or 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})
        limited = bool(principal.roles) and principal.roles <= LIMITED
        if (roles and not principal.has(*roles)) or (not roles and not kiosk and limited):
            log.warning("access refused: role missing", security=True, user=principal.username,
                        path=request.url.path, needs=[str(role) for role in roles])
            if page:
                raise PageForbidden(roles)
            raise HTTPException(403, f"this needs the role {' or '.join(roles or ('other than kiosk or display',))}")
        if request.method not in SAFE_METHODS and principal.csrf_token is not None:
            await check_csrf(request, principal.csrf_token)
        return principal

    return dependency


async def check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get("x-csrf-token")
    if given is None and is_form(request):
        given = (await form_fields(request)).get("csrf_token")
    if not given or not same_secret(given, expected):
        log.warning("request refused: CSRF token missing or wrong", security=True, path=request.url.path,
                    remote=_remote(request))
        raise HTTPException(403, "CSRF token missing or wrong: reload the page")


def login_redirect(next_path: str) -> str:
    return f"/login?next={quote(next_path)}"


def safe_next(value: str | None) -> str:
    """Only paths on this site: never `//evil.example` or `https://…`."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def same_secret(a: str, b: str) -> bool:
    """In constant time, for any text (`secrets.compare_digest` raises on non-ASCII strings)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None

"""Who reads the wall: a display account (role `display`) by its API token — given once in the
URL, then kept in an HttpOnly cookie that only the wall's routes read — and the control room.
A display account opens nothing else (gateway/identity/auth.py `LIMITED`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import Request

from gateway.deps import Services, ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role

DISPLAY_COOKIE = "code4_display"
WALL = (Role.DISPLAY, Role.OPERATOR)
MAX_TOKEN = 200  # ours are 46 characters: anything much longer is not one


async def display_token(services: Services, token: str | None) -> Principal | None:
    """The display account a token belongs to; None for any other token, revoked or expired."""
    if not token or len(token) > MAX_TOKEN:
        return None
    principal = await asyncio.to_thread(services.accounts.token_principal, token)
    return principal if principal is not None and principal.has(Role.DISPLAY) else None


def wall_reader(*, page: bool = False) -> Callable[[Request, Services], Awaitable[Principal]]:
    """The display cookie first (unless the request names itself with a bearer token), then a
    session or token with a role of WALL."""
    fallback = require(*WALL, page=page)

    async def dependency(request: Request, services: ServicesDep) -> Principal:
        if "authorization" not in request.headers:
            found = await display_token(services, request.cookies.get(DISPLAY_COOKIE))
            if found is not None:
                return found
        return await fallback(request, services)

    return dependency

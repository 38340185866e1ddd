"""Who is signed in (`/api/me`, anyone), and the users and their API tokens (admins)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from gateway.deps import Services, ServicesDep
from gateway.identity.accounts import AccountError, Principal, token_lifetime
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.web.i18n import Language
from gateway.web.params import Id

router = APIRouter(prefix="/api", tags=["users"])


class Me(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    person_id: str | None
    language: str
    csrf_token: str | None


class UserIn(BaseModel):
    username: str
    password: str
    roles: list[Role]
    display_name: str | None = None
    person_id: str | None = None
    language: Language = "nl"


class UserPatch(BaseModel):
    roles: list[Role] | None = Field(None, min_length=1)
    active: bool | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[Role]
    person_id: str | None
    active: bool
    last_login_at: datetime | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in: str | int | None = Field(None, description="how long it lasts, like '90d', '12h' or seconds; "
                                                           "leave out for a token that lasts until revoked")


class TokenView(BaseModel):
    """A token as an admin sees it: never the token itself."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool = Field(description="neither revoked nor expired")


class TokenOut(TokenView):
    token: str = Field(description="shown once; store it now")


@router.get("/me", response_model=Me)
async def me(principal: Principal = Depends(require())) -> Me:
    return Me(username=principal.username, display_name=principal.display_name, roles=sorted(principal.roles),
              person_id=principal.person_id, language=principal.language, csrf_token=principal.csrf_token)


@router.get("/users", response_model=list[UserOut])
async def users(services: ServicesDep, _: Principal = Depends(require(Role.ADMIN))) -> list[UserOut]:
    return await _users(services)


@router.post("/users", response_model=UserOut, status_code=201)
async def add_user(body: UserIn, services: ServicesDep, _: Principal = Depends(require(Role.ADMIN))) -> UserOut:
    try:
        await asyncio.to_thread(services.accounts.add_user, body.username, body.password, body.roles,
                                display_name=body.display_name, person_id=body.person_id, language=body.language)
    except AccountError as exc:
        raise HTTPException(422, str(exc)) from None
    return next(o for o in await _users(services) if o.username == body.username.strip().lower())


@router.patch("/users/{user_id}", response_model=UserOut)
async def patch_user(user_id: Id, body: UserPatch, services: ServicesDep,
                     principal: Principal = Depends(require(Role.ADMIN))) -> UserOut:
    if user_id == principal.user_id and (body.active is False or (body.roles and Role.ADMIN not in body.roles)):
        raise HTTPException(409, "you cannot lock yourself out; ask another admin")
    try:
        await asyncio.to_thread(services.accounts.update_user, user_id, roles=body.roles, active=body.active)
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None
    return next(o for o in await _users(services) if o.id == user_id)


@router.get("/users/{user_id}/tokens", response_model=list[TokenView])
async def tokens(user_id: Id, services: ServicesDep, _: Principal = Depends(require(Role.ADMIN))) -> list[TokenView]:
    """The user's API tokens with their ids, oldest first, ended ones too."""
    return await _tokens(services, user_id)


@router.post("/users/{user_id}/tokens", response_model=TokenOut, status_code=201)
async def add_token(user_id: Id, body: TokenIn, services: ServicesDep,
                    _: Principal = Depends(require(Role.ADMIN))) -> TokenOut:
    """A new token, shown once. A new password or disabling the user ends all their tokens."""
    try:
        lifetime = None if body.expires_in is None else token_lifetime(body.expires_in)
    except AccountError as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        token_id, token = await asyncio.to_thread(services.accounts.create_token, user_id, body.name,
                                                  expires_in=lifetime)
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None
    made = next(t for t in await _tokens(services, user_id) if t.id == token_id)
    return TokenOut(**made.model_dump(), token=token)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: Id, services: ServicesDep, _: Principal = Depends(require(Role.ADMIN))) -> None:
    if not await asyncio.to_thread(services.accounts.revoke_token, token_id):
        raise HTTPException(404, f"no active token {token_id}")


async def _users(services: Services) -> list[UserOut]:
    return [UserOut(id=u.id, username=u.username, display_name=u.display_name, roles=[Role(r) for r in u.roles],
                    person_id=u.person_id, active=u.active, last_login_at=u.last_login_at)
            for u in await asyncio.to_thread(services.accounts.users)]


async def _tokens(services: Services, user_id: int) -> list[TokenView]:
    try:
        records = await asyncio.to_thread(services.accounts.tokens, user_id)
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None
    now = services.clock.now()
    return [TokenView(id=t.id, name=t.name, created_at=t.created_at, last_used_at=t.last_used_at,
                      expires_at=t.expires_at, revoked_at=t.revoked_at,
                      active=t.revoked_at is None and (t.expires_at is None or t.expires_at > now))
            for t in records]

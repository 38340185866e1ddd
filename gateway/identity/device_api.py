"""An admin's view of the responder app's device sign-ins: list a user's, revoke one (a lost
phone). Revoking also stops the pushes to that device."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from gateway.deps import ServicesDep
from gateway.identity.accounts import Principal
from gateway.identity.auth import require
from gateway.identity.roles import Role
from gateway.web.params import Id

log = structlog.get_logger("code4.identity")
router = APIRouter(prefix="/api", tags=["users"])


class DeviceOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@router.get("/users/{user_id}/devices", response_model=list[DeviceOut])
async def devices(user_id: Id, services: ServicesDep, _: Principal = Depends(require(Role.ADMIN))) -> list[DeviceOut]:
    """The user's app sign-ins, oldest first, revoked ones too."""
    found = await asyncio.to_thread(services.device_sessions.of_user, user_id)
    return [DeviceOut(id=d.id, name=d.name, created_at=d.created_at, last_used_at=d.last_used_at, revoked=d.revoked)
            for d in found]


@router.delete("/devices/{device_id}", status_code=204)
async def revoke_device(device_id: Id, services: ServicesDep,
                        principal: Principal = Depends(require(Role.ADMIN))) -> None:
    """Sign a phone out of the app (lost, handed in): it must sign in again, and gets no pushes."""
    if not await asyncio.to_thread(services.device_sessions.revoke, device_id):
        raise HTTPException(404, f"no active device sign-in {device_id}")
    log.info("device sign-in revoked by an admin", admin=principal.username, device=device_id)

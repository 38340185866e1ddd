"""Long-lived sign-ins of the responder app on a phone (/app): signed in once, until the user
(on the app's page) or an admin revokes it, the password changes or the account is disabled.
The cookie is random and only its SHA-256 is stored; it is sent only to /app."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from dispatcher.store.repository import Store
from dispatcher.store.schema import DeviceSession, User
from gateway.identity.accounts import Principal, _changed, _digest, _principal

DEVICE_COOKIE = "code4_device"
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest a browser keeps a cookie; renewed on each use of the app


@dataclass(frozen=True)
class DeviceSignIn:
    principal: Principal
    session_id: int


@dataclass(frozen=True)
class DeviceView:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class DeviceSessions:
    def __init__(self, store: Store, *, now: Callable[[], datetime],
                 on_revoke: Callable[[int], None] = lambda _id: None) -> None:
        self._store = store
        self._now = now
        self._on_revoke = on_revoke  # the device's push subscriptions go with it

    def open(self, principal: Principal, name: str) -> str:
        """A new device sign-in; returns the cookie value (shown to nobody, stored as a hash)."""
        cookie = secrets.token_urlsafe(32)
        with self._store.session() as session:
            session.add(DeviceSession(user_id=principal.user_id, token_hash=_digest(cookie),
                                      csrf_token=secrets.token_urlsafe(32), name=name[:100] or "app",
                                      created_at=self._now()))
        return cookie

    def principal(self, cookie: str) -> DeviceSignIn | None:
        with self._store.session() as session:
            found = session.execute(
                select(DeviceSession, User).join(User, User.id == DeviceSession.user_id)
                .where(DeviceSession.token_hash == _digest(cookie), DeviceSession.revoked_at.is_(None))
            ).first()
            if found is None or not found[1].active:
                return None
            record, user = found
            record.last_used_at = self._now()
            return DeviceSignIn(_principal(user, record.csrf_token), record.id)

    def of_user(self, user_id: int) -> list[DeviceView]:
        with self._store.session() as session:
            rows = session.scalars(select(DeviceSession).where(DeviceSession.user_id == user_id)
                                   .order_by(DeviceSession.id))
            return [DeviceView(r.id, r.name, r.created_at, r.last_used_at, r.revoked_at is not None) for r in rows]

    def revoke(self, session_id: int, *, user_id: int | None = None) -> bool:
        """Ends a device sign-in (only the user's own when `user_id` is given); False: none such."""
        query = update(DeviceSession).where(DeviceSession.id == session_id, DeviceSession.revoked_at.is_(None))
        if user_id is not None:
            query = query.where(DeviceSession.user_id == user_id)
        with self._store.session() as session:
            revoked = bool(_changed(session.execute(query.values(revoked_at=self._now()))))
        if revoked:
            self._on_revoke(session_id)
        return revoked

    def revoke_all(self, user_id: int) -> None:
        for device in self.of_user(user_id):
            if not device.revoked:
                self.revoke(device.id)

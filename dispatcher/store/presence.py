"""Presence sign-ins in the database (the rules: dispatcher/presence.py).

Written by whichever instance the person or kiosk uses (not fenced: a sign-in is a fact about
a person, not a decision about an alarm); every instance reads them into its `PresenceBook`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select

from dispatcher.presence import SignedIn
from dispatcher.store.repository import Store
from dispatcher.store.schema import PresenceRecord


class PresenceStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def sign_in(self, person_id: str, site_id: str, *, via: str, now: datetime, expires_at: datetime) -> SignedIn:
        """Present from now until `expires_at`; signing in again starts the time again."""
        with self._store.session() as session:
            row = session.get(PresenceRecord, (person_id, site_id))
            if row is None:
                row = PresenceRecord(person_id=person_id, site_id=site_id, since=now, expires_at=expires_at, via=via)
                session.add(row)
            else:
                row.since, row.expires_at, row.via = now, expires_at, via
            session.flush()
            return _signed_in(row)

    def sign_out(self, person_id: str, site_id: str) -> bool:
        with self._store.session() as session:
            result = cast(CursorResult[Any], session.execute(delete(PresenceRecord).where(
                PresenceRecord.person_id == person_id, PresenceRecord.site_id == site_id)))
            return bool(result.rowcount)

    def current(self, now: datetime) -> list[SignedIn]:
        with self._store.session() as session:
            rows = session.scalars(select(PresenceRecord).where(PresenceRecord.expires_at > now))
            return [_signed_in(row) for row in rows]

    def delete_expired(self, now: datetime) -> int:
        """No history of who was where is kept beyond the sign-in itself."""
        with self._store.session() as session:
            result = cast(CursorResult[Any], session.execute(
                delete(PresenceRecord).where(PresenceRecord.expires_at <= now)))
            return int(result.rowcount or 0)


def _signed_in(row: PresenceRecord) -> SignedIn:
    return SignedIn(row.person_id, row.site_id, row.since, row.expires_at, row.via)

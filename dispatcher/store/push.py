"""Push subscriptions per person and device (escalation/push), and who has one, kept in memory
for planning (which may not wait on the database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select, update

from dispatcher.store.repository import Store
from dispatcher.store.schema import PushSubscription
from escalation.push.subscriptions import Subscription

MAX_PER_PERSON = 10  # phones and browsers; an eleventh replaces the oldest


class PushSubscriptionStore:
    def __init__(self, store: Store, *, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self._people: frozenset[str] = frozenset()

    def people(self) -> frozenset[str]:
        """Who has at least one subscription that works, as last read or changed here."""
        return self._people

    def refresh(self) -> None:
        with self._store.session() as session:
            found = session.scalars(select(PushSubscription.person_id).where(PushSubscription.gone_at.is_(None)))
            self._people = frozenset(found)

    def subscribe(self, person_id: str, device_session_id: int | None, endpoint: str, p256dh: str, auth: str) -> None:
        """This device's subscription (the browser may hand out a new one at any time)."""
        with self._store.session() as session:
            session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
            if device_session_id is not None:
                session.execute(delete(PushSubscription).where(PushSubscription.device_session_id == device_session_id))
            ids = list(session.scalars(select(PushSubscription.id).where(PushSubscription.person_id == person_id)
                                       .order_by(PushSubscription.id.desc())))
            if len(ids) >= MAX_PER_PERSON:
                session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids[MAX_PER_PERSON - 1:])))
            session.add(PushSubscription(person_id=person_id, device_session_id=device_session_id, endpoint=endpoint,
                                         p256dh=p256dh, auth=auth, created_at=self._now()))
        self.refresh()

    def active_for(self, person_id: str) -> list[Subscription]:
        with self._store.session() as session:
            rows = session.scalars(select(PushSubscription).where(PushSubscription.person_id == person_id,
                                                                  PushSubscription.gone_at.is_(None)))
            return [Subscription(r.id, r.person_id, r.endpoint, r.p256dh, r.auth) for r in rows]

    def mark_gone(self, subscription_id: int) -> None:
        """The push service no longer knows it: not used again, and the person is told in the app."""
        with self._store.session() as session:
            session.execute(update(PushSubscription).where(PushSubscription.id == subscription_id)
                            .values(gone_at=self._now()))
        self.refresh()

    def take_lapsed(self, person_id: str) -> int:
        """How many of the person's subscriptions expired since they were last told (and forget them)."""
        with self._store.session() as session:
            gone = session.execute(delete(PushSubscription).where(PushSubscription.person_id == person_id,
                                                                  PushSubscription.gone_at.is_not(None)))
            return int(getattr(gone, "rowcount", 0) or 0)

    def has_device(self, device_session_id: int) -> bool:
        with self._store.session() as session:
            return session.scalar(select(PushSubscription.id).where(
                PushSubscription.device_session_id == device_session_id,
                PushSubscription.gone_at.is_(None))) is not None

    def forget_device(self, device_session_id: int) -> None:
        """A revoked device gets no more pushes."""
        with self._store.session() as session:
            session.execute(delete(PushSubscription).where(PushSubscription.device_session_id == device_session_id))
        self.refresh()

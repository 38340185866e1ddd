"""Agreed approaches for known visitors in the database (the rules: dispatcher/approaches.py).

Written by whichever instance a coordinator uses (not fenced: no alarm depends on who writes
them); every instance reads them into its `ApproachBook`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update

from dispatcher.approaches import KEEP_AFTER_END, Approach, ApproachPlace
from dispatcher.store.repository import Store
from dispatcher.store.schema import ApproachAgreement

ERASED = "–"


class ApproachStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, *, place: ApproachPlace, starts_at: datetime, ends_at: datetime, visitor: str, note: str,
            made_by: str, now: datetime) -> Approach:
        with self._store.session() as session:
            row = ApproachAgreement(
                site_id=place.site_id, location_id=place.location_id, zone_id=place.zone_id, place_name=place.name,
                starts_at=starts_at, ends_at=ends_at, visitor=visitor, note=note, made_by=made_by, made_at=now)
            session.add(row)
            session.flush()
            return _approach(row)

    def not_over(self, now: datetime) -> list[Approach]:
        """What may still apply: not ended by hand, window not yet over (future ones too)."""
        with self._store.session() as session:
            rows = session.scalars(select(ApproachAgreement).where(
                ApproachAgreement.ends_at > now, ApproachAgreement.ended_at.is_(None),
                ApproachAgreement.erased_at.is_(None)).order_by(ApproachAgreement.starts_at, ApproachAgreement.id))
            return [_approach(row) for row in rows]

    def recent(self, now: datetime, limit: int = 100) -> list[Approach]:
        """Those over (ended or past) and not yet erased, newest first: for the coordinator's page."""
        with self._store.session() as session:
            rows = session.scalars(select(ApproachAgreement).where(
                or_(ApproachAgreement.ends_at <= now, ApproachAgreement.ended_at.is_not(None)),
                ApproachAgreement.erased_at.is_(None)).order_by(ApproachAgreement.ends_at.desc()).limit(limit))
            return [_approach(row) for row in rows]

    def end(self, approach_id: int, *, by: str, now: datetime) -> Approach | None:
        """End an agreement now; None when there is no such agreement still running or to come."""
        with self._store.session() as session:
            row = session.get(ApproachAgreement, approach_id)
            if row is None or row.ended_at is not None or row.ends_at <= now or row.erased_at is not None:
                return None
            row.ended_at, row.ended_by = now, by
            return _approach(row)

    def erase_old(self, now: datetime) -> int:
        """The visitor reference and the note of agreements over for a week: erased. The rest
        (place, window, who made and ended it) stays, so what was agreed can still be counted."""
        horizon = now - KEEP_AFTER_END
        with self._store.session() as session:
            result = cast(CursorResult[Any], session.execute(update(ApproachAgreement).where(
                ApproachAgreement.erased_at.is_(None),
                or_(ApproachAgreement.ends_at <= horizon, ApproachAgreement.ended_at <= horizon),
            ).values(visitor=ERASED, note=ERASED, erased_at=now)))  # an UPDATE's result: it has a rowcount
            return int(result.rowcount or 0)


def _approach(row: ApproachAgreement) -> Approach:
    return Approach(
        id=row.id, place=ApproachPlace(row.site_id, row.location_id, row.zone_id, row.place_name),
        starts_at=row.starts_at, ends_at=row.ends_at, visitor=row.visitor, note=row.note, made_by=row.made_by,
        made_at=row.made_at, ended_at=row.ended_at, ended_by=row.ended_by)

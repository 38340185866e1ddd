"""Agreed approaches for known visitors ("Afspraak bekende bezoeker").

The Leidraad BHV-ers asks to gather background before approaching, and to pass agreements
about known clients with psychiatric problems (an approach agreed with GGZ) to reception and
BHV. The coordinator flags a room (or a zone) and a time window with a short visitor reference
and the approach note; an alarm raised from that place in that window carries the note to the
responders' pages and the board.

The rules here are pure: which agreement covers an alarm's place at a time. `ApproachBook`
keeps the current agreements in memory, so raising an alarm never waits for the database; it
is refreshed when an agreement changes and every few seconds (another instance may have
changed one), from `dispatcher/store/approaches.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from dispatcher.mirror import Mirror
from escalation.directory import Directory, UnknownReference
from escalation.plan import Where

log = structlog.get_logger("code4.approaches")

MAX_NOTE = 300  # a pager line or two: the agreed approach, not a case file
MAX_VISITOR = 60  # a reference the reception recognises ("client 14:00 ma", initials), not personal data
MAX_WINDOW = timedelta(days=14)  # an appointment, or a series of days; not a standing order
KEEP_AFTER_END = timedelta(days=7)  # then the visitor reference and the note are erased


class InvalidApproach(ValueError):
    """What was asked for cannot be an agreement; the message says why (in English, for the API)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ApproachPlace:
    """A location (site and location id) or a whole zone (site and zone id)."""

    site_id: str
    location_id: str | None
    zone_id: str | None
    name: str  # as the agreement file names it, for the pages

    @property
    def ref(self) -> str:
        return f"{self.site_id}/{self.location_id or self.zone_id}"

    def covers(self, where: Where) -> bool:
        if where.site_id != self.site_id:
            return False
        if self.location_id is not None:
            return where.location_id == self.location_id
        return self.zone_id is not None and where.zone_id == self.zone_id


@dataclass(frozen=True)
class Approach:
    id: int
    place: ApproachPlace
    starts_at: datetime  # UTC, inclusive
    ends_at: datetime  # UTC, exclusive
    visitor: str
    note: str
    made_by: str
    made_at: datetime
    ended_at: datetime | None = None  # ended early by hand
    ended_by: str | None = None

    def active(self, at: datetime) -> bool:
        """In its window and not ended by hand before `at`."""
        if self.ended_at is not None and self.ended_at <= at:
            return False
        return self.starts_at <= at < self.ends_at

    def applies(self, where: Where, at: datetime) -> bool:
        return self.active(at) and self.place.covers(where)


def approach_for(approaches: Iterable[Approach], where: Where, at: datetime) -> Approach | None:
    """The agreement an alarm at `where` and `at` carries: of those that apply, one for the exact
    location before one for its whole zone, then the one that started last (the appointment
    going on now), then the one made last."""
    found = [a for a in approaches if a.applies(where, at)]
    if not found:
        return None
    return max(found, key=lambda a: (a.place.location_id is not None, a.starts_at, a.made_at, a.id))


def parse_place(directory: Directory, ref: str) -> ApproachPlace:
    """A location (`site/location`, or a location id unique across sites) or a zone
    (`site/zone`, or a zone id unique across sites) of the agreement file."""
    ref = ref.strip()
    if not ref or len(ref) > 130:
        raise InvalidApproach("place", "name a location or zone of the agreement file, like stadhuis/spreekkamer-a")
    problems = []
    try:
        place = directory.location(ref)
        if place.site is not None:
            return ApproachPlace(place.site.id, place.location_id, None, place.describe())
    except UnknownReference as exc:
        problems.append(exc.message)
    try:
        site, zone = directory.zone(ref)
        return ApproachPlace(site.id, None, zone.id, f"{zone.name}, {site.name}")
    except UnknownReference as exc:
        problems.append(exc.message)
    ambiguous = [p for p in problems if "several sites" in p]
    raise InvalidApproach("place", ambiguous[0] if ambiguous else f"no location or zone {ref!r} in the agreement file")


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidApproach("starts_at", "times need a time zone")
    if ends_at <= starts_at:
        raise InvalidApproach("ends_at", "the end must come after the start")
    if ends_at <= now:
        raise InvalidApproach("ends_at", "this window has already ended")
    if ends_at - starts_at > MAX_WINDOW:
        raise InvalidApproach("ends_at", f"a window lasts at most {MAX_WINDOW.days} days")


def check_text(field: str, value: str, limit: int) -> str:
    value = " ".join(value.split())  # one line: it goes onto a pager
    if not value:
        raise InvalidApproach(field, "must not be empty")
    if len(value) > limit:
        raise InvalidApproach(field, f"at most {limit} characters")
    return value


class ApproachBook(Mirror[Approach]):
    """The current agreements in memory: what `_open_alarm` asks, without waiting."""

    def __init__(self, *, load: Callable[[datetime], Sequence[Approach]],
                 housekeeping: Callable[[datetime], int] | None = None,
                 now: Callable[[], datetime]) -> None:
        super().__init__(what="approach agreements", load=load, housekeeping=housekeeping, now=now, log=log)

    def note_for(self, where: Where, at: datetime) -> str | None:
        found = approach_for(self._current, where, at)
        if found is not None:
            log.info("alarm carries the agreed approach for a known visitor", approach_id=found.id,
                     place=found.place.ref)
        return found.note if found else None

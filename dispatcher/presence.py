"""Presence: who is in the building, so a step with `present: true` pages only them (README,
"Presence").

A person is present at a site when they signed in there (the responder app's "Ik ben er", the
API, or the kiosk at the entrance) and the sign-in has not lapsed (`presence_expires`, so a
forgotten sign-out does not leave someone present for ever), or, where the site's
`presence: {pagers_count: true}` says so, when their responder pager is online and they work in
one of the site's zones.

The rules here are pure. `PresenceBook` keeps the sign-ins in memory, so raising an alarm never
waits for the database; it is read again after every change and every few seconds (another
instance may have changed one), from `dispatcher/store/presence.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from devices.supervision import OFFLINE, SILENT
from dispatcher.devicewatch import DeviceFacts
from dispatcher.mirror import Mirror
from escalation.directory import Directory
from escalation.model import Person
from escalation.planning import Presence

log = structlog.get_logger("code4.presence")

VIA = ("app", "kiosk")  # how a sign-in was made; an online pager shows as "pager"


class InvalidPresence(ValueError):
    """A sign-in that cannot be: an unknown site or person (the message says which)."""


@dataclass(frozen=True)
class SignedIn:
    person_id: str
    site_id: str
    since: datetime
    expires_at: datetime
    via: str

    def holds(self, at: datetime) -> bool:
        return self.since <= at < self.expires_at


@dataclass(frozen=True)
class PresentEntry:
    """One person present at one site, for the board and the kiosk."""

    person_id: str
    site_id: str
    via: str  # app, kiosk or pager
    since: datetime | None = None
    expires_at: datetime | None = None


def works_at(directory: Directory, person: Person, site_id: str) -> bool:
    """The person works in one of the site's zones (the kiosk lists them; their pager counts)."""
    return any(key.split("/", 1)[0] == site_id for key in directory.person_zone_keys(person))


def pager_entries(directory: Directory, online: Callable[[str], bool]) -> list[PresentEntry]:
    """People whose responder pager is online, at the sites that count pagers and where they work."""
    counting = [s.id for s in directory.org.sites if s.presence.pagers_count]
    if not counting:
        return []
    found: list[PresentEntry] = []
    for device in directory.org.devices:
        person = directory.people.get(device.person or "")
        if device.type != "responder_pager" or person is None or not online(device.id):
            continue
        found += [PresentEntry(person.id, site, "pager") for site in counting if works_at(directory, person, site)]
    return found


def entries_at(signed_in: Iterable[SignedIn], pagers: Iterable[PresentEntry], at: datetime) -> list[PresentEntry]:
    """Everyone present at `at`: sign-ins that hold, then pagers for those not signed in there."""
    found = {(s.person_id, s.site_id): PresentEntry(s.person_id, s.site_id, s.via, s.since, s.expires_at)
             for s in signed_in if s.holds(at)}
    for entry in pagers:
        found.setdefault((entry.person_id, entry.site_id), entry)
    return sorted(found.values(), key=lambda e: (e.site_id, e.person_id))


def short_name(name: str) -> str:
    """What a kiosk in the hall shows: a first name and the last name's initial ("Jan V.")."""
    parts = name.split()
    if len(parts) < 2:
        return name[:20]
    return f"{parts[0][:20]} {parts[-1][0].upper()}."


class PresenceBook(Mirror[SignedIn]):
    """The sign-ins in memory: what `_open_alarm` asks, without waiting."""

    def __init__(self, *, load: Callable[[datetime], Sequence[SignedIn]],
                 housekeeping: Callable[[datetime], int] | None = None,
                 now: Callable[[], datetime], directory: Callable[[], Directory],
                 pager_online: Callable[[str], bool] = lambda _: False) -> None:
        super().__init__(what="presence sign-ins", load=load, housekeeping=housekeeping, now=now, log=log)
        self._directory = directory
        self._pager_online = pager_online

    def entries(self, at: datetime) -> list[PresentEntry]:
        return entries_at(self._current, pager_entries(self._directory(), self._pager_online), at)

    def present(self, at: datetime) -> Presence:
        """(person, site) pairs present at `at`: the data planning takes."""
        return frozenset((e.person_id, e.site_id) for e in self.entries(at))


def pager_online(facts: Callable[[], Mapping[str, DeviceFacts]]) -> Callable[[str], bool]:
    """From device watch: online by its own status, and not silent or offline by supervision."""

    def online(device_id: str) -> bool:
        found = facts().get(device_id)
        return (found is not None and found.online is True
                and OFFLINE not in found.faults and SILENT not in found.faults)

    return online

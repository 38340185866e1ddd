"""Indexed lookups over an `Organisation`: places, people, devices, rosters.

References in the file may be qualified ("stadhuis/balie-1") or bare ("balie-1") when the
bare id is unique in the organisation. A lookup that fails raises `UnknownReference` with a
message fit to show the author.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from escalation.ids import RecipientKey, RecipientKind
from escalation.model import Agreement, Contact, Device, Organisation, Person, Site, Zone

T = TypeVar("T")


class UnknownReference(LookupError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Place:
    """Where an alarm happens, as far as it is known."""

    site: Site | None = None
    zone: Zone | None = None
    location_id: str | None = None
    location_name: str | None = None
    location_gathering_point: str | None = None

    @property
    def key(self) -> str:
        if self.site and self.location_id:
            return f"{self.site.id}/{self.location_id}"
        if self.site and self.zone:
            return f"{self.site.id}/{self.zone.id}"
        return "-"

    @property
    def gathering_point(self) -> str | None:
        if self.location_gathering_point:
            return self.location_gathering_point
        return self.zone.gathering_point if self.zone else None

    def describe(self) -> str:
        parts = [p for p in (
            self.location_name,
            self.zone.name if self.zone else None,
            self.site.name if self.site else None,
        ) if p]
        return ", ".join(parts)


class Directory:
    """Read-only indexes built once per loaded file."""

    def __init__(self, organisation: Organisation,
                 push_people: Callable[[], frozenset[str]] = frozenset) -> None:
        self.org = organisation
        # Who has a push subscription now: kept in memory by the service, asked while planning.
        self.push_people = push_people
        self.sites = {s.id: s for s in organisation.sites}
        self.people = {p.id: p for p in organisation.people}
        self.contacts = {c.id: c for c in organisation.contacts}
        self.devices = {d.id: d for d in organisation.devices}
        self.agreements = {a.id: a for a in organisation.agreements}

    # ---- places -------------------------------------------------------------------------

    @cached_property
    def _zones(self) -> dict[str, list[tuple[Site, Zone]]]:
        index: dict[str, list[tuple[Site, Zone]]] = defaultdict(list)
        for site in self.org.sites:
            for zone in site.zones:
                index[zone.id].append((site, zone))
                index[f"{site.id}/{zone.id}"].append((site, zone))
        return index

    @cached_property
    def _locations(self) -> dict[str, list[Place]]:
        index: dict[str, list[Place]] = defaultdict(list)
        for site in self.org.sites:
            for zone in site.zones:
                for loc in zone.locations:
                    place = Place(site, zone, loc.id, loc.name, loc.gathering_point)
                    index[loc.id].append(place)
                    index[f"{site.id}/{loc.id}"].append(place)
        return index

    def all_places(self) -> list[Place]:
        """Every location of every site, in file order."""
        return [
            Place(site, zone, loc.id, loc.name, loc.gathering_point)
            for site in self.org.sites for zone in site.zones for loc in zone.locations
        ]

    def place_names(self) -> frozenset[str]:
        """Every site, zone and location as an alarm's place describes it ("Balie 1, Publiekshal,
        Stadhuis"): the names the agreement file gives, never typed text."""
        return frozenset(place.describe() for site in self.org.sites for place in (
            Place(site), *(Place(site, zone) for zone in site.zones),
            *(Place(site, zone, loc.id, loc.name) for zone in site.zones for loc in zone.locations)))

    def zone(self, ref: str) -> tuple[Site, Zone]:
        return self._unique(self._zones.get(ref, []), ref, "zone", "site/zone")

    def location(self, ref: str) -> Place:
        return self._unique(self._locations.get(ref, []), ref, "location", "site/location")

    def zone_place(self, ref: str) -> Place:
        site, zone = self.zone(ref)
        return Place(site, zone)

    @staticmethod
    def _unique(found: list[T], ref: str, what: str, qualified: str) -> T:
        if not found:
            raise UnknownReference(f"unknown {what} {ref!r}")
        if len(found) > 1:
            raise UnknownReference(f"{what} {ref!r} exists on several sites; write it as {qualified}")
        return found[0]

    # ---- people and devices ---------------------------------------------------------------

    def phone(self, recipient: str) -> str | None:
        """The phone number of a recipient key ("person:jan", "contact:politie"), as the file says now."""
        try:
            key = RecipientKey.parse(recipient)
        except ValueError:
            return None
        found = self.people.get(key.id) if key.kind is RecipientKind.PERSON else self.contacts.get(key.id)
        return found.phone if found is not None and found.phone else None

    def alarm_centre(self, recipient: str) -> Contact | None:
        """The alarm-centre contact of a recipient key ("contact:pac"), as the file says now."""
        try:
            key = RecipientKey.parse(recipient)
        except ValueError:
            return None
        found = self.contacts.get(key.id) if key.kind is RecipientKind.CONTACT else None
        return found if found is not None and found.alarm_centre is not None else None

    def recipient_for_phone(self, phone: str) -> RecipientKey | None:
        """The recipient key whose number this is (an answering phone), or None."""
        return self._phones.get(phone)

    @cached_property
    def _phones(self) -> dict[str, RecipientKey]:
        found: dict[str, RecipientKey] = {}
        for contact in self.org.contacts:
            if contact.phone:
                found.setdefault(contact.phone, RecipientKey.contact(contact.id))
        for person in self.org.people:  # a person's own number wins over a shared contact line
            if person.phone:
                found[person.phone] = RecipientKey.person(person.id)
        return found

    def person(self, ref: str) -> Person:
        return _lookup(self.people, ref, "person")

    def contact(self, ref: str) -> Contact:
        return _lookup(self.contacts, ref, "contact")

    def device(self, ref: str) -> Device:
        return _lookup(self.devices, ref, "device")

    def agreement(self, ref: str) -> Agreement:
        return _lookup(self.agreements, ref, "agreement")

    @cached_property
    def pagers_by_person(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for device in self.org.devices:
            if device.type == "responder_pager" and device.person:
                index[device.person].append(device.id)
        return index

    @cached_property
    def teams(self) -> set[str]:
        return {team for p in self.org.people for team in p.teams}

    def leads_of(self, person_id: str) -> list[Person]:
        """The team leads of a person: whoever leads one of their teams."""
        person = self.people.get(person_id)
        if person is None:
            return []
        return [p for p in self.org.people if set(p.leads) & set(person.teams) and p.id != person_id]

    def is_bhv(self, person: Person) -> bool:
        """BHV-trained: may take role 1 (approach) and role 2 (back-up)."""
        return self.org.bhv_role in person.roles

    def led_by(self, lead_id: str) -> set[str]:
        """The ids of the people in the teams this person leads."""
        lead = self.people.get(lead_id)
        if lead is None or not lead.leads:
            return set()
        return {p.id for p in self.org.people if set(p.teams) & set(lead.leads) and p.id != lead_id}

    @cached_property
    def roles(self) -> set[str]:
        return {role for p in self.org.people for role in p.roles} | {d.role for d in self.org.duty if d.role}

    def person_zone_keys(self, person: Person) -> set[str]:
        """The person's zones as 'site/zone' keys."""
        return self._person_zones.get(person.id, set())

    @cached_property
    def _person_zones(self) -> dict[str, set[str]]:
        index: dict[str, set[str]] = {}
        for person in self.org.people:
            keys = set()
            for ref in person.zones:
                try:
                    site, zone = self.zone(ref)
                except UnknownReference:
                    continue  # reported by the reference check
                keys.add(f"{site.id}/{zone.id}")
            index[person.id] = keys
        return index

    @cached_property
    def match_places(self) -> dict[str, tuple[set[str] | None, set[str] | None]]:
        """Per agreement: the 'site/zone' and 'site/location' keys its match names, if any."""
        result: dict[str, tuple[set[str] | None, set[str] | None]] = {}
        for agreement in self.org.agreements:
            zones = agreement.match.zones
            locations = agreement.match.locations
            result[agreement.id] = (
                None if zones is None else {f"{s.id}/{z.id}" for s, z in map(self.zone, zones)},
                None if locations is None else {self.location(ref).key for ref in locations},
            )
        return result


def _lookup(index: dict[str, T], ref: str, what: str) -> T:
    try:
        return index[ref]
    except KeyError:
        raise UnknownReference(f"unknown {what} {ref!r}") from None

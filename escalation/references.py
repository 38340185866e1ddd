"""Every reference in an agreement file must resolve; ids must be unique.

Returns issues rather than raising so that an author sees every problem in one run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from escalation.directory import Directory, UnknownReference
from escalation.loader import Issue, LineMap
from escalation.model import Agreement, AlarmCentre, Contact, Organisation, Step, Target
from escalation.plan import CONTACT_CHANNELS, ChannelKind
from escalation.planning import routes_for_person

Path = tuple[str | int, ...]  # where in the file, e.g. ("people", 3, "zones", 0)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def check_references(org: Organisation, lines: LineMap) -> list[Issue]:
    check = _Check(org, lines)
    check.unique_ids()
    check.resolve(("fallback",), check.directory.agreement, org.fallback)
    check.people()
    check.devices()
    check.duty()
    check.agreements()
    check.alarm_centres()
    return check.issues


class _Check:
    """One run over the file, in the order an author reads it; every problem becomes an issue."""

    def __init__(self, org: Organisation, lines: LineMap) -> None:
        self.org, self.lines = org, lines
        self.directory = Directory(org)
        self.issues: list[Issue] = []

    def add(self, path: Path, message: str, severity: str = "error") -> None:
        self.issues.append(self.lines.issue(path, message, severity))

    def resolve(self, path: Path, lookup: Callable[[str], object], ref: str) -> None:
        try:
            lookup(ref)
        except UnknownReference as exc:
            self.add(path, exc.message)

    def duplicates(self, section: str, ids: Iterable[str], path_of: Mapping[str, Path]) -> None:
        for ident, count in Counter(ids).items():
            if count > 1:
                self.add(path_of[ident], f"{section} id {ident!r} is used {count} times")

    def unique_ids(self) -> None:
        org = self.org
        self.duplicates("site", [s.id for s in org.sites], {s.id: ("sites", i, "id") for i, s in enumerate(org.sites)})
        for si, site in enumerate(org.sites):
            zone_paths = {z.id: ("sites", si, "zones", zi, "id") for zi, z in enumerate(site.zones)}
            self.duplicates("zone", [z.id for z in site.zones], zone_paths)
            loc_paths = {
                loc.id: ("sites", si, "zones", zi, "locations", li, "id")
                for zi, z in enumerate(site.zones) for li, loc in enumerate(z.locations)
            }
            self.duplicates("location", [loc.id for z in site.zones for loc in z.locations], loc_paths)
        sections: tuple[tuple[str, str, Sequence[_HasId]], ...] = (
            ("person", "people", org.people), ("contact", "contacts", org.contacts),
            ("device", "devices", org.devices), ("agreement", "agreements", org.agreements))
        for label, section, items in sections:
            self.duplicates(label, [x.id for x in items], {x.id: (section, i, "id") for i, x in enumerate(items)})

    def people(self) -> None:
        directory = self.directory
        for pi, person in enumerate(self.org.people):
            for zi, ref in enumerate(person.zones):
                self.resolve(("people", pi, "zones", zi), directory.zone, ref)
            for di, ref in enumerate(person.devices):
                path: Path = ("people", pi, "devices", di)
                if ref not in directory.devices:
                    self.add(path, f"unknown device {ref!r}")
                elif (other := directory.devices[ref].person) not in (None, person.id):
                    self.add(path, f"device {ref!r} belongs to {other!r} in devices:")
        for pi, person in enumerate(self.org.people):
            for li, team in enumerate(person.leads):
                if team not in directory.teams:
                    self.add(("people", pi, "leads", li), f"no person is in team {team!r}")
        for pi, person in enumerate(self.org.people):
            if person.leads and not routes_for_person(directory, person, tuple(person.informed_by)):
                self.add(("people", pi, "informed_by"), (
                    f"{person.name} leads {', '.join(person.leads)} but cannot be informed of their alarms: "
                    f"no pager or phone for {', '.join(person.informed_by)}"), "warning")

    def devices(self) -> None:
        directory = self.directory
        for di, device in enumerate(self.org.devices):
            if device.location:
                self.resolve(("devices", di, "location"), directory.location, device.location)
            if device.person:
                self.resolve(("devices", di, "person"), directory.person, device.person)
        for si, site in enumerate(self.org.sites):
            contact = site.technical_contact
            if contact and contact not in directory.people and contact not in directory.contacts:
                self.add(("sites", si, "technical_contact"), f"no person or contact {contact!r}")
        adapted: dict[str, str] = {}
        for ai, adapter in enumerate(self.org.adapters):
            for theirs, ours in adapter.devices.items():
                path: Path = ("adapters", ai, "devices", theirs)
                if ours not in directory.devices:
                    self.add(path, f"unknown device {ours!r}")
                elif ours in adapted:
                    self.add(path, f"device {ours!r} is fed by adapter {adapted[ours]!r} already")
                adapted[ours] = adapter.id

    def duty(self) -> None:
        for ri, rule in enumerate(self.org.duty):
            self.resolve(("duty", ri, "person"), self.directory.person, rule.person)
            if rule.at:
                self.resolve(("duty", ri, "at"), self.directory.location, rule.at)
            person = self.directory.people.get(rule.person)
            if person and rule.role and rule.role not in person.roles:
                self.add(("duty", ri, "role"),
                         f"{person.name} is rostered as {rule.role!r} but does not have that role in people:",
                         "warning")

    def agreements(self) -> None:
        directory = self.directory
        lookups: tuple[tuple[str, Callable[[str], object]], ...] = (
            ("sites", self._site), ("zones", directory.zone), ("locations", directory.location))
        for ai, agreement in enumerate(self.org.agreements):
            for key, lookup in lookups:
                for i, ref in enumerate(getattr(agreement.match, key) or []):
                    self.resolve(("agreements", ai, "match", key, i), lookup, ref)
            for si, step in enumerate(agreement.steps):
                for ti, target in enumerate(step.targets):
                    self.target(("agreements", ai, "steps", si, "targets", ti), agreement, si, target)

    def target(self, path: Path, agreement: Agreement, index: int, target: Target) -> None:
        step = agreement.steps[index]
        if target.person:
            self.resolve((*path, "person"), self.directory.person, target.person)
        if target.contact:
            self.resolve((*path, "contact"), self.directory.contact, target.contact)
            self.contact_channels(path, step, target.contact)
        if target.team and target.team not in self.directory.teams:
            self.add((*path, "team"), f"no person is in team {target.team!r}")
        if target.role and target.role not in self.directory.roles:
            self.add((*path, "role"), f"no person has role {target.role!r}")
        if target.on_duty and not any(r.role == target.role for r in self.org.duty):
            self.add((*path, "on_duty"), f"nobody is ever on duty as {target.role!r}: add duty rules")
        if target.site:
            self.resolve((*path, "site"), self._site, target.site)

    def contact_channels(self, path: Path, step: Step, contact_id: str) -> None:
        contact = self.directory.contacts.get(contact_id)
        kind = contact.kind if contact is not None else "phone"
        if kind == "alarm_centre" and ChannelKind.ALARM_CENTRE not in step.channels:
            self.add((*path, "contact"), f"{contact_id!r} is an alarm centre: step {step.id!r} reaches it only "
                                         f"with channel alarm_centre (then sms or voice for its fallback)")
        elif kind == "phone" and not CONTACT_CHANNELS & set(step.channels):
            self.add((*path, "contact"), f"contact {contact_id!r} can only be reached by sms or voice, "
                                         f"and step {step.id!r} uses {', '.join(step.channels)}")

    def alarm_centres(self) -> None:
        """An alarm centre's settings are checked against the rest of the file; the
        alarm_centre channel reaches only centres."""
        for ci, contact in enumerate(self.org.contacts):
            if contact.alarm_centre is not None:
                self.alarm_centre(ci, contact, contact.alarm_centre)
        for ai, agreement in enumerate(self.org.agreements):
            for si, step in enumerate(agreement.steps):
                kinds = {self.directory.contacts[t.contact].kind for t in step.targets
                         if t.contact and t.contact in self.directory.contacts}
                if ChannelKind.ALARM_CENTRE in step.channels and "alarm_centre" not in kinds:
                    self.add(("agreements", ai, "steps", si, "channels"),
                             f"step {step.id!r} uses alarm_centre but targets no contact of kind alarm_centre")

    def alarm_centre(self, ci: int, contact: Contact, centre: AlarmCentre) -> None:
        """Its key is where code4 runs, its id is no device's, its zones name devices or places,
        its fallback is a phone contact."""
        path: Path = ("contacts", ci, "alarm_centre")
        if centre.key_env and not os.environ.get(centre.key_env):
            self.add((*path, "key_env"), f"the AES key of {contact.id!r} is read from {centre.key_env}, which is "
                                         "not set here: alarms to the centre will go to its fallback until it is",
                     "warning")
        if contact.id in self.directory.devices:  # both would be one row of the device board
            self.add(("contacts", ci, "id"), f"alarm centre {contact.id!r} has the id of a device: its path is a "
                                             f"row of the device board, so give it an id of its own")
        for ref in centre.zones:
            if not self._names_device_or_place(ref):
                self.add((*path, "zones"), f"{ref!r} is no device, site, zone or location")
        if centre.fallback is None:
            return
        fallback = self.directory.contacts.get(centre.fallback)
        if fallback is None:
            self.add((*path, "fallback"), f"no contact {centre.fallback!r}")
        elif fallback.kind != "phone" or not fallback.phone:
            self.add((*path, "fallback"), f"the fallback {centre.fallback!r} must be a contact with a phone number")

    def _names_device_or_place(self, ref: str) -> bool:
        if ref in self.directory.devices or ref in self.directory.sites:
            return True
        for lookup in (self.directory.zone, self.directory.location):
            try:
                lookup(ref)
                return True
            except UnknownReference:
                pass
        return False

    def _site(self, ref: str) -> None:
        if ref not in self.directory.sites:
            raise UnknownReference(f"unknown site {ref!r}")

"""Every reference in an agreement file must resolve; ids must be unique.

Returns issues rather than raising so that an author sees every problem in one run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from escalation.directory import Directory, UnknownReference
from escalation.loader import Issue, LineMap
from escalation.model import Organisation
from escalation.planning import routes_for_person

CONTACT_CHANNELS = {"sms", "voice"}


def check_references(org: Organisation, lines: LineMap) -> list[Issue]:
    directory = Directory(org)
    issues: list[Issue] = []

    def duplicates(section: str, ids: Iterable[str], path_of: dict[str, tuple[str | int, ...]]) -> None:
        for ident, count in Counter(ids).items():
            if count > 1:
                issues.append(lines.issue(path_of[ident], f"{section} id {ident!r} is used {count} times"))

    def resolve(path: tuple[str | int, ...], lookup: object, ref: str) -> None:
        try:
            lookup(ref)  # type: ignore[operator]
        except UnknownReference as exc:
            issues.append(lines.issue(path, exc.message))

    duplicates("site", [s.id for s in org.sites], {s.id: ("sites", i, "id") for i, s in enumerate(org.sites)})
    for si, site in enumerate(org.sites):
        zone_paths = {z.id: ("sites", si, "zones", zi, "id") for zi, z in enumerate(site.zones)}
        duplicates("zone", [z.id for z in site.zones], zone_paths)
        loc_paths = {
            loc.id: ("sites", si, "zones", zi, "locations", li, "id")
            for zi, z in enumerate(site.zones) for li, loc in enumerate(z.locations)
        }
        duplicates("location", [loc.id for z in site.zones for loc in z.locations], loc_paths)
    sections = (("person", "people", org.people), ("contact", "contacts", org.contacts),
                ("device", "devices", org.devices), ("agreement", "agreements", org.agreements))
    for label, section, items in sections:
        duplicates(label, [x.id for x in items],
                   {x.id: (section, i, "id") for i, x in enumerate(items)})

    resolve(("fallback",), directory.agreement, org.fallback)

    for pi, person in enumerate(org.people):
        for zi, ref in enumerate(person.zones):
            resolve(("people", pi, "zones", zi), directory.zone, ref)
        for di, ref in enumerate(person.devices):
            path = ("people", pi, "devices", di)
            if ref not in directory.devices:
                issues.append(lines.issue(path, f"unknown device {ref!r}"))
            elif directory.devices[ref].person not in (None, person.id):
                other = directory.devices[ref].person
                issues.append(lines.issue(path, f"device {ref!r} belongs to {other!r} in devices:"))

    for pi, person in enumerate(org.people):
        for li, team in enumerate(person.leads):
            if team not in directory.teams:
                issues.append(lines.issue(("people", pi, "leads", li), f"no person is in team {team!r}"))

    for pi, person in enumerate(org.people):
        if person.leads and not routes_for_person(directory, person, tuple(person.informed_by)):
            issues.append(lines.issue(("people", pi, "informed_by"), (
                f"{person.name} leads {', '.join(person.leads)} but cannot be informed of their alarms: "
                f"no pager or phone for {', '.join(person.informed_by)}"), "warning"))

    for di, device in enumerate(org.devices):
        if device.location:
            resolve(("devices", di, "location"), directory.location, device.location)
        if device.person:
            resolve(("devices", di, "person"), directory.person, device.person)

    for si, site in enumerate(org.sites):
        contact = site.technical_contact
        if contact and contact not in directory.people and contact not in directory.contacts:
            issues.append(lines.issue(("sites", si, "technical_contact"), f"no person or contact {contact!r}"))

    adapted: dict[str, str] = {}
    for ai, adapter in enumerate(org.adapters):
        for theirs, ours in adapter.devices.items():
            path = ("adapters", ai, "devices", theirs)
            if ours not in directory.devices:
                issues.append(lines.issue(path, f"unknown device {ours!r}"))
            elif ours in adapted:
                issues.append(lines.issue(path, f"device {ours!r} is fed by adapter {adapted[ours]!r} already"))
            adapted[ours] = adapter.id

    for ri, rule in enumerate(org.duty):
        resolve(("duty", ri, "person"), directory.person, rule.person)
        if rule.at:
            resolve(("duty", ri, "at"), directory.location, rule.at)
        person = directory.people.get(rule.person)
        if person and rule.role and rule.role not in person.roles:
            issues.append(lines.issue(
                ("duty", ri, "role"),
                f"{person.name} is rostered as {rule.role!r} but does not have that role in people:",
                "warning",
            ))

    for ai, agreement in enumerate(org.agreements):
        match = agreement.match
        for key, lookup in (("sites", _site_lookup(directory)), ("zones", directory.zone),
                            ("locations", directory.location)):
            for i, ref in enumerate(getattr(match, key) or []):
                resolve(("agreements", ai, "match", key, i), lookup, ref)
        for si, step in enumerate(agreement.steps):
            for ti, target in enumerate(step.targets):
                path = ("agreements", ai, "steps", si, "targets", ti)
                if target.person:
                    resolve((*path, "person"), directory.person, target.person)
                if target.contact:
                    resolve((*path, "contact"), directory.contact, target.contact)
                    if not CONTACT_CHANNELS & set(step.channels):
                        issues.append(lines.issue(
                            (*path, "contact"),
                            f"contact {target.contact!r} can only be reached by sms or voice, "
                            f"and step {step.id!r} uses {', '.join(step.channels)}",
                        ))
                if target.team and target.team not in directory.teams:
                    issues.append(lines.issue((*path, "team"), f"no person is in team {target.team!r}"))
                if target.role and target.role not in directory.roles:
                    issues.append(lines.issue((*path, "role"), f"no person has role {target.role!r}"))
                if target.on_duty and not any(r.role == target.role for r in org.duty):
                    issues.append(lines.issue(
                        (*path, "on_duty"), f"nobody is ever on duty as {target.role!r}: add duty rules"
                    ))
    return issues


def _site_lookup(directory: Directory):  # type: ignore[no-untyped-def]
    def lookup(ref: str) -> None:
        if ref not in directory.sites:
            raise UnknownReference(f"unknown site {ref!r}")
    return lookup

"""From an alarm to a frozen plan: which agreement applies and whom each step reaches.

Pure functions of the organisation and the time: the service calls them once when an alarm
starts, `code4 check` calls them for every location and hour of the week.
"""

from __future__ import annotations

from datetime import datetime

from escalation.directory import Directory, Place, UnknownReference
from escalation.ids import RecipientKey
from escalation.model import Agreement, Contact, Device, Person, Step, Target
from escalation.pins import PinDigests
from escalation.plan import (
    CONTACT_CHANNELS,
    PHONE_CHANNELS,
    AlarmDevice,
    ChannelKind,
    Plan,
    PlanStep,
    Recipient,
    Route,
    StepTarget,
    Where,
)
from escalation.weekly import minute_of_week

Presence = frozenset[tuple[str, str]]
"""Who is present where now: (person id, site id) pairs. Planning is given it as data; None
means not known (`code4 check`): a `present: true` target then counts everyone it names."""


def select_agreement(
    directory: Directory, *, place: Place, device_type: str | None, kind: str, minute: int
) -> tuple[Agreement, bool]:
    """The first agreement in file order that matches, and whether it is the fallback.

    The fallback also counts as the fallback when its own match selected it, so that
    `check` can list the hours where nothing but the fallback stands between a person and help.
    """
    for agreement in directory.org.agreements:
        if _matches(directory, agreement, place, device_type, kind, minute):
            return agreement, agreement.id == directory.org.fallback
    return directory.agreement(directory.org.fallback), True


def _matches(
    directory: Directory, agreement: Agreement, place: Place, device_type: str | None,
    kind: str, minute: int,
) -> bool:
    match = agreement.match
    if match.when is not None and not match.when.contains_minute(minute):
        return False
    if match.device_types is not None and device_type not in match.device_types:
        return False
    if match.kinds is not None and kind not in match.kinds:
        return False
    if match.sites is not None and (place.site is None or place.site.id not in match.sites):
        return False
    zone_keys, location_keys = directory.match_places[agreement.id]
    if zone_keys is not None and (
        place.site is None or place.zone is None or f"{place.site.id}/{place.zone.id}" not in zone_keys
    ):
        return False
    return location_keys is None or (place.location_id is not None and place.key in location_keys)


def on_duty(directory: Directory, person_id: str, role: str, minute: int) -> bool:
    return any(
        rule.person == person_id and rule.role == role and rule.holds_at(minute)
        for rule in directory.org.duty
    )


def people_in_danger(directory: Directory, device: Device | None, place: Place, minute: int) -> list[Person]:
    """Who an alarm from this device is about: a mobile alarm's wearer; for a fixed button, the
    person it belongs to and whoever works at its location now (duty `at`). They are never
    paged for it (a pager going off could give a silent alarm away), and their afdelingshoofd
    is informed."""
    found: list[Person] = []
    if device is not None and device.person and device.person in directory.people:
        found.append(directory.people[device.person])
    if device is not None and device.type == "fixed_button" and place.location_id is not None:
        for rule in directory.org.duty:
            if (rule.at and rule.person in directory.people and rule.at in (place.key, place.location_id)
                    and rule.holds_at(minute)):
                found.append(directory.people[rule.person])
    return list({p.id: p for p in found}.values())


def resolve_target(
    directory: Directory, target: Target, *, place: Place, minute: int, present: Presence | None = None
) -> list[Person] | str:
    """People a target names at this minute, or a contact id."""
    if target.contact:
        return target.contact
    if target.person:
        people = [directory.person(target.person)]
    elif target.team:
        people = [p for p in directory.org.people if target.team in p.teams]
    else:
        assert target.role is not None
        if target.on_duty:
            people = [p for p in directory.org.people if on_duty(directory, p.id, target.role, minute)]
        else:
            people = [p for p in directory.org.people if target.role in p.roles]
    if target.same_zone:
        if place.site is None or place.zone is None:
            return []
        zone_key = f"{place.site.id}/{place.zone.id}"
        people = [p for p in people if zone_key in directory.person_zone_keys(p)]
    if target.present and present is not None:
        site = target.site or (place.site.id if place.site else None)
        people = [p for p in people if site is not None and (p.id, site) in present]
    return people


def routes_for_person(directory: Directory, person: Person, channels: tuple[ChannelKind, ...]) -> tuple[Route, ...]:
    routes: list[Route] = []
    for channel in channels:
        if channel is ChannelKind.PAGER:
            routes.extend(Route(channel, pager) for pager in directory.pagers_by_person.get(person.id, [])[:1])
        elif channel in PHONE_CHANNELS and person.phone:
            # The number is looked up when the message goes (app: the link travels by SMS).
            routes.append(Route(channel, RecipientKey.person(person.id)))
        elif channel is ChannelKind.PUSH and person.id in directory.push_people():
            # Subscribed in the app on at least one device; which ones is looked up when it goes.
            routes.append(Route(channel, RecipientKey.person(person.id)))
    return tuple(routes)


def routes_for_contact(directory: Directory, contact: Contact, channels: tuple[ChannelKind, ...]) -> tuple[Route, ...]:
    """A phone contact's phone routes; an alarm centre's DC-09 route, then the phone routes of
    its `fallback` (the police), which take over when the centre cannot be reached."""
    key = RecipientKey.contact(contact.id)
    if contact.alarm_centre is None:
        return tuple(Route(c, key) for c in channels if c in CONTACT_CHANNELS and contact.phone)
    routes = [Route(ChannelKind.ALARM_CENTRE, key)] if ChannelKind.ALARM_CENTRE in channels else []
    fallback = directory.contacts.get(contact.alarm_centre.fallback or "")
    if fallback is not None and fallback.phone:
        backup = RecipientKey.contact(fallback.id)
        routes += [Route(c, backup) for c in channels if c in CONTACT_CHANNELS]
    return tuple(routes)


def plan_step(
    directory: Directory, step: Step, *, place: Place, exclude: frozenset[str], minute: int,
    present: Presence | None = None,
) -> tuple[PlanStep, list[Recipient]]:
    channels = tuple(step.channels)
    targets: list[StepTarget] = []
    recipients: list[Recipient] = []
    unreachable: list[str] = []
    seen: set[RecipientKey] = set()
    for target in step.targets:
        found = resolve_target(directory, target, place=place, minute=minute, present=present)
        if isinstance(found, str):
            contact = directory.contact(found)
            routes = routes_for_contact(directory, contact, channels)
            candidates = [(RecipientKey.contact(contact.id), contact.name, contact.language, False, routes)]
        else:
            candidates = [
                (RecipientKey.person(p.id), p.name, p.language, directory.is_bhv(p),
                 routes_for_person(directory, p, channels))
                for p in found if p.id not in exclude
            ]
        for key, name, language, bhv, routes in candidates:
            if key in seen:
                continue
            seen.add(key)
            if not routes:
                unreachable.append(name)
                continue
            targets.append(StepTarget(key, routes))
            recipients.append(Recipient(key, name, language, bhv))
    planned = PlanStep(
        id=step.id, code=step.code, channels=channels, ack_timeout_s=step.ack_timeout,
        required=step.required, targets=tuple(targets), unreachable=tuple(unreachable), alongside=step.alongside,
        presence=any(t.present for t in step.targets),
    )
    return planned, recipients


def place_for_alarm(directory: Directory, device: Device | None, zone_ref: str | None) -> Place:
    """A fixed button's own location; for a mobile alarm the zone it reported, if known."""
    if device is not None and device.location:
        return directory.location(device.location)
    if zone_ref:
        try:
            return directory.zone_place(zone_ref)
        except UnknownReference:
            return Place()
    return Place()


def plan_alarm(
    directory: Directory, *, device_id: str, kind: str, zone_ref: str | None, now: datetime, pins: PinDigests,
    present: Presence | None = None,
) -> Plan:
    """The plan an alarm from this device would run if it started at `now`."""
    device = directory.devices.get(device_id)
    return plan_for_place(
        directory,
        device_id=device_id,
        device=device,
        place=place_for_alarm(directory, device, zone_ref),
        kind=kind,
        minute=minute_of_week(now, directory.org.tz),
        pins=pins,
        present=present,
    )


def plan_for_place(
    directory: Directory, *, device_id: str, device: Device | None, place: Place, kind: str,
    minute: int, pins: PinDigests, present: Presence | None = None,
) -> Plan:
    agreement, fallback = select_agreement(
        directory, place=place, device_type=device.type if device else None, kind=kind, minute=minute
    )
    in_danger = people_in_danger(directory, device, place, minute)
    exclude = frozenset(p.id for p in in_danger)
    steps: list[PlanStep] = []
    recipients: dict[RecipientKey, Recipient] = {}
    for step in agreement.steps:
        planned, found = plan_step(directory, step, place=place, exclude=exclude, minute=minute, present=present)
        steps.append(planned)
        recipients.update((r.key, r) for r in found)
    informed: list[StepTarget] = []
    for lead in afdelingshoofden(directory, in_danger):
        routes = routes_for_person(directory, lead, tuple(lead.informed_by))
        key = RecipientKey.person(lead.id)
        if routes:
            informed.append(StepTarget(key, routes))
            recipients.setdefault(key, Recipient(key, lead.name, lead.language, directory.is_bhv(lead)))
    person = in_danger[0] if in_danger else None
    severe = next((i for i, s in enumerate(agreement.steps) if s.id == agreement.on_severe), None)
    drill = bool((place.site and place.site.drill) or (device and device.drill))
    return Plan(
        organisation=directory.org.organisation,
        agreement_id=agreement.id,
        fallback=fallback,
        steps=tuple(steps),
        severe_step=severe,
        repeat_every_s=agreement.repeat_every,
        recipients=tuple(recipients.values()),
        where=where_of(place),
        device=AlarmDevice(
            id=device_id,
            type=device.type if device else None,
            person=RecipientKey.person(person.id) if person else None,
            person_name=person.name if person else None,
            cancel_pin_digest=pins(device_id, device.cancel_pin) if device and device.cancel_pin else None,
            duress_pin_digest=pins(device_id, device.duress_pin) if device and device.duress_pin else None,
            language=wearer.language if (wearer := _wearer(directory, device)) else directory.org.language,
        ),
        drill=drill,
        informed=tuple(informed),
    )


def _wearer(directory: Directory, device: Device | None) -> Person | None:
    """Whose language a device speaks: its own person's (a mobile alarm's wearer)."""
    if device is None or not device.person:
        return None
    return directory.people.get(device.person)


def afdelingshoofden(directory: Directory, in_danger: list[Person]) -> list[Person]:
    """The team leads of the people in danger, informed of the alarm at once (not those in danger
    themselves: a lead who presses is not told of their own alarm)."""
    danger = {p.id for p in in_danger}
    leads = {lead.id: lead for p in in_danger for lead in directory.leads_of(p.id) if lead.id not in danger}
    return list(leads.values())


def where_of(place: Place) -> Where:
    return Where(
        site_id=place.site.id if place.site else None,
        site_name=place.site.name if place.site else None,
        address=place.site.address or None if place.site else None,
        zone_id=place.zone.id if place.zone else None,
        zone_name=place.zone.name if place.zone else None,
        location_id=place.location_id,
        location_name=place.location_name,
        gathering_point=place.gathering_point,
    )


def emergency_plan(organisation: str, device_id: str) -> Plan:
    """For when planning itself fails (a bug, a file the service could not read): the alarm
    still opens and shows as unanswered to the control room instead of being lost."""
    return Plan(
        organisation=organisation,
        agreement_id="(none: planning failed)",
        fallback=True,
        steps=(PlanStep("centrale-post", None, (), None, 1, ()),),
        severe_step=None,
        repeat_every_s=60,
        recipients=(),
        where=Where(),
        device=AlarmDevice(id=device_id, type=None),
    )
